#include "recipes/sort.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

TEST(Sort, MultipleKeysWithDirections) {
  const table::Table input =
      MakeTable({{"site", Strings({"b", "a", "b", "a", "c"})}, {"score", Ints({1, 5, 3, 2, 4})}});
  SortSpec spec;
  spec.keys = {{"site", SortOrder::kAscending, NullPlacement::kLast},
               {"score", SortOrder::kDescending, NullPlacement::kLast}};
  auto out = RunSort(spec, input);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Text(*out, "site"), (std::vector<std::string>{"a", "a", "b", "b", "c"}));
  EXPECT_EQ(Text(*out, "score"), (std::vector<std::string>{"5", "2", "3", "1", "4"}));
  EXPECT_EQ(out->schema(), input.schema());
}

TEST(Sort, NullsLastByDefaultInBothDirections) {
  const table::Table input = MakeTable({{"x", Ints({2, std::nullopt, 1, 3})}});
  for (SortOrder order : {SortOrder::kAscending, SortOrder::kDescending}) {
    auto out = RunSort(SortSpec{{{"x", order, NullPlacement::kLast}}}, input);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(Text(*out, "x").back(), "null");
  }
  auto first = RunSort(SortSpec{{{"x", SortOrder::kDescending, NullPlacement::kFirst}}}, input);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Text(*first, "x"), (std::vector<std::string>{"null", "3", "2", "1"}));
}

TEST(Sort, StableOnTies) {
  const table::Table input =
      MakeTable({{"k", Ints({1, 0, 1, 0, 1})}, {"id", Ints({0, 1, 2, 3, 4})}});
  auto ascending = RunSort(SortSpec{{{"k"}}}, input);
  ASSERT_TRUE(ascending.ok());
  EXPECT_EQ(Ids(*ascending), (std::vector<int64_t>{1, 3, 0, 2, 4}));
  // Descending keeps ties in input order too (it is not a reversed ascending sort).
  auto descending = RunSort(SortSpec{{{"k", SortOrder::kDescending}}}, input);
  ASSERT_TRUE(descending.ok());
  EXPECT_EQ(Ids(*descending), (std::vector<int64_t>{0, 2, 4, 1, 3}));
}

TEST(Sort, FloatOrderPutsNanAboveInfinityAndNegativeZeroTiesZero) {
  const double nan = std::nan("");
  const table::Table input = MakeTable({{"f", Floats({nan, 0.0, -INFINITY, -0.0, INFINITY, 1.0})},
                                        {"id", Ints({0, 1, 2, 3, 4, 5})}});
  auto out = RunSort(SortSpec{{{"f"}}}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{2, 1, 3, 5, 4, 0}));
}

TEST(Sort, StringsByBytes) {
  const table::Table input = MakeTable({{"s", Strings({"b", "B", "", "ab", "\xc3\xa9", "a"})}});
  auto out = RunSort(SortSpec{{{"s"}}}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Text(*out, "s"), (std::vector<std::string>{"", "B", "a", "ab", "b", "\xc3\xa9"}));
}

TEST(Sort, EmptyInput) {
  const table::Table input = MakeTable({{"x", Ints({})}});
  auto out = RunSort(SortSpec{{{"x"}}}, input);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows(), 0);
  EXPECT_EQ(out->schema(), input.schema());
}

