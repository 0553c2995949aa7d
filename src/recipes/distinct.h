// The distinct recipe: removes duplicate rows, comparing whole rows or a subset of columns,
// and keeps the first occurrence of each distinct combination with all its columns. Output
// rows keep their input order. An optional count column holds how many input rows each output
// row stands for.
//
// Equality: null equals null; -0.0 equals 0.0; NaN equals NaN (docs/recipes/reshape.md).
//
// Config (reference in docs/recipes/reshape.md):
//   {"columns": ["patient_id", "visit_date"], "count_column": "duplicates"}
//
// Thread-safety: reentrant; uses the default thread pool for large gathers, so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_DISTINCT_H_
#define ASSAY_RECIPES_DISTINCT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

struct DistinctSpec {
  std::vector<std::string> columns;  // Empty: compare whole rows.
  std::string count_column;          // Empty: no count column.
};

// Parses {"columns": [...], "count_column": "..."} (both optional). Errors: INVALID_ARGUMENT
// for unknown or mistyped keys or a column listed twice, naming the key path.
absl::StatusOr<DistinctSpec> ParseDistinctSpec(const nlohmann::json& config);

// The first row of each distinct combination, in input order, plus the int64 count column if
// configured. Errors: INVALID_ARGUMENT if a listed column is missing from `input` (listing the
// available ones) or the count column already exists.
absl::StatusOr<table::Table> RunDistinct(const DistinctSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_DISTINCT_H_
