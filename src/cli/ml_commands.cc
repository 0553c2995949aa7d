// `assay ml create|list|train|leaderboard|show|deploy`, `assay model list|versions|show|report`
// and `assay score`: thin wrappers over training::TrainingService and the model registry.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "catalog/dataset_ref.h"
#include "catalog/datasets.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "flow/flow_definition.h"
#include "ml/model_report.h"
#include "ml/search.h"
#include "ml/search_space.h"
#include "registry/model_registry.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"
#include "training/ml_task_catalog.h"
#include "training/training_service.h"

namespace assay::cli {
namespace {

// "60s", "2m", "1h", "90" (seconds); 0 = no time limit. Errors: INVALID_ARGUMENT.
absl::StatusOr<double> ParseDuration(const std::string& text) {
  std::string number = text;
  double unit = 1;
  if (!number.empty() && (number.back() == 's' || number.back() == 'm' || number.back() == 'h')) {
    unit = number.back() == 'm' ? 60 : number.back() == 'h' ? 3600 : 1;
    number.pop_back();
  }
  double value = 0;
  if (!absl::SimpleAtod(number, &value) || !std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --budget \"", text,
                     "\": give a duration such as 60s, 5m or 1h (0 = no time limit)"));
  }
  return value * unit;
}

// "TASK/TRIAL" -> (task, trial).
absl::StatusOr<std::pair<std::string, std::string>> SplitTrialRef(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid trial reference \"", text,
                                                   "\": use TASK/N (a trial number) or TASK/best"));
  }
  return std::make_pair(text.substr(0, slash), text.substr(slash + 1));
}

std::string Score(const nlohmann::json& value) {
  if (!value.is_number()) return "-";
  return absl::StrFormat("%.4f", value.get<double>());
}

// Prints the leaderboard of a training, best first.
void PrintLeaderboard(const training::Training& training, std::ostream& out) {
  const bool greater = training.summary.value("greater_is_better", true);
  std::vector<const training::TrialRow*> rows;
  for (const auto& trial : training.trials) rows.push_back(&trial);
  std::stable_sort(rows.begin(), rows.end(), [&](const auto* a, const auto* b) {
    const bool ca = a->status == "complete", cb = b->status == "complete";
    if (ca != cb) return ca;
    if (!ca) return false;
    return greater ? a->cv_mean > b->cv_mean : a->cv_mean < b->cv_mean;
  });
  out << "Training " << training.number << " of " << training.task.Ref() << " on "
      << training.summary.value("dataset", "?") << ": " << training.status << ", "
      << training.trials.size() << " trials, metric " << training.summary.value("metric", "?")
      << " (" << (greater ? "higher" : "lower") << " is better)\n";
  TextTable table({"", "trial", "algorithm", "status", "cv mean", "cv std", "folds", "seconds",
                   "hyperparameters"});
  for (const auto* trial : rows) {
    const bool scored = trial->status == "complete" || trial->status == "pruned";
    const auto folds = trial->trial.value("fold_scores", std::vector<double>{});
    table.AddRow({trial->number == training.best_trial ? "*" : "", absl::StrCat(trial->number),
                  trial->algorithm, trial->status,
                  scored ? absl::StrFormat("%.4f", trial->cv_mean) : "-",
                  trial->status == "complete" ? absl::StrFormat("%.4f", trial->cv_std) : "-",
                  absl::StrCat(folds.size()), absl::StrFormat("%.1f", trial->seconds),
                  trial->status == "failed" ? trial->trial.value("error", "")
                                            : ml::SummarizeHyperparameters(trial->trial.value(
                                                  "hyper", nlohmann::json::object()))});
  }
  table.Print(out, 60, "  ");
}

nlohmann::json TrainingToJson(const training::Training& training) {
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& trial : training.trials) trials.push_back(trial.trial);
  return {{"task", training.task.Ref()},
          {"training", training.number},
          {"status", training.status},
          {"best_trial", training.best_trial},
          {"started_at", FormatTime(training.started_at_micros)},
          {"seconds", training.summary.value("seconds", 0.0)},
          {"summary", training.summary},
          {"error", training.error},
          {"environment", training.environment},
          {"trials", trials}};
}

