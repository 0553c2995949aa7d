#include "quality/quality_rules.h"

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::quality {
namespace {

using json = nlohmann::json;
using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Table;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Table helpers: nullopt is a null.

Column Ints(const std::vector<std::optional<int64_t>>& values) {
  ColumnBuilder builder(DataType::kInt64);
  for (const auto& value : values) value ? builder.AppendInt64(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Floats(const std::vector<std::optional<double>>& values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) value ? builder.AppendFloat64(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Strings(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Bools(const std::vector<std::optional<bool>>& values) {
  ColumnBuilder builder(DataType::kBool);
  for (const auto& value : values) value ? builder.AppendBool(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Dates(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kDate);
  for (const auto& value : values) {
    value ? builder.AppendDate(*common::ParseIsoDate(*value)) : builder.AppendNull();
  }
  return builder.Finish();
}

Column Timestamps(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kTimestamp);
  for (const auto& value : values) {
    value ? builder.AppendInt64(*common::ParseIsoTimestamp(*value)) : builder.AppendNull();
  }
  return builder.Finish();
}

Table MakeTable(std::vector<std::pair<std::string, Column>> named_columns) {
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (auto& [name, column] : named_columns) {
    fields.push_back({name, column.type()});
    columns.push_back(std::move(column));
  }
  auto made = Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *std::move(made) : Table();
}

std::vector<RuleSpec> Parse(const json& rules) {
  auto specs = ParseRules(rules);
  EXPECT_TRUE(specs.ok()) << specs.status();
  return specs.ok() ? *std::move(specs) : std::vector<RuleSpec>{};
}

QualityReport Evaluate(const json& rules, const Table& table) {
  auto report = EvaluateRules(Parse(rules), table);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *std::move(report) : QualityReport{};
}

// Evaluates one rule and returns its result.
RuleResult EvaluateOne(const json& rule, const Table& table) {
  QualityReport report = Evaluate(json::array({rule}), table);
  EXPECT_EQ(report.results.size(), 1u);
  return report.results.empty() ? RuleResult{} : report.results[0];
}

// The error message of ParseRules for a single rule ("" if it parses).
std::string ParseError(const json& rules) {
  auto specs = ParseRules(rules);
  if (specs.ok()) return "";
  EXPECT_EQ(specs.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(specs.status().message());
}

std::string BindError(const json& rules, const Table& table) {
  const absl::Status status = BindRules(Parse(rules), table.schema());
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

Table Providers() {
  return MakeTable({
      {"hcp_id", Ints({1040, 1041, 1042, 1043, 1044, 1045})},
      {"npi",
       Strings({"1234567890", std::nullopt, "1234567892", std::nullopt, "12345", std::nullopt})},
      {"specialty", Strings({"ONC", "CARD", "ONC", "ONCO", "CARD", std::nullopt})},
      {"years", Ints({0, 70, 12, -1, 85, std::nullopt})},
  });
}

// ---------------------------------------------------------------------------------------------
// not_null

TEST(QualityRules, NotNullReportsRows) {
  const RuleResult result = EvaluateOne({{"type", "not_null"}, {"columns", {"npi"}}}, Providers());
  EXPECT_EQ(result.name, "not_null(npi)");
  EXPECT_FALSE(result.passed);
  EXPECT_TRUE(result.evaluated);
  EXPECT_EQ(result.failing_rows, 3);
  EXPECT_EQ(result.message, "3 of 6 rows have a null npi: rows 2, 4, 6");
  EXPECT_THAT(result.sample_rows, ElementsAre(2, 4, 6));
  EXPECT_THAT(result.sample_values, ElementsAre("null", "null", "null"));
}

TEST(QualityRules, NotNullPassesWithoutNulls) {
  const RuleResult result = EvaluateOne({{"type", "not_null"}, {"column", "hcp_id"}}, Providers());
  EXPECT_TRUE(result.passed);
  EXPECT_EQ(result.failing_rows, 0);
  EXPECT_EQ(result.message, "no nulls in hcp_id (6 rows)");
  EXPECT_TRUE(result.sample_rows.empty());
}

TEST(QualityRules, NotNullOverSeveralColumnsFailsRowsWithAnyNull) {
  const RuleResult result =
      EvaluateOne({{"type", "not_null"}, {"columns", {"specialty", "years"}}}, Providers());
  EXPECT_EQ(result.name, "not_null(specialty, years)");
  EXPECT_EQ(result.failing_rows, 1);
  EXPECT_THAT(result.sample_rows, ElementsAre(6));
  EXPECT_THAT(result.sample_values, ElementsAre("specialty=null, years=null"));
  EXPECT_EQ(result.message, "1 of 6 rows have a null in specialty, years: row 6");
}

TEST(QualityRules, NotNullMatchesNaiveScanAcrossBitmapBytes) {
  // 1003 rows: not a multiple of 8, so the last validity byte is partial.
  std::mt19937_64 random(7);
  std::vector<std::optional<int64_t>> a;
  std::vector<std::optional<std::string>> b;
  std::vector<int64_t> expected_rows;
  for (int row = 0; row < 1003; ++row) {
    const bool a_null = random() % 7 == 0;
    const bool b_null = random() % 11 == 0 || row == 1002;
    a.push_back(a_null ? std::nullopt : std::optional<int64_t>(row));
    b.push_back(b_null ? std::nullopt : std::optional<std::string>("x"));
    if (a_null || b_null) expected_rows.push_back(row + 1);
  }
  const Table table = MakeTable({{"a", Ints(a)}, {"b", Strings(b)}});
  const RuleResult result = EvaluateOne({{"type", "not_null"}, {"columns", {"a", "b"}}}, table);
  EXPECT_EQ(result.failing_rows, static_cast<int64_t>(expected_rows.size()));
  ASSERT_EQ(result.sample_rows.size(), static_cast<size_t>(kMaxSampleRows));
  EXPECT_TRUE(
      std::equal(result.sample_rows.begin(), result.sample_rows.end(), expected_rows.begin()));
}

TEST(QualityRules, SampleRowsAreLimitedAndOneBased) {
  std::vector<std::optional<int64_t>> values(20, std::nullopt);
  values.push_back(1);
  const RuleResult result =
      EvaluateOne({{"type", "not_null"}, {"columns", {"x"}}}, MakeTable({{"x", Ints(values)}}));
  EXPECT_EQ(result.failing_rows, 20);
  EXPECT_THAT(result.sample_rows, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(result.sample_values.size(), 5u);
  EXPECT_EQ(result.message, "20 of 21 rows have a null x: rows 1, 2, 3, 4, 5 and 15 more");
}

// ---------------------------------------------------------------------------------------------
// unique

TEST(QualityRules, UniqueSingleColumnReportsDuplicates) {
  const Table table = MakeTable({{"id", Ints({5, 6, 5, 7, 6, 5, std::nullopt, std::nullopt})}});
  const RuleResult result = EvaluateOne({{"type", "unique"}, {"column", "id"}}, table);
  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.failing_rows, 3);  // Rows 3, 5 and 6 repeat an earlier key; nulls skipped.
  EXPECT_THAT(result.sample_rows, ElementsAre(3, 5, 6));
  EXPECT_THAT(result.sample_values, ElementsAre("5", "6", "5"));
  EXPECT_EQ(result.message,
            "2 values of id occur more than once (3 repeated rows), e.g. 5 at rows 1 and 3");
}

TEST(QualityRules, UniqueMultiColumnComparesWholeKeys) {
  const Table table = MakeTable({
      {"hcp_id", Ints({1042, 1042, 1042, 7})},
      {"month", Dates({"2024-03-01", "2024-04-01", "2024-03-01", "2024-03-01"})},
      {"note", Strings({"a", "b", "c", "d"})},
  });
  const RuleResult result =
      EvaluateOne({{"type", "unique"}, {"columns", {"hcp_id", "month"}}}, table);
  EXPECT_EQ(result.name, "unique(hcp_id, month)");
  EXPECT_EQ(result.failing_rows, 1);
  EXPECT_THAT(result.sample_rows, ElementsAre(3));
  EXPECT_THAT(result.sample_values, ElementsAre("hcp_id=1042, month=2024-03-01"));
  EXPECT_EQ(result.message,
            "1 key of (hcp_id, month) occurs more than once (1 repeated row), e.g. "
            "hcp_id=1042, month=2024-03-01 at rows 1 and 3");
  const RuleResult passing =
      EvaluateOne({{"type", "unique"}, {"columns", {"hcp_id", "note"}}}, table);
  EXPECT_TRUE(passing.passed);
  EXPECT_EQ(passing.message, "no duplicate (hcp_id, note) in 4 rows");
}

TEST(QualityRules, UniqueSkipsKeysWithANull) {
  const Table table = MakeTable({
      {"a", Ints({1, 1, std::nullopt, std::nullopt})},
      {"b", Strings({std::nullopt, std::nullopt, "x", "x"})},
  });
  EXPECT_TRUE(EvaluateOne({{"type", "unique"}, {"columns", {"a", "b"}}}, table).passed);
  EXPECT_FALSE(EvaluateOne({{"type", "unique"}, {"columns", {"a"}}}, table).passed);
}

TEST(QualityRules, UniqueTreatsSignedZerosAndNaNsAsEqual) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Table table = MakeTable({{"f", Floats({0.0, -0.0, nan, -nan, 1.5})}});
  const RuleResult result = EvaluateOne({{"type", "unique"}, {"column", "f"}}, table);
  EXPECT_EQ(result.failing_rows, 2);
  EXPECT_THAT(result.sample_rows, ElementsAre(2, 4));
}

// Model-based: the hash-set implementation against a std::map count on random keys.
TEST(QualityRules, UniqueMatchesNaiveModel) {
  std::mt19937_64 random(42);
  for (int round = 0; round < 5; ++round) {
    const int rows = 2000 + round * 1000;
    std::vector<std::optional<int64_t>> ints;
    std::vector<std::optional<std::string>> strings;
    std::vector<std::optional<bool>> bools;
    std::map<std::tuple<int64_t, std::string, bool>, int64_t> first_row;
    int64_t expected = 0;
    std::vector<int64_t> expected_rows;
    for (int row = 0; row < rows; ++row) {
      const bool has_null = random() % 50 == 0;
      const int64_t i = static_cast<int64_t>(random() % 40);
      const std::string s(static_cast<size_t>(random() % 4), static_cast<char>('a' + random() % 3));
      const bool b = random() % 2 == 0;
      ints.push_back(has_null ? std::nullopt : std::optional<int64_t>(i));
      strings.push_back(s);
      bools.push_back(b);
      if (has_null) continue;
      if (!first_row.emplace(std::make_tuple(i, s, b), row).second) {
        ++expected;
        expected_rows.push_back(row + 1);
      }
    }
    const Table table =
        MakeTable({{"i", Ints(ints)}, {"s", Strings(strings)}, {"b", Bools(bools)}});
    const RuleResult result =
        EvaluateOne({{"type", "unique"}, {"columns", {"i", "s", "b"}}}, table);
    EXPECT_EQ(result.failing_rows, expected) << "round " << round;
    expected_rows.resize(std::min<size_t>(expected_rows.size(), kMaxSampleRows));
    EXPECT_EQ(result.sample_rows, expected_rows) << "round " << round;
  }
}

// Tables past the 65,536-row sample take the partitioned path when keys are mostly distinct
// and the one-set path when they repeat a lot; both must agree with the model.
TEST(QualityRules, UniqueLargeTablesMatchNaiveModel) {
  std::mt19937_64 random(1234);
  struct Case {
    int64_t rows;
    uint64_t distinct_ints;
  };
  for (const Case& c : {Case{200'000, 1'000'000}, Case{200'000, 50}, Case{150'000, 140'000}}) {
    std::vector<std::optional<int64_t>> ints;
    std::vector<std::optional<std::string>> strings;
    std::unordered_map<int64_t, int64_t> seen;  // key (2 i + (s == "yy")) -> occurrences
    int64_t expected_failing = 0;
    std::vector<int64_t> expected_rows;
    for (int64_t row = 0; row < c.rows; ++row) {
      const int64_t i = static_cast<int64_t>(random() % c.distinct_ints);
      const std::string s = random() % 2 == 0 ? "x" : "yy";
      const bool has_null = random() % 1000 == 0;
      ints.push_back(i);
      strings.push_back(has_null ? std::nullopt : std::optional<std::string>(s));
      if (has_null) continue;
      if (seen[2 * i + (s == "yy" ? 1 : 0)]++ > 0) {
        ++expected_failing;
        if (expected_rows.size() < static_cast<size_t>(kMaxSampleRows)) {
          expected_rows.push_back(row + 1);
        }
      }
    }
    int64_t expected_keys = 0;
    for (const auto& [key, count] : seen) expected_keys += count > 1 ? 1 : 0;
    const Table table = MakeTable({{"i", Ints(ints)}, {"s", Strings(strings)}});
    const RuleResult result = EvaluateOne({{"type", "unique"}, {"columns", {"i", "s"}}}, table);
    EXPECT_EQ(result.failing_rows, expected_failing) << c.rows << " " << c.distinct_ints;
    EXPECT_EQ(result.sample_rows, expected_rows) << c.rows << " " << c.distinct_ints;
    EXPECT_THAT(result.message,
                StartsWith(absl::StrCat(expected_keys, expected_keys == 1 ? " key " : " keys ")))
        << result.message;
  }
}

// ---------------------------------------------------------------------------------------------
// in_range

TEST(QualityRules, InRangeIsInclusiveAndSkipsNulls) {
  const RuleResult result = EvaluateOne(
      {{"type", "in_range"}, {"column", "years"}, {"min", 0}, {"max", 70}}, Providers());
  EXPECT_EQ(result.name, "in_range(years)");
  EXPECT_EQ(result.failing_rows, 2);
  EXPECT_THAT(result.sample_rows, ElementsAre(4, 5));
  EXPECT_THAT(result.sample_values, ElementsAre("-1", "85"));
  EXPECT_EQ(result.message, "2 of 6 rows have years outside [0, 70]: -1 (row 4), 85 (row 5)");
}

TEST(QualityRules, InRangeWithOneBound) {
  const Table table = Providers();
  const RuleResult min_only =
      EvaluateOne({{"type", "in_range"}, {"column", "years"}, {"min", 0}}, table);
  EXPECT_EQ(min_only.failing_rows, 1);
  EXPECT_EQ(min_only.message, "1 of 6 rows have years below 0: -1 (row 4)");
  const RuleResult max_only =
      EvaluateOne({{"type", "in_range"}, {"column", "years"}, {"max", 85}}, table);
  EXPECT_TRUE(max_only.passed);
  EXPECT_EQ(max_only.message, "all non-null values of years are <= 85");
}

TEST(QualityRules, InRangeRoundsFloatBoundsInwardForIntegers) {
  const Table table = MakeTable({{"x", Ints({0, 1, 2, 3})}});
  const RuleResult result =
      EvaluateOne({{"type", "in_range"}, {"column", "x"}, {"min", 0.5}, {"max", 2.5}}, table);
  EXPECT_THAT(result.sample_rows, ElementsAre(1, 4));
  // A bound beyond int64 excludes every value (min) or bounds nothing (max).
  EXPECT_EQ(EvaluateOne({{"type", "in_range"}, {"column", "x"}, {"min", 1e19}}, table).failing_rows,
            4);
  EXPECT_TRUE(
      EvaluateOne({{"type", "in_range"}, {"column", "x"}, {"max", 18446744073709551615u}}, table)
          .passed);
}

TEST(QualityRules, InRangeFloatTreatsNaNAsOutside) {
  const Table table =
      MakeTable({{"f", Floats({0.0, 1.0, std::numeric_limits<double>::quiet_NaN(), 1.0000001,
                               std::numeric_limits<double>::infinity()})}});
  const RuleResult result =
      EvaluateOne({{"type", "in_range"}, {"column", "f"}, {"min", 0}, {"max", 1}}, table);
  EXPECT_THAT(result.sample_rows, ElementsAre(3, 4, 5));
  EXPECT_THAT(result.sample_values, ElementsAre("NaN", "1.0000001", "inf"));
}

TEST(QualityRules, InRangeDatesAndTimestampsUseIsoBounds) {
  const Table table = MakeTable({
      {"day", Dates({"2023-12-31", "2024-01-01", "2024-12-31", "2025-01-01"})},
      {"at", Timestamps({"2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2024-06-01T12:00:00Z",
                         "2025-01-01T00:00:00.000001Z"})},
  });
  const RuleResult days = EvaluateOne(
      {{"type", "in_range"}, {"column", "day"}, {"min", "2024-01-01"}, {"max", "2024-12-31"}},
      table);
  EXPECT_THAT(days.sample_rows, ElementsAre(1, 4));
  EXPECT_EQ(days.message,
            "2 of 4 rows have day outside [2024-01-01, 2024-12-31]: 2023-12-31 (row 1), "
            "2025-01-01 (row 4)");
  // A date bounds a timestamp column at midnight UTC.
  const RuleResult times = EvaluateOne({{"type", "in_range"},
                                        {"column", "at"},
                                        {"min", "2024-01-01"},
                                        {"max", "2025-01-01T00:00:00Z"}},
                                       table);
  EXPECT_THAT(times.sample_rows, ElementsAre(1, 4));
  EXPECT_THAT(times.sample_values,
              ElementsAre("2023-12-31T23:59:59Z", "2025-01-01T00:00:00.000001Z"));
}

// ---------------------------------------------------------------------------------------------
// in_set

TEST(QualityRules, InSetStrings) {
  const RuleResult result = EvaluateOne(
      {{"type", "in_set"}, {"column", "specialty"}, {"values", {"ONC", "CARD"}}}, Providers());
  EXPECT_EQ(result.failing_rows, 1);  // The null in row 6 is skipped.
  EXPECT_THAT(result.sample_values, ElementsAre("ONCO"));
  EXPECT_EQ(result.message,
            "1 of 6 rows have specialty not in {\"ONC\", \"CARD\"}: \"ONCO\" (row 4)");
}

TEST(QualityRules, InSetOtherTypes) {
  const Table table = MakeTable({
      {"i", Ints({1, 2, 3})},
      {"f", Floats({0.5, -0.0, 2.0})},
      {"b", Bools({true, false, std::nullopt})},
      {"d", Dates({"2024-01-01", "2024-02-01", "2024-03-01"})},
      {"t", Timestamps({"2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"})},
  });
  EXPECT_THAT(
      EvaluateOne({{"type", "in_set"}, {"column", "i"}, {"values", {1, 3.0}}}, table).sample_rows,
      ElementsAre(2));
  EXPECT_THAT(
      EvaluateOne({{"type", "in_set"}, {"column", "f"}, {"values", {0.5, 0}}}, table).sample_rows,
      ElementsAre(3));
  EXPECT_THAT(
      EvaluateOne({{"type", "in_set"}, {"column", "b"}, {"values", {true}}}, table).sample_rows,
      ElementsAre(2));
  EXPECT_THAT(EvaluateOne({{"type", "in_set"}, {"column", "d"}, {"values", {"2024-02-01"}}}, table)
                  .sample_rows,
              ElementsAre(1, 3));
  EXPECT_THAT(
      EvaluateOne({{"type", "in_set"}, {"column", "t"}, {"values", {"2024-01-01T00:00:01+00:00"}}},
                  table)
          .sample_rows,
      ElementsAre(1, 3));
}

// ---------------------------------------------------------------------------------------------
// regex

TEST(QualityRules, RegexIsAFullMatch) {
  const RuleResult result = EvaluateOne(
      {{"name", "npi_format"}, {"type", "regex"}, {"column", "npi"}, {"pattern", "[0-9]{10}"}},
      Providers());
  EXPECT_EQ(result.name, "npi_format");
  EXPECT_EQ(result.failing_rows, 1);
  EXPECT_THAT(result.sample_rows, ElementsAre(5));
  EXPECT_EQ(result.message, "1 of 6 rows have npi not matching [0-9]{10}: \"12345\" (row 5)");
  // A partial match is not enough: "234" occurs inside every value but matches none in full.
  EXPECT_EQ(EvaluateOne({{"type", "regex"}, {"column", "npi"}, {"pattern", "234"}}, Providers())
                .failing_rows,
            3);
}

// ---------------------------------------------------------------------------------------------
// row_count and schema

TEST(QualityRules, RowCount) {
  const Table table = Providers();
  const RuleResult ok = EvaluateOne({{"type", "row_count"}, {"min", 6}, {"max", 6}}, table);
  EXPECT_TRUE(ok.passed);
  EXPECT_EQ(ok.message, "6 rows, expected between 6 and 6");
  const RuleResult few = EvaluateOne({{"type", "row_count"}, {"min", 1000}}, table);
  EXPECT_FALSE(few.passed);
  EXPECT_EQ(few.failing_rows, 0);
  EXPECT_EQ(few.message, "6 rows, expected at least 1000");
  EXPECT_FALSE(EvaluateOne({{"type", "row_count"}, {"max", 5}}, table).passed);
}

TEST(QualityRules, SchemaContains) {
  const RuleResult ok = EvaluateOne({{"type", "schema"},
                                     {"mode", "contains"},
                                     {"columns", {{{"name", "hcp_id"}, {"type", "int64"}}, "npi"}}},
                                    Providers());
  EXPECT_TRUE(ok.passed) << ok.message;
  const RuleResult bad = EvaluateOne(
      {{"type", "schema"},
       {"mode", "contains"},
       {"columns",
        {{{"name", "hcp_id"}, {"type", "string"}}, {{"name", "zip"}, {"type", "string"}}}}},
      Providers());
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message,
            "column \"hcp_id\" is int64, expected string; missing column \"zip\" (string)");
}

TEST(QualityRules, SchemaEquals) {
  const json exact = {"hcp_id", "npi", "specialty", {{"name", "years"}, {"type", "int64"}}};
  EXPECT_TRUE(EvaluateOne({{"type", "schema"}, {"mode", "equals"}, {"columns", exact}}, Providers())
                  .passed);
  const RuleResult extra = EvaluateOne(
      {{"type", "schema"}, {"mode", "equals"}, {"columns", {"hcp_id", "npi", "specialty"}}},
      Providers());
  EXPECT_EQ(extra.message, "unexpected column \"years\"");
  const json shuffled = {"npi", "hcp_id", "specialty", "years"};
  EXPECT_TRUE(
      EvaluateOne({{"type", "schema"}, {"mode", "equals"}, {"columns", shuffled}}, Providers())
          .passed);
  const RuleResult ordered = EvaluateOne(
      {{"type", "schema"}, {"mode", "equals"}, {"ordered", true}, {"columns", shuffled}},
      Providers());
  EXPECT_FALSE(ordered.passed);
  EXPECT_THAT(ordered.message, StartsWith("column 1 is \"hcp_id\", expected \"npi\""));
}

// ---------------------------------------------------------------------------------------------
// expression

Table Prescriptions() {
  return MakeTable({
      {"trx", Ints({5, -1, 3, std::nullopt, 7})},
      {"nrx", Ints({2, 0, 4, 1, 7})},
      {"brand", Strings({"A", "B", "C", "D", "E"})},
  });
}

TEST(QualityRules, ExpressionMustBeTrueForEveryRow) {
  const RuleResult result = EvaluateOne(
      {{"type", "expression"}, {"expression", "trx >= 0 and nrx <= trx"}}, Prescriptions());
  EXPECT_EQ(result.name, "expression(trx >= 0 and nrx <= trx)");
  EXPECT_TRUE(result.evaluated) << result.message;
  EXPECT_EQ(result.failing_rows, 3);  // Row 4 is null (trx is null), which fails.
  EXPECT_THAT(result.sample_rows, ElementsAre(2, 3, 4));
  EXPECT_THAT(result.sample_values,
              ElementsAre("nrx=0, trx=-1", "nrx=4, trx=3", "nrx=1, trx=null"));
  EXPECT_EQ(result.message,
            "3 of 5 rows are not true (1 null): nrx=0, trx=-1 (row 2); nrx=4, trx=3 (row 3); "
            "nrx=1, trx=null (row 4)");
}

TEST(QualityRules, ExpressionAllowNullPassesNullResults) {
  const RuleResult result = EvaluateOne(
      {{"type", "expression"}, {"expression", "trx >= 0 and nrx <= trx"}, {"allow_null", true}},
      Prescriptions());
  EXPECT_EQ(result.failing_rows, 2);
  EXPECT_THAT(result.sample_rows, ElementsAre(2, 3));
  const RuleResult passing = EvaluateOne(
      {{"type", "expression"}, {"expression", "trx >= -1"}, {"allow_null", true}}, Prescriptions());
  EXPECT_TRUE(passing.passed);
  EXPECT_EQ(passing.message, "true for every row (1 null, allowed)");
}

TEST(QualityRules, ExpressionThatDoesNotApplyIsAFailedResult) {
  const QualityReport report =
      Evaluate(json::array({{{"type", "expression"}, {"expression", "trx + 1"}},
                            {{"type", "expression"}, {"expression", "units > 0"}}}),
               Prescriptions());
  ASSERT_EQ(report.results.size(), 2u);
  EXPECT_FALSE(report.results[0].evaluated);
  EXPECT_EQ(report.results[0].message,
            "not evaluated: expression must be true or false for each row, but it gives int64");
  EXPECT_FALSE(report.results[1].evaluated);
  EXPECT_THAT(report.results[1].message,
              StartsWith("not evaluated: expression does not compile: position 1: "));
  EXPECT_THAT(report.results[1].message, HasSubstr("units"));
  EXPECT_THAT(
      BindError(
          json::array({{{"name", "positive"}, {"type", "expression"}, {"expression", "trx + 1"}}}),
          Prescriptions()),
      StartsWith("rule 1 (\"positive\"): expression must be true or false"));
}

TEST(QualityRules, ExpressionSeesTheBuildTime) {
  const std::vector<RuleSpec> specs = Parse(json::array(
      {{{"type", "expression"}, {"expression", "now() >= timestamp(\"2024-01-01T00:00:00Z\")"}}}));
  expr::EvalOptions options;
  options.now_micros = *common::ParseIsoTimestamp("2024-06-01T00:00:00Z");
  auto late = EvaluateRules(specs, Prescriptions(), options);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->results[0].passed) << late->results[0].message;
  options.now_micros = *common::ParseIsoTimestamp("2023-06-01T00:00:00Z");
  auto early = EvaluateRules(specs, Prescriptions(), options);
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->results[0].failing_rows, 5);
}

// ---------------------------------------------------------------------------------------------
// Severity, tolerance, missing columns, empty tables

TEST(QualityRules, SeverityDecidesWhetherTheBuildStops) {
  const Table table = Providers();
  const QualityReport warning_only =
      Evaluate(json::array({{{"type", "not_null"}, {"columns", {"npi"}}, {"severity", "warning"}},
                            {{"type", "not_null"}, {"columns", {"hcp_id"}}}}),
               table);
  EXPECT_FALSE(warning_only.HasErrors());
  EXPECT_EQ(warning_only.warnings(), 1);
  EXPECT_EQ(warning_only.errors(), 0);
  EXPECT_EQ(warning_only.results[0].severity, Severity::kWarning);
  const QualityReport with_error =
      Evaluate(json::array({{{"type", "not_null"}, {"columns", {"npi"}}}}), table);
  EXPECT_TRUE(with_error.HasErrors());
  EXPECT_EQ(with_error.errors(), 1);
  EXPECT_EQ(with_error.results[0].severity, Severity::kError);
}

TEST(QualityRules, MaxFailingFractionTolerates) {
  const Table table = Providers();  // npi: 3 of 6 null.
  const RuleResult tolerated = EvaluateOne(
      {{"type", "not_null"}, {"columns", {"npi"}}, {"max_failing_fraction", 0.5}}, table);
  EXPECT_TRUE(tolerated.passed);
  EXPECT_EQ(tolerated.failing_rows, 3);
  EXPECT_THAT(tolerated.message, HasSubstr("; tolerated (max_failing_fraction 0.5)"));
  const RuleResult too_many = EvaluateOne(
      {{"type", "not_null"}, {"columns", {"npi"}}, {"max_failing_fraction", 0.49}}, table);
  EXPECT_FALSE(too_many.passed);
  EXPECT_THAT(too_many.message, HasSubstr("; more than (max_failing_fraction 0.49)"));
}

TEST(QualityRules, MissingOrRetypedColumnIsAFailedResult) {
  const QualityReport report =
      Evaluate(json::array({{{"type", "not_null"}, {"columns", {"npi_id"}}},
                            {{"type", "regex"}, {"column", "hcp_id"}, {"pattern", "[0-9]+"}},
                            {{"type", "in_range"}, {"column", "years"}, {"min", "2024-01-01"}},
                            {{"type", "not_null"}, {"columns", {"hcp_id"}}}}),
               Providers());
  ASSERT_EQ(report.results.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(report.results[i].passed);
    EXPECT_FALSE(report.results[i].evaluated);
    EXPECT_EQ(report.results[i].failing_rows, 0);
  }
  EXPECT_EQ(report.results[0].message,
            "not evaluated: no column \"npi_id\" (columns: hcp_id, npi, specialty, years)");
  EXPECT_EQ(report.results[1].message,
            "not evaluated: regex needs a string column; column \"hcp_id\" is int64");
  EXPECT_EQ(report.results[2].message,
            "not evaluated: \"min\": \"2024-01-01\" is not a number, but column \"years\" is "
            "int64");
  EXPECT_TRUE(report.results[3].passed);
  EXPECT_TRUE(report.HasErrors());
}

TEST(QualityRules, EmptyTable) {
  const Table table = MakeTable({{"id", Ints({})}, {"name", Strings({})}});
  const QualityReport report =
      Evaluate(json::array({{{"type", "not_null"}, {"columns", {"id", "name"}}},
                            {{"type", "unique"}, {"columns", {"id", "name"}}},
                            {{"type", "in_range"}, {"column", "id"}, {"min", 1}},
                            {{"type", "in_set"}, {"column", "name"}, {"values", {"a"}}},
                            {{"type", "regex"}, {"column", "name"}, {"pattern", "a+"}},
                            {{"type", "row_count"}, {"min", 1}}}),
               table);
  ASSERT_EQ(report.results.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(report.results[i].passed) << report.results[i].name;
  EXPECT_FALSE(report.results[5].passed);
  EXPECT_EQ(report.results[5].message, "0 rows, expected at least 1");
  EXPECT_EQ(report.num_rows, 0);
}

TEST(QualityRules, SampleValuesAreValidUtf8AndCut) {
  const std::string long_value(200, 'x');
  const Table table = MakeTable({{"s", Strings({std::string("ab\xff"
                                                            "c"),
                                                long_value})}});
  const RuleResult result =
      EvaluateOne({{"type", "in_set"}, {"column", "s"}, {"values", {"ok"}}}, table);
  ASSERT_EQ(result.sample_values.size(), 2u);
  EXPECT_EQ(result.sample_values[0],
            "ab\xEF\xBF\xBD"
            "c");
  EXPECT_EQ(result.sample_values[1], std::string(kMaxSampleValueBytes, 'x') + "...");
  // The report must dump without replacement: everything in it is valid UTF-8 already.
  QualityReport report;
  report.results.push_back(result);
  EXPECT_NO_THROW((void)report.ToJson().dump());
}

TEST(QualityRules, EvaluateRejectsMalformedSpecs) {
  RuleSpec spec;
  spec.name = "broken";
  spec.type = RuleType::kUnique;  // No columns.
  const auto report = EvaluateRules({spec}, Providers());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(report.status().message(),
            "rule 1 (\"broken\"): \"columns\": needs at least one column");
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(QualityRules, ParsesDefaultsAndGeneratedNames) {
  const std::vector<RuleSpec> specs = Parse(json::parse(R"([
    {"type": "not_null", "columns": ["npi"]},
    {"type": "unique", "columns": ["hcp_id", "month"], "severity": "warning"},
    {"type": "row_count", "min": 1e3},
    {"type": "schema", "mode": "contains", "columns": ["a"]},
    {"type": "expression", "expression": "trx >= 0", "allow_null": true}
  ])"));
  ASSERT_EQ(specs.size(), 5u);
  EXPECT_EQ(specs[0].name, "not_null(npi)");
  EXPECT_EQ(specs[0].severity, Severity::kError);
  EXPECT_EQ(specs[1].name, "unique(hcp_id, month)");
  EXPECT_EQ(specs[1].severity, Severity::kWarning);
  EXPECT_EQ(specs[2].name, "row_count");
  EXPECT_EQ(specs[2].min_rows, 1000);
  EXPECT_EQ(specs[3].name, "schema");
  EXPECT_EQ(specs[4].name, "expression(trx >= 0)");
  EXPECT_TRUE(specs[4].allow_null);
}

TEST(QualityRules, SpecErrorsNameRuleAndKey) {
  EXPECT_EQ(ParseError(json::object()), "quality rules must be a list of rule objects, not object");
  EXPECT_EQ(ParseError(json::array({42})),
            "rule 1: must be an object like {\"type\": \"not_null\", \"columns\": [\"npi\"]}, not "
            "number");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "not_null", "column": "a"},
      {"name": "npi_format", "type": "regex", "column": "npi", "pattern": "[0-9"}])")),
            "rule 2 (\"npi_format\"): \"pattern\": invalid regular expression: missing ]: [0-9");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "regex", "colum": "npi", "pattern": "x"}])")),
            "rule 1 (regex): unknown key \"colum\" for a regex rule (keys: name, type, severity, "
            "description, column, pattern, max_failing_fraction)");
  EXPECT_EQ(ParseError(json::parse(R"([{"columns": ["a"]}])")),
            "rule 1: missing \"type\" (one of not_null, unique, in_range, in_set, regex, "
            "row_count, schema, expression)");
  EXPECT_THAT(ParseError(json::parse(R"([{"type": "not_nul"}])")),
              StartsWith("rule 1 (not_nul): \"type\": unknown rule type \"not_nul\""));
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "not_null", "columns": "npi"}])")),
            "rule 1 (not_null): \"columns\": must be a list of column names");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "not_null", "columns": ["a", 3]}])")),
            "rule 1 (not_null): \"columns[1]\": must be a column name (a string)");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "not_null", "columns": []}])")),
            "rule 1 (not_null): \"columns\": needs at least one column");
  EXPECT_EQ(
      ParseError(json::parse(R"([{"type": "not_null", "column": "a", "severity": "fatal"}])")),
      "rule 1 (not_null): \"severity\": must be \"error\" or \"warning\"");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "in_range", "column": "a"}])")),
            "rule 1 (in_range): needs \"min\", \"max\" or both");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "in_range", "column": "a", "min": 5, "max": 1}])")),
            "rule 1 (in_range): \"min\" is greater than \"max\"");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "in_range", "column": "a", "min": [1]}])")),
            "rule 1 (in_range): \"min\": must be a number or an ISO date/timestamp string");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "in_set", "column": "a", "values": []}])")),
            "rule 1 (in_set): \"values\": needs at least one value");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "in_set", "column": "a", "values": [null]}])")),
            "rule 1 (in_set): \"values[0]\": must be a string, number or boolean");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "row_count", "min": -1}])")),
            "rule 1 (row_count): \"min\": must be a non-negative integer");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "row_count", "min": 1.5}])")),
            "rule 1 (row_count): \"min\": must be a non-negative integer");
  EXPECT_EQ(
      ParseError(json::parse(R"([{"type": "row_count", "min": 1, "max_failing_fraction": 0.1}])")),
      "rule 1 (row_count): unknown key \"max_failing_fraction\" for a row_count rule (keys: "
      "name, type, severity, description, min, max)");
  EXPECT_EQ(ParseError(json::parse(
                R"([{"type": "not_null", "column": "a", "max_failing_fraction": 1.5}])")),
            "rule 1 (not_null): \"max_failing_fraction\": must be between 0 and 1");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "schema", "columns": ["a"]}])")),
            "rule 1 (schema): missing \"mode\" (\"equals\" or \"contains\")");
  EXPECT_EQ(
      ParseError(json::parse(
          R"([{"type": "schema", "mode": "equals", "columns": [{"name": "a", "type": "int"}]}])")),
      "rule 1 (schema): \"columns[0].type\": unknown type \"int\" (types: bool, int64, "
      "float64, string, date, timestamp)");
  EXPECT_EQ(ParseError(json::parse(
                R"([{"type": "schema", "mode": "contains", "ordered": true, "columns": ["a"]}])")),
            "rule 1 (schema): \"ordered\": applies only to mode \"equals\"");
  EXPECT_EQ(ParseError(json::parse(R"([{"name": "", "type": "row_count", "min": 1}])")),
            "rule 1 (row_count): \"name\": must be a non-empty string");
  EXPECT_EQ(ParseError(json::parse(R"([{"type": "expression", "expression": ""}])")),
            "rule 1 (expression): \"expression\": must not be empty");
}

