// RunGroup: the `where` filters compiled and evaluated with the formula language.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/group.h"
#include "relational_test_util.h"

namespace assay::recipes {
namespace {

using table::Table;
using ::testing::ElementsAre;
using testing::Floats;
using ::testing::HasSubstr;
using testing::Ints;
using testing::kNull;
using testing::MakeTable;
using testing::Render;
using testing::Strs;

Table Sales() {
  return MakeTable({{"region", Strs({"west", "east", "west", kNull, "east", "west"})},
                    {"units", Ints({3, kNull, 5, 7, 2, 5})},
                    {"price", Floats({1.0, 2.0, kNull, 4.0, 3.0, 2.0})}});
}

absl::StatusOr<Table> Group(const std::string& json) {
  auto spec = ParseGroupSpec(nlohmann::json::parse(json));
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return spec.status();
  return RunGroup(*spec, Sales());
}

TEST(GroupWhere, FiltersEachAggregationOnItsOwn) {
  auto grouped = Group(R"({"keys": "region", "aggregations": [
      {"agg": "count"},
      {"agg": "count", "as": "big_orders", "where": "units >= 5"},
      {"agg": "sum", "column": "units", "as": "cheap_units", "where": "price < 2.5"},
      {"agg": "mean", "column": "price", "where": "region = \"west\""}]})");
  ASSERT_TRUE(grouped.ok()) << grouped.status();
  // A null condition (units or price null) counts as false.
  EXPECT_THAT(Render(*grouped),
              ElementsAre("region|count|big_orders|cheap_units|price_mean", "east|2|0|null|null",
                          "west|3|2|8|1.5", "null|1|1|null|null"));
}

TEST(GroupWhere, WithoutFiltersMatchesTheKernel) {
  auto spec = ParseGroupSpec(nlohmann::json::parse(
      R"({"keys": "region", "aggregations": [{"agg": "sum", "column": "units"}]})"));
  ASSERT_TRUE(spec.ok());
  auto with_wrapper = RunGroup(*spec, Sales());
  auto kernel = RunGroupWithMasks(*spec, Sales(), {});
  ASSERT_TRUE(with_wrapper.ok() && kernel.ok());
  EXPECT_TRUE(with_wrapper->Equals(*kernel));
}

TEST(GroupWhere, FormulaErrorsNameTheAggregation) {
  auto unknown = Group(R"({"aggregations": [{"agg": "count", "as": "n", "where": "npi > 3"}]})");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("group: aggregation \"n\": where:"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("npi"));
  auto not_bool = Group(R"({"aggregations": [{"agg": "count", "where": "units + 1"}]})");
  EXPECT_EQ(not_bool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(not_bool.status().message(), HasSubstr("expected a condition (bool)"));
  // Spec errors are reported before any formula is evaluated.
  auto bad_column =
      Group(R"({"aggregations": [{"agg": "sum", "column": "nope", "where": "units > 1"}]})");
  EXPECT_THAT(bad_column.status().message(), HasSubstr("unknown column \"nope\""));
}

}  // namespace
}  // namespace assay::recipes
