#include "ml/xgboost/xgboost_model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "forest/forest.h"
#include "forest/tree_shap.h"
#include "nlohmann/json.hpp"

namespace assay::ml {
namespace {

using nlohmann::json;

// The attribute recording which Assay algorithm trained a model (XGBoost keeps attributes in
// the JSON model, so the bytes alone say whether a gbtree model is a random forest).
constexpr char kAlgorithmAttribute[] = "assay_algorithm";

// XGBGetLastError() without the "[time] file:line: " prefix and the stack trace.
std::string LastXgboostError() {
  std::string message = XGBGetLastError();
  const size_t trace = message.find("\nStack trace:");
  if (trace != std::string::npos) message.resize(trace);
  if (!message.empty() && message[0] == '[') {
    const size_t close = message.find("] ");
    const size_t location_end = close == std::string::npos ? close : message.find(": ", close);
    if (location_end != std::string::npos) message = message.substr(location_end + 2);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// Turns a C API return code into a Status naming the call.
absl::Status Check(int rc, const char* call) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("XGBoost ", call, " failed: ", LastXgboostError()));
}

// Owns a DMatrixHandle.
class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }

  // A dense matrix with NaN = missing; XGBoost copies the values into its own pages.
  static absl::StatusOr<std::unique_ptr<DMatrix>> FromFeatures(const FeatureMatrix& x,
                                                               int threads) {
    auto matrix = std::make_unique<DMatrix>();
    ASSAY_RETURN_IF_ERROR(
        Check(XGDMatrixCreateFromMat_omp(x.values.data(), static_cast<bst_ulong>(x.rows),
                                         static_cast<bst_ulong>(x.cols), kMissing, &matrix->handle_,
                                         threads),
              "XGDMatrixCreateFromMat"));
    return matrix;
  }

  absl::Status SetFloatInfo(const char* field, const std::vector<float>& values) {
    return Check(
        XGDMatrixSetFloatInfo(handle_, field, values.data(), static_cast<bst_ulong>(values.size())),
        "XGDMatrixSetFloatInfo");
  }

  DMatrixHandle handle() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// Owns a BoosterHandle.
class Booster {
 public:
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (handle_ != nullptr) XGBoosterFree(handle_);
  }

  // A booster caching predictions for `cached` (training and validation matrices).
  static absl::StatusOr<std::unique_ptr<Booster>> Create(const std::vector<DMatrixHandle>& cached) {
    auto booster = std::make_unique<Booster>();
    ASSAY_RETURN_IF_ERROR(
        Check(XGBoosterCreate(cached.empty() ? nullptr : cached.data(),
                              static_cast<bst_ulong>(cached.size()), &booster->handle_),
              "XGBoosterCreate"));
    return booster;
  }

  static absl::StatusOr<std::unique_ptr<Booster>> FromJson(std::string_view bytes) {
    ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster, Create({}));
    ASSAY_RETURN_IF_ERROR(Check(XGBoosterLoadModelFromBuffer(booster->handle_, bytes.data(),
                                                             static_cast<bst_ulong>(bytes.size())),
                                "XGBoosterLoadModelFromBuffer"));
    return booster;
  }

  absl::Status SetParam(const std::string& name, const std::string& value) {
    return Check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()), "XGBoosterSetParam");
  }

  absl::Status UpdateOneIter(int round, const DMatrix& train) {
    return Check(XGBoosterUpdateOneIter(handle_, round, train.handle()), "XGBoosterUpdateOneIter");
  }

  // The first `rounds` boosting rounds as a new booster.
  absl::StatusOr<std::unique_ptr<Booster>> Slice(int rounds) const {
    auto sliced = std::make_unique<Booster>();
    ASSAY_RETURN_IF_ERROR(
        Check(XGBoosterSlice(handle_, 0, rounds, 1, &sliced->handle_), "XGBoosterSlice"));
    return sliced;
  }

  absl::Status SetAttr(const char* key, const std::string& value) {
    return Check(XGBoosterSetAttr(handle_, key, value.c_str()), "XGBoosterSetAttr");
  }

  absl::StatusOr<std::string> SaveJson() const {
    bst_ulong length = 0;
    const char* bytes = nullptr;
    ASSAY_RETURN_IF_ERROR(
        Check(XGBoosterSaveModelToBuffer(handle_, R"({"format":"json"})", &length, &bytes),
              "XGBoosterSaveModelToBuffer"));
    return std::string(bytes, static_cast<size_t>(length));
  }

  // XGBoost's prediction of `matrix` (type 1 margin, 2 contributions), flattened row-major.
  absl::StatusOr<std::vector<float>> Predict(const DMatrix& matrix, int type) const {
    const std::string config =
        absl::StrCat(R"({"type":)", type, R"(,"training":false,"iteration_begin":0,)",
                     R"("iteration_end":0,"strict_shape":false})");
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* result = nullptr;
    ASSAY_RETURN_IF_ERROR(Check(XGBoosterPredictFromDMatrix(handle_, matrix.handle(),
                                                            config.c_str(), &shape, &dims, &result),
                                "XGBoosterPredictFromDMatrix"));
    size_t size = 1;
    for (bst_ulong dim = 0; dim < dims; ++dim) size *= static_cast<size_t>(shape[dim]);
    return std::vector<float>(result, result + size);
  }

 private:
  BoosterHandle handle_ = nullptr;
};

