#include "table/column.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"

namespace assay::table {
namespace {

absl::Status CheckValidity(const std::vector<uint8_t>& validity, size_t rows) {
  if (!validity.empty() && validity.size() != (rows + 7) / 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("validity bitmap has ", validity.size(), " bytes, expected ", (rows + 7) / 8));
  }
  return absl::OkStatus();
}

}  // namespace

Column::Column(DataType type) : type_(type) {
  if (type_ == DataType::kString) offsets_.push_back(0);
}

void Column::ZeroNullSlotsAndCount() {
  null_count_ = 0;
  if (validity_.empty()) return;
  // Clear padding bits past the end so equal columns have equal bitmaps.
  if (size_ % 8 != 0) validity_.back() &= static_cast<uint8_t>((1u << (size_ % 8)) - 1);
  bool has_null_string = false;
  for (int64_t row = 0; row < size_; ++row) {
    if (IsValid(row)) continue;
    ++null_count_;
    switch (type_) {
      case DataType::kBool:
        u8_[row] = 0;
        break;
      case DataType::kInt64:
      case DataType::kTimestamp:
        i64_[row] = 0;
        break;
      case DataType::kFloat64:
        f64_[row] = 0.0;
        break;
      case DataType::kDate:
        i32_[row] = 0;
        break;
      case DataType::kString:
        if (offsets_[row + 1] != offsets_[row]) has_null_string = true;
        break;
    }
  }
  if (has_null_string) {
    // Rebuild the string buffers without the bytes under null slots.
    std::vector<int64_t> offsets;
    offsets.reserve(offsets_.size());
    std::string bytes;
    bytes.reserve(bytes_.size());
    offsets.push_back(0);
    for (int64_t row = 0; row < size_; ++row) {
      if (IsValid(row)) bytes.append(StringAt(row));
      offsets.push_back(static_cast<int64_t>(bytes.size()));
    }
    offsets_ = std::move(offsets);
    bytes_ = std::move(bytes);
  }
  if (null_count_ == 0) validity_.clear();
}

