#include "training/ml_task_catalog.h"

#include <string>
#include <utility>
#include <vector>

#include "catalog/recipes.h"
#include "catalog/workspace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/workspace_fixture.h"

namespace assay::training {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = test::kFixtureStartMicros;

// As std::string, so that a failed match prints text rather than characters.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

nlohmann::json Spec(const std::string& target, int seed = 7) {
  return {{"input", "CHURN/providers"},
          {"target", target},
          {"task_type", "binary"},
          {"metric", "auc"},
          {"seed", seed},
          {"algorithms", {"xgboost", "linear"}}};
}

TrialRow Trial(int number, const std::string& algorithm, double cv_mean) {
  TrialRow trial;
  trial.number = number;
  trial.algorithm = algorithm;
  trial.status = "complete";
  trial.cv_mean = cv_mean;
  trial.cv_std = 0.01 * number;
  trial.seconds = 1.5 * number;
  trial.trial = {{"number", number}, {"params", {{"max_depth", number + 2}}}};
  return trial;
}

class MlTaskCatalogTest : public test::WorkspaceFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(WorkspaceFixture::SetUp());
    auto imported = ImportCsvText("providers", "hcp_id,churned\n1,0\n2,1\n");
    ASSERT_TRUE(imported.ok()) << imported.status();
    dataset_version_id_ = imported->version.id;
  }

  absl::StatusOr<std::pair<MlTaskVersion, bool>> Put(const std::string& project,
                                                     const std::string& name,
                                                     const nlohmann::json& spec) {
    std::pair<MlTaskVersion, bool> result;
    absl::Status status = workspace_->Mutate(actor_, [&](catalog::Workspace::Change& change) {
      auto put =
          MlTaskCatalog::PutTask(change, project, name, spec, actor_.user, clock_.NowMicros());
      if (!put.ok()) return put.status();
      result = *std::move(put);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return result;
  }

  absl::StatusOr<Training> Record(Training training) {
    Training recorded;
    absl::Status status = workspace_->Mutate(actor_, [&](catalog::Workspace::Change& change) {
      auto stored = MlTaskCatalog::RecordTraining(change, training);
      if (!stored.ok()) return stored.status();
      recorded = *std::move(stored);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return recorded;
  }

  // A complete training of `task` with trials given out of order (3, 1, 2).
  Training CompleteTraining(const MlTaskVersion& task) {
    Training training;
    training.task = task;
    training.dataset_version_id = dataset_version_id_;
    training.status = "complete";
    training.user = "alice";
    training.started_at_micros = clock_.NowMicros();
    training.finished_at_micros = clock_.NowMicros() + 42'000'000;
    training.budget_seconds = 60;
    training.best_trial = 2;
    training.summary = {{"best", {{"trial", 2}, {"cv_mean", 0.84}}}};
    training.result_sha256 = std::string(64, 'a');
    training.environment = {{"assay", "0.1.0"}, {"xgboost", "1.7.4"}};
    training.trials = {Trial(3, "linear", 0.80), Trial(1, "xgboost", 0.82),
                       Trial(2, "xgboost", 0.84)};
    return training;
  }

  void ExpectAuditIntact() {
    auto report = workspace_->VerifyAudit();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok) << report->problem;
  }

  int64_t dataset_version_id_ = 0;
};

TEST_F(MlTaskCatalogTest, FirstPutCreatesVersionOneAndIsAudited) {
  const nlohmann::json spec = Spec("churned");
  auto put = Put("CHURN", "churn", spec);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(put->second);
  const MlTaskVersion& task = put->first;
  EXPECT_GT(task.id, 0);
  EXPECT_EQ(task.project, "CHURN");
  EXPECT_EQ(task.name, "churn");
  EXPECT_EQ(task.version, 1);
  EXPECT_EQ(task.Ref(), "CHURN/churn@v1");
  EXPECT_EQ(task.spec, spec);
  EXPECT_EQ(task.spec_sha256, catalog::CanonicalJsonSha256(spec));
  EXPECT_EQ(task.created_by, "alice");
  EXPECT_EQ(task.created_at_micros, kNow);

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries), ElementsAre("ml_task.create"));
  const audit::AuditEvent& event = entries[0].event;
  EXPECT_EQ(event.actor, "alice");
  EXPECT_EQ(event.project_key, "CHURN");
  EXPECT_EQ(event.object_type, "ml_task");
  EXPECT_EQ(event.object_version, "v1");
  EXPECT_EQ(event.before_hash, "");
  EXPECT_EQ(event.after_hash, task.spec_sha256);
  EXPECT_EQ(event.details["input"], "CHURN/providers");
  EXPECT_EQ(event.details["target"], "churned");
  ExpectAuditIntact();
}

