// Prepare processors over numbers: round, clip, bin (fixed width, quantile, custom edges).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {
namespace {

// Binds a step that rewrites each of `columns` in place after checking each is int64 or
// float64. `rewrite` returns a column's new values and adds the cells it changed to `changed`,
// or returns nullopt to keep the column as it is.
using NumericRewrite = std::function<std::optional<Column>(const Column& column, int64_t& changed)>;
absl::StatusOr<BoundStep> BindNumericRewrite(const Schema& input,
                                             const std::vector<std::string>& columns,
                                             NumericRewrite rewrite) {
  ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes, ResolveColumns(input, columns, "columns"));
  for (int index : indexes) {
    ASSAY_RETURN_IF_ERROR(RequireType(input, index, {DataType::kInt64, DataType::kFloat64}, ""));
  }
  BoundStep bound;
  bound.output = input;
  bound.apply = [indexes, rewrite = std::move(rewrite)](
                    const Table& table, const StepContext&,
                    PrepareStepLog& log) -> absl::StatusOr<Table> {
    TableEdit edit = TableEdit::From(table);
    log.cells_changed = 0;
    for (int index : indexes) {
      std::optional<Column> rewritten = rewrite(table.column(index), log.cells_changed);
      if (rewritten) edit.columns[index] = *std::move(rewritten);
    }
    return std::move(edit).Build();
  };
  return bound;
}

// ---- round -------------------------------------------------------------------------------------

int64_t Pow10(int exponent) {
  int64_t value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

class RoundProcessor : public PrepareProcessor {
 public:
  RoundProcessor(std::vector<std::string> columns, int decimals)
      : columns_(std::move(columns)), decimals_(decimals) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    return BindNumericRewrite(
        input, columns_, [this](const Column& column, int64_t& changed) -> std::optional<Column> {
          if (column.type() == DataType::kFloat64) {
            std::vector<double> values = column.float64_values();
            const double scale = std::pow(10.0, decimals_);
            for (double& value : values) {
              const double scaled = value * scale;
              // Beyond 2^53 a double has no fractional digits left to round.
              if (!std::isfinite(scaled) || std::fabs(scaled) >= 9007199254740992.0) continue;
              const double rounded = std::round(scaled) / scale;
              changed += rounded != value;
              value = rounded;
            }
            return *Column::FromFloat64s(std::move(values), column.validity());
          }
          if (decimals_ >= 0) return std::nullopt;
          const int64_t unit = Pow10(-decimals_);
          std::vector<int64_t> values = column.int64_values();
          for (int64_t& value : values) {
            // Half away from zero, without overflow for values near the int64 limits.
            const int64_t remainder = value % unit;
            int64_t rounded = value - remainder;
            if (2 * (remainder < 0 ? -remainder : remainder) >= unit) {
              if (value >= 0 && rounded <= INT64_MAX - unit) rounded += unit;
              if (value < 0 && rounded >= INT64_MIN + unit) rounded -= unit;
            }
            changed += rounded != value;
            value = rounded;
          }
          return *Column::FromInt64s(std::move(values), column.validity());
        });
  }

 private:
  std::vector<std::string> columns_;
  int decimals_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseRound(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  const int64_t decimals = config.OptionalInt("decimals").value_or(0);
  if (decimals < -18 || decimals > 15) config.Fail("decimals", "expected an integer in -18..15");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<RoundProcessor>(std::move(columns), static_cast<int>(decimals));
}

// ---- clip --------------------------------------------------------------------------------------

class ClipProcessor : public PrepareProcessor {
 public:
  ClipProcessor(std::vector<std::string> columns, std::optional<double> min,
                std::optional<double> max)
      : columns_(std::move(columns)), min_(min), max_(max) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    return BindNumericRewrite(
        input, columns_, [this](const Column& column, int64_t& changed) -> std::optional<Column> {
          if (column.type() == DataType::kFloat64) {
            std::vector<double> values = column.float64_values();
            const double low = min_.value_or(-HUGE_VAL);
            const double high = max_.value_or(HUGE_VAL);
            for (int64_t row = 0; row < column.size(); ++row) {
              double& value = values[row];
              // NaN compares false both ways and stays NaN.
              if (column.IsValid(row) && (value < low || value > high)) {
                value = value < low ? low : high;
                ++changed;
              }
            }
            return *Column::FromFloat64s(std::move(values), column.validity());
          }
          // An integer column is clipped into [ceil(min), floor(max)], the integers in range.
          const int64_t low = IntBound(min_, true);
          const int64_t high = IntBound(max_, false);
          std::vector<int64_t> values = column.int64_values();
          for (int64_t row = 0; row < column.size(); ++row) {
            int64_t& value = values[row];
            if (column.IsValid(row) && (value < low || value > high)) {
              value = value < low ? low : high;
              ++changed;
            }
          }
          return *Column::FromInt64s(std::move(values), column.validity());
        });
  }

 private:
  static int64_t IntBound(std::optional<double> bound, bool lower) {
    if (!bound.has_value()) return lower ? INT64_MIN : INT64_MAX;
    const double value = lower ? std::ceil(*bound) : std::floor(*bound);
    if (value <= -9223372036854775808.0) return INT64_MIN;
    if (value >= 9223372036854775807.0) return INT64_MAX;
    return static_cast<int64_t>(value);
  }

  std::vector<std::string> columns_;
  std::optional<double> min_;
  std::optional<double> max_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseClip(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  auto min = config.OptionalNumber("min");
  auto max = config.OptionalNumber("max");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!min.has_value() && !max.has_value()) {
    config.Fail("", "set min, max or both");
  } else if (min.has_value() && max.has_value() && *min > *max) {
    config.Fail("min", "min is greater than max");
  }
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<ClipProcessor>(std::move(columns), min, max);
}

