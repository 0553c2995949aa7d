// Synthetic tabular data for the forest, TreeSHAP and XGBoost-model tests: Gaussian features
// with a share of missing values (NaN) and labels driven by a nonlinear signal, so trained
// trees are deep, use several features and route missing values both ways. Deterministic
// for a seed (std::mt19937_64 with libstdc++'s distributions).
//
// Header-only, stateless: thread-safe.
#ifndef ASSAY_TESTS_FOREST_SYNTHETIC_DATA_H_
#define ASSAY_TESTS_FOREST_SYNTHETIC_DATA_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ml/feature_matrix.h"
#include "ml/model.h"
#include "ml/task_type.h"

namespace assay::testing {

struct SyntheticData {
  ml::FeatureMatrix x;
  std::vector<float> labels;

  ml::TrainData view() const { return ml::TrainData{&x, &labels, nullptr}; }
};

// `rows` x `cols` (cols >= 4), each value missing with probability `missing`. Labels: binary
// 0/1, multiclass 0..classes-1 (signal terciles for 3), regression a real value of scale ~3.
inline SyntheticData MakeSyntheticData(ml::TaskType task, int64_t rows, int cols, double missing,
                                       uint64_t seed, int classes = 3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  SyntheticData data;
  data.x = ml::FeatureMatrix::Filled(rows, cols, 0.0f);
  data.labels.resize(static_cast<size_t>(rows));
  for (int64_t row = 0; row < rows; ++row) {
    for (int col = 0; col < cols; ++col) {
      data.x.at(row, col) = uniform(rng) < missing ? ml::kMissing : normal(rng);
    }
    const auto value = [&](int col) {
      const float v = data.x.at(row, col);
      return std::isnan(v) ? 0.5 : static_cast<double>(v);
    };
    const double signal =
        value(0) + 0.8 * value(1) * value(2) + std::sin(2 * value(3)) + 0.5 * normal(rng);
    switch (task) {
      case ml::TaskType::kBinary:
        data.labels[static_cast<size_t>(row)] = signal > 0.3 ? 1.0f : 0.0f;
        break;
      case ml::TaskType::kMulticlass: {
        // Buckets of width 1 around the signal's bulk, clamped to the class range.
        int label = static_cast<int>(std::floor(signal + classes / 2.0));
        label = label < 0 ? 0 : (label >= classes ? classes - 1 : label);
        data.labels[static_cast<size_t>(row)] = static_cast<float>(label);
        break;
      }
      case ml::TaskType::kRegression:
        data.labels[static_cast<size_t>(row)] = static_cast<float>(2 * signal + 1);
        break;
    }
  }
  return data;
}

}  // namespace assay::testing

#endif  // ASSAY_TESTS_FOREST_SYNTHETIC_DATA_H_
