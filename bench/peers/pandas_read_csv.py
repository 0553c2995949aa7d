#!/usr/bin/python3
"""Peer for the CSV-ingest benchmark: pandas.read_csv with its defaults.

Reads one CSV file with pandas.read_csv(path) -- default (C) engine, default options, which
is what a data scientist would type -- and prints one JSON object on stdout:
{"tool": "pandas", "pandas_version": ..., "seconds": ..., "rows": ..., "columns": ...,
 "dtypes": {column: dtype}}.

"seconds" covers read_csv only (not interpreter start-up or the pandas import); the benchmark
driver reports wall time of the whole process as well. Run with /usr/bin/python3, which sees
Debian's python3-pandas.

Usage: /usr/bin/python3 bench/peers/pandas_read_csv.py FILE.csv
"""

import json
import sys
import time

import pandas


def main(argv):
    if len(argv) != 2:
        print("usage: pandas_read_csv.py FILE.csv", file=sys.stderr)
        return 2
    path = argv[1]
    start = time.perf_counter()
    frame = pandas.read_csv(path)
    seconds = time.perf_counter() - start
    report = {
        "tool": "pandas",
        "pandas_version": pandas.__version__,
        "seconds": round(seconds, 3),
        "rows": int(len(frame)),
        "columns": int(len(frame.columns)),
        "dtypes": {str(name): str(dtype) for name, dtype in frame.dtypes.items()},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
