// Internals of the prepare recipe shared by its processor files (prepare_columns.cc,
// prepare_rows.cc, prepare_numbers.cc, prepare_strings.cc, prepare_dates.cc,
// prepare_formula.cc): the two-phase processor
// interface, the strict config reader and small column helpers. Not a public API: only
// prepare*.cc and the prepare tests include it.
//
// Thread-safety: processors are immutable after parsing and their Bind is const; a BoundStep is
// immutable and its apply function may run from any thread. StepConfig belongs to one thread.
#ifndef ASSAY_RECIPES_PREPARE_PROCESSOR_H_
#define ASSAY_RECIPES_PREPARE_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/prepare.h"
#include "table/column.h"
#include "table/data_type.h"
#include "table/table.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace assay::recipes {

// Short names for the table types used throughout the prepare*.cc files. This header is internal
// to the prepare recipe, so these declarations do not reach any public API.
using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Field;
using table::Schema;
using table::Table;

struct StepContext {
  int64_t now_micros = 0;
};

// A step bound to one input schema: the schema it produces and the function that transforms a
// table with exactly the bound input schema. apply fills log.cells_changed,
// conversion_failures and detail where it can; RunPrepare fills the rest.
struct BoundStep {
  table::Schema output;
  // True when the output columns depend on the data (one_hot without "values"), so the schema
  // of later steps is known only after this step ran.
  bool data_dependent_schema = false;
  std::function<absl::StatusOr<table::Table>(const table::Table& input, const StepContext& context,
                                             PrepareStepLog& log)>
      apply;
};

// One parsed step. Bind errors carry no step prefix: RunPrepare and BindPrepare add
// "prepare step N (type): ".
class PrepareProcessor {
 public:
  virtual ~PrepareProcessor() = default;
  virtual absl::StatusOr<BoundStep> Bind(const table::Schema& input) const = 0;
};

// Reads one step object strictly. Getters record the first error and return a default, so a
// parser reads every key and then checks Finish(), which also rejects keys nobody read.
class StepConfig {
 public:
  // `object` must be a JSON object; `path` is "steps[3]".
  StepConfig(const nlohmann::json& object, std::string path, std::string type);

  const std::string& type() const { return type_; }
  bool Has(std::string_view key) const;

  std::string String(std::string_view key);  // required
  std::optional<std::string> OptionalString(std::string_view key);
  // A required non-empty list of strings; `what` says what they are ("column names").
  std::vector<std::string> StringList(std::string_view key, std::string_view what);
  std::optional<std::vector<std::string>> OptionalStringList(std::string_view key,
                                                             std::string_view what);
  // One of `allowed`; `fallback` if absent (required when fallback is empty).
  std::string Choice(std::string_view key, const std::vector<std::string>& allowed,
                     std::string_view fallback);
  std::optional<double> OptionalNumber(std::string_view key);
  std::optional<int64_t> OptionalInt(std::string_view key);
  bool Bool(std::string_view key, bool fallback);
  // The raw JSON value (any type), or nullopt if absent.
  std::optional<nlohmann::json> OptionalRaw(std::string_view key);
  // A required object whose values are all strings.
  std::vector<std::pair<std::string, std::string>> StringMap(std::string_view key,
                                                             std::string_view what);

  // Records an error about `key` (if none is recorded yet): "prepare config: steps[3].key: msg".
  void Fail(std::string_view key, std::string_view message);
  // The first error, or unknown keys, or OK.
  absl::Status Finish() const;

 private:
  const nlohmann::json* Find(std::string_view key);
  const nlohmann::json& object_;
  std::string path_;
  std::string type_;
  std::vector<std::string> read_;
  absl::Status status_;
};

using ProcessorParser =
    std::function<absl::StatusOr<std::unique_ptr<PrepareProcessor>>(StepConfig& config)>;

// Each processor file registers its parsers here (called once by prepare.cc).
void AddColumnProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);
void AddRowProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);
void AddNumberProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);
void AddStringProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);
void AddDateProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);
void AddFormulaProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry);

// Compiles an RE2 pattern read from `key`; on a syntax error records it on `config` and
// returns it (INVALID_ARGUMENT naming the key and RE2's message).
absl::StatusOr<std::shared_ptr<re2::RE2>> CompilePrepareRegex(StepConfig& config,
                                                              std::string_view key,
                                                              const std::string& pattern);

// ---- Helpers for processors ----------------------------------------------------------------

// The index of column `name`. Errors: INVALID_ARGUMENT `column "x" (key) not found
// (columns: ...)`.
absl::StatusOr<int> ResolveColumn(const table::Schema& schema, const std::string& name,
                                  std::string_view key);
absl::StatusOr<std::vector<int>> ResolveColumns(const table::Schema& schema,
                                                const std::vector<std::string>& names,
                                                std::string_view key);