// --- ml --------------------------------------------------------------------------------------

// Writes the spec keys given as flags into `spec` (flags win over the file).
template <typename Flags>
absl::Status ApplySpecFlags(const Flags& flags, nlohmann::json& spec) {
  auto set = [&](const char* key, const std::string& value) {
    if (!value.empty()) spec[key] = value;
  };
  set("input", flags.input);
  set("target", flags.target);
  set("type", flags.type);
  set("positive_class", flags.positive_class);
  set("metric", flags.metric);
  set("calibration", flags.calibration);
  if (!flags.algorithms.empty()) {
    std::vector<std::string> names = absl::StrSplit(flags.algorithms, ',', absl::SkipEmpty());
    spec["algorithms"] = names;
  }
  auto section = [&](const char* key) -> nlohmann::json& {
    if (!spec.contains(key) || !spec[key].is_object()) spec[key] = nlohmann::json::object();
    return spec[key];
  };
  if (!flags.budget.empty()) {
    ASSAY_ASSIGN_OR_RETURN(const double seconds, ParseDuration(flags.budget));
    section("search")["budget_seconds"] = seconds;
  }
  if (flags.max_trials) section("search")["max_trials"] = *flags.max_trials;
  if (flags.folds) section("split")["folds"] = *flags.folds;
  if (flags.holdout) section("split")["holdout"] = *flags.holdout;
  if (!flags.time_column.empty()) section("split")["time_column"] = flags.time_column;
  if (flags.seed) spec["seed"] = *flags.seed;
  return absl::OkStatus();
}

void RegisterMlCreate(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project, task, spec, reason;
    // Spec keys settable by flag (they override the file's values).
    std::string input, target, type, positive_class, metric, algorithms, budget, time_column,
        calibration;
    std::optional<int> max_trials, folds;
    std::optional<double> holdout;
    std::optional<int64_t> seed;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand(
      "create",
      "Create an ML task from a task spec (file and/or flags), or store a changed spec as its "
      "next version");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("TASK", flags->task, "Task name")->required();
  command->add_option("--spec", flags->spec, "task.yaml (docs/ml.md \"Task spec\")");
  command->add_option("--input", flags->input, "spec input: the training dataset REF");
  command->add_option("--target", flags->target, "spec target: the column to predict");
  command->add_option("--type", flags->type, "spec type: auto, binary, multiclass, regression");
  command->add_option("--positive-class", flags->positive_class, "spec positive_class (binary)");
  command->add_option("--metric", flags->metric, "spec metric to optimize (docs/ml/metrics.md)");
  command->add_option("--algorithms", flags->algorithms,
                      "spec algorithms, comma-separated: xgboost, linear, xgboost_rf, "
                      "xgboost_linear");
  command->add_option("--budget", flags->budget, "spec search.budget_seconds, e.g. 60s or 5m");
  command->add_option("--max-trials", flags->max_trials, "spec search.max_trials");
  command->add_option("--folds", flags->folds, "spec split.folds (2..20)");
  command->add_option("--holdout", flags->holdout, "spec split.holdout (0.05..0.5)");
  command->add_option("--time-column", flags->time_column,
                      "spec split.time_column: split by this date column");
  command->add_option("--seed", flags->seed, "spec seed");
  command->add_option("--calibration", flags->calibration,
                      "spec calibration: none, platt, isotonic");
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      absl::StatusOr<nlohmann::json> spec = nlohmann::json::object();
      if (!flags->spec.empty()) {
        ASSAY_ASSIGN_OR_RETURN(const std::string text, common::ReadFile(flags->spec));
        spec = flow::YamlToJson(text);
        if (!spec.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(flags->spec, ": ", spec.status().message()));
        }
        if (spec->is_null()) spec = nlohmann::json::object();
        if (!spec->is_object()) {
          return absl::InvalidArgumentError(
              absl::StrCat(flags->spec, ": a task spec is a mapping (input:, target:, ...)"));
        }
      }
      ASSAY_RETURN_IF_ERROR(ApplySpecFlags(*flags, *spec));
      if (flags->spec.empty()) flags->spec = "task spec";
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      absl::StatusOr<std::pair<training::MlTaskVersion, bool>> result =
          training::TrainingService(*workspace)
              .CreateTask(flags->project, flags->task, *spec,
                          CommandContext::MakeActor(flags->reason));
      if (!result.ok()) {
        return absl::Status(result.status().code(),
                            absl::StrCat(flags->spec, ": ", result.status().message()));
      }
      const auto& [version, changed] = *result;
      if (flags->json) {
        PrintJson(std::cout, {{"task", version.Ref()},
                              {"status", changed ? "created" : "unchanged"},
                              {"spec_sha256", version.spec_sha256},
                              {"spec", version.spec}});
        return absl::OkStatus();
      }
      if (changed) {
        std::cout << "Stored ML task " << version.Ref() << " (spec sha256 "
                  << version.spec_sha256.substr(0, 16) << ")\n"
                  << "Train it with: assay ml train " << flags->project << " " << flags->task
                  << "\n";
      } else {
        std::cout << "ML task " << version.Ref() << " already has this spec; nothing changed\n";
      }
      return absl::OkStatus();
    };
  });
}

