#include "ml/task_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;

nlohmann::json Minimal() { return {{"input", "CHURN/training"}, {"target", "churned"}}; }

TEST(TaskSpec, DefaultsFillEverything) {
  absl::StatusOr<TaskSpec> spec = TaskSpec::FromJson(Minimal());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->type, "auto");
  EXPECT_EQ(spec->split.folds, 5);
  EXPECT_DOUBLE_EQ(spec->split.holdout, 0.2);
  EXPECT_EQ(spec->algorithms, (std::vector<std::string>{"xgboost", "linear"}));
  EXPECT_EQ(spec->search.strategy, "halving");
  EXPECT_EQ(spec->seed, 42u);
}

TEST(TaskSpec, RoundTripsThroughJson) {
  nlohmann::json json = Minimal();
  json["split"] = {{"folds", 3}, {"holdout", 0.25}, {"time_column", "as_of"}};
  json["algorithms"] = {"linear", "xgboost_rf"};
  json["search"] = {{"budget_seconds", 30}, {"max_trials", 7}, {"strategy", "random"}};
  json["threshold"] = {{"strategy", "cost"}, {"cost_fn", 5}};
  json["positive_class"] = 1;  // YAML gives numbers for bare 1
  json["explain"] = {{"subpopulation", "specialty"}};
  absl::StatusOr<TaskSpec> spec = TaskSpec::FromJson(json);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->positive_class, "1");
  EXPECT_EQ(spec->explain.subpopulation, (std::vector<std::string>{"specialty"}));
  absl::StatusOr<TaskSpec> again = TaskSpec::FromJson(spec->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), spec->ToJson());
  EXPECT_EQ(again->split.folds, 3);
  EXPECT_EQ(again->threshold.cost_fn, 5);
}

TEST(TaskSpec, UnknownKeyNamesItsPath) {
  nlohmann::json json = Minimal();
  json["split"] = {{"fold", 3}};
  absl::Status status = TaskSpec::FromJson(json).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("spec.split.fold: unknown key"));
  EXPECT_THAT(status.message(), HasSubstr("folds"));
}

TEST(TaskSpec, RejectsBadValues) {
  struct Case {
    nlohmann::json patch;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"split", {{"folds", 1}}}}, "spec.split.folds: must be an integer from 2 to 20, got 1"},
      {{{"split", {{"holdout", 0.9}}}}, "spec.split.holdout: must be from"},
      {{{"algorithms", {"xgboost", "svm"}}}, "must be one of xgboost, linear"},
      {{{"algorithms", {"linear", "linear"}}}, "listed twice"},
      {{{"algorithms", nlohmann::json::array()}}, "at least one"},
      {{{"type", "ranking"}}, "spec.type: must be one of auto, binary"},
      {{{"calibration", "beta"}}, "spec.calibration"},
      {{{"seed", -1}}, "spec.seed"},
      {{{"search", {{"strategy", "grid"}}}}, "spec.search.strategy"},
      {{{"threshold", {{"value", 2}}}}, "spec.threshold.value"},
      {{{"features", 3}}, "spec.features: must be a mapping"},
  };
  for (const Case& test : cases) {
    nlohmann::json json = Minimal();
    json.update(test.patch);
    absl::Status status = TaskSpec::FromJson(json).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << test.patch.dump();
    EXPECT_THAT(status.message(), HasSubstr(test.message)) << test.patch.dump();
  }
}

TEST(TaskSpec, RequiresInputAndTarget) {
  EXPECT_THAT(TaskSpec::FromJson({{"target", "y"}}).status().message(), HasSubstr("spec.input"));
  EXPECT_THAT(TaskSpec::FromJson({{"input", "P/d"}}).status().message(), HasSubstr("spec.target"));
  EXPECT_THAT(TaskSpec::FromJson(nlohmann::json::array()).status().message(),
              HasSubstr("must be a mapping"));
}

}  // namespace
}  // namespace assay::ml
