// FeatureMatrix: the dense numeric matrix every trainer, explainer and scorer works on. Rows
// are examples, columns are engineered features (the output of the feature pipeline); values
// are float32, row-major, with NaN meaning "missing" (XGBoost's convention, so the matrix is
// handed to XGBoost without a copy). Labels and weights travel beside it as float vectors.
//
// Plain data, no invariants beyond values.size() == rows * cols; safe to read from many
// threads, not to mutate concurrently.
#ifndef ASSAY_ML_FEATURE_MATRIX_H_
#define ASSAY_ML_FEATURE_MATRIX_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace assay::ml {

inline constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

struct FeatureMatrix {
  int64_t rows = 0;
  int cols = 0;
  std::vector<float> values;       // rows * cols, row-major; NaN = missing
  std::vector<std::string> names;  // cols names (engineered feature names)

  float at(int64_t row, int col) const { return values[static_cast<size_t>(row) * cols + col]; }
  float& at(int64_t row, int col) { return values[static_cast<size_t>(row) * cols + col]; }

  // A matrix of the given shape filled with `fill`.
  static FeatureMatrix Filled(int64_t rows, int cols, float fill = kMissing);

  // The rows listed in `row_ids` (in that order), same columns.
  FeatureMatrix SelectRows(const std::vector<int64_t>& row_ids) const;
};

// Selects entries of a per-row vector (labels, weights, predictions) by row id.
template <typename T>
std::vector<T> SelectRows(const std::vector<T>& values, const std::vector<int64_t>& row_ids) {
  std::vector<T> out;
  out.reserve(row_ids.size());
  for (int64_t row : row_ids) out.push_back(values[static_cast<size_t>(row)]);
  return out;
}

}  // namespace assay::ml

#endif  // ASSAY_ML_FEATURE_MATRIX_H_
