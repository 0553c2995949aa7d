#include "recipes/stack.h"

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

TEST(Stack, UnionByNameWithNullsForMissingColumns) {
  const table::Table a = MakeTable({{"id", Ints({1, 2})}, {"name", Strings({"x", std::nullopt})}});
  const table::Table b = MakeTable({{"score", Floats({0.5})}, {"id", Ints({3})}});
  auto out = RunStack(StackSpec{"source"}, {{"site_a", &a}, {"site_b", &b}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Names(*out), (std::vector<std::string>{"id", "name", "score", "source"}));
  EXPECT_EQ(Text(*out, "id"), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(Text(*out, "name"), (std::vector<std::string>{"x", "null", "null"}));
  EXPECT_EQ(Text(*out, "score"), (std::vector<std::string>{"null", "null", "0.5"}));
  EXPECT_EQ(Text(*out, "source"), (std::vector<std::string>{"site_a", "site_a", "site_b"}));
  // Null slots hold zero values, as every Column must.
  EXPECT_EQ((*out->GetColumn("score"))->float64_values()[0], 0.0);
}

TEST(Stack, Int64AndFloat64CombineToFloat64) {
  const table::Table a = MakeTable({{"x", Ints({1, std::nullopt})}});
  const table::Table b = MakeTable({{"x", Floats({2.5})}});
  const table::Table c = MakeTable({{"x", Ints({9007199254740993})}});
  auto out = RunStack(StackSpec{}, {{"a", &a}, {"b", &b}, {"c", &c}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->schema().field(0).type, table::DataType::kFloat64);
  EXPECT_EQ(Text(*out, "x"),
            (std::vector<std::string>{"1.0", "null", "2.5", "9007199254740992.0"}));
}

TEST(Stack, AllTypesConcatenate) {
  const table::Table a = testing::RandomTable(1, 30);
  const table::Table b = testing::RandomTable(2, 17);
  auto out = RunStack(StackSpec{}, {{"a", &a}, {"b", &b}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->num_rows(), 47);
  EXPECT_EQ(out->schema(), a.schema());
  for (int64_t row = 0; row < 47; ++row) {
    EXPECT_EQ(testing::RowText(*out, row),
              row < 30 ? testing::RowText(a, row) : testing::RowText(b, row - 30));
  }
  EXPECT_TRUE(out->Slice(30, 17).Equals(b));
}

TEST(Stack, SingleAndEmptyInputs) {
  const table::Table a = MakeTable({{"x", Ints({1})}});
  const table::Table empty = MakeTable({{"y", Strings({})}});
  auto out = RunStack(StackSpec{"from"}, {{"empty", &empty}, {"a", &a}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Names(*out), (std::vector<std::string>{"y", "x", "from"}));
  EXPECT_EQ(Text(*out, "y"), (std::vector<std::string>{"null"}));
  EXPECT_EQ(Text(*out, "from"), (std::vector<std::string>{"a"}));
  auto single = RunStack(StackSpec{}, {{"a", &a}});
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single->Equals(a));
}

TEST(Stack, Errors) {
  const table::Table a = MakeTable({{"x", Ints({1})}});
  const table::Table b = MakeTable({{"x", Strings({"1"})}});
  auto mismatch = RunStack(StackSpec{}, {{"first", &a}, {"second", &b}});
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mismatch.status().message(),
            "stack: column \"x\" is int64 in input \"first\" but string in input \"second\"; "
            "only int64 and float64 combine (to float64); convert one of them first");
  auto none = RunStack(StackSpec{}, {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  auto clash = RunStack(StackSpec{"x"}, {{"first", &a}});
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(clash.status().message().find("origin_column \"x\""), std::string::npos);
}

TEST(Stack, ParsesAndRejectsConfig) {
  auto spec = ParseStackSpec(Json(R"({"origin_column": "source"})"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->origin_column, "source");
  EXPECT_TRUE(ParseStackSpec(Json("{}"))->origin_column.empty());
  EXPECT_EQ(ParseStackSpec(Json(R"({"origin": "s"})")).status().message(),
            "stack config: unknown key \"origin\" (allowed keys: origin_column)");
  EXPECT_EQ(ParseStackSpec(Json(R"({"origin_column": 1})")).status().message(),
            "stack config: \"origin_column\": expected a non-empty string");
}

}  // namespace
}  // namespace assay::recipes
