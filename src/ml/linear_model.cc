#include "ml/linear_model.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

constexpr int kNewtonMaxParameters = 256;
constexpr int kLbfgsMemory = 10;
constexpr char kFormat[] = "assay.linear_model";
constexpr int kFormatVersion = 1;

struct Hyper {
  double l2 = 1e-3;
  int max_iter = 500;
  double tol = 1e-8;
  std::string solver = "auto";
};

absl::StatusOr<Hyper> ParseHyper(const nlohmann::json& hyper) {
  Hyper parsed;
  if (!hyper.is_object()) {
    return absl::InvalidArgumentError("linear hyperparameters must be a JSON object");
  }
  for (const auto& [name, value] : hyper.items()) {
    if (name == "l2") {
      if (!value.is_number() || !(value.get<double>() > 0) || !std::isfinite(value.get<double>())) {
        return absl::InvalidArgumentError("linear hyperparameter l2 must be a number > 0");
      }
      parsed.l2 = value.get<double>();
    } else if (name == "max_iter") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > 1000000) {
        return absl::InvalidArgumentError(
            "linear hyperparameter max_iter must be an integer in [1, 1000000]");
      }
      parsed.max_iter = value.get<int>();
    } else if (name == "tol") {
      if (!value.is_number() || !(value.get<double>() > 0)) {
        return absl::InvalidArgumentError("linear hyperparameter tol must be a number > 0");
      }
      parsed.tol = value.get<double>();
    } else if (name == "solver") {
      const std::string solver = value.is_string() ? value.get<std::string>() : "";
      if (solver != "auto" && solver != "newton" && solver != "lbfgs") {
        return absl::InvalidArgumentError(
            "linear hyperparameter solver must be \"auto\", \"newton\" or \"lbfgs\"");
      }
      parsed.solver = solver;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown linear hyperparameter \"", name,
                                                     "\" (valid: l2, max_iter, tol, solver)"));
    }
  }
  return parsed;
}

// The training problem in standardized coordinates z = (x - mean) / scale, which leaves the
// optimum unchanged (the penalty is rescaled to stay on the original coefficients) and makes
// the solvers indifferent to unscaled features. Parameters: per output k, `cols` slopes then
// the intercept.
class Objective {
 public:
  Objective(TaskType task, int outputs, const FeatureMatrix& x, const std::vector<double>& labels,
            const std::vector<double>& weights, const std::vector<double>& means,
            const std::vector<double>& scales, double l2)
      : task_(task),
        outputs_(outputs),
        cols_(x.cols),
        x_(x),
        labels_(labels),
        weights_(weights),
        means_(means),
        scales_(scales),
        l2_(l2) {
    for (double weight : weights_) total_weight_ += weight;
    penalty_.resize(cols_);
    for (int col = 0; col < cols_; ++col) penalty_[col] = 1.0 / (scales_[col] * scales_[col]);
  }

  size_t size() const { return static_cast<size_t>(outputs_) * (cols_ + 1); }

