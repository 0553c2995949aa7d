#include "recipes/reshape_rows.h"

#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "common/thread_pool.h"

namespace assay::recipes::reshape {
namespace {

using table::Column;
using table::DataType;
using table::Table;

// Below this many output cells a gather is cheaper than waking the pool.
constexpr int64_t kParallelGatherCells = 1 << 17;

template <typename T>
std::vector<T> GatherValues(const std::vector<T>& values, const std::vector<int64_t>& rows) {
  std::vector<T> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t row = rows[i];
    out[i] = row >= 0 ? values[static_cast<size_t>(row)] : T{};
  }
  return out;
}

// The splitmix64 finalizer (Steele, Lea, Flood, "Fast Splittable Pseudorandom Number
// Generators", OOPSLA 2014): a cheap bijective 64-bit mixer.
inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t kNullHash = 0x6a09e667f3bcc909ULL;

inline void Combine(uint64_t* hash, uint64_t value) { *hash = Mix(*hash ^ value) + value; }

// Folds the values of one column into the per-row hashes, one column at a time so the inner
// loop is a tight pass over one buffer.
void HashColumnInto(const Column& column, std::vector<uint64_t>* hashes) {
  const int64_t rows = column.size();
  const bool has_nulls = column.null_count() > 0;
  auto fold = [&](auto value_hash) {
    for (int64_t row = 0; row < rows; ++row) {
      const uint64_t value = (has_nulls && column.IsNull(row)) ? kNullHash : value_hash(row);
      Combine(&(*hashes)[static_cast<size_t>(row)], value);
    }
  };
  switch (column.type()) {
    case DataType::kBool: {
      const auto& values = column.bool_values();
      fold([&](int64_t row) { return Mix(values[row] + 1); });
      break;
    }
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const auto& values = column.int64_values();
      fold([&](int64_t row) { return Mix(static_cast<uint64_t>(values[row])); });
      break;
    }
    case DataType::kFloat64: {
      const auto& values = column.float64_values();
      fold([&](int64_t row) {
        double value = values[row];
        // Equal values must hash equally: -0.0 == 0.0 and all NaNs are one value.
        if (value == 0.0) value = 0.0;
        if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
        return Mix(std::bit_cast<uint64_t>(value));
      });
      break;
    }
    case DataType::kDate: {
      const auto& values = column.date_values();
      fold([&](int64_t row) { return Mix(static_cast<uint64_t>(values[row]) + 7); });
      break;
    }
    case DataType::kString: {
      const absl::Hash<absl::string_view> hasher;
      fold([&](int64_t row) {
        const std::string_view text = column.StringAt(row);
        return static_cast<uint64_t>(hasher(absl::string_view(text.data(), text.size())));
      });
      break;
    }
  }
}

// A row of the group map with its hash stored inline, so probing and rehashing never read the
// column buffers; only rows with equal hashes are compared value by value.
struct RowRef {
  uint64_t hash;
  int64_t row;
};

struct RowRefHash {
  size_t operator()(const RowRef& ref) const { return ref.hash; }
};

struct RowRefEqual {
  const RowOrdering* ordering;
  bool operator()(const RowRef& a, const RowRef& b) const {
    return a.hash == b.hash && ordering->Compare(a.row, b.row) == 0;
  }
};

}  // namespace

