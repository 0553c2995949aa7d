// Evaluation metrics for the three task types: binary (ROC AUC, average precision, log loss,
// Brier, threshold metrics, lift, curves, threshold choice, calibration curve), regression
// (RMSE, MAE, R2, MAPE) and multiclass (accuracy, macro/weighted F1, one-vs-rest AUC, log
// loss, confusion matrix), plus a lookup from a metric name to a score so the search can
// optimize any of them. docs/ml/metrics.md gives every definition exactly.
//
// Conventions shared by every function:
//   - `labels` are doubles: binary 0/1 (1 = positive), multiclass 0..K-1, regression values;
//   - binary `scores` are P(positive) in [0, 1] where a probability is needed (log loss,
//     Brier, calibration); rank metrics (AUC, average precision, curves, lift) accept any
//     finite score;
//   - `weights` is optional (empty = every row weighs 1); weights must be finite and >= 0
//     with a positive total; counts in results are then weighted counts;
//   - a row is predicted positive when score >= threshold.
// Expected failures are INVALID_ARGUMENT (empty input, size mismatch, a label that is not
// 0/1, a non-finite score, a probability outside [0, 1], a negative weight, an unknown metric
// name) or FAILED_PRECONDITION (a metric undefined for this data, e.g. AUC with one class).
// No function returns NaN.
//
// Pure functions over their arguments: thread-safe.
#ifndef ASSAY_ML_METRICS_H_
#define ASSAY_ML_METRICS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/task_type.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// Log loss clips probabilities to [kLogLossEpsilon, 1 - kLogLossEpsilon] (scikit-learn's
// historical default, so log loss stays finite for confident mistakes).
inline constexpr double kLogLossEpsilon = 1e-15;

// ---------------------------------------------------------------------------------------------
// Binary classification.

// Weighted counts of the four outcomes at one threshold.
struct ConfusionMatrix {
  double true_positive = 0;
  double false_positive = 0;
  double true_negative = 0;
  double false_negative = 0;

  // {"tp":..,"fp":..,"tn":..,"fn":..}
  nlohmann::json ToJson() const;
};

// Metrics derived from a confusion matrix. A ratio whose denominator is zero is 0 (as
// scikit-learn's zero_division=0; MCC likewise), never NaN.
struct ThresholdMetrics {
  double threshold = 0.5;
  ConfusionMatrix confusion;
  double accuracy = 0;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  double mcc = 0;

  nlohmann::json ToJson() const;
};

// Computes ThresholdMetrics from counts (no validation needed: counts are >= 0).
ThresholdMetrics MetricsFromConfusion(double threshold, const ConfusionMatrix& confusion);

// ROC AUC: the probability that a random positive scores above a random negative, ties
// counting one half (equals scikit-learn's roc_auc_score, trapezoidal area of the ROC curve).
// Errors: INVALID_ARGUMENT for bad inputs; FAILED_PRECONDITION if labels hold one class only
// (or one class has zero total weight).
absl::StatusOr<double> RocAuc(std::span<const double> labels, std::span<const double> scores,
                              std::span<const double> weights = {});

// Average precision: sum over distinct thresholds t (descending) of
// (recall(t) - recall(previous t)) * precision(t), as scikit-learn's average_precision_score.
// Errors as RocAuc; FAILED_PRECONDITION if there is no positive.
absl::StatusOr<double> AveragePrecision(std::span<const double> labels,
                                        std::span<const double> scores,
                                        std::span<const double> weights = {});

// Mean negative log-likelihood with probabilities clipped to [1e-15, 1 - 1e-15].
// Requires scores in [0, 1]. Errors: INVALID_ARGUMENT.
absl::StatusOr<double> BinaryLogLoss(std::span<const double> labels, std::span<const double> scores,
                                     std::span<const double> weights = {});

// Mean squared difference between score and label. Requires scores in [0, 1].
// Errors: INVALID_ARGUMENT.
absl::StatusOr<double> BrierScore(std::span<const double> labels, std::span<const double> scores,
                                  std::span<const double> weights = {});

// Confusion matrix and derived metrics at `threshold` (positive when score >= threshold).
// Errors: INVALID_ARGUMENT.
absl::StatusOr<ThresholdMetrics> MetricsAtThreshold(std::span<const double> labels,
                                                    std::span<const double> scores,
                                                    double threshold,
                                                    std::span<const double> weights = {});

