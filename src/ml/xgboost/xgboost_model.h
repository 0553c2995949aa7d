// XGBoost behind ml::Model: training through XGBoost's C API (the only code in Assay that
// includes <xgboost/c_api.h>), loading saved models, and XGBoost's own predictions for
// cross-checks.
//
// Three algorithms (docs/ml/xgboost.md lists every hyperparameter with its default):
//   "xgboost"        gradient-boosted trees (gbtree, tree_method hist), early stopping;
//   "xgboost_rf"     a random forest: one round of num_parallel_tree trees with row
//                    subsampling and per-node column sampling, learning rate 1;
//   "xgboost_linear" the linear booster (gblinear, coordinate descent), early stopping.
// Tree models score through forest::Forest (the same compiled ensemble the API node uses) and
// explain through forest::TreeShap; both agree with XGBoost's own predictions (bit-for-bit
// for margins, to float32 rounding for Shapley values). gblinear models score and explain
// through the C API.
//
// Determinism: the same inputs, seed and thread count give byte-identical Serialize() output
// (hist with a fixed seed is deterministic; gblinear uses the serial-per-feature
// coordinate-descent updater rather than the racy "shotgun" one).
//
// Thread-safety: the free functions are safe to call concurrently. Models are immutable and
// safe to share between threads (the gblinear model serializes its calls into XGBoost).
#ifndef ASSAY_ML_XGBOOST_XGBOOST_MODEL_H_
#define ASSAY_ML_XGBOOST_XGBOOST_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/feature_matrix.h"
#include "ml/model.h"

namespace assay::ml {

// Trains params.algorithm ("xgboost", "xgboost_rf" or "xgboost_linear") on `train`, with the
// objective from params.task (binary:logistic, multi:softprob with params.num_classes,
// reg:squarederror), params.hyper by XGBoost's parameter names (per-algorithm allow-list),
// nthread = params.threads and seed = params.seed. Boosts up to params.max_rounds rounds
// (xgboost_rf: exactly one); with params.early_stopping_rounds > 0 it evaluates `valid` after
// every round (logloss, mlogloss or RMSE, weighted), stops after that many rounds without
// improvement, and keeps exactly the best rounds (TrainResult::rounds). `valid` may be null
// when early stopping is off.
// Errors: INVALID_ARGUMENT for an unknown algorithm, an unknown or out-of-range
// hyperparameter (the message lists the allowed names), shape mismatches (x vs labels,
// weights, valid columns), non-finite or out-of-domain labels, negative weights, early
// stopping without `valid`; INTERNAL if XGBoost itself fails (its message included).
absl::StatusOr<TrainResult> TrainXgboost(const TrainParams& params, const TrainData& train,
                                         const TrainData* valid);

// Loads the bytes of Model::Serialize() of an XGBoost model (XGBoost's JSON model format;
// models trained elsewhere load too, as "xgboost" unless they are gblinear). The returned
// model's Serialize() gives back exactly `json_bytes`.
// Errors: DATA_LOSS if the bytes are not JSON or not an XGBoost model; INVALID_ARGUMENT for
// an unsupported booster (dart), objective, or tree feature (categorical splits).
absl::StatusOr<std::unique_ptr<Model>> LoadXgboostModel(std::string_view json_bytes);

// The linked XGBoost library's version, e.g. "1.7.4".
std::string XgboostVersion();

// The hyperparameter names `algorithm` accepts in TrainParams::hyper, sorted; empty for an
// algorithm that is not XGBoost's.
std::vector<std::string> XgboostHyperparameterNames(std::string_view algorithm);

// What PredictWithXgboost asks XGBoost for.
enum class XgboostOutput {
  kMargin,         // rows x outputs (XGBoost's output_margin)
  kContributions,  // rows x outputs x (cols + 1) (XGBoost's pred_contribs, bias last)
};

// XGBoost's own float32 prediction of a serialized model, computed by the C API rather than
// Assay's compiled forest: the reference the forest and TreeSHAP are tested against.
// Errors: INVALID_ARGUMENT if x's shape is inconsistent; INTERNAL if XGBoost refuses the model
// or the data (its message included).
absl::StatusOr<std::vector<float>> PredictWithXgboost(std::string_view model_json,
                                                      const FeatureMatrix& x, XgboostOutput output);

}  // namespace assay::ml

#endif  // ASSAY_ML_XGBOOST_XGBOOST_MODEL_H_
