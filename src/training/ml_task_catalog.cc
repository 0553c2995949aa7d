#include "training/ml_task_catalog.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/dataset_ref.h"
#include "catalog/projects.h"
#include "catalog/recipes.h"
#include "common/status_macros.h"

namespace assay::training {
namespace {

constexpr char kSelectTaskVersion[] =
    "SELECT v.id, t.project_key, t.name, v.version, v.spec_json, v.spec_sha256, v.created_by, "
    "v.created_at_micros FROM ml_task_versions v JOIN ml_tasks t ON t.id = v.task_id";

constexpr char kSelectTraining[] =
    "SELECT id, task_version_id, dataset_version_id, number, status, user, started_at_micros, "
    "finished_at_micros, budget_seconds, best_trial, summary_json, result_sha256, error, "
    "environment_json FROM ml_trainings";

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<nlohmann::json> ParseStored(const std::string& text, std::string_view what) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError(absl::StrCat("stored ", std::string(what), " is not valid JSON"));
  }
  return json;
}

absl::StatusOr<MlTaskVersion> TaskFromRow(const store::SqlRow& row) {
  MlTaskVersion task;
  task.id = row.GetInt(0);
  task.project = row.GetText(1);
  task.name = row.GetText(2);
  task.version = row.GetInt(3);
  ASSAY_ASSIGN_OR_RETURN(task.spec, ParseStored(row.GetText(4), "ML task spec"));
  task.spec_sha256 = row.GetText(5);
  task.created_by = row.GetText(6);
  task.created_at_micros = row.GetInt(7);
  return task;
}

}  // namespace

std::string MlTaskVersion::Ref() const { return absl::StrCat(project, "/", name, "@v", version); }

absl::StatusOr<std::pair<MlTaskVersion, bool>> MlTaskCatalog::PutTask(
    catalog::Workspace::Change& change, const std::string& project, const std::string& name,
    const nlohmann::json& spec, const std::string& user, int64_t now_micros) {
  if (absl::Status valid = catalog::ValidateDatasetName(name); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ML task name \"", name, "\" is not valid: ", valid.message()));
  }
  store::SqlSession& sql = change.sql();
  ASSAY_ASSIGN_OR_RETURN(std::vector<store::SqlRow> projects,
                         sql.Query("SELECT key FROM projects WHERE key = ?", {project}));
  if (projects.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project ", project, " does not exist; create it with `assay project create ",
                     project, "`"));
  }
  const std::string sha256 = catalog::CanonicalJsonSha256(spec);
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> tasks,
      sql.Query("SELECT id FROM ml_tasks WHERE project_key = ? AND name = ?", {project, name}));
  int64_t task_id = 0;
  int64_t next = 1;
  std::string before_hash;
  if (tasks.empty()) {
    ASSAY_ASSIGN_OR_RETURN(
        std::vector<store::SqlRow> inserted,
        sql.Query("INSERT INTO ml_tasks (project_key, name, created_by, created_at_micros) "
                  "VALUES (?, ?, ?, ?) RETURNING id",
                  {project, name, user, now_micros}));
    task_id = inserted.at(0).GetInt(0);
  } else {
    task_id = tasks[0].GetInt(0);
    ASSAY_ASSIGN_OR_RETURN(
        std::vector<store::SqlRow> latest,
        sql.Query(absl::StrCat(kSelectTaskVersion,
                               " WHERE v.task_id = ? ORDER BY v.version DESC LIMIT 1"),
                  {task_id}));
    if (!latest.empty()) {
      ASSAY_ASSIGN_OR_RETURN(MlTaskVersion current, TaskFromRow(latest[0]));
      if (current.spec_sha256 == sha256) return std::make_pair(std::move(current), false);
      next = current.version + 1;
      before_hash = current.spec_sha256;
    }
  }
  ASSAY_RETURN_IF_ERROR(sql.Execute(
      "INSERT INTO ml_task_versions (task_id, version, spec_json, spec_sha256, created_by, "
      "created_at_micros) VALUES (?, ?, ?, ?, ?, ?)",
      {task_id, next, Dump(spec), sha256, user, now_micros}));
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      sql.Query(absl::StrCat(kSelectTaskVersion, " WHERE v.task_id = ? AND v.version = ?"),
                {task_id, next}));
  ASSAY_ASSIGN_OR_RETURN(MlTaskVersion stored, TaskFromRow(rows.at(0)));
  audit::AuditEvent event;
  event.action = next == 1 ? "ml_task.create" : "ml_task.update";
  event.project_key = project;
  event.object_type = "ml_task";
  event.object_id = absl::StrCat(project, "/", name);
  event.object_version = absl::StrCat("v", next);
  event.before_hash = before_hash;
  event.after_hash = sha256;
  // json::value() throws for a non-object spec or a non-string field, and this layer does not
  // interpret specs, so copy the fields as they are.
  const auto field = [&spec](const char* key) {
    return spec.is_object() && spec.contains(key) ? spec[key] : nlohmann::json("");
  };
  event.details = {{"input", field("input")}, {"target", field("target")}};
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  return std::make_pair(std::move(stored), true);
}

