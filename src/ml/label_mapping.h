// LabelMapping: how the target column of a table becomes the float labels trainers take, and
// back (docs/ml/features.md "Labels"). Fitted once on the training table; stored with the
// model (ToJson/FromJson) so scoring can name the predicted classes and evaluation can map the
// ground truth of new data the same way.
//
//   binary      classes() == {negative, positive}; label 0 or 1
//   multiclass  classes() sorted (numerically for numeric targets, else bytewise); label = index
//   regression  label = the numeric value; classes() is empty
//
// A class is identified by its canonical text: strings as they are, booleans "true"/"false",
// integers and integral floats as integer text ("1", also for a float64 1.0), other floats in
// their shortest round-trip form, dates and timestamps in ISO 8601. So a target read as int64
// in one file and float64 in another maps the same.
//
// Immutable after construction; thread-safe.
#ifndef ASSAY_ML_LABEL_MAPPING_H_
#define ASSAY_ML_LABEL_MAPPING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/task_type.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::ml {

// Auto task type rule (see InferLabelMapping): a numeric (int64 or float64) target with more
// than this many distinct values, or a float64 target with a non-integral value, is
// regression.
inline constexpr int kAutoRegressionMinDistinct = 20;
// Classification targets with more classes than this are refused (almost always a mistake:
// an identifier or a continuous value picked as target).
inline constexpr int kMaxClasses = 200;

struct LabelSpec {
  std::string target;          // the target column
  std::string type = "auto";   // "auto", "binary", "multiclass", "regression"
  std::string positive_class;  // binary only; empty = inferred
};

// The labelled rows of a table: every row whose target is not null (nor NaN), in table order.
struct LabelledRows {
  std::vector<int64_t> rows;  // table row ids, ascending
  std::vector<float> labels;  // labels[i] belongs to rows[i]
  int64_t null_target_rows = 0;
};

class LabelMapping {
 public:
  // Infers the task type (for type "auto") and the classes from `table`'s target column.
  //   auto:  numeric with > kAutoRegressionMinDistinct distinct values, or float64 with a
  //          non-integral value -> regression; else exactly 2 distinct values -> binary;
  //          else multiclass.
  //   positive class (binary): the given one (matched by canonical text); else a class whose
  //          text is "1", "true", "yes", "y" or "t" (case-insensitive) when exactly one is;
  //          else the minority class (on a tie the class sorting last).
  // Errors: NOT_FOUND if the target column is missing (naming the columns); INVALID_ARGUMENT
  // for an unknown type, a positive class that is not one of the two values or given for a
  // non-binary task, a non-numeric regression target, binary with other than 2 classes, more
  // than kMaxClasses classes, or an infinite regression value (naming its row);
  // FAILED_PRECONDITION if no row has a target or there is only one class.
  static absl::StatusOr<LabelMapping> Infer(const table::Table& table, const LabelSpec& spec);

  // Maps `table`'s target column to labels (rows with a null target are skipped and counted).
  // Errors: NOT_FOUND if the target column is missing; INVALID_ARGUMENT for a value that is
  // not one of the classes (naming it and its row), a non-numeric column for regression, or an
  // infinite regression value.
  absl::StatusOr<LabelledRows> Map(const table::Table& table) const;

  const std::string& target() const { return target_; }
  TaskType task() const { return task_; }
  // Classification: the classes by label; regression: empty.
  const std::vector<std::string>& classes() const { return classes_; }
  int num_classes() const { return static_cast<int>(classes_.size()); }
  // Binary only: classes()[1]. Empty otherwise.
  const std::string& positive_class() const;
  // A sentence for the model document: how the task type and positive class were chosen.
  const std::string& explanation() const { return explanation_; }
  // The class name of a label (classification; label in [0, num_classes())).
  const std::string& ClassName(int label) const { return classes_[static_cast<size_t>(label)]; }

  // Deterministic JSON: {"target", "task", "classes", "explanation"}.
  nlohmann::json ToJson() const;
  // Errors: INVALID_ARGUMENT for a missing or malformed field (naming it).
  static absl::StatusOr<LabelMapping> FromJson(const nlohmann::json& json);

 private:
  std::string target_;
  TaskType task_ = TaskType::kBinary;
  std::vector<std::string> classes_;
  std::string explanation_;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_LABEL_MAPPING_H_
