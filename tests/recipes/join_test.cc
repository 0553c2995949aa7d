#include "recipes/join.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/relational_common.h"
#include "relational_test_util.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::Table;
using ::testing::ElementsAre;
using testing::Floats;
using ::testing::HasSubstr;
using testing::Ints;
using testing::kNull;
using testing::MakeTable;
using testing::Render;
using testing::Strs;

Table Left() {
  return MakeTable({{"id", Ints({1, 2, 2, kNull, 4})}, {"name", Strs({"a", "b", "c", "d", "e"})}});
}
Table Right() {
  return MakeTable({{"id", Ints({2, 1, 2, kNull, 5})}, {"score", Ints({20, 10, 21, 99, 50})}});
}

JoinSpec Spec(const std::string& json) {
  auto spec = ParseJoinSpec(nlohmann::json::parse(json));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : JoinSpec();
}

std::vector<std::string> Join(const std::string& json, const Table& left, const Table& right) {
  auto joined = RunJoin(Spec(json), left, right);
  EXPECT_TRUE(joined.ok()) << joined.status();
  return joined.ok() ? Render(*joined) : std::vector<std::string>{};
}

TEST(Join, InnerKeepsLeftOrderThenRightOrderAndDropsNullKeys) {
  EXPECT_THAT(Join(R"({"type": "inner", "on": "id"})", Left(), Right()),
              ElementsAre("id|name|score", "1|a|10", "2|b|20", "2|b|21", "2|c|20", "2|c|21"));
}

TEST(Join, DefaultTypeIsInner) { EXPECT_EQ(Spec(R"({"on": ["id"]})").type, JoinType::kInner); }

TEST(Join, LeftKeepsUnmatched) {
  EXPECT_THAT(Join(R"({"type": "left", "on": ["id"]})", Left(), Right()),
              ElementsAre("id|name|score", "1|a|10", "2|b|20", "2|b|21", "2|c|20", "2|c|21",
                          "null|d|null", "4|e|null"));
}

TEST(Join, RightAppendsUnmatchedRightRowsWithCoalescedKey) {
  EXPECT_THAT(Join(R"({"type": "right", "on": ["id"]})", Left(), Right()),
              ElementsAre("id|name|score", "1|a|10", "2|b|20", "2|b|21", "2|c|20", "2|c|21",
                          "null|null|99", "5|null|50"));
}

TEST(Join, FullKeepsBothSides) {
  EXPECT_THAT(Join(R"({"type": "full", "on": ["id"]})", Left(), Right()),
              ElementsAre("id|name|score", "1|a|10", "2|b|20", "2|b|21", "2|c|20", "2|c|21",
                          "null|d|null", "4|e|null", "null|null|99", "5|null|50"));
}

TEST(Join, CrossPairsEveryRow) {
  const Table left = MakeTable({{"a", Ints({1, 2})}});
  const Table right = MakeTable({{"b", Strs({"x", "y", "z"})}});
  EXPECT_THAT(Join(R"({"type": "cross"})", left, right),
              ElementsAre("a|b", "1|x", "1|y", "1|z", "2|x", "2|y", "2|z"));
  EXPECT_THAT(Join(R"({"type": "cross"})", left, MakeTable({{"b", Strs({})}})), ElementsAre("a|b"));
}

TEST(Join, DifferentKeyNamesKeepBothKeysAndSuffixClashes) {
  const Table left = MakeTable({{"hcp", Ints({1, 2})}, {"value", Ints({10, 20})}});
  const Table right =
      MakeTable({{"id", Ints({2, 1})}, {"hcp", Strs({"x", "y"})}, {"value", Floats({0.5, 1.5})}});
  EXPECT_THAT(
      Join(R"({"left_on": "hcp", "right_on": "id"})", left, right),
      ElementsAre("hcp_left|value_left|id|hcp_right|value_right", "1|10|1|y|1.5", "2|20|2|x|0.5"));
  EXPECT_THAT(
      Join(R"({"left_on": "hcp", "right_on": "id", "left_suffix": "_l", "right_suffix": "_r"})",
           left, right),
      ElementsAre("hcp_l|value_l|id|hcp_r|value_r", "1|10|1|y|1.5", "2|20|2|x|0.5"));
}

