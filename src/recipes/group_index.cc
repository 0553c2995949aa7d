#include "recipes/group_index.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/hash/hash.h"
#include "recipes/relational_common.h"
#include "table/data_type.h"

namespace assay::recipes::relational {
namespace {

using table::Column;
using table::DataType;

// Rows per task of the row-parallel passes: large enough to amortise scheduling, small enough
// to balance two busy cores.
constexpr int64_t kChunkRows = 1 << 16;

// MurmurHash3's 64-bit finalizer (Appleby, public domain), a bijective mixer: it spreads
// integer keys (whose "hash" is the value itself) over the table.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

int64_t NumChunks(int64_t rows) { return (rows + kChunkRows - 1) / kChunkRows; }

// Runs fn(chunk, begin, end) for the chunks of kChunkRows rows of [0, rows), in parallel.
void ForEachChunk(int64_t rows, common::ThreadPool& pool,
                  const std::function<void(int64_t, int64_t, int64_t)>& fn) {
  const int64_t chunks = NumChunks(rows);
  auto task = [&](int64_t chunk) {
    const int64_t begin = chunk * kChunkRows;
    fn(chunk, begin, std::min(rows, begin + kChunkRows));
  };
  if (chunks > 1) {
    pool.ParallelFor(chunks, task);
  } else if (chunks == 1) {
    task(0);
  }
}

bool IsIntegerLike(DataType type) {
  return type == DataType::kBool || type == DataType::kInt64 || type == DataType::kTimestamp ||
         type == DataType::kDate;
}

// Calls fn(values) with the typed value pointer of an integer-like column.
template <typename Fn>
void VisitIntegers(const Column& column, Fn&& fn) {
  switch (column.type()) {
    case DataType::kBool:
      fn(column.bool_values().data());
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      fn(column.int64_values().data());
      break;
    case DataType::kDate:
      fn(column.date_values().data());
      break;
    case DataType::kFloat64:
    case DataType::kString:
      break;
  }
}

// A one-column key table of `type` from int64 values (+ one trailing null when `null_last`).
Column IntegerKeyColumn(DataType type, const std::vector<int64_t>& values, bool null_last) {
  std::vector<uint8_t> valid;
  if (null_last) {
    valid.assign(values.size(), 1);
    valid.push_back(0);
  }
  const size_t size = values.size() + (null_last ? 1 : 0);
  switch (type) {
    case DataType::kBool: {
      std::vector<uint8_t> out(size, 0);
      for (size_t index = 0; index < values.size(); ++index) {
        out[index] = static_cast<uint8_t>(values[index]);
      }
      return MakeColumn<uint8_t>(type, std::move(out), valid);
    }
    case DataType::kDate: {
      std::vector<int32_t> out(size, 0);
      for (size_t index = 0; index < values.size(); ++index) {
        out[index] = static_cast<int32_t>(values[index]);
      }
      return MakeColumn<int32_t>(type, std::move(out), valid);
    }
    default: {
      std::vector<int64_t> out = values;
      out.resize(size, 0);
      return MakeColumn<int64_t>(type, std::move(out), valid);
    }
  }
}

// The direct-array path for one integer-like key whose non-null values span fewer than
// 2 * max(rows, 2^16) values; nullopt when the span is wider.
std::optional<GroupIndex> TryDenseIndex(const Column& key, int64_t rows, common::ThreadPool& pool) {
  const bool nullable = key.null_count() > 0;
  const int64_t chunks = NumChunks(rows);
  std::vector<int64_t> lows(static_cast<size_t>(chunks), INT64_MAX);
  std::vector<int64_t> highs(static_cast<size_t>(chunks), INT64_MIN);
  VisitIntegers(key, [&](const auto* values) {
    ForEachChunk(rows, pool, [&](int64_t chunk, int64_t begin, int64_t end) {
      int64_t low = INT64_MAX, high = INT64_MIN;
      for (int64_t row = begin; row < end; ++row) {
        if (nullable && key.IsNull(row)) continue;
        const int64_t value = static_cast<int64_t>(values[row]);
        low = std::min(low, value);
        high = std::max(high, value);
      }
      lows[chunk] = low;
      highs[chunk] = high;
    });
  });
  const int64_t low = chunks == 0 ? INT64_MAX : *std::min_element(lows.begin(), lows.end());
  const int64_t high = chunks == 0 ? INT64_MIN : *std::max_element(highs.begin(), highs.end());
  const bool any_value = low <= high;
  const uint64_t span = any_value ? static_cast<uint64_t>(high) - static_cast<uint64_t>(low) : 0;
  const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(rows, 1 << 16)) * 2;
  if (span >= limit || span >= static_cast<uint64_t>(INT32_MAX) - 1) return std::nullopt;

