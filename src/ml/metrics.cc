#include "ml/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

double WeightAt(std::span<const double> weights, size_t row) {
  return weights.empty() ? 1.0 : weights[row];
}

nlohmann::json OptionalJson(const std::optional<double>& value) {
  return value.has_value() ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Checks the shapes and values every metric relies on. `scores_per_row` is 1 except for
// multiclass probabilities.
absl::Status CheckCommon(std::span<const double> labels, std::span<const double> scores,
                         std::span<const double> weights, size_t scores_per_row,
                         std::string_view scores_name) {
  if (labels.empty()) {
    return absl::InvalidArgumentError("metric input is empty: need at least one labelled row");
  }
  if (scores.size() != labels.size() * scores_per_row) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric input sizes differ: ", labels.size(), " labels need ",
        labels.size() * scores_per_row, " ", Absl(scores_name), " but got ", scores.size()));
  }
  if (!weights.empty() && weights.size() != labels.size()) {
    return absl::InvalidArgumentError(absl::StrCat("metric input sizes differ: ", labels.size(),
                                                   " labels but ", weights.size(),
                                                   " weights (pass no weights for all 1)"));
  }
  double total = 0;
  for (size_t row = 0; row < weights.size(); ++row) {
    if (!std::isfinite(weights[row]) || weights[row] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("weight of row ", row, " is ", weights[row],
                                                     "; weights must be finite and >= 0"));
    }
    total += weights[row];
  }
  if (!weights.empty() && total <= 0) {
    return absl::InvalidArgumentError("weights sum to 0; at least one row must have weight > 0");
  }
  for (size_t index = 0; index < scores.size(); ++index) {
    if (!std::isfinite(scores[index])) {
      return absl::InvalidArgumentError(absl::StrCat(Absl(scores_name), " of row ",
                                                     index / scores_per_row, " is ", scores[index],
                                                     "; need a finite number"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBinary(std::span<const double> labels, std::span<const double> scores,
                         std::span<const double> weights, bool need_probability) {
  ASSAY_RETURN_IF_ERROR(CheckCommon(labels, scores, weights, 1, "score"));
  for (size_t row = 0; row < labels.size(); ++row) {
    if (labels[row] != 0 && labels[row] != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "binary label of row ", row, " is ", labels[row], "; binary labels must be 0 or 1"));
    }
    if (need_probability && (scores[row] < 0 || scores[row] > 1)) {
      return absl::InvalidArgumentError(absl::StrCat("score of row ", row, " is ", scores[row],
                                                     "; this metric needs P(positive) in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

// Rows grouped by distinct score, highest score first, with the weight of positives and
// negatives in each group: the one sorted pass every rank metric works from.
struct ScoreGroup {
  double score = 0;
  double positive = 0;
  double negative = 0;
};

struct RankedScores {
  std::vector<ScoreGroup> groups;
  double positive = 0;  // total weights
  double negative = 0;
};

RankedScores RankScores(std::span<const double> labels, std::span<const double> scores,
                        std::span<const double> weights) {
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t left, size_t right) { return scores[left] > scores[right]; });
  RankedScores ranked;
  for (size_t row : order) {
    if (ranked.groups.empty() || ranked.groups.back().score != scores[row]) {
      ranked.groups.push_back({scores[row], 0, 0});
    }
    const double weight = WeightAt(weights, row);
    if (labels[row] == 1) {
      ranked.groups.back().positive += weight;
      ranked.positive += weight;
    } else {
      ranked.groups.back().negative += weight;
      ranked.negative += weight;
    }
  }
  return ranked;
}

absl::Status NeedBothClasses(const RankedScores& ranked, std::string_view metric) {
  if (ranked.positive <= 0 || ranked.negative <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Absl(metric), " is undefined: the labels hold only ",
                     ranked.positive > 0 ? "positives" : "", ranked.negative > 0 ? "negatives" : "",
                     " (with positive weight); need both classes"));
  }
  return absl::OkStatus();
}

absl::Status NeedPositives(const RankedScores& ranked, std::string_view metric) {
  if (ranked.positive <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Absl(metric), " is undefined: no positive label (with positive weight)"));
  }
  return absl::OkStatus();
}

double AucOf(const RankedScores& ranked) {
  double above = 0;  // positive weight strictly above the current group
  double area = 0;
  for (const ScoreGroup& group : ranked.groups) {
    area += group.negative * (above + 0.5 * group.positive);
    above += group.positive;
  }
  return area / (ranked.positive * ranked.negative);
}

double AveragePrecisionOf(const RankedScores& ranked) {
  double true_positive = 0;
  double false_positive = 0;
  double previous_recall = 0;
  double total = 0;
  for (const ScoreGroup& group : ranked.groups) {
    true_positive += group.positive;
    false_positive += group.negative;
    const double recall = true_positive / ranked.positive;
    const double precision = true_positive / (true_positive + false_positive);
    total += (recall - previous_recall) * precision;
    previous_recall = recall;
  }
  return total;
}

double LiftOf(const RankedScores& ranked, double fraction) {
  const double total = ranked.positive + ranked.negative;
  const double wanted = fraction * total;
  double taken = 0;
  double taken_positive = 0;
  for (const ScoreGroup& group : ranked.groups) {
    const double size = group.positive + group.negative;
    if (size <= 0) continue;
    if (taken + size <= wanted) {
      taken += size;
      taken_positive += group.positive;
      continue;
    }
    const double share = (wanted - taken) / size;
    taken_positive += share * group.positive;
    taken = wanted;
    break;
  }
  return (taken_positive / wanted) / (ranked.positive / total);
}

// Index-even downsampling that keeps the first and last element.
template <typename Point>
std::vector<Point> Downsample(std::vector<Point> points, int max_points) {
  const size_t limit = static_cast<size_t>(max_points);
  if (points.size() <= limit) return points;
  std::vector<Point> kept;
  kept.reserve(limit);
  const size_t last = points.size() - 1;
  for (size_t slot = 0; slot < limit; ++slot) kept.push_back(points[slot * last / (limit - 1)]);
  return kept;
}

ConfusionMatrix ConfusionFromCounts(const RankedScores& ranked, double true_positive,
                                    double false_positive) {
  ConfusionMatrix confusion;
  confusion.true_positive = true_positive;
  confusion.false_positive = false_positive;
  confusion.false_negative = std::max(0.0, ranked.positive - true_positive);
  confusion.true_negative = std::max(0.0, ranked.negative - false_positive);
  return confusion;
}

double ClippedLog(double probability) {
  return std::log(std::clamp(probability, kLogLossEpsilon, 1.0 - kLogLossEpsilon));
}

absl::Status CheckMulticlass(std::span<const double> labels, std::span<const double> probabilities,
                             int num_classes, std::span<const double> weights) {
  if (num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("multiclass metrics need num_classes >= 2, got ", num_classes));
  }
  ASSAY_RETURN_IF_ERROR(CheckCommon(labels, probabilities, weights,
                                    static_cast<size_t>(num_classes), "class probability"));
  for (size_t row = 0; row < labels.size(); ++row) {
    const double label = labels[row];
    if (label != std::floor(label) || label < 0 || label >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat("multiclass label of row ", row, " is ", label,
                                                     "; labels must be integers in [0, ",
                                                     num_classes, ")"));
    }
  }
  for (size_t index = 0; index < probabilities.size(); ++index) {
    if (probabilities[index] < 0 || probabilities[index] > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "class probability of row ", index / num_classes, ", class ", index % num_classes, " is ",
          probabilities[index], "; probabilities must be in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

nlohmann::json ConfusionMatrix::ToJson() const {
  return {
      {"tp", true_positive}, {"fp", false_positive}, {"tn", true_negative}, {"fn", false_negative}};
}

nlohmann::json ThresholdMetrics::ToJson() const {
  return {{"threshold", threshold},
          {"confusion", confusion.ToJson()},
          {"accuracy", accuracy},
          {"precision", precision},
          {"recall", recall},
          {"f1", f1},
          {"mcc", mcc}};
}

ThresholdMetrics MetricsFromConfusion(double threshold, const ConfusionMatrix& confusion) {
  const double tp = confusion.true_positive;
  const double fp = confusion.false_positive;
  const double tn = confusion.true_negative;
  const double fn = confusion.false_negative;
  auto ratio = [](double numerator, double denominator) {
    return denominator > 0 ? numerator / denominator : 0.0;
  };
  ThresholdMetrics metrics;
  metrics.threshold = threshold;
  metrics.confusion = confusion;
  metrics.accuracy = ratio(tp + tn, tp + fp + tn + fn);
  metrics.precision = ratio(tp, tp + fp);
  metrics.recall = ratio(tp, tp + fn);
  metrics.f1 = ratio(2 * tp, 2 * tp + fp + fn);
  // Matthews (1975); each factor is computed separately so large counts do not overflow.
  const double denominator =
      std::sqrt(tp + fp) * std::sqrt(tp + fn) * std::sqrt(tn + fp) * std::sqrt(tn + fn);
  metrics.mcc = ratio(tp * tn - fp * fn, denominator);
  return metrics;
}

absl::StatusOr<double> RocAuc(std::span<const double> labels, std::span<const double> scores,
                              std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  const RankedScores ranked = RankScores(labels, scores, weights);
  ASSAY_RETURN_IF_ERROR(NeedBothClasses(ranked, "ROC AUC"));
  return AucOf(ranked);
}

absl::StatusOr<double> AveragePrecision(std::span<const double> labels,
                                        std::span<const double> scores,
                                        std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  const RankedScores ranked = RankScores(labels, scores, weights);
  ASSAY_RETURN_IF_ERROR(NeedPositives(ranked, "average precision"));
  return AveragePrecisionOf(ranked);
}

absl::StatusOr<double> BinaryLogLoss(std::span<const double> labels, std::span<const double> scores,
                                     std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/true));
  double loss = 0;
  double total = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = WeightAt(weights, row);
    // Clip p, then take log(1 - clipped p) for negatives, as scikit-learn does.
    const double clipped = std::clamp(scores[row], kLogLossEpsilon, 1.0 - kLogLossEpsilon);
    loss -= weight * (labels[row] == 1 ? std::log(clipped) : std::log(1.0 - clipped));
    total += weight;
  }
  return loss / total;
}

