#include "ml/model_report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ml/svg_chart.h"

namespace assay::ml {
namespace {

using nlohmann::json;

// =============================================================================================
// The parsed document. Field meanings are in docs/formats/model-document.md.

enum class Task { kBinary, kMulticlass, kRegression };

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kBinary:
      return "binary";
    case Task::kMulticlass:
      return "multiclass";
    case Task::kRegression:
      return "regression";
  }
  return "binary";
}

struct TitleBlock {
  std::string project;
  std::string model_name;
  int64_t model_version = 0;
  Task task = Task::kBinary;
  std::string target;
  std::optional<std::string> positive_class;
  std::string generated_at_utc;
  std::string assay_version;
  std::string version_sha256;
};

struct DatasetRef {
  std::string ref;
  int64_t version = 0;
  std::string sha256;
  int64_t rows = 0;
  std::optional<int64_t> columns;
};

struct Split {
  std::string method;
  std::optional<int64_t> cv_folds;
  std::optional<double> holdout_fraction;
  std::optional<bool> stratified;
  std::optional<std::string> time_column;
  int64_t train_rows = 0;
  int64_t holdout_rows = 0;
  std::optional<int64_t> seed;
};

struct UpstreamRun {
  std::string run_id;
  std::string recipe;
  std::optional<std::string> recipe_type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::optional<std::string> finished_at_utc;
};

struct Lineage {
  DatasetRef dataset;
  Split split;
  std::optional<std::string> task_spec_sha256;
  std::optional<std::vector<UpstreamRun>> upstream_runs;
};

struct Feature {
  std::string column;
  std::optional<std::string> type;
  std::string role;
  std::string handling;
  bool dropped = false;
  std::optional<std::string> reason;
};

struct ChosenModel {
  std::string trial_id;
  std::string algorithm;
  json hyperparameters = json::object();
  std::string optimized_metric;
  std::optional<std::string> selection;
  std::optional<std::string> calibration;
};

struct Trial {
  std::string trial_id;
  std::string algorithm;
  std::string params;
  std::optional<double> cv_mean;
  std::optional<double> cv_std;
  std::string status;
  std::optional<std::string> message;
};

struct Leaderboard {
  std::string metric;
  bool greater_is_better = true;
  std::vector<Trial> trials;
};

struct MetricRow {
  std::string name;
  std::optional<double> cv_mean;
  std::optional<double> cv_std;
  std::optional<double> holdout;
};

struct ClassMetrics {
  std::string label;
  double support = 0;
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> f1;
  std::optional<double> auc;
};

struct Curve {
  std::optional<double> area;
  std::optional<double> positive_rate;  // PR curve baseline
  std::vector<ChartPoint> points;
  std::optional<std::string> evaluated_on;
};

struct CalibrationRow {
  double mean_predicted = 0;
  double observed_rate = 0;
  double count = 0;
};

struct Calibration {
  std::vector<CalibrationRow> bins;
  std::optional<std::string> binning;
  std::optional<std::string> evaluated_on;
};

struct GainsRow {
  double fraction = 0;
  double gain = 0;
  std::optional<double> lift;
};

struct Gains {
  std::vector<GainsRow> points;
  std::optional<std::string> evaluated_on;
};

struct Confusion {
  std::vector<std::string> labels;
  std::vector<std::vector<double>> counts;  // row = actual, column = predicted
  std::optional<double> threshold;
  std::optional<std::string> threshold_method;
  std::optional<std::string> evaluated_on;
};

struct Residuals {
  std::vector<ChartPoint> points;  // x = actual, y = predicted
  std::optional<std::string> evaluated_on;
};

struct ImportanceRow {
  std::string column;
  double mean_abs_shap = 0;
  std::optional<double> gain;
};

struct Importance {
  std::vector<ImportanceRow> features;
  std::optional<std::string> note;
};

struct DependencePoint {
  std::string label;  // the category, or the formatted grid value
  double value = 0;   // the grid value (numeric features)
  double mean_prediction = 0;
};

struct DependenceFeature {
  std::string column;
  bool numeric = true;
  std::vector<DependencePoint> points;
};

struct PartialDependence {
  std::string prediction_label;
  std::vector<DependenceFeature> features;
};

struct Group {
  std::string value;
  int64_t rows = 0;
  std::optional<int64_t> positives;
  std::vector<std::optional<double>> values;  // aligned with Subpopulations::metrics
};

struct Subpopulations {
  std::string column;
  std::vector<std::string> metrics;
  std::vector<Group> groups;
  std::optional<std::string> evaluated_on;
};

struct Environment {
  std::string assay_version;
  std::string assay_commit;
  std::string xgboost_version;
  std::string compiler;
  std::string os;
  std::vector<std::pair<std::string, std::string>> other;
};

// A section that depends on the task type or may be missing. `applicable` false: the task
// type has no such section (nothing is rendered). `value` empty: not available, `reason`
// says why if the document said.
template <typename T>
struct Section {
  bool applicable = false;
  std::optional<T> value;
  std::string reason;
};

struct Document {
  TitleBlock title;
  std::string purpose;
  Lineage lineage;
  std::vector<Feature> features;
  ChosenModel model;
  Leaderboard leaderboard;
  std::vector<MetricRow> metrics;
  Section<std::vector<ClassMetrics>> per_class_metrics;
  Section<Curve> roc_curve;
  Section<Curve> pr_curve;
  Section<Calibration> calibration_curve;
  Section<Gains> lift_chart;
  Section<Confusion> confusion_matrix;
  Section<Residuals> residuals;
  Section<Importance> importance;
  Section<PartialDependence> partial_dependence;
  Section<Subpopulations> subpopulations;
  Environment environment;
};

