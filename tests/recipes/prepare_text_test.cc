// Prepare processors over text and dates.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipes/prepare.h"
#include "tests/recipes/prepare_test_tables.h"

namespace assay::recipes {
namespace {

using namespace ::assay::recipes::testing;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;
using table::DataType;

std::string ParseError(const json& step) {
  auto spec = ParsePrepareSpec(json{{"steps", json::array({step})}});
  EXPECT_FALSE(spec.ok()) << step.dump();
  return spec.ok() ? "" : std::string(spec.status().message());
}

// ---- find_replace -----------------------------------------------------------------------------

TEST(PrepareFindReplace, LiteralAndRegex) {
  const auto input = MakeTable({{"s", Strings({"a.b.c", "none", std::nullopt, "2024-03-01"})}});
  auto literal = RunSteps(R"j([{"type": "find_replace", "columns": ["s"], "find": ".",
                          "replace": "::"}])j"_json,
                          input);
  ASSERT_TRUE(literal.ok()) << literal.status();
  EXPECT_THAT(Cells(literal->output, "s"), ElementsAre("a::b::c", "none", "null", "2024-03-01"));
  EXPECT_EQ(literal->log[0].cells_changed, 1);
  const auto regex = RunOk(R"j({"type": "find_replace", "columns": ["s"], "mode": "regex",
                               "find": "(\\d+)-(\\d+)-(\\d+)", "replace": "\\3/\\2/\\1"})j"_json,
                           input);
  EXPECT_THAT(Cells(regex, "s"), ElementsAre("a.b.c", "none", "null", "01/03/2024"));
  // Empty matches behave like RE2::GlobalReplace, stepping over whole UTF-8 characters.
  const auto accents = MakeTable({{"s", Strings({"é", ""})}});
  EXPECT_THAT(Cells(RunOk(R"j({"type": "find_replace", "columns": ["s"], "mode": "regex",
                              "find": "x*", "replace": "-"})j"_json,
                          accents),
                    "s"),
              ElementsAre("-é-", "-"));
  EXPECT_THAT(ParseError(R"j({"type": "find_replace", "columns": ["s"], "mode": "regex",
                             "find": "(a", "replace": ""})j"_json),
              HasSubstr("steps[0].find: invalid regular expression \"(a\""));
  EXPECT_THAT(ParseError(R"j({"type": "find_replace", "columns": ["s"], "mode": "regex",
                             "find": "(a)", "replace": "\\2"})j"_json),
              HasSubstr("steps[0].replace: invalid replacement"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "find_replace", "columns": ["n"], "find": "1",
                           "replace": "2"}])j"_json,
                      MakeTable({{"n", Ints({1})}})),
              HasSubstr("expected string; cast it to string first"));
}

// ---- string_transform -------------------------------------------------------------------------

TEST(PrepareStringTransform, UnicodeAware) {
  const auto input = MakeTable(
      {{"s", Strings({"  Crème\u00A0Brûlée \t", "ÉCOLE", "İstanbul", std::nullopt, "한국어"})}});
  auto result = RunSteps(R"j([{"type": "string_transform", "columns": ["s"],
                         "operations": ["normalize_whitespace", "strip_accents", "lower"]}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "s"),
              ElementsAre("creme brulee", "ecole", "istanbul", "null", "한국어"));
  EXPECT_EQ(result->log[0].cells_changed, 3);
  EXPECT_THAT(Cells(RunOk(R"j({"type": "string_transform", "columns": ["s"],
                              "operations": ["trim", "upper"]})j"_json,
                          input),
                    "s"),
              ElementsAre("CRÈME\u00A0BRÛLÉE", "ÉCOLE", "İSTANBUL", "null", "한국어"));
  EXPECT_THAT(ParseError(R"j({"type": "string_transform", "columns": ["s"],
                             "operations": ["title"]})j"_json),
              HasSubstr("unknown operation \"title\""));
}

// ---- extract ----------------------------------------------------------------------------------

TEST(PrepareExtract, GroupsToColumns) {
  const auto input = MakeTable({{"code", Strings({"AB-12", "x", std::nullopt, "CD-"})}});
  const auto out = RunOk(R"j({"type": "extract", "column": "code",
                             "pattern": "([A-Z]+)-(\\d+)?"})j"_json,
                         input);
  EXPECT_THAT(Names(out), ElementsAre("code", "code_1", "code_2"));
  EXPECT_THAT(Cells(out, "code_1"), ElementsAre("AB", "null", "null", "CD"));
  EXPECT_THAT(Cells(out, "code_2"), ElementsAre("12", "null", "null", "null"));
  const auto named = RunOk(R"j({"type": "extract", "column": "code",
                               "pattern": "(?P<letters>[A-Z]+)"})j"_json,
                           input);
  EXPECT_THAT(Names(named), ElementsAre("code", "letters"));
  const auto into = RunOk(R"j({"type": "extract", "column": "code", "pattern": "(\\d+)",
                              "into": ["code"]})j"_json,
                          input);
  EXPECT_THAT(Cells(into, "code"), ElementsAre("12", "null", "null", "null"));
  EXPECT_THAT(ParseError(R"j({"type": "extract", "column": "c", "pattern": "a+"})j"_json),
              HasSubstr("has no capture group"));
  EXPECT_THAT(ParseError(R"j({"type": "extract", "column": "c", "pattern": "(a)(b)",
                             "into": ["x"]})j"_json),
              HasSubstr("expected 2 names"));
}

