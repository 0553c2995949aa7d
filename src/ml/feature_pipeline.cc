#include "ml/feature_pipeline.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

using table::Column;
using table::DataType;

// Rows per block of Transform: the block's slice of the output matrix stays in cache while
// each input column writes its features into it.
constexpr int64_t kBlockRows = 1024;
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

constexpr int kDateParts = 5;
constexpr const char* kDatePartNames[kDateParts] = {"year", "month", "day", "weekday",
                                                    "elapsed_days"};

// Row ids of a pass: every row of the table, or a listed subset.
struct AllRows {
  int64_t operator()(int64_t index) const { return index; }
};
struct ListedRows {
  const int64_t* rows;
  int64_t operator()(int64_t index) const { return rows[index]; }
};

int32_t DayOfMicros(int64_t micros) {
  int64_t day = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay < 0) --day;  // floor, also before 1970
  return static_cast<int32_t>(day);
}

// Calls fn(index, value, missing) for positions [begin, end) of a bool/int64/float64 column.
// The type switch is outside the loop; non-finite floats count as missing.
template <typename RowMap, typename Fn>
void ForEachNumeric(const Column& column, RowMap map, int64_t begin, int64_t end, Fn fn) {
  switch (column.type()) {
    case DataType::kFloat64: {
      const double* values = column.float64_values().data();
      for (int64_t index = begin; index < end; ++index) {
        const int64_t row = map(index);
        const double value = values[row];
        fn(index, value, column.IsNull(row) || !std::isfinite(value));
      }
      break;
    }
    case DataType::kInt64: {
      const int64_t* values = column.int64_values().data();
      for (int64_t index = begin; index < end; ++index) {
        const int64_t row = map(index);
        fn(index, static_cast<double>(values[row]), column.IsNull(row));
      }
      break;
    }
    case DataType::kBool: {
      const uint8_t* values = column.bool_values().data();
      for (int64_t index = begin; index < end; ++index) {
        const int64_t row = map(index);
        fn(index, values[row] != 0 ? 1.0 : 0.0, column.IsNull(row));
      }
      break;
    }
    default:
      break;  // excluded by the type checks of Fit and Transform
  }
}

// Calls fn(index, day, missing) for positions [begin, end) of a date or timestamp column.
template <typename RowMap, typename Fn>
void ForEachDay(const Column& column, RowMap map, int64_t begin, int64_t end, Fn fn) {
  if (column.type() == DataType::kDate) {
    const int32_t* values = column.date_values().data();
    for (int64_t index = begin; index < end; ++index) {
      const int64_t row = map(index);
      fn(index, values[row], column.IsNull(row));
    }
  } else if (column.type() == DataType::kTimestamp) {
    const int64_t* values = column.int64_values().data();
    for (int64_t index = begin; index < end; ++index) {
      const int64_t row = map(index);
      fn(index, DayOfMicros(values[row]), column.IsNull(row));
    }
  }
}

// The integer key of a non-string categorical value.
int64_t IntegerKey(const Column& column, int64_t row) {
  switch (column.type()) {
    case DataType::kBool:
      return column.bool_values()[row];
    case DataType::kDate:
      return column.date_values()[row];
    default:
      return column.int64_values()[row];  // int64, timestamp
  }
}

// Calls fn(index, code) with the category code of positions [begin, end): 0..C-1 a known
// category, C "(other)", C + 1 "(missing)".
template <typename RowMap, typename Fn>
void ForEachCode(const Column& column, const absl::flat_hash_map<std::string, int32_t>& strings,
                 const absl::flat_hash_map<int64_t, int32_t>& integers, int32_t num_categories,
                 RowMap map, int64_t begin, int64_t end, Fn fn) {
  const int32_t other = num_categories;
  const int32_t missing = num_categories + 1;
  if (column.type() == DataType::kString) {
    for (int64_t index = begin; index < end; ++index) {
      const int64_t row = map(index);
      if (column.IsNull(row)) {
        fn(index, missing);
        continue;
      }
      const auto found = strings.find(Absl(column.StringAt(row)));
      fn(index, found == strings.end() ? other : found->second);
    }
    return;
  }
  for (int64_t index = begin; index < end; ++index) {
    const int64_t row = map(index);
    if (column.IsNull(row)) {
      fn(index, missing);
      continue;
    }
    const auto found = integers.find(IntegerKey(column, row));
    fn(index, found == integers.end() ? other : found->second);
  }
}

std::string IntegerCategoryText(DataType type, int64_t key) {
  switch (type) {
    case DataType::kBool:
      return key != 0 ? "true" : "false";
    case DataType::kDate:
      return common::FormatDate(static_cast<int32_t>(key));
    case DataType::kTimestamp:
      return common::FormatTimestampMicros(key);
    default:
      return absl::StrCat(key);
  }
}

std::optional<int64_t> ParseIntegerCategory(DataType type, const std::string& text) {
  switch (type) {
    case DataType::kBool:
      if (text == "true") return 1;
      if (text == "false") return 0;
      return std::nullopt;
    case DataType::kDate: {
      const auto day = common::ParseIsoDate(text);
      if (!day) return std::nullopt;
      return *day;
    }
    case DataType::kTimestamp:
      return common::ParseIsoTimestamp(text);
    default: {
      int64_t value = 0;
      const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
      if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
      return value;
    }
  }
}

// SplitMix64 (S. Vigna, 2015, public domain): a tiny PRNG whose output is the same on every
// platform, for the fold assignment of target encoding.
uint64_t NextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Fold of each position in [0, n): a seeded Fisher-Yates permutation, dealt round-robin so
// fold sizes differ by at most one.
std::vector<uint8_t> AssignFolds(size_t n, int num_folds, uint64_t seed) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  uint64_t state = seed;
  for (size_t index = n; index > 1; --index) {
    const size_t pick = static_cast<size_t>(NextRandom(state) % index);
    std::swap(order[index - 1], order[pick]);
  }
  std::vector<uint8_t> folds(n, 0);
  for (size_t rank = 0; rank < n; ++rank) {
    folds[order[rank]] = static_cast<uint8_t>(rank % static_cast<size_t>(num_folds));
  }
  return folds;
}

template <typename T>
T Pick(const std::optional<T>& column, const std::optional<T>& section, T fallback) {
  if (column) return *column;
  if (section) return *section;
  return fallback;
}

