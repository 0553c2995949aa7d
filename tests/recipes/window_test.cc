#include "recipes/window.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "relational_test_util.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Table;
using testing::Dates;
using ::testing::ElementsAre;
using testing::Floats;
using ::testing::HasSubstr;
using testing::Ints;
using testing::kNull;
using testing::MakeTable;
using testing::Render;
using testing::Strs;

WindowSpec Spec(const std::string& json) {
  auto spec = ParseWindowSpec(nlohmann::json::parse(json));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : WindowSpec();
}

std::vector<std::string> Window(const std::string& json, const Table& input) {
  auto result = RunWindow(Spec(json), input);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? Render(*result) : std::vector<std::string>{};
}

// Two partitions, interleaved, with a tie and a null in the order column.
Table Visits() {
  return MakeTable({{"hcp", Strs({"a", "b", "a", "a", "b", "a"})},
                    {"day", Ints({3, 1, 1, 3, kNull, 2})},
                    {"rx", Ints({10, 5, 20, kNull, 7, 30})}});
}

TEST(Window, RankingFunctionsWithTiesAndNullsLast) {
  // Partition a in order: day 1 (row 2), 2 (row 5), 3 (row 0), 3 (row 3); b: 1 (row 1), null.
  EXPECT_THAT(Window(R"({"partition_by": "hcp", "order_by": "day", "functions": [
                  {"function": "row_number"}, {"function": "rank"},
                  {"function": "dense_rank"}]})",
                     Visits()),
              ElementsAre("hcp|day|rx|row_number|rank|dense_rank", "a|3|10|3|3|3", "b|1|5|1|1|1",
                          "a|1|20|1|1|1", "a|3|null|4|3|3", "b|null|7|2|2|2", "a|2|30|2|2|2"));
}

TEST(Window, DescendingOrderKeepsNullsLast) {
  EXPECT_THAT(Window(R"({"partition_by": "hcp",
                  "order_by": [{"column": "day", "direction": "desc"}],
                  "functions": [{"function": "row_number", "as": "n"}]})",
                     Visits()),
              ElementsAre("hcp|day|rx|n", "a|3|10|1", "b|1|5|1", "a|1|20|4", "a|3|null|2",
                          "b|null|7|2", "a|2|30|3"));
}

TEST(Window, LagAndLeadStopAtPartitionEdges) {
  EXPECT_THAT(Window(R"({"partition_by": "hcp", "order_by": "day", "functions": [
                  {"function": "lag", "column": "rx"}, {"function": "lead", "column": "rx"},
                  {"function": "lag", "column": "rx", "offset": 2}]})",
                     Visits()),
              ElementsAre("hcp|day|rx|rx_lag|rx_lead|rx_lag2", "a|3|10|30|null|20",
                          "b|1|5|null|7|null", "a|1|20|null|30|null", "a|3|null|10|null|30",
                          "b|null|7|5|null|null", "a|2|30|20|10|null"));
}

TEST(Window, RunningAggregatesIgnoreNulls) {
  EXPECT_THAT(Window(R"({"partition_by": "hcp", "order_by": "day", "functions": [
                  {"function": "sum", "column": "rx"}, {"function": "count", "column": "rx"},
                  {"function": "count"}, {"function": "mean", "column": "rx"},
                  {"function": "min", "column": "rx"}, {"function": "max", "column": "rx"}]})",
                     Visits()),
              ElementsAre("hcp|day|rx|rx_running_sum|rx_running_count|running_count|"
                          "rx_running_mean|rx_running_min|rx_running_max",
                          "a|3|10|60|3|3|20.0|10|30", "b|1|5|5|1|1|5.0|5|5",
                          "a|1|20|20|1|1|20.0|20|20", "a|3|null|60|3|4|20.0|10|30",
                          "b|null|7|12|2|2|6.0|5|7", "a|2|30|50|2|2|25.0|20|30"));
}

TEST(Window, MovingRowsFrame) {
  const Table input = MakeTable({{"x", Floats({1, 4, kNull, 2, 8})}});
  EXPECT_THAT(Window(R"({"functions": [{"function": "sum", "column": "x", "rows": 1},
                  {"function": "max", "column": "x", "rows": 2, "as": "m"},
                  {"function": "count", "rows": 0, "as": "c"}]})",
                     input),
              ElementsAre("x|x_moving_sum|m|c", "1.0|1.0|1.0|1", "4.0|5.0|4.0|1", "null|4.0|4.0|1",
                          "2.0|2.0|4.0|1", "8.0|10.0|8.0|1"));
}

