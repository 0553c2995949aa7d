#include "recipes/group.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "recipes/group_index.h"
#include "recipes/relational_common.h"
#include "table/data_type.h"

namespace assay::recipes {
namespace {

using relational::ConfigError;
using relational::IndexPath;
using relational::KeyPath;
using table::Column;
using table::DataType;
using table::Table;

constexpr std::string_view kRecipe = "group";
// Below this many rows the aggregations run one after the other on the calling thread.
constexpr int64_t kParallelRows = 1 << 16;

constexpr AggregationKind kAllKinds[] = {
    AggregationKind::kCount, AggregationKind::kCountDistinct, AggregationKind::kSum,
    AggregationKind::kMean,  AggregationKind::kMin,           AggregationKind::kMax,
    AggregationKind::kStd,   AggregationKind::kMedian,        AggregationKind::kFirst,
    AggregationKind::kLast,
};

bool NeedsNumeric(AggregationKind kind) {
  return kind == AggregationKind::kSum || kind == AggregationKind::kMean ||
         kind == AggregationKind::kStd || kind == AggregationKind::kMedian;
}

DataType ResultType(AggregationKind kind, DataType input) {
  switch (kind) {
    case AggregationKind::kCount:
    case AggregationKind::kCountDistinct:
      return DataType::kInt64;
    case AggregationKind::kSum:
      return input == DataType::kFloat64 ? DataType::kFloat64 : DataType::kInt64;
    case AggregationKind::kMean:
    case AggregationKind::kStd:
    case AggregationKind::kMedian:
      return DataType::kFloat64;
    case AggregationKind::kMin:
    case AggregationKind::kMax:
    case AggregationKind::kFirst:
    case AggregationKind::kLast:
      return input;
  }
  return input;
}

// Calls fn(values) with the column's typed value pointer (strings excluded).
template <typename Fn>
void VisitValues(const Column& column, Fn&& fn) {
  switch (column.type()) {
    case DataType::kBool:
      fn(column.bool_values().data());
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      fn(column.int64_values().data());
      break;
    case DataType::kFloat64:
      fn(column.float64_values().data());
      break;
    case DataType::kDate:
      fn(column.date_values().data());
      break;
    case DataType::kString:
      break;
  }
}

// ---- Aggregation kernels --------------------------------------------------------------------
// Each returns a column with one row per group id.

struct AggregationInput {
  const Column* column = nullptr;  // nullptr: count of rows
  const uint8_t* mask = nullptr;   // nullptr: every row
  const int32_t* group_of = nullptr;
  const int64_t* sizes = nullptr;  // rows per group, when computed (see GroupSizes)
  int64_t rows = 0;
  int64_t groups = 0;

