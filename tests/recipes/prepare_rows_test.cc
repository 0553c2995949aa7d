// Prepare processors that select rows, fill cells, and transform numbers.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/prepare.h"
#include "tests/recipes/prepare_test_tables.h"

namespace assay::recipes {
namespace {

using namespace ::assay::recipes::testing;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;
using table::DataType;

table::Table Visits() {
  return MakeTable({{"id", Ints({1, 2, 3, 4, 5})},
                    {"arm", Strings({"A", "B", "", std::nullopt, "A"})},
                    {"score", Floats({1.5, std::nullopt, 3.0, NAN, 10.0})},
                    {"count", Ints({4, 1, std::nullopt, 2, 1})},
                    {"day", Col(DataType::kDate, {"2024-01-01", "2024-02-15", std::nullopt,
                                                  "2024-03-31", "2024-04-01"})}});
}

// ---- filter_values ----------------------------------------------------------------------------

TEST(PrepareFilterValues, KeepAndRemove) {
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_values", "column": "arm",
                              "values": ["A", null]})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("1", "4", "5"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_values", "column": "count", "values": [1, "4"],
                              "action": "remove"})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("3", "4"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_values", "column": "day",
                              "values": ["2024-03-31"]})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("4"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "filter_values", "column": "count", "values": ["x"]}])j"_json,
                      Visits()),
              HasSubstr("prepare step 1 (filter_values): values: cannot use \"x\" as a int64"));
}

// ---- filter_range / filter_date_range ---------------------------------------------------------

TEST(PrepareFilterRange, InclusiveBoundsNullAndNaNNeverMatch) {
  auto result = RunSteps(
      R"j([{"type": "filter_range", "column": "score", "min": 1.5, "max": 3}])j"_json, Visits());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "id"), ElementsAre("1", "3"));
  EXPECT_EQ(result->log[0].detail, "3 rows removed");
  EXPECT_EQ(result->log[0].rows_out, 2);
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_range", "column": "count", "max": 1,
                              "action": "remove"})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("1", "3", "4"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "filter_range", "column": "arm", "min": 1}])j"_json, Visits()),
              HasSubstr("column \"arm\" has type string, expected int64 or float64"));
  EXPECT_FALSE(
      ParsePrepareSpec(
          R"j({"steps": [{"type": "filter_range", "column": "x", "min": 2, "max": 1}]})j"_json)
          .ok());
}

TEST(PrepareFilterDateRange, DatesAndTimestamps) {
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_date_range", "column": "day",
                              "from": "2024-02-01", "to": "2024-03-31"})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("2", "4"));
  const auto times =
      MakeTable({{"t", Col(DataType::kTimestamp, {"2024-03-31T23:59:59Z", "2024-04-01T00:00:00Z",
                                                  "2024-03-30T10:00:00Z"})}});
  // A date-only "to" includes the whole day.
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_date_range", "column": "t",
                              "to": "2024-03-31"})j"_json,
                          times),
                    "t"),
              ElementsAre("2024-03-31T23:59:59Z", "2024-03-30T10:00:00Z"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter_date_range", "column": "t",
                              "from": "2024-03-31T00:00:00Z", "action": "remove"})j"_json,
                          times),
                    "t"),
              ElementsAre("2024-03-30T10:00:00Z"));
  EXPECT_FALSE(ParsePrepareSpec(R"j({"steps": [{"type": "filter_date_range", "column": "t",
                                               "from": "31/03/2024"}]})j"_json)
                   .ok());
  EXPECT_THAT(
      ErrorOf(R"j([{"type": "filter_date_range", "column": "id", "from": "2024-01-01"}])j"_json,
              Visits()),
      HasSubstr("expected date or timestamp"));
}

// ---- remove_empty -----------------------------------------------------------------------------

