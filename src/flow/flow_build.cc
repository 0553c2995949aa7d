#include "flow/flow_build.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/datasets.h"
#include "catalog/recipes.h"
#include "catalog/runs.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "flow/flow_graph.h"
#include "flow/quality_gate.h"
#include "flow/score_recipe.h"
#include "recipes/recipe.h"
#include "registry/model_registry.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "unknown"
#endif

namespace assay::flow {
namespace {

using catalog::DatasetVersion;

std::string StepRef(const std::string& project, const std::string& recipe) {
  return absl::StrCat(project, "/", recipe);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A score recipe's parsed config and the model version it reads in this build.
struct ScoreModel {
  ScoreSpec spec;
  registry::SavedModelVersion version;
};

// Why a recipe whose memo key has no succeeded run must run, compared with its last run.
// `model` is the model version a score recipe reads now (null for other types).
std::string WhyRun(const catalog::RecipeVersion& recipe,
                   const std::optional<catalog::RunRecord>& last,
                   const std::vector<DatasetVersion>& inputs, const ScoreModel* model) {
  if (!last) return "never built";
  if (last->status != catalog::kRunSucceeded) {
    return absl::StrCat("last run (", last->Label(), ") failed");
  }
  if (last->recipe_version != recipe.version) {
    return absl::StrCat("recipe changed (v", last->recipe_version, " -> v", recipe.version, ")");
  }
  if (last->engine_version != EngineVersion()) {
    return absl::StrCat("engine changed (", last->engine_version, " -> ", EngineVersion(), ")");
  }
  std::vector<std::string> changed;
  for (size_t position = 0; position < inputs.size(); ++position) {
    if (position >= last->input_version_ids.size() ||
        last->input_version_ids[position] != inputs[position].id) {
      changed.push_back(inputs[position].Ref());
    }
  }
  if (!changed.empty()) return absl::StrCat("new input ", absl::StrJoin(changed, ", "));
  if (model != nullptr) {
    // RunScoreRecipe records the model version a score run read in its environment.
    const auto used = last->environment.find("model");
    const bool known = used != last->environment.end() && used->is_object();
    if (!known || used->value("manifest_sha256", "") != model->version.sha256) {
      return absl::StrCat("new model version ", model->version.Ref(), " (last run used ",
                          known ? used->value("ref", "?") : "?", ")");
    }
  }
  return "inputs or config differ from every earlier run";
}

class BuildRun {
 public:
  BuildRun(catalog::Workspace& workspace, const std::string& project, const BuildOptions& options,
           const catalog::Actor& actor, const BuildProgress& progress)
      : workspace_(workspace),
        datasets_(workspace),
        recipes_(workspace),
        runs_(workspace),
        project_(project),
        options_(options),
        actor_(actor),
        progress_(progress) {}

  absl::StatusOr<BuildReport> Run() {
    if (options_.allow_failed_checks && actor_.reason.empty()) {
      return absl::InvalidArgumentError(
          "--allow-failed-checks needs --reason \"...\" (the override is audited)");
    }
    ASSAY_ASSIGN_OR_RETURN(graph_, FlowGraph::Load(workspace_, project_));
    ASSAY_ASSIGN_OR_RETURN(const std::vector<size_t> plan, graph_.Upstream(options_.targets));
    report_.project = project_;
    report_.dry_run = options_.dry_run;
    build_start_micros_ = workspace_.clock().NowMicros();
    for (size_t index : plan) {
      const auto& recipe = graph_.recipes()[index];
      BuildStep step;
      step.recipe = recipe.definition.name;
      step.recipe_version = recipe.version;
      step.type = recipe.definition.type;
      step.inputs = recipe.definition.inputs;
      step.outputs = recipe.definition.outputs;
      step.status = "not run";
      report_.steps.push_back(std::move(step));
    }
    for (size_t position = 0; position < plan.size(); ++position) {
      BuildStep& step = report_.steps[position];
      ASSAY_RETURN_IF_ERROR(RunStep(graph_.recipes()[plan[position]], step));
      if (!report_.ok) break;
    }
    if (report_.ok && !options_.dry_run) ASSAY_RETURN_IF_ERROR(CheckFinalOutputs());
    return std::move(report_);
  }

 private:
  // The versions a recipe reads: outputs of steps earlier in this build, else the latest
  // version. nullopt (dry run) when an input comes from a step that has not run.
  absl::StatusOr<std::optional<std::vector<DatasetVersion>>> ResolveInputs(
      const catalog::RecipeVersion& recipe, BuildStep& step) {
    std::vector<DatasetVersion> inputs;
    for (const auto& name : recipe.definition.inputs) {
      if (auto it = produced_.find(name); it != produced_.end()) {
        inputs.push_back(it->second);
        continue;
      }
      if (unknown_.contains(name)) return std::nullopt;
      catalog::DatasetRef ref;
      ref.dataset = {project_, name};
      auto version = datasets_.Resolve(ref);
      if (!version.ok()) {
        if (version.status().code() != absl::StatusCode::kNotFound) return version.status();
        const int producer = graph_.ProducerOf(name);
        if (producer >= 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "dataset ", project_, "/", name, " has not been built yet: build recipe ",
              graph_.recipes()[producer].definition.name, " first"));
        }
        return absl::FailedPreconditionError(
            absl::StrCat("source dataset ", project_, "/", name, " (read by recipe ", step.recipe,
                         ") has no version yet: import it with `assay dataset import ", project_,
                         "/", name, " FILE.csv`"));
      }
      inputs.push_back(*std::move(version));
    }
    return inputs;
  }