absl::StatusOr<double> BrierScore(std::span<const double> labels, std::span<const double> scores,
                                  std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/true));
  double sum = 0;
  double total = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = WeightAt(weights, row);
    const double error = scores[row] - labels[row];
    sum += weight * error * error;
    total += weight;
  }
  return sum / total;
}

absl::StatusOr<ThresholdMetrics> MetricsAtThreshold(std::span<const double> labels,
                                                    std::span<const double> scores,
                                                    double threshold,
                                                    std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  if (std::isnan(threshold)) return absl::InvalidArgumentError("threshold is NaN");
  ConfusionMatrix confusion;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = WeightAt(weights, row);
    const bool predicted = scores[row] >= threshold;
    const bool actual = labels[row] == 1;
    if (predicted && actual) confusion.true_positive += weight;
    if (predicted && !actual) confusion.false_positive += weight;
    if (!predicted && actual) confusion.false_negative += weight;
    if (!predicted && !actual) confusion.true_negative += weight;
  }
  return MetricsFromConfusion(threshold, confusion);
}

absl::StatusOr<double> LiftAt(std::span<const double> labels, std::span<const double> scores,
                              double fraction, std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  if (!(fraction > 0 && fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lift fraction is ", fraction, "; need 0 < fraction <= 1 (0.1 = top 10%)"));
  }
  const RankedScores ranked = RankScores(labels, scores, weights);
  ASSAY_RETURN_IF_ERROR(NeedPositives(ranked, "lift"));
  return LiftOf(ranked, fraction);
}

absl::StatusOr<std::vector<RocPoint>> RocCurve(std::span<const double> labels,
                                               std::span<const double> scores, int max_points,
                                               std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  if (max_points < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("curve max_points is ", max_points, "; need at least 2 (the endpoints)"));
  }
  const RankedScores ranked = RankScores(labels, scores, weights);
  ASSAY_RETURN_IF_ERROR(NeedBothClasses(ranked, "ROC curve"));
  std::vector<RocPoint> points;
  points.reserve(ranked.groups.size() + 1);
  points.push_back({0, 0, kInfinity});
  double true_positive = 0;
  double false_positive = 0;
  for (const ScoreGroup& group : ranked.groups) {
    true_positive += group.positive;
    false_positive += group.negative;
    points.push_back(
        {false_positive / ranked.negative, true_positive / ranked.positive, group.score});
  }
  // Weighted sums can land a hair off 1; the endpoint is exact by definition.
  points.back().false_positive_rate = 1;
  points.back().true_positive_rate = 1;
  return Downsample(std::move(points), max_points);
}

