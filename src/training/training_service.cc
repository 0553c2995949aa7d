#include "training/training_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "catalog/dataset_ref.h"
#include "catalog/datasets.h"
#include "common/absl_compat.h"
#include "common/clock.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "flow/lineage.h"
#include "flow/score_recipe.h"
#include "ml/automl.h"
#include "ml/search_space.h"
#include "ml/task_spec.h"

namespace assay::training {
namespace {

using registry::kSavedModelFormat;
using registry::kSavedModelFormatVersion;

// A trial as stored in manifests: without its wall-clock seconds, so that the same seed and
// trial budget give the same manifest bytes.
nlohmann::json StableTrial(const ml::TrialRecord& trial) {
  nlohmann::json json = trial.ToJson();
  json.erase("seconds");
  return json;
}

absl::StatusOr<ml::TaskSpec> ApplyOverrides(const nlohmann::json& stored,
                                            const TrainOverrides& overrides) {
  ASSAY_ASSIGN_OR_RETURN(ml::TaskSpec spec, ml::TaskSpec::FromJson(stored));
  if (overrides.budget_seconds) spec.search.budget_seconds = *overrides.budget_seconds;
  if (overrides.max_trials) spec.search.max_trials = *overrides.max_trials;
  return spec;
}

int Threads(const TrainOverrides& overrides) {
  if (overrides.threads > 0) return overrides.threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// The recipe runs that produced `version`, oldest first, in model-document shape.
absl::StatusOr<nlohmann::json> UpstreamRuns(catalog::Workspace& workspace,
                                            const catalog::DatasetVersion& version) {
  ASSAY_ASSIGN_OR_RETURN(const flow::LineageGraph graph,
                         flow::TraceLineage(workspace, version, /*downstream=*/false));
  std::map<std::string, const flow::LineageNode*> nodes;
  for (const auto& node : graph.nodes) nodes[node.id] = &node;
  std::vector<std::pair<int64_t, nlohmann::json>> runs;
  for (const auto& node : graph.nodes) {
    if (node.kind != "run") continue;
    nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
    for (const auto& edge : graph.edges) {
      if (edge.to == node.id && nodes.count(edge.from) && nodes[edge.from]->kind == "version") {
        inputs.push_back(nodes[edge.from]->details.value("ref", edge.from));
      }
      if (edge.from == node.id && nodes.count(edge.to) && nodes[edge.to]->kind == "version") {
        outputs.push_back(nodes[edge.to]->details.value("ref", edge.to));
      }
    }
    const int64_t id = node.details.value("run_id", int64_t{0});
    runs.emplace_back(id,
                      nlohmann::json{{"run_id", absl::StrCat("run ", id)},
                                     {"recipe", node.details.value("recipe", "")},
                                     {"recipe_type", node.details.value("type", "")},
                                     {"inputs", inputs},
                                     {"outputs", outputs},
                                     {"finished_at_utc", node.details.value("finished_at", "")}});
  }
  std::sort(runs.begin(), runs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out = nlohmann::json::array();
  for (auto& [id, run] : runs) out.push_back(std::move(run));
  return out;
}

nlohmann::json FeatureRows(const ml::FeaturePipeline& pipeline) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ml::ColumnDecision& decision : pipeline.decisions()) {
    const bool dropped = decision.role == ml::ColumnRole::kDropped;
    std::string role = std::string(ml::ColumnRoleName(decision.role));
    if (dropped) role = decision.rule.rfind("identifier", 0) == 0 ? "identifier" : "dropped";
    nlohmann::json row = {{"column", decision.column},
                          {"type", std::string(table::DataTypeName(decision.type))},
                          {"role", role},
                          {"handling", decision.handling.empty() ? "none" : decision.handling},
                          {"dropped", dropped}};
    if (!decision.reason.empty()) row["reason"] = decision.reason;
    rows.push_back(std::move(row));
  }
  return rows;
}

struct Candidate {
  nlohmann::json manifest;  // without lineage.training
  std::string sha256;
};

// Stores the model bytes and the candidate manifest of a finalized trial.
absl::StatusOr<Candidate> StoreCandidate(catalog::Workspace& workspace,
                                         const ml::PreparedTask& task,
                                         const ml::FinalModel& final_model,
                                         const std::vector<ml::TrialRecord>& leaderboard,
                                         const MlTaskVersion& task_version,
                                         const catalog::DatasetVersion& dataset) {
  ASSAY_ASSIGN_OR_RETURN(const std::string model_sha,
                         workspace.objects().Put(final_model.model_bytes));
  const ml::Scorer& scorer = *final_model.scorer;
  const ml::TaskType type = task.labels.task();
  nlohmann::json trials = nlohmann::json::array();
  for (const ml::TrialRecord& trial : leaderboard) trials.push_back(StableTrial(trial));
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json upstream, UpstreamRuns(workspace, dataset));
  Candidate candidate;
  candidate.manifest = {
      {"format", kSavedModelFormat},
      {"format_version", kSavedModelFormatVersion},
      {"task_type", std::string(ml::TaskTypeName(type))},
      {"target", task.spec.target},
      {"purpose", task.spec.purpose},
      {"algorithm", final_model.trial.algorithm},
      {"algorithm_title", ml::AlgorithmTitle(final_model.trial.algorithm, type)},
      {"scoring", scorer.ToJson(model_sha)},
      {"model",
       {{"sha256", model_sha},
        {"bytes", final_model.model_bytes.size()},
        {"final_rounds", final_model.final_rounds}}},
      {"trial", StableTrial(final_model.trial)},
      {"metric", task.metric},
      {"cv_score", final_model.cv_score},
      {"holdout_score", final_model.holdout_score ? nlohmann::json(*final_model.holdout_score)
                                                  : nlohmann::json(nullptr)},
      {"features", FeatureRows(scorer.pipeline())},
      {"evaluation", final_model.evaluation},
      {"explanations", final_model.explanations},
      {"reference_profile", final_model.reference_profile},
      {"leaderboard", trials},
      {"lineage",
       {{"dataset",
         {{"ref", dataset.dataset.ToString()},
          {"version", dataset.version},
          {"sha256", dataset.sha256},
          {"rows", dataset.row_count},
          {"columns", dataset.column_count}}},
        {"labelled_rows", task.labelled_rows},
        {"null_target_rows", task.null_target_rows},
        {"split", final_model.split},
        {"task",
         {{"ref", task_version.Ref()},
          {"spec_sha256", task_version.spec_sha256},
          {"spec", task.spec.ToJson()}}},
        {"upstream_runs", upstream}}},
      {"environment", EnvironmentManifest()}};
  ASSAY_ASSIGN_OR_RETURN(candidate.sha256, workspace.objects().Put(candidate.manifest.dump()));
  return candidate;
}

absl::StatusOr<int> ParseTrialNumber(const std::string& text, const Training& training) {
  if (text == "best") {
    if (training.best_trial <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("training ", training.number, " of ", training.task.Ref(),
                       " has no best trial (it failed: ", training.error, ")"));
    }
    return training.best_trial;
  }
  int number = 0;
  if (!absl::SimpleAtoi(text, &number) || number <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid trial \"", text,
                     "\": use TASK/best or TASK/N with N a trial number from "
                     "`assay ml leaderboard`"));
  }
  return number;
}