  // Value, gradient and (if hessian != nullptr) the dense Hessian, row-major size() x size().
  double Evaluate(const std::vector<double>& theta, std::vector<double>* gradient,
                  std::vector<double>* hessian) const {
    const size_t width = static_cast<size_t>(cols_) + 1;
    const size_t n = size();
    gradient->assign(n, 0);
    if (hessian != nullptr) hessian->assign(n * n, 0);
    std::vector<double> z(width);
    std::vector<double> margin(outputs_);
    std::vector<double> residual(outputs_);
    std::vector<double> prob(outputs_);
    double loss = 0;
    for (int64_t row = 0; row < x_.rows; ++row) {
      for (int col = 0; col < cols_; ++col) {
        z[col] = (static_cast<double>(x_.at(row, col)) - means_[col]) / scales_[col];
      }
      z[cols_] = 1;
      for (int k = 0; k < outputs_; ++k) {
        double sum = 0;
        const double* beta = theta.data() + k * width;
        for (size_t a = 0; a < width; ++a) sum += beta[a] * z[a];
        margin[k] = sum;
      }
      const double weight = weights_[row];
      const double label = labels_[row];
      if (task_ == TaskType::kRegression) {
        residual[0] = margin[0] - label;
        loss += weight * 0.5 * residual[0] * residual[0];
        prob[0] = 1;  // curvature
      } else if (task_ == TaskType::kBinary) {
        const double m = margin[0];
        // log(1 + exp(m)) - label * m without overflow.
        loss += weight * (std::max(m, 0.0) + std::log1p(std::exp(-std::abs(m))) - label * m);
        const double p = m >= 0 ? 1 / (1 + std::exp(-m)) : std::exp(m) / (1 + std::exp(m));
        residual[0] = p - label;
        prob[0] = p * (1 - p);
      } else {
        const double top = *std::max_element(margin.begin(), margin.end());
        double total = 0;
        for (int k = 0; k < outputs_; ++k) total += (prob[k] = std::exp(margin[k] - top));
        for (int k = 0; k < outputs_; ++k) prob[k] /= total;
        const int actual = static_cast<int>(label);
        loss += weight * (top + std::log(total) - margin[actual]);
        for (int k = 0; k < outputs_; ++k) residual[k] = prob[k] - (k == actual ? 1 : 0);
      }
      for (int k = 0; k < outputs_; ++k) {
        double* g = gradient->data() + k * width;
        const double scaled = weight * residual[k];
        for (size_t a = 0; a < width; ++a) g[a] += scaled * z[a];
      }
      if (hessian == nullptr) continue;
      for (int k = 0; k < outputs_; ++k) {
        for (int l = k; l < outputs_; ++l) {
          double curvature;
          if (task_ == TaskType::kMulticlass) {
            curvature = prob[k] * ((k == l ? 1 : 0) - prob[l]);
          } else {
            curvature = prob[0];
          }
          curvature *= weight;
          if (curvature == 0) continue;
          for (size_t a = 0; a < width; ++a) {
            double* h = hessian->data() + (k * width + a) * n + l * width;
            const double factor = curvature * z[a];
            for (size_t b = (k == l ? a : 0); b < width; ++b) h[b] += factor * z[b];
          }
        }
      }
    }
    const double inverse = 1.0 / total_weight_;
    loss *= inverse;
    for (double& g : *gradient) g *= inverse;
    double penalty = 0;
    for (int k = 0; k < outputs_; ++k) {
      for (int col = 0; col < cols_; ++col) {
        const size_t index = k * width + col;
        penalty += 0.5 * l2_ * penalty_[col] * theta[index] * theta[index];
        (*gradient)[index] += l2_ * penalty_[col] * theta[index];
      }
    }
    if (hessian != nullptr) {
      std::vector<double>& h = *hessian;
      for (size_t row = 0; row < n; ++row) {
        for (size_t col = row; col < n; ++col) {
          h[row * n + col] *= inverse;
          h[col * n + row] = h[row * n + col];
        }
      }
      for (int k = 0; k < outputs_; ++k) {
        for (int col = 0; col < cols_; ++col) {
          const size_t index = k * width + col;
          h[index * n + index] += l2_ * penalty_[col];
        }
      }
    }
    return loss + penalty;
  }

  // The softmax is unchanged by adding a constant to every intercept; keep their sum at 0 so
  // the optimum is unique (scikit-learn's lbfgs, started at 0, also keeps the sum at 0).
  void CenterIntercepts(std::vector<double>* theta) const {
    if (task_ != TaskType::kMulticlass) return;
    const size_t width = static_cast<size_t>(cols_) + 1;
    double sum = 0;
    for (int k = 0; k < outputs_; ++k) sum += (*theta)[k * width + cols_];
    for (int k = 0; k < outputs_; ++k) (*theta)[k * width + cols_] -= sum / outputs_;
  }