TEST(PrepareRemoveEmpty, AnyAndAll) {
  // Empty means null or "" (row 3 has arm "").
  EXPECT_THAT(
      Cells(RunOk(R"j({"type": "remove_empty", "columns": ["arm"]})j"_json, Visits()), "id"),
      ElementsAre("1", "2", "5"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "remove_empty", "columns": ["arm", "count"],
                              "how": "all"})j"_json,
                          Visits()),
                    "id"),
              ElementsAre("1", "2", "4", "5"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "remove_empty"})j"_json, Visits()), "id"),
              ElementsAre("1", "5"));
}

// ---- fill_empty -------------------------------------------------------------------------------

TEST(PrepareFillEmpty, ConvertsValuePerColumnType) {
  auto result = RunSteps(R"j([{"type": "fill_empty", "columns": ["arm"], "value": "unknown"},
                        {"type": "fill_empty", "columns": ["count", "score"], "value": 0},
                        {"type": "fill_empty", "columns": ["day"], "value": "2000-01-01"}])j"_json,
                         Visits());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "arm"), ElementsAre("A", "B", "unknown", "unknown", "A"));
  EXPECT_THAT(Cells(result->output, "count"), ElementsAre("4", "1", "0", "2", "1"));
  // NaN is a value, not an empty cell.
  EXPECT_THAT(Cells(result->output, "score"), ElementsAre("1.5", "0.0", "3.0", "NaN", "10.0"));
  EXPECT_EQ(Cells(result->output, "day")[2], "2000-01-01");
  EXPECT_EQ(result->log[0].cells_changed, 2);
  EXPECT_EQ(result->log[1].cells_changed, 2);
  EXPECT_THAT(
      ErrorOf(R"j([{"type": "fill_empty", "columns": ["count"], "value": 1.5}])j"_json, Visits()),
      HasSubstr("value: cannot use 1.5 as a int64 value (column \"count\" is int64)"));
  EXPECT_FALSE(
      ParsePrepareSpec(R"j({"steps": [{"type": "fill_empty", "columns": ["a"]}]})j"_json).ok());
}

// ---- impute -----------------------------------------------------------------------------------

TEST(PrepareImpute, MeanMedianOnInt64BecomeFloat64) {
  auto result =
      RunSteps(R"j([{"type": "impute", "columns": ["count"], "method": "mean"}])j"_json, Visits());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output.schema().field(3).type, DataType::kFloat64);
  EXPECT_THAT(Cells(result->output, "count"), ElementsAre("4.0", "1.0", "2.0", "2.0", "1.0"));
  EXPECT_EQ(result->log[0].detail, "count: imputed 2.0");
  EXPECT_EQ(result->log[0].cells_changed, 1);
  // Median of 1, 1, 2, 4 is 1.5; NaN is skipped by the statistic and left in place.
  EXPECT_THAT(Cells(RunOk(R"j({"type": "impute", "columns": ["count"], "method": "median"})j"_json,
                          Visits()),
                    "count"),
              ElementsAre("4.0", "1.0", "1.5", "2.0", "1.0"));
  EXPECT_THAT(Cells(RunOk(R"j({"type": "impute", "columns": ["score"], "method": "median"})j"_json,
                          Visits()),
                    "score"),
              ElementsAre("1.5", "3.0", "3.0", "NaN", "10.0"));
}

TEST(PrepareImpute, ModeTiesGoToSmallestValue) {
  const auto input = MakeTable({{"s", Strings({"b", "a", std::nullopt, "b", "a", ""})},
                                {"n", Ints({5, 3, std::nullopt, 3, 5, 7})}});
  const auto out =
      RunOk(R"j({"type": "impute", "columns": ["s", "n"], "method": "mode"})j"_json, input);
  EXPECT_THAT(Cells(out, "s"), ElementsAre("b", "a", "a", "b", "a", "a"));
  EXPECT_THAT(Cells(out, "n"), ElementsAre("5", "3", "3", "3", "5", "7"));
  EXPECT_EQ(out.schema().field(1).type, DataType::kInt64);
  EXPECT_THAT(
      ErrorOf(R"j([{"type": "impute", "columns": ["arm"], "method": "mean"}])j"_json, Visits()),
      HasSubstr("use method \"mode\" for other types"));
}

