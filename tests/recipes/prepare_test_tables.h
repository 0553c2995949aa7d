// Helpers for the prepare recipe tests: build small tables cell by cell, read columns back as
// text, and run a JSON config in one call.
#ifndef ASSAY_TESTS_RECIPES_PREPARE_TEST_TABLES_H_
#define ASSAY_TESTS_RECIPES_PREPARE_TEST_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/civil_time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "recipes/prepare.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes::testing {

// A column from text cells parsed as `type` (std::nullopt for a null).
inline table::Column Col(table::DataType type,
                         const std::vector<std::optional<std::string>>& cells);
inline table::Column Strings(const std::vector<std::optional<std::string>>& cells) {
  return Col(table::DataType::kString, cells);
}
inline table::Column Ints(const std::vector<std::optional<int64_t>>& cells) {
  table::ColumnBuilder builder(table::DataType::kInt64);
  for (const auto& cell : cells) cell ? builder.AppendInt64(*cell) : builder.AppendNull();
  return builder.Finish();
}
inline table::Column Floats(const std::vector<std::optional<double>>& cells) {
  table::ColumnBuilder builder(table::DataType::kFloat64);
  for (const auto& cell : cells) cell ? builder.AppendFloat64(*cell) : builder.AppendNull();
  return builder.Finish();
}

inline table::Column Col(table::DataType type,
                         const std::vector<std::optional<std::string>>& cells) {
  table::ColumnBuilder builder(type);
  for (const auto& cell : cells) {
    if (!cell) {
      builder.AppendNull();
      continue;
    }
    switch (type) {
      case table::DataType::kString:
        builder.AppendString(*cell);
        break;
      case table::DataType::kBool:
        builder.AppendBool(*cell == "true");
        break;
      case table::DataType::kInt64:
        builder.AppendInt64(std::stoll(*cell));
        break;
      case table::DataType::kFloat64:
        builder.AppendFloat64(std::stod(*cell));
        break;
      case table::DataType::kDate:
        builder.AppendDate(*common::ParseIsoDate(*cell));
        break;
      case table::DataType::kTimestamp:
        builder.AppendInt64(*common::ParseIsoTimestamp(*cell));
        break;
    }
  }
  return builder.Finish();
}

inline table::Table MakeTable(std::vector<std::pair<std::string, table::Column>> columns) {
  std::vector<table::Field> fields;
  std::vector<table::Column> data;
  for (auto& [name, column] : columns) {
    fields.push_back(table::Field{name, column.type()});
    data.push_back(std::move(column));
  }
  auto made = table::Table::Make(table::Schema(std::move(fields)), std::move(data));
  EXPECT_TRUE(made.ok()) << made.status();
  return *std::move(made);
}

// The cells of column `name` as text ("null" for a null).
inline std::vector<std::string> Cells(const table::Table& table, const std::string& name) {
  std::vector<std::string> out;
  auto column = table.GetColumn(name);
  EXPECT_TRUE(column.ok()) << column.status();
  if (!column.ok()) return out;
  for (int64_t row = 0; row < (*column)->size(); ++row) {
    out.push_back((*column)->ValueToString(row, "null"));
  }
  return out;
}

inline std::vector<std::string> Names(const table::Table& table) {
  std::vector<std::string> out;
  for (const auto& field : table.schema().fields()) out.push_back(field.name);
  return out;
}

// Parses {"steps": steps} and runs it.
inline absl::StatusOr<PrepareResult> RunSteps(const nlohmann::json& steps,
                                              const table::Table& input, int64_t now_micros = 0) {
  auto spec = ParsePrepareSpec(nlohmann::json{{"steps", steps}});
  if (!spec.ok()) return spec.status();
  return RunPrepare(*spec, input, PrepareContext{now_micros});
}

// Runs one step and returns the output table (failing the test on error).
inline table::Table RunOk(const nlohmann::json& step, const table::Table& input) {
  auto result = RunSteps(nlohmann::json::array({step}), input);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return input;
  return std::move(result->output);
}

// The error message of running `steps` on `input`, failing the test if the run succeeds.
inline std::string ErrorOf(const nlohmann::json& steps, const table::Table& input) {
  auto result = RunSteps(steps, input);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : std::string(result.status().message());
}

}  // namespace assay::recipes::testing

#endif  // ASSAY_TESTS_RECIPES_PREPARE_TEST_TABLES_H_