// Lift in the top `fraction` (0 < fraction <= 1) of rows by score: the positive rate among
// them divided by the overall positive rate. Ties at the cut-off are handled fractionally:
// the cut takes all rows scoring above the boundary score and the needed share of the tied
// group, whose positives count at the group's own positive rate, so the result does not
// depend on row order. Errors: INVALID_ARGUMENT (also for fraction outside (0, 1]);
// FAILED_PRECONDITION if there is no positive.
absl::StatusOr<double> LiftAt(std::span<const double> labels, std::span<const double> scores,
                              double fraction = 0.1, std::span<const double> weights = {});

struct RocPoint {
  double false_positive_rate = 0;
  double true_positive_rate = 0;
  // Rows with score >= threshold are positive; +infinity for the (0, 0) start point.
  double threshold = 0;
};

struct PrPoint {
  double recall = 0;
  double precision = 0;
  double threshold = 0;  // +infinity for the (recall 0, precision 1) start point
};

// ROC curve with one point per distinct score (descending thresholds), starting at (0, 0)
// and ending at (1, 1). If it has more than `max_points` points (max_points >= 2), it is
// downsampled to `max_points` points evenly spaced by index, keeping both endpoints exactly.
// Errors: as RocAuc; INVALID_ARGUMENT if max_points < 2.
absl::StatusOr<std::vector<RocPoint>> RocCurve(std::span<const double> labels,
                                               std::span<const double> scores, int max_points = 200,
                                               std::span<const double> weights = {});

// Precision-recall curve, recall ascending: the start point (recall 0, precision 1), then one
// point per distinct score in descending order, ending at the lowest score (recall 1).
// Downsampled as RocCurve. Errors: as AveragePrecision; INVALID_ARGUMENT if max_points < 2.
absl::StatusOr<std::vector<PrPoint>> PrCurve(std::span<const double> labels,
                                             std::span<const double> scores, int max_points = 200,
                                             std::span<const double> weights = {});

// The threshold maximizing F1 over the distinct scores (as candidate thresholds); among equal
// F1 values the highest threshold wins. Errors: INVALID_ARGUMENT.
absl::StatusOr<ThresholdMetrics> MaxF1Threshold(std::span<const double> labels,
                                                std::span<const double> scores,
                                                std::span<const double> weights = {});

// Cost of each outcome (any finite values; a benefit is a negative cost).
struct CostMatrix {
  double false_positive = 1;
  double false_negative = 1;
  double true_positive = 0;
  double true_negative = 0;
};

struct CostThreshold {
  ThresholdMetrics metrics;
  double expected_cost = 0;  // total cost / total weight
};

// The threshold minimizing the expected cost per row. Candidates are every distinct score
// plus one just above the maximum score (everything negative); among equal costs the highest
// threshold wins. Errors: INVALID_ARGUMENT (also for non-finite costs).
absl::StatusOr<CostThreshold> MinCostThreshold(std::span<const double> labels,
                                               std::span<const double> scores,
                                               const CostMatrix& costs,
                                               std::span<const double> weights = {});

enum class CalibrationBinning {
  kUniform,   // num_bins equal-width bins over [0, 1]
  kQuantile,  // edges at the 0, 1/num_bins, ..., 1 quantiles of the scores (linear interpolation)
};

struct CalibrationBin {
  double lower = 0;  // bin edges; a score s falls in the bin with lower <= s < upper (the last
  double upper = 0;  // bin includes 1)
  double mean_predicted = 0;
  double observed_rate = 0;
  double count = 0;  // total weight of the rows in the bin
};

// Calibration curve: for each non-empty bin, the mean predicted probability and the observed
// positive rate (as scikit-learn's calibration_curve, which also drops empty bins).
// Requires scores in [0, 1] and num_bins >= 1. Errors: INVALID_ARGUMENT.
absl::StatusOr<std::vector<CalibrationBin>> CalibrationCurve(
    std::span<const double> labels, std::span<const double> scores, int num_bins = 10,
    CalibrationBinning binning = CalibrationBinning::kUniform,
    std::span<const double> weights = {});

// All binary metrics in one pass. Metrics undefined for the data (AUC, average precision
// and lift with a single class) are std::nullopt (JSON null), so a subpopulation with one
// class still gets the others.
struct BinaryMetrics {
  std::optional<double> auc;
  std::optional<double> pr_auc;
  double log_loss = 0;
  double brier = 0;
  std::optional<double> lift_at_10;
  ThresholdMetrics at_threshold;
  double positive_rate = 0;
  double count = 0;  // total weight

