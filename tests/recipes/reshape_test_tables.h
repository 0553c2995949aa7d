// Small builders for the reshape recipe tests: columns from initializer lists with
// std::nullopt for nulls, tables from named columns, random tables for model-based tests, and
// a rendering of a column as text for readable assertions. Header-only; used from one test
// thread.
#ifndef ASSAY_TESTS_RECIPES_RESHAPE_TEST_TABLES_H_
#define ASSAY_TESTS_RECIPES_RESHAPE_TEST_TABLES_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/civil_time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes::testing {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Table;

inline Column Ints(std::vector<std::optional<int64_t>> values) {
  ColumnBuilder builder(DataType::kInt64);
  for (const auto& value : values) value ? builder.AppendInt64(*value) : builder.AppendNull();
  return builder.Finish();
}

inline Column Floats(std::vector<std::optional<double>> values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) value ? builder.AppendFloat64(*value) : builder.AppendNull();
  return builder.Finish();
}

inline Column Strings(std::vector<std::optional<std::string>> values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}

inline Column Bools(std::vector<std::optional<bool>> values) {
  ColumnBuilder builder(DataType::kBool);
  for (const auto& value : values) value ? builder.AppendBool(*value) : builder.AppendNull();
  return builder.Finish();
}

// Dates from "YYYY-MM-DD" text.
inline Column Dates(std::vector<std::optional<std::string>> values) {
  ColumnBuilder builder(DataType::kDate);
  for (const auto& value : values) {
    value ? builder.AppendDate(*common::ParseIsoDate(*value)) : builder.AppendNull();
  }
  return builder.Finish();
}

// Timestamps from ISO 8601 text.
inline Column Timestamps(std::vector<std::optional<std::string>> values) {
  ColumnBuilder builder(DataType::kTimestamp);
  for (const auto& value : values) {
    value ? builder.AppendInt64(*common::ParseIsoTimestamp(*value)) : builder.AppendNull();
  }
  return builder.Finish();
}

inline Table MakeTable(std::vector<std::pair<std::string, Column>> named) {
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (auto& [name, column] : named) {
    fields.push_back(table::Field{name, column.type()});
    columns.push_back(std::move(column));
  }
  auto made = Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : Table();
}

// The values of column `name` as canonical text, "null" for nulls.
inline std::vector<std::string> Text(const Table& table, const std::string& name) {
  std::vector<std::string> out;
  auto column = table.GetColumn(name);
  EXPECT_TRUE(column.ok()) << column.status();
  if (!column.ok()) return out;
  for (int64_t row = 0; row < (*column)->size(); ++row) {
    out.push_back((*column)->ValueToString(row, "null"));
  }
  return out;
}

inline std::vector<std::string> Names(const Table& table) {
  std::vector<std::string> out;
  for (const auto& field : table.schema().fields()) out.push_back(field.name);
  return out;
}

