#include "ml/feature_spec.h"

#include <array>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

// One table of names per enum, in declaration order, so the name and parse functions cannot
// drift apart.
constexpr std::array<std::string_view, 2> kFamilyNames = {"trees", "linear"};
constexpr std::array<std::string_view, 4> kRoleNames = {"numeric", "categorical", "date",
                                                        "dropped"};
constexpr std::array<std::string_view, 4> kImputeNames = {"none", "mean", "median", "constant"};
constexpr std::array<std::string_view, 3> kScaleNames = {"none", "standard", "minmax"};
constexpr std::array<std::string_view, 3> kEncodingNames = {"onehot", "ordinal", "target"};
constexpr std::array<std::string_view, 2> kOrderNames = {"frequency", "lexical"};

template <size_t N>
std::string JoinNames(const std::array<std::string_view, N>& names) {
  return absl::StrJoin(names, ", ", [](std::string* out, std::string_view name) {
    out->append(name.data(), name.size());
  });
}

template <typename Enum, size_t N>
std::optional<Enum> FromName(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t index = 0; index < N; ++index) {
    if (names[index] == name) return static_cast<Enum>(index);
  }
  return std::nullopt;
}

// Reads one JSON object strictly: each Take* marks its key as known, and Finish() rejects any
// key that nothing took, naming its full path.
class StrictObject {
 public:
  StrictObject(const nlohmann::json& json, std::string path)
      : json_(json), path_(std::move(path)) {}

  absl::Status CheckObject() const {
    if (!json_.is_object()) return Error(path_, "must be a mapping");
    return absl::OkStatus();
  }

  std::string PathOf(std::string_view key) const { return absl::StrCat(path_, ".", Absl(key)); }

  const nlohmann::json* Find(const std::string& key) {
    known_.insert(key);
    auto found = json_.find(key);
    if (found == json_.end() || found->is_null()) return nullptr;
    return &*found;
  }

  template <typename Enum, size_t N>
  absl::Status TakeEnum(const std::string& key, const std::array<std::string_view, N>& names,
                        std::optional<Enum>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    const std::string allowed = JoinNames(names);
    if (!value->is_string()) return Error(PathOf(key), absl::StrCat("must be one of ", allowed));
    const std::string text = value->get<std::string>();
    out = FromName<Enum>(names, text);
    if (!out.has_value()) {
      return Error(PathOf(key), absl::StrCat("must be one of ", allowed, "; got \"", text, "\""));
    }
    return absl::OkStatus();
  }

  absl::Status TakeDouble(const std::string& key, double min, double max,
                          std::optional<double>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (!value->is_number()) return Error(PathOf(key), "must be a number");
    const double number = value->get<double>();
    if (!(number >= min && number <= max)) {
      return Error(PathOf(key), absl::StrCat("must be from ", min, " to ", max, ", got ", number));
    }
    out = number;
    return absl::OkStatus();
  }

  absl::Status TakeInt(const std::string& key, int min, int max, std::optional<int>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (!value->is_number_integer()) return Error(PathOf(key), "must be an integer");
    const int64_t number = value->get<int64_t>();
    if (number < min || number > max) {
      return Error(PathOf(key),
                   absl::StrCat("must be an integer from ", min, " to ", max, ", got ", number));
    }
    out = static_cast<int>(number);
    return absl::OkStatus();
  }

  absl::Status TakeBool(const std::string& key, std::optional<bool>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (!value->is_boolean()) return Error(PathOf(key), "must be true or false");
    out = value->get<bool>();
    return absl::OkStatus();
  }

