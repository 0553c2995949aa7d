// Helpers for tests that need saved-model versions without running a training: the training
// row a version must reference, written with plain SQL, and registration in its own
// transaction. Kept apart from workspace_fixture.h because they need registry/.
// Header-only; call them from the test's thread.
#ifndef ASSAY_TESTS_TESTING_SAVED_MODEL_FIXTURE_H_
#define ASSAY_TESTS_TESTING_SAVED_MODEL_FIXTURE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "gtest/gtest.h"
#include "registry/model_registry.h"
#include "store/metadata_store.h"

namespace assay::test {

// Records ML task CHURN/churn v1 and one complete training of it on `dataset_version_id`,
// as rows written by user "alice" at time 0. The ML task catalog lives a layer above the
// registry (and the flow), so the rows are written with plain SQL here. Requires project
// CHURN without a task named churn. Returns the training id (0, with a test failure, on error).
inline int64_t InsertTraining(catalog::Workspace& workspace, const catalog::Actor& actor,
                              int64_t dataset_version_id) {
  int64_t id = 0;
  absl::Status status = workspace.Mutate(actor, [&](catalog::Workspace::Change& change) {
    store::SqlSession& sql = change.sql();
    auto task = sql.Query(
        "INSERT INTO ml_tasks (project_key, name, created_by, created_at_micros) "
        "VALUES ('CHURN', 'churn', 'alice', 0) RETURNING id");
    if (!task.ok()) return task.status();
    auto version = sql.Query(
        "INSERT INTO ml_task_versions (task_id, version, spec_json, spec_sha256, created_by, "
        "created_at_micros) VALUES (?, 1, '{}', 'x', 'alice', 0) RETURNING id",
        {task->at(0).GetInt(0)});
    if (!version.ok()) return version.status();
    auto training = sql.Query(
        "INSERT INTO ml_trainings (task_version_id, dataset_version_id, number, status, user, "
        "started_at_micros, finished_at_micros, budget_seconds, best_trial, summary_json, "
        "result_sha256, error, environment_json) VALUES (?, ?, 1, 'complete', 'alice', 0, 0, "
        "60, 1, '{}', '', '', '{}') RETURNING id",
        {version->at(0).GetInt(0), dataset_version_id});
    if (!training.ok()) return training.status();
    id = training->at(0).GetInt(0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return id;
}

// Registers `version` (its manifest already stored) under project/name as `actor` at
// `now_micros`, inside its own Mutate transaction, as the training service does. Returns
// what ModelRegistry::Register returns; on error nothing is written.
inline absl::StatusOr<registry::RegisterResult> RegisterSavedModel(
    catalog::Workspace& workspace, const catalog::Actor& actor, int64_t now_micros,
    const std::string& project, const std::string& name, const registry::NewVersion& version) {
  registry::RegisterResult result;
  absl::Status status = workspace.Mutate(actor, [&](catalog::Workspace::Change& change) {
    auto registered = registry::ModelRegistry::Register(change, project, name, version, actor.user,
                                                        now_micros, workspace);
    if (!registered.ok()) return registered.status();
    result = *std::move(registered);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace assay::test

#endif  // ASSAY_TESTS_TESTING_SAVED_MODEL_FIXTURE_H_
