#include "recipes/relational_common.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"

namespace assay::recipes::relational {
namespace {

using table::Column;
using table::DataType;

// Rows per hashing task: large enough to amortise scheduling, small enough to balance.
constexpr int64_t kHashChunkRows = 1 << 16;

// MurmurHash3's 64-bit finalizer (Appleby, public domain): a cheap bijective mixer.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t CanonicalDoubleBits(double value) {
  if (value == 0.0) return 0;  // -0.0 == 0.0
  if (std::isnan(value)) return 0x7ff8000000000000ULL;
  return std::bit_cast<uint64_t>(value);
}

std::string JsonText(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string JsonKind(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "a list";
  return "an object";
}

// Hashes rows [begin, end) of one column into `hash`, combining with what is already there.
void HashColumnRange(const Column& column, uint64_t column_seed, int64_t begin, int64_t end,
                     uint64_t* hash, uint8_t* has_null) {
  const bool nullable = column.null_count() > 0;
  const uint64_t null_hash = Mix64(column_seed ^ 0x9e3779b97f4a7c15ULL);
  auto combine = [&](int64_t row, uint64_t value_hash) {
    hash[row] = Mix64(hash[row] * 0x9e3779b97f4a7c15ULL + value_hash + column_seed);
  };
  auto finish_nulls = [&]() {
    if (!nullable) return;
    for (int64_t row = begin; row < end; ++row) {
      if (column.IsNull(row)) {
        has_null[row] = 1;
        hash[row] = Mix64(hash[row] * 0x9e3779b97f4a7c15ULL + null_hash);
      }
    }
  };
  switch (column.type()) {
    case DataType::kBool: {
      const uint8_t* values = column.bool_values().data();
      for (int64_t row = begin; row < end; ++row) combine(row, Mix64(values[row] + 1));
      break;
    }
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* values = column.int64_values().data();
      for (int64_t row = begin; row < end; ++row) {
        combine(row, Mix64(static_cast<uint64_t>(values[row])));
      }
      break;
    }
    case DataType::kDate: {
      const int32_t* values = column.date_values().data();
      for (int64_t row = begin; row < end; ++row) {
        combine(row, Mix64(static_cast<uint64_t>(static_cast<int64_t>(values[row]))));
      }
      break;
    }
    case DataType::kFloat64: {
      const double* values = column.float64_values().data();
      for (int64_t row = begin; row < end; ++row) {
        combine(row, Mix64(CanonicalDoubleBits(values[row])));
      }
      break;
    }
    case DataType::kString: {
      const int64_t* offsets = column.string_offsets().data();
      const char* bytes = column.string_bytes().data();
      const absl::Hash<absl::string_view> hasher;
      for (int64_t row = begin; row < end; ++row) {
        combine(row,
                hasher(absl::string_view(bytes + offsets[row],
                                         static_cast<size_t>(offsets[row + 1] - offsets[row]))));
      }
      break;
    }
  }
  // Null slots hold zero values, so they hashed like a zero; re-mix them into a distinct value.
  finish_nulls();
}

template <typename T>
int Compare3(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareDoubles(double a, double b) {
  const bool a_nan = std::isnan(a), b_nan = std::isnan(b);
  if (a_nan || b_nan) return a_nan == b_nan ? 0 : (a_nan ? 1 : -1);
  return Compare3(a, b);
}

// Rows per task when group ids are assigned in parallel; below this one task does it all.
constexpr int64_t kGroupChunkRows = 1 << 16;

// Dense group ids over the rows [begin, end), local to that range, in first-appearance order.
// `exact`: the hash is the key (one integer-like key), so null rows need their own id.
struct LocalGroups {
  std::vector<int64_t> first_row;
};

LocalGroups AssignLocal(const std::vector<const Column*>& keys, const RowHashes& hashes,
                        int64_t begin, int64_t end, int32_t* group_of) {
  LocalGroups local;
  absl::flat_hash_map<uint64_t, int32_t> heads;
  std::vector<int32_t> next_group;  // chains groups whose keys share a hash
  int32_t null_group = -1;
  const bool exact = hashes.exact;
  const uint8_t* has_null = hashes.has_null.empty() ? nullptr : hashes.has_null.data();
  auto new_group = [&](int64_t row) {
    local.first_row.push_back(row);
    next_group.push_back(-1);
    return static_cast<int32_t>(local.first_row.size() - 1);
  };
  for (int64_t row = begin; row < end; ++row) {
    if (exact) {
      if (has_null != nullptr && has_null[row]) {
        if (null_group < 0) null_group = new_group(row);
        group_of[row] = null_group;
        continue;
      }
      auto [it, inserted] =
          heads.try_emplace(hashes.hash[row], static_cast<int32_t>(local.first_row.size()));
      if (inserted) new_group(row);
      group_of[row] = it->second;
      continue;
    }
    auto [it, inserted] =
        heads.try_emplace(hashes.hash[row], static_cast<int32_t>(local.first_row.size()));
    if (inserted) {
      group_of[row] = new_group(row);
      continue;
    }
    int32_t group = it->second;
    while (group >= 0 && !KeysEqual(keys, row, keys, local.first_row[group])) {
      group = next_group[group];
    }
    if (group < 0) {
      group = new_group(row);
      next_group[group] = it->second;
      it->second = group;
    }
    group_of[row] = group;
  }
  return local;
}

}  // namespace

std::string KeyPath(std::string_view parent, std::string_view key) {
  return absl::StrCat(Absl(parent), parent.empty() ? "" : ".", "\"", Absl(key), "\"");
}

std::string IndexPath(std::string_view parent, size_t index) {
  return absl::StrCat(Absl(parent), "[", index, "]");
}

absl::Status ConfigError(std::string_view recipe, std::string_view path, std::string_view message) {
  if (path.empty())
    return absl::InvalidArgumentError(absl::StrCat(Absl(recipe), " config: ", Absl(message)));
  return absl::InvalidArgumentError(
      absl::StrCat(Absl(recipe), " config: ", Absl(path), ": ", Absl(message)));
}

absl::Status CheckObject(const nlohmann::json& value, std::string_view recipe,
                         std::string_view path, std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) {
    return ConfigError(recipe, path, absl::StrCat("expected an object, got ", JsonKind(value)));
  }
  for (const auto& [key, unused] : value.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return ConfigError(recipe, path,
                         absl::StrCat("unknown key ", JsonText(nlohmann::json(key)),
                                      " (allowed: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadString(const nlohmann::json& value, std::string_view recipe,
                                       std::string_view path, std::string_view what) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    return ConfigError(recipe, path,
                       absl::StrCat("expected ", Absl(what), " (non-empty string), got ",
                                    value.is_string() ? "an empty string" : JsonText(value)));
  }
  return value.get<std::string>();
}

absl::StatusOr<std::vector<std::string>> ReadNameList(const nlohmann::json& value,
                                                      std::string_view recipe,
                                                      std::string_view path) {
  std::vector<std::string> names;
  if (value.is_string()) {
    auto single = ReadString(value, recipe, path, "a column name");
    if (!single.ok()) return single.status();
    names.push_back(*std::move(single));
    return names;
  }
  if (!value.is_array() || value.empty()) {
    return ConfigError(
        recipe, path,
        absl::StrCat("expected a non-empty list of column names, got ", JsonText(value)));
  }
  for (size_t index = 0; index < value.size(); ++index) {
    auto name = ReadString(value[index], recipe, IndexPath(path, index), "a column name");
    if (!name.ok()) return name.status();
    if (std::find(names.begin(), names.end(), *name) != names.end()) {
      return ConfigError(recipe, IndexPath(path, index),
                         absl::StrCat("column \"", *name, "\" is listed twice"));
    }
    names.push_back(*std::move(name));
  }
  return names;
}

absl::StatusOr<int64_t> ReadInt(const nlohmann::json& value, std::string_view recipe,
                                std::string_view path, int64_t min_value) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) ||
      value.get<int64_t>() < min_value) {
    return ConfigError(
        recipe, path,
        absl::StrCat("expected an integer >= ", min_value, ", got ", JsonText(value)));
  }
  return value.get<int64_t>();
}

