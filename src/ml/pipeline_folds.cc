#include "ml/pipeline_folds.h"

#include <utility>

#include "common/status_macros.h"

namespace assay::ml {

PipelineSpec SpecForFamily(const PipelineSpec& base, const std::string& family) {
  PipelineSpec spec = base;
  spec.family = family == "linear" ? FeatureFamily::kLinear : FeatureFamily::kTrees;
  return spec;
}

absl::StatusOr<FittedRows> FitOnRows(const LabelledTable& data, const PipelineSpec& base,
                                     const std::string& family, const std::vector<int64_t>& rows,
                                     uint64_t seed) {
  FittedRows fitted;
  fitted.y = SelectRows(data.labels, rows);
  ASSAY_ASSIGN_OR_RETURN(fitted.pipeline,
                         FeaturePipeline::Fit(*data.table, data.target, rows, fitted.y, data.task,
                                              SpecForFamily(base, family), seed));
  ASSAY_ASSIGN_OR_RETURN(fitted.x, fitted.pipeline.TransformTrainingRows(*data.table, rows));
  return fitted;
}

FoldSource MakePipelineFolds(const LabelledTable& data, const PipelineSpec& base,
                             const SplitPlan& plan, uint64_t seed) {
  return [&data, &base, &plan, seed](const std::string& family,
                                     int fold) -> absl::StatusOr<FoldData> {
    const Fold& rows = plan.folds.at(static_cast<size_t>(fold));
    ASSAY_ASSIGN_OR_RETURN(FittedRows fitted, FitOnRows(data, base, family, rows.train_rows, seed));
    FoldData result;
    result.train_x = std::move(fitted.x);
    result.train_y = std::move(fitted.y);
    // Validation rows, transformed with what was fitted on the fold's training rows. The whole
    // table is transformed (columnar, cheap) and the validation rows picked from it.
    ASSAY_ASSIGN_OR_RETURN(FeatureMatrix all, fitted.pipeline.Transform(*data.table));
    result.valid_x = all.SelectRows(rows.valid_rows);
    result.valid_y = SelectRows(data.labels, rows.valid_rows);
    return result;
  };
}

}  // namespace assay::ml
