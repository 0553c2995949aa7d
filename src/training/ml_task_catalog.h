// ML tasks, trainings and trials as stored data (ARCHITECTURE.md section 1, "ML task").
// A task is a named, versioned training spec of a project (storing an unchanged spec makes no
// new version; every change is audited). A training is one `ml train` of one task version on
// one dataset version; its trials are the leaderboard. A training is written in one
// transaction when it ends (complete or failed), so a killed training leaves no trace but an
// unreferenced object.
//
// This layer stores and audits; it does not interpret specs (ml/ does).
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_TRAINING_ML_TASK_CATALOG_H_
#define ASSAY_TRAINING_ML_TASK_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::training {

struct MlTaskVersion {
  int64_t id = 0;  // ml_task_versions.id
  std::string project;
  std::string name;
  int64_t version = 0;
  nlohmann::json spec;  // the normalized spec (ml::TaskSpec::ToJson)
  std::string spec_sha256;
  std::string created_by;
  int64_t created_at_micros = 0;
  std::string Ref() const;  // "CHURN/churn@v2"
};

struct TrialRow {
  int number = 0;
  std::string algorithm;
  std::string status;
  double cv_mean = 0;
  double cv_std = 0;
  double seconds = 0;
  nlohmann::json trial;  // ml::TrialRecord::ToJson
};

struct Training {
  int64_t id = 0;
  int64_t number = 0;  // 1, 2, ... per task
  MlTaskVersion task;
  int64_t dataset_version_id = 0;
  std::string status;  // "complete" or "failed"
  std::string user;
  int64_t started_at_micros = 0;
  int64_t finished_at_micros = 0;
  double budget_seconds = 0;
  int best_trial = 0;  // trial number; 0 when failed
  nlohmann::json summary;
  std::string result_sha256;  // object holding the best trial's artifact
  std::string error;
  nlohmann::json environment;
  std::vector<TrialRow> trials;  // filled by GetTraining
};

class MlTaskCatalog {
 public:
  explicit MlTaskCatalog(catalog::Workspace& workspace) : workspace_(workspace) {}

  // Inside a Mutate transaction: stores `spec` as the next version of project/name unless it
  // equals the latest. Audited as ml_task.create / ml_task.update. Returns the latest version
  // and whether anything changed. Errors: INVALID_ARGUMENT for a bad name; store errors.
  static absl::StatusOr<std::pair<MlTaskVersion, bool>> PutTask(
      catalog::Workspace::Change& change, const std::string& project, const std::string& name,
      const nlohmann::json& spec, const std::string& user, int64_t now_micros);

  // Version `version` of a task (0 = latest). Errors: NOT_FOUND naming the tasks that exist.
  absl::StatusOr<MlTaskVersion> GetTask(const std::string& project, const std::string& name,
                                        int64_t version = 0) const;
  // Latest versions of the project's tasks. Errors: NOT_FOUND for an unknown project.
  absl::StatusOr<std::vector<MlTaskVersion>> ListTasks(const std::string& project) const;

  // Inside a Mutate transaction: records a finished training and its trials. `training.task`
  // and the other fields are given; id and number are assigned and returned. Audited as
  // ml_task.train. Errors: store errors.
  static absl::StatusOr<Training> RecordTraining(catalog::Workspace::Change& change,
                                                 Training training);

  // A task's training `number` (0 = the latest), with its trials in trial order.
  // Errors: NOT_FOUND (no training yet: says to run `assay ml train`).
  absl::StatusOr<Training> GetTraining(const std::string& project, const std::string& name,
                                       int64_t number = 0) const;
  // Every training of a task, oldest first, without trials.
  absl::StatusOr<std::vector<Training>> ListTrainings(const std::string& project,
                                                      const std::string& name) const;
  // A training by its id (for lineage from a saved-model version).
  absl::StatusOr<Training> GetTrainingById(int64_t id) const;

 private:
  absl::StatusOr<Training> LoadTraining(const store::SqlRow& row) const;
  catalog::Workspace& workspace_;
};

}  // namespace assay::training

#endif  // ASSAY_TRAINING_ML_TASK_CATALOG_H_