absl::StatusOr<bool> ReadBool(const nlohmann::json& value, std::string_view recipe,
                              std::string_view path) {
  if (!value.is_boolean()) {
    return ConfigError(recipe, path, absl::StrCat("expected true or false, got ", JsonText(value)));
  }
  return value.get<bool>();
}

absl::StatusOr<std::vector<OrderKey>> ReadOrderKeys(const nlohmann::json& value,
                                                    std::string_view recipe,
                                                    std::string_view path) {
  auto read_one = [&](const nlohmann::json& entry,
                      const std::string& entry_path) -> absl::StatusOr<OrderKey> {
    OrderKey key;
    if (entry.is_string()) {
      auto name = ReadString(entry, recipe, entry_path, "a column name");
      if (!name.ok()) return name.status();
      key.column = *std::move(name);
      return key;
    }
    if (!entry.is_object()) {
      return ConfigError(
          recipe, entry_path,
          absl::StrCat("expected a column name or {column, direction}, got ", JsonText(entry)));
    }
    absl::Status status = CheckObject(entry, recipe, entry_path, {"column", "direction"});
    if (!status.ok()) return status;
    if (!entry.contains("column")) {
      return ConfigError(recipe, KeyPath(entry_path, "column"), "is required");
    }
    auto name = ReadString(entry["column"], recipe, KeyPath(entry_path, "column"), "a column name");
    if (!name.ok()) return name.status();
    key.column = *std::move(name);
    if (entry.contains("direction")) {
      const nlohmann::json& direction = entry["direction"];
      if (direction == "asc") {
        key.descending = false;
      } else if (direction == "desc") {
        key.descending = true;
      } else {
        return ConfigError(recipe, KeyPath(entry_path, "direction"),
                           absl::StrCat("expected \"asc\" or \"desc\", got ", JsonText(direction)));
      }
    }
    return key;
  };
  std::vector<OrderKey> keys;
  if (!value.is_array()) {
    auto key = read_one(value, std::string(path));
    if (!key.ok()) return key.status();
    keys.push_back(*std::move(key));
    return keys;
  }
  if (value.empty()) return ConfigError(recipe, path, "expected at least one order column");
  for (size_t index = 0; index < value.size(); ++index) {
    auto key = read_one(value[index], IndexPath(path, index));
    if (!key.ok()) return key.status();
    keys.push_back(*std::move(key));
  }
  return keys;
}