// ---- Hyperparameters ------------------------------------------------------------------------

enum class HyperKind { kInt, kReal, kChoice };

// One allowed hyperparameter: its name in TrainParams::hyper (XGBoost's scikit-learn-style
// name), XGBoost's native parameter name, the accepted range and the default Assay passes
// when the name is absent (empty default = XGBoost's own default, not passed).
struct HyperSpec {
  const char* name;
  const char* native;
  HyperKind kind;
  double low;
  double high;
  bool low_open;   // value must be > low (else >= low)
  bool high_open;  // value must be < high (else <= high)
  const char* default_value;
  std::vector<std::string> choices = {};
};

constexpr double kInf = std::numeric_limits<double>::infinity();

// Defaults and ranges follow XGBoost 1.7's parameter documentation (doc/parameter.rst); the
// random-forest defaults follow its random-forest tutorial (doc/tutorials/rf.rst) and the
// scikit-learn wrapper XGBRFClassifier (subsample 0.8, colsample_bynode 0.8, reg_lambda 1e-5).
const std::vector<HyperSpec>& TreeSpecs() {
  static const auto* specs = new std::vector<HyperSpec>{
      {"max_depth", "max_depth", HyperKind::kInt, 0, 64, false, false, "6"},
      {"learning_rate", "eta", HyperKind::kReal, 0, 1, true, false, "0.3"},
      {"min_child_weight", "min_child_weight", HyperKind::kReal, 0, kInf, false, true, "1"},
      {"subsample", "subsample", HyperKind::kReal, 0, 1, true, false, "1"},
      {"colsample_bytree", "colsample_bytree", HyperKind::kReal, 0, 1, true, false, "1"},
      {"colsample_bylevel", "colsample_bylevel", HyperKind::kReal, 0, 1, true, false, "1"},
      {"colsample_bynode", "colsample_bynode", HyperKind::kReal, 0, 1, true, false, "1"},
      {"reg_lambda", "lambda", HyperKind::kReal, 0, kInf, false, true, "1"},
      {"reg_alpha", "alpha", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"gamma", "gamma", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"max_delta_step", "max_delta_step", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"max_bin", "max_bin", HyperKind::kInt, 2, 65536, false, false, "256"},
      {"max_leaves", "max_leaves", HyperKind::kInt, 0, 1 << 30, false, false, "0"},
      {"grow_policy",
       "grow_policy",
       HyperKind::kChoice,
       0,
       0,
       false,
       false,
       "depthwise",
       {"depthwise", "lossguide"}},
      {"scale_pos_weight", "scale_pos_weight", HyperKind::kReal, 0, kInf, true, true, "1"},
  };
  return *specs;
}

const std::vector<HyperSpec>& ForestSpecs() {
  static const auto* specs = new std::vector<HyperSpec>{
      {"max_depth", "max_depth", HyperKind::kInt, 0, 64, false, false, "6"},
      {"num_parallel_tree", "num_parallel_tree", HyperKind::kInt, 1, 10000, false, false, "100"},
      {"min_child_weight", "min_child_weight", HyperKind::kReal, 0, kInf, false, true, "1"},
      {"subsample", "subsample", HyperKind::kReal, 0, 1, true, true, "0.8"},
      {"colsample_bynode", "colsample_bynode", HyperKind::kReal, 0, 1, true, true, "0.8"},
      {"colsample_bytree", "colsample_bytree", HyperKind::kReal, 0, 1, true, false, "1"},
      {"colsample_bylevel", "colsample_bylevel", HyperKind::kReal, 0, 1, true, false, "1"},
      {"reg_lambda", "lambda", HyperKind::kReal, 0, kInf, false, true, "1e-05"},
      {"reg_alpha", "alpha", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"gamma", "gamma", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"max_bin", "max_bin", HyperKind::kInt, 2, 65536, false, false, "256"},
      {"max_leaves", "max_leaves", HyperKind::kInt, 0, 1 << 30, false, false, "0"},
      {"grow_policy",
       "grow_policy",
       HyperKind::kChoice,
       0,
       0,
       false,
       false,
       "depthwise",
       {"depthwise", "lossguide"}},
      {"scale_pos_weight", "scale_pos_weight", HyperKind::kReal, 0, kInf, true, true, "1"},
  };
  return *specs;
}