TEST(Sort, UnknownColumnNamesAvailableOnes) {
  const table::Table input = MakeTable({{"x", Ints({1})}, {"y", Ints({2})}});
  auto out = RunSort(SortSpec{{{"z"}}}, input);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "sort: sort key column \"z\" not found (columns: x, y)");
  EXPECT_EQ(RunSort(SortSpec{}, input).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Sort, ParsesConfig) {
  auto spec = ParseSortSpec(
      Json(R"({"keys": [{"column": "a"}, {"column": "b", "order": "desc", "nulls": "first"}]})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->keys.size(), 2u);
  EXPECT_EQ(spec->keys[0].column, "a");
  EXPECT_EQ(spec->keys[0].order, SortOrder::kAscending);
  EXPECT_EQ(spec->keys[0].nulls, NullPlacement::kLast);
  EXPECT_EQ(spec->keys[1].order, SortOrder::kDescending);
  EXPECT_EQ(spec->keys[1].nulls, NullPlacement::kFirst);
}

TEST(Sort, RejectsBadConfig) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([])", "sort config: expected an object"},
      {R"({})", "sort config: missing required key \"keys\""},
      {R"({"keys": []})",
       "sort config: \"keys\": expected a non-empty array of objects with \"column\""},
      {R"({"keys": [{"column": "a"}, "b"]})",
       "sort config: \"keys\"[1]: expected an object with \"column\""},
      {R"({"keys": [{"column": 3}]})",
       "sort config: \"keys\"[0].\"column\": expected a non-empty string"},
      {R"({"keys": [{"column": "a", "order": "up"}]})",
       "sort config: \"keys\"[0].\"order\": expected \"asc\" or \"desc\""},
      {R"({"keys": [{"column": "a", "nulls": true}]})",
       "sort config: \"keys\"[0].\"nulls\": expected \"last\" or \"first\""},
      {R"({"keys": [{"column": "a", "direction": "asc"}]})",
       "sort config: \"keys\"[0]: unknown key \"direction\" (allowed keys: column, order, nulls)"},
      {R"({"keys": [{"column": "a"}], "limit": 3})",
       "sort config: unknown key \"limit\" (allowed keys: keys)"},
      {R"({"keys": [{"column": "a"}, {"column": "a"}]})",
       "sort config: \"keys\"[1].\"column\": column \"a\" is listed twice"},
  };
  ExpectConfigErrors(ParseSortSpec, cases);
}

// The sort against std::stable_sort with a naive comparator on random tables, random keys.
void CheckAgainstModel(const table::Table& input, uint64_t seed, int64_t num_chunks) {
  std::mt19937_64 random(seed);
  const std::vector<std::string> names = {"i", "f", "s", "b", "d", "t"};
  std::vector<SortKey> keys;
  std::vector<int> key_columns;
  const int num_keys = 1 + static_cast<int>(random() % 3);
  std::vector<int> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  for (int k = 0; k < num_keys; ++k) {
    keys.push_back(SortKey{names[order[k]],
                           random() % 2 ? SortOrder::kDescending : SortOrder::kAscending,
                           random() % 2 ? NullPlacement::kFirst : NullPlacement::kLast});
    key_columns.push_back(*input.schema().FindField(names[order[k]]));
  }
  std::vector<int64_t> expected(static_cast<size_t>(input.num_rows()));
  std::iota(expected.begin(), expected.end(), int64_t{0});
  std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) {
    for (size_t k = 0; k < keys.size(); ++k) {
      const table::Column& column = input.column(key_columns[k]);
      const int result = testing::NaiveCompare(
          testing::ReadCell(column, a), testing::ReadCell(column, b),
          keys[k].order == SortOrder::kDescending, keys[k].nulls == NullPlacement::kFirst);
      if (result != 0) return result < 0;
    }
    return false;
  });
  auto permutation = internal::SortPermutationInChunks(input, keys, "sort", num_chunks);
  ASSERT_TRUE(permutation.ok()) << permutation.status();
  EXPECT_EQ(*permutation, expected) << "seed " << seed;
  auto sorted = RunSort(SortSpec{keys}, input);
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(Ids(*sorted), expected) << "seed " << seed;
}

TEST(Sort, MatchesStableSortModelOnRandomTables) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const table::Table input =
        testing::RandomTable(seed, 1 + static_cast<int64_t>(seed * 37 % 500));
    CheckAgainstModel(input, seed, /*num_chunks=*/1);
  }
}

TEST(Sort, ParallelPathMatchesStableSortModel) {
  // Chunk counts that are not powers of two exercise the lone chunk of a merge round.
  for (uint64_t seed = 100; seed < 130; ++seed) {
    const table::Table input = testing::RandomTable(seed, 50 + static_cast<int64_t>(seed % 7) * 91);
    CheckAgainstModel(input, seed, /*num_chunks=*/2 + static_cast<int64_t>(seed % 6));
  }
  // More chunks than rows.
  CheckAgainstModel(testing::RandomTable(3, 4), 3, /*num_chunks=*/8);
  // A table large enough that RunSort takes the parallel path on its own.
  const table::Table large = testing::RandomTable(7, 150'000, true, 5, 50);
  CheckAgainstModel(large, 7, /*num_chunks=*/2);
}

}  // namespace
}  // namespace assay::recipes
