#include "recipes/sample.h"

#include <algorithm>
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "recipes/reshape_rows.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

SampleSpec Random(std::optional<int64_t> rows, std::optional<double> ratio, uint64_t seed) {
  SampleSpec spec;
  spec.method = SampleMethod::kRandom;
  spec.rows = rows;
  spec.ratio = ratio;
  spec.seed = seed;
  return spec;
}

TEST(Sample, FirstRowsAndFirstRatio) {
  SampleSpec spec;
  spec.rows = 3;
  auto out = RunSample(spec, Numbered(10));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{0, 1, 2}));
  spec.rows = 50;
  EXPECT_EQ(RunSample(spec, Numbered(10))->num_rows(), 10);
  spec.rows.reset();
  spec.ratio = 0.25;  // 2.5 rounds half up to 3.
  EXPECT_EQ(Ids(*RunSample(spec, Numbered(10))), (std::vector<int64_t>{0, 1, 2}));
}

TEST(Sample, RandomCountIsExactSortedAndDeterministic) {
  auto first = RunSample(Random(7, std::nullopt, 42), Numbered(100));
  auto again = RunSample(Random(7, std::nullopt, 42), Numbered(100));
  auto other = RunSample(Random(7, std::nullopt, 43), Numbered(100));
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  const std::vector<int64_t> ids = Ids(*first);
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_TRUE(first->Equals(*again));
  EXPECT_NE(Ids(*other), ids);
}

// Pins the selected rows for a seed, so a change of PRNG, range mapping or algorithm (which
// would change every user's samples) cannot go unnoticed. The values do not depend on the
// standard library: std::mt19937_64's sequence is fixed by the standard. They were checked
// against an independent Python implementation of mt19937_64 and Algorithm S.
TEST(Sample, SeededSelectionIsPinned) {
  EXPECT_EQ(Ids(*RunSample(Random(5, std::nullopt, 42), Numbered(20))),
            (std::vector<int64_t>{2, 3, 11, 12, 19}));
  EXPECT_EQ(Ids(*RunSample(Random(std::nullopt, 0.3, 7), Numbered(20))),
            (std::vector<int64_t>{5, 9, 13, 14, 15, 17}));
}

TEST(Sample, Mt19937_64IsTheStandardSequence) {
  // [rand.predef]: the 10000th consecutive invocation of a default-constructed
  // std::mt19937_64 produces 9981545732273789042.
  reshape::SeededRandom random(5489u);
  uint64_t value = 0;
  for (int i = 0; i < 10000; ++i) value = random.Next();
  EXPECT_EQ(value, 9981545732273789042ULL);
}

TEST(Sample, SeededRandomBelowIsInRangeAndCoversIt) {
  reshape::SeededRandom random(1);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t value = random.Below(7);
    ASSERT_LT(value, 7u);
    ++seen[value];
  }
  for (int count : seen) EXPECT_NEAR(count, 1000, 150);
  EXPECT_EQ(random.Below(1), 0u);
}

TEST(Sample, RandomSelectionIsUniformOverRows) {
  // Each of 10 rows should be picked in 3/10 of 3000 seeded samples; 150 is 6 standard
  // deviations, and the seeds are fixed, so the test is deterministic.
  std::vector<int> picked(10, 0);
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    for (int64_t id : Ids(*RunSample(Random(3, std::nullopt, seed), Numbered(10)))) ++picked[id];
  }
  for (int count : picked) EXPECT_NEAR(count, 900, 150);
}

TEST(Sample, RandomRatioRoundsHalfUp) {
  EXPECT_EQ(RunSample(Random(std::nullopt, 0.5, 1), Numbered(5))->num_rows(), 3);
  EXPECT_EQ(RunSample(Random(std::nullopt, 0.1, 1), Numbered(101))->num_rows(), 10);
  EXPECT_EQ(RunSample(Random(std::nullopt, 0.0, 1), Numbered(10))->num_rows(), 0);
  EXPECT_EQ(RunSample(Random(std::nullopt, 1.0, 1), Numbered(10))->num_rows(), 10);
}

TEST(Sample, StratifiedKeepsTheRatioInEveryStratum) {
  std::vector<std::optional<std::string>> sites;
  std::vector<std::optional<int64_t>> ids;
  for (int64_t row = 0; row < 100; ++row) {
    ids.push_back(row);
    if (row % 10 == 0) {
      sites.push_back(std::nullopt);  // 10 rows
    } else {
      sites.push_back(row % 3 == 0 ? "a" : "b");  // 30 a, 60 b
    }
  }
  const table::Table input = MakeTable({{"id", Ints(ids)}, {"site", Strings(sites)}});
  SampleSpec spec;
  spec.method = SampleMethod::kStratified;
  spec.column = "site";
  spec.ratio = 0.2;
  spec.seed = 9;
  auto out = RunSample(spec, input);
  ASSERT_TRUE(out.ok()) << out.status();
  std::map<std::string, int> per_site;
  for (const std::string& site : Text(*out, "site")) ++per_site[site];
  EXPECT_EQ(per_site["a"], 6);
  EXPECT_EQ(per_site["b"], 12);
  EXPECT_EQ(per_site["null"], 2);
  const std::vector<int64_t> kept = Ids(*out);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_TRUE(out->Equals(*RunSample(spec, input)));
}

