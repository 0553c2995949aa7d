// Column: one immutable, typed, nullable column of a table, laid out like Apache Arrow
// (contiguous values plus a validity bitmap; strings as offsets plus one byte buffer).
// ColumnBuilder appends values one at a time and produces a Column.
//
// Invariants kept by every constructor:
//   - the values buffer matching type() has size() entries (strings: size() + 1 offsets,
//     offsets[0] == 0, non-decreasing, offsets[size()] == bytes.size());
//   - validity is empty when null_count() == 0, else ceil(size()/8) bytes, bit (row % 8) of
//     byte (row / 8) set when the row is valid (LSB first, as in Arrow);
//   - a null slot holds the zero value (0, 0.0, false, empty string), so equal logical columns
//     have equal buffers (the native format relies on this for deterministic bytes).
//
// A Column is immutable after construction and safe to read from many threads. A builder
// belongs to one thread.
#ifndef ASSAY_TABLE_COLUMN_H_
#define ASSAY_TABLE_COLUMN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "table/data_type.h"

namespace assay::table {

class Column {
 public:
  // An empty column of the given type.
  explicit Column(DataType type = DataType::kInt64);

  // Constructors from finished buffers. `validity` may be empty (no nulls) or a bitmap as
  // described above; values under null bits are reset to zero. Errors: INVALID_ARGUMENT if the
  // buffer sizes disagree or string offsets are malformed.
  static absl::StatusOr<Column> FromBools(std::vector<uint8_t> values,
                                          std::vector<uint8_t> validity = {});
  static absl::StatusOr<Column> FromInt64s(std::vector<int64_t> values,
                                           std::vector<uint8_t> validity = {});
  static absl::StatusOr<Column> FromFloat64s(std::vector<double> values,
                                             std::vector<uint8_t> validity = {});
  static absl::StatusOr<Column> FromDates(std::vector<int32_t> days,
                                          std::vector<uint8_t> validity = {});
  static absl::StatusOr<Column> FromTimestamps(std::vector<int64_t> micros,
                                               std::vector<uint8_t> validity = {});
  static absl::StatusOr<Column> FromStrings(std::vector<int64_t> offsets, std::string bytes,
                                            std::vector<uint8_t> validity = {});

  DataType type() const { return type_; }
  int64_t size() const { return size_; }
  int64_t null_count() const { return null_count_; }
  bool IsValid(int64_t row) const {
    return validity_.empty() || ((validity_[row >> 3] >> (row & 7)) & 1) != 0;
  }
  bool IsNull(int64_t row) const { return !IsValid(row); }

  // Typed buffers. Each requires the matching type (checked by assert):
  //   bool_values: kBool; int64_values: kInt64 or kTimestamp; float64_values: kFloat64;
  //   date_values: kDate; string_offsets/string_bytes/StringAt: kString.
  const std::vector<uint8_t>& bool_values() const { return u8_; }
  const std::vector<int64_t>& int64_values() const { return i64_; }
  const std::vector<double>& float64_values() const { return f64_; }
  const std::vector<int32_t>& date_values() const { return i32_; }
  const std::vector<int64_t>& string_offsets() const { return offsets_; }
  const std::string& string_bytes() const { return bytes_; }
  std::string_view StringAt(int64_t row) const {
    return std::string_view(bytes_).substr(static_cast<size_t>(offsets_[row]),
                                           static_cast<size_t>(offsets_[row + 1] - offsets_[row]));
  }
  // The validity bitmap (empty when there are no nulls).
  const std::vector<uint8_t>& validity() const { return validity_; }

  // The value at `row` rendered as text: canonical forms ("true"/"false", shortest
  // round-trip float, ISO dates and timestamps); `null_text` for a null.
  std::string ValueToString(int64_t row, std::string_view null_text = "") const;

  // Rows [offset, offset + length) as a new column (clamped to the column's end).
  Column Slice(int64_t offset, int64_t length) const;

  // Logical equality: same type, size, nulls and values (floats compared bitwise, so NaN
  // equals NaN with the same bits).
  bool Equals(const Column& other) const;

 private:
  friend class ColumnBuilder;
  void ZeroNullSlotsAndCount();

  DataType type_;
  int64_t size_ = 0;
  int64_t null_count_ = 0;
  std::vector<uint8_t> validity_;
  std::vector<uint8_t> u8_;       // kBool
  std::vector<int32_t> i32_;      // kDate
  std::vector<int64_t> i64_;      // kInt64, kTimestamp
  std::vector<double> f64_;       // kFloat64
  std::vector<int64_t> offsets_;  // kString
  std::string bytes_;             // kString
};

// Appends values of one type and produces a Column. Append* must match the builder's type
// (AppendInt64 serves kInt64 and kTimestamp; AppendDate serves kDate).
class ColumnBuilder {
 public:
  explicit ColumnBuilder(DataType type);

  void Reserve(int64_t rows);
  void AppendNull();
  void AppendBool(bool value);
  void AppendInt64(int64_t value);
  void AppendFloat64(double value);
  void AppendDate(int32_t days);
  void AppendString(std::string_view value);
  // Appends row `row` of `column`, which must have the builder's type.
  void AppendFrom(const Column& column, int64_t row);

  int64_t size() const { return column_.size_; }
  // Returns the column and resets the builder to empty.
  Column Finish();

 private:
  void MarkValid(bool valid);
  Column column_;
  std::vector<uint8_t> bits_;  // validity under construction, always materialized
};

}  // namespace assay::table

#endif  // ASSAY_TABLE_COLUMN_H_