void RegisterMlList(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand("list", "List the ML tasks of a project");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      training::MlTaskCatalog tasks(*workspace);
      ASSAY_ASSIGN_OR_RETURN(const auto list, tasks.ListTasks(flags->project));
      nlohmann::json out = nlohmann::json::array();
      TextTable table({"task", "version", "input", "target", "trainings", "last status"});
      for (const auto& task : list) {
        ASSAY_ASSIGN_OR_RETURN(const auto trainings, tasks.ListTrainings(task.project, task.name));
        out.push_back({{"task", task.Ref()},
                       {"input", task.spec.value("input", "")},
                       {"target", task.spec.value("target", "")},
                       {"trainings", trainings.size()}});
        table.AddRow({task.name, absl::StrCat("v", task.version), task.spec.value("input", ""),
                      task.spec.value("target", ""), absl::StrCat(trainings.size()),
                      trainings.empty() ? "-" : trainings.back().status});
      }
      if (flags->json) {
        PrintJson(std::cout, out);
      } else if (list.empty()) {
        std::cout << "No ML tasks in " << flags->project
                  << " yet; create one with `assay ml create " << flags->project
                  << " TASK --spec task.yaml`\n";
      } else {
        table.Print(std::cout);
      }
      return absl::OkStatus();
    };
  });
}

void RegisterMlTrain(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project, task, budget, reason;
    int max_trials = 0, threads = 0;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand(
      "train", "Run the AutoML search of a task on its input dataset and record the leaderboard");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("TASK", flags->task, "Task name")->required();
  command->add_option("--budget", flags->budget,
                      "Wall-clock budget of the whole training, e.g. 60s, 5m; 0 = no time limit "
                      "(default: the spec's search.budget_seconds)");
  command
      ->add_option("--max-trials", flags->max_trials,
                   "Stop after this many trials (default: the spec's search.max_trials)")
      ->check(CLI::Range(1, 10000));
  command->add_option("--threads", flags->threads, "Threads to train with (default: all cores)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--json", flags->json, "Print the training as JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      training::TrainOverrides overrides;
      if (!flags->budget.empty()) {
        ASSAY_ASSIGN_OR_RETURN(overrides.budget_seconds, ParseDuration(flags->budget));
      }
      if (flags->max_trials > 0) overrides.max_trials = flags->max_trials;
      overrides.threads = flags->threads;
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      const bool show_progress = ::isatty(STDERR_FILENO) != 0;
      training::TrainProgress progress;
      if (show_progress) {
        progress = [](const ml::SearchProgress& state) {
          std::string line = absl::StrCat("trial ", state.trials_started);
          if (state.trials_planned > 0) absl::StrAppend(&line, "/", state.trials_planned);
          if (state.has_best)
            absl::StrAppend(&line, absl::StrFormat("  best %.4f", state.best_score));
          if (state.seconds_left >= 0) {
            absl::StrAppend(&line, absl::StrFormat("  %.0fs left", state.seconds_left));
          }
          absl::StrAppend(&line, "  ", state.current);
          std::cerr << "\r\033[K" << line << std::flush;
        };
      }
      absl::StatusOr<training::Training> result =
          training::TrainingService(*workspace)
              .Train(flags->project, flags->task, overrides,
                     CommandContext::MakeActor(flags->reason), progress);
      if (show_progress) std::cerr << "\r\033[K" << std::flush;
      ASSAY_RETURN_IF_ERROR(result.status());
      if (flags->json) {
        PrintJson(std::cout, TrainingToJson(*result));
        return absl::OkStatus();
      }
      const nlohmann::json& summary = result->summary;
      std::cout << absl::StrFormat(
          "Trained %s on %s in %.1fs: %d trials (%s), best trial %d (%s)\n"
          "  CV %s %s +- %s, holdout %s (%s rows held out, never used for selection)\n",
          result->task.Ref(), summary.value("dataset", ""), summary.value("seconds", 0.0),
          static_cast<int>(result->trials.size()), summary.value("stop_reason", ""),
          result->best_trial, summary.value("algorithm", ""), summary.value("metric", ""),
          Score(summary["cv_score"]), Score(summary["cv_std"]), Score(summary["holdout_score"]),
          FormatCount(summary["split"].value("holdout_rows", int64_t{0})));
      PrintLeaderboard(*result, std::cout);
      std::cout << "Deploy the best trial with: assay ml deploy " << flags->project << " "
                << flags->task << "/best --saved-model NAME\n";
      return absl::OkStatus();
    };
  });
}