bool HasNumericOptions(const NumericHandling& handling) {
  return handling.impute || handling.impute_value || handling.scale || handling.missing_indicator;
}
bool HasCategoricalOptions(const CategoricalHandling& handling) {
  return handling.encoding || handling.top_k || handling.min_count || handling.order ||
         handling.prior_weight;
}

std::string FormatNumber(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

nlohmann::json NumberOrNull(double value) {
  if (std::isnan(value)) return nullptr;
  return value;
}

}  // namespace

absl::StatusOr<FeaturePipeline> FeaturePipeline::Fit(const table::Table& table,
                                                     std::string_view target,
                                                     const std::vector<int64_t>& train_rows,
                                                     const std::vector<float>& train_labels,
                                                     TaskType task, const PipelineSpec& spec,
                                                     uint64_t seed) {
  if (train_rows.empty()) {
    return absl::InvalidArgumentError("feature pipeline: no training rows to fit on");
  }
  if (train_labels.size() != train_rows.size()) {
    return absl::InvalidArgumentError(absl::StrCat("feature pipeline: ", train_labels.size(),
                                                   " labels for ", train_rows.size(),
                                                   " training rows; pass one label per row"));
  }
  for (int64_t row : train_rows) {
    if (row < 0 || row >= table.num_rows()) {
      return absl::InvalidArgumentError(absl::StrCat("feature pipeline: training row id ", row,
                                                     " is outside the table's ", table.num_rows(),
                                                     " rows"));
    }
  }
  int max_class = 0;
  for (size_t index = 0; index < train_labels.size(); ++index) {
    const float label = train_labels[index];
    const bool valid =
        std::isfinite(label) && (task == TaskType::kRegression ||
                                 (task == TaskType::kBinary && (label == 0 || label == 1)) ||
                                 (task == TaskType::kMulticlass && label >= 0 &&
                                  label == std::floor(label) && label < 65536));
    if (!valid) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature pipeline: label ", label, " of training row ", train_rows[index],
                       " is not valid for a ", Absl(TaskTypeName(task)), " task"));
    }
    max_class = std::max(max_class, static_cast<int>(label));
  }
  if (!target.empty() && !table.schema().FindField(target)) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature pipeline: target column \"", Absl(target),
                     "\" is not in the table (columns: ", table.schema().NameList(), ")"));
  }

  FeaturePipeline pipeline;
  pipeline.task_ = task;
  pipeline.family_ = spec.family;
  pipeline.seed_ = seed;
  pipeline.target_ = std::string(target);
  pipeline.spec_ = spec;
  ASSAY_ASSIGN_OR_RETURN(pipeline.decisions_, DecideColumnRoles(table, target, train_rows, spec));

  const int num_folds = std::min<int>(spec.target_folds, static_cast<int>(train_rows.size()));
  pipeline.num_folds_ = num_folds >= 2 ? num_folds : 0;
  std::vector<uint8_t> folds;
  if (pipeline.num_folds_ > 0) folds = AssignFolds(train_rows.size(), pipeline.num_folds_, seed);

  std::vector<std::string> dropped;
  for (int index = 0; index < table.num_columns(); ++index) {
    ColumnDecision& decision = pipeline.decisions_[static_cast<size_t>(index)];
    if (decision.role == ColumnRole::kDropped) {
      dropped.push_back(absl::StrCat(decision.column, ": ", decision.reason));
      continue;
    }
    FittedColumn fitted;
    fitted.name = decision.column;
    fitted.type = decision.type;
    fitted.role = decision.role;
    fitted.outputs = task == TaskType::kMulticlass ? std::max(2, max_class + 1) : 1;
    ASSAY_RETURN_IF_ERROR(FitColumn(table.column(index), train_rows, train_labels, task, spec,
                                    folds, pipeline.num_folds_, fitted, decision));
    pipeline.columns_.push_back(std::move(fitted));
  }
  if (pipeline.columns_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature pipeline: no column is left to be a feature (", absl::StrJoin(dropped, "; "),
        "); include columns or override roles in the features spec"));
  }
  pipeline.AssignFeatureNames();
  pipeline.has_fold_state_ = true;
  pipeline.fit_rows_ = train_rows;
  pipeline.fold_of_row_ = std::move(folds);
  return pipeline;
}

namespace {

// Imputation and scaling of one numeric output from the observed (finite, non-missing)
// training values. Scaling statistics come from the observed values, before imputation.
struct StepFit {
  double fill;
  double center;
  double scale;
};

StepFit FitStep(std::vector<double>& observed, ImputeStrategy impute, double constant,
                ScaleStrategy scale) {
  StepFit fit{kMissing, 0, 1};
  double mean = 0, min = 0, max = 0, variance = 0;
  if (!observed.empty()) {
    // Two-pass mean and variance, in row order, so results do not depend on anything else.
    double sum = 0;
    for (double value : observed) sum += value;
    mean = sum / static_cast<double>(observed.size());
    for (double value : observed) variance += (value - mean) * (value - mean);
    variance /= static_cast<double>(observed.size());
    const auto [low, high] = std::minmax_element(observed.begin(), observed.end());
    min = *low;
    max = *high;
  }
  switch (impute) {
    case ImputeStrategy::kNone:
      break;
    case ImputeStrategy::kMean:
      fit.fill = mean;
      break;
    case ImputeStrategy::kMedian: {
      if (observed.empty()) {
        fit.fill = 0;
        break;
      }
      const size_t middle = observed.size() / 2;
      std::nth_element(observed.begin(), observed.begin() + static_cast<ptrdiff_t>(middle),
                       observed.end());
      double median = observed[middle];
      if (observed.size() % 2 == 0) {
        const double below =
            *std::max_element(observed.begin(), observed.begin() + static_cast<ptrdiff_t>(middle));
        median = (median + below) / 2;
      }
      fit.fill = median;
      break;
    }
    case ImputeStrategy::kConstant:
      fit.fill = constant;
      break;
  }
  if (scale == ScaleStrategy::kStandard) {
    fit.center = mean;
    const double deviation = std::sqrt(variance);
    fit.scale = deviation > 0 ? deviation : 1;
  } else if (scale == ScaleStrategy::kMinMax) {
    fit.center = min;
    fit.scale = max > min ? max - min : 1;
  }
  return fit;
}

// "median impute (3.5), missing indicator, standard scaling". A NaN fill (date parts, each
// with its own value) is not printed.
std::string NumericHandlingText(ImputeStrategy impute, double fill, ScaleStrategy scale,
                                bool indicator) {
  const std::string value = std::isnan(fill) ? "" : absl::StrCat(" (", FormatNumber(fill), ")");
  std::string text;
  switch (impute) {
    case ImputeStrategy::kNone:
      text = "missing kept as NaN";
      break;
    case ImputeStrategy::kMean:
      text = absl::StrCat("mean impute", value);
      break;
    case ImputeStrategy::kMedian:
      text = absl::StrCat("median impute", value);
      break;
    case ImputeStrategy::kConstant:
      text = absl::StrCat("constant impute", value);
      break;
  }
  if (indicator) absl::StrAppend(&text, ", missing indicator");
  switch (scale) {
    case ScaleStrategy::kNone:
      absl::StrAppend(&text, ", no scaling");
      break;
    case ScaleStrategy::kStandard:
      absl::StrAppend(&text, ", standard scaling");
      break;
    case ScaleStrategy::kMinMax:
      absl::StrAppend(&text, ", min-max scaling");
      break;
  }
  return text;
}

}  // namespace