 private:
  TaskType task_;
  int outputs_;
  int cols_;
  const FeatureMatrix& x_;
  const std::vector<double>& labels_;
  const std::vector<double>& weights_;
  const std::vector<double>& means_;
  const std::vector<double>& scales_;
  double l2_;
  double total_weight_ = 0;
  std::vector<double> penalty_;
};

double MaxAbs(const std::vector<double>& values) {
  double top = 0;
  for (double value : values) top = std::max(top, std::abs(value));
  return top;
}

// Solves (H + damping I) step = -gradient by Cholesky factorization; the damping grows until
// the factorization succeeds (H is positive semi-definite; the multinomial intercepts leave
// one flat direction).
std::vector<double> NewtonStep(std::vector<double> hessian, const std::vector<double>& gradient) {
  const size_t n = gradient.size();
  double damping = 1e-12 * (1 + MaxAbs(hessian));
  std::vector<double> factor(n * n);
  while (true) {
    factor = hessian;
    for (size_t i = 0; i < n; ++i) factor[i * n + i] += damping;
    bool ok = true;
    for (size_t j = 0; j < n && ok; ++j) {
      double diagonal = factor[j * n + j];
      for (size_t k = 0; k < j; ++k) diagonal -= factor[j * n + k] * factor[j * n + k];
      if (!(diagonal > 0)) {
        ok = false;
        break;
      }
      const double root = std::sqrt(diagonal);
      factor[j * n + j] = root;
      for (size_t i = j + 1; i < n; ++i) {
        double sum = factor[i * n + j];
        for (size_t k = 0; k < j; ++k) sum -= factor[i * n + k] * factor[j * n + k];
        factor[i * n + j] = sum / root;
      }
    }
    if (ok) break;
    damping *= 100;
  }
  std::vector<double> step(n);
  for (size_t i = 0; i < n; ++i) {  // L y = -g
    double sum = -gradient[i];
    for (size_t k = 0; k < i; ++k) sum -= factor[i * n + k] * step[k];
    step[i] = sum / factor[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T s = y
    double sum = step[i];
    for (size_t k = i + 1; k < n; ++k) sum -= factor[k * n + i] * step[k];
    step[i] = sum / factor[i * n + i];
  }
  return step;
}

struct SolveResult {
  int iterations = 0;
  bool converged = false;
};

// Backtracking (Armijo) line search along `direction`; returns false if no step decreases f.
bool LineSearch(const Objective& objective, std::vector<double>* theta, double* value,
                std::vector<double>* gradient, const std::vector<double>& direction,
                double initial_step) {
  double slope = 0;
  for (size_t i = 0; i < direction.size(); ++i) slope += (*gradient)[i] * direction[i];
  if (!(slope < 0)) return false;
  std::vector<double> candidate(theta->size());
  std::vector<double> candidate_gradient;
  double step = initial_step;
  for (int halving = 0; halving < 60; ++halving, step *= 0.5) {
    for (size_t i = 0; i < theta->size(); ++i) candidate[i] = (*theta)[i] + step * direction[i];
    const double next = objective.Evaluate(candidate, &candidate_gradient, nullptr);
    if (next <= *value + 1e-4 * step * slope) {
      objective.CenterIntercepts(&candidate);
      *theta = candidate;
      *value = objective.Evaluate(*theta, gradient, nullptr);
      return true;
    }
  }
  return false;
}

SolveResult SolveNewton(const Objective& objective, const Hyper& hyper,
                        std::vector<double>* theta) {
  SolveResult result;
  std::vector<double> gradient;
  std::vector<double> hessian;
  for (result.iterations = 0; result.iterations < hyper.max_iter; ++result.iterations) {
    double value = objective.Evaluate(*theta, &gradient, &hessian);
    if (MaxAbs(gradient) <= hyper.tol) {
      result.converged = true;
      return result;
    }
    const std::vector<double> step = NewtonStep(hessian, gradient);
    if (!LineSearch(objective, theta, &value, &gradient, step, 1.0)) break;
  }
  objective.Evaluate(*theta, &gradient, nullptr);
  result.converged = MaxAbs(gradient) <= hyper.tol;
  return result;
}

// Limited-memory BFGS (Nocedal, "Updating quasi-Newton matrices with limited storage", Math.
// Comp. 35 (1980); two-loop recursion as in Nocedal & Wright, Numerical Optimization,
// Algorithm 7.4) with a backtracking line search; pairs with s.y <= 0 are skipped.
SolveResult SolveLbfgs(const Objective& objective, const Hyper& hyper, std::vector<double>* theta) {
  SolveResult result;
  const size_t n = theta->size();
  std::vector<double> gradient;
  double value = objective.Evaluate(*theta, &gradient, nullptr);
  std::deque<std::vector<double>> s_history, y_history;
  std::deque<double> rho_history;
  std::vector<double> direction(n), alpha(kLbfgsMemory);
  for (result.iterations = 0; result.iterations < hyper.max_iter; ++result.iterations) {
    if (MaxAbs(gradient) <= hyper.tol) {
      result.converged = true;
      return result;
    }
    for (size_t i = 0; i < n; ++i) direction[i] = -gradient[i];
    const size_t stored = s_history.size();
    for (size_t m = stored; m-- > 0;) {
      double dot = 0;
      for (size_t i = 0; i < n; ++i) dot += s_history[m][i] * direction[i];
      alpha[m] = rho_history[m] * dot;
      for (size_t i = 0; i < n; ++i) direction[i] -= alpha[m] * y_history[m][i];
    }
    double initial_step = 1.0;
    if (stored > 0) {
      double sy = 0, yy = 0;
      for (size_t i = 0; i < n; ++i) {
        sy += s_history.back()[i] * y_history.back()[i];
        yy += y_history.back()[i] * y_history.back()[i];
      }
      for (size_t i = 0; i < n; ++i) direction[i] *= sy / yy;
    } else {
      initial_step = 1.0 / std::max(1.0, MaxAbs(gradient));
    }
    for (size_t m = 0; m < stored; ++m) {
      double dot = 0;
      for (size_t i = 0; i < n; ++i) dot += y_history[m][i] * direction[i];
      const double beta = rho_history[m] * dot;
      for (size_t i = 0; i < n; ++i) direction[i] += (alpha[m] - beta) * s_history[m][i];
    }
    const std::vector<double> previous = *theta;
    const std::vector<double> previous_gradient = gradient;
    if (!LineSearch(objective, theta, &value, &gradient, direction, initial_step)) {
      if (stored == 0) break;
      s_history.clear();  // restart from steepest descent once
      y_history.clear();
      rho_history.clear();
      continue;
    }
    std::vector<double> s(n), y(n);
    double sy = 0;
    for (size_t i = 0; i < n; ++i) {
      s[i] = (*theta)[i] - previous[i];
      y[i] = gradient[i] - previous_gradient[i];
      sy += s[i] * y[i];
    }
    if (sy > 1e-16) {
      if (s_history.size() == static_cast<size_t>(kLbfgsMemory)) {
        s_history.pop_front();
        y_history.pop_front();
        rho_history.pop_front();
      }
      s_history.push_back(std::move(s));
      y_history.push_back(std::move(y));
      rho_history.push_back(1.0 / sy);
    }
  }
  result.converged = MaxAbs(gradient) <= hyper.tol;
  return result;
}

absl::Status CheckFinite(const FeatureMatrix& x, const std::vector<std::string>& names) {
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int col = 0; col < x.cols; ++col) {
      if (!std::isfinite(x.at(row, col))) {
        const std::string name =
            col < static_cast<int>(names.size()) ? names[col] : absl::StrCat("#", col);
        return absl::InvalidArgumentError(
            absl::StrCat("feature \"", name, "\" is ",
                         std::isnan(x.at(row, col)) ? "missing (NaN)" : "infinite", " in row ", row,
                         "; the linear model needs imputed, finite features (impute it in "
                         "the feature pipeline)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTrainData(const TrainParams& params, const TrainData& data,
                            std::string_view what) {
  if (data.x == nullptr || data.labels == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(what), " data needs x and labels"));
  }
  const FeatureMatrix& x = *data.x;
  if (x.values.size() != static_cast<size_t>(x.rows) * x.cols || x.rows == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " matrix is empty or its values do not match rows x cols"));
  }
  if (data.labels->size() != static_cast<size_t>(x.rows) ||
      (data.weights != nullptr && !data.weights->empty() &&
       data.weights->size() != static_cast<size_t>(x.rows))) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " has ", x.rows, " rows but ", data.labels->size(), " labels / ",
                     data.weights == nullptr ? 0 : data.weights->size(), " weights"));
  }
  ASSAY_RETURN_IF_ERROR(CheckFinite(x, x.names));
  for (size_t row = 0; row < data.labels->size(); ++row) {
    const double label = (*data.labels)[row];
    bool ok = std::isfinite(label);
    if (params.task == TaskType::kBinary) ok = label == 0 || label == 1;
    if (params.task == TaskType::kMulticlass) {
      ok = label == std::floor(label) && label >= 0 && label < params.num_classes;
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          Absl(what), " label of row ", row, " is ", label, "; ", Absl(TaskTypeName(params.task)),
          params.task == TaskType::kBinary       ? " labels must be 0 or 1"
          : params.task == TaskType::kMulticlass ? " labels must be integers 0..num_classes-1"
                                                 : " targets must be finite"));
    }
  }
  if (data.weights != nullptr) {
    double total = 0;
    for (float weight : *data.weights) {
      if (!std::isfinite(weight) || weight < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(Absl(what), " weights must be finite and >= 0"));
      }
      total += weight;
    }
    if (!data.weights->empty() && total <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(Absl(what), " weights sum to 0"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainResult> TrainLinear(const TrainParams& params, const TrainData& train,
                                        const TrainData* valid) {
  ASSAY_ASSIGN_OR_RETURN(Hyper hyper, ParseHyper(params.hyper));
  if (params.task == TaskType::kMulticlass && params.num_classes < 2) {
    return absl::InvalidArgumentError("multiclass training needs num_classes >= 2");
  }
  ASSAY_RETURN_IF_ERROR(CheckTrainData(params, train, "training"));
  if (valid != nullptr) {
    ASSAY_RETURN_IF_ERROR(CheckTrainData(params, *valid, "validation"));
    if (valid->x->cols != train.x->cols) {
      return absl::InvalidArgumentError(absl::StrCat("validation matrix has ", valid->x->cols,
                                                     " columns, training has ", train.x->cols));
    }
  }
  const FeatureMatrix& x = *train.x;
  const int cols = x.cols;
  const int outputs = params.task == TaskType::kMulticlass ? params.num_classes : 1;
  std::vector<double> labels(train.labels->begin(), train.labels->end());
  std::vector<double> weights(static_cast<size_t>(x.rows), 1.0);
  if (train.weights != nullptr && !train.weights->empty()) {
    weights.assign(train.weights->begin(), train.weights->end());
  }
  double total_weight = 0;
  for (double weight : weights) total_weight += weight;

  // Weighted means and population standard deviations (two passes for accuracy).
  std::vector<double> means(cols, 0), stds(cols, 0), scales(cols, 1);
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int col = 0; col < cols; ++col) means[col] += weights[row] * x.at(row, col);
  }
  for (double& mean : means) mean /= total_weight;
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int col = 0; col < cols; ++col) {
      const double deviation = x.at(row, col) - means[col];
      stds[col] += weights[row] * deviation * deviation;
    }
  }
  for (int col = 0; col < cols; ++col) {
    stds[col] = std::sqrt(stds[col] / total_weight);
    // A constant column is collinear with the intercept: its coefficient is 0 at the optimum.
    if (stds[col] > 0) scales[col] = stds[col];
  }

  const Objective objective(params.task, outputs, x, labels, weights, means, scales, hyper.l2);
  const size_t width = static_cast<size_t>(cols) + 1;
  std::vector<double> theta(objective.size(), 0);
  // Start at the best intercept-only model.
  if (params.task == TaskType::kRegression) {
    double sum = 0;
    for (int64_t row = 0; row < x.rows; ++row) sum += weights[row] * labels[row];
    theta[cols] = sum / total_weight;
  } else {
    std::vector<double> prior(outputs == 1 ? 2 : outputs, 0);
    for (int64_t row = 0; row < x.rows; ++row)
      prior[static_cast<size_t>(labels[row])] += weights[row];
    if (outputs == 1) {
      theta[cols] = std::log((prior[1] + 0.5) / (prior[0] + 0.5));
    } else {
      for (int k = 0; k < outputs; ++k) theta[k * width + cols] = std::log(prior[k] + 0.5);
      objective.CenterIntercepts(&theta);
    }
  }
  const bool newton =
      hyper.solver == "newton" ||
      (hyper.solver == "auto" && objective.size() <= static_cast<size_t>(kNewtonMaxParameters));
  const SolveResult solved =
      newton ? SolveNewton(objective, hyper, &theta) : SolveLbfgs(objective, hyper, &theta);

  LinearModel::Parameters model;
  model.task = params.task;
  model.feature_names = x.names;
  if (model.feature_names.size() != static_cast<size_t>(cols)) {
    model.feature_names.clear();
    for (int col = 0; col < cols; ++col) model.feature_names.push_back(absl::StrCat("f", col));
  }
  model.coefficients.assign(static_cast<size_t>(outputs) * cols, 0);
  model.intercepts.assign(outputs, 0);
  for (int k = 0; k < outputs; ++k) {
    double intercept = theta[k * width + cols];
    for (int col = 0; col < cols; ++col) {
      const double coefficient = stds[col] > 0 ? theta[k * width + col] / scales[col] : 0.0;
      model.coefficients[k * cols + col] = coefficient;
      intercept -= coefficient * means[col];
    }
    model.intercepts[k] = intercept;
  }
  model.feature_means = means;
  model.feature_stds = stds;
  model.hyper = {{"l2", hyper.l2},
                 {"max_iter", hyper.max_iter},
                 {"tol", hyper.tol},
                 {"solver", newton ? "newton" : "lbfgs"}};
  model.iterations = solved.iterations;
  model.converged = solved.converged;
  TrainResult result;
  result.model = std::make_unique<LinearModel>(std::move(model));
  return result;
}