std::string DocumentStatus(const std::string& status) {
  return status == "complete" ? "completed" : status;
}

// The model-document sections copied from the evaluation, per task type.
void CopySections(const nlohmann::json& from, const std::vector<const char*>& keys,
                  nlohmann::json& to) {
  for (const char* key : keys) {
    if (from.contains(key)) to[key] = from[key];
  }
}

}  // namespace

const char* AssayVersion() { return "0.1.0"; }

absl::StatusOr<std::pair<MlTaskVersion, bool>> TrainingService::CreateTask(
    const std::string& project, const std::string& name, const nlohmann::json& spec_json,
    const catalog::Actor& actor) {
  ASSAY_ASSIGN_OR_RETURN(const ml::TaskSpec spec, ml::TaskSpec::FromJson(spec_json));
  ASSAY_RETURN_IF_ERROR(ml::PipelineSpec::FromJson(spec.features, "spec.features").status());
  absl::StatusOr<catalog::DatasetRef> ref = catalog::ParseDatasetRef(spec.input);
  if (!ref.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("spec.input: ", ref.status().message()));
  }
  if (ref->dataset.project != project) {
    return absl::InvalidArgumentError(absl::StrCat("spec.input: ", spec.input, " is in project ",
                                                   ref->dataset.project, "; an ML task of project ",
                                                   project, " trains on its own datasets"));
  }
  ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetVersion version,
                         catalog::DatasetCatalog(workspace_).Resolve(*ref));
  auto require_column = [&](const std::string& key, const std::string& column) -> absl::Status {
    if (column.empty() || version.schema.FindField(column)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("spec.", key, ": ", version.Ref(), " has no column \"", column,
                     "\" (columns: ", version.schema.NameList(), ")"));
  };
  if (spec.target.empty()) return absl::InvalidArgumentError("spec.target is required");
  ASSAY_RETURN_IF_ERROR(require_column("target", spec.target));
  ASSAY_RETURN_IF_ERROR(require_column("split.time_column", spec.split.time_column));
  for (const auto& column : spec.explain.subpopulation) {
    ASSAY_RETURN_IF_ERROR(require_column("explain.subpopulation", column));
  }
  for (const auto& column : spec.explain.partial_dependence) {
    ASSAY_RETURN_IF_ERROR(require_column("explain.partial_dependence", column));
  }
  std::pair<MlTaskVersion, bool> result;
  ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor, [&](catalog::Workspace::Change& change) {
    ASSAY_ASSIGN_OR_RETURN(result,
                           MlTaskCatalog::PutTask(change, project, name, spec.ToJson(), actor.user,
                                                  workspace_.clock().NowMicros()));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Training> TrainingService::Train(const std::string& project, const std::string& name,
                                                const TrainOverrides& overrides,
                                                const catalog::Actor& actor,
                                                const TrainProgress& progress) {
  const common::Clock& clock = workspace_.clock();
  ASSAY_ASSIGN_OR_RETURN(const MlTaskVersion task_version,
                         MlTaskCatalog(workspace_).GetTask(project, name));
  ASSAY_ASSIGN_OR_RETURN(const ml::TaskSpec spec, ApplyOverrides(task_version.spec, overrides));
  ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetRef ref, catalog::ParseDatasetRef(spec.input));
  catalog::DatasetCatalog datasets(workspace_);
  ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetVersion dataset, datasets.Resolve(ref));
  // The budget covers the whole training, the loading of the data included.
  const int64_t started = clock.NowMicros();
  ASSAY_ASSIGN_OR_RETURN(const table::Table table, datasets.LoadTable(dataset));
  ASSAY_ASSIGN_OR_RETURN(const ml::PreparedTask task, ml::PrepareTask(table, spec));

  ml::AutoMlOptions options;
  options.clock = &clock;
  options.threads = Threads(overrides);
  options.progress = progress;
  if (spec.search.budget_seconds > 0) {
    options.deadline_micros = started + static_cast<int64_t>(spec.search.budget_seconds * 1e6);
  }
  Training training;
  training.task = task_version;
  training.dataset_version_id = dataset.id;
  training.user = actor.user;
  training.started_at_micros = started;
  training.budget_seconds = spec.search.budget_seconds;
  training.environment = EnvironmentManifest();

  absl::StatusOr<ml::AutoMlRun> run = ml::RunAutoMl(task, options);
  absl::StatusOr<Candidate> candidate =
      run.ok()
          ? StoreCandidate(workspace_, task, run->best, run->search.trials, task_version, dataset)
          : absl::StatusOr<Candidate>(run.status());
  training.finished_at_micros = clock.NowMicros();
  const double seconds =
      static_cast<double>(training.finished_at_micros - training.started_at_micros) / 1e6;
  if (run.ok()) {
    for (const ml::TrialRecord& trial : run->search.trials) {
      training.trials.push_back(TrialRow{trial.number, trial.algorithm, trial.status, trial.cv_mean,
                                         trial.cv_std, trial.seconds, trial.ToJson()});
    }
  }
  if (candidate.ok()) {
    const ml::FinalModel& best = run->best;
    training.status = "complete";
    training.best_trial = best.trial.number;
    training.result_sha256 = candidate->sha256;
    training.summary = {{"dataset", dataset.Ref()},
                        {"metric", task.metric},
                        {"greater_is_better", run->search.greater_is_better},
                        {"best_trial", best.trial.number},
                        {"algorithm", best.trial.algorithm},
                        {"cv_score", best.cv_score},
                        {"cv_std", best.trial.cv_std},
                        {"holdout_score", best.holdout_score ? nlohmann::json(*best.holdout_score)
                                                             : nlohmann::json(nullptr)},
                        {"final_rounds", best.final_rounds},
                        {"stop_reason", run->search.stop_reason},
                        {"labelled_rows", task.labelled_rows},
                        {"null_target_rows", task.null_target_rows},
                        {"split", best.split},
                        {"seconds", seconds},
                        {"threads", options.threads}};
  } else {
    training.status = "failed";
    training.error = std::string(candidate.status().message());
    training.summary = {{"dataset", dataset.Ref()}, {"seconds", seconds}};
  }
  Training recorded;
  ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor, [&](catalog::Workspace::Change& change) {
    ASSAY_ASSIGN_OR_RETURN(recorded, MlTaskCatalog::RecordTraining(change, training));
    return absl::OkStatus();
  }));
  if (!candidate.ok()) {
    return absl::Status(candidate.status().code(),
                        absl::StrCat("training ", recorded.number, " of ", task_version.Ref(),
                                     " failed: ", candidate.status().message()));
  }
  return recorded;
}

