#include "recipes/distinct.h"

#include <algorithm>
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

TEST(Distinct, WholeRowKeepsFirstOccurrenceInInputOrder) {
  const table::Table input =
      MakeTable({{"a", Strings({"x", "y", "x", std::nullopt, "x", std::nullopt})},
                 {"b", Ints({1, 2, 1, 3, 2, 3})}});
  auto out = RunDistinct(DistinctSpec{{}, "count"}, input);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Text(*out, "a"), (std::vector<std::string>{"x", "y", "null", "x"}));
  EXPECT_EQ(Text(*out, "b"), (std::vector<std::string>{"1", "2", "3", "2"}));
  EXPECT_EQ(Text(*out, "count"), (std::vector<std::string>{"2", "1", "2", "1"}));
}

TEST(Distinct, SubsetKeepsAllColumnsOfTheFirstRow) {
  const table::Table input = MakeTable(
      {{"id", Ints({0, 1, 2, 3, 4})}, {"patient", Strings({"p1", "p2", "p1", "p3", "p2"})}});
  auto out = RunDistinct(DistinctSpec{{"patient"}, ""}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(out->schema(), input.schema());
}

TEST(Distinct, FloatEqualityTreatsSignedZeroAndNanAsOneValue) {
  const double nan = std::nan("");
  const table::Table input = MakeTable(
      {{"id", Ints({0, 1, 2, 3, 4})}, {"f", Floats({0.0, -0.0, nan, -nan, std::nullopt})}});
  auto out = RunDistinct(DistinctSpec{{"f"}, "n"}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(Text(*out, "n"), (std::vector<std::string>{"2", "2", "1"}));
}

TEST(Distinct, EmptyInput) {
  const table::Table input = MakeTable({{"a", Ints({})}});
  auto out = RunDistinct(DistinctSpec{{}, "count"}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows(), 0);
  EXPECT_EQ(testing::Names(*out), (std::vector<std::string>{"a", "count"}));
}

TEST(Distinct, DataErrors) {
  const table::Table input = MakeTable({{"a", Ints({1})}, {"b", Ints({1})}});
  auto missing = RunDistinct(DistinctSpec{{"c"}, ""}, input);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "distinct: key column \"c\" not found (columns: a, b)");
  auto clash = RunDistinct(DistinctSpec{{}, "b"}, input);
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(clash.status().message(),
            "distinct: count_column \"b\" is already a column of the input; choose another name "
            "with \"count_column\"");
}

TEST(Distinct, ParsesAndRejectsConfig) {
  auto spec = ParseDistinctSpec(Json(R"({"columns": ["a"], "count_column": "n"})"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->columns, (std::vector<std::string>{"a"}));
  EXPECT_EQ(spec->count_column, "n");
  auto empty = ParseDistinctSpec(Json("{}"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->columns.empty());
  const std::pair<const char*, const char*> cases[] = {
      {R"({"column": ["a"]})",
       "distinct config: unknown key \"column\" (allowed keys: columns, count_column)"},
      {R"({"columns": [1]})",
       "distinct config: \"columns\"[0]: expected a non-empty string (a column name)"},
      {R"({"count_column": false})",
       "distinct config: \"count_column\": expected a non-empty string"},
      {R"("a")", "distinct config: expected an object"},
  };
  ExpectConfigErrors(ParseDistinctSpec, cases);
}

TEST(Distinct, MatchesNaiveReferenceOnRandomTables) {
  const std::vector<std::string> names = {"i", "f", "s", "b", "d", "t"};
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 random(seed);
    const bool whole_row = seed % 3 == 0;
    // Whole-row comparison needs a table without the unique id column to find duplicates.
    const table::Table input = testing::RandomTable(seed, static_cast<int64_t>(random() % 400),
                                                    /*with_id=*/!whole_row, 10, 2);
    DistinctSpec spec;
    spec.count_column = "count";
    std::vector<int> key_columns;
    if (whole_row) {
      for (int column = 0; column < input.num_columns(); ++column) key_columns.push_back(column);
    } else {
      for (const std::string& name : names) {
        if (random() % 2) {
          spec.columns.push_back(name);
          key_columns.push_back(*input.schema().FindField(name));
        }
      }
      if (spec.columns.empty()) {
        for (int column = 0; column < input.num_columns(); ++column) key_columns.push_back(column);
      }
    }
    std::map<std::vector<std::string>, size_t> position;
    std::vector<int64_t> first_rows;
    std::vector<int64_t> counts;
    for (int64_t row = 0; row < input.num_rows(); ++row) {
      const auto [it, inserted] =
          position.emplace(testing::RowKey(input, row, key_columns), first_rows.size());
      if (inserted) {
        first_rows.push_back(row);
        counts.push_back(0);
      }
      ++counts[it->second];
    }
    auto out = RunDistinct(spec, input);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->num_rows(), static_cast<int64_t>(first_rows.size())) << "seed " << seed;
    for (size_t k = 0; k < first_rows.size(); ++k) {
      std::vector<std::string> expected = testing::RowText(input, first_rows[k]);
      expected.push_back(std::to_string(counts[k]));
      EXPECT_EQ(testing::RowText(*out, static_cast<int64_t>(k)), expected) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace assay::recipes
