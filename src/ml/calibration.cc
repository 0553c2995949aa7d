#include "ml/calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

double WeightAt(std::span<const double> weights, size_t row) {
  return weights.empty() ? 1.0 : weights[row];
}

absl::Status CheckFitInputs(std::span<const double> scores, std::span<const double> labels,
                            std::span<const double> weights, bool binary_labels) {
  if (scores.empty()) return absl::InvalidArgumentError("calibration needs at least one row");
  if (scores.size() != labels.size() || (!weights.empty() && weights.size() != scores.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration input sizes differ: ", scores.size(), " scores, ", labels.size(),
                     " labels, ", weights.size(), " weights (pass no weights for all 1)"));
  }
  double total = 0;
  for (size_t row = 0; row < scores.size(); ++row) {
    if (!std::isfinite(scores[row]) || !std::isfinite(labels[row])) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration row ", row, " has a non-finite score or label"));
    }
    if (binary_labels && labels[row] != 0 && labels[row] != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration label of row ", row, " is ", labels[row], "; need 0 or 1"));
    }
    const double weight = WeightAt(weights, row);
    if (!std::isfinite(weight) || weight < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration weight of row ", row, " is ", weight, "; need >= 0"));
    }
    total += weight;
  }
  if (total <= 0) return absl::InvalidArgumentError("calibration weights sum to 0");
  return absl::OkStatus();
}

// Weighted log loss of the smoothed targets at margin a * score + b, written in the
// overflow-free form of Lin, Lin and Weng (2007), in terms of z = -(a * score + b) (their
// f * A + B).
double PlattObjective(std::span<const double> scores, std::span<const double> targets,
                      std::span<const double> weights, double a, double b) {
  double total = 0;
  for (size_t row = 0; row < scores.size(); ++row) {
    const double z = -(a * scores[row] + b);
    const double term = z >= 0 ? targets[row] * z + std::log1p(std::exp(-z))
                               : (targets[row] - 1) * z + std::log1p(std::exp(z));
    total += WeightAt(weights, row) * term;
  }
  return total;
}

}  // namespace

absl::StatusOr<PlattCalibrator> PlattCalibrator::Fit(std::span<const double> scores,
                                                     std::span<const double> labels,
                                                     std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckFitInputs(scores, labels, weights, /*binary_labels=*/true));
  double positives = 0;
  for (double label : labels) positives += label;
  const double negatives = static_cast<double>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) {
    return absl::FailedPreconditionError(
        "Platt scaling needs both classes among the calibration labels");
  }
  // Lin, Lin and Weng (2007), Algorithm 1: smoothed targets, start point, Newton with a
  // sigma-regularized Hessian, backtracking (Armijo) line search.
  const double high_target = (positives + 1) / (positives + 2);
  const double low_target = 1 / (negatives + 2);
  std::vector<double> targets(labels.size());
  for (size_t row = 0; row < labels.size(); ++row) {
    targets[row] = labels[row] == 1 ? high_target : low_target;
  }
  constexpr int kMaxIterations = 100;
  constexpr double kMinStep = 1e-10;
  constexpr double kSigma = 1e-12;
  // Tighter than the paper's 1e-5 so fitted values agree with a precise optimum; Newton
  // converges quadratically, so this costs one or two extra iterations.
  const double tolerance = 1e-11 * static_cast<double>(labels.size());
  double a = 0;
  double b = std::log((positives + 1) / (negatives + 1));  // -B0 of the paper
  double objective = PlattObjective(scores, targets, weights, a, b);
  for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
    // Gradient and Hessian of the objective in (a, b).
    double h_aa = kSigma, h_bb = kSigma, h_ab = 0, g_a = 0, g_b = 0;
    for (size_t row = 0; row < scores.size(); ++row) {
      const double margin = a * scores[row] + b;
      const double p =
          margin >= 0 ? 1 / (1 + std::exp(-margin)) : std::exp(margin) / (1 + std::exp(margin));
      const double weight = WeightAt(weights, row);
      const double curvature = weight * p * (1 - p);
      const double residual = weight * (p - targets[row]);
      h_aa += scores[row] * scores[row] * curvature;
      h_bb += curvature;
      h_ab += scores[row] * curvature;
      g_a += scores[row] * residual;
      g_b += residual;
    }
    if (std::abs(g_a) < tolerance && std::abs(g_b) < tolerance) break;
    const double determinant = h_aa * h_bb - h_ab * h_ab;
    const double step_a = -(h_bb * g_a - h_ab * g_b) / determinant;
    const double step_b = -(-h_ab * g_a + h_aa * g_b) / determinant;
    const double descent = g_a * step_a + g_b * step_b;
    double step = 1;
    bool moved = false;
    while (step >= kMinStep) {
      const double next_a = a + step * step_a;
      const double next_b = b + step * step_b;
      const double next = PlattObjective(scores, targets, weights, next_a, next_b);
      if (next < objective + 1e-4 * step * descent) {
        a = next_a;
        b = next_b;
        objective = next;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break;  // at the optimum to machine precision
  }
  return PlattCalibrator(a, b);
}

double PlattCalibrator::Apply(double score) const {
  const double margin = a_ * score + b_;
  return margin >= 0 ? 1 / (1 + std::exp(-margin)) : std::exp(margin) / (1 + std::exp(margin));
}