absl::StatusOr<registry::RegisterResult> TrainingService::Deploy(const std::string& project,
                                                                 const std::string& task_name,
                                                                 const std::string& trial_text,
                                                                 const std::string& model_name,
                                                                 const catalog::Actor& actor) {
  ASSAY_RETURN_IF_ERROR(registry::ValidateModelName(model_name));
  ASSAY_ASSIGN_OR_RETURN(const Training training,
                         MlTaskCatalog(workspace_).GetTraining(project, task_name));
  ASSAY_ASSIGN_OR_RETURN(const int number, ParseTrialNumber(trial_text, training));
  const TrialRow* row = nullptr;
  for (const TrialRow& trial : training.trials) {
    if (trial.number == number) row = &trial;
  }
  if (row == nullptr) {
    return absl::NotFoundError(absl::StrCat("training ", training.number, " of ",
                                            training.task.Ref(), " has no trial ", number,
                                            " (it has ", training.trials.size(), " trials)"));
  }
  if (row->status != "complete") {
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", number, " is ", row->status,
                     "; only a complete trial (scored on every fold) can be deployed"));
  }

  nlohmann::json manifest;
  if (number == training.best_trial) {
    ASSAY_ASSIGN_OR_RETURN(const std::string bytes,
                           workspace_.objects().Get(training.result_sha256));
    manifest = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (manifest.is_discarded()) {
      return absl::DataLossError(
          absl::StrCat("the stored result of training ", training.number, " does not parse"));
    }
  } else {
    // Re-finalize the trial from the same dataset version, spec and seed.
    catalog::DatasetCatalog datasets(workspace_);
    ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetVersion dataset,
                           datasets.GetById(training.dataset_version_id));
    ASSAY_ASSIGN_OR_RETURN(const table::Table table, datasets.LoadTable(dataset));
    ASSAY_ASSIGN_OR_RETURN(const ml::TaskSpec spec, ml::TaskSpec::FromJson(training.task.spec));
    ASSAY_ASSIGN_OR_RETURN(const ml::PreparedTask task, ml::PrepareTask(table, spec));
    ml::AutoMlOptions options;
    options.clock = &workspace_.clock();
    options.threads = Threads(TrainOverrides{});
    const ml::TrialRecord trial = ml::TrialRecord::FromJson(row->trial);
    ASSAY_ASSIGN_OR_RETURN(const ml::FinalModel final_model,
                           ml::FinalizeTrial(task, trial, nullptr, options));
    std::vector<ml::TrialRecord> leaderboard;
    for (const TrialRow& other : training.trials) {
      leaderboard.push_back(ml::TrialRecord::FromJson(other.trial));
    }
    ASSAY_ASSIGN_OR_RETURN(
        const Candidate candidate,
        StoreCandidate(workspace_, task, final_model, leaderboard, training.task, dataset));
    manifest = candidate.manifest;
  }
  manifest["lineage"]["training"] = {
      {"id", training.id},
      {"number", training.number},
      {"trial", number},
      {"user", training.user},
      {"started_at_utc", common::FormatUtcMicros(training.started_at_micros)}};
  ASSAY_ASSIGN_OR_RETURN(const std::string manifest_sha, workspace_.objects().Put(manifest.dump()));
  registry::NewVersion version;
  version.manifest_sha256 = manifest_sha;
  version.training_id = training.id;
  version.trial_number = number;
  version.algorithm = manifest.value("algorithm", "");
  version.task_type = manifest.value("task_type", "");
  version.metric = manifest.value("metric", "");
  version.cv_score = manifest.value("cv_score", 0.0);
  version.holdout_score =
      manifest["holdout_score"].is_number() ? manifest["holdout_score"].get<double>() : 0.0;
  registry::RegisterResult result;
  ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor, [&](catalog::Workspace::Change& change) {
    ASSAY_ASSIGN_OR_RETURN(
        result, registry::ModelRegistry::Register(change, project, model_name, version, actor.user,
                                                  workspace_.clock().NowMicros(), workspace_));
    return absl::OkStatus();
  }));
  return result;
}

