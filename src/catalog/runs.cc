#include "catalog/runs.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace assay::catalog {
namespace {

constexpr char kSelectRun[] =
    "SELECT u.id, u.project_key, r.name, u.recipe_id, u.recipe_version, u.recipe_type, "
    "u.config_sha256, u.memo_key, u.engine_version, u.status, u.user, u.started_at_micros, "
    "u.finished_at_micros, u.log, u.error, u.environment_json FROM runs u "
    "JOIN recipes r ON r.id = u.recipe_id";

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string RunRecord::Label() const { return absl::StrCat("run ", id); }

absl::StatusOr<int64_t> RunCatalog::Record(Workspace::Change& change, const RunRecord& run) {
  auto& sql = change.sql();
  ASSAY_ASSIGN_OR_RETURN(
      auto rows,
      sql.Query("INSERT INTO runs (project_key, recipe_id, recipe_version, recipe_type, "
                "config_sha256, memo_key, engine_version, status, user, started_at_micros, "
                "finished_at_micros, log, error, environment_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                {run.project, run.recipe_id, run.recipe_version, run.recipe_type, run.config_sha256,
                 run.memo_key, run.engine_version, run.status, run.user, run.started_at_micros,
                 run.finished_at_micros, run.log, run.error, Dump(run.environment)}));
  const int64_t run_id = rows.at(0).GetInt(0);
  for (size_t position = 0; position < run.input_version_ids.size(); ++position) {
    ASSAY_RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO run_inputs (run_id, position, dataset_version_id) VALUES (?, ?, ?)",
        {run_id, static_cast<int64_t>(position), run.input_version_ids[position]}));
  }
  for (size_t position = 0; position < run.output_version_ids.size(); ++position) {
    ASSAY_RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO run_outputs (run_id, position, dataset_version_id) VALUES (?, ?, ?)",
        {run_id, static_cast<int64_t>(position), run.output_version_ids[position]}));
  }
  audit::AuditEvent event;
  event.action = "recipe.run";
  event.project_key = run.project;
  event.object_type = "run";
  event.object_id = absl::StrCat(run.project, "/", run.recipe);
  event.object_version = absl::StrCat("run-", run_id);
  event.after_hash = run.memo_key;
  event.details = {{"run_id", run_id},
                   {"recipe_version", run.recipe_version},
                   {"type", run.recipe_type},
                   {"status", run.status},
                   {"config_sha256", run.config_sha256},
                   {"engine_version", run.engine_version},
                   {"input_version_ids", run.input_version_ids},
                   {"output_version_ids", run.output_version_ids},
                   {"started_at_micros", run.started_at_micros},
                   {"finished_at_micros", run.finished_at_micros}};
  if (!run.error.empty()) event.details["error"] = run.error;
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  return run_id;
}

absl::StatusOr<std::vector<RunRecord>> RunCatalog::QueryRuns(
    const std::string& where_and_order, const std::vector<store::SqlValue>& params) const {
  auto& db = workspace_.metadata();
  ASSAY_ASSIGN_OR_RETURN(auto rows,
                         db.Query(absl::StrCat(kSelectRun, " ", where_and_order), params));
  std::vector<RunRecord> runs;
  for (const auto& row : rows) {
    RunRecord run;
    run.id = row.GetInt(0);
    run.project = row.GetText(1);
    run.recipe = row.GetText(2);
    run.recipe_id = row.GetInt(3);
    run.recipe_version = row.GetInt(4);
    run.recipe_type = row.GetText(5);
    run.config_sha256 = row.GetText(6);
    run.memo_key = row.GetText(7);
    run.engine_version = row.GetText(8);
    run.status = row.GetText(9);
    run.user = row.GetText(10);
    run.started_at_micros = row.GetInt(11);
    run.finished_at_micros = row.GetInt(12);
    run.log = row.GetText(13);
    run.error = row.GetText(14);
    run.environment = nlohmann::json::parse(row.GetText(15), nullptr, false);
    if (run.environment.is_discarded()) {
      return absl::DataLossError(
          absl::StrCat("stored environment of run ", run.id, " is not valid JSON"));
    }
    for (const char* table : {"run_inputs", "run_outputs"}) {
      ASSAY_ASSIGN_OR_RETURN(auto ids,
                             db.Query(absl::StrCat("SELECT dataset_version_id FROM ", table,
                                                   " WHERE run_id = ? ORDER BY position"),
                                      {run.id}));
      auto& target =
          std::string_view(table) == "run_inputs" ? run.input_version_ids : run.output_version_ids;
      for (const auto& id : ids) target.push_back(id.GetInt(0));
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

absl::StatusOr<RunRecord> RunCatalog::Get(int64_t run_id) const {
  ASSAY_ASSIGN_OR_RETURN(auto runs, QueryRuns("WHERE u.id = ?", {run_id}));
  if (runs.empty()) return absl::NotFoundError(absl::StrCat("run ", run_id, " does not exist"));
  return std::move(runs.front());
}

absl::StatusOr<std::optional<RunRecord>> RunCatalog::FindSucceeded(
    const std::string& memo_key) const {
  ASSAY_ASSIGN_OR_RETURN(auto runs, QueryRuns("WHERE u.memo_key = ? AND u.status = ? ORDER BY "
                                              "u.id DESC LIMIT 1",
                                              {memo_key, std::string(kRunSucceeded)}));
  if (runs.empty()) return std::nullopt;
  return std::move(runs.front());
}

absl::StatusOr<std::optional<RunRecord>> RunCatalog::LastRun(int64_t recipe_id) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto runs, QueryRuns("WHERE u.recipe_id = ? ORDER BY u.id DESC LIMIT 1", {recipe_id}));
  if (runs.empty()) return std::nullopt;
  return std::move(runs.front());
}

absl::StatusOr<std::optional<RunRecord>> RunCatalog::ProducerOf(int64_t version_id) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto runs, QueryRuns("WHERE u.status = ? AND u.id IN (SELECT run_id FROM run_outputs WHERE "
                           "dataset_version_id = ?) ORDER BY u.id LIMIT 1",
                           {std::string(kRunSucceeded), version_id}));
  if (runs.empty()) return std::nullopt;
  return std::move(runs.front());
}

absl::StatusOr<std::vector<RunRecord>> RunCatalog::ConsumersOf(int64_t version_id) const {
  return QueryRuns(
      "WHERE u.status = ? AND u.id IN (SELECT run_id FROM run_inputs WHERE dataset_version_id = "
      "?) ORDER BY u.id",
      {std::string(kRunSucceeded), version_id});
}

}  // namespace assay::catalog
