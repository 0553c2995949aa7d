// Name resolution and type checking: turns the parser's untyped syntax tree into the typed
// ExpressionNode tree, against a table schema. This is where every "before any row runs" error
// of the formula language comes from (unknown column or function, argument count, operand and
// argument types, bad date literals and units), each with the position of the offending token.
//
// Internal to assay_expr. Pure function; thread-safe.
#ifndef ASSAY_EXPR_BINDER_H_
#define ASSAY_EXPR_BINDER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "expr/expression_node.h"
#include "expr/parser.h"
#include "table/table.h"

namespace assay::expr {

struct BoundExpression {
  std::shared_ptr<const ExpressionNode> root;
  // Sorted, without duplicates; ExpressionNode::column_slot indexes this list.
  std::vector<std::string> referenced_columns;
  // The schema's type of each referenced column.
  std::vector<table::DataType> referenced_types;
};

// Requires `syntax` to come from Parse(source).
// Errors: INVALID_ARGUMENT "position N: ..." for unknown columns and functions, wrong argument
// counts, type errors, invalid date/timestamp literals and invalid time units.
absl::StatusOr<BoundExpression> Bind(std::string_view source, const SyntaxNode& syntax,
                                     const table::Schema& schema);

// Lower-case canonical names of every function, sorted, for documentation and error messages.
std::vector<std::string> FunctionNames();

}  // namespace assay::expr

#endif  // ASSAY_EXPR_BINDER_H_
