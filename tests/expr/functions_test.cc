// The function library: math, string and date functions, with nulls and edge cases.
#include <string>
#include <vector>

#include "expr/expression.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/expr/expr_test_util.h"

namespace assay::expr {
namespace {

using table::DataType;
using ::testing::Each;
using ::testing::ElementsAre;
using namespace assay::expr::testing;  // NOLINT(build/namespaces)

table::Table Sample() {
  return MakeTable({
      {"i", Ints({-3, 0, kNull, 125})},
      {"f", Floats({-2.5, 0.0, kNull, 1.2345})},
      {"s", Strings({"  Hello World ", "", kNull, "Ärzte-ÉCOLE"})},
      {"d", Dates({"2024-01-31", "2023-12-25", kNull, "2024-02-29"})},
      {"e", Dates({"2024-03-01", "2024-12-25", "2024-01-01", "2025-02-28"})},
      {"t", Timestamps(
                {"2024-01-31T13:45:10Z", "1969-12-31T23:00:00Z", kNull, "2024-02-29T23:59:59.5Z"})},
      {"n", Ints({1, -1, 2, kNull})},
      {"num", Strings({"42", " 3.5 ", "abc", "+1e3"})},
  });
}

std::vector<std::string> Eval(std::string_view source, const EvalOptions& options = {}) {
  return RenderOrError(source, Sample(), options);
}

DataType TypeOf(std::string_view source) { return ResultTypeOf(source, Sample().schema()); }

TEST(Functions, NamesAreCaseInsensitive) {
  EXPECT_THAT(Eval("ABS(i)"), ElementsAre("3", "0", "null", "125"));
  EXPECT_THAT(Eval("StartsWith(s, 'x')"), Eval("startswith(s, 'x')"));
}

TEST(Functions, Abs) {
  EXPECT_THAT(Eval("abs(i)"), ElementsAre("3", "0", "null", "125"));
  EXPECT_THAT(Eval("abs(f)"), ElementsAre("2.5", "0.0", "null", "1.2345"));
  EXPECT_THAT(Eval("abs(-9223372036854775808)"), Each("null"));
  EXPECT_THAT(Eval("abs(null)"), Each("null"));
  EXPECT_EQ(TypeOf("abs(i)"), DataType::kInt64);
}

TEST(Functions, Round) {
  EXPECT_THAT(Eval("round(f)"), ElementsAre("-3.0", "0.0", "null", "1.0"));  // half away from 0
  EXPECT_THAT(Eval("round(f, 2)"), ElementsAre("-2.5", "0.0", "null", "1.23"));
  EXPECT_THAT(Eval("round(2.5)"), Each("3.0"));
  EXPECT_THAT(Eval("round(0.125, 2)"), Each("0.13"));
  EXPECT_THAT(Eval("round(1234.5678, -2)"), Each("1200.0"));
  EXPECT_THAT(Eval("round(i, -1)"), ElementsAre("0", "0", "null", "130"));
  EXPECT_THAT(Eval("round(i)"), ElementsAre("-3", "0", "null", "125"));
  EXPECT_THAT(Eval("round(i, 2)"), ElementsAre("-3", "0", "null", "125"));
  EXPECT_THAT(Eval("round(-15, -1)"), Each("-20"));
  EXPECT_THAT(Eval("round(9223372036854775807, -1)"), Each("null"));  // overflows
  EXPECT_THAT(Eval("round(9223372036854775807, -30)"), Each("0"));
  EXPECT_THAT(Eval("round(1.5, 400)"), Each("1.5"));
  EXPECT_THAT(Eval("round(1.5, -400)"), Each("0.0"));
  EXPECT_THAT(Eval("round(f, n)"), ElementsAre("-2.5", "0.0", "null", "null"));
  EXPECT_THAT(Eval("round(1e308, -308)"), Each("1e+308"));
  EXPECT_THAT(Eval("round(1.7e308, -308)"), Each("null"));  // 2e308 is not a finite double
  EXPECT_EQ(TypeOf("round(i)"), DataType::kInt64);
  EXPECT_EQ(TypeOf("round(f, 1)"), DataType::kFloat64);
  EXPECT_EQ(TypeOf("round(null)"), DataType::kFloat64);
}

TEST(Functions, FloorAndCeil) {
  EXPECT_THAT(Eval("floor(f)"), ElementsAre("-3.0", "0.0", "null", "1.0"));
  EXPECT_THAT(Eval("ceil(f)"), ElementsAre("-2.0", "0.0", "null", "2.0"));
  EXPECT_THAT(Eval("floor(i)"), ElementsAre("-3", "0", "null", "125"));
  EXPECT_THAT(Eval("ceil(i)"), ElementsAre("-3", "0", "null", "125"));
  EXPECT_EQ(TypeOf("floor(i)"), DataType::kInt64);
}

TEST(Functions, LogExpSqrtPow) {
  EXPECT_THAT(Eval("log(i)"), ElementsAre("null", "null", "null", "4.8283137373023015"));
  EXPECT_THAT(Eval("log(i, 5)"), ElementsAre("null", "null", "null", "3.0000000000000004"));
  EXPECT_THAT(Eval("log(8, 1)"), Each("null"));
  EXPECT_THAT(Eval("log(8, -2)"), Each("null"));
  EXPECT_THAT(Eval("exp(0)"), Each("1.0"));
  EXPECT_THAT(Eval("exp(f)"),
              ElementsAre("0.0820849986238988", "1.0", "null", "3.436659761170463"));
  EXPECT_THAT(Eval("exp(1000)"), Each("inf"));
  EXPECT_THAT(Eval("sqrt(i)"), ElementsAre("null", "0.0", "null", "11.180339887498949"));
  EXPECT_THAT(Eval("pow(2, 10)"), Each("1024.0"));
  EXPECT_THAT(Eval("pow(i, 2)"), ElementsAre("9.0", "0.0", "null", "15625.0"));
  EXPECT_THAT(Eval("pow(-8, 1.0 / 3)"), Each("null"));
  EXPECT_THAT(Eval("pow(0, -1)"), Each("null"));
  EXPECT_THAT(Eval("pow(f, null)"), Each("null"));
  EXPECT_EQ(TypeOf("sqrt(4)"), DataType::kFloat64);
}

TEST(Functions, MinMax) {
  EXPECT_THAT(Eval("min(i, n)"), ElementsAre("-3", "-1", "null", "null"));
  EXPECT_THAT(Eval("max(i, n, 0)"), ElementsAre("1", "0", "null", "null"));
  EXPECT_THAT(Eval("max(i, f)"), ElementsAre("-2.5", "0.0", "null", "125.0"));
  EXPECT_THAT(Eval("min(s, 'B')"), ElementsAre("  Hello World ", "", "null", "B"));
  EXPECT_THAT(Eval("max(d, e)"), ElementsAre("2024-03-01", "2024-12-25", "null", "2025-02-28"));
  EXPECT_THAT(Eval("min(d, t)"), ElementsAre("2024-01-31T00:00:00Z", "1969-12-31T23:00:00Z", "null",
                                             "2024-02-29T00:00:00Z"));
  EXPECT_THAT(Eval("max(1, 2, 3)"), Each("3"));
  EXPECT_THAT(Eval("max(true, false)"), Each("true"));
  EXPECT_EQ(TypeOf("max(i, f)"), DataType::kFloat64);
}

TEST(Functions, LengthCountsCodePoints) {
  EXPECT_THAT(Eval("length(s)"), ElementsAre("14", "0", "null", "11"));
  EXPECT_THAT(Eval("length('日本語')"), Each("3"));
}

TEST(Functions, LowerUpperAreUnicodeAware) {
  EXPECT_THAT(Eval("lower(s)"), ElementsAre("  hello world ", "", "null", "ärzte-école"));
  EXPECT_THAT(Eval("upper(s)"), ElementsAre("  HELLO WORLD ", "", "null", "ÄRZTE-ÉCOLE"));
  EXPECT_THAT(Eval("upper('σας ω')"), Each("ΣΑΣ Ω"));
  EXPECT_THAT(Eval("lower('ΑΒΓ')"), Each("αβγ"));
  // Invalid UTF-8 passes through unchanged.
  EXPECT_THAT(Eval("upper('a\xff' + 'b')"), Each("A\xff"
                                                 "B"));
}

TEST(Functions, Trim) {
  EXPECT_THAT(Eval("trim(s)"), ElementsAre("Hello World", "", "null", "Ärzte-ÉCOLE"));
  EXPECT_THAT(Eval("trim('\\t x \\n')"), Each("x"));
  EXPECT_THAT(Eval("trim('   ')"), Each(""));
}

TEST(Functions, ContainsStartsWithEndsWith) {
  EXPECT_THAT(Eval("contains(s, 'World')"), ElementsAre("true", "false", "null", "false"));
  EXPECT_THAT(Eval("contains(s, '')"), ElementsAre("true", "true", "null", "true"));
  EXPECT_THAT(Eval("contains(s, 'world')"), ElementsAre("false", "false", "null", "false"));
  EXPECT_THAT(Eval("startsWith(s, '  He')"), ElementsAre("true", "false", "null", "false"));
  EXPECT_THAT(Eval("startsWith(s, 'Ä')"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("endsWith(s, 'LE')"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("endsWith(s, null)"), Each("null"));
  EXPECT_THAT(Eval("contains(num, s)"), ElementsAre("false", "true", "null", "false"));
}

TEST(Functions, Substring) {
  EXPECT_THAT(Eval("substring(s, 3, 5)"), ElementsAre("Hello", "", "null", "zte-É"));
  EXPECT_THAT(Eval("substring(s, 7)"), ElementsAre("o World ", "", "null", "ÉCOLE"));
  EXPECT_THAT(Eval("substring('abcdef', 0, 2)"), Each("ab"));
  EXPECT_THAT(Eval("substring('abcdef', -2)"), Each("ef"));
  EXPECT_THAT(Eval("substring('abcdef', -10, 2)"), Each("ab"));
  EXPECT_THAT(Eval("substring('abcdef', 10)"), Each(""));
  EXPECT_THAT(Eval("substring('abcdef', 2, -1)"), Each(""));
  EXPECT_THAT(Eval("substring('abcdef', 2, 100)"), Each("bcdef"));
  EXPECT_THAT(Eval("substring('日本語', 2, 1)"), Each("本"));
  EXPECT_THAT(Eval("substring(s, n)"), ElementsAre("  Hello World ", "", "null", "null"));
}

TEST(Functions, Replace) {
  EXPECT_THAT(Eval("replace(s, 'o', '0')"),
              ElementsAre("  Hell0 W0rld ", "", "null", "Ärzte-ÉCOLE"));
  EXPECT_THAT(Eval("replace('aaa', 'aa', 'b')"), Each("ba"));
  EXPECT_THAT(Eval("replace('abc', '', 'x')"), Each("abc"));
  EXPECT_THAT(Eval("replace('a.b.c', '.', '')"), Each("abc"));
  EXPECT_THAT(Eval("replace(s, null, 'x')"), Each("null"));
}

TEST(Functions, ConcatRendersEveryArgumentAsText) {
  EXPECT_THAT(Eval("concat('ID-', i)"), ElementsAre("ID--3", "ID-0", "null", "ID-125"));
  EXPECT_THAT(Eval("concat(s)"), ElementsAre("  Hello World ", "", "null", "Ärzte-ÉCOLE"));
  EXPECT_THAT(
      Eval("concat(f, '|', d, '|', true)"),
      ElementsAre("-2.5|2024-01-31|true", "0.0|2023-12-25|true", "null", "1.2345|2024-02-29|true"));
  EXPECT_THAT(Eval("concat('a', null)"), Each("null"));
  EXPECT_EQ(TypeOf("concat(1, 2)"), DataType::kString);
}

TEST(Functions, ToString) {
  EXPECT_THAT(Eval("toString(i)"), ElementsAre("-3", "0", "null", "125"));
  EXPECT_THAT(Eval("toString(f)"), ElementsAre("-2.5", "0.0", "null", "1.2345"));
  EXPECT_THAT(Eval("toString(d)"), ElementsAre("2024-01-31", "2023-12-25", "null", "2024-02-29"));
  EXPECT_THAT(Eval("toString(t)"), ElementsAre("2024-01-31T13:45:10Z", "1969-12-31T23:00:00Z",
                                               "null", "2024-02-29T23:59:59.500000Z"));
  EXPECT_THAT(Eval("toString(i > 0)"), ElementsAre("false", "false", "null", "true"));
  EXPECT_THAT(Eval("toString(s)"), ElementsAre("  Hello World ", "", "null", "Ärzte-ÉCOLE"));
  EXPECT_THAT(Eval("toString(1e300 * 1e300)"), Each("inf"));
  EXPECT_THAT(Eval("toString(null)"), Each("null"));
}

TEST(Functions, ToNumber) {
  EXPECT_THAT(Eval("toNumber(num)"), ElementsAre("42.0", "3.5", "null", "1000.0"));
  EXPECT_THAT(Eval("toNumber(i)"), ElementsAre("-3.0", "0.0", "null", "125.0"));
  EXPECT_THAT(Eval("toNumber(f)"), ElementsAre("-2.5", "0.0", "null", "1.2345"));
  EXPECT_THAT(Eval("toNumber(i > 0)"), ElementsAre("0.0", "0.0", "null", "1.0"));
  EXPECT_THAT(Eval("toNumber('')"), Each("null"));
  EXPECT_THAT(Eval("toNumber('+-1')"), Each("null"));
  EXPECT_THAT(Eval("toNumber('1,5')"), Each("null"));
  EXPECT_THAT(Eval("toNumber('-0.25e2')"), Each("-25.0"));
  EXPECT_EQ(TypeOf("toNumber(num)"), DataType::kFloat64);
}

TEST(Functions, DateParts) {
  EXPECT_THAT(Eval("year(d)"), ElementsAre("2024", "2023", "null", "2024"));
  EXPECT_THAT(Eval("month(d)"), ElementsAre("1", "12", "null", "2"));
  EXPECT_THAT(Eval("day(d)"), ElementsAre("31", "25", "null", "29"));
  // ISO weekday: 2024-01-31 Wednesday, 2023-12-25 Monday, 2024-02-29 Thursday.
  EXPECT_THAT(Eval("weekday(d)"), ElementsAre("3", "1", "null", "4"));
  EXPECT_THAT(Eval("weekday(date('2024-03-03'))"), Each("7"));  // Sunday
  EXPECT_THAT(Eval("weekday(date('1969-12-29'))"), Each("1"));  // Monday before the epoch
  EXPECT_THAT(Eval("year(t)"), ElementsAre("2024", "1969", "null", "2024"));
  EXPECT_THAT(Eval("day(t)"), ElementsAre("31", "31", "null", "29"));
  EXPECT_THAT(Eval("weekday(t)"), ElementsAre("3", "3", "null", "4"));
  EXPECT_THAT(Eval("year('2020-05-06')"), Each("2020"));
  EXPECT_THAT(Eval("month(date('0001-01-01'))"), Each("1"));
}

TEST(Functions, DateDiff) {
  // e - d with e = [2024-03-01, 2024-12-25, 2024-01-01, 2025-02-28]
  EXPECT_THAT(Eval("dateDiff(e, d, 'days')"), ElementsAre("30", "366", "null", "365"));
  EXPECT_THAT(Eval("dateDiff(d, e, 'days')"), ElementsAre("-30", "-366", "null", "-365"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'weeks')"), ElementsAre("4", "52", "null", "52"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'months')"), ElementsAre("1", "12", "null", "11"));
  EXPECT_THAT(Eval("dateDiff(d, e, 'months')"), ElementsAre("-1", "-12", "null", "-11"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'years')"), ElementsAre("0", "1", "null", "0"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'hours')"), ElementsAre("720", "8784", "null", "8760"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'minutes')"), ElementsAre("43200", "527040", "null", "525600"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'seconds')"),
              ElementsAre("2592000", "31622400", "null", "31536000"));
  EXPECT_THAT(Eval("dateDiff(e, d, 'Day')"), Eval("dateDiff(e, d, 'DAYS')"));
  // Timestamps: whole units, truncated toward zero.
  EXPECT_THAT(Eval("dateDiff(t, date(t), 'hours')"), ElementsAre("13", "23", "null", "23"));
  EXPECT_THAT(Eval("dateDiff(date(t), t, 'hours')"), ElementsAre("-13", "-23", "null", "-23"));
  EXPECT_THAT(Eval("dateDiff(t, date(t), 'minutes')"), ElementsAre("825", "1380", "null", "1439"));
  EXPECT_THAT(Eval("dateDiff(t, date(t), 'seconds')"),
              ElementsAre("49510", "82800", "null", "86399"));
  EXPECT_THAT(Eval("dateDiff(t, date(t), 'days')"), ElementsAre("0", "0", "null", "0"));
  EXPECT_THAT(Eval("dateDiff(t, d, 'weeks')"), ElementsAre("0", "-2816", "null", "0"));
  EXPECT_THAT(Eval("dateDiff(timestamp('2024-03-31T10:00:00Z'), timestamp('2024-01-31T11:00:00Z'), "
                   "'months')"),
              Each("1"));  // the second month is not complete by one hour
  EXPECT_THAT(Eval("dateDiff(timestamp('2024-03-31T12:00:00Z'), timestamp('2024-01-31T11:00:00Z'), "
                   "'months')"),
              Each("2"));
  EXPECT_THAT(Eval("dateDiff('2024-02-29', '2020-02-29', 'years')"), Each("4"));
  EXPECT_THAT(Eval("dateDiff('2024-02-28', '2020-02-29', 'years')"), Each("3"));
}

TEST(Functions, DateAdd) {
  EXPECT_THAT(Eval("dateAdd(d, 1, 'days')"),
              ElementsAre("2024-02-01", "2023-12-26", "null", "2024-03-01"));
  EXPECT_THAT(Eval("dateAdd(d, -2, 'weeks')"),
              ElementsAre("2024-01-17", "2023-12-11", "null", "2024-02-15"));
  // Calendar months clamp the day to the end of the month.
  EXPECT_THAT(Eval("dateAdd(d, 1, 'months')"),
              ElementsAre("2024-02-29", "2024-01-25", "null", "2024-03-29"));
  EXPECT_THAT(Eval("dateAdd(d, 1, 'years')"),
              ElementsAre("2025-01-31", "2024-12-25", "null", "2025-02-28"));
  EXPECT_THAT(Eval("dateAdd(d, -13, 'months')"),
              ElementsAre("2022-12-31", "2022-11-25", "null", "2023-01-29"));
  EXPECT_THAT(Eval("dateAdd(d, n, 'days')"),
              ElementsAre("2024-02-01", "2023-12-24", "null", "null"));
  // Sub-day units turn a date into a timestamp.
  EXPECT_EQ(TypeOf("dateAdd(d, 1, 'hours')"), DataType::kTimestamp);
  EXPECT_EQ(TypeOf("dateAdd(d, 1, 'days')"), DataType::kDate);
  EXPECT_THAT(
      Eval("dateAdd(d, 90, 'minutes')"),
      ElementsAre("2024-01-31T01:30:00Z", "2023-12-25T01:30:00Z", "null", "2024-02-29T01:30:00Z"));
  EXPECT_THAT(Eval("dateAdd(t, 30, 'seconds')"),
              ElementsAre("2024-01-31T13:45:40Z", "1969-12-31T23:00:30Z", "null",
                          "2024-03-01T00:00:29.500000Z"));
  EXPECT_THAT(Eval("dateAdd(t, 1, 'months')"),
              ElementsAre("2024-02-29T13:45:10Z", "1970-01-31T23:00:00Z", "null",
                          "2024-03-29T23:59:59.500000Z"));
  EXPECT_THAT(Eval("dateAdd(t, 1, 'days')"),
              ElementsAre("2024-02-01T13:45:10Z", "1970-01-01T23:00:00Z", "null",
                          "2024-03-01T23:59:59.500000Z"));
  // Results out of range are null, not errors.
  EXPECT_THAT(Eval("dateAdd(d, 9223372036854775807, 'days')"),
              ElementsAre("null", "null", "null", "null"));
  EXPECT_THAT(Eval("dateAdd(d, 9223372036854775807, 'years')"), Each("null"));
  EXPECT_THAT(Eval("dateAdd(t, 9223372036854775807, 'seconds')"), Each("null"));
  EXPECT_THAT(Eval("dateAdd(t, 9223372036854775807, 'months')"), Each("null"));
}

TEST(Functions, NowIsTheBuildStart) {
  EvalOptions options;
  options.now_micros = 1'709'294'400'000'000;  // 2024-03-01T12:00:00Z
  EXPECT_THAT(Eval("now()", options), Each("2024-03-01T12:00:00Z"));
  EXPECT_THAT(Eval("dateDiff(now(), d, 'days')", options), ElementsAre("30", "67", "null", "1"));
  EXPECT_THAT(Eval("d < now()", options), ElementsAre("true", "true", "null", "true"));
  EXPECT_EQ(TypeOf("now()"), DataType::kTimestamp);
}

TEST(Functions, DateAndTimestampConversions) {
  EXPECT_THAT(Eval("date(t)"), ElementsAre("2024-01-31", "1969-12-31", "null", "2024-02-29"));
  EXPECT_THAT(Eval("timestamp(d)"), ElementsAre("2024-01-31T00:00:00Z", "2023-12-25T00:00:00Z",
                                                "null", "2024-02-29T00:00:00Z"));
  EXPECT_THAT(Eval("date(d)"), ElementsAre("2024-01-31", "2023-12-25", "null", "2024-02-29"));
  EXPECT_THAT(Eval("timestamp(t)"), Eval("t"));
  // Text columns parse per row; what does not parse is null.
  const table::Table text =
      MakeTable({{"x", Strings({"2024-05-06", "2024-05-06T07:08:09+02:00", "May 6", kNull})}});
  auto dates = CompileAndEvaluate("date(x)", text);
  ASSERT_TRUE(dates.ok()) << dates.status();
  EXPECT_THAT(Render(*dates), ElementsAre("2024-05-06", "2024-05-06", "null", "null"));
  auto stamps = CompileAndEvaluate("timestamp(x)", text);
  ASSERT_TRUE(stamps.ok()) << stamps.status();
  EXPECT_THAT(Render(*stamps),
              ElementsAre("2024-05-06T00:00:00Z", "2024-05-06T05:08:09Z", "null", "null"));
}

TEST(Functions, ExtremeDatesAreNullNotUndefined) {
  const table::Table extreme =
      MakeTable({{"d", *table::Column::FromDates({2'147'483'647, -2'147'483'647 - 1})},
                 {"t", *table::Column::FromTimestamps(
                           {9'223'372'036'854'775'807LL, -9'223'372'036'854'775'807LL - 1})}});
  for (const char* source :
       {"year(d)", "month(d)", "weekday(d)", "dateAdd(d, 1, 'months')", "dateAdd(d, 1, 'days')",
        "dateDiff(d, d, 'months')", "toString(d)", "year(t)", "dateAdd(t, 1, 'months')",
        "dateAdd(t, 1, 'seconds')", "dateDiff(t, t, 'months')", "toString(t)"}) {
    const std::string formula = source;
    auto result = CompileAndEvaluate(formula, extreme);
    ASSERT_TRUE(result.ok()) << formula << ": " << result.status();
    EXPECT_EQ(result->size(), 2) << formula;
  }
  // A date beyond the int64 microsecond range has no timestamp.
  for (const char* source : {"timestamp(d)", "if(d = t, 1, 2)", "dateAdd(d, 1, 'hours')"}) {
    auto result = CompileAndEvaluate(source, extreme);
    ASSERT_TRUE(result.ok()) << source << ": " << result.status();
    EXPECT_EQ(result->null_count(), source[0] == 'i' ? 0 : 2) << source;
  }
  auto diff = CompileAndEvaluate("dateDiff(t, timestamp('1970-01-01'), 'seconds')", extreme);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(Render(*diff), ElementsAre("9223372036854", "-9223372036854"));
  auto overflow = CompileAndEvaluate("dateDiff(t, dateAdd(t, -1, 'seconds'), 'seconds')", extreme);
  ASSERT_TRUE(overflow.ok());
  EXPECT_THAT(Render(*overflow), ElementsAre("1", "null"));
}

}  // namespace
}  // namespace assay::expr