// A random table with columns id (the row number, when `with_id`), i (int64), f (float64, with
// -0.0, NaN), s (string), b (bool), d (date), t (timestamp). Values come from small domains so ties
// and duplicates are common; about `null_percent` % of each column is null.
inline Table RandomTable(uint64_t seed, int64_t rows, bool with_id = true, int null_percent = 10,
                         int domain = 5) {
  std::mt19937_64 random(seed);
  auto pick = [&](int64_t bound) { return static_cast<int64_t>(random() % bound); };
  ColumnBuilder ints(DataType::kInt64), floats(DataType::kFloat64), strings(DataType::kString),
      bools(DataType::kBool), dates(DataType::kDate), stamps(DataType::kTimestamp);
  const double special[] = {-0.0, 0.0, std::nan(""), -1.5, 2.25};
  for (int64_t row = 0; row < rows; ++row) {
    auto null = [&] { return pick(100) < null_percent; };
    null() ? ints.AppendNull() : ints.AppendInt64(pick(domain) - domain / 2);
    null() ? floats.AppendNull() : floats.AppendFloat64(special[pick(5)] * (1 + pick(domain) % 2));
    null() ? strings.AppendNull() : strings.AppendString(std::string(pick(3), 'a' + pick(domain)));
    null() ? bools.AppendNull() : bools.AppendBool(pick(2) == 1);
    null() ? dates.AppendNull() : dates.AppendDate(static_cast<int32_t>(19000 + pick(domain)));
    null() ? stamps.AppendNull() : stamps.AppendInt64(1'700'000'000'000'000 + pick(domain) * 1000);
  }
  std::vector<std::pair<std::string, Column>> named;
  if (with_id) {
    ColumnBuilder ids(DataType::kInt64);
    for (int64_t row = 0; row < rows; ++row) ids.AppendInt64(row);
    named.emplace_back("id", ids.Finish());
  }
  named.emplace_back("i", ints.Finish());
  named.emplace_back("f", floats.Finish());
  named.emplace_back("s", strings.Finish());
  named.emplace_back("b", bools.Finish());
  named.emplace_back("d", dates.Finish());
  named.emplace_back("t", stamps.Finish());
  return MakeTable(std::move(named));
}

// A row of `table` as text cells (for comparing whole rows).
inline std::vector<std::string> RowText(const Table& table, int64_t row) {
  std::vector<std::string> out;
  for (const Column& column : table.columns()) out.push_back(column.ValueToString(row, "null"));
  return out;
}

// The row as text with -0.0 written as 0.0, so rows equal under the recipes' equality (null ==
// null, -0.0 == 0.0, NaN == NaN) have equal keys.
inline std::vector<std::string> RowKey(const Table& table, int64_t row,
                                       const std::vector<int>& columns) {
  std::vector<std::string> out;
  for (int column : columns) {
    std::string text = table.column(column).ValueToString(row, "null");
    if (text == "-0.0") text = "0.0";
    out.push_back(text);
  }
  return out;
}

// The int64 column "id" as numbers (nulls as -1).
inline std::vector<int64_t> Ids(const Table& table) {
  std::vector<int64_t> out;
  auto column = table.GetColumn("id");
  EXPECT_TRUE(column.ok()) << column.status();
  if (!column.ok()) return out;
  for (int64_t row = 0; row < (*column)->size(); ++row) {
    out.push_back((*column)->IsNull(row) ? -1 : (*column)->int64_values()[row]);
  }
  return out;
}

// A naive reading of one cell for reference comparators.
struct NaiveCell {
  bool null = false;
  bool nan = false;
  double number = 0;
  std::string text;
};

inline NaiveCell ReadCell(const Column& column, int64_t row) {
  NaiveCell cell;
  if (column.IsNull(row)) {
    cell.null = true;
    return cell;
  }
  switch (column.type()) {
    case DataType::kBool:
      cell.number = column.bool_values()[row];
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      cell.number = static_cast<double>(column.int64_values()[row]);
      break;
    case DataType::kFloat64:
      cell.number = column.float64_values()[row];
      cell.nan = std::isnan(cell.number);
      break;
    case DataType::kDate:
      cell.number = column.date_values()[row];
      break;
    case DataType::kString:
      cell.text = std::string(column.StringAt(row));
      break;
  }
  return cell;
}

// Reference comparison of one key: nulls placed absolutely, NaN above every number.
inline int NaiveCompare(const NaiveCell& a, const NaiveCell& b, bool descending, bool nulls_first) {
  if (a.null || b.null) {
    if (a.null && b.null) return 0;
    return a.null == nulls_first ? -1 : 1;
  }
  int result = 0;
  if (a.nan != b.nan) {
    result = a.nan ? 1 : -1;
  } else if (!a.nan && a.number != b.number) {
    result = a.number < b.number ? -1 : 1;
  } else if (a.text != b.text) {
    result = a.text < b.text ? -1 : 1;
  }
  return descending ? -result : result;
}

inline nlohmann::json Json(const char* text) { return nlohmann::json::parse(text); }

// Expects `parse` to reject each (config JSON text, message) pair of `cases` with
// INVALID_ARGUMENT and exactly that message.
template <typename Parse, typename Cases>
void ExpectConfigErrors(const Parse& parse, const Cases& cases) {
  for (const auto& [config, message] : cases) {
    auto spec = parse(Json(config));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << config;
    EXPECT_EQ(spec.status().message(), message) << config;
  }
}

// A table with one int64 column "id" holding 0, 1, ..., rows - 1.
inline Table Numbered(int64_t rows) {
  std::vector<std::optional<int64_t>> ids;
  for (int64_t row = 0; row < rows; ++row) ids.push_back(row);
  return MakeTable({{"id", Ints(ids)}});
}

}  // namespace assay::recipes::testing

#endif  // ASSAY_TESTS_RECIPES_RESHAPE_TEST_TABLES_H_
