// Compile errors: every message starts with "position N: " (1-based character offset of the
// offending token) and names the problem and the fix.
#include <string>

#include "expr/expression.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/expr/expr_test_util.h"

namespace assay::expr {
namespace {

using table::DataType;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace assay::expr::testing;  // NOLINT(build/namespaces)

table::Schema TestSchema() {
  return table::Schema({{"hcp_id", DataType::kString},
                        {"npi", DataType::kInt64},
                        {"specialty", DataType::kString},
                        {"price", DataType::kFloat64},
                        {"active", DataType::kBool},
                        {"visit", DataType::kDate},
                        {"seen_at", DataType::kTimestamp},
                        {"years in practice", DataType::kInt64}});
}

std::string Error(std::string_view source) { return CompileError(source, TestSchema()); }

TEST(ExpressionErrors, CompileReturnsInvalidArgument) {
  auto expression = Expression::Compile("npi +", TestSchema());
  EXPECT_EQ(expression.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExpressionErrors, UnknownColumnListsColumnsAndSuggests) {
  EXPECT_EQ(Error("npi + npi_id"),
            "position 7: unknown column \"npi_id\" (columns: hcp_id, npi, specialty, price, "
            "active, visit, seen_at, years in practice); did you mean `npi`?");
  EXPECT_THAT(Error("Specialty"), HasSubstr("did you mean `specialty`?"));
  EXPECT_THAT(Error("zzzzzzzzz"), StartsWith("position 1: unknown column \"zzzzzzzzz\""));
  EXPECT_THAT(Error("now + 1"), HasSubstr("to call the function write now(...)"));
  EXPECT_THAT(Error("`years`"), StartsWith("position 1: unknown column \"years\""));
  // Column names are case-sensitive.
  EXPECT_THAT(Error("NPI"), StartsWith("position 1: unknown column \"NPI\""));
}

TEST(ExpressionErrors, OperatorTypeErrors) {
  EXPECT_EQ(Error("hcp_id - 1"),
            "position 8: cannot apply \"-\" to string and int64; convert the text with toNumber()");
  EXPECT_EQ(Error("npi + specialty"),
            "position 5: cannot apply \"+\" to int64 and string; use concat() to join text with "
            "other values");
  EXPECT_THAT(Error("visit + 1"), StartsWith("position 7: cannot apply \"+\" to date and int64; "
                                             "use dateAdd() or dateDiff()"));
  EXPECT_THAT(Error("active * 2"), StartsWith("position 8: cannot apply \"*\" to bool and int64"));
  EXPECT_THAT(Error("npi and active"),
              StartsWith("position 5: cannot apply \"and\" to int64 and bool; both sides must be "
                         "true/false"));
  EXPECT_THAT(Error("active || price"), StartsWith("position 8: cannot apply \"||\""));
  EXPECT_THAT(Error("not npi"), StartsWith("position 1: cannot apply \"not\" to int64"));
  EXPECT_THAT(Error("!price"), StartsWith("position 1: cannot apply \"!\" to float64"));
  EXPECT_THAT(Error("-hcp_id"), StartsWith("position 1: cannot apply unary \"-\" to string"));
  EXPECT_THAT(Error("+hcp_id"), StartsWith("position 1: cannot apply unary \"+\" to string"));
  EXPECT_THAT(Error("npi = 'x'"),
              StartsWith("position 5: cannot compare int64 and string with \"=\"; convert with "
                         "toNumber() or toString()"));
  EXPECT_THAT(Error("active < 1"), StartsWith("position 8: cannot compare bool and int64"));
  EXPECT_THAT(Error("visit > 3"), StartsWith("position 7: cannot compare date and int64"));
  EXPECT_THAT(Error("visit > 'soon'"),
              StartsWith("position 9: \"soon\" is not a date or timestamp; write YYYY-MM-DD"));
}

TEST(ExpressionErrors, ArgumentCounts) {
  EXPECT_EQ(Error("if(active, 1)"), "position 1: if() takes 3 arguments, got 2");
  EXPECT_EQ(Error("npi + abs()"), "position 7: abs() takes 1 argument, got 0");
  EXPECT_EQ(Error("round(1, 2, 3)"), "position 1: round() takes 1 or 2 arguments, got 3");
  EXPECT_EQ(Error("min(1)"), "position 1: min() takes at least 2 arguments, got 1");
  EXPECT_EQ(Error("now(1)"), "position 1: now() takes no arguments, got 1");
  EXPECT_EQ(Error("coalesce()"), "position 1: coalesce() takes at least 1 argument, got 0");
  EXPECT_EQ(Error("substring('a')"), "position 1: substring() takes 2 or 3 arguments, got 1");
}

TEST(ExpressionErrors, UnknownFunction) {
  EXPECT_EQ(Error("lenght(hcp_id)"),
            "position 1: unknown function \"lenght\"; did you mean length()?");
  EXPECT_THAT(Error("frobnicate(1)"),
              StartsWith("position 1: unknown function \"frobnicate\" (functions: abs, ceil,"));
}

TEST(ExpressionErrors, ArgumentTypes) {
  EXPECT_EQ(Error("abs(hcp_id)"),
            "position 5: abs() argument 1 must be a number (int64 or float64), got string; "
            "convert the text with toNumber()");
  EXPECT_THAT(Error("if(npi, 1, 2)"),
              StartsWith("position 4: if() argument 1 must be a true/false condition, got int64"));
  EXPECT_THAT(Error("if(active, 1, 'x')"),
              StartsWith("position 15: if() arguments must have one type, but argument 3 is "
                         "string and an earlier one is int64"));
  EXPECT_THAT(Error("coalesce(npi, visit)"),
              StartsWith("position 15: coalesce() arguments must have one type"));
  EXPECT_THAT(Error("length(npi)"),
              StartsWith("position 8: length() argument 1 must be text, got int64; convert it "
                         "with toString()"));
  EXPECT_THAT(Error("contains(hcp_id, 1)"), StartsWith("position 18: contains() argument 2"));
  EXPECT_THAT(Error("substring(hcp_id, 1.5)"),
              StartsWith("position 19: substring() argument 2 must be a whole number (int64)"));
  EXPECT_THAT(Error("round(price, 1.5)"), StartsWith("position 14: round() argument 2"));
  EXPECT_THAT(Error("year(npi)"),
              StartsWith("position 6: year() argument 1 must be a date or timestamp, got int64"));
  EXPECT_THAT(Error("year(hcp_id)"), HasSubstr("convert the text with date() or timestamp()"));
  EXPECT_THAT(Error("toNumber(visit)"),
              StartsWith("position 10: toNumber() argument 1 must be text, a number or a bool"));
  EXPECT_THAT(Error("date(npi)"), StartsWith("position 6: date() argument 1 must be text"));
  EXPECT_THAT(Error("dateAdd(visit, 1.5, 'days')"),
              StartsWith("position 16: dateAdd() argument 2 must be a whole number"));
  EXPECT_THAT(Error("pow(2, 'x')"), StartsWith("position 8: pow() argument 2 must be a number"));
  // Argument positions point at the start of the argument expression.
  EXPECT_THAT(Error("abs(hcp_id + 'x')"), StartsWith("position 5: abs() argument 1"));
}

TEST(ExpressionErrors, DatesAndUnits) {
  EXPECT_EQ(Error("date(\"2024-13-01\")"),
            "position 6: \"2024-13-01\" is not a valid date; write YYYY-MM-DD");
  EXPECT_THAT(Error("timestamp('noon')"),
              StartsWith("position 11: \"noon\" is not a valid timestamp"));
  EXPECT_THAT(Error("dateDiff(visit, visit, 'fortnights')"),
              StartsWith("position 24: dateDiff() argument 3 must be a unit in quotes: \"days\""));
  EXPECT_THAT(Error("dateAdd(visit, 1, npi)"), StartsWith("position 19: dateAdd() argument 3"));
  EXPECT_THAT(Error("dateDiff(visit, 'yesterday', 'days')"),
              StartsWith("position 17: \"yesterday\" is not a date or timestamp"));
}

TEST(ExpressionErrors, SyntaxErrors) {
  EXPECT_EQ(Error(""), "position 1: empty expression; write a formula such as price * quantity");
  EXPECT_EQ(Error("   "), "position 1: empty expression; write a formula such as price * quantity");
  EXPECT_EQ(Error("concat(\"a\", \"b)"),
            "position 13: unterminated string literal; add the closing \"");
  EXPECT_EQ(Error("upper('abc"), "position 7: unterminated string literal; add the closing '");
  EXPECT_THAT(Error("`years in practice"), StartsWith("position 1: unterminated column name"));
  EXPECT_THAT(Error("``"), StartsWith("position 1: empty column name"));
  EXPECT_THAT(Error("npi +"), StartsWith("position 6: expression ends early; expected a value"));
  EXPECT_THAT(Error("npi + * 2"), StartsWith("position 7: unexpected \"*\"; expected a value"));
  EXPECT_THAT(Error("(npi + 1"), StartsWith("position 9: expected \")\" to close the \"(\" at "
                                            "position 1, found end of expression"));
  EXPECT_THAT(Error("npi + 1)"), StartsWith("position 8: unmatched \")\""));
  EXPECT_THAT(Error("npi 1"),
              StartsWith("position 5: unexpected \"1\" after a complete expression; is an "
                         "operator or comma missing?"));
  EXPECT_THAT(Error("'it''s'"), StartsWith("position 5: unexpected \"'s'\""));
  EXPECT_THAT(Error("abs(1 2)"),
              StartsWith("position 7: expected \",\" or \")\" in the arguments of abs(), found "
                         "\"2\""));
  EXPECT_THAT(Error("abs(1,)"), StartsWith("position 7: unexpected \")\"; expected a value"));
  EXPECT_THAT(Error("npi # 2"), StartsWith("position 5: unexpected character \"#\""));
  EXPECT_THAT(Error("active & active"), StartsWith("position 8: unexpected \"&\"; write \"and\""));
  EXPECT_THAT(Error("active | active"), StartsWith("position 8: unexpected \"|\"; write \"or\""));
  EXPECT_THAT(Error("2x"), StartsWith("position 1: invalid number \"2x\""));
  EXPECT_THAT(Error("1.2.3"), StartsWith("position 1: invalid number \"1.2.3\""));
  EXPECT_THAT(Error("99999999999999999999"),
              StartsWith("position 1: integer 99999999999999999999 does not fit in int64"));
  EXPECT_THAT(Error("1e999"), StartsWith("position 1: number 1e999 is out of the float64 range"));
  EXPECT_THAT(Error("'a\\q'"), StartsWith("position 3: unknown escape in string literal"));
  EXPECT_THAT(Error("npi $"), StartsWith("position 5: unexpected character \"$\""));
  EXPECT_THAT(Error("npi \x01"), StartsWith("position 5: unexpected character \"\\x01\""));
}

TEST(ExpressionErrors, PositionsCountCharactersNotBytes) {
  // "é" is two bytes in UTF-8 but one character.
  EXPECT_THAT(Error("'é' - 1"), StartsWith("position 5: cannot apply \"-\""));
  EXPECT_THAT(Error("'日本' + nope"), StartsWith("position 8: unknown column \"nope\""));
}

TEST(ExpressionErrors, DeepNestingIsRejectedNotCrashing) {
  std::string deep(100000, '(');
  EXPECT_THAT(Error(deep + "1"), HasSubstr("nested too deeply"));
  std::string chain = "1";
  for (int i = 0; i < 100000; ++i) chain += "+1";
  EXPECT_THAT(Error(chain), HasSubstr("nested too deeply"));
  std::string nots(100000, '!');
  EXPECT_THAT(Error(nots + "true"), HasSubstr("nested too deeply"));
  std::string calls;
  for (int i = 0; i < 5000; ++i) calls += "abs(";
  EXPECT_THAT(Error(calls + "1"), HasSubstr("nested too deeply"));
  // 100 levels are fine.
  std::string ok = std::string(100, '(') + "1" + std::string(100, ')');
  EXPECT_EQ(Error(ok), "");
}

TEST(ExpressionErrors, KeywordsCanBeColumnsInBackticks) {
  const table::Schema schema({{"and", DataType::kBool}, {"null", DataType::kInt64}});
  EXPECT_EQ(CompileError("`and` and true", schema), "");
  EXPECT_EQ(CompileError("`null` + 1", schema), "");
  const table::Table input = MakeTable({{"and", Bools({true})}, {"null", Ints({4})}});
  auto result = CompileAndEvaluate("`null` + 1", input);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->int64_values()[0], 5);
}

}  // namespace
}  // namespace assay::expr