absl::StatusOr<MlTaskVersion> MlTaskCatalog::GetTask(const std::string& project,
                                                     const std::string& name,
                                                     int64_t version) const {
  std::vector<store::SqlValue> params = {project, name};
  std::string where = " WHERE t.project_key = ? AND t.name = ?";
  if (version > 0) {
    where += " AND v.version = ?";
    params.push_back(version);
  }
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectTaskVersion, where, " ORDER BY v.version DESC LIMIT 1"), params));
  if (rows.empty()) {
    ASSAY_ASSIGN_OR_RETURN(std::vector<MlTaskVersion> all, ListTasks(project));
    std::vector<std::string> names;
    for (const auto& task : all) names.push_back(task.name);
    if (version > 0) {
      for (const auto& task : all) {
        if (task.name == name) {
          return absl::NotFoundError(absl::StrCat("ML task ", project, "/", name,
                                                  " has no version v", version, " (latest is v",
                                                  task.version, ")"));
        }
      }
    }
    return absl::NotFoundError(absl::StrCat(
        "project ", project, " has no ML task \"", name, "\" (tasks: ",
        names.empty() ? "none yet; create one with `assay ml create`" : absl::StrJoin(names, ", "),
        ")"));
  }
  return TaskFromRow(rows[0]);
}

absl::StatusOr<std::vector<MlTaskVersion>> MlTaskCatalog::ListTasks(
    const std::string& project) const {
  ASSAY_RETURN_IF_ERROR(catalog::ProjectCatalog(workspace_).Get(project).status());
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectTaskVersion,
                       " WHERE t.project_key = ? AND v.version = (SELECT MAX(version) FROM "
                       "ml_task_versions WHERE task_id = t.id) ORDER BY t.name"),
          {project}));
  std::vector<MlTaskVersion> tasks;
  for (const auto& row : rows) {
    ASSAY_ASSIGN_OR_RETURN(MlTaskVersion task, TaskFromRow(row));
    tasks.push_back(std::move(task));
  }
  return tasks;
}

absl::StatusOr<Training> MlTaskCatalog::RecordTraining(catalog::Workspace::Change& change,
                                                       Training training) {
  store::SqlSession& sql = change.sql();
  ASSAY_ASSIGN_OR_RETURN(std::vector<store::SqlRow> count,
                         sql.Query("SELECT COUNT(*) FROM ml_trainings tr JOIN ml_task_versions v "
                                   "ON v.id = tr.task_version_id WHERE v.task_id = "
                                   "(SELECT task_id FROM ml_task_versions WHERE id = ?)",
                                   {training.task.id}));
  training.number = count.at(0).GetInt(0) + 1;
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> inserted,
      sql.Query("INSERT INTO ml_trainings (task_version_id, dataset_version_id, number, status, "
                "user, started_at_micros, finished_at_micros, budget_seconds, best_trial, "
                "summary_json, result_sha256, error, environment_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                {training.task.id, training.dataset_version_id, training.number, training.status,
                 training.user, training.started_at_micros, training.finished_at_micros,
                 training.budget_seconds, int64_t{training.best_trial}, Dump(training.summary),
                 training.result_sha256, training.error, Dump(training.environment)}));
  training.id = inserted.at(0).GetInt(0);
  for (const TrialRow& trial : training.trials) {
    ASSAY_RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO ml_trials (training_id, number, algorithm, status, cv_mean, cv_std, seconds, "
        "trial_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {training.id, int64_t{trial.number}, trial.algorithm, trial.status, trial.cv_mean,
         trial.cv_std, trial.seconds, Dump(trial.trial)}));
  }
  audit::AuditEvent event;
  event.action = "ml_task.train";
  event.project_key = training.task.project;
  event.object_type = "ml_task";
  event.object_id = absl::StrCat(training.task.project, "/", training.task.name);
  event.object_version = absl::StrCat("v", training.task.version);
  event.after_hash = training.result_sha256;
  event.details = {{"training", training.number},
                   {"status", training.status},
                   {"dataset_version_id", training.dataset_version_id},
                   {"trials", training.trials.size()},
                   {"best_trial", training.best_trial},
                   {"budget_seconds", training.budget_seconds}};
  if (!training.error.empty()) event.details["error"] = training.error;
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  return training;
}

