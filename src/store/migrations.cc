#include "store/migrations.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "store/metadata_store.h"

namespace assay::store {
namespace {

constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at_micros INTEGER NOT NULL)";

constexpr std::string_view kMaxVersion = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

absl::StatusOr<int> CurrentVersion(SqlSession& session) {
  ASSAY_ASSIGN_OR_RETURN(std::vector<SqlRow> rows, session.Query(kMaxVersion));
  return rows.empty() ? 0 : static_cast<int>(rows[0].GetInt(0));
}

absl::Status NewerSchemaError(int found, int known) {
  return absl::FailedPreconditionError(
      absl::StrCat("workspace was created by a newer assay (schema ", found, ", this build knows ",
                   known, "); upgrade assay"));
}

}  // namespace

const std::vector<Migration>& SqliteMigrations() {
  // Migration 1: the catalog tables and the append-only audit log. Times are microseconds
  // since the Unix epoch, UTC, in INTEGER columns. Long statements are split into adjacent
  // literals, which clang-tidy mistakes for missing commas.
  // NOLINTBEGIN(bugprone-suspicious-missing-comma)
  static const std::vector<Migration>* const kMigrations = new std::vector<Migration>{
      {1,
       "workspace, projects, datasets, dataset versions and the audit log",
       {
           "CREATE TABLE workspace_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
           "CREATE TABLE projects ("
           "key TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', "
           "created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL)",
           "CREATE TABLE datasets ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "name TEXT NOT NULL, created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (project_key, name))",
           "CREATE TABLE dataset_versions ("
           "id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES datasets(id), "
           "version INTEGER NOT NULL, sha256 TEXT NOT NULL, row_count INTEGER NOT NULL, "
           "column_count INTEGER NOT NULL, byte_size INTEGER NOT NULL, "
           "schema_json TEXT NOT NULL, profile_json TEXT NOT NULL, source_json TEXT NOT NULL, "
           "created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (dataset_id, version), UNIQUE (dataset_id, sha256))",
           "CREATE TABLE audit_log ("
           "seq INTEGER PRIMARY KEY, time_micros INTEGER NOT NULL, actor TEXT NOT NULL, "
           "action TEXT NOT NULL, project_key TEXT NOT NULL, object_type TEXT NOT NULL, "
           "object_id TEXT NOT NULL, object_version TEXT NOT NULL, before_hash TEXT NOT NULL, "
           "after_hash TEXT NOT NULL, details_json TEXT NOT NULL, reason TEXT NOT NULL, "
           "prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL)",
           "CREATE INDEX audit_log_project ON audit_log(project_key)",
           "CREATE INDEX audit_log_object ON audit_log(object_id)",
           // Append-only: the database itself refuses UPDATE and DELETE on the audit log.
           "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
           "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
           "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
           "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
       }},
      {2,
       "recipes, quality rules, runs and their inputs and outputs (the flow and its lineage)",
       {
           // A recipe is a named node of a project's flow; its definition (type, inputs,
           // outputs, config) is versioned like data. removed_at_micros is set when a flow
           // apply drops it (the history stays).
           "CREATE TABLE recipes ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "name TEXT NOT NULL, created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "removed_at_micros INTEGER, UNIQUE (project_key, name))",
           "CREATE TABLE recipe_versions ("
           "id INTEGER PRIMARY KEY, recipe_id INTEGER NOT NULL REFERENCES recipes(id), "
           "version INTEGER NOT NULL, type TEXT NOT NULL, inputs_json TEXT NOT NULL, "
           "outputs_json TEXT NOT NULL, config_json TEXT NOT NULL, "
           "definition_sha256 TEXT NOT NULL, created_by TEXT NOT NULL, "
           "created_at_micros INTEGER NOT NULL, UNIQUE (recipe_id, version))",
           // Quality rules of a dataset (by name: they apply to every future version),
           // versioned; the latest version is in force.
           "CREATE TABLE dataset_rules ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "dataset_name TEXT NOT NULL, version INTEGER NOT NULL, rules_json TEXT NOT NULL, "
           "rules_sha256 TEXT NOT NULL, created_by TEXT NOT NULL, "
           "created_at_micros INTEGER NOT NULL, UNIQUE (project_key, dataset_name, version))",
           // The quality report of one dataset version, written with the version.
           "CREATE TABLE version_checks ("
           "dataset_version_id INTEGER PRIMARY KEY REFERENCES dataset_versions(id), "
           "rules_sha256 TEXT NOT NULL, passed INTEGER NOT NULL, report_json TEXT NOT NULL)",
           // One execution of a recipe. memo_key = SHA-256 of the recipe type, canonical
           // config, input version hashes and engine version (docs/flow.md).
           "CREATE TABLE runs ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "recipe_id INTEGER NOT NULL REFERENCES recipes(id), recipe_version INTEGER NOT NULL, "
           "recipe_type TEXT NOT NULL, config_sha256 TEXT NOT NULL, memo_key TEXT NOT NULL, "
           "engine_version TEXT NOT NULL, status TEXT NOT NULL, user TEXT NOT NULL, "
           "started_at_micros INTEGER NOT NULL, finished_at_micros INTEGER NOT NULL, "
           "log TEXT NOT NULL, error TEXT NOT NULL, environment_json TEXT NOT NULL)",
           "CREATE INDEX runs_memo ON runs(memo_key, status)",
           "CREATE INDEX runs_recipe ON runs(recipe_id)",
           "CREATE TABLE run_inputs ("
           "run_id INTEGER NOT NULL REFERENCES runs(id), position INTEGER NOT NULL, "
           "dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id), "
           "PRIMARY KEY (run_id, position))",
           "CREATE TABLE run_outputs ("
           "run_id INTEGER NOT NULL REFERENCES runs(id), position INTEGER NOT NULL, "
           "dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id), "
           "PRIMARY KEY (run_id, position))",
           "CREATE INDEX run_inputs_version ON run_inputs(dataset_version_id)",
           "CREATE INDEX run_outputs_version ON run_outputs(dataset_version_id)",
       }},
      {3,
       "ML tasks (versioned specs), trainings with their trials (the leaderboard), saved models "
       "and their immutable versions",
       {
           "CREATE TABLE ml_tasks ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "name TEXT NOT NULL, created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (project_key, name))",
           "CREATE TABLE ml_task_versions ("
           "id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES ml_tasks(id), "
           "version INTEGER NOT NULL, spec_json TEXT NOT NULL, spec_sha256 TEXT NOT NULL, "
           "created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (task_id, version))",
           // One `ml train` of one task version on one dataset version. result_sha256 names
           // the object holding the best trial's trained artifact (empty while running or
           // when failed).
           "CREATE TABLE ml_trainings ("
           "id INTEGER PRIMARY KEY, task_version_id INTEGER NOT NULL "
           "REFERENCES ml_task_versions(id), "
           "dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id), "
           "number INTEGER NOT NULL, status TEXT NOT NULL, user TEXT NOT NULL, "
           "started_at_micros INTEGER NOT NULL, finished_at_micros INTEGER NOT NULL, "
           "budget_seconds REAL NOT NULL, best_trial INTEGER NOT NULL, "
           "summary_json TEXT NOT NULL, result_sha256 TEXT NOT NULL, error TEXT NOT NULL, "
           "environment_json TEXT NOT NULL)",
           "CREATE INDEX ml_trainings_task ON ml_trainings(task_version_id)",
           "CREATE TABLE ml_trials ("
           "training_id INTEGER NOT NULL REFERENCES ml_trainings(id), "
           "number INTEGER NOT NULL, algorithm TEXT NOT NULL, status TEXT NOT NULL, "
           "cv_mean REAL NOT NULL, cv_std REAL NOT NULL, seconds REAL NOT NULL, "
           "trial_json TEXT NOT NULL, PRIMARY KEY (training_id, number))",
           "CREATE TABLE saved_models ("
           "id INTEGER PRIMARY KEY, project_key TEXT NOT NULL REFERENCES projects(key), "
           "name TEXT NOT NULL, created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (project_key, name))",
           // An immutable saved-model version: sha256 names its manifest object, which
           // references the model bytes, pipeline, metrics, explanations, reference profile,
           // lineage and environment. state follows the lifecycle of ARCHITECTURE.md
           // section 7 (only 'trained' exists until sign-off is built).
           "CREATE TABLE saved_model_versions ("
           "id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES saved_models(id), "
           "version INTEGER NOT NULL, sha256 TEXT NOT NULL, state TEXT NOT NULL, "
           "training_id INTEGER NOT NULL REFERENCES ml_trainings(id), "
           "trial_number INTEGER NOT NULL, algorithm TEXT NOT NULL, task_type TEXT NOT NULL, "
           "metric TEXT NOT NULL, cv_score REAL NOT NULL, holdout_score REAL NOT NULL, "
           "created_by TEXT NOT NULL, created_at_micros INTEGER NOT NULL, "
           "UNIQUE (model_id, version), UNIQUE (model_id, sha256))",
       }},
  };
  // NOLINTEND(bugprone-suspicious-missing-comma)
  return *kMigrations;
}

