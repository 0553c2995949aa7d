// AutoML orchestration (ARCHITECTURE.md section 6; docs/ml.md): from a table and a TaskSpec
// to a final model with honest evaluation and explanations.
//
//   1. PrepareTask: labels (LabelMapping), labelled rows, the split plan (holdout + K folds).
//   2. RunAutoMl: the search (ml/search.h) over MakePipelineFolds, then FinalizeTrial of the
//      best trial.
//   3. FinalizeTrial (also used to deploy a trial other than the best):
//      - out-of-fold predictions of the trial (from the search, or re-created by CV);
//      - calibration (Platt on margins / isotonic) and the decision threshold, both fitted on
//        the out-of-fold predictions, never on the holdout;
//      - the final pipeline and model fitted on all search rows; boosting rounds = the mean
//        of the trial's fold rounds x K / (K - 1) (the folds trained on (K-1)/K of the rows);
//      - every metric of the task type as CV mean and standard deviation (per fold, out of
//        fold) next to its holdout value;
//      - curves, confusion matrix, per-class metrics or residuals on the holdout;
//      - explanations on (a sample of) the holdout: mean |SHAP| and gain per input column,
//        partial dependence, metrics per value of the subpopulation columns;
//      - the reference profile for drift: profiles of the input columns of the training
//        dataset and of the final model's predictions on it.
//   The holdout is only ever predicted, never used to choose anything.
//
// JSON produced here is stored in the saved-model manifest (docs/formats/saved-model.md) and
// mirrors the model-document sections (docs/formats/model-document.md), so the report is a
// projection of it. Deterministic for a fixed spec, data and seed when the search is bounded
// by trials (a time budget decides how many trials run).
//
// Not thread-safe; one run per call. Uses the given number of threads inside.
#ifndef ASSAY_ML_AUTOML_H_
#define ASSAY_ML_AUTOML_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "ml/feature_spec.h"
#include "ml/label_mapping.h"
#include "ml/pipeline_folds.h"
#include "ml/scorer.h"
#include "ml/search.h"
#include "ml/split_plan.h"
#include "ml/task_spec.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::ml {

struct AutoMlOptions {
  const common::Clock* clock = nullptr;  // required
  // Absolute deadline of the whole run (search + final fit + explanations); 0 = none. The
  // caller derives it from spec.search.budget_seconds (or a --budget override).
  int64_t deadline_micros = 0;
  int threads = 2;
  TrainFn train;        // empty = TrainModel (ml/trainer.h)
  ProgressFn progress;  // may be empty
};

// Everything derived from the table and spec before any model is trained. References the
// table, which must outlive it.
struct PreparedTask {
  TaskSpec spec;
  PipelineSpec features;
  LabelMapping labels;
  LabelledTable labelled;  // labels by table row (NaN where the target is null)
  int64_t labelled_rows = 0;
  int64_t null_target_rows = 0;
  SplitPlan plan;
  std::string metric;  // the metric the search optimizes (spec.metric or the task default)
};

// Errors: the label mapping's, the feature spec's (INVALID_ARGUMENT naming the key), the
// split's (FAILED_PRECONDITION with the counts), INVALID_ARGUMENT for a metric or
// calibration that does not fit the task type, or a time column the table lacks or that is
// not a date/timestamp.
absl::StatusOr<PreparedTask> PrepareTask(const table::Table& table, const TaskSpec& spec);

// The search options PrepareTask's result implies (algorithms, budget, metric, seed, ...).
SearchOptions MakeSearchOptions(const PreparedTask& task, const AutoMlOptions& options);

struct FinalModel {
  TrialRecord trial;
  int final_rounds = 0;
  std::unique_ptr<Scorer> scorer;
  std::string model_bytes;           // Model::Serialize() of the final model
  nlohmann::json evaluation;         // see FinalizeTrial
  nlohmann::json explanations;       // see FinalizeTrial
  nlohmann::json reference_profile;  // {"features": profile, "predictions": profile}
  nlohmann::json split;              // the model-document lineage.split object
  double cv_score = 0;               // of the optimized metric (the trial's cv_mean)
  std::optional<double> holdout_score;
};

// Finalizes `trial` (see the file comment). `oof` holds the trial's out-of-fold predictions
// and margins (SearchResult::best_fold_*) when the search kept them; nullptr re-creates them
// by cross-validating the trial. `leaderboard` is copied into the evaluation.
// evaluation = {"metric", "greater_is_better", "metrics": [{"name","cv_mean","cv_std",
// "holdout"}], "threshold": {...} (binary), "roc_curve", "pr_curve", "calibration_curve",
// "lift_chart", "confusion_matrix", "per_class_metrics", "residuals" (those of the task
// type, in model-document shapes)}; explanations = {"importance", "partial_dependence",
// "subpopulations": [...]}.
// Errors: training and pipeline errors; FAILED_PRECONDITION for a trial that is not complete.
absl::StatusOr<FinalModel> FinalizeTrial(const PreparedTask& task, const TrialRecord& trial,
                                         const SearchResult* oof, const AutoMlOptions& options);

struct AutoMlRun {
  SearchResult search;
  FinalModel best;
};

// A human name of an algorithm for documents ("XGBoost gradient-boosted trees (gbtree, hist)").
std::string AlgorithmTitle(const std::string& algorithm, TaskType task);

// PrepareTask's result -> search -> FinalizeTrial(best). Errors: as RunSearch and
// FinalizeTrial.
absl::StatusOr<AutoMlRun> RunAutoMl(const PreparedTask& task, const AutoMlOptions& options);

}  // namespace assay::ml

#endif  // ASSAY_ML_AUTOML_H_