namespace {

absl::StatusOr<nlohmann::json> CheckedManifest(const registry::ModelRegistry& registry,
                                               const registry::SavedModelVersion& version) {
  ASSAY_ASSIGN_OR_RETURN(nlohmann::json manifest, registry.LoadManifest(version));
  if (manifest.value("format", "") != kSavedModelFormat ||
      manifest.value("format_version", 0) != kSavedModelFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(version.Ref(), " is stored in saved-model format ",
                     manifest.value("format", "?"), " v", manifest.value("format_version", 0),
                     "; this build reads ", kSavedModelFormat, " v", kSavedModelFormatVersion));
  }
  return manifest;
}

}  // namespace

absl::StatusOr<ml::Scorer> TrainingService::LoadScorer(
    const registry::SavedModelVersion& version) const {
  return flow::LoadSavedModelScorer(workspace_, version);
}

absl::StatusOr<nlohmann::json> TrainingService::ModelDocument(
    const registry::SavedModelVersion& version, int64_t generated_at_micros) const {
  registry::ModelRegistry registry(workspace_);
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json manifest, CheckedManifest(registry, version));
  const std::string task_type = manifest["task_type"];
  const nlohmann::json& lineage = manifest["lineage"];
  const nlohmann::json& evaluation = manifest["evaluation"];
  const nlohmann::json& explanations = manifest["explanations"];
  nlohmann::json title = {{"project", version.project},
                          {"model_name", version.name},
                          {"model_version", version.version},
                          {"task_type", task_type},
                          {"target", manifest["target"]},
                          {"generated_at_utc", common::FormatUtcMicros(generated_at_micros)},
                          {"assay_version", AssayVersion()},
                          {"version_sha256", version.sha256}};
  if (task_type == "binary") {
    title["positive_class"] = manifest["scoring"]["labels"]["classes"][1];
  }
  nlohmann::json split = lineage["split"];
  nlohmann::json document = {{"schema_version", 1},
                             {"title", title},
                             {"purpose", manifest["purpose"]},
                             {"lineage",
                              {{"dataset", lineage["dataset"]},
                               {"split", split},
                               {"task_spec_sha256", lineage["task"]["spec_sha256"]},
                               {"upstream_runs", lineage["upstream_runs"]}}},
                             {"features", manifest["features"]}};

  const nlohmann::json& trial = manifest["trial"];
  const std::string calibration = manifest["scoring"]["calibration"].value("method", "none");
  const int trial_number = trial.value("number", 0);
  document["model"] = {{"trial_id", absl::StrCat("t", trial_number)},
                       {"algorithm", manifest["algorithm_title"]},
                       {"hyperparameters", trial.value("hyper", nlohmann::json::object())},
                       {"optimized_metric", manifest["metric"]},
                       {"selection", ""},
                       {"calibration", calibration == "platt"      ? "Platt"
                                       : calibration == "isotonic" ? "isotonic"
                                                                   : "none"}};
  const int final_rounds = manifest["model"].value("final_rounds", 0);
  document["model"]["selection"] = absl::StrCat(
      "trial t", trial_number, " (CV ", manifest.value("metric", ""), "), refitted on the ",
      split.value("train_rows", int64_t{0}), " training rows",
      final_rounds > 0 ? absl::StrCat(" with ", final_rounds, " boosting rounds") : "");

  // Leaderboard in rank order: complete trials by CV score, then the others by number.
  const bool greater = evaluation.value("greater_is_better", true);
  std::vector<nlohmann::json> trials(manifest["leaderboard"].begin(),
                                     manifest["leaderboard"].end());
  std::stable_sort(trials.begin(), trials.end(), [&](const auto& a, const auto& b) {
    const bool ca = a.value("status", "") == "complete", cb = b.value("status", "") == "complete";
    if (ca != cb) return ca;
    if (!ca) return false;
    return greater ? a.value("cv_mean", 0.0) > b.value("cv_mean", 0.0)
                   : a.value("cv_mean", 0.0) < b.value("cv_mean", 0.0);
  });
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& entry : trials) {
    const std::string status = entry.value("status", "");
    const bool scored = status == "complete" || status == "pruned";
    nlohmann::json row = {
        {"trial_id", absl::StrCat("t", entry.value("number", 0))},
        {"algorithm", entry.value("algorithm", "")},
        {"params", ml::SummarizeHyperparameters(entry.value("hyper", nlohmann::json::object()))},
        {"cv_mean", scored ? entry["cv_mean"] : nlohmann::json(nullptr)},
        {"cv_std", status == "complete" ? entry["cv_std"] : nlohmann::json(nullptr)},
        {"status", DocumentStatus(status)}};
    if (status == "pruned") row["message"] = "pruned after fold 1 (successive halving)";
    if (!entry.value("error", "").empty()) row["message"] = entry["error"];
    rows.push_back(std::move(row));
  }
  document["leaderboard"] = {
      {"metric", manifest["metric"]}, {"greater_is_better", greater}, {"trials", rows}};
  document["metrics"] = evaluation["metrics"];
  if (task_type == "binary") {
    CopySections(evaluation,
                 {"roc_curve", "pr_curve", "calibration_curve", "lift_chart", "confusion_matrix"},
                 document);
  } else if (task_type == "multiclass") {
    CopySections(evaluation, {"per_class_metrics", "confusion_matrix"}, document);
  } else {
    CopySections(evaluation, {"residuals"}, document);
  }
  if (explanations.contains("importance")) {
    nlohmann::json importance = explanations["importance"];
    importance.erase("rows");
    document["importance"] = importance;
  }
  if (explanations.contains("partial_dependence")) {
    nlohmann::json partial = explanations["partial_dependence"];
    partial.erase("rows");
    document["partial_dependence"] = partial;
  }
  if (explanations.contains("subpopulations") && !explanations["subpopulations"].empty()) {
    document["subpopulations"] = explanations["subpopulations"][0];
  } else {
    document["subpopulations"] = {
        {"not_available", "the task spec names no explain.subpopulation column"}};
  }
  nlohmann::json environment = manifest["environment"];
  document["environment"] = {
      {"assay_version", environment.value("assay_version", "")},
      {"assay_commit", environment.value("assay_commit", "")},
      {"xgboost_version", environment.value("xgboost_version", "")},
      {"compiler", environment.value("compiler", "")},
      {"os", environment.value("os", "")},
      {"other",
       {{"threads", environment.value("threads", "")},
        {"saved-model format", absl::StrCat(kSavedModelFormat, " v", kSavedModelFormatVersion)}}}};
  return document;
}

}  // namespace assay::training
