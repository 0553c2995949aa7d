#include "expr/evaluator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

namespace assay::expr {
namespace {

using table::DataType;

constexpr int64_t kMicrosPerDay = 86'400'000'000;

// A copy of a value's validity for `rows` rows (empty when it has no nulls).
std::vector<uint8_t> CopyValidity(const Value& value, int64_t rows) {
  const uint8_t* bits = value.validity();
  if (bits == nullptr) return {};
  return std::vector<uint8_t>(bits, bits + (rows + 7) / 8);
}

Value Cast(const Value& input, DataType to, const Shape& shape) {
  if (input.IsNullScalar()) return Value::AllNull(to, shape.scalar, shape.rows);
  const int64_t rows = shape.rows;
  if (to == DataType::kFloat64) {
    Array array;
    array.validity = CopyValidity(input, rows);
    array.floats.resize(static_cast<size_t>(rows));
    const int64_t* in = input.ints();
    double* out = array.floats.data();
    for (int64_t row = 0; row < rows; ++row) out[row] = static_cast<double>(in[row]);
    return Value::Owned(to, shape.scalar, std::move(array));
  }
  // date -> timestamp at midnight UTC. Days beyond +-106751991 (about 292,000 years) have no
  // timestamp in int64 microseconds and become null.
  const StridedRead<int32_t> days = Reader<int32_t>(input);
  return MapRows<int64_t>(to, shape, {&input}, [&](int64_t row, int64_t* out) {
    return !__builtin_mul_overflow(int64_t{days(row)}, kMicrosPerDay, out);
  });
}

// The output buffer of a kernel over `rows` rows: an exclusively owned input buffer of the
// same C++ type when there is one (the kernel then overwrites it row by row, which is safe
// because row i of the output depends only on row i of the inputs), else a new one. Reusing
// buffers matters: fresh pages of a 10M-row column cost more than the arithmetic.
template <typename Out>
std::vector<Out> ReuseOrAllocate(int64_t rows, std::initializer_list<Value*> inputs) {
  for (Value* input : inputs) {
    Array* array = input->ExclusiveArray();
    if (array == nullptr) continue;
    std::vector<Out>& buffer = TypedBuffer<Out>(*array);
    if (static_cast<int64_t>(buffer.size()) == rows && rows > 0) return std::move(buffer);
  }
  return std::vector<Out>(static_cast<size_t>(rows));
}

// Null-propagating binary kernel over fixed-width T. op(a, b, &out) returns true when the row
// has no result (overflow, division by zero), which makes it null.
template <typename T, typename Out, typename Op>
Value BinaryKernel(DataType out_type, Value& left, Value& right, const Shape& shape, Op op) {
  if (left.IsNullScalar() || right.IsNullScalar()) {
    return Value::AllNull(out_type, shape.scalar, shape.rows);
  }
  const int64_t rows = shape.rows;
  std::vector<uint8_t> validity = CombineValidity(rows, {&left, &right});
  Array array;
  std::vector<Out>& values = TypedBuffer<Out>(array);
  DispatchBinary<T>(left, right, [&](auto l, auto r) {
    // The readers hold raw pointers, so the input buffer stays alive inside `values`.
    values = ReuseOrAllocate<Out>(rows, {&left, &right});
    Out* out = values.data();
    // Failures are collected per byte of the bitmap, so the loop stays branch-free inside and
    // an input overwritten in place is never read again.
    for (int64_t base = 0; base < rows; base += 8) {
      const int64_t end = std::min(base + 8, rows);
      uint32_t failed = 0;
      for (int64_t row = base; row < end; ++row) {
        failed |= static_cast<uint32_t>(op(l(row), r(row), &out[row])) << (row - base);
      }
      if (failed != 0) {
        if (validity.empty()) validity = AllValidBitmap(rows);
        validity[static_cast<size_t>(base >> 3)] &= static_cast<uint8_t>(~failed);
      }
    }
  });
  ZeroNullSlots(&values, validity);
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(out_type, shape.scalar, std::move(array));
}

Value IntArithmetic(Operator op, Value& l, Value& r, const Shape& shape) {
  const DataType t = DataType::kInt64;
  switch (op) {
    case Operator::kAdd:
      return BinaryKernel<int64_t, int64_t>(t, l, r, shape, [](int64_t a, int64_t b, int64_t* out) {
        return __builtin_add_overflow(a, b, out);
      });
    case Operator::kSub:
      return BinaryKernel<int64_t, int64_t>(t, l, r, shape, [](int64_t a, int64_t b, int64_t* out) {
        return __builtin_sub_overflow(a, b, out);
      });
    case Operator::kMul:
      return BinaryKernel<int64_t, int64_t>(t, l, r, shape, [](int64_t a, int64_t b, int64_t* out) {
        return __builtin_mul_overflow(a, b, out);
      });
    default:
      // kMod: truncated like C and SQL (the sign follows the dividend); x % 0 has no result.
      // INT64_MIN % -1 is mathematically 0 but undefined behaviour in C++, so special-case -1.
      return BinaryKernel<int64_t, int64_t>(t, l, r, shape, [](int64_t a, int64_t b, int64_t* out) {
        *out = (b == 0 || b == -1) ? 0 : a % b;
        return b == 0;
      });
  }
}

Value FloatArithmetic(Operator op, Value& l, Value& r, const Shape& shape) {
  const DataType t = DataType::kFloat64;
  switch (op) {
    case Operator::kAdd:
      return BinaryKernel<double, double>(t, l, r, shape, [](double a, double b, double* out) {
        *out = a + b;
        return false;
      });
    case Operator::kSub:
      return BinaryKernel<double, double>(t, l, r, shape, [](double a, double b, double* out) {
        *out = a - b;
        return false;
      });
    case Operator::kMul:
      return BinaryKernel<double, double>(t, l, r, shape, [](double a, double b, double* out) {
        *out = a * b;
        return false;
      });
    case Operator::kDiv:
      return BinaryKernel<double, double>(t, l, r, shape, [](double a, double b, double* out) {
        *out = b == 0.0 ? 0.0 : a / b;
        return b == 0.0;
      });
    default:
      return BinaryKernel<double, double>(t, l, r, shape, [](double a, double b, double* out) {
        *out = b == 0.0 ? 0.0 : std::fmod(a, b);
        return b == 0.0;
      });
  }
}

template <typename T>
Value CompareFixed(Operator op, Value& l, Value& r, const Shape& shape) {
  const auto make = [&](auto cmp) {
    return BinaryKernel<T, uint8_t>(DataType::kBool, l, r, shape, [cmp](T a, T b, uint8_t* out) {
      *out = cmp(a, b) ? 1 : 0;
      return false;
    });
  };
  switch (op) {
    case Operator::kEq:
      return make(std::equal_to<T>());
    case Operator::kNe:
      return make(std::not_equal_to<T>());
    case Operator::kLt:
      return make(std::less<T>());
    case Operator::kLe:
      return make(std::less_equal<T>());
    case Operator::kGt:
      return make(std::greater<T>());
    default:
      return make(std::greater_equal<T>());
  }
}

// Strings compare bytewise (memcmp order), which is code point order for valid UTF-8.
Value CompareStrings(Operator op, const Value& l, const Value& r, const Shape& shape) {
  const StringRead a = StringReader(l);
  const StringRead b = StringReader(r);
  const auto make = [&](auto accept) {
    return MapRows<uint8_t>(DataType::kBool, shape, {&l, &r}, [&](int64_t row, uint8_t* out) {
      *out = accept(a(row).compare(b(row))) ? 1 : 0;
      return true;
    });
  };
  switch (op) {
    case Operator::kEq:
      return make([](int c) { return c == 0; });
    case Operator::kNe:
      return make([](int c) { return c != 0; });
    case Operator::kLt:
      return make([](int c) { return c < 0; });
    case Operator::kLe:
      return make([](int c) { return c <= 0; });
    case Operator::kGt:
      return make([](int c) { return c > 0; });
    default:
      return make([](int c) { return c >= 0; });
  }
}

Value Compare(Operator op, Value& l, Value& r, const Shape& shape) {
  if (l.type() == DataType::kString) return CompareStrings(op, l, r, shape);
  return VisitFixedWidth(l.type(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return CompareFixed<T>(op, l, r, shape);
  });
}

// SQL three-valued logic: false and null = false, true or null = true; otherwise null wins.
Value Logical(bool is_and, const Value& l, const Value& r, const Shape& shape) {
  const int64_t rows = shape.rows;
  Array array;
  array.bools.resize(static_cast<size_t>(rows));
  uint8_t* out = array.bools.data();
  const StridedRead<uint8_t> a = Reader<uint8_t>(l);
  const StridedRead<uint8_t> b = Reader<uint8_t>(r);
  if (l.validity() == nullptr && r.validity() == nullptr) {
    if (is_and) {
      for (int64_t row = 0; row < rows; ++row) out[row] = a(row) & b(row);
    } else {
      for (int64_t row = 0; row < rows; ++row) out[row] = a(row) | b(row);
    }
    return Value::Owned(DataType::kBool, shape.scalar, std::move(array));
  }
  std::vector<uint8_t> validity = AllValidBitmap(rows);
  // The value that decides the result on its own: false for and, true for or.
  const uint8_t dominant = is_and ? 0 : 1;
  for (int64_t row = 0; row < rows; ++row) {
    const bool valid_a = l.IsValid(row);
    const bool valid_b = r.IsValid(row);
    const uint8_t value_a = a(row);
    const uint8_t value_b = b(row);
    if ((valid_a && value_a == dominant) || (valid_b && value_b == dominant)) {
      out[row] = dominant;
    } else if (valid_a && valid_b) {
      out[row] = 1 - dominant;
    } else {
      out[row] = 0;
      ClearBit(validity.data(), row);
    }
  }
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(DataType::kBool, shape.scalar, std::move(array));
}

Value Concatenate(const Value& l, const Value& r, const Shape& shape) {
  const StringRead a = StringReader(l);
  const StringRead b = StringReader(r);
  return MapStrings(shape, {&l, &r}, [&](int64_t row, std::string* bytes) {
    bytes->append(a(row));
    bytes->append(b(row));
    return true;
  });
}

Value Binary(Operator op, DataType type, Value& l, Value& r, const Shape& shape) {
  switch (op) {
    case Operator::kAnd:
    case Operator::kOr:
      return Logical(op == Operator::kAnd, l, r, shape);
    case Operator::kEq:
    case Operator::kNe:
    case Operator::kLt:
    case Operator::kLe:
    case Operator::kGt:
    case Operator::kGe:
      return Compare(op, l, r, shape);
    default:
      break;
  }
  if (type == DataType::kString) return Concatenate(l, r, shape);
  if (type == DataType::kInt64) return IntArithmetic(op, l, r, shape);
  return FloatArithmetic(op, l, r, shape);
}

Value Unary(Operator op, DataType type, const Value& input, const Shape& shape) {
  if (op == Operator::kNot) {
    const StridedRead<uint8_t> a = Reader<uint8_t>(input);
    return MapRows<uint8_t>(DataType::kBool, shape, {&input}, [&](int64_t row, uint8_t* out) {
      *out = a(row) ^ 1;
      return true;
    });
  }
  if (type == DataType::kInt64) {
    const StridedRead<int64_t> a = Reader<int64_t>(input);
    return MapRows<int64_t>(type, shape, {&input}, [&](int64_t row, int64_t* out) {
      return !__builtin_sub_overflow(int64_t{0}, a(row), out);  // -INT64_MIN has no result
    });
  }
  const StridedRead<double> a = Reader<double>(input);
  return MapRows<double>(type, shape, {&input}, [&](int64_t row, double* out) {
    *out = -a(row);
    return true;
  });
}

// Row-wise choice between two values of the same type by a bool column (null -> else).
template <typename T>
Value SelectFixed(DataType type, const Value& cond, const Value& then_value,
                  const Value& else_value, int64_t rows) {
  Array array;
  std::vector<T>& values = TypedBuffer<T>(array);
  values.resize(static_cast<size_t>(rows));
  T* out = values.data();
  const uint8_t* take = cond.bools();  // null slots hold false, so null takes the else branch
  DispatchBinary<T>(then_value, else_value, [&](auto a, auto b) {
    for (int64_t row = 0; row < rows; ++row) out[row] = take[row] ? a(row) : b(row);
  });
  if (then_value.validity() != nullptr || else_value.validity() != nullptr) {
    std::vector<uint8_t> validity = AllValidBitmap(rows);
    for (int64_t row = 0; row < rows; ++row) {
      const bool valid = take[row] ? then_value.IsValid(row) : else_value.IsValid(row);
      if (!valid) {
        ClearBit(validity.data(), row);
        out[row] = T{};
      }
    }
    NormalizeValidity(&validity, rows);
    array.validity = std::move(validity);
  }
  return Value::Owned(type, false, std::move(array));
}

Value SelectStrings(const Value& cond, const Value& then_value, const Value& else_value,
                    int64_t rows) {
  Array array;
  array.offsets.resize(static_cast<size_t>(rows) + 1);
  std::vector<uint8_t> validity = AllValidBitmap(rows);
  const uint8_t* take = cond.bools();
  const StringRead a = StringReader(then_value);
  const StringRead b = StringReader(else_value);
  for (int64_t row = 0; row < rows; ++row) {
    const Value& chosen = take[row] ? then_value : else_value;
    if (chosen.IsValid(row)) {
      array.bytes.append(take[row] ? a(row) : b(row));
    } else {
      ClearBit(validity.data(), row);
    }
    array.offsets[static_cast<size_t>(row) + 1] = static_cast<int64_t>(array.bytes.size());
  }
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(DataType::kString, false, std::move(array));
}

}  // namespace

Value Evaluator::EvalIf(const ExpressionNode& node) const {
  const Value cond = Eval(*node.args[0]);
  if (cond.scalar()) {
    // Only the chosen branch runs (a null condition picks else, like a false one).
    const bool take = cond.IsValid(0) && cond.bools()[0] != 0;
    return Eval(*node.args[take ? 1 : 2]);
  }
  const Value then_value = Eval(*node.args[1]);
  const Value else_value = Eval(*node.args[2]);
  if (node.type == DataType::kString) return SelectStrings(cond, then_value, else_value, rows_);
  return VisitFixedWidth(node.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return SelectFixed<T>(node.type, cond, then_value, else_value, rows_);
  });
}

