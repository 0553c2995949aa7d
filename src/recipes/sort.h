// The sort recipe: reorders the rows of one table by one or more key columns, each ascending
// or descending, with nulls first or last (default last, whatever the direction). The sort is
// stable: rows that tie on every key keep their input order. Rows are sorted as (normalized
// first key, row index) pairs with the row index breaking ties, a strict total order, so
// large inputs can be sorted on all threads of common::ThreadPool::Default() (chunks sorted
// in parallel, then merged) with exactly the result of the one-thread sort.
//
// Config (JSON; flow.yaml embeds it as YAML), reference in docs/recipes/reshape.md:
//   {"keys": [{"column": "visit_date", "order": "desc", "nulls": "first"}, {"column": "id"}]}
//
// Thread-safety: the functions are reentrant, but RunSort and SortPermutation use the
// default thread pool and must not be called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_SORT_H_
#define ASSAY_RECIPES_SORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

enum class SortOrder { kAscending, kDescending };
enum class NullPlacement { kLast, kFirst };

struct SortKey {
  std::string column;
  SortOrder order = SortOrder::kAscending;
  NullPlacement nulls = NullPlacement::kLast;
};

struct SortSpec {
  std::vector<SortKey> keys;  // At least one.
};

// Parses {"keys": [{"column": ..., "order": "asc"|"desc", "nulls": "last"|"first"}, ...]}.
// Errors: INVALID_ARGUMENT for unknown keys, a missing or empty "keys", a key without
// "column", a column listed twice or a value of the wrong type, naming the key path.
absl::StatusOr<SortSpec> ParseSortSpec(const nlohmann::json& config);

// The stable ordering permutation of `input` by `keys`: output row i is input row result[i].
// `recipe` names the caller in error messages. Errors: INVALID_ARGUMENT if `keys` is empty or
// names a column `input` does not have (listing the available ones).
absl::StatusOr<std::vector<int64_t>> SortPermutation(const table::Table& input,
                                                     const std::vector<SortKey>& keys,
                                                     std::string_view recipe = "sort");

// The rows of `input` ordered by spec.keys (stable). Same schema as `input`.
// Errors: as SortPermutation.
absl::StatusOr<table::Table> RunSort(const SortSpec& spec, const table::Table& input);

namespace reshape {
class ConfigContext;
}  // namespace reshape

namespace internal {
// Parses the array of sort keys at object[key] (shared with top_n's "order_by").
absl::StatusOr<std::vector<SortKey>> ParseSortKeys(const reshape::ConfigContext& context,
                                                   const nlohmann::json& object,
                                                   std::string_view key);

// SortPermutation with a chosen number of chunks sorted in parallel and then merged (1: one
// sort on the calling thread). Tests use it to cover the merge rounds on small tables.
// num_chunks >= 1.
absl::StatusOr<std::vector<int64_t>> SortPermutationInChunks(const table::Table& input,
                                                             const std::vector<SortKey>& keys,
                                                             std::string_view recipe,
                                                             int64_t num_chunks);
}  // namespace internal

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_SORT_H_
