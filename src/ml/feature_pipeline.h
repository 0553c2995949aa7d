// FeaturePipeline: turns the input columns of a table into the dense FeatureMatrix trainers,
// explainers and scorers take (ARCHITECTURE.md section 6; docs/ml/features.md). It is fitted on
// training rows only (roles, category lists, imputation values, scaling, target encodings and
// the date reference are computed from those rows and nothing else), stored as data
// (ToJson/FromJson), and applied by the same Transform code at training, batch scoring and
// serving.
//
// Per kept input column (see ml/feature_roles.h for how roles are decided):
//   numeric      impute (none/mean/median/constant), optional 0/1 "was missing" indicator,
//                rescale (none/standard/minmax); bool is 0/1
//   categorical  one-hot of the top-k categories + "(other)" + "(missing)"; or ordinal codes
//                (by frequency or lexical order); or target encoding (smoothed mean, fitted
//                out of fold over the training rows)
//   date         year, month, day of month, ISO weekday (1 = Monday), and days elapsed up to a
//                reference date fixed at fit time (the latest date in the training rows);
//                timestamps are used at day resolution (UTC); the parts are then imputed and
//                scaled like numeric columns
//
// Fitting is deterministic: the same table rows, labels, spec and seed give the same pipeline
// and the same ToJson() text. A FeaturePipeline is immutable after Fit/FromJson and safe to
// use from many threads; Transform is single-threaded (it runs inside callers' parallel loops).
#ifndef ASSAY_ML_FEATURE_PIPELINE_H_
#define ASSAY_ML_FEATURE_PIPELINE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ml/feature_matrix.h"
#include "ml/feature_roles.h"
#include "ml/feature_spec.h"
#include "ml/task_type.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::ml {

// Defaults of handling options left unset in the spec (docs/ml/features.md "Defaults").
inline constexpr int kDefaultOneHotTopK = 20;
inline constexpr int kDefaultOrdinalTopK = 1000;
inline constexpr double kDefaultPriorWeight = 10;

// The version of the ToJson format; FromJson reads this version.
inline constexpr int kFeaturePipelineFormatVersion = 1;

class FeaturePipeline {
 public:
  FeaturePipeline() = default;

  // Fits the pipeline on the rows `train_rows` of `table` (labels `train_labels[i]` for row
  // `train_rows[i]`: binary 0/1, multiclass 0..K-1, regression values; used only by target
  // encoding). `target` names the target column so it is never a feature (may be empty when
  // the table has none). `seed` fixes the out-of-fold assignment of target encoding.
  // Nothing of rows outside `train_rows` is read.
  // Errors: INVALID_ARGUMENT for empty or out-of-range rows, labels of another length or not
  // valid for `task`, a target column the table lacks, a spec naming unknown columns, an
  // override that does not fit its column (numeric options on a categorical column, a role
  // its type cannot take); FAILED_PRECONDITION if no column is left to be a feature (the
  // message lists why each was dropped).
  static absl::StatusOr<FeaturePipeline> Fit(const table::Table& table, std::string_view target,
                                             const std::vector<int64_t>& train_rows,
                                             const std::vector<float>& train_labels, TaskType task,
                                             const PipelineSpec& spec, uint64_t seed);

  // Features for every row of `table`, which must have the input columns (input_columns());
  // other columns are ignored. Target-encoded columns use the encoding fitted on all training
  // rows; unseen categories count as "(other)". Accepted column types: a numeric input may be
  // bool, int64 or float64 in `table` whatever it was at fit time; a date input date or
  // timestamp; a categorical input exactly its fitted type.
  // Errors: INVALID_ARGUMENT naming a missing input column or one whose type does not fit.
  absl::StatusOr<FeatureMatrix> Transform(const table::Table& table) const;
  // The same for the rows `rows` of `table` only, in that order (equal to
  // Transform(table).SelectRows(rows) without building the whole matrix; e.g. validation rows).
  // Errors: as Transform; INVALID_ARGUMENT for a row id outside the table.
  absl::StatusOr<FeatureMatrix> Transform(const table::Table& table,
                                          const std::vector<int64_t>& rows) const;

  // Features for the training rows, in the order of `train_rows`, which must equal the rows
  // given to Fit: like Transform(table).SelectRows(train_rows), except that each row's
  // target encodings come from the folds that do not contain it (so a model never sees an
  // encoding computed from its own label).
  // Errors: as Transform; INVALID_ARGUMENT if `train_rows` differ from the fitted rows;
  // FAILED_PRECONDITION for a pipeline with target encoding loaded by FromJson (the
  // out-of-fold encodings are not stored; they only serve training).
  absl::StatusOr<FeatureMatrix> TransformTrainingRows(const table::Table& table,
                                                      const std::vector<int64_t>& train_rows) const;

