// The evaluator's intermediate results. A Value is what one expression node produces: a whole
// column (borrowed from the input table or owned) or a scalar that stands for every row (a
// literal, now(), or an operation whose inputs are all scalars). Scalars are stored as one-row
// arrays, so kernels read both kinds through the same pointers, using index row * stride with
// stride 0 for a scalar.
//
// Buffers follow table::Column's layout and invariants (validity bitmap LSB-first and empty when
// there are no nulls; null slots hold the zero value), so the final result moves into a Column
// without copying.
//
// Internal to assay_expr. A Value is immutable once built and may be shared between threads.
#ifndef ASSAY_EXPR_VALUE_H_
#define ASSAY_EXPR_VALUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "table/column.h"
#include "table/data_type.h"

namespace assay::expr {

// Owned buffers of one column-shaped result; only the buffer matching the type is used.
struct Array {
  std::vector<uint8_t> validity;  // empty when every row is valid
  std::vector<uint8_t> bools;     // kBool
  std::vector<int32_t> dates;     // kDate
  std::vector<int64_t> ints;      // kInt64, kTimestamp
  std::vector<double> floats;     // kFloat64
  std::vector<int64_t> offsets;   // kString: rows + 1 entries
  std::string bytes;              // kString
};

inline bool BitIsSet(const uint8_t* bitmap, int64_t row) {
  return ((bitmap[row >> 3] >> (row & 7)) & 1) != 0;
}
inline void ClearBit(uint8_t* bitmap, int64_t row) {
  bitmap[row >> 3] &= static_cast<uint8_t>(~(1u << (row & 7)));
}
inline void SetBit(uint8_t* bitmap, int64_t row) {
  bitmap[row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
}

// A bitmap of `rows` set bits (padding bits past the end stay zero, as Column expects).
std::vector<uint8_t> AllValidBitmap(int64_t rows);
// Empties `validity` if it has no cleared bit among the first `rows`; returns the null count.
int64_t NormalizeValidity(std::vector<uint8_t>* validity, int64_t rows);

class Value {
 public:
  Value() = default;

  static Value Borrow(const table::Column* column);
  static Value Shared(table::DataType type, bool scalar, std::shared_ptr<const Array> array);
  static Value Owned(table::DataType type, bool scalar, Array array);
  // A value of `rows` nulls (rows is 1 for a scalar).
  static Value AllNull(table::DataType type, bool scalar, int64_t rows);

  table::DataType type() const { return type_; }
  bool scalar() const { return scalar_; }
  // 0 for a scalar, 1 for a column: multiply the row index by it.
  int64_t stride() const { return scalar_ ? 0 : 1; }
  bool borrowed() const { return column_ != nullptr; }

  // nullptr when every row is valid.
  const uint8_t* validity() const;
  bool IsValid(int64_t row) const {
    const uint8_t* bits = validity();
    return bits == nullptr || BitIsSet(bits, row * stride());
  }
  // A scalar null: every row is null.
  bool IsNullScalar() const { return scalar_ && !IsValid(0); }

  const uint8_t* bools() const;
  const int32_t* dates() const;
  const int64_t* ints() const;  // kInt64 and kTimestamp
  const double* floats() const;
  const int64_t* offsets() const;
  const char* bytes() const;
  std::string_view StringAt(int64_t row) const {
    const int64_t* offs = offsets();
    const int64_t index = row * stride();
    return std::string_view(bytes() + offs[index],
                            static_cast<size_t>(offs[index + 1] - offs[index]));
  }

  // The result as a Column of `rows` rows, broadcasting a scalar. Moves owned buffers out.
  table::Column TakeColumn(int64_t rows) &&;

  // The owned buffers of a column (not scalar) value that nothing else references, so a kernel
  // may move a buffer out and write its result in place; nullptr otherwise. Only for the
  // evaluator, which holds each intermediate Value exactly once.
  Array* ExclusiveArray() {
    return !scalar_ && owned_ != nullptr && owned_.use_count() == 1 ? owned_.get() : nullptr;
  }

 private:
  table::DataType type_ = table::DataType::kBool;
  bool scalar_ = false;
  const Array& array() const { return owned_ != nullptr ? *owned_ : *shared_; }

  // At most one of these is set: the input column, a shared array (a literal's, owned by its
  // node), or an array this Value created (which kernels may reuse when no copy exists).
  const table::Column* column_ = nullptr;
  std::shared_ptr<const Array> shared_;
  std::shared_ptr<Array> owned_;
};

// Typed access for templated kernels: TypedData<T>(value) is the value buffer of C++ type T.
template <typename T>
const T* TypedData(const Value& value);
template <>
inline const uint8_t* TypedData<uint8_t>(const Value& value) {
  return value.bools();
}
template <>
inline const int32_t* TypedData<int32_t>(const Value& value) {
  return value.dates();
}
template <>
inline const int64_t* TypedData<int64_t>(const Value& value) {
  return value.ints();
}
template <>
inline const double* TypedData<double>(const Value& value) {
  return value.floats();
}

// The owned buffer of T in an Array.
template <typename T>
std::vector<T>& TypedBuffer(Array& array);
template <>
inline std::vector<uint8_t>& TypedBuffer<uint8_t>(Array& array) {
  return array.bools;
}
template <>
inline std::vector<int32_t>& TypedBuffer<int32_t>(Array& array) {
  return array.dates;
}
template <>
inline std::vector<int64_t>& TypedBuffer<int64_t>(Array& array) {
  return array.ints;
}
template <>
inline std::vector<double>& TypedBuffer<double>(Array& array) {
  return array.floats;
}

// Sets values under cleared validity bits to zero (Column's invariant). No-op without nulls.
template <typename T>
void ZeroNullSlots(std::vector<T>* values, const std::vector<uint8_t>& validity) {
  if (validity.empty()) return;
  const int64_t rows = static_cast<int64_t>(values->size());
  T* data = values->data();
  for (size_t byte = 0; byte < validity.size(); ++byte) {
    if (validity[byte] == 0xFF) continue;
    const int64_t first = static_cast<int64_t>(byte) * 8;
    for (int64_t row = first; row < first + 8 && row < rows; ++row) {
      if (!BitIsSet(validity.data(), row)) data[row] = T{};
    }
  }
}

// AND of the validity of the non-scalar `inputs` over `rows` rows; empty when all are valid.
// Scalar inputs must be valid (callers handle a null scalar before).
std::vector<uint8_t> CombineValidity(int64_t rows, const std::vector<const Value*>& inputs);

}  // namespace assay::expr

#endif  // ASSAY_EXPR_VALUE_H_