const std::vector<HyperSpec>& LinearSpecs() {
  static const auto* specs = new std::vector<HyperSpec>{
      {"learning_rate", "eta", HyperKind::kReal, 0, 1, true, false, "0.5"},
      {"reg_lambda", "lambda", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"reg_alpha", "alpha", HyperKind::kReal, 0, kInf, false, true, "0"},
      {"feature_selector",
       "feature_selector",
       HyperKind::kChoice,
       0,
       0,
       false,
       false,
       "cyclic",
       {"cyclic", "shuffle"}},
      {"scale_pos_weight", "scale_pos_weight", HyperKind::kReal, 0, kInf, true, true, "1"},
  };
  return *specs;
}

const std::vector<HyperSpec>* SpecsFor(std::string_view algorithm) {
  if (algorithm == "xgboost") return &TreeSpecs();
  if (algorithm == "xgboost_rf") return &ForestSpecs();
  if (algorithm == "xgboost_linear") return &LinearSpecs();
  return nullptr;
}

std::string AllowedNames(const std::vector<HyperSpec>& specs) {
  std::vector<std::string> names;
  names.reserve(specs.size());
  for (const HyperSpec& spec : specs) names.push_back(spec.name);
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ", ");
}

// Checks one value against its spec and renders it as XGBoost expects it (shortest exact
// decimal for reals, so the parameter XGBoost sees is the value in the task spec).
absl::StatusOr<std::string> RenderHyper(const std::string& algorithm, const HyperSpec& spec,
                                        const json& value) {
  const std::string where = absl::StrCat(algorithm, " hyperparameter ", spec.name);
  // dump() throws on invalid UTF-8 unless told to replace it.
  const std::string shown = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (spec.kind == HyperKind::kChoice) {
    if (!value.is_string() || std::find(spec.choices.begin(), spec.choices.end(),
                                        value.get<std::string>()) == spec.choices.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " = ", shown, " must be one of ", absl::StrJoin(spec.choices, ", ")));
    }
    return value.get<std::string>();
  }
  if (!value.is_number() || value.is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " = ", shown, " must be a number"));
  }
  const double number = value.get<double>();
  const bool low_ok = spec.low_open ? number > spec.low : number >= spec.low;
  const bool high_ok = spec.high_open ? number < spec.high : number <= spec.high;
  if (!std::isfinite(number) || !low_ok || !high_ok) {
    return absl::InvalidArgumentError(absl::StrCat(where, " = ", shown, " is outside ",
                                                   spec.low_open ? "(" : "[", spec.low, ", ",
                                                   spec.high, spec.high_open ? ")" : "]"));
  }
  if (spec.kind == HyperKind::kInt) {
    if (number != std::floor(number)) {
      return absl::InvalidArgumentError(absl::StrCat(where, " = ", shown, " must be an integer"));
    }
    return absl::StrCat(static_cast<int64_t>(number));
  }
  return absl::StrFormat("%.17g", number);
}

// ---- Input checks ---------------------------------------------------------------------------

std::string LabelRule(const TrainParams& params) {
  switch (params.task) {
    case TaskType::kBinary:
      return "binary labels must be 0 or 1";
    case TaskType::kMulticlass:
      return absl::StrCat("multiclass labels must be integers in [0, ", params.num_classes, ")");
    case TaskType::kRegression:
      break;
  }
  return "regression labels must be finite";
}

