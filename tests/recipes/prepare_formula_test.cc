// Prepare processors built on the formula language: formula, filter, flag, if_then_else.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/prepare.h"
#include "tests/recipes/prepare_test_tables.h"

namespace assay::recipes {
namespace {

using namespace ::assay::recipes::testing;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;
using table::DataType;

table::Table Orders() {
  return MakeTable({{"price", Floats({2.5, 10.0, std::nullopt, 4.0})},
                    {"qty", Ints({2, 1, 3, 0})},
                    {"drug", Strings({"a", "b", "c", "d"})}});
}

TEST(PrepareFormula, NewAndReplacedColumns) {
  auto result = RunSteps(R"j([{"type": "formula", "column": "total", "expression": "price * qty"},
                             {"type": "formula", "column": "qty", "expression": "qty + 1"}])j"_json,
                         Orders());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Names(result->output), ElementsAre("price", "qty", "drug", "total"));
  EXPECT_EQ(result->output.schema().field(3).type, DataType::kFloat64);
  EXPECT_THAT(Cells(result->output, "total"), ElementsAre("5.0", "10.0", "null", "0.0"));
  EXPECT_THAT(Cells(result->output, "qty"), ElementsAre("3", "2", "4", "1"));
}

TEST(PrepareFormula, NowComesFromTheContext) {
  auto result = RunSteps(R"j([{"type": "formula", "column": "at", "expression": "now()"}])j"_json,
                         Orders(), /*now_micros=*/1'700'000'000'000'000);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(Cells(result->output, "at")[0], "2023-11-14T22:13:20Z");
}

TEST(PrepareFormula, ErrorsAreReportedAtBindWithStepAndKey) {
  auto result = RunSteps(R"j([{"type": "rename", "columns": {"qty": "n"}},
                             {"type": "formula", "column": "t", "expression": "price * qty"}])j"_json,
                         Orders());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("prepare step 2 (formula): expression \"price * qty\": position"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("qty"));
}

TEST(PrepareFilter, KeepRemoveAndNullCondition) {
  auto kept = RunSteps(R"j([{"type": "filter", "expression": "price > 3"}])j"_json, Orders());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_THAT(Cells(kept->output, "drug"), ElementsAre("b", "d"));
  EXPECT_EQ(kept->log[0].rows_out, 2);
  // The null condition (row c) is not true, so "remove" keeps it.
  EXPECT_THAT(Cells(RunOk(R"j({"type": "filter", "expression": "price > 3",
                              "action": "remove"})j"_json,
                          Orders()),
                    "drug"),
              ElementsAre("a", "c"));
  auto not_bool = RunSteps(R"j([{"type": "filter", "expression": "price + 1"}])j"_json, Orders());
  ASSERT_FALSE(not_bool.ok());
  EXPECT_THAT(std::string(not_bool.status().message()), HasSubstr("expected bool"));
}

TEST(PrepareFlag, NullConditionIsNotFlagged) {
  auto result = RunSteps(
      R"j([{"type": "flag", "column": "big", "expression": "price * qty >= 5"}])j"_json, Orders());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "big"), ElementsAre("true", "true", "false", "false"));
  EXPECT_EQ(result->log[0].detail, "2 rows flagged");
}

TEST(PrepareIfThenElse, BranchesWidenAndDefaultToNull) {
  const auto out = RunOk(R"j({"type": "if_then_else", "into": "adj", "if": "qty > 1",
                             "then": "price", "else": "qty"})j"_json,
                         Orders());
  EXPECT_EQ(out.schema().field(3).type, DataType::kFloat64);
  EXPECT_THAT(Cells(out, "adj"), ElementsAre("2.5", "1.0", "null", "0.0"));
  const auto no_else = RunOk(R"j({"type": "if_then_else", "into": "label", "if": "price > 3",
                                 "then": "'high'"})j"_json,
                             Orders());
  EXPECT_THAT(Cells(no_else, "label"), ElementsAre("null", "high", "null", "high"));
  auto mixed = RunSteps(R"j([{"type": "if_then_else", "into": "x", "if": "qty > 1",
                             "then": "drug", "else": "qty"}])j"_json,
                        Orders());
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(std::string(mixed.status().message()),
              HasSubstr("then gives string but else gives int64"));
}

}  // namespace
}  // namespace assay::recipes