  bool Included(int64_t row) const {
    return (mask == nullptr || mask[row] != 0) && (column == nullptr || column->IsValid(row));
  }
  // True when every row is included (no mask, no null in the column): then every group has at
  // least one included row, and the kernels skip the per-row test and the per-group flags.
  bool AllRows() const {
    return mask == nullptr && (column == nullptr || column->null_count() == 0);
  }
};

// The validity of a result under AllRows(): every group has a value (empty: all valid),
// except the single group of an empty input without keys.
std::vector<uint8_t> AllRowsValidity(const AggregationInput& in) {
  if (in.rows > 0) return {};
  return std::vector<uint8_t>(static_cast<size_t>(in.groups), 0);
}

// Rows per group, counted over row ranges in parallel (integer counts: the order of the
// additions does not matter).
std::vector<int64_t> GroupSizes(const int32_t* group_of, int64_t rows, int64_t groups,
                                common::ThreadPool& pool) {
  const int64_t tasks = rows >= kParallelRows ? pool.num_threads() : 1;
  std::vector<std::vector<int64_t>> partial(static_cast<size_t>(tasks));
  const int64_t rows_per_task = (rows + tasks - 1) / tasks;
  auto count = [&](int64_t task) {
    std::vector<int64_t>& sizes = partial[task];
    sizes.assign(static_cast<size_t>(groups), 0);
    const int64_t begin = std::min(rows, task * rows_per_task);
    const int64_t end = std::min(rows, begin + rows_per_task);
    for (int64_t row = begin; row < end; ++row) ++sizes[group_of[row]];
  };
  if (tasks > 1) {
    pool.ParallelFor(tasks, count);
  } else {
    count(0);
  }
  for (int64_t task = 1; task < tasks; ++task) {
    for (int64_t group = 0; group < groups; ++group) partial[0][group] += partial[task][group];
  }
  return std::move(partial[0]);
}

Column CountKernel(const AggregationInput& in) {
  if (in.AllRows() && in.sizes != nullptr) {
    return relational::MakeColumn<int64_t>(
        DataType::kInt64, std::vector<int64_t>(in.sizes, in.sizes + in.groups), {});
  }
  std::vector<int64_t> counts(static_cast<size_t>(in.groups), 0);
  if (in.AllRows()) {
    for (int64_t row = 0; row < in.rows; ++row) ++counts[in.group_of[row]];
  } else {
    for (int64_t row = 0; row < in.rows; ++row) {
      if (in.Included(row)) ++counts[in.group_of[row]];
    }
  }
  return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(counts), {});
}

Column CountDistinctKernel(const AggregationInput& in) {
  std::vector<int64_t> counts(static_cast<size_t>(in.groups), 0);
  if (in.column->type() == DataType::kString) {
    absl::flat_hash_set<std::pair<int32_t, absl::string_view>> seen;
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      if (seen.emplace(in.group_of[row], Absl(in.column->StringAt(row))).second) {
        ++counts[in.group_of[row]];
      }
    }
  } else {
    absl::flat_hash_set<std::pair<int32_t, uint64_t>> seen;
    VisitValues(*in.column, [&](const auto* values) {
      for (int64_t row = 0; row < in.rows; ++row) {
        if (!in.Included(row)) continue;
        uint64_t bits;
        if constexpr (std::is_same_v<std::decay_t<decltype(values[0])>, double>) {
          const double value = values[row];
          bits = value == 0.0
                     ? 0
                     : (std::isnan(value) ? 0x7ff8000000000000ULL : std::bit_cast<uint64_t>(value));
        } else {
          bits = static_cast<uint64_t>(static_cast<int64_t>(values[row]));
        }
        if (seen.emplace(in.group_of[row], bits).second) ++counts[in.group_of[row]];
      }
    });
  }
  return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(counts), {});
}

absl::StatusOr<Column> SumKernel(const AggregationInput& in, std::string_view name) {
  const int32_t* group_of = in.group_of;
  if (in.column->type() == DataType::kFloat64) {
    // Each group's values are added in input order, as a row-by-row loop would.
    std::vector<double> sums(static_cast<size_t>(in.groups), 0.0);
    const double* values = in.column->float64_values().data();
    if (in.AllRows()) {
      for (int64_t row = 0; row < in.rows; ++row) sums[group_of[row]] += values[row];
      return relational::MakeColumn<double>(DataType::kFloat64, std::move(sums),
                                            AllRowsValidity(in));
    }
    std::vector<uint8_t> has(static_cast<size_t>(in.groups), 0);
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      sums[group_of[row]] += values[row];
      has[group_of[row]] = 1;
    }
    return relational::MakeColumn<double>(DataType::kFloat64, std::move(sums), has);
  }
  std::vector<int64_t> sums(static_cast<size_t>(in.groups), 0);
  std::vector<uint8_t> has;
  bool overflow = false;
  VisitValues(*in.column, [&](const auto* values) {
    if (in.AllRows()) {
      for (int64_t row = 0; row < in.rows; ++row) {
        int64_t& sum = sums[group_of[row]];
        overflow |= __builtin_add_overflow(sum, static_cast<int64_t>(values[row]), &sum);
      }
      has = AllRowsValidity(in);
      return;
    }
    has.assign(static_cast<size_t>(in.groups), 0);
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      int64_t& sum = sums[group_of[row]];
      overflow |= __builtin_add_overflow(sum, static_cast<int64_t>(values[row]), &sum);
      has[group_of[row]] = 1;
    }
  });
  if (overflow) {
    return absl::OutOfRangeError(
        absl::StrCat("group: aggregation \"", Absl(name),
                     "\": the int64 sum overflows; cast the column to float64 in a prepare step "
                     "first"));
  }
  return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(sums), has);
}

