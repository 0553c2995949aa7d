#include "recipes/sql_recipe.h"

#include <sqlite3.h>

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "table/column.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Field;
using table::Table;

// Queries quoted into error messages are cut to this many bytes; a generated query can be
// long, and the head is where the user recognises it.
constexpr size_t kMaxQuotedQuery = 2000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string QueryForMessage(std::string_view sql) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(Absl(sql));
  if (trimmed.size() <= kMaxQuotedQuery) return std::string(trimmed);
  return absl::StrCat(trimmed.substr(0, kMaxQuotedQuery), "...");
}

// A failure of the user's statement (prepare or step): SQLite's message, where it points,
// and the query, so the user can fix the SQL without guessing.
absl::Status QueryError(sqlite3* db, int rc, std::string_view sql) {
  std::string where;
  const int offset = sqlite3_error_offset(db);
  if (offset >= 0) where = absl::StrCat(" (at character ", offset + 1, ")");
  std::string message = absl::StrCat("sql recipe: SQLite error: ", sqlite3_errmsg(db), where,
                                     "\n  in query: ", QueryForMessage(sql));
  if ((rc & 0xff) == SQLITE_NOMEM) return absl::ResourceExhaustedError(message);
  return absl::InvalidArgumentError(message);
}

// A failure while Assay itself drives SQLite (loading inputs): not the user's fault unless
// memory ran out.
absl::Status EngineError(sqlite3* db, int rc, std::string_view what) {
  std::string message = absl::StrCat("sql recipe: ", Absl(what), ": ", sqlite3_errmsg(db));
  if ((rc & 0xff) == SQLITE_NOMEM) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status Exec(sqlite3* db, const std::string& sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return EngineError(db, rc, what);
  return absl::OkStatus();
}

std::string_view SqlTypeFor(DataType type) {
  switch (type) {
    case DataType::kBool:
    case DataType::kInt64:
      return "INTEGER";
    case DataType::kFloat64:
      return "REAL";
    case DataType::kString:
    case DataType::kDate:
    case DataType::kTimestamp:
      return "TEXT";
  }
  return "TEXT";
}

char* PutDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "YYYY-MM-DD" into `out` (at least 16 bytes); returns the length. Hand-written because this
// runs once per value while loading and snprintf would dominate the load time.
int FormatSqlDate(int32_t days, char* out) {
  const common::CivilDate date = common::CivilFromDays(days);
  if (date.year < 0 || date.year > 9999) {
    return std::snprintf(out, 16, "%d-%02u-%02u", date.year, date.month, date.day);
  }
  char* p = PutDigits(out, date.year, 4);
  *p++ = '-';
  p = PutDigits(p, date.month, 2);
  *p++ = '-';
  p = PutDigits(p, date.day, 2);
  return static_cast<int>(p - out);
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" into `out` (at least 40 bytes). Always six fraction digits:
// with a variable width, "…:00Z" would sort after "…:00.5Z" and string comparison in SQL would
// not be time order. SQLite's date functions accept the form (sqlite.org/lang_datefunc.html).
int FormatSqlTimestamp(int64_t micros, char* out) {
  constexpr int64_t kMicrosPerDay = 86'400'000'000;
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  char* p = out + FormatSqlDate(static_cast<int32_t>(days), out);
  const int64_t seconds = rest / 1'000'000;
  *p++ = 'T';
  p = PutDigits(p, seconds / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, seconds / 60 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, seconds % 60, 2);
  *p++ = '.';
  p = PutDigits(p, rest % 1'000'000, 6);
  *p++ = 'Z';
  return static_cast<int>(p - out);
}

absl::Status LoadInput(sqlite3* db, const std::string& name, const Table& input) {
  const std::string quoted_name = QuoteIdentifier(name);
  std::string create = absl::StrCat("CREATE TABLE ", quoted_name, " (");
  std::string insert = absl::StrCat("INSERT INTO ", quoted_name, " VALUES (");
  for (int col = 0; col < input.num_columns(); ++col) {
    const Field& field = input.schema().field(col);
    if (col > 0) {
      create += ", ";
      insert += ", ";
    }
    absl::StrAppend(&create, QuoteIdentifier(field.name), " ", Absl(SqlTypeFor(field.type)));
    insert += "?";
  }
  create += ")";
  insert += ")";
  int rc = sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    // Column names SQLite cannot hold (e.g. "id" and "ID" in one table) are the user's to fix.
    return absl::InvalidArgumentError(
        absl::StrCat("sql recipe: cannot load input \"", Absl(name), "\": ", sqlite3_errmsg(db)));
  }
  sqlite3_stmt* raw = nullptr;
  rc = sqlite3_prepare_v3(db, insert.c_str(), static_cast<int>(insert.size()),
                          SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return EngineError(db, rc, absl::StrCat("preparing the load of ", name));

  const int num_columns = input.num_columns();
  // Per-column scratch for dates and timestamps; bound SQLITE_STATIC, so each must stay
  // unchanged until the row's step, which is why every column has its own.
  std::vector<std::array<char, 48>> scratch(static_cast<size_t>(num_columns));
  for (int64_t row = 0; row < input.num_rows(); ++row) {
    for (int col = 0; col < num_columns; ++col) {
      const Column& column = input.column(col);
      const int param = col + 1;
      if (column.IsNull(row)) {
        rc = sqlite3_bind_null(stmt.get(), param);
      } else {
        switch (column.type()) {
          case DataType::kBool:
            rc = sqlite3_bind_int64(stmt.get(), param, column.bool_values()[row]);
            break;
          case DataType::kInt64:
            rc = sqlite3_bind_int64(stmt.get(), param, column.int64_values()[row]);
            break;
          case DataType::kFloat64:
            // SQLite stores NaN as NULL by itself; binding it is fine.
            rc = sqlite3_bind_double(stmt.get(), param, column.float64_values()[row]);
            break;
          case DataType::kString: {
            const std::string_view text = column.StringAt(row);
            rc = sqlite3_bind_text64(stmt.get(), param, text.data(), text.size(), SQLITE_STATIC,
                                     SQLITE_UTF8);
            break;
          }
          case DataType::kDate: {
            char* out = scratch[col].data();
            const int length = FormatSqlDate(column.date_values()[row], out);
            rc = sqlite3_bind_text(stmt.get(), param, out, length, SQLITE_STATIC);
            break;
          }
          case DataType::kTimestamp: {
            char* out = scratch[col].data();
            const int length = FormatSqlTimestamp(column.int64_values()[row], out);
            rc = sqlite3_bind_text(stmt.get(), param, out, length, SQLITE_STATIC);
            break;
          }
        }
      }
      if (rc != SQLITE_OK) return EngineError(db, rc, absl::StrCat("loading input ", name));
    }
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return EngineError(db, rc, absl::StrCat("loading input ", name));
    sqlite3_reset(stmt.get());
  }
  return absl::OkStatus();
}

// PRAGMAs that only report. The first group takes a table or index name as argument (not a
// value to set); the second must be called without an argument, since `PRAGMA x = v` writes.
bool IsReadOnlyPragma(std::string_view name, bool has_argument) {
  const std::string lower = absl::AsciiStrToLower(Absl(name));
  static constexpr std::string_view kNamed[] = {"table_info",      "table_xinfo", "index_list",
                                                "index_info",      "index_xinfo", "table_list",
                                                "foreign_key_list"};
  static constexpr std::string_view kReports[] = {"compile_options", "function_list",
                                                  "collation_list",  "pragma_list",
                                                  "module_list",     "database_list"};
  for (std::string_view allowed : kNamed) {
    if (lower == allowed) return true;
  }
  if (has_argument) return false;
  for (std::string_view allowed : kReports) {
    if (lower == allowed) return true;
  }
  return false;
}

bool IsSchemaTable(const char* name) {
  if (name == nullptr) return false;
  const std::string_view table(name);
  return table == "sqlite_master" || table == "sqlite_temp_master" || table == "sqlite_schema" ||
         table == "sqlite_temp_schema";
}

// The first action the authorizer refused, in words, for the error message.
struct AuthorizerState {
  std::string denied;
};

std::string Arg(const char* text) { return text == nullptr ? std::string() : std::string(text); }

// Allows only what a read-only SELECT needs (sqlite.org/c3ref/set_authorizer.html). It runs
// while the user's statement is prepared; the loads happen before it is installed.
int AuthorizeReadOnly(void* user_data, int action, const char* arg1, const char* arg2,
                      const char* /*database*/, const char* /*trigger*/) {
  auto* state = static_cast<AuthorizerState*>(user_data);
  std::string denied;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      if (arg1 != nullptr && IsReadOnlyPragma(arg1, arg2 != nullptr)) return SQLITE_OK;
      break;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      // SQLite reports schema-table updates while it sets up an eponymous virtual table
      // (SELECT ... FROM pragma_table_info('t')), and before the CREATE/DROP action of a DDL
      // statement, which is then denied with a clearer message. A direct write to the schema
      // table still fails: SQLite refuses it while preparing ("table sqlite_master may not be
      // modified"), the database is query_only, and sqlite3_stmt_readonly is checked.
      if (IsSchemaTable(arg1)) return SQLITE_OK;
      break;
    default:
      break;
  }
  switch (action) {
    case SQLITE_PRAGMA:
      denied = arg2 == nullptr ? absl::StrCat("run PRAGMA ", Arg(arg1))
                               : absl::StrCat("run PRAGMA ", Arg(arg1), " = ", Arg(arg2));
      break;
    case SQLITE_INSERT:
      denied = absl::StrCat("INSERT into \"", Arg(arg1), "\"");
      break;
    case SQLITE_UPDATE:
      denied = absl::StrCat("UPDATE \"", Arg(arg1), "\"");
      break;
    case SQLITE_DELETE:
      denied = absl::StrCat("DELETE from \"", Arg(arg1), "\"");
      break;
    case SQLITE_ATTACH:
      denied = "ATTACH a database";
      break;
    case SQLITE_DETACH:
      denied = "DETACH a database";
      break;
    case SQLITE_TRANSACTION:
      denied = absl::StrCat(Arg(arg1), " a transaction");
      break;
    case SQLITE_SAVEPOINT:
      denied = "use a SAVEPOINT";
      break;
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
      denied = absl::StrCat("CREATE \"", Arg(arg1), "\"");
      break;
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
      denied = absl::StrCat("DROP \"", Arg(arg1), "\"");
      break;
    case SQLITE_ALTER_TABLE:
      denied = absl::StrCat("ALTER TABLE \"", Arg(arg2), "\"");
      break;
    default:
      denied = absl::StrCat("run a statement that is not a SELECT (SQLite action ", action, ")");
      break;
  }
  if (state->denied.empty()) state->denied = std::move(denied);
  return SQLITE_DENY;
}

absl::Status NotReadOnlyError(std::string_view what, std::string_view sql) {
  return absl::InvalidArgumentError(absl::StrCat(
      "sql recipe: the query must be one read-only SELECT, but it tries to ", Absl(what),
      "; a sql recipe cannot change data (its result is the recipe's output)",
      "\n  in query: ", QueryForMessage(sql)));
}

// The values of one result column as SQLite returned them, before a type is chosen.
struct ResultValues {
  std::vector<uint8_t> kinds;    // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_NULL
  std::vector<int64_t> numbers;  // the integer, or the bits of the double
  std::vector<int64_t> text_offsets = {0};
  std::string text;
  bool has_integer = false;
  bool has_real = false;
  bool has_text = false;
  int64_t first_blob_row = -1;

  int64_t rows() const { return static_cast<int64_t>(kinds.size()); }
  double Real(int64_t row) const { return std::bit_cast<double>(numbers[row]); }
  std::string_view Text(int64_t row) const {
    return std::string_view(text).substr(
        static_cast<size_t>(text_offsets[row]),
        static_cast<size_t>(text_offsets[row + 1] - text_offsets[row]));
  }
};

void AppendValue(sqlite3_stmt* stmt, int col, int64_t row, ResultValues& values) {
  const int kind = sqlite3_column_type(stmt, col);
  int64_t number = 0;
  switch (kind) {
    case SQLITE_INTEGER:
      number = sqlite3_column_int64(stmt, col);
      values.has_integer = true;
      break;
    case SQLITE_FLOAT:
      number = std::bit_cast<int64_t>(sqlite3_column_double(stmt, col));
      values.has_real = true;
      break;
    case SQLITE_TEXT: {
      const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      const int length = sqlite3_column_bytes(stmt, col);
      if (bytes != nullptr) values.text.append(bytes, static_cast<size_t>(length));
      values.has_text = true;
      break;
    }
    case SQLITE_BLOB:
      if (values.first_blob_row < 0) values.first_blob_row = row;
      break;
    default:
      break;
  }
  values.kinds.push_back(static_cast<uint8_t>(kind));
  values.numbers.push_back(number);
  values.text_offsets.push_back(static_cast<int64_t>(values.text.size()));
}

// Shortest text that reads back to the same double, with ".0" on integral values (the
// canonical float form of Column::ValueToString).
std::string RealToText(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  if (text.find_first_not_of("-0123456789") == std::string::npos) text += ".0";
  return text;
}

std::string ValueForMessage(const ResultValues& values, int64_t row) {
  switch (values.kinds[row]) {
    case SQLITE_INTEGER:
      return absl::StrCat(values.numbers[row]);
    case SQLITE_FLOAT:
      return RealToText(values.Real(row));
    case SQLITE_TEXT:
      return absl::StrCat("'", Absl(values.Text(row).substr(0, 80)), "'");
    default:
      return "a BLOB";
  }
}

// Converts `values` to `type`. Errors: INVALID_ARGUMENT naming the first value that does not
// fit (1-based result row).
absl::StatusOr<Column> ConvertValues(const ResultValues& values, DataType type,
                                     std::string_view name) {
  ColumnBuilder builder(type);
  builder.Reserve(values.rows());
  for (int64_t row = 0; row < values.rows(); ++row) {
    const int kind = values.kinds[row];
    if (kind == SQLITE_NULL) {
      builder.AppendNull();
      continue;
    }
    bool fits = false;
    switch (type) {
      case DataType::kBool:
        if (kind == SQLITE_INTEGER && (values.numbers[row] == 0 || values.numbers[row] == 1)) {
          builder.AppendBool(values.numbers[row] == 1);
          fits = true;
        } else if (kind == SQLITE_TEXT) {
          const std::string lower = absl::AsciiStrToLower(Absl(values.Text(row)));
          if (lower == "true" || lower == "false") {
            builder.AppendBool(lower == "true");
            fits = true;
          }
        }
        break;
      case DataType::kInt64:
        if (kind == SQLITE_INTEGER) {
          builder.AppendInt64(values.numbers[row]);
          fits = true;
        } else if (kind == SQLITE_FLOAT) {
          const double real = values.Real(row);
          // 2^63 is exactly representable; anything at or above it does not fit an int64.
          if (std::trunc(real) == real && real >= -9223372036854775808.0 &&
              real < 9223372036854775808.0) {
            builder.AppendInt64(static_cast<int64_t>(real));
            fits = true;
          }
        } else if (kind == SQLITE_TEXT) {
          int64_t parsed = 0;
          if (absl::SimpleAtoi(Absl(values.Text(row)), &parsed)) {
            builder.AppendInt64(parsed);
            fits = true;
          }
        }
        break;
      case DataType::kFloat64:
        if (kind == SQLITE_INTEGER) {
          builder.AppendFloat64(static_cast<double>(values.numbers[row]));
          fits = true;
        } else if (kind == SQLITE_FLOAT) {
          builder.AppendFloat64(values.Real(row));
          fits = true;
        } else if (kind == SQLITE_TEXT) {
          double parsed = 0;
          if (absl::SimpleAtod(Absl(values.Text(row)), &parsed)) {
            builder.AppendFloat64(parsed);
            fits = true;
          }
        }
        break;
      case DataType::kString:
        if (kind == SQLITE_TEXT) {
          builder.AppendString(values.Text(row));
          fits = true;
        } else if (kind == SQLITE_INTEGER) {
          builder.AppendString(absl::StrCat(values.numbers[row]));
          fits = true;
        } else if (kind == SQLITE_FLOAT) {
          builder.AppendString(RealToText(values.Real(row)));
          fits = true;
        }
        break;
      case DataType::kDate:
        if (kind == SQLITE_TEXT) {
          if (std::optional<int32_t> days = common::ParseIsoDate(values.Text(row))) {
            builder.AppendDate(*days);
            fits = true;
          }
        }
        break;
      case DataType::kTimestamp:
        if (kind == SQLITE_TEXT) {
          std::optional<int64_t> micros = common::ParseIsoTimestamp(values.Text(row));
          if (!micros) {
            // A plain date is midnight UTC, as in the CSV reader's explicit types.
            if (std::optional<int32_t> days = common::ParseIsoDate(values.Text(row))) {
              micros = int64_t{*days} * 86'400'000'000;
            }
          }
          if (micros) {
            builder.AppendInt64(*micros);
            fits = true;
          }
        }
        break;
    }
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: result column \"", Absl(name), "\" row ", row + 1, ": value ",
          ValueForMessage(values, row), " is not a valid ", Absl(table::DataTypeName(type))));
    }
  }
  return builder.Finish();
}

