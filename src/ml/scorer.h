// Scorer: a trained model ready to score tables, made of exactly what a saved-model version
// stores (docs/formats/saved-model.md, "scoring"): the label mapping, the fitted feature
// pipeline, the model bytes, the probability calibration and the decision threshold. The
// training side evaluates the holdout through a Scorer too, so training, batch scoring
// (`assay score`, the `score` recipe) and serving apply the same code.
//
// Output columns of Score (docs/ml.md "Scoring"):
//   kept input columns (default: the columns the pipeline dropped as identifiers), then
//   binary      prediction (class name; positive when probability >= threshold), probability
//               (calibrated P(positive class))
//   multiclass  prediction (the most probable class), probability_<class> per class
//   regression  prediction
//   with explain_top_k = K > 0: shap_base, then shap_1_column, shap_1_value, ...,
//   shap_K_column, shap_K_value: the K input columns with the largest |Shapley value| (their
//   encoded features summed), in margin units (log-odds for binary; the predicted class's
//   margin for multiclass), so shap_base + every column's value = the margin.
//
// Immutable after construction; Score is thread-safe.
#ifndef ASSAY_ML_SCORER_H_
#define ASSAY_ML_SCORER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/calibration.h"
#include "ml/feature_pipeline.h"
#include "ml/label_mapping.h"
#include "ml/model.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::ml {

// How raw binary scores become calibrated probabilities.
struct Calibration {
  std::string method = "none";  // "none", "platt" (on margins), "isotonic" (on probabilities)
  std::optional<PlattCalibrator> platt;
  std::optional<IsotonicCalibrator> isotonic;

  double Apply(double margin, double probability) const;
  nlohmann::json ToJson() const;
  static absl::StatusOr<Calibration> FromJson(const nlohmann::json& json);
};

struct ScoreOptions {
  int explain_top_k = 0;
  // Input columns copied to the output first; empty = the pipeline's identifier columns that
  // the input has.
  std::vector<std::string> keep_columns;
};

class Scorer {
 public:
  Scorer(LabelMapping labels, FeaturePipeline pipeline, std::shared_ptr<const Model> model,
         Calibration calibration, double threshold, std::string threshold_method);

  // Rebuilds a scorer from the "scoring" object of a manifest and the model object's bytes.
  // Errors: INVALID_ARGUMENT / DATA_LOSS naming the part that does not parse.
  static absl::StatusOr<Scorer> FromJson(const nlohmann::json& scoring,
                                         std::string_view model_bytes);
  // The "scoring" object; `model_sha256` names the model object.
  nlohmann::json ToJson(const std::string& model_sha256) const;

  // Calibrated predictions (binary P(positive), multiclass rows x K, regression values) of an
  // engineered matrix. Errors: the model's.
  absl::StatusOr<std::vector<double>> Predict(const FeatureMatrix& x) const;
  // Also returns the margins (rows x outputs) the predictions came from.
  absl::StatusOr<std::vector<double>> Predict(const FeatureMatrix& x,
                                              std::vector<double>* margins) const;

  // Scores every row of `input` (see the file comment). Errors: INVALID_ARGUMENT for a
  // missing input column (naming it and what the model needs), a type that does not fit, an
  // unknown keep column, explain_top_k < 0.
  absl::StatusOr<table::Table> Score(const table::Table& input, const ScoreOptions& options) const;

  const LabelMapping& labels() const { return labels_; }
  const FeaturePipeline& pipeline() const { return pipeline_; }
  const Model& model() const { return *model_; }
  const Calibration& calibration() const { return calibration_; }
  double threshold() const { return threshold_; }
  const std::string& threshold_method() const { return threshold_method_; }

 private:
  LabelMapping labels_;
  FeaturePipeline pipeline_;
  std::shared_ptr<const Model> model_;
  Calibration calibration_;
  double threshold_ = 0.5;
  std::string threshold_method_;
};

// Per input column Shapley values of one row and output: sums `contributions` (the row's
// block of cols + 1 entries) over each source column of `sources`; returns (column, value)
// pairs in first-appearance order and the bias in `bias`.
std::vector<std::pair<std::string, double>> ContributionsByColumn(
    const double* contributions, const std::vector<std::string>& sources, double* bias);

}  // namespace assay::ml

#endif  // ASSAY_ML_SCORER_H_