// =============================================================================================
// Validation. The reader keeps the first error (in document order) and returns neutral values
// after it, so the parse code reads as a straight description of the schema.

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string Index(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool IsHex64(const std::string& text) {
  if (text.size() != 64) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

class Reader {
 public:
  bool ok() const { return status_.ok(); }
  absl::Status status() const { return status_; }

  void Fail(const std::string& path, const std::string& message) {
    if (!status_.ok()) return;
    status_ = absl::InvalidArgumentError("model document: " + path + " " + message +
                                         " (schema: docs/formats/model-document.md)");
  }

  // The member `key` of `object`, or nullptr if absent (failing if required).
  const json* Get(const json& object, std::string_view key, const std::string& path, bool required,
                  std::string_view expected) {
    if (!ok()) return nullptr;
    auto it = object.find(std::string(key));
    if (it == object.end()) {
      if (required) Fail(Join(path, key), "is required (" + std::string(expected) + ")");
      return nullptr;
    }
    return &*it;
  }

  void TypeError(const std::string& path, std::string_view expected, const json& value) {
    Fail(path, "must be " + std::string(expected) + ", not " + std::string(value.type_name()));
  }

  // Rejects members not in `known`, so a misspelled optional field is reported, not ignored.
  void Keys(const json& object, const std::string& path,
            std::initializer_list<std::string_view> known) {
    if (!ok()) return;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
      std::string list;
      for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      Fail(Join(path, it.key()), "is not a field of this schema (fields here: " + list + ")");
      return;
    }
  }

  std::string String(const json& object, std::string_view key, const std::string& path,
                     bool allow_empty = false) {
    const json* value = Get(object, key, path, true, "string");
    if (value == nullptr) return {};
    if (!value->is_string()) {
      TypeError(Join(path, key), "a string", *value);
      return {};
    }
    std::string text = value->get<std::string>();
    if (text.empty() && !allow_empty) Fail(Join(path, key), "must not be empty");
    return text;
  }

  std::optional<std::string> OptionalString(const json& object, std::string_view key,
                                            const std::string& path) {
    const json* value = Get(object, key, path, false, "string");
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_string()) {
      TypeError(Join(path, key), "a string", *value);
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::string Sha256(const json& object, std::string_view key, const std::string& path) {
    const json* value = Get(object, key, path, true, "string, 64 hex digits");
    if (value == nullptr) return {};
    if (!value->is_string() || !IsHex64(value->get<std::string>())) {
      Fail(Join(path, key), "must be a SHA-256 as 64 lowercase hex digits");
      return {};
    }
    return value->get<std::string>();
  }

  // A finite number; null allowed only when `nullable`.
  std::optional<double> NumberValue(const json& value, const std::string& path, bool nullable) {
    if (!ok()) return std::nullopt;
    if (value.is_null() && nullable) return std::nullopt;
    if (!value.is_number()) {
      TypeError(path, nullable ? "a number or null" : "a number", value);
      return std::nullopt;
    }
    const double number = value.get<double>();
    if (!std::isfinite(number)) {
      Fail(path, "must be a finite number");
      return std::nullopt;
    }
    return number;
  }

  double Number(const json& object, std::string_view key, const std::string& path,
                double min = -HUGE_VAL, double max = HUGE_VAL) {
    const json* value = Get(object, key, path, true, "number");
    if (value == nullptr) return 0;
    std::optional<double> number = NumberValue(*value, Join(path, key), false);
    if (number.has_value()) CheckRange(*number, Join(path, key), min, max);
    return number.value_or(0);
  }

  // A number or null; `required` says whether the member must be present.
  std::optional<double> NullableNumber(const json& object, std::string_view key,
                                       const std::string& path, bool required,
                                       double min = -HUGE_VAL, double max = HUGE_VAL) {
    const json* value = Get(object, key, path, required, "number or null");
    if (value == nullptr) return std::nullopt;
    std::optional<double> number = NumberValue(*value, Join(path, key), true);
    if (number.has_value()) CheckRange(*number, Join(path, key), min, max);
    return number;
  }

  void CheckRange(double number, const std::string& path, double min, double max) {
    if (number >= min && number <= max) return;
    std::string range = "[";
    range += std::isfinite(min) ? FormatNumber(min) : "-inf";
    range += ", ";
    range += std::isfinite(max) ? FormatNumber(max) : "inf";
    Fail(path, "must be in " + range + "], got " + FormatNumber(number));
  }

  std::optional<int64_t> IntegerValue(const json& value, const std::string& path, int64_t min) {
    if (!ok()) return std::nullopt;
    if (!value.is_number_integer() &&
        !(value.is_number_float() && std::isfinite(value.get<double>()) &&
          std::floor(value.get<double>()) == value.get<double>())) {
      TypeError(path, "an integer", value);
      return std::nullopt;
    }
    const int64_t number = value.is_number_unsigned()  ? static_cast<int64_t>(value.get<uint64_t>())
                           : value.is_number_integer() ? value.get<int64_t>()
                                                       : static_cast<int64_t>(value.get<double>());
    if (number < min) {
      Fail(path, "must be >= " + std::to_string(min) + ", got " + std::to_string(number));
      return std::nullopt;
    }
    return number;
  }

  int64_t Integer(const json& object, std::string_view key, const std::string& path, int64_t min) {
    const json* value = Get(object, key, path, true, "integer");
    if (value == nullptr) return 0;
    return IntegerValue(*value, Join(path, key), min).value_or(0);
  }

  std::optional<int64_t> OptionalInteger(const json& object, std::string_view key,
                                         const std::string& path, int64_t min) {
    const json* value = Get(object, key, path, false, "integer");
    if (value == nullptr || value->is_null()) return std::nullopt;
    return IntegerValue(*value, Join(path, key), min);
  }

  std::optional<bool> OptionalBool(const json& object, std::string_view key,
                                   const std::string& path, bool required = false) {
    const json* value = Get(object, key, path, required, "boolean");
    if (value == nullptr || (!required && value->is_null())) return std::nullopt;
    if (!value->is_boolean()) {
      TypeError(Join(path, key), "a boolean", *value);
      return std::nullopt;
    }
    return value->get<bool>();
  }

  // The object `key` of `object`; nullptr if absent (failing if required) or not an object.
  const json* Object(const json& object, std::string_view key, const std::string& path,
                     bool required = true) {
    const json* value = Get(object, key, path, required, "object");
    if (value == nullptr) return nullptr;
    if (!value->is_object()) {
      TypeError(Join(path, key), "an object", *value);
      return nullptr;
    }
    return value;
  }

  // The array `key` of `object` with at least `min_size` elements.
  const json* Array(const json& object, std::string_view key, const std::string& path,
                    bool required = true, size_t min_size = 1) {
    const json* value = Get(object, key, path, required, "array");
    if (value == nullptr) return nullptr;
    if (!value->is_array()) {
      TypeError(Join(path, key), "an array", *value);
      return nullptr;
    }
    if (value->size() < min_size) {
      Fail(Join(path, key), "must have at least " + std::to_string(min_size) + " element" +
                                (min_size == 1 ? "" : "s"));
      return nullptr;
    }
    return value;
  }

  // Element `index` of an array, which must be an object.
  const json* Element(const json& array, size_t index, const std::string& path) {
    if (!ok()) return nullptr;
    const json& value = array[index];
    if (!value.is_object()) {
      TypeError(Index(path, index), "an object", value);
      return nullptr;
    }
    return &value;
  }

  // Calls fn(element, element_path) for each element of `array` (at `path`); every element
  // must be an object. Stops at the first error.
  template <typename Fn>
  void ForEachObject(const json& array, const std::string& path, Fn&& fn) {
    for (size_t index = 0; index < array.size() && ok(); ++index) {
      const json* element = Element(array, index, path);
      if (element == nullptr) break;
      fn(element, Index(path, index));
    }
  }

  std::vector<std::string> StringArray(const json& object, std::string_view key,
                                       const std::string& path, bool required, size_t min_size) {
    std::vector<std::string> out;
    const json* array = Array(object, key, path, required, min_size);
    if (array == nullptr) return out;
    for (size_t index = 0; index < array->size() && ok(); ++index) {
      const json& value = (*array)[index];
      if (!value.is_string()) {
        TypeError(Index(Join(path, key), index), "a string", value);
        break;
      }
      out.push_back(value.get<std::string>());
    }
    return out;
  }

  static std::string FormatNumber(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.6g", value);
    return buffer;
  }

 private:
  absl::Status status_;
};

// The state of an optional or task-dependent top-level section; returns the section object to
// parse, or nullptr when there is nothing to parse (not applicable, absent, not available).
template <typename T>
const json* OpenSection(Reader& reader, const json& document, std::string_view key, Task task,
                        std::initializer_list<Task> applies_to,
                        std::initializer_list<Task> required_for, Section<T>* section) {
  section->applicable = std::find(applies_to.begin(), applies_to.end(), task) != applies_to.end();
  const bool required =
      std::find(required_for.begin(), required_for.end(), task) != required_for.end();
  if (!reader.ok()) return nullptr;
  auto it = document.find(std::string(key));
  const std::string path(key);
  if (!section->applicable) {
    if (it != document.end()) {
      std::string tasks;
      for (Task one : applies_to)
        tasks += (tasks.empty() ? "" : " and ") + std::string(TaskName(one));
      reader.Fail(path, "applies to " + tasks + " tasks only, and title.task_type is " +
                            std::string(TaskName(task)) + "; remove the section");
    }
    return nullptr;
  }
  if (it == document.end() || it->is_null()) {
    if (required) {
      reader.Fail(path, "is required for " + std::string(TaskName(task)) + " tasks (object)");
    }
    return nullptr;
  }
  if (!it->is_object()) {
    reader.TypeError(path, "an object", *it);
    return nullptr;
  }
  if (it->contains("not_available")) {
    if (required) {
      reader.Fail(path, "is required for " + std::string(TaskName(task)) +
                            " tasks; not_available is allowed for optional sections only");
      return nullptr;
    }
    reader.Keys(*it, path, {"not_available"});
    section->reason = reader.String(*it, "not_available", path, /*allow_empty=*/true);
    return nullptr;
  }
  section->value.emplace();
  return &*it;
}

void ParseTitle(Reader& reader, const json& document, TitleBlock* title) {
  const std::string path = "title";
  const json* object = reader.Object(document, "title", "");
  if (object == nullptr) return;
  reader.Keys(*object, path,
              {"project", "model_name", "model_version", "task_type", "target", "positive_class",
               "generated_at_utc", "assay_version", "version_sha256"});
  title->project = reader.String(*object, "project", path);
  title->model_name = reader.String(*object, "model_name", path);
  title->model_version = reader.Integer(*object, "model_version", path, 1);
  const std::string task = reader.String(*object, "task_type", path);
  if (task == "binary") {
    title->task = Task::kBinary;
  } else if (task == "multiclass") {
    title->task = Task::kMulticlass;
  } else if (task == "regression") {
    title->task = Task::kRegression;
  } else if (reader.ok()) {
    reader.Fail(Join(path, "task_type"),
                "must be \"binary\", \"multiclass\" or \"regression\", got \"" + task + "\"");
  }
  title->target = reader.String(*object, "target", path);
  if (title->task == Task::kBinary) {
    title->positive_class = reader.String(*object, "positive_class", path);
  } else if (reader.ok() && object->contains("positive_class")) {
    reader.Fail(Join(path, "positive_class"), "applies to binary tasks only; remove it");
  }
  title->generated_at_utc = reader.String(*object, "generated_at_utc", path);
  title->assay_version = reader.String(*object, "assay_version", path);
  title->version_sha256 = reader.Sha256(*object, "version_sha256", path);
}

void ParseLineage(Reader& reader, const json& document, Lineage* lineage) {
  const std::string path = "lineage";
  const json* object = reader.Object(document, "lineage", "");
  if (object == nullptr) return;
  reader.Keys(*object, path, {"dataset", "split", "task_spec_sha256", "upstream_runs"});
  if (const json* dataset = reader.Object(*object, "dataset", path)) {
    const std::string dpath = Join(path, "dataset");
    reader.Keys(*dataset, dpath, {"ref", "version", "sha256", "rows", "columns"});
    lineage->dataset.ref = reader.String(*dataset, "ref", dpath);
    lineage->dataset.version = reader.Integer(*dataset, "version", dpath, 1);
    lineage->dataset.sha256 = reader.Sha256(*dataset, "sha256", dpath);
    lineage->dataset.rows = reader.Integer(*dataset, "rows", dpath, 0);
    lineage->dataset.columns = reader.OptionalInteger(*dataset, "columns", dpath, 0);
  }
  if (const json* split = reader.Object(*object, "split", path)) {
    const std::string spath = Join(path, "split");
    reader.Keys(*split, spath,
                {"method", "cv_folds", "holdout_fraction", "stratified", "time_column",
                 "train_rows", "holdout_rows", "seed"});
    Split& out = lineage->split;
    out.method = reader.String(*split, "method", spath);
    out.cv_folds = reader.OptionalInteger(*split, "cv_folds", spath, 2);
    out.holdout_fraction = reader.NullableNumber(*split, "holdout_fraction", spath, false, 0, 1);
    out.stratified = reader.OptionalBool(*split, "stratified", spath);
    out.time_column = reader.OptionalString(*split, "time_column", spath);
    out.train_rows = reader.Integer(*split, "train_rows", spath, 0);
    out.holdout_rows = reader.Integer(*split, "holdout_rows", spath, 0);
    out.seed = reader.OptionalInteger(*split, "seed", spath, INT64_MIN);
  }
  if (reader.ok() && object->contains("task_spec_sha256")) {
    lineage->task_spec_sha256 = reader.Sha256(*object, "task_spec_sha256", path);
  }
  if (const json* runs = reader.Array(*object, "upstream_runs", path, false, 0)) {
    lineage->upstream_runs.emplace();
    const std::string rpath = Join(path, "upstream_runs");
    reader.ForEachObject(*runs, rpath, [&](const json* run, const std::string& epath) {
      reader.Keys(*run, epath,
                  {"run_id", "recipe", "recipe_type", "inputs", "outputs", "finished_at_utc"});
      UpstreamRun out;
      out.run_id = reader.String(*run, "run_id", epath);
      out.recipe = reader.String(*run, "recipe", epath);
      out.recipe_type = reader.OptionalString(*run, "recipe_type", epath);
      out.inputs = reader.StringArray(*run, "inputs", epath, false, 0);
      out.outputs = reader.StringArray(*run, "outputs", epath, false, 0);
      out.finished_at_utc = reader.OptionalString(*run, "finished_at_utc", epath);
      lineage->upstream_runs->push_back(std::move(out));
    });
  }
}

void ParseFeatures(Reader& reader, const json& document, std::vector<Feature>* features) {
  const json* array = reader.Array(document, "features", "");
  if (array == nullptr) return;
  reader.ForEachObject(*array, "features", [&](const json* object, const std::string& path) {
    reader.Keys(*object, path, {"column", "type", "role", "handling", "dropped", "reason"});
    Feature out;
    out.column = reader.String(*object, "column", path);
    out.type = reader.OptionalString(*object, "type", path);
    out.role = reader.String(*object, "role", path);
    out.handling = reader.String(*object, "handling", path);
    out.dropped = reader.OptionalBool(*object, "dropped", path).value_or(false);
    if (out.dropped) {
      out.reason = reader.String(*object, "reason", path);
    } else {
      out.reason = reader.OptionalString(*object, "reason", path);
    }
    features->push_back(std::move(out));
  });
}

void ParseModel(Reader& reader, const json& document, ChosenModel* model) {
  const std::string path = "model";
  const json* object = reader.Object(document, "model", "");
  if (object == nullptr) return;
  reader.Keys(
      *object, path,
      {"trial_id", "algorithm", "hyperparameters", "optimized_metric", "selection", "calibration"});
  model->trial_id = reader.String(*object, "trial_id", path);
  model->algorithm = reader.String(*object, "algorithm", path);
  if (const json* params = reader.Object(*object, "hyperparameters", path)) {
    model->hyperparameters = *params;
  }
  model->optimized_metric = reader.String(*object, "optimized_metric", path);
  model->selection = reader.OptionalString(*object, "selection", path);
  model->calibration = reader.OptionalString(*object, "calibration", path);
}

void ParseLeaderboard(Reader& reader, const json& document, Leaderboard* leaderboard) {
  const std::string path = "leaderboard";
  const json* object = reader.Object(document, "leaderboard", "");
  if (object == nullptr) return;
  reader.Keys(*object, path, {"metric", "greater_is_better", "trials"});
  leaderboard->metric = reader.String(*object, "metric", path);
  leaderboard->greater_is_better =
      reader.OptionalBool(*object, "greater_is_better", path, true).value_or(true);
  const json* trials = reader.Array(*object, "trials", path);
  if (trials == nullptr) return;
  const std::string tpath = Join(path, "trials");
  reader.ForEachObject(*trials, tpath, [&](const json* trial, const std::string& epath) {
    reader.Keys(*trial, epath,
                {"trial_id", "algorithm", "params", "cv_mean", "cv_std", "status", "message"});
    Trial out;
    out.trial_id = reader.String(*trial, "trial_id", epath);
    out.algorithm = reader.String(*trial, "algorithm", epath);
    out.params = reader.String(*trial, "params", epath, /*allow_empty=*/true);
    out.cv_mean = reader.NullableNumber(*trial, "cv_mean", epath, true);
    out.cv_std = reader.NullableNumber(*trial, "cv_std", epath, true, 0);
    out.status = reader.String(*trial, "status", epath);
    out.message = reader.OptionalString(*trial, "message", epath);
    leaderboard->trials.push_back(std::move(out));
  });
}

void ParseMetrics(Reader& reader, const json& document, std::vector<MetricRow>* metrics) {
  const json* array = reader.Array(document, "metrics", "");
  if (array == nullptr) return;
  reader.ForEachObject(*array, "metrics", [&](const json* object, const std::string& path) {
    reader.Keys(*object, path, {"name", "cv_mean", "cv_std", "holdout"});
    MetricRow out;
    out.name = reader.String(*object, "name", path);
    out.cv_mean = reader.NullableNumber(*object, "cv_mean", path, true);
    out.cv_std = reader.NullableNumber(*object, "cv_std", path, true, 0);
    out.holdout = reader.NullableNumber(*object, "holdout", path, true);
    metrics->push_back(std::move(out));
  });
}

void ParsePerClass(Reader& reader, const json& section, std::vector<ClassMetrics>* out) {
  const std::string path = "per_class_metrics";
  reader.Keys(section, path, {"classes"});
  const json* classes = reader.Array(section, "classes", path, true, 2);
  if (classes == nullptr) return;
  const std::string cpath = Join(path, "classes");
  reader.ForEachObject(*classes, cpath, [&](const json* object, const std::string& epath) {
    reader.Keys(*object, epath, {"class", "support", "precision", "recall", "f1", "auc"});
    ClassMetrics row;
    row.label = reader.String(*object, "class", epath, /*allow_empty=*/true);
    row.support = reader.Number(*object, "support", epath, 0);
    row.precision = reader.NullableNumber(*object, "precision", epath, true, 0, 1);
    row.recall = reader.NullableNumber(*object, "recall", epath, true, 0, 1);
    row.f1 = reader.NullableNumber(*object, "f1", epath, true, 0, 1);
    row.auc = reader.NullableNumber(*object, "auc", epath, false, 0, 1);
    out->push_back(std::move(row));
  });
}

// Points [{x_key: .., y_key: ..}] with both coordinates in [lo, hi].
std::vector<ChartPoint> ParsePoints(Reader& reader, const json& object, const std::string& path,
                                    std::string_view x_key, std::string_view y_key, double lo,
                                    double hi, size_t min_size, bool with_threshold) {
  std::vector<ChartPoint> points;
  const json* array = reader.Array(object, "points", path, true, min_size);
  if (array == nullptr) return points;
  const std::string ppath = Join(path, "points");
  reader.ForEachObject(*array, ppath, [&](const json* point, const std::string& epath) {
    if (with_threshold) {
      reader.Keys(*point, epath, {x_key, y_key, "threshold"});
    } else {
      reader.Keys(*point, epath, {x_key, y_key});
    }
    ChartPoint out;
    out.x = reader.Number(*point, x_key, epath, lo, hi);
    out.y = reader.Number(*point, y_key, epath, lo, hi);
    // Curve points may carry their threshold (metrics.h RocPoint); it is not drawn, but it
    // must be a number if present (+infinity arrives as null in JSON).
    if (with_threshold) reader.NullableNumber(*point, "threshold", epath, false);
    points.push_back(out);
  });
  return points;
}

void ParseRoc(Reader& reader, const json& section, Curve* out) {
  const std::string path = "roc_curve";
  reader.Keys(section, path, {"auc", "points", "evaluated_on"});
  out->area = reader.NullableNumber(section, "auc", path, false, 0, 1);
  out->points = ParsePoints(reader, section, path, "fpr", "tpr", 0, 1, 2, true);
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
}

void ParsePr(Reader& reader, const json& section, Curve* out) {
  const std::string path = "pr_curve";
  reader.Keys(section, path, {"average_precision", "positive_rate", "points", "evaluated_on"});
  out->area = reader.NullableNumber(section, "average_precision", path, false, 0, 1);
  out->positive_rate = reader.NullableNumber(section, "positive_rate", path, false, 0, 1);
  out->points = ParsePoints(reader, section, path, "recall", "precision", 0, 1, 2, true);
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
}

void ParseCalibration(Reader& reader, const json& section, Calibration* out) {
  const std::string path = "calibration_curve";
  reader.Keys(section, path, {"bins", "binning", "evaluated_on"});
  out->binning = reader.OptionalString(section, "binning", path);
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
  const json* bins = reader.Array(section, "bins", path);
  if (bins == nullptr) return;
  const std::string bpath = Join(path, "bins");
  reader.ForEachObject(*bins, bpath, [&](const json* bin, const std::string& epath) {
    reader.Keys(*bin, epath, {"mean_predicted", "observed_rate", "count"});
    CalibrationRow row;
    row.mean_predicted = reader.Number(*bin, "mean_predicted", epath, 0, 1);
    row.observed_rate = reader.Number(*bin, "observed_rate", epath, 0, 1);
    row.count = reader.Number(*bin, "count", epath, 0);
    out->bins.push_back(row);
  });
}

void ParseGains(Reader& reader, const json& section, Gains* out) {
  const std::string path = "lift_chart";
  reader.Keys(section, path, {"points", "evaluated_on"});
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
  const json* points = reader.Array(section, "points", path);
  if (points == nullptr) return;
  const std::string ppath = Join(path, "points");
  reader.ForEachObject(*points, ppath, [&](const json* point, const std::string& epath) {
    reader.Keys(*point, epath, {"fraction", "gain", "lift"});
    GainsRow row;
    row.fraction = reader.Number(*point, "fraction", epath, 0, 1);
    row.gain = reader.Number(*point, "gain", epath, 0, 1);
    row.lift = reader.NullableNumber(*point, "lift", epath, false, 0);
    out->points.push_back(row);
  });
}

void ParseConfusion(Reader& reader, const json& section, Task task, Confusion* out) {
  const std::string path = "confusion_matrix";
  if (task == Task::kBinary) {
    reader.Keys(section, path,
                {"labels", "counts", "threshold", "threshold_method", "evaluated_on"});
  } else {
    reader.Keys(section, path, {"labels", "counts", "evaluated_on"});
  }
  out->labels = reader.StringArray(section, "labels", path, true, 2);
  if (reader.ok() && task == Task::kBinary && out->labels.size() != 2) {
    reader.Fail(Join(path, "labels"),
                "must have exactly 2 labels (negative, positive) for a "
                "binary task, got " +
                    std::to_string(out->labels.size()));
  }
  const json* rows = reader.Array(section, "counts", path);
  if (rows != nullptr && rows->size() != out->labels.size()) {
    reader.Fail(Join(path, "counts"), "must have one row per label (" +
                                          std::to_string(out->labels.size()) + "), got " +
                                          std::to_string(rows->size()));
  }
  const std::string cpath = Join(path, "counts");
  for (size_t row = 0; rows != nullptr && row < rows->size() && reader.ok(); ++row) {
    const json& values = (*rows)[row];
    if (!values.is_array() || values.size() != out->labels.size()) {
      reader.Fail(Index(cpath, row), "must be an array of " + std::to_string(out->labels.size()) +
                                         " counts (one per predicted label)");
      break;
    }
    std::vector<double> counts;
    for (size_t col = 0; col < values.size() && reader.ok(); ++col) {
      const std::string epath = Index(Index(cpath, row), col);
      std::optional<double> count = reader.NumberValue(values[col], epath, false);
      if (count.has_value()) reader.CheckRange(*count, epath, 0, HUGE_VAL);
      counts.push_back(count.value_or(0));
    }
    out->counts.push_back(std::move(counts));
  }
  if (task == Task::kBinary) {
    out->threshold = reader.Number(section, "threshold", path);
    out->threshold_method = reader.String(section, "threshold_method", path);
  }
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
}

void ParseResiduals(Reader& reader, const json& section, Residuals* out) {
  const std::string path = "residuals";
  reader.Keys(section, path, {"points", "evaluated_on"});
  out->points =
      ParsePoints(reader, section, path, "actual", "predicted", -HUGE_VAL, HUGE_VAL, 1, false);
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
}

void ParseImportance(Reader& reader, const json& section, Importance* out) {
  const std::string path = "importance";
  reader.Keys(section, path, {"features", "note"});
  out->note = reader.OptionalString(section, "note", path);
  const json* features = reader.Array(section, "features", path);
  if (features == nullptr) return;
  const std::string fpath = Join(path, "features");
  reader.ForEachObject(*features, fpath, [&](const json* feature, const std::string& epath) {
    reader.Keys(*feature, epath, {"column", "mean_abs_shap", "gain"});
    ImportanceRow row;
    row.column = reader.String(*feature, "column", epath);
    row.mean_abs_shap = reader.Number(*feature, "mean_abs_shap", epath, 0);
    row.gain = reader.NullableNumber(*feature, "gain", epath, false, 0);
    out->features.push_back(std::move(row));
  });
}

void ParseDependence(Reader& reader, const json& section, PartialDependence* out) {
  const std::string path = "partial_dependence";
  reader.Keys(section, path, {"prediction_label", "features"});
  out->prediction_label =
      reader.OptionalString(section, "prediction_label", path).value_or("mean prediction");
  const json* features = reader.Array(section, "features", path);
  if (features == nullptr) return;
  const std::string fpath = Join(path, "features");
  reader.ForEachObject(*features, fpath, [&](const json* feature, const std::string& epath) {
    reader.Keys(*feature, epath, {"column", "kind", "points"});
    DependenceFeature one;
    one.column = reader.String(*feature, "column", epath);
    const std::string kind = reader.String(*feature, "kind", epath);
    if (reader.ok() && kind != "numeric" && kind != "categorical") {
      reader.Fail(Join(epath, "kind"),
                  "must be \"numeric\" or \"categorical\", got \"" + kind + "\"");
    }
    one.numeric = kind == "numeric";
    const json* points = reader.Array(*feature, "points", epath);
    const std::string ppath = Join(epath, "points");
    if (points != nullptr) {
      reader.ForEachObject(*points, ppath, [&](const json* point, const std::string& ep) {
        reader.Keys(*point, ep, {"value", "mean_prediction"});
        DependencePoint out_point;
        if (one.numeric) {
          out_point.value = reader.Number(*point, "value", ep);
          out_point.label = FormatFixed(out_point.value, 4);
        } else {
          out_point.label = reader.String(*point, "value", ep, /*allow_empty=*/true);
        }
        out_point.mean_prediction = reader.Number(*point, "mean_prediction", ep);
        one.points.push_back(std::move(out_point));
      });
    }
    out->features.push_back(std::move(one));
  });
}

void ParseSubpopulations(Reader& reader, const json& section, Task task, Subpopulations* out) {
  const std::string path = "subpopulations";
  reader.Keys(section, path, {"column", "metrics", "groups", "evaluated_on"});
  out->column = reader.String(section, "column", path);
  out->metrics = reader.StringArray(section, "metrics", path, true, 0);
  out->evaluated_on = reader.OptionalString(section, "evaluated_on", path);
  const json* groups = reader.Array(section, "groups", path);
  if (groups == nullptr) return;
  const std::string gpath = Join(path, "groups");
  reader.ForEachObject(*groups, gpath, [&](const json* group, const std::string& epath) {
    reader.Keys(*group, epath, {"value", "rows", "positives", "values"});
    Group one;
    one.value = reader.String(*group, "value", epath, /*allow_empty=*/true);
    one.rows = reader.Integer(*group, "rows", epath, 0);
    if (task == Task::kBinary) {
      one.positives = reader.Integer(*group, "positives", epath, 0);
    } else if (reader.ok() && group->contains("positives")) {
      reader.Fail(Join(epath, "positives"), "applies to binary tasks only; remove it");
    }
    const json* values = reader.Object(*group, "values", epath);
    if (values == nullptr) return;  // the reader failed, so ForEachObject stops
    const std::string vpath = Join(epath, "values");
    for (auto it = values->begin(); it != values->end() && reader.ok(); ++it) {
      if (std::find(out->metrics.begin(), out->metrics.end(), it.key()) == out->metrics.end()) {
        reader.Fail(Join(vpath, it.key()), "is not listed in subpopulations.metrics");
      }
    }
    for (const std::string& metric : out->metrics) {
      one.values.push_back(reader.NullableNumber(*values, metric, vpath, true));
    }
    out->groups.push_back(std::move(one));
  });
}

void ParseEnvironment(Reader& reader, const json& document, Environment* out) {
  const std::string path = "environment";
  const json* object = reader.Object(document, "environment", "");
  if (object == nullptr) return;
  reader.Keys(*object, path,
              {"assay_version", "assay_commit", "xgboost_version", "compiler", "os", "other"});
  out->assay_version = reader.String(*object, "assay_version", path);
  out->assay_commit = reader.String(*object, "assay_commit", path);
  out->xgboost_version = reader.String(*object, "xgboost_version", path);
  out->compiler = reader.String(*object, "compiler", path);
  out->os = reader.String(*object, "os", path);
  if (const json* other = reader.Object(*object, "other", path, false)) {
    const std::string opath = Join(path, "other");
    for (auto it = other->begin(); it != other->end() && reader.ok(); ++it) {
      if (!it->is_string()) {
        reader.TypeError(Join(opath, it.key()), "a string", *it);
        break;
      }
      out->other.emplace_back(it.key(), it->get<std::string>());
    }
  }
}

absl::StatusOr<Document> ParseDocument(const json& document) {
  Reader reader;
  if (!document.is_object()) {
    reader.TypeError("(document root)", "an object", document);
    return reader.status();
  }
  reader.Keys(document, "",
              {"schema_version", "title", "purpose", "lineage", "features", "model", "leaderboard",
               "metrics", "per_class_metrics", "roc_curve", "pr_curve", "calibration_curve",
               "lift_chart", "confusion_matrix", "residuals", "importance", "partial_dependence",
               "subpopulations", "environment"});
  const int64_t version = reader.Integer(document, "schema_version", "", 1);
  if (reader.ok() && version != kModelDocumentSchemaVersion) {
    reader.Fail("schema_version", "is " + std::to_string(version) + "; this Assay renders " +
                                      "schema_version " +
                                      std::to_string(kModelDocumentSchemaVersion));
  }
  Document doc;
  ParseTitle(reader, document, &doc.title);
  const Task task = doc.title.task;
  doc.purpose = reader.String(document, "purpose", "", /*allow_empty=*/true);
  ParseLineage(reader, document, &doc.lineage);
  ParseFeatures(reader, document, &doc.features);
  ParseModel(reader, document, &doc.model);
  ParseLeaderboard(reader, document, &doc.leaderboard);
  ParseMetrics(reader, document, &doc.metrics);

  constexpr Task kB = Task::kBinary, kM = Task::kMulticlass, kR = Task::kRegression;
  if (const json* s = OpenSection(reader, document, "per_class_metrics", task, {kM}, {kM},
                                  &doc.per_class_metrics)) {
    ParsePerClass(reader, *s, &*doc.per_class_metrics.value);
  }
  if (const json* s =
          OpenSection(reader, document, "roc_curve", task, {kB}, {kB}, &doc.roc_curve)) {
    ParseRoc(reader, *s, &*doc.roc_curve.value);
  }
  if (const json* s = OpenSection(reader, document, "pr_curve", task, {kB}, {kB}, &doc.pr_curve)) {
    ParsePr(reader, *s, &*doc.pr_curve.value);
  }
  if (const json* s = OpenSection(reader, document, "calibration_curve", task, {kB}, {},
                                  &doc.calibration_curve)) {
    ParseCalibration(reader, *s, &*doc.calibration_curve.value);
  }
  if (const json* s =
          OpenSection(reader, document, "lift_chart", task, {kB}, {}, &doc.lift_chart)) {
    ParseGains(reader, *s, &*doc.lift_chart.value);
  }
  if (const json* s = OpenSection(reader, document, "confusion_matrix", task, {kB, kM}, {kB, kM},
                                  &doc.confusion_matrix)) {
    ParseConfusion(reader, *s, task, &*doc.confusion_matrix.value);
  }
  if (const json* s = OpenSection(reader, document, "residuals", task, {kR}, {}, &doc.residuals)) {
    ParseResiduals(reader, *s, &*doc.residuals.value);
  }
  if (const json* s =
          OpenSection(reader, document, "importance", task, {kB, kM, kR}, {}, &doc.importance)) {
    ParseImportance(reader, *s, &*doc.importance.value);
  }
  if (const json* s = OpenSection(reader, document, "partial_dependence", task, {kB, kM, kR}, {},
                                  &doc.partial_dependence)) {
    ParseDependence(reader, *s, &*doc.partial_dependence.value);
  }
  if (const json* s = OpenSection(reader, document, "subpopulations", task, {kB, kM, kR}, {},
                                  &doc.subpopulations)) {
    ParseSubpopulations(reader, *s, task, &*doc.subpopulations.value);
  }
  ParseEnvironment(reader, document, &doc.environment);
  if (!reader.ok()) return reader.status();

  // Cross-checks between sections.
  const auto& trials = doc.leaderboard.trials;
  if (std::none_of(trials.begin(), trials.end(),
                   [&](const Trial& trial) { return trial.trial_id == doc.model.trial_id; })) {
    reader.Fail("model.trial_id", "\"" + doc.model.trial_id +
                                      "\" is not among leaderboard.trials; the chosen trial "
                                      "must be listed");
  }
  if (doc.per_class_metrics.value.has_value() && doc.confusion_matrix.value.has_value() &&
      doc.per_class_metrics.value->size() != doc.confusion_matrix.value->labels.size()) {
    reader.Fail("per_class_metrics.classes",
                "has " + std::to_string(doc.per_class_metrics.value->size()) +
                    " classes but confusion_matrix.labels has " +
                    std::to_string(doc.confusion_matrix.value->labels.size()));
  }
  if (!reader.ok()) return reader.status();
  return doc;
}

// =============================================================================================
// Rendering.

constexpr std::string_view kDash = "&mdash;";
constexpr size_t kTopImportance = 20;

std::string E(std::string_view text) { return EscapeMarkup(text); }

std::string Metric(const std::optional<double>& value) {
  return value.has_value() ? FormatFixed(*value, 4) : std::string(kDash);
}

std::string MeanStd(const std::optional<double>& mean, const std::optional<double>& std_dev) {
  if (!mean.has_value()) return std::string(kDash);
  std::string text = FormatFixed(*mean, 4);
  if (std_dev.has_value()) text += " &plusmn; " + FormatFixed(*std_dev, 4);
  return text;
}

// Integers with thousands separators ("12,345"); used for row counts.
std::string Grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t index = 0; index < digits.size(); ++index) {
    if (index > 0 && (digits.size() - index) % 3 == 0) out.push_back(',');
    out.push_back(digits[index]);
  }
  return value < 0 ? "-" + out : out;
}

