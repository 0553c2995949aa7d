// The first half of the group recipe's hash aggregation: maps every input row to a dense group
// id, with the ids already numbered in output order (keys ascending, nulls last), so the
// aggregations write their results straight into output rows and nothing is sorted or gathered
// per aggregation afterwards. Internal to src/recipes/ (used by group.cc).
//
// Paths, all parallel on a common::ThreadPool:
//   - One bool/int64/date/timestamp key whose values span a small range (ids, codes, dates):
//     the value minus the minimum indexes a direct array; no hashing, no sort (slot order is
//     key order).
//   - Otherwise: per-row 64-bit hashes (relational::HashRows), per-range open-addressing tables
//     from hash to group merged in range order, one sort of the groups by key (on a normalized
//     integer prefix for a single key), and a final pass that renumbers rows and checks each
//     row's key against its group's key. Grouping by hash alone is optimistic: if two
//     different keys ever share a 64-bit hash, that check fails and the rows are regrouped by
//     relational::AssignGroups, which compares keys. The result is the same either way.
//
// Thread-safety: pure functions; they run ParallelFor on `pool`, so they must not be called
// from inside a task of that pool.
#ifndef ASSAY_RECIPES_GROUP_INDEX_H_
#define ASSAY_RECIPES_GROUP_INDEX_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "table/column.h"

namespace assay::recipes::relational {

struct GroupIndex {
  // Per input row: its group, in [0, count). Groups are numbered in output order: by the key
  // columns ascending (relational::CompareRowsBy), nulls last. With no keys every row is in
  // group 0 and there is exactly one group, even for zero rows.
  std::unique_ptr<int32_t[]> group_of;
  int64_t count = 0;
  // One column per key column, `count` rows: each group's key values (those of its first input
  // row, which matters only for float keys, where -0.0 and 0.0 share a group).
  std::vector<table::Column> keys;
};

// Groups rows [0, rows) of `keys` (all of length `rows`; rows with equal keys, nulls equal
// to nulls, share a group). Requires rows < 2^31 (group ids are int32).
GroupIndex IndexGroups(const std::vector<const table::Column*>& keys, int64_t rows,
                       common::ThreadPool& pool);

// The hash path of IndexGroups with caller-supplied row hashes (`hashes[row]` for rows
// [0, rows)), for tests: equal keys must have equal hashes, but any collisions are allowed
// (even one hash for every row); the result must equal IndexGroups'. Requires non-empty
// `keys`.
GroupIndex IndexGroupsWithHashes(const std::vector<const table::Column*>& keys, int64_t rows,
                                 const uint64_t* hashes, common::ThreadPool& pool);

}  // namespace assay::recipes::relational

#endif  // ASSAY_RECIPES_GROUP_INDEX_H_