  int num_features() const { return static_cast<int>(feature_names_.size()); }
  // Engineered feature names, in matrix column order ("age", "age:missing",
  // "specialty=Cardiology", "specialty=(other)", "visit:year", "region:target").
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // For each engineered feature, the input column it comes from (same order and size as
  // feature_names()), so per-feature Shapley values can be summed per input column.
  const std::vector<std::string>& feature_sources() const { return feature_sources_; }
  // The kept input columns, in table order at fit time.
  std::vector<std::string> input_columns() const;
  // Per input column of the fitted table (kept or dropped): role, rule, reason, handling.
  const std::vector<ColumnDecision>& decisions() const { return decisions_; }
  TaskType task() const { return task_; }
  FeatureFamily family() const { return family_; }
  // Only in a pipeline made by Fit: the target-encoding fold (0..folds-1) of each fitted
  // training row, by position in `train_rows` (empty with fewer than 2 rows or after FromJson).
  const std::vector<uint8_t>& training_folds() const { return fold_of_row_; }

  // The fitted pipeline as data. Deterministic: the same fit gives the same text.
  nlohmann::json ToJson() const;
  // Errors: INVALID_ARGUMENT for a document that is not a fitted pipeline of this format
  // version or is inconsistent (naming the field).
  static absl::StatusOr<FeaturePipeline> FromJson(const nlohmann::json& json);

 private:
  // The numeric transform of one output: missing -> fill (NaN keeps it missing), then
  // (value - center) / scale.
  struct NumericStep {
    double fill = kMissing;
    double center = 0;
    double scale = 1;
  };

  // One kept input column and everything fitted for it.
  struct FittedColumn {
    std::string name;
    table::DataType type = table::DataType::kFloat64;  // at fit time
    ColumnRole role = ColumnRole::kNumeric;
    int first_feature = 0;
    int num_features = 0;

    // kNumeric (one step) and kDate (one step per date part).
    ImputeStrategy impute = ImputeStrategy::kNone;
    ScaleStrategy scale = ScaleStrategy::kNone;
    bool missing_indicator = false;  // feature first_feature + steps.size() when set
    std::vector<NumericStep> steps;
    int32_t reference_day = 0;  // kDate: days since epoch

    // kCategorical. Codes: 0..C-1 the categories, C "(other)", C + 1 "(missing)".
    CategoricalEncoding encoding = CategoricalEncoding::kOneHot;
    OrdinalOrder order = OrdinalOrder::kFrequency;
    std::vector<std::string> categories;                     // canonical text, in code order
    absl::flat_hash_map<std::string, int32_t> string_codes;  // string columns
    absl::flat_hash_map<int64_t, int32_t> integer_codes;     // bool/int64/date/timestamp
    bool missing_as_nan = false;  // ordinal: missing -> NaN (trees) rather than code C + 1
    double prior_weight = kDefaultPriorWeight;
    int outputs = 1;                // target encoding: values per code
    std::vector<double> encodings;  // (C + 2) x outputs
    // Not stored: folds x (C + 2) x outputs, for TransformTrainingRows.
    std::vector<double> fold_encodings;
  };

  static absl::Status FitColumn(const table::Column& column, const std::vector<int64_t>& rows,
                                const std::vector<float>& labels, TaskType task,
                                const PipelineSpec& spec, const std::vector<uint8_t>& folds,
                                int num_folds, FittedColumn& fitted, ColumnDecision& decision);
  static absl::Status BuildCodeMaps(FittedColumn& column);
  // Sets feature_names_, feature_sources_ and each column's first_feature from columns_.
  void AssignFeatureNames();
  absl::StatusOr<FeatureMatrix> TransformRows(const table::Table& table,
                                              const std::vector<int64_t>* rows,
                                              bool out_of_fold) const;

  TaskType task_ = TaskType::kBinary;
  FeatureFamily family_ = FeatureFamily::kTrees;
  uint64_t seed_ = 0;
  std::string target_;
  PipelineSpec spec_;
  std::vector<ColumnDecision> decisions_;
  std::vector<FittedColumn> columns_;
  std::vector<std::string> feature_names_;
  std::vector<std::string> feature_sources_;
  int num_folds_ = 0;
  // Only in a pipeline made by Fit (not stored): the fitted rows and each one's fold.
  bool has_fold_state_ = false;
  std::vector<int64_t> fit_rows_;
  std::vector<uint8_t> fold_of_row_;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_FEATURE_PIPELINE_H_
