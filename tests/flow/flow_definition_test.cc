#include "flow/flow_definition.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::flow {
namespace {

using ::testing::HasSubstr;

constexpr char kFlow[] = R"(
project: CHURN
datasets:
  hcps:
    checks:
      - {type: not_null, columns: [hcp_id]}
recipes:
  - name: sorted
    type: sort
    inputs: [hcps]
    outputs: [hcps_sorted]
    config:
      keys: [{column: hcp_id, order: desc}]
  - name: top
    type: sql
    inputs: [hcps_sorted]
    outputs: [top_hcps]
    config:
      query: "SELECT * FROM hcps_sorted LIMIT 5"
)";

TEST(FlowDefinition, ParsesDatasetsRecipesAndConfigs) {
  auto flow = ParseFlowYaml(kFlow);
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_EQ(flow->project, "CHURN");
  ASSERT_EQ(flow->datasets.size(), 1u);
  EXPECT_EQ(flow->datasets.at("hcps").checks[0]["type"], "not_null");
  ASSERT_EQ(flow->recipes.size(), 2u);
  EXPECT_EQ(flow->recipes[0].name, "sorted");
  EXPECT_EQ(flow->recipes[0].type, "sort");
  EXPECT_EQ(flow->recipes[0].inputs, std::vector<std::string>{"hcps"});
  EXPECT_EQ(flow->recipes[0].config["keys"][0]["order"], "desc");
  EXPECT_TRUE(ValidateFlow(*flow).ok()) << ValidateFlow(*flow);
}

TEST(FlowDefinition, PlainScalarsBecomeTypedJsonAndQuotedStayStrings) {
  auto json = YamlToJson("a: 12\nb: '12'\nc: 1.5\nd: true\ne: null\nf: text\ng: -3\nh: 1e3\n");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ((*json)["a"], 12);
  EXPECT_EQ((*json)["b"], "12");
  EXPECT_EQ((*json)["c"], 1.5);
  EXPECT_EQ((*json)["d"], true);
  EXPECT_TRUE((*json)["e"].is_null());
  EXPECT_EQ((*json)["f"], "text");
  EXPECT_EQ((*json)["g"], -3);
  EXPECT_EQ((*json)["h"], 1000.0);
}

TEST(FlowDefinition, YamlRoundTripKeepsEveryValue) {
  auto flow = ParseFlowYaml(kFlow);
  ASSERT_TRUE(flow.ok());
  auto again = ParseFlowYaml(FlowToYaml(*flow));
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << FlowToYaml(*flow);
  EXPECT_EQ(again->project, flow->project);
  ASSERT_EQ(again->recipes.size(), flow->recipes.size());
  for (size_t index = 0; index < flow->recipes.size(); ++index) {
    EXPECT_EQ(again->recipes[index].Sha256(), flow->recipes[index].Sha256());
  }
  EXPECT_EQ(again->datasets.at("hcps").checks, flow->datasets.at("hcps").checks);
  // Strings that look like numbers or booleans survive as strings.
  const nlohmann::json tricky = {{"a", "12"}, {"b", "true"}, {"c", ""}, {"d", "null"}};
  auto parsed = YamlToJson(JsonToYaml(tricky));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, tricky);
}

TEST(FlowDefinition, RejectsMalformedFiles) {
  EXPECT_THAT(std::string(ParseFlowYaml("recipes: [").status().message()),
              HasSubstr("invalid YAML at line"));
  EXPECT_THAT(std::string(ParseFlowYaml("recipe: []").status().message()),
              HasSubstr("unknown key"));
  EXPECT_THAT(std::string(ParseFlowYaml("recipes:\n  - type: sort\n").status().message()),
              HasSubstr("needs a name"));
  EXPECT_THAT(std::string(ParseFlowYaml("recipes:\n  - name: x\n    typo: 1\n").status().message()),
              HasSubstr("recipes[1] (x).typo: unknown key"));
  EXPECT_THAT(std::string(ParseFlowYaml("datasets:\n  a:\n    checks: 3\n").status().message()),
              HasSubstr("expected a list of rules"));
}

TEST(FlowDefinition, ValidateFindsStructuralErrors) {
  auto cycle = ParseFlowYaml(R"(
recipes:
  - {name: a, type: sort, inputs: [y], outputs: [x], config: {keys: [{column: k}]}}
  - {name: b, type: sort, inputs: [x], outputs: [y], config: {keys: [{column: k}]}}
)");
  ASSERT_TRUE(cycle.ok());
  EXPECT_THAT(std::string(ValidateFlow(*cycle).message()), HasSubstr("cycle"));

  auto two_writers = ParseFlowYaml(R"(
recipes:
  - {name: a, type: sort, inputs: [s], outputs: [x], config: {keys: [{column: k}]}}
  - {name: b, type: sort, inputs: [s], outputs: [x], config: {keys: [{column: k}]}}
)");
  ASSERT_TRUE(two_writers.ok());
  EXPECT_THAT(std::string(ValidateFlow(*two_writers).message()),
              HasSubstr("dataset x is written by both a and b"));

  auto unknown_type = ParseFlowYaml(
      "recipes:\n  - {name: a, type: magic, inputs: [s], "
      "outputs: [x]}\n");
  ASSERT_TRUE(unknown_type.ok());
  EXPECT_THAT(std::string(ValidateFlow(*unknown_type).message()),
              HasSubstr("unknown recipe type \"magic\""));

  auto bad_config = ParseFlowYaml(
      "recipes:\n  - {name: a, type: sort, inputs: [s], "
      "outputs: [x], config: {kees: []}}\n");
  ASSERT_TRUE(bad_config.ok());
  EXPECT_THAT(std::string(ValidateFlow(*bad_config).message()), HasSubstr("recipe a: "));

  auto self = ParseFlowYaml(
      "recipes:\n  - {name: a, type: sort, inputs: [x], outputs: [x], "
      "config: {keys: [{column: k}]}}\n");
  ASSERT_TRUE(self.ok());
  EXPECT_THAT(std::string(ValidateFlow(*self).message()), HasSubstr("reads and writes x"));

  auto bad_rule = ParseFlowYaml("datasets:\n  s:\n    checks: [{type: nope}]\n");
  ASSERT_TRUE(bad_rule.ok());
  EXPECT_THAT(std::string(ValidateFlow(*bad_rule).message()), HasSubstr("dataset s checks"));
}

}  // namespace
}  // namespace assay::flow
