#include "ml/search.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ml/metrics.h"
#include "ml/search_space.h"
#include "ml/split_plan.h"

namespace assay::ml {
namespace {

constexpr int kHalvingFactor = 3;

uint64_t AlgorithmSeed(uint64_t seed, const std::string& algorithm) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (char c : algorithm) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return seed ^ hash;
}

// Fold matrices, fetched once per (family, fold).
class FoldCache {
 public:
  explicit FoldCache(const FoldSource& source) : source_(source) {}
  absl::StatusOr<const FoldData*> Get(const std::string& family, int fold) {
    auto key = std::make_pair(family, fold);
    auto found = cache_.find(key);
    if (found != cache_.end()) return found->second.get();
    ASSAY_ASSIGN_OR_RETURN(FoldData data, source_(family, fold));
    auto inserted = cache_.emplace(key, std::make_unique<FoldData>(std::move(data)));
    return inserted.first->second.get();
  }

 private:
  const FoldSource& source_;
  std::map<std::pair<std::string, int>, std::unique_ptr<FoldData>> cache_;
};

struct FoldOutcome {
  double score = 0;
  int rounds = 0;
  std::vector<double> predictions;
  std::vector<double> margins;
};

absl::StatusOr<FoldOutcome> RunFold(const SearchOptions& options, const TrialRecord& trial,
                                    const FoldData& data) {
  TrainParams params;
  params.algorithm = trial.algorithm;
  params.task = options.task;
  params.num_classes = options.num_classes;
  params.hyper = trial.hyper;
  params.max_rounds = options.max_rounds;
  params.early_stopping_rounds = options.early_stopping_rounds;
  params.seed = options.seed;
  params.threads = options.threads;
  const TrainData train{&data.train_x, &data.train_y, nullptr};
  const TrainData valid{&data.valid_x, &data.valid_y, nullptr};
  ASSAY_ASSIGN_OR_RETURN(TrainResult result, options.train(params, train, &valid));
  FoldOutcome outcome;
  outcome.rounds = result.rounds;
  ASSAY_ASSIGN_OR_RETURN(outcome.margins, result.model->PredictMargin(data.valid_x));
  outcome.predictions = ApplyLink(options.task, result.model->num_outputs(), outcome.margins);
  const std::vector<double> labels(data.valid_y.begin(), data.valid_y.end());
  ASSAY_ASSIGN_OR_RETURN(
      const MetricScore score,
      ScoreMetric(options.metric, options.task, labels, outcome.predictions, options.num_classes));
  outcome.score = score.value;
  return outcome;
}

bool Better(double a, double b, bool greater_is_better) {
  return greater_is_better ? a > b : a < b;
}

}  // namespace

nlohmann::json TrialRecord::ToJson() const {
  return {{"number", number},   {"algorithm", algorithm},     {"hyper", hyper},
          {"status", status},   {"fold_scores", fold_scores}, {"fold_rounds", fold_rounds},
          {"cv_mean", cv_mean}, {"cv_std", cv_std},           {"seconds", seconds},
          {"error", error}};
}

TrialRecord TrialRecord::FromJson(const nlohmann::json& json) {
  TrialRecord trial;
  trial.number = json.value("number", 0);
  trial.algorithm = json.value("algorithm", "");
  trial.hyper = json.value("hyper", nlohmann::json::object());
  trial.status = json.value("status", "");
  trial.fold_scores = json.value("fold_scores", std::vector<double>{});
  trial.fold_rounds = json.value("fold_rounds", std::vector<int>{});
  trial.cv_mean = json.value("cv_mean", 0.0);
  trial.cv_std = json.value("cv_std", 0.0);
  trial.seconds = json.value("seconds", 0.0);
  trial.error = json.value("error", "");
  return trial;
}