DataType InferType(const ResultValues& values) {
  if (values.has_text) return DataType::kString;
  if (values.has_real) return DataType::kFloat64;
  if (values.has_integer) return DataType::kInt64;
  return DataType::kString;  // all null (or no rows): nothing to infer from
}

}  // namespace

absl::StatusOr<SqlSpec> ParseSqlSpec(const nlohmann::json& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError(
        "sql config: expected an object with \"query\" (and optionally \"types\")");
  }
  SqlSpec spec;
  bool has_query = false;
  for (const auto& [key, value] : config.items()) {
    if (key == "query") {
      if (!value.is_string()) {
        return absl::InvalidArgumentError("sql config: \"query\": expected a string");
      }
      spec.query = value.get<std::string>();
      has_query = true;
    } else if (key == "types") {
      if (!value.is_object()) {
        return absl::InvalidArgumentError(
            "sql config: \"types\": expected an object mapping result columns to types "
            "(bool, int64, float64, string, date, timestamp)");
      }
      for (const auto& [column, type_name] : value.items()) {
        std::optional<DataType> type;
        if (type_name.is_string()) type = table::DataTypeFromName(type_name.get<std::string>());
        if (!type) {
          return absl::InvalidArgumentError(
              absl::StrCat("sql config: \"types\".\"", column,
                           "\": expected one of bool, int64, float64, string, date, timestamp"));
        }
        spec.types.push_back(Field{column, *type});
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("sql config: unknown key \"", key, "\" (allowed keys: query, types)"));
    }
  }
  if (!has_query) {
    return absl::InvalidArgumentError(
        "sql config: \"query\" is required (a SELECT over the recipe's inputs)");
  }
  if (absl::StripAsciiWhitespace(spec.query).empty()) {
    return absl::InvalidArgumentError("sql config: \"query\": expected a non-empty SELECT");
  }
  return spec;
}