// ---- split ------------------------------------------------------------------------------------

TEST(PrepareSplit, NamedAndNumberedParts) {
  const auto input = MakeTable({{"v", Strings({"a,b,c", "a", std::nullopt, "a,b"})}});
  const auto numbered = RunOk(R"j({"type": "split", "column": "v", "delimiter": ",",
                                  "parts": 2})j"_json,
                              input);
  EXPECT_THAT(Names(numbered), ElementsAre("v", "v_1", "v_2"));
  EXPECT_THAT(Cells(numbered, "v_1"), ElementsAre("a", "a", "null", "a"));
  // The last column keeps the rest; missing parts are null.
  EXPECT_THAT(Cells(numbered, "v_2"), ElementsAre("b,c", "null", "null", "b"));
  const auto named = RunOk(R"j({"type": "split", "column": "v", "delimiter": ",",
                               "into": ["x", "y", "z", "w"], "drop_source": true})j"_json,
                           input);
  EXPECT_THAT(Names(named), ElementsAre("x", "y", "z", "w"));
  EXPECT_THAT(Cells(named, "z"), ElementsAre("c", "null", "null", "null"));
  EXPECT_THAT(Cells(named, "w"), ElementsAre("null", "null", "null", "null"));
  EXPECT_THAT(ParseError(R"j({"type": "split", "column": "v", "delimiter": ","})j"_json),
              HasSubstr("set exactly one of into"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "split", "column": "v", "delimiter": ",",
                           "into": ["v", "w"]}])j"_json,
                      input),
              HasSubstr("is the split column"));
}

// ---- concat -----------------------------------------------------------------------------------

TEST(PrepareConcat, SeparatorAndNulls) {
  const auto input = MakeTable(
      {{"a", Strings({"x", std::nullopt, std::nullopt})}, {"n", Ints({1, 2, std::nullopt})}});
  const auto out = RunOk(R"j({"type": "concat", "columns": ["a", "n"], "into": "key",
                             "separator": "-"})j"_json,
                         input);
  EXPECT_THAT(Cells(out, "key"), ElementsAre("x-1", "2", "null"));
  const auto strict = RunOk(R"j({"type": "concat", "columns": ["a", "n"], "into": "key",
                                "skip_nulls": false})j"_json,
                            input);
  EXPECT_THAT(Cells(strict, "key"), ElementsAre("x1", "null", "null"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "concat", "columns": ["a", "q"], "into": "k"}])j"_json, input),
              HasSubstr("column \"q\" (columns) not found"));
}

// ---- parse_dates ------------------------------------------------------------------------------

TEST(PrepareParseDates, FormatsInOrder) {
  const auto input = MakeTable({{"d", Strings({"31/03/2024", "2024-02-29", " 1 Mar 99 ",
                                               "March 5, 2024", "2024-060", std::nullopt})}});
  auto result = RunSteps(R"j([{"type": "parse_dates", "column": "d", "on_error": "fail",
                         "formats": ["%d/%m/%Y", "%Y-%m-%d", "%d %b %y", "%B %d, %Y",
                                     "%Y-%j"]}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output.schema().field(0).type, DataType::kDate);
  EXPECT_THAT(Cells(result->output, "d"), ElementsAre("2024-03-31", "2024-02-29", "1999-03-01",
                                                      "2024-03-05", "2024-02-29", "null"));
  EXPECT_THAT(result->log[0].detail, HasSubstr("\"%d/%m/%Y\": 1"));
}

TEST(PrepareParseDates, TimestampsWithZonesAndTwelveHourClock) {
  const auto input = MakeTable({{"t", Strings({"2024-03-01 14:05:09.5", "03/01/2024 2:05 PM",
                                               "2024-03-01T23:30:00+02:00", "20240301"})}});
  const auto out = RunOk(R"j({"type": "parse_dates", "column": "t", "to": "timestamp",
                             "into": "ts", "on_error": "null",
                             "formats": ["%Y-%m-%d %H:%M:%S.%f", "%m/%d/%Y %I:%M %p",
                                         "%Y-%m-%dT%T%z", "%Y%m%d"]})j"_json,
                         input);
  EXPECT_THAT(Cells(out, "ts"), ElementsAre("2024-03-01T14:05:09.500000Z", "2024-03-01T14:05:00Z",
                                            "2024-03-01T21:30:00Z", "2024-03-01T00:00:00Z"));
  EXPECT_EQ(out.schema().field(0).type, DataType::kString);  // the source stays
}

