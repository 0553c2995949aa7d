// Prepare processors built on the formula language (expr/expression.h): formula, filter,
// flag, if_then_else. Expressions are compiled (parsed and type-checked) at bind time, so a
// formula error in any step is reported before any row is processed.
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "expr/expression.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {
namespace {

absl::StatusOr<expr::Expression> CompileKey(std::string_view key, const std::string& source,
                                            const Schema& schema) {
  absl::StatusOr<expr::Expression> compiled = expr::Expression::Compile(source, schema);
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(key), " ", Quote(source), ": ", compiled.status().message()));
  }
  return compiled;
}

absl::StatusOr<Column> EvaluateKey(const expr::Expression& expression, const Table& table,
                                   const StepContext& context) {
  expr::EvalOptions options;
  options.now_micros = context.now_micros;
  return expression.Evaluate(table, options);
}

absl::Status RequireBool(std::string_view key, const expr::Expression& expression) {
  if (expression.result_type() == DataType::kBool) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(Absl(key), " ", Quote(expression.source()), " gives ",
                   Absl(table::DataTypeName(expression.result_type())),
                   ", expected bool (a condition such as price > 10)"));
}

// ---- formula -----------------------------------------------------------------------------------

class FormulaProcessor : public PrepareProcessor {
 public:
  FormulaProcessor(std::string column, std::string expression)
      : column_(std::move(column)), expression_(std::move(expression)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(expr::Expression compiled, CompileKey("expression", expression_, input));
    BoundStep bound;
    bound.output = WithField(input, column_, compiled.result_type());
    bound.apply = [this, compiled](const Table& table, const StepContext& context,
                                   PrepareStepLog& log) -> absl::StatusOr<Table> {
      ASSAY_ASSIGN_OR_RETURN(Column result, EvaluateKey(compiled, table, context));
      log.detail = absl::StrCat(column_, ": ", result.null_count(), " null results");
      return PutColumn(table, column_, std::move(result));
    };
    return bound;
  }

 private:
  std::string column_;
  std::string expression_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFormula(StepConfig& config) {
  auto column = config.String("column");
  auto expression = config.String("expression");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<FormulaProcessor>(std::move(column), std::move(expression));
}

// ---- filter ------------------------------------------------------------------------------------

class FilterProcessor : public PrepareProcessor {
 public:
  FilterProcessor(std::string expression, bool keep)
      : expression_(std::move(expression)), keep_(keep) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(expr::Expression compiled, CompileKey("expression", expression_, input));
    ASSAY_RETURN_IF_ERROR(RequireBool("expression", compiled));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, compiled](const Table& table, const StepContext& context,
                                   PrepareStepLog& log) -> absl::StatusOr<Table> {
      ASSAY_ASSIGN_OR_RETURN(const Column matches, EvaluateKey(compiled, table, context));
      // A null condition is not true: the row is not kept by "keep", not removed by "remove".
      std::vector<int64_t> rows;
      rows.reserve(static_cast<size_t>(table.num_rows()));
      const auto& values = matches.bool_values();
      for (int64_t row = 0; row < table.num_rows(); ++row) {
        const bool match = matches.IsValid(row) && values[row] != 0;
        if (match == keep_) rows.push_back(row);
      }
      log.detail =
          absl::StrCat(table.num_rows() - static_cast<int64_t>(rows.size()), " rows removed");
      if (static_cast<int64_t>(rows.size()) == table.num_rows()) return table;
      return TakeRows(table, rows);
    };
    return bound;
  }

 private:
  std::string expression_;
  bool keep_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFilter(StepConfig& config) {
  auto expression = config.String("expression");
  const bool keep = config.Choice("action", {"keep", "remove"}, "keep") == "keep";
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<FilterProcessor>(std::move(expression), keep);
}

// ---- flag --------------------------------------------------------------------------------------