absl::StatusOr<int> FindColumn(const table::Schema& schema, std::string_view name,
                               std::string_view context) {
  std::optional<int> index = schema.FindField(name);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(context), ": unknown column \"", Absl(name),
                                                   "\" (columns: ", schema.NameList(), ")"));
  }
  return *index;
}

RowHashes HashRows(const std::vector<const Column*>& columns, int64_t rows,
                   common::ThreadPool& pool) {
  RowHashes result;
  bool any_nullable = false;
  for (const Column* column : columns) any_nullable |= column->null_count() > 0;
  if (any_nullable) result.has_null.assign(static_cast<size_t>(rows), 0);
  const int64_t chunks = (rows + kHashChunkRows - 1) / kHashChunkRows;
  auto run = [&](const std::function<void(int64_t)>& task) {
    if (chunks > 1) {
      pool.ParallelFor(chunks, task);
    } else if (chunks == 1) {
      task(0);
    }
  };

  if (columns.size() == 1 && columns[0]->type() != DataType::kString &&
      columns[0]->type() != DataType::kFloat64) {
    // One integer-like key: the value itself is the hash (the hash map mixes it again), so
    // equal hashes of non-null rows are equal keys. int64 and timestamp values are used in
    // place (reading int64_t through uint64_t is allowed aliasing), saving a copy.
    result.exact = true;
    const Column& column = *columns[0];
    uint8_t* has_null = result.has_null.data();
    if (column.type() == DataType::kInt64 || column.type() == DataType::kTimestamp) {
      result.hash = reinterpret_cast<const uint64_t*>(column.int64_values().data());
    } else {
      result.owned = std::make_unique_for_overwrite<uint64_t[]>(static_cast<size_t>(rows));
      result.hash = result.owned.get();
    }
    uint64_t* owned = result.owned.get();
    run([&](int64_t chunk) {
      const int64_t begin = chunk * kHashChunkRows;
      const int64_t end = std::min(rows, begin + kHashChunkRows);
      if (column.type() == DataType::kBool) {
        for (int64_t row = begin; row < end; ++row) owned[row] = column.bool_values()[row];
      } else if (column.type() == DataType::kDate) {
        for (int64_t row = begin; row < end; ++row) {
          owned[row] = static_cast<uint64_t>(static_cast<int64_t>(column.date_values()[row]));
        }
      }
      if (column.null_count() > 0) {
        for (int64_t row = begin; row < end; ++row) has_null[row] = column.IsNull(row) ? 1 : 0;
      }
    });
    return result;
  }

  result.owned = std::make_unique_for_overwrite<uint64_t[]>(static_cast<size_t>(rows));
  result.hash = result.owned.get();
  run([&](int64_t chunk) {
    const int64_t begin = chunk * kHashChunkRows;
    const int64_t end = std::min(rows, begin + kHashChunkRows);
    std::fill(result.owned.get() + begin, result.owned.get() + end, 0);
    for (size_t index = 0; index < columns.size(); ++index) {
      HashColumnRange(*columns[index], Mix64(index + 1), begin, end, result.owned.get(),
                      result.has_null.data());
    }
  });
  return result;
}

