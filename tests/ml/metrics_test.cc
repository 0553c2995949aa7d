#include "ml/metrics.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;
using V = std::vector<double>;  // std::span does not bind a braced list before C++26

// The shared small binary case: 5 positives, 5 negatives, ties at 0.35 (two positives) and
// 0.4 (two negatives).
const std::vector<double> kLabels = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
const std::vector<double> kScores = {0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.35, 0.6, 0.7};
const std::vector<double> kWeights = {1, 2, 1, 0.5, 1, 3, 1, 1, 2, 1.5};

// Expected values below marked "sklearn" were computed with scikit-learn 1.2.1
// (/usr/bin/python3, sklearn.metrics on kLabels/kScores/kWeights, log_loss with eps=1e-15).

TEST(RocAuc, MatchesSklearnWithTies) {
  EXPECT_NEAR(*RocAuc(kLabels, kScores), 0.72, 1e-15);  // sklearn; also 18/25 by hand
  EXPECT_NEAR(*RocAuc(kLabels, kScores, kWeights), 0.7538461538461538, 1e-14);  // sklearn
}

TEST(RocAuc, HandComputedAllTied) {
  EXPECT_DOUBLE_EQ(*RocAuc(V{0, 1, 0, 1}, V{0.5, 0.5, 0.5, 0.5}), 0.5);
  EXPECT_DOUBLE_EQ(*RocAuc(V{0, 1}, V{0.1, 0.9}), 1.0);
  EXPECT_DOUBLE_EQ(*RocAuc(V{1, 0}, V{0.1, 0.9}), 0.0);
}

// Naive reference: count ordered (positive, negative) pairs, ties one half, weight = product.
double PairCountAuc(const std::vector<double>& labels, const std::vector<double>& scores,
                    const std::vector<double>& weights) {
  double wins = 0;
  double pairs = 0;
  for (size_t pos = 0; pos < labels.size(); ++pos) {
    if (labels[pos] != 1) continue;
    for (size_t neg = 0; neg < labels.size(); ++neg) {
      if (labels[neg] != 0) continue;
      const double weight = weights[pos] * weights[neg];
      pairs += weight;
      if (scores[pos] > scores[neg]) wins += weight;
      if (scores[pos] == scores[neg]) wins += 0.5 * weight;
    }
  }
  return wins / pairs;
}

TEST(RocAuc, AgreesWithNaivePairCountOnRandomData) {
  std::mt19937_64 random(20261203);
  for (int trial = 0; trial < 50; ++trial) {
    const int rows = 2 + static_cast<int>(random() % 300);
    std::vector<double> labels(rows);
    std::vector<double> scores(rows);
    std::vector<double> weights(rows);
    std::vector<double> ones(rows, 1.0);
    for (int row = 0; row < rows; ++row) {
      labels[row] = static_cast<double>(random() % 2);
      scores[row] = static_cast<double>(random() % 20) / 20.0;  // many ties
      weights[row] = 0.5 + static_cast<double>(random() % 4);
    }
    labels[0] = 0;
    labels[1] = 1;
    EXPECT_NEAR(*RocAuc(labels, scores), PairCountAuc(labels, scores, ones), 1e-12);
    EXPECT_NEAR(*RocAuc(labels, scores, weights), PairCountAuc(labels, scores, weights), 1e-12);
  }
}