TEST(PrepareImpute, AllNullColumnStaysNull) {
  const auto input = MakeTable({{"x", Ints({std::nullopt, std::nullopt})}});
  auto result =
      RunSteps(R"j([{"type": "impute", "columns": ["x"], "method": "mean"}])j"_json, input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "x"), ElementsAre("null", "null"));
  EXPECT_EQ(result->output.schema().field(0).type, DataType::kFloat64);
  EXPECT_EQ(result->log[0].detail, "x: no value to impute from");
}

// ---- fill_forward / fill_backward -------------------------------------------------------------

TEST(PrepareFillForward, WithinGroupsInOrderKeepingRowOrder) {
  const auto input =
      MakeTable({{"pid", Strings({"p1", "p2", "p1", "p2", "p1"})},
                 {"visit", Ints({3, 1, 1, 2, 2})},
                 {"dose", Ints({std::nullopt, 20, 10, std::nullopt, std::nullopt})}});
  auto result = RunSteps(R"j([{"type": "fill_forward", "columns": ["dose"], "group_by": ["pid"],
                         "order_by": ["visit"]}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  // p1 in visit order: 10 (v1), null (v2) -> 10, null (v3) -> 10. p2: 20, null -> 20.
  EXPECT_THAT(Cells(result->output, "dose"), ElementsAre("10", "20", "10", "20", "10"));
  EXPECT_THAT(Cells(result->output, "visit"), ElementsAre("3", "1", "1", "2", "2"));
  EXPECT_EQ(result->log[0].cells_changed, 3);
  // Without order and groups: row order; a leading empty cell stays empty.
  EXPECT_THAT(
      Cells(RunOk(R"j({"type": "fill_forward", "columns": ["dose"]})j"_json, input), "dose"),
      ElementsAre("null", "20", "10", "10", "10"));
}

TEST(PrepareFillBackward, WithinGroups) {
  const auto input = MakeTable({{"g", Strings({"a", "a", "b", "a", "b"})},
                                {"v", Strings({std::nullopt, "", std::nullopt, "x", "y"})}});
  EXPECT_THAT(Cells(RunOk(R"j({"type": "fill_backward", "columns": ["v"],
                              "group_by": ["g"]})j"_json,
                          input),
                    "v"),
              ElementsAre("x", "x", "y", "x", "y"));
  EXPECT_THAT(
      ErrorOf(R"j([{"type": "fill_backward", "columns": ["v"], "order_by": ["t"]}])j"_json, input),
      HasSubstr("column \"t\" (order_by) not found"));
}

// ---- round / clip -----------------------------------------------------------------------------

TEST(PrepareRound, DecimalsHalfAwayFromZero) {
  const auto input = MakeTable({{"f", Floats({1.25, -1.25, 2.5, std::nullopt, NAN})},
                                {"i", Ints({1249, 1250, -1250, 7, std::nullopt})}});
  auto result = RunSteps(R"j([{"type": "round", "columns": ["f"], "decimals": 1},
                        {"type": "round", "columns": ["i"], "decimals": -2}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "f"), ElementsAre("1.3", "-1.3", "2.5", "null", "NaN"));
  EXPECT_THAT(Cells(result->output, "i"), ElementsAre("1200", "1300", "-1300", "0", "null"));
  EXPECT_EQ(result->log[0].cells_changed, 2);
  EXPECT_THAT(Cells(RunOk(R"j({"type": "round", "columns": ["f"]})j"_json, input), "f"),
              ElementsAre("1.0", "-1.0", "3.0", "null", "NaN"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "round", "columns": ["arm"]}])j"_json, Visits()),
              HasSubstr("column \"arm\" has type string"));
}