  absl::Status RunStep(const catalog::RecipeVersion& recipe, BuildStep& step) {
    ASSAY_ASSIGN_OR_RETURN(auto resolved, ResolveInputs(recipe, step));
    if (!resolved) {
      // Dry run only: an upstream step would run first, so the inputs are not known yet.
      step.action = "run";
      step.reason = "an upstream recipe runs first (skipped later if its outputs are unchanged)";
      step.status = "planned";
      MarkUnknownOutputs(recipe);
      return absl::OkStatus();
    }
    const std::vector<DatasetVersion>& inputs = *resolved;
    for (const auto& input : inputs) step.input_refs.push_back(input.Ref());

    score_.reset();
    if (recipe.definition.type == kScoreRecipeType) {
      absl::StatusOr<ScoreModel> model = ResolveScore(recipe);
      if (!model.ok()) return FailBeforeRun(recipe, inputs, model.status(), step);
      score_ = *std::move(model);
    }
    const std::string memo_key =
        MemoKey(recipe.definition, inputs, score_ ? score_->version.sha256 : "");
    std::optional<catalog::RunRecord> memo;
    if (!options_.force) {
      ASSAY_ASSIGN_OR_RETURN(memo, runs_.FindSucceeded(memo_key));
    }
    if (memo) {
      step.action = "skip";
      step.reason = absl::StrCat("memoized: ", memo->Label(),
                                 " ran the same recipe on the same input versions",
                                 score_ ? absl::StrCat(" with ", score_->version.Ref()) : "");
    } else {
      step.action = "run";
      if (options_.force) {
        step.reason = "--force";
      } else {
        ASSAY_ASSIGN_OR_RETURN(auto last, runs_.LastRun(recipe.recipe_id));
        step.reason = WhyRun(recipe, last, inputs, score_ ? &*score_ : nullptr);
      }
    }
    if (options_.dry_run) {
      step.status = "planned";
      if (memo) {
        ASSAY_RETURN_IF_ERROR(RememberOutputs(recipe, *memo, step));
      } else {
        MarkUnknownOutputs(recipe);
      }
      return absl::OkStatus();
    }

    // The gate: never read a version that failed an error-severity rule unless allowed.
    for (const auto& input : inputs) {
      ASSAY_ASSIGN_OR_RETURN(const bool pass, GateInput(input, step));
      if (!pass) return absl::OkStatus();
    }

    if (progress_) progress_(step, false);
    const auto start = std::chrono::steady_clock::now();
    if (memo) {
      step.status = "reused";
      step.run_id = memo->id;
      ASSAY_RETURN_IF_ERROR(RememberOutputs(recipe, *memo, step));
    } else {
      ASSAY_RETURN_IF_ERROR(Execute(recipe, inputs, memo_key, step));
    }
    step.seconds = SecondsSince(start);
    if (progress_) progress_(step, true);
    return absl::OkStatus();
  }