TEST(QualityRules, DuplicateNamesAreRejected) {
  EXPECT_EQ(ParseError(json::parse(R"([
      {"type": "in_range", "column": "x", "min": 0},
      {"type": "in_range", "column": "x", "max": 9}])")),
            "rule 2 (\"in_range(x)\"): duplicate rule name (rule 1 has it too); give one of them "
            "a \"name\"");
  EXPECT_EQ(ParseError(json::parse(R"([
      {"type": "in_range", "column": "x", "min": 0},
      {"name": "x_max", "type": "in_range", "column": "x", "max": 9}])")),
            "");
}

TEST(QualityRules, RulesToJsonRoundTrips) {
  const json rules = json::parse(R"([
    {"type": "not_null", "column": "npi", "severity": "warning", "description": "why"},
    {"name": "key", "type": "unique", "columns": ["hcp_id", "month"]},
    {"type": "in_range", "column": "d", "min": "2024-01-01", "max_failing_fraction": 0.01},
    {"type": "in_set", "column": "s", "values": ["A", 1, true]},
    {"type": "regex", "column": "npi", "pattern": "^[0-9]{10}$"},
    {"type": "row_count", "min": 1, "max": 10},
    {"type": "schema", "mode": "equals", "ordered": true,
     "columns": ["a", {"name": "b", "type": "date"}]},
    {"type": "expression", "expression": "a > 0", "allow_null": true}
  ])");
  const std::vector<RuleSpec> specs = Parse(rules);
  const json canonical = RulesToJson(specs);
  EXPECT_EQ(Parse(canonical), specs);
  EXPECT_EQ(RulesToJson(Parse(canonical)), canonical);
  EXPECT_EQ(canonical[0], json::parse(R"({"type": "not_null", "columns": ["npi"],
      "severity": "warning", "description": "why"})"));
  EXPECT_EQ(canonical[1]["name"], "key");
}

