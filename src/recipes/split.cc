#include "recipes/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {
namespace {

using table::DataType;

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr double kRatioSumTolerance = 1e-9;
constexpr const char* kMethodNames[] = {"random", "expression", "time_cutoff"};

// The cutoff in microseconds since the epoch; a date means its midnight UTC.
std::optional<int64_t> ParseCutoff(std::string_view text) {
  if (const std::optional<int32_t> days = common::ParseIsoDate(text); days.has_value()) {
    return int64_t{*days} * kMicrosPerDay;
  }
  return common::ParseIsoTimestamp(text);
}

absl::Status CheckRatios(const std::vector<double>& ratios) {
  if (ratios.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("split: method \"random\" needs at least two ratios, got ", ratios.size()));
  }
  double sum = 0.0;
  for (double ratio : ratios) {
    if (!(ratio >= 0.0 && ratio <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("split: every ratio must be in [0, 1], got ", ratio));
    }
    sum += ratio;
  }
  if (std::abs(sum - 1.0) > kRatioSumTolerance) {
    return absl::InvalidArgumentError(
        absl::StrCat("split: the ratios must sum to 1, they sum to ", sum));
  }
  return absl::OkStatus();
}

// Exact output sizes: floor(ratio * rows) each, then the leftover rows one by one to the
// outputs with the largest fractional parts (the largest remainder method; ties to the earlier
// output), so sizes sum to `rows` and each is within one of ratio * rows.
std::vector<int64_t> OutputSizes(const std::vector<double>& ratios, int64_t rows) {
  const double sum = std::accumulate(ratios.begin(), ratios.end(), 0.0);
  std::vector<int64_t> sizes(ratios.size());
  std::vector<double> remainders(ratios.size());
  int64_t assigned = 0;
  for (size_t output = 0; output < ratios.size(); ++output) {
    const double exact = ratios[output] / sum * static_cast<double>(rows);
    sizes[output] = std::min(rows, static_cast<int64_t>(std::floor(exact)));
    remainders[output] = exact - static_cast<double>(sizes[output]);
    assigned += sizes[output];
  }
  std::vector<size_t> by_remainder(ratios.size());
  std::iota(by_remainder.begin(), by_remainder.end(), size_t{0});
  std::stable_sort(by_remainder.begin(), by_remainder.end(),
                   [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (size_t i = 0; assigned < rows; i = (i + 1) % by_remainder.size()) {
    ++sizes[by_remainder[i]];
    ++assigned;
  }
  // Rounding noise can only overshoot by a row or two; take them back from the largest.
  while (assigned > rows) {
    --*std::max_element(sizes.begin(), sizes.end());
    --assigned;
  }
  return sizes;
}

// Random assignment with exact sizes: row t goes to output k with probability
// remaining_k / (rows - t), a multi-way form of selection sampling (Knuth, TAOCP vol. 2,
// 3.4.2, Algorithm S) that draws every assignment with the given sizes equally likely.
std::vector<std::vector<int64_t>> RandomAssignment(const std::vector<double>& ratios, uint64_t seed,
                                                   int64_t rows) {
  std::vector<int64_t> remaining = OutputSizes(ratios, rows);
  std::vector<std::vector<int64_t>> outputs(ratios.size());
  for (size_t output = 0; output < outputs.size(); ++output) {
    outputs[output].reserve(static_cast<size_t>(remaining[output]));
  }
  reshape::SeededRandom random(seed);
  for (int64_t row = 0; row < rows; ++row) {
    uint64_t draw = random.Below(static_cast<uint64_t>(rows - row));
    size_t output = 0;
    while (draw >= static_cast<uint64_t>(remaining[output])) {
      draw -= static_cast<uint64_t>(remaining[output]);
      ++output;
    }
    --remaining[output];
    outputs[output].push_back(row);
  }
  return outputs;
}

// ceil(micros / kMicrosPerDay): a date d is before the cutoff exactly when d < this day.
int64_t FirstDayNotBefore(int64_t micros) {
  int64_t day = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay != 0 && micros > 0) ++day;
  return day;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> TimeCutoffAssignment(const SplitSpec& spec,
                                                                       const table::Table& input) {
  ASSAY_ASSIGN_OR_RETURN(const int column_index,
                         reshape::FindColumn(input.schema(), "split", "cutoff", spec.column));
  const table::Column& column = input.column(column_index);
  if (!table::IsTemporal(column.type())) {
    return absl::InvalidArgumentError(absl::StrCat("split: cutoff column \"", spec.column, "\" is ",
                                                   Absl(table::DataTypeName(column.type())),
                                                   ", expected date or timestamp"));
  }
  const std::optional<int64_t> cutoff = ParseCutoff(spec.cutoff);
  if (!cutoff.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "split: cutoff \"", spec.cutoff, "\" is not a date (YYYY-MM-DD) or ISO 8601 timestamp"));
  }
  std::vector<std::vector<int64_t>> outputs(2);
  const int64_t rows = input.num_rows();
  const bool has_nulls = column.null_count() > 0;
  auto assign = [&](auto before_cutoff) {
    for (int64_t row = 0; row < rows; ++row) {
      if (has_nulls && column.IsNull(row)) {
        if (spec.nulls != SplitNulls::kDrop) {
          outputs[spec.nulls == SplitNulls::kFirst ? 0 : 1].push_back(row);
        }
        continue;
      }
      outputs[before_cutoff(row) ? 0 : 1].push_back(row);
    }
  };
  if (column.type() == DataType::kDate) {
    const int64_t first_day = FirstDayNotBefore(*cutoff);
    const auto& days = column.date_values();
    assign([&](int64_t row) { return int64_t{days[row]} < first_day; });
  } else {
    const auto& micros = column.int64_values();
    assign([&](int64_t row) { return micros[row] < *cutoff; });
  }
  return outputs;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> ExpressionAssignment(
    const SplitSpec& spec, const table::Table& input, const expr::EvalOptions& options) {
  absl::StatusOr<expr::Expression> compiled =
      expr::Expression::Compile(spec.expression, input.schema());
  if (!compiled.ok()) {
    return absl::Status(
        compiled.status().code(),
        absl::StrCat("split: expression \"", spec.expression, "\": ", compiled.status().message()));
  }
  if (compiled->result_type() != DataType::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat("split: expression \"", spec.expression, "\" gives ",
                     Absl(table::DataTypeName(compiled->result_type())),
                     ", expected a condition (bool), e.g. \"age >= 65\""));
  }
  ASSAY_ASSIGN_OR_RETURN(const table::Column matches, compiled->Evaluate(input, options));
  std::vector<std::vector<int64_t>> outputs(2);
  const std::vector<uint8_t>& values = matches.bool_values();
  // A null slot holds false, so the value alone decides: null counts as false.
  for (int64_t row = 0; row < input.num_rows(); ++row) {
    outputs[values[row] != 0 ? 0 : 1].push_back(row);
  }
  return outputs;
}

}  // namespace

