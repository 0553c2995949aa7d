#include "recipes/group.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/group_index.h"
#include "relational_test_util.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Table;
using testing::Bools;
using testing::Dates;
using ::testing::ElementsAre;
using testing::Floats;
using ::testing::HasSubstr;
using testing::Ints;
using testing::kNull;
using testing::MakeTable;
using testing::Render;
using testing::Strs;

GroupSpec Spec(const std::string& json) {
  auto spec = ParseGroupSpec(nlohmann::json::parse(json));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : GroupSpec();
}

std::vector<std::string> Group(const std::string& json, const Table& input,
                               const std::vector<std::optional<Column>>& masks = {}) {
  auto grouped = RunGroupWithMasks(Spec(json), input, masks);
  EXPECT_TRUE(grouped.ok()) << grouped.status();
  return grouped.ok() ? Render(*grouped) : std::vector<std::string>{};
}

Table Sales() {
  return MakeTable({{"region", Strs({"west", "east", "west", kNull, "east", "west"})},
                    {"units", Ints({3, kNull, 5, 7, 2, 5})},
                    {"price", Floats({1.0, 2.0, kNull, 4.0, 3.0, 2.0})},
                    {"day", Dates({10, 11, 12, 13, 14, 15})}});
}

TEST(Group, CountSumMeanSortedByKeyWithNullGroupLast) {
  EXPECT_THAT(Group(R"({"keys": ["region"], "aggregations": [
                  {"agg": "count"}, {"agg": "count", "column": "units"},
                  {"agg": "sum", "column": "units"}, {"agg": "mean", "column": "price"}]})",
                    Sales()),
              ElementsAre("region|count|units_count|units_sum|price_mean", "east|2|1|2|2.5",
                          "west|3|3|13|1.5", "null|1|1|7|4.0"));
}

TEST(Group, ResultTypes) {
  auto grouped = RunGroupWithMasks(Spec(R"({"keys": "region", "aggregations": [
      {"agg": "count"}, {"agg": "count_distinct", "column": "units"},
      {"agg": "sum", "column": "units"}, {"agg": "sum", "column": "price"},
      {"agg": "mean", "column": "units"}, {"agg": "std", "column": "units"},
      {"agg": "median", "column": "units"}, {"agg": "min", "column": "day"},
      {"agg": "max", "column": "region", "as": "top"}, {"agg": "first", "column": "price"},
      {"agg": "last", "column": "day"}]})"),
                                   Sales(), {});
  ASSERT_TRUE(grouped.ok()) << grouped.status();
  std::vector<DataType> types;
  for (const auto& field : grouped->schema().fields()) types.push_back(field.type);
  EXPECT_THAT(types, ElementsAre(DataType::kString, DataType::kInt64, DataType::kInt64,
                                 DataType::kInt64, DataType::kFloat64, DataType::kFloat64,
                                 DataType::kFloat64, DataType::kFloat64, DataType::kDate,
                                 DataType::kString, DataType::kFloat64, DataType::kDate));
}

TEST(Group, MinMaxOfEveryType) {
  EXPECT_THAT(Group(R"({"keys": "region", "aggregations": [
                  {"agg": "min", "column": "units"}, {"agg": "max", "column": "units"},
                  {"agg": "min", "column": "price"}, {"agg": "max", "column": "day"},
                  {"agg": "min", "column": "region", "as": "r_min"}]})",
                    Sales()),
              ElementsAre("region|units_min|units_max|price_min|day_max|r_min",
                          "east|2|2|2.0|1970-01-15|east", "west|3|5|1.0|1970-01-16|west",
                          "null|7|7|4.0|1970-01-14|null"));
  const Table flags = MakeTable({{"k", Ints({1, 1, 2})}, {"b", Bools({false, true, kNull})}});
  EXPECT_THAT(Group(R"({"keys": "k", "aggregations": [{"agg": "max", "column": "b"},
                  {"agg": "min", "column": "b"}, {"agg": "sum", "column": "b"}]})",
                    flags),
              ElementsAre("k|b_max|b_min|b_sum", "1|true|false|1", "2|null|null|null"));
}

