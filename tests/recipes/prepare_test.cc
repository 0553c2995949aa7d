// The prepare recipe as a whole (config parsing, binding before running, error prefixes, the
// run log, a multi-step pipeline) and the column-shaping processors.
#include "recipes/prepare.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/recipes/prepare_test_tables.h"

namespace assay::recipes {
namespace {

using namespace ::assay::recipes::testing;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;
using table::DataType;

table::Table Patients() {
  return MakeTable({{"id", Ints({1, 2, 3, 4})},
                    {"site", Strings({"A", "B", std::nullopt, "A"})},
                    {"dose", Strings({"10", " 20 ", "abc", std::nullopt})},
                    {"weight", Floats({70.5, std::nullopt, 80.0, 65.25})}});
}

// ---- Config parsing -------------------------------------------------------------------------

TEST(PrepareSpec, EmptyConfigIsIdentity) {
  auto spec = ParsePrepareSpec(json::object());
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto result = RunPrepare(*spec, Patients());
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->output.Equals(Patients()));
  EXPECT_TRUE(result->log.empty());
}

TEST(PrepareSpec, RejectsBadShapes) {
  auto expect_error = [](const json& config, const std::string& fragment) {
    auto spec = ParsePrepareSpec(config);
    ASSERT_FALSE(spec.ok()) << config.dump();
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(spec.status().message()), StartsWith("prepare config: "));
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(fragment)) << config.dump();
  };
  expect_error(json::array(), "expected an object");
  expect_error(R"j({"step": []})j"_json, "step: unknown key");
  expect_error(R"j({"steps": {}})j"_json, "steps: expected a list");
  expect_error(R"j({"steps": [3]})j"_json, "steps[0]: expected an object");
  expect_error(R"j({"steps": [{"columns": ["a"]}]})j"_json, "steps[0].type: missing");
  expect_error(R"j({"steps": [{"type": "renam"}]})j"_json, "unknown step type \"renam\"");
  expect_error(R"j({"steps": [{"type": "rename", "columns": {"a": "b"}, "colour": 1}]})j"_json,
               "steps[0].colour: unknown key for step type \"rename\"");
  expect_error(R"j({"steps": [{"type": "rename"}]})j"_json,
               "steps[0].columns: missing required key");
  expect_error(R"j({"steps": [{"type": "rename", "columns": {"a": 1}}]})j"_json,
               "steps[0].columns.a: expected a non-empty map");
  expect_error(R"j({"steps": [{"type": "rename", "columns": {"a": "b"}, "comment": 5}]})j"_json,
               "steps[0].comment: expected a string");
  expect_error(R"j({"steps": [{"type": "round", "columns": "x"}]})j"_json,
               "steps[0].columns: expected a non-empty list of column names");
  expect_error(R"j({"steps": [{"type": "cast", "columns": ["x"], "to": "int"}]})j"_json,
               "steps[0].to: expected one of bool, int64");
  expect_error(R"j({"steps": [{"type": "delete_columns", "pattern": "("}]})j"_json,
               "steps[0].pattern: invalid regular expression");
  expect_error(R"j({"steps": [{"type": "delete_columns"}]})j"_json, "set columns");
}

TEST(PrepareSpec, KeepsComments) {
  auto result = RunSteps(R"j([{"type": "rename", "columns": {"id": "patient_id"},
                         "comment": "CDISC naming"}])j"_json,
                         Patients());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->log.size(), 1u);
  EXPECT_EQ(result->log[0].comment, "CDISC naming");
  EXPECT_EQ(PrepareLogToJson(result->log)[0]["comment"], "CDISC naming");
}

// ---- Binding ----------------------------------------------------------------------------------

TEST(PrepareBind, LateErrorIsReportedBeforeAnyStepRuns) {
  // Step 1 would fail at run time (cast with on_error fail on "abc"); step 3 names a column
  // that does not exist. The bind error of step 3 must win, proving nothing ran.
  auto result =
      RunSteps(R"j([{"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "fail"},
                        {"type": "rename", "columns": {"site": "centre"}},
                        {"type": "round", "columns": ["site"]}])j"_json,
               Patients());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("prepare step 3 (round): column \"site\" (columns) not found"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("centre"));
}