// ---------------------------------------------------------------------------------------------
// Binding

TEST(QualityRules, BindAcceptsRulesThatApply) {
  EXPECT_EQ(BindError(json::parse(R"([
      {"type": "not_null", "columns": ["npi", "hcp_id"]},
      {"type": "unique", "columns": ["hcp_id"]},
      {"type": "in_range", "column": "years", "min": 0, "max": 70.5},
      {"type": "in_set", "column": "specialty", "values": ["ONC"]},
      {"type": "regex", "column": "npi", "pattern": "[0-9]+"},
      {"type": "row_count", "min": 1},
      {"type": "schema", "mode": "contains", "columns": ["zip"]}])"),
                      Providers()),
            "");
}

TEST(QualityRules, BindErrorsNameRuleAndProblem) {
  const Table table = MakeTable({
      {"hcp_id", Ints({1})},
      {"npi", Strings({"1"})},
      {"visit", Dates({"2024-01-01"})},
      {"flag", Bools({true})},
  });
  EXPECT_EQ(BindError(json::parse(R"([{"type": "not_null", "columns": ["npi_id"]}])"), table),
            "rule 1 (\"not_null(npi_id)\"): no column \"npi_id\" (columns: hcp_id, npi, visit, "
            "flag)");
  EXPECT_EQ(BindError(json::parse(R"([{"type": "row_count", "min": 1},
      {"name": "npi_format", "type": "regex", "column": "hcp_id", "pattern": "x"}])"),
                      table),
            "rule 2 (\"npi_format\"): regex needs a string column; column \"hcp_id\" is int64");
  EXPECT_EQ(BindError(json::parse(R"([{"type": "in_range", "column": "visit", "min": 5}])"), table),
            "rule 1 (\"in_range(visit)\"): \"min\": 5 is not an ISO date (YYYY-MM-DD), but column "
            "\"visit\" is date");
  EXPECT_EQ(BindError(json::parse(R"([{"type": "in_range", "column": "visit", "min": "2024-02-01",
                                 "max": "2024-01-01"}])"),
                      table),
            "rule 1 (\"in_range(visit)\"): \"min\" is after \"max\"");
  EXPECT_EQ(BindError(json::parse(R"([{"type": "in_range", "column": "npi", "min": "a"}])"), table),
            "rule 1 (\"in_range(npi)\"): in_range needs an int64, float64, date or timestamp "
            "column; column \"npi\" is string");
  EXPECT_EQ(
      BindError(json::parse(R"([{"type": "in_set", "column": "hcp_id", "values": [1, "2"]}])"),
                table),
      "rule 1 (\"in_set(hcp_id)\"): \"values[1]\": \"2\" is not an int64 integer, but column "
      "\"hcp_id\" is int64");
  EXPECT_EQ(BindError(json::parse(R"([{"type": "in_set", "column": "flag", "values": ["true"]}])"),
                      table),
            "rule 1 (\"in_set(flag)\"): \"values[0]\": \"true\" is not true or false, but column "
            "\"flag\" is bool");
}

