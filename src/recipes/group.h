// The group recipe: one output row per distinct combination of key values, with
// aggregations over each group's rows (count, count_distinct, sum, mean, min, max, std, median,
// first, last), each optionally over a filtered subset (`where: "<formula>"`). The user
// reference, with a YAML example, is docs/recipes/relational.md.
//
// Semantics in short:
//   - Output columns: the keys, then one column per aggregation, named `as` or by default
//     `<column>_<agg>` (a `count` without a column is called "count").
//   - Result types: count and count_distinct -> int64; sum of int64 or bool -> int64, of
//     float64 -> float64; mean, std, median -> float64; min, max, first, last -> the input
//     type. std is the sample standard deviation (ddof = 1, like pandas); median of an even
//     count is the mean of the two middle values.
//   - Nulls in the aggregated column are ignored: count(column) counts non-null values,
//     `count` without a column counts rows. A group with no value left gives null (count: 0;
//     std needs two values). first/last give the first/last non-null value in input order, or
//     in `order_by` order (a stable sort, so ties keep input order; nulls sort last).
//   - A null key is a key value like any other: rows with null keys form their own group,
//     none is dropped. Float keys group -0.0 with 0.0 and NaN with NaN.
//   - Output order: sorted by the keys ascending, nulls last (like pandas sort=True). With no
//     keys the output is exactly one row over the whole table (even an empty one).
//   - `where`: the aggregation sees only the rows for which the formula is true (null counts
//     as false).
//
// Implementation: hash aggregation in two steps. relational::IndexGroups (group_index.h) maps
// every row to a group id already numbered in output order (a direct array for one
// small-range integer key; otherwise 64-bit hashes, per-range hash tables and a key check of
// every row, falling back to key comparison on a hash collision). Each aggregation is then one
// tight loop over the rows' group ids, writing output rows directly; count and mean share one
// count of rows per group. Within a group, values are combined in input order (so float sums
// equal a row-by-row loop's). Group numbering and the aggregations run in parallel on
// common::ThreadPool::Default().
//
// Thread-safety: all functions are reentrant; RunGroup and RunGroupWithMasks use
// common::ThreadPool::Default() and must not be called from inside one of its tasks.
#ifndef ASSAY_RECIPES_GROUP_H_
#define ASSAY_RECIPES_GROUP_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/relational_common.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes {

using OrderKey = relational::OrderKey;

enum class AggregationKind {
  kCount,
  kCountDistinct,
  kSum,
  kMean,
  kMin,
  kMax,
  kStd,
  kMedian,
  kFirst,
  kLast,
};

// "count", "count_distinct", "sum", "mean", "min", "max", "std", "median", "first", "last".
std::string_view AggregationKindName(AggregationKind kind);

struct Aggregation {
  AggregationKind kind = AggregationKind::kCount;
  // The aggregated column; empty only for a count of rows.
  std::string column;
  // The output column name (`as`, or the default `<column>_<agg>` / "count").
  std::string output_name;
  // A formula (expr::Expression) selecting the rows this aggregation sees.
  std::optional<std::string> where;
  // first/last only: the order defining first and last; empty means input order.
  std::vector<OrderKey> order_by;
};

struct GroupSpec {
  // Group keys; empty aggregates the whole table into one row.
  std::vector<std::string> keys;
  std::vector<Aggregation> aggregations;
};

// Parses a group config:
//   keys: [region, specialty]            (optional; a single name is fine)
//   aggregations:                        (required, non-empty)
//     - agg: sum                         (required; one of the kinds above)
//       column: rx_volume                (required except for count)
//       as: total_rx                     (optional)
//       where: "rx_volume > 10"          (optional)
//       order_by: [{column: visit_date, direction: desc}]   (first/last only)
// Errors: INVALID_ARGUMENT naming "group config", the key path and what is expected, for an
// unknown key, a wrong JSON type, a missing or unknown `agg`, a missing column, `order_by` on
// an aggregation other than first/last, or two output columns with the same name.
absl::StatusOr<GroupSpec> ParseGroupSpec(const nlohmann::json& config);

// Checks `spec` against `schema` without reading rows: every column exists and each
// aggregation accepts its column's type (sum/mean/std/median: int64, float64 or bool).
// Errors: INVALID_ARGUMENT naming the column and listing the available ones, or naming the
// aggregation and the type.
absl::Status CheckGroupSpec(const GroupSpec& spec, const table::Schema& schema);

// The aggregation kernel. `masks` is empty (no filters) or has one entry per aggregation:
// nullopt, or a kBool column of input.num_rows() rows whose true rows the aggregation sees
// (null counts as false). The `where` texts of the spec are NOT evaluated here.
// Returns the grouped table described above.
// Errors: those of CheckGroupSpec; INVALID_ARGUMENT for a mask of the wrong count, type or
// length; OUT_OF_RANGE when an int64 sum overflows (cast to float64 first).
absl::StatusOr<table::Table> RunGroupWithMasks(
    const GroupSpec& spec, const table::Table& input,
    const std::vector<std::optional<table::Column>>& masks);

// Runs the group recipe: compiles every `where` formula against the input schema (all of
// them, and CheckGroupSpec, before any row is read), evaluates them into masks and calls
// RunGroupWithMasks. Defined in relational_group_where.cc, which links assay_expr.
// Errors: those of RunGroupWithMasks; INVALID_ARGUMENT for a formula that does not compile
// or does not give a bool, naming the aggregation.
absl::StatusOr<table::Table> RunGroup(const GroupSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_GROUP_H_