  // Each row's slot (value - low; `slots` for null), and which slots occur. Concurrent tasks
  // may mark one slot together: the marks are relaxed atomic stores of the same value.
  GroupIndex index;
  const int64_t slots = any_value ? static_cast<int64_t>(span) + 1 : 0;
  index.group_of = std::make_unique_for_overwrite<int32_t[]>(static_cast<size_t>(rows));
  std::vector<uint8_t> used(static_cast<size_t>(slots), 0);
  std::atomic<bool> has_null{false};
  int32_t* group_of = index.group_of.get();
  VisitIntegers(key, [&](const auto* values) {
    ForEachChunk(rows, pool, [&](int64_t, int64_t begin, int64_t end) {
      bool chunk_null = false;
      for (int64_t row = begin; row < end; ++row) {
        if (nullable && key.IsNull(row)) {
          group_of[row] = static_cast<int32_t>(slots);
          chunk_null = true;
          continue;
        }
        const uint64_t slot =
            static_cast<uint64_t>(static_cast<int64_t>(values[row])) - static_cast<uint64_t>(low);
        group_of[row] = static_cast<int32_t>(slot);
        std::atomic_ref<uint8_t>(used[slot]).store(1, std::memory_order_relaxed);
      }
      if (chunk_null) has_null.store(true, std::memory_order_relaxed);
    });
  });

  // Slot order is key order, so a group's id is the number of occurring slots before it.
  std::vector<int32_t> rank(static_cast<size_t>(slots) + 1);
  std::vector<int64_t> key_values;
  int32_t next = 0;
  for (int64_t slot = 0; slot < slots; ++slot) {
    rank[slot] = next;
    if (used[slot]) {
      key_values.push_back(
          static_cast<int64_t>(static_cast<uint64_t>(low) + static_cast<uint64_t>(slot)));
      ++next;
    }
  }
  rank[slots] = next;  // the null group, last
  if (next != slots) {
    ForEachChunk(rows, pool, [&](int64_t, int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) group_of[row] = rank[group_of[row]];
    });
  }
  const bool null_group = has_null.load();
  index.count = next + (null_group ? 1 : 0);
  index.keys.push_back(IntegerKeyColumn(key.type(), key_values, null_group));
  return index;
}

// Open addressing from a 64-bit hash to a group id: linear probing over a power-of-two table
// kept at most half full.
class HashGroupTable {
 public:
  // Room for `expected` groups before the first resize.
  explicit HashGroupTable(int64_t expected) {
    Resize(std::bit_ceil(static_cast<size_t>(std::max<int64_t>(expected, 512)) * 2));
  }

  // The group stored for `hash`, or `next` (then stored) when there is none; `*inserted`
  // says which.
  // A hint that `hash` is looked up soon: starts loading its slot.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[Mix64(hash) & mask_]); }