TEST(PrepareBind, SchemaOnlyValidation) {
  auto spec = ParsePrepareSpec(json{{"steps", R"j([
      {"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "null"},
      {"type": "rename", "columns": {"dose": "dose_mg"}},
      {"type": "delete_columns", "columns": ["weight"]}])j"_json}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto schema = BindPrepare(*spec, Patients().schema());
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_EQ(*schema, table::Schema({{"id", DataType::kInt64},
                                    {"site", DataType::kString},
                                    {"dose_mg", DataType::kInt64}}));
  auto bad = BindPrepare(*spec, table::Schema({{"id", DataType::kInt64}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), StartsWith("prepare step 1 (cast): "));
}

TEST(PrepareBind, TypeErrorNamesColumnAndFix) {
  auto result = RunSteps(R"j([{"type": "string_transform", "columns": ["weight"],
                         "operations": ["trim"]}])j"_json,
                         Patients());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(std::string(result.status().message()),
            "prepare step 1 (string_transform): column \"weight\" has type float64, expected "
            "string; cast it to string first");
}

// ---- Pipeline and log -------------------------------------------------------------------------

TEST(PreparePipeline, StepsChainAndLogCounts) {
  auto result = RunSteps(R"j([
      {"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "null"},
      {"type": "remove_empty", "columns": ["site"]},
      {"type": "fill_empty", "columns": ["dose"], "value": 0},
      {"type": "rename", "columns": {"dose": "dose_mg"}},
      {"type": "filter_range", "column": "dose_mg", "min": 5},
      {"type": "keep_columns", "columns": ["id", "dose_mg"]}])j"_json,
                         Patients());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Names(result->output), ElementsAre("id", "dose_mg"));
  EXPECT_THAT(Cells(result->output, "id"), ElementsAre("1", "2"));
  EXPECT_THAT(Cells(result->output, "dose_mg"), ElementsAre("10", "20"));
  ASSERT_EQ(result->log.size(), 6u);
  EXPECT_EQ(result->log[0].conversion_failures, 1);  // "abc"
  EXPECT_EQ(result->log[1].rows_in, 4);
  EXPECT_EQ(result->log[1].rows_out, 3);
  EXPECT_EQ(result->log[2].cells_changed, 1);  // the null left by row 4
  EXPECT_EQ(result->log[4].rows_out, 2);
  EXPECT_EQ(result->log[5].step, 6);
  const json log = PrepareLogToJson(result->log);
  EXPECT_EQ(log[0]["conversion_failures"], 1);
  EXPECT_EQ(log[1]["rows_out"], 3);
  EXPECT_FALSE(log[3].contains("conversion_failures"));
}

TEST(PreparePipeline, EmptyTable) {
  const table::Table empty = Patients().Slice(0, 0);
  auto result = RunSteps(R"j([
      {"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "fail"},
      {"type": "impute", "columns": ["weight"], "method": "median"},
      {"type": "one_hot", "column": "site"},
      {"type": "fill_forward", "columns": ["dose"], "group_by": ["id"]}])j"_json,
                         empty);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output.num_rows(), 0);
  EXPECT_THAT(Names(result->output), ElementsAre("id", "dose", "weight"));
}

// ---- rename / delete_columns / keep_columns ---------------------------------------------------

TEST(PrepareRename, RenamesInPlaceAndRejectsCollisions) {
  const auto out =
      RunOk(R"j({"type": "rename", "columns": {"site": "centre", "id": "pid"}})j"_json, Patients());
  EXPECT_THAT(Names(out), ElementsAre("pid", "centre", "dose", "weight"));
  EXPECT_THAT(Cells(out, "centre"), ElementsAre("A", "B", "null", "A"));
  auto clash = RunSteps(R"j([{"type": "rename", "columns": {"site": "dose"}}])j"_json, Patients());
  ASSERT_FALSE(clash.ok());
  EXPECT_THAT(std::string(clash.status().message()),
              HasSubstr("rename would produce two columns named \"dose\""));
  auto missing = RunSteps(R"j([{"type": "rename", "columns": {"nope": "x"}}])j"_json, Patients());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("column \"nope\" (columns) not found (columns: id, site, dose, weight)"));
}