TEST_F(MlTaskCatalogTest, UnchangedSpecMakesNoNewVersion) {
  auto v1 = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  clock_.Advance(5'000'000);
  // Built in another key order: the same JSON value, so the same task version.
  nlohmann::json same = nlohmann::json::object();
  same["seed"] = 7;
  same["algorithms"] = {"xgboost", "linear"};
  same["metric"] = "auc";
  same["task_type"] = "binary";
  same["target"] = "churned";
  same["input"] = "CHURN/providers";
  auto again = Put("CHURN", "churn", same);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.version, 1);
  EXPECT_EQ(again->first.id, v1->first.id);
  EXPECT_EQ(again->first.created_at_micros, kNow);
  EXPECT_THAT(Actions(AuditFor("CHURN/churn")), ElementsAre("ml_task.create"));
}

TEST_F(MlTaskCatalogTest, ChangedSpecMakesVersionTwo) {
  auto v1 = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  auto v2 = Put("CHURN", "churn", Spec("churned", /*seed=*/8));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_TRUE(v2->second);
  EXPECT_EQ(v2->first.version, 2);
  EXPECT_EQ(v2->first.spec["seed"], 8);
  EXPECT_NE(v2->first.spec_sha256, v1->first.spec_sha256);

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries), ElementsAre("ml_task.create", "ml_task.update"));
  EXPECT_EQ(entries[1].event.object_version, "v2");
  EXPECT_EQ(entries[1].event.before_hash, v1->first.spec_sha256);
  EXPECT_EQ(entries[1].event.after_hash, v2->first.spec_sha256);

  // Going back to the first spec is a change from the latest, so it is v3.
  auto v3 = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_TRUE(v3->second);
  EXPECT_EQ(v3->first.version, 3);
  EXPECT_EQ(v3->first.spec_sha256, v1->first.spec_sha256);
  ExpectAuditIntact();
}

TEST_F(MlTaskCatalogTest, GetTaskLatestAndByVersion) {
  ASSERT_TRUE(Put("CHURN", "churn", Spec("churned", 1)).ok());
  ASSERT_TRUE(Put("CHURN", "churn", Spec("churned", 2)).ok());
  MlTaskCatalog tasks(*workspace_);
  auto latest = tasks.GetTask("CHURN", "churn");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->spec["seed"], 2);
  auto first = tasks.GetTask("CHURN", "churn", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->spec, Spec("churned", 1));
  EXPECT_EQ(first->spec_sha256, catalog::CanonicalJsonSha256(Spec("churned", 1)));
}

