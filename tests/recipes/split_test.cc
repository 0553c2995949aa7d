#include "recipes/split.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

SplitSpec RandomSplit(std::vector<double> ratios, uint64_t seed) {
  SplitSpec spec;
  spec.method = SplitMethod::kRandom;
  spec.ratios = std::move(ratios);
  spec.seed = seed;
  return spec;
}

TEST(Split, RandomPartitionsEveryRowOnceWithExactSizes) {
  auto outputs = RunSplit(RandomSplit({0.7, 0.2, 0.1}, 5), Numbered(101));
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 3u);
  // 70.7, 20.2, 10.1: floors 70, 20, 10, the leftover row to the largest remainder (0.7).
  EXPECT_EQ((*outputs)[0].num_rows(), 71);
  EXPECT_EQ((*outputs)[1].num_rows(), 20);
  EXPECT_EQ((*outputs)[2].num_rows(), 10);
  std::vector<int64_t> all;
  for (const table::Table& output : *outputs) {
    const std::vector<int64_t> ids = Ids(output);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(all.end(), ids.begin(), ids.end());
    EXPECT_EQ(output.schema(), Numbered(0).schema());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Ids(Numbered(101)));
}

TEST(Split, RandomIsDeterministicPerSeed) {
  auto first = RunSplit(RandomSplit({0.5, 0.5}, 11), Numbered(50));
  auto again = RunSplit(RandomSplit({0.5, 0.5}, 11), Numbered(50));
  auto other = RunSplit(RandomSplit({0.5, 0.5}, 12), Numbered(50));
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_TRUE((*first)[0].Equals((*again)[0]));
  EXPECT_TRUE((*first)[1].Equals((*again)[1]));
  EXPECT_FALSE((*first)[0].Equals((*other)[0]));
  // Pinned: a change of PRNG or algorithm would silently change every user's split.
  // Checked against an independent Python implementation of mt19937_64 and the algorithm.
  auto pinned = RunSplit(RandomSplit({0.25, 0.75}, 42), Numbered(16));
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(Ids((*pinned)[0]), (std::vector<int64_t>{9, 10, 12, 15}));
}

TEST(Split, RandomRowsAreSpreadUniformly) {
  // Each of 8 rows should land in the first (ratio 0.25) output in a quarter of 2000 seeded
  // splits; the bound is about 6 standard deviations and the seeds are fixed.
  std::vector<int> first(8, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    auto outputs = RunSplit(RandomSplit({0.25, 0.75}, seed), Numbered(8));
    for (int64_t id : Ids((*outputs)[0])) ++first[id];
  }
  for (int count : first) EXPECT_NEAR(count, 500, 120);
}

TEST(Split, RandomZeroRatioAndEmptyInput) {
  auto outputs = RunSplit(RandomSplit({0.0, 1.0}, 1), Numbered(5));
  ASSERT_TRUE(outputs.ok());
  EXPECT_EQ((*outputs)[0].num_rows(), 0);
  EXPECT_EQ((*outputs)[1].num_rows(), 5);
  auto empty = RunSplit(RandomSplit({0.5, 0.5}, 1), Numbered(0));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 2u);
  EXPECT_EQ((*empty)[0].num_rows() + (*empty)[1].num_rows(), 0);
}

SplitSpec Cutoff(std::string column, std::string cutoff, SplitNulls nulls = SplitNulls::kSecond) {
  SplitSpec spec;
  spec.method = SplitMethod::kTimeCutoff;
  spec.column = std::move(column);
  spec.cutoff = std::move(cutoff);
  spec.nulls = nulls;
  return spec;
}

table::Table Visits() {
  return MakeTable(
      {{"id", Ints({0, 1, 2, 3, 4})},
       {"day", Dates({"2024-01-01", "2023-12-31", std::nullopt, "2024-01-02", "1969-12-31"})},
       {"at", Timestamps({"2024-01-01T00:00:00Z", "2023-12-31T23:59:59.999999Z", std::nullopt,
                          "2024-01-01T12:00:00Z", "1969-12-31T23:00:00Z"})}});
}

TEST(Split, TimeCutoffOnDatesAndTimestamps) {
  auto by_date = RunSplit(Cutoff("day", "2024-01-01"), Visits());
  ASSERT_TRUE(by_date.ok()) << by_date.status();
  EXPECT_EQ(Ids((*by_date)[0]), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Ids((*by_date)[1]), (std::vector<int64_t>{0, 2, 3}));
  auto by_time = RunSplit(Cutoff("at", "2024-01-01"), Visits());
  ASSERT_TRUE(by_time.ok());
  EXPECT_EQ(Ids((*by_time)[0]), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Ids((*by_time)[1]), (std::vector<int64_t>{0, 2, 3}));
  // A timestamp cutoff against dates: a date counts as its midnight UTC.
  auto midday = RunSplit(Cutoff("day", "2024-01-01T12:00:00Z"), Visits());
  ASSERT_TRUE(midday.ok());
  EXPECT_EQ(Ids((*midday)[0]), (std::vector<int64_t>{0, 1, 4}));
  auto midday_times = RunSplit(Cutoff("at", "2024-01-01T12:00:00+01:00"), Visits());
  ASSERT_TRUE(midday_times.ok());
  EXPECT_EQ(Ids((*midday_times)[0]), (std::vector<int64_t>{0, 1, 4}));
  // Negative cutoffs (before 1970) round correctly too.
  auto early = RunSplit(Cutoff("day", "1969-12-31T06:00:00Z"), Visits());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(Ids((*early)[0]), (std::vector<int64_t>{4}));
}