TEST(Window, RangeFrameOverDatesIncludesPeers) {
  // Days 0, 3, 7, 7, 9, 20 and a null; frame = [day - 7, day], inclusive.
  const Table input = MakeTable(
      {{"day", Dates({7, 0, 9, 3, kNull, 7, 20})}, {"v", Ints({1, 2, 4, 8, 16, 32, 64})}});
  EXPECT_THAT(Window(R"({"order_by": "day", "functions": [
                  {"function": "sum", "column": "v", "range": "7 days"},
                  {"function": "count", "range": "1 week", "as": "n"},
                  {"function": "min", "column": "v", "range": "2 days", "as": "lo"}]})",
                     input),
              ElementsAre("day|v|v_moving_sum|n|lo", "1970-01-08|1|43|4|1", "1970-01-01|2|2|1|2",
                          "1970-01-10|4|45|4|1", "1970-01-04|8|10|2|8", "null|16|null|0|null",
                          "1970-01-08|32|43|4|1", "1970-01-21|64|64|1|64"));
}

TEST(Window, RangeFrameOverTimestamps) {
  constexpr int64_t kHour = 3'600'000'000;
  const Table input =
      MakeTable({{"t", Ints({0, kHour, 3 * kHour, 4 * kHour}, DataType::kTimestamp)},
                 {"v", Ints({1, 2, 3, 4})}});
  EXPECT_THAT(
      Window(R"({"order_by": "t", "functions": [
                  {"function": "mean", "column": "v", "range": "90 minutes"}]})",
             input),
      ElementsAre("t|v|v_moving_mean", "1970-01-01T00:00:00Z|1|1.0", "1970-01-01T01:00:00Z|2|1.5",
                  "1970-01-01T03:00:00Z|3|3.0", "1970-01-01T04:00:00Z|4|3.5"));
}

TEST(Window, NoPartitionNoOrderUsesInputOrderAndEmptyInputWorks) {
  const Table input = MakeTable({{"v", Ints({5, 6, 7})}});
  EXPECT_THAT(Window(R"({"functions": [{"function": "row_number"},
                  {"function": "lead", "column": "v"}]})",
                     input),
              ElementsAre("v|row_number|v_lead", "5|1|6", "6|2|7", "7|3|null"));
  EXPECT_THAT(Window(R"({"partition_by": "v", "order_by": "v", "functions": [
                  {"function": "rank"}, {"function": "sum", "column": "v", "rows": 3}]})",
                     input.Slice(0, 0)),
              ElementsAre("v|rank|v_moving_sum"));
}

TEST(Window, Int64SumOverflowIsAnError) {
  const Table input = MakeTable({{"v", Ints({INT64_MAX, 1})}});
  EXPECT_EQ(RunWindow(Spec(R"({"functions": [{"function": "sum", "column": "v"}]})"), input)
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);
}