bool KeysEqual(const std::vector<const Column*>& left, int64_t a,
               const std::vector<const Column*>& right, int64_t b) {
  for (size_t index = 0; index < left.size(); ++index) {
    const Column& x = *left[index];
    const Column& y = *right[index];
    const bool x_null = x.IsNull(a), y_null = y.IsNull(b);
    if (x_null || y_null) {
      if (x_null != y_null) return false;
      continue;
    }
    switch (x.type()) {
      case DataType::kBool:
        if (x.bool_values()[a] != y.bool_values()[b]) return false;
        break;
      case DataType::kInt64:
      case DataType::kTimestamp:
        if (x.int64_values()[a] != y.int64_values()[b]) return false;
        break;
      case DataType::kDate:
        if (x.date_values()[a] != y.date_values()[b]) return false;
        break;
      case DataType::kFloat64:
        if (CanonicalDoubleBits(x.float64_values()[a]) !=
            CanonicalDoubleBits(y.float64_values()[b])) {
          return false;
        }
        break;
      case DataType::kString:
        if (x.StringAt(a) != y.StringAt(b)) return false;
        break;
    }
  }
  return true;
}

int CompareRows(const Column& column, int64_t a, int64_t b) {
  const bool a_null = column.IsNull(a), b_null = column.IsNull(b);
  if (a_null || b_null) return a_null == b_null ? 0 : (a_null ? 1 : -1);
  switch (column.type()) {
    case DataType::kBool:
      return Compare3(column.bool_values()[a], column.bool_values()[b]);
    case DataType::kInt64:
    case DataType::kTimestamp:
      return Compare3(column.int64_values()[a], column.int64_values()[b]);
    case DataType::kDate:
      return Compare3(column.date_values()[a], column.date_values()[b]);
    case DataType::kFloat64:
      return CompareDoubles(column.float64_values()[a], column.float64_values()[b]);
    case DataType::kString:
      return Compare3(column.StringAt(a), column.StringAt(b));
  }
  return 0;
}

int CompareRowsBy(const std::vector<SortColumn>& keys, int64_t a, int64_t b) {
  for (const SortColumn& key : keys) {
    int order = CompareRows(*key.column, a, b);
    if (order == 0) continue;
    // Nulls stay last in descending order too.
    if (key.descending && !key.column->IsNull(a) && !key.column->IsNull(b)) order = -order;
    return order;
  }
  return 0;
}