Column MeanKernel(const AggregationInput& in) {
  std::vector<double> sums(static_cast<size_t>(in.groups), 0.0);
  const int32_t* group_of = in.group_of;
  if (in.AllRows() && in.sizes != nullptr) {
    VisitValues(*in.column, [&](const auto* values) {
      for (int64_t row = 0; row < in.rows; ++row) {
        sums[group_of[row]] += static_cast<double>(values[row]);
      }
    });
    for (int64_t group = 0; group < in.groups; ++group) {
      sums[group] /= static_cast<double>(in.sizes[group]);
    }
    return relational::MakeColumn<double>(DataType::kFloat64, std::move(sums), AllRowsValidity(in));
  }
  std::vector<int64_t> counts(static_cast<size_t>(in.groups), 0);
  VisitValues(*in.column, [&](const auto* values) {
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      sums[group_of[row]] += static_cast<double>(values[row]);
      ++counts[group_of[row]];
    }
  });
  std::vector<uint8_t> has(static_cast<size_t>(in.groups), 0);
  for (int64_t group = 0; group < in.groups; ++group) {
    if (counts[group] > 0) {
      sums[group] /= static_cast<double>(counts[group]);
      has[group] = 1;
    }
  }
  return relational::MakeColumn<double>(DataType::kFloat64, std::move(sums), has);
}

// Sample standard deviation (ddof = 1) with Welford's online update (Knuth, TAOCP vol. 2,
// 4.2.2), which avoids the cancellation of the sum-of-squares formula.
Column StdKernel(const AggregationInput& in) {
  std::vector<int64_t> counts(static_cast<size_t>(in.groups), 0);
  std::vector<double> means(static_cast<size_t>(in.groups), 0.0);
  std::vector<double> m2(static_cast<size_t>(in.groups), 0.0);
  VisitValues(*in.column, [&](const auto* values) {
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      const int32_t group = in.group_of[row];
      const double value = static_cast<double>(values[row]);
      const double delta = value - means[group];
      means[group] += delta / static_cast<double>(++counts[group]);
      m2[group] += delta * (value - means[group]);
    }
  });
  std::vector<double> result(static_cast<size_t>(in.groups), 0.0);
  std::vector<uint8_t> has(static_cast<size_t>(in.groups), 0);
  for (int64_t group = 0; group < in.groups; ++group) {
    if (counts[group] < 2) continue;
    result[group] = std::sqrt(m2[group] / static_cast<double>(counts[group] - 1));
    has[group] = 1;
  }
  return relational::MakeColumn<double>(DataType::kFloat64, std::move(result), has);
}

Column MedianKernel(const AggregationInput& in) {
  // Bucket the values by group (a counting sort), then select the middle of each bucket.
  std::vector<int64_t> starts(static_cast<size_t>(in.groups) + 1, 0);
  for (int64_t row = 0; row < in.rows; ++row) {
    if (in.Included(row)) ++starts[in.group_of[row] + 1];
  }
  for (int64_t group = 0; group < in.groups; ++group) starts[group + 1] += starts[group];
  std::vector<double> values(static_cast<size_t>(starts.back()));
  std::vector<int64_t> fill(starts.begin(), starts.end() - 1);
  VisitValues(*in.column, [&](const auto* data) {
    for (int64_t row = 0; row < in.rows; ++row) {
      if (in.Included(row)) values[fill[in.group_of[row]]++] = static_cast<double>(data[row]);
    }
  });
  std::vector<double> result(static_cast<size_t>(in.groups), 0.0);
  std::vector<uint8_t> has(static_cast<size_t>(in.groups), 0);
  for (int64_t group = 0; group < in.groups; ++group) {
    auto begin = values.begin() + starts[group];
    const int64_t count = starts[group + 1] - starts[group];
    if (count == 0) continue;
    auto middle = begin + count / 2;
    std::nth_element(begin, middle, begin + count);
    double median = *middle;
    if (count % 2 == 0) median = (median + *std::max_element(begin, middle)) / 2.0;
    result[group] = median;
    has[group] = 1;
  }
  return relational::MakeColumn<double>(DataType::kFloat64, std::move(result), has);
}