TEST(PrepareParseDates, FailAndNullPolicies) {
  const auto input = MakeTable({{"d", Strings({"2024-01-01", "2024-02-30", "soon"})}});
  EXPECT_EQ(ErrorOf(R"j([{"type": "parse_dates", "column": "d", "formats": ["%Y-%m-%d"],
                         "on_error": "fail"}])j"_json,
                    input),
            "prepare step 1 (parse_dates): column \"d\", row 2: \"2024-02-30\" matches none of "
            "the formats; add a format or set on_error to \"null\" (counted in the run log)");
  auto result = RunSteps(R"j([{"type": "parse_dates", "column": "d", "formats": ["%Y-%m-%d"],
                         "on_error": "null"}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "d"), ElementsAre("2024-01-01", "null", "null"));
  EXPECT_EQ(result->log[0].conversion_failures, 2);
  EXPECT_THAT(ParseError(R"j({"type": "parse_dates", "column": "d", "formats": ["%Q"],
                             "on_error": "null"})j"_json),
              HasSubstr("unsupported directive %Q"));
  EXPECT_THAT(ParseError(R"j({"type": "parse_dates", "column": "d", "formats": ["%Y"]})j"_json),
              HasSubstr("steps[0].on_error: missing required key"));
}

// ---- date_parts / date_diff -------------------------------------------------------------------

TEST(PrepareDateParts, IsoWeekAndWeekday) {
  const auto input = MakeTable(
      {{"d", Col(DataType::kDate, {"2021-01-03", "2024-12-30", "2024-05-15", std::nullopt})},
       {"t", Col(DataType::kTimestamp, {"2024-01-01T13:45:30Z", "1969-12-31T23:59:59Z",
                                        "2024-01-01T00:00:00Z", std::nullopt})}});
  const auto out = RunOk(R"j({"type": "date_parts", "column": "d",
                             "parts": ["year", "quarter", "month", "day", "weekday", "week",
                                       "day_of_year"]})j"_json,
                         input);
  EXPECT_THAT(Cells(out, "d_week"), ElementsAre("53", "1", "20", "null"));  // ISO 8601
  EXPECT_THAT(Cells(out, "d_weekday"), ElementsAre("7", "1", "3", "null"));
  EXPECT_THAT(Cells(out, "d_quarter"), ElementsAre("1", "4", "2", "null"));
  EXPECT_THAT(Cells(out, "d_day_of_year"), ElementsAre("3", "365", "136", "null"));
  const auto times = RunOk(R"j({"type": "date_parts", "column": "t", "prefix": "",
                               "parts": ["hour", "minute", "second", "year"]})j"_json,
                           input);
  EXPECT_THAT(Cells(times, "hour"), ElementsAre("13", "23", "0", "null"));
  EXPECT_THAT(Cells(times, "second"), ElementsAre("30", "59", "0", "null"));
  EXPECT_THAT(Cells(times, "year"), ElementsAre("2024", "1969", "2024", "null"));
  EXPECT_THAT(
      ErrorOf(R"j([{"type": "date_parts", "column": "d", "parts": ["hour"]}])j"_json, input),
      HasSubstr("needs a timestamp column"));
}

TEST(PrepareDateDiff, CompleteUnitsTruncatedTowardZero) {
  const auto input = MakeTable(
      {{"start", Col(DataType::kDate, {"2024-01-31", "2000-02-29", "2024-03-10", std::nullopt})},
       {"end", Col(DataType::kTimestamp, {"2024-02-29T12:00:00Z", "2024-02-28T00:00:00Z",
                                          "2024-03-01T00:00:00Z", "2024-01-01T00:00:00Z"})}});
  auto run = [&](const std::string& unit) {
    return Cells(RunOk(json{{"type", "date_diff"},
                            {"start", "start"},
                            {"end", "end"},
                            {"unit", unit},
                            {"into", "diff"}},
                       input),
                 "diff");
  };
  EXPECT_THAT(run("days"), ElementsAre("29", "8765", "-9", "null"));
  EXPECT_THAT(run("hours"), ElementsAre("708", "210360", "-216", "null"));
  EXPECT_THAT(run("months"), ElementsAre("0", "287", "0", "null"));
  EXPECT_THAT(run("years"), ElementsAre("0", "23", "0", "null"));
  EXPECT_THAT(run("weeks"), ElementsAre("4", "1252", "-1", "null"));
  EXPECT_THAT(ErrorOf(R"j([{"type": "date_diff", "start": "start", "end": "nope",
                           "unit": "days", "into": "x"}])j"_json,
                      input),
              HasSubstr("column \"nope\" (end) not found"));
}

}  // namespace
}  // namespace assay::recipes