int LatestVersion(const std::vector<Migration>& migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

absl::StatusOr<int> ApplyMigrations(MetadataStore& store, const std::vector<Migration>& migrations,
                                    int64_t now_micros) {
  for (size_t index = 0; index < migrations.size(); ++index) {
    if (migrations[index].version != static_cast<int>(index) + 1) {
      return absl::InternalError(absl::StrCat("migration list is not numbered 1..N: entry ", index,
                                              " has version ", migrations[index].version));
    }
  }
  const int known = LatestVersion(migrations);

  int version = 0;
  ASSAY_RETURN_IF_ERROR(store.WithTransaction([&](SqlSession& session) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(session.Execute(kCreateSchemaMigrations));
    ASSAY_ASSIGN_OR_RETURN(version, CurrentVersion(session));
    return absl::OkStatus();
  }));
  if (version > known) return NewerSchemaError(version, known);

  for (const Migration& migration : migrations) {
    if (migration.version <= version) continue;
    absl::Status status = store.WithTransaction([&](SqlSession& session) -> absl::Status {
      // Another process may have migrated since we looked; re-read under the write lock.
      ASSAY_ASSIGN_OR_RETURN(const int current, CurrentVersion(session));
      if (current > known) return NewerSchemaError(current, known);
      if (current >= migration.version) return absl::OkStatus();
      for (std::string_view statement : migration.statements) {
        ASSAY_RETURN_IF_ERROR(session.Execute(statement));
      }
      return session.Execute(
          "INSERT INTO schema_migrations (version, applied_at_micros) VALUES (?, ?)",
          {int64_t{migration.version}, now_micros});
    });
    if (!status.ok()) {
      if (status.code() == absl::StatusCode::kFailedPrecondition &&
          absl::StartsWith(status.message(), "workspace was created by a newer assay")) {
        return status;
      }
      return absl::Status(
          status.code(),
          absl::StrCat("schema migration ", migration.version, " (", Absl(migration.description),
                       ") failed and was rolled back: ", status.message()));
    }
    version = migration.version;
  }
  return version;
}

}  // namespace assay::store