absl::Status FeaturePipeline::FitColumn(const Column& column, const std::vector<int64_t>& rows,
                                        const std::vector<float>& labels, TaskType task,
                                        const PipelineSpec& spec, const std::vector<uint8_t>& folds,
                                        int num_folds, FittedColumn& fitted,
                                        ColumnDecision& decision) {
  static const ColumnOverride kNoOverride;
  const auto found = spec.columns.find(fitted.name);
  const ColumnOverride& column_spec = found == spec.columns.end() ? kNoOverride : found->second;
  const bool linear = spec.family == FeatureFamily::kLinear;
  const std::string path = absl::StrCat("features.columns.", fitted.name);
  const int64_t n = static_cast<int64_t>(rows.size());
  const ListedRows map{rows.data()};

  if (fitted.role == ColumnRole::kNumeric || fitted.role == ColumnRole::kDate) {
    if (HasCategoricalOptions(column_spec.categorical)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": encoding, top_k, min_count, order and prior_weight apply to "
                       "categorical columns; \"",
                       fitted.name, "\" is ", Absl(ColumnRoleName(fitted.role)),
                       " (set role: categorical to encode it)"));
    }
    const NumericHandling& own = column_spec.numeric;
    const NumericHandling& section = spec.numeric;
    fitted.impute =
        Pick(own.impute, section.impute, linear ? ImputeStrategy::kMedian : ImputeStrategy::kNone);
    const double constant =
        own.impute ? own.impute_value.value_or(0) : section.impute_value.value_or(0);
    fitted.scale =
        Pick(own.scale, section.scale, linear ? ScaleStrategy::kStandard : ScaleStrategy::kNone);
    const bool want_indicator = Pick(own.missing_indicator, section.missing_indicator, linear);

    int64_t missing = 0;
    std::vector<std::vector<double>> observed;
    if (fitted.role == ColumnRole::kNumeric) {
      observed.resize(1);
      observed[0].reserve(static_cast<size_t>(n));
      ForEachNumeric(column, map, 0, n, [&](int64_t, double value, bool is_missing) {
        if (is_missing) {
          ++missing;
        } else {
          observed[0].push_back(value);
        }
      });
    } else {
      int32_t reference = std::numeric_limits<int32_t>::min();
      ForEachDay(column, map, 0, n, [&](int64_t, int32_t day, bool is_missing) {
        if (!is_missing) reference = std::max(reference, day);
      });
      fitted.reference_day = reference == std::numeric_limits<int32_t>::min() ? 0 : reference;
      observed.resize(kDateParts);
      ForEachDay(column, map, 0, n, [&](int64_t, int32_t day, bool is_missing) {
        if (is_missing) {
          ++missing;
          return;
        }
        const common::CivilDate civil = common::CivilFromDays(day);
        observed[0].push_back(civil.year);
        observed[1].push_back(civil.month);
        observed[2].push_back(civil.day);
        observed[3].push_back(static_cast<double>(((day % 7) + 7 + 3) % 7 + 1));
        observed[4].push_back(static_cast<double>(fitted.reference_day) - day);
      });
    }
    for (auto& values : observed) {
      const StepFit step = FitStep(values, fitted.impute, constant, fitted.scale);
      fitted.steps.push_back(NumericStep{step.fill, step.center, step.scale});
    }
    fitted.missing_indicator = want_indicator && missing > 0;
    fitted.num_features =
        static_cast<int>(fitted.steps.size()) + (fitted.missing_indicator ? 1 : 0);
    decision.handling = NumericHandlingText(fitted.impute, fitted.steps[0].fill, fitted.scale,
                                            fitted.missing_indicator);
    if (fitted.role == ColumnRole::kDate) {
      decision.handling = absl::StrCat(
          "year, month, day, weekday and days before ", common::FormatDate(fitted.reference_day),
          " (latest training date); ",
          NumericHandlingText(fitted.impute,
                              fitted.impute == ImputeStrategy::kConstant ? constant : kMissing,
                              fitted.scale, fitted.missing_indicator));
      if (fitted.impute != ImputeStrategy::kNone) {
        absl::StrAppend(&decision.handling, " (per part)");
      }
    }
    return absl::OkStatus();
  }

  // Categorical.
  if (HasNumericOptions(column_spec.numeric)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": impute, impute_value, scale and missing_indicator apply to numeric and date "
        "columns; \"",
        fitted.name, "\" is categorical (set role: numeric to treat it as a number)"));
  }
  struct Category {
    std::string text;
    int64_t key = 0;  // integer-keyed columns
    int64_t count = 0;
  };
  std::vector<Category> categories;
  if (column.type() == DataType::kString) {
    absl::flat_hash_map<absl::string_view, int64_t> counts;
    for (int64_t row : rows) {
      if (column.IsValid(row)) ++counts[Absl(column.StringAt(row))];
    }
    categories.reserve(counts.size());
    for (const auto& [text, count] : counts) {
      categories.push_back(Category{std::string(text.data(), text.size()), 0, count});
    }
  } else {
    absl::flat_hash_map<int64_t, int64_t> counts;
    for (int64_t row : rows) {
      if (column.IsValid(row)) ++counts[IntegerKey(column, row)];
    }
    categories.reserve(counts.size());
    for (const auto& [key, count] : counts) {
      categories.push_back(Category{IntegerCategoryText(column.type(), key), key, count});
    }
  }
  const bool integer_keyed = column.type() != DataType::kString;
  auto lexical_less = [integer_keyed](const Category& a, const Category& b) {
    return integer_keyed ? a.key < b.key : a.text < b.text;
  };
  // Frequency order: most frequent first, ties in lexical order (so the order is total).
  std::sort(categories.begin(), categories.end(), [&](const Category& a, const Category& b) {
    if (a.count != b.count) return a.count > b.count;
    return lexical_less(a, b);
  });
  const int64_t distinct = static_cast<int64_t>(categories.size());

  const CategoricalHandling& own = column_spec.categorical;
  const CategoricalHandling& section = spec.categorical;
  CategoricalEncoding fallback = CategoricalEncoding::kOneHot;
  if (!linear && distinct > spec.onehot_max_categories) fallback = CategoricalEncoding::kOrdinal;
  fitted.encoding = Pick(own.encoding, section.encoding, fallback);
  const int default_top_k = fitted.encoding == CategoricalEncoding::kOneHot    ? kDefaultOneHotTopK
                            : fitted.encoding == CategoricalEncoding::kOrdinal ? kDefaultOrdinalTopK
                                                                               : 1000000000;
  const int top_k = Pick(own.top_k, section.top_k, default_top_k);
  const int min_count = Pick(own.min_count, section.min_count, 1);
  fitted.order = Pick(own.order, section.order, OrdinalOrder::kFrequency);
  fitted.prior_weight = Pick(own.prior_weight, section.prior_weight, kDefaultPriorWeight);

  std::vector<Category> kept;
  for (const Category& category : categories) {
    if (static_cast<int>(kept.size()) >= top_k) break;
    if (category.count >= min_count) kept.push_back(category);
  }
  if (fitted.encoding == CategoricalEncoding::kOrdinal && fitted.order == OrdinalOrder::kLexical) {
    std::sort(kept.begin(), kept.end(), lexical_less);
  }
  for (const Category& category : kept) fitted.categories.push_back(category.text);
  ASSAY_RETURN_IF_ERROR(BuildCodeMaps(fitted));
  const int32_t num_categories = static_cast<int32_t>(fitted.categories.size());
  const std::string kept_text =
      kept.size() == categories.size()
          ? absl::StrCat("all ", kept.size(), " training categories")
          : absl::StrCat(kept.size(), " of ", distinct, " training categories (top ", top_k,
                         min_count > 1 ? absl::StrCat(" with at least ", min_count, " rows") : "",
                         ")");

  switch (fitted.encoding) {
    case CategoricalEncoding::kOneHot:
      fitted.num_features = num_categories + 2;
      decision.handling = absl::StrCat("one-hot of ", kept_text, ", + (other), + (missing)");
      return absl::OkStatus();
    case CategoricalEncoding::kOrdinal:
      fitted.missing_as_nan = !linear;
      fitted.num_features = 1;
      decision.handling = absl::StrCat(
          "ordinal codes 0..", num_categories - 1, " by ",
          fitted.order == OrdinalOrder::kFrequency ? "descending frequency" : "lexical order",
          " of ", kept_text, "; (other) = ", num_categories,
          ", (missing) = ", fitted.missing_as_nan ? "NaN" : absl::StrCat(num_categories + 1));
      return absl::OkStatus();
    case CategoricalEncoding::kTarget:
      break;
  }

  // Target encoding: the smoothed mean of the target per category,
  //   enc(c) = (sum_c + m * prior) / (n_c + m),
  // Micci-Barreca, "A preprocessing scheme for high-cardinality categorical attributes in
  // classification and prediction problems", SIGKDD Explorations 3(1), 2001, with the blend
  // factor lambda(n) = n / (n + m) (the m-estimate of Cestnik, ECAI 1990). Multiclass encodes each
  // class's indicator, one feature per class. Unseen categories ("(other)") get the prior;
  // missing is a category of its own.
  const size_t outputs = static_cast<size_t>(fitted.outputs);
  const size_t slots = static_cast<size_t>(num_categories) + 2;
  std::vector<int32_t> codes(static_cast<size_t>(n));
  ForEachCode(column, fitted.string_codes, fitted.integer_codes, num_categories, map, 0, n,
              [&](int64_t index, int32_t code) { codes[static_cast<size_t>(index)] = code; });
  auto target_value = [&](size_t index, size_t output) -> double {
    if (task == TaskType::kMulticlass)
      return labels[index] == static_cast<float>(output) ? 1.0 : 0.0;
    return labels[index];
  };
  const size_t fold_count = static_cast<size_t>(std::max(num_folds, 1));
  // Per fold: sums per (slot, output), counts per slot; the whole is the sum over folds.
  std::vector<double> fold_sums(fold_count * slots * outputs, 0.0);
  std::vector<double> fold_counts(fold_count * slots, 0.0);
  for (size_t index = 0; index < codes.size(); ++index) {
    const size_t fold = num_folds > 0 ? folds[index] : 0;
    const size_t slot = fold * slots + static_cast<size_t>(codes[index]);
    fold_counts[slot] += 1;
    for (size_t output = 0; output < outputs; ++output) {
      fold_sums[slot * outputs + output] += target_value(index, output);
    }
  }
  // Encodings from the rows of every fold except `left_out` (fold_count: none left out),
  // prior included, written to out[slot * outputs + output].
  auto encode = [&](size_t left_out, double* out) {
    std::vector<double> sums(slots * outputs, 0.0);
    std::vector<double> counts(slots, 0.0);
    for (size_t fold = 0; fold < fold_count; ++fold) {
      if (fold == left_out) continue;
      for (size_t slot = 0; slot < slots; ++slot) {
        counts[slot] += fold_counts[fold * slots + slot];
        for (size_t output = 0; output < outputs; ++output) {
          sums[slot * outputs + output] += fold_sums[(fold * slots + slot) * outputs + output];
        }
      }
    }
    double total = 0;
    for (double count : counts) total += count;
    for (size_t output = 0; output < outputs; ++output) {
      double total_sum = 0;
      for (size_t slot = 0; slot < slots; ++slot) total_sum += sums[slot * outputs + output];
      const double prior = total > 0 ? total_sum / total : 0;
      for (size_t slot = 0; slot < slots; ++slot) {
        const double denominator = counts[slot] + fitted.prior_weight;
        out[slot * outputs + output] =
            denominator > 0
                ? (sums[slot * outputs + output] + fitted.prior_weight * prior) / denominator
                : prior;
      }
    }
  };
  fitted.encodings.assign(slots * outputs, 0.0);
  encode(fold_count, fitted.encodings.data());
  if (num_folds > 0) {
    fitted.fold_encodings.assign(fold_count * slots * outputs, 0.0);
    for (size_t fold = 0; fold < fold_count; ++fold) {
      encode(fold, fitted.fold_encodings.data() + fold * slots * outputs);
    }
  } else {
    fitted.fold_encodings = fitted.encodings;
  }
  fitted.num_features = fitted.outputs;
  decision.handling = absl::StrCat("target encoding (smoothed mean, prior weight ",
                                   FormatNumber(fitted.prior_weight), ", out of fold over ",
                                   num_folds, " folds for training rows) of ", kept_text,
                                   "; (other) = prior, (missing) its own category");
  return absl::OkStatus();
}