// ---------------------------------------------------------------------------------------------
// Report JSON and summary

QualityReport SampleReport() {
  return Evaluate(json::parse(R"([
      {"type": "not_null", "columns": ["npi"]},
      {"type": "unique", "columns": ["hcp_id"]},
      {"type": "in_set", "column": "specialty", "values": ["ONC", "CARD"], "severity": "warning"},
      {"type": "regex", "column": "missing", "pattern": "x"}])"),
                  Providers());
}

TEST(QualityRules, ReportJsonRoundTrips) {
  const QualityReport report = SampleReport();
  const json stored = report.ToJson();
  auto loaded = QualityReport::FromJson(stored);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, report);
  EXPECT_EQ(loaded->ToJson(), stored);
  // Through text, as the metadata store keeps it.
  auto reparsed = QualityReport::FromJson(json::parse(stored.dump()));
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->ToJson().dump(), stored.dump());
  EXPECT_EQ(stored["num_rows"], 6);
  EXPECT_EQ(stored["results"][0]["sample_rows"], json::parse("[2, 4, 6]"));
  EXPECT_EQ(stored["results"][3]["evaluated"], false);
}

TEST(QualityRules, ReportFromJsonIsStrict) {
  const json stored = SampleReport().ToJson();
  json unknown = stored;
  unknown["results"][0]["extra"] = 1;
  EXPECT_EQ(QualityReport::FromJson(unknown).status().message(),
            "quality report: results[0]: unknown key \"extra\"");
  json missing = stored;
  missing["results"][1].erase("message");
  EXPECT_EQ(QualityReport::FromJson(missing).status().message(),
            "quality report: results[1]: missing key \"message\"");
  json mistyped = stored;
  mistyped["results"][0]["failing_rows"] = 3.0;
  EXPECT_EQ(QualityReport::FromJson(mistyped).status().message(),
            "quality report: results[0]: \"failing_rows\" must be a non-negative integer");
  json zero_row = stored;
  zero_row["results"][0]["sample_rows"] = json::array({0});
  EXPECT_FALSE(QualityReport::FromJson(zero_row).ok());
  EXPECT_FALSE(QualityReport::FromJson(json::array()).ok());
  EXPECT_FALSE(QualityReport::FromJson(json::object({{"results", json::array()}})).ok());
}

TEST(QualityRules, SummaryListsFailuresFirst) {
  EXPECT_EQ(SampleReport().Summary(),
            "quality: 2 errors, 1 warning, 1 passed (4 rules, 6 rows)\n"
            "  FAILED   [error]   not_null(npi): 3 of 6 rows have a null npi: rows 2, 4, 6\n"
            "  FAILED   [error]   regex(missing): not evaluated: no column \"missing\" (columns: "
            "hcp_id, npi, specialty, years)\n"
            "  FAILED   [warning] in_set(specialty): 1 of 6 rows have specialty not in {\"ONC\", "
            "\"CARD\"}: \"ONCO\" (row 4)\n"
            "  passed   [error]   unique(hcp_id): no duplicate hcp_id in 6 rows");
}

}  // namespace
}  // namespace assay::quality