absl::StatusOr<SearchResult> RunSearch(const SearchOptions& options, const FoldSource& folds,
                                       const common::Clock& clock, const ProgressFn& progress) {
  ASSAY_ASSIGN_OR_RETURN(const bool greater_is_better,
                         MetricGreaterIsBetter(options.metric, options.task));
  if (options.algorithms.empty()) {
    return absl::InvalidArgumentError("the search needs at least one algorithm");
  }
  if (!options.train) return absl::InvalidArgumentError("the search needs a trainer");
  SearchResult result;
  result.greater_is_better = greater_is_better;
  FoldCache cache(folds);

  std::map<std::string, SplitMix64> rngs;
  std::map<std::string, int> draws;
  std::map<std::string, double> slowest_fold_seconds;
  for (const auto& algorithm : options.algorithms) {
    rngs.emplace(algorithm, SplitMix64(AlgorithmSeed(options.seed, algorithm)));
    draws[algorithm] = 0;
  }
  std::vector<double> rung0_scores;  // fold-0 scores of every trial that got one
  SearchProgress state;
  state.trials_planned = options.max_trials;
  const int num_algorithms = static_cast<int>(options.algorithms.size());

  auto seconds_left = [&]() {
    return options.deadline_micros == 0
               ? -1.0
               : static_cast<double>(options.deadline_micros - clock.NowMicros()) / 1e6;
  };
  auto report = [&](const std::string& current) {
    if (!progress) return;
    state.current = current;
    state.seconds_left = seconds_left();
    if (result.best >= 0) {
      state.has_best = true;
      state.best_score = result.trials[static_cast<size_t>(result.best)].cv_mean;
    }
    progress(state);
  };
  auto fits_in_budget = [&](const std::string& algorithm, bool is_default) {
    if (options.deadline_micros == 0 || is_default) return true;
    const double left = seconds_left();
    auto slowest = slowest_fold_seconds.find(algorithm);
    double need = slowest == slowest_fold_seconds.end() ? 0 : slowest->second;
    if (result.best >= 0) {
      need += options.reserve_folds *
              slowest_fold_seconds[result.trials[static_cast<size_t>(result.best)].algorithm];
    }
    return left > need;
  };

  for (int number = 1;; ++number) {
    if (options.max_trials > 0 && number > options.max_trials) {
      result.stop_reason = "max_trials";
      break;
    }
    const std::string& algorithm =
        options.algorithms[static_cast<size_t>((number - 1) % num_algorithms)];
    const int draw = draws[algorithm]++;
    const bool is_default = draw == 0;
    TrialRecord trial;
    trial.number = number;
    trial.algorithm = algorithm;
    trial.hyper = DrawHyperparameters(algorithm, draw, rngs.at(algorithm));
    if (!fits_in_budget(algorithm, is_default)) {
      result.stop_reason = "deadline";
      break;
    }
    state.trials_started = number;
    const int64_t trial_start = clock.NowMicros();
    const std::string family = PipelineFamily(algorithm);
    std::vector<FoldOutcome> outcomes;
    absl::Status failure;
    bool pruned = false;
    bool out_of_time = false;
    for (int fold = 0; fold < options.folds; ++fold) {
      if (fold > 0 && options.strategy == "halving" && !is_default && fold == 1) {
        // Rung 0 -> rung 1: promote only the best third of fold-0 scores seen so far.
        std::vector<double> sorted = rung0_scores;
        std::sort(sorted.begin(), sorted.end(),
                  [&](double a, double b) { return Better(a, b, greater_is_better); });
        const size_t keep = std::max<size_t>(1, sorted.size() / kHalvingFactor);
        const double cutoff = sorted[std::min(keep, sorted.size()) - 1];
        if (Better(cutoff, outcomes[0].score, greater_is_better)) {
          pruned = true;
          break;
        }
      }
      if (fold > 0 && !fits_in_budget(algorithm, is_default)) {
        out_of_time = true;
        break;
      }
      report(
          absl::StrCat("trial ", number, " ", algorithm, " fold ", fold + 1, "/", options.folds));
      const int64_t fold_start = clock.NowMicros();
      absl::StatusOr<const FoldData*> data = cache.Get(family, fold);
      if (!data.ok()) return data.status();  // a pipeline failure is not a trial failure
      absl::StatusOr<FoldOutcome> outcome = RunFold(options, trial, **data);
      if (!outcome.ok()) {
        failure = outcome.status();
        break;
      }
      const double fold_seconds = static_cast<double>(clock.NowMicros() - fold_start) / 1e6;
      slowest_fold_seconds[algorithm] = std::max(slowest_fold_seconds[algorithm], fold_seconds);
      if (fold == 0) rung0_scores.push_back(outcome->score);
      trial.fold_scores.push_back(outcome->score);
      trial.fold_rounds.push_back(outcome->rounds);
      outcomes.push_back(std::move(*outcome));
      ++state.folds_done;
    }
    trial.seconds = static_cast<double>(clock.NowMicros() - trial_start) / 1e6;
    trial.cv_mean = Mean(trial.fold_scores);
    trial.cv_std = SampleStd(trial.fold_scores);
    if (!failure.ok()) {
      trial.status = "failed";
      trial.error = std::string(failure.message());
    } else if (pruned) {
      trial.status = "pruned";
    } else if (out_of_time) {
      trial.status = "skipped";
    } else {
      trial.status = "complete";
      const bool best =
          result.best < 0 ||
          Better(trial.cv_mean, result.trials[static_cast<size_t>(result.best)].cv_mean,
                 greater_is_better);
      if (best) {
        result.best = static_cast<int>(result.trials.size());
        result.best_fold_predictions.clear();
        result.best_fold_margins.clear();
        for (auto& outcome : outcomes) {
          result.best_fold_predictions.push_back(std::move(outcome.predictions));
          result.best_fold_margins.push_back(std::move(outcome.margins));
        }
      }
    }
    result.trials.push_back(std::move(trial));
    report(absl::StrCat("trial ", number, " ", result.trials.back().status));
    if (out_of_time) {
      result.stop_reason = "deadline";
      break;
    }
    // Without any budget, stop after ten trials per algorithm.
    if (options.max_trials == 0 && options.deadline_micros == 0 && number >= 10 * num_algorithms) {
      result.stop_reason = "exhausted";
      break;
    }
  }
  if (result.best < 0) {
    std::string first_error;
    for (const auto& trial : result.trials) {
      if (!trial.error.empty()) {
        first_error =
            absl::StrCat(" (trial ", trial.number, " ", trial.algorithm, ": ", trial.error, ")");
        break;
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("no trial completed", first_error,
                     first_error.empty() ? "; raise the budget (search.budget_seconds)" : ""));
  }
  return result;
}

absl::StatusOr<SearchResult> CrossValidateTrial(const SearchOptions& options,
                                                const TrialRecord& trial, const FoldSource& folds) {
  ASSAY_ASSIGN_OR_RETURN(const bool greater_is_better,
                         MetricGreaterIsBetter(options.metric, options.task));
  SearchResult result;
  result.greater_is_better = greater_is_better;
  FoldCache cache(folds);
  TrialRecord record = trial;
  record.fold_scores.clear();
  record.fold_rounds.clear();
  const std::string family = PipelineFamily(trial.algorithm);
  for (int fold = 0; fold < options.folds; ++fold) {
    ASSAY_ASSIGN_OR_RETURN(const FoldData* data, cache.Get(family, fold));
    ASSAY_ASSIGN_OR_RETURN(FoldOutcome outcome, RunFold(options, record, *data));
    record.fold_scores.push_back(outcome.score);
    record.fold_rounds.push_back(outcome.rounds);
    result.best_fold_predictions.push_back(std::move(outcome.predictions));
    result.best_fold_margins.push_back(std::move(outcome.margins));
  }
  record.cv_mean = Mean(record.fold_scores);
  record.cv_std = SampleStd(record.fold_scores);
  record.status = "complete";
  result.trials.push_back(std::move(record));
  result.best = 0;
  result.stop_reason = "single";
  return result;
}

double Mean(const std::vector<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

double SampleStd(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  const double mean = Mean(values);
  double total = 0;
  for (double value : values) total += (value - mean) * (value - mean);
  return std::sqrt(total / static_cast<double>(values.size() - 1));
}

}  // namespace assay::ml