  int32_t FindOrInsert(uint64_t hash, int32_t next, bool* inserted) {
    uint64_t position = Mix64(hash) & mask_;
    while (true) {
      Slot& slot = slots_[position];
      if (slot.group < 0) {
        slot = {hash, next};
        *inserted = true;
        if (++size_ * 2 > slots_.size()) Resize(slots_.size() * 2);
        return next;
      }
      if (slot.hash == hash) {
        *inserted = false;
        return slot.group;
      }
      position = (position + 1) & mask_;
    }
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t group;  // -1: empty
  };

  void Resize(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, -1});
    mask_ = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.group < 0) continue;
      uint64_t position = Mix64(slot.hash) & mask_;
      while (slots_[position].group >= 0) position = (position + 1) & mask_;
      slots_[position] = slot;
    }
  }

  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

// The groups of one row range, numbered in first-appearance order.
struct RangeGroups {
  std::vector<uint64_t> hash;      // per local group
  std::vector<int64_t> first_row;  // per local group
  int32_t null_group = -1;         // exact hashes only: the local group of null keys
};

// Numbers rows [begin, end) by hash into local ids written to local_of[row]. `null_flags`
// (exact hashes only; may be null) marks rows with a null key, which get their own group
// because their hash slot holds a zero like a real zero key.
// `hash_of(row)` gives a row's hash.
template <typename HashFn>
RangeGroups NumberRange(const HashFn& hash_of, const uint8_t* null_flags, int64_t begin,
                        int64_t end, int32_t* local_of) {
  RangeGroups local;
  // Sized for up to 2^17 groups up front: growing a table step by step costs more (fresh
  // memory and rehashing at every step) than the untouched part of a big one.
  HashGroupTable table(std::min<int64_t>(end - begin, 1 << 17));
  // A table of many groups outgrows the core's cache, and each probe would wait for memory:
  // hashes are computed kAhead rows early and their slots prefetched.
  constexpr int64_t kAhead = 16;
  uint64_t ahead[kAhead];
  for (int64_t row = begin; row < std::min(end, begin + kAhead); ++row) {
    ahead[row % kAhead] = hash_of(row);
    table.Prefetch(ahead[row % kAhead]);
  }
  for (int64_t row = begin; row < end; ++row) {
    const uint64_t hash = ahead[row % kAhead];
    if (row + kAhead < end) {
      ahead[row % kAhead] = hash_of(row + kAhead);
      table.Prefetch(ahead[row % kAhead]);
    }
    if (null_flags != nullptr && null_flags[row]) {
      if (local.null_group < 0) {
        local.null_group = static_cast<int32_t>(local.first_row.size());
        local.hash.push_back(0);
        local.first_row.push_back(row);
      }
      local_of[row] = local.null_group;
      continue;
    }
    bool inserted;
    const int32_t group =
        table.FindOrInsert(hash, static_cast<int32_t>(local.first_row.size()), &inserted);
    if (inserted) {
      local.hash.push_back(hash);
      local.first_row.push_back(row);
    }
    local_of[row] = group;
  }
  return local;
}

