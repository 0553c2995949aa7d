#include "ml/model.h"

#include <algorithm>
#include <cmath>

namespace assay::ml {

absl::StatusOr<std::vector<double>> Model::Predict(const FeatureMatrix& x) const {
  absl::StatusOr<std::vector<double>> margins = PredictMargin(x);
  if (!margins.ok()) return margins.status();
  return ApplyLink(task_type(), num_outputs(), *margins);
}

std::vector<double> ApplyLink(TaskType task, int num_outputs, const std::vector<double>& margins) {
  std::vector<double> out(margins.size());
  switch (task) {
    case TaskType::kRegression:
      out = margins;
      break;
    case TaskType::kBinary:
      for (size_t row = 0; row < margins.size(); ++row) {
        out[row] = 1.0 / (1.0 + std::exp(-margins[row]));
      }
      break;
    case TaskType::kMulticlass: {
      const size_t width = static_cast<size_t>(num_outputs);
      for (size_t start = 0; start + width <= margins.size(); start += width) {
        const double top =
            *std::max_element(margins.begin() + start, margins.begin() + start + width);
        double total = 0;
        for (size_t k = 0; k < width; ++k) {
          out[start + k] = std::exp(margins[start + k] - top);
          total += out[start + k];
        }
        for (size_t k = 0; k < width; ++k) out[start + k] /= total;
      }
      break;
    }
  }
  return out;
}

}  // namespace assay::ml
