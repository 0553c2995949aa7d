// The AutoML search (ARCHITECTURE.md section 6; docs/ml.md "Search"): trials of algorithm +
// hyperparameters, each scored by K-fold cross-validation on the search rows, under a time
// and/or trial budget.
//
// Strategies:
//   - random: every trial is evaluated on all K folds.
//   - halving: asynchronous successive halving (Li et al. 2020, "A System for Massively
//     Parallel Hyperparameter Tuning", ASHA) with two rungs and reduction factor 3: a trial is
//     first scored on fold 0 only and promoted to the remaining folds only if that score is in
//     the best third of all fold-0 scores so far; otherwise it is recorded as "pruned". Each
//     algorithm's default trial is always evaluated fully.
// Trials alternate between the algorithms; trial 0 of each algorithm is its default
// configuration (search_space.h). Given the same inputs and seed, the sequence of trials and
// every score are identical run to run; a time budget only decides how long a prefix of that
// sequence runs. Budget: a fold is not started when the slowest fold seen so far for that
// algorithm, plus `reserve_folds` slow folds of the best algorithm so far (for the final fit),
// would pass the deadline. Each algorithm's default trial always runs.
//
// The search knows nothing of tables or pipelines: the caller hands it fold matrices through
// FoldSource, so it is tested on synthetic data. Not thread-safe; one search per call.
#ifndef ASSAY_ML_SEARCH_H_
#define ASSAY_ML_SEARCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "ml/feature_matrix.h"
#include "ml/model.h"
#include "ml/task_type.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// The engineered data of one CV fold for one pipeline family ("trees" / "linear").
struct FoldData {
  FeatureMatrix train_x;
  std::vector<float> train_y;
  FeatureMatrix valid_x;
  std::vector<float> valid_y;
};

// Returns fold `fold` for pipeline family `family`. Called at most once per (family, fold);
// the search keeps the result.
using FoldSource = std::function<absl::StatusOr<FoldData>(const std::string& family, int fold)>;

// Trains one model (ml/trainer.h's TrainModel in production; a fake in tests).
using TrainFn = std::function<absl::StatusOr<TrainResult>(const TrainParams&, const TrainData&,
                                                          const TrainData*)>;

struct SearchOptions {
  TrainFn train;  // required
  TaskType task = TaskType::kBinary;
  int num_classes = 2;
  std::vector<std::string> algorithms;
  std::string strategy = "halving";  // "random" | "halving"
  int max_trials = 0;                // 0 = until the deadline
  int64_t deadline_micros = 0;       // absolute clock time; 0 = no deadline
  // Time kept free before the deadline for the final fit, evaluation and explanations of the
  // best trial, in units of that trial's slowest fold.
  double reserve_folds = 2.5;
  int folds = 5;
  int early_stopping_rounds = 30;
  int max_rounds = 2000;
  std::string metric = "auc";  // a metric name of ml/metrics.h
  uint64_t seed = 42;
  int threads = 2;
};

struct TrialRecord {
  int number = 0;  // 1, 2, ... in the order trials were started
  std::string algorithm;
  nlohmann::json hyper = nlohmann::json::object();
  std::string status;  // "complete", "pruned", "failed", "skipped" (deadline)
  std::vector<double> fold_scores;
  std::vector<int> fold_rounds;
  double cv_mean = 0;
  double cv_std = 0;
  double seconds = 0;
  std::string error;  // status "failed": why

  nlohmann::json ToJson() const;
  static TrialRecord FromJson(const nlohmann::json& json);
};

struct SearchProgress {
  int trials_started = 0;
  int trials_planned = 0;  // 0 when bounded by time only
  int folds_done = 0;
  double best_score = 0;
  bool has_best = false;
  double seconds_left = -1;  // -1 when there is no deadline
  std::string current;       // "trial 7 xgboost fold 3/5"
};
using ProgressFn = std::function<void(const SearchProgress&)>;

struct SearchResult {
  std::vector<TrialRecord> trials;
  int best = -1;  // index into trials of the best complete trial
  // The best trial's predictions (Model::Predict layout) and margins on each fold's
  // validation rows, in FoldData order: out-of-fold predictions for thresholds and calibration.
  std::vector<std::vector<double>> best_fold_predictions;
  std::vector<std::vector<double>> best_fold_margins;
  bool greater_is_better = true;
  std::string stop_reason;  // "max_trials", "deadline", "exhausted"
};

// The mean (0 for no values) and the sample standard deviation (n - 1; 0 for fewer than two
// values) of fold scores, as TrialRecord::cv_mean / cv_std use them.
double Mean(const std::vector<double>& values);
double SampleStd(const std::vector<double>& values);

// Runs the search. Errors: INVALID_ARGUMENT for an unknown metric or algorithm;
// FAILED_PRECONDITION when no trial completes (the message carries the first trial error);
// FoldSource errors.
absl::StatusOr<SearchResult> RunSearch(const SearchOptions& options, const FoldSource& folds,
                                       const common::Clock& clock, const ProgressFn& progress);

// Cross-validates one fixed configuration on every fold (used to re-create a trial's
// out-of-fold predictions when deploying a trial other than the best). Fills
// best_fold_predictions / best_fold_margins of the result for that single trial.
absl::StatusOr<SearchResult> CrossValidateTrial(const SearchOptions& options,
                                                const TrialRecord& trial, const FoldSource& folds);

}  // namespace assay::ml

#endif  // ASSAY_ML_SEARCH_H_