// min/max of numeric and temporal columns keep running values; strings keep the row.
Column MinMaxKernel(const AggregationInput& in, bool want_max) {
  if (in.column->type() == DataType::kString) {
    std::vector<int64_t> best(static_cast<size_t>(in.groups), -1);
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      int64_t& current = best[in.group_of[row]];
      if (current < 0) {
        current = row;
        continue;
      }
      const int order = in.column->StringAt(row).compare(in.column->StringAt(current));
      if (want_max ? order > 0 : order < 0) current = row;
    }
    return relational::TakeRows(*in.column, best);
  }
  Column result;
  VisitValues(*in.column, [&](const auto* values) {
    using T = std::decay_t<decltype(values[0])>;
    if constexpr (!std::is_same_v<T, double>) {
      // Integer-like values order totally, so starting from the type's extreme gives the
      // same result as starting from a group's first value. (Doubles keep the loop below:
      // a NaN first value stays, as in a row-by-row comparison.)
      if (in.AllRows()) {
        std::vector<T> best(static_cast<size_t>(in.groups), want_max
                                                                ? std::numeric_limits<T>::lowest()
                                                                : std::numeric_limits<T>::max());
        const int32_t* group_of = in.group_of;
        if (want_max) {
          for (int64_t row = 0; row < in.rows; ++row) {
            T& current = best[group_of[row]];
            current = std::max(current, values[row]);
          }
        } else {
          for (int64_t row = 0; row < in.rows; ++row) {
            T& current = best[group_of[row]];
            current = std::min(current, values[row]);
          }
        }
        result = relational::MakeColumn<T>(in.column->type(), std::move(best), AllRowsValidity(in));
        return;
      }
    }
    std::vector<T> best(static_cast<size_t>(in.groups), T{});
    std::vector<uint8_t> has(static_cast<size_t>(in.groups), 0);
    for (int64_t row = 0; row < in.rows; ++row) {
      if (!in.Included(row)) continue;
      const int32_t group = in.group_of[row];
      const T value = values[row];
      if (!has[group] || (want_max ? best[group] < value : value < best[group])) {
        best[group] = value;
        has[group] = 1;
      }
    }
    result = relational::MakeColumn<T>(in.column->type(), std::move(best), has);
  });
  return result;
}

Column FirstLastKernel(const AggregationInput& in, bool want_last,
                       const std::vector<relational::SortColumn>& order) {
  std::vector<int64_t> best(static_cast<size_t>(in.groups), -1);
  for (int64_t row = 0; row < in.rows; ++row) {
    if (!in.Included(row)) continue;
    int64_t& current = best[in.group_of[row]];
    if (current < 0 || order.empty()) {
      if (current < 0 || want_last) current = row;
      continue;
    }
    // Rows arrive in input order, so ">= 0" lets a later tie win for last and "< 0" keeps the
    // earlier tie for first: the result of a stable sort by `order`.
    const int cmp = relational::CompareRowsBy(order, row, current);
    if (want_last ? cmp >= 0 : cmp < 0) current = row;
  }
  return relational::TakeRows(*in.column, best);
}

