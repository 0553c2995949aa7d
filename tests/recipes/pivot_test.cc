#include "recipes/pivot.h"

#include <limits>

#include "gtest/gtest.h"
#include "tests/recipes/reshape_test_tables.h"

namespace assay::recipes {
namespace {

using namespace testing;  // NOLINT(build/namespaces)

table::Table Doses() {
  return MakeTable({{"site", Strings({"s2", "s1", "s2", "s1", "s2", "s1", std::nullopt})},
                    {"visit", Strings({"v2", "v1", "v1", "v2", "v2", std::nullopt, "v1"})},
                    {"dose", Ints({10, 5, 7, std::nullopt, 20, 3, 1})},
                    {"level", Floats({1.5, 2.0, 0.5, 4.0, 3.0, 1.0, 9.0})}});
}

PivotSpec Spec(PivotAggregation aggregation, std::string value) {
  PivotSpec spec;
  spec.index = {"site"};
  spec.pivot_column = "visit";
  spec.value_column = std::move(value);
  spec.aggregation = aggregation;
  return spec;
}

TEST(Pivot, SumWithSortedColumnsAndNullColumnLast) {
  auto out = RunPivot(Spec(PivotAggregation::kSum, "dose"), Doses());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Names(*out), (std::vector<std::string>{"site", "v1", "v2", "null"}));
  EXPECT_EQ(Text(*out, "site"), (std::vector<std::string>{"s2", "s1", "null"}));
  EXPECT_EQ(Text(*out, "v1"), (std::vector<std::string>{"7", "5", "1"}));
  // s1/v2 has only a null dose: no value to sum, so null.
  EXPECT_EQ(Text(*out, "v2"), (std::vector<std::string>{"30", "null", "null"}));
  EXPECT_EQ(Text(*out, "null"), (std::vector<std::string>{"null", "3", "null"}));
  EXPECT_EQ(out->schema().field(1).type, table::DataType::kInt64);
}

TEST(Pivot, EveryAggregation) {
  auto count = RunPivot(Spec(PivotAggregation::kCount, "dose"), Doses());
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(Text(*count, "v2"), (std::vector<std::string>{"2", "0", "0"}));
  auto rows = RunPivot(Spec(PivotAggregation::kCount, ""), Doses());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Text(*rows, "v2"), (std::vector<std::string>{"2", "1", "0"}));
  auto mean = RunPivot(Spec(PivotAggregation::kMean, "dose"), Doses());
  ASSERT_TRUE(mean.ok());
  EXPECT_EQ(Text(*mean, "v2"), (std::vector<std::string>{"15.0", "null", "null"}));
  EXPECT_EQ(mean->schema().field(2).type, table::DataType::kFloat64);
  auto float_sum = RunPivot(Spec(PivotAggregation::kSum, "level"), Doses());
  ASSERT_TRUE(float_sum.ok());
  EXPECT_EQ(Text(*float_sum, "v2"), (std::vector<std::string>{"4.5", "4.0", "null"}));
  auto min = RunPivot(Spec(PivotAggregation::kMin, "level"), Doses());
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(Text(*min, "v2"), (std::vector<std::string>{"1.5", "4.0", "null"}));
  auto max = RunPivot(Spec(PivotAggregation::kMax, "visit"), Doses());
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->schema().field(1).type, table::DataType::kString);
  EXPECT_EQ(Text(*max, "v1"), (std::vector<std::string>{"v1", "v1", "v1"}));
  auto first = RunPivot(Spec(PivotAggregation::kFirst, "dose"), Doses());
  ASSERT_TRUE(first.ok());
  // First non-null value in input order.
  EXPECT_EQ(Text(*first, "v2"), (std::vector<std::string>{"10", "null", "null"}));
}

