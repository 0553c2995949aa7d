#include "ml/calibration.h"

#include <cmath>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;
using V = std::vector<double>;

const V kMargins = {-2.0, -1.5, -1.0, -0.3, 0.0, 0.2, 0.5, 1.0, 1.4, 2.5};
const V kMarginLabels = {0, 0, 1, 0, 0, 1, 0, 1, 1, 1};

TEST(PlattCalibrator, MatchesSklearnSigmoidCalibration) {
  PlattCalibrator platt = *PlattCalibrator::Fit(kMargins, kMarginLabels);
  // sklearn.calibration._sigmoid_calibration (what CalibratedClassifierCV(method="sigmoid")
  // runs, scikit-learn 1.2.1) returns A, B with P = 1 / (1 + exp(A f + B)); a = -A, b = -B:
  // a = 0.7301189752001079, b = -0.05180365342963931. Its BFGS stops at gtol 1e-5; solving the
  // same objective's gradient = 0 with scipy.optimize.root (tol 1e-15, residual 2e-16) gives
  // a = 0.7301187646692575, b = -0.05180330430377992, which our Newton iteration matches.
  EXPECT_NEAR(platt.a(), 0.7301189752001079, 1e-6);
  EXPECT_NEAR(platt.b(), -0.05180365342963931, 1e-6);
  EXPECT_NEAR(platt.a(), 0.7301187646692575, 1e-9);
  EXPECT_NEAR(platt.b(), -0.05180330430377992, 1e-9);
  EXPECT_NEAR(platt.Apply(1.0), 1 / (1 + std::exp(-(platt.a() + platt.b()))), 1e-15);
}

TEST(PlattCalibrator, SeparableDataStaysFinite) {
  // The smoothed targets keep the optimum finite even when the classes are separated.
  PlattCalibrator platt = *PlattCalibrator::Fit(V{-3, -2, -1, 1, 2, 3}, V{0, 0, 0, 1, 1, 1});
  EXPECT_TRUE(std::isfinite(platt.a()));
  EXPECT_GT(platt.a(), 0);
  EXPECT_LT(platt.Apply(-3), 0.5);
  EXPECT_GT(platt.Apply(3), 0.5);
  EXPECT_LT(platt.Apply(3), 1.0);
}

TEST(PlattCalibrator, WeightsActLikeRepeatedRows) {
  PlattCalibrator weighted = *PlattCalibrator::Fit(V{-1, 0, 1, 2}, V{0, 1, 0, 1}, V{1, 2, 1, 1});
  // Weights scale the log loss; only the smoothing counts rows, so compare against the
  // objective's own optimum: the gradient must vanish at the fitted (a, b).
  const V scores = {-1, 0, 1, 2};
  const V labels = {0, 1, 0, 1};
  const V weights = {1, 2, 1, 1};
  const double high = 3.0 / 4, low = 1.0 / 4;  // N+ = N- = 2
  double grad_a = 0, grad_b = 0;
  for (int row = 0; row < 4; ++row) {
    const double residual =
        weights[row] * (weighted.Apply(scores[row]) - (labels[row] == 1 ? high : low));
    grad_a += scores[row] * residual;
    grad_b += residual;
  }
  EXPECT_NEAR(grad_a, 0, 1e-9);
  EXPECT_NEAR(grad_b, 0, 1e-9);
}