absl::Status CheckData(const TrainParams& params, const TrainData& data, const char* name) {
  if (data.x == nullptr || data.labels == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, " data needs features and labels"));
  }
  const FeatureMatrix& x = *data.x;
  if (x.rows <= 0 || x.cols <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " data is empty (", x.rows, " rows, ", x.cols, " columns)"));
  }
  if (x.values.size() != static_cast<size_t>(x.rows) * static_cast<size_t>(x.cols)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " feature matrix holds ", x.values.size(),
                                                   " values, expected rows x "
                                                   "cols = ",
                                                   x.rows, " x ", x.cols));
  }
  if (data.labels->size() != static_cast<size_t>(x.rows)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " data has ", data.labels->size(), " labels for ", x.rows, " rows"));
  }
  for (size_t row = 0; row < data.labels->size(); ++row) {
    const float label = (*data.labels)[row];
    bool ok = std::isfinite(label);
    if (ok && params.task == TaskType::kBinary) ok = label == 0.0f || label == 1.0f;
    if (ok && params.task == TaskType::kMulticlass) {
      ok = label >= 0 && label < static_cast<float>(params.num_classes) &&
           label == std::floor(label);
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " label of row ", row, " is ", label, "; ", LabelRule(params)));
    }
  }
  if (data.weights != nullptr && !data.weights->empty()) {
    if (data.weights->size() != static_cast<size_t>(x.rows)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " data has ", data.weights->size(), " weights for ", x.rows, " rows"));
    }
    for (size_t row = 0; row < data.weights->size(); ++row) {
      const float weight = (*data.weights)[row];
      if (!std::isfinite(weight) || weight < 0) {
        return absl::InvalidArgumentError(absl::StrCat(name, " weight of row ", row, " is ", weight,
                                                       "; weights must be finite and >= 0"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckShape(const FeatureMatrix& x, int num_features) {
  if (x.cols != num_features || x.rows < 0 ||
      x.values.size() != static_cast<size_t>(x.rows) * static_cast<size_t>(x.cols)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model expects ", num_features, " feature columns; got a matrix of ",
                     x.rows, " x ", x.cols, " with ", x.values.size(), " values"));
  }
  return absl::OkStatus();
}

// ---- Early-stopping metric ------------------------------------------------------------------

// XGBoost's default evaluation metric per objective, computed in double from float32 margins:
// logloss (binary), mlogloss (multiclass), RMSE (regression); weighted means. Lower is better.
double ValidationLoss(TaskType task, int num_classes, const std::vector<float>& margins,
                      const TrainData& valid) {
  const std::vector<float>& labels = *valid.labels;
  const bool weighted = valid.weights != nullptr && !valid.weights->empty();
  constexpr double kEps = 1e-16;  // XGBoost's clipping of probabilities in logloss
  double total = 0;
  double weight_sum = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = weighted ? (*valid.weights)[row] : 1.0;
    double loss = 0;
    if (task == TaskType::kBinary) {
      const double p =
          std::clamp(1.0 / (1.0 + std::exp(-static_cast<double>(margins[row]))), kEps, 1 - kEps);
      loss = labels[row] == 1.0f ? -std::log(p) : -std::log(1 - p);
    } else if (task == TaskType::kMulticlass) {
      const float* row_margins = margins.data() + row * static_cast<size_t>(num_classes);
      const double top = *std::max_element(row_margins, row_margins + num_classes);
      double norm = 0;
      for (int k = 0; k < num_classes; ++k) norm += std::exp(row_margins[k] - top);
      const int label = static_cast<int>(labels[row]);
      const double p = std::max(std::exp(row_margins[label] - top) / norm, kEps);
      loss = -std::log(p);
    } else {
      const double error = static_cast<double>(margins[row]) - labels[row];
      loss = error * error;
    }
    total += weight * loss;
    weight_sum += weight;
  }
  const double mean = weight_sum > 0 ? total / weight_sum : 0;
  return task == TaskType::kRegression ? std::sqrt(mean) : mean;
}

// ---- Models ---------------------------------------------------------------------------------

struct ModelInfo {
  std::string booster;    // gbtree, gblinear, dart
  std::string objective;  // XGBoost's objective name
  std::string algorithm;  // Assay's algorithm name
  TaskType task = TaskType::kBinary;
  int num_outputs = 1;
  int num_features = 0;
  json linear_weights;  // gblinear only
};

absl::Status DataLoss(std::string_view what) {
  return absl::DataLossError(absl::StrCat("not an XGBoost JSON model: ", Absl(what)));
}

// Reads what Assay needs from the model JSON (the trees themselves are forest::Forest's job).
absl::StatusOr<ModelInfo> ReadModelInfo(std::string_view bytes) {
  const json root = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return DataLoss("the bytes are not valid JSON");
  const json* learner = root.is_object() && root.contains("learner") ? &root["learner"] : nullptr;
  if (learner == nullptr || !learner->is_object()) return DataLoss("no \"learner\" object");
  const auto string_at = [](const json& object, const char* key) -> std::string {
    if (!object.is_object()) return "";
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
  };
  const json empty = json::object();
  const json& objective = learner->contains("objective") ? (*learner)["objective"] : empty;
  const json& booster =
      learner->contains("gradient_booster") ? (*learner)["gradient_booster"] : empty;
  const json& param =
      learner->contains("learner_model_param") ? (*learner)["learner_model_param"] : empty;
  ModelInfo info;
  info.objective = string_at(objective, "name");
  info.booster = string_at(booster, "name");
  const std::string num_feature = string_at(param, "num_feature");
  const std::string num_class = string_at(param, "num_class");
  if (info.objective.empty() || info.booster.empty() || num_feature.empty() || num_class.empty()) {
    return DataLoss("learner.objective.name, gradient_booster.name or learner_model_param missing");
  }
  info.num_features = std::atoi(num_feature.c_str());
  const int classes = std::atoi(num_class.c_str());
  if (info.num_features < 1 || info.num_features > (1 << 30) || classes < 0 ||
      classes > (1 << 20)) {
    return DataLoss(absl::StrCat("learner_model_param has num_feature \"", num_feature,
                                 "\" and num_class \"", num_class, "\""));
  }
  if (info.objective == "binary:logistic") {
    info.task = TaskType::kBinary;
  } else if (info.objective == "multi:softprob" && classes >= 2) {
    info.task = TaskType::kMulticlass;
    info.num_outputs = classes;
  } else if (info.objective == "reg:squarederror") {
    info.task = TaskType::kRegression;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "XGBoost objective \"", info.objective,
        "\" is not supported (supported: binary:logistic, multi:softprob, reg:squarederror)"));
  }
  std::string attribute;
  if (learner->contains("attributes"))
    attribute = string_at((*learner)["attributes"], kAlgorithmAttribute);
  if (info.booster == "gblinear") {
    info.algorithm = "xgboost_linear";
    const json& model = booster.contains("model") ? booster["model"] : empty;
    if (!model.is_object() || !model.contains("weights") || !model["weights"].is_array() ||
        model["weights"].size() !=
            static_cast<size_t>(info.num_features + 1) * static_cast<size_t>(info.num_outputs)) {
      return DataLoss("gblinear model without a weights array of (features + 1) x outputs");
    }
    info.linear_weights = model["weights"];
  } else if (info.booster == "gbtree") {
    info.algorithm = attribute == "xgboost_rf" ? "xgboost_rf" : "xgboost";
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "XGBoost booster \"", info.booster, "\" is not supported (supported: gbtree, gblinear)"));
  }
  return info;
}