// ---- bin ---------------------------------------------------------------------------------------

enum class BinMethod { kFixedWidth, kQuantile, kCustom };

struct BinSpec {
  BinMethod method = BinMethod::kCustom;
  double width = 0;
  std::optional<double> min;
  std::optional<double> max;
  int64_t bins = 0;
  std::vector<double> edges;
  std::optional<std::vector<std::string>> labels;
};

class BinProcessor : public PrepareProcessor {
 public:
  BinProcessor(std::string column, std::string into, BinSpec spec)
      : column_(std::move(column)), into_(std::move(into)), spec_(std::move(spec)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kInt64, DataType::kFloat64}, ""));
    std::vector<Field> fields = input.fields();
    PutField(fields, into_, DataType::kString);
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "bin"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source](const Table& table, const StepContext&,
                                 PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const int64_t rows = column.size();
      std::vector<double> values(static_cast<size_t>(rows));
      std::vector<uint8_t> valid(static_cast<size_t>(rows));
      for (int64_t row = 0; row < rows; ++row) {
        values[row] = column.type() == DataType::kFloat64
                          ? column.float64_values()[row]
                          : static_cast<double>(column.int64_values()[row]);
        valid[row] = column.IsValid(row) && !std::isnan(values[row]);
      }
      ColumnBuilder builder(DataType::kString);
      builder.Reserve(rows);
      int64_t out_of_range = 0;
      if (spec_.method == BinMethod::kFixedWidth) {
        const double origin = spec_.min.value_or(0.0);
        for (int64_t row = 0; row < rows; ++row) {
          const double value = values[row];
          if (!valid[row] || (spec_.min && value < *spec_.min) ||
              (spec_.max && value >= *spec_.max) || !std::isfinite(value)) {
            out_of_range += valid[row];
            builder.AppendNull();
            continue;
          }
          const double k = std::floor((value - origin) / spec_.width);
          if (spec_.labels.has_value()) {
            // Rounding in the division must not push a value just below max past the last bin.
            const auto last = static_cast<double>(spec_.labels->size() - 1);
            builder.AppendString((*spec_.labels)[static_cast<size_t>(std::clamp(k, 0.0, last))]);
          } else {
            const double low = origin + k * spec_.width;
            builder.AppendString(
                absl::StrCat("[", FormatNumber(low), ", ", FormatNumber(low + spec_.width), ")"));
          }
        }
      } else {
        std::vector<double> edges = spec_.edges;
        if (spec_.method == BinMethod::kQuantile) {
          edges = QuantileEdges(values, valid, spec_.bins);
          if (edges.empty()) {
            for (int64_t row = 0; row < rows; ++row) builder.AppendNull();
          }
        }
        if (!edges.empty()) {
          const bool closed_last = spec_.method == BinMethod::kQuantile;
          std::vector<std::string> labels = spec_.labels.value_or(std::vector<std::string>{});
          if (labels.empty()) {
            for (size_t i = 0; i + 1 < edges.size(); ++i) {
              const bool last = i + 2 == edges.size();
              labels.push_back(absl::StrCat("[", FormatNumber(edges[i]), ", ",
                                            FormatNumber(edges[i + 1]),
                                            last && closed_last ? "]" : ")"));
            }
          }
          for (int64_t row = 0; row < rows; ++row) {
            const double value = values[row];
            const bool above = closed_last ? value > edges.back() : value >= edges.back();
            if (!valid[row] || value < edges.front() || above) {
              out_of_range += valid[row];
              builder.AppendNull();
              continue;
            }
            // The bin is the last edge <= value, capped to the last bin (closed on the right
            // for quantiles, so the maximum lands in it).
            auto bin = std::upper_bound(edges.begin(), edges.end(), value) - edges.begin() - 1;
            bin = std::min<int64_t>(bin, static_cast<int64_t>(edges.size()) - 2);
            builder.AppendString(labels[static_cast<size_t>(bin)]);
          }
        }
      }
      log.detail = absl::StrCat(column_, ": ", out_of_range, " values out of range (null)");
      return PutColumn(table, into_, builder.Finish());
    };
    return bound;
  }

 private:
  // Edges at the k/bins quantiles of the valid values, linear interpolation between order
  // statistics (Hyndman & Fan 1996, definition 7, the numpy and R default). Empty if no value.
  static std::vector<double> QuantileEdges(const std::vector<double>& values,
                                           const std::vector<uint8_t>& valid, int64_t bins) {
    std::vector<double> sorted;
    for (size_t row = 0; row < values.size(); ++row) {
      if (valid[row]) sorted.push_back(values[row]);
    }
    if (sorted.empty()) return {};
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> edges;
    for (int64_t k = 0; k <= bins; ++k) {
      const double position = static_cast<double>(k) / static_cast<double>(bins) *
                              static_cast<double>(sorted.size() - 1);
      const auto low = static_cast<size_t>(std::floor(position));
      const size_t high = std::min(low + 1, sorted.size() - 1);
      const double fraction = position - static_cast<double>(low);
      edges.push_back(sorted[low] + (sorted[high] - sorted[low]) * fraction);
    }
    edges.front() = sorted.front();
    edges.back() = sorted.back();
    return edges;
  }

  std::string column_;
  std::string into_;
  BinSpec spec_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseBin(StepConfig& config) {
  auto column = config.String("column");
  auto into = config.OptionalString("into").value_or(column + "_bin");
  const std::string method = config.Choice("method", {"fixed_width", "quantile", "custom"}, "");
  BinSpec spec;
  spec.labels = config.OptionalStringList("labels", "bin labels");
  auto width = config.OptionalNumber("width");
  spec.min = config.OptionalNumber("min");
  spec.max = config.OptionalNumber("max");
  auto bins = config.OptionalInt("bins");
  auto edges = config.OptionalRaw("edges");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  auto unused = [&](std::initializer_list<std::pair<const char*, bool>> keys) {
    for (const auto& [key, present] : keys) {
      if (present) config.Fail(key, absl::StrCat("not used by method \"", method, "\""));
    }
  };
  int64_t label_count = -1;
  if (method == "fixed_width") {
    spec.method = BinMethod::kFixedWidth;
    unused({{"bins", bins.has_value()}, {"edges", edges.has_value()}});
    if (!width.has_value() || !(*width > 0) || !std::isfinite(*width)) {
      config.Fail("width", "expected a positive number (the bin width)");
    } else if (spec.min && spec.max) {
      if (*spec.min >= *spec.max) config.Fail("min", "min must be less than max");
      label_count = static_cast<int64_t>(std::ceil((*spec.max - *spec.min) / *width));
    } else if (spec.labels.has_value()) {
      config.Fail("labels", "labels need both min and max, so the number of bins is known");
    }
    spec.width = width.value_or(1.0);
  } else if (method == "quantile") {
    spec.method = BinMethod::kQuantile;
    unused({{"width", width.has_value()},
            {"min", spec.min.has_value()},
            {"max", spec.max.has_value()},
            {"edges", edges.has_value()}});
    if (!bins.has_value() || *bins < 1 || *bins > 1000) {
      config.Fail("bins", "expected an integer in 1..1000 (the number of quantile bins)");
    }
    spec.bins = bins.value_or(1);
    label_count = spec.bins;
  } else {
    spec.method = BinMethod::kCustom;
    unused({{"width", width.has_value()},
            {"min", spec.min.has_value()},
            {"max", spec.max.has_value()},
            {"bins", bins.has_value()}});
    const char* expected = "expected a list of at least two increasing numbers";
    if (!edges.has_value() || !edges->is_array() || edges->size() < 2) {
      config.Fail("edges", expected);
    } else {
      for (const auto& edge : *edges) {
        if (!edge.is_number()) {
          config.Fail("edges", expected);
          break;
        }
        spec.edges.push_back(edge.get<double>());
        if (spec.edges.size() > 1 && !(spec.edges.back() > spec.edges[spec.edges.size() - 2])) {
          config.Fail("edges", expected);
          break;
        }
      }
      label_count = static_cast<int64_t>(spec.edges.size()) - 1;
    }
  }
  if (spec.labels.has_value() && label_count >= 0 &&
      static_cast<int64_t>(spec.labels->size()) != label_count) {
    config.Fail("labels", absl::StrCat("expected ", label_count, " labels (one per bin), got ",
                                       spec.labels->size()));
  }
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<BinProcessor>(std::move(column), std::move(into), std::move(spec));
}

}  // namespace

void AddNumberProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("round", ParseRound);
  registry.emplace_back("clip", ParseClip);
  registry.emplace_back("bin", ParseBin);
}

}  // namespace assay::recipes
