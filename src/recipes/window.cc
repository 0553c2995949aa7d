#include "recipes/window.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "table/data_type.h"

namespace assay::recipes {
namespace {

using relational::ConfigError;
using relational::IndexPath;
using relational::KeyPath;
using table::Column;
using table::DataType;
using table::Table;

constexpr std::string_view kRecipe = "window";
constexpr int64_t kMicrosPerDay = 86'400'000'000;
// Below this many rows the functions run one after the other on the calling thread.
constexpr int64_t kParallelRows = 1 << 16;

constexpr WindowFunctionKind kAllKinds[] = {
    WindowFunctionKind::kRowNumber, WindowFunctionKind::kRank, WindowFunctionKind::kDenseRank,
    WindowFunctionKind::kLag,       WindowFunctionKind::kLead, WindowFunctionKind::kSum,
    WindowFunctionKind::kMean,      WindowFunctionKind::kMin,  WindowFunctionKind::kMax,
    WindowFunctionKind::kCount,
};

bool IsRanking(WindowFunctionKind kind) {
  return kind == WindowFunctionKind::kRowNumber || kind == WindowFunctionKind::kRank ||
         kind == WindowFunctionKind::kDenseRank;
}
bool IsOffset(WindowFunctionKind kind) {
  return kind == WindowFunctionKind::kLag || kind == WindowFunctionKind::kLead;
}
bool IsAggregate(WindowFunctionKind kind) { return !IsRanking(kind) && !IsOffset(kind); }

DataType ResultType(WindowFunctionKind kind, DataType input) {
  switch (kind) {
    case WindowFunctionKind::kRowNumber:
    case WindowFunctionKind::kRank:
    case WindowFunctionKind::kDenseRank:
    case WindowFunctionKind::kCount:
      return DataType::kInt64;
    case WindowFunctionKind::kSum:
      return input == DataType::kFloat64 ? DataType::kFloat64 : DataType::kInt64;
    case WindowFunctionKind::kMean:
      return DataType::kFloat64;
    case WindowFunctionKind::kLag:
    case WindowFunctionKind::kLead:
    case WindowFunctionKind::kMin:
    case WindowFunctionKind::kMax:
      return input;
  }
  return input;
}

// "7 days", "1 week", "36 hours", "90 minutes", "30 seconds" -> microseconds.
std::optional<int64_t> ParseRange(std::string_view text) {
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  int64_t count = 0;
  if (!absl::SimpleAtoi(Absl(text.substr(0, space)), &count) || count < 0) return std::nullopt;
  std::string_view unit = text.substr(space + 1);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (unit.size() > 1 && unit.back() == 's') unit.remove_suffix(1);
  int64_t scale = 0;
  if (unit == "second") scale = 1'000'000;
  if (unit == "minute") scale = 60'000'000;
  if (unit == "hour") scale = 3'600'000'000;
  if (unit == "day") scale = kMicrosPerDay;
  if (unit == "week") scale = 7 * kMicrosPerDay;
  int64_t micros = 0;
  if (scale == 0 || __builtin_mul_overflow(count, scale, &micros)) return std::nullopt;
  return micros;
}

std::string DefaultName(const WindowFunction& function) {
  const std::string kind(WindowFunctionKindName(function.kind));
  if (IsRanking(function.kind)) return kind;
  if (IsOffset(function.kind)) {
    return function.offset == 1 ? absl::StrCat(function.column, "_", kind)
                                : absl::StrCat(function.column, "_", kind, function.offset);
  }
  const char* frame = function.frame == WindowFrame::kRunning ? "running_" : "moving_";
  if (function.column.empty()) return absl::StrCat(frame, kind);
  return absl::StrCat(function.column, "_", frame, kind);
}

// Rows of the input laid out by partition, each partition in window order.
struct Layout {
  std::vector<int64_t> perm;    // sorted position -> input row
  std::vector<int64_t> starts;  // partition p occupies positions [starts[p], starts[p + 1])
};

Layout MakeLayout(const WindowSpec& spec, const Table& input, common::ThreadPool& pool) {
  const int64_t rows = input.num_rows();
  std::vector<const Column*> keys;
  for (const std::string& name : spec.partition_by) {
    keys.push_back(&input.column(*input.schema().FindField(name)));
  }
  const relational::Groups partitions = relational::AssignGroups(keys, rows, pool);
  Layout layout;
  // A stable counting sort by partition keeps input order inside each partition.
  layout.starts.assign(static_cast<size_t>(partitions.count) + 1, 0);
  for (int64_t row = 0; row < rows; ++row) ++layout.starts[partitions.group_of[row] + 1];
  for (int64_t part = 0; part < partitions.count; ++part) {
    layout.starts[part + 1] += layout.starts[part];
  }
  std::vector<int64_t> fill(layout.starts.begin(), layout.starts.end() - 1);
  layout.perm.resize(static_cast<size_t>(rows));
  for (int64_t row = 0; row < rows; ++row) layout.perm[fill[partitions.group_of[row]]++] = row;
  if (spec.order_by.empty() || rows == 0) return layout;

  std::vector<relational::SortColumn> order;
  for (const OrderKey& key : spec.order_by) {
    order.push_back({&input.column(*input.schema().FindField(key.column)), key.descending});
  }
  const int64_t parts = partitions.count;
  const int64_t tasks = std::min<int64_t>(parts, 64);
  auto sort_task = [&](int64_t task) {
    for (int64_t part = task; part < parts; part += tasks) {
      std::stable_sort(
          layout.perm.begin() + layout.starts[part], layout.perm.begin() + layout.starts[part + 1],
          [&](int64_t a, int64_t b) { return relational::CompareRowsBy(order, a, b) < 0; });
    }
  };
  if (rows >= kParallelRows && tasks > 1) {
    pool.ParallelFor(tasks, sort_task);
  } else {
    for (int64_t task = 0; task < tasks; ++task) sort_task(task);
  }
  return layout;
}

Column RankingKernel(const WindowFunction& function, const Layout& layout,
                     const std::vector<relational::SortColumn>& order, int64_t rows) {
  std::vector<int64_t> out(static_cast<size_t>(rows), 0);
  for (size_t part = 0; part + 1 < layout.starts.size(); ++part) {
    const int64_t start = layout.starts[part], end = layout.starts[part + 1];
    int64_t rank = 0, dense = 0;
    for (int64_t pos = start; pos < end; ++pos) {
      const int64_t row = layout.perm[pos];
      const bool new_peer_group =
          pos == start || relational::CompareRowsBy(order, layout.perm[pos - 1], row) != 0;
      if (new_peer_group) {
        rank = pos - start + 1;
        ++dense;
      }
      switch (function.kind) {
        case WindowFunctionKind::kRowNumber:
          out[row] = pos - start + 1;
          break;
        case WindowFunctionKind::kRank:
          out[row] = rank;
          break;
        default:
          out[row] = dense;
          break;
      }
    }
  }
  return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(out), {});
}

Column OffsetKernel(const WindowFunction& function, const Layout& layout, const Column& column) {
  std::vector<int64_t> source(static_cast<size_t>(column.size()), -1);
  const int64_t shift =
      function.kind == WindowFunctionKind::kLag ? -function.offset : function.offset;
  for (size_t part = 0; part + 1 < layout.starts.size(); ++part) {
    const int64_t start = layout.starts[part], end = layout.starts[part + 1];
    for (int64_t pos = start; pos < end; ++pos) {
      const int64_t from = pos + shift;
      if (from >= start && from < end) source[layout.perm[pos]] = layout.perm[from];
    }
  }
  return relational::TakeRows(column, source);
}

// Slides each row's frame [lo, hi] (positions, both non-decreasing within a partition) over
// every partition, telling `acc` which rows enter and leave and where to emit. Rows whose
// range frame is empty (null order value) get acc.EmitEmpty.
template <typename Accumulator>
void SlideFrames(const WindowFunction& function, const Layout& layout, const Column* order_column,
                 Accumulator& acc) {
  auto order_value = [&](int64_t row) -> int64_t {
    return order_column->type() == DataType::kDate ? order_column->date_values()[row]
                                                   : order_column->int64_values()[row];
  };
  const int64_t range =
      function.frame != WindowFrame::kRange
          ? 0
          : (order_column->type() == DataType::kDate ? function.range_micros / kMicrosPerDay
                                                     : function.range_micros);
  for (size_t part = 0; part + 1 < layout.starts.size(); ++part) {
    const int64_t start = layout.starts[part], end = layout.starts[part + 1];
    acc.Reset();
    int64_t lo = start, next = start;  // frame rows are positions [lo, next)
    int64_t frame_end = end;           // range frames stop before the null order values
    if (function.frame == WindowFrame::kRange) {
      while (frame_end > start && order_column->IsNull(layout.perm[frame_end - 1])) --frame_end;
    }
    for (int64_t pos = start; pos < end; ++pos) {
      const int64_t row = layout.perm[pos];
      int64_t hi = pos, new_lo = start;
      if (function.frame == WindowFrame::kRows) {
        new_lo = std::max(start, pos - function.preceding_rows);
      } else if (function.frame == WindowFrame::kRange) {
        if (pos >= frame_end) {
          acc.EmitEmpty(row);
          continue;
        }
        const int64_t value = order_value(row);
        while (hi + 1 < frame_end && order_value(layout.perm[hi + 1]) == value) ++hi;
        int64_t lowest = 0;
        const bool overflow = __builtin_sub_overflow(value, range, &lowest);
        new_lo = lo;
        while (!overflow && order_value(layout.perm[new_lo]) < lowest) ++new_lo;
      }
      while (next <= hi) acc.Add(layout.perm[next++]);
      while (lo < new_lo) acc.Remove(layout.perm[lo++]);
      acc.Emit(row);
    }
  }
}

// The included-row test shared by the accumulators: nulls of the column are skipped.
struct RowFilter {
  const Column* column = nullptr;  // nullptr: count rows
  bool Included(int64_t row) const { return column == nullptr || column->IsValid(row); }
};

struct CountAccumulator {
  RowFilter filter;
  std::vector<int64_t> out;
  int64_t count = 0;
  void Reset() { count = 0; }
  void Add(int64_t row) { count += filter.Included(row) ? 1 : 0; }
  void Remove(int64_t row) { count -= filter.Included(row) ? 1 : 0; }
  void Emit(int64_t row) { out[row] = count; }
  void EmitEmpty(int64_t row) { out[row] = 0; }
};

// Sums and means. Sum is int64 (checked for overflow) or, for float64, long double so that
// values leaving a moving frame cancel with less rounding drift.
template <typename Sum, typename T, bool kMean>
struct SumAccumulator {
  RowFilter filter;
  const T* values = nullptr;
  std::vector<std::conditional_t<kMean || std::is_same_v<Sum, long double>, double, int64_t>> out;
  std::vector<uint8_t> valid;
  Sum sum = 0;
  int64_t count = 0;
  bool overflow = false;
  void Reset() {
    sum = 0;
    count = 0;
  }
  void Add(int64_t row) {
    if (!filter.Included(row)) return;
    ++count;
    if constexpr (std::is_same_v<Sum, int64_t>) {
      overflow |= __builtin_add_overflow(sum, static_cast<int64_t>(values[row]), &sum);
    } else {
      sum += static_cast<Sum>(values[row]);
    }
  }
  void Remove(int64_t row) {
    if (!filter.Included(row)) return;
    --count;
    if constexpr (std::is_same_v<Sum, int64_t>) {
      overflow |= __builtin_sub_overflow(sum, static_cast<int64_t>(values[row]), &sum);
    } else {
      sum -= static_cast<Sum>(values[row]);
    }
    if (count == 0) sum = 0;  // no drift carried into the next values
  }
  void Emit(int64_t row) {
    if (count == 0) return;
    valid[row] = 1;
    if constexpr (kMean) {
      out[row] = static_cast<double>(static_cast<long double>(sum) / count);
    } else {
      out[row] = static_cast<typename decltype(out)::value_type>(sum);
    }
  }
  void EmitEmpty(int64_t) {}
};

// Sliding minimum/maximum with a monotonic deque of rows (each row enters and leaves once, so
// a pass is O(n)); the front is the frame's extreme value.
template <typename T, bool kMax>
struct ExtremeAccumulator {
  RowFilter filter;
  const T* values = nullptr;
  std::vector<T> out;
  std::vector<uint8_t> valid;
  std::vector<int64_t> deque;
  size_t head = 0;
  void Reset() {
    deque.clear();
    head = 0;
  }
  void Add(int64_t row) {
    if (!filter.Included(row)) return;
    const T value = values[row];
    while (deque.size() > head &&
           (kMax ? !(value < values[deque.back()]) : !(values[deque.back()] < value))) {
      deque.pop_back();
    }
    deque.push_back(row);
  }
  void Remove(int64_t row) {
    if (deque.size() > head && deque[head] == row) ++head;
  }
  void Emit(int64_t row) {
    if (deque.size() == head) return;
    out[row] = values[deque[head]];
    valid[row] = 1;
  }
  void EmitEmpty(int64_t) {}
};

template <typename T>
const T* TypedValues(const Column& column) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return column.bool_values().data();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return column.int64_values().data();
  } else if constexpr (std::is_same_v<T, double>) {
    return column.float64_values().data();
  } else {
    return column.date_values().data();
  }
}