TEST(Window, SchemaErrors) {
  auto error = [](const std::string& json) {
    absl::Status status = CheckWindowSpec(Spec(json), Visits().schema());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(status.message());
  };
  EXPECT_THAT(error(R"({"partition_by": "npi", "functions": [{"function": "row_number"}]})"),
              HasSubstr("unknown column \"npi\" (columns: hcp, day, rx)"));
  EXPECT_THAT(error(R"({"order_by": "when", "functions": [{"function": "row_number"}]})"),
              HasSubstr("window: order_by: unknown column \"when\""));
  EXPECT_THAT(error(R"({"functions": [{"function": "sum", "column": "hcp"}]})"),
              HasSubstr("sum does not accept string column \"hcp\""));
  EXPECT_THAT(error(R"({"functions": [{"function": "max", "column": "hcp"}]})"),
              HasSubstr("max does not accept string"));
  EXPECT_THAT(error(R"({"functions": [{"function": "lag", "column": "nope"}]})"),
              HasSubstr("unknown column \"nope\""));
  EXPECT_THAT(error(R"({"order_by": "day", "functions": [
                  {"function": "sum", "column": "rx", "range": "7 days"}]})"),
              HasSubstr("needs a date or timestamp order_by column, but \"day\" is int64"));
  EXPECT_THAT(error(R"({"functions": [{"function": "row_number", "as": "rx"}]})"),
              HasSubstr("output name is already taken"));
  const Table dated = MakeTable({{"d", Dates({1})}, {"v", Ints({1})}});
  absl::Status hours =
      CheckWindowSpec(Spec(R"({"order_by": "d", "functions": [{"function": "sum", "column": "v",
               "range": "36 hours"}]})"),
                      dated.schema());
  EXPECT_THAT(hours.message(), HasSubstr("whole number of days"));
  absl::Status descending =
      CheckWindowSpec(Spec(R"({"order_by": {"column": "d", "direction": "desc"},
               "functions": [{"function": "sum", "column": "v", "range": "2 days"}]})"),
                      dated.schema());
  EXPECT_THAT(descending.message(), HasSubstr("ascending"));
  EXPECT_EQ(RunWindow(Spec(R"({"functions": [{"function": "sum", "column": "hcp"}]})"), Visits())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Window, ConfigErrors) {
  auto error = [](const std::string& json) {
    auto spec = ParseWindowSpec(nlohmann::json::parse(json));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(spec.status().message());
  };
  EXPECT_THAT(error(R"({"partition_by": "a"})"),
              HasSubstr("window config: \"functions\": is required"));
  EXPECT_THAT(error(R"({"functions": [{"function": "ntile"}]})"),
              HasSubstr("\"functions\"[0].\"function\": expected one of row_number"));
  EXPECT_THAT(error(R"({"functions": [{"function": "rank"}]})"), HasSubstr("needs order_by"));
  EXPECT_THAT(error(R"({"functions": [{"function": "lag"}]})"),
              HasSubstr("\"column\": is required for lag"));
  EXPECT_THAT(error(R"({"functions": [{"function": "row_number", "column": "x"}]})"),
              HasSubstr("takes no column"));
  EXPECT_THAT(error(R"({"functions": [{"function": "lag", "column": "x", "offset": 0}]})"),
              HasSubstr("\"offset\": expected an integer >= 1"));
  EXPECT_THAT(error(R"({"functions": [{"function": "sum", "column": "x", "offset": 1}]})"),
              HasSubstr("applies to lag and lead only"));
  EXPECT_THAT(error(R"({"functions": [{"function": "lag", "column": "x", "rows": 2}]})"),
              HasSubstr("applies to sum, mean, min, max and count only"));
  EXPECT_THAT(error(R"({"order_by": "d", "functions": [{"function": "sum", "column": "x",
                        "rows": 2, "range": "2 days"}]})"),
              HasSubstr("not both"));
  EXPECT_THAT(error(R"({"order_by": "d", "functions": [{"function": "sum", "column": "x",
                        "range": "2 fortnights"}]})"),
              HasSubstr("expected an interval like \"7 days\""));
  EXPECT_THAT(error(R"({"functions": [{"function": "sum", "column": "x", "range": "2 days"}]})"),
              HasSubstr("exactly one order_by column"));
  EXPECT_THAT(error(R"({"functions": [{"function": "sum", "column": "x", "rows": -1}]})"),
              HasSubstr("\"rows\": expected an integer >= 0"));
  EXPECT_THAT(error(R"({"functions": [{"function": "row_number"}, {"function": "row_number"}]})"),
              HasSubstr("produced twice"));
  EXPECT_THAT(error(R"({"functions": [{"function": "count"}], "frame": "rows"})"),
              HasSubstr("unknown key \"frame\""));
  EXPECT_THAT(error(R"({"order_by": [], "functions": [{"function": "count"}]})"),
              HasSubstr("\"order_by\": expected at least one order column"));
}

// ---- Model-based: the window kernels against a row-by-row reference ------------------------

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