void RegisterMlLeaderboard(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project, task;
    int64_t training = 0;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand("leaderboard", "Show the trials of a task's training");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("TASK", flags->task, "Task name")->required();
  command->add_option("--training", flags->training, "Training number (default: the latest)");
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const training::Training training,
                             training::MlTaskCatalog(*workspace)
                                 .GetTraining(flags->project, flags->task, flags->training));
      if (flags->json) {
        PrintJson(std::cout, TrainingToJson(training));
      } else {
        PrintLeaderboard(training, std::cout);
        if (!training.error.empty()) std::cout << "error: " << training.error << "\n";
      }
      return absl::OkStatus();
    };
  });
}

void RegisterMlShow(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project, ref;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand(
      "show",
      "Show a task (spec and trainings) or, as TASK/TRIAL, one trial of its latest training");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("REF", flags->ref, "TASK, TASK/N (trial number) or TASK/best")->required();
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      training::MlTaskCatalog tasks(*workspace);
      if (flags->ref.find('/') == std::string::npos) {
        ASSAY_ASSIGN_OR_RETURN(const auto task, tasks.GetTask(flags->project, flags->ref));
        ASSAY_ASSIGN_OR_RETURN(const auto trainings,
                               tasks.ListTrainings(flags->project, flags->ref));
        if (flags->json) {
          nlohmann::json list = nlohmann::json::array();
          for (const auto& training : trainings) {
            list.push_back({{"training", training.number},
                            {"status", training.status},
                            {"best_trial", training.best_trial},
                            {"summary", training.summary}});
          }
          PrintJson(std::cout, {{"task", task.Ref()},
                                {"spec_sha256", task.spec_sha256},
                                {"spec", task.spec},
                                {"trainings", list}});
          return absl::OkStatus();
        }
        std::cout << "ML task " << task.Ref() << " (spec sha256 " << task.spec_sha256.substr(0, 16)
                  << ", by " << task.created_by << " at " << FormatTime(task.created_at_micros)
                  << ")\n";
        PrintJson(std::cout, task.spec);
        TextTable table({"training", "status", "started", "best trial", "cv", "holdout"});
        for (const auto& training : trainings) {
          table.AddRow({absl::StrCat(training.number), training.status,
                        FormatTime(training.started_at_micros),
                        training.best_trial > 0 ? absl::StrCat(training.best_trial) : "-",
                        Score(training.summary.value("cv_score", nlohmann::json())),
                        Score(training.summary.value("holdout_score", nlohmann::json()))});
        }
        if (!trainings.empty()) table.Print(std::cout);
        return absl::OkStatus();
      }
      ASSAY_ASSIGN_OR_RETURN(const auto parts, SplitTrialRef(flags->ref));
      ASSAY_ASSIGN_OR_RETURN(const training::Training training,
                             tasks.GetTraining(flags->project, parts.first));
      int number = training.best_trial;
      if (parts.second != "best" && (!absl::SimpleAtoi(parts.second, &number) || number <= 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid trial \"", parts.second, "\": use a trial number or best"));
      }
      for (const auto& trial : training.trials) {
        if (trial.number != number) continue;
        nlohmann::json out = trial.trial;
        out["best"] = number == training.best_trial;
        out["training"] = training.number;
        out["task"] = training.task.Ref();
        if (number == training.best_trial) out["final"] = training.summary;
        if (flags->json) {
          PrintJson(std::cout, out);
          return absl::OkStatus();
        }
        std::cout << "Trial " << number << " of training " << training.number << " of "
                  << training.task.Ref() << (out["best"].get<bool>() ? " (best)" : "") << "\n"
                  << "  algorithm   " << trial.algorithm << "\n"
                  << "  status      " << trial.status << "\n"
                  << "  cv " << absl::StrFormat("%-8s", training.summary.value("metric", ""))
                  << absl::StrFormat("%.4f +- %.4f", trial.cv_mean, trial.cv_std) << "\n"
                  << "  seconds     " << absl::StrFormat("%.2f", trial.seconds) << "\n";
        const auto folds = trial.trial.value("fold_scores", std::vector<double>{});
        const auto rounds = trial.trial.value("fold_rounds", std::vector<int>{});
        for (size_t k = 0; k < folds.size(); ++k) {
          std::cout << "  fold " << k + 1 << "      " << absl::StrFormat("%.4f", folds[k]);
          if (k < rounds.size() && rounds[k] > 0) std::cout << " (" << rounds[k] << " rounds)";
          std::cout << "\n";
        }
        if (!trial.trial.value("error", "").empty()) {
          std::cout << "  error       " << trial.trial.value("error", "") << "\n";
        }
        std::cout << "  hyperparameters:\n";
        const nlohmann::json hyper = trial.trial.value("hyper", nlohmann::json::object());
        for (const auto& [key, value] : hyper.items()) {
          std::cout << "    " << key << " = " << FormatJsonScalar(value) << "\n";
        }
        if (number == training.best_trial) {
          std::cout << "  holdout " << training.summary.value("metric", "") << " "
                    << Score(training.summary.value("holdout_score", nlohmann::json())) << "\n";
        }
        return absl::OkStatus();
      }
      return absl::NotFoundError(absl::StrCat(
          "training ", training.number, " of ", training.task.Ref(), " has no trial ", number,
          "; see `assay ml leaderboard ", flags->project, " ", parts.first, "`"));
    };
  });
}

