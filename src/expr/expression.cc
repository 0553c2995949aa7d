#include "expr/expression.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "expr/binder.h"
#include "expr/evaluator.h"
#include "expr/parser.h"

namespace assay::expr {

absl::StatusOr<Expression> Expression::Compile(std::string_view source,
                                               const table::Schema& schema) {
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<SyntaxNode> syntax, Parse(source));
  ASSAY_ASSIGN_OR_RETURN(BoundExpression bound, Bind(source, *syntax, schema));
  Expression expression;
  expression.result_type_ = bound.root->type;
  expression.root_ = std::move(bound.root);
  expression.source_ = std::string(source);
  expression.referenced_columns_ = std::move(bound.referenced_columns);
  expression.referenced_types_ = std::move(bound.referenced_types);
  return expression;
}

table::DataType Expression::result_type() const { return result_type_; }

const std::string& Expression::source() const { return source_; }

const std::vector<std::string>& Expression::referenced_columns() const {
  return referenced_columns_;
}

absl::StatusOr<table::Column> Expression::Evaluate(const table::Table& input,
                                                   const EvalOptions& options) const {
  if (root_ == nullptr) {
    return absl::InvalidArgumentError("Evaluate called on an expression that was not compiled");
  }
  std::vector<const table::Column*> columns;
  columns.reserve(referenced_columns_.size());
  for (size_t i = 0; i < referenced_columns_.size(); ++i) {
    const std::string& name = referenced_columns_[i];
    const std::optional<int> index = input.schema().FindField(name);
    if (!index) {
      return absl::InvalidArgumentError(
          absl::StrCat("formula \"", source_, "\" reads column \"", name,
                       "\", which the table does not have (columns: ", input.schema().NameList(),
                       "); compile the formula against this table's schema"));
    }
    const table::Column& column = input.column(*index);
    if (column.type() != referenced_types_[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "formula \"", source_, "\" was compiled with column \"", name, "\" as ",
          Absl(table::DataTypeName(referenced_types_[i])), " but the table has it as ",
          Absl(table::DataTypeName(column.type())), "; compile it against this table's schema"));
    }
    columns.push_back(&column);
  }
  const Evaluator evaluator(std::move(columns), input.num_rows(), options);
  return evaluator.Eval(*root_).TakeColumn(input.num_rows());
}

}  // namespace assay::expr