TEST(Join, MultipleKeysOfDifferentTypes) {
  const Table left = MakeTable({{"k1", Ints({1, 1, 2, 2})},
                                {"k2", Strs({"a", "b", "a", kNull})},
                                {"l", Ints({10, 11, 12, 13})}});
  const Table right = MakeTable({{"k1", Ints({1, 2, 1, 2})},
                                 {"k2", Strs({"b", "a", "b", kNull})},
                                 {"r", Ints({100, 101, 102, 103})}});
  EXPECT_THAT(Join(R"({"type": "left", "on": ["k1", "k2"]})", left, right),
              ElementsAre("k1|k2|l|r", "1|a|10|null", "1|b|11|100", "1|b|11|102", "2|a|12|101",
                          "2|null|13|null"));
}

TEST(Join, ColumnSelectionKeepsSharedKeyFirst) {
  const Table left = MakeTable({{"id", Ints({1})}, {"x", Ints({5})}, {"y", Ints({6})}});
  const Table right = MakeTable({{"id", Ints({1})}, {"x", Ints({7})}, {"z", Ints({8})}});
  EXPECT_THAT(Join(R"({"on": "id", "left_columns": ["y"], "right_columns": ["z"]})", left, right),
              ElementsAre("id|y|z", "1|6|8"));
  // Only the selected columns clash, so "x" keeps its name.
  EXPECT_THAT(Join(R"({"on": "id", "left_columns": ["x"], "right_columns": ["z"]})", left, right),
              ElementsAre("id|x|z", "1|5|8"));
  EXPECT_THAT(Join(R"({"on": "id", "right_columns": ["id", "x"]})", left, right),
              ElementsAre("id|x_left|y|x_right", "1|5|6|7"));
}

TEST(Join, FloatKeysMatchByValue) {
  const Table left = MakeTable({{"k", Floats({0.0, 1.5, kNull})}});
  const Table right = MakeTable({{"k", Floats({-0.0, 1.5, kNull})}, {"v", Ints({1, 2, 3})}});
  EXPECT_THAT(Join(R"({"type": "left", "on": "k"})", left, right),
              ElementsAre("k|v", "0.0|1", "1.5|2", "null|null"));
}

TEST(Join, EmptyInputs) {
  const Table empty = MakeTable({{"id", Ints({})}, {"name", Strs({})}});
  EXPECT_THAT(Join(R"({"type": "full", "on": "id"})", empty, Right()),
              ElementsAre("id|name|score", "2|null|20", "1|null|10", "2|null|21", "null|null|99",
                          "5|null|50"));
  EXPECT_THAT(Join(R"({"type": "left", "on": "id"})", Left(), MakeTable({{"id", Ints({})}})),
              ElementsAre("id|name", "1|a", "2|b", "2|c", "null|d", "4|e"));
  EXPECT_THAT(Join(R"({"on": "id"})", empty, MakeTable({{"id", Ints({})}})),
              ElementsAre("id|name"));
}

TEST(Join, KeyTypeMismatchAsksForCast) {
  const Table right = MakeTable({{"id", Floats({1.0})}});
  auto joined = RunJoin(Spec(R"({"on": "id"})"), Left(), right);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(joined.status().message(), HasSubstr("int64 on the left"));
  EXPECT_THAT(joined.status().message(), HasSubstr("float64"));
  EXPECT_THAT(joined.status().message(), HasSubstr("cast"));
  const Table strings = MakeTable({{"id", Strs({"1"})}});
  EXPECT_THAT(RunJoin(Spec(R"({"on": "id"})"), Left(), strings).status().message(),
              HasSubstr("string"));
}

TEST(Join, UnknownColumnsListTheAvailableOnes) {
  auto missing = RunJoin(Spec(R"({"on": "npi"})"), Left(), Right());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("unknown column \"npi\" (columns: id, name)"));
  EXPECT_THAT(RunJoin(Spec(R"({"on": "id", "right_columns": ["nope"]})"), Left(), Right())
                  .status()
                  .message(),
              HasSubstr("columns: id, score"));
  EXPECT_THAT(RunJoin(Spec(R"({"on": "id", "left_columns": ["nope"]})"), Left(), Right())
                  .status()
                  .message(),
              HasSubstr("left_columns"));
}