TEST(Split, TimeCutoffNullPlacement) {
  auto first = RunSplit(Cutoff("day", "2024-01-01", SplitNulls::kFirst), Visits());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Ids((*first)[0]), (std::vector<int64_t>{1, 2, 4}));
  auto drop = RunSplit(Cutoff("day", "2024-01-01", SplitNulls::kDrop), Visits());
  ASSERT_TRUE(drop.ok());
  EXPECT_EQ((*drop)[0].num_rows() + (*drop)[1].num_rows(), 4);
  EXPECT_EQ(Ids((*drop)[1]), (std::vector<int64_t>{0, 3}));
}

SplitSpec ExpressionSplit(std::string expression) {
  SplitSpec spec;
  spec.method = SplitMethod::kExpression;
  spec.expression = std::move(expression);
  return spec;
}

TEST(Split, ExpressionTrueFirstFalseAndNullSecond) {
  const table::Table input =
      MakeTable({{"id", Ints({0, 1, 2, 3, 4})}, {"age", Ints({70, 30, std::nullopt, 65, 64})}});
  auto outputs = RunSplit(ExpressionSplit("age >= 65"), input);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ(Ids((*outputs)[0]), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(Ids((*outputs)[1]), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ((*outputs)[0].schema(), input.schema());
  auto none = RunSplit(ExpressionSplit("false"), input);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ((*none)[0].num_rows(), 0);
  EXPECT_EQ((*none)[1].num_rows(), 5);
  auto empty = RunSplit(ExpressionSplit("age > 1"), input.Slice(0, 0));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)[0].num_rows() + (*empty)[1].num_rows(), 0);
}

TEST(Split, ExpressionErrorsBeforeAnyRow) {
  const table::Table input = MakeTable({{"age", Ints({70})}});
  auto unknown = RunSplit(ExpressionSplit("weight > 3"), input);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message().rfind("split: expression \"weight > 3\": position 1", 0), 0u)
      << unknown.status();
  auto not_bool = RunSplit(ExpressionSplit("age + 1"), input);
  EXPECT_EQ(not_bool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(not_bool.status().message(),
            "split: expression \"age + 1\" gives int64, expected a condition (bool), e.g. "
            "\"age >= 65\"");
}

TEST(Split, DataErrors) {
  auto missing = RunSplit(Cutoff("when", "2024-01-01"), Visits());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            "split: cutoff column \"when\" not found (columns: id, day, at)");
  auto wrong_type = RunSplit(Cutoff("id", "2024-01-01"), Visits());
  EXPECT_EQ(wrong_type.status().message(),
            "split: cutoff column \"id\" is int64, expected date or timestamp");
  auto bad_cutoff = RunSplit(Cutoff("day", "yesterday"), Visits());
  EXPECT_EQ(bad_cutoff.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(RunSplit(RandomSplit({0.5, 0.4}, 1), Numbered(3)).ok());
  EXPECT_FALSE(RunSplit(RandomSplit({1.0}, 1), Numbered(3)).ok());
  EXPECT_FALSE(RunSplit(RandomSplit({1.5, -0.5}, 1), Numbered(3)).ok());
}

TEST(Split, ParsesConfig) {
  auto random = ParseSplitSpec(Json(R"({"method": "random", "ratios": [0.8, 0.2], "seed": 3})"));
  ASSERT_TRUE(random.ok()) << random.status();
  EXPECT_EQ(random->ratios, (std::vector<double>{0.8, 0.2}));
  EXPECT_EQ(random->seed, 3u);
  auto cutoff = ParseSplitSpec(
      Json(R"({"method": "time_cutoff", "column": "d", "cutoff": "2024-01-01", "nulls": "drop"})"));
  ASSERT_TRUE(cutoff.ok()) << cutoff.status();
  EXPECT_EQ(cutoff->column, "d");
  EXPECT_EQ(cutoff->nulls, SplitNulls::kDrop);
  auto expression = ParseSplitSpec(Json(R"({"method": "expression", "expression": "x > 1"})"));
  ASSERT_TRUE(expression.ok()) << expression.status();
  EXPECT_EQ(expression->expression, "x > 1");
}

TEST(Split, RejectsBadConfig) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "split config: missing required key \"method\""},
      {R"({"method": "random"})", "split config: missing required key \"ratios\""},
      {R"({"method": "random", "ratios": [1]})",
       "split config: \"ratios\": expected an array of at least two numbers summing to 1"},
      {R"({"method": "random", "ratios": [0.5, "0.5"]})",
       "split config: \"ratios\"[1]: expected a number in [0, 1]"},
      {R"({"method": "random", "ratios": [0.5, 0.6]})",
       "split config: \"ratios\": must sum to 1, they sum to 1.1"},
      {R"({"method": "random", "ratios": [0.5, 0.5], "cutoff": "2024-01-01"})",
       "split config: \"cutoff\": not used by method \"random\""},
      {R"({"method": "expression"})", "split config: missing required key \"expression\""},
      {R"({"method": "expression", "expression": "x", "seed": 1})",
       "split config: \"seed\": not used by method \"expression\""},
      {R"({"method": "time_cutoff", "column": "d"})",
       "split config: missing required key \"cutoff\""},
      {R"({"method": "time_cutoff", "column": "d", "cutoff": "01/02/2024"})",
       "split config: \"cutoff\": expected a date YYYY-MM-DD or an ISO 8601 timestamp such as "
       "2024-03-01T12:00:00Z"},
      {R"({"method": "time_cutoff", "column": "d", "cutoff": "2024-01-01", "nulls": "both"})",
       "split config: \"nulls\": expected \"second\", \"first\" or \"drop\""},
      {R"({"method": "hash"})",
       "split config: \"method\": expected \"random\", \"expression\" or \"time_cutoff\""},
  };
  ExpectConfigErrors(ParseSplitSpec, cases);
}

}  // namespace
}  // namespace assay::recipes
