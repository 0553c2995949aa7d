#include "recipes/sort.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {
namespace {

// Below this many rows per chunk, splitting the sort costs more than it saves.
constexpr int64_t kMinRowsPerChunk = 1 << 15;

// A row and its first sort key mapped to an unsigned integer whose order is the key's order
// (normalized keys, as in Graefe, "Implementing Sorting in Database Systems", ACM Computing
// Surveys 2006, section 2.3). Sorting these pairs compares contiguous integers instead of
// chasing column buffers for every comparison.
struct KeyedRow {
  uint64_t key;
  int64_t row;
};

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// Normalized first keys of the non-null rows of `column`, appended to `keyed` in row order;
// null rows go to `nulls`. Returns whether equal normalized keys mean equal values (false for
// strings, whose key is only an 8-byte prefix).
bool NormalizeFirstKey(const table::Column& column, bool descending, std::vector<KeyedRow>* keyed,
                       std::vector<int64_t>* nulls) {
  const int64_t rows = column.size();
  const bool has_nulls = column.null_count() > 0;
  keyed->reserve(static_cast<size_t>(rows - column.null_count()));
  const uint64_t flip = descending ? ~uint64_t{0} : 0;
  auto fill = [&](auto key_of) {
    for (int64_t row = 0; row < rows; ++row) {
      if (has_nulls && column.IsNull(row)) {
        nulls->push_back(row);
      } else {
        keyed->push_back(KeyedRow{key_of(row) ^ flip, row});
      }
    }
  };
  switch (column.type()) {
    case table::DataType::kBool: {
      const auto& values = column.bool_values();
      fill([&](int64_t row) { return uint64_t{values[row]}; });
      return true;
    }
    case table::DataType::kInt64:
    case table::DataType::kTimestamp: {
      const auto& values = column.int64_values();
      fill([&](int64_t row) { return static_cast<uint64_t>(values[row]) ^ kSignBit; });
      return true;
    }
    case table::DataType::kDate: {
      const auto& values = column.date_values();
      fill([&](int64_t row) { return static_cast<uint64_t>(int64_t{values[row]}) ^ kSignBit; });
      return true;
    }
    case table::DataType::kFloat64: {
      const auto& values = column.float64_values();
      fill([&](int64_t row) {
        double value = values[row];
        if (value == 0.0) value = 0.0;  // -0.0 ties 0.0.
        // Every NaN becomes the positive quiet NaN, which maps above +inf.
        if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
        const uint64_t bits = std::bit_cast<uint64_t>(value);
        // IEEE 754 bit patterns order like sign-magnitude integers: flip negatives entirely,
        // set the sign bit of positives.
        return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
      });
      return true;
    }
    case table::DataType::kString: {
      fill([&](int64_t row) {
        const std::string_view text = column.StringAt(row);
        uint64_t prefix = 0;
        const size_t length = std::min<size_t>(text.size(), 8);
        for (size_t i = 0; i < length; ++i) {
          prefix |= uint64_t{static_cast<unsigned char>(text[i])} << (56 - 8 * i);
        }
        return prefix;
      });
      return false;
    }
  }
  return true;
}

// Sorts `items` with `less`, a strict total order, on several threads: the chunks are sorted in
// parallel, then merged in rounds of pairwise merges (each round's merges in parallel). With a
// total order the result is the unique sorted sequence, whatever the chunking.
template <typename T, typename Less>
void ParallelSort(std::vector<T>* items, const Less& less, int64_t num_chunks) {
  const auto size = static_cast<int64_t>(items->size());
  num_chunks = std::min(num_chunks, size);
  if (num_chunks < 2) {
    std::sort(items->begin(), items->end(), less);
    return;
  }
  std::vector<int64_t> bounds(static_cast<size_t>(num_chunks) + 1);
  for (int64_t chunk = 0; chunk <= num_chunks; ++chunk) bounds[chunk] = size * chunk / num_chunks;
  T* data = items->data();
  common::ThreadPool::Default().ParallelFor(num_chunks, [&](int64_t chunk) {
    std::sort(data + bounds[chunk], data + bounds[chunk + 1], less);
  });
  std::vector<T> merged(items->size());
  for (int64_t width = 1; width < num_chunks; width *= 2) {
    const int64_t num_merges = (num_chunks + 2 * width - 1) / (2 * width);
    const T* from = items->data();
    T* to = merged.data();
    common::ThreadPool::Default().ParallelFor(num_merges, [&](int64_t merge) {
      const int64_t first = merge * 2 * width;
      const int64_t middle = std::min(first + width, num_chunks);
      const int64_t last = std::min(first + 2 * width, num_chunks);
      std::merge(from + bounds[first], from + bounds[middle], from + bounds[middle],
                 from + bounds[last], to + bounds[first], less);
    });
    items->swap(merged);
  }
}

}  // namespace