// Order-preserving map of a double to uint64: numbers by value (-0.0 as 0.0), NaN last.
uint64_t NormalizedDouble(double value) {
  if (std::isnan(value)) return UINT64_MAX;
  const uint64_t bits = value == 0.0 ? 0 : std::bit_cast<uint64_t>(value);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// The first (up to) 8 bytes of `text` as a big-endian integer, zero-padded: comparing these
// orders strings like a byte-wise comparison of their first 8 bytes.
uint64_t StringPrefix(std::string_view text) {
  unsigned char bytes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(bytes, text.data(), std::min<size_t>(8, text.size()));
  uint64_t prefix = 0;
  for (unsigned char byte : bytes) prefix = (prefix << 8) | byte;
  return prefix;
}

// Group ids ordered by the keys of their representative rows (CompareRowsBy, nulls last).
// Keys of distinct groups never compare equal, so the order is unique.
std::vector<int32_t> SortGroups(const std::vector<const Column*>& keys,
                                const std::vector<int64_t>& first_row) {
  const int32_t count = static_cast<int32_t>(first_row.size());
  std::vector<int32_t> order;
  order.reserve(first_row.size());
  if (keys.size() == 1) {
    // Sort (normalized key, group) pairs; the null group, if any, goes last.
    const Column& key = *keys[0];
    std::vector<std::pair<uint64_t, int32_t>> items;
    items.reserve(first_row.size());
    int32_t null_group = -1;
    for (int32_t group = 0; group < count; ++group) {
      const int64_t row = first_row[group];
      if (key.IsNull(row)) {
        null_group = group;
        continue;
      }
      uint64_t normalized = 0;
      switch (key.type()) {
        case DataType::kBool:
          normalized = key.bool_values()[row];
          break;
        case DataType::kInt64:
        case DataType::kTimestamp:
          normalized = static_cast<uint64_t>(key.int64_values()[row]) ^ (uint64_t{1} << 63);
          break;
        case DataType::kDate:
          normalized = static_cast<uint64_t>(static_cast<int64_t>(key.date_values()[row])) ^
                       (uint64_t{1} << 63);
          break;
        case DataType::kFloat64:
          normalized = NormalizedDouble(key.float64_values()[row]);
          break;
        case DataType::kString:
          normalized = StringPrefix(key.StringAt(row));
          break;
      }
      items.push_back({normalized, group});
    }
    if (key.type() == DataType::kString) {
      std::sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        return key.StringAt(first_row[a.second]) < key.StringAt(first_row[b.second]);
      });
    } else {
      std::sort(items.begin(), items.end());
    }
    for (const auto& item : items) order.push_back(item.second);
    if (null_group >= 0) order.push_back(null_group);
    return order;
  }
  for (int32_t group = 0; group < count; ++group) order.push_back(group);
  std::vector<SortColumn> sort_keys;
  for (const Column* key : keys) sort_keys.push_back({key, false});
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return CompareRowsBy(sort_keys, first_row[a], first_row[b]) < 0;
  });
  return order;
}

// The key columns of the groups: each group's first row, in output order.
std::vector<Column> KeyColumns(const std::vector<const Column*>& keys,
                               const std::vector<int64_t>& first_row,
                               const std::vector<int32_t>& order) {
  std::vector<int64_t> representatives(order.size());
  for (size_t index = 0; index < order.size(); ++index) {
    representatives[index] = first_row[order[index]];
  }
  std::vector<Column> columns;
  for (const Column* key : keys) columns.push_back(TakeRows(*key, representatives));
  return columns;
}

// True when rows [begin, end) of `keys` equal their group's row of `group_keys`.
bool RowsMatchGroupKeys(const std::vector<const Column*>& keys,
                        const std::vector<Column>& group_keys, const int32_t* group_of,
                        int64_t begin, int64_t end) {
  if (keys.size() == 1 && keys[0]->type() == DataType::kString) {
    const Column& key = *keys[0];
    const Column& group_key = group_keys[0];
    const int64_t* offsets = key.string_offsets().data();
    const char* bytes = key.string_bytes().data();
    const int64_t* group_offsets = group_key.string_offsets().data();
    const char* group_bytes = group_key.string_bytes().data();
    const bool nullable = key.null_count() > 0 || group_key.null_count() > 0;
    bool match = true;
    // The group keys are read in random order: prefetch their offsets 32 rows ahead and
    // their bytes 16 rows ahead.
    for (int64_t row = begin; row < end; ++row) {
      if (row + 32 < end) __builtin_prefetch(&group_offsets[group_of[row + 32]]);
      if (row + 16 < end) __builtin_prefetch(group_bytes + group_offsets[group_of[row + 16]]);
      const int32_t group = group_of[row];
      if (nullable && key.IsNull(row) != group_key.IsNull(group)) return false;
      const int64_t length = offsets[row + 1] - offsets[row];
      const int64_t group_length = group_offsets[group + 1] - group_offsets[group];
      if (length != group_length) return false;
      const char* a = bytes + offsets[row];
      const char* b = group_bytes + group_offsets[group];
      if (length <= 16) {
        // Short keys (codes, ids): a byte loop beats a call to memcmp; it accumulates
        // without branching, as a mismatch is (almost) never expected.
        for (int64_t at = 0; at < length; ++at) match &= a[at] == b[at];
      } else {
        match &= std::memcmp(a, b, static_cast<size_t>(length)) == 0;
      }
    }
    return match;
  }
  std::vector<const Column*> group_key_columns;
  for (const Column& column : group_keys) group_key_columns.push_back(&column);
  for (int64_t row = begin; row < end; ++row) {
    if (!KeysEqual(keys, row, group_key_columns, group_of[row])) return false;
  }
  return true;
}

