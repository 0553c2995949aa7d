// The stack recipe: concatenates the rows of several named input tables, matching columns by
// name (a union, like SQL UNION ALL BY NAME). The output columns are the first input's in its
// order, then each column that first appears in a later input, in that input's order. A column
// missing from an input is null in that input's rows. A column's type must be the same in
// every input that has it, except that int64 and float64 combine to float64 (int64 values are
// converted to the nearest double, exact up to 2^53). An optional origin column (string, last)
// holds the name of the input each row came from.
//
// Config (reference in docs/recipes/reshape.md):
//   {"origin_column": "source"}        (or {} for no origin column)
//
// Thread-safety: reentrant; uses the default thread pool for wide inputs, so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_STACK_H_
#define ASSAY_RECIPES_STACK_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

struct StackSpec {
  std::string origin_column;  // Empty: no origin column.
};

// An input of a multi-input recipe: its name (as the flow knows it) and the table.
using NamedTable = std::pair<std::string, const table::Table*>;

// Parses {"origin_column": "..."} (optional). Errors: INVALID_ARGUMENT for unknown or mistyped
// keys, naming the key path.
absl::StatusOr<StackSpec> ParseStackSpec(const nlohmann::json& config);

// The rows of every input, in input order. Requires non-null table pointers.
// Errors: INVALID_ARGUMENT if there are no inputs, a column has incompatible types in two
// inputs (naming the column, both inputs and both types), or the origin column clashes with
// a data column.
absl::StatusOr<table::Table> RunStack(const StackSpec& spec, const std::vector<NamedTable>& inputs);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_STACK_H_