// Tree models: the compiled forest scores, TreeSHAP explains, no XGBoost handle is kept.
class XgboostTreeModel : public Model {
 public:
  XgboostTreeModel(ModelInfo info, std::string bytes, forest::Forest forest)
      : info_(std::move(info)),
        bytes_(std::move(bytes)),
        forest_(std::make_unique<forest::Forest>(std::move(forest))),
        shap_(std::make_unique<forest::TreeShap>(*forest_)) {}

  std::string algorithm() const override { return info_.algorithm; }
  TaskType task_type() const override { return info_.task; }
  int num_outputs() const override { return forest_->num_outputs(); }
  int num_features() const override { return forest_->num_features(); }

  absl::StatusOr<std::vector<double>> PredictMargin(const FeatureMatrix& x) const override {
    ASSAY_RETURN_IF_ERROR(CheckShape(x, num_features()));
    std::vector<double> out(static_cast<size_t>(x.rows) * num_outputs());
    ASSAY_RETURN_IF_ERROR(forest_->PredictMargin(x.values.data(), x.rows, x.cols, out.data()));
    return out;
  }

  absl::StatusOr<std::vector<double>> Contributions(const FeatureMatrix& x) const override {
    ASSAY_RETURN_IF_ERROR(CheckShape(x, num_features()));
    std::vector<double> out(static_cast<size_t>(x.rows) * num_outputs() *
                            (static_cast<size_t>(x.cols) + 1));
    ASSAY_RETURN_IF_ERROR(shap_->Contributions(x.values.data(), x.rows, x.cols, out.data()));
    return out;
  }

