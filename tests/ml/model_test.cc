#include "ml/model.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "ml/feature_matrix.h"

namespace assay::ml {
namespace {

TEST(ApplyLink, BinaryIsSigmoid) {
  std::vector<double> out = ApplyLink(TaskType::kBinary, 1, {0.0, 2.0, -2.0});
  EXPECT_DOUBLE_EQ(out[0], 0.5);
  EXPECT_NEAR(out[1], 1.0 / (1.0 + std::exp(-2.0)), 1e-15);
  EXPECT_NEAR(out[1] + out[2], 1.0, 1e-15);
}

TEST(ApplyLink, MulticlassIsSoftmaxPerRow) {
  std::vector<double> out = ApplyLink(TaskType::kMulticlass, 3, {0, 0, 0, 1000, 0, 0});
  EXPECT_NEAR(out[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(out[3], 1.0, 1e-12);  // no overflow for large margins
  EXPECT_NEAR(out[4], 0.0, 1e-12);
}

TEST(ApplyLink, RegressionIsIdentity) {
  EXPECT_EQ(ApplyLink(TaskType::kRegression, 1, {1.5, -3}), (std::vector<double>{1.5, -3}));
}

TEST(FeatureMatrix, SelectRowsKeepsOrder) {
  FeatureMatrix matrix = FeatureMatrix::Filled(3, 2, 0);
  for (int row = 0; row < 3; ++row) matrix.at(row, 1) = static_cast<float>(row);
  FeatureMatrix picked = matrix.SelectRows({2, 0});
  ASSERT_EQ(picked.rows, 2);
  EXPECT_EQ(picked.at(0, 1), 2);
  EXPECT_EQ(picked.at(1, 1), 0);
  EXPECT_TRUE(std::isnan(FeatureMatrix::Filled(1, 1).at(0, 0)));
}

}  // namespace
}  // namespace assay::ml
