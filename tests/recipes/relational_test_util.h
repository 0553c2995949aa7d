// Helpers for the relational recipe tests: compact column/table construction, rendering, a
// table comparison with a tolerance for floats, and a seeded random table generator.
#ifndef ASSAY_TESTS_RECIPES_RELATIONAL_TEST_UTIL_H_
#define ASSAY_TESTS_RECIPES_RELATIONAL_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes::testing {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Table;

inline constexpr std::nullopt_t kNull = std::nullopt;

inline Column Ints(const std::vector<std::optional<int64_t>>& values,
                   DataType type = DataType::kInt64) {
  ColumnBuilder builder(type);
  for (const auto& value : values) value ? builder.AppendInt64(*value) : builder.AppendNull();
  return builder.Finish();
}
inline Column Floats(const std::vector<std::optional<double>>& values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) value ? builder.AppendFloat64(*value) : builder.AppendNull();
  return builder.Finish();
}
inline Column Strs(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}
inline Column Bools(const std::vector<std::optional<bool>>& values) {
  ColumnBuilder builder(DataType::kBool);
  for (const auto& value : values) value ? builder.AppendBool(*value) : builder.AppendNull();
  return builder.Finish();
}
inline Column Dates(const std::vector<std::optional<int32_t>>& values) {
  ColumnBuilder builder(DataType::kDate);
  for (const auto& value : values) value ? builder.AppendDate(*value) : builder.AppendNull();
  return builder.Finish();
}

inline Table MakeTable(std::vector<std::pair<std::string, Column>> named) {
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (auto& [name, column] : named) {
    fields.push_back({name, column.type()});
    columns.push_back(std::move(column));
  }
  auto made = Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : Table();
}

// Column names, then one "a|b|c" line per row, nulls as "null".
inline std::vector<std::string> Render(const Table& table) {
  std::vector<std::string> lines;
  std::string header;
  for (const auto& field : table.schema().fields()) {
    header += (header.empty() ? "" : "|") + field.name;
  }
  lines.push_back(header);
  for (int64_t row = 0; row < table.num_rows(); ++row) {
    std::string line;
    for (int col = 0; col < table.num_columns(); ++col) {
      line += (col == 0 ? "" : "|") + table.column(col).ValueToString(row, "null");
    }
    lines.push_back(line);
  }
  return lines;
}

// Same schema and rows; float64 cells equal within a relative 1e-9 (absolute near zero).
inline ::testing::AssertionResult TablesMatch(const Table& actual, const Table& expected) {
  if (!(actual.schema() == expected.schema())) {
    return ::testing::AssertionFailure() << "schema " << actual.schema().NameList(100)
                                         << " vs expected " << expected.schema().NameList(100);
  }
  if (actual.num_rows() != expected.num_rows()) {
    return ::testing::AssertionFailure()
           << actual.num_rows() << " rows, expected " << expected.num_rows();
  }
  for (int col = 0; col < actual.num_columns(); ++col) {
    const Column& a = actual.column(col);
    const Column& e = expected.column(col);
    for (int64_t row = 0; row < actual.num_rows(); ++row) {
      bool same = a.IsNull(row) == e.IsNull(row);
      if (same && a.IsValid(row)) {
        if (a.type() == DataType::kFloat64) {
          const double x = a.float64_values()[row], y = e.float64_values()[row];
          same = (std::isnan(x) && std::isnan(y)) ||
                 std::fabs(x - y) <= 1e-9 * std::max({1.0, std::fabs(x), std::fabs(y)});
        } else {
          same = a.ValueToString(row) == e.ValueToString(row);
        }
      }
      if (!same) {
        return ::testing::AssertionFailure()
               << "column " << actual.schema().field(col).name << " row " << row << ": "
               << a.ValueToString(row, "null") << ", expected " << e.ValueToString(row, "null");
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A random table for model tests: key-like columns with few distinct values (so keys repeat)
// and ~15% nulls, plus payload columns.
//   k_int int64 (0..4), k_str string ("a".."d"), k_float float64 (0.5, 1.5, 2.5),
//   k_date date, v_int int64 (-50..50), v_float float64, v_str string, v_bool bool,
//   ts timestamp (a few days apart, ties likely)
inline Table RandomTable(int64_t rows, uint32_t seed, int key_range = 5) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto is_null = [&]() { return pick(100) < 15; };
  ColumnBuilder k_int(DataType::kInt64), k_str(DataType::kString), k_float(DataType::kFloat64),
      k_date(DataType::kDate), v_int(DataType::kInt64), v_float(DataType::kFloat64),
      v_str(DataType::kString), v_bool(DataType::kBool), ts(DataType::kTimestamp);
  static const char* kWords[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (int64_t row = 0; row < rows; ++row) {
    is_null() ? k_int.AppendNull() : k_int.AppendInt64(pick(key_range));
    is_null() ? k_str.AppendNull() : k_str.AppendString(kWords[pick(std::min(key_range, 8))]);
    is_null() ? k_float.AppendNull() : k_float.AppendFloat64(0.5 + pick(3));
    is_null() ? k_date.AppendNull() : k_date.AppendDate(19000 + pick(4));
    is_null() ? v_int.AppendNull() : v_int.AppendInt64(pick(101) - 50);
    is_null() ? v_float.AppendNull() : v_float.AppendFloat64((pick(2001) - 1000) / 8.0);
    is_null() ? v_str.AppendNull()
              : v_str.AppendString(std::string(kWords[pick(8)]) + kWords[pick(8)]);
    is_null() ? v_bool.AppendNull() : v_bool.AppendBool(pick(2) == 1);
    is_null() ? ts.AppendNull()
              : ts.AppendInt64(int64_t{1'700'000'000'000'000} + pick(12) * int64_t{86'400'000'000});
  }
  return MakeTable({{"k_int", k_int.Finish()},
                    {"k_str", k_str.Finish()},
                    {"k_float", k_float.Finish()},
                    {"k_date", k_date.Finish()},
                    {"v_int", v_int.Finish()},
                    {"v_float", v_float.Finish()},
                    {"v_str", v_str.Finish()},
                    {"v_bool", v_bool.Finish()},
                    {"ts", ts.Finish()}});
}

}  // namespace assay::recipes::testing

#endif  // ASSAY_TESTS_RECIPES_RELATIONAL_TEST_UTIL_H_