absl::StatusOr<Column> RunKernel(const Aggregation& aggregation, const AggregationInput& in,
                                 const Table& input) {
  switch (aggregation.kind) {
    case AggregationKind::kCount:
      return CountKernel(in);
    case AggregationKind::kCountDistinct:
      return CountDistinctKernel(in);
    case AggregationKind::kSum:
      return SumKernel(in, aggregation.output_name);
    case AggregationKind::kMean:
      return MeanKernel(in);
    case AggregationKind::kStd:
      return StdKernel(in);
    case AggregationKind::kMedian:
      return MedianKernel(in);
    case AggregationKind::kMin:
    case AggregationKind::kMax:
      return MinMaxKernel(in, aggregation.kind == AggregationKind::kMax);
    case AggregationKind::kFirst:
    case AggregationKind::kLast: {
      std::vector<relational::SortColumn> order;
      for (const OrderKey& key : aggregation.order_by) {
        order.push_back({&input.column(*input.schema().FindField(key.column)), key.descending});
      }
      return FirstLastKernel(in, aggregation.kind == AggregationKind::kLast, order);
    }
  }
  return absl::InternalError("unknown aggregation");
}

std::string DefaultName(const Aggregation& aggregation) {
  if (aggregation.column.empty()) return std::string(AggregationKindName(aggregation.kind));
  return absl::StrCat(aggregation.column, "_", Absl(AggregationKindName(aggregation.kind)));
}

}  // namespace

std::string_view AggregationKindName(AggregationKind kind) {
  switch (kind) {
    case AggregationKind::kCount:
      return "count";
    case AggregationKind::kCountDistinct:
      return "count_distinct";
    case AggregationKind::kSum:
      return "sum";
    case AggregationKind::kMean:
      return "mean";
    case AggregationKind::kMin:
      return "min";
    case AggregationKind::kMax:
      return "max";
    case AggregationKind::kStd:
      return "std";
    case AggregationKind::kMedian:
      return "median";
    case AggregationKind::kFirst:
      return "first";
    case AggregationKind::kLast:
      return "last";
  }
  return "count";
}

