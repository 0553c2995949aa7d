#include "ml/search_space.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace assay::ml {
namespace {

double LogUniform(SplitMix64& rng, double low, double high) {
  return std::exp(std::log(low) + rng.Uniform() * (std::log(high) - std::log(low)));
}

double Uniform(SplitMix64& rng, double low, double high) {
  return low + rng.Uniform() * (high - low);
}

int64_t IntBetween(SplitMix64& rng, int64_t low, int64_t high) {
  return low + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(high - low + 1)));
}

// Rounds to 4 significant digits so stored configurations read well and round-trip exactly.
double Tidy(double value) {
  if (value == 0) return 0;
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(value))));
  return std::round(value * scale) / scale;
}

}  // namespace

nlohmann::json DrawHyperparameters(const std::string& algorithm, int draw, SplitMix64& rng) {
  nlohmann::json hyper = nlohmann::json::object();
  if (algorithm == "xgboost") {
    // Defaults: a shallower, slower-learning variant of XGBoost's own defaults, which early
    // stopping then sizes; ranges follow common practice for tabular data (e.g. the
    // hyperparameter spaces of Probst, Boulesteix, Bischl 2019, "Tunability").
    if (draw == 0) {
      hyper = {{"max_depth", 6},   {"learning_rate", 0.1},    {"min_child_weight", 1},
               {"subsample", 1.0}, {"colsample_bytree", 1.0}, {"reg_lambda", 1.0},
               {"reg_alpha", 0.0}};
    } else {
      hyper["max_depth"] = IntBetween(rng, 2, 10);
      hyper["learning_rate"] = Tidy(LogUniform(rng, 0.01, 0.3));
      hyper["min_child_weight"] = Tidy(LogUniform(rng, 0.5, 30));
      hyper["subsample"] = Tidy(Uniform(rng, 0.5, 1.0));
      hyper["colsample_bytree"] = Tidy(Uniform(rng, 0.4, 1.0));
      hyper["reg_lambda"] = Tidy(LogUniform(rng, 0.01, 30));
      hyper["reg_alpha"] = rng.Uniform() < 0.5 ? 0.0 : Tidy(LogUniform(rng, 0.001, 5));
    }
  } else if (algorithm == "xgboost_rf") {
    if (draw == 0) {
      hyper = {{"max_depth", 8},
               {"num_parallel_tree", 200},
               {"subsample", 0.632},
               {"colsample_bynode", 0.5},
               {"min_child_weight", 1}};
    } else {
      hyper["max_depth"] = IntBetween(rng, 4, 14);
      hyper["num_parallel_tree"] = IntBetween(rng, 100, 300);
      hyper["subsample"] = Tidy(Uniform(rng, 0.4, 0.9));
      hyper["colsample_bynode"] = Tidy(Uniform(rng, 0.2, 0.9));
      hyper["min_child_weight"] = Tidy(LogUniform(rng, 0.5, 20));
    }
  } else if (algorithm == "xgboost_linear") {
    if (draw == 0) {
      hyper = {{"learning_rate", 0.5}, {"reg_lambda", 1.0}, {"reg_alpha", 0.0}};
    } else {
      hyper["learning_rate"] = Tidy(LogUniform(rng, 0.1, 1.0));
      hyper["reg_lambda"] = Tidy(LogUniform(rng, 0.001, 30));
      hyper["reg_alpha"] = rng.Uniform() < 0.5 ? 0.0 : Tidy(LogUniform(rng, 0.001, 5));
    }
  } else if (algorithm == "linear") {
    // l2 is the ridge penalty on the mean loss (docs/ml/linear.md): scikit-learn's C = 1 is
    // l2 = 1/n, so the default 0.001 is C = 1 at 1,000 training rows (l2 = 1 over-regularized
    // the churn example: bench/automl_quality.sh, docs/benchmarks.md).
    hyper["l2"] = draw == 0 ? 0.001 : Tidy(LogUniform(rng, 1e-5, 10));
  }
  return hyper;
}

std::string PipelineFamily(std::string_view algorithm) {
  return algorithm == "linear" || algorithm == "xgboost_linear" ? "linear" : "trees";
}

std::string SummarizeHyperparameters(const nlohmann::json& hyper) {
  std::vector<std::string> parts;
  for (const auto& item : hyper.items()) {
    if (item.value().is_number_float()) {
      parts.push_back(absl::StrFormat("%s=%g", item.key(), item.value().get<double>()));
    } else {
      parts.push_back(absl::StrCat(item.key(), "=", item.value().dump()));
    }
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace assay::ml