TEST(Group, StdIsSampleStdAndMedianAveragesTheMiddle) {
  const Table input =
      MakeTable({{"k", Ints({1, 1, 1, 1, 2, 3, 3})}, {"x", Floats({2, 4, 4, 5, 7, 1, kNull})}});
  auto grouped = RunGroupWithMasks(Spec(R"({"keys": "k", "aggregations": [
      {"agg": "std", "column": "x"}, {"agg": "median", "column": "x"}]})"),
                                   input, {});
  ASSERT_TRUE(grouped.ok());
  // pandas: Series([2, 4, 4, 5]).std() == 1.2583057392117916 (ddof = 1).
  EXPECT_NEAR(grouped->column(1).float64_values()[0], 1.2583057392117916, 1e-12);
  EXPECT_TRUE(grouped->column(1).IsNull(1));  // one value: no sample std
  EXPECT_TRUE(grouped->column(1).IsNull(2));
  EXPECT_EQ(grouped->column(2).float64_values()[0], 4.0);
  EXPECT_EQ(grouped->column(2).float64_values()[1], 7.0);
  EXPECT_EQ(grouped->column(2).float64_values()[2], 1.0);
}

TEST(Group, CountDistinctIgnoresNulls) {
  const Table input =
      MakeTable({{"k", Ints({1, 1, 1, 1, 2})}, {"s", Strs({"a", "b", "a", kNull, kNull})}});
  EXPECT_THAT(
      Group(R"({"keys": "k", "aggregations": [{"agg": "count_distinct", "column": "s"}]})", input),
      ElementsAre("k|s_count_distinct", "1|2", "2|0"));
}

TEST(Group, FirstAndLastInInputOrderSkipNulls) {
  EXPECT_THAT(Group(R"({"keys": "region", "aggregations": [
                  {"agg": "first", "column": "price"}, {"agg": "last", "column": "price"},
                  {"agg": "first", "column": "units"}]})",
                    Sales()),
              ElementsAre("region|price_first|price_last|units_first", "east|2.0|3.0|2",
                          "west|1.0|2.0|3", "null|4.0|4.0|7"));
}

TEST(Group, FirstAndLastByOrderWithTiesKeepingInputOrder) {
  const Table input = MakeTable({{"k", Ints({1, 1, 1, 1})},
                                 {"when", Ints({5, 9, 9, kNull})},
                                 {"v", Strs({"a", "b", "c", "d"})}});
  EXPECT_THAT(Group(R"({"keys": "k", "aggregations": [
                  {"agg": "first", "column": "v", "order_by": "when", "as": "f"},
                  {"agg": "last", "column": "v", "order_by": ["when"], "as": "l"},
                  {"agg": "first", "column": "v", "as": "fd",
                   "order_by": [{"column": "when", "direction": "desc"}]},
                  {"agg": "last", "column": "v", "as": "ld",
                   "order_by": [{"column": "when", "direction": "desc"}]}]})",
                    input),
              // asc: 5 a, 9 b, 9 c, null d (nulls last); desc: 9 b, 9 c, 5 a, null d.
              ElementsAre("k|f|l|fd|ld", "1|a|d|b|d"));
}

TEST(Group, NoKeysGivesOneRowEvenForAnEmptyTable) {
  EXPECT_THAT(
      Group(R"({"aggregations": [{"agg": "count"}, {"agg": "sum", "column": "units"}]})", Sales()),
      ElementsAre("count|units_sum", "6|22"));
  const Table empty = Sales().Slice(0, 0);
  EXPECT_THAT(Group(R"({"keys": [], "aggregations": [{"agg": "count"},
                  {"agg": "sum", "column": "units"}, {"agg": "mean", "column": "price"}]})",
                    empty),
              ElementsAre("count|units_sum|price_mean", "0|null|null"));
  EXPECT_THAT(Group(R"({"keys": "region", "aggregations": [{"agg": "count"}]})", empty),
              ElementsAre("region|count"));
}