void RegisterMlDeploy(CLI::App& ml, CommandContext& context) {
  struct Flags {
    std::string project, ref, model, reason;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = ml.add_subcommand(
      "deploy", "Make a trial of the latest training a new saved-model version (immutable)");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("REF", flags->ref, "TASK/N (trial number) or TASK/best")->required();
  command->add_option("--saved-model", flags->model, "Saved-model name")->required();
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(const auto parts, SplitTrialRef(flags->ref));
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const registry::RegisterResult result,
                             training::TrainingService(*workspace)
                                 .Deploy(flags->project, parts.first, parts.second, flags->model,
                                         CommandContext::MakeActor(flags->reason)));
      if (flags->json) {
        nlohmann::json out = result.version.ToJson();
        out["status"] = result.created ? "created" : "unchanged";
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      if (result.created) {
        std::cout << "Created saved model " << result.version.Ref() << " from trial "
                  << result.version.trial_number << " (" << result.version.algorithm
                  << "), manifest sha256 " << result.version.sha256.substr(0, 16) << "\n";
      } else {
        std::cout << "Saved model " << result.version.Ref()
                  << " already holds exactly this model; nothing changed\n";
      }
      return absl::OkStatus();
    };
  });
}

// --- model -----------------------------------------------------------------------------------

absl::StatusOr<registry::SavedModelVersion> ResolveModel(catalog::Workspace& workspace,
                                                         const std::string& text) {
  ASSAY_ASSIGN_OR_RETURN(const registry::ModelRef ref, registry::ParseModelRef(text));
  return registry::ModelRegistry(workspace).Resolve(ref);
}