namespace internal {

absl::StatusOr<std::vector<SortKey>> ParseSortKeys(const reshape::ConfigContext& context,
                                                   const nlohmann::json& object,
                                                   std::string_view key) {
  const std::string path = reshape::ConfigContext::KeyPath("", key);
  auto it = object.find(key);
  if (it == object.end()) {
    return context.Error("", absl::StrCat("missing required key ", path));
  }
  if (!it->is_array() || it->empty()) {
    return context.Expected(path, "a non-empty array of objects with \"column\"");
  }
  std::vector<SortKey> keys;
  absl::flat_hash_set<std::string> seen;
  for (size_t index = 0; index < it->size(); ++index) {
    const nlohmann::json& item = (*it)[index];
    const std::string item_path = reshape::ConfigContext::IndexPath(path, index);
    if (!item.is_object() || !item.contains("column")) {
      return context.Expected(item_path, "an object with \"column\"");
    }
    ASSAY_RETURN_IF_ERROR(context.CheckObject(item, item_path, {"column", "order", "nulls"}));
    SortKey sort_key;
    ASSAY_ASSIGN_OR_RETURN(sort_key.column, context.String(item, item_path, "column"));
    ASSAY_ASSIGN_OR_RETURN(const int order,
                           context.OptionalChoice(item, item_path, "order", {"asc", "desc"}, 0));
    ASSAY_ASSIGN_OR_RETURN(const int nulls,
                           context.OptionalChoice(item, item_path, "nulls", {"last", "first"}, 0));
    sort_key.order = order == 0 ? SortOrder::kAscending : SortOrder::kDescending;
    sort_key.nulls = nulls == 0 ? NullPlacement::kLast : NullPlacement::kFirst;
    if (!seen.insert(sort_key.column).second) {
      return context.Error(reshape::ConfigContext::KeyPath(item_path, "column"),
                           absl::StrCat("column \"", sort_key.column, "\" is listed twice"));
    }
    keys.push_back(std::move(sort_key));
  }
  return keys;
}

absl::StatusOr<std::vector<int64_t>> SortPermutationInChunks(const table::Table& input,
                                                             const std::vector<SortKey>& keys,
                                                             std::string_view recipe,
                                                             int64_t num_chunks) {
  if (keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(recipe), ": no sort keys given"));
  }
  std::vector<reshape::OrderKey> order_keys;
  for (const SortKey& key : keys) {
    ASSAY_ASSIGN_OR_RETURN(const int column,
                           reshape::FindColumn(input.schema(), recipe, "sort key", key.column));
    order_keys.push_back(reshape::OrderKey{column, key.order == SortOrder::kDescending,
                                           key.nulls == NullPlacement::kFirst});
  }
  // Stability comes from breaking every tie by row index: the sort order is then a strict
  // total order, equal to a stable sort's, and any sorting algorithm and chunking yield it.
  const reshape::OrderKey first = order_keys.front();
  std::vector<KeyedRow> keyed;
  std::vector<int64_t> nulls;
  const bool exact =
      NormalizeFirstKey(input.column(first.column), first.descending, &keyed, &nulls);
  // Keys compared after equal normalized keys: the rest, or all of them when the normalized
  // key is only a prefix.
  const std::vector<reshape::OrderKey> rest(order_keys.begin() + 1, order_keys.end());
  const reshape::RowOrdering after_key(input, exact ? rest : order_keys);
  ParallelSort(
      &keyed,
      [&after_key](const KeyedRow& a, const KeyedRow& b) {
        if (a.key != b.key) return a.key < b.key;
        const int order = after_key.Compare(a.row, b.row);
        return order != 0 ? order < 0 : a.row < b.row;
      },
      num_chunks);
  // Rows with a null first key tie on it; they are already in row order, so a stable sort by
  // the remaining keys orders them.
  if (!rest.empty() && nulls.size() > 1) {
    const reshape::RowOrdering rest_ordering(input, rest);
    std::stable_sort(nulls.begin(), nulls.end(),
                     [&](int64_t a, int64_t b) { return rest_ordering.Less(a, b); });
  }
  std::vector<int64_t> permutation;
  permutation.reserve(static_cast<size_t>(input.num_rows()));
  if (first.nulls_first) permutation.insert(permutation.end(), nulls.begin(), nulls.end());
  for (const KeyedRow& item : keyed) permutation.push_back(item.row);
  if (!first.nulls_first) permutation.insert(permutation.end(), nulls.begin(), nulls.end());
  return permutation;
}

}  // namespace internal

absl::StatusOr<SortSpec> ParseSortSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("sort");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(config, "", {"keys"}, {"keys"}));
  SortSpec spec;
  ASSAY_ASSIGN_OR_RETURN(spec.keys, internal::ParseSortKeys(context, config, "keys"));
  return spec;
}

absl::StatusOr<std::vector<int64_t>> SortPermutation(const table::Table& input,
                                                     const std::vector<SortKey>& keys,
                                                     std::string_view recipe) {
  // One chunk per thread once every chunk is big enough to pay for the merge.
  const int64_t threads = common::ThreadPool::Default().num_threads();
  const int64_t num_chunks =
      std::max<int64_t>(1, std::min<int64_t>(threads, input.num_rows() / kMinRowsPerChunk));
  return internal::SortPermutationInChunks(input, keys, recipe, num_chunks);
}

absl::StatusOr<table::Table> RunSort(const SortSpec& spec, const table::Table& input) {
  ASSAY_ASSIGN_OR_RETURN(const std::vector<int64_t> permutation,
                         SortPermutation(input, spec.keys, "sort"));
  return reshape::TakeRows(input, permutation);
}

}  // namespace assay::recipes