TEST(Group, MultipleKeysOfMixedTypesWithNulls) {
  const Table input = MakeTable({{"a", Ints({2, 1, 2, kNull, 1, 2})},
                                 {"b", Strs({"x", "y", "x", "x", kNull, kNull})},
                                 {"v", Ints({1, 2, 3, 4, 5, 6})}});
  EXPECT_THAT(
      Group(R"({"keys": ["a", "b"], "aggregations": [{"agg": "sum", "column": "v"}]})", input),
      ElementsAre("a|b|v_sum", "1|y|2", "1|null|5", "2|x|4", "2|null|6", "null|x|4"));
}

TEST(Group, FilteredAggregationsUseTheirMask) {
  const Column big = Bools({false, true, true, kNull, false, true});
  EXPECT_THAT(Group(R"({"keys": "region", "aggregations": [{"agg": "count"},
                  {"agg": "count", "as": "big_count"}, {"agg": "sum", "column": "units"}]})",
                    Sales(), {std::nullopt, big, big}),
              ElementsAre("region|count|big_count|units_sum", "east|2|1|null", "west|3|2|10",
                          "null|1|0|null"));
}

TEST(Group, MaskErrors) {
  const GroupSpec spec = Spec(R"({"aggregations": [{"agg": "count"}]})");
  EXPECT_EQ(RunGroupWithMasks(spec, Sales(), {std::nullopt, std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(RunGroupWithMasks(spec, Sales(), {Ints({1, 1, 1, 1, 1, 1})}).status().message(),
              HasSubstr("must be a bool column of 6 rows"));
  EXPECT_EQ(RunGroupWithMasks(spec, Sales(), {Bools({true})}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Group, Int64SumOverflowIsAnError) {
  const Table input = MakeTable({{"x", Ints({INT64_MAX, 1})}});
  auto grouped =
      RunGroupWithMasks(Spec(R"({"aggregations": [{"agg": "sum", "column": "x"}]})"), input, {});
  EXPECT_EQ(grouped.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(grouped.status().message(), HasSubstr("cast the column to float64"));
}

TEST(Group, SchemaErrorsComeBeforeAnyRow) {
  auto check = [](const std::string& json) { return CheckGroupSpec(Spec(json), Sales().schema()); };
  EXPECT_THAT(check(R"({"keys": "npi", "aggregations": [{"agg": "count"}]})").message(),
              HasSubstr("unknown column \"npi\" (columns: region, units, price, day)"));
  EXPECT_THAT(check(R"({"aggregations": [{"agg": "sum", "column": "nope"}]})").message(),
              HasSubstr("group: aggregation \"nope_sum\": unknown column \"nope\""));
  absl::Status type_error = check(R"({"aggregations": [{"agg": "mean", "column": "region"}]})");
  EXPECT_EQ(type_error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(type_error.message(), HasSubstr("mean needs an int64, float64 or bool column"));
  EXPECT_THAT(check(R"({"aggregations": [{"agg": "median", "column": "day"}]})").message(),
              HasSubstr("is date"));
  EXPECT_THAT(check(R"({"aggregations": [{"agg": "first", "column": "units",
                        "order_by": "nope"}]})")
                  .message(),
              HasSubstr("order_by: unknown column \"nope\""));
  EXPECT_EQ(
      RunGroupWithMasks(Spec(R"({"keys": "npi", "aggregations": [{"agg": "count"}]})"), Sales(), {})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(Group, ConfigErrors) {
  auto error = [](const std::string& json) {
    auto spec = ParseGroupSpec(nlohmann::json::parse(json));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(spec.status().message());
  };
  EXPECT_THAT(error(R"({"keys": "a"})"), HasSubstr("group config: \"aggregations\": is required"));
  EXPECT_THAT(error(R"({"aggregations": []})"), HasSubstr("expected a non-empty list"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "avg", "column": "x"}]})"),
              HasSubstr("\"aggregations\"[0].\"agg\": expected one of count, count_distinct"));
  EXPECT_THAT(error(R"({"aggregations": [{"column": "x"}]})"),
              HasSubstr("\"aggregations\"[0].\"agg\": is required"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "count"}, {"agg": "sum"}]})"),
              HasSubstr("\"aggregations\"[1].\"column\": is required for sum"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "sum", "column": 3}]})"),
              HasSubstr("\"column\": expected a column name"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "sum", "column": "x", "filter": "x > 1"}]})"),
              HasSubstr("unknown key \"filter\""));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "sum", "column": "x", "order_by": "t"}]})"),
              HasSubstr("applies to first and last only"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "sum", "column": "x"},
                                          {"agg": "sum", "column": "x"}]})"),
              HasSubstr("\"x_sum\" is produced twice"));
  EXPECT_THAT(error(R"({"keys": "n", "aggregations": [{"agg": "count", "as": "n"}]})"),
              HasSubstr("is also a key"));
  EXPECT_THAT(error(R"({"keys": [1], "aggregations": [{"agg": "count"}]})"),
              HasSubstr("\"keys\"[0]: expected a column name"));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "first", "column": "x",
                        "order_by": [{"column": "t", "direction": "down"}]}]})"),
              HasSubstr("\"direction\": expected \"asc\" or \"desc\""));
  EXPECT_THAT(error(R"({"aggregations": [{"agg": "count", "where": 5}]})"),
              HasSubstr("\"where\": expected a formula"));
}

