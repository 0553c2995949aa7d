// The sql recipe: one read-only SELECT over the recipe's inputs, run by an embedded,
// in-memory SQLite engine, whose result is typed back into a Table. The user reference
// (type mapping, what is rejected, how result types are decided) is docs/recipes/sql-python.md.
//
// Each run opens its own private in-memory database, loads every input as a table under its
// name (one transaction, prepared inserts), makes the database query-only, and runs the
// statement. Value mapping into SQLite: int64 and bool -> INTEGER (bool as 0/1), float64 ->
// REAL (NaN becomes NULL: SQLite has no NaN), string -> TEXT, date -> TEXT 'YYYY-MM-DD',
// timestamp -> TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (always six fraction digits, so string
// order is time order and SQLite's date functions read it).
//
// Result typing, per column: the explicit type from SqlSpec::types if any; else, when the
// column comes straight from an input column (SQLite column metadata), that column's type
// as long as every value fits it; else inferred from the values (integers only -> int64,
// integers and reals -> float64, any text -> string, all null or no rows -> string).
//
// Thread-safety: the functions keep no state; concurrent runs are safe (each has its own
// SQLite connection).
#ifndef ASSAY_RECIPES_SQL_RECIPE_H_
#define ASSAY_RECIPES_SQL_RECIPE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/external_inputs.h"
#include "table/table.h"

namespace assay::recipes {

struct SqlSpec {
  // One SELECT (or WITH ... SELECT, VALUES, read-only PRAGMA) statement; a trailing ';' and
  // comments are fine, a second statement is not.
  std::string query;
  // Explicit result column types (config `types: {column: type}`); they override the origin
  // and inferred types for those columns. Sorted by name.
  std::vector<table::Field> types;
};

// Parses a sql recipe config: {"query": "<SELECT ...>", "types": {"<column>": "<type>"}}
// ("types" optional; type names as in table/data_type.h).
// Errors: INVALID_ARGUMENT (message starts `sql config: `) for a non-object config, an
// unknown key, a missing or empty "query", a value of the wrong JSON type, or an unknown
// type name.
absl::StatusOr<SqlSpec> ParseSqlSpec(const nlohmann::json& config);

// Runs `spec.query` over `inputs` and returns its result as a Table (columns in SELECT
// order, rows in the order SQLite returns them).
// Requires: the input tables are non-null and outlive the call.
// Errors: INVALID_ARGUMENT for duplicate input names (SQLite compares names without case),
// names starting with "sqlite_", an input without columns, an empty query, a statement that
// writes or is not read-only (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, DETACH, BEGIN,
// writing PRAGMAs, ...), more than one statement, a statement that returns no columns, any
// SQLite error (SQLite's message plus the SQL), duplicate result column names (alias them),
// a "types" entry naming no result column, a value that does not fit its explicit type, or
// a BLOB value; RESOURCE_EXHAUSTED when SQLite runs out of memory; INTERNAL if SQLite fails
// while loading the inputs.
absl::StatusOr<table::Table> RunSqlRecipe(const SqlSpec& spec, const ExternalInputs& inputs);

// True if the linked SQLite reports result-column origins (SQLITE_ENABLE_COLUMN_METADATA),
// which RunSqlRecipe uses to keep the types of columns taken straight from an input. Debian's
// libsqlite3 is built with it.
bool SqliteHasColumnMetadata();

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_SQL_RECIPE_H_