absl::Status LinearModel::CheckInput(const FeatureMatrix& x) const {
  if (x.cols != num_features() || x.values.size() != static_cast<size_t>(x.rows) * x.cols) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear model expects ", num_features(), " feature columns, got ", x.cols));
  }
  return CheckFinite(x, p_.feature_names);
}

absl::StatusOr<std::vector<double>> LinearModel::PredictMargin(const FeatureMatrix& x) const {
  ASSAY_RETURN_IF_ERROR(CheckInput(x));
  const int outputs = num_outputs();
  const int cols = num_features();
  std::vector<double> margins(static_cast<size_t>(x.rows) * outputs);
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int k = 0; k < outputs; ++k) {
      double sum = p_.intercepts[k];
      for (int col = 0; col < cols; ++col) sum += p_.coefficients[k * cols + col] * x.at(row, col);
      margins[row * outputs + k] = sum;
    }
  }
  return margins;
}

absl::StatusOr<std::vector<double>> LinearModel::Contributions(const FeatureMatrix& x) const {
  ASSAY_RETURN_IF_ERROR(CheckInput(x));
  const int outputs = num_outputs();
  const int cols = num_features();
  const size_t block = static_cast<size_t>(cols) + 1;
  std::vector<double> bias(outputs);
  for (int k = 0; k < outputs; ++k) {
    bias[k] = p_.intercepts[k];
    for (int col = 0; col < cols; ++col)
      bias[k] += p_.coefficients[k * cols + col] * p_.feature_means[col];
  }
  std::vector<double> out(static_cast<size_t>(x.rows) * outputs * block);
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int k = 0; k < outputs; ++k) {
      double* values = out.data() + (static_cast<size_t>(row) * outputs + k) * block;
      for (int col = 0; col < cols; ++col) {
        values[col] = p_.coefficients[k * cols + col] * (x.at(row, col) - p_.feature_means[col]);
      }
      values[cols] = bias[k];
    }
  }
  return out;
}

