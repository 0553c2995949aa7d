// Being written (issue 4): see the header comment once it exists.