void PrintVersions(const std::vector<registry::SavedModelVersion>& versions) {
  TextTable table({"version", "state", "algorithm", "metric", "cv", "holdout", "trial",
                   "created by", "created at"});
  for (const auto& version : versions) {
    table.AddRow({absl::StrCat("v", version.version), version.state, version.algorithm,
                  version.metric, absl::StrFormat("%.4f", version.cv_score),
                  absl::StrFormat("%.4f", version.holdout_score),
                  absl::StrCat(version.trial_number), version.created_by,
                  FormatTime(version.created_at_micros)});
  }
  table.Print(std::cout);
}

void RegisterModelCommands(CLI::App& app, CommandContext& context) {
  auto* model = app.add_subcommand("model", "List, show and document saved models");
  model->require_subcommand(1);

  {
    struct Flags {
      std::string project;
      bool json = false;
    };
    auto flags = std::make_shared<Flags>();
    auto* command = model->add_subcommand("list", "List the saved models of a project");
    command->add_option("PROJECT", flags->project, "Project key")->required();
    command->add_flag("--json", flags->json, "Print JSON");
    command->callback([&context, flags] {
      context.action = [&context, flags]() -> absl::Status {
        ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
        ASSAY_ASSIGN_OR_RETURN(const auto models,
                               registry::ModelRegistry(*workspace).List(flags->project));
        if (flags->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& m : models) {
            out.push_back({{"model", m.project + "/" + m.name},
                           {"versions", m.versions},
                           {"latest", m.latest.ToJson()}});
          }
          PrintJson(std::cout, out);
          return absl::OkStatus();
        }
        if (models.empty()) {
          std::cout << "No saved models in " << flags->project
                    << " yet; make one with `assay ml deploy " << flags->project
                    << " TASK/best --saved-model NAME`\n";
          return absl::OkStatus();
        }
        TextTable table({"model", "versions", "latest", "state", "algorithm", "metric", "holdout"});
        for (const auto& m : models) {
          table.AddRow({m.name, absl::StrCat(m.versions), absl::StrCat("v", m.latest.version),
                        m.latest.state, m.latest.algorithm, m.latest.metric,
                        absl::StrFormat("%.4f", m.latest.holdout_score)});
        }
        table.Print(std::cout);
        return absl::OkStatus();
      };
    });
  }
  {
    struct Flags {
      std::string ref;
      bool json = false;
    };
    auto flags = std::make_shared<Flags>();
    auto* command = model->add_subcommand("versions", "List the versions of a saved model");
    command->add_option("MODEL", flags->ref, "PROJECT/MODEL")->required();
    command->add_flag("--json", flags->json, "Print JSON");
    command->callback([&context, flags] {
      context.action = [&context, flags]() -> absl::Status {
        ASSAY_ASSIGN_OR_RETURN(const registry::ModelRef ref, registry::ParseModelRef(flags->ref));
        ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
        ASSAY_ASSIGN_OR_RETURN(const auto versions,
                               registry::ModelRegistry(*workspace).Versions(ref.project, ref.name));
        if (flags->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& version : versions) out.push_back(version.ToJson());
          PrintJson(std::cout, out);
        } else {
          PrintVersions(versions);
        }
        return absl::OkStatus();
      };
    });
  }
  {
    struct Flags {
      std::string ref;
      bool json = false;
    };
    auto flags = std::make_shared<Flags>();
    auto* command = model->add_subcommand(
        "show", "Show a saved-model version: lineage, metrics, features, environment");
    command->add_option("MODEL", flags->ref, "PROJECT/MODEL or PROJECT/MODEL@vN")->required();
    command->add_flag("--json", flags->json, "Print the whole manifest as JSON");
    command->callback([&context, flags] {
      context.action = [&context, flags]() -> absl::Status {
        ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
        ASSAY_ASSIGN_OR_RETURN(const auto version, ResolveModel(*workspace, flags->ref));
        ASSAY_ASSIGN_OR_RETURN(const nlohmann::json manifest,
                               registry::ModelRegistry(*workspace).LoadManifest(version));
        if (flags->json) {
          nlohmann::json out = version.ToJson();
          out["manifest"] = manifest;
          PrintJson(std::cout, out);
          return absl::OkStatus();
        }
        const nlohmann::json& lineage = manifest["lineage"];
        std::cout << "Saved model " << version.Ref() << " (" << version.state << ")\n"
                  << "  manifest      sha256 " << version.sha256 << "\n"
                  << "  model object  sha256 " << manifest["model"].value("sha256", "") << " ("
                  << FormatBytes(manifest["model"].value("bytes", int64_t{0})) << ")\n"
                  << "  algorithm     " << manifest.value("algorithm_title", "") << " (trial "
                  << version.trial_number << ")\n"
                  << "  task type     " << manifest.value("task_type", "") << ", target "
                  << manifest.value("target", "") << "\n"
                  << "  trained on    " << lineage["dataset"].value("ref", "") << "@v"
                  << lineage["dataset"].value("version", 0) << " (sha256 "
                  << lineage["dataset"].value("sha256", "").substr(0, 16) << ", "
                  << FormatCount(lineage["dataset"].value("rows", int64_t{0})) << " rows)\n"
                  << "  task          " << lineage["task"].value("ref", "") << " (spec sha256 "
                  << lineage["task"].value("spec_sha256", "").substr(0, 16) << ")\n"
                  << "  training      " << lineage["training"].value("number", 0) << " by "
                  << lineage["training"].value("user", "") << " at "
                  << lineage["training"].value("started_at_utc", "") << "\n"
                  << "  split         " << lineage["split"].value("method", "") << "\n"
                  << "  created       by " << version.created_by << " at "
                  << FormatTime(version.created_at_micros) << "\n";
        if (manifest["evaluation"].contains("threshold")) {
          std::cout << "  threshold     "
                    << absl::StrFormat("%.4f",
                                       manifest["evaluation"]["threshold"].value("value", 0.5))
                    << " (" << manifest["evaluation"]["threshold"].value("method", "") << ")\n";
        }
        TextTable metrics({"metric", "cv mean", "cv std", "holdout"});
        for (const auto& row : manifest["evaluation"]["metrics"]) {
          metrics.AddRow({row.value("name", ""), Score(row["cv_mean"]), Score(row["cv_std"]),
                          Score(row["holdout"])});
        }
        std::cout << "Metrics:\n";
        metrics.Print(std::cout, 48, "  ");
        const auto& importance = manifest["explanations"]["importance"]["features"];
        if (!importance.empty()) {
          std::cout << "Top features (mean |SHAP|):\n";
          TextTable top({"column", "mean |shap|"});
          for (size_t i = 0; i < importance.size() && i < 10; ++i) {
            top.AddRow({importance[i].value("column", ""),
                        absl::StrFormat("%.4f", importance[i].value("mean_abs_shap", 0.0))});
          }
          top.Print(std::cout, 48, "  ");
        }
        const auto& environment = manifest["environment"];
        std::cout << "Environment: assay " << environment.value("assay_version", "") << " ("
                  << environment.value("assay_commit", "") << "), XGBoost "
                  << environment.value("xgboost_version", "") << ", "
                  << environment.value("compiler", "") << ", " << environment.value("os", "")
                  << "\n";
        return absl::OkStatus();
      };
    });
  }
  {
    struct Flags {
      std::string ref, output;
    };
    auto flags = std::make_shared<Flags>();
    auto* command = model->add_subcommand(
        "report", "Write the model document: one self-contained, printable HTML file");
    command->add_option("MODEL", flags->ref, "PROJECT/MODEL or PROJECT/MODEL@vN")->required();
    command->add_option("-o,--output", flags->output, "report.html")->required();
    command->callback([&context, flags] {
      context.action = [&context, flags]() -> absl::Status {
        ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
        ASSAY_ASSIGN_OR_RETURN(const auto version, ResolveModel(*workspace, flags->ref));
        ASSAY_ASSIGN_OR_RETURN(const nlohmann::json document,
                               training::TrainingService(*workspace)
                                   .ModelDocument(version, workspace->clock().NowMicros()));
        ASSAY_ASSIGN_OR_RETURN(const std::string html, ml::RenderModelDocument(document));
        ASSAY_RETURN_IF_ERROR(common::AtomicWriteFile(flags->output, html));
        std::cout << "Wrote the model document of " << version.Ref() << " to " << flags->output
                  << " (" << FormatBytes(static_cast<int64_t>(html.size())) << ")\n";
        return absl::OkStatus();
      };
    });
  }
}

