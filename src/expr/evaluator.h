// Vectorized evaluation of a typed expression tree over the columns of one table. Each node is
// evaluated once into a whole column (or a scalar standing for every row); the kernel for a
// node is chosen once from its operator and operand types, then loops over contiguous buffers.
//
// Internal to assay_expr. An Evaluator only reads its inputs; it is used by one call of
// Expression::Evaluate on one thread.
#ifndef ASSAY_EXPR_EVALUATOR_H_
#define ASSAY_EXPR_EVALUATOR_H_

#include <cstdint>
#include <vector>

#include "expr/expression.h"
#include "expr/expression_node.h"
#include "expr/kernels.h"
#include "expr/value.h"
#include "table/column.h"

namespace assay::expr {

class Evaluator {
 public:
  // `columns[slot]` is the input column for ExpressionNode::column_slot `slot`; each must have
  // `rows` rows and the node's type. The columns must outlive the returned Values.
  Evaluator(std::vector<const table::Column*> columns, int64_t rows, const EvalOptions& options)
      : columns_(std::move(columns)), rows_(rows), options_(options) {}

  Value Eval(const ExpressionNode& node) const;

 private:
  Value EvalIf(const ExpressionNode& node) const;

  std::vector<const table::Column*> columns_;
  int64_t rows_;
  EvalOptions options_;
};

// Function kernels other than if() (functions.cc). `args` are the evaluated arguments.
Value EvalFunction(const ExpressionNode& node, const std::vector<Value>& args, const Shape& shape,
                   const EvalOptions& options);

}  // namespace assay::expr

#endif  // ASSAY_EXPR_EVALUATOR_H_