absl::Status FeaturePipeline::BuildCodeMaps(FittedColumn& column) {
  column.string_codes.clear();
  column.integer_codes.clear();
  for (size_t code = 0; code < column.categories.size(); ++code) {
    const std::string& text = column.categories[code];
    bool inserted;
    if (column.type == DataType::kString) {
      inserted = column.string_codes.emplace(text, static_cast<int32_t>(code)).second;
    } else {
      const std::optional<int64_t> key = ParseIntegerCategory(column.type, text);
      if (!key) {
        return absl::InvalidArgumentError(absl::StrCat("feature pipeline column \"", column.name,
                                                       "\": category \"", text, "\" is not a ",
                                                       Absl(table::DataTypeName(column.type))));
      }
      inserted = column.integer_codes.emplace(*key, static_cast<int32_t>(code)).second;
    }
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("feature pipeline column \"", column.name,
                                                     "\": category \"", text,
                                                     "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

void FeaturePipeline::AssignFeatureNames() {
  feature_names_.clear();
  feature_sources_.clear();
  absl::flat_hash_set<std::string> used;
  auto add = [&](const FittedColumn& column, std::string name) {
    // Names must be unique (trainers and explanations key features by name); a clash such as
    // a category text that spells another feature's name gets a "#2" suffix.
    if (!used.insert(name).second) {
      for (int suffix = 2;; ++suffix) {
        std::string candidate = absl::StrCat(name, "#", suffix);
        if (used.insert(candidate).second) {
          name = std::move(candidate);
          break;
        }
      }
    }
    feature_names_.push_back(std::move(name));
    feature_sources_.push_back(column.name);
  };
  for (FittedColumn& column : columns_) {
    column.first_feature = static_cast<int>(feature_names_.size());
    switch (column.role) {
      case ColumnRole::kNumeric:
        add(column, column.name);
        if (column.missing_indicator) add(column, absl::StrCat(column.name, ":missing"));
        break;
      case ColumnRole::kDate:
        for (const char* part : kDatePartNames) add(column, absl::StrCat(column.name, ":", part));
        if (column.missing_indicator) add(column, absl::StrCat(column.name, ":missing"));
        break;
      case ColumnRole::kCategorical:
        switch (column.encoding) {
          case CategoricalEncoding::kOneHot:
            for (const std::string& category : column.categories) {
              add(column, absl::StrCat(column.name, "=", category));
            }
            add(column, absl::StrCat(column.name, "=(other)"));
            add(column, absl::StrCat(column.name, "=(missing)"));
            break;
          case CategoricalEncoding::kOrdinal:
            add(column, column.name);
            break;
          case CategoricalEncoding::kTarget:
            if (column.outputs == 1) {
              add(column, absl::StrCat(column.name, ":target"));
            } else {
              for (int output = 0; output < column.outputs; ++output) {
                add(column, absl::StrCat(column.name, ":target_", output));
              }
            }
            break;
        }
        break;
      case ColumnRole::kDropped:
        break;
    }
  }
}

std::vector<std::string> FeaturePipeline::input_columns() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const FittedColumn& column : columns_) names.push_back(column.name);
  return names;
}

absl::StatusOr<FeatureMatrix> FeaturePipeline::Transform(const table::Table& table) const {
  return TransformRows(table, nullptr, false);
}

absl::StatusOr<FeatureMatrix> FeaturePipeline::Transform(const table::Table& table,
                                                         const std::vector<int64_t>& rows) const {
  for (int64_t row : rows) {
    if (row < 0 || row >= table.num_rows()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature pipeline: row id ", row, " is outside the table's ", table.num_rows(), " rows"));
    }
  }
  return TransformRows(table, &rows, false);
}

absl::StatusOr<FeatureMatrix> FeaturePipeline::TransformTrainingRows(
    const table::Table& table, const std::vector<int64_t>& train_rows) const {
  bool has_target_encoding = false;
  for (const FittedColumn& column : columns_) {
    if (column.role == ColumnRole::kCategorical &&
        column.encoding == CategoricalEncoding::kTarget) {
      has_target_encoding = true;
    }
  }
  if (has_fold_state_) {
    if (train_rows != fit_rows_) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature pipeline: TransformTrainingRows needs the ", fit_rows_.size(),
                       " rows the pipeline was fitted on, in the same order (got ",
                       train_rows.size(), " rows); use Transform for other rows"));
    }
  } else if (has_target_encoding) {
    return absl::FailedPreconditionError(
        "feature pipeline: out-of-fold target encodings exist only in the pipeline returned by "
        "Fit, not in one loaded from JSON; refit it on the training rows");
  }
  for (int64_t row : train_rows) {
    if (row < 0 || row >= table.num_rows()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature pipeline: row id ", row, " is outside the table's ", table.num_rows(), " rows"));
    }
  }
  return TransformRows(table, &train_rows, has_fold_state_ && has_target_encoding);
}