  // For a score recipe: its config and the model version it reads now. Errors:
  // INVALID_ARGUMENT for a bad config, NOT_FOUND for an unknown model or version (both fail
  // the recipe), store errors.
  absl::StatusOr<ScoreModel> ResolveScore(const catalog::RecipeVersion& recipe) {
    ASSAY_ASSIGN_OR_RETURN(ScoreSpec spec, ParseScoreSpec(recipe.definition.config, project_));
    ASSAY_ASSIGN_OR_RETURN(registry::SavedModelVersion version,
                           ResolveScoreModel(workspace_, spec));
    return ScoreModel{std::move(spec), std::move(version)};
  }

  // A recipe that cannot start (its score model is unknown): a failed run, as if it had
  // failed while running; a dry run only reports it. Other errors stop the build as errors.
  absl::Status FailBeforeRun(const catalog::RecipeVersion& recipe,
                             const std::vector<DatasetVersion>& inputs, const absl::Status& error,
                             BuildStep& step) {
    if (error.code() != absl::StatusCode::kNotFound &&
        error.code() != absl::StatusCode::kInvalidArgument) {
      return error;
    }
    step.action = "run";
    if (options_.dry_run) {
      step.reason = absl::StrCat("will fail: ", error.message());
      step.status = "planned";
      MarkUnknownOutputs(recipe);
      return absl::OkStatus();
    }
    step.reason = "its model cannot be resolved";
    return RecordFailure(NewRun(recipe, inputs, MemoKey(recipe.definition, inputs)), error, step);
  }

  void MarkUnknownOutputs(const catalog::RecipeVersion& recipe) {
    for (const auto& output : recipe.definition.outputs) unknown_.insert(output);
  }

  absl::Status RememberOutputs(const catalog::RecipeVersion& recipe, const catalog::RunRecord& run,
                               BuildStep& step) {
    if (run.output_version_ids.size() != recipe.definition.outputs.size()) {
      return absl::DataLossError(absl::StrCat(run.Label(), " recorded ",
                                              run.output_version_ids.size(), " outputs, expected ",
                                              recipe.definition.outputs.size()));
    }
    for (size_t position = 0; position < run.output_version_ids.size(); ++position) {
      ASSAY_ASSIGN_OR_RETURN(DatasetVersion version,
                             datasets_.GetById(run.output_version_ids[position]));
      step.output_refs.push_back(version.Ref());
      step.output_rows.push_back(version.row_count);
      step.output_created.push_back(false);
      produced_[recipe.definition.outputs[position]] = std::move(version);
    }
    return absl::OkStatus();
  }

