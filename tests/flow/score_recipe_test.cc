#include "flow/score_recipe.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/runs.h"
#include "flow/lineage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/feature_pipeline.h"
#include "ml/label_mapping.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "recipes/recipe.h"
#include "registry/model_registry.h"
#include "tests/flow/flow_test_support.h"
#include "tests/testing/saved_model_fixture.h"

namespace assay::flow {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// As std::string, so that a failed match prints text rather than characters.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::vector<std::string> Statuses(const BuildReport& report) {
  std::vector<std::string> statuses;
  for (const auto& step : report.steps) statuses.push_back(step.recipe + ":" + step.status);
  return statuses;
}

// 40 providers; churn depends on visits and specialty, with some noise so the classes overlap.
std::string ProvidersCsv() {
  std::string csv = "hcp_id,visits,specialty,churned\n";
  const char* specialties[] = {"ONC", "CARD", "PCP"};
  for (int row = 1; row <= 40; ++row) {
    const double visits = (row * 7) % 13 + 0.5;
    const bool churned = (visits < 5) != (row % 5 == 0);
    absl::StrAppend(&csv, row, ",", visits, ",", specialties[row % 3], ",", churned ? 1 : 0, "\n");
  }
  return csv;
}

// A saved-model version made the way `assay ml deploy` stores one, without an AutoML run:
// a linear model on a fitted feature pipeline, its Scorer, the model object and a manifest.
struct TinyModel {
  std::unique_ptr<ml::Scorer> scorer;
  registry::SavedModelVersion version;
};

class ScoreRecipeTest : public FlowTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(FlowTest::SetUp());
    providers_ = Import("providers", ProvidersCsv());
    training_id_ = test::InsertTraining(*workspace_, actor_, providers_.id);
    ASSERT_GT(training_id_, 0);
  }

  table::Table Load(const catalog::DatasetVersion& version) {
    auto table = catalog::DatasetCatalog(*workspace_).LoadTable(version);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? *std::move(table) : table::Table();
  }

  // Trains a linear model with L2 strength `l2` on the providers and registers it as the next
  // version of CHURN/churn_model.
  TinyModel Deploy(double l2) {
    TinyModel made;
    const table::Table table = Load(providers_);
    auto labels = ml::LabelMapping::Infer(table, {"churned", "binary", "1"});
    EXPECT_TRUE(labels.ok()) << labels.status();
    if (!labels.ok()) return made;
    const ml::LabelledRows labelled = labels->Map(table).value();
    ml::PipelineSpec spec;
    spec.family = ml::FeatureFamily::kLinear;
    auto pipeline = ml::FeaturePipeline::Fit(table, "churned", labelled.rows, labelled.labels,
                                             ml::TaskType::kBinary, spec, /*seed=*/7);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    if (!pipeline.ok()) return made;
    const ml::FeatureMatrix x = pipeline->TransformTrainingRows(table, labelled.rows).value();
    ml::TrainParams params;
    params.algorithm = "linear";
    params.task = ml::TaskType::kBinary;
    params.hyper = {{"l2", l2}};
    auto trained = ml::TrainModel(params, {&x, &labelled.labels, nullptr}, nullptr);
    EXPECT_TRUE(trained.ok()) << trained.status();
    if (!trained.ok()) return made;
    made.scorer = std::make_unique<ml::Scorer>(
        *labels, *pipeline, std::shared_ptr<const ml::Model>(std::move(trained->model)),
        ml::Calibration{}, 0.5, "default 0.5");

    const std::string model_bytes = made.scorer->model().Serialize().value();
    const std::string model_sha = workspace_->objects().Put(model_bytes).value();
    const nlohmann::json manifest = {
        {"format", "assay-saved-model"},   {"format_version", 1},
        {"task_type", "binary"},           {"target", "churned"},
        {"algorithm", "linear"},           {"scoring", made.scorer->ToJson(model_sha)},
        {"model", {{"sha256", model_sha}}}};
    registry::NewVersion version;
    version.manifest_sha256 = workspace_->objects().Put(manifest.dump()).value();
    version.training_id = training_id_;
    version.trial_number = 1;
    version.algorithm = "linear";
    version.task_type = "binary";
    version.metric = "auc";
    auto registered = test::RegisterSavedModel(*workspace_, actor_, clock_.NowMicros(), "CHURN",
                                               "churn_model", version);
    EXPECT_TRUE(registered.ok()) << registered.status();
    if (!registered.ok()) return made;
    EXPECT_TRUE(registered->created);
    made.version = registered->version;
    return made;
  }

  // The table `assay score` would write for `input` with these options.
  table::Table Expected(const ml::Scorer& scorer, const catalog::DatasetVersion& input,
                        const ml::ScoreOptions& options) {
    auto scored = scorer.Score(Load(input), options);
    EXPECT_TRUE(scored.ok()) << scored.status();
    return scored.ok() ? *std::move(scored) : table::Table();
  }

  catalog::RunRecord Run(int64_t run_id) {
    auto run = catalog::RunCatalog(*workspace_).Get(run_id);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *std::move(run) : catalog::RunRecord();
  }

  catalog::DatasetVersion providers_;
  int64_t training_id_ = 0;
};