TEST(RocAuc, OneClassIsFailedPrecondition) {
  absl::StatusOr<double> auc = RocAuc(V{1, 1, 1}, V{0.2, 0.3, 0.4});
  EXPECT_EQ(auc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(auc.status().message(), HasSubstr("only positives"));
}

TEST(RocAuc, BadInputsAreInvalidArgument) {
  EXPECT_EQ(RocAuc(V{}, V{}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(RocAuc(V{0, 1}, V{0.5}).status().message(), HasSubstr("sizes differ"));
  EXPECT_THAT(RocAuc(V{0, 2}, V{0.5, 0.6}).status().message(), HasSubstr("must be 0 or 1"));
  EXPECT_THAT(RocAuc(V{0, 1}, V{0.5, NAN}).status().message(), HasSubstr("finite"));
  EXPECT_THAT(RocAuc(V{0, 1}, V{0.5, 0.6}, V{1, -1}).status().message(), HasSubstr(">= 0"));
  EXPECT_THAT(RocAuc(V{0, 1}, V{0.5, 0.6}, V{0, 0}).status().message(), HasSubstr("sum to 0"));
}

TEST(AveragePrecision, MatchesSklearn) {
  EXPECT_NEAR(*AveragePrecision(kLabels, kScores), 0.8, 1e-15);  // sklearn
  EXPECT_NEAR(*AveragePrecision(kLabels, kScores, kWeights), 0.8428571428571427, 1e-14);
  // Hand: positives ranked 1st and 3rd of 3 -> (1/2) * 1 + (1/2) * (2/3).
  EXPECT_NEAR(*AveragePrecision(V{1, 0, 1}, V{0.9, 0.8, 0.7}), 0.5 + 1.0 / 3, 1e-15);
  EXPECT_EQ(AveragePrecision(V{0, 0}, V{0.1, 0.2}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(BinaryLogLoss, MatchesSklearnAndClips) {
  EXPECT_NEAR(*BinaryLogLoss(kLabels, kScores), 0.5493102058565336, 1e-14);  // sklearn
  EXPECT_NEAR(*BinaryLogLoss(kLabels, kScores, kWeights), 0.5154206402799166, 1e-14);
  // A confident mistake costs -log(1e-15), not infinity.
  EXPECT_NEAR(*BinaryLogLoss(V{1}, V{0.0}), -std::log(1e-15), 1e-9);
  EXPECT_THAT(BinaryLogLoss(V{1}, V{1.5}).status().message(), HasSubstr("[0, 1]"));
}

TEST(BrierScore, MatchesSklearnAndHand) {
  EXPECT_NEAR(*BrierScore(kLabels, kScores), 0.19150000000000003, 1e-15);  // sklearn
  EXPECT_NEAR(*BrierScore(V{1, 0}, V{0.8, 0.4}), (0.04 + 0.16) / 2, 1e-15);
}

TEST(MetricsAtThreshold, MatchesSklearnAtHalf) {
  ThresholdMetrics at = *MetricsAtThreshold(kLabels, kScores, 0.5);
  // Hand: predicted positive = {0.6, 0.7, 0.8, 0.9}: tp 3, fp 1, fn 2, tn 4.
  EXPECT_EQ(at.confusion.true_positive, 3);
  EXPECT_EQ(at.confusion.false_positive, 1);
  EXPECT_EQ(at.confusion.false_negative, 2);
  EXPECT_EQ(at.confusion.true_negative, 4);
  // sklearn accuracy/precision/recall/f1/matthews_corrcoef on (scores >= 0.5).
  EXPECT_NEAR(at.accuracy, 0.7, 1e-15);
  EXPECT_NEAR(at.precision, 0.75, 1e-15);
  EXPECT_NEAR(at.recall, 0.6, 1e-15);
  EXPECT_NEAR(at.f1, 0.6666666666666665, 1e-15);
  EXPECT_NEAR(at.mcc, 0.408248290463863, 1e-15);
  EXPECT_NEAR(MetricsAtThreshold(kLabels, kScores, 0.5, kWeights)->mcc, 0.5012804118276031, 1e-14);
}

TEST(MetricsAtThreshold, ZeroDenominatorsGiveZero) {
  ThresholdMetrics at = *MetricsAtThreshold(V{0, 1}, V{0.1, 0.2}, 0.9);  // nothing predicted
  EXPECT_EQ(at.precision, 0);
  EXPECT_EQ(at.f1, 0);
  EXPECT_EQ(at.mcc, 0);
  EXPECT_EQ(at.accuracy, 0.5);
  EXPECT_EQ(at.ToJson()["confusion"]["fn"], 1);
}

TEST(LiftAt, HandComputedWithFractionalTies) {
  // Base rate 0.5. Top 10% = the 0.9 row (positive): 1 / 0.5.
  EXPECT_DOUBLE_EQ(*LiftAt(kLabels, kScores, 0.1), 2.0);
  // Top 50%: 0.9, 0.8, 0.7, 0.6 (3 positives) + half of the 0.4 pair (no positive): 3/5/0.5.
  EXPECT_NEAR(*LiftAt(kLabels, kScores, 0.5), 1.2, 1e-15);
  // All tied: any fraction gives the base rate.
  EXPECT_NEAR(*LiftAt(V{1, 0, 0, 0}, V{0.3, 0.3, 0.3, 0.3}, 0.1), 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(*LiftAt(kLabels, kScores, 1.0), 1.0);
  EXPECT_EQ(LiftAt(kLabels, kScores, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LiftAt, IndependentOfRowOrder) {
  std::vector<double> labels(kLabels.rbegin(), kLabels.rend());
  std::vector<double> scores(kScores.rbegin(), kScores.rend());
  for (double fraction : {0.15, 0.35, 0.55, 0.75}) {
    EXPECT_DOUBLE_EQ(*LiftAt(labels, scores, fraction), *LiftAt(kLabels, kScores, fraction));
  }
}

TEST(RocCurve, PointsPerDistinctScoreAndDownsampling) {
  std::vector<RocPoint> curve = *RocCurve(kLabels, kScores, 100);
  ASSERT_EQ(curve.size(), 9u);  // start + 8 distinct scores
  EXPECT_TRUE(std::isinf(curve[0].threshold));
  EXPECT_EQ(curve[0].true_positive_rate, 0);
  EXPECT_DOUBLE_EQ(curve[2].true_positive_rate, 0.4);  // 0.9 and 0.8 are positives
  EXPECT_EQ(curve[2].threshold, 0.8);
  EXPECT_EQ(curve.back().false_positive_rate, 1);
  EXPECT_EQ(curve.back().true_positive_rate, 1);
  // Trapezoids under the full curve give the AUC.
  double area = 0;
  for (size_t point = 1; point < curve.size(); ++point) {
    area += (curve[point].false_positive_rate - curve[point - 1].false_positive_rate) *
            (curve[point].true_positive_rate + curve[point - 1].true_positive_rate) / 2;
  }
  EXPECT_NEAR(area, 0.72, 1e-15);

  std::vector<RocPoint> small = *RocCurve(kLabels, kScores, 3);
  ASSERT_EQ(small.size(), 3u);
  EXPECT_EQ(small[0].true_positive_rate, 0);
  EXPECT_EQ(small[1].threshold, 0.6);  // index 4 of 0..8
  EXPECT_EQ(small[2].true_positive_rate, 1);
  EXPECT_EQ(RocCurve(kLabels, kScores, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrCurve, StartsAtPrecisionOneAndEndsAtFullRecall) {
  std::vector<PrPoint> curve = *PrCurve(kLabels, kScores, 100);
  ASSERT_EQ(curve.size(), 9u);
  EXPECT_EQ(curve[0].precision, 1);
  EXPECT_EQ(curve[0].recall, 0);
  EXPECT_DOUBLE_EQ(curve[3].precision, 2.0 / 3);  // 0.9, 0.8 positive; 0.7 negative
  EXPECT_EQ(curve.back().recall, 1);
  EXPECT_DOUBLE_EQ(curve.back().precision, 0.5);
}

TEST(MaxF1Threshold, HandComputed) {
  // At 0.35: tp 5, fp 3, fn 0 -> F1 = 10/13, the best over all eight thresholds.
  ThresholdMetrics best = *MaxF1Threshold(kLabels, kScores);
  EXPECT_EQ(best.threshold, 0.35);
  EXPECT_NEAR(best.f1, 10.0 / 13, 1e-15);
  EXPECT_NEAR(best.f1, MetricsAtThreshold(kLabels, kScores, 0.35)->f1, 1e-15);
}

TEST(MinCostThreshold, HandComputed) {
  // Missing a positive costs 5: catch them all at 0.35 (3 false positives) -> 0.3 per row.
  CostThreshold cheap_fp =
      *MinCostThreshold(kLabels, kScores, {.false_positive = 1, .false_negative = 5});
  EXPECT_EQ(cheap_fp.metrics.threshold, 0.35);
  EXPECT_NEAR(cheap_fp.expected_cost, 0.3, 1e-15);
  // A false positive costs 10: stop at 0.8 (3 misses) -> 0.3 per row.
  CostThreshold cheap_fn =
      *MinCostThreshold(kLabels, kScores, {.false_positive = 10, .false_negative = 1});
  EXPECT_EQ(cheap_fn.metrics.threshold, 0.8);
  EXPECT_NEAR(cheap_fn.expected_cost, 0.3, 1e-15);
  // Positives are worthless and false positives cost: predict nothing.
  CostThreshold nothing =
      *MinCostThreshold(kLabels, kScores, {.false_positive = 1, .false_negative = 0});
  EXPECT_GT(nothing.metrics.threshold, 0.9);
  EXPECT_EQ(nothing.expected_cost, 0);
}

TEST(CalibrationCurve, UniformMatchesSklearn) {
  // sklearn calibration_curve(n_bins=4): prob_true [0, .5, .5, 1], prob_pred
  // [.15, .375, .65, .85].
  std::vector<CalibrationBin> bins = *CalibrationCurve(kLabels, kScores, 4);
  ASSERT_EQ(bins.size(), 4u);
  const double observed[] = {0, 0.5, 0.5, 1};
  const double predicted[] = {0.15, 0.375, 0.65, 0.85};
  for (int bin = 0; bin < 4; ++bin) {
    EXPECT_NEAR(bins[bin].observed_rate, observed[bin], 1e-15);
    EXPECT_NEAR(bins[bin].mean_predicted, predicted[bin], 1e-15);
  }
  EXPECT_EQ(bins[1].count, 4);
  EXPECT_EQ(bins[1].lower, 0.25);
  // Empty bins are dropped.
  EXPECT_EQ(CalibrationCurve(V{0, 1}, V{0.05, 0.95}, 10)->size(), 2u);
}

TEST(CalibrationCurve, QuantileEdgesHandComputed) {
  // Edges are the 0, 1/3, 2/3, 1 quantiles = 0.1, 0.35, 0.6, 0.9; a score on an inner edge
  // goes to the bin above. (numpy's percentile puts the 1/3 edge a few ulps above 0.35, so
  // sklearn assigns the two 0.35 scores to the first bin; we compute the edge exactly.)
  std::vector<CalibrationBin> bins =
      *CalibrationCurve(kLabels, kScores, 3, CalibrationBinning::kQuantile);
  ASSERT_EQ(bins.size(), 3u);
  EXPECT_NEAR(bins[0].mean_predicted, 0.15, 1e-15);
  EXPECT_EQ(bins[0].observed_rate, 0);
  EXPECT_NEAR(bins[1].mean_predicted, 0.375, 1e-15);
  EXPECT_EQ(bins[1].observed_rate, 0.5);
  EXPECT_NEAR(bins[2].mean_predicted, 0.75, 1e-15);
  EXPECT_EQ(bins[2].observed_rate, 0.75);
  EXPECT_EQ(bins[2].upper, 0.9);
}

TEST(ComputeBinaryMetrics, OneClassLeavesRankMetricsNull) {
  BinaryMetrics metrics = *ComputeBinaryMetrics(V{0, 0, 0}, V{0.1, 0.2, 0.7});
  EXPECT_FALSE(metrics.auc.has_value());
  EXPECT_FALSE(metrics.pr_auc.has_value());
  nlohmann::json json = metrics.ToJson();
  EXPECT_TRUE(json["auc"].is_null());
  EXPECT_NEAR(json["brier"].get<double>(), (0.01 + 0.04 + 0.49) / 3, 1e-15);
  EXPECT_EQ(json["at_threshold"]["confusion"]["fp"], 1);

  BinaryMetrics full = *ComputeBinaryMetrics(kLabels, kScores);
  EXPECT_NEAR(*full.auc, 0.72, 1e-15);
  EXPECT_NEAR(*full.pr_auc, 0.8, 1e-15);
  EXPECT_DOUBLE_EQ(*full.lift_at_10, 2.0);
  EXPECT_EQ(full.positive_rate, 0.5);
}

TEST(ComputeRegressionMetrics, MatchesSklearnAndSkipsZeroTargets) {
  const std::vector<double> targets = {3.0, -0.5, 2, 7, 0};
  const std::vector<double> predictions = {2.5, 0.0, 2, 8, 0.3};
  RegressionMetrics metrics = *ComputeRegressionMetrics(targets, predictions);
  // sklearn: sqrt(mean_squared_error), mean_absolute_error, r2_score, and
  // mean_absolute_percentage_error over the rows with a non-zero target.
  EXPECT_NEAR(metrics.rmse, 0.5639148871948674, 1e-15);
  EXPECT_NEAR(metrics.mae, 0.45999999999999996, 1e-15);
  EXPECT_NEAR(*metrics.r2, 0.955586592178771, 1e-14);
  EXPECT_NEAR(*metrics.mape, 0.3273809523809524, 1e-15);
  EXPECT_EQ(metrics.mape_skipped_rows, 1);
  // sklearn r2_score(sample_weight=[1, 2, 3, 1, 1]).
  EXPECT_NEAR(*ComputeRegressionMetrics(targets, predictions, V{1, 2, 3, 1, 1})->r2,
              0.9565781710914454, 1e-14);
}

TEST(ComputeRegressionMetrics, ConstantTargetsHaveNoR2) {
  RegressionMetrics metrics = *ComputeRegressionMetrics(V{2, 2}, V{1, 3});
  EXPECT_FALSE(metrics.r2.has_value());
  EXPECT_EQ(metrics.rmse, 1);
  EXPECT_TRUE(metrics.ToJson()["r2"].is_null());
  EXPECT_EQ(
      ScoreMetric("r2", TaskType::kRegression, std::vector<double>{2, 2}, std::vector<double>{1, 3})
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ScoreMetric("mape", TaskType::kRegression, std::vector<double>{0, 0},
                        std::vector<double>{1, 3})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

const std::vector<double> kClassLabels = {0, 1, 2, 2, 1, 0, 2, 1};
const std::vector<double> kClassProbabilities = {.7, .2, .1, .2, .5, .3, .1, .3, .6, .3, .4, .3,  //
                                                 .6, .3, .1, .5, .4, .1, .2, .2, .6, .1, .8, .1};

TEST(ComputeMulticlassMetrics, MatchesSklearn) {
  MulticlassMetrics metrics = *ComputeMulticlassMetrics(kClassLabels, kClassProbabilities, 3);
  // sklearn accuracy_score, f1_score(average=macro/weighted) on argmax, roc_auc_score(
  // multi_class="ovr"), log_loss(eps=1e-15), confusion_matrix.
  EXPECT_NEAR(metrics.accuracy, 0.75, 1e-15);
  EXPECT_NEAR(metrics.macro_f1, 0.7555555555555555, 1e-15);
  EXPECT_NEAR(metrics.weighted_f1, 0.75, 1e-15);
  EXPECT_NEAR(*metrics.ovr_macro_auc, 0.9055555555555556, 1e-15);
  EXPECT_NEAR(metrics.log_loss, 0.6744637140695857, 1e-14);
  EXPECT_EQ(metrics.confusion,
            (std::vector<std::vector<double>>{V{2, 0, 0}, V{1, 2, 0}, V{0, 1, 2}}));
  EXPECT_EQ(metrics.ToJson()["confusion"][1][0], 1);
}

TEST(ComputeMulticlassMetrics, MissingClassHasNoAucAndBadLabelsFail) {
  MulticlassMetrics metrics =
      *ComputeMulticlassMetrics(V{0, 1, 0}, V{.8, .1, .1, .2, .7, .1, .6, .3, .1}, 3);
  EXPECT_FALSE(metrics.ovr_macro_auc.has_value());
  EXPECT_DOUBLE_EQ(metrics.macro_f1, 1.0);  // class 2 neither occurs nor is predicted
  EXPECT_THAT(ComputeMulticlassMetrics(V{0, 3}, V{.5, .5, 0, .5, .5, 0}, 3).status().message(),
              HasSubstr("integers in [0, 3)"));
  EXPECT_THAT(ComputeMulticlassMetrics(V{0, 1}, V{.5, .5, .5}, 3).status().message(),
              HasSubstr("sizes differ"));
}

TEST(ScoreMetric, NamesDirectionsAndUnknown) {
  MetricScore auc = *ScoreMetric("auc", TaskType::kBinary, kLabels, kScores);
  EXPECT_NEAR(auc.value, 0.72, 1e-15);
  EXPECT_TRUE(auc.greater_is_better);
  MetricScore loss = *ScoreMetric("log_loss", TaskType::kBinary, kLabels, kScores);
  EXPECT_FALSE(loss.greater_is_better);
  EXPECT_NEAR(ScoreMetric("f1", TaskType::kBinary, kLabels, kScores, 2, 0.35)->value, 10.0 / 13,
              1e-15);
  EXPECT_NEAR(
      ScoreMetric("macro_f1", TaskType::kMulticlass, kClassLabels, kClassProbabilities, 3)->value,
      0.7555555555555555, 1e-15);
  EXPECT_FALSE(*MetricGreaterIsBetter("rmse", TaskType::kRegression));
  // Every listed name scores.
  for (const std::string& name : MetricNames(TaskType::kBinary)) {
    EXPECT_TRUE(ScoreMetric(name, TaskType::kBinary, kLabels, kScores).ok()) << name;
  }
  absl::StatusOr<MetricScore> unknown = ScoreMetric("rmse", TaskType::kBinary, kLabels, kScores);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("valid: auc, pr_auc, log_loss"));
}

}  // namespace
}  // namespace assay::ml