  absl::Status TakeNames(const std::string& key, std::vector<std::string>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (value->is_string()) {
      out = {value->get<std::string>()};
      return absl::OkStatus();
    }
    if (!value->is_array()) return Error(PathOf(key), "must be a list of column names");
    out.clear();
    std::set<std::string> seen;
    for (const auto& item : *value) {
      if (!item.is_string()) return Error(PathOf(key), "must be a list of column names");
      std::string name = item.get<std::string>();
      if (!seen.insert(name).second) {
        return Error(PathOf(key), absl::StrCat("column \"", name, "\" is listed twice"));
      }
      out.push_back(std::move(name));
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const {
    for (const auto& item : json_.items()) {
      if (known_.count(item.key()) == 0) {
        return Error(PathOf(item.key()),
                     absl::StrCat("unknown key (allowed here: ", absl::StrJoin(known_, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  static absl::Status Error(std::string_view path, std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(path), ": ", Absl(what)));
  }

 private:
  const nlohmann::json& json_;
  std::string path_;
  std::set<std::string> known_;
};

// The handling keys shared by the `numeric`/`categorical` sections and per-column overrides.
absl::Status TakeNumeric(StrictObject& object, NumericHandling& out) {
  ASSAY_RETURN_IF_ERROR(object.TakeEnum("impute", kImputeNames, out.impute));
  ASSAY_RETURN_IF_ERROR(object.TakeDouble("impute_value", -1e300, 1e300, out.impute_value));
  ASSAY_RETURN_IF_ERROR(object.TakeEnum("scale", kScaleNames, out.scale));
  ASSAY_RETURN_IF_ERROR(object.TakeBool("missing_indicator", out.missing_indicator));
  if (out.impute == ImputeStrategy::kConstant && !out.impute_value.has_value()) {
    return StrictObject::Error(object.PathOf("impute_value"),
                               "is required with impute: constant (the value to fill in)");
  }
  if (out.impute_value.has_value() && out.impute != ImputeStrategy::kConstant) {
    return StrictObject::Error(object.PathOf("impute_value"),
                               "applies only with impute: constant; set impute: constant too");
  }
  return absl::OkStatus();
}

absl::Status TakeCategorical(StrictObject& object, CategoricalHandling& out) {
  ASSAY_RETURN_IF_ERROR(object.TakeEnum("encoding", kEncodingNames, out.encoding));
  ASSAY_RETURN_IF_ERROR(object.TakeInt("top_k", 1, 10000, out.top_k));
  ASSAY_RETURN_IF_ERROR(object.TakeInt("min_count", 1, 1000000000, out.min_count));
  ASSAY_RETURN_IF_ERROR(object.TakeEnum("order", kOrderNames, out.order));
  return object.TakeDouble("prior_weight", 0, 1e9, out.prior_weight);
}

template <typename ReadFn>
absl::Status TakeObject(StrictObject& parent, const std::string& key, ReadFn read) {
  const nlohmann::json* value = parent.Find(key);
  if (value == nullptr) return absl::OkStatus();
  StrictObject reader(*value, parent.PathOf(key));
  ASSAY_RETURN_IF_ERROR(reader.CheckObject());
  ASSAY_RETURN_IF_ERROR(read(reader));
  return reader.Finish();
}

void PutNumeric(const NumericHandling& handling, nlohmann::json& out) {
  if (handling.impute) out["impute"] = ImputeStrategyName(*handling.impute);
  if (handling.impute_value) out["impute_value"] = *handling.impute_value;
  if (handling.scale) out["scale"] = ScaleStrategyName(*handling.scale);
  if (handling.missing_indicator) out["missing_indicator"] = *handling.missing_indicator;
}

void PutCategorical(const CategoricalHandling& handling, nlohmann::json& out) {
  if (handling.encoding) out["encoding"] = CategoricalEncodingName(*handling.encoding);
  if (handling.top_k) out["top_k"] = *handling.top_k;
  if (handling.min_count) out["min_count"] = *handling.min_count;
  if (handling.order) out["order"] = OrdinalOrderName(*handling.order);
  if (handling.prior_weight) out["prior_weight"] = *handling.prior_weight;
}

}  // namespace

std::string_view FeatureFamilyName(FeatureFamily family) {
  return kFamilyNames[static_cast<size_t>(family)];
}
std::string_view ColumnRoleName(ColumnRole role) { return kRoleNames[static_cast<size_t>(role)]; }
std::string_view ImputeStrategyName(ImputeStrategy impute) {
  return kImputeNames[static_cast<size_t>(impute)];
}
std::string_view ScaleStrategyName(ScaleStrategy scale) {
  return kScaleNames[static_cast<size_t>(scale)];
}
std::string_view CategoricalEncodingName(CategoricalEncoding encoding) {
  return kEncodingNames[static_cast<size_t>(encoding)];
}
std::string_view OrdinalOrderName(OrdinalOrder order) {
  return kOrderNames[static_cast<size_t>(order)];
}
std::optional<FeatureFamily> FeatureFamilyFromName(std::string_view name) {
  return FromName<FeatureFamily>(kFamilyNames, name);
}
std::optional<ColumnRole> ColumnRoleFromName(std::string_view name) {
  return FromName<ColumnRole>(kRoleNames, name);
}

absl::StatusOr<PipelineSpec> PipelineSpec::FromJson(const nlohmann::json& json,
                                                    std::string_view path) {
  PipelineSpec spec;
  StrictObject root(json, std::string(path));
  ASSAY_RETURN_IF_ERROR(root.CheckObject());
  std::optional<FeatureFamily> family;
  ASSAY_RETURN_IF_ERROR(root.TakeEnum("family", kFamilyNames, family));
  if (family) spec.family = *family;
  ASSAY_RETURN_IF_ERROR(root.TakeNames("include", spec.include));
  ASSAY_RETURN_IF_ERROR(root.TakeNames("exclude", spec.exclude));
  ASSAY_RETURN_IF_ERROR(root.TakeNames("phi_columns", spec.phi_columns));
  ASSAY_RETURN_IF_ERROR(root.TakeNames("allow_phi", spec.allow_phi));
  std::optional<bool> heuristic;
  ASSAY_RETURN_IF_ERROR(root.TakeBool("phi_name_heuristic", heuristic));
  if (heuristic) spec.phi_name_heuristic = *heuristic;
  std::optional<double> ratio;
  ASSAY_RETURN_IF_ERROR(root.TakeDouble("max_distinct_ratio", 1e-9, 1, ratio));
  if (ratio) spec.max_distinct_ratio = *ratio;
  std::optional<int> onehot_max;
  ASSAY_RETURN_IF_ERROR(root.TakeInt("onehot_max_categories", 1, 10000, onehot_max));
  if (onehot_max) spec.onehot_max_categories = *onehot_max;
  std::optional<int> folds;
  ASSAY_RETURN_IF_ERROR(root.TakeInt("target_folds", 2, 20, folds));
  if (folds) spec.target_folds = *folds;
  ASSAY_RETURN_IF_ERROR(TakeObject(
      root, "numeric", [&](StrictObject& section) { return TakeNumeric(section, spec.numeric); }));
  ASSAY_RETURN_IF_ERROR(TakeObject(root, "categorical", [&](StrictObject& section) {
    return TakeCategorical(section, spec.categorical);
  }));
  if (const nlohmann::json* columns = root.Find("columns"); columns != nullptr) {
    if (!columns->is_object()) {
      return StrictObject::Error(root.PathOf("columns"),
                                 "must be a mapping of column name to its role and handling");
    }
    for (const auto& item : columns->items()) {
      StrictObject column(item.value(), absl::StrCat(root.PathOf("columns"), ".", item.key()));
      ASSAY_RETURN_IF_ERROR(column.CheckObject());
      ColumnOverride override_spec;
      ASSAY_RETURN_IF_ERROR(column.TakeEnum("role", kRoleNames, override_spec.role));
      ASSAY_RETURN_IF_ERROR(TakeNumeric(column, override_spec.numeric));
      ASSAY_RETURN_IF_ERROR(TakeCategorical(column, override_spec.categorical));
      ASSAY_RETURN_IF_ERROR(column.Finish());
      spec.columns.emplace(item.key(), override_spec);
    }
  }
  ASSAY_RETURN_IF_ERROR(root.Finish());
  return spec;
}

nlohmann::json PipelineSpec::ToJson() const {
  nlohmann::json json = nlohmann::json::object();
  json["family"] = FeatureFamilyName(family);
  json["include"] = include;
  json["exclude"] = exclude;
  json["phi_columns"] = phi_columns;
  json["allow_phi"] = allow_phi;
  json["phi_name_heuristic"] = phi_name_heuristic;
  json["max_distinct_ratio"] = max_distinct_ratio;
  json["onehot_max_categories"] = onehot_max_categories;
  json["target_folds"] = target_folds;
  nlohmann::json numeric_json = nlohmann::json::object();
  PutNumeric(numeric, numeric_json);
  json["numeric"] = std::move(numeric_json);
  nlohmann::json categorical_json = nlohmann::json::object();
  PutCategorical(categorical, categorical_json);
  json["categorical"] = std::move(categorical_json);
  nlohmann::json columns_json = nlohmann::json::object();
  for (const auto& [name, column] : columns) {
    nlohmann::json entry = nlohmann::json::object();
    if (column.role) entry["role"] = ColumnRoleName(*column.role);
    PutNumeric(column.numeric, entry);
    PutCategorical(column.categorical, entry);
    columns_json[name] = std::move(entry);
  }
  json["columns"] = std::move(columns_json);
  return json;
}

}  // namespace assay::ml
