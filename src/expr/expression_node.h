// The typed expression tree that Compile produces and Evaluate walks. Every node knows its
// result type; implicit conversions (int64 -> float64, date -> timestamp) are explicit kCast
// nodes inserted by the binder, so evaluation never looks at types per row and kernels only
// see operands of matching types.
//
// Internal to assay_expr. Nodes are immutable after binding and shared between copies of an
// Expression; thread-safe to read.
#ifndef ASSAY_EXPR_EXPRESSION_NODE_H_
#define ASSAY_EXPR_EXPRESSION_NODE_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "expr/parser.h"
#include "expr/value.h"
#include "table/data_type.h"

namespace assay::expr {

enum class NodeKind : uint8_t {
  kColumn,   // column_slot
  kLiteral,  // literal (a one-row array)
  kCast,     // args[0] converted to `type` (int64 -> float64, date -> timestamp)
  kUnary,    // op, args[0]
  kBinary,   // op, args[0], args[1]
  kCall,     // function, args
};

enum class Function : uint8_t {
  kIf,
  kIsNull,
  kIsNotNull,
  kCoalesce,
  kAbs,
  kRound,
  kFloor,
  kCeil,
  kLog,
  kExp,
  kSqrt,
  kPow,
  kMin,
  kMax,
  kLength,
  kLower,
  kUpper,
  kTrim,
  kContains,
  kStartsWith,
  kEndsWith,
  kSubstring,
  kReplace,
  kConcat,
  kToString,
  kToNumber,
  kYear,
  kMonth,
  kDay,
  kWeekday,
  kDateDiff,
  kDateAdd,
  kNow,
  kDate,
  kTimestamp,
};

// Units of dateDiff/dateAdd, resolved from the string literal at compile time.
enum class TimeUnit : uint8_t { kSeconds, kMinutes, kHours, kDays, kWeeks, kMonths, kYears };

struct ExpressionNode {
  NodeKind kind = NodeKind::kLiteral;
  table::DataType type = table::DataType::kBool;
  Operator op = Operator::kAdd;
  Function function = Function::kIf;
  TimeUnit unit = TimeUnit::kDays;
  int column_slot = -1;  // index into Expression::referenced_columns()
  std::shared_ptr<const Array> literal;
  std::vector<std::shared_ptr<const ExpressionNode>> args;
};

}  // namespace assay::expr

#endif  // ASSAY_EXPR_EXPRESSION_NODE_H_