  std::vector<double> GainImportance() const override { return forest_->total_gain(); }

  absl::StatusOr<std::string> Serialize() const override { return bytes_; }

 private:
  const ModelInfo info_;
  const std::string bytes_;
  const std::unique_ptr<forest::Forest> forest_;  // heap: shap_ refers to it
  const std::unique_ptr<forest::TreeShap> shap_;
};

// gblinear models: scored and explained by XGBoost through a loaded booster.
class XgboostLinearModel : public Model {
 public:
  XgboostLinearModel(ModelInfo info, std::string bytes, std::unique_ptr<Booster> booster)
      : info_(std::move(info)), bytes_(std::move(bytes)), booster_(std::move(booster)) {}

  std::string algorithm() const override { return info_.algorithm; }
  TaskType task_type() const override { return info_.task; }
  int num_outputs() const override { return info_.num_outputs; }
  int num_features() const override { return info_.num_features; }

  absl::StatusOr<std::vector<double>> PredictMargin(const FeatureMatrix& x) const override {
    return Run(x, /*type=*/1, static_cast<size_t>(num_outputs()));
  }

  absl::StatusOr<std::vector<double>> Contributions(const FeatureMatrix& x) const override {
    return Run(x, /*type=*/2, static_cast<size_t>(num_outputs()) * (x.cols + 1));
  }

  // |coefficient| summed over outputs; the weights are stored feature-major, group-minor.
  std::vector<double> GainImportance() const override {
    std::vector<double> importance(static_cast<size_t>(num_features()), 0.0);
    for (int feature = 0; feature < num_features(); ++feature) {
      for (int group = 0; group < num_outputs(); ++group) {
        const json& weight =
            info_.linear_weights[static_cast<size_t>(feature) * num_outputs() + group];
        if (weight.is_number()) importance[feature] += std::fabs(weight.get<double>());
      }
    }
    return importance;
  }

  absl::StatusOr<std::string> Serialize() const override { return bytes_; }

 private:
  absl::StatusOr<std::vector<double>> Run(const FeatureMatrix& x, int type, size_t per_row) const {
    ASSAY_RETURN_IF_ERROR(CheckShape(x, num_features()));
    if (x.rows == 0) return std::vector<double>();
    ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> matrix, DMatrix::FromFeatures(x, 1));
    std::vector<float> values;
    {
      // XGBoost 1.7 does not document PredictFromDMatrix as thread-safe; serialize.
      std::lock_guard<std::mutex> lock(mu_);
      ASSAY_ASSIGN_OR_RETURN(values, booster_->Predict(*matrix, type));
    }
    if (values.size() != static_cast<size_t>(x.rows) * per_row) {
      return absl::InternalError(
          absl::StrCat("XGBoost returned ", values.size(), " values for ", x.rows, " rows"));
    }
    return std::vector<double>(values.begin(), values.end());
  }

  const ModelInfo info_;
  const std::string bytes_;
  mutable std::mutex mu_;
  const std::unique_ptr<Booster> booster_;  // Predict guarded by mu_
};

