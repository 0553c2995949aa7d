#include "ml/feature_matrix.h"

#include <algorithm>

namespace assay::ml {

FeatureMatrix FeatureMatrix::Filled(int64_t rows, int cols, float fill) {
  FeatureMatrix matrix;
  matrix.rows = rows;
  matrix.cols = cols;
  matrix.values.assign(static_cast<size_t>(rows) * cols, fill);
  matrix.names.resize(cols);
  return matrix;
}

FeatureMatrix FeatureMatrix::SelectRows(const std::vector<int64_t>& row_ids) const {
  FeatureMatrix out;
  out.rows = static_cast<int64_t>(row_ids.size());
  out.cols = cols;
  out.names = names;
  out.values.resize(static_cast<size_t>(out.rows) * cols);
  for (size_t index = 0; index < row_ids.size(); ++index) {
    const float* source = values.data() + static_cast<size_t>(row_ids[index]) * cols;
    std::copy(source, source + cols, out.values.data() + index * cols);
  }
  return out;
}

}  // namespace assay::ml