TEST(PrepareSelectColumns, NamesAndPattern) {
  EXPECT_THAT(Names(RunOk(R"j({"type": "delete_columns", "columns": ["site"],
                              "pattern": "^w"})j"_json,
                          Patients())),
              ElementsAre("id", "dose"));
  // keep_columns keeps the input order, not the listed order.
  EXPECT_THAT(
      Names(RunOk(R"j({"type": "keep_columns", "columns": ["weight", "id"]})j"_json, Patients())),
      ElementsAre("id", "weight"));
  EXPECT_THAT(Names(RunOk(R"j({"type": "keep_columns", "pattern": "i"})j"_json, Patients())),
              ElementsAre("id", "site", "weight"));
  auto none = RunSteps(R"j([{"type": "keep_columns", "pattern": "^zzz"}])j"_json, Patients());
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("would leave no column"));
  auto missing = RunSteps(R"j([{"type": "delete_columns", "columns": ["x"]}])j"_json, Patients());
  EXPECT_FALSE(missing.ok());
}

// ---- cast -------------------------------------------------------------------------------------

TEST(PrepareCast, PolicyFailNamesRowAndValue) {
  auto result = RunSteps(
      R"j([{"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "fail"}])j"_json,
      Patients());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(std::string(result.status().message()),
            "prepare step 1 (cast): column \"dose\", row 3: cannot convert \"abc\" to int64; fix "
            "the data, or set on_error to \"null\" (counted in the run log) or \"keep\"");
}

TEST(PrepareCast, PolicyNullCounts) {
  auto result = RunSteps(
      R"j([{"type": "cast", "columns": ["dose"], "to": "float64", "on_error": "null"}])j"_json,
      Patients());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "dose"), ElementsAre("10.0", "20.0", "null", "null"));
  EXPECT_EQ(result->log[0].conversion_failures, 1);
  EXPECT_THAT(result->log[0].detail, HasSubstr("dose: 1 values not convertible, set to null"));
}

TEST(PrepareCast, PolicyKeepGivesStringWithCanonicalText) {
  const auto out =
      RunOk(R"j({"type": "cast", "columns": ["dose"], "to": "int64", "on_error": "keep"})j"_json,
            Patients());
  EXPECT_EQ(out.schema().field(2).type, DataType::kString);
  EXPECT_THAT(Cells(out, "dose"), ElementsAre("10", "20", "abc", "null"));
}

TEST(PrepareCast, ConversionMatrix) {
  const auto input =
      MakeTable({{"f", Floats({2.0, 2.5, -0.0})},
                 {"i", Ints({1, 0, 7})},
                 {"d", Col(DataType::kDate, {"2024-03-01", "1969-12-31", std::nullopt})},
                 {"t", Col(DataType::kTimestamp,
                           {"2024-03-01T23:59:59Z", "1969-12-31T12:00:00Z", std::nullopt})},
                 {"b", Strings({"yes", "F", "maybe"})}});
  auto result = RunSteps(R"j([
      {"type": "cast", "columns": ["f"], "to": "int64", "on_error": "null"},
      {"type": "cast", "columns": ["i"], "to": "bool", "on_error": "null"},
      {"type": "cast", "columns": ["d"], "to": "timestamp", "on_error": "fail"},
      {"type": "cast", "columns": ["t"], "to": "date", "on_error": "fail"},
      {"type": "cast", "columns": ["b"], "to": "bool", "on_error": "null"}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "f"), ElementsAre("2", "null", "0"));
  EXPECT_THAT(Cells(result->output, "i"), ElementsAre("true", "false", "null"));
  EXPECT_THAT(Cells(result->output, "d"),
              ElementsAre("2024-03-01T00:00:00Z", "1969-12-31T00:00:00Z", "null"));
  EXPECT_THAT(Cells(result->output, "t"), ElementsAre("2024-03-01", "1969-12-31", "null"));
  EXPECT_THAT(Cells(result->output, "b"), ElementsAre("true", "false", "null"));
  auto unsupported = RunSteps(
      R"j([{"type": "cast", "columns": ["d"], "to": "int64", "on_error": "fail"}])j"_json, input);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_THAT(std::string(unsupported.status().message()),
              HasSubstr("column \"d\" has type date, which cannot be cast to int64"));
  auto no_policy =
      ParsePrepareSpec(R"j({"steps": [{"type": "cast", "columns": ["d"], "to": "string"}]})j"_json);
  ASSERT_FALSE(no_policy.ok());
  EXPECT_THAT(std::string(no_policy.status().message()), HasSubstr("steps[0].on_error: missing"));
}