Column TakeColumn(const Column& column, const std::vector<int64_t>& rows) {
  const size_t count = rows.size();
  bool needs_validity = column.null_count() > 0;
  for (size_t i = 0; i < count && !needs_validity; ++i) needs_validity = rows[i] < 0;
  std::vector<uint8_t> validity;
  if (needs_validity) {
    validity.assign((count + 7) / 8, 0);
    for (size_t i = 0; i < count; ++i) {
      const int64_t row = rows[i];
      if (row >= 0 && column.IsValid(row)) validity[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
    }
  }
  absl::StatusOr<Column> out;
  switch (column.type()) {
    case DataType::kBool:
      out = Column::FromBools(GatherValues(column.bool_values(), rows), std::move(validity));
      break;
    case DataType::kInt64:
      out = Column::FromInt64s(GatherValues(column.int64_values(), rows), std::move(validity));
      break;
    case DataType::kTimestamp:
      out = Column::FromTimestamps(GatherValues(column.int64_values(), rows), std::move(validity));
      break;
    case DataType::kFloat64:
      out = Column::FromFloat64s(GatherValues(column.float64_values(), rows), std::move(validity));
      break;
    case DataType::kDate:
      out = Column::FromDates(GatherValues(column.date_values(), rows), std::move(validity));
      break;
    case DataType::kString: {
      const std::vector<int64_t>& source_offsets = column.string_offsets();
      std::vector<int64_t> offsets(count + 1, 0);
      for (size_t i = 0; i < count; ++i) {
        const int64_t row = rows[i];
        const int64_t length = row >= 0 ? source_offsets[row + 1] - source_offsets[row] : 0;
        offsets[i + 1] = offsets[i] + length;
      }
      std::string bytes(static_cast<size_t>(offsets[count]), '\0');
      const char* source = column.string_bytes().data();
      for (size_t i = 0; i < count; ++i) {
        const int64_t length = offsets[i + 1] - offsets[i];
        if (length > 0) {
          std::memcpy(bytes.data() + offsets[i], source + source_offsets[rows[i]],
                      static_cast<size_t>(length));
        }
      }
      out = Column::FromStrings(std::move(offsets), std::move(bytes), std::move(validity));
      break;
    }
  }
  // The buffers were sized together above, so construction cannot fail.
  assert(out.ok());
  return *std::move(out);
}

std::vector<Column> TakeColumns(const Table& input, const std::vector<int64_t>& rows) {
  std::vector<Column> columns(static_cast<size_t>(input.num_columns()));
  auto take = [&](int64_t index) {
    columns[static_cast<size_t>(index)] = TakeColumn(input.column(static_cast<int>(index)), rows);
  };
  const int64_t cells = static_cast<int64_t>(rows.size()) * input.num_columns();
  if (input.num_columns() > 1 && cells >= kParallelGatherCells) {
    common::ThreadPool::Default().ParallelFor(input.num_columns(), take);
  } else {
    for (int index = 0; index < input.num_columns(); ++index) take(index);
  }
  return columns;
}

Table TakeRows(const Table& input, const std::vector<int64_t>& rows) {
  absl::StatusOr<Table> out = Table::Make(input.schema(), TakeColumns(input, rows));
  assert(out.ok());
  return *std::move(out);
}

absl::StatusOr<Table> MakeWithExtraColumns(const table::Schema& schema, std::vector<Column> columns,
                                           std::vector<table::Field> extra_fields,
                                           std::vector<Column> extra_columns) {
  std::vector<table::Field> fields = schema.fields();
  for (table::Field& field : extra_fields) fields.push_back(std::move(field));
  for (Column& column : extra_columns) columns.push_back(std::move(column));
  return Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

int CompareValues(const Column& column, int64_t a, int64_t b) {
  // A one-key ordering over a single column gives the same value order as sort.
  switch (column.type()) {
    case DataType::kBool:
      return static_cast<int>(column.bool_values()[a]) - static_cast<int>(column.bool_values()[b]);
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const auto& values = column.int64_values();
      return values[a] < values[b] ? -1 : (values[b] < values[a] ? 1 : 0);
    }
    case DataType::kFloat64: {
      const double x = column.float64_values()[a];
      const double y = column.float64_values()[b];
      if (x < y) return -1;
      if (x > y) return 1;
      if (x == y) return 0;
      const bool x_nan = std::isnan(x);
      const bool y_nan = std::isnan(y);
      return x_nan == y_nan ? 0 : (x_nan ? 1 : -1);
    }
    case DataType::kDate: {
      const auto& values = column.date_values();
      return values[a] < values[b] ? -1 : (values[b] < values[a] ? 1 : 0);
    }
    case DataType::kString: {
      const int order = column.StringAt(a).compare(column.StringAt(b));
      return order < 0 ? -1 : (order > 0 ? 1 : 0);
    }
  }
  return 0;
}

RowOrdering::RowOrdering(const Table& input, std::vector<OrderKey> keys) {
  keys_.reserve(keys.size());
  for (const OrderKey& key : keys) {
    const Column& column = input.column(key.column);
    keys_.push_back(
        Key{&column, column.type(), column.null_count() > 0, key.descending, key.nulls_first});
  }
}

RowGroups GroupRows(const Table& input, const std::vector<int>& columns) {
  const int64_t rows = input.num_rows();
  RowGroups groups;
  groups.group_of_row.assign(static_cast<size_t>(rows), 0);
  if (columns.empty()) {
    if (rows > 0) groups.first_row.push_back(0);
    return groups;
  }
  std::vector<uint64_t> hashes(static_cast<size_t>(rows), 0x243f6a8885a308d3ULL);
  std::vector<OrderKey> keys;
  for (int column : columns) {
    HashColumnInto(input.column(column), &hashes);
    keys.push_back(OrderKey{column, false, false});
  }
  const RowOrdering ordering(input, std::move(keys));
  absl::flat_hash_map<RowRef, int64_t, RowRefHash, RowRefEqual> group_of_first_row(
      0, RowRefHash{}, RowRefEqual{&ordering});
  for (int64_t row = 0; row < rows; ++row) {
    const auto [it, inserted] = group_of_first_row.try_emplace(
        RowRef{hashes[static_cast<size_t>(row)], row}, groups.num_groups());
    if (inserted) groups.first_row.push_back(row);
    groups.group_of_row[static_cast<size_t>(row)] = it->second;
  }
  return groups;
}

}  // namespace assay::recipes::reshape