TEST(Join, SuffixesThatStillClashAreAnError) {
  const Table left = MakeTable({{"k", Ints({1})}, {"v", Ints({1})}, {"v_left", Ints({2})}});
  const Table right = MakeTable({{"k", Ints({1})}, {"v", Ints({3})}});
  auto joined = RunJoin(Spec(R"({"on": "k"})"), left, right);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(joined.status().message(), HasSubstr("\"v_left\" would appear twice"));
}

TEST(Join, ConfigErrors) {
  auto error = [](const std::string& json) {
    auto spec = ParseJoinSpec(nlohmann::json::parse(json));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(spec.status().message());
  };
  EXPECT_THAT(error(R"({"type": "left"})"), HasSubstr("needs keys"));
  EXPECT_THAT(error(R"({"type": "left"})"), HasSubstr("type: cross"));
  EXPECT_THAT(error(R"({"type": "cross", "on": "id"})"), HasSubstr("takes no keys"));
  EXPECT_THAT(error(R"({"type": "outer", "on": "id"})"),
              HasSubstr("join config: \"type\": expected one of inner, left, right, full, cross"));
  EXPECT_THAT(error(R"({"on": ["id", 3]})"),
              HasSubstr("join config: \"on\"[1]: expected a column name"));
  EXPECT_THAT(error(R"({"on": []})"), HasSubstr("\"on\": expected a non-empty list"));
  EXPECT_THAT(error(R"({"on": "id", "how": "left"})"), HasSubstr("unknown key \"how\""));
  EXPECT_THAT(error(R"({"on": "id", "left_on": "id", "right_on": "id"})"), HasSubstr("not both"));
  EXPECT_THAT(error(R"({"left_on": "id"})"), HasSubstr("\"right_on\": is required"));
  EXPECT_THAT(error(R"({"left_on": ["a", "b"], "right_on": "a"})"), HasSubstr("paired"));
  EXPECT_THAT(error(R"({"on": "id", "left_suffix": "_x", "right_suffix": "_x"})"),
              HasSubstr("must differ"));
  EXPECT_THAT(error(R"({"on": "id", "left_suffix": 1})"),
              HasSubstr("\"left_suffix\": expected a suffix"));
  EXPECT_THAT(error(R"({"on": ["id", "id"]})"), HasSubstr("listed twice"));
  EXPECT_THAT(error(R"([1])"), HasSubstr("join config: expected an object"));
}

