// The regularized linear model: L2-penalized logistic regression (binary; multinomial softmax
// for multiclass) and ridge regression, behind ml::Model with algorithm() == "linear". On
// small tabular data with scaled, one-hot features it is often the strongest model, and it
// is the baseline every AutoML search must try. docs/ml/linear.md states the exact objective,
// solver and hyperparameters.
//
// Training is single-threaded and deterministic (same inputs -> same model bytes). A trained
// LinearModel is immutable: thread-safe.
#ifndef ASSAY_ML_LINEAR_MODEL_H_
#define ASSAY_ML_LINEAR_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/model.h"

namespace assay::ml {

// Trains the model of params.task on `train` (valid, if given, is only shape-checked: the
// model has no early stopping). Hyperparameters (params.hyper): "l2" (> 0, default 1e-3),
// "max_iter" (>= 1, default 500), "tol" (> 0, default 1e-8: the largest gradient entry of the
// internally standardized objective at which to stop), "solver" ("auto" | "newton" |
// "lbfgs", default "auto": Newton when outputs x (features + 1) <= 256, else L-BFGS).
// Errors: INVALID_ARGUMENT for an unknown or invalid hyperparameter, missing data, a shape
// mismatch, a NaN/infinite feature value (naming the feature and row), labels that do not fit
// the task (binary 0/1, multiclass 0..num_classes-1), or bad weights.
absl::StatusOr<TrainResult> TrainLinear(const TrainParams& params, const TrainData& train,
                                        const TrainData* valid);

// Loads a model written by LinearModel::Serialize. Errors: INVALID_ARGUMENT if the bytes are
// not such a model (the message names the missing or malformed field).
absl::StatusOr<std::unique_ptr<Model>> LoadLinearModel(std::string_view bytes);

class LinearModel : public Model {
 public:
  struct Parameters {
    TaskType task = TaskType::kBinary;
    std::vector<std::string> feature_names;
    std::vector<double> coefficients;   // outputs x features, row-major (original scale)
    std::vector<double> intercepts;     // outputs
    std::vector<double> feature_means;  // weighted training means (the Shapley baseline)
    std::vector<double> feature_stds;   // weighted population std of the training data
    nlohmann::json hyper;               // hyperparameters used, defaults filled in
    int iterations = 0;
    bool converged = false;
  };

  explicit LinearModel(Parameters parameters) : p_(std::move(parameters)) {}

  std::string algorithm() const override { return "linear"; }
  TaskType task_type() const override { return p_.task; }
  int num_outputs() const override { return static_cast<int>(p_.intercepts.size()); }
  int num_features() const override { return static_cast<int>(p_.feature_names.size()); }

  // Errors: INVALID_ARGUMENT for a column-count mismatch or a NaN/infinite value (the
  // pipeline imputes before the model sees data).
  absl::StatusOr<std::vector<double>> PredictMargin(const FeatureMatrix& x) const override;
  // Exact Shapley values under feature independence: w_kj (x_j - mean_j); the bias is the
  // margin at the training means. Each (row, output) block sums to the margin.
  absl::StatusOr<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  // |w_j| * std_j (summed over outputs for multiclass): the margin change of a one-standard-
  // deviation move of the feature, comparable across differently scaled features.
  std::vector<double> GainImportance() const override;
  // Deterministic JSON with keys sorted and doubles in shortest round-trip form.
  absl::StatusOr<std::string> Serialize() const override;

  const Parameters& parameters() const { return p_; }

 private:
  absl::Status CheckInput(const FeatureMatrix& x) const;
  Parameters p_;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_LINEAR_MODEL_H_
