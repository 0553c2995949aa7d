// PipelineSpec: what the user asks of the feature pipeline (docs/ml/features.md). It is the
// `features:` mapping of an ML task spec (TaskSpec::features), parsed strictly: an unknown key
// or a bad value is an error naming its full key path, so a typo never falls back to a default
// silently. Every handling option is optional; an unset option takes the default of the
// pipeline family (FeatureFamily), which the trainer sets per algorithm ("linear" models want
// imputed, scaled, one-hot features; "trees" want NaN kept and no scaling).
//
// Plain data; thread-safe to read.
#ifndef ASSAY_ML_FEATURE_SPEC_H_
#define ASSAY_ML_FEATURE_SPEC_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// The defaults an algorithm family wants (see docs/ml/features.md "Defaults").
enum class FeatureFamily { kTrees, kLinear };
// What an input column becomes.
enum class ColumnRole { kNumeric, kCategorical, kDate, kDropped };
enum class ImputeStrategy { kNone, kMean, kMedian, kConstant };
enum class ScaleStrategy { kNone, kStandard, kMinMax };
enum class CategoricalEncoding { kOneHot, kOrdinal, kTarget };
enum class OrdinalOrder { kFrequency, kLexical };

// Names as written in specs and stored pipelines: "trees"/"linear"; "numeric", "categorical",
// "date", "dropped"; "none", "mean", "median", "constant"; "none", "standard", "minmax";
// "onehot", "ordinal", "target"; "frequency", "lexical".
std::string_view FeatureFamilyName(FeatureFamily family);
std::string_view ColumnRoleName(ColumnRole role);
std::string_view ImputeStrategyName(ImputeStrategy impute);
std::string_view ScaleStrategyName(ScaleStrategy scale);
std::string_view CategoricalEncodingName(CategoricalEncoding encoding);
std::string_view OrdinalOrderName(OrdinalOrder order);
// Inverses; nullopt for an unknown name. FeatureFamilyFromName accepts what
// ml::PipelineFamily(algorithm) returns.
std::optional<FeatureFamily> FeatureFamilyFromName(std::string_view name);
std::optional<ColumnRole> ColumnRoleFromName(std::string_view name);

// Handling of numeric columns (and of the numeric parts of date columns). Unset = family default.
struct NumericHandling {
  std::optional<ImputeStrategy> impute;
  std::optional<double> impute_value;  // for kConstant (required with it)
  std::optional<ScaleStrategy> scale;
  // Adds a 0/1 "<column>:missing" feature when the training rows have a missing value.
  std::optional<bool> missing_indicator;
};

// Handling of categorical columns. Unset = family default.
struct CategoricalHandling {
  std::optional<CategoricalEncoding> encoding;
  std::optional<int> top_k;      // one-hot and ordinal: most frequent categories kept (1..10000)
  std::optional<int> min_count;  // one-hot and ordinal: training rows a kept category needs
  std::optional<OrdinalOrder> order;   // ordinal codes by descending frequency or lexical order
  std::optional<double> prior_weight;  // target encoding: smoothing weight m (>= 0)
};

// A per-column override (`features.columns.<name>`).
struct ColumnOverride {
  std::optional<ColumnRole> role;
  NumericHandling numeric;
  CategoricalHandling categorical;
};

struct PipelineSpec {
  FeatureFamily family = FeatureFamily::kTrees;
  // Candidate columns: when `include` is non-empty only those; `exclude` always drops.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  // PHI: columns tagged explicitly, and columns explicitly allowed although tagged or matched
  // by the name heuristic (docs/ml/features.md "PHI").
  std::vector<std::string> phi_columns;
  std::vector<std::string> allow_phi;
  bool phi_name_heuristic = true;
  // A string column whose distinct count exceeds this fraction of its non-null training
  // values is treated as free text / high-cardinality and dropped (0 < ratio <= 1).
  double max_distinct_ratio = 0.5;
  // Trees family default encoding: one-hot up to this many distinct training categories,
  // ordinal above.
  int onehot_max_categories = 10;
  // Target encoding: folds of the out-of-fold fit over the training rows (2..20).
  int target_folds = 5;
  NumericHandling numeric;
  CategoricalHandling categorical;
  std::map<std::string, ColumnOverride> columns;

  // Strict parse of the `features` mapping. `path` prefixes error messages
  // ("spec.features.columns.age.impute: must be one of none, mean, median, constant; got
  // \"avg\""). Errors: INVALID_ARGUMENT naming the key path and what is allowed.
  static absl::StatusOr<PipelineSpec> FromJson(const nlohmann::json& json,
                                               std::string_view path = "features");
  // The spec as JSON: every top-level field, and only the handling options that are set (so
  // FromJson(ToJson()) is the same spec). Deterministic.
  nlohmann::json ToJson() const;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_FEATURE_SPEC_H_