absl::StatusOr<std::vector<PrPoint>> PrCurve(std::span<const double> labels,
                                             std::span<const double> scores, int max_points,
                                             std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  if (max_points < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("curve max_points is ", max_points, "; need at least 2 (the endpoints)"));
  }
  const RankedScores ranked = RankScores(labels, scores, weights);
  ASSAY_RETURN_IF_ERROR(NeedPositives(ranked, "precision-recall curve"));
  std::vector<PrPoint> points;
  points.reserve(ranked.groups.size() + 1);
  points.push_back({0, 1, kInfinity});
  double true_positive = 0;
  double false_positive = 0;
  for (const ScoreGroup& group : ranked.groups) {
    true_positive += group.positive;
    false_positive += group.negative;
    const double predicted = true_positive + false_positive;
    points.push_back({true_positive / ranked.positive,
                      predicted > 0 ? true_positive / predicted : 1.0, group.score});
  }
  points.back().recall = 1;
  return Downsample(std::move(points), max_points);
}

absl::StatusOr<ThresholdMetrics> MaxF1Threshold(std::span<const double> labels,
                                                std::span<const double> scores,
                                                std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  const RankedScores ranked = RankScores(labels, scores, weights);
  double true_positive = 0;
  double false_positive = 0;
  std::optional<ThresholdMetrics> best;
  for (const ScoreGroup& group : ranked.groups) {
    true_positive += group.positive;
    false_positive += group.negative;
    ThresholdMetrics candidate = MetricsFromConfusion(
        group.score, ConfusionFromCounts(ranked, true_positive, false_positive));
    if (!best.has_value() || candidate.f1 > best->f1) best = candidate;
  }
  return *best;
}

