// The pivot recipe: turns the distinct values of one column into columns. One output row per
// distinct combination of the index columns (in order of first appearance; null is a value),
// then one column per distinct value of the pivot column, holding the aggregation of the
// value column over the rows with that index combination and pivot value.
//
// Columns: the index columns, then the pivot columns ordered by pivot value ascending (the
// sort recipe's order), then the column for null pivot values if `null_pivot` is kColumn and
// there are any. A pivot column is named column_prefix + the value as text (canonical forms:
// 3.5, 2024-03-01, true); the null column column_prefix + null_label. A generated name that is
// empty or clashes with an index column or another generated name is an error suggesting
// column_prefix or null_label. At most max_columns pivot columns are made (default 1000).
//
// Aggregations (cells without any input row or without non-null values: see each):
//   kCount  int64 number of rows with a non-null value (of all rows when no value_column); 0
//   kSum    int64 for int64 values (overflow is an error), float64 for float64; null if empty
//   kMean   float64 for int64 or float64 values; null if empty
//   kMin, kMax, kFirst  any type, same as the value column; the smallest, largest (sort
//           order: NaN is the largest number) or first non-null value in input order; null if
//           empty
//
// Config (reference in docs/recipes/reshape.md):
//   {"index": ["site"], "pivot_column": "visit", "value_column": "dose",
//    "aggregation": "sum", "column_prefix": "dose_", "max_columns": 200}
//
// Thread-safety: reentrant; uses the default thread pool for large gathers, so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_PIVOT_H_
#define ASSAY_RECIPES_PIVOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

enum class PivotAggregation { kCount, kSum, kMean, kMin, kMax, kFirst };
enum class PivotNulls { kColumn, kDrop };

struct PivotSpec {
  std::vector<std::string> index;  // May be empty: one output row for a non-empty input.
  std::string pivot_column;
  std::string value_column;  // Required except for kCount.
  PivotAggregation aggregation = PivotAggregation::kCount;
  int64_t max_columns = 1000;  // >= 1.
  std::string column_prefix;
  PivotNulls null_pivot = PivotNulls::kColumn;
  std::string null_label = "null";
};

// Parses the config ("pivot_column" and "aggregation" required). Errors: INVALID_ARGUMENT for
// unknown, missing or mistyped keys, a missing value_column for an aggregation other than
// count, max_columns < 1, or a column listed twice, naming the key path.
absl::StatusOr<PivotSpec> ParsePivotSpec(const nlohmann::json& config);

// The pivoted table. Errors: INVALID_ARGUMENT (detected from the schema before any row is
// read) for a missing column (listing the available ones), the pivot column among the index
// columns, or a value type the aggregation does not accept; then, from the data, more
// distinct pivot values than max_columns (naming the limit and how to raise it), a generated
// column name that is empty or clashes, or an int64 sum overflow.
absl::StatusOr<table::Table> RunPivot(const PivotSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_PIVOT_H_