TEST(PlattCalibrator, ErrorsAndJsonRoundTrip) {
  EXPECT_EQ(PlattCalibrator::Fit(V{1, 2}, V{1, 1}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(PlattCalibrator::Fit(V{1, 2}, V{0, 2}).status().message(), HasSubstr("need 0 or 1"));
  EXPECT_THAT(PlattCalibrator::Fit(V{1}, V{0, 1}).status().message(), HasSubstr("sizes differ"));
  PlattCalibrator platt = *PlattCalibrator::Fit(kMargins, kMarginLabels);
  PlattCalibrator loaded = *PlattCalibrator::FromJson(nlohmann::json::parse(platt.ToJson().dump()));
  EXPECT_EQ(loaded.a(), platt.a());  // bit-exact through the text
  EXPECT_EQ(loaded.b(), platt.b());
  EXPECT_EQ(PlattCalibrator::FromJson({{"method", "isotonic"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

const V kScores = {0.1, 0.3, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9};
const V kLabels = {0, 1, 0, 0, 1, 0, 1, 1};
const V kQueries = {0.0, 0.1, 0.2, 0.3, 0.4, 0.55, 0.65, 0.75, 0.85, 1.0};

TEST(IsotonicCalibrator, MatchesSklearnIsotonicRegression) {
  IsotonicCalibrator isotonic = *IsotonicCalibrator::Fit(kScores, kLabels);
  // sklearn IsotonicRegression(out_of_bounds="clip").fit(kScores, kLabels) (1.2.1):
  // X_thresholds_ [.1, .3, .5, .6, .7, .8, .9], y_thresholds_ [0, 1/3, 1/3, .5, .5, 1, 1],
  // and predict(kQueries):
  const V expected = {0.0,
                      0.0,
                      0.16666666666666669,
                      0.3333333333333333,
                      0.3333333333333333,
                      0.41666666666666674,
                      0.5,
                      0.75,
                      1.0,
                      1.0};
  EXPECT_EQ(isotonic.scores(), (V{0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9}));
  for (size_t query = 0; query < kQueries.size(); ++query) {
    EXPECT_NEAR(isotonic.Apply(kQueries[query]), expected[query], 1e-15) << kQueries[query];
  }
}

TEST(IsotonicCalibrator, WeightedMatchesSklearn) {
  IsotonicCalibrator isotonic =
      *IsotonicCalibrator::Fit(kScores, kLabels, V{1, 2, 1, 1, 3, 1, 1, 1});
  // sklearn, same call with sample_weight=[1, 2, 1, 1, 3, 1, 1, 1].
  const V expected = {0.0, 0.0, 0.25, 0.5, 0.5, 0.6250000000000001, 0.75, 0.875, 1.0, 1.0};
  for (size_t query = 0; query < kQueries.size(); ++query) {
    EXPECT_NEAR(isotonic.Apply(kQueries[query]), expected[query], 1e-15) << kQueries[query];
  }
}

// Naive reference: the isotonic fit minimizes weighted squared error among non-decreasing
// sequences; check PAV against that property on random data: the fit is monotone, and no
// single block shift improves the error (block means are the weighted means of their rows).
TEST(IsotonicCalibrator, RandomFitsAreMonotoneAndPreserveMean) {
  std::mt19937_64 random(7);
  for (int trial = 0; trial < 30; ++trial) {
    const int rows = 1 + static_cast<int>(random() % 60);
    V scores(rows), labels(rows);
    for (int row = 0; row < rows; ++row) {
      scores[row] = static_cast<double>(random() % 15);
      labels[row] = static_cast<double>(random() % 2);
    }
    IsotonicCalibrator isotonic = *IsotonicCalibrator::Fit(scores, labels);
    double fitted_sum = 0, label_sum = 0;
    for (int row = 0; row < rows; ++row) {
      fitted_sum += isotonic.Apply(scores[row]);
      label_sum += labels[row];
    }
    // PAV preserves the total (each block value is the mean of its rows).
    EXPECT_NEAR(fitted_sum, label_sum, 1e-9);
    for (double query = -1; query < 16; query += 0.25) {
      EXPECT_LE(isotonic.Apply(query), isotonic.Apply(query + 0.25) + 1e-15);
    }
  }
}

TEST(IsotonicCalibrator, JsonRoundTripAndErrors) {
  IsotonicCalibrator isotonic = *IsotonicCalibrator::Fit(kScores, kLabels);
  IsotonicCalibrator loaded =
      *IsotonicCalibrator::FromJson(nlohmann::json::parse(isotonic.ToJson().dump()));
  EXPECT_EQ(loaded.scores(), isotonic.scores());
  EXPECT_EQ(loaded.values(), isotonic.values());
  nlohmann::json bad = {{"method", "isotonic"}, {"scores", {0.5, 0.1}}, {"values", {0, 1}}};
  EXPECT_EQ(IsotonicCalibrator::FromJson(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(IsotonicCalibrator::Fit(V{}, V{}).status().message(), HasSubstr("at least one"));
  EXPECT_THAT(IsotonicCalibrator::Fit(V{1, 2}, V{0, 1}, V{0, 0}).status().message(),
              HasSubstr("sum to 0"));
}

}  // namespace
}  // namespace assay::ml