TEST(Group, ParsesWhereAndNames) {
  const GroupSpec spec = Spec(R"({"keys": ["a"], "aggregations": [
      {"agg": "count", "where": "x > 1", "as": "big"}, {"agg": "median", "column": "x"}]})");
  ASSERT_EQ(spec.aggregations.size(), 2u);
  EXPECT_EQ(spec.aggregations[0].where, "x > 1");
  EXPECT_EQ(spec.aggregations[0].output_name, "big");
  EXPECT_EQ(spec.aggregations[1].output_name, "x_median");
  EXPECT_EQ(spec.aggregations[1].kind, AggregationKind::kMedian);
}

// ---- Model-based: hash aggregation against a row-by-row reference --------------------------

// Type-aware comparison, nulls last, written independently of the code under test.
int NaiveCompare(const Column& column, int64_t a, int64_t b) {
  if (column.IsNull(a) || column.IsNull(b)) {
    return column.IsNull(a) == column.IsNull(b) ? 0 : (column.IsNull(a) ? 1 : -1);
  }
  auto three_way = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (column.type()) {
    case DataType::kString:
      return three_way(std::string(column.StringAt(a)), std::string(column.StringAt(b)));
    case DataType::kFloat64:
      return three_way(column.float64_values()[a], column.float64_values()[b]);
    case DataType::kDate:
      return three_way(column.date_values()[a], column.date_values()[b]);
    case DataType::kBool:
      return three_way(column.bool_values()[a], column.bool_values()[b]);
    default:
      return three_way(column.int64_values()[a], column.int64_values()[b]);
  }
}

double AsDouble(const Column& column, int64_t row) {
  switch (column.type()) {
    case DataType::kFloat64:
      return column.float64_values()[row];
    case DataType::kBool:
      return column.bool_values()[row];
    default:
      return static_cast<double>(column.int64_values()[row]);
  }
}