// Sets the objective, booster and the algorithm's hyperparameters on a fresh booster.
absl::Status Configure(const TrainParams& params, Booster& booster) {
  const std::vector<HyperSpec>* specs = SpecsFor(params.algorithm);
  if (!params.hyper.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(params.algorithm, " hyperparameters must be a JSON object"));
  }
  std::map<std::string, std::string> settings;  // ordered: the same calls every run
  for (const auto& item : params.hyper.items()) {
    const HyperSpec* spec = nullptr;
    for (const HyperSpec& candidate : *specs) {
      if (item.key() == candidate.name) spec = &candidate;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown ", params.algorithm,
                                                     " hyperparameter \"", item.key(),
                                                     "\" (allowed: ", AllowedNames(*specs), ")"));
    }
    if (std::string(spec->name) == "scale_pos_weight" && params.task != TaskType::kBinary) {
      return absl::InvalidArgumentError(
          absl::StrCat(params.algorithm,
                       " hyperparameter scale_pos_weight applies to binary "
                       "tasks only; remove it for ",
                       Absl(TaskTypeName(params.task)), " tasks"));
    }
    ASSAY_ASSIGN_OR_RETURN(settings[spec->native],
                           RenderHyper(params.algorithm, *spec, item.value()));
  }
  for (const HyperSpec& spec : *specs) {
    if (std::string(spec.name) == "scale_pos_weight" && params.task != TaskType::kBinary) continue;
    settings.emplace(spec.native, spec.default_value);
  }

  std::vector<std::pair<std::string, std::string>> fixed = {
      {"verbosity", "0"},
      {"nthread", absl::StrCat(params.threads)},
      {"seed", absl::StrCat(params.seed & 0x7fffffffffffffffULL)},
  };
  switch (params.task) {
    case TaskType::kBinary:
      fixed.push_back({"objective", "binary:logistic"});
      break;
    case TaskType::kMulticlass:
      fixed.push_back({"objective", "multi:softprob"});
      fixed.push_back({"num_class", absl::StrCat(params.num_classes)});
      break;
    case TaskType::kRegression:
      fixed.push_back({"objective", "reg:squarederror"});
      break;
  }
  if (params.algorithm == "xgboost_linear") {
    fixed.push_back({"booster", "gblinear"});
    fixed.push_back({"updater", "coord_descent"});
  } else {
    fixed.push_back({"booster", "gbtree"});
    fixed.push_back({"tree_method", "hist"});
    if (params.algorithm == "xgboost_rf") fixed.push_back({"eta", "1"});
  }
  for (const auto& [name, value] : fixed) ASSAY_RETURN_IF_ERROR(booster.SetParam(name, value));
  for (const auto& [name, value] : settings) ASSAY_RETURN_IF_ERROR(booster.SetParam(name, value));
  return absl::OkStatus();
}

// Training matrices below this many cells (rows x features) use one thread.
constexpr double kSingleThreadMaxCells = 1e6;

absl::StatusOr<std::unique_ptr<DMatrix>> MakeTrainMatrix(const TrainData& data, int threads) {
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> matrix, DMatrix::FromFeatures(*data.x, threads));
  ASSAY_RETURN_IF_ERROR(matrix->SetFloatInfo("label", *data.labels));
  if (data.weights != nullptr && !data.weights->empty()) {
    ASSAY_RETURN_IF_ERROR(matrix->SetFloatInfo("weight", *data.weights));
  }
  return matrix;
}

}  // namespace

absl::StatusOr<TrainResult> TrainXgboost(const TrainParams& requested, const TrainData& train,
                                         const TrainData* valid) {
  // Small problems train faster on one thread: XGBoost synchronizes its threads several times
  // per tree node, which costs more than the work below this size (docs/ml/xgboost.md).
  TrainParams params = requested;
  if (train.x != nullptr &&
      static_cast<double>(train.x->rows) * train.x->cols < kSingleThreadMaxCells) {
    params.threads = std::min(params.threads, 1);
  }
  if (SpecsFor(params.algorithm) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm \"", params.algorithm,
        "\" is not an XGBoost algorithm (known: xgboost, xgboost_rf, xgboost_linear)"));
  }
  if (params.task == TaskType::kMulticlass && params.num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("multiclass training needs num_classes >= 2, got ", params.num_classes));
  }
  if (params.threads < 1 || params.max_rounds < 1 || params.early_stopping_rounds < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threads (", params.threads, ") and max_rounds (", params.max_rounds,
        ") must be >= 1 and early_stopping_rounds (", params.early_stopping_rounds, ") >= 0"));
  }
  ASSAY_RETURN_IF_ERROR(CheckData(params, train, "training"));
  const bool random_forest = params.algorithm == "xgboost_rf";
  const bool early_stopping = params.early_stopping_rounds > 0 && !random_forest;
  if (params.early_stopping_rounds > 0 && valid == nullptr && !random_forest) {
    return absl::InvalidArgumentError(
        "early stopping needs a validation set; pass valid or set early_stopping_rounds to 0");
  }
  if (early_stopping) {
    ASSAY_RETURN_IF_ERROR(CheckData(params, *valid, "validation"));
    if (valid->x->cols != train.x->cols) {
      return absl::InvalidArgumentError(absl::StrCat("validation data has ", valid->x->cols,
                                                     " feature columns, training data ",
                                                     train.x->cols));
    }
  }

  // Declared before the booster, so they outlive it (the booster caches them).
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> train_matrix,
                         MakeTrainMatrix(train, params.threads));
  std::unique_ptr<DMatrix> valid_matrix;
  std::vector<DMatrixHandle> cached = {train_matrix->handle()};
  if (early_stopping) {
    ASSAY_ASSIGN_OR_RETURN(valid_matrix, MakeTrainMatrix(*valid, params.threads));
    cached.push_back(valid_matrix->handle());
  }
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster, Booster::Create(cached));
  ASSAY_RETURN_IF_ERROR(Configure(params, *booster));

  const int max_rounds = random_forest ? 1 : params.max_rounds;
  const bool linear = params.algorithm == "xgboost_linear";
  double best_loss = std::numeric_limits<double>::infinity();
  int best_rounds = 0;
  std::string best_linear_bytes;  // gblinear cannot be sliced: keep the best model's bytes
  int rounds = 0;
  for (int round = 0; round < max_rounds; ++round) {
    ASSAY_RETURN_IF_ERROR(booster->UpdateOneIter(round, *train_matrix));
    rounds = round + 1;
    if (!early_stopping) continue;
    ASSAY_ASSIGN_OR_RETURN(std::vector<float> margins, booster->Predict(*valid_matrix, 1));
    const double loss = ValidationLoss(params.task, params.num_classes, margins, *valid);
    if (loss < best_loss) {
      best_loss = loss;
      best_rounds = rounds;
      if (linear) {
        ASSAY_RETURN_IF_ERROR(booster->SetAttr(kAlgorithmAttribute, params.algorithm));
        ASSAY_ASSIGN_OR_RETURN(best_linear_bytes, booster->SaveJson());
      }
    } else if (rounds - best_rounds >= params.early_stopping_rounds) {
      break;
    }
  }

  std::string bytes;
  int kept_rounds = rounds;
  if (early_stopping && best_rounds < rounds) {
    kept_rounds = best_rounds;
    if (linear) {
      bytes = std::move(best_linear_bytes);
    } else {
      ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Booster> sliced, booster->Slice(best_rounds));
      ASSAY_RETURN_IF_ERROR(sliced->SetAttr(kAlgorithmAttribute, params.algorithm));
      ASSAY_ASSIGN_OR_RETURN(bytes, sliced->SaveJson());
    }
  } else {
    ASSAY_RETURN_IF_ERROR(booster->SetAttr(kAlgorithmAttribute, params.algorithm));
    ASSAY_ASSIGN_OR_RETURN(bytes, booster->SaveJson());
  }
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadXgboostModel(bytes));
  TrainResult result;
  result.model = std::move(model);
  result.rounds = kept_rounds;
  return result;
}