std::vector<double> LinearModel::GainImportance() const {
  const int cols = num_features();
  std::vector<double> importance(cols, 0);
  for (int k = 0; k < num_outputs(); ++k) {
    for (int col = 0; col < cols; ++col) {
      importance[col] += std::abs(p_.coefficients[k * cols + col]) * p_.feature_stds[col];
    }
  }
  return importance;
}

absl::StatusOr<std::string> LinearModel::Serialize() const {
  nlohmann::json json = {{"format", kFormat},
                         {"format_version", kFormatVersion},
                         {"algorithm", "linear"},
                         {"task", TaskTypeName(p_.task)},
                         {"features", p_.feature_names},
                         {"coefficients", p_.coefficients},
                         {"intercepts", p_.intercepts},
                         {"feature_means", p_.feature_means},
                         {"feature_stds", p_.feature_stds},
                         {"hyper", p_.hyper},
                         {"iterations", p_.iterations},
                         {"converged", p_.converged}};
  return json.dump();
}

absl::StatusOr<std::unique_ptr<Model>> LoadLinearModel(std::string_view bytes) {
  nlohmann::json json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("linear model bytes are not a JSON object");
  }
  if (json.value("format", "") != kFormat || json.value("format_version", 0) != kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("linear model JSON needs format \"", kFormat,
                                                   "\" and format_version ", kFormatVersion));
  }
  LinearModel::Parameters p;
  try {
    const std::optional<TaskType> task = ParseTaskType(json.at("task").get<std::string>());
    if (!task.has_value()) return absl::InvalidArgumentError("linear model has an unknown task");
    p.task = *task;
    p.feature_names = json.at("features").get<std::vector<std::string>>();
    p.coefficients = json.at("coefficients").get<std::vector<double>>();
    p.intercepts = json.at("intercepts").get<std::vector<double>>();
    p.feature_means = json.at("feature_means").get<std::vector<double>>();
    p.feature_stds = json.at("feature_stds").get<std::vector<double>>();
    p.hyper = json.at("hyper");
    p.iterations = json.at("iterations").get<int>();
    p.converged = json.at("converged").get<bool>();
  } catch (const nlohmann::json::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear model JSON is malformed: ", error.what()));
  }
  const size_t cols = p.feature_names.size();
  if (p.intercepts.empty() || p.coefficients.size() != p.intercepts.size() * cols ||
      p.feature_means.size() != cols || p.feature_stds.size() != cols ||
      (p.task != TaskType::kMulticlass && p.intercepts.size() != 1)) {
    return absl::InvalidArgumentError(
        "linear model JSON sizes disagree: coefficients must be outputs x features and means, "
        "stds one per feature");
  }
  return std::unique_ptr<Model>(std::make_unique<LinearModel>(std::move(p)));
}

}  // namespace assay::ml