Table ReferenceGroup(const GroupSpec& spec, const Table& input,
                     const std::vector<std::optional<Column>>& masks) {
  auto col = [&](const std::string& name) -> const Column& {
    return input.column(*input.schema().FindField(name));
  };
  std::map<std::string, std::vector<int64_t>> by_key;
  for (int64_t row = 0; row < input.num_rows(); ++row) {
    std::string key;
    for (const std::string& name : spec.keys) key += col(name).ValueToString(row, "\x01") + '\x1f';
    by_key[key].push_back(row);
  }
  std::vector<std::vector<int64_t>> groups;
  for (auto& [key, rows] : by_key) groups.push_back(rows);
  if (spec.keys.empty() && groups.empty()) groups.push_back({});
  std::sort(groups.begin(), groups.end(), [&](const auto& x, const auto& y) {
    for (const std::string& name : spec.keys) {
      const int order = NaiveCompare(col(name), x[0], y[0]);
      if (order != 0) return order < 0;
    }
    return false;
  });
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (const std::string& name : spec.keys) {
    ColumnBuilder builder(col(name).type());
    for (const auto& rows : groups) builder.AppendFrom(col(name), rows[0]);
    fields.push_back({name, col(name).type()});
    columns.push_back(builder.Finish());
  }
  for (size_t index = 0; index < spec.aggregations.size(); ++index) {
    const Aggregation& aggregation = spec.aggregations[index];
    const Column* values = aggregation.column.empty() ? nullptr : &col(aggregation.column);
    const std::optional<Column>* mask = masks.empty() ? nullptr : &masks[index];
    DataType type = values ? values->type() : DataType::kInt64;
    switch (aggregation.kind) {
      case AggregationKind::kCount:
      case AggregationKind::kCountDistinct:
        type = DataType::kInt64;
        break;
      case AggregationKind::kSum:
        if (type != DataType::kFloat64) type = DataType::kInt64;
        break;
      case AggregationKind::kMean:
      case AggregationKind::kStd:
      case AggregationKind::kMedian:
        type = DataType::kFloat64;
        break;
      default:
        break;
    }
    ColumnBuilder builder(type);
    for (const auto& rows : groups) {
      std::vector<int64_t> used;
      for (int64_t row : rows) {
        const bool masked_in = mask == nullptr || !mask->has_value() ||
                               ((*mask)->IsValid(row) && (*mask)->bool_values()[row]);
        if (masked_in && (values == nullptr || values->IsValid(row))) used.push_back(row);
      }
      std::vector<double> numbers;
      for (int64_t row : used) {
        if (values != nullptr && values->type() != DataType::kString &&
            values->type() != DataType::kDate) {
          numbers.push_back(AsDouble(*values, row));
        }
      }
      const double n = static_cast<double>(used.size());
      switch (aggregation.kind) {
        case AggregationKind::kCount:
          builder.AppendInt64(static_cast<int64_t>(used.size()));
          break;
        case AggregationKind::kCountDistinct: {
          std::set<std::string> distinct;
          for (int64_t row : used) distinct.insert(values->ValueToString(row));
          builder.AppendInt64(static_cast<int64_t>(distinct.size()));
          break;
        }
        case AggregationKind::kSum: {
          if (used.empty()) {
            builder.AppendNull();
          } else if (type == DataType::kFloat64) {
            double sum = 0;
            for (double x : numbers) sum += x;
            builder.AppendFloat64(sum);
          } else {
            int64_t sum = 0;
            for (double x : numbers) sum += static_cast<int64_t>(x);
            builder.AppendInt64(sum);
          }
          break;
        }
        case AggregationKind::kMean: {
          if (used.empty()) {
            builder.AppendNull();
            break;
          }
          double sum = 0;
          for (double x : numbers) sum += x;
          builder.AppendFloat64(sum / n);
          break;
        }
        case AggregationKind::kStd: {
          if (used.size() < 2) {
            builder.AppendNull();
            break;
          }
          double mean = 0, squares = 0;
          for (double x : numbers) mean += x / n;
          for (double x : numbers) squares += (x - mean) * (x - mean);
          builder.AppendFloat64(std::sqrt(squares / (n - 1)));
          break;
        }
        case AggregationKind::kMedian: {
          if (used.empty()) {
            builder.AppendNull();
            break;
          }
          std::sort(numbers.begin(), numbers.end());
          const size_t mid = numbers.size() / 2;
          builder.AppendFloat64(numbers.size() % 2 ? numbers[mid]
                                                   : (numbers[mid - 1] + numbers[mid]) / 2);
          break;
        }
        case AggregationKind::kMin:
        case AggregationKind::kMax: {
          if (used.empty()) {
            builder.AppendNull();
            break;
          }
          int64_t best = used[0];
          for (int64_t row : used) {
            const int order = NaiveCompare(*values, row, best);
            if (aggregation.kind == AggregationKind::kMin ? order < 0 : order > 0) best = row;
          }
          builder.AppendFrom(*values, best);
          break;
        }
        case AggregationKind::kFirst:
        case AggregationKind::kLast: {
          if (used.empty()) {
            builder.AppendNull();
            break;
          }
          std::stable_sort(used.begin(), used.end(), [&](int64_t a, int64_t b) {
            for (const OrderKey& key : aggregation.order_by) {
              const Column& order = col(key.column);
              int cmp = NaiveCompare(order, a, b);
              if (cmp != 0 && key.descending && order.IsValid(a) && order.IsValid(b)) cmp = -cmp;
              if (cmp != 0) return cmp < 0;
            }
            return false;
          });
          builder.AppendFrom(
              *values, aggregation.kind == AggregationKind::kFirst ? used.front() : used.back());
          break;
        }
      }
    }
    fields.push_back({aggregation.output_name, type});
    columns.push_back(builder.Finish());
  }
  return *Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

TEST(Group, MatchesRowByRowModelOnRandomTables) {
  const GroupSpec aggregations = Spec(R"({"aggregations": [
      {"agg": "count"}, {"agg": "count", "column": "v_int"},
      {"agg": "count_distinct", "column": "v_str"}, {"agg": "count_distinct", "column": "v_float"},
      {"agg": "count_distinct", "column": "k_date"},
      {"agg": "sum", "column": "v_int"}, {"agg": "sum", "column": "v_float"},
      {"agg": "sum", "column": "v_bool"}, {"agg": "mean", "column": "v_int"},
      {"agg": "mean", "column": "v_float"}, {"agg": "std", "column": "v_float"},
      {"agg": "std", "column": "v_int"}, {"agg": "median", "column": "v_int"},
      {"agg": "median", "column": "v_float"}, {"agg": "min", "column": "v_str"},
      {"agg": "max", "column": "v_str"}, {"agg": "min", "column": "v_int"},
      {"agg": "max", "column": "v_float"}, {"agg": "min", "column": "ts"},
      {"agg": "max", "column": "k_date"}, {"agg": "max", "column": "v_bool"},
      {"agg": "first", "column": "v_str"}, {"agg": "last", "column": "v_int"},
      {"agg": "first", "column": "v_str", "as": "f_ordered",
       "order_by": [{"column": "ts", "direction": "desc"}, "v_int"]},
      {"agg": "last", "column": "v_float", "as": "l_ordered", "order_by": ["k_str", "ts"]}]})");
  const std::vector<std::vector<std::string>> key_sets = {
      {},          {"k_int"},          {"k_str"},
      {"k_float"}, {"k_date"},         {"v_bool"},
      {"ts"},      {"k_int", "k_str"}, {"k_str", "k_float", "k_date"}};
  uint32_t seed = 100;
  for (int64_t rows : {0, 1, 6, 80, 700, 70000}) {
    for (const auto& keys : key_sets) {
      // The large case (parallel group numbering and aggregation) with a few key sets.
      if (rows > 1000 && keys.size() != 0 && keys[0] != "k_int") continue;
      for (bool with_masks : {false, true}) {
        const Table input = testing::RandomTable(rows, seed++, rows > 1000 ? 3000 : 5);
        GroupSpec spec = aggregations;
        spec.keys = keys;
        std::vector<std::optional<Column>> masks;
        if (with_masks) {
          const Table mask_source = testing::RandomTable(rows, seed++);
          for (size_t index = 0; index < spec.aggregations.size(); ++index) {
            if (index % 3 == 0) {
              masks.push_back(std::nullopt);
            } else {
              masks.push_back(mask_source.column(*mask_source.schema().FindField("v_bool")));
            }
          }
        }
        auto grouped = RunGroupWithMasks(spec, input, masks);
        ASSERT_TRUE(grouped.ok()) << grouped.status();
        EXPECT_TRUE(testing::TablesMatch(*grouped, ReferenceGroup(spec, input, masks)))
            << rows << " rows, " << keys.size() << " keys" << (keys.empty() ? "" : " " + keys[0])
            << (with_masks ? ", masked" : "");
      }
    }
  }
}

