// Helpers for the formula-language tests: build small tables from optional values, compile and
// evaluate in one call, and render result columns as text ("null" for nulls) so expectations
// read like the formulas' documentation.
#ifndef ASSAY_TESTS_EXPR_EXPR_TEST_UTIL_H_
#define ASSAY_TESTS_EXPR_EXPR_TEST_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/civil_time.h"
#include "expr/expression.h"
#include "gtest/gtest.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::expr::testing {

// Shorthand for a null cell in the column builders below.
inline constexpr auto kNull = std::nullopt;

inline table::Column Ints(const std::vector<std::optional<int64_t>>& values) {
  table::ColumnBuilder builder(table::DataType::kInt64);
  for (const auto& v : values) v ? builder.AppendInt64(*v) : builder.AppendNull();
  return builder.Finish();
}

inline table::Column Floats(const std::vector<std::optional<double>>& values) {
  table::ColumnBuilder builder(table::DataType::kFloat64);
  for (const auto& v : values) v ? builder.AppendFloat64(*v) : builder.AppendNull();
  return builder.Finish();
}

inline table::Column Bools(const std::vector<std::optional<bool>>& values) {
  table::ColumnBuilder builder(table::DataType::kBool);
  for (const auto& v : values) v ? builder.AppendBool(*v) : builder.AppendNull();
  return builder.Finish();
}

inline table::Column Strings(const std::vector<std::optional<std::string>>& values) {
  table::ColumnBuilder builder(table::DataType::kString);
  for (const auto& v : values) v ? builder.AppendString(*v) : builder.AppendNull();
  return builder.Finish();
}

// ISO dates ("2024-03-01"); nullopt for null.
inline table::Column Dates(const std::vector<std::optional<std::string>>& values) {
  table::ColumnBuilder builder(table::DataType::kDate);
  for (const auto& v : values)
    v ? builder.AppendDate(*common::ParseIsoDate(*v)) : builder.AppendNull();
  return builder.Finish();
}

// ISO timestamps ("2024-03-01T10:00:00Z"); nullopt for null.
inline table::Column Timestamps(const std::vector<std::optional<std::string>>& values) {
  table::ColumnBuilder builder(table::DataType::kTimestamp);
  for (const auto& v : values) {
    v ? builder.AppendInt64(*common::ParseIsoTimestamp(*v)) : builder.AppendNull();
  }
  return builder.Finish();
}

inline table::Table MakeTable(std::vector<std::pair<std::string, table::Column>> named) {
  std::vector<table::Field> fields;
  std::vector<table::Column> columns;
  for (auto& [name, column] : named) {
    fields.push_back({name, column.type()});
    columns.push_back(std::move(column));
  }
  return table::Table::Make(table::Schema(std::move(fields)), std::move(columns)).value();
}

// Compiles `source` against the table's schema and evaluates it.
inline absl::StatusOr<table::Column> CompileAndEvaluate(std::string_view source,
                                                        const table::Table& input,
                                                        const EvalOptions& options = {}) {
  auto expression = Expression::Compile(source, input.schema());
  if (!expression.ok()) return expression.status();
  return expression->Evaluate(input, options);
}

// Each row rendered with Column::ValueToString, "null" for nulls.
inline std::vector<std::string> Render(const table::Column& column) {
  std::vector<std::string> out;
  for (int64_t row = 0; row < column.size(); ++row)
    out.push_back(column.ValueToString(row, "null"));
  return out;
}

// The rows of `source` evaluated over `input` as Render gives them, or the single line
// "ERROR: <message>" so a failing formula shows why in the expectation diff.
inline std::vector<std::string> RenderOrError(std::string_view source, const table::Table& input,
                                              const EvalOptions& options = {}) {
  auto column = CompileAndEvaluate(source, input, options);
  if (!column.ok()) return {"ERROR: " + std::string(column.status().message())};
  return Render(*column);
}

// The result type of `source` compiled against `schema`; records a test failure (and returns
// kBool) if it does not compile.
inline table::DataType ResultTypeOf(std::string_view source, const table::Schema& schema) {
  auto expression = Expression::Compile(source, schema);
  EXPECT_TRUE(expression.ok()) << expression.status();
  return expression.ok() ? expression->result_type() : table::DataType::kBool;
}

// The compile error message of `source` against `schema` ("" if it compiles).
inline std::string CompileError(std::string_view source, const table::Schema& schema) {
  auto expression = Expression::Compile(source, schema);
  if (expression.ok()) return "";
  return std::string(expression.status().message());
}

}  // namespace assay::expr::testing

#endif  // ASSAY_TESTS_EXPR_EXPR_TEST_UTIL_H_
