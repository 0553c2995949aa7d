#include "recipes/sql_recipe.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "table/column.h"
#include "table/table.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Field;
using table::Table;
using ::testing::HasSubstr;

// 2024-01-01 and 2024-01-01T08:30:00Z in Assay's encodings.
constexpr int32_t kJan1 = 19723;
constexpr int64_t kJan1At0830 =
    int64_t{kJan1} * 86'400'000'000 + int64_t{8 * 3600 + 1800} * 1'000'000;

Table MakeTable(std::vector<Field> fields, std::vector<Column> columns) {
  auto table = Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : Table();
}

Column Ints(std::vector<std::optional<int64_t>> values) {
  ColumnBuilder builder(DataType::kInt64);
  for (const auto& value : values) value ? builder.AppendInt64(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Strings(std::vector<std::optional<std::string>> values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Floats(std::vector<std::optional<double>> values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) value ? builder.AppendFloat64(*value) : builder.AppendNull();
  return builder.Finish();
}

// A table with every column type and a null in each column:
//   id  flag   score  name    day         at
//   1   true   1.5    "a"     2024-01-01  2024-01-01T08:30:00Z
//   2   false  null   ""      null        2024-01-01T08:30:00.000001Z
//   3   null   -0.25  null    2024-02-29  null
Table AllTypes() {
  ColumnBuilder flag(DataType::kBool);
  flag.AppendBool(true);
  flag.AppendBool(false);
  flag.AppendNull();
  ColumnBuilder day(DataType::kDate);
  day.AppendDate(kJan1);
  day.AppendNull();
  day.AppendDate(kJan1 + 59);
  ColumnBuilder at(DataType::kTimestamp);
  at.AppendInt64(kJan1At0830);
  at.AppendInt64(kJan1At0830 + 1);
  at.AppendNull();
  return MakeTable({{"id", DataType::kInt64},
                    {"flag", DataType::kBool},
                    {"score", DataType::kFloat64},
                    {"name", DataType::kString},
                    {"day", DataType::kDate},
                    {"at", DataType::kTimestamp}},
                   {Ints({1, 2, 3}), flag.Finish(), Floats({1.5, std::nullopt, -0.25}),
                    Strings({"a", "", std::nullopt}), day.Finish(), at.Finish()});
}

absl::StatusOr<Table> RunSql(const std::string& query, const ExternalInputs& inputs,
                             std::vector<Field> types = {}) {
  return RunSqlRecipe(SqlSpec{query, std::move(types)}, inputs);
}

DataType TypeOf(const Table& table, const std::string& name) {
  auto index = table.schema().FindField(name);
  EXPECT_TRUE(index.has_value()) << name;
  return index ? table.schema().field(*index).type : DataType::kString;
}

TEST(SqlRecipe, ParsesConfig) {
  auto spec = ParseSqlSpec(nlohmann::json::parse(
      R"({"query": "SELECT 1 AS x", "types": {"x": "float64", "d": "date"}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->query, "SELECT 1 AS x");
  EXPECT_THAT(spec->types,
              ::testing::ElementsAre(Field{"d", DataType::kDate}, Field{"x", DataType::kFloat64}));
}

TEST(SqlRecipe, ConfigErrorsNameTheKey) {
  struct Case {
    const char* config;
    const char* message;
  };
  const Case cases[] = {
      {R"([1])", "sql config: expected an object"},
      {R"({})", "sql config: \"query\" is required"},
      {R"({"query": 5})", "sql config: \"query\": expected a string"},
      {R"({"query": "  "})", "sql config: \"query\": expected a non-empty SELECT"},
      {R"({"query": "SELECT 1", "qurey": 1})", "sql config: unknown key \"qurey\""},
      {R"({"query": "SELECT 1", "types": ["x"]})", "sql config: \"types\": expected an object"},
      {R"({"query": "SELECT 1", "types": {"x": "datetime"}})",
       "sql config: \"types\".\"x\": expected one of bool"},
      {R"({"query": "SELECT 1", "types": {"x": 3}})", "sql config: \"types\".\"x\": expected"},
  };
  for (const Case& c : cases) {
    auto spec = ParseSqlSpec(nlohmann::json::parse(c.config));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << c.config;
    EXPECT_THAT(spec.status().message(), HasSubstr(c.message)) << c.config;
  }
}

TEST(SqlRecipe, SelectStarRoundTripsEveryTypeWithNulls) {
  const Table input = AllTypes();
  auto result = RunSql("SELECT * FROM t", {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->schema(), input.schema());
  EXPECT_TRUE(result->Equals(input));
}

TEST(SqlRecipe, RandomTablesRoundTrip) {
  std::mt19937_64 rng(20240601);
  for (int trial = 0; trial < 20; ++trial) {
    const int rows = static_cast<int>(rng() % 50);
    ColumnBuilder ints(DataType::kInt64), bools(DataType::kBool), floats(DataType::kFloat64),
        strings(DataType::kString), dates(DataType::kDate), stamps(DataType::kTimestamp);
    for (int row = 0; row < rows; ++row) {
      auto maybe_null = [&](ColumnBuilder& builder, auto append) {
        if (rng() % 5 == 0) {
          builder.AppendNull();
        } else {
          append();
        }
      };
      maybe_null(ints, [&] { ints.AppendInt64(static_cast<int64_t>(rng())); });
      maybe_null(bools, [&] { bools.AppendBool(rng() % 2 == 0); });
      maybe_null(floats, [&] {
        // Any finite double, including subnormals and -0.0 (NaN is NULL in SQLite).
        double value;
        do {
          value = std::bit_cast<double>(rng());
        } while (!std::isfinite(value));
        floats.AppendFloat64(value);
      });
      maybe_null(strings, [&] {
        std::string text;
        const int length = static_cast<int>(rng() % 6);
        for (int i = 0; i < length; ++i) text += "ab\"',\n é"[rng() % 9];
        strings.AppendString(text);
      });
      // Years 0000-9999 (the canonical range).
      maybe_null(dates,
                 [&] { dates.AppendDate(static_cast<int32_t>(rng() % 3'652'059) - 719'528); });
      maybe_null(stamps, [&] {
        stamps.AppendInt64(static_cast<int64_t>(rng() % 315'537'897'600'000'000ULL) -
                           62'167'219'200'000'000LL);
      });
    }
    const Table input = MakeTable({{"i", DataType::kInt64},
                                   {"b", DataType::kBool},
                                   {"f", DataType::kFloat64},
                                   {"s", DataType::kString},
                                   {"d", DataType::kDate},
                                   {"ts", DataType::kTimestamp}},
                                  {ints.Finish(), bools.Finish(), floats.Finish(), strings.Finish(),
                                   dates.Finish(), stamps.Finish()});
    auto result = RunSql("SELECT * FROM t", {{"t", &input}});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->Equals(input)) << "trial " << trial;
  }
}

TEST(SqlRecipe, DatesAndTimestampsAreComparableIsoText) {
  const Table input = AllTypes();
  auto result = RunSql(
      "SELECT id, day || '' AS day_text, at || '' AS at_text FROM t "
      "WHERE day >= '2024-01-01' AND day < '2024-03' ORDER BY id",
      {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->num_rows(), 2);
  EXPECT_EQ(result->column(1).StringAt(0), "2024-01-01");
  EXPECT_EQ(result->column(2).StringAt(0), "2024-01-01T08:30:00.000000Z");
  EXPECT_TRUE(result->column(2).IsNull(1));

  // Fixed-width timestamps sort as time: 08:30:00 comes before 08:30:00.000001.
  auto ordered = RunSql("SELECT id FROM t WHERE at IS NOT NULL ORDER BY at DESC", {{"t", &input}});
  ASSERT_TRUE(ordered.ok()) << ordered.status();
  EXPECT_EQ(ordered->column(0).int64_values(), (std::vector<int64_t>{2, 1}));
}

TEST(SqlRecipe, SqliteDateFunctionsWithDeclaredTypes) {
  const Table input = AllTypes();
  auto result = RunSql(
      "SELECT date(day, '+1 day') AS next_day, datetime(at, '+1 hour') AS later FROM t "
      "ORDER BY id",
      {{"t", &input}}, {{"later", DataType::kTimestamp}});
  ASSERT_TRUE(result.ok()) << result.status();
  // Undeclared: SQLite returns text, so the column is a string.
  EXPECT_EQ(TypeOf(*result, "next_day"), DataType::kString);
  EXPECT_EQ(result->column(0).StringAt(0), "2024-01-02");
  EXPECT_EQ(TypeOf(*result, "later"), DataType::kTimestamp);
  EXPECT_EQ(result->column(1).int64_values()[0], kJan1At0830 + int64_t{3600} * 1'000'000);

  auto declared = RunSql("SELECT date(day, '+1 day') AS next_day FROM t ORDER BY id",
                         {{"t", &input}}, {{"next_day", DataType::kDate}});
  ASSERT_TRUE(declared.ok()) << declared.status();
  EXPECT_EQ(TypeOf(*declared, "next_day"), DataType::kDate);
  EXPECT_EQ(declared->column(0).date_values()[0], kJan1 + 1);
  EXPECT_TRUE(declared->column(0).IsNull(1));
}

TEST(SqlRecipe, JoinsTwoInputsAndKeepsColumnTypes) {
  const Table visits = MakeTable({{"hcp_id", DataType::kInt64}, {"calls", DataType::kInt64}},
                                 {Ints({1, 2, 2, 3}), Ints({5, 1, std::nullopt, 7})});
  const Table hcps = MakeTable({{"hcp_id", DataType::kInt64}, {"specialty", DataType::kString}},
                               {Ints({1, 2, 4}), Strings({"oncology", "cardiology", "neurology"})});
  auto result = RunSql(
      "SELECT v.hcp_id, h.specialty, v.calls FROM visits v JOIN hcps h USING (hcp_id) "
      "ORDER BY v.hcp_id, v.calls",
      {{"visits", &visits}, {"hcps", &hcps}});
  ASSERT_TRUE(result.ok()) << result.status();
  const Table expected = MakeTable(
      {{"hcp_id", DataType::kInt64}, {"specialty", DataType::kString}, {"calls", DataType::kInt64}},
      {Ints({1, 2, 2}), Strings({"oncology", "cardiology", "cardiology"}),
       Ints({5, std::nullopt, 1})});
  EXPECT_TRUE(result->Equals(expected));
}

TEST(SqlRecipe, AggregatesGetInferredTypes) {
  const Table input = AllTypes();
  auto result = RunSql(
      "SELECT count(*) AS n, sum(id) AS total, avg(id) AS mean, max(score) AS top, "
      "group_concat(name, '|') AS names, max(day) AS last_day, min(flag) AS any_false, "
      "sum(score) FILTER (WHERE 0) AS empty_sum FROM t",
      {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->num_rows(), 1);
  EXPECT_EQ(TypeOf(*result, "n"), DataType::kInt64);
  EXPECT_EQ(result->column(0).int64_values()[0], 3);
  EXPECT_EQ(TypeOf(*result, "total"), DataType::kInt64);
  EXPECT_EQ(result->column(1).int64_values()[0], 6);
  EXPECT_EQ(TypeOf(*result, "mean"), DataType::kFloat64);
  EXPECT_EQ(result->column(2).float64_values()[0], 2.0);
  EXPECT_EQ(TypeOf(*result, "top"), DataType::kFloat64);
  EXPECT_EQ(TypeOf(*result, "names"), DataType::kString);
  EXPECT_EQ(result->column(4).StringAt(0), "a|");
  // An aggregate is not an input column: text stays a string, 0/1 an integer.
  EXPECT_EQ(TypeOf(*result, "last_day"), DataType::kString);
  EXPECT_EQ(result->column(5).StringAt(0), "2024-02-29");
  EXPECT_EQ(TypeOf(*result, "any_false"), DataType::kInt64);
  EXPECT_EQ(TypeOf(*result, "empty_sum"), DataType::kString);  // all null
  EXPECT_TRUE(result->column(7).IsNull(0));
}

TEST(SqlRecipe, InfersFloatFromIntegersAndRealsAndStringFromAnyText) {
  auto result =
      RunSql("SELECT 1 AS x, 1 AS y UNION ALL SELECT 2.5, 'two' UNION ALL SELECT NULL, 3.5", {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(TypeOf(*result, "x"), DataType::kFloat64);
  EXPECT_EQ(result->column(0).float64_values(), (std::vector<double>{1.0, 2.5, 0.0}));
  EXPECT_TRUE(result->column(0).IsNull(2));
  EXPECT_EQ(TypeOf(*result, "y"), DataType::kString);
  EXPECT_EQ(result->column(1).StringAt(0), "1");
  EXPECT_EQ(result->column(1).StringAt(1), "two");
  EXPECT_EQ(result->column(1).StringAt(2), "3.5");
}

TEST(SqlRecipe, InputColumnTypeGivesWayWhenAUnionAddsOtherValues) {
  const Table input = AllTypes();
  auto result = RunSql("SELECT flag FROM t UNION ALL SELECT 7", {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(TypeOf(*result, "flag"), DataType::kInt64);
  auto dates = RunSql("SELECT day FROM t UNION ALL SELECT 'soon'", {{"t", &input}});
  ASSERT_TRUE(dates.ok()) << dates.status();
  EXPECT_EQ(TypeOf(*dates, "day"), DataType::kString);
  // A column taken through a subquery still comes straight from the input.
  auto nested = RunSql("SELECT day FROM (SELECT day FROM t WHERE id > 1)", {{"t", &input}});
  ASSERT_TRUE(nested.ok()) << nested.status();
  EXPECT_EQ(TypeOf(*nested, "day"), DataType::kDate);
}

TEST(SqlRecipe, ZeroRowResultKeepsInputTypes) {
  const Table input = AllTypes();
  auto result = RunSql("SELECT id, flag, day, at, id + 1 AS next FROM t WHERE id > 100",
                       {{"t", &input}}, {{"next", DataType::kInt64}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_rows(), 0);
  EXPECT_EQ(result->schema(), table::Schema({{"id", DataType::kInt64},
                                             {"flag", DataType::kBool},
                                             {"day", DataType::kDate},
                                             {"at", DataType::kTimestamp},
                                             {"next", DataType::kInt64}}));
  auto undeclared = RunSql("SELECT id * 2 AS doubled FROM t WHERE 0", {{"t", &input}});
  ASSERT_TRUE(undeclared.ok()) << undeclared.status();
  EXPECT_EQ(TypeOf(*undeclared, "doubled"), DataType::kString);
}

TEST(SqlRecipe, EmptyInputLoads) {
  const Table empty = MakeTable({{"x", DataType::kDate}}, {Column(DataType::kDate)});
  auto result = RunSql("SELECT x, count(*) OVER () AS n FROM e", {{"e", &empty}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_rows(), 0);
  EXPECT_EQ(TypeOf(*result, "x"), DataType::kDate);
}

TEST(SqlRecipe, NanBecomesNull) {
  const Table input = MakeTable({{"f", DataType::kFloat64}},
                                {Floats({std::numeric_limits<double>::quiet_NaN(), 1.0})});
  auto result = RunSql("SELECT f, f IS NULL AS missing FROM t", {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->column(0).IsNull(0));
  EXPECT_EQ(result->column(1).int64_values(), (std::vector<int64_t>{1, 0}));
}

TEST(SqlRecipe, InputNamesThatNeedQuoting) {
  const Table input = AllTypes();
  auto result =
      RunSql("SELECT count(*) AS n FROM \"CHURN/providers\"", {{"CHURN/providers", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->column(0).int64_values()[0], 3);
}

TEST(SqlRecipe, RejectsWrites) {
  const Table input = AllTypes();
  struct Case {
    const char* query;
    const char* what;
  };
  const Case cases[] = {
      {"INSERT INTO t (id) VALUES (4)", "INSERT into \"t\""},
      {"UPDATE t SET id = 5", "UPDATE \"t\""},
      {"DELETE FROM t", "DELETE from \"t\""},
      {"DROP TABLE t", "DROP \"t\""},
      {"CREATE TABLE u (x)", "CREATE \"u\""},
      {"CREATE TEMP VIEW v AS SELECT 1", "CREATE \"v\""},
      {"ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH"},
      {"PRAGMA query_only = 0", "PRAGMA query_only = 0"},
      {"PRAGMA user_version = 3", "PRAGMA user_version = 3"},
      {"PRAGMA journal_mode", "PRAGMA journal_mode"},
      {"BEGIN", "BEGIN a transaction"},
      {"ALTER TABLE t ADD COLUMN z", "ALTER TABLE"},
      {"WITH x AS (SELECT 1) INSERT INTO t (id) SELECT * FROM x", "INSERT into \"t\""},
  };
  for (const Case& c : cases) {
    auto result = RunSql(c.query, {{"t", &input}});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << c.query;
    EXPECT_THAT(result.status().message(), HasSubstr("must be one read-only SELECT")) << c.query;
    EXPECT_THAT(result.status().message(), HasSubstr(c.what)) << c.query;
  }
}

TEST(SqlRecipe, RejectsSchemaTableWrites) {
  const Table input = AllTypes();
  for (const char* query : {"DELETE FROM sqlite_master", "UPDATE sqlite_schema SET sql = ''"}) {
    auto result = RunSql(query, {{"t", &input}});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << query;
    EXPECT_THAT(result.status().message(), HasSubstr("may not be modified")) << query;
  }
}

TEST(SqlRecipe, AllowsReadOnlyPragmas) {
  const Table input = AllTypes();
  auto result = RunSql("PRAGMA table_info(t)", {{"t", &input}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_rows(), 6);
  auto function =
      RunSql("SELECT name, type FROM pragma_table_info('t') ORDER BY cid", {{"t", &input}});
  ASSERT_TRUE(function.ok()) << function.status();
  EXPECT_EQ(function->column(1).StringAt(4), "TEXT");  // a date is TEXT in SQLite
}

TEST(SqlRecipe, RejectsMultipleStatements) {
  const Table input = AllTypes();
  for (const char* query : {"SELECT 1; SELECT 2", "SELECT 1; DROP TABLE t", "SELECT 1;;x",
                            "SELECT 1; -- fine\n SELECT 2"}) {
    auto result = RunSql(query, {{"t", &input}});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << query;
    EXPECT_THAT(result.status().message(), HasSubstr("must be a single statement")) << query;
  }
  // A trailing ';' and comments are not a second statement.
  auto ok = RunSql("SELECT id FROM t; -- the ids\n /* done */ ;", {{"t", &input}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->num_rows(), 3);
}

TEST(SqlRecipe, RejectsEmptyAndColumnlessStatements) {
  auto empty = RunSql("-- nothing here", {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("holds no statement"));
}

TEST(SqlRecipe, SyntaxErrorReportsSqliteMessageAndQuery) {
  const Table input = AllTypes();
  auto result = RunSql("SELEC id FROM t", {{"t", &input}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("near \"SELEC\": syntax error"));
  EXPECT_THAT(result.status().message(), HasSubstr("in query: SELEC id FROM t"));

  auto missing = RunSql("SELECT nope FROM t", {{"t", &input}});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("no such column: nope"));

  auto no_table = RunSql("SELECT * FROM u", {{"t", &input}});
  EXPECT_THAT(no_table.status().message(), HasSubstr("no such table: u"));
}

TEST(SqlRecipe, RuntimeErrorReportsSqliteMessage) {
  auto result = RunSql("SELECT json_extract('{not json', '$.a') AS a", {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("malformed JSON"));
  EXPECT_THAT(result.status().message(), HasSubstr("in query: SELECT json_extract"));
}

TEST(SqlRecipe, DuplicateResultNamesAskForAliases) {
  const Table left = MakeTable({{"id", DataType::kInt64}}, {Ints({1})});
  const Table right = MakeTable({{"id", DataType::kInt64}}, {Ints({1})});
  auto result =
      RunSql("SELECT l.id, r.id FROM l JOIN r ON l.id = r.id", {{"l", &left}, {"r", &right}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("two columns named \"id\" (columns 1 and 2)"));
  EXPECT_THAT(result.status().message(), HasSubstr("with AS"));
}

TEST(SqlRecipe, ExplicitTypeErrors) {
  const Table input = AllTypes();
  auto unknown = RunSql("SELECT id FROM t", {{"t", &input}}, {{"idd", DataType::kInt64}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("\"types\" names column \"idd\", which the query does not return "
                        "(columns: id)"));

  auto misfit =
      RunSql("SELECT name FROM t ORDER BY id", {{"t", &input}}, {{"name", DataType::kDate}});
  EXPECT_EQ(misfit.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(misfit.status().message(),
              HasSubstr("result column \"name\" row 1: value 'a' is not a valid date"));
}

TEST(SqlRecipe, ExplicitTypesConvert) {
  auto result =
      RunSql("SELECT 1 AS b, '2024-01-01 08:30:00' AS ts, 3.0 AS i, '42' AS n, 2 AS f", {},
             {{"b", DataType::kBool},
              {"ts", DataType::kTimestamp},
              {"i", DataType::kInt64},
              {"n", DataType::kInt64},
              {"f", DataType::kFloat64}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->column(0).bool_values()[0], 1);
  EXPECT_EQ(result->column(1).int64_values()[0], kJan1At0830);
  EXPECT_EQ(result->column(2).int64_values()[0], 3);
  EXPECT_EQ(result->column(3).int64_values()[0], 42);
  EXPECT_EQ(result->column(4).float64_values()[0], 2.0);
  auto not_integral = RunSql("SELECT 3.5 AS i", {}, {{"i", DataType::kInt64}});
  EXPECT_THAT(not_integral.status().message(), HasSubstr("value 3.5 is not a valid int64"));
  auto not_bool = RunSql("SELECT 2 AS b", {}, {{"b", DataType::kBool}});
  EXPECT_THAT(not_bool.status().message(), HasSubstr("value 2 is not a valid bool"));
}

TEST(SqlRecipe, RejectsBlobs) {
  auto result = RunSql("SELECT x'00ff' AS raw", {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("\"raw\" row 1 is a BLOB"));
  auto hex = RunSql("SELECT hex(x'00ff') AS raw", {});
  ASSERT_TRUE(hex.ok()) << hex.status();
  EXPECT_EQ(hex->column(0).StringAt(0), "00FF");
}

TEST(SqlRecipe, RejectsBadInputNames) {
  const Table input = AllTypes();
  auto duplicate = RunSql("SELECT 1", {{"Visits", &input}, {"visits", &input}});
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(duplicate.status().message(),
              HasSubstr("inputs \"Visits\" and \"visits\" have the same SQLite table name"));
  auto reserved = RunSql("SELECT 1", {{"sqlite_master2", &input}});
  EXPECT_THAT(reserved.status().message(), HasSubstr("reserves"));
  const Table no_columns;
  auto columnless = RunSql("SELECT 1", {{"e", &no_columns}});
  EXPECT_THAT(columnless.status().message(), HasSubstr("input \"e\" has no columns"));
  const Table clash =
      MakeTable({{"id", DataType::kInt64}, {"ID", DataType::kInt64}}, {Ints({1}), Ints({2})});
  auto case_clash = RunSql("SELECT 1", {{"c", &clash}});
  EXPECT_EQ(case_clash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(case_clash.status().message(), HasSubstr("cannot load input \"c\""));
}

TEST(SqlRecipe, DebianSqliteHasColumnMetadata) {
  // The origin-type rule above depends on it; if this fails, the build links a SQLite without
  // SQLITE_ENABLE_COLUMN_METADATA and result types degrade to inference.
  EXPECT_TRUE(SqliteHasColumnMetadata());
}

}  // namespace
}  // namespace assay::recipes
