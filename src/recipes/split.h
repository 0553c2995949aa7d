// The split recipe: distributes the rows of one table over several outputs; every row lands in
// at most one output (exactly one, except rows dropped by `nulls: drop`), and each output keeps
// input order and the input schema. The outputs come back in the configured order.
//   kRandom      one output per ratio (ratios >= 0, summing to 1, at least two). Output k gets
//                exactly the count given by largest-remainder rounding of ratio_k * rows (ties
//                to the earlier output); which rows is drawn uniformly from the seed, the same
//                with every compiler and standard library (reshape::SeededRandom).
//   kExpression  two outputs: rows where the formula (expr::Expression, bool) is true, then
//                the rest (false or null).
//   kTimeCutoff  two outputs: rows whose date/timestamp column is < cutoff, then those >=
//                cutoff; null rows go to the first, the second (default) or no output. The
//                cutoff is "YYYY-MM-DD" (midnight UTC) or an ISO 8601 timestamp; a date value
//                counts as midnight UTC of that day.
//
// Config (reference in docs/recipes/reshape.md):
//   {"method": "random", "ratios": [0.8, 0.2], "seed": 42}
//   {"method": "expression", "expression": "age >= 65"}
//   {"method": "time_cutoff", "column": "visit_date", "cutoff": "2024-01-01", "nulls": "second"}
//
// Thread-safety: reentrant; uses the default thread pool for large gathers, so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_SPLIT_H_
#define ASSAY_RECIPES_SPLIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "expr/expression.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

enum class SplitMethod { kRandom, kExpression, kTimeCutoff };
enum class SplitNulls { kSecond, kFirst, kDrop };

struct SplitSpec {
  SplitMethod method = SplitMethod::kRandom;
  // kRandom.
  std::vector<double> ratios;
  uint64_t seed = 0;
  // kExpression.
  std::string expression;
  // kTimeCutoff.
  std::string column;
  std::string cutoff;  // "YYYY-MM-DD" or an ISO 8601 timestamp.
  SplitNulls nulls = SplitNulls::kSecond;
};

// Parses the config. "method" is required, and keys the method does not use are rejected.
// Errors: INVALID_ARGUMENT for unknown, missing or mistyped keys, fewer than two ratios,
// negative ratios or ratios not summing to 1, an unparseable cutoff, naming the key path.
absl::StatusOr<SplitSpec> ParseSplitSpec(const nlohmann::json& config);

// The outputs in configured order (ratios.size() of them for kRandom, two otherwise).
// `options` feeds now() in formulas. Errors: INVALID_ARGUMENT, before any row is read, for a
// spec ParseSplitSpec would reject, a formula that does not compile against the input or is
// not bool, a cutoff column that is missing (listing the available ones) or not a date or
// timestamp.
absl::StatusOr<std::vector<table::Table>> RunSplit(const SplitSpec& spec, const table::Table& input,
                                                   const expr::EvalOptions& options = {});

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_SPLIT_H_