// Key shapes that take the other paths of relational::IndexGroups: wide-range int64 keys (the
// hash path with the value as hash), many distinct strings (including "" next to null),
// heavily skewed keys, and multi-column keys over them; ~10% nulls everywhere.
Table KeyShapesTable(int64_t rows, uint32_t seed, int64_t distinct) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  auto is_null = [&]() { return pick(10) == 0; };
  ColumnBuilder wide(DataType::kInt64), many(DataType::kString), skew(DataType::kInt64),
      day(DataType::kDate), v_float(DataType::kFloat64), v_int(DataType::kInt64);
  for (int64_t row = 0; row < rows; ++row) {
    // Spread over the whole int64 range, negative values included.
    is_null() ? wide.AppendNull()
              : wide.AppendInt64((pick(distinct) - distinct / 2) * 1'000'003'000'007);
    if (is_null()) {
      many.AppendNull();
    } else {
      const int64_t id = pick(distinct);
      many.AppendString(id == 0 ? std::string() : "hcp_" + std::to_string(id * 7919 % 100000));
    }
    is_null() ? skew.AppendNull() : skew.AppendInt64(pick(10) < 8 ? 42 : pick(distinct) * 977);
    is_null() ? day.AppendNull() : day.AppendDate(static_cast<int32_t>(18000 + pick(distinct)));
    is_null() ? v_float.AppendNull() : v_float.AppendFloat64((pick(2001) - 1000) / 8.0);
    is_null() ? v_int.AppendNull() : v_int.AppendInt64(pick(1001) - 500);
  }
  return MakeTable({{"wide", wide.Finish()},
                    {"many", many.Finish()},
                    {"skew", skew.Finish()},
                    {"day", day.Finish()},
                    {"v_float", v_float.Finish()},
                    {"v_int", v_int.Finish()}});
}