TEST(Pivot, NaturalOrderOfNonStringPivotValuesAndPrefix) {
  const table::Table input =
      MakeTable({{"k", Ints({1, 1, 1, 2})},
                 {"when", Dates({"2024-10-01", "2024-02-01", "2024-10-01", "2023-01-01"})},
                 {"n", Ints({10, 2, 1, 5})}});
  PivotSpec spec;
  spec.index = {"k"};
  spec.pivot_column = "when";
  spec.value_column = "n";
  spec.aggregation = PivotAggregation::kSum;
  spec.column_prefix = "n_";
  auto out = RunPivot(spec, input);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Names(*out),
            (std::vector<std::string>{"k", "n_2023-01-01", "n_2024-02-01", "n_2024-10-01"}));
  EXPECT_EQ(Text(*out, "n_2024-10-01"), (std::vector<std::string>{"11", "null"}));

  const table::Table numbers = MakeTable({{"p", Ints({10, 9, -1, 10})}});
  PivotSpec by_number;
  by_number.pivot_column = "p";
  auto counted = RunPivot(by_number, numbers);
  ASSERT_TRUE(counted.ok()) << counted.status();
  // Numeric order, not text order; no index columns gives one row.
  EXPECT_EQ(Names(*counted), (std::vector<std::string>{"-1", "9", "10"}));
  EXPECT_EQ(Text(*counted, "10"), (std::vector<std::string>{"2"}));
}

TEST(Pivot, NullPivotValuesCanBeDroppedOrRelabelled) {
  PivotSpec spec = Spec(PivotAggregation::kCount, "");
  spec.null_pivot = PivotNulls::kDrop;
  auto dropped = RunPivot(spec, Doses());
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(Names(*dropped), (std::vector<std::string>{"site", "v1", "v2"}));
  spec.null_pivot = PivotNulls::kColumn;
  spec.null_label = "unknown";
  auto labelled = RunPivot(spec, Doses());
  ASSERT_TRUE(labelled.ok());
  EXPECT_EQ(Names(*labelled), (std::vector<std::string>{"site", "v1", "v2", "unknown"}));
}

TEST(Pivot, EmptyInput) {
  auto out = RunPivot(Spec(PivotAggregation::kSum, "dose"), Doses().Slice(0, 0));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Names(*out), (std::vector<std::string>{"site"}));
  EXPECT_EQ(out->num_rows(), 0);
}

TEST(Pivot, ColumnLimitNamesTheLimitAndTheFix) {
  PivotSpec spec = Spec(PivotAggregation::kCount, "");
  spec.max_columns = 2;
  auto out = RunPivot(spec, Doses());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "pivot: column \"visit\" has 3 distinct values, more than max_columns = 2; raise "
            "\"max_columns\" in the pivot config or filter the rows first");
  spec.null_pivot = PivotNulls::kDrop;
  EXPECT_TRUE(RunPivot(spec, Doses()).ok());
}