absl::StatusOr<std::unique_ptr<Model>> LoadXgboostModel(std::string_view json_bytes) {
  ASSAY_ASSIGN_OR_RETURN(ModelInfo info, ReadModelInfo(json_bytes));
  std::string bytes(json_bytes);
  if (info.booster == "gblinear") {
    ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster, Booster::FromJson(bytes));
    return std::unique_ptr<Model>(
        new XgboostLinearModel(std::move(info), std::move(bytes), std::move(booster)));
  }
  ASSAY_ASSIGN_OR_RETURN(forest::Forest forest, forest::Forest::FromXgboostJson(bytes));
  if (forest.num_outputs() != info.num_outputs || forest.num_features() != info.num_features) {
    return DataLoss("the trees disagree with learner_model_param");
  }
  return std::unique_ptr<Model>(
      new XgboostTreeModel(std::move(info), std::move(bytes), std::move(forest)));
}

std::string XgboostVersion() {
  int major = 0;
  int minor = 0;
  int patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return absl::StrCat(major, ".", minor, ".", patch);
}

std::vector<std::string> XgboostHyperparameterNames(std::string_view algorithm) {
  std::vector<std::string> names;
  const std::vector<HyperSpec>* specs = SpecsFor(algorithm);
  if (specs == nullptr) return names;
  for (const HyperSpec& spec : *specs) names.push_back(spec.name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<float>> PredictWithXgboost(std::string_view model_json,
                                                      const FeatureMatrix& x,
                                                      XgboostOutput output) {
  if (x.rows <= 0 || x.cols <= 0 ||
      x.values.size() != static_cast<size_t>(x.rows) * static_cast<size_t>(x.cols)) {
    return absl::InvalidArgumentError(absl::StrCat("feature matrix of ", x.rows, " x ", x.cols,
                                                   " holds ", x.values.size(), " values"));
  }
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster, Booster::FromJson(model_json));
  ASSAY_RETURN_IF_ERROR(booster->SetParam("nthread", "1"));
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> matrix, DMatrix::FromFeatures(x, 1));
  return booster->Predict(*matrix, output == XgboostOutput::kMargin ? 1 : 2);
}

}  // namespace assay::ml