TEST(Group, MatchesRowByRowModelOnManyGroupsSkewAndNullKeys) {
  const GroupSpec aggregations = Spec(R"({"aggregations": [
      {"agg": "count"}, {"agg": "count", "column": "v_int"}, {"agg": "sum", "column": "v_int"},
      {"agg": "sum", "column": "v_float"}, {"agg": "mean", "column": "v_float"},
      {"agg": "mean", "column": "v_int"}, {"agg": "max", "column": "v_int"},
      {"agg": "min", "column": "v_float"}, {"agg": "min", "column": "day"},
      {"agg": "max", "column": "many"}, {"agg": "first", "column": "v_int"},
      {"agg": "median", "column": "v_float"}]})");
  const std::vector<std::vector<std::string>> key_sets = {
      {"wide"}, {"many"}, {"skew"}, {"day"}, {"many", "wide"}, {"skew", "day"}};
  uint32_t seed = 7;
  for (const auto& [rows, distinct] : std::vector<std::pair<int64_t, int64_t>>{
           {50, 5}, {3000, 1000}, {150000, 20000}, {150000, 40}}) {
    for (const auto& keys : key_sets) {
      const Table input = KeyShapesTable(rows, seed++, distinct);
      GroupSpec spec = aggregations;
      spec.keys = keys;
      // Without masks every kernel takes its all-rows path where the column has no null;
      // with the v_int column fully valid, count/mean/max use the shared group sizes.
      for (bool null_free : {false, true}) {
        Table table = input;
        if (null_free) {
          std::vector<int64_t> values(static_cast<size_t>(rows));
          for (int64_t row = 0; row < rows; ++row) values[row] = row % 97 - 40;
          std::vector<std::pair<std::string, Column>> named;
          for (int col = 0; col < input.num_columns(); ++col) {
            const std::string& name = input.schema().field(col).name;
            named.push_back(
                {name, name == "v_int" ? *Column::FromInt64s(values) : input.column(col)});
          }
          table = MakeTable(std::move(named));
        }
        auto grouped = RunGroupWithMasks(spec, table, {});
        ASSERT_TRUE(grouped.ok()) << grouped.status();
        EXPECT_TRUE(testing::TablesMatch(*grouped, ReferenceGroup(spec, table, {})))
            << rows << " rows, keys " << keys[0] << (keys.size() > 1 ? "+" + keys[1] : "")
            << (null_free ? ", null-free v_int" : "");
      }
    }
  }
}

