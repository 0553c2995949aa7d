#include "training/training_service.h"

#include <cmath>
#include <string>

#include "catalog/datasets.h"
#include "catalog/workspace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/model_report.h"
#include "ml/split_plan.h"
#include "tests/testing/workspace_fixture.h"

namespace assay::training {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = test::kFixtureStartMicros;

// A CSV of `rows` HCPs whose outcome depends on volume, trend and specialty. `kind` is
// "binary" (yes/no), "multiclass" (low/mid/high) or "regression".
std::string MakeCsv(const std::string& kind, int rows = 300) {
  std::string csv = "hcp_id,volume,trend,specialty,region,outcome\n";
  ml::SplitMix64 rng(3);
  const char* kSpecialties[] = {"CARD", "ONC", "PCP", "ENDO"};
  const char* kRegions[] = {"north", "south", "east"};
  for (int row = 0; row < rows; ++row) {
    const double v = std::round(rng.Uniform() * 1000) / 10;
    const double t = std::round((rng.Uniform() * 2 - 1) * 1000) / 1000;
    const int s = static_cast<int>(rng.Below(4));
    const double margin = -0.05 * v - 2.5 * t + (s == 1 ? 1.2 : 0.0) + 2.0;
    std::string outcome;
    if (kind == "regression") {
      outcome = std::to_string(std::round((margin * 10 + rng.Uniform()) * 100) / 100);
    } else if (kind == "multiclass") {
      const double m = margin + (rng.Uniform() - 0.5) * 2;
      outcome = m < -1 ? "low" : m < 1.5 ? "mid" : "high";
    } else {
      outcome = rng.Uniform() < 1 / (1 + std::exp(-margin)) ? "yes" : "no";
    }
    csv += std::to_string(100000 + row) + "," + std::to_string(v) + "," + std::to_string(t) + "," +
           kSpecialties[s] + "," + kRegions[rng.Below(3)] + "," + outcome + "\n";
  }
  return csv;
}

class TrainingServiceTest : public test::WorkspaceFixture {
 protected:
  TrainingServiceTest() : WorkspaceFixture({"alice", "test"}) {}

  void Import(const std::string& name, const std::string& csv) {
    auto imported = ImportCsvText(name, csv);
    ASSERT_TRUE(imported.ok()) << imported.status();
  }

  nlohmann::json Spec(const std::string& input, const std::string& type) {
    return {{"input", "CHURN/" + input},
            {"target", "outcome"},
            {"type", type},
            {"split", {{"folds", 3}}},
            {"search", {{"max_trials", 3}, {"budget_seconds", 0}, {"max_rounds", 30}}},
            {"explain", {{"subpopulation", {"region"}}, {"shap_rows", 100}}}};
  }