std::vector<uint8_t> PackValidity(const std::vector<uint8_t>& valid) {
  if (valid.empty()) return {};
  bool all_valid = true;
  for (uint8_t bit : valid) all_valid &= bit != 0;
  if (all_valid) return {};
  std::vector<uint8_t> bitmap((valid.size() + 7) / 8, 0);
  for (size_t row = 0; row < valid.size(); ++row) {
    if (valid[row]) bitmap[row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
  }
  return bitmap;
}

template <typename T>
Column MakeColumn(DataType type, std::vector<T> values, const std::vector<uint8_t>& valid) {
  std::vector<uint8_t> bitmap = PackValidity(valid);
  absl::StatusOr<Column> column;
  if constexpr (std::is_same_v<T, uint8_t>) {
    column = Column::FromBools(std::move(values), std::move(bitmap));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    column = type == DataType::kTimestamp
                 ? Column::FromTimestamps(std::move(values), std::move(bitmap))
                 : Column::FromInt64s(std::move(values), std::move(bitmap));
  } else if constexpr (std::is_same_v<T, double>) {
    column = Column::FromFloat64s(std::move(values), std::move(bitmap));
  } else {
    static_assert(std::is_same_v<T, int32_t>);
    column = Column::FromDates(std::move(values), std::move(bitmap));
  }
  assert(column.ok());
  return *std::move(column);
}

template Column MakeColumn<uint8_t>(DataType, std::vector<uint8_t>, const std::vector<uint8_t>&);
template Column MakeColumn<int64_t>(DataType, std::vector<int64_t>, const std::vector<uint8_t>&);
template Column MakeColumn<double>(DataType, std::vector<double>, const std::vector<uint8_t>&);
template Column MakeColumn<int32_t>(DataType, std::vector<int32_t>, const std::vector<uint8_t>&);

std::vector<uint8_t> MaskToBytes(const Column& mask) {
  assert(mask.type() == DataType::kBool);
  std::vector<uint8_t> bytes(mask.bool_values());  // null slots hold false already
  return bytes;
}

namespace {

template <typename T>
std::vector<T> TakeValues(const std::vector<T>& values, std::span<const int64_t> rows) {
  // reserve + push_back writes each value once (resize would zero the buffer first).
  std::vector<T> out;
  out.reserve(rows.size());
  const T* data = values.data();
  for (const int64_t row : rows) out.push_back(row < 0 ? T{} : data[row]);
  return out;
}

}  // namespace

Column TakeRows(const Column& column, std::span<const int64_t> rows) {
  // Validity: only materialised when a null can appear.
  bool may_have_null = column.null_count() > 0;
  if (!may_have_null) {
    for (int64_t row : rows) {
      if (row < 0) {
        may_have_null = true;
        break;
      }
    }
  }
  std::vector<uint8_t> bitmap;
  if (may_have_null) {
    bitmap.assign((rows.size() + 7) / 8, 0);
    for (size_t index = 0; index < rows.size(); ++index) {
      const int64_t row = rows[index];
      if (row >= 0 && column.IsValid(row)) {
        bitmap[index >> 3] |= static_cast<uint8_t>(1u << (index & 7));
      }
    }
  }
  absl::StatusOr<Column> result;
  switch (column.type()) {
    case DataType::kBool:
      result = Column::FromBools(TakeValues(column.bool_values(), rows), std::move(bitmap));
      break;
    case DataType::kInt64:
      result = Column::FromInt64s(TakeValues(column.int64_values(), rows), std::move(bitmap));
      break;
    case DataType::kTimestamp:
      result = Column::FromTimestamps(TakeValues(column.int64_values(), rows), std::move(bitmap));
      break;
    case DataType::kFloat64:
      result = Column::FromFloat64s(TakeValues(column.float64_values(), rows), std::move(bitmap));
      break;
    case DataType::kDate:
      result = Column::FromDates(TakeValues(column.date_values(), rows), std::move(bitmap));
      break;
    case DataType::kString: {
      const std::vector<int64_t>& offsets = column.string_offsets();
      std::vector<int64_t> out_offsets(rows.size() + 1);
      out_offsets[0] = 0;
      for (size_t index = 0; index < rows.size(); ++index) {
        const int64_t row = rows[index];
        const int64_t length = row < 0 ? 0 : offsets[row + 1] - offsets[row];
        out_offsets[index + 1] = out_offsets[index] + length;
      }
      std::string bytes(static_cast<size_t>(out_offsets.back()), '\0');
      const char* source = column.string_bytes().data();
      for (size_t index = 0; index < rows.size(); ++index) {
        const int64_t row = rows[index];
        if (row < 0) continue;
        std::memcpy(bytes.data() + out_offsets[index], source + offsets[row],
                    static_cast<size_t>(offsets[row + 1] - offsets[row]));
      }
      result = Column::FromStrings(std::move(out_offsets), std::move(bytes), std::move(bitmap));
      break;
    }
  }
  assert(result.ok());
  return *std::move(result);
}

Groups AssignGroups(const std::vector<const Column*>& keys, int64_t rows,
                    common::ThreadPool& pool) {
  Groups groups;
  if (keys.empty()) {
    groups.group_of = std::make_unique<int32_t[]>(static_cast<size_t>(rows));
    groups.first_row = {0};
    groups.count = 1;
    return groups;
  }
  const RowHashes hashes = HashRows(keys, rows, pool);
  if (hashes.exact && rows > 0) {
    // One integer-like key whose values span a small range (ids, codes, dates): a direct
    // array from value to group replaces the hash map; it stays cache-resident where a hash
    // map of as many groups would miss on most probes.
    uint64_t low = UINT64_MAX, high = 0;
    bool any_value = false;
    for (int64_t row = 0; row < rows; ++row) {
      if (!hashes.has_null.empty() && hashes.has_null[row]) continue;
      const uint64_t biased = hashes.hash[row] ^ (uint64_t{1} << 63);  // order-preserving
      low = std::min(low, biased);
      high = std::max(high, biased);
      any_value = true;
    }
    if (!any_value || high - low < static_cast<uint64_t>(std::max<int64_t>(rows, 1 << 16)) * 2) {
      groups.group_of = std::make_unique_for_overwrite<int32_t[]>(static_cast<size_t>(rows));
      std::vector<int32_t> slot(any_value ? static_cast<size_t>(high - low) + 1 : 0, -1);
      int32_t null_group = -1;
      int32_t* group_of = groups.group_of.get();
      for (int64_t row = 0; row < rows; ++row) {
        int32_t* target = &null_group;
        if (hashes.has_null.empty() || !hashes.has_null[row]) {
          target = &slot[(hashes.hash[row] ^ (uint64_t{1} << 63)) - low];
        }
        if (*target < 0) {
          *target = static_cast<int32_t>(groups.first_row.size());
          groups.first_row.push_back(row);
        }
        group_of[row] = *target;
      }
      groups.count = static_cast<int64_t>(groups.first_row.size());
      return groups;
    }
  }
  groups.group_of = std::make_unique_for_overwrite<int32_t[]>(static_cast<size_t>(rows));
  // Each task numbers the groups of its own rows; the local numberings are then merged in
  // task order into one global numbering (so the result does not depend on scheduling).
  int64_t tasks =
      std::min<int64_t>(pool.num_threads() * 2, (rows + kGroupChunkRows - 1) / kGroupChunkRows);
  tasks = std::max<int64_t>(tasks, 1);
  const int64_t rows_per_task = (rows + tasks - 1) / tasks;
  std::vector<LocalGroups> locals(static_cast<size_t>(tasks));
  auto local_task = [&](int64_t task) {
    const int64_t begin = std::min(rows, task * rows_per_task);
    const int64_t end = std::min(rows, begin + rows_per_task);
    locals[task] = AssignLocal(keys, hashes, begin, end, groups.group_of.get());
  };
  if (tasks == 1) {
    local_task(0);
    groups.first_row = std::move(locals[0].first_row);
    groups.count = static_cast<int64_t>(groups.first_row.size());
    return groups;
  }
  pool.ParallelFor(tasks, local_task);

  std::vector<std::vector<int32_t>> to_global(static_cast<size_t>(tasks));
  absl::flat_hash_map<uint64_t, int32_t> heads;
  std::vector<int32_t> next_group;
  int32_t null_group = -1;
  const bool exact = hashes.exact;
  auto new_group = [&](int64_t row) {
    groups.first_row.push_back(row);
    next_group.push_back(-1);
    return static_cast<int32_t>(groups.first_row.size() - 1);
  };
  for (int64_t task = 0; task < tasks; ++task) {
    std::vector<int32_t>& mapping = to_global[task];
    mapping.reserve(locals[task].first_row.size());
    for (int64_t row : locals[task].first_row) {
      int32_t group;
      if (exact && !hashes.has_null.empty() && hashes.has_null[row]) {
        if (null_group < 0) null_group = new_group(row);
        group = null_group;
      } else {
        auto [it, inserted] =
            heads.try_emplace(hashes.hash[row], static_cast<int32_t>(groups.first_row.size()));
        if (inserted) {
          group = new_group(row);
        } else {
          group = it->second;
          while (group >= 0 && !exact && !KeysEqual(keys, row, keys, groups.first_row[group])) {
            group = next_group[group];
          }
          if (group < 0) {
            group = new_group(row);
            next_group[group] = it->second;
            it->second = group;
          }
        }
      }
      mapping.push_back(group);
    }
  }
  groups.count = static_cast<int64_t>(groups.first_row.size());
  pool.ParallelFor(tasks, [&](int64_t task) {
    const int64_t begin = std::min(rows, task * rows_per_task);
    const int64_t end = std::min(rows, begin + rows_per_task);
    const int32_t* mapping = to_global[task].data();
    int32_t* group_of = groups.group_of.get();
    for (int64_t row = begin; row < end; ++row) group_of[row] = mapping[group_of[row]];
  });
  return groups;
}

}  // namespace assay::recipes::relational