template <typename T>
absl::StatusOr<Column> TypedAggregate(const WindowFunction& function, const Layout& layout,
                                      const Column& column, const Column* order_column,
                                      int64_t rows) {
  const RowFilter filter{&column};
  const T* values = TypedValues<T>(column);
  switch (function.kind) {
    case WindowFunctionKind::kSum:
      if constexpr (std::is_same_v<T, double>) {
        SumAccumulator<long double, T, false> acc;
        acc.filter = filter;
        acc.values = values;
        acc.out.resize(rows);
        acc.valid.resize(rows);
        SlideFrames(function, layout, order_column, acc);
        return relational::MakeColumn<double>(DataType::kFloat64, std::move(acc.out), acc.valid);
      } else {
        SumAccumulator<int64_t, T, false> acc;
        acc.filter = filter;
        acc.values = values;
        acc.out.resize(rows);
        acc.valid.resize(rows);
        SlideFrames(function, layout, order_column, acc);
        if (acc.overflow) {
          return absl::OutOfRangeError(absl::StrCat(
              "window: function \"", function.output_name,
              "\": the int64 sum overflows; cast the column to float64 in a prepare step first"));
        }
        return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(acc.out), acc.valid);
      }
    case WindowFunctionKind::kMean: {
      SumAccumulator<long double, T, true> acc;
      acc.filter = filter;
      acc.values = values;
      acc.out.resize(rows);
      acc.valid.resize(rows);
      SlideFrames(function, layout, order_column, acc);
      return relational::MakeColumn<double>(DataType::kFloat64, std::move(acc.out), acc.valid);
    }
    case WindowFunctionKind::kMin: {
      ExtremeAccumulator<T, false> acc;
      acc.filter = filter;
      acc.values = values;
      acc.out.resize(rows);
      acc.valid.resize(rows);
      SlideFrames(function, layout, order_column, acc);
      return relational::MakeColumn<T>(column.type(), std::move(acc.out), acc.valid);
    }
    case WindowFunctionKind::kMax: {
      ExtremeAccumulator<T, true> acc;
      acc.filter = filter;
      acc.values = values;
      acc.out.resize(rows);
      acc.valid.resize(rows);
      SlideFrames(function, layout, order_column, acc);
      return relational::MakeColumn<T>(column.type(), std::move(acc.out), acc.valid);
    }
    default:
      return absl::InternalError("not a typed window aggregate");
  }
}

