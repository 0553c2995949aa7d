// The window recipe: adds columns computed over each row's partition in a given order --
// row_number, rank, dense_rank, lag, lead, and running or moving sum/mean/min/max/count --
// keeping every input column and the input row order. The user reference, with a YAML
// example, is docs/recipes/relational.md.
//
// Semantics in short:
//   - Partitions: rows with equal `partition_by` values (nulls equal nulls); no partition_by
//     means one partition. Within a partition rows are stably sorted by `order_by` (nulls
//     last in either direction; ties keep input order); no order_by means input order.
//   - row_number counts 1, 2, 3... in that order (ties broken by input order); rank gives
//     peers (equal order values) the same rank and skips (1, 1, 3); dense_rank does not skip
//     (1, 1, 2). lag/lead read the row `offset` positions before/after in the partition's
//     order (null past the partition's edge); they keep the column's type.
//   - Aggregates sum/mean/min/max/count ignore nulls of their column (count without a column
//     counts rows); a frame with no value gives null (count: 0). Frames, per row:
//       running (default)  the partition's first row through the current row (by position,
//                          so a tie later in the order is not included);
//       rows: N            the current row and the N rows before it;
//       range: "7 days"    the rows whose order value lies in [current - 7 days, current],
//                          peers included; needs exactly one ascending order_by column of
//                          type date or timestamp. A row whose order value is null has an
//                          empty range frame (null; count 0).
//   - Result types: row_number, rank, dense_rank, count -> int64; sum of int64 or bool ->
//     int64, of float64 -> float64; mean -> float64; min, max, lag, lead -> the input type.
//   - Output: all input columns, then the new ones in config order; input row order kept.
//
// Implementation: partition ids by hashing (relational::AssignGroups), a stable counting
// sort by partition, a stable sort by the order keys per partition, then one pass per
// function with a sliding frame (monotonic deque for min/max), the functions in parallel on
// common::ThreadPool::Default().
//
// Thread-safety: all functions are reentrant; RunWindow uses common::ThreadPool::Default()
// and must not be called from inside one of its tasks.
#ifndef ASSAY_RECIPES_WINDOW_H_
#define ASSAY_RECIPES_WINDOW_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/relational_common.h"
#include "table/table.h"

namespace assay::recipes {

using OrderKey = relational::OrderKey;

enum class WindowFunctionKind {
  kRowNumber,
  kRank,
  kDenseRank,
  kLag,
  kLead,
  kSum,
  kMean,
  kMin,
  kMax,
  kCount,
};

// "row_number", "rank", "dense_rank", "lag", "lead", "sum", "mean", "min", "max", "count".
std::string_view WindowFunctionKindName(WindowFunctionKind kind);

enum class WindowFrame { kRunning, kRows, kRange };

struct WindowFunction {
  WindowFunctionKind kind = WindowFunctionKind::kRowNumber;
  // The input column (lag, lead, aggregates); empty for row_number/rank/dense_rank and for a
  // count of rows.
  std::string column;
  // `as`, or the default: row_number/rank/dense_rank by kind; lag/lead `<column>_lag` /
  // `<column>_lead` (with the offset appended when it is not 1); aggregates
  // `<column>_running_<fn>` or `<column>_moving_<fn>` ("running_count"/"moving_count" for a
  // count of rows).
  std::string output_name;
  int64_t offset = 1;  // lag/lead, >= 1
  // Aggregates only.
  WindowFrame frame = WindowFrame::kRunning;
  int64_t preceding_rows = 0;  // kRows: rows before the current one in the frame
  int64_t range_micros = 0;    // kRange: the interval in microseconds
  std::string range_text;      // kRange: as written, for messages
};

struct WindowSpec {
  std::vector<std::string> partition_by;
  std::vector<OrderKey> order_by;
  std::vector<WindowFunction> functions;
};

// Parses a window config:
//   partition_by: [hcp_id]                          (optional; a single name is fine)
//   order_by: [{column: visit_date, direction: asc}] (optional; names alone mean asc)
//   functions:                                      (required, non-empty)
//     - function: row_number | rank | dense_rank | lag | lead | sum | mean | min | max | count
//       column: rx_volume        (lag, lead and aggregates; optional for count)
//       as: name                 (optional)
//       offset: 1                (lag/lead; integer >= 1)
//       rows: 6                  (aggregates: the current row and 6 preceding)
//       range: "7 days"          (aggregates: days/weeks/hours/minutes/seconds; singular ok)
// Errors: INVALID_ARGUMENT naming "window config", the key path and what is expected, for an
// unknown key, a wrong JSON type, a missing `function` or column, options that do not apply to
// the function (offset on sum, rows on lag, rows together with range), an unparseable range,
// rank/dense_rank/range without order_by, or two outputs with the same name.
absl::StatusOr<WindowSpec> ParseWindowSpec(const nlohmann::json& config);

// Checks `spec` against `schema` without reading rows: columns exist; sum/mean need int64,
// float64 or bool; min/max need bool, int64, float64, date or timestamp; a range frame needs
// one ascending date/timestamp order column and, for a date column, a whole number of days;
// new column names are not input column names.
// Errors: INVALID_ARGUMENT naming the column and listing the available ones, or naming the
// function and the problem.
absl::Status CheckWindowSpec(const WindowSpec& spec, const table::Schema& schema);

// Runs the window recipe. Returns the input columns plus one column per function.
// Errors: those of CheckWindowSpec; OUT_OF_RANGE when an int64 sum overflows.
absl::StatusOr<table::Table> RunWindow(const WindowSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_WINDOW_H_
