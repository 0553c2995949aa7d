// Row-level building blocks shared by the reshape recipes (sort, top_n, distinct, sample,
// stack, split, pivot):
//   - TakeRows / TakeColumn: gather rows by index into new columns, column at a time;
//   - RowOrdering: the one ordering of values used by sort, top_n and pivot (multi-key,
//     ascending/descending, nulls first/last);
//   - GroupRows: number the distinct key combinations of a table in first-appearance order,
//     with hashes computed column at a time and an open-addressing hash map;
//   - SeededRandom: a PRNG whose output is fixed by the C++ standard, so seeded sampling and
//     splitting select the same rows with every standard library.
//
// Value semantics (documented for users in docs/recipes/reshape.md):
//   - ordering: false < true; numbers by value with -0.0 == 0.0 and NaN after +inf; strings
//     by bytes (UTF-8 code point order); dates and timestamps chronologically;
//   - equality (grouping, distinct): null equals null; -0.0 equals 0.0; every NaN equals
//     every NaN.
//
// Thread-safety: the functions are reentrant. TakeRows uses common::ThreadPool::Default() for
// wide tables, so it must not be called from inside a ParallelFor on that pool. A RowOrdering
// is immutable and may be used from many threads; a SeededRandom belongs to one thread.
#ifndef ASSAY_RECIPES_RESHAPE_ROWS_H_
#define ASSAY_RECIPES_RESHAPE_ROWS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes::reshape {

// A column with the given rows, in that order; a row index of -1 gives a null.
// Requires every other index to be in [0, column.size()).
table::Column TakeColumn(const table::Column& column, const std::vector<int64_t>& rows);

// A table with the schema of `input` and the given rows (see TakeColumn), built in parallel
// over columns when the result is large.
table::Table TakeRows(const table::Table& input, const std::vector<int64_t>& rows);
// The columns of TakeRows, for callers that append columns of their own.
std::vector<table::Column> TakeColumns(const table::Table& input, const std::vector<int64_t>& rows);

// `columns` (one per field of `schema`, all of equal length) plus extra fields and columns.
// Errors: INVALID_ARGUMENT from Table::Make (a clashing name, a length mismatch).
absl::StatusOr<table::Table> MakeWithExtraColumns(const table::Schema& schema,
                                                  std::vector<table::Column> columns,
                                                  std::vector<table::Field> extra_fields,
                                                  std::vector<table::Column> extra_columns);

// Compares the non-null values at rows a and b of one column: <0, 0 or >0 (see the header
// comment for the ordering).
int CompareValues(const table::Column& column, int64_t a, int64_t b);

struct OrderKey {
  int column = 0;
  bool descending = false;
  bool nulls_first = false;  // Nulls are placed first or last whatever the direction.
};

// A total preorder on the rows of one table by several keys.
class RowOrdering {
 public:
  // Requires every key's column to exist in `input`; `input` must outlive the ordering.
  RowOrdering(const table::Table& input, std::vector<OrderKey> keys);

  // <0 if row a orders before row b, 0 if they tie on every key, >0 otherwise.
  int Compare(int64_t a, int64_t b) const {
    for (const Key& key : keys_) {
      const int result = CompareKey(key, a, b);
      if (result != 0) return result;
    }
    return 0;
  }
  bool Less(int64_t a, int64_t b) const { return Compare(a, b) < 0; }

 private:
  struct Key {
    const table::Column* column;
    table::DataType type;
    bool has_nulls;
    bool descending;
    bool nulls_first;
  };

  static int CompareFloat(double x, double y) {
    if (x < y) return -1;
    if (x > y) return 1;
    if (x == y) return 0;
    const bool x_nan = std::isnan(x);
    const bool y_nan = std::isnan(y);
    return x_nan == y_nan ? 0 : (x_nan ? 1 : -1);
  }

  // A switch per key and row, not a virtual call: the branch is perfectly predicted within
  // one sort because every row takes the same case.
  static int CompareKey(const Key& key, int64_t a, int64_t b) {
    if (key.has_nulls) {
      const bool a_null = key.column->IsNull(a);
      const bool b_null = key.column->IsNull(b);
      if (a_null || b_null) {
        if (a_null && b_null) return 0;
        return (a_null == key.nulls_first) ? -1 : 1;
      }
    }
    int result = 0;
    switch (key.type) {
      case table::DataType::kBool: {
        const auto& values = key.column->bool_values();
        result = static_cast<int>(values[a]) - static_cast<int>(values[b]);
        break;
      }
      case table::DataType::kInt64:
      case table::DataType::kTimestamp: {
        const auto& values = key.column->int64_values();
        result = values[a] < values[b] ? -1 : (values[b] < values[a] ? 1 : 0);
        break;
      }
      case table::DataType::kFloat64: {
        const auto& values = key.column->float64_values();
        result = CompareFloat(values[a], values[b]);
        break;
      }
      case table::DataType::kDate: {
        const auto& values = key.column->date_values();
        result = values[a] < values[b] ? -1 : (values[b] < values[a] ? 1 : 0);
        break;
      }
      case table::DataType::kString: {
        const int order = key.column->StringAt(a).compare(key.column->StringAt(b));
        result = order < 0 ? -1 : (order > 0 ? 1 : 0);
        break;
      }
    }
    return key.descending ? -result : result;
  }

  std::vector<Key> keys_;
};

// Distinct key combinations of a table, numbered 0, 1, ... in order of first appearance.
struct RowGroups {
  std::vector<int64_t> group_of_row;  // One entry per input row.
  std::vector<int64_t> first_row;     // One entry per group: its first row.
  int64_t num_groups() const { return static_cast<int64_t>(first_row.size()); }
};

// Groups the rows of `input` by the values of `columns` (equality as in the header comment).
// With no columns, every row is in group 0 (and there are no groups for an empty table).
RowGroups GroupRows(const table::Table& input, const std::vector<int>& columns);

// A seeded pseudo-random source. std::mt19937_64's output sequence is fixed by the C++
// standard ([rand.predef]: the 10000th output for the default seed is 9981545732273789042);
// the std::uniform_*_distribution mappings are not, so the mappings to ranges are done here.
class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }

  // Uniform in [0, bound); requires bound > 0. Unbiased: rejects the raw outputs below
  // 2^64 mod bound (the "threshold" method; Lemire, "Fast Random Integer Generation in an
  // Interval", ACM TOMACS 2019, section 3).
  uint64_t Below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    uint64_t raw = engine_();
    while (raw < threshold) raw = engine_();
    return raw % bound;
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace assay::recipes::reshape

#endif  // ASSAY_RECIPES_RESHAPE_ROWS_H_
