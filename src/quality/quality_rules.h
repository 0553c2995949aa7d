// Data-quality rules: declarative checks attached to a dataset (not-null, unique, in range,
// in set, regex, row count, schema, expression) that run on every new version of it. This
// module is the pure part: it parses rule specs from JSON, checks them against a schema, and
// evaluates them against a table into a QualityReport (stored per version as JSON, shown by
// `assay dataset show`, and used by the flow build to stop on error-severity failures).
// docs/quality-rules.md is the user reference; the semantics in short:
//
//   - Rules are independent; every rule produces exactly one RuleResult.
//   - in_range, in_set and regex skip null values (combine with not_null to forbid them);
//     unique skips rows where any key column is null (SQL UNIQUE semantics). An expression
//     rule fails a row whose result is false or null, unless allow_null is set.
//   - regex is a full match (RE2 syntax): "^...$" anchors are implied.
//   - in_range bounds are inclusive; NaN is outside every range.
//   - A rule that cannot be applied to a version (its column is missing or has another type,
//     its expression no longer compiles) is a failed result with evaluated = false and a
//     message saying why, not an error: a dataset's schema may change between versions and
//     the report must still be produced.
//   - Row numbers (sample_rows and messages) are 1-based; at most kMaxSampleRows per rule.
//
// Evaluation runs single-threaded over whole column buffers, without a string or allocation
// per row. unique hashes its key columns block by block; when a sample shows mostly distinct
// keys it radix-partitions the rows by hash so that each partition is deduplicated in cache,
// and it compares values only when 64-bit hashes match.
//
// Pure functions on immutable inputs; thread-safe.
#ifndef ASSAY_QUALITY_QUALITY_RULES_H_
#define ASSAY_QUALITY_QUALITY_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "expr/expression.h"
#include "nlohmann/json.hpp"
#include "table/data_type.h"
#include "table/table.h"

namespace assay::quality {

// At most this many offending rows are recorded per rule.
inline constexpr int kMaxSampleRows = 5;
// Sample values longer than this many bytes are cut (at a UTF-8 boundary) and end in "...".
inline constexpr int kMaxSampleValueBytes = 80;

enum class RuleType : uint8_t {
  kNotNull,
  kUnique,
  kInRange,
  kInSet,
  kRegex,
  kRowCount,
  kSchema,
  kExpression,
};
// "not_null", "unique", "in_range", "in_set", "regex", "row_count", "schema", "expression".
std::string_view RuleTypeName(RuleType type);
// Inverse of RuleTypeName; nullopt for an unknown name.
std::optional<RuleType> RuleTypeFromName(std::string_view name);

enum class Severity : uint8_t {
  kError,    // A failure stops the flow build.
  kWarning,  // A failure is reported only.
};
// "error", "warning".
std::string_view SeverityName(Severity severity);
std::optional<Severity> SeverityFromName(std::string_view name);

enum class SchemaMode : uint8_t {
  kEquals,    // Exactly the listed columns, no others.
  kContains,  // At least the listed columns.
};

// One expected column of a schema rule; no type means any type.
struct SchemaColumn {
  std::string name;
  std::optional<table::DataType> type;
  bool operator==(const SchemaColumn&) const = default;
};

// One rule as written by the user, after structural validation. Which members are used
// depends on `type`; the others keep their defaults. Build specs with ParseRules (or by hand:
// EvaluateRules re-validates them).
struct RuleSpec {
  std::string name;  // Given, or generated from type and columns ("not_null(npi)").
  RuleType type = RuleType::kNotNull;
  Severity severity = Severity::kError;
  std::string description;  // Free text for the reader of the report; optional.

  // not_null, unique: one or more columns. in_range, in_set, regex: exactly one.
  std::vector<std::string> columns;
  // in_range: inclusive bounds, at least one; a JSON number, or an ISO 8601 string for date
  // and timestamp columns. Matched to the column's type when the rule is applied.
  std::optional<nlohmann::json> min;
  std::optional<nlohmann::json> max;
  // row_count: inclusive bounds on the number of rows, at least one.
  std::optional<int64_t> min_rows;
  std::optional<int64_t> max_rows;
  // in_set: the allowed values (JSON strings, numbers or booleans; ISO strings for dates).
  std::vector<nlohmann::json> values;
  // regex: an RE2 pattern that every non-null value must match in full.
  std::string pattern;
  // schema
  SchemaMode schema_mode = SchemaMode::kContains;
  bool ordered = false;  // equals only: the columns must also appear in this order.
  std::vector<SchemaColumn> schema_columns;
  // expression: a formula (expr/expression.h) that must be true for every row.
  std::string expression;
  bool allow_null = false;  // expression only: a null result passes.
  // Row-level rules (all but row_count and schema): the rule passes while failing rows are at
  // most this fraction of all rows. Absent means no failing row is tolerated.
  std::optional<double> max_failing_fraction;

