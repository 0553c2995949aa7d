// Model and Trainer: the boundary between the AutoML search and the algorithms behind it.
//
// A Model is a trained, immutable predictor over FeatureMatrix rows. Every algorithm (XGBoost
// gbtree / random forest / gblinear in ml/xgboost/, the regularized linear model in
// ml/linear_model.h) implements it, so search, evaluation, explanations, saved models and
// scoring treat them alike. Outputs are laid out row-major:
//   - margins: rows x num_outputs (1 for binary and regression, K for multiclass); for binary
//     the margin is the log-odds of the positive class;
//   - predictions: binary -> P(positive) per row; multiclass -> rows x K probabilities (softmax
//     of the margins); regression -> the predicted value;
//   - contributions (Shapley values): rows x num_outputs x (cols + 1); the last entry of each
//     (row, output) block is the bias (expected margin) and each block sums to that row's
//     margin for that output.
//
// Thread-safety: a Model is safe to call from many threads concurrently (implementations must
// not mutate state in const methods, or must guard it).
#ifndef ASSAY_ML_MODEL_H_
#define ASSAY_ML_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/feature_matrix.h"
#include "ml/task_type.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

class Model {
 public:
  virtual ~Model() = default;

  // The algorithm name as used in task specs: "xgboost", "xgboost_rf", "xgboost_linear",
  // "linear" (logistic regression for classification, ridge for regression).
  virtual std::string algorithm() const = 0;
  virtual TaskType task_type() const = 0;
  virtual int num_outputs() const = 0;
  virtual int num_features() const = 0;

  // Requires x.cols == num_features(). Errors: INVALID_ARGUMENT for a shape mismatch;
  // INTERNAL if the underlying library fails.
  virtual absl::StatusOr<std::vector<double>> PredictMargin(const FeatureMatrix& x) const = 0;
  // Transformed predictions (see the file comment). The default applies the link function to
  // PredictMargin's output.
  virtual absl::StatusOr<std::vector<double>> Predict(const FeatureMatrix& x) const;
  // Shapley values (see the file comment). Exact for trees (TreeSHAP) and linear models.
  virtual absl::StatusOr<std::vector<double>> Contributions(const FeatureMatrix& x) const = 0;

  // Global importance per feature (size num_features()): total gain for trees,
  // |coefficient| x the feature's training standard deviation for linear models. Used next to mean |SHAP| in explanations.
  virtual std::vector<double> GainImportance() const = 0;

  // The model as bytes that LoadModel() turns back into an equivalent Model: XGBoost's JSON
  // model for the xgboost family, Assay's JSON for the linear model. Deterministic: the same
  // training inputs and seed give the same bytes.
  virtual absl::StatusOr<std::string> Serialize() const = 0;
};

// Link functions shared by implementations: margins (rows x outputs) -> predictions.
std::vector<double> ApplyLink(TaskType task, int num_outputs, const std::vector<double>& margins);

// What to train. `hyper` holds the algorithm's hyperparameters by name (documented per
// algorithm in docs/ml/xgboost.md and docs/ml/linear.md); unknown names are INVALID_ARGUMENT.
struct TrainParams {
  std::string algorithm;  // see Model::algorithm()
  TaskType task = TaskType::kBinary;
  int num_classes = 2;  // multiclass only
  nlohmann::json hyper = nlohmann::json::object();
  // Boosting rounds at most (tree and gblinear algorithms), and early stopping on the
  // validation set after this many rounds without improvement (0 = off; needs `valid`).
  int max_rounds = 1000;
  int early_stopping_rounds = 0;
  uint64_t seed = 0;
  int threads = 2;
};

// A training set view: x plus labels (binary 0/1, multiclass 0..K-1, regression values) and
// optional per-row weights (empty = all 1).
struct TrainData {
  const FeatureMatrix* x = nullptr;
  const std::vector<float>* labels = nullptr;
  const std::vector<float>* weights = nullptr;
};

struct TrainResult {
  std::unique_ptr<Model> model;
  // Rounds actually kept (the best iteration + 1 after early stopping); 0 for non-iterative.
  int rounds = 0;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_MODEL_H_
