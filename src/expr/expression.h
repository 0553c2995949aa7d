// The formula language: parse an expression once, type-check it against a schema, then
// evaluate it vectorized over whole columns of a table. Serves the formula, filter, flag and
// if/then/else processors, aggregation filters and expression quality rules.
//
// Language summary (docs/formulas.md is the reference):
//   literals     42, 3.5, "text" or 'text', true, false, null, date("2024-03-01"),
//                timestamp("2024-03-01T12:00:00Z")
//   columns      bare names (hcp_id) and quoted names with spaces or symbols (`years in practice`)
//   operators    + - * / %, = == != <> < <= > >=, and or not (also && || !), parentheses,
//                unary minus; "+" on two strings concatenates
//   null         null propagates through operators and functions except isNull, isNotNull,
//                coalesce and if (whose condition treats null as false)
//   functions    if, isNull, isNotNull, coalesce; abs, round, floor, ceil, log, exp, sqrt,
//                pow, min, max; length, lower, upper, trim, contains, startsWith, endsWith,
//                substring, replace, concat, toString, toNumber; year, month, day, weekday,
//                dateDiff, dateAdd, now
//
// Thread-safety: an Expression is immutable after Compile and may be evaluated from many
// threads at once.
#ifndef ASSAY_EXPR_EXPRESSION_H_
#define ASSAY_EXPR_EXPRESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "table/column.h"
#include "table/data_type.h"
#include "table/table.h"

namespace assay::expr {

struct EvalOptions {
  // The value of now(): the build start time in microseconds since the Unix epoch (UTC), so
  // every row of one build sees the same instant and a rebuild is reproducible.
  int64_t now_micros = 0;
};

struct ExpressionNode;  // Defined in the implementation.

class Expression {
 public:
  // Parses `source` and type-checks it against `schema`. Nothing is evaluated.
  // Errors: INVALID_ARGUMENT for a syntax error, an unknown column or function, a wrong number
  // of arguments or a type error. The message starts with the 1-based character position and
  // names the problem and the fix, e.g.
  //   position 12: unknown column "npi_id" (columns: hcp_id, npi, specialty, ...)
  //   position 5: cannot apply "-" to string and int64
  static absl::StatusOr<Expression> Compile(std::string_view source, const table::Schema& schema);

  // The type every evaluation returns.
  table::DataType result_type() const;
  // The text given to Compile.
  const std::string& source() const;
  // Names of the columns the expression reads, sorted, without duplicates.
  const std::vector<std::string>& referenced_columns() const;

  // Evaluates the expression for every row of `input` and returns a column of result_type()
  // with input.num_rows() rows. `input` must contain the referenced columns with the types
  // seen at compile time (other columns are ignored). Values that have no result (division by
  // zero, log of a non-positive number, an unparseable toNumber) are null, never an error.
  // Errors: INVALID_ARGUMENT if a referenced column is missing or has another type.
  absl::StatusOr<table::Column> Evaluate(const table::Table& input,
                                         const EvalOptions& options = {}) const;

 private:
  std::shared_ptr<const ExpressionNode> root_;
  std::string source_;
  std::vector<std::string> referenced_columns_;
  std::vector<table::DataType> referenced_types_;  // parallel to referenced_columns_
  table::DataType result_type_ = table::DataType::kBool;
};

}  // namespace assay::expr

#endif  // ASSAY_EXPR_EXPRESSION_H_