  bool operator==(const RuleSpec&) const = default;
};

// Parses a JSON array of rule objects (the `checks` list of a dataset in flow.yaml).
// Requires: nothing. Returns the specs in order, with generated names filled in.
// Errors: INVALID_ARGUMENT if `rules` is not an array, a rule is not an object, a key is
// unknown for its rule type, a value has the wrong type or range, a regex does not compile, or
// two rules share a name. The message names the 1-based rule index, its name when given and
// the key path, e.g.
//   rule 2 ("npi_format"): "pattern": invalid regular expression: missing ]: [0-9
absl::StatusOr<std::vector<RuleSpec>> ParseRules(const nlohmann::json& rules);

// The canonical JSON of specs (generated names and default keys omitted), which ParseRules
// reads back to equal specs. Requires specs that ParseRules would accept.
nlohmann::json RulesToJson(const std::vector<RuleSpec>& specs);

// Checks that every rule applies to `schema` without evaluating anything: the columns exist,
// regex columns are strings, in_range columns are numeric or temporal with bounds of the
// matching kind, in_set values match the column type, expressions compile to bool. Meant for
// the moment rules are defined or a flow is validated; EvaluateRules tolerates these problems.
// Errors: INVALID_ARGUMENT for a malformed spec or the first rule that does not apply, named
// as in ParseRules, e.g. rule 1 ("not_null(npi)"): no column "npi" (columns: hcp_id, ...).
absl::Status BindRules(const std::vector<RuleSpec>& specs, const table::Schema& schema);

struct RuleResult {
  std::string name;
  RuleType type = RuleType::kNotNull;
  Severity severity = Severity::kError;
  bool passed = false;
  // False when the rule could not be applied to this table (missing column, changed type,
  // expression that no longer compiles); then passed is false, failing_rows is 0 and message
  // says why.
  bool evaluated = true;
  // Rows that break the rule; 0 for table-level rules (row_count, schema).
  int64_t failing_rows = 0;
  // For the reader of the report, without the rule's name, e.g.
  //   3 of 1200 rows have a null npi: rows 4, 17, 980
  std::string message;
  // The first offending rows (1-based, ascending, at most kMaxSampleRows) and the offending
  // values there: the value itself for single-column rules, "col=value, ..." otherwise
  // ("null" for a null).
  std::vector<int64_t> sample_rows;
  std::vector<std::string> sample_values;

  bool operator==(const RuleResult&) const = default;
};

struct QualityReport {
  int64_t num_rows = 0;  // Rows of the evaluated table.
  std::vector<RuleResult> results;

  // True if a rule with severity error failed: the flow build must stop.
  bool HasErrors() const;
  // Number of failed rules of severity error / warning.
  int errors() const;
  int warnings() const;

  // {"num_rows": N, "results": [{"name", "type", "severity", "passed", "evaluated",
  //  "failing_rows", "message", "sample_rows", "sample_values"}, ...]}; all keys always
  // present. FromJson reads exactly this shape, so ToJson(FromJson(x)) == x.
  nlohmann::json ToJson() const;
  // Errors: INVALID_ARGUMENT naming the result index and key for a missing, unknown or
  // mistyped key.
  static absl::StatusOr<QualityReport> FromJson(const nlohmann::json& json);

  // Human-readable text: a headline, then one line per rule, failures first, e.g.
  //   quality: 1 error, 0 warnings, 2 passed (3 rules, 1200 rows)
  //     FAILED   [error]   not_null(npi): 3 of 1200 rows have a null npi: rows 4, 17, 980
  //     passed   [error]   unique(hcp_id, month): no duplicate keys
  std::string Summary() const;

  bool operator==(const QualityReport&) const = default;
};

// Evaluates every rule against `table` (`options` supplies now() to expressions).
// Requires: nothing. Returns one result per spec, in order. Problems of the table (missing
// columns, other types) are failed results, not errors.
// Errors: INVALID_ARGUMENT for a malformed spec (as ParseRules would reject).
absl::StatusOr<QualityReport> EvaluateRules(const std::vector<RuleSpec>& specs,
                                            const table::Table& table,
                                            const expr::EvalOptions& options = {});

}  // namespace assay::quality

#endif  // ASSAY_QUALITY_QUALITY_RULES_H_