  // True if the build may read `input`. Re-checks a version whose stored report was made
  // under other rules than those in force now (the new result is reported, not stored).
  absl::StatusOr<bool> GateInput(const DatasetVersion& input, BuildStep& step) {
    if (auto it = gate_.find(input.id); it != gate_.end()) return it->second;
    nlohmann::json checks = input.checks;
    ASSAY_ASSIGN_OR_RETURN(auto rules, recipes_.GetRules(project_, input.dataset.name));
    if (rules && !rules->rules.empty() &&
        (checks.is_null() || checks.value("rules_sha256", "") != rules->sha256)) {
      ASSAY_ASSIGN_OR_RETURN(const table::Table table, datasets_.LoadTable(input));
      ASSAY_ASSIGN_OR_RETURN(checks, CheckTable(*rules, table, build_start_micros_));
      report_.notes.push_back(absl::StrCat(input.Ref(),
                                           " was checked now: its stored quality report predates "
                                           "the rules in force"));
    }
    bool pass = checks.is_null() || checks.value("passed", true);
    if (!pass && options_.allow_failed_checks) {
      const std::string failures = DescribeFailedRules(checks);
      ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor_, [&](catalog::Workspace::Change& change) {
        audit::AuditEvent event;
        event.action = "quality.override";
        event.project_key = project_;
        event.object_type = "dataset";
        event.object_id = input.dataset.ToString();
        event.object_version = input.Label();
        event.after_hash = input.sha256;
        event.details = {{"recipe", step.recipe}, {"failed_rules", failures}};
        return change.Audit(std::move(event)).status();
      }));
      report_.notes.push_back(absl::StrCat("quality override: ", step.recipe, " read ", input.Ref(),
                                           " despite failed rules (", failures,
                                           "); reason: ", actor_.reason));
      pass = true;
    }
    if (!pass) {
      report_.ok = false;
      report_.failure = absl::StrCat(
          "quality gate: ", input.Ref(),
          " failed error-severity rules: ", DescribeFailedRules(checks), ". Recipe ", step.recipe,
          " and everything downstream did not run. Fix the data (or the rules), or rerun with "
          "--allow-failed-checks --reason \"...\" to override (audited).");
      step.status = "not run";
      step.error = "blocked by the quality gate";
    }
    gate_[input.id] = pass;
    return pass;
  }

  catalog::RunRecord NewRun(const catalog::RecipeVersion& recipe,
                            const std::vector<DatasetVersion>& inputs,
                            const std::string& memo_key) const {
    catalog::RunRecord run;
    run.project = project_;
    run.recipe = recipe.definition.name;
    run.recipe_id = recipe.recipe_id;
    run.recipe_version = recipe.version;
    run.recipe_type = recipe.definition.type;
    run.config_sha256 = recipe.definition.ConfigSha256();
    run.memo_key = memo_key;
    run.engine_version = EngineVersion();
    run.user = actor_.user;
    run.started_at_micros = workspace_.clock().NowMicros();
    for (const auto& input : inputs) run.input_version_ids.push_back(input.id);
    return run;
  }

  // Records `run` as failed with `error` in its own transaction (earlier outputs stay as they
  // were) and stops the build.
  absl::Status RecordFailure(catalog::RunRecord run, const absl::Status& error, BuildStep& step) {
    run.status = std::string(catalog::kRunFailed);
    run.error = std::string(error.message());
    run.finished_at_micros = workspace_.clock().NowMicros();
    int64_t run_id = 0;
    ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor_, [&](catalog::Workspace::Change& change) {
      ASSAY_ASSIGN_OR_RETURN(run_id, catalog::RunCatalog::Record(change, run));
      return absl::OkStatus();
    }));
    step.status = "failed";
    step.run_id = run_id;
    step.error = run.error;
    step.log = run.log;
    report_.ok = false;
    report_.failure =
        absl::StrCat("recipe ", step.recipe, " failed (run ", run_id, "): ", run.error,
                     ". Earlier outputs are intact; fix the recipe or its "
                     "inputs and build again.");
    return absl::OkStatus();
  }

  absl::Status Execute(const catalog::RecipeVersion& recipe,
                       const std::vector<DatasetVersion>& inputs, const std::string& memo_key,
                       BuildStep& step) {
    catalog::RunRecord run = NewRun(recipe, inputs, memo_key);
    absl::StatusOr<std::vector<catalog::StagedTable>> staged = StageOutputs(recipe, inputs, run);
    if (!staged.ok()) return RecordFailure(std::move(run), staged.status(), step);

    run.status = std::string(catalog::kRunSucceeded);
    run.finished_at_micros = workspace_.clock().NowMicros();
    std::vector<catalog::CommittedVersion> committed;
    int64_t run_id = 0;
    ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor_, [&](catalog::Workspace::Change& change) {
      committed.clear();
      run.output_version_ids.clear();
      for (size_t position = 0; position < staged->size(); ++position) {
        const catalog::StagedTable& table = (*staged)[position];
        const nlohmann::json source = {{"kind", "recipe"},
                                       {"recipe", StepRef(project_, recipe.definition.name)},
                                       {"recipe_version", recipe.version},
                                       {"type", recipe.definition.type},
                                       {"memo_key", memo_key}};
        ASSAY_ASSIGN_OR_RETURN(
            catalog::CommittedVersion version,
            catalog::DatasetCatalog::CommitVersion(
                change, {project_, recipe.definition.outputs[position]}, table, source,
                output_checks_[position], "dataset.build", actor_.user, run.finished_at_micros));
        run.output_version_ids.push_back(version.version.id);
        committed.push_back(std::move(version));
      }
      ASSAY_ASSIGN_OR_RETURN(run_id, catalog::RunCatalog::Record(change, run));
      return absl::OkStatus();
    }));
    step.status = "succeeded";
    step.run_id = run_id;
    step.log = run.log;
    for (size_t position = 0; position < committed.size(); ++position) {
      step.output_refs.push_back(committed[position].version.Ref());
      step.output_rows.push_back(committed[position].version.row_count);
      step.output_created.push_back(committed[position].created);
      produced_[recipe.definition.outputs[position]] = std::move(committed[position].version);
    }
    return absl::OkStatus();
  }

  // Loads the inputs, runs the recipe, checks and stores each output as an object.
  absl::StatusOr<std::vector<catalog::StagedTable>> StageOutputs(
      const catalog::RecipeVersion& recipe, const std::vector<DatasetVersion>& inputs,
      catalog::RunRecord& run) {
    std::vector<table::Table> tables;
    tables.reserve(inputs.size());
    for (const auto& input : inputs) {
      ASSAY_ASSIGN_OR_RETURN(table::Table table, datasets_.LoadTable(input));
      tables.push_back(std::move(table));
    }
    std::vector<recipes::RecipeInput> named;
    for (size_t position = 0; position < inputs.size(); ++position) {
      named.push_back({recipe.definition.inputs[position], &tables[position]});
    }
    recipes::RecipeOutcome outcome;
    if (score_) {
      ASSAY_RETURN_IF_ERROR(recipes::ValidateRecipe(recipe.definition.type,
                                                    recipe.definition.config, named.size(),
                                                    recipe.definition.outputs.size()));
      ASSAY_ASSIGN_OR_RETURN(outcome,
                             RunScoreRecipe(workspace_, score_->spec, score_->version, named[0]));
    } else {
      recipes::RecipeContext context;
      context.build_start_micros = build_start_micros_;
      ASSAY_ASSIGN_OR_RETURN(
          outcome, recipes::RunRecipe(recipe.definition.type, recipe.definition.config, named,
                                      recipe.definition.outputs.size(), context));
    }
    run.log = outcome.log;
    run.environment = outcome.environment;
    if (outcome.outputs.size() != recipe.definition.outputs.size()) {
      return absl::InternalError(absl::StrCat("recipe returned ", outcome.outputs.size(),
                                              " outputs, expected ",
                                              recipe.definition.outputs.size()));
    }
    std::vector<catalog::StagedTable> staged;
    output_checks_.clear();
    for (size_t position = 0; position < outcome.outputs.size(); ++position) {
      const table::Table& output = outcome.outputs[position];
      nlohmann::json checks;
      ASSAY_ASSIGN_OR_RETURN(auto rules,
                             recipes_.GetRules(project_, recipe.definition.outputs[position]));
      if (rules && !rules->rules.empty()) {
        ASSAY_ASSIGN_OR_RETURN(checks, CheckTable(*rules, output, build_start_micros_));
      }
      output_checks_.push_back(std::move(checks));
      ASSAY_ASSIGN_OR_RETURN(catalog::StagedTable table, datasets_.Stage(output));
      staged.push_back(std::move(table));
    }
    return staged;
  }

  // A build whose own outputs failed error rules (with no downstream recipe to stop) fails.
  absl::Status CheckFinalOutputs() {
    for (auto& step : report_.steps) {
      for (const auto& output : step.outputs) {
        auto it = produced_.find(output);
        if (it == produced_.end()) continue;
        ASSAY_ASSIGN_OR_RETURN(const bool pass, GateInput(it->second, step));
        if (!pass) {
          report_.ok = false;
          step.status = "failed checks";
          step.error = "output failed error-severity quality rules";
          report_.failure = absl::StrCat(
              "quality gate: ", it->second.Ref(), " (written by ", step.recipe,
              ") failed error-severity rules: ", DescribeFailedRules(it->second.checks),
              ". The version is stored with its report; fix the recipe or its inputs, or "
              "rerun with --allow-failed-checks --reason \"...\" to accept it (audited).");
          return absl::OkStatus();
        }
      }
    }
    return absl::OkStatus();
  }

  catalog::Workspace& workspace_;
  catalog::DatasetCatalog datasets_;
  catalog::RecipeCatalog recipes_;
  catalog::RunCatalog runs_;
  const std::string project_;
  const BuildOptions& options_;
  const catalog::Actor& actor_;
  const BuildProgress& progress_;

  FlowGraph graph_;
  BuildReport report_;
  int64_t build_start_micros_ = 0;
  std::map<std::string, DatasetVersion> produced_;  // dataset name -> version in this build
  std::set<std::string> unknown_;                   // dry run: outputs of steps that would run
  std::map<int64_t, bool> gate_;                    // version id -> may be read
  std::vector<nlohmann::json> output_checks_;       // of the recipe being staged
  std::optional<ScoreModel> score_;                 // of the step being run, if a score recipe
};

}  // namespace

