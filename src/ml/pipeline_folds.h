// PipelineFolds: the FoldSource the search reads (ml/search.h), built from a table, its
// labels and a SplitPlan. For each (pipeline family, fold) it fits a FeaturePipeline on that
// fold's training rows only (so no encoder, imputer or scaler ever sees a validation row),
// and returns the fold's training matrix (out-of-fold target encodings) and validation
// matrix.
//
// Holds references to its inputs, which must outlive it. Not thread-safe.
#ifndef ASSAY_ML_PIPELINE_FOLDS_H_
#define ASSAY_ML_PIPELINE_FOLDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ml/feature_pipeline.h"
#include "ml/search.h"
#include "ml/split_plan.h"
#include "table/table.h"

namespace assay::ml {

// Per-row labels of the whole table, indexed by table row id (rows without a label are
// never in a plan).
struct LabelledTable {
  const table::Table* table = nullptr;
  std::string target;
  std::vector<float> labels;  // table.num_rows() entries
  TaskType task = TaskType::kBinary;
};

// The spec for a pipeline family: `base` with its family set ("trees" or "linear").
PipelineSpec SpecForFamily(const PipelineSpec& base, const std::string& family);

// Fits the pipeline of `family` on `rows` and returns it with the training matrix (out-of-fold
// target encodings) and labels. Errors: the pipeline's.
struct FittedRows {
  FeaturePipeline pipeline;
  FeatureMatrix x;
  std::vector<float> y;
};
absl::StatusOr<FittedRows> FitOnRows(const LabelledTable& data, const PipelineSpec& base,
                                     const std::string& family, const std::vector<int64_t>& rows,
                                     uint64_t seed);

// A FoldSource over `plan.folds`. The returned function references `data`, `base` and `plan`.
FoldSource MakePipelineFolds(const LabelledTable& data, const PipelineSpec& base,
                             const SplitPlan& plan, uint64_t seed);

}  // namespace assay::ml

#endif  // ASSAY_ML_PIPELINE_FOLDS_H_