TEST(Sample, EmptyInput) {
  const table::Table empty = Numbered(0);
  EXPECT_EQ(RunSample(Random(5, std::nullopt, 1), empty)->num_rows(), 0);
  EXPECT_EQ(RunSample(Random(std::nullopt, 0.5, 1), empty)->num_rows(), 0);
  SampleSpec stratified;
  stratified.method = SampleMethod::kStratified;
  stratified.column = "id";
  stratified.ratio = 0.5;
  EXPECT_EQ(RunSample(stratified, empty)->num_rows(), 0);
}

TEST(Sample, SpecAndDataErrors) {
  SampleSpec spec;
  spec.method = SampleMethod::kStratified;
  spec.ratio = 0.5;
  spec.column = "site";
  auto missing = RunSample(spec, Numbered(3));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "sample: stratum column \"site\" not found (columns: id)");
  EXPECT_FALSE(RunSample(Random(1, 0.5, 1), Numbered(3)).ok());
  EXPECT_FALSE(RunSample(Random(std::nullopt, std::nullopt, 1), Numbered(3)).ok());
  EXPECT_FALSE(RunSample(Random(-1, std::nullopt, 1), Numbered(3)).ok());
  EXPECT_FALSE(RunSample(Random(std::nullopt, 1.5, 1), Numbered(3)).ok());
}

TEST(Sample, ParsesConfig) {
  auto first = ParseSampleSpec(Json(R"({"method": "first", "rows": 10})"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->method, SampleMethod::kFirst);
  EXPECT_EQ(first->rows, 10);
  auto random =
      ParseSampleSpec(Json(R"({"method": "random", "ratio": 0.1, "seed": 18446744073709551615})"));
  ASSERT_TRUE(random.ok()) << random.status();
  EXPECT_EQ(random->ratio, 0.1);
  EXPECT_EQ(random->seed, 18446744073709551615ULL);
  auto stratified =
      ParseSampleSpec(Json(R"({"method": "stratified", "column": "site", "ratio": 1, "seed": 3})"));
  ASSERT_TRUE(stratified.ok()) << stratified.status();
  EXPECT_EQ(stratified->column, "site");
  EXPECT_EQ(stratified->ratio, 1.0);
}

TEST(Sample, RejectsBadConfig) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"rows": 3})", "sample config: missing required key \"method\""},
      {R"({"method": "all"})",
       "sample config: \"method\": expected \"first\", \"random\" or \"stratified\""},
      {R"({"method": "first"})",
       "sample config: method \"first\" needs exactly one of \"rows\" and \"ratio\""},
      {R"({"method": "random", "rows": 3, "ratio": 0.5})",
       "sample config: method \"random\" needs exactly one of \"rows\" and \"ratio\""},
      {R"({"method": "first", "rows": 3, "seed": 1})",
       "sample config: \"seed\": not used by method \"first\""},
      {R"({"method": "random", "rows": 3, "column": "a"})",
       "sample config: \"column\": not used by method \"random\""},
      {R"({"method": "stratified", "ratio": 0.5})",
       "sample config: missing required key \"column\""},
      {R"({"method": "stratified", "column": "a"})",
       "sample config: missing required key \"ratio\""},
      {R"({"method": "stratified", "column": "a", "rows": 3, "ratio": 0.1})",
       "sample config: \"rows\": not used by method \"stratified\""},
      {R"({"method": "random", "rows": -1})", "sample config: \"rows\": expected an integer >= 0"},
      {R"({"method": "random", "ratio": 1.5})",
       "sample config: \"ratio\": expected a number in [0, 1]"},
      {R"({"method": "random", "ratio": "10%"})", "sample config: \"ratio\": expected a number"},
      {R"({"method": "random", "rows": 3, "seed": -4})",
       "sample config: \"seed\": expected an integer in [0, 18446744073709551615]"},
      {R"({"method": "random", "rows": 3, "sed": 4})",
       "sample config: unknown key \"sed\" (allowed keys: method, rows, ratio, seed, column)"},
  };
  ExpectConfigErrors(ParseSampleSpec, cases);
}

}  // namespace
}  // namespace assay::recipes