bool SqliteHasColumnMetadata() { return sqlite3_compileoption_used("ENABLE_COLUMN_METADATA") != 0; }

absl::StatusOr<table::Table> RunSqlRecipe(const SqlSpec& spec, const ExternalInputs& inputs) {
  // SQLite table names are case-insensitive and "sqlite_" is reserved, so check here and say
  // it in Assay's words rather than SQLite's.
  absl::flat_hash_map<std::string, const Table*> by_name;
  absl::flat_hash_map<std::string, std::string> by_folded_name;
  for (const auto& [name, input] : inputs) {
    if (name.empty()) return absl::InvalidArgumentError("sql recipe: an input has an empty name");
    const std::string folded = absl::AsciiStrToLower(name);
    if (absl::StartsWith(folded, "sqlite_")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: input name \"", name,
          "\" starts with \"sqlite_\", which SQLite reserves; give the input another name"));
    }
    auto [it, inserted] = by_folded_name.emplace(folded, name);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("sql recipe: inputs \"", it->second, "\" and \"", name,
                       "\" have the same SQLite table name (SQLite ignores case); rename one"));
    }
    if (input->num_columns() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: input \"", name, "\" has no columns; a SQLite table needs at least one"));
    }
    by_name.emplace(name, input);
  }

  sqlite3* raw_db = nullptr;
  int rc = sqlite3_open_v2(
      ":memory:", &raw_db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX,
      nullptr);
  DbPtr db(raw_db);
  if (rc != SQLITE_OK) {
    if (raw_db == nullptr) return absl::ResourceExhaustedError("sql recipe: cannot open SQLite");
    return EngineError(raw_db, rc, "opening the in-memory database");
  }
  sqlite3_extended_result_codes(db.get(), 1);
  // Defence in depth beside the authorizer: no attached files, no schema tricks.
  sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // A private in-memory database is thrown away on any failure, so it needs no rollback
  // journal; without one, the load is faster.
  ASSAY_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA journal_mode = OFF", "configuring SQLite"));

  ASSAY_RETURN_IF_ERROR(Exec(db.get(), "BEGIN", "starting the load transaction"));
  for (const auto& [name, input] : inputs) {
    ASSAY_RETURN_IF_ERROR(LoadInput(db.get(), name, *input));
  }
  ASSAY_RETURN_IF_ERROR(Exec(db.get(), "COMMIT", "committing the loaded inputs"));
  ASSAY_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA query_only = 1", "configuring SQLite"));

  AuthorizerState authorizer;
  sqlite3_set_authorizer(db.get(), AuthorizeReadOnly, &authorizer);
  const std::string& sql = spec.query;
  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &raw_stmt, &tail);
  StmtPtr stmt(raw_stmt);
  if (!authorizer.denied.empty()) return NotReadOnlyError(authorizer.denied, sql);
  if (rc != SQLITE_OK) return QueryError(db.get(), rc, sql);
  if (stmt == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("sql recipe: the query holds no statement (only comments or spaces)",
                     "\n  in query: ", QueryForMessage(sql)));
  }
  if (tail != nullptr && tail < sql.data() + sql.size()) {
    // Let SQLite's own tokenizer decide whether the rest is only spaces, comments and ';'.
    const std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    sqlite3_stmt* raw_next = nullptr;
    const int next_rc = sqlite3_prepare_v2(db.get(), rest.data(), static_cast<int>(rest.size()),
                                           &raw_next, nullptr);
    StmtPtr next(raw_next);
    if (next_rc != SQLITE_OK || next != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: the query must be a single statement, but more follows the first: ",
          QueryForMessage(rest), "\n  in query: ", QueryForMessage(sql)));
    }
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return NotReadOnlyError("run a statement that changes the database", sql);
  }
  const int num_columns = sqlite3_column_count(stmt.get());
  if (num_columns == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sql recipe: the statement returns no columns; a sql recipe needs a SELECT",
                     "\n  in query: ", QueryForMessage(sql)));
  }

  std::vector<std::string> names;
  absl::flat_hash_map<std::string, int> name_to_column;
  for (int col = 0; col < num_columns; ++col) {
    const char* name = sqlite3_column_name(stmt.get(), col);
    if (name == nullptr) return absl::ResourceExhaustedError("sql recipe: out of memory");
    names.emplace_back(name);
    if (names.back().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: result column ", col + 1,
          " has an empty name; give it one with AS\n  in query: ", QueryForMessage(sql)));
    }
    auto [it, inserted] = name_to_column.emplace(names.back(), col);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: the result has two columns named \"", names.back(), "\" (columns ",
          it->second + 1, " and ", col + 1,
          "); give them distinct names with AS, e.g. SELECT a.id AS a_id, b.id AS b_id",
          "\n  in query: ", QueryForMessage(sql)));
    }
  }
  std::vector<std::optional<DataType>> explicit_types(static_cast<size_t>(num_columns));
  for (const Field& field : spec.types) {
    auto it = name_to_column.find(field.name);
    if (it == name_to_column.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: \"types\" names column \"", field.name,
          "\", which the query does not return (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    explicit_types[it->second] = field.type;
  }
  // The type of the input column each result column comes straight from, if any.
  std::vector<std::optional<DataType>> origin_types(static_cast<size_t>(num_columns));
  if (SqliteHasColumnMetadata()) {
    for (int col = 0; col < num_columns; ++col) {
      const char* database = sqlite3_column_database_name(stmt.get(), col);
      const char* table_name = sqlite3_column_table_name(stmt.get(), col);
      const char* origin = sqlite3_column_origin_name(stmt.get(), col);
      if (database == nullptr || table_name == nullptr || origin == nullptr) continue;
      if (std::strcmp(database, "main") != 0) continue;
      auto input = by_name.find(table_name);
      if (input == by_name.end()) continue;
      if (std::optional<int> field = input->second->schema().FindField(origin)) {
        origin_types[col] = input->second->schema().field(*field).type;
      }
    }
  }

  std::vector<ResultValues> values(static_cast<size_t>(num_columns));
  int64_t row = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    for (int col = 0; col < num_columns; ++col) AppendValue(stmt.get(), col, row, values[col]);
    ++row;
  }
  if (rc != SQLITE_DONE) return QueryError(db.get(), rc, sql);

  std::vector<Field> fields;
  std::vector<Column> columns;
  for (int col = 0; col < num_columns; ++col) {
    // Moved out so each column's raw values are freed once converted (peak memory).
    const ResultValues column_values = std::move(values[col]);
    const std::string& name = names[col];
    if (column_values.first_blob_row >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sql recipe: result column \"", name, "\" row ", column_values.first_blob_row + 1,
          " is a BLOB, which Assay tables cannot hold; convert it (e.g. hex(x) or CAST(x AS ",
          "TEXT))"));
    }
    std::optional<Column> column;
    if (explicit_types[col]) {
      ASSAY_ASSIGN_OR_RETURN(column, ConvertValues(column_values, *explicit_types[col], name));
    } else if (origin_types[col]) {
      // A UNION can put other values under an input column's name; then the values decide.
      absl::StatusOr<Column> kept = ConvertValues(column_values, *origin_types[col], name);
      if (kept.ok()) column = *std::move(kept);
    }
    if (!column) {
      ASSAY_ASSIGN_OR_RETURN(column, ConvertValues(column_values, InferType(column_values), name));
    }
    fields.push_back(Field{name, column->type()});
    columns.push_back(*std::move(column));
  }
  return Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
