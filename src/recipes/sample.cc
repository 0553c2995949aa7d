#include "recipes/sample.h"

#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {
namespace {

constexpr const char* kMethodNames[] = {"first", "random", "stratified"};

// round(ratio * total), halves up; ratio in [0, 1] keeps the result in [0, total].
int64_t RatioCount(double ratio, int64_t total) {
  const double exact = ratio * static_cast<double>(total);
  const auto count = static_cast<int64_t>(std::floor(exact + 0.5));
  return std::min(std::max<int64_t>(count, 0), total);
}

absl::Status CheckSpec(const SampleSpec& spec) {
  const char* method = kMethodNames[static_cast<int>(spec.method)];
  if (spec.method == SampleMethod::kStratified) {
    if (!spec.ratio.has_value() || spec.rows.has_value()) {
      return absl::InvalidArgumentError("sample: method \"stratified\" needs \"ratio\" only");
    }
    if (spec.column.empty()) {
      return absl::InvalidArgumentError("sample: method \"stratified\" needs \"column\"");
    }
  } else if (spec.ratio.has_value() == spec.rows.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sample: method \"", method, "\" needs exactly one of \"rows\" and \"ratio\""));
  }
  if (spec.rows.has_value() && *spec.rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat("sample: rows must be >= 0, got ", *spec.rows));
  }
  if (spec.ratio.has_value() && !(*spec.ratio >= 0.0 && *spec.ratio <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample: ratio must be in [0, 1], got ", *spec.ratio));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SampleSpec> ParseSampleSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("sample");
  ASSAY_RETURN_IF_ERROR(
      context.CheckObject(config, "", {"method", "rows", "ratio", "seed", "column"}, {"method"}));
  SampleSpec spec;
  ASSAY_ASSIGN_OR_RETURN(
      const int method,
      context.OptionalChoice(config, "", "method", {"first", "random", "stratified"}, 0));
  spec.method = static_cast<SampleMethod>(method);
  const std::string method_name = kMethodNames[method];
  auto reject = [&](std::string_view key) -> absl::Status {
    if (!config.contains(key)) return absl::OkStatus();
    return context.Error(reshape::ConfigContext::KeyPath("", key),
                         absl::StrCat("not used by method \"", method_name, "\""));
  };
  if (spec.method == SampleMethod::kFirst) {
    ASSAY_RETURN_IF_ERROR(reject("seed"));
  }
  if (spec.method != SampleMethod::kStratified) {
    ASSAY_RETURN_IF_ERROR(reject("column"));
  } else {
    ASSAY_RETURN_IF_ERROR(reject("rows"));
    ASSAY_ASSIGN_OR_RETURN(spec.column, context.String(config, "", "column"));
  }
  ASSAY_ASSIGN_OR_RETURN(spec.rows, context.OptionalInt(config, "", "rows", 0));
  ASSAY_ASSIGN_OR_RETURN(spec.ratio, context.OptionalNumber(config, "", "ratio"));
  if (spec.ratio.has_value() && !(*spec.ratio >= 0.0 && *spec.ratio <= 1.0)) {
    return context.Expected("\"ratio\"", "a number in [0, 1]");
  }
  ASSAY_ASSIGN_OR_RETURN(spec.seed, context.OptionalSeed(config, "", "seed", 0));
  if (spec.method == SampleMethod::kStratified) {
    if (!spec.ratio.has_value()) return context.Error("", "missing required key \"ratio\"");
  } else if (spec.rows.has_value() == spec.ratio.has_value()) {
    return context.Error("", absl::StrCat("method \"", method_name,
                                          "\" needs exactly one of \"rows\" and \"ratio\""));
  }
  return spec;
}

absl::StatusOr<table::Table> RunSample(const SampleSpec& spec, const table::Table& input) {
  ASSAY_RETURN_IF_ERROR(CheckSpec(spec));
  const int64_t total = input.num_rows();
  std::vector<int64_t> kept;
  switch (spec.method) {
    case SampleMethod::kFirst: {
      const int64_t count =
          spec.rows.has_value() ? std::min(*spec.rows, total) : RatioCount(*spec.ratio, total);
      kept.resize(static_cast<size_t>(count));
      std::iota(kept.begin(), kept.end(), int64_t{0});
      break;
    }
    case SampleMethod::kRandom: {
      int64_t needed =
          spec.rows.has_value() ? std::min(*spec.rows, total) : RatioCount(*spec.ratio, total);
      kept.reserve(static_cast<size_t>(needed));
      reshape::SeededRandom random(spec.seed);
      // Algorithm S: row t is selected with probability needed / (total - t).
      for (int64_t row = 0; row < total && needed > 0; ++row) {
        if (random.Below(static_cast<uint64_t>(total - row)) < static_cast<uint64_t>(needed)) {
          kept.push_back(row);
          --needed;
        }
      }
      break;
    }
    case SampleMethod::kStratified: {
      ASSAY_ASSIGN_OR_RETURN(const int column,
                             reshape::FindColumn(input.schema(), "sample", "stratum", spec.column));
      const reshape::RowGroups strata = reshape::GroupRows(input, {column});
      std::vector<int64_t> remaining(static_cast<size_t>(strata.num_groups()), 0);
      for (int64_t stratum : strata.group_of_row) ++remaining[stratum];
      std::vector<int64_t> needed(remaining.size());
      for (size_t stratum = 0; stratum < remaining.size(); ++stratum) {
        needed[stratum] = RatioCount(*spec.ratio, remaining[stratum]);
      }
      reshape::SeededRandom random(spec.seed);
      // Algorithm S run in every stratum at once, drawing from one stream in input order.
      for (int64_t row = 0; row < total; ++row) {
        const int64_t stratum = strata.group_of_row[row];
        if (needed[stratum] > 0 && random.Below(static_cast<uint64_t>(remaining[stratum])) <
                                       static_cast<uint64_t>(needed[stratum])) {
          kept.push_back(row);
          --needed[stratum];
        }
        --remaining[stratum];
      }
      break;
    }
  }
  return reshape::TakeRows(input, kept);
}

}  // namespace assay::recipes