absl::StatusOr<Column> AggregateKernel(const WindowFunction& function, const Layout& layout,
                                       const Column* column, const Column* order_column,
                                       int64_t rows) {
  if (function.kind == WindowFunctionKind::kCount) {
    CountAccumulator acc;
    acc.filter = RowFilter{column};
    acc.out.resize(rows);
    SlideFrames(function, layout, order_column, acc);
    return relational::MakeColumn<int64_t>(DataType::kInt64, std::move(acc.out), {});
  }
  switch (column->type()) {
    case DataType::kBool:
      return TypedAggregate<uint8_t>(function, layout, *column, order_column, rows);
    case DataType::kInt64:
    case DataType::kTimestamp:
      return TypedAggregate<int64_t>(function, layout, *column, order_column, rows);
    case DataType::kFloat64:
      return TypedAggregate<double>(function, layout, *column, order_column, rows);
    case DataType::kDate:
      return TypedAggregate<int32_t>(function, layout, *column, order_column, rows);
    case DataType::kString:
      break;
  }
  return absl::InternalError("window: unsupported aggregate type");
}

}  // namespace

std::string_view WindowFunctionKindName(WindowFunctionKind kind) {
  switch (kind) {
    case WindowFunctionKind::kRowNumber:
      return "row_number";
    case WindowFunctionKind::kRank:
      return "rank";
    case WindowFunctionKind::kDenseRank:
      return "dense_rank";
    case WindowFunctionKind::kLag:
      return "lag";
    case WindowFunctionKind::kLead:
      return "lead";
    case WindowFunctionKind::kSum:
      return "sum";
    case WindowFunctionKind::kMean:
      return "mean";
    case WindowFunctionKind::kMin:
      return "min";
    case WindowFunctionKind::kMax:
      return "max";
    case WindowFunctionKind::kCount:
      return "count";
  }
  return "row_number";
}