absl::StatusOr<FeatureMatrix> FeaturePipeline::TransformRows(const table::Table& table,
                                                             const std::vector<int64_t>* rows,
                                                             bool out_of_fold) const {
  // Bind and type-check every input column before touching a row.
  std::vector<const Column*> bound;
  bound.reserve(columns_.size());
  for (const FittedColumn& fitted : columns_) {
    const std::optional<int> index = table.schema().FindField(fitted.name);
    if (!index) {
      return absl::InvalidArgumentError(
          absl::StrCat("input column \"", fitted.name,
                       "\" is missing (the model needs: ", absl::StrJoin(input_columns(), ", "),
                       "; the table has: ", table.schema().NameList(), ")"));
    }
    const DataType type = table.schema().field(*index).type;
    bool fits = false;
    std::string expected;
    switch (fitted.role) {
      case ColumnRole::kNumeric:
        fits = type == DataType::kBool || type == DataType::kInt64 || type == DataType::kFloat64;
        expected = "bool, int64 or float64";
        break;
      case ColumnRole::kDate:
        fits = table::IsTemporal(type);
        expected = "date or timestamp";
        break;
      default:
        fits = type == fitted.type;
        expected = std::string(table::DataTypeName(fitted.type));
        break;
    }
    if (!fits) {
      return absl::InvalidArgumentError(
          absl::StrCat("input column \"", fitted.name, "\" is ", Absl(table::DataTypeName(type)),
                       " but the pipeline was fitted on ", Absl(table::DataTypeName(fitted.type)),
                       " (accepted here: ", expected, "); convert it or set its type on import"));
    }
    bound.push_back(&table.column(*index));
  }

  const int64_t num_rows = rows != nullptr ? static_cast<int64_t>(rows->size()) : table.num_rows();
  const int cols = num_features();
  FeatureMatrix out;
  out.rows = num_rows;
  out.cols = cols;
  out.names = feature_names_;
  out.values.assign(static_cast<size_t>(num_rows) * static_cast<size_t>(cols), 0.0f);
  float* const base = out.values.data();

  auto fill_block = [&](auto map, int64_t begin, int64_t end) {
    for (size_t which = 0; which < columns_.size(); ++which) {
      const FittedColumn& fitted = columns_[which];
      const Column& column = *bound[which];
      float* const first = base + fitted.first_feature;
      switch (fitted.role) {
        case ColumnRole::kNumeric: {
          const NumericStep step = fitted.steps[0];
          const bool indicator = fitted.missing_indicator;
          ForEachNumeric(column, map, begin, end, [&](int64_t index, double value, bool missing) {
            float* cell = first + index * cols;
            if (missing) value = step.fill;
            cell[0] = std::isnan(value) ? kMissing
                                        : static_cast<float>((value - step.center) / step.scale);
            if (indicator) cell[1] = missing ? 1.0f : 0.0f;
          });
          break;
        }
        case ColumnRole::kDate: {
          const NumericStep* steps = fitted.steps.data();
          const bool indicator = fitted.missing_indicator;
          const double reference = fitted.reference_day;
          ForEachDay(column, map, begin, end, [&](int64_t index, int32_t day, bool missing) {
            float* cell = first + index * cols;
            double parts[kDateParts];
            if (missing) {
              for (double& part : parts) part = kMissing;
            } else {
              const common::CivilDate civil = common::CivilFromDays(day);
              parts[0] = civil.year;
              parts[1] = civil.month;
              parts[2] = civil.day;
              parts[3] = static_cast<double>(((day % 7) + 7 + 3) % 7 + 1);  // 1970-01-01: Thu
              parts[4] = reference - day;
            }
            for (int part = 0; part < kDateParts; ++part) {
              double value = missing ? steps[part].fill : parts[part];
              cell[part] =
                  std::isnan(value)
                      ? kMissing
                      : static_cast<float>((value - steps[part].center) / steps[part].scale);
            }
            if (indicator) cell[kDateParts] = missing ? 1.0f : 0.0f;
          });
          break;
        }
        case ColumnRole::kCategorical: {
          const int32_t num_categories = static_cast<int32_t>(fitted.categories.size());
          switch (fitted.encoding) {
            case CategoricalEncoding::kOneHot:
              ForEachCode(column, fitted.string_codes, fitted.integer_codes, num_categories, map,
                          begin, end,
                          [&](int64_t index, int32_t code) { first[index * cols + code] = 1.0f; });
              break;
            case CategoricalEncoding::kOrdinal: {
              const bool missing_as_nan = fitted.missing_as_nan;
              ForEachCode(column, fitted.string_codes, fitted.integer_codes, num_categories, map,
                          begin, end, [&](int64_t index, int32_t code) {
                            first[index * cols] = (missing_as_nan && code == num_categories + 1)
                                                      ? kMissing
                                                      : static_cast<float>(code);
                          });
              break;
            }
            case CategoricalEncoding::kTarget: {
              const size_t outputs = static_cast<size_t>(fitted.outputs);
              const size_t slots = static_cast<size_t>(num_categories) + 2;
              const double* full = fitted.encodings.data();
              const double* by_fold = fitted.fold_encodings.data();
              const uint8_t* folds = fold_of_row_.data();
              const bool use_folds = out_of_fold && num_folds_ > 0;
              ForEachCode(column, fitted.string_codes, fitted.integer_codes, num_categories, map,
                          begin, end, [&](int64_t index, int32_t code) {
                            const double* table_of =
                                use_folds ? by_fold + folds[index] * slots * outputs : full;
                            const double* values = table_of + static_cast<size_t>(code) * outputs;
                            float* cell = first + index * cols;
                            for (size_t output = 0; output < outputs; ++output) {
                              cell[output] = static_cast<float>(values[output]);
                            }
                          });
              break;
            }
          }
          break;
        }
        case ColumnRole::kDropped:
          break;
      }
    }
  };
  for (int64_t begin = 0; begin < num_rows; begin += kBlockRows) {
    const int64_t end = std::min(num_rows, begin + kBlockRows);
    if (rows == nullptr) {
      fill_block(AllRows{}, begin, end);
    } else {
      fill_block(ListedRows{rows->data()}, begin, end);
    }
  }
  return out;
}