  // Creates, trains and deploys `type`; returns the deployed version.
  registry::SavedModelVersion TrainAndDeploy(const std::string& type) {
    Import(type, MakeCsv(type));
    TrainingService service(*workspace_);
    EXPECT_TRUE(service.CreateTask("CHURN", type, Spec(type, type), actor_).ok());
    auto training = service.Train("CHURN", type, {}, actor_, nullptr);
    EXPECT_TRUE(training.ok()) << training.status();
    auto deployed = service.Deploy("CHURN", type, "best", type + "_model", actor_);
    EXPECT_TRUE(deployed.ok()) << deployed.status();
    return deployed.ok() ? deployed->version : registry::SavedModelVersion{};
  }
};

TEST_F(TrainingServiceTest, EveryTaskTypeDeploysScoresAndRendersItsDocument) {
  for (const std::string type : {"binary", "multiclass", "regression"}) {
    SCOPED_TRACE(type);
    const registry::SavedModelVersion version = TrainAndDeploy(type);
    ASSERT_EQ(version.version, 1);
    EXPECT_EQ(version.task_type, type);
    TrainingService service(*workspace_);
    auto document = service.ModelDocument(version, kNow);
    ASSERT_TRUE(document.ok()) << document.status();
    auto html = ml::RenderModelDocument(*document);
    ASSERT_TRUE(html.ok()) << html.status();
    EXPECT_THAT(*html, HasSubstr(type + "_model"));
    EXPECT_EQ(html->find("<script"), std::string::npos);

    auto scorer = service.LoadScorer(version);
    ASSERT_TRUE(scorer.ok()) << scorer.status();
    auto table = catalog::DatasetCatalog(*workspace_)
                     .LoadTable(*catalog::DatasetCatalog(*workspace_)
                                     .Resolve(*catalog::ParseDatasetRef("CHURN/" + type)));
    ASSERT_TRUE(table.ok());
    auto scored = scorer->Score(*table, ml::ScoreOptions{});
    ASSERT_TRUE(scored.ok()) << scored.status();
    EXPECT_EQ(scored->num_rows(), 300);
    EXPECT_TRUE(scored->GetColumn("prediction").ok());
    EXPECT_TRUE(scored->GetColumn("hcp_id").ok());
  }
}

TEST_F(TrainingServiceTest, TrainRecordsTheLeaderboardAndDeployIsContentAddressed) {
  const registry::SavedModelVersion first = TrainAndDeploy("binary");
  TrainingService service(*workspace_);
  // The same trial again: the same manifest, no new version.
  auto again = service.Deploy("CHURN", "binary", "best", "binary_model", actor_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.sha256, first.sha256);

  auto training = MlTaskCatalog(*workspace_).GetTraining("CHURN", "binary");
  ASSERT_TRUE(training.ok());
  EXPECT_EQ(training->status, "complete");
  EXPECT_EQ(training->trials.size(), 3u);
  EXPECT_EQ(training->environment["assay_version"], AssayVersion());
  // Another complete trial is finalized at deploy time and becomes v2.
  for (const TrialRow& trial : training->trials) {
    if (trial.status != "complete" || trial.number == training->best_trial) continue;
    auto other =
        service.Deploy("CHURN", "binary", std::to_string(trial.number), "binary_model", actor_);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_TRUE(other->created);
    EXPECT_EQ(other->version.version, 2);
    EXPECT_EQ(other->version.trial_number, trial.number);
    EXPECT_NEAR(other->version.cv_score, trial.cv_mean, 1e-12);
    break;
  }
  // Lineage: the manifest names the dataset version and the training.
  auto manifest = registry::ModelRegistry(*workspace_).LoadManifest(first);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ((*manifest)["lineage"]["dataset"]["ref"], "CHURN/binary");
  EXPECT_EQ((*manifest)["lineage"]["training"]["number"], 1);
  EXPECT_EQ((*manifest)["lineage"]["task"]["ref"], "CHURN/binary@v1");
  EXPECT_TRUE(workspace_->objects().Contains((*manifest)["model"]["sha256"].get<std::string>()));
  EXPECT_FALSE((*manifest)["trial"].contains("seconds"));

  EXPECT_EQ(service.Deploy("CHURN", "binary", "99", "binary_model", actor_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(service.Deploy("CHURN", "binary", "x", "binary_model", actor_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(service.Deploy("CHURN", "binary", "best", "bad name!", actor_).ok());
  auto verify = workspace_->VerifyAudit();
  ASSERT_TRUE(verify.ok());
}

TEST_F(TrainingServiceTest, CreateTaskChecksTheSpecAgainstTheDataset) {
  Import("binary", MakeCsv("binary", 100));
  TrainingService service(*workspace_);
  nlohmann::json spec = Spec("binary", "binary");
  spec["split"]["fold"] = 3;
  absl::Status status = service.CreateTask("CHURN", "t", spec, actor_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("spec.split.fold"));

  spec = Spec("binary", "binary");
  spec["target"] = "churned";
  status = service.CreateTask("CHURN", "t", spec, actor_).status();
  EXPECT_THAT(status.message(), HasSubstr("no column \"churned\""));

  spec = Spec("missing", "binary");
  EXPECT_EQ(service.CreateTask("CHURN", "t", spec, actor_).status().code(),
            absl::StatusCode::kNotFound);

  spec = Spec("binary", "binary");
  spec["input"] = "OTHER/binary";
  EXPECT_THAT(service.CreateTask("CHURN", "t", spec, actor_).status().message(),
              HasSubstr("own datasets"));

  spec = Spec("binary", "binary");
  spec["features"] = {{"exclude", {"nope"}}};
  // Unknown columns in the feature spec are found when training, against the data.
  ASSERT_TRUE(service.CreateTask("CHURN", "t", spec, actor_).ok());
  status = service.Train("CHURN", "t", {}, actor_, nullptr).status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("nope"));
  // The failed training is recorded with its error.
  auto failed = MlTaskCatalog(*workspace_).GetTraining("CHURN", "t");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->status, "failed");
  EXPECT_THAT(failed->error, HasSubstr("nope"));
  EXPECT_EQ(service.Deploy("CHURN", "t", "best", "m", actor_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(service.Train("CHURN", "unknown", {}, actor_, nullptr).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TrainingServiceTest, OverridesReplaceTheSpecBudgetAndTrials) {
  Import("binary", MakeCsv("binary", 300));
  TrainingService service(*workspace_);
  ASSERT_TRUE(service.CreateTask("CHURN", "t", Spec("binary", "binary"), actor_).ok());
  TrainOverrides overrides;
  overrides.max_trials = 2;
  overrides.threads = 1;
  auto training = service.Train("CHURN", "t", overrides, actor_, nullptr);
  ASSERT_TRUE(training.ok()) << training.status();
  EXPECT_EQ(training->trials.size(), 2u);
  EXPECT_EQ(training->summary["stop_reason"], "max_trials");
  EXPECT_EQ(training->summary["threads"], 1);
}

}  // namespace
}  // namespace assay::training