absl::StatusOr<WindowSpec> ParseWindowSpec(const nlohmann::json& config) {
  ASSAY_RETURN_IF_ERROR(
      relational::CheckObject(config, kRecipe, "", {"partition_by", "order_by", "functions"}));
  WindowSpec spec;
  if (config.contains("partition_by")) {
    ASSAY_ASSIGN_OR_RETURN(
        spec.partition_by,
        relational::ReadNameList(config["partition_by"], kRecipe, KeyPath("", "partition_by")));
  }
  if (config.contains("order_by")) {
    ASSAY_ASSIGN_OR_RETURN(spec.order_by, relational::ReadOrderKeys(config["order_by"], kRecipe,
                                                                    KeyPath("", "order_by")));
  }
  const std::string list_path = KeyPath("", "functions");
  if (!config.contains("functions")) {
    return ConfigError(kRecipe, list_path,
                       "is required (a list like [{function: row_number}, {function: lag, "
                       "column: x}])");
  }
  const nlohmann::json& list = config["functions"];
  if (!list.is_array() || list.empty()) {
    return ConfigError(kRecipe, list_path, "expected a non-empty list of functions");
  }
  for (size_t index = 0; index < list.size(); ++index) {
    const nlohmann::json& entry = list[index];
    const std::string path = IndexPath(list_path, index);
    ASSAY_RETURN_IF_ERROR(relational::CheckObject(
        entry, kRecipe, path, {"function", "column", "as", "offset", "rows", "range"}));
    WindowFunction function;
    if (!entry.contains("function")) {
      return ConfigError(kRecipe, KeyPath(path, "function"), "is required");
    }
    bool known = false;
    for (WindowFunctionKind kind : kAllKinds) {
      if (entry["function"].is_string() &&
          entry["function"].get_ref<const std::string&>() == WindowFunctionKindName(kind)) {
        function.kind = kind;
        known = true;
      }
    }
    if (!known) {
      return ConfigError(
          kRecipe, KeyPath(path, "function"),
          absl::StrCat(
              "expected one of row_number, rank, dense_rank, lag, lead, sum, mean, min, "
              "max, count, got ",
              entry["function"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    const std::string kind_name(WindowFunctionKindName(function.kind));
    if (entry.contains("column")) {
      if (IsRanking(function.kind)) {
        return ConfigError(kRecipe, KeyPath(path, "column"),
                           absl::StrCat(kind_name, " takes no column"));
      }
      ASSAY_ASSIGN_OR_RETURN(
          function.column, relational::ReadString(entry["column"], kRecipe, KeyPath(path, "column"),
                                                  "a column name"));
    } else if (!IsRanking(function.kind) && function.kind != WindowFunctionKind::kCount) {
      return ConfigError(kRecipe, KeyPath(path, "column"),
                         absl::StrCat("is required for ", kind_name));
    }
    if (entry.contains("offset")) {
      if (!IsOffset(function.kind)) {
        return ConfigError(kRecipe, KeyPath(path, "offset"), "applies to lag and lead only");
      }
      ASSAY_ASSIGN_OR_RETURN(function.offset, relational::ReadInt(entry["offset"], kRecipe,
                                                                  KeyPath(path, "offset"), 1));
    }
    if (entry.contains("rows") && entry.contains("range")) {
      return ConfigError(kRecipe, path, "give either \"rows\" or \"range\", not both");
    }
    for (const char* frame_key : {"rows", "range"}) {
      if (entry.contains(frame_key) && !IsAggregate(function.kind)) {
        return ConfigError(kRecipe, KeyPath(path, frame_key),
                           "applies to sum, mean, min, max and count only");
      }
    }
    if (entry.contains("rows")) {
      function.frame = WindowFrame::kRows;
      ASSAY_ASSIGN_OR_RETURN(function.preceding_rows,
                             relational::ReadInt(entry["rows"], kRecipe, KeyPath(path, "rows"), 0));
    }
    if (entry.contains("range")) {
      function.frame = WindowFrame::kRange;
      ASSAY_ASSIGN_OR_RETURN(
          function.range_text,
          relational::ReadString(entry["range"], kRecipe, KeyPath(path, "range"), "an interval"));
      std::optional<int64_t> micros = ParseRange(function.range_text);
      if (!micros.has_value()) {
        return ConfigError(kRecipe, KeyPath(path, "range"),
                           absl::StrCat("expected an interval like \"7 days\" (units: weeks, "
                                        "days, hours, minutes, seconds), got \"",
                                        function.range_text, "\""));
      }
      function.range_micros = *micros;
      if (spec.order_by.size() != 1) {
        return ConfigError(kRecipe, KeyPath(path, "range"),
                           "a range frame needs exactly one order_by column (a date or timestamp)");
      }
    }
    if ((function.kind == WindowFunctionKind::kRank ||
         function.kind == WindowFunctionKind::kDenseRank) &&
        spec.order_by.empty()) {
      return ConfigError(kRecipe, KeyPath(path, "function"),
                         absl::StrCat(kind_name, " needs order_by (rank is defined by it)"));
    }
    if (entry.contains("as")) {
      ASSAY_ASSIGN_OR_RETURN(function.output_name,
                             relational::ReadString(entry["as"], kRecipe, KeyPath(path, "as"),
                                                    "an output column name"));
    } else {
      function.output_name = DefaultName(function);
    }
    for (const WindowFunction& other : spec.functions) {
      if (other.output_name == function.output_name) {
        return ConfigError(kRecipe, path,
                           absl::StrCat("output column \"", function.output_name,
                                        "\" is produced twice; name one with \"as\""));
      }
    }
    spec.functions.push_back(std::move(function));
  }
  return spec;
}

absl::Status CheckWindowSpec(const WindowSpec& spec, const table::Schema& schema) {
  for (const std::string& name : spec.partition_by) {
    ASSAY_RETURN_IF_ERROR(relational::FindColumn(schema, name, "window: partition_by").status());
  }
  for (const OrderKey& key : spec.order_by) {
    ASSAY_RETURN_IF_ERROR(relational::FindColumn(schema, key.column, "window: order_by").status());
  }
  if (spec.functions.empty()) {
    return absl::InvalidArgumentError("window: at least one function is required");
  }
  absl::flat_hash_set<std::string> names;
  for (const table::Field& field : schema.fields()) names.insert(field.name);
  for (const WindowFunction& function : spec.functions) {
    const std::string context = absl::StrCat("window: function \"", function.output_name, "\"");
    const std::string kind(WindowFunctionKindName(function.kind));
    if (!names.insert(function.output_name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          context, ": the output name is already taken (input columns: ", schema.NameList(),
          "); choose another with \"as\""));
    }
    if ((function.kind == WindowFunctionKind::kRank ||
         function.kind == WindowFunctionKind::kDenseRank) &&
        spec.order_by.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", kind, " needs order_by"));
    }
    if (IsOffset(function.kind) && function.offset < 1) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": offset must be >= 1"));
    }
    if (function.column.empty()) {
      if (function.kind != WindowFunctionKind::kCount && !IsRanking(function.kind)) {
        return absl::InvalidArgumentError(absl::StrCat(context, ": needs a column"));
      }
    } else {
      ASSAY_ASSIGN_OR_RETURN(int index, relational::FindColumn(schema, function.column, context));
      const DataType type = schema.field(index).type;
      const bool sum_like =
          function.kind == WindowFunctionKind::kSum || function.kind == WindowFunctionKind::kMean;
      const bool extreme =
          function.kind == WindowFunctionKind::kMin || function.kind == WindowFunctionKind::kMax;
      if ((sum_like && !table::IsNumeric(type) && type != DataType::kBool) ||
          (extreme && type == DataType::kString)) {
        return absl::InvalidArgumentError(
            absl::StrCat(context, ": ", kind, " does not accept ", Absl(table::DataTypeName(type)),
                         " column \"", function.column, "\" (", kind,
                         sum_like ? " needs int64, float64 or bool" : " needs a non-string column",
                         "); convert it in a prepare step first"));
      }
    }
    if (function.frame == WindowFrame::kRows && function.preceding_rows < 0) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": rows must be >= 0"));
    }
    if (function.frame == WindowFrame::kRange) {
      if (spec.order_by.size() != 1 || spec.order_by[0].descending) {
        return absl::InvalidArgumentError(
            absl::StrCat(context, ": a range frame needs exactly one ascending order_by column"));
      }
      const DataType order_type = schema.field(*schema.FindField(spec.order_by[0].column)).type;
      if (!table::IsTemporal(order_type)) {
        return absl::InvalidArgumentError(absl::StrCat(
            context, ": a range frame needs a date or timestamp order_by column, but \"",
            spec.order_by[0].column, "\" is ", Absl(table::DataTypeName(order_type))));
      }
      if (function.range_micros < 0 ||
          (order_type == DataType::kDate && function.range_micros % kMicrosPerDay != 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat(context, ": range \"", function.range_text, "\" over date column \"",
                         spec.order_by[0].column, "\" must be a whole number of days"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Table> RunWindow(const WindowSpec& spec, const Table& input) {
  ASSAY_RETURN_IF_ERROR(CheckWindowSpec(spec, input.schema()));
  common::ThreadPool& pool = common::ThreadPool::Default();
  const int64_t rows = input.num_rows();
  const Layout layout = MakeLayout(spec, input, pool);
  std::vector<relational::SortColumn> order;
  for (const OrderKey& key : spec.order_by) {
    order.push_back({&input.column(*input.schema().FindField(key.column)), key.descending});
  }
  const Column* order_column = order.empty() ? nullptr : order[0].column;

  const size_t count = spec.functions.size();
  std::vector<absl::StatusOr<Column>> results(count, Column());
  auto compute = [&](int64_t index) {
    const WindowFunction& function = spec.functions[index];
    const Column* column = function.column.empty()
                               ? nullptr
                               : &input.column(*input.schema().FindField(function.column));
    if (IsRanking(function.kind)) {
      results[index] = RankingKernel(function, layout, order, rows);
    } else if (IsOffset(function.kind)) {
      results[index] = OffsetKernel(function, layout, *column);
    } else {
      results[index] = AggregateKernel(function, layout, column, order_column, rows);
    }
  };
  if (count > 1 && rows >= kParallelRows) {
    pool.ParallelFor(static_cast<int64_t>(count), compute);
  } else {
    for (size_t index = 0; index < count; ++index) compute(static_cast<int64_t>(index));
  }

  std::vector<table::Field> fields = input.schema().fields();
  std::vector<Column> columns = input.columns();
  for (size_t index = 0; index < count; ++index) {
    if (!results[index].ok()) return results[index].status();
    const WindowFunction& function = spec.functions[index];
    const DataType input_type =
        function.column.empty()
            ? DataType::kInt64
            : input.schema().field(*input.schema().FindField(function.column)).type;
    fields.push_back({function.output_name, ResultType(function.kind, input_type)});
    columns.push_back(*std::move(results[index]));
  }
  return Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