constexpr char kScoreFlow[] = R"(
recipes:
  - name: score_latest
    type: score
    inputs: [providers]
    outputs: [scored]
    config: {model: CHURN/churn_model, explain: 2, keep: [hcp_id, specialty]}
)";

TEST_F(ScoreRecipeTest, OutputIsTheScorersAndRebuildIsMemoized) {
  const TinyModel v1 = Deploy(0.1);
  ASSERT_NE(v1.scorer, nullptr);
  ASSERT_TRUE(Apply(kScoreFlow).ok());
  auto first = Build();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->ok) << first->failure;
  ASSERT_EQ(first->steps.size(), 1u);
  EXPECT_EQ(first->steps[0].status, "succeeded");
  EXPECT_EQ(first->steps[0].reason, "never built");

  auto scored = Latest("scored");
  ASSERT_TRUE(scored.ok()) << scored.status();
  const table::Table output = Load(*scored);
  ml::ScoreOptions options;
  options.explain_top_k = 2;
  options.keep_columns = {"hcp_id", "specialty"};
  const table::Table expected = Expected(*v1.scorer, providers_, options);
  EXPECT_EQ(output.num_rows(), 40);
  EXPECT_TRUE(output.GetColumn("prediction").ok());
  EXPECT_TRUE(output.GetColumn("probability").ok());
  EXPECT_TRUE(output.GetColumn("shap_2_value").ok());
  EXPECT_EQ(output.schema().field(0).name, "hcp_id");
  EXPECT_EQ(output.schema(), expected.schema());
  EXPECT_TRUE(output.Equals(expected));

  // The run names the model version it read, in its log, environment and lineage.
  const catalog::RunRecord run = Run(first->steps[0].run_id);
  EXPECT_THAT(run.log, HasSubstr(absl::StrCat("scored with CHURN/churn_model@v1 (manifest sha256 ",
                                              v1.version.sha256)));
  EXPECT_EQ(run.environment["model"]["ref"], "CHURN/churn_model@v1");
  EXPECT_EQ(run.environment["model"]["manifest_sha256"], v1.version.sha256);
  EXPECT_EQ(run.environment["model"]["pinned"], false);
  auto lineage = TraceLineage(*workspace_, *scored, /*downstream=*/false);
  ASSERT_TRUE(lineage.ok()) << lineage.status();
  bool named = false;
  for (const auto& node : lineage->nodes) {
    named = named || (node.kind == "run" &&
                      node.label.find("scored with CHURN/churn_model@v1") != std::string::npos);
  }
  EXPECT_TRUE(named);

  auto second = Build();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(second->ok) << second->failure;
  EXPECT_EQ(second->steps[0].status, "reused");
  EXPECT_EQ(second->steps[0].run_id, first->steps[0].run_id);
  EXPECT_THAT(second->steps[0].reason, HasSubstr("with CHURN/churn_model@v1"));
  auto status = ShowFlow(*workspace_, "CHURN");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->recipes[0].state, "up to date");
}