nlohmann::json FeaturePipeline::ToJson() const {
  nlohmann::json json = nlohmann::json::object();
  json["format"] = "assay.feature_pipeline";
  json["version"] = kFeaturePipelineFormatVersion;
  json["task"] = std::string(TaskTypeName(task_));
  json["family"] = std::string(FeatureFamilyName(family_));
  json["seed"] = seed_;
  json["target"] = target_;
  json["target_folds"] = num_folds_;
  json["spec"] = spec_.ToJson();
  nlohmann::json decisions = nlohmann::json::array();
  for (const ColumnDecision& decision : decisions_) decisions.push_back(decision.ToJson());
  json["decisions"] = std::move(decisions);
  nlohmann::json columns = nlohmann::json::array();
  for (const FittedColumn& column : columns_) {
    nlohmann::json entry = nlohmann::json::object();
    entry["name"] = column.name;
    entry["type"] = std::string(table::DataTypeName(column.type));
    entry["role"] = std::string(ColumnRoleName(column.role));
    if (column.role == ColumnRole::kCategorical) {
      entry["encoding"] = std::string(CategoricalEncodingName(column.encoding));
      entry["order"] = std::string(OrdinalOrderName(column.order));
      entry["categories"] = column.categories;
      if (column.encoding == CategoricalEncoding::kOrdinal) {
        entry["missing_as_nan"] = column.missing_as_nan;
      }
      if (column.encoding == CategoricalEncoding::kTarget) {
        entry["prior_weight"] = column.prior_weight;
        entry["outputs"] = column.outputs;
        entry["encodings"] = column.encodings;
      }
    } else {
      entry["impute"] = std::string(ImputeStrategyName(column.impute));
      entry["scale"] = std::string(ScaleStrategyName(column.scale));
      entry["missing_indicator"] = column.missing_indicator;
      nlohmann::json steps = nlohmann::json::array();
      for (const NumericStep& step : column.steps) {
        steps.push_back(
            {{"fill", NumberOrNull(step.fill)}, {"center", step.center}, {"scale", step.scale}});
      }
      entry["steps"] = std::move(steps);
      if (column.role == ColumnRole::kDate) {
        entry["reference_date"] = common::FormatDate(column.reference_day);
      }
    }
    columns.push_back(std::move(entry));
  }
  json["columns"] = std::move(columns);
  nlohmann::json features = nlohmann::json::array();
  for (size_t index = 0; index < feature_names_.size(); ++index) {
    features.push_back({{"name", feature_names_[index]}, {"source", feature_sources_[index]}});
  }
  json["features"] = std::move(features);
  return json;
}

