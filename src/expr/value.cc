#include "expr/value.h"

#include <bit>
#include <cassert>
#include <utility>

namespace assay::expr {

using table::Column;
using table::DataType;

std::vector<uint8_t> AllValidBitmap(int64_t rows) {
  std::vector<uint8_t> bits(static_cast<size_t>((rows + 7) / 8), 0xFF);
  if (rows % 8 != 0) bits.back() = static_cast<uint8_t>((1u << (rows % 8)) - 1);
  return bits;
}

int64_t NormalizeValidity(std::vector<uint8_t>* validity, int64_t rows) {
  if (validity->empty()) return 0;
  int64_t valid = 0;
  for (uint8_t byte : *validity) valid += std::popcount(byte);
  const int64_t nulls = rows - valid;
  if (nulls == 0) validity->clear();
  return nulls;
}

Value Value::Borrow(const Column* column) {
  Value value;
  value.type_ = column->type();
  value.column_ = column;
  return value;
}

Value Value::Shared(DataType type, bool scalar, std::shared_ptr<const Array> array) {
  Value value;
  value.type_ = type;
  value.scalar_ = scalar;
  value.shared_ = std::move(array);
  return value;
}

Value Value::Owned(DataType type, bool scalar, Array array) {
  Value value;
  value.type_ = type;
  value.scalar_ = scalar;
  value.owned_ = std::make_shared<Array>(std::move(array));
  return value;
}

Value Value::AllNull(DataType type, bool scalar, int64_t rows) {
  Array array;
  const auto n = static_cast<size_t>(rows);
  if (rows > 0) array.validity.assign((n + 7) / 8, 0);
  switch (type) {
    case DataType::kBool:
      array.bools.assign(n, 0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      array.ints.assign(n, 0);
      break;
    case DataType::kFloat64:
      array.floats.assign(n, 0.0);
      break;
    case DataType::kDate:
      array.dates.assign(n, 0);
      break;
    case DataType::kString:
      array.offsets.assign(n + 1, 0);
      break;
  }
  return Owned(type, scalar, std::move(array));
}

const uint8_t* Value::validity() const {
  const std::vector<uint8_t>& bits = column_ ? column_->validity() : array().validity;
  return bits.empty() ? nullptr : bits.data();
}
const uint8_t* Value::bools() const {
  return column_ ? column_->bool_values().data() : array().bools.data();
}
const int32_t* Value::dates() const {
  return column_ ? column_->date_values().data() : array().dates.data();
}
const int64_t* Value::ints() const {
  return column_ ? column_->int64_values().data() : array().ints.data();
}
const double* Value::floats() const {
  return column_ ? column_->float64_values().data() : array().floats.data();
}
const int64_t* Value::offsets() const {
  return column_ ? column_->string_offsets().data() : array().offsets.data();
}
const char* Value::bytes() const {
  return column_ ? column_->string_bytes().data() : array().bytes.data();
}

namespace {

template <typename T>
std::vector<T> Repeat(const T* value, bool valid, int64_t rows) {
  return std::vector<T>(static_cast<size_t>(rows), valid ? *value : T{});
}

}  // namespace

Column Value::TakeColumn(int64_t rows) && {
  if (column_ != nullptr) return *column_;
  absl::StatusOr<Column> column;
  if (scalar_) {
    // Broadcast: every row gets the scalar (or every row is null).
    const bool valid = IsValid(0);
    std::vector<uint8_t> validity;
    if (!valid && rows > 0) validity.assign(static_cast<size_t>((rows + 7) / 8), 0);
    switch (type_) {
      case DataType::kBool:
        column = Column::FromBools(Repeat(bools(), valid, rows), std::move(validity));
        break;
      case DataType::kInt64:
        column = Column::FromInt64s(Repeat(ints(), valid, rows), std::move(validity));
        break;
      case DataType::kTimestamp:
        column = Column::FromTimestamps(Repeat(ints(), valid, rows), std::move(validity));
        break;
      case DataType::kFloat64:
        column = Column::FromFloat64s(Repeat(floats(), valid, rows), std::move(validity));
        break;
      case DataType::kDate:
        column = Column::FromDates(Repeat(dates(), valid, rows), std::move(validity));
        break;
      case DataType::kString: {
        const std::string_view text = valid ? StringAt(0) : std::string_view();
        std::vector<int64_t> offsets(static_cast<size_t>(rows) + 1);
        std::string bytes;
        bytes.reserve(text.size() * static_cast<size_t>(rows));
        for (int64_t row = 0; row < rows; ++row) {
          bytes.append(text);
          offsets[static_cast<size_t>(row) + 1] = static_cast<int64_t>(bytes.size());
        }
        column = Column::FromStrings(std::move(offsets), std::move(bytes), std::move(validity));
        break;
      }
    }
  } else {
    // Move the buffers when no one else holds them (a literal's array is shared with its node).
    Array array;
    if (owned_ != nullptr && owned_.use_count() == 1) {
      array = std::move(*owned_);
    } else {
      array = this->array();
    }
    switch (type_) {
      case DataType::kBool:
        column = Column::FromBools(std::move(array.bools), std::move(array.validity));
        break;
      case DataType::kInt64:
        column = Column::FromInt64s(std::move(array.ints), std::move(array.validity));
        break;
      case DataType::kTimestamp:
        column = Column::FromTimestamps(std::move(array.ints), std::move(array.validity));
        break;
      case DataType::kFloat64:
        column = Column::FromFloat64s(std::move(array.floats), std::move(array.validity));
        break;
      case DataType::kDate:
        column = Column::FromDates(std::move(array.dates), std::move(array.validity));
        break;
      case DataType::kString:
        column = Column::FromStrings(std::move(array.offsets), std::move(array.bytes),
                                     std::move(array.validity));
        break;
    }
  }
  // The kernels keep Column's invariants, so construction cannot fail.
  assert(column.ok());
  return std::move(column).value();
}

std::vector<uint8_t> CombineValidity(int64_t rows, const std::vector<const Value*>& inputs) {
  std::vector<uint8_t> out;
  const size_t bytes = static_cast<size_t>((rows + 7) / 8);
  for (const Value* input : inputs) {
    if (input->scalar()) continue;
    const uint8_t* bits = input->validity();
    if (bits == nullptr) continue;
    if (out.empty()) {
      out.assign(bits, bits + bytes);
    } else {
      for (size_t i = 0; i < bytes; ++i) out[i] &= bits[i];
    }
  }
  return out;
}

}  // namespace assay::expr