TEST(Pivot, NameClashesAreErrors) {
  const table::Table input =
      MakeTable({{"a", Strings({"x", "y"})}, {"p", Strings({"a", std::nullopt})}});
  PivotSpec spec;
  spec.index = {"a"};
  spec.pivot_column = "p";
  auto clash = RunPivot(spec, input);
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(clash.status().message(),
            "pivot: generated column \"a\" clashes with the index column of that name; set "
            "\"column_prefix\" or \"null_label\"");
  spec.column_prefix = "p_";
  auto fixed = RunPivot(spec, input);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(Names(*fixed), (std::vector<std::string>{"a", "p_a", "p_null"}));

  const table::Table label = MakeTable({{"p", Strings({"null", std::nullopt})}});
  PivotSpec label_spec;
  label_spec.pivot_column = "p";
  EXPECT_EQ(RunPivot(label_spec, label).status().code(), absl::StatusCode::kInvalidArgument);
  const table::Table empty_value = MakeTable({{"p", Strings({""})}});
  EXPECT_EQ(RunPivot(label_spec, empty_value).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Pivot, SchemaErrorsBeforeAnyRow) {
  const table::Table input = Doses();
  PivotSpec spec = Spec(PivotAggregation::kSum, "visit");
  EXPECT_EQ(RunPivot(spec, input).status().message(),
            "pivot: aggregation \"sum\" needs an int64 or float64 value column, but \"visit\" is "
            "string");
  spec = Spec(PivotAggregation::kSum, "amount");
  EXPECT_EQ(RunPivot(spec, input).status().message(),
            "pivot: value column \"amount\" not found (columns: site, visit, dose, level)");
  spec = Spec(PivotAggregation::kSum, "dose");
  spec.pivot_column = "site";
  EXPECT_EQ(RunPivot(spec, input).status().message(),
            "pivot: pivot_column \"site\" is also an index column; remove it from \"index\"");
  spec = Spec(PivotAggregation::kSum, "dose");
  spec.index = {"region"};
  EXPECT_EQ(RunPivot(spec, input).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec(PivotAggregation::kMean, "");
  EXPECT_EQ(RunPivot(spec, input).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec(PivotAggregation::kSum, "dose");
  spec.max_columns = 0;
  EXPECT_EQ(RunPivot(spec, input).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Pivot, Int64SumOverflowIsAnError) {
  const table::Table input = MakeTable(
      {{"p", Strings({"a", "a"})}, {"v", Ints({std::numeric_limits<int64_t>::max(), 1})}});
  PivotSpec spec;
  spec.pivot_column = "p";
  spec.value_column = "v";
  spec.aggregation = PivotAggregation::kSum;
  auto out = RunPivot(spec, input);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("overflows"), std::string::npos);
}

TEST(Pivot, ParsesConfig) {
  auto spec = ParsePivotSpec(Json(R"({"index": ["site"], "pivot_column": "visit",
      "value_column": "dose", "aggregation": "mean", "max_columns": 50, "column_prefix": "",
      "null_pivot": "drop", "null_label": "none"})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->index, (std::vector<std::string>{"site"}));
  EXPECT_EQ(spec->aggregation, PivotAggregation::kMean);
  EXPECT_EQ(spec->max_columns, 50);
  EXPECT_EQ(spec->null_pivot, PivotNulls::kDrop);
  EXPECT_EQ(spec->null_label, "none");
  auto minimal = ParsePivotSpec(Json(R"({"pivot_column": "visit", "aggregation": "count"})"));
  ASSERT_TRUE(minimal.ok()) << minimal.status();
  EXPECT_EQ(minimal->max_columns, 1000);
  EXPECT_EQ(minimal->null_pivot, PivotNulls::kColumn);
}

TEST(Pivot, RejectsBadConfig) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"aggregation": "sum"})", "pivot config: missing required key \"pivot_column\""},
      {R"({"pivot_column": "p"})", "pivot config: missing required key \"aggregation\""},
      {R"({"pivot_column": "p", "aggregation": "median"})",
       "pivot config: \"aggregation\": expected \"count\", \"sum\", \"mean\", \"min\", \"max\" or "
       "\"first\""},
      {R"({"pivot_column": "p", "aggregation": "sum"})",
       "pivot config: missing required key \"value_column\" (aggregation \"sum\" needs a value "
       "column)"},
      {R"({"pivot_column": "p", "aggregation": "count", "max_columns": 0})",
       "pivot config: \"max_columns\": expected an integer >= 1"},
      {R"({"pivot_column": "p", "aggregation": "count", "column_prefix": 1})",
       "pivot config: \"column_prefix\": expected a string"},
      {R"({"pivot_column": "p", "aggregation": "count", "null_pivot": "skip"})",
       "pivot config: \"null_pivot\": expected \"column\" or \"drop\""},
      {R"({"pivot_column": "p", "aggregation": "count", "values": "v"})",
       "pivot config: unknown key \"values\" (allowed keys: index, pivot_column, value_column, "
       "aggregation, max_columns, column_prefix, null_pivot, null_label)"},
  };
  ExpectConfigErrors(ParsePivotSpec, cases);
}

}  // namespace
}  // namespace assay::recipes