TEST_F(MlTaskCatalogTest, GetTaskNotFoundNamesWhatExists) {
  MlTaskCatalog tasks(*workspace_);
  auto none = tasks.GetTask("CHURN", "churn");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(none.status()), HasSubstr("project CHURN has no ML task \"churn\""));
  EXPECT_THAT(Message(none.status()), HasSubstr("none yet"));

  ASSERT_TRUE(Put("CHURN", "zeta", Spec("churned", 1)).ok());
  ASSERT_TRUE(Put("CHURN", "alpha", Spec("churned", 1)).ok());
  ASSERT_TRUE(Put("CHURN", "alpha", Spec("churned", 2)).ok());
  auto missing = tasks.GetTask("CHURN", "churn");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()), HasSubstr("(tasks: alpha, zeta)"));

  auto no_version = tasks.GetTask("CHURN", "alpha", 5);
  EXPECT_EQ(no_version.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(no_version.status()),
              HasSubstr("ML task CHURN/alpha has no version v5 (latest is v2)"));

  EXPECT_EQ(tasks.GetTask("NOPE", "churn").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MlTaskCatalogTest, ListTasksGivesLatestVersionsByName) {
  MlTaskCatalog tasks(*workspace_);
  auto empty = tasks.ListTasks("CHURN");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  ASSERT_TRUE(Put("CHURN", "zeta", Spec("churned", 1)).ok());
  ASSERT_TRUE(Put("CHURN", "alpha", Spec("churned", 1)).ok());
  ASSERT_TRUE(Put("CHURN", "alpha", Spec("lapsed", 1)).ok());
  auto listed = tasks.ListTasks("CHURN");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "alpha");
  EXPECT_EQ((*listed)[0].version, 2);
  EXPECT_EQ((*listed)[0].spec["target"], "lapsed");
  EXPECT_EQ((*listed)[1].name, "zeta");
  EXPECT_EQ((*listed)[1].version, 1);

  EXPECT_EQ(tasks.ListTasks("NOPE").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MlTaskCatalogTest, PutTaskRefusesBadNameAndUnknownProject) {
  auto bad = Put("CHURN", "churn task", Spec("churned"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(bad.status()), HasSubstr("ML task name \"churn task\""));

  auto unknown = Put("NOPE", "churn", Spec("churned"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(unknown.status()), HasSubstr("assay project create NOPE"));
  EXPECT_TRUE(AuditFor("NOPE/churn").empty());
}

TEST_F(MlTaskCatalogTest, PutTaskStoresAnySpecShapeWithoutThrowing) {
  // This layer does not interpret specs; a spec whose input is not a string, or that is not
  // an object at all, is stored and audited rather than crashing the process.
  const nlohmann::json odd = {{"input", {{"dataset", "CHURN/providers"}}}, {"target", 3}};
  auto put = Put("CHURN", "odd", odd);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->first.spec, odd);
  const auto entries = AuditFor("CHURN/odd");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].event.details["input"], odd["input"]);
  EXPECT_EQ(entries[0].event.details["target"], 3);

  auto array = Put("CHURN", "array", nlohmann::json::array({1, 2}));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->first.spec, nlohmann::json::array({1, 2}));
  ExpectAuditIntact();
}

TEST_F(MlTaskCatalogTest, GetTrainingBeforeAnyTrainingSaysToTrain) {
  ASSERT_TRUE(Put("CHURN", "churn", Spec("churned")).ok());
  MlTaskCatalog tasks(*workspace_);
  auto training = tasks.GetTraining("CHURN", "churn");
  EXPECT_EQ(training.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(training.status()), HasSubstr("has not been trained yet"));
  EXPECT_THAT(Message(training.status()), HasSubstr("`assay ml train CHURN churn`"));

  auto listed = tasks.ListTrainings("CHURN", "churn");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());

  EXPECT_EQ(tasks.GetTraining("CHURN", "other").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tasks.ListTrainings("CHURN", "other").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MlTaskCatalogTest, RecordTrainingNumbersPerTaskAndAudits) {
  auto churn = Put("CHURN", "churn", Spec("churned"));
  auto lapse = Put("CHURN", "lapse", Spec("lapsed"));
  ASSERT_TRUE(churn.ok() && lapse.ok());

  auto first = Record(CompleteTraining(churn->first));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(first->id, 0);
  EXPECT_EQ(first->number, 1);
  auto second = Record(CompleteTraining(churn->first));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->number, 2);
  EXPECT_NE(second->id, first->id);
  auto other = Record(CompleteTraining(lapse->first));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->number, 1);

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries), ElementsAre("ml_task.create", "ml_task.train", "ml_task.train"));
  const audit::AuditEvent& trained = entries[2].event;
  EXPECT_EQ(trained.actor, "alice");
  EXPECT_EQ(trained.object_type, "ml_task");
  EXPECT_EQ(trained.object_version, "v1");
  EXPECT_EQ(trained.after_hash, std::string(64, 'a'));
  EXPECT_EQ(trained.details["training"], 2);
  EXPECT_EQ(trained.details["status"], "complete");
  EXPECT_EQ(trained.details["dataset_version_id"], dataset_version_id_);
  EXPECT_EQ(trained.details["trials"], 3);
  EXPECT_EQ(trained.details["best_trial"], 2);
  EXPECT_FALSE(trained.details.contains("error"));
  ExpectAuditIntact();
}

