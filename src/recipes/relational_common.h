// Shared machinery of the relational recipes (join, group, window): strict config readers that
// produce the recipe convention's INVALID_ARGUMENT messages, per-row hashing of key columns of
// mixed types without allocating per row, key equality and ordering, and gathering rows of a
// column by index. Internal to src/recipes/; not part of the recipe API.
//
// Pure functions over immutable columns. The functions taking a `pool` run a ParallelFor on it,
// so they must not be called from inside a task of that pool; otherwise thread-safe.
#ifndef ASSAY_RECIPES_RELATIONAL_COMMON_H_
#define ASSAY_RECIPES_RELATIONAL_COMMON_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/thread_pool.h"
#include "nlohmann/json.hpp"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes::relational {

// ---- Config reading -------------------------------------------------------------------------

// `"on"[1]`-style path pieces for error messages.
std::string KeyPath(std::string_view parent, std::string_view key);
std::string IndexPath(std::string_view parent, size_t index);

// INVALID_ARGUMENT "<recipe> config: <path>: <message>" (or "<recipe> config: <message>" when
// path is empty).
absl::Status ConfigError(std::string_view recipe, std::string_view path, std::string_view message);

// Requires `value` to be a JSON object whose keys are all in `allowed`. Errors name the first
// unknown key and list the allowed ones.
absl::Status CheckObject(const nlohmann::json& value, std::string_view recipe,
                         std::string_view path, std::initializer_list<std::string_view> allowed);

// A string at `path`; `what` describes it ("a column name").
absl::StatusOr<std::string> ReadString(const nlohmann::json& value, std::string_view recipe,
                                       std::string_view path, std::string_view what);
// A non-empty list of column names; a single string is accepted as a list of one.
absl::StatusOr<std::vector<std::string>> ReadNameList(const nlohmann::json& value,
                                                      std::string_view recipe,
                                                      std::string_view path);
absl::StatusOr<int64_t> ReadInt(const nlohmann::json& value, std::string_view recipe,
                                std::string_view path, int64_t min_value);
absl::StatusOr<bool> ReadBool(const nlohmann::json& value, std::string_view recipe,
                              std::string_view path);

// One column of an ORDER BY: name and direction.
struct OrderKey {
  std::string column;
  bool descending = false;
  bool operator==(const OrderKey&) const = default;
};
// An order_by list: each entry is a column name (ascending) or {column: NAME, direction:
// asc|desc}; a single entry may stand alone.
absl::StatusOr<std::vector<OrderKey>> ReadOrderKeys(const nlohmann::json& value,
                                                    std::string_view recipe, std::string_view path);

// The index of column `name` in `schema`. Errors: INVALID_ARGUMENT "<context>: unknown column
// "x" (columns: a, b, ...)".
absl::StatusOr<int> FindColumn(const table::Schema& schema, std::string_view name,
                               std::string_view context);

// ---- Key hashing and comparison -------------------------------------------------------------

// Per-row hashes of a list of key columns.
struct RowHashes {
  // One hash per row: borrowed from the key column itself for one int64/timestamp key,
  // else pointing into `owned`.
  const uint64_t* hash = nullptr;
  std::unique_ptr<uint64_t[]> owned;
  // 1 where at least one key of the row is null (empty when no key column has nulls).
  std::vector<uint8_t> has_null;
  // True when the hash is the key itself (one bool/int64/date/timestamp column): equal hashes
  // of non-null rows then mean equal keys, and no equality check is needed.
  bool exact = false;
};

// Hashes rows [0, rows) of `columns` (all of length `rows`), in parallel chunks on `pool`.
// The result may borrow the key column's buffer: it must not outlive `columns`.
// Equal keys give equal hashes; floats are canonicalised first (-0.0 as 0.0, one NaN), and a
// null hashes to a per-column constant so null keys can form their own group.
RowHashes HashRows(const std::vector<const table::Column*>& columns, int64_t rows,
                   common::ThreadPool& pool);

// True when row `a` of `left` equals row `b` of `right` on every key column (same types,
// pairwise). Nulls equal nulls here; callers that want SQL semantics skip null rows first.
bool KeysEqual(const std::vector<const table::Column*>& left, int64_t a,
               const std::vector<const table::Column*>& right, int64_t b);

// Three-way comparison of two rows of one column, nulls last whatever the direction: the
// sign of a - b. Floats order NaN after every number.
int CompareRows(const table::Column& column, int64_t a, int64_t b);

// Lexicographic three-way comparison of two rows over `keys` (column, descending); nulls last
// in both directions.
struct SortColumn {
  const table::Column* column;
  bool descending;
};
int CompareRowsBy(const std::vector<SortColumn>& keys, int64_t a, int64_t b);

// Dense group ids for rows [0, rows) of `keys`: rows with equal keys (nulls equal nulls)
// share an id. With no keys every row is in group 0 and there is exactly one group.
struct Groups {
  // Per input row. Not zero-filled up front: the parallel tasks that number the rows touch
  // the memory first, so page faults (costly on VMs) are spread over the threads too.
  std::unique_ptr<int32_t[]> group_of;
  std::vector<int64_t> first_row;  // per group: its first input row (the key representative)
  int64_t count = 0;
};
// Hashes on `pool`, numbers groups in parallel row ranges and merges the numberings in range
// order, so ids are deterministic (first appearance within the first range holding the key).
Groups AssignGroups(const std::vector<const table::Column*>& keys, int64_t rows,
                    common::ThreadPool& pool);

// ---- Gathering ------------------------------------------------------------------------------

// A column of rows[i] of `column` for each i; an index of -1 gives a null. Requires every
// index to be -1 or in [0, column.size()).
table::Column TakeRows(const table::Column& column, std::span<const int64_t> rows);

// A column of `type` from values and a per-row 0/1 validity vector (empty: all valid). T
// must match the type's physical encoding (uint8_t, int64_t, double, int32_t).
template <typename T>
table::Column MakeColumn(table::DataType type, std::vector<T> values,
                         const std::vector<uint8_t>& valid);

// A bitmap (column.h layout) from a per-row 0/1 vector; empty when every row is valid.
std::vector<uint8_t> PackValidity(const std::vector<uint8_t>& valid);

// Boolean mask column -> per-row 0/1 (null counts as false). Requires a kBool column.
std::vector<uint8_t> MaskToBytes(const table::Column& mask);

}  // namespace assay::recipes::relational

#endif  // ASSAY_RECIPES_RELATIONAL_COMMON_H_