absl::StatusOr<SplitSpec> ParseSplitSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("split");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(
      config, "", {"method", "ratios", "seed", "expression", "column", "cutoff", "nulls"},
      {"method"}));
  SplitSpec spec;
  ASSAY_ASSIGN_OR_RETURN(
      const int method,
      context.OptionalChoice(config, "", "method", {"random", "expression", "time_cutoff"}, 0));
  spec.method = static_cast<SplitMethod>(method);
  const std::string method_name = kMethodNames[method];
  auto only_for = [&](std::string_view key, SplitMethod owner) -> absl::Status {
    if (spec.method == owner || !config.contains(key)) return absl::OkStatus();
    return context.Error(reshape::ConfigContext::KeyPath("", key),
                         absl::StrCat("not used by method \"", method_name, "\""));
  };
  ASSAY_RETURN_IF_ERROR(only_for("ratios", SplitMethod::kRandom));
  ASSAY_RETURN_IF_ERROR(only_for("seed", SplitMethod::kRandom));
  ASSAY_RETURN_IF_ERROR(only_for("expression", SplitMethod::kExpression));
  ASSAY_RETURN_IF_ERROR(only_for("column", SplitMethod::kTimeCutoff));
  ASSAY_RETURN_IF_ERROR(only_for("cutoff", SplitMethod::kTimeCutoff));
  ASSAY_RETURN_IF_ERROR(only_for("nulls", SplitMethod::kTimeCutoff));
  switch (spec.method) {
    case SplitMethod::kRandom: {
      const auto it = config.find("ratios");
      if (it == config.end()) return context.Error("", "missing required key \"ratios\"");
      if (!it->is_array() || it->size() < 2) {
        return context.Expected("\"ratios\"", "an array of at least two numbers summing to 1");
      }
      for (size_t index = 0; index < it->size(); ++index) {
        const nlohmann::json& ratio = (*it)[index];
        if (!ratio.is_number() || ratio.get<double>() < 0.0 || ratio.get<double>() > 1.0) {
          return context.Expected(reshape::ConfigContext::IndexPath("\"ratios\"", index),
                                  "a number in [0, 1]");
        }
        spec.ratios.push_back(ratio.get<double>());
      }
      if (const absl::Status status = CheckRatios(spec.ratios); !status.ok()) {
        return context.Error("\"ratios\"", absl::StrCat("must sum to 1, they sum to ",
                                                        std::accumulate(spec.ratios.begin(),
                                                                        spec.ratios.end(), 0.0)));
      }
      ASSAY_ASSIGN_OR_RETURN(spec.seed, context.OptionalSeed(config, "", "seed", 0));
      break;
    }
    case SplitMethod::kExpression: {
      ASSAY_ASSIGN_OR_RETURN(spec.expression, context.String(config, "", "expression"));
      break;
    }
    case SplitMethod::kTimeCutoff: {
      ASSAY_ASSIGN_OR_RETURN(spec.column, context.String(config, "", "column"));
      ASSAY_ASSIGN_OR_RETURN(spec.cutoff, context.String(config, "", "cutoff"));
      if (!ParseCutoff(spec.cutoff).has_value()) {
        return context.Expected("\"cutoff\"",
                                "a date YYYY-MM-DD or an ISO 8601 timestamp such as "
                                "2024-03-01T12:00:00Z");
      }
      ASSAY_ASSIGN_OR_RETURN(
          const int nulls,
          context.OptionalChoice(config, "", "nulls", {"second", "first", "drop"}, 0));
      spec.nulls = static_cast<SplitNulls>(nulls);
      break;
    }
  }
  return spec;
}

absl::StatusOr<std::vector<table::Table>> RunSplit(const SplitSpec& spec, const table::Table& input,
                                                   const expr::EvalOptions& options) {
  std::vector<std::vector<int64_t>> assignment;
  switch (spec.method) {
    case SplitMethod::kRandom:
      ASSAY_RETURN_IF_ERROR(CheckRatios(spec.ratios));
      assignment = RandomAssignment(spec.ratios, spec.seed, input.num_rows());
      break;
    case SplitMethod::kExpression: {
      ASSAY_ASSIGN_OR_RETURN(assignment, ExpressionAssignment(spec, input, options));
      break;
    }
    case SplitMethod::kTimeCutoff: {
      ASSAY_ASSIGN_OR_RETURN(assignment, TimeCutoffAssignment(spec, input));
      break;
    }
  }
  std::vector<table::Table> outputs;
  outputs.reserve(assignment.size());
  for (const std::vector<int64_t>& rows : assignment) {
    outputs.push_back(reshape::TakeRows(input, rows));
  }
  return outputs;
}

}  // namespace assay::recipes