class FlagProcessor : public PrepareProcessor {
 public:
  FlagProcessor(std::string column, std::string expression)
      : column_(std::move(column)), expression_(std::move(expression)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(expr::Expression compiled, CompileKey("expression", expression_, input));
    ASSAY_RETURN_IF_ERROR(RequireBool("expression", compiled));
    BoundStep bound;
    bound.output = WithField(input, column_, DataType::kBool);
    bound.apply = [this, compiled](const Table& table, const StepContext& context,
                                   PrepareStepLog& log) -> absl::StatusOr<Table> {
      ASSAY_ASSIGN_OR_RETURN(const Column matches, EvaluateKey(compiled, table, context));
      // A flag is never null: a null condition is "not flagged".
      std::vector<uint8_t> flags = matches.bool_values();
      int64_t flagged = 0;
      for (int64_t row = 0; row < table.num_rows(); ++row) {
        if (matches.IsNull(row)) flags[row] = 0;
        flagged += flags[row];
      }
      log.detail = absl::StrCat(flagged, " rows flagged");
      return PutColumn(table, column_, *Column::FromBools(std::move(flags)));
    };
    return bound;
  }

 private:
  std::string column_;
  std::string expression_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFlag(StepConfig& config) {
  auto column = config.String("column");
  auto expression = config.String("expression");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<FlagProcessor>(std::move(column), std::move(expression));
}

// ---- if_then_else ------------------------------------------------------------------------------

class IfThenElseProcessor : public PrepareProcessor {
 public:
  IfThenElseProcessor(std::string into, std::string condition, std::string then,
                      std::optional<std::string> otherwise)
      : into_(std::move(into)),
        condition_(std::move(condition)),
        then_(std::move(then)),
        else_(std::move(otherwise)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(expr::Expression condition, CompileKey("if", condition_, input));
    ASSAY_RETURN_IF_ERROR(RequireBool("if", condition));
    ASSAY_ASSIGN_OR_RETURN(expr::Expression then, CompileKey("then", then_, input));
    std::optional<expr::Expression> otherwise;
    DataType type = then.result_type();
    if (else_.has_value()) {
      ASSAY_ASSIGN_OR_RETURN(otherwise, CompileKey("else", *else_, input));
      const DataType other = otherwise->result_type();
      if (table::IsNumeric(type) && table::IsNumeric(other)) {
        type = type == other ? type : DataType::kFloat64;
      } else if (type != other) {
        return absl::InvalidArgumentError(absl::StrCat(
            "then gives ", Absl(table::DataTypeName(type)), " but else gives ",
            Absl(table::DataTypeName(other)), "; make both the same type (e.g. with toString)"));
      }
    }
    BoundStep bound;
    bound.output = WithField(input, into_, type);
    bound.apply = [this, condition, then, otherwise, type](
                      const Table& table, const StepContext& context,
                      PrepareStepLog& log) -> absl::StatusOr<Table> {
      ASSAY_ASSIGN_OR_RETURN(const Column test, EvaluateKey(condition, table, context));
      ASSAY_ASSIGN_OR_RETURN(const Column yes, EvaluateKey(then, table, context));
      Column no(type);
      if (otherwise.has_value()) {
        ASSAY_ASSIGN_OR_RETURN(no, EvaluateKey(*otherwise, table, context));
      }
      ColumnBuilder builder(type);
      builder.Reserve(table.num_rows());
      int64_t taken = 0;
      for (int64_t row = 0; row < table.num_rows(); ++row) {
        // A null condition takes the else branch, as if() does in formulas.
        const bool pick_then = test.IsValid(row) && test.bool_values()[row] != 0;
        taken += pick_then;
        const Column& source = pick_then ? yes : no;
        if (!pick_then && !otherwise.has_value()) {
          builder.AppendNull();
        } else if (source.IsNull(row)) {
          builder.AppendNull();
        } else if (source.type() == type) {
          builder.AppendFrom(source, row);
        } else {
          builder.AppendFloat64(static_cast<double>(source.int64_values()[row]));
        }
      }
      log.detail = absl::StrCat(taken, " rows took the then branch");
      return PutColumn(table, into_, builder.Finish());
    };
    return bound;
  }

 private:
  std::string into_;
  std::string condition_;
  std::string then_;
  std::optional<std::string> else_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseIfThenElse(StepConfig& config) {
  auto into = config.String("into");
  auto condition = config.String("if");
  auto then = config.String("then");
  auto otherwise = config.OptionalString("else");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<IfThenElseProcessor>(std::move(into), std::move(condition),
                                               std::move(then), std::move(otherwise));
}

}  // namespace

void AddFormulaProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("formula", ParseFormula);
  registry.emplace_back("filter", ParseFilter);
  registry.emplace_back("flag", ParseFlag);
  registry.emplace_back("if_then_else", ParseIfThenElse);
}

}  // namespace assay::recipes
