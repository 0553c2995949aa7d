#include "ml/trainer.h"

#include "absl/strings/str_cat.h"
#include "ml/linear_model.h"
#include "ml/xgboost/xgboost_model.h"

namespace assay::ml {

absl::StatusOr<TrainResult> TrainModel(const TrainParams& params, const TrainData& train,
                                       const TrainData* valid) {
  if (params.algorithm == "linear") return TrainLinear(params, train, valid);
  if (params.algorithm == "xgboost" || params.algorithm == "xgboost_rf" ||
      params.algorithm == "xgboost_linear") {
    return TrainXgboost(params, train, valid);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown algorithm \"", params.algorithm,
                   "\" (known: xgboost, xgboost_rf, xgboost_linear, linear)"));
}

absl::StatusOr<std::unique_ptr<Model>> LoadModel(std::string_view algorithm,
                                                 std::string_view bytes) {
  if (algorithm == "linear") return LoadLinearModel(bytes);
  if (algorithm == "xgboost" || algorithm == "xgboost_rf" || algorithm == "xgboost_linear") {
    return LoadXgboostModel(bytes);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown algorithm \"", std::string(algorithm), "\" in a stored model"));
}

}  // namespace assay::ml
