#include "ml/label_mapping.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

using table::Column;
using table::DataType;

// Integral doubles up to 2^53 are printed as integers so int64 and float64 targets agree.
constexpr double kMaxExactInteger = 9007199254740992.0;

bool IsMissing(const Column& column, int64_t row) {
  if (column.IsNull(row)) return true;
  return column.type() == DataType::kFloat64 && std::isnan(column.float64_values()[row]);
}

double NumericValue(const Column& column, int64_t row) {
  return column.type() == DataType::kInt64 ? static_cast<double>(column.int64_values()[row])
                                           : column.float64_values()[row];
}

// The canonical class text of a non-missing value (see the header).
std::string ClassText(const Column& column, int64_t row) {
  if (column.type() == DataType::kFloat64) {
    const double value = column.float64_values()[row];
    if (value == std::floor(value) && std::fabs(value) < kMaxExactInteger) {
      return absl::StrCat(static_cast<int64_t>(value));
    }
  }
  return column.ValueToString(row);
}

absl::StatusOr<const Column*> TargetColumn(const table::Table& table, const std::string& target) {
  auto column = table.GetColumn(target);
  if (!column.ok()) {
    return absl::NotFoundError(
        absl::StrCat("target column \"", target,
                     "\" is not in the table (columns: ", table.schema().NameList(), ")"));
  }
  return *column;
}

absl::Status InfiniteTarget(const std::string& target, int64_t row) {
  return absl::InvalidArgumentError(absl::StrCat("target column \"", target,
                                                 "\" has an infinite value at row ", row + 1,
                                                 "; filter or fix it before training"));
}

bool LooksPositive(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  return lower == "1" || lower == "true" || lower == "yes" || lower == "y" || lower == "t";
}

}  // namespace

const std::string& LabelMapping::positive_class() const {
  static const std::string* const kEmpty = new std::string();
  return task_ == TaskType::kBinary && classes_.size() == 2 ? classes_[1] : *kEmpty;
}