// The exact path: relational::AssignGroups compares keys on hash collisions; its groups are
// then renumbered in output order.
GroupIndex IndexByComparingKeys(const std::vector<const Column*>& keys, int64_t rows,
                                common::ThreadPool& pool) {
  Groups groups = AssignGroups(keys, rows, pool);
  const std::vector<int32_t> order = SortGroups(keys, groups.first_row);
  std::vector<int32_t> rank(order.size());
  for (size_t index = 0; index < order.size(); ++index) {
    rank[order[index]] = static_cast<int32_t>(index);
  }
  GroupIndex index;
  index.group_of = std::move(groups.group_of);
  index.count = groups.count;
  int32_t* group_of = index.group_of.get();
  ForEachChunk(rows, pool, [&](int64_t, int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) group_of[row] = rank[group_of[row]];
  });
  index.keys = KeyColumns(keys, groups.first_row, order);
  return index;
}

// The hash path. `exact`: the hash is the key itself (one integer-like column), so equal
// hashes of non-null rows are equal keys; `null_flags` then marks null rows (may be null).
// `hash_of(row)` gives a row's hash.
template <typename HashFn>
GroupIndex IndexByHash(const std::vector<const Column*>& keys, int64_t rows, const HashFn& hash_of,
                       bool exact, const uint8_t* null_flags, common::ThreadPool& pool) {
  // 1. Number each range of rows on its own (tables stay small and private to a thread).
  const int64_t tasks =
      std::max<int64_t>(1, std::min<int64_t>(pool.num_threads(), NumChunks(rows)));
  const int64_t rows_per_task = (rows + tasks - 1) / tasks;
  auto task_range = [&](int64_t task) {
    const int64_t begin = std::min(rows, task * rows_per_task);
    return std::pair<int64_t, int64_t>(begin, std::min(rows, begin + rows_per_task));
  };
  GroupIndex index;
  index.group_of = std::make_unique_for_overwrite<int32_t[]>(static_cast<size_t>(rows));
  int32_t* group_of = index.group_of.get();
  std::vector<RangeGroups> locals(static_cast<size_t>(tasks));
  auto number = [&](int64_t task) {
    const auto [begin, end] = task_range(task);
    locals[task] = NumberRange(hash_of, null_flags, begin, end, group_of);
  };
  if (tasks > 1) {
    pool.ParallelFor(tasks, number);
  } else {
    number(0);
  }

  // 2. Merge the local numberings in range order: a group's first row is its first row in
  // the first range holding it, i.e. its first input row.
  std::vector<std::vector<int32_t>> to_global(static_cast<size_t>(tasks));
  std::vector<int64_t> first_row;
  HashGroupTable table(static_cast<int64_t>(locals[0].first_row.size()));
  int32_t null_group = -1;
  for (int64_t task = 0; task < tasks; ++task) {
    const RangeGroups& local = locals[task];
    std::vector<int32_t>& mapping = to_global[task];
    mapping.resize(local.first_row.size());
    for (size_t group = 0; group < local.first_row.size(); ++group) {
      if (static_cast<int32_t>(group) == local.null_group) {
        if (null_group < 0) {
          null_group = static_cast<int32_t>(first_row.size());
          first_row.push_back(local.first_row[group]);
        }
        mapping[group] = null_group;
        continue;
      }
      bool inserted;
      mapping[group] =
          table.FindOrInsert(local.hash[group], static_cast<int32_t>(first_row.size()), &inserted);
      if (inserted) first_row.push_back(local.first_row[group]);
    }
  }
  locals.clear();

  // 3. Output order, the groups' key columns, and each range's local -> output id mapping.
  const std::vector<int32_t> order = SortGroups(keys, first_row);
  std::vector<int32_t> rank(order.size());
  for (size_t position = 0; position < order.size(); ++position) {
    rank[order[position]] = static_cast<int32_t>(position);
  }
  for (std::vector<int32_t>& mapping : to_global) {
    for (int32_t& group : mapping) group = rank[group];
  }
  index.count = static_cast<int64_t>(order.size());
  index.keys = KeyColumns(keys, first_row, order);

  // 4. Renumber the rows; unless the hash is the key, check every row's key against its
  // group's, which catches two keys sharing a 64-bit hash.
  std::atomic<bool> collision{false};
  auto renumber = [&](int64_t task) {
    const auto [begin, end] = task_range(task);
    const int32_t* mapping = to_global[task].data();
    for (int64_t row = begin; row < end; ++row) group_of[row] = mapping[group_of[row]];
    if (!exact && !RowsMatchGroupKeys(keys, index.keys, group_of, begin, end)) {
      collision.store(true, std::memory_order_relaxed);
    }
  };
  if (tasks > 1) {
    pool.ParallelFor(tasks, renumber);
  } else {
    renumber(0);
  }
  if (collision.load()) return IndexByComparingKeys(keys, rows, pool);
  return index;
}

}  // namespace

