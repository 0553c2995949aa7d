// Trainer dispatch: one entry point that trains or loads any algorithm the search knows, by
// name (ml/xgboost/ for the XGBoost family, ml/linear_model.h for "linear"). Search, deploy
// and scoring call these, never an algorithm directly.
//
// Thread-safe (no state).
#ifndef ASSAY_ML_TRAINER_H_
#define ASSAY_ML_TRAINER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ml/model.h"

namespace assay::ml {

// Trains params.algorithm. Errors: INVALID_ARGUMENT for an unknown algorithm or
// hyperparameter, the algorithm's own errors.
absl::StatusOr<TrainResult> TrainModel(const TrainParams& params, const TrainData& train,
                                       const TrainData* valid);

// Loads bytes written by Model::Serialize() of `algorithm`. Errors: INVALID_ARGUMENT for an
// unknown algorithm, DATA_LOSS for bytes that do not parse.
absl::StatusOr<std::unique_ptr<Model>> LoadModel(std::string_view algorithm,
                                                 std::string_view bytes);

}  // namespace assay::ml

#endif  // ASSAY_ML_TRAINER_H_