  nlohmann::json ToJson() const;
};

// Requires scores in [0, 1]. Errors: INVALID_ARGUMENT.
absl::StatusOr<BinaryMetrics> ComputeBinaryMetrics(std::span<const double> labels,
                                                   std::span<const double> scores,
                                                   double threshold = 0.5,
                                                   std::span<const double> weights = {});

// ---------------------------------------------------------------------------------------------
// Regression.

// MAPE is the mean of |y - prediction| / |y| as a fraction (not percent, as scikit-learn's
// mean_absolute_percentage_error) over rows with y != 0; rows with y == 0 are skipped and
// counted in mape_skipped_rows. R2 is 1 - SS_res / SS_tot around the (weighted) mean; it is
// std::nullopt when the targets are constant (SS_tot == 0), MAPE when every target is 0.
struct RegressionMetrics {
  double rmse = 0;
  double mae = 0;
  std::optional<double> r2;
  std::optional<double> mape;
  int64_t mape_skipped_rows = 0;
  double count = 0;  // total weight

  nlohmann::json ToJson() const;
};

// Requires finite labels and predictions of equal size. Errors: INVALID_ARGUMENT.
absl::StatusOr<RegressionMetrics> ComputeRegressionMetrics(std::span<const double> labels,
                                                           std::span<const double> predictions,
                                                           std::span<const double> weights = {});

// ---------------------------------------------------------------------------------------------
// Multiclass.

// F1 averages follow scikit-learn: over the classes present in the labels or the predicted
// classes (argmax; ties go to the lowest class). macro = unweighted mean, weighted = mean
// weighted by each class's (weighted) support in the labels. The one-vs-rest AUC is the
// unweighted mean of each class's ROC AUC against the rest; std::nullopt unless every class
// 0..K-1 occurs in the labels (scikit-learn raises in that case). Log loss clips each
// probability to [1e-15, 1 - 1e-15] and renormalizes the row (as scikit-learn 1.2).
struct MulticlassMetrics {
  int num_classes = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  double weighted_f1 = 0;
  std::optional<double> ovr_macro_auc;
  double log_loss = 0;
  // num_classes x num_classes weighted counts, row = true class, column = predicted class.
  std::vector<std::vector<double>> confusion;
  double count = 0;

  nlohmann::json ToJson() const;
};

// Requires labels integers in [0, num_classes), num_classes >= 2, probabilities of size
// labels.size() * num_classes, row-major, each in [0, 1]. Errors: INVALID_ARGUMENT.
absl::StatusOr<MulticlassMetrics> ComputeMulticlassMetrics(std::span<const double> labels,
                                                           std::span<const double> probabilities,
                                                           int num_classes,
                                                           std::span<const double> weights = {});

// ---------------------------------------------------------------------------------------------
// Metric by name, for the search.

struct MetricScore {
  double value = 0;
  bool greater_is_better = true;
};

// The metric names valid for a task type, in documentation order:
//   binary: auc, pr_auc, log_loss, brier, accuracy, precision, recall, f1, mcc, lift_at_10;
//   regression: rmse, mae, r2, mape;
//   multiclass: accuracy, macro_f1, weighted_f1, auc (one-vs-rest macro), log_loss.
std::vector<std::string> MetricNames(TaskType task);

// Whether a greater value of the metric is better. Errors: INVALID_ARGUMENT for a name not
// valid for the task (the message lists the valid ones).
absl::StatusOr<bool> MetricGreaterIsBetter(std::string_view name, TaskType task);

// Scores `predictions` (binary: P(positive); multiclass: rows x num_classes probabilities;
// regression: values) against `labels` with the named metric; threshold metrics use
// `threshold`. Errors: INVALID_ARGUMENT for an unknown name (listing the valid ones) or bad
// inputs; FAILED_PRECONDITION if the metric is undefined for the data (e.g. AUC with one
// class, R2 with constant targets, MAPE with all-zero targets).
absl::StatusOr<MetricScore> ScoreMetric(std::string_view name, TaskType task,
                                        std::span<const double> labels,
                                        std::span<const double> predictions, int num_classes = 2,
                                        double threshold = 0.5,
                                        std::span<const double> weights = {});

}  // namespace assay::ml

#endif  // ASSAY_ML_METRICS_H_