std::string MemoKey(const catalog::RecipeDefinition& definition,
                    const std::vector<DatasetVersion>& inputs, const std::string& model_sha256) {
  nlohmann::json input_hashes = nlohmann::json::array();
  for (const auto& input : inputs) input_hashes.push_back(input.sha256);
  nlohmann::json key = {{"type", definition.type},
                        {"config", definition.config},
                        {"inputs", input_hashes},
                        {"outputs", definition.outputs},
                        {"engine", EngineVersion()}};
  // Only score recipes read a model; the other types keep the keys they always had, so their
  // memoized runs stay valid.
  if (!model_sha256.empty()) key["model"] = model_sha256;
  return catalog::CanonicalJsonSha256(key);
}

std::string EngineVersion() {
  return absl::StrCat("assay-", ASSAY_VERSION, "/", std::string(recipes::kRecipeEngineVersion));
}

nlohmann::json BuildReport::ToJson() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& step : steps) {
    nlohmann::json outputs = nlohmann::json::array();
    for (size_t position = 0; position < step.output_refs.size(); ++position) {
      outputs.push_back({{"ref", step.output_refs[position]},
                         {"rows", step.output_rows[position]},
                         {"new_version", step.output_created[position]}});
    }
    nlohmann::json item = {{"recipe", step.recipe},     {"recipe_version", step.recipe_version},
                           {"type", step.type},         {"action", step.action},
                           {"reason", step.reason},     {"status", step.status},
                           {"inputs", step.input_refs}, {"outputs", outputs},
                           {"seconds", step.seconds}};
    if (step.run_id != 0) item["run_id"] = step.run_id;
    if (!step.error.empty()) item["error"] = step.error;
    steps_json.push_back(std::move(item));
  }
  nlohmann::json json = {{"project", project},
                         {"dry_run", dry_run},
                         {"ok", ok},
                         {"steps", steps_json},
                         {"notes", notes}};
  if (!failure.empty()) json["failure"] = failure;
  return json;
}

absl::StatusOr<BuildReport> FlowBuilder::Build(const std::string& project,
                                               const BuildOptions& options,
                                               const catalog::Actor& actor,
                                               const BuildProgress& progress) {
  return BuildRun(workspace_, project, options, actor, progress).Run();
}

}  // namespace assay::flow
