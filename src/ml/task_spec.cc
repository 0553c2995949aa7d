#include "ml/task_spec.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

// Reads one JSON object strictly: each Take* marks its key as known, and Finish() rejects any
// key that nothing took, naming its full path.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& json, std::string path)
      : json_(json), path_(std::move(path)) {}

  absl::Status CheckObject() const {
    if (!json_.is_object()) return Error(path_, "must be a mapping");
    return absl::OkStatus();
  }

  std::string PathOf(const std::string& key) const { return absl::StrCat(path_, ".", key); }

  const nlohmann::json* Find(const std::string& key) {
    known_.insert(key);
    auto found = json_.find(key);
    if (found == json_.end() || found->is_null()) return nullptr;
    return &*found;
  }

  absl::Status TakeString(const std::string& key, std::string& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    // YAML turns `positive_class: 1` into a number; accept scalars and keep their text.
    if (value->is_string()) {
      out = value->get<std::string>();
    } else if (value->is_number_integer() || value->is_boolean()) {
      out = value->dump();
    } else {
      return Error(PathOf(key), "must be a string");
    }
    return absl::OkStatus();
  }

  absl::Status TakeDouble(const std::string& key, double& out, double min, double max) {
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

  absl::Status TakeInt(const std::string& key, int& out, int min, int max) {
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

  absl::Status TakeBool(const std::string& key, bool& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (!value->is_boolean()) return Error(PathOf(key), "must be true or false");
    out = value->get<bool>();
    return absl::OkStatus();
  }

  absl::Status TakeStringList(const std::string& key, std::vector<std::string>& out) {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    if (value->is_string()) {
      out = {value->get<std::string>()};
      return absl::OkStatus();
    }
    if (!value->is_array()) return Error(PathOf(key), "must be a list of names");
    out.clear();
    for (const auto& item : *value) {
      if (!item.is_string()) return Error(PathOf(key), "must be a list of names");
      out.push_back(item.get<std::string>());
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const {
    for (const auto& item : json_.items()) {
      if (known_.count(item.key()) == 0) {
        std::vector<std::string> allowed(known_.begin(), known_.end());
        return Error(
            PathOf(item.key()),
            absl::StrCat("unknown key (allowed here: ", absl::StrJoin(allowed, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  static absl::Status Error(const std::string& path, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  }

 private:
  const nlohmann::json& json_;
  std::string path_;
  std::set<std::string> known_;
};

absl::Status OneOf(const std::string& path, const std::string& value,
                   const std::vector<std::string>& allowed) {
  for (const auto& name : allowed) {
    if (value == name) return absl::OkStatus();
  }
  return ObjectReader::Error(
      path, absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "), "; got \"", value, "\""));
}

// Runs `read` over the sub-object `key` of `parent`, if present.
template <typename ReadFn>
absl::Status TakeObject(ObjectReader& parent, const std::string& key, ReadFn read) {
  const nlohmann::json* value = parent.Find(key);
  if (value == nullptr) return absl::OkStatus();
  ObjectReader reader(*value, parent.PathOf(key));
  ASSAY_RETURN_IF_ERROR(reader.CheckObject());
  ASSAY_RETURN_IF_ERROR(read(reader));
  return reader.Finish();
}

}  // namespace

const std::vector<std::string>& KnownAlgorithms() {
  static const std::vector<std::string>* const kAlgorithms =
      new std::vector<std::string>{"xgboost", "linear", "xgboost_rf", "xgboost_linear"};
  return *kAlgorithms;
}

absl::StatusOr<TaskSpec> TaskSpec::FromJson(const nlohmann::json& json) {
  TaskSpec spec;
  ObjectReader root(json, "spec");
  ASSAY_RETURN_IF_ERROR(root.CheckObject());
  ASSAY_RETURN_IF_ERROR(root.TakeString("input", spec.input));
  ASSAY_RETURN_IF_ERROR(root.TakeString("target", spec.target));
  ASSAY_RETURN_IF_ERROR(root.TakeString("type", spec.type));
  ASSAY_RETURN_IF_ERROR(
      OneOf("spec.type", spec.type, {"auto", "binary", "multiclass", "regression"}));
  ASSAY_RETURN_IF_ERROR(root.TakeString("positive_class", spec.positive_class));
  ASSAY_RETURN_IF_ERROR(root.TakeString("purpose", spec.purpose));
  if (const nlohmann::json* features = root.Find("features"); features != nullptr) {
    if (!features->is_object()) return ObjectReader::Error("spec.features", "must be a mapping");
    spec.features = *features;  // validated by the feature pipeline's own strict parser
  }
  ASSAY_RETURN_IF_ERROR(TakeObject(root, "split", [&](ObjectReader& split) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(split.TakeDouble("holdout", spec.split.holdout, 0.05, 0.5));
    ASSAY_RETURN_IF_ERROR(split.TakeInt("folds", spec.split.folds, 2, 20));
    ASSAY_RETURN_IF_ERROR(split.TakeBool("stratified", spec.split.stratified));
    return split.TakeString("time_column", spec.split.time_column);
  }));
  ASSAY_RETURN_IF_ERROR(root.TakeStringList("algorithms", spec.algorithms));
  if (spec.algorithms.empty()) {
    return ObjectReader::Error(
        "spec.algorithms",
        absl::StrCat("must name at least one of ", absl::StrJoin(KnownAlgorithms(), ", ")));
  }
  std::set<std::string> seen;
  for (const auto& algorithm : spec.algorithms) {
    ASSAY_RETURN_IF_ERROR(OneOf("spec.algorithms", algorithm, KnownAlgorithms()));
    if (!seen.insert(algorithm).second) {
      return ObjectReader::Error("spec.algorithms",
                                 absl::StrCat("\"", algorithm, "\" is listed twice"));
    }
  }
  ASSAY_RETURN_IF_ERROR(TakeObject(root, "search", [&](ObjectReader& search) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(search.TakeString("strategy", spec.search.strategy));
    ASSAY_RETURN_IF_ERROR(
        OneOf("spec.search.strategy", spec.search.strategy, {"random", "halving"}));
    ASSAY_RETURN_IF_ERROR(
        search.TakeDouble("budget_seconds", spec.search.budget_seconds, 0, 7 * 86400));
    ASSAY_RETURN_IF_ERROR(search.TakeInt("max_trials", spec.search.max_trials, 0, 10000));
    ASSAY_RETURN_IF_ERROR(
        search.TakeInt("early_stopping_rounds", spec.search.early_stopping_rounds, 0, 10000));
    return search.TakeInt("max_rounds", spec.search.max_rounds, 1, 100000);
  }));
  ASSAY_RETURN_IF_ERROR(root.TakeString("metric", spec.metric));
  if (const nlohmann::json* seed = root.Find("seed"); seed != nullptr) {
    if (!seed->is_number_integer() || seed->get<int64_t>() < 0) {
      return ObjectReader::Error("spec.seed", "must be a non-negative integer");
    }
    spec.seed = seed->get<uint64_t>();
  }
  ASSAY_RETURN_IF_ERROR(TakeObject(root, "threshold", [&](ObjectReader& threshold) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(threshold.TakeString("strategy", spec.threshold.strategy));
    ASSAY_RETURN_IF_ERROR(
        OneOf("spec.threshold.strategy", spec.threshold.strategy, {"max_f1", "cost", "fixed"}));
    constexpr double kBig = 1e12;
    ASSAY_RETURN_IF_ERROR(threshold.TakeDouble("cost_fp", spec.threshold.cost_fp, -kBig, kBig));
    ASSAY_RETURN_IF_ERROR(threshold.TakeDouble("cost_fn", spec.threshold.cost_fn, -kBig, kBig));
    ASSAY_RETURN_IF_ERROR(threshold.TakeDouble("cost_tp", spec.threshold.cost_tp, -kBig, kBig));
    ASSAY_RETURN_IF_ERROR(threshold.TakeDouble("cost_tn", spec.threshold.cost_tn, -kBig, kBig));
    return threshold.TakeDouble("value", spec.threshold.value, 0, 1);
  }));
  ASSAY_RETURN_IF_ERROR(root.TakeString("calibration", spec.calibration));
  ASSAY_RETURN_IF_ERROR(OneOf("spec.calibration", spec.calibration, {"none", "platt", "isotonic"}));
  ASSAY_RETURN_IF_ERROR(TakeObject(root, "explain", [&](ObjectReader& explain) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(explain.TakeStringList("subpopulation", spec.explain.subpopulation));
    ASSAY_RETURN_IF_ERROR(
        explain.TakeStringList("partial_dependence", spec.explain.partial_dependence));
    return explain.TakeInt("shap_rows", spec.explain.shap_rows, 10, 1000000);
  }));
  ASSAY_RETURN_IF_ERROR(root.Finish());

  if (spec.input.empty()) {
    return ObjectReader::Error("spec.input",
                               "is required: the training dataset, e.g. CHURN/training");
  }
  if (spec.target.empty()) {
    return ObjectReader::Error("spec.target", "is required: the column to predict");
  }
  return spec;
}

nlohmann::json TaskSpec::ToJson() const {
  nlohmann::json json;
  json["input"] = input;
  json["target"] = target;
  json["type"] = type;
  json["positive_class"] = positive_class;
  json["purpose"] = purpose;
  json["features"] = features;
  json["split"] = {{"holdout", split.holdout},
                   {"folds", split.folds},
                   {"stratified", split.stratified},
                   {"time_column", split.time_column}};
  json["algorithms"] = algorithms;
  json["search"] = {{"strategy", search.strategy},
                    {"budget_seconds", search.budget_seconds},
                    {"max_trials", search.max_trials},
                    {"early_stopping_rounds", search.early_stopping_rounds},
                    {"max_rounds", search.max_rounds}};
  json["metric"] = metric;
  json["seed"] = seed;
  json["threshold"] = {{"strategy", threshold.strategy}, {"cost_fp", threshold.cost_fp},
                       {"cost_fn", threshold.cost_fn},   {"cost_tp", threshold.cost_tp},
                       {"cost_tn", threshold.cost_tn},   {"value", threshold.value}};
  json["calibration"] = calibration;
  json["explain"] = {{"subpopulation", explain.subpopulation},
                     {"partial_dependence", explain.partial_dependence},
                     {"shap_rows", explain.shap_rows}};
  return json;
}

}  // namespace assay::ml