absl::StatusOr<GroupSpec> ParseGroupSpec(const nlohmann::json& config) {
  ASSAY_RETURN_IF_ERROR(relational::CheckObject(config, kRecipe, "", {"keys", "aggregations"}));
  GroupSpec spec;
  if (config.contains("keys")) {
    const nlohmann::json& keys = config["keys"];
    if (!(keys.is_array() && keys.empty())) {
      ASSAY_ASSIGN_OR_RETURN(spec.keys,
                             relational::ReadNameList(keys, kRecipe, KeyPath("", "keys")));
    }
  }
  if (!config.contains("aggregations")) {
    return ConfigError(kRecipe, KeyPath("", "aggregations"),
                       "is required (a list like [{agg: count}, {agg: sum, column: x}])");
  }
  const nlohmann::json& list = config["aggregations"];
  const std::string list_path = KeyPath("", "aggregations");
  if (!list.is_array() || list.empty()) {
    return ConfigError(kRecipe, list_path, "expected a non-empty list of aggregations");
  }
  for (size_t index = 0; index < list.size(); ++index) {
    const nlohmann::json& entry = list[index];
    const std::string path = IndexPath(list_path, index);
    ASSAY_RETURN_IF_ERROR(relational::CheckObject(entry, kRecipe, path,
                                                  {"agg", "column", "as", "where", "order_by"}));
    Aggregation aggregation;
    if (!entry.contains("agg")) return ConfigError(kRecipe, KeyPath(path, "agg"), "is required");
    bool known = false;
    for (AggregationKind kind : kAllKinds) {
      if (entry["agg"].is_string() &&
          entry["agg"].get_ref<const std::string&>() == AggregationKindName(kind)) {
        aggregation.kind = kind;
        known = true;
      }
    }
    if (!known) {
      return ConfigError(kRecipe, KeyPath(path, "agg"),
                         absl::StrCat("expected one of count, count_distinct, sum, mean, min, "
                                      "max, std, median, first, last, got ",
                                      entry["agg"].dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace)));
    }
    if (entry.contains("column")) {
      ASSAY_ASSIGN_OR_RETURN(aggregation.column,
                             relational::ReadString(entry["column"], kRecipe,
                                                    KeyPath(path, "column"), "a column name"));
    } else if (aggregation.kind != AggregationKind::kCount) {
      return ConfigError(
          kRecipe, KeyPath(path, "column"),
          absl::StrCat("is required for ", Absl(AggregationKindName(aggregation.kind))));
    }
    if (entry.contains("as")) {
      ASSAY_ASSIGN_OR_RETURN(aggregation.output_name,
                             relational::ReadString(entry["as"], kRecipe, KeyPath(path, "as"),
                                                    "an output column name"));
    } else {
      aggregation.output_name = DefaultName(aggregation);
    }
    if (entry.contains("where")) {
      ASSAY_ASSIGN_OR_RETURN(
          aggregation.where,
          relational::ReadString(entry["where"], kRecipe, KeyPath(path, "where"), "a formula"));
    }
    if (entry.contains("order_by")) {
      if (aggregation.kind != AggregationKind::kFirst &&
          aggregation.kind != AggregationKind::kLast) {
        return ConfigError(kRecipe, KeyPath(path, "order_by"), "applies to first and last only");
      }
      ASSAY_ASSIGN_OR_RETURN(
          aggregation.order_by,
          relational::ReadOrderKeys(entry["order_by"], kRecipe, KeyPath(path, "order_by")));
    }
    for (const std::string& key : spec.keys) {
      if (key == aggregation.output_name) {
        return ConfigError(kRecipe, path,
                           absl::StrCat("output column \"", key,
                                        "\" is also a key; name the aggregation with \"as\""));
      }
    }
    for (const Aggregation& other : spec.aggregations) {
      if (other.output_name == aggregation.output_name) {
        return ConfigError(kRecipe, path,
                           absl::StrCat("output column \"", aggregation.output_name,
                                        "\" is produced twice; name one with \"as\""));
      }
    }
    spec.aggregations.push_back(std::move(aggregation));
  }
  return spec;
}