namespace {

// Small typed readers for FromJson: each names the field it failed on.
absl::Status Malformed(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("feature pipeline document: ", Absl(field), " ", Absl(what)));
}

absl::StatusOr<std::string> GetString(const nlohmann::json& json, const char* key,
                                      std::string_view where) {
  if (!json.is_object() || !json.contains(key) || !json[key].is_string()) {
    return Malformed(absl::StrCat(Absl(where), key), "must be a string");
  }
  return json[key].get<std::string>();
}

absl::StatusOr<double> GetNumber(const nlohmann::json& json, const char* key,
                                 std::string_view where, bool null_is_nan = false) {
  if (json.is_object() && json.contains(key)) {
    if (json[key].is_number()) return json[key].get<double>();
    if (null_is_nan && json[key].is_null()) return kMissing;
  }
  return Malformed(absl::StrCat(Absl(where), key), "must be a number");
}

absl::StatusOr<bool> GetBool(const nlohmann::json& json, const char* key, std::string_view where) {
  if (!json.is_object() || !json.contains(key) || !json[key].is_boolean()) {
    return Malformed(absl::StrCat(Absl(where), key), "must be true or false");
  }
  return json[key].get<bool>();
}

template <typename Enum, typename NameFn>
absl::StatusOr<Enum> GetEnum(const nlohmann::json& json, const char* key, std::string_view where,
                             int count, NameFn name_of) {
  ASSAY_ASSIGN_OR_RETURN(const std::string text, GetString(json, key, where));
  for (int value = 0; value < count; ++value) {
    if (name_of(static_cast<Enum>(value)) == text) return static_cast<Enum>(value);
  }
  return Malformed(absl::StrCat(Absl(where), key),
                   absl::StrCat("has unknown value \"", text, "\""));
}

}  // namespace