TEST(Group, FloatKeysGroupSignedZerosAndNaNs) {
  const double nan = std::nan("");
  const Table input = MakeTable({{"k", Floats({0.0, -0.0, nan, 1.5, -nan, kNull, -0.0})},
                                 {"v", Ints({1, 2, 3, 4, 5, 6, 7})}});
  EXPECT_THAT(Group(R"({"keys": "k", "aggregations": [{"agg": "sum", "column": "v"}]})", input),
              ElementsAre("k|v_sum", "0.0|10", "1.5|4", "NaN|8", "null|6"));
}

// relational::IndexGroups against the same grouping with degenerate hashes (every row the
// same hash, or one bit of it): the hash path must notice the collisions and give the same
// groups, numbered the same way, with the same key columns.
TEST(GroupIndex, CollidingHashesGiveTheSameGroups) {
  common::ThreadPool pool(2);
  for (int64_t rows : {1, 40, 200000}) {
    const Table input = KeyShapesTable(rows, static_cast<uint32_t>(rows), 500);
    for (const std::vector<std::string>& names :
         std::vector<std::vector<std::string>>{{"many"}, {"wide"}, {"many", "skew"}}) {
      std::vector<const Column*> keys;
      for (const std::string& name : names) {
        keys.push_back(&input.column(*input.schema().FindField(name)));
      }
      const relational::GroupIndex expected = relational::IndexGroups(keys, rows, pool);
      const relational::RowHashes real = relational::HashRows(keys, rows, pool);
      for (uint64_t hash_mask : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}}) {
        std::vector<uint64_t> hashes(static_cast<size_t>(rows));
        for (int64_t row = 0; row < rows; ++row) hashes[row] = real.hash[row] & hash_mask;
        const relational::GroupIndex actual =
            relational::IndexGroupsWithHashes(keys, rows, hashes.data(), pool);
        ASSERT_EQ(actual.count, expected.count) << names[0] << " mask " << hash_mask;
        EXPECT_TRUE(std::equal(actual.group_of.get(), actual.group_of.get() + rows,
                               expected.group_of.get()))
            << names[0] << " mask " << hash_mask;
        ASSERT_EQ(actual.keys.size(), keys.size());
        for (size_t key = 0; key < keys.size(); ++key) {
          EXPECT_TRUE(actual.keys[key].Equals(expected.keys[key])) << names[key];
        }
      }
    }
  }
}

}  // namespace
}  // namespace assay::recipes