Value Evaluator::Eval(const ExpressionNode& node) const {
  switch (node.kind) {
    case NodeKind::kColumn:
      return Value::Borrow(columns_[static_cast<size_t>(node.column_slot)]);
    case NodeKind::kLiteral:
      return Value::Shared(node.type, true, node.literal);
    case NodeKind::kCall:
      if (node.function == Function::kIf) return EvalIf(node);
      break;
    default:
      break;
  }
  std::vector<Value> args;
  args.reserve(node.args.size());
  bool scalar = true;
  for (const auto& child : node.args) {
    args.push_back(Eval(*child));
    scalar = scalar && args.back().scalar();
  }
  const Shape shape{scalar ? 1 : rows_, scalar};
  switch (node.kind) {
    case NodeKind::kCast:
      return Cast(args[0], node.type, shape);
    case NodeKind::kUnary:
      return Unary(node.op, node.type, args[0], shape);
    case NodeKind::kBinary:
      return Binary(node.op, node.type, args[0], args[1], shape);
    case NodeKind::kCall:
      return EvalFunction(node, args, shape, options_);
    case NodeKind::kColumn:
    case NodeKind::kLiteral:
      break;
  }
  return Value::AllNull(node.type, shape.scalar, shape.rows);
}

}  // namespace assay::expr