GroupIndex IndexGroups(const std::vector<const Column*>& keys, int64_t rows,
                       common::ThreadPool& pool) {
  if (keys.empty()) {
    GroupIndex index;
    index.group_of = std::make_unique<int32_t[]>(static_cast<size_t>(rows));
    index.count = 1;
    return index;
  }
  if (keys.size() == 1 && IsIntegerLike(keys[0]->type())) {
    std::optional<GroupIndex> dense = TryDenseIndex(*keys[0], rows, pool);
    if (dense.has_value()) return *std::move(dense);
  }
  if (keys.size() == 1 && keys[0]->type() == DataType::kString) {
    // One string key: hash each row while numbering, instead of a separate pass through an
    // array of 8 bytes per row.
    const Column& key = *keys[0];
    const int64_t* offsets = key.string_offsets().data();
    const char* bytes = key.string_bytes().data();
    const bool nullable = key.null_count() > 0;
    const absl::Hash<absl::string_view> hasher;
    auto hash_of = [&](int64_t row) -> uint64_t {
      if (nullable && key.IsNull(row)) return 0x9e3779b97f4a7c15ULL;  // apart from ""
      return hasher(absl::string_view(bytes + offsets[row],
                                      static_cast<size_t>(offsets[row + 1] - offsets[row])));
    };
    return IndexByHash(keys, rows, hash_of, /*exact=*/false, nullptr, pool);
  }
  const RowHashes hashes = HashRows(keys, rows, pool);
  const uint64_t* hash = hashes.hash;
  return IndexByHash(
      keys, rows, [hash](int64_t row) { return hash[row]; }, hashes.exact,
      hashes.has_null.empty() ? nullptr : hashes.has_null.data(), pool);
}

GroupIndex IndexGroupsWithHashes(const std::vector<const Column*>& keys, int64_t rows,
                                 const uint64_t* hashes, common::ThreadPool& pool) {
  return IndexByHash(
      keys, rows, [hashes](int64_t row) { return hashes[row]; }, /*exact=*/false, nullptr, pool);
}

}  // namespace assay::recipes::relational