// --- score -----------------------------------------------------------------------------------

// Reads a CSV for scoring with the column types the model was fitted on (so "02139" stays a
// string for a categorical zip code).
absl::StatusOr<table::Table> ReadScoringCsv(const std::string& path, const ml::Scorer& scorer) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string header;
  std::getline(in, header);
  table::CsvReadOptions header_options;
  header_options.header = table::HeaderMode::kPresent;
  header_options.source_name = path;
  ASSAY_ASSIGN_OR_RETURN(const table::Table names,
                         table::ReadCsvString(header + "\n", header_options));
  table::CsvReadOptions options;
  options.header = table::HeaderMode::kPresent;
  for (const ml::ColumnDecision& decision : scorer.pipeline().decisions()) {
    if (decision.role == ml::ColumnRole::kDropped) continue;
    if (names.schema().FindField(decision.column)) {
      options.column_types.push_back(table::Field{decision.column, decision.type});
    }
  }
  return table::ReadCsvFile(path, options);
}

void RegisterScoreCommand(CLI::App& app, CommandContext& context) {
  struct Flags {
    std::string model, input, output;
    int explain = 0;
    std::vector<std::string> keep;
  };
  auto flags = std::make_shared<Flags>();
  auto* command =
      app.add_subcommand("score", "Batch-score a dataset version or a CSV file with a saved model");
  command->add_option("MODEL", flags->model, "PROJECT/MODEL or PROJECT/MODEL@vN")->required();
  command
      ->add_option("--input", flags->input,
                   "A dataset REF (PROJECT/NAME[@vN]) or a CSV file (ends in .csv)")
      ->required();
  command->add_option("-o,--output", flags->output, "Scored CSV to write")->required();
  command
      ->add_option("--explain", flags->explain,
                   "Add the top K Shapley contributors per row (shap_base, shap_1_column, "
                   "shap_1_value, ...)")
      ->check(CLI::Range(0, 1000));
  command->add_option("--keep", flags->keep,
                      "Input column to copy to the output (repeatable; default: the columns the "
                      "model dropped as identifiers)");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto version, ResolveModel(*workspace, flags->model));
      ASSAY_ASSIGN_OR_RETURN(const ml::Scorer scorer,
                             training::TrainingService(*workspace).LoadScorer(version));
      table::Table input;
      std::string source;
      const bool is_csv =
          flags->input.size() > 4 && flags->input.substr(flags->input.size() - 4) == ".csv";
      if (is_csv || std::filesystem::is_regular_file(flags->input)) {
        ASSAY_ASSIGN_OR_RETURN(input, ReadScoringCsv(flags->input, scorer));
        source = flags->input;
      } else {
        ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetRef ref,
                               catalog::ParseDatasetRef(flags->input));
        catalog::DatasetCatalog datasets(*workspace);
        ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetVersion dataset, datasets.Resolve(ref));
        ASSAY_ASSIGN_OR_RETURN(input, datasets.LoadTable(dataset));
        source = dataset.Ref();
      }
      ml::ScoreOptions options;
      options.explain_top_k = flags->explain;
      options.keep_columns = flags->keep;
      ASSAY_ASSIGN_OR_RETURN(const table::Table scored, scorer.Score(input, options));
      ASSAY_RETURN_IF_ERROR(table::WriteCsvFile(scored, flags->output));
      std::cout << "Scored " << FormatCount(scored.num_rows()) << " rows of " << source << " with "
                << version.Ref() << " into " << flags->output << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace

void RegisterMlCommands(CLI::App& app, CommandContext& context) {
  auto* ml = app.add_subcommand("ml", "ML tasks: create, train (AutoML), leaderboards, deploy");
  ml->require_subcommand(1);
  RegisterMlCreate(*ml, context);
  RegisterMlList(*ml, context);
  RegisterMlTrain(*ml, context);
  RegisterMlLeaderboard(*ml, context);
  RegisterMlShow(*ml, context);
  RegisterMlDeploy(*ml, context);
  RegisterModelCommands(app, context);
  RegisterScoreCommand(app, context);
}

}  // namespace assay::cli