// Counts may be weighted (fractional); whole counts print without decimals.
std::string Count(double value) {
  if (std::floor(value) == value && std::abs(value) < 9e15) {
    return Grouped(static_cast<int64_t>(value));
  }
  return FormatFixed(value, 2);
}

// A value with 4 significant digits, switching to exponent notation outside [1e-4, 1e7).
std::string Significant(double value) {
  if (value == 0) return "0";
  const int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
  if (exponent < -4 || exponent >= 7) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.3e", value);
    return buffer;
  }
  return FormatFixed(value, std::max(0, 3 - exponent));
}

std::string JsonScalar(const json& value) {
  if (value.is_string()) return E(value.get<std::string>());
  if (value.is_number_float()) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.6g", value.get<double>());
    return buffer;
  }
  return E(value.dump());
}

std::string TextOrDash(const std::optional<std::string>& text) {
  return text.has_value() && !text->empty() ? E(*text) : std::string(kDash);
}

struct TocEntry {
  std::string id;
  std::string title;
};

class HtmlWriter {
 public:
  explicit HtmlWriter(const Document& doc) : doc_(doc) {}

  std::string Render() {
    std::vector<TocEntry> toc = Toc();
    out_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<meta name=\"generator\" content=\"Assay " + E(doc_.title.assay_version) + "\">\n";
    out_ += "<title>Model document: " + E(doc_.title.project) + "/" + E(doc_.title.model_name) +
            " v" + std::to_string(doc_.title.model_version) + "</title>\n";
    out_ += "<style>\n";
    out_ += kStyle;
    out_ += "</style>\n</head>\n<body>\n";
    RenderTitle();
    out_ += "<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n";
    for (const TocEntry& entry : toc) {
      out_ += "<li><a href=\"#" + entry.id + "\">" + entry.title + "</a></li>\n";
    }
    out_ += "</ol>\n</nav>\n";
    int number = 0;
    for (const TocEntry& entry : toc) {
      ++number;
      out_ += "<section id=\"" + entry.id + "\">\n<h2>" + std::to_string(number) + ". " +
              entry.title + "</h2>\n";
      RenderSection(entry.id);
      out_ += "</section>\n";
    }
    out_ += "<footer>Rendered by Assay " + E(doc_.title.assay_version) +
            " from model-document schema version " + std::to_string(kModelDocumentSchemaVersion) +
            ". Saved-model version SHA-256 " + "<code>" + E(doc_.title.version_sha256) +
            "</code>.</footer>\n";
    out_ += "</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  static constexpr std::string_view kStyle =
      "@page { size: A4; margin: 16mm 14mm 18mm 14mm;\n"
      "  @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages);"
      " font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 8pt; color: #555; } }\n"
      ":root { --ink: #1a1a1a; --muted: #555; --rule: #c8ced6; --head: #0b3d62;"
      " --band: #eef2f6; --mark: #fff2cc; }\n"
      "* { box-sizing: border-box; }\n"
      "body { font-family: \"DejaVu Sans\", \"Liberation Sans\", Arial, Helvetica, sans-serif;"
      " color: var(--ink); background: #fff; font-size: 10.5pt; line-height: 1.4;"
      " max-width: 190mm; margin: 0 auto; padding: 8mm 4mm; }\n"
      "h1 { color: var(--head); font-size: 20pt; margin: 0 0 2mm 0; }\n"
      "h2 { color: var(--head); font-size: 14pt; border-bottom: 1.5pt solid var(--head);"
      " padding-bottom: 1mm; margin: 6mm 0 3mm 0; break-after: avoid; }\n"
      "h3 { color: var(--head); font-size: 11.5pt; margin: 4mm 0 2mm 0; break-after: avoid; }\n"
      "p { margin: 1.5mm 0; }\n"
      ".subtitle { font-size: 12pt; color: var(--muted); margin: 0 0 4mm 0; }\n"
      "table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm 0; font-size: 9.5pt; }\n"
      "thead { display: table-header-group; }\n"
      "tr { break-inside: avoid; page-break-inside: avoid; }\n"
      "th, td { border: 0.75pt solid var(--rule); padding: 1.2mm 2mm; text-align: left;"
      " vertical-align: top; }\n"
      "th { background: var(--band); font-weight: bold; }\n"
      "td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;"
      " white-space: nowrap; }\n"
      "table.kv th { width: 32%; }\n"
      "tr.chosen td { background: var(--mark); font-weight: bold; }\n"
      "tr.dropped td { color: var(--muted); font-style: italic; }\n"
      "code, .hash { font-family: \"DejaVu Sans Mono\", \"Liberation Mono\", monospace;"
      " font-size: 8.5pt; overflow-wrap: break-word; }\n"
      ".hash { word-break: break-all; }\n"
      ".na { color: var(--muted); font-style: italic; border-left: 3pt solid var(--rule);"
      " padding-left: 2mm; }\n"
      ".note { color: var(--muted); font-size: 9pt; }\n"
      ".purpose { white-space: pre-wrap; }\n"
      ".figures { display: flex; flex-wrap: wrap; gap: 4mm; }\n"
      "figure { margin: 0 0 3mm 0; break-inside: avoid; page-break-inside: avoid; }\n"
      ".figures figure { flex: 1 1 80mm; min-width: 80mm; }\n"
      "figcaption { font-size: 9pt; color: var(--muted); margin-top: 1mm; }\n"
      "svg.chart { display: block; max-width: 100%; height: auto; }\n"
      "table.confusion { width: auto; }\n"
      "table.confusion td { text-align: center; min-width: 24mm; }\n"
      "nav.toc ol { columns: 2; column-gap: 10mm; padding-left: 6mm; }\n"
      "nav.toc a { color: var(--head); text-decoration: none; }\n"
      "footer { margin-top: 8mm; border-top: 0.75pt solid var(--rule); padding-top: 2mm;"
      " color: var(--muted); font-size: 8.5pt; }\n"
      "@media print {\n"
      "  body { max-width: none; padding: 0; }\n"
      "  section { break-before: page; page-break-before: always; }\n"
      "  a { color: inherit; }\n"
      "  th, tr.chosen td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
      "  table.confusion td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
      "}\n";

  std::vector<TocEntry> Toc() const {
    std::vector<TocEntry> toc = {{"purpose", "Purpose"},
                                 {"lineage", "Data lineage"},
                                 {"features", "Features and their handling"},
                                 {"algorithm", "Algorithm and hyperparameters"},
                                 {"leaderboard", "Leaderboard"},
                                 {"metrics", "Metrics"}};
    if (doc_.roc_curve.applicable) toc.push_back({"roc-pr", "ROC and precision-recall curves"});
    if (doc_.calibration_curve.applicable) {
      toc.push_back({"calibration-lift", "Calibration and gains"});
    }
    if (doc_.confusion_matrix.applicable) toc.push_back({"confusion", "Confusion matrix"});
    if (doc_.residuals.applicable) toc.push_back({"residuals", "Predicted vs actual"});
    toc.push_back({"importance", "Global importance"});
    toc.push_back({"dependence", "Partial dependence"});
    toc.push_back({"subpopulations", "Subpopulations"});
    toc.push_back({"environment", "Environment"});
    return toc;
  }

  void RenderSection(const std::string& id) {
    if (id == "purpose") return RenderPurpose();
    if (id == "lineage") return RenderLineage();
    if (id == "features") return RenderFeatures();
    if (id == "algorithm") return RenderAlgorithm();
    if (id == "leaderboard") return RenderLeaderboard();
    if (id == "metrics") return RenderMetrics();
    if (id == "roc-pr") return RenderRocPr();
    if (id == "calibration-lift") return RenderCalibrationGains();
    if (id == "confusion") return RenderConfusion();
    if (id == "residuals") return RenderResiduals();
    if (id == "importance") return RenderImportance();
    if (id == "dependence") return RenderDependence();
    if (id == "subpopulations") return RenderSubpopulations();
    if (id == "environment") return RenderEnvironment();
  }

  void NotAvailable(const std::string& what, const std::string& reason) {
    out_ += "<p class=\"na\">" + E(what) + ": not available for this model";
    out_ += reason.empty() ? "." : " (" + E(reason) + ").";
    out_ += "</p>\n";
  }

  void KeyValue(std::string_view key, const std::string& html_value) {
    out_ += "<tr><th scope=\"row\">" + std::string(key) + "</th><td>" + html_value + "</td></tr>\n";
  }

  void EvaluatedOn(const std::optional<std::string>& evaluated_on) {
    if (evaluated_on.has_value() && !evaluated_on->empty()) {
      out_ += "<p class=\"note\">Evaluated on: " + E(*evaluated_on) + ".</p>\n";
    }
  }

  std::optional<double> HoldoutOf(const std::string& metric) const {
    for (const MetricRow& row : doc_.metrics) {
      if (row.name == metric) return row.holdout;
    }
    return std::nullopt;
  }

  void RenderTitle() {
    const TitleBlock& t = doc_.title;
    out_ += "<header id=\"title\">\n<h1>Model document</h1>\n";
    out_ += "<p class=\"subtitle\">" + E(t.project) + " / " + E(t.model_name) + " version " +
            std::to_string(t.model_version) + "</p>\n";
    out_ += "<table class=\"kv\">\n<tbody>\n";
    KeyValue("Project", E(t.project));
    KeyValue("Saved model", E(t.model_name));
    KeyValue("Version", "v" + std::to_string(t.model_version));
    std::string task = std::string(TaskName(t.task)) + ", target <code>" + E(t.target) + "</code>";
    if (t.positive_class.has_value()) {
      task += ", positive class <code>" + E(*t.positive_class) + "</code>";
    }
    KeyValue("Task", task);
    KeyValue("Chosen model", E(doc_.model.algorithm) + " (trial <code>" + E(doc_.model.trial_id) +
                                 "</code>), holdout " + E(doc_.model.optimized_metric) + " " +
                                 Metric(HoldoutOf(doc_.model.optimized_metric)));
    KeyValue("Generated at (UTC)", E(t.generated_at_utc));
    KeyValue("Assay version", E(t.assay_version));
    KeyValue("Version SHA-256", "<span class=\"hash\">" + E(t.version_sha256) + "</span>");
    out_ += "</tbody>\n</table>\n</header>\n";
  }

  void RenderPurpose() {
    if (doc_.purpose.empty()) {
      out_ += "<p class=\"na\">The task spec states no purpose.</p>\n";
      return;
    }
    out_ += "<p class=\"purpose\">" + E(doc_.purpose) + "</p>\n";
  }

  void RenderLineage() {
    const Lineage& l = doc_.lineage;
    out_ += "<h3>Training dataset</h3>\n<table class=\"kv\">\n<tbody>\n";
    KeyValue("Dataset", "<code>" + E(l.dataset.ref) + "</code>");
    KeyValue("Version", "v" + std::to_string(l.dataset.version));
    KeyValue("SHA-256", "<span class=\"hash\">" + E(l.dataset.sha256) + "</span>");
    KeyValue("Rows", Grouped(l.dataset.rows));
    if (l.dataset.columns.has_value()) KeyValue("Columns", Grouped(*l.dataset.columns));
    if (l.task_spec_sha256.has_value()) {
      KeyValue("Task spec SHA-256", "<span class=\"hash\">" + E(*l.task_spec_sha256) + "</span>");
    }
    out_ += "</tbody>\n</table>\n";

    const Split& s = l.split;
    out_ += "<h3>Split</h3>\n<table class=\"kv\">\n<tbody>\n";
    KeyValue("Method", E(s.method));
    if (s.cv_folds.has_value()) KeyValue("Cross-validation folds", std::to_string(*s.cv_folds));
    if (s.holdout_fraction.has_value()) {
      KeyValue("Holdout fraction", FormatFixed(*s.holdout_fraction * 100, 1) + "%");
    }
    if (s.stratified.has_value()) KeyValue("Stratified", *s.stratified ? "yes" : "no");
    if (s.time_column.has_value()) {
      KeyValue("Time column", "<code>" + E(*s.time_column) + "</code>");
    }
    KeyValue("Training rows (search and CV)", Grouped(s.train_rows));
    KeyValue("Holdout rows (never used for selection)", Grouped(s.holdout_rows));
    if (s.seed.has_value()) KeyValue("Seed", std::to_string(*s.seed));
    out_ += "</tbody>\n</table>\n";

    out_ += "<h3>Upstream recipe runs</h3>\n";
    if (!l.upstream_runs.has_value()) {
      NotAvailable("The chain of upstream recipe runs", "");
      return;
    }
    if (l.upstream_runs->empty()) {
      out_ += "<p>None: the training dataset was imported directly.</p>\n";
      return;
    }
    out_ +=
        "<p class=\"note\">In the order they ran, ending with the run that wrote the "
        "training dataset.</p>\n";
    out_ +=
        "<table>\n<thead><tr><th class=\"num\">#</th><th>Run</th><th>Recipe</th>"
        "<th>Type</th><th>Inputs</th><th>Outputs</th><th>Finished (UTC)</th></tr></thead>\n"
        "<tbody>\n";
    size_t index = 0;
    for (const UpstreamRun& run : *l.upstream_runs) {
      auto list = [](const std::vector<std::string>& items) {
        if (items.empty()) return std::string(kDash);
        std::string text;
        for (const std::string& item : items) {
          text += (text.empty() ? "" : "<br>") + std::string("<code>") + E(item) + "</code>";
        }
        return text;
      };
      out_ += "<tr><td class=\"num\">" + std::to_string(++index) + "</td><td><code>" +
              E(run.run_id) + "</code></td><td>" + E(run.recipe) + "</td><td>" +
              TextOrDash(run.recipe_type) + "</td><td>" + list(run.inputs) + "</td><td>" +
              list(run.outputs) + "</td><td>" + TextOrDash(run.finished_at_utc) + "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  void RenderFeatures() {
    size_t dropped = 0;
    for (const Feature& feature : doc_.features) dropped += feature.dropped ? 1 : 0;
    out_ += "<p>" + std::to_string(doc_.features.size()) +
            " input columns: " + std::to_string(doc_.features.size() - dropped) + " used, " +
            std::to_string(dropped) + " dropped.</p>\n";
    out_ +=
        "<table>\n<thead><tr><th>Column</th><th>Type</th><th>Role</th><th>Handling</th>"
        "<th>Reason / note</th></tr></thead>\n<tbody>\n";
    for (const Feature& feature : doc_.features) {
      out_ += std::string(feature.dropped ? "<tr class=\"dropped\">" : "<tr>") + "<td><code>" +
              E(feature.column) + "</code></td><td>" + TextOrDash(feature.type) + "</td><td>" +
              E(feature.role) + "</td><td>" + E(feature.handling) +
              (feature.dropped ? " (dropped)" : "") + "</td><td>" + TextOrDash(feature.reason) +
              "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  void RenderAlgorithm() {
    const ChosenModel& m = doc_.model;
    out_ += "<table class=\"kv\">\n<tbody>\n";
    KeyValue("Chosen trial", "<code>" + E(m.trial_id) + "</code>");
    KeyValue("Algorithm", E(m.algorithm));
    KeyValue("Optimized metric", E(m.optimized_metric));
    if (m.selection.has_value()) KeyValue("Selection", E(*m.selection));
    if (m.calibration.has_value()) KeyValue("Probability calibration", E(*m.calibration));
    out_ += "</tbody>\n</table>\n<h3>Hyperparameters</h3>\n";
    if (m.hyperparameters.empty()) {
      out_ += "<p>The algorithm has no tuned hyperparameters.</p>\n";
      return;
    }
    // nlohmann::json objects iterate in key order, so the table order is stable.
    out_ += "<table>\n<thead><tr><th>Name</th><th>Value</th></tr></thead>\n<tbody>\n";
    for (auto it = m.hyperparameters.begin(); it != m.hyperparameters.end(); ++it) {
      out_ += "<tr><td><code>" + E(it.key()) + "</code></td><td><code>" + JsonScalar(*it) +
              "</code></td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  void RenderLeaderboard() {
    const Leaderboard& lb = doc_.leaderboard;
    out_ += "<p>" + std::to_string(lb.trials.size()) + " trials, scored by cross-validated <code>" +
            E(lb.metric) + "</code> (" + (lb.greater_is_better ? "higher" : "lower") +
            " is better) on the training rows only. The chosen trial is highlighted.</p>\n";
    out_ +=
        "<table>\n<thead><tr><th class=\"num\">#</th><th>Trial</th><th>Algorithm</th>"
        "<th>Parameters</th><th class=\"num\">CV " +
        E(lb.metric) + " (mean &plusmn; std)</th><th>Status</th></tr></thead>\n<tbody>\n";
    size_t index = 0;
    for (const Trial& trial : lb.trials) {
      const bool chosen = trial.trial_id == doc_.model.trial_id;
      std::string status = E(trial.status);
      if (trial.message.has_value() && !trial.message->empty()) {
        status += ": " + E(*trial.message);
      }
      if (chosen) status += " (chosen)";
      out_ += std::string(chosen ? "<tr class=\"chosen\">" : "<tr>") + "<td class=\"num\">" +
              std::to_string(++index) + "</td><td><code>" + E(trial.trial_id) + "</code></td><td>" +
              E(trial.algorithm) + "</td><td><code>" +
              (trial.params.empty() ? std::string(kDash) : E(trial.params)) +
              "</code></td><td class=\"num\">" + MeanStd(trial.cv_mean, trial.cv_std) +
              "</td><td>" + status + "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  void RenderMetrics() {
    const Split& s = doc_.lineage.split;
    out_ +=
        "<p>Cross-validation figures are the mean and standard deviation over the folds of "
        "the " +
        Grouped(s.train_rows) + " training rows";
    if (s.cv_folds.has_value()) out_ += " (" + std::to_string(*s.cv_folds) + " folds)";
    out_ += "; holdout figures come from the " + Grouped(s.holdout_rows) +
            " holdout rows, which took no part in the search.</p>\n";
    out_ +=
        "<table>\n<thead><tr><th>Metric</th><th class=\"num\">CV mean &plusmn; std</th>"
        "<th class=\"num\">Holdout</th></tr></thead>\n<tbody>\n";
    for (const MetricRow& row : doc_.metrics) {
      const bool optimized = row.name == doc_.model.optimized_metric;
      out_ += std::string(optimized ? "<tr class=\"chosen\">" : "<tr>") + "<td>" + E(row.name) +
              (optimized ? " (optimized)" : "") + "</td><td class=\"num\">" +
              MeanStd(row.cv_mean, row.cv_std) + "</td><td class=\"num\">" + Metric(row.holdout) +
              "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
    if (!doc_.per_class_metrics.applicable) return;
    out_ += "<h3>Per-class metrics</h3>\n";
    if (!doc_.per_class_metrics.value.has_value()) {
      NotAvailable("Per-class metrics", doc_.per_class_metrics.reason);
      return;
    }
    bool any_auc = false;
    for (const ClassMetrics& row : *doc_.per_class_metrics.value) any_auc |= row.auc.has_value();
    out_ +=
        "<table>\n<thead><tr><th>Class</th><th class=\"num\">Support</th>"
        "<th class=\"num\">Precision</th><th class=\"num\">Recall</th>"
        "<th class=\"num\">F1</th>";
    if (any_auc) out_ += "<th class=\"num\">AUC (one vs rest)</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const ClassMetrics& row : *doc_.per_class_metrics.value) {
      out_ += "<tr><td><code>" + E(row.label) + "</code></td><td class=\"num\">" +
              Count(row.support) + "</td><td class=\"num\">" + Metric(row.precision) +
              "</td><td class=\"num\">" + Metric(row.recall) + "</td><td class=\"num\">" +
              Metric(row.f1) + "</td>";
      if (any_auc) out_ += "<td class=\"num\">" + Metric(row.auc) + "</td>";
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  void Figure(const std::string& svg, const std::string& caption) {
    out_ += "<figure>" + svg + "<figcaption>" + caption + "</figcaption></figure>\n";
  }

  void RenderRocPr() {
    out_ += "<div class=\"figures\">\n";
    if (const auto& roc = doc_.roc_curve.value) {
      XyChartOptions options;
      options.title = "ROC curve";
      options.x = {"False positive rate", 0.0, 1.0};
      options.y = {"True positive rate", 0.0, 1.0};
      options.width = 360;
      options.height = 330;
      options.diagonal = true;
      const std::string svg = XyChart(options, {ChartSeries{"ROC", roc->points}});
      std::string caption = "ROC curve";
      if (roc->area.has_value()) caption += ", AUC " + FormatFixed(*roc->area, 4);
      caption += ". Dashed: a random ranking.";
      if (roc->evaluated_on.has_value()) caption += " Evaluated on " + E(*roc->evaluated_on) + ".";
      Figure(svg, caption);
    }
    if (const auto& pr = doc_.pr_curve.value) {
      XyChartOptions options;
      options.title = "Precision-recall curve";
      options.x = {"Recall", 0.0, 1.0};
      options.y = {"Precision", 0.0, 1.0};
      options.width = 360;
      options.height = 330;
      options.horizontal_reference = pr->positive_rate;
      const std::string svg =
          XyChart(options, {ChartSeries{"PR", pr->points, SeriesStyle::kLine, false, 1}});
      std::string caption = "Precision-recall curve";
      if (pr->area.has_value()) caption += ", average precision " + FormatFixed(*pr->area, 4);
      caption += ".";
      if (pr->positive_rate.has_value()) {
        caption += " Dashed: the positive rate " + FormatFixed(*pr->positive_rate, 4) +
                   " (a random ranking).";
      }
      if (pr->evaluated_on.has_value()) caption += " Evaluated on " + E(*pr->evaluated_on) + ".";
      Figure(svg, caption);
    }
    out_ += "</div>\n";
  }

  void RenderCalibrationGains() {
    out_ += "<h3>Calibration curve</h3>\n";
    if (const auto& cal = doc_.calibration_curve.value) {
      XyChartOptions options;
      options.title = "Calibration curve";
      options.x = {"Mean predicted probability", 0.0, 1.0};
      options.y = {"Observed positive rate", 0.0, 1.0};
      options.width = 420;
      options.height = 340;
      options.diagonal = true;
      ChartSeries series{"Model", {}, SeriesStyle::kLineAndMarkers, false, 0};
      for (const CalibrationRow& bin : cal->bins) {
        series.points.push_back({bin.mean_predicted, bin.observed_rate});
      }
      std::string caption = "Observed positive rate against mean predicted probability per bin";
      if (cal->binning.has_value()) caption += " (" + E(*cal->binning) + ")";
      caption += ". Dashed: perfect calibration.";
      if (cal->evaluated_on.has_value()) caption += " Evaluated on " + E(*cal->evaluated_on) + ".";
      Figure(XyChart(options, {series}), caption);
      out_ +=
          "<table>\n<thead><tr><th class=\"num\">Bin</th><th class=\"num\">Mean predicted"
          "</th><th class=\"num\">Observed rate</th><th class=\"num\">Rows</th></tr>"
          "</thead>\n<tbody>\n";
      size_t index = 0;
      for (const CalibrationRow& bin : cal->bins) {
        out_ += "<tr><td class=\"num\">" + std::to_string(++index) + "</td><td class=\"num\">" +
                FormatFixed(bin.mean_predicted, 4) + "</td><td class=\"num\">" +
                FormatFixed(bin.observed_rate, 4) + "</td><td class=\"num\">" + Count(bin.count) +
                "</td></tr>\n";
      }
      out_ += "</tbody>\n</table>\n";
    } else {
      NotAvailable("The calibration curve", doc_.calibration_curve.reason);
    }
    out_ += "<h3>Cumulative gains and lift</h3>\n";
    if (const auto& gains = doc_.lift_chart.value) {
      XyChartOptions options;
      options.title = "Cumulative gains chart";
      options.x = {"Fraction of rows, highest scores first", 0.0, 1.0};
      options.y = {"Fraction of positives captured", 0.0, 1.0};
      options.width = 420;
      options.height = 340;
      options.diagonal = true;
      ChartSeries series{"Model", {}, SeriesStyle::kLineAndMarkers, false, 2};
      bool any_lift = false;
      for (const GainsRow& row : gains->points) {
        series.points.push_back({row.fraction, row.gain});
        any_lift |= row.lift.has_value();
      }
      std::string caption = "Cumulative gains. Dashed: a random ranking (lift 1).";
      if (gains->evaluated_on.has_value()) {
        caption += " Evaluated on " + E(*gains->evaluated_on) + ".";
      }
      Figure(XyChart(options, {series}), caption);
      out_ +=
          "<table>\n<thead><tr><th class=\"num\">Fraction of rows</th>"
          "<th class=\"num\">Positives captured</th>";
      if (any_lift) out_ += "<th class=\"num\">Lift</th>";
      out_ += "</tr></thead>\n<tbody>\n";
      for (const GainsRow& row : gains->points) {
        out_ += "<tr><td class=\"num\">" + FormatFixed(row.fraction * 100, 1) +
                "%</td><td class=\"num\">" + FormatFixed(row.gain * 100, 1) + "%</td>";
        if (any_lift) {
          out_ += "<td class=\"num\">" +
                  (row.lift.has_value() ? FormatFixed(*row.lift, 2) : std::string(kDash)) + "</td>";
        }
        out_ += "</tr>\n";
      }
      out_ += "</tbody>\n</table>\n";
    } else {
      NotAvailable("The gains and lift chart", doc_.lift_chart.reason);
    }
  }

  // A cell background between white and the palette blue, by the share of the largest count
  // (a sequential single-hue scale, readable in greyscale print).
  static std::string HeatColor(double share) {
    share = std::clamp(share, 0.0, 1.0);
    const int base[3] = {0x00, 0x72, 0xB2};
    char buffer[16];
    int rgb[3];
    for (int channel = 0; channel < 3; ++channel) {
      rgb[channel] = static_cast<int>(std::lround(255 - (255 - base[channel]) * share * 0.85));
    }
    std::snprintf(buffer, sizeof(buffer), "#%02X%02X%02X", rgb[0], rgb[1], rgb[2]);
    return buffer;
  }

  void RenderConfusion() {
    const auto& cm = doc_.confusion_matrix.value;
    if (!cm.has_value()) {
      NotAvailable("The confusion matrix", doc_.confusion_matrix.reason);
      return;
    }
    if (cm->threshold.has_value()) {
      out_ += "<p>At threshold <strong>" + FormatFixed(*cm->threshold, 4) +
              "</strong> (a row is predicted <code>" + E(cm->labels[1]) +
              "</code> when its score is at least the threshold), chosen by: " +
              E(cm->threshold_method.value_or("")) + ".</p>\n";
    }
    EvaluatedOn(cm->evaluated_on);
    double largest = 0;
    for (const auto& row : cm->counts) {
      for (double count : row) largest = std::max(largest, count);
    }
    out_ += "<table class=\"confusion\">\n<thead><tr><th>Actual \\ predicted</th>";
    for (const std::string& label : cm->labels) out_ += "<th><code>" + E(label) + "</code></th>";
    out_ += "<th class=\"num\">Total</th></tr></thead>\n<tbody>\n";
    for (size_t row = 0; row < cm->counts.size(); ++row) {
      double total = 0;
      for (double count : cm->counts[row]) total += count;
      out_ += "<tr><th scope=\"row\"><code>" + E(cm->labels[row]) + "</code></th>";
      for (size_t col = 0; col < cm->counts[row].size(); ++col) {
        const double count = cm->counts[row][col];
        const double share = largest > 0 ? count / largest : 0;
        const std::string ink = share > 0.6 ? "#ffffff" : "#1a1a1a";
        const std::string percent =
            total > 0 ? FormatFixed(100 * count / total, 1) + "%" : std::string(kDash);
        out_ += "<td style=\"background:" + HeatColor(share) + ";color:" + ink + "\">";
        // The diagonal (correct predictions) in bold.
        out_ += row == col ? "<strong>" + Count(count) + "</strong>" : Count(count);
        out_ += "<br><span>" + percent + "</span></td>";
      }
      out_ += "<td class=\"num\">" + Count(total) + "</td></tr>\n";
    }
    out_ +=
        "</tbody>\n</table>\n<p class=\"note\">Rows are the actual classes, columns the "
        "predicted ones; percentages are of the actual class (row). Darker cells hold more "
        "rows.</p>\n";
  }

  void RenderResiduals() {
    const auto& res = doc_.residuals.value;
    if (!res.has_value()) {
      NotAvailable("Predicted-versus-actual points", doc_.residuals.reason);
      return;
    }
    EvaluatedOn(res->evaluated_on);
    double lo = res->points.front().x, hi = lo;
    ChartSeries scatter{"", {}, SeriesStyle::kMarkers, false, 0};
    ChartSeries residual{"", {}, SeriesStyle::kMarkers, false, 1};
    for (const ChartPoint& point : res->points) {
      lo = std::min({lo, point.x, point.y});
      hi = std::max({hi, point.x, point.y});
      scatter.points.push_back(point);
      residual.points.push_back({point.y, point.x - point.y});
    }
    // Both axes of the predicted-vs-actual chart share one nice range, so the diagonal is 45
    // degrees.
    const AxisTicks shared = NiceTicks(lo, hi, 6);
    XyChartOptions options;
    options.title = "Predicted versus actual";
    options.x = {"Actual", shared.lo, shared.hi};
    options.y = {"Predicted", shared.lo, shared.hi};
    options.width = 360;
    options.height = 340;
    options.diagonal = true;
    out_ += "<div class=\"figures\">\n";
    Figure(XyChart(options, {scatter}), "Predicted against actual for " +
                                            Grouped(static_cast<int64_t>(res->points.size())) +
                                            " rows. Dashed: perfect prediction.");
    XyChartOptions residual_options;
    residual_options.title = "Residuals";
    residual_options.x = {"Predicted", std::nullopt, std::nullopt};
    residual_options.y = {"Residual (actual - predicted)", std::nullopt, std::nullopt};
    residual_options.width = 360;
    residual_options.height = 340;
    residual_options.horizontal_reference = 0.0;
    Figure(XyChart(residual_options, {residual}),
           "Residuals against the prediction. Dashed: zero error.");
    out_ += "</div>\n";
  }

  void RenderImportance() {
    const auto& imp = doc_.importance.value;
    if (!imp.has_value()) {
      NotAvailable("Global importance", doc_.importance.reason);
      return;
    }
    std::vector<ImportanceRow> rows = imp->features;
    // Highest mean |SHAP| first; the column name breaks ties so the order is deterministic.
    std::stable_sort(rows.begin(), rows.end(), [](const ImportanceRow& a, const ImportanceRow& b) {
      if (a.mean_abs_shap != b.mean_abs_shap) return a.mean_abs_shap > b.mean_abs_shap;
      return a.column < b.column;
    });
    const size_t shown = std::min(rows.size(), kTopImportance);
    std::vector<Bar> bars;
    for (size_t index = 0; index < shown; ++index) {
      bars.push_back({rows[index].column, rows[index].mean_abs_shap});
    }
    BarChartOptions options;
    options.title = "Mean absolute SHAP value per input column";
    options.value_label = "Mean |SHAP value| (contribution to the model's margin)";
    options.width = 640;
    std::string caption = "Mean absolute Shapley value per input column";
    if (shown < rows.size()) {
      caption += ", top " + std::to_string(shown) + " of " + std::to_string(rows.size());
    }
    caption += ".";
    if (imp->note.has_value()) caption += " " + E(*imp->note);
    Figure(HorizontalBarChart(options, bars), caption);
    out_ +=
        "<table>\n<thead><tr><th class=\"num\">#</th><th>Column</th>"
        "<th class=\"num\">Mean |SHAP|</th><th class=\"num\">Gain</th></tr></thead>\n"
        "<tbody>\n";
    for (size_t index = 0; index < shown; ++index) {
      const ImportanceRow& row = rows[index];
      out_ += "<tr><td class=\"num\">" + std::to_string(index + 1) + "</td><td><code>" +
              E(row.column) + "</code></td><td class=\"num\">" + Significant(row.mean_abs_shap) +
              "</td><td class=\"num\">" +
              (row.gain.has_value() ? Significant(*row.gain) : std::string(kDash)) + "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
    if (shown < rows.size()) {
      out_ += "<p class=\"note\">" + std::to_string(rows.size() - shown) +
              " further columns with smaller importance are not shown.</p>\n";
    }
  }

  void RenderDependence() {
    const auto& pd = doc_.partial_dependence.value;
    if (!pd.has_value()) {
      NotAvailable("Partial dependence", doc_.partial_dependence.reason);
      return;
    }
    out_ += "<p>Each chart shows the " + E(pd->prediction_label) +
            " when the column is set to each value for every row, the other columns unchanged "
            "(Friedman, \"Greedy function approximation\", 2001).</p>\n";
    out_ += "<div class=\"figures\">\n";
    for (const DependenceFeature& feature : pd->features) {
      std::string svg;
      if (feature.numeric) {
        XyChartOptions options;
        options.title = "Partial dependence on " + feature.column;
        options.x = {feature.column, std::nullopt, std::nullopt};
        options.y = {pd->prediction_label, std::nullopt, std::nullopt};
        options.width = 360;
        options.height = 260;
        ChartSeries series{"", {}, SeriesStyle::kLineAndMarkers, false, 0};
        for (const DependencePoint& point : feature.points) {
          series.points.push_back({point.value, point.mean_prediction});
        }
        svg = XyChart(options, {series});
      } else {
        BarChartOptions options;
        options.title = "Partial dependence on " + feature.column;
        options.value_label = pd->prediction_label;
        options.width = 360;
        options.bar_height = 14;
        options.color = 2;
        std::vector<Bar> bars;
        for (const DependencePoint& point : feature.points) {
          bars.push_back({point.label, point.mean_prediction});
        }
        svg = HorizontalBarChart(options, bars);
      }
      Figure(svg, "<code>" + E(feature.column) + "</code> (" +
                      (feature.numeric ? "numeric" : "categorical") + ", " +
                      std::to_string(feature.points.size()) + " values)");
    }
    out_ += "</div>\n";
  }

  void RenderSubpopulations() {
    const auto& sub = doc_.subpopulations.value;
    if (!sub.has_value()) {
      NotAvailable("The subpopulation analysis", doc_.subpopulations.reason);
      return;
    }
    out_ += "<p>Metrics per value of <code>" + E(sub->column) + "</code>.</p>\n";
    EvaluatedOn(sub->evaluated_on);
    const bool binary = doc_.title.task == Task::kBinary;
    out_ += "<table>\n<thead><tr><th>" + E(sub->column) + "</th><th class=\"num\">Rows</th>";
    if (binary) out_ += "<th class=\"num\">Positives</th>";
    for (const std::string& metric : sub->metrics) {
      out_ += "<th class=\"num\">" + E(metric) + "</th>";
    }
    out_ += "</tr></thead>\n<tbody>\n";
    for (const Group& group : sub->groups) {
      out_ += "<tr><td><code>" + E(group.value) + "</code></td><td class=\"num\">" +
              Grouped(group.rows) + "</td>";
      if (binary) out_ += "<td class=\"num\">" + Grouped(group.positives.value_or(0)) + "</td>";
      for (const std::optional<double>& value : group.values) {
        out_ += "<td class=\"num\">" + Metric(value) + "</td>";
      }
      out_ += "</tr>\n";
    }
    out_ +=
        "</tbody>\n</table>\n<p class=\"note\">&mdash; marks a metric that is undefined for "
        "the group (for example AUC when the group holds one class only).</p>\n";
  }

  void RenderEnvironment() {
    const Environment& env = doc_.environment;
    out_ += "<table class=\"kv\">\n<tbody>\n";
    KeyValue("Assay version", E(env.assay_version));
    KeyValue("Assay commit", "<span class=\"hash\">" + E(env.assay_commit) + "</span>");
    KeyValue("XGBoost version", E(env.xgboost_version));
    KeyValue("Compiler", E(env.compiler));
    KeyValue("Operating system", E(env.os));
    for (const auto& [key, value] : env.other) KeyValue(E(key), E(value));
    out_ += "</tbody>\n</table>\n";
  }

  const Document& doc_;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> RenderModelDocument(const nlohmann::json& document) {
  absl::StatusOr<Document> parsed = ParseDocument(document);
  if (!parsed.ok()) return parsed.status();
  return HtmlWriter(*parsed).Render();
}

}  // namespace assay::ml