absl::StatusOr<Training> MlTaskCatalog::LoadTraining(const store::SqlRow& row) const {
  Training training;
  training.id = row.GetInt(0);
  const int64_t task_version_id = row.GetInt(1);
  training.dataset_version_id = row.GetInt(2);
  training.number = row.GetInt(3);
  training.status = row.GetText(4);
  training.user = row.GetText(5);
  training.started_at_micros = row.GetInt(6);
  training.finished_at_micros = row.GetInt(7);
  training.budget_seconds = row.GetDouble(8);
  training.best_trial = static_cast<int>(row.GetInt(9));
  ASSAY_ASSIGN_OR_RETURN(training.summary, ParseStored(row.GetText(10), "training summary"));
  training.result_sha256 = row.GetText(11);
  training.error = row.GetText(12);
  ASSAY_ASSIGN_OR_RETURN(training.environment,
                         ParseStored(row.GetText(13), "training environment"));
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> tasks,
      workspace_.metadata().Query(absl::StrCat(kSelectTaskVersion, " WHERE v.id = ?"),
                                  {task_version_id}));
  if (tasks.empty()) return absl::DataLossError("a training refers to a missing task version");
  ASSAY_ASSIGN_OR_RETURN(training.task, TaskFromRow(tasks[0]));
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> trials,
      workspace_.metadata().Query("SELECT number, algorithm, status, cv_mean, cv_std, seconds, "
                                  "trial_json FROM ml_trials WHERE training_id = ? ORDER BY number",
                                  {training.id}));
  for (const auto& trial_row : trials) {
    TrialRow trial;
    trial.number = static_cast<int>(trial_row.GetInt(0));
    trial.algorithm = trial_row.GetText(1);
    trial.status = trial_row.GetText(2);
    trial.cv_mean = trial_row.GetDouble(3);
    trial.cv_std = trial_row.GetDouble(4);
    trial.seconds = trial_row.GetDouble(5);
    ASSAY_ASSIGN_OR_RETURN(trial.trial, ParseStored(trial_row.GetText(6), "trial"));
    training.trials.push_back(std::move(trial));
  }
  return training;
}

absl::StatusOr<Training> MlTaskCatalog::GetTraining(const std::string& project,
                                                    const std::string& name, int64_t number) const {
  ASSAY_ASSIGN_OR_RETURN(const MlTaskVersion task, GetTask(project, name));
  std::vector<store::SqlValue> params = {project, name};
  std::string where =
      " WHERE task_version_id IN (SELECT v.id FROM ml_task_versions v JOIN ml_tasks t ON "
      "t.id = v.task_id WHERE t.project_key = ? AND t.name = ?)";
  if (number > 0) {
    where += " AND number = ?";
    params.push_back(number);
  }
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectTraining, where, " ORDER BY number DESC LIMIT 1"), params));
  if (rows.empty()) {
    if (number > 0) {
      return absl::NotFoundError(
          absl::StrCat("ML task ", task.project, "/", task.name, " has no training ", number));
    }
    return absl::NotFoundError(absl::StrCat("ML task ", task.project, "/", task.name,
                                            " has not been trained yet; run `assay ml train ",
                                            task.project, " ", task.name, "`"));
  }
  return LoadTraining(rows[0]);
}

absl::StatusOr<std::vector<Training>> MlTaskCatalog::ListTrainings(const std::string& project,
                                                                   const std::string& name) const {
  ASSAY_RETURN_IF_ERROR(GetTask(project, name).status());
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat("SELECT id FROM ml_trainings WHERE task_version_id IN (SELECT v.id FROM "
                       "ml_task_versions v JOIN ml_tasks t ON t.id = v.task_id WHERE "
                       "t.project_key = ? AND t.name = ?) ORDER BY number"),
          {project, name}));
  std::vector<Training> trainings;
  for (const auto& row : rows) {
    ASSAY_ASSIGN_OR_RETURN(Training training, GetTrainingById(row.GetInt(0)));
    training.trials.clear();
    trainings.push_back(std::move(training));
  }
  return trainings;
}

absl::StatusOr<Training> MlTaskCatalog::GetTrainingById(int64_t id) const {
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(absl::StrCat(kSelectTraining, " WHERE id = ?"), {id}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("no training with id ", id));
  return LoadTraining(rows[0]);
}

}  // namespace assay::training