absl::StatusOr<CostThreshold> MinCostThreshold(std::span<const double> labels,
                                               std::span<const double> scores,
                                               const CostMatrix& costs,
                                               std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/false));
  for (double cost :
       {costs.false_positive, costs.false_negative, costs.true_positive, costs.true_negative}) {
    if (!std::isfinite(cost)) {
      return absl::InvalidArgumentError("cost matrix entries must be finite numbers");
    }
  }
  const RankedScores ranked = RankScores(labels, scores, weights);
  const double total = ranked.positive + ranked.negative;
  auto evaluate = [&](double threshold, double true_positive, double false_positive) {
    CostThreshold result;
    result.metrics =
        MetricsFromConfusion(threshold, ConfusionFromCounts(ranked, true_positive, false_positive));
    const ConfusionMatrix& confusion = result.metrics.confusion;
    result.expected_cost = (costs.false_positive * confusion.false_positive +
                            costs.false_negative * confusion.false_negative +
                            costs.true_positive * confusion.true_positive +
                            costs.true_negative * confusion.true_negative) /
                           total;
    return result;
  };
  // Everything negative: a threshold just above the highest score.
  CostThreshold best = evaluate(std::nextafter(ranked.groups.front().score, kInfinity), 0, 0);
  double true_positive = 0;
  double false_positive = 0;
  for (const ScoreGroup& group : ranked.groups) {
    true_positive += group.positive;
    false_positive += group.negative;
    CostThreshold candidate = evaluate(group.score, true_positive, false_positive);
    if (candidate.expected_cost < best.expected_cost) best = candidate;
  }
  return best;
}