absl::StatusOr<LabelMapping> LabelMapping::Infer(const table::Table& table, const LabelSpec& spec) {
  ASSAY_ASSIGN_OR_RETURN(const Column* column, TargetColumn(table, spec.target));
  if (spec.type != "auto" && !ParseTaskType(spec.type).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task type \"", spec.type, "\" is unknown; use auto, binary, multiclass or regression"));
  }
  const bool numeric = table::IsNumeric(column->type());
  const std::string type_name(table::DataTypeName(column->type()));

  LabelMapping mapping;
  mapping.target_ = spec.target;
  if (spec.type == "regression") {
    if (!numeric) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target column \"", spec.target, "\" is ", type_name,
          "; regression needs an int64 or float64 target (convert it, or use type binary or "
          "multiclass)"));
    }
    if (!spec.positive_class.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("positive_class \"", spec.positive_class,
                       "\" applies only to binary tasks; this task is regression"));
    }
    mapping.task_ = TaskType::kRegression;
    mapping.explanation_ =
        absl::StrCat("regression (given) on ", type_name, " target \"", spec.target, "\"");
    ASSAY_ASSIGN_OR_RETURN(LabelledRows rows, mapping.Map(table));
    if (rows.rows.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("target column \"", spec.target, "\" is null in every row"));
    }
    return mapping;
  }

  // Distinct values with counts; counting stops once the target clearly has too many values
  // to be classes, so a continuous target costs no big map.
  struct ClassCount {
    int64_t count = 0;
    double value = 0;  // numeric targets: for sorting
  };
  absl::flat_hash_map<std::string, ClassCount> counts;
  const size_t max_distinct =
      static_cast<size_t>(std::max(kMaxClasses, kAutoRegressionMinDistinct));
  bool non_integral = false;
  bool too_many = false;
  int64_t labelled = 0;
  for (int64_t row = 0; row < column->size(); ++row) {
    if (IsMissing(*column, row)) continue;
    ++labelled;
    if (numeric) {
      const double value = NumericValue(*column, row);
      if (std::isinf(value)) return InfiniteTarget(spec.target, row);
      if (value != std::floor(value)) non_integral = true;
    }
    if (too_many) continue;
    auto [entry, inserted] = counts.try_emplace(ClassText(*column, row));
    if (inserted && numeric) entry->second.value = NumericValue(*column, row);
    ++entry->second.count;
    if (counts.size() > max_distinct) too_many = true;
  }
  if (labelled == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("target column \"", spec.target, "\" is null in every row"));
  }

  std::string type = spec.type;
  if (type == "auto") {
    if (numeric && (non_integral || counts.size() > kAutoRegressionMinDistinct)) {
      type = "regression";
      mapping.explanation_ =
          non_integral
              ? absl::StrCat("regression (auto: ", type_name, " target \"", spec.target,
                             "\" has non-integral values)")
              : absl::StrCat("regression (auto: ", type_name, " target \"", spec.target,
                             "\" has more than ", kAutoRegressionMinDistinct, " distinct values)");
    } else if (counts.size() == 2) {
      type = "binary";
      mapping.explanation_ =
          absl::StrCat("binary (auto: target \"", spec.target, "\" has 2 distinct values)");
    } else {
      type = "multiclass";
      mapping.explanation_ = absl::StrCat("multiclass (auto: target \"", spec.target, "\" has ",
                                          counts.size(), " distinct values)");
    }
  } else {
    mapping.explanation_ = absl::StrCat(type, " (given)");
  }
  if (type == "regression") {
    if (!spec.positive_class.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "positive_class \"", spec.positive_class, "\" applies only to binary tasks; target \"",
          spec.target, "\" looks continuous (set type: binary if it is not)"));
    }
    mapping.task_ = TaskType::kRegression;
    return mapping;
  }

  if (too_many || counts.size() > static_cast<size_t>(kMaxClasses)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target column \"", spec.target, "\" has more than ", kMaxClasses,
                     " distinct values, too many classes for ", type,
                     " (is it an identifier? for a numeric target use type: regression)"));
  }
  if (counts.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "target column \"", spec.target, "\" has only one class (\"", counts.begin()->first,
        "\") in its ", labelled, " labelled rows; a classifier needs at least two"));
  }
  std::vector<std::pair<std::string, ClassCount>> classes(counts.begin(), counts.end());
  std::sort(classes.begin(), classes.end(), [numeric](const auto& a, const auto& b) {
    if (numeric) return a.second.value < b.second.value;
    return a.first < b.first;
  });

  if (type == "binary") {
    if (classes.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("target column \"", spec.target, "\" has ", classes.size(),
                       " distinct values; binary needs exactly 2 (use type: multiclass)"));
    }
    int positive = -1;
    if (!spec.positive_class.empty()) {
      for (int index = 0; index < 2; ++index) {
        if (classes[index].first == spec.positive_class) positive = index;
      }
      if (positive < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "positive_class \"", spec.positive_class, "\" is not a value of target \"", spec.target,
            "\" (values: ", classes[0].first, ", ", classes[1].first, ")"));
      }
      absl::StrAppend(&mapping.explanation_, "; positive class \"", classes[positive].first,
                      "\" (given)");
    } else if (LooksPositive(classes[0].first) != LooksPositive(classes[1].first)) {
      positive = LooksPositive(classes[0].first) ? 0 : 1;
      absl::StrAppend(&mapping.explanation_, "; positive class \"", classes[positive].first,
                      "\" (inferred: reads as yes/true/1)");
    } else {
      // The minority class is usually the event of interest (churn, adverse event).
      positive = classes[0].second.count < classes[1].second.count ? 0 : 1;
      absl::StrAppend(&mapping.explanation_, "; positive class \"", classes[positive].first,
                      "\" (inferred: minority class, ", classes[positive].second.count, " of ",
                      labelled, " rows)");
    }
    mapping.task_ = TaskType::kBinary;
    mapping.classes_ = {classes[1 - positive].first, classes[positive].first};
    return mapping;
  }

  if (!spec.positive_class.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "positive_class \"", spec.positive_class, "\" applies only to binary tasks; target \"",
        spec.target, "\" has ", classes.size(), " classes"));
  }
  mapping.task_ = TaskType::kMulticlass;
  for (auto& entry : classes) mapping.classes_.push_back(std::move(entry.first));
  return mapping;
}