TEST(Join, ProgrammaticSpecWithoutKeysIsRejected) {
  JoinSpec spec;
  spec.type = JoinType::kLeft;
  EXPECT_EQ(RunJoin(spec, Left(), Right()).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Model-based: the hash join against a row-by-row reference -----------------------------

// Key text of a row; nullopt when any key is null (a null never matches).
std::optional<std::string> KeyText(const Table& table, const std::vector<std::string>& keys,
                                   int64_t row) {
  std::string text;
  for (const std::string& key : keys) {
    const Column& column = table.column(*table.schema().FindField(key));
    if (column.IsNull(row)) return std::nullopt;
    text += column.ValueToString(row) + '\x1f';
  }
  return text;
}

// The reference: a std::multimap of right keys (equal keys stay in insertion order), then
// the output built one value at a time with ColumnBuilder.
Table ReferenceJoin(const JoinSpec& spec, const Table& left, const Table& right) {
  std::multimap<std::string, int64_t> right_index;
  for (int64_t row = 0; row < right.num_rows(); ++row) {
    if (auto key = KeyText(right, spec.right_on, row)) right_index.emplace(*key, row);
  }
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<bool> right_matched(static_cast<size_t>(right.num_rows()), false);
  for (int64_t row = 0; row < left.num_rows(); ++row) {
    bool matched = false;
    if (auto key = KeyText(left, spec.left_on, row)) {
      auto [begin, end] = right_index.equal_range(*key);
      for (auto it = begin; it != end; ++it) {
        pairs.emplace_back(row, it->second);
        right_matched[it->second] = true;
        matched = true;
      }
    }
    if (!matched && (spec.type == JoinType::kLeft || spec.type == JoinType::kFull)) {
      pairs.emplace_back(row, -1);
    }
  }
  if (spec.type == JoinType::kRight || spec.type == JoinType::kFull) {
    for (int64_t row = 0; row < right.num_rows(); ++row) {
      if (!right_matched[row]) pairs.emplace_back(-1, row);
    }
  }
  // Output columns: every left column (shared keys coalesced), then right non-shared columns,
  // suffixing names present on both sides.
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  auto shared_key = [&](const std::string& name) {
    for (size_t index = 0; index < spec.left_on.size(); ++index) {
      if (spec.left_on[index] == name && spec.right_on[index] == name) return true;
    }
    return false;
  };
  for (const auto& field : left.schema().fields()) {
    const Column& column = left.column(*left.schema().FindField(field.name));
    ColumnBuilder builder(field.type);
    for (auto [l, r] : pairs) {
      if (l >= 0) {
        builder.AppendFrom(column, l);
      } else if (shared_key(field.name)) {
        builder.AppendFrom(right.column(*right.schema().FindField(field.name)), r);
      } else {
        builder.AppendNull();
      }
    }
    std::string name = field.name;
    if (!shared_key(name) && right.schema().FindField(name)) name += spec.left_suffix;
    fields.push_back({name, field.type});
    columns.push_back(builder.Finish());
  }
  for (const auto& field : right.schema().fields()) {
    if (shared_key(field.name)) continue;
    const Column& column = right.column(*right.schema().FindField(field.name));
    ColumnBuilder builder(field.type);
    for (auto [l, r] : pairs) r >= 0 ? builder.AppendFrom(column, r) : builder.AppendNull();
    std::string name = field.name;
    if (left.schema().FindField(name)) name += spec.right_suffix;
    fields.push_back({name, field.type});
    columns.push_back(builder.Finish());
  }
  return *Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

TEST(Join, MatchesRowByRowModelOnRandomTables) {
  const std::vector<std::vector<std::string>> key_sets = {
      {"k_int"},  {"k_str"},          {"k_float"},
      {"k_date"}, {"k_int", "k_str"}, {"k_str", "k_date", "k_float"}};
  const std::vector<std::pair<int64_t, int64_t>> sizes = {
      {0, 0}, {0, 5}, {5, 0}, {1, 1}, {7, 9}, {60, 40}, {300, 200}, {70000, 150}};
  uint32_t seed = 1;
  for (const auto& [left_rows, right_rows] : sizes) {
    for (const auto& keys : key_sets) {
      // The large case (parallel hashing and probing) only with selective keys.
      if (left_rows > 1000 && keys[0] != "k_int") continue;
      for (JoinType type : {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull}) {
        const int key_range = left_rows > 1000 ? 400 : 5;
        const Table left = testing::RandomTable(left_rows, seed++, key_range);
        const Table right = testing::RandomTable(right_rows, seed++, key_range);
        JoinSpec spec;
        spec.type = type;
        spec.left_on = keys;
        spec.right_on = keys;
        auto joined = RunJoin(spec, left, right);
        ASSERT_TRUE(joined.ok()) << joined.status();
        EXPECT_TRUE(testing::TablesMatch(*joined, ReferenceJoin(spec, left, right)))
            << JoinTypeName(type) << " join on " << keys[0] << "... of " << left_rows << " x "
            << right_rows << " rows (seed " << seed - 2 << ")";
      }
    }
  }
}

TEST(Join, MatchesModelWithDifferentlyNamedKeys) {
  const Table left = testing::RandomTable(500, 77);
  const Table right = testing::RandomTable(80, 78);
  for (JoinType type : {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull}) {
    JoinSpec spec;
    spec.type = type;
    spec.left_on = {"k_int"};
    spec.right_on = {"v_int"};
    auto joined = RunJoin(spec, left, right);
    ASSERT_TRUE(joined.ok()) << joined.status();
    EXPECT_TRUE(testing::TablesMatch(*joined, ReferenceJoin(spec, left, right)));
  }
}

}  // namespace
}  // namespace assay::recipes