absl::StatusOr<Column> Column::FromBools(std::vector<uint8_t> values,
                                         std::vector<uint8_t> validity) {
  if (auto status = CheckValidity(validity, values.size()); !status.ok()) return status;
  Column column(DataType::kBool);
  for (auto& v : values) v = v != 0;
  column.size_ = static_cast<int64_t>(values.size());
  column.u8_ = std::move(values);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

absl::StatusOr<Column> Column::FromInt64s(std::vector<int64_t> values,
                                          std::vector<uint8_t> validity) {
  if (auto status = CheckValidity(validity, values.size()); !status.ok()) return status;
  Column column(DataType::kInt64);
  column.size_ = static_cast<int64_t>(values.size());
  column.i64_ = std::move(values);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

absl::StatusOr<Column> Column::FromFloat64s(std::vector<double> values,
                                            std::vector<uint8_t> validity) {
  if (auto status = CheckValidity(validity, values.size()); !status.ok()) return status;
  Column column(DataType::kFloat64);
  column.size_ = static_cast<int64_t>(values.size());
  column.f64_ = std::move(values);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

absl::StatusOr<Column> Column::FromDates(std::vector<int32_t> days, std::vector<uint8_t> validity) {
  if (auto status = CheckValidity(validity, days.size()); !status.ok()) return status;
  Column column(DataType::kDate);
  column.size_ = static_cast<int64_t>(days.size());
  column.i32_ = std::move(days);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

absl::StatusOr<Column> Column::FromTimestamps(std::vector<int64_t> micros,
                                              std::vector<uint8_t> validity) {
  if (auto status = CheckValidity(validity, micros.size()); !status.ok()) return status;
  Column column(DataType::kTimestamp);
  column.size_ = static_cast<int64_t>(micros.size());
  column.i64_ = std::move(micros);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

absl::StatusOr<Column> Column::FromStrings(std::vector<int64_t> offsets, std::string bytes,
                                           std::vector<uint8_t> validity) {
  if (offsets.empty() || offsets.front() != 0 ||
      offsets.back() != static_cast<int64_t>(bytes.size())) {
    return absl::InvalidArgumentError("string offsets must start at 0 and end at the byte count");
  }
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1]) {
      return absl::InvalidArgumentError("string offsets must be non-decreasing");
    }
  }
  const size_t rows = offsets.size() - 1;
  if (auto status = CheckValidity(validity, rows); !status.ok()) return status;
  Column column(DataType::kString);
  column.size_ = static_cast<int64_t>(rows);
  column.offsets_ = std::move(offsets);
  column.bytes_ = std::move(bytes);
  column.validity_ = std::move(validity);
  column.ZeroNullSlotsAndCount();
  return column;
}

std::string Column::ValueToString(int64_t row, std::string_view null_text) const {
  if (IsNull(row)) return std::string(null_text);
  switch (type_) {
    case DataType::kBool:
      return u8_[row] ? "true" : "false";
    case DataType::kInt64:
      return absl::StrCat(i64_[row]);
    case DataType::kFloat64: {
      const double value = f64_[row];
      if (std::isnan(value)) return "NaN";
      if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
      char buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
      std::string text(buffer, result.ptr);
      // Keep a float recognisable as a float when read back ("3" would infer as int64).
      if (text.find_first_of(".eE") == std::string::npos) text += ".0";
      return text;
    }
    case DataType::kDate:
      return common::FormatDate(i32_[row]);
    case DataType::kTimestamp:
      return common::FormatTimestampMicros(i64_[row]);
    case DataType::kString:
      return std::string(StringAt(row));
  }
  return "";
}

Column Column::Slice(int64_t offset, int64_t length) const {
  offset = std::max<int64_t>(0, std::min(offset, size_));
  length = std::max<int64_t>(0, std::min(length, size_ - offset));
  ColumnBuilder builder(type_);
  builder.Reserve(length);
  for (int64_t row = offset; row < offset + length; ++row) builder.AppendFrom(*this, row);
  return builder.Finish();
}

bool Column::Equals(const Column& other) const {
  if (type_ != other.type_ || size_ != other.size_ || null_count_ != other.null_count_) {
    return false;
  }
  if (validity_ != other.validity_) return false;
  switch (type_) {
    case DataType::kBool:
      return u8_ == other.u8_;
    case DataType::kInt64:
    case DataType::kTimestamp:
      return i64_ == other.i64_;
    case DataType::kFloat64:
      return f64_.size() == other.f64_.size() &&
             (f64_.empty() ||
              std::memcmp(f64_.data(), other.f64_.data(), f64_.size() * sizeof(double)) == 0);
    case DataType::kDate:
      return i32_ == other.i32_;
    case DataType::kString:
      return offsets_ == other.offsets_ && bytes_ == other.bytes_;
  }
  return false;
}

ColumnBuilder::ColumnBuilder(DataType type) : column_(type) {}

void ColumnBuilder::Reserve(int64_t rows) {
  const auto n = static_cast<size_t>(rows);
  bits_.reserve((n + 7) / 8);
  switch (column_.type_) {
    case DataType::kBool:
      column_.u8_.reserve(n);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      column_.i64_.reserve(n);
      break;
    case DataType::kFloat64:
      column_.f64_.reserve(n);
      break;
    case DataType::kDate:
      column_.i32_.reserve(n);
      break;
    case DataType::kString:
      column_.offsets_.reserve(n + 1);
      break;
  }
}

void ColumnBuilder::MarkValid(bool valid) {
  const int64_t row = column_.size_;
  if ((row & 7) == 0) bits_.push_back(0);
  if (valid) {
    bits_.back() |= static_cast<uint8_t>(1u << (row & 7));
  } else {
    ++column_.null_count_;
  }
  ++column_.size_;
}

void ColumnBuilder::AppendNull() {
  switch (column_.type_) {
    case DataType::kBool:
      column_.u8_.push_back(0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      column_.i64_.push_back(0);
      break;
    case DataType::kFloat64:
      column_.f64_.push_back(0.0);
      break;
    case DataType::kDate:
      column_.i32_.push_back(0);
      break;
    case DataType::kString:
      column_.offsets_.push_back(static_cast<int64_t>(column_.bytes_.size()));
      break;
  }
  MarkValid(false);
}

void ColumnBuilder::AppendBool(bool value) {
  assert(column_.type_ == DataType::kBool);
  column_.u8_.push_back(value ? 1 : 0);
  MarkValid(true);
}

void ColumnBuilder::AppendInt64(int64_t value) {
  assert(column_.type_ == DataType::kInt64 || column_.type_ == DataType::kTimestamp);
  column_.i64_.push_back(value);
  MarkValid(true);
}

void ColumnBuilder::AppendFloat64(double value) {
  assert(column_.type_ == DataType::kFloat64);
  column_.f64_.push_back(value);
  MarkValid(true);
}

void ColumnBuilder::AppendDate(int32_t days) {
  assert(column_.type_ == DataType::kDate);
  column_.i32_.push_back(days);
  MarkValid(true);
}

void ColumnBuilder::AppendString(std::string_view value) {
  assert(column_.type_ == DataType::kString);
  column_.bytes_.append(value);
  column_.offsets_.push_back(static_cast<int64_t>(column_.bytes_.size()));
  MarkValid(true);
}

void ColumnBuilder::AppendFrom(const Column& column, int64_t row) {
  assert(column.type() == column_.type_);
  if (column.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (column_.type_) {
    case DataType::kBool:
      AppendBool(column.bool_values()[row] != 0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      AppendInt64(column.int64_values()[row]);
      break;
    case DataType::kFloat64:
      AppendFloat64(column.float64_values()[row]);
      break;
    case DataType::kDate:
      AppendDate(column.date_values()[row]);
      break;
    case DataType::kString:
      AppendString(column.StringAt(row));
      break;
  }
}

Column ColumnBuilder::Finish() {
  Column out = std::move(column_);
  if (out.null_count_ > 0) out.validity_ = std::move(bits_);
  column_ = Column(out.type_);
  bits_.clear();
  return out;
}

}  // namespace assay::table