TEST_F(MlTaskCatalogTest, GetTrainingReturnsEveryFieldWithTrialsInOrder) {
  auto task = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(task.ok());
  const Training given = CompleteTraining(task->first);
  auto recorded = Record(given);
  ASSERT_TRUE(recorded.ok()) << recorded.status();

  MlTaskCatalog tasks(*workspace_);
  auto loaded = tasks.GetTraining("CHURN", "churn");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->id, recorded->id);
  EXPECT_EQ(loaded->number, 1);
  EXPECT_EQ(loaded->task.id, task->first.id);
  EXPECT_EQ(loaded->task.Ref(), "CHURN/churn@v1");
  EXPECT_EQ(loaded->task.spec, Spec("churned"));
  EXPECT_EQ(loaded->dataset_version_id, dataset_version_id_);
  EXPECT_EQ(loaded->status, "complete");
  EXPECT_EQ(loaded->user, "alice");
  EXPECT_EQ(loaded->started_at_micros, kNow);
  EXPECT_EQ(loaded->finished_at_micros, kNow + 42'000'000);
  EXPECT_DOUBLE_EQ(loaded->budget_seconds, 60);
  EXPECT_EQ(loaded->best_trial, 2);
  EXPECT_EQ(loaded->summary, given.summary);
  EXPECT_EQ(loaded->result_sha256, given.result_sha256);
  EXPECT_EQ(loaded->error, "");
  EXPECT_EQ(loaded->environment, given.environment);

  ASSERT_EQ(loaded->trials.size(), 3u);
  for (int index = 0; index < 3; ++index) {
    SCOPED_TRACE(index);
    const TrialRow& trial = loaded->trials[index];
    const int number = index + 1;
    const TrialRow expected = Trial(number, number == 3 ? "linear" : "xgboost",
                                    number == 1 ? 0.82 : (number == 2 ? 0.84 : 0.80));
    EXPECT_EQ(trial.number, number);
    EXPECT_EQ(trial.algorithm, expected.algorithm);
    EXPECT_EQ(trial.status, "complete");
    EXPECT_DOUBLE_EQ(trial.cv_mean, expected.cv_mean);
    EXPECT_DOUBLE_EQ(trial.cv_std, expected.cv_std);
    EXPECT_DOUBLE_EQ(trial.seconds, expected.seconds);
    EXPECT_EQ(trial.trial, expected.trial);
  }

  auto by_id = tasks.GetTrainingById(recorded->id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->number, 1);
  EXPECT_EQ(by_id->trials.size(), 3u);
  EXPECT_EQ(by_id->task.name, "churn");

  auto unknown = tasks.GetTrainingById(recorded->id + 1000);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MlTaskCatalogTest, GetTrainingLatestAndByNumberAcrossTaskVersions) {
  auto v1 = Put("CHURN", "churn", Spec("churned", 1));
  ASSERT_TRUE(v1.ok());
  Training on_v1 = CompleteTraining(v1->first);
  on_v1.budget_seconds = 10;
  ASSERT_TRUE(Record(on_v1).ok());
  auto v2 = Put("CHURN", "churn", Spec("churned", 2));
  ASSERT_TRUE(v2.ok());
  Training on_v2 = CompleteTraining(v2->first);
  on_v2.budget_seconds = 20;
  auto second = Record(on_v2);
  ASSERT_TRUE(second.ok()) << second.status();
  // Numbering is per task, not per task version.
  EXPECT_EQ(second->number, 2);

  MlTaskCatalog tasks(*workspace_);
  auto latest = tasks.GetTraining("CHURN", "churn");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->number, 2);
  EXPECT_EQ(latest->task.version, 2);
  EXPECT_DOUBLE_EQ(latest->budget_seconds, 20);

  auto first = tasks.GetTraining("CHURN", "churn", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->number, 1);
  EXPECT_EQ(first->task.version, 1);  // the version it trained, not the latest
  EXPECT_EQ(first->task.spec["seed"], 1);
  EXPECT_DOUBLE_EQ(first->budget_seconds, 10);

  auto missing = tasks.GetTraining("CHURN", "churn", 9);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()), HasSubstr("CHURN/churn has no training 9"));

  auto listed = tasks.ListTrainings("CHURN", "churn");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].number, 1);
  EXPECT_EQ((*listed)[0].task.version, 1);
  EXPECT_EQ((*listed)[1].number, 2);
  EXPECT_EQ((*listed)[1].task.version, 2);
  EXPECT_TRUE((*listed)[0].trials.empty());
  EXPECT_TRUE((*listed)[1].trials.empty());
}