nlohmann::json PlattCalibrator::ToJson() const {
  return {{"method", "platt"}, {"a", a_}, {"b", b_}};
}

absl::StatusOr<PlattCalibrator> PlattCalibrator::FromJson(const nlohmann::json& json) {
  if (!json.is_object() || json.value("method", "") != "platt" || !json.contains("a") ||
      !json.contains("b") || !json["a"].is_number() || !json["b"].is_number()) {
    return absl::InvalidArgumentError(
        "Platt calibrator JSON must be {\"method\": \"platt\", \"a\": number, \"b\": number}");
  }
  return PlattCalibrator(json["a"].get<double>(), json["b"].get<double>());
}

absl::StatusOr<IsotonicCalibrator> IsotonicCalibrator::Fit(std::span<const double> scores,
                                                           std::span<const double> labels,
                                                           std::span<const double> weights) {
  ASSAY_RETURN_IF_ERROR(CheckFitInputs(scores, labels, weights, /*binary_labels=*/false));
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t left, size_t right) { return scores[left] < scores[right]; });
  // One block per distinct score with positive weight: (score, weighted label sum, weight).
  struct Block {
    double value = 0;   // weighted mean label of the pooled points
    double weight = 0;  // total weight
    size_t first = 0;   // index into `distinct` of the first pooled score
  };
  std::vector<double> distinct;
  std::vector<Block> points;
  for (size_t row : order) {
    const double weight = WeightAt(weights, row);
    if (weight <= 0) continue;
    if (distinct.empty() || distinct.back() != scores[row]) {
      distinct.push_back(scores[row]);
      points.push_back({0, 0, distinct.size() - 1});
    }
    Block& block = points.back();
    block.value = (block.value * block.weight + labels[row] * weight) / (block.weight + weight);
    block.weight += weight;
  }
  // Pool adjacent violators: keep a stack of blocks with increasing values; a new point that
  // is below the top merges with it until the order holds again.
  std::vector<Block> stack;
  for (const Block& point : points) {
    stack.push_back(point);
    while (stack.size() >= 2 && stack[stack.size() - 2].value >= stack.back().value) {
      Block top = stack.back();
      stack.pop_back();
      Block& below = stack.back();
      const double weight = below.weight + top.weight;
      below.value = (below.value * below.weight + top.value * top.weight) / weight;
      below.weight = weight;
    }
  }
  // Breakpoints: each block's first and last score (the interior of a constant run adds
  // nothing to the interpolation).
  std::vector<double> fitted_scores;
  std::vector<double> fitted_values;
  for (size_t index = 0; index < stack.size(); ++index) {
    const size_t first = stack[index].first;
    const size_t last = index + 1 < stack.size() ? stack[index + 1].first - 1 : distinct.size() - 1;
    fitted_scores.push_back(distinct[first]);
    fitted_values.push_back(stack[index].value);
    if (last != first) {
      fitted_scores.push_back(distinct[last]);
      fitted_values.push_back(stack[index].value);
    }
  }
  return IsotonicCalibrator(std::move(fitted_scores), std::move(fitted_values));
}

double IsotonicCalibrator::Apply(double score) const {
  if (score <= scores_.front()) return values_.front();
  if (score >= scores_.back()) return values_.back();
  const size_t upper = static_cast<size_t>(std::upper_bound(scores_.begin(), scores_.end(), score) -
                                           scores_.begin());
  const size_t lower = upper - 1;
  const double share = (score - scores_[lower]) / (scores_[upper] - scores_[lower]);
  return values_[lower] + share * (values_[upper] - values_[lower]);
}

nlohmann::json IsotonicCalibrator::ToJson() const {
  return {{"method", "isotonic"}, {"scores", scores_}, {"values", values_}};
}

absl::StatusOr<IsotonicCalibrator> IsotonicCalibrator::FromJson(const nlohmann::json& json) {
  const char* kShape =
      "isotonic calibrator JSON must be {\"method\": \"isotonic\", \"scores\": [increasing "
      "numbers], \"values\": [non-decreasing numbers of the same length]}";
  if (!json.is_object() || json.value("method", "") != "isotonic" || !json.contains("scores") ||
      !json.contains("values") || !json["scores"].is_array() || !json["values"].is_array()) {
    return absl::InvalidArgumentError(kShape);
  }
  std::vector<double> scores;
  std::vector<double> values;
  for (const nlohmann::json& item : json["scores"]) {
    if (!item.is_number()) return absl::InvalidArgumentError(kShape);
    scores.push_back(item.get<double>());
  }
  for (const nlohmann::json& item : json["values"]) {
    if (!item.is_number()) return absl::InvalidArgumentError(kShape);
    values.push_back(item.get<double>());
  }
  if (scores.empty() || scores.size() != values.size()) return absl::InvalidArgumentError(kShape);
  for (size_t index = 1; index < scores.size(); ++index) {
    if (scores[index] <= scores[index - 1] || values[index] < values[index - 1]) {
      return absl::InvalidArgumentError(kShape);
    }
  }
  return IsotonicCalibrator(std::move(scores), std::move(values));
}

}  // namespace assay::ml