absl::StatusOr<std::vector<CalibrationBin>> CalibrationCurve(std::span<const double> labels,
                                                             std::span<const double> scores,
                                                             int num_bins,
                                                             CalibrationBinning binning,
                                                             std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckBinary(labels, scores, weights, /*need_probability=*/true));
  if (num_bins < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration curve num_bins is ", num_bins, "; need at least 1"));
  }
  std::vector<double> edges(static_cast<size_t>(num_bins) + 1);
  if (binning == CalibrationBinning::kUniform) {
    const double step = 1.0 / num_bins;  // as numpy.linspace(0, 1, num_bins + 1)
    for (int edge = 0; edge <= num_bins; ++edge) edges[edge] = edge * step;
    edges.back() = 1.0;
  } else {
    // numpy.percentile's default "linear" method: position q * (n - 1) in the sorted scores.
    std::vector<double> sorted(scores.begin(), scores.end());
    std::sort(sorted.begin(), sorted.end());
    const double last = static_cast<double>(sorted.size() - 1);
    for (int edge = 0; edge <= num_bins; ++edge) {
      const double position = static_cast<double>(edge) / num_bins * last;
      const size_t below = static_cast<size_t>(std::floor(position));
      const size_t above = std::min(below + 1, sorted.size() - 1);
      const double fraction = position - static_cast<double>(below);
      edges[edge] = sorted[below] + (sorted[above] - sorted[below]) * fraction;
    }
  }
  std::vector<double> sum_predicted(num_bins, 0);
  std::vector<double> sum_positive(num_bins, 0);
  std::vector<double> weight_in_bin(num_bins, 0);
  std::vector<int64_t> rows_in_bin(num_bins, 0);
  for (size_t row = 0; row < labels.size(); ++row) {
    // The bin is the number of inner edges <= score (numpy.searchsorted(side="right")), so a
    // score on an inner edge belongs to the bin above it, as in scikit-learn.
    const size_t bin = static_cast<size_t>(
        std::upper_bound(edges.begin() + 1, edges.end() - 1, scores[row]) - (edges.begin() + 1));
    const double weight = WeightAt(weights, row);
    sum_predicted[bin] += weight * scores[row];
    sum_positive[bin] += weight * labels[row];
    weight_in_bin[bin] += weight;
    ++rows_in_bin[bin];
  }
  std::vector<CalibrationBin> bins;
  for (int bin = 0; bin < num_bins; ++bin) {
    if (rows_in_bin[bin] == 0 || weight_in_bin[bin] <= 0) continue;
    bins.push_back({edges[bin], edges[bin + 1], sum_predicted[bin] / weight_in_bin[bin],
                    sum_positive[bin] / weight_in_bin[bin], weight_in_bin[bin]});
  }
  return bins;
}

nlohmann::json BinaryMetrics::ToJson() const {
  return {{"auc", OptionalJson(auc)},
          {"pr_auc", OptionalJson(pr_auc)},
          {"log_loss", log_loss},
          {"brier", brier},
          {"lift_at_10", OptionalJson(lift_at_10)},
          {"at_threshold", at_threshold.ToJson()},
          {"positive_rate", positive_rate},
          {"count", count}};
}

absl::StatusOr<BinaryMetrics> ComputeBinaryMetrics(std::span<const double> labels,
                                                   std::span<const double> scores, double threshold,
                                                   std::span<const double> weights) {
  BinaryMetrics metrics;
  ASSAY_ASSIGN_OR_RETURN(metrics.log_loss, BinaryLogLoss(labels, scores, weights));
  ASSAY_ASSIGN_OR_RETURN(metrics.brier, BrierScore(labels, scores, weights));
  ASSAY_ASSIGN_OR_RETURN(metrics.at_threshold,
                         MetricsAtThreshold(labels, scores, threshold, weights));
  const RankedScores ranked = RankScores(labels, scores, weights);
  metrics.count = ranked.positive + ranked.negative;
  metrics.positive_rate = ranked.positive / metrics.count;
  if (ranked.positive > 0) {
    metrics.pr_auc = AveragePrecisionOf(ranked);
    metrics.lift_at_10 = LiftOf(ranked, 0.1);
    if (ranked.negative > 0) metrics.auc = AucOf(ranked);
  }
  return metrics;
}

nlohmann::json RegressionMetrics::ToJson() const {
  return {{"rmse", rmse},
          {"mae", mae},
          {"r2", OptionalJson(r2)},
          {"mape", OptionalJson(mape)},
          {"mape_skipped_rows", mape_skipped_rows},
          {"count", count}};
}