absl::StatusOr<LabelledRows> LabelMapping::Map(const table::Table& table) const {
  ASSAY_ASSIGN_OR_RETURN(const Column* column, TargetColumn(table, target_));
  LabelledRows out;
  out.rows.reserve(static_cast<size_t>(column->size()));
  out.labels.reserve(static_cast<size_t>(column->size()));
  if (task_ == TaskType::kRegression) {
    if (!table::IsNumeric(column->type())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target column \"", target_, "\" is ", Absl(table::DataTypeName(column->type())),
          "; this regression task needs an int64 or float64 target"));
    }
    for (int64_t row = 0; row < column->size(); ++row) {
      if (IsMissing(*column, row)) {
        ++out.null_target_rows;
        continue;
      }
      const double value = NumericValue(*column, row);
      if (std::isinf(value)) return InfiniteTarget(target_, row);
      out.rows.push_back(row);
      out.labels.push_back(static_cast<float>(value));
    }
    return out;
  }
  absl::flat_hash_map<std::string, int> index;
  for (size_t label = 0; label < classes_.size(); ++label) {
    index.emplace(classes_[label], static_cast<int>(label));
  }
  for (int64_t row = 0; row < column->size(); ++row) {
    if (IsMissing(*column, row)) {
      ++out.null_target_rows;
      continue;
    }
    const std::string text = ClassText(*column, row);
    auto found = index.find(text);
    if (found == index.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target column \"", target_, "\" has value \"", text, "\" at row ", row + 1,
          ", which is not one of the trained classes (", absl::StrJoin(classes_, ", "), ")"));
    }
    out.rows.push_back(row);
    out.labels.push_back(static_cast<float>(found->second));
  }
  return out;
}

nlohmann::json LabelMapping::ToJson() const {
  return {{"target", target_},
          {"task", std::string(TaskTypeName(task_))},
          {"classes", classes_},
          {"explanation", explanation_}};
}

absl::StatusOr<LabelMapping> LabelMapping::FromJson(const nlohmann::json& json) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("label mapping: ", Absl(what)));
  };
  if (!json.is_object()) return bad("must be an object");
  LabelMapping mapping;
  if (!json.contains("target") || !json["target"].is_string()) {
    return bad("\"target\" must be a string");
  }
  mapping.target_ = json["target"].get<std::string>();
  if (!json.contains("task") || !json["task"].is_string()) return bad("\"task\" must be a string");
  const std::optional<TaskType> task = ParseTaskType(json["task"].get<std::string>());
  if (!task) return bad("\"task\" must be binary, multiclass or regression");
  mapping.task_ = *task;
  if (!json.contains("classes") || !json["classes"].is_array()) {
    return bad("\"classes\" must be a list");
  }
  for (const auto& item : json["classes"]) {
    if (!item.is_string()) return bad("\"classes\" must hold strings");
    mapping.classes_.push_back(item.get<std::string>());
  }
  if (json.contains("explanation") && json["explanation"].is_string()) {
    mapping.explanation_ = json["explanation"].get<std::string>();
  }
  const size_t expected_min = *task == TaskType::kRegression ? 0 : 2;
  if ((*task == TaskType::kRegression && !mapping.classes_.empty()) ||
      (*task == TaskType::kBinary && mapping.classes_.size() != 2) ||
      mapping.classes_.size() < expected_min) {
    return bad(absl::StrCat("\"classes\" has ", mapping.classes_.size(), " entries, wrong for ",
                            Absl(TaskTypeName(*task))));
  }
  return mapping;
}

}  // namespace assay::ml