TEST_F(ScoreRecipeTest, NewModelVersionRerunsUnpinnedRecipeOnly) {
  const TinyModel v1 = Deploy(0.1);
  ASSERT_NE(v1.scorer, nullptr);
  ASSERT_TRUE(Apply(R"(
recipes:
  - name: score_latest
    type: score
    inputs: [providers]
    outputs: [scored_latest]
    config: {model: CHURN/churn_model}
  - name: score_pinned
    type: score
    inputs: [providers]
    outputs: [scored_pinned]
    config: {model: CHURN/churn_model@v1}
)")
                  .ok());
  auto first = Build();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->ok) << first->failure;

  // A very strong penalty: another model, whose probabilities differ from v1's.
  const TinyModel v2 = Deploy(100.0);
  ASSERT_NE(v2.scorer, nullptr);
  ASSERT_EQ(v2.version.version, 2);
  auto shown = ShowFlow(*workspace_, "CHURN");
  ASSERT_TRUE(shown.ok()) << shown.status();
  ASSERT_EQ(shown->recipes.size(), 2u);
  EXPECT_EQ(shown->recipes[0].name, "score_latest");
  EXPECT_EQ(shown->recipes[0].state, "stale");
  EXPECT_THAT(shown->recipes[0].detail, HasSubstr("the model has a newer version"));
  EXPECT_EQ(shown->recipes[1].state, "up to date");

  auto second = Build();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(second->ok) << second->failure;
  EXPECT_THAT(Statuses(*second), ElementsAre("score_latest:succeeded", "score_pinned:reused"));
  EXPECT_EQ(second->steps[0].reason,
            "new model version CHURN/churn_model@v2 (last run used CHURN/churn_model@v1)");
  EXPECT_EQ(second->steps[1].run_id, first->steps[1].run_id);

  auto latest = Latest("scored_latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
  const table::Table expected_v2 = Expected(*v2.scorer, providers_, {});
  const table::Table expected_v1 = Expected(*v1.scorer, providers_, {});
  EXPECT_FALSE(expected_v2.Equals(expected_v1));  // else the test could not tell them apart
  EXPECT_TRUE(Load(*latest).Equals(expected_v2));
  auto pinned = Latest("scored_pinned");
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->version, 1);
  EXPECT_TRUE(Load(*pinned).Equals(expected_v1));
  EXPECT_EQ(Run(second->steps[0].run_id).environment["model"]["ref"], "CHURN/churn_model@v2");

  auto third = Build();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_THAT(Statuses(*third), ElementsAre("score_latest:reused", "score_pinned:reused"));
}

TEST_F(ScoreRecipeTest, UnknownModelFailsTheRunWithTheFix) {
  ASSERT_TRUE(Apply(R"(
recipes:
  - name: score_latest
    type: score
    inputs: [providers]
    outputs: [scored]
    config: {model: CHURN/nope}
)")
                  .ok());
  auto plan = Build({}, false, /*dry_run=*/true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps[0].status, "planned");
  EXPECT_THAT(plan->steps[0].reason, HasSubstr("will fail: model CHURN/nope"));
  auto shown = ShowFlow(*workspace_, "CHURN");
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->recipes[0].state, "blocked");
  EXPECT_THAT(shown->recipes[0].detail, HasSubstr("no saved model \"nope\""));

  auto report = Build();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->ok);
  ASSERT_EQ(report->steps.size(), 1u);
  EXPECT_EQ(report->steps[0].status, "failed");
  EXPECT_THAT(report->steps[0].error, HasSubstr("project CHURN has no saved model \"nope\""));
  EXPECT_THAT(report->steps[0].error,
              HasSubstr("`assay ml deploy CHURN TASK/best --saved-model nope`"));
  EXPECT_THAT(report->failure, HasSubstr("recipe score_latest failed"));
  const catalog::RunRecord run = Run(report->steps[0].run_id);
  EXPECT_EQ(run.status, catalog::kRunFailed);
  EXPECT_THAT(run.error, HasSubstr("assay ml deploy"));
  EXPECT_FALSE(Latest("scored").ok());

  // Once the model exists the same recipe builds.
  ASSERT_NE(Deploy(0.1).scorer, nullptr);
  ASSERT_TRUE(Apply(R"(
recipes:
  - name: score_latest
    type: score
    inputs: [providers]
    outputs: [scored]
    config: {model: CHURN/churn_model@v3}
)")
                  .ok());
  auto missing_version = Build();
  ASSERT_TRUE(missing_version.ok()) << missing_version.status();
  EXPECT_FALSE(missing_version->ok);
  EXPECT_THAT(missing_version->steps[0].error,
              HasSubstr("saved model CHURN/churn_model has no version v3 (latest is v1)"));
}