absl::StatusOr<RegressionMetrics> ComputeRegressionMetrics(std::span<const double> labels,
                                                           std::span<const double> predictions,
                                                           std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckCommon(labels, predictions, weights, 1, "prediction"));
  for (size_t row = 0; row < labels.size(); ++row) {
    if (!std::isfinite(labels[row])) {
      return absl::InvalidArgumentError(
          absl::StrCat("regression target of row ", row, " is ", labels[row], "; need finite"));
    }
  }
  double total = 0;
  double weighted_target = 0;
  double squared = 0;
  double absolute = 0;
  double percentage = 0;
  double percentage_weight = 0;
  RegressionMetrics metrics;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = WeightAt(weights, row);
    const double error = labels[row] - predictions[row];
    total += weight;
    weighted_target += weight * labels[row];
    squared += weight * error * error;
    absolute += weight * std::abs(error);
    if (labels[row] == 0) {
      ++metrics.mape_skipped_rows;
    } else {
      percentage += weight * std::abs(error) / std::abs(labels[row]);
      percentage_weight += weight;
    }
  }
  const double mean = weighted_target / total;
  double spread = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double deviation = labels[row] - mean;
    spread += WeightAt(weights, row) * deviation * deviation;
  }
  metrics.count = total;
  metrics.rmse = std::sqrt(squared / total);
  metrics.mae = absolute / total;
  if (spread > 0) metrics.r2 = 1.0 - squared / spread;
  if (percentage_weight > 0) metrics.mape = percentage / percentage_weight;
  return metrics;
}

nlohmann::json MulticlassMetrics::ToJson() const {
  return {{"num_classes", num_classes},
          {"accuracy", accuracy},
          {"macro_f1", macro_f1},
          {"weighted_f1", weighted_f1},
          {"ovr_macro_auc", OptionalJson(ovr_macro_auc)},
          {"log_loss", log_loss},
          {"confusion", confusion},
          {"count", count}};
}

absl::StatusOr<MulticlassMetrics> ComputeMulticlassMetrics(std::span<const double> labels,
                                                           std::span<const double> probabilities,
                                                           int num_classes,
                                                           std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckMulticlass(labels, probabilities, num_classes, weights));
  const size_t width = static_cast<size_t>(num_classes);
  MulticlassMetrics metrics;
  metrics.num_classes = num_classes;
  metrics.confusion.assign(width, std::vector<double>(width, 0));
  std::vector<int64_t> label_rows(width, 0);
  std::vector<int64_t> predicted_rows(width, 0);
  double correct = 0;
  double loss = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const double weight = WeightAt(weights, row);
    const size_t actual = static_cast<size_t>(labels[row]);
    const auto begin = probabilities.begin() + row * width;
    const size_t predicted = static_cast<size_t>(std::max_element(begin, begin + width) - begin);
    metrics.confusion[actual][predicted] += weight;
    ++label_rows[actual];
    ++predicted_rows[predicted];
    if (actual == predicted) correct += weight;
    double row_sum = 0;
    for (size_t k = 0; k < width; ++k) {
      row_sum += std::clamp(begin[k], kLogLossEpsilon, 1.0 - kLogLossEpsilon);
    }
    loss -= weight * (ClippedLog(begin[actual]) - std::log(row_sum));
    metrics.count += weight;
  }
  metrics.accuracy = correct / metrics.count;
  metrics.log_loss = loss / metrics.count;

  double macro = 0;
  double weighted = 0;
  int present = 0;
  for (size_t k = 0; k < width; ++k) {
    if (label_rows[k] == 0 && predicted_rows[k] == 0) continue;
    double row_total = 0;
    double column_total = 0;
    for (size_t other = 0; other < width; ++other) {
      row_total += metrics.confusion[k][other];
      column_total += metrics.confusion[other][k];
    }
    const double true_positive = metrics.confusion[k][k];
    const double denominator = row_total + column_total;  // 2 tp + fp + fn
    const double f1 = denominator > 0 ? 2 * true_positive / denominator : 0.0;
    macro += f1;
    weighted += row_total * f1;
    ++present;
  }
  metrics.macro_f1 = macro / present;
  metrics.weighted_f1 = weighted / metrics.count;

  if (std::all_of(label_rows.begin(), label_rows.end(), [](int64_t rows) { return rows > 0; })) {
    std::vector<double> is_class(labels.size());
    std::vector<double> class_scores(labels.size());
    double auc_sum = 0;
    bool defined = true;
    for (size_t k = 0; k < width && defined; ++k) {
      for (size_t row = 0; row < labels.size(); ++row) {
        is_class[row] = labels[row] == static_cast<double>(k) ? 1 : 0;
        class_scores[row] = probabilities[row * width + k];
      }
      absl::StatusOr<double> auc = RocAuc(is_class, class_scores, weights);
      if (auc.ok()) {
        auc_sum += *auc;
      } else {
        defined = false;  // a class with zero total weight
      }
    }
    if (defined) metrics.ovr_macro_auc = auc_sum / num_classes;
  }
  return metrics;
}

