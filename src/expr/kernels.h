// Building blocks for the evaluator's vectorized kernels: operand readers that hide whether an
// operand is a column or a broadcast scalar, and row-mapping helpers that combine validity
// bitmaps, let a kernel declare "no result" (null) for a row, and keep null slots zeroed.
//
// A kernel is chosen once per node (by type and operator); the per-row work is an inlined
// lambda over contiguous buffers, with no virtual call or type switch per row.
//
// Internal to assay_expr. Stateless; thread-safe.
#ifndef ASSAY_EXPR_KERNELS_H_
#define ASSAY_EXPR_KERNELS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/value.h"
#include "table/data_type.h"

namespace assay::expr {

// How many rows a node computes: 1 when every input is a scalar (the result is then a scalar
// too), otherwise the table's row count.
struct Shape {
  int64_t rows = 0;
  bool scalar = false;
};

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) with the C++ value type of a fixed-width column type. Requires a type
// other than kString.
template <typename Fn>
decltype(auto) VisitFixedWidth(table::DataType type, Fn&& fn) {
  switch (type) {
    case table::DataType::kBool:
      return fn(TypeTag<uint8_t>{});
    case table::DataType::kDate:
      return fn(TypeTag<int32_t>{});
    case table::DataType::kFloat64:
      return fn(TypeTag<double>{});
    case table::DataType::kInt64:
    case table::DataType::kTimestamp:
    case table::DataType::kString:
      break;
  }
  return fn(TypeTag<int64_t>{});
}

// Reads row `row` of a column operand.
template <typename T>
struct ArrayRead {
  const T* data;
  T operator()(int64_t row) const { return data[row]; }
};
// Reads a scalar operand (the same value for every row).
template <typename T>
struct ScalarRead {
  T value;
  T operator()(int64_t) const { return value; }
};
// Either kind, through a stride of 0 (scalar) or 1 (column); for kernels where a
// specialization per operand kind is not worth the code size.
template <typename T>
struct StridedRead {
  const T* data;
  int64_t stride;
  T operator()(int64_t row) const { return data[row * stride]; }
};
template <typename T>
StridedRead<T> Reader(const Value& value) {
  return StridedRead<T>{TypedData<T>(value), value.stride()};
}

struct StringRead {
  const int64_t* offsets;
  const char* bytes;
  int64_t stride;
  std::string_view operator()(int64_t row) const {
    const int64_t index = row * stride;
    return std::string_view(bytes + offsets[index],
                            static_cast<size_t>(offsets[index + 1] - offsets[index]));
  }
};
inline StringRead StringReader(const Value& value) {
  return StringRead{value.offsets(), value.bytes(), value.stride()};
}

// Calls fn(left_reader, right_reader) with ArrayRead or ScalarRead for each side, so the hot
// loops of binary operators compile to straight loads (and vectorize) in all four cases.
template <typename T, typename Fn>
void DispatchBinary(const Value& left, const Value& right, Fn&& fn) {
  if (left.scalar()) {
    const ScalarRead<T> l{TypedData<T>(left)[0]};
    if (right.scalar()) {
      fn(l, ScalarRead<T>{TypedData<T>(right)[0]});
    } else {
      fn(l, ArrayRead<T>{TypedData<T>(right)});
    }
  } else {
    const ArrayRead<T> l{TypedData<T>(left)};
    if (right.scalar()) {
      fn(l, ScalarRead<T>{TypedData<T>(right)[0]});
    } else {
      fn(l, ArrayRead<T>{TypedData<T>(right)});
    }
  }
}

inline bool AnyNullScalar(const std::vector<const Value*>& inputs) {
  for (const Value* input : inputs) {
    if (input->IsNullScalar()) return true;
  }
  return false;
}

// The common shape of null-propagating functions: rows where any input is null are null; for
// the others fn(row, &out) computes the value and returns false when there is none (which
// makes the row null).
template <typename T, typename Fn>
Value MapRows(table::DataType type, const Shape& shape, const std::vector<const Value*>& inputs,
              Fn&& fn) {
  if (AnyNullScalar(inputs)) return Value::AllNull(type, shape.scalar, shape.rows);
  const int64_t rows = shape.rows;
  Array array;
  std::vector<T>& values = TypedBuffer<T>(array);
  values.assign(static_cast<size_t>(rows), T{});
  std::vector<uint8_t> validity = CombineValidity(rows, inputs);
  T* out = values.data();
  for (int64_t row = 0; row < rows; ++row) {
    if (!validity.empty() && !BitIsSet(validity.data(), row)) continue;
    if (!fn(row, &out[row])) {
      if (validity.empty()) validity = AllValidBitmap(rows);
      ClearBit(validity.data(), row);
      out[row] = T{};
    }
  }
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(type, shape.scalar, std::move(array));
}

// Like MapRows for string results: fn(row, &bytes) appends the row's text to `bytes` and
// returns false for no result (what it appended is then discarded).
template <typename Fn>
Value MapStrings(const Shape& shape, const std::vector<const Value*>& inputs, Fn&& fn) {
  if (AnyNullScalar(inputs))
    return Value::AllNull(table::DataType::kString, shape.scalar, shape.rows);
  const int64_t rows = shape.rows;
  Array array;
  array.offsets.resize(static_cast<size_t>(rows) + 1);
  array.offsets[0] = 0;
  std::vector<uint8_t> validity = CombineValidity(rows, inputs);
  std::string& bytes = array.bytes;
  for (int64_t row = 0; row < rows; ++row) {
    if (validity.empty() || BitIsSet(validity.data(), row)) {
      const size_t before = bytes.size();
      if (!fn(row, &bytes)) {
        bytes.resize(before);
        if (validity.empty()) validity = AllValidBitmap(rows);
        ClearBit(validity.data(), row);
      }
    }
    array.offsets[static_cast<size_t>(row) + 1] = static_cast<int64_t>(bytes.size());
  }
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(table::DataType::kString, shape.scalar, std::move(array));
}

}  // namespace assay::expr

#endif  // ASSAY_EXPR_KERNELS_H_
