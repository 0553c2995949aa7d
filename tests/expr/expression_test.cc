// Core language: literals, column references, operators, null semantics, if/isNull/coalesce,
// result types, empty tables and the Evaluate-time checks.
#include "expr/expression.h"

#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/expr/expr_test_util.h"

namespace assay::expr {
namespace {

using table::DataType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace assay::expr::testing;  // NOLINT(build/namespaces)

table::Table Sample() {
  return MakeTable({
      {"i", Ints({1, -2, kNull, 7})},
      {"j", Ints({3, 0, 5, kNull})},
      {"f", Floats({1.5, -0.5, kNull, 2.0})},
      {"s", Strings({"a", "B", kNull, ""})},
      {"b", Bools({true, false, kNull, true})},
      {"c", Bools({kNull, kNull, kNull, false})},
      {"d", Dates({"2024-01-31", "2024-02-29", kNull, "1970-01-01"})},
      {"t",
       Timestamps({"2024-01-31T12:00:00Z", kNull, "2024-03-01T00:00:00Z", "1970-01-01T00:00:00Z"})},
      {"years in practice", Ints({10, 20, 30, 40})},
  });
}

// Renders the result of `source` over Sample(), or "ERROR: ..." so a failure shows the message.
std::vector<std::string> Eval(std::string_view source) { return RenderOrError(source, Sample()); }

DataType TypeOf(std::string_view source) { return ResultTypeOf(source, Sample().schema()); }

TEST(Expression, ColumnReferences) {
  EXPECT_THAT(Eval("i"), ElementsAre("1", "-2", "null", "7"));
  EXPECT_THAT(Eval("`years in practice`"), ElementsAre("10", "20", "30", "40"));
  EXPECT_THAT(Eval("`i`"), ElementsAre("1", "-2", "null", "7"));
  // A doubled backtick stands for one inside a quoted name; any bytes are allowed.
  const table::Table odd =
      MakeTable({{"a`b", Ints({1})}, {"rate (%)", Ints({2})}, {"größe", Ints({3})}});
  auto sum = CompileAndEvaluate("`a``b` + `rate (%)` + größe", odd);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_THAT(Render(*sum), ElementsAre("6"));
  EXPECT_THAT(Eval("s"), ElementsAre("a", "B", "null", ""));
}

TEST(Expression, Literals) {
  EXPECT_THAT(Eval("42"), ElementsAre("42", "42", "42", "42"));
  EXPECT_THAT(Eval("3.5"), ElementsAre("3.5", "3.5", "3.5", "3.5"));
  EXPECT_THAT(Eval(".5"), ElementsAre("0.5", "0.5", "0.5", "0.5"));
  EXPECT_THAT(Eval("1e3"), ElementsAre("1000.0", "1000.0", "1000.0", "1000.0"));
  EXPECT_THAT(Eval("2."), ::testing::Each("2.0"));
  EXPECT_THAT(Eval("2.5E-1"), ::testing::Each("0.25"));
  EXPECT_THAT(Eval("\"a b\""), ElementsAre("a b", "a b", "a b", "a b"));
  EXPECT_THAT(Eval(R"("say \"hi\"\n\t\\")"), ::testing::Each("say \"hi\"\n\t\\"));
  EXPECT_THAT(Eval("'single \\' quote'"), ::testing::Each("single ' quote"));
  EXPECT_THAT(Eval("TRUE"), ::testing::Each("true"));
  EXPECT_THAT(Eval("false"), ::testing::Each("false"));
  EXPECT_THAT(Eval("null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("date(\"2024-03-01\")"), ::testing::Each("2024-03-01"));
  EXPECT_THAT(Eval("timestamp(\"2024-03-01T12:00:00Z\")"), ::testing::Each("2024-03-01T12:00:00Z"));
  EXPECT_THAT(Eval("timestamp('2024-03-01')"), ::testing::Each("2024-03-01T00:00:00Z"));
  EXPECT_THAT(Eval("-9223372036854775808"), ::testing::Each("-9223372036854775808"));
  EXPECT_EQ(TypeOf("null"), DataType::kString);
  EXPECT_EQ(TypeOf("1"), DataType::kInt64);
  EXPECT_EQ(TypeOf("1.0"), DataType::kFloat64);
}

TEST(Expression, IntegerArithmeticStaysInt64) {
  EXPECT_THAT(Eval("i + j"), ElementsAre("4", "-2", "null", "null"));
  EXPECT_THAT(Eval("i - j"), ElementsAre("-2", "-2", "null", "null"));
  EXPECT_THAT(Eval("i * j"), ElementsAre("3", "0", "null", "null"));
  EXPECT_THAT(Eval("i % j"), ElementsAre("1", "null", "null", "null"));  // % 0 is null
  EXPECT_THAT(Eval("-7 % 3"), ::testing::Each("-1"));  // sign follows the dividend
  EXPECT_THAT(Eval("(0 - 9223372036854775807 - 1) % -1"), ::testing::Each("0"));
  EXPECT_THAT(Eval("-i"), ElementsAre("-1", "2", "null", "-7"));
  EXPECT_THAT(Eval("+i"), ElementsAre("1", "-2", "null", "7"));
  EXPECT_EQ(TypeOf("i * j + 1"), DataType::kInt64);
}

TEST(Expression, IntegerOverflowIsNull) {
  EXPECT_THAT(Eval("9223372036854775807 + i"),
              ElementsAre("null", "9223372036854775805", "null", "null"));
  EXPECT_THAT(Eval("-9223372036854775807 - i"),
              ElementsAre("-9223372036854775808", "-9223372036854775805", "null", "null"));
  EXPECT_THAT(Eval("4611686018427387904 * (i + 1)"),
              ElementsAre("null", "-4611686018427387904", "null", "null"));
  EXPECT_THAT(Eval("-(-9223372036854775808)"), ::testing::Each("null"));
}

TEST(Expression, DivisionIsFloatAndByZeroIsNull) {
  EXPECT_EQ(TypeOf("i / j"), DataType::kFloat64);
  EXPECT_THAT(Eval("i / j"), ElementsAre("0.3333333333333333", "null", "null", "null"));
  EXPECT_THAT(Eval("7 / 2"), ::testing::Each("3.5"));
  EXPECT_THAT(Eval("f / 0"), ::testing::Each("null"));
  EXPECT_THAT(Eval("f % 1"), ElementsAre("0.5", "-0.5", "null", "0.0"));
  EXPECT_THAT(Eval("f % 0.0"), ::testing::Each("null"));
}

TEST(Expression, MixedIntFloatPromotesToFloat) {
  EXPECT_EQ(TypeOf("i + f"), DataType::kFloat64);
  EXPECT_THAT(Eval("i + f"), ElementsAre("2.5", "-2.5", "null", "9.0"));
  EXPECT_THAT(Eval("i * 0.5"), ElementsAre("0.5", "-1.0", "null", "3.5"));
  EXPECT_THAT(Eval("-f"), ElementsAre("-1.5", "0.5", "null", "-2.0"));
}

TEST(Expression, StringPlusConcatenates) {
  EXPECT_EQ(TypeOf("s + 'x'"), DataType::kString);
  EXPECT_THAT(Eval("s + \"x\""), ElementsAre("ax", "Bx", "null", "x"));
  EXPECT_THAT(Eval("'<' + s + '>'"), ElementsAre("<a>", "<B>", "null", "<>"));
}

TEST(Expression, Comparisons) {
  EXPECT_THAT(Eval("i = 1"), ElementsAre("true", "false", "null", "false"));
  EXPECT_THAT(Eval("i == 1"), ElementsAre("true", "false", "null", "false"));
  EXPECT_THAT(Eval("i != 1"), ElementsAre("false", "true", "null", "true"));
  EXPECT_THAT(Eval("i <> 1"), ElementsAre("false", "true", "null", "true"));
  EXPECT_THAT(Eval("i < j"), ElementsAre("true", "true", "null", "null"));
  EXPECT_THAT(Eval("i <= 1"), ElementsAre("true", "true", "null", "false"));
  EXPECT_THAT(Eval("i > 1"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("i >= 7"), ElementsAre("false", "false", "null", "true"));
  // int64 against float64 compares as float64.
  EXPECT_THAT(Eval("i > f"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("1 = 1.0"), ::testing::Each("true"));
  // Strings compare bytewise: uppercase sorts before lowercase.
  EXPECT_THAT(Eval("s < 'a'"), ElementsAre("false", "true", "null", "true"));
  EXPECT_THAT(Eval("s = ''"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("'é' > 'z'"), ::testing::Each("true"));
  EXPECT_THAT(Eval("b = true"), ElementsAre("true", "false", "null", "true"));
  EXPECT_THAT(Eval("false < true"), ::testing::Each("true"));
}

TEST(Expression, DateAndTimestampComparisons) {
  EXPECT_THAT(Eval("d >= date('2024-02-01')"), ElementsAre("false", "true", "null", "false"));
  // A string literal next to a date is read as a date.
  EXPECT_THAT(Eval("d < '2024-02-01'"), ElementsAre("true", "false", "null", "true"));
  EXPECT_THAT(Eval("'2024-02-01' > d"), ElementsAre("true", "false", "null", "true"));
  // A date meets a timestamp at midnight UTC.
  EXPECT_THAT(Eval("d = t"), ElementsAre("false", "null", "null", "true"));
  EXPECT_THAT(Eval("d < t"), ElementsAre("true", "null", "null", "false"));
  EXPECT_THAT(Eval("t > '2024-02-01T00:00:00Z'"), ElementsAre("false", "null", "true", "false"));
  EXPECT_THAT(Eval("t > '2024-02-01'"), ElementsAre("false", "null", "true", "false"));
}

TEST(Expression, BooleanLogicIsThreeValued) {
  // b = [true, false, null, true], c = [null, null, null, false]
  EXPECT_THAT(Eval("b and c"), ElementsAre("null", "false", "null", "false"));
  EXPECT_THAT(Eval("b or c"), ElementsAre("true", "null", "null", "true"));
  EXPECT_THAT(Eval("b && true"), ElementsAre("true", "false", "null", "true"));
  EXPECT_THAT(Eval("b || false"), ElementsAre("true", "false", "null", "true"));
  EXPECT_THAT(Eval("false and null"), ::testing::Each("false"));
  EXPECT_THAT(Eval("true or null"), ::testing::Each("true"));
  EXPECT_THAT(Eval("true and null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("false or null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("not b"), ElementsAre("false", "true", "null", "false"));
  EXPECT_THAT(Eval("!b"), ElementsAre("false", "true", "null", "false"));
  EXPECT_THAT(Eval("NOT b AND true"), ElementsAre("false", "true", "null", "false"));
  EXPECT_THAT(Eval("i > 0 and j > 0"), ElementsAre("true", "false", "null", "null"));
}

TEST(Expression, Precedence) {
  EXPECT_THAT(Eval("1 + 2 * 3"), ::testing::Each("7"));
  EXPECT_THAT(Eval("(1 + 2) * 3"), ::testing::Each("9"));
  EXPECT_THAT(Eval("10 - 4 - 3"), ::testing::Each("3"));  // left-associative
  EXPECT_THAT(Eval("2 * 6 / 4"), ::testing::Each("3.0"));
  EXPECT_THAT(Eval("-2 * 3"), ::testing::Each("-6"));
  EXPECT_THAT(Eval("1 + 1 = 2"), ::testing::Each("true"));
  EXPECT_THAT(Eval("not 1 = 2"), ::testing::Each("true"));                // not (1 = 2)
  EXPECT_THAT(Eval("true or false and false"), ::testing::Each("true"));  // and binds tighter
  EXPECT_THAT(Eval("(true or false) and false"), ::testing::Each("false"));
}

TEST(Expression, NullPropagates) {
  EXPECT_THAT(Eval("i + null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("null * f"), ::testing::Each("null"));
  EXPECT_THAT(Eval("s + null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("i = null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("-null"), ::testing::Each("null"));
  EXPECT_THAT(Eval("not null"), ::testing::Each("null"));
  EXPECT_EQ(TypeOf("i + null"), DataType::kInt64);
  EXPECT_EQ(TypeOf("f + null"), DataType::kFloat64);
  EXPECT_EQ(TypeOf("null / null"), DataType::kFloat64);
}

TEST(Expression, IfChoosesPerRowAndNullConditionTakesElse) {
  EXPECT_THAT(Eval("if(b, i, j)"), ElementsAre("1", "0", "5", "7"));
  EXPECT_THAT(Eval("IF(b, s, 'no')"), ElementsAre("a", "no", "no", ""));
  EXPECT_THAT(Eval("if(i > 0, 'pos', 'neg')"), ElementsAre("pos", "neg", "neg", "pos"));
  EXPECT_THAT(Eval("if(true, i, j)"), ElementsAre("1", "-2", "null", "7"));
  EXPECT_THAT(Eval("if(null, i, j)"), ElementsAre("3", "0", "5", "null"));
  EXPECT_THAT(Eval("if(b, i, f)"), ElementsAre("1.0", "-0.5", "null", "7.0"));
  EXPECT_THAT(Eval("if(b, null, i)"), ElementsAre("null", "-2", "null", "null"));
  EXPECT_THAT(Eval("if(b, d, t)"), ElementsAre("2024-01-31T00:00:00Z", "null",
                                               "2024-03-01T00:00:00Z", "1970-01-01T00:00:00Z"));
  EXPECT_THAT(Eval("if(c, 1, 2)"), ElementsAre("2", "2", "2", "2"));
  EXPECT_THAT(Eval("if(b, s, null)"), ElementsAre("a", "null", "null", ""));
  EXPECT_EQ(TypeOf("if(b, 1, 2.5)"), DataType::kFloat64);
  EXPECT_EQ(TypeOf("if(b, null, null)"), DataType::kString);
}

TEST(Expression, IsNullAndIsNotNull) {
  EXPECT_THAT(Eval("isNull(i)"), ElementsAre("false", "false", "true", "false"));
  EXPECT_THAT(Eval("isnull(s)"), ElementsAre("false", "false", "true", "false"));
  EXPECT_THAT(Eval("isNotNull(c)"), ElementsAre("false", "false", "false", "true"));
  EXPECT_THAT(Eval("isNull(null)"), ::testing::Each("true"));
  EXPECT_THAT(Eval("isNull(i + j)"), ElementsAre("false", "false", "true", "true"));
  EXPECT_THAT(Eval("isNull(i / j)"), ElementsAre("false", "true", "true", "true"));
  EXPECT_THAT(Eval("isNotNull(1)"), ::testing::Each("true"));
}

TEST(Expression, Coalesce) {
  EXPECT_THAT(Eval("coalesce(i, j)"), ElementsAre("1", "-2", "5", "7"));
  EXPECT_THAT(Eval("coalesce(j, i, 0)"), ElementsAre("3", "0", "5", "7"));
  EXPECT_THAT(Eval("coalesce(s, 'none')"), ElementsAre("a", "B", "none", ""));
  EXPECT_THAT(Eval("coalesce(c, b)"), ElementsAre("true", "false", "null", "false"));
  EXPECT_THAT(Eval("coalesce(null, i)"), ElementsAre("1", "-2", "null", "7"));
  EXPECT_THAT(Eval("coalesce(i, f)"), ElementsAre("1.0", "-2.0", "null", "7.0"));
  EXPECT_THAT(Eval("coalesce(t, d)"), ElementsAre("2024-01-31T12:00:00Z", "2024-02-29T00:00:00Z",
                                                  "2024-03-01T00:00:00Z", "1970-01-01T00:00:00Z"));
  EXPECT_THAT(Eval("coalesce(i)"), ElementsAre("1", "-2", "null", "7"));
  EXPECT_THAT(Eval("coalesce(null, null)"), ::testing::Each("null"));
}

TEST(Expression, NullSlotsHoldZeroValues) {
  for (const char* source : {"i + j", "i / j", "i % j", "s + 'x'", "if(b, i, j)", "coalesce(c, b)",
                             "b and c", "i > j", "-i", "if(b, s, null)"}) {
    auto column = CompileAndEvaluate(source, Sample());
    ASSERT_TRUE(column.ok()) << source << ": " << column.status();
    // Rebuilding through the public constructors (which zero null slots) must not change it.
    table::ColumnBuilder builder(column->type());
    for (int64_t row = 0; row < column->size(); ++row) builder.AppendFrom(*column, row);
    EXPECT_TRUE(builder.Finish().Equals(*column)) << source;
  }
}

TEST(Expression, EmptyTable) {
  const table::Table empty = MakeTable({{"i", Ints({})}, {"s", Strings({})}, {"b", Bools({})}});
  for (const char* source : {"i + 1", "s + 'x'", "1 + 2", "if(b, i, 0)", "coalesce(i, 1)",
                             "isNull(s)", "b and true", "'x'", "null"}) {
    auto column = CompileAndEvaluate(source, empty);
    ASSERT_TRUE(column.ok()) << source << ": " << column.status();
    EXPECT_EQ(column->size(), 0) << source;
  }
}

TEST(Expression, AccessorsAndReferencedColumns) {
  auto expression = Expression::Compile("j + i * `years in practice` + i", Sample().schema());
  ASSERT_TRUE(expression.ok()) << expression.status();
  EXPECT_EQ(expression->source(), "j + i * `years in practice` + i");
  EXPECT_EQ(expression->result_type(), DataType::kInt64);
  EXPECT_THAT(expression->referenced_columns(), ElementsAre("i", "j", "years in practice"));
  auto constant = Expression::Compile("1 + 1", Sample().schema());
  ASSERT_TRUE(constant.ok());
  EXPECT_TRUE(constant->referenced_columns().empty());
}

TEST(Expression, EvaluateChecksColumnsAgainstCompileSchema) {
  auto expression = Expression::Compile("i + 1", Sample().schema());
  ASSERT_TRUE(expression.ok());
  const table::Table missing = MakeTable({{"k", Ints({1})}});
  auto result = expression->Evaluate(missing);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("column \"i\""));
  EXPECT_THAT(result.status().message(), HasSubstr("columns: k"));
  const table::Table retyped = MakeTable({{"i", Strings({"1"})}});
  result = expression->Evaluate(retyped);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("as int64 but the table has it as string"));
  // Extra columns and another column order are fine.
  const table::Table other = MakeTable({{"z", Strings({"q", "r"})}, {"i", Ints({5, kNull})}});
  result = expression->Evaluate(other);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Render(*result), ElementsAre("6", "null"));
}

TEST(Expression, OneCompiledExpressionEvaluatesOnManyThreads) {
  auto expression = Expression::Compile("if(b, s + '!', coalesce(s, 'none')) + toString(i * 2)",
                                        Sample().schema());
  ASSERT_TRUE(expression.ok()) << expression.status();
  const table::Table input = Sample();
  const table::Column expected = *expression->Evaluate(input);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        auto column = expression->Evaluate(input);
        if (!column.ok() || !column->Equals(expected)) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
  EXPECT_THAT(Render(expected), ElementsAre("a!2", "B-4", "null", "!14"));
}

TEST(Expression, DefaultConstructedExpressionRefusesToEvaluate) {
  const Expression expression;
  EXPECT_EQ(expression.Evaluate(Sample()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Expression, CopiesShareTheCompiledTree) {
  auto expression = Expression::Compile("i * 2", Sample().schema());
  ASSERT_TRUE(expression.ok());
  const Expression copy = *expression;
  EXPECT_THAT(Render(*copy.Evaluate(Sample())), ElementsAre("2", "-4", "null", "14"));
  EXPECT_THAT(Render(*expression->Evaluate(Sample())), ElementsAre("2", "-4", "null", "14"));
}

TEST(Expression, LargeColumnsWithNullsAcrossByteBoundaries) {
  std::vector<std::optional<int64_t>> a, b;
  for (int64_t row = 0; row < 1000; ++row) {
    a.push_back(row % 3 == 0 ? std::optional<int64_t>() : row);
    b.push_back(row % 5 == 0 ? std::optional<int64_t>() : row * 2);
  }
  const table::Table input = MakeTable({{"a", Ints(a)}, {"b", Ints(b)}});
  auto sum = CompileAndEvaluate("a + b", input);
  ASSERT_TRUE(sum.ok());
  for (int64_t row = 0; row < 1000; ++row) {
    if (row % 3 == 0 || row % 5 == 0) {
      EXPECT_TRUE(sum->IsNull(row)) << row;
    } else {
      EXPECT_EQ(sum->int64_values()[row], row * 3) << row;
    }
  }
}

}  // namespace
}  // namespace assay::expr
