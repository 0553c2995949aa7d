// TaskSpec: what an ML task trains (ARCHITECTURE.md section 6; docs/ml.md "Task spec"). It is
// written as YAML by the user (`assay ml create --spec task.yaml`), converted to JSON by the
// caller, and parsed here strictly: an unknown key is an error naming its path, so a typo
// never silently falls back to a default.
//
// Plain data; thread-safe to read.
#ifndef ASSAY_ML_TASK_SPEC_H_
#define ASSAY_ML_TASK_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

struct SplitSpec {
  double holdout = 0.2;    // fraction of labelled rows kept out of the search for final metrics
  int folds = 5;           // K-fold CV on the remaining rows (2..20)
  bool stratified = true;  // classification: keep the class balance in every fold
  // Time-based split: the holdout is the latest `holdout` fraction of rows by this date or
  // timestamp column, and CV folds are forward chains over time. Empty: random split.
  std::string time_column;
};

struct SearchSpec {
  std::string strategy = "halving";  // "random" or "halving" (successive halving)
  double budget_seconds = 60;        // wall-clock budget of the whole training (0 = none)
  int max_trials = 0;              // 0 = as many as the budget allows (at least one per algorithm)
  int early_stopping_rounds = 30;  // boosting rounds without improvement on the fold
  int max_rounds = 2000;           // boosting rounds at most
};

struct ThresholdSpec {
  std::string strategy = "max_f1";                            // "max_f1", "cost" or "fixed"
  double cost_fp = 1, cost_fn = 1, cost_tp = 0, cost_tn = 0;  // strategy "cost"
  double value = 0.5;                                         // strategy "fixed"
};

struct ExplainSpec {
  std::vector<std::string> subpopulation;       // columns to break metrics down by
  std::vector<std::string> partial_dependence;  // columns to plot (empty: the top 6)
  int shap_rows = 2000;                         // rows sampled for global SHAP summaries
};

struct TaskSpec {
  std::string input;           // dataset REF ("CHURN/training", "CHURN/training@v3")
  std::string target;          // the label column
  std::string type = "auto";   // "auto", "binary", "multiclass", "regression"
  std::string positive_class;  // binary only; empty = inferred (documented in docs/ml.md)
  std::string purpose;         // free text for the model document
  nlohmann::json features = nlohmann::json::object();  // the feature pipeline spec
  SplitSpec split;
  std::vector<std::string> algorithms = {"xgboost", "linear"};
  SearchSpec search;
  std::string metric;  // empty = auc (binary), log_loss (multiclass), rmse (regression)
  uint64_t seed = 42;
  ThresholdSpec threshold;
  std::string calibration = "none";  // "none", "platt", "isotonic"
  ExplainSpec explain;

  // Strict parse. Errors: INVALID_ARGUMENT naming the key path and what is allowed
  // (`spec.split.folds: must be an integer from 2 to 20, got 1`).
  static absl::StatusOr<TaskSpec> FromJson(const nlohmann::json& json);
  // Every field, defaults included, so a stored spec documents exactly what ran.
  nlohmann::json ToJson() const;
};

// The algorithms the search knows, in a stable order.
const std::vector<std::string>& KnownAlgorithms();

}  // namespace assay::ml

#endif  // ASSAY_ML_TASK_SPEC_H_
