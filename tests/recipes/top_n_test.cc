#include "recipes/top_n.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

table::Table Scores() {
  return MakeTable({{"id", Ints({0, 1, 2, 3, 4, 5, 6, 7})},
                    {"site", Strings({"b", "a", "b", "a", "b", "a", std::nullopt, "b"})},
                    {"score", Ints({5, 9, 7, 9, 7, std::nullopt, 1, 2})}});
}

TEST(TopN, PerGroupInFirstAppearanceOrderWithRank) {
  TopNSpec spec;
  spec.group_by = {"site"};
  spec.order_by = {{"score", SortOrder::kDescending}};
  spec.n = 2;
  spec.rank_column = "rank";
  auto out = RunTopN(spec, Scores());
  ASSERT_TRUE(out.ok()) << out.status();
  // Groups b, a, null; within b the tie 7/7 keeps input order; a's null score sorts last.
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{2, 4, 1, 3, 6}));
  EXPECT_EQ(Text(*out, "rank"), (std::vector<std::string>{"1", "2", "1", "2", "1"}));
  EXPECT_EQ(testing::Names(*out), (std::vector<std::string>{"id", "site", "score", "rank"}));
}

TEST(TopN, IncludeTiesUsesSqlRank) {
  TopNSpec spec;
  spec.group_by = {"site"};
  spec.order_by = {{"score", SortOrder::kDescending}};
  spec.n = 1;
  spec.ties = TopNTies::kInclude;
  spec.rank_column = "rank";
  auto out = RunTopN(spec, Scores());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{2, 4, 1, 3, 6}));
  EXPECT_EQ(Text(*out, "rank"), (std::vector<std::string>{"1", "1", "1", "1", "1"}));
  spec.n = 2;
  out = RunTopN(spec, Scores());
  ASSERT_TRUE(out.ok());
  // b: 7, 7 (rank 1), 5 (rank 3) is dropped; a: 9, 9 (rank 1), null (rank 3) dropped.
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{2, 4, 1, 3, 6}));
}

TEST(TopN, WholeTableWithoutGroups) {
  TopNSpec spec;
  spec.order_by = {{"score", SortOrder::kAscending, NullPlacement::kFirst}};
  spec.n = 3;
  auto out = RunTopN(spec, Scores());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Ids(*out), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(out->schema(), Scores().schema());
}

TEST(TopN, EmptyInputAndNLargerThanGroups) {
  TopNSpec spec;
  spec.group_by = {"site"};
  spec.order_by = {{"score"}};
  spec.n = 100;
  spec.rank_column = "rank";
  auto empty = RunTopN(spec, Scores().Slice(0, 0));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->num_rows(), 0);
  EXPECT_EQ(empty->num_columns(), 4);
  auto all = RunTopN(spec, Scores());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 8);
}

TEST(TopN, DataErrors) {
  TopNSpec spec;
  spec.order_by = {{"score"}};
  spec.group_by = {"region"};
  EXPECT_EQ(RunTopN(spec, Scores()).status().message(),
            "top_n: group_by column \"region\" not found (columns: id, site, score)");
  spec.group_by = {};
  spec.order_by = {{"points"}};
  EXPECT_EQ(RunTopN(spec, Scores()).status().message(),
            "top_n: order_by column \"points\" not found (columns: id, site, score)");
  spec.order_by = {{"score"}};
  spec.rank_column = "site";
  EXPECT_EQ(RunTopN(spec, Scores()).status().code(), absl::StatusCode::kInvalidArgument);
  spec.rank_column = "";
  spec.n = 0;
  EXPECT_EQ(RunTopN(spec, Scores()).status().code(), absl::StatusCode::kInvalidArgument);
  spec.n = 1;
  spec.order_by = {};
  EXPECT_EQ(RunTopN(spec, Scores()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TopN, ParsesConfig) {
  auto spec = ParseTopNSpec(Json(R"({"group_by": ["site"], "order_by": [{"column": "score",
      "order": "desc"}], "n": 3, "ties": "include", "rank_column": "r"})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->group_by, (std::vector<std::string>{"site"}));
  EXPECT_EQ(spec->order_by[0].order, SortOrder::kDescending);
  EXPECT_EQ(spec->n, 3);
  EXPECT_EQ(spec->ties, TopNTies::kInclude);
  EXPECT_EQ(spec->rank_column, "r");
  auto minimal = ParseTopNSpec(Json(R"({"order_by": [{"column": "x"}], "n": 1})"));
  ASSERT_TRUE(minimal.ok());
  EXPECT_TRUE(minimal->group_by.empty());
  EXPECT_EQ(minimal->ties, TopNTies::kFirst);
  EXPECT_TRUE(minimal->rank_column.empty());
}

