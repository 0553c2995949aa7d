// Probability calibration fitted on held-out scores: Platt scaling (a sigmoid of the score)
// and isotonic regression (a monotone step-linear map). Either turns a model's score into a
// calibrated P(positive); both serialize to JSON so a fitted calibrator is stored with a
// saved model and applied at scoring time.
//
// Fitted calibrators are immutable values: thread-safe to Apply from many threads.
#ifndef ASSAY_ML_CALIBRATION_H_
#define ASSAY_ML_CALIBRATION_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// P(positive | score) = 1 / (1 + exp(-(a * score + b))). Fitted by Newton's method with a
// backtracking line search on the log loss against smoothed targets
// t+ = (N+ + 1) / (N+ + 2), t- = 1 / (N- + 2), following J. Platt, "Probabilistic outputs for
// support vector machines" (1999) and the numerically robust algorithm of H.-T. Lin, C.-J. Lin,
// R. C. Weng, "A note on Platt's probabilistic outputs for support vector machines", Machine
// Learning 68 (2007), Algorithm 1. This is the objective scikit-learn's CalibratedClassifierCV
// (method="sigmoid") minimizes; Platt used it on SVM margins, so pass margins (log-odds) when
// the model has them.
class PlattCalibrator {
 public:
  // Requires scores and labels (0/1) of equal, non-zero size, finite scores and optional
  // weights (>= 0, same size; they weight the log loss, while N+ and N- count rows as in
  // scikit-learn). Errors: INVALID_ARGUMENT for bad inputs; FAILED_PRECONDITION if labels hold
  // one class only.
  static absl::StatusOr<PlattCalibrator> Fit(std::span<const double> scores,
                                             std::span<const double> labels,
                                             std::span<const double> weights = {});

  // Calibrated probability of `score`.
  double Apply(double score) const;

  double a() const { return a_; }
  double b() const { return b_; }

  // {"method": "platt", "a": .., "b": ..}, doubles printed with round-trip precision.
  nlohmann::json ToJson() const;
  // Errors: INVALID_ARGUMENT if `json` is not a ToJson() output.
  static absl::StatusOr<PlattCalibrator> FromJson(const nlohmann::json& json);

 private:
  PlattCalibrator(double a, double b) : a_(a), b_(b) {}
  double a_ = 0;
  double b_ = 0;
};

// The non-decreasing function of the score closest to the labels in weighted least squares,
// fitted by the pool-adjacent-violators algorithm (M. Ayer et al., "An empirical distribution
// function for sampling with incomplete information", Ann. Math. Statist. 26 (1955); R. E.
// Barlow et al., "Statistical inference under order restrictions", 1972). Equal scores are
// first merged into one point (weighted mean label), as in scikit-learn's IsotonicRegression.
// Apply interpolates linearly between the fitted points and clamps outside the fitted score
// range (scikit-learn's out_of_bounds="clip", as CalibratedClassifierCV(method="isotonic")).
class IsotonicCalibrator {
 public:
  // Requires scores and labels of equal, non-zero size, finite values, optional weights >= 0
  // with a positive total. Labels are usually 0/1 but any finite target works.
  // Errors: INVALID_ARGUMENT.
  static absl::StatusOr<IsotonicCalibrator> Fit(std::span<const double> scores,
                                                std::span<const double> labels,
                                                std::span<const double> weights = {});

  double Apply(double score) const;

  // Breakpoints of the fitted function (scores ascending, values non-decreasing); interior
  // points of a constant run are dropped since interpolation does not need them.
  const std::vector<double>& scores() const { return scores_; }
  const std::vector<double>& values() const { return values_; }

  // {"method": "isotonic", "scores": [..], "values": [..]}.
  nlohmann::json ToJson() const;
  // Errors: INVALID_ARGUMENT if `json` is not a ToJson() output (sizes differ, empty, scores not
  // increasing or values decreasing).
  static absl::StatusOr<IsotonicCalibrator> FromJson(const nlohmann::json& json);

 private:
  IsotonicCalibrator(std::vector<double> scores, std::vector<double> values)
      : scores_(std::move(scores)), values_(std::move(values)) {}
  std::vector<double> scores_;
  std::vector<double> values_;
};

}  // namespace assay::ml

#endif  // ASSAY_ML_CALIBRATION_H_
