#include "recipes/recipe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "table/column.h"

namespace assay::recipes {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

table::Table Providers() {
  auto ids = table::Column::FromInt64s({1, 2, 3, 4});
  table::ColumnBuilder specialty(table::DataType::kString);
  for (const char* value : {"ONC", "CARD", "ONC", "PCP"}) specialty.AppendString(value);
  auto made = table::Table::Make(
      table::Schema({{"hcp_id", table::DataType::kInt64}, {"specialty", table::DataType::kString}}),
      {*ids, specialty.Finish()});
  EXPECT_TRUE(made.ok()) << made.status();
  return *made;
}

TEST(Recipe, KnowsEveryType) {
  EXPECT_THAT(RecipeTypes(),
              ElementsAre("distinct", "group", "join", "pivot", "prepare", "python", "sample",
                          "score", "sort", "split", "sql", "stack", "top_n", "window"));
}

TEST(Recipe, ValidateChecksTypeArityAndConfig) {
  EXPECT_THAT(std::string(ValidateRecipe("magic", {}, 1, 1).message()),
              HasSubstr("unknown recipe type \"magic\" (types: distinct, group"));
  EXPECT_THAT(std::string(ValidateRecipe("join", {{"on", {"hcp_id"}}}, 1, 1).message()),
              HasSubstr("join takes 2 inputs, got 1"));
  EXPECT_THAT(std::string(ValidateRecipe("sort", {{"keys", {{{"column", "a"}}}}}, 1, 2).message()),
              HasSubstr("sort writes 1 output, got 2"));
  EXPECT_FALSE(ValidateRecipe("sort", {{"kees", 1}}, 1, 1).ok());
  EXPECT_TRUE(ValidateRecipe("sort", {{"keys", {{{"column", "a"}}}}}, 1, 1).ok());
  EXPECT_TRUE(ValidateRecipe("stack", nlohmann::json::object(), 3, 1).ok());
  EXPECT_THAT(std::string(ValidateRecipe("stack", nlohmann::json::object(), 0, 1).message()),
              HasSubstr("needs at least 1 input"));
}

TEST(Recipe, BindReportsUnknownColumnsBeforeRunning) {
  const nlohmann::json config = {
      {"steps", {{{"type", "formula"}, {"column", "x"}, {"expression", "npi_id + 1"}}}}};
  const absl::Status status = BindRecipe("prepare", config, {Providers().schema()});
  EXPECT_THAT(std::string(status.message()), HasSubstr("npi_id"));
  EXPECT_TRUE(BindRecipe("sort", {{"keys", {{{"column", "hcp_id"}}}}}, {}).ok());  // no binder
}

TEST(Recipe, RunsThroughTheDispatchWithALog) {
  const table::Table providers = Providers();
  const nlohmann::json config = {{"keys", {"specialty"}},
                                 {"aggregations",
                                  {{{"agg", "count"}, {"as", "n"}},
                                   {{"agg", "count"}, {"as", "big"}, {"where", "hcp_id > 2"}}}}};
  auto outcome = RunRecipe("group", config, {{"providers", &providers}}, 1, {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->outputs.size(), 1u);
  const table::Table& counts = outcome->outputs[0];
  EXPECT_EQ(counts.num_rows(), 3);
  EXPECT_EQ(counts.column(1).int64_values(), (std::vector<int64_t>{1, 2, 1}));  // CARD ONC PCP
  EXPECT_EQ(counts.column(2).int64_values(), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_THAT(outcome->log, HasSubstr("providers: 4 rows in, 3 rows out"));

  auto prepared = RunRecipe(
      "prepare", {{"steps", {{{"type", "filter"}, {"expression", "specialty = \"ONC\""}}}}},
      {{"providers", &providers}}, 1, {});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->outputs[0].num_rows(), 2);
  EXPECT_THAT(prepared->log, HasSubstr("step 1 (filter): 4 -> 2 rows"));

  auto split = RunRecipe("split", {{"method", "random"}, {"ratios", {0.5, 0.5}}, {"seed", 1}},
                         {{"providers", &providers}}, 3, {});
  EXPECT_THAT(std::string(split.status().message()), HasSubstr("declares 3"));
}

}  // namespace
}  // namespace assay::recipes
