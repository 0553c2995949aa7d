// The kinds of prediction task an ML task can be, and how predictions are shaped for each.
// Header-only constants; thread-safe.
#ifndef ASSAY_ML_TASK_TYPE_H_
#define ASSAY_ML_TASK_TYPE_H_

#include <optional>
#include <string>
#include <string_view>

namespace assay::ml {

// Binary: labels 0/1 (1 = the positive class), one output (the positive-class probability).
// Multiclass: labels 0..K-1, K outputs (class probabilities). Regression: one real output.
enum class TaskType { kBinary, kMulticlass, kRegression };

inline std::string_view TaskTypeName(TaskType type) {
  switch (type) {
    case TaskType::kBinary:
      return "binary";
    case TaskType::kMulticlass:
      return "multiclass";
    case TaskType::kRegression:
      return "regression";
  }
  return "binary";
}

inline std::optional<TaskType> ParseTaskType(std::string_view name) {
  if (name == "binary") return TaskType::kBinary;
  if (name == "multiclass") return TaskType::kMulticlass;
  if (name == "regression") return TaskType::kRegression;
  return std::nullopt;
}

}  // namespace assay::ml

#endif  // ASSAY_ML_TASK_TYPE_H_