absl::Status CheckGroupSpec(const GroupSpec& spec, const table::Schema& schema) {
  absl::flat_hash_set<std::string> names;
  for (const std::string& key : spec.keys) {
    ASSAY_RETURN_IF_ERROR(relational::FindColumn(schema, key, "group: key").status());
    if (!names.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat("group: key \"", key, "\" is listed twice"));
    }
  }
  if (spec.aggregations.empty()) {
    return absl::InvalidArgumentError("group: at least one aggregation is required");
  }
  for (const Aggregation& aggregation : spec.aggregations) {
    const std::string context =
        absl::StrCat("group: aggregation \"", aggregation.output_name, "\"");
    if (!names.insert(aggregation.output_name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": the output column name is used twice; rename with \"as\""));
    }
    if (aggregation.column.empty()) {
      if (aggregation.kind != AggregationKind::kCount) {
        return absl::InvalidArgumentError(absl::StrCat(context, ": needs a column"));
      }
    } else {
      ASSAY_ASSIGN_OR_RETURN(int index,
                             relational::FindColumn(schema, aggregation.column, context));
      const DataType type = schema.field(index).type;
      if (NeedsNumeric(aggregation.kind) && !table::IsNumeric(type) && type != DataType::kBool) {
        return absl::InvalidArgumentError(absl::StrCat(
            context, ": ", Absl(AggregationKindName(aggregation.kind)),
            " needs an int64, float64 or bool column but \"", aggregation.column, "\" is ",
            Absl(table::DataTypeName(type)), "; convert it in a prepare step first"));
      }
    }
    if (!aggregation.order_by.empty() && aggregation.kind != AggregationKind::kFirst &&
        aggregation.kind != AggregationKind::kLast) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": order_by applies to first and last only"));
    }
    for (const OrderKey& key : aggregation.order_by) {
      ASSAY_RETURN_IF_ERROR(
          relational::FindColumn(schema, key.column, absl::StrCat(context, " order_by")).status());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Table> RunGroupWithMasks(const GroupSpec& spec, const Table& input,
                                        const std::vector<std::optional<Column>>& masks) {
  ASSAY_RETURN_IF_ERROR(CheckGroupSpec(spec, input.schema()));
  if (!masks.empty() && masks.size() != spec.aggregations.size()) {
    return absl::InvalidArgumentError(absl::StrCat("group: ", masks.size(), " masks for ",
                                                   spec.aggregations.size(), " aggregations"));
  }
  std::vector<std::vector<uint8_t>> mask_bytes(spec.aggregations.size());
  for (size_t index = 0; index < masks.size(); ++index) {
    if (!masks[index].has_value()) continue;
    if (masks[index]->type() != DataType::kBool || masks[index]->size() != input.num_rows()) {
      return absl::InvalidArgumentError(
          absl::StrCat("group: aggregation \"", spec.aggregations[index].output_name,
                       "\": its filter must be a bool column of ", input.num_rows(), " rows"));
    }
    mask_bytes[index] = relational::MaskToBytes(*masks[index]);
  }

  common::ThreadPool& pool = common::ThreadPool::Default();
  std::vector<const Column*> keys;
  for (const std::string& key : spec.keys) {
    keys.push_back(&input.column(*input.schema().FindField(key)));
  }
  const int64_t rows = input.num_rows();
  // Group ids come numbered in output order, so every kernel writes output rows directly.
  relational::GroupIndex groups = relational::IndexGroups(keys, rows, pool);

  const size_t num_aggregations = spec.aggregations.size();
  std::vector<AggregationInput> inputs(num_aggregations);
  bool wants_sizes = false;
  for (size_t index = 0; index < num_aggregations; ++index) {
    const Aggregation& aggregation = spec.aggregations[index];
    AggregationInput& in = inputs[index];
    if (!aggregation.column.empty()) {
      in.column = &input.column(*input.schema().FindField(aggregation.column));
    }
    in.mask = mask_bytes[index].empty() ? nullptr : mask_bytes[index].data();
    in.group_of = groups.group_of.get();
    in.rows = rows;
    in.groups = groups.count;
    wants_sizes |= in.AllRows() && (aggregation.kind == AggregationKind::kCount ||
                                    aggregation.kind == AggregationKind::kMean);
  }
  // Shared by count and mean: one counting pass instead of one per aggregation.
  std::vector<int64_t> sizes;
  if (wants_sizes) {
    sizes = GroupSizes(groups.group_of.get(), rows, groups.count, pool);
    for (AggregationInput& in : inputs) in.sizes = sizes.data();
  }

  std::vector<absl::StatusOr<Column>> results(num_aggregations, Column());
  auto aggregate = [&](int64_t index) {
    results[index] = RunKernel(spec.aggregations[index], inputs[index], input);
  };
  if (num_aggregations > 1 && rows >= kParallelRows) {
    pool.ParallelFor(static_cast<int64_t>(num_aggregations), aggregate);
  } else {
    for (size_t index = 0; index < num_aggregations; ++index) {
      aggregate(static_cast<int64_t>(index));
    }
  }

  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (size_t index = 0; index < keys.size(); ++index) {
    fields.push_back({spec.keys[index], keys[index]->type()});
    columns.push_back(std::move(groups.keys[index]));
  }
  for (size_t index = 0; index < num_aggregations; ++index) {
    if (!results[index].ok()) return results[index].status();
    const Aggregation& aggregation = spec.aggregations[index];
    const DataType input_type =
        aggregation.column.empty()
            ? DataType::kInt64
            : input.schema().field(*input.schema().FindField(aggregation.column)).type;
    fields.push_back({aggregation.output_name, ResultType(aggregation.kind, input_type)});
    columns.push_back(*std::move(results[index]));
  }
  return Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