Table ReferenceWindow(const WindowSpec& spec, const Table& input) {
  auto col = [&](const std::string& name) -> const Column& {
    return input.column(*input.schema().FindField(name));
  };
  auto order_cmp = [&](int64_t a, int64_t b) {
    for (const OrderKey& key : spec.order_by) {
      const Column& order = col(key.column);
      int cmp = NaiveCompare(order, a, b);
      if (cmp != 0 && key.descending && order.IsValid(a) && order.IsValid(b)) cmp = -cmp;
      if (cmp != 0) return cmp;
    }
    return 0;
  };
  std::map<std::string, std::vector<int64_t>> partitions;
  std::vector<std::string> partition_of;
  for (int64_t row = 0; row < input.num_rows(); ++row) {
    std::string key;
    for (const std::string& name : spec.partition_by) {
      key += col(name).ValueToString(row, "\x01") + '\x1f';
    }
    partitions[key].push_back(row);
    partition_of.push_back(key);
  }
  for (auto& [key, rows] : partitions) {
    std::stable_sort(rows.begin(), rows.end(),
                     [&](int64_t a, int64_t b) { return order_cmp(a, b) < 0; });
  }
  std::vector<table::Field> fields = input.schema().fields();
  std::vector<Column> columns = input.columns();
  for (const WindowFunction& function : spec.functions) {
    const Column* values = function.column.empty() ? nullptr : &col(function.column);
    DataType type = values ? values->type() : DataType::kInt64;
    if (function.kind == WindowFunctionKind::kRowNumber ||
        function.kind == WindowFunctionKind::kRank ||
        function.kind == WindowFunctionKind::kDenseRank ||
        function.kind == WindowFunctionKind::kCount) {
      type = DataType::kInt64;
    } else if (function.kind == WindowFunctionKind::kMean) {
      type = DataType::kFloat64;
    } else if (function.kind == WindowFunctionKind::kSum && type != DataType::kFloat64) {
      type = DataType::kInt64;
    }
    ColumnBuilder builder(type);
    for (int64_t row = 0; row < input.num_rows(); ++row) {
      const std::vector<int64_t>& members = partitions[partition_of[row]];
      const int64_t pos = std::find(members.begin(), members.end(), row) - members.begin();
      switch (function.kind) {
        case WindowFunctionKind::kRowNumber:
          builder.AppendInt64(pos + 1);
          continue;
        case WindowFunctionKind::kRank: {
          int64_t before = 0;
          for (int64_t other : members) before += order_cmp(other, row) < 0 ? 1 : 0;
          builder.AppendInt64(before + 1);
          continue;
        }
        case WindowFunctionKind::kDenseRank: {
          std::vector<int64_t> distinct_before;
          for (int64_t other : members) {
            if (order_cmp(other, row) >= 0) continue;
            bool seen = false;
            for (int64_t d : distinct_before) seen |= order_cmp(d, other) == 0;
            if (!seen) distinct_before.push_back(other);
          }
          builder.AppendInt64(static_cast<int64_t>(distinct_before.size()) + 1);
          continue;
        }
        case WindowFunctionKind::kLag:
        case WindowFunctionKind::kLead: {
          const int64_t from = function.kind == WindowFunctionKind::kLag ? pos - function.offset
                                                                         : pos + function.offset;
          if (from < 0 || from >= static_cast<int64_t>(members.size())) {
            builder.AppendNull();
          } else {
            builder.AppendFrom(*values, members[from]);
          }
          continue;
        }
        default:
          break;
      }
      // Aggregates: collect the frame.
      std::vector<int64_t> frame;
      if (function.frame == WindowFrame::kRange) {
        const Column& order = col(spec.order_by[0].column);
        if (order.IsValid(row)) {
          const bool days = order.type() == DataType::kDate;
          auto at = [&](int64_t r) -> int64_t {
            return days ? order.date_values()[r] : order.int64_values()[r];
          };
          const int64_t width =
              days ? function.range_micros / 86'400'000'000 : function.range_micros;
          for (int64_t other : members) {
            if (order.IsValid(other) && at(other) <= at(row) && at(other) >= at(row) - width) {
              frame.push_back(other);
            }
          }
        }
      } else {
        const int64_t first = function.frame == WindowFrame::kRows
                                  ? std::max<int64_t>(0, pos - function.preceding_rows)
                                  : 0;
        for (int64_t p = first; p <= pos; ++p) frame.push_back(members[p]);
      }
      std::vector<int64_t> used;
      for (int64_t r : frame) {
        if (values == nullptr || values->IsValid(r)) used.push_back(r);
      }
      if (function.kind == WindowFunctionKind::kCount) {
        builder.AppendInt64(static_cast<int64_t>(used.size()));
        continue;
      }
      if (used.empty()) {
        builder.AppendNull();
        continue;
      }
      if (function.kind == WindowFunctionKind::kMin || function.kind == WindowFunctionKind::kMax) {
        int64_t best = used[0];
        for (int64_t r : used) {
          const int cmp = NaiveCompare(*values, r, best);
          if (function.kind == WindowFunctionKind::kMin ? cmp < 0 : cmp > 0) best = r;
        }
        builder.AppendFrom(*values, best);
        continue;
      }
      double sum = 0;
      int64_t int_sum = 0;
      for (int64_t r : used) {
        if (values->type() == DataType::kFloat64) {
          sum += values->float64_values()[r];
        } else if (values->type() == DataType::kBool) {
          sum += values->bool_values()[r];
          int_sum += values->bool_values()[r];
        } else {
          sum += static_cast<double>(values->int64_values()[r]);
          int_sum += values->int64_values()[r];
        }
      }
      if (function.kind == WindowFunctionKind::kMean) {
        builder.AppendFloat64(sum / static_cast<double>(used.size()));
      } else if (type == DataType::kFloat64) {
        builder.AppendFloat64(sum);
      } else {
        builder.AppendInt64(int_sum);
      }
    }
    fields.push_back({function.output_name, type});
    columns.push_back(builder.Finish());
  }
  return *Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

TEST(Window, MatchesRowByRowModelOnRandomTables) {
  const WindowSpec functions = Spec(R"({"order_by": "ts", "functions": [
      {"function": "row_number"}, {"function": "rank"}, {"function": "dense_rank"},
      {"function": "lag", "column": "v_str"}, {"function": "lead", "column": "v_float", "offset": 2},
      {"function": "sum", "column": "v_int"}, {"function": "mean", "column": "v_float"},
      {"function": "min", "column": "v_int"}, {"function": "max", "column": "k_date"},
      {"function": "count"}, {"function": "count", "column": "v_str"},
      {"function": "sum", "column": "v_float", "rows": 2}, {"function": "mean", "column": "v_int",
       "rows": 3}, {"function": "min", "column": "v_float", "rows": 1},
      {"function": "max", "column": "v_int", "rows": 4}, {"function": "count", "rows": 2},
      {"function": "sum", "column": "v_bool", "rows": 5},
      {"function": "sum", "column": "v_int", "range": "3 days", "as": "r_sum"},
      {"function": "mean", "column": "v_float", "range": "1 day", "as": "r_mean"},
      {"function": "min", "column": "v_int", "range": "2 days", "as": "r_min"},
      {"function": "max", "column": "v_float", "range": "5 days", "as": "r_max"},
      {"function": "count", "range": "4 days", "as": "r_count"}]})");
  struct Layout {
    std::vector<std::string> partition_by;
    std::vector<OrderKey> order_by;
    bool ranges;
  };
  const std::vector<Layout> layouts = {
      {{}, {{"ts", false}}, true},
      {{"k_int"}, {{"ts", false}}, true},
      {{"k_str", "k_float"}, {{"ts", false}}, true},
      {{"k_int"}, {{"k_str", true}, {"v_int", false}}, false},
      {{"k_date"}, {}, false},
  };
  uint32_t seed = 500;
  for (int64_t rows : {0, 1, 9, 120, 800}) {
    for (const Layout& layout : layouts) {
      const Table input = testing::RandomTable(rows, seed++);
      WindowSpec spec;
      spec.partition_by = layout.partition_by;
      spec.order_by = layout.order_by;
      for (const WindowFunction& function : functions.functions) {
        if (function.frame == WindowFrame::kRange && !layout.ranges) continue;
        if ((function.kind == WindowFunctionKind::kRank ||
             function.kind == WindowFunctionKind::kDenseRank) &&
            layout.order_by.empty()) {
          continue;
        }
        spec.functions.push_back(function);
      }
      auto result = RunWindow(spec, input);
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_TRUE(testing::TablesMatch(*result, ReferenceWindow(spec, input)))
          << rows << " rows, seed " << seed - 1;
    }
  }
}

TEST(Window, LargeInputMatchesModelOnManySmallPartitions) {
  // Enough rows for the parallel paths; non-null partitions of 20 rows keep the quadratic
  // reference fast.
  const Table random = testing::RandomTable(70000, 901);
  std::vector<std::optional<int64_t>> partition;
  for (int64_t row = 0; row < random.num_rows(); ++row) partition.push_back(row % 3500);
  std::vector<std::pair<std::string, Column>> named = {{"k_int", Ints(partition)}};
  for (int col = 1; col < random.num_columns(); ++col) {
    named.emplace_back(random.schema().field(col).name, random.column(col));
  }
  const Table input = MakeTable(std::move(named));
  WindowSpec spec = Spec(R"({"partition_by": "k_int", "order_by": "ts", "functions": [
      {"function": "rank"}, {"function": "lag", "column": "v_int"},
      {"function": "sum", "column": "v_float", "rows": 3},
      {"function": "max", "column": "v_int", "range": "2 days"}]})");
  auto result = RunWindow(spec, input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(testing::TablesMatch(*result, ReferenceWindow(spec, input)));
}

}  // namespace
}  // namespace assay::recipes
