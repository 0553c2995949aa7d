// The top_n recipe: keeps the first n rows of each group (or of the whole table) in an order
// given by sort keys, optionally numbering them in a rank column.
//
// Ties (rows equal on every order key) follow `ties`:
//   kFirst   (default) exactly min(n, group size) rows per group; among tied rows the earlier
//            input row wins; the rank column holds the row number 1, 2, 3, ...
//   kInclude every row whose rank is <= n, rank as SQL RANK() (1, 2, 2, 4): the rows tied
//            with the n-th row are all kept, so a group may yield more than n rows.
// Output rows: groups in order of their first appearance in the input, each group's rows in
// rank order (ties in input order). The columns are the input's, then the rank column.
//
// Config (reference in docs/recipes/reshape.md):
//   {"group_by": ["site"], "order_by": [{"column": "score", "order": "desc"}], "n": 3,
//    "ties": "first", "rank_column": "rank"}
//
// Thread-safety: reentrant; uses the default thread pool (see sort.h), so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_TOP_N_H_
#define ASSAY_RECIPES_TOP_N_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/sort.h"
#include "table/table.h"

namespace assay::recipes {

enum class TopNTies { kFirst, kInclude };

struct TopNSpec {
  std::vector<std::string> group_by;  // Empty: the whole table is one group.
  std::vector<SortKey> order_by;      // At least one.
  int64_t n = 1;                      // >= 1.
  TopNTies ties = TopNTies::kFirst;
  std::string rank_column;  // Empty: no rank column.
};

// Parses the config above ("order_by" and "n" required). Errors: INVALID_ARGUMENT for unknown,
// missing or mistyped keys, n < 1, or a column listed twice, naming the key path.
absl::StatusOr<TopNSpec> ParseTopNSpec(const nlohmann::json& config);

// The top rows of each group. Errors: INVALID_ARGUMENT if a group_by or order_by column is
// missing from `input` (listing the available ones), n < 1, order_by is empty, or the rank
// column already exists in `input`.
absl::StatusOr<table::Table> RunTopN(const TopNSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_TOP_N_H_