TEST_F(ScoreRecipeTest, ScoringErrorFailsTheRunNamingTheColumn) {
  const TinyModel v1 = Deploy(0.1);
  ASSERT_NE(v1.scorer, nullptr);
  Import("other", "hcp_id,specialty\n1,ONC\n");
  ASSERT_TRUE(Apply(R"(
recipes:
  - name: score_other
    type: score
    inputs: [other]
    outputs: [scored]
    config: {model: CHURN/churn_model}
)")
                  .ok());
  auto report = Build();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->steps[0].status, "failed");
  EXPECT_THAT(report->steps[0].error, HasSubstr("scoring other with CHURN/churn_model@v1"));
  EXPECT_THAT(report->steps[0].error, HasSubstr("visits"));
}

TEST_F(ScoreRecipeTest, BadConfigIsRejectedWhenApplied) {
  const auto apply = [&](const std::string& inputs, const std::string& config) {
    return Apply(absl::StrCat("recipes:\n  - name: s\n    type: score\n    inputs: ", inputs,
                              "\n    outputs: [scored]\n    config: ", config, "\n"))
        .status();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "missing required key \"model\""},
      {"{model: churn_model}", "\"churn_model\" is not a saved-model reference"},
      {"{model: \"\"}", "\"model\""},
      {"{model: OTHER/churn_model}",
       "OTHER/churn_model belongs to project OTHER; a flow scores with its own project's saved "
       "models (use CHURN/churn_model)"},
      {"{model: CHURN/churn_model, explain: -1}", "\"explain\": expected an integer >= 0"},
      {"{model: CHURN/churn_model, explain: 1.5}", "\"explain\": expected an integer >= 0"},
      {"{model: CHURN/churn_model, explain: 99999999999}", "\"explain\": expected an integer"},
      {"{model: CHURN/churn_model, keep: hcp_id}", "\"keep\""},
      {"{model: CHURN/churn_model, keep: [1]}", "\"keep\""},
      {"{model: CHURN/churn_model, explian: 2}", "unknown key \"explian\""},
  };
  for (const auto& [config, message] : cases) {
    const absl::Status status = apply("[providers]", config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << config;
    EXPECT_THAT(Message(status), HasSubstr(message)) << config;
    EXPECT_THAT(Message(status), HasSubstr("recipe s: score config")) << config;
  }
  Import("other", "hcp_id\n1\n");
  EXPECT_THAT(Message(apply("[providers, other]", "{model: CHURN/churn_model}")),
              HasSubstr("score takes 1 input, got 2"));
  // Nothing was stored, and a valid config applies.
  auto exported = ExportFlow(*workspace_, "CHURN");
  ASSERT_TRUE(exported.ok());
  EXPECT_TRUE(exported->recipes.empty());
  EXPECT_TRUE(apply("[providers]", "{model: CHURN/churn_model@v2, explain: 0, keep: []}").ok());

  // A flow.yaml that names its project is checked against it by ValidateFlow too.
  auto flow = ParseFlowYaml(
      "project: CHURN\nrecipes:\n  - {name: s, type: score, inputs: [providers], outputs: [x], "
      "config: {model: OTHER/m}}\n");
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_THAT(Message(ValidateFlow(*flow)), HasSubstr("belongs to project OTHER"));
}

TEST_F(ScoreRecipeTest, IsARecipeTypeThatRunsOnlyInAFlow) {
  EXPECT_THAT(recipes::RecipeTypes(), Contains("score"));
  EXPECT_THAT(Message(recipes::ValidateRecipe("score", nlohmann::json::array(), 1, 1)),
              HasSubstr("score config: expected an object"));
  EXPECT_THAT(Message(recipes::ValidateRecipe("score", {{"model", "CHURN/m"}}, 1, 2)),
              HasSubstr("score writes 1 output, got 2"));
  const table::Table providers = Load(providers_);
  auto outcome = recipes::RunRecipe("score", {{"model", "CHURN/churn_model"}},
                                    {{"providers", &providers}}, 1, {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(outcome.status()), HasSubstr("assay score"));
}

}  // namespace
}  // namespace assay::flow