TEST(TopN, RejectsBadConfig) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"n": 1})", "top_n config: missing required key \"order_by\""},
      {R"({"order_by": [{"column": "x"}]})", "top_n config: missing required key \"n\""},
      {R"({"order_by": [{"column": "x"}], "n": 0})",
       "top_n config: \"n\": expected an integer >= 1"},
      {R"({"order_by": [{"column": "x"}], "n": 2.5})",
       "top_n config: \"n\": expected an integer >= 1"},
      {R"({"order_by": [{"column": "x"}], "n": 1, "ties": "all"})",
       "top_n config: \"ties\": expected \"first\" or \"include\""},
      {R"({"order_by": [{"column": "x"}], "n": 1, "group_by": "site"})",
       "top_n config: \"group_by\": expected an array of column names"},
      {R"({"order_by": [{"column": "x"}], "n": 1, "group_by": ["a", "a"]})",
       "top_n config: \"group_by\"[1]: column \"a\" is listed twice"},
      {R"({"order_by": [{"column": "x"}], "n": 1, "rank_column": ""})",
       "top_n config: \"rank_column\": expected a non-empty string"},
      {R"({"order_by": "x", "n": 1})",
       "top_n config: \"order_by\": expected a non-empty array of objects with \"column\""},
  };
  ExpectConfigErrors(ParseTopNSpec, cases);
}

TEST(TopN, MatchesNaiveReferenceOnRandomTables) {
  const std::vector<std::string> names = {"i", "f", "s", "b", "d", "t"};
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 random(seed);
    const table::Table input = testing::RandomTable(seed, static_cast<int64_t>(random() % 300));
    std::vector<int> order(names.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), random);
    TopNSpec spec;
    const int num_groups = static_cast<int>(random() % 3);
    std::vector<int> group_columns;
    for (int g = 0; g < num_groups; ++g) {
      spec.group_by.push_back(names[order[g]]);
      group_columns.push_back(*input.schema().FindField(names[order[g]]));
    }
    const int num_keys = 1 + static_cast<int>(random() % 2);
    std::vector<int> key_columns;
    for (int k = 0; k < num_keys; ++k) {
      const std::string& name = names[order[num_groups + k]];
      spec.order_by.push_back(SortKey{name,
                                      random() % 2 ? SortOrder::kDescending : SortOrder::kAscending,
                                      random() % 2 ? NullPlacement::kFirst : NullPlacement::kLast});
      key_columns.push_back(*input.schema().FindField(name));
    }
    spec.n = 1 + static_cast<int64_t>(random() % 4);
    spec.ties = random() % 2 ? TopNTies::kInclude : TopNTies::kFirst;
    spec.rank_column = "rank";

    // Reference: bucket rows by group key (first appearance), stable-sort each bucket with a
    // naive comparator, then cut by row number or by SQL RANK().
    std::vector<std::vector<std::string>> group_keys;
    std::vector<std::vector<int64_t>> buckets;
    for (int64_t row = 0; row < input.num_rows(); ++row) {
      const auto key = testing::RowKey(input, row, group_columns);
      auto it = std::find(group_keys.begin(), group_keys.end(), key);
      if (it == group_keys.end()) {
        group_keys.push_back(key);
        buckets.emplace_back();
        it = group_keys.end() - 1;
      }
      buckets[it - group_keys.begin()].push_back(row);
    }
    auto compare = [&](int64_t a, int64_t b) {
      for (size_t k = 0; k < key_columns.size(); ++k) {
        const table::Column& column = input.column(key_columns[k]);
        const int result =
            testing::NaiveCompare(testing::ReadCell(column, a), testing::ReadCell(column, b),
                                  spec.order_by[k].order == SortOrder::kDescending,
                                  spec.order_by[k].nulls == NullPlacement::kFirst);
        if (result != 0) return result;
      }
      return 0;
    };
    std::vector<int64_t> expected_ids;
    std::vector<std::string> expected_ranks;
    for (auto& bucket : buckets) {
      std::stable_sort(bucket.begin(), bucket.end(),
                       [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
      for (size_t position = 0; position < bucket.size(); ++position) {
        int64_t rank = static_cast<int64_t>(position) + 1;
        if (spec.ties == TopNTies::kInclude) {
          rank = 1;
          for (size_t other = 0; other < bucket.size(); ++other) {
            if (compare(bucket[other], bucket[position]) < 0) ++rank;
          }
        }
        if (rank <= spec.n) {
          expected_ids.push_back(bucket[position]);
          expected_ranks.push_back(std::to_string(rank));
        }
      }
    }
    auto out = RunTopN(spec, input);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(Ids(*out), expected_ids) << "seed " << seed;
    EXPECT_EQ(Text(*out, "rank"), expected_ranks) << "seed " << seed;
  }
}

}  // namespace
}  // namespace assay::recipes