TEST_F(MlTaskCatalogTest, FailedTrainingKeepsItsError) {
  auto task = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(task.ok());
  Training failed;
  failed.task = task->first;
  failed.dataset_version_id = dataset_version_id_;
  failed.status = "failed";
  failed.user = "bob";
  failed.started_at_micros = kNow;
  failed.finished_at_micros = kNow + 1'000;
  failed.budget_seconds = 30;
  failed.error = "target column \"churned\" has a single class";
  failed.trials = {Trial(1, "xgboost", 0)};
  failed.trials[0].status = "failed";
  auto recorded = Record(failed);
  ASSERT_TRUE(recorded.ok()) << recorded.status();

  auto loaded = MlTaskCatalog(*workspace_).GetTraining("CHURN", "churn");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->status, "failed");
  EXPECT_EQ(loaded->user, "bob");
  EXPECT_EQ(loaded->best_trial, 0);
  EXPECT_EQ(loaded->result_sha256, "");
  EXPECT_EQ(loaded->error, failed.error);
  EXPECT_TRUE(loaded->summary.is_null());
  ASSERT_EQ(loaded->trials.size(), 1u);
  EXPECT_EQ(loaded->trials[0].status, "failed");

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries), ElementsAre("ml_task.create", "ml_task.train"));
  EXPECT_EQ(entries[1].event.details["status"], "failed");
  EXPECT_EQ(entries[1].event.details["error"], failed.error);
  EXPECT_EQ(entries[1].event.after_hash, "");
  ExpectAuditIntact();
}

TEST_F(MlTaskCatalogTest, RecordTrainingIsOneTransaction) {
  auto task = Put("CHURN", "churn", Spec("churned"));
  ASSERT_TRUE(task.ok());
  Training duplicate = CompleteTraining(task->first);
  duplicate.trials.push_back(Trial(2, "linear", 0.5));  // trial 2 twice
  auto refused = Record(duplicate);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);

  Training no_dataset = CompleteTraining(task->first);
  no_dataset.dataset_version_id = dataset_version_id_ + 1000;
  EXPECT_EQ(Record(no_dataset).status().code(), absl::StatusCode::kFailedPrecondition);

  // Neither left a training, a trial or an audit entry behind; the next one is number 1.
  MlTaskCatalog tasks(*workspace_);
  EXPECT_EQ(tasks.GetTraining("CHURN", "churn").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Actions(AuditFor("CHURN/churn")), ElementsAre("ml_task.create"));
  auto recorded = Record(CompleteTraining(task->first));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->number, 1);
  auto loaded = tasks.GetTrainingById(recorded->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->trials.size(), 3u);
}

}  // namespace
}  // namespace assay::training