// ---- fold -------------------------------------------------------------------------------------

TEST(PrepareFold, MeltsRowMajorWithWidening) {
  const auto input = MakeTable(
      {{"id", Ints({1, 2})}, {"v1", Ints({10, std::nullopt})}, {"v2", Floats({0.5, 1.5})}});
  const auto out = RunOk(R"j({"type": "fold", "columns": ["v1", "v2"]})j"_json, input);
  EXPECT_THAT(Names(out), ElementsAre("id", "variable", "value"));
  EXPECT_EQ(out.schema().field(2).type, DataType::kFloat64);
  EXPECT_THAT(Cells(out, "id"), ElementsAre("1", "1", "2", "2"));
  EXPECT_THAT(Cells(out, "variable"), ElementsAre("v1", "v2", "v1", "v2"));
  EXPECT_THAT(Cells(out, "value"), ElementsAre("10.0", "0.5", "null", "1.5"));
  const auto dropped = RunOk(R"j({"type": "fold", "columns": ["v1", "id"], "name_column": "k",
                                 "value_column": "v", "drop_nulls": true})j"_json,
                             input);
  EXPECT_THAT(Names(dropped), ElementsAre("v2", "k", "v"));
  EXPECT_THAT(Cells(dropped, "k"), ElementsAre("v1", "id", "id"));
  auto clash =
      RunSteps(R"j([{"type": "fold", "columns": ["v1"], "name_column": "id"}])j"_json, input);
  EXPECT_FALSE(clash.ok());
}

TEST(PrepareFold, MixedTypesBecomeText) {
  const auto input = MakeTable({{"a", Strings({"x"})}, {"b", Ints({3})}});
  const auto out = RunOk(R"j({"type": "fold", "columns": ["a", "b"]})j"_json, input);
  EXPECT_EQ(out.schema().field(1).type, DataType::kString);
  EXPECT_THAT(Cells(out, "value"), ElementsAre("x", "3"));
}

// ---- one_hot ----------------------------------------------------------------------------------

TEST(PrepareOneHot, DiscoversSortedCategories) {
  auto result = RunSteps(R"j([{"type": "one_hot", "column": "site", "null_column": "site_missing"},
                        {"type": "delete_columns", "pattern": "^(dose|weight)$"}])j"_json,
                         Patients());
  ASSERT_TRUE(result.ok()) << result.status();
  const auto& out = result->output;
  EXPECT_THAT(Names(out), ElementsAre("id", "site_A", "site_B", "site_missing"));
  EXPECT_EQ(out.schema().field(1).type, DataType::kInt64);
  EXPECT_THAT(Cells(out, "site_A"), ElementsAre("1", "0", "0", "1"));
  EXPECT_THAT(Cells(out, "site_B"), ElementsAre("0", "1", "0", "0"));
  EXPECT_THAT(Cells(out, "site_missing"), ElementsAre("0", "0", "1", "0"));
}

TEST(PrepareOneHot, ListedValuesAreBoundAheadOfTime) {
  auto spec = ParsePrepareSpec(json{{"steps", R"j([
      {"type": "one_hot", "column": "site", "values": ["B", "C"], "prefix": "is_",
       "drop_source": false},
      {"type": "rename", "columns": {"is_B": "site_b"}}])j"_json}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto schema = BindPrepare(*spec, Patients().schema());
  ASSERT_TRUE(schema.ok()) << schema.status();
  auto result = RunPrepare(*spec, Patients());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output.schema(), *schema);
  EXPECT_THAT(Names(result->output), ElementsAre("id", "site", "site_b", "is_C", "dose", "weight"));
  EXPECT_THAT(Cells(result->output, "site_b"), ElementsAre("0", "1", "0", "0"));
  EXPECT_THAT(Cells(result->output, "is_C"), ElementsAre("0", "0", "0", "0"));
}