// INVALID_ARGUMENT unless column `index` has one of `allowed` types; `fix` is appended.
absl::Status RequireType(const table::Schema& schema, int index,
                         std::initializer_list<table::DataType> allowed, std::string_view fix);
// Quotes a user-provided string for a message (JSON string syntax, invalid UTF-8 replaced).
std::string Quote(std::string_view text);

// A schema and its columns under edit; Build() checks names are unique.
struct TableEdit {
  std::vector<table::Field> fields;
  std::vector<table::Column> columns;

  static TableEdit From(const table::Table& table);
  // Replaces the column called `name` in place, or appends it when there is none.
  void Put(const std::string& name, table::Column column);
  absl::StatusOr<table::Table> Build() &&;
};

// `table` with column `name` replaced in place (or appended when there is none) by `column`:
// TableEdit::From, Put and Build in one call.
absl::StatusOr<table::Table> PutColumn(const table::Table& table, const std::string& name,
                                       table::Column column);

// Schema counterpart of TableEdit::Put.
void PutField(std::vector<table::Field>& fields, const std::string& name, table::DataType type);
// A copy of `schema` with PutField(name, type) applied: the output schema of a step that sets
// one column.
table::Schema WithField(const table::Schema& schema, const std::string& name, table::DataType type);
// INVALID_ARGUMENT if names repeat, naming the duplicate and what produced it.
absl::Status CheckUniqueNames(const std::vector<table::Field>& fields, std::string_view producer);

// Rows `rows` (indexes into `column`, in order; a negative index gives a null) as a new column;
// no per-value allocation.
table::Column TakeColumn(const table::Column& column, const std::vector<int64_t>& rows);
// Every column of `table` taken at `rows` (columns in parallel).
table::Table TakeRows(const table::Table& table, const std::vector<int64_t>& rows);

// Builds a validity bitmap from per-row flags (empty when all are valid).
std::vector<uint8_t> ValidityFromFlags(const std::vector<uint8_t>& valid);

// True for a null cell or an empty string.
inline bool IsEmptyCell(const table::Column& column, int64_t row) {
  return column.IsNull(row) || (column.type() == table::DataType::kString &&
                                column.string_offsets()[row] == column.string_offsets()[row + 1]);
}

// Total order on the values of one column used by sorting and mode ties: nulls last, floats by
// value with NaN after numbers. Returns <0, 0, >0.
int CompareCells(const table::Column& column, int64_t a, int64_t b);

// Number text without a forced ".0" ("10", "2.5"), for bin labels and messages.
std::string FormatNumber(double value);

// ---- Typed values ------------------------------------------------------------------------------

// Strict text parsers shared by cast, fill_empty, filter_values and switch_case. Surrounding
// ASCII whitespace is ignored; anything else that is not the whole value fails.
std::string_view TrimAscii(std::string_view text);
std::optional<int64_t> ParseInt64Text(std::string_view text);
std::optional<double> ParseFloat64Text(std::string_view text);  // also nan, inf, -inf
// true/false, 1/0, yes/no, t/f, y/n, in any case.
std::optional<bool> ParseBoolText(std::string_view text);
// ISO date, or an ISO timestamp (truncated to its UTC day) for kDate; ISO timestamp or date
// (midnight UTC) for kTimestamp.
std::optional<int32_t> ParseDateText(std::string_view text);
std::optional<int64_t> ParseTimestampText(std::string_view text);

// One typed value: bool, int64, date (days) and timestamp (micros) in `integer`, float64 in
// `real`, string in `text`.
struct CellValue {
  bool is_null = false;
  int64_t integer = 0;
  double real = 0.0;
  std::string text;
};

// Parses `text` as a value of `type`; nullopt if it does not convert.
std::optional<CellValue> ParseCell(std::string_view text, table::DataType type);
// A JSON scalar as a value of `type` (strings are parsed, numbers and booleans converted, null
// gives a null cell). Errors: INVALID_ARGUMENT "cannot use <json> as a <type> value".
absl::StatusOr<CellValue> JsonToCell(const nlohmann::json& value, table::DataType type);
void AppendCell(table::ColumnBuilder& builder, table::DataType type, const CellValue& cell);
// The canonical text of a cell (as Column::ValueToString).
std::string CellText(const CellValue& cell, table::DataType type);
// A 64-bit key equal for equal non-string values of one type (floats by bit pattern, -0 as 0,
// one NaN), for hash sets of non-string cells.
int64_t CellKey(const table::Column& column, int64_t row);
int64_t CellValueKey(const CellValue& cell, table::DataType type);

// Dense codes for the distinct non-null values of a column, in order of first appearance.
struct Categories {
  std::vector<int32_t> codes;      // per row; -1 for null
  std::vector<int64_t> first_row;  // per category, the first row holding it
  std::vector<int64_t> counts;     // per category
};
Categories EncodeCategories(const table::Column& column);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_PREPARE_PROCESSOR_H_