absl::StatusOr<FeaturePipeline> FeaturePipeline::FromJson(const nlohmann::json& json) {
  if (!json.is_object() || json.value("format", "") != "assay.feature_pipeline") {
    return Malformed("format", "must be \"assay.feature_pipeline\"");
  }
  if (!json.contains("version") || json["version"] != kFeaturePipelineFormatVersion) {
    return Malformed("version", absl::StrCat("must be ", kFeaturePipelineFormatVersion,
                                             " (this Assay reads that version)"));
  }
  FeaturePipeline pipeline;
  ASSAY_ASSIGN_OR_RETURN(const std::string task, GetString(json, "task", ""));
  const std::optional<TaskType> task_type = ParseTaskType(task);
  if (!task_type) return Malformed("task", "must be binary, multiclass or regression");
  pipeline.task_ = *task_type;
  ASSAY_ASSIGN_OR_RETURN(pipeline.family_,
                         GetEnum<FeatureFamily>(json, "family", "", 2, FeatureFamilyName));
  if (!json.contains("seed") || !json["seed"].is_number_unsigned()) {
    return Malformed("seed", "must be a non-negative integer");
  }
  pipeline.seed_ = json["seed"].get<uint64_t>();
  ASSAY_ASSIGN_OR_RETURN(pipeline.target_, GetString(json, "target", ""));
  ASSAY_ASSIGN_OR_RETURN(const double folds, GetNumber(json, "target_folds", ""));
  pipeline.num_folds_ = static_cast<int>(folds);
  if (!json.contains("spec")) return Malformed("spec", "is missing");
  ASSAY_ASSIGN_OR_RETURN(pipeline.spec_, PipelineSpec::FromJson(json["spec"], "pipeline.spec"));
  if (!json.contains("decisions") || !json["decisions"].is_array()) {
    return Malformed("decisions", "must be a list");
  }
  for (const auto& item : json["decisions"]) {
    ASSAY_ASSIGN_OR_RETURN(ColumnDecision decision, ColumnDecision::FromJson(item));
    pipeline.decisions_.push_back(std::move(decision));
  }
  if (!json.contains("columns") || !json["columns"].is_array() || json["columns"].empty()) {
    return Malformed("columns", "must be a non-empty list");
  }
  for (const auto& item : json["columns"]) {
    FittedColumn column;
    ASSAY_ASSIGN_OR_RETURN(column.name, GetString(item, "name", "columns[]."));
    const std::string where = absl::StrCat("columns[", column.name, "].");
    ASSAY_ASSIGN_OR_RETURN(const std::string type, GetString(item, "type", where));
    const auto data_type = table::DataTypeFromName(type);
    if (!data_type) return Malformed(absl::StrCat(where, "type"), "is not a column type");
    column.type = *data_type;
    ASSAY_ASSIGN_OR_RETURN(column.role,
                           GetEnum<ColumnRole>(item, "role", where, 3, ColumnRoleName));
    if (column.role == ColumnRole::kCategorical) {
      ASSAY_ASSIGN_OR_RETURN(
          column.encoding,
          GetEnum<CategoricalEncoding>(item, "encoding", where, 3, CategoricalEncodingName));
      ASSAY_ASSIGN_OR_RETURN(column.order,
                             GetEnum<OrdinalOrder>(item, "order", where, 2, OrdinalOrderName));
      if (!item.contains("categories") || !item["categories"].is_array()) {
        return Malformed(absl::StrCat(where, "categories"), "must be a list");
      }
      for (const auto& category : item["categories"]) {
        if (!category.is_string()) {
          return Malformed(absl::StrCat(where, "categories"), "must hold strings");
        }
        column.categories.push_back(category.get<std::string>());
      }
      ASSAY_RETURN_IF_ERROR(BuildCodeMaps(column));
      const int slots = static_cast<int>(column.categories.size()) + 2;
      switch (column.encoding) {
        case CategoricalEncoding::kOneHot:
          column.num_features = slots;
          break;
        case CategoricalEncoding::kOrdinal: {
          ASSAY_ASSIGN_OR_RETURN(column.missing_as_nan, GetBool(item, "missing_as_nan", where));
          column.num_features = 1;
          break;
        }
        case CategoricalEncoding::kTarget: {
          ASSAY_ASSIGN_OR_RETURN(column.prior_weight, GetNumber(item, "prior_weight", where));
          ASSAY_ASSIGN_OR_RETURN(const double outputs, GetNumber(item, "outputs", where));
          column.outputs = static_cast<int>(outputs);
          if (column.outputs < 1 || column.outputs > 65536) {
            return Malformed(absl::StrCat(where, "outputs"), "must be from 1 to 65536");
          }
          if (!item.contains("encodings") || !item["encodings"].is_array() ||
              item["encodings"].size() !=
                  static_cast<size_t>(slots) * static_cast<size_t>(column.outputs)) {
            return Malformed(absl::StrCat(where, "encodings"),
                             absl::StrCat("must be a list of ", slots * column.outputs,
                                          " numbers ((categories + 2) x outputs)"));
          }
          for (const auto& value : item["encodings"]) {
            if (!value.is_number())
              return Malformed(absl::StrCat(where, "encodings"), "must hold numbers");
            column.encodings.push_back(value.get<double>());
          }
          column.num_features = column.outputs;
          break;
        }
      }
    } else {
      ASSAY_ASSIGN_OR_RETURN(column.impute,
                             GetEnum<ImputeStrategy>(item, "impute", where, 4, ImputeStrategyName));
      ASSAY_ASSIGN_OR_RETURN(column.scale,
                             GetEnum<ScaleStrategy>(item, "scale", where, 3, ScaleStrategyName));
      ASSAY_ASSIGN_OR_RETURN(column.missing_indicator, GetBool(item, "missing_indicator", where));
      const size_t expected_steps = column.role == ColumnRole::kDate ? kDateParts : 1;
      if (!item.contains("steps") || !item["steps"].is_array() ||
          item["steps"].size() != expected_steps) {
        return Malformed(absl::StrCat(where, "steps"),
                         absl::StrCat("must be a list of ", expected_steps, " steps"));
      }
      for (const auto& step_json : item["steps"]) {
        NumericStep step;
        ASSAY_ASSIGN_OR_RETURN(step.fill, GetNumber(step_json, "fill", where, true));
        ASSAY_ASSIGN_OR_RETURN(step.center, GetNumber(step_json, "center", where));
        ASSAY_ASSIGN_OR_RETURN(step.scale, GetNumber(step_json, "scale", where));
        if (step.scale == 0)
          return Malformed(absl::StrCat(where, "steps[].scale"), "must not be 0");
        column.steps.push_back(step);
      }
      if (column.role == ColumnRole::kDate) {
        ASSAY_ASSIGN_OR_RETURN(const std::string reference,
                               GetString(item, "reference_date", where));
        const auto day = common::ParseIsoDate(reference);
        if (!day) return Malformed(absl::StrCat(where, "reference_date"), "must be YYYY-MM-DD");
        column.reference_day = *day;
      }
      column.num_features =
          static_cast<int>(column.steps.size()) + (column.missing_indicator ? 1 : 0);
    }
    pipeline.columns_.push_back(std::move(column));
  }
  pipeline.AssignFeatureNames();
  // The stored feature list is redundant; it must agree with what the columns produce.
  if (!json.contains("features") || !json["features"].is_array() ||
      json["features"].size() != pipeline.feature_names_.size()) {
    return Malformed("features", absl::StrCat("must list the ", pipeline.feature_names_.size(),
                                              " features the columns produce"));
  }
  for (size_t index = 0; index < pipeline.feature_names_.size(); ++index) {
    const auto& feature = json["features"][index];
    if (!feature.is_object() || feature.value("name", "") != pipeline.feature_names_[index] ||
        feature.value("source", "") != pipeline.feature_sources_[index]) {
      return Malformed(absl::StrCat("features[", index, "]"),
                       absl::StrCat("must be \"", pipeline.feature_names_[index], "\" from \"",
                                    pipeline.feature_sources_[index], "\""));
    }
  }
  return pipeline;
}

}  // namespace assay::ml