std::vector<std::string> MetricNames(TaskType task) {
  switch (task) {
    case TaskType::kBinary:
      return {"auc",       "pr_auc", "log_loss", "brier", "accuracy",
              "precision", "recall", "f1",       "mcc",   "lift_at_10"};
    case TaskType::kRegression:
      return {"rmse", "mae", "r2", "mape"};
    case TaskType::kMulticlass:
      return {"accuracy", "macro_f1", "weighted_f1", "auc", "log_loss"};
  }
  return {};
}

absl::StatusOr<bool> MetricGreaterIsBetter(std::string_view name, TaskType task) {
  const std::vector<std::string> names = MetricNames(task);
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown ", Absl(TaskTypeName(task)),
                                                   " metric \"", Absl(name),
                                                   "\" (valid: ", absl::StrJoin(names, ", "), ")"));
  }
  return !(name == "log_loss" || name == "brier" || name == "rmse" || name == "mae" ||
           name == "mape");
}

absl::StatusOr<MetricScore> ScoreMetric(std::string_view name, TaskType task,
                                        std::span<const double> labels,
                                        std::span<const double> predictions, int num_classes,
                                        double threshold, std::span<const double> weights) {
  MetricScore score;
  ASSAY_ASSIGN_OR_RETURN(score.greater_is_better, MetricGreaterIsBetter(name, task));
  switch (task) {
    case TaskType::kBinary: {
      if (name == "auc") {
        ASSAY_ASSIGN_OR_RETURN(score.value, RocAuc(labels, predictions, weights));
      } else if (name == "pr_auc") {
        ASSAY_ASSIGN_OR_RETURN(score.value, AveragePrecision(labels, predictions, weights));
      } else if (name == "log_loss") {
        ASSAY_ASSIGN_OR_RETURN(score.value, BinaryLogLoss(labels, predictions, weights));
      } else if (name == "brier") {
        ASSAY_ASSIGN_OR_RETURN(score.value, BrierScore(labels, predictions, weights));
      } else if (name == "lift_at_10") {
        ASSAY_ASSIGN_OR_RETURN(score.value, LiftAt(labels, predictions, 0.1, weights));
      } else {
        ASSAY_ASSIGN_OR_RETURN(ThresholdMetrics at,
                               MetricsAtThreshold(labels, predictions, threshold, weights));
        if (name == "accuracy") score.value = at.accuracy;
        if (name == "precision") score.value = at.precision;
        if (name == "recall") score.value = at.recall;
        if (name == "f1") score.value = at.f1;
        if (name == "mcc") score.value = at.mcc;
      }
      return score;
    }
    case TaskType::kRegression: {
      ASSAY_ASSIGN_OR_RETURN(RegressionMetrics metrics,
                             ComputeRegressionMetrics(labels, predictions, weights));
      if (name == "rmse") score.value = metrics.rmse;
      if (name == "mae") score.value = metrics.mae;
      if (name == "r2") {
        if (!metrics.r2.has_value()) {
          return absl::FailedPreconditionError(
              "R2 is undefined: the targets are constant (zero variance)");
        }
        score.value = *metrics.r2;
      }
      if (name == "mape") {
        if (!metrics.mape.has_value()) {
          return absl::FailedPreconditionError("MAPE is undefined: every target is 0");
        }
        score.value = *metrics.mape;
      }
      return score;
    }
    case TaskType::kMulticlass: {
      ASSAY_ASSIGN_OR_RETURN(MulticlassMetrics metrics,
                             ComputeMulticlassMetrics(labels, predictions, num_classes, weights));
      if (name == "accuracy") score.value = metrics.accuracy;
      if (name == "macro_f1") score.value = metrics.macro_f1;
      if (name == "weighted_f1") score.value = metrics.weighted_f1;
      if (name == "log_loss") score.value = metrics.log_loss;
      if (name == "auc") {
        if (!metrics.ovr_macro_auc.has_value()) {
          return absl::FailedPreconditionError(
              absl::StrCat("one-vs-rest AUC is undefined: every class 0..", num_classes - 1,
                           " must occur in the labels (with positive weight)"));
        }
        score.value = *metrics.ovr_macro_auc;
      }
      return score;
    }
  }
  return absl::InvalidArgumentError("unknown task type");
}

}  // namespace assay::ml