TEST(PrepareClip, FloatAndIntegerBounds) {
  auto result = RunSteps(R"j([{"type": "clip", "columns": ["score", "count"], "min": 1.5,
                         "max": 3.5}])j"_json,
                         Visits());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "score"), ElementsAre("1.5", "null", "3.0", "NaN", "3.5"));
  // Integers are clipped into [ceil(1.5), floor(3.5)] = [2, 3].
  EXPECT_THAT(Cells(result->output, "count"), ElementsAre("3", "2", "null", "2", "2"));
  EXPECT_EQ(result->log[0].cells_changed, 4);
  EXPECT_FALSE(ParsePrepareSpec(R"j({"steps": [{"type": "clip", "columns": ["x"]}]})j"_json).ok());
}

// ---- bin --------------------------------------------------------------------------------------

TEST(PrepareBin, FixedWidthLeftClosed) {
  const auto input = MakeTable({{"age", Floats({0, 9.99, 10, 25, -1, std::nullopt, 40})}});
  const auto out = RunOk(R"j({"type": "bin", "column": "age", "method": "fixed_width",
                             "width": 10, "min": 0, "max": 40})j"_json,
                         input);
  EXPECT_THAT(Cells(out, "age_bin"),
              ElementsAre("[0, 10)", "[0, 10)", "[10, 20)", "[20, 30)", "null", "null", "null"));
  const auto labelled = RunOk(R"j({"type": "bin", "column": "age", "method": "fixed_width",
                                  "width": 20, "min": 0, "max": 40, "into": "band",
                                  "labels": ["young", "old"]})j"_json,
                              input);
  EXPECT_THAT(Cells(labelled, "band"),
              ElementsAre("young", "young", "young", "old", "null", "null", "null"));
  const auto open = RunOk(R"j({"type": "bin", "column": "age", "method": "fixed_width",
                              "width": 10})j"_json,
                          input);
  EXPECT_EQ(Cells(open, "age_bin")[4], "[-10, 0)");
  EXPECT_EQ(Cells(open, "age_bin")[6], "[40, 50)");
}

TEST(PrepareBin, CustomEdgesAndQuantiles) {
  const auto input = MakeTable({{"x", Ints({1, 2, 3, 4, 5, 6, 7, 8, std::nullopt})}});
  const auto custom = RunOk(R"j({"type": "bin", "column": "x", "method": "custom",
                                "edges": [2, 5, 8]})j"_json,
                            input);
  EXPECT_THAT(Cells(custom, "x_bin"), ElementsAre("null", "[2, 5)", "[2, 5)", "[2, 5)", "[5, 8)",
                                                  "[5, 8)", "[5, 8)", "null", "null"));
  const auto quartiles = RunOk(R"j({"type": "bin", "column": "x", "method": "quantile",
                                   "bins": 2, "labels": ["low", "high"]})j"_json,
                               input);
  // Median of 1..8 is 4.5; the maximum lands in the last, right-closed bin.
  EXPECT_THAT(Cells(quartiles, "x_bin"),
              ElementsAre("low", "low", "low", "low", "high", "high", "high", "high", "null"));
  const auto ranges = RunOk(R"j({"type": "bin", "column": "x", "method": "quantile",
                                "bins": 2})j"_json,
                            input);
  EXPECT_EQ(Cells(ranges, "x_bin")[7], "[4.5, 8]");
  auto bad = ParsePrepareSpec(R"j({"steps": [{"type": "bin", "column": "x", "method": "custom",
                                             "edges": [3, 1]}]})j"_json);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("steps[0].edges: expected a list"));
  auto labels = ParsePrepareSpec(R"j({"steps": [{"type": "bin", "column": "x",
                                                "method": "quantile", "bins": 3,
                                                "labels": ["a"]}]})j"_json);
  ASSERT_FALSE(labels.ok());
  EXPECT_THAT(std::string(labels.status().message()), HasSubstr("expected 3 labels"));
  auto unused = ParsePrepareSpec(R"j({"steps": [{"type": "bin", "column": "x",
                                                "method": "quantile", "bins": 3,
                                                "width": 2}]})j"_json);
  ASSERT_FALSE(unused.ok());
  EXPECT_THAT(std::string(unused.status().message()), HasSubstr("not used by method"));
}

}  // namespace
}  // namespace assay::recipes