TEST(PrepareOneHot, TooManyCategoriesIsAnError) {
  auto result =
      RunSteps(R"j([{"type": "one_hot", "column": "id", "max_categories": 3}])j"_json, Patients());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("prepare step 1 (one_hot): column \"id\" has 4 distinct values, more "
                        "than max_categories (3)"));
  const auto out = RunOk(R"j({"type": "one_hot", "column": "id"})j"_json, Patients());
  EXPECT_THAT(Names(out), ElementsAre("id_1", "id_2", "id_3", "id_4", "site", "dose", "weight"));
}

// ---- switch_case ------------------------------------------------------------------------------

TEST(PrepareSwitchCase, MapsKeepsAndDefaults) {
  const auto kept = RunOk(R"j({"type": "switch_case", "column": "site",
                              "cases": {"A": "Alpha"}})j"_json,
                          Patients());
  EXPECT_THAT(Cells(kept, "site"), ElementsAre("Alpha", "B", "null", "Alpha"));
  const auto coded = RunOk(R"j({"type": "switch_case", "column": "site", "into": "site_code",
                               "cases": {"A": 1, "B": 2}, "default": null})j"_json,
                           Patients());
  EXPECT_EQ(coded.schema().field(4).type, DataType::kInt64);
  EXPECT_THAT(Cells(coded, "site_code"), ElementsAre("1", "2", "null", "1"));
  // Keys match on the column's canonical value: "70.50" is 70.5.
  const auto floats = RunOk(R"j({"type": "switch_case", "column": "weight",
                                "cases": {"70.50": 1.5}, "default": 0})j"_json,
                            Patients());
  EXPECT_THAT(Cells(floats, "weight"), ElementsAre("1.5", "null", "0.0", "0.0"));
}

TEST(PrepareSwitchCase, Errors) {
  auto no_default = RunSteps(
      R"j([{"type": "switch_case", "column": "site", "cases": {"A": 1}}])j"_json, Patients());
  ASSERT_FALSE(no_default.ok());
  EXPECT_THAT(std::string(no_default.status().message()), HasSubstr("add a default"));
  auto bad_key = RunSteps(R"j([{"type": "switch_case", "column": "id", "cases": {"x": 1}}])j"_json,
                          Patients());
  ASSERT_FALSE(bad_key.ok());
  EXPECT_THAT(std::string(bad_key.status().message()), HasSubstr("key \"x\" is not a int64"));
  auto mixed = ParsePrepareSpec(
      R"j({"steps": [{"type": "switch_case", "column": "id", "cases": {"1": "a", "2": 3}}]})j"_json);
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(std::string(mixed.status().message()), HasSubstr("results mix types"));
}

// ---- merge_long_tail --------------------------------------------------------------------------

TEST(PrepareMergeLongTail, TopKAndMinCount) {
  const auto input =
      MakeTable({{"drug", Strings({"a", "b", "a", "c", "b", "a", "d", std::nullopt, "c"})}});
  // Counts: a 3, b 2, c 2, d 1. top_k 2 keeps a and b (b wins the tie with c: smaller value).
  const auto top =
      RunOk(R"j({"type": "merge_long_tail", "column": "drug", "top_k": 2})j"_json, input);
  EXPECT_THAT(Cells(top, "drug"),
              ElementsAre("a", "b", "a", "Other", "b", "a", "Other", "null", "Other"));
  auto result = RunSteps(R"j([{"type": "merge_long_tail", "column": "drug", "min_count": 2,
                         "other_label": "rare"}])j"_json,
                         input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Cells(result->output, "drug"),
              ElementsAre("a", "b", "a", "c", "b", "a", "rare", "null", "c"));
  EXPECT_EQ(result->log[0].cells_changed, 1);
  EXPECT_EQ(result->log[0].detail, "drug: kept 3 of 4 categories");
  EXPECT_FALSE(RunSteps(R"j([{"type": "merge_long_tail", "column": "drug"}])j"_json, input).ok());
  auto typed =
      RunSteps(R"j([{"type": "merge_long_tail", "column": "id", "top_k": 1}])j"_json, Patients());
  ASSERT_FALSE(typed.ok());
  EXPECT_THAT(std::string(typed.status().message()), HasSubstr("cast it to string first"));
}

}  // namespace
}  // namespace assay::recipes
