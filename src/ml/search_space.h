// The hyperparameter space the AutoML search draws from, per algorithm (docs/ml.md "Search
// space"). Trial 0 of each algorithm is its documented default configuration, so even a
// one-trial budget gets a sound model; later trials are random draws.
//
// Pure functions; thread-safe.
#ifndef ASSAY_ML_SEARCH_SPACE_H_
#define ASSAY_ML_SEARCH_SPACE_H_

#include <string>
#include <string_view>

#include "ml/split_plan.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// The `draw`-th configuration of `algorithm` (0 = the default). Requires a known algorithm.
nlohmann::json DrawHyperparameters(const std::string& algorithm, int draw, SplitMix64& rng);

// The feature-pipeline defaults an algorithm wants: "linear" (impute, scale, one-hot) or
// "trees" (missing values kept, no scaling).
std::string PipelineFamily(std::string_view algorithm);

// A one-line summary for leaderboards ("depth 4, lr 0.1, ...").
std::string SummarizeHyperparameters(const nlohmann::json& hyper);

}  // namespace assay::ml

#endif  // ASSAY_ML_SEARCH_SPACE_H_
