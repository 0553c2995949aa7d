#include "recipes/python_recipe.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "recipes/external_process.h"
#include "table/column.h"
#include "table/table.h"
#include "tests/testing/temp_dir.h"

namespace assay::recipes {
namespace {

namespace fs = std::filesystem;
using table::Column;
using table::ColumnBuilder;
using table::DataType;
using table::Field;
using table::Table;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int32_t kJan1 = 19723;  // 2024-01-01
constexpr int64_t kMicrosPerDay = 86'400'000'000;

Table MakeTable(std::vector<Field> fields, std::vector<Column> columns) {
  auto table = Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : Table();
}

// Every type, a null in every column, and strings the exchange must not confuse with nulls
// or delimiters.
Table AllTypes() {
  ColumnBuilder id(DataType::kInt64), flag(DataType::kBool), score(DataType::kFloat64),
      name(DataType::kString), day(DataType::kDate), at(DataType::kTimestamp);
  id.AppendInt64(1);
  id.AppendInt64(-9'223'372'036'854'775'807 - 1);
  id.AppendNull();
  id.AppendInt64(9'223'372'036'854'775'807);
  flag.AppendBool(true);
  flag.AppendBool(false);
  flag.AppendNull();
  flag.AppendBool(true);
  score.AppendFloat64(1.5);
  score.AppendNull();
  score.AppendFloat64(-0.1);
  score.AppendFloat64(1e300);
  name.AppendString("NA");
  name.AppendString("");
  name.AppendNull();
  name.AppendString("say \"hi\", then\nleave ");
  day.AppendDate(kJan1);
  day.AppendNull();
  day.AppendDate(kJan1 + 59);
  day.AppendDate(-719'162);  // 0001-01-01, Python's smallest date
  at.AppendInt64(int64_t{kJan1} * kMicrosPerDay + 1);
  at.AppendInt64(int64_t{kJan1} * kMicrosPerDay);
  at.AppendNull();
  at.AppendInt64(-1);  // 1969-12-31T23:59:59.999999Z
  return MakeTable(
      {{"id", DataType::kInt64},
       {"flag", DataType::kBool},
       {"score", DataType::kFloat64},
       {"name", DataType::kString},
       {"day", DataType::kDate},
       {"at", DataType::kTimestamp}},
      {id.Finish(), flag.Finish(), score.Finish(), name.Finish(), day.Finish(), at.Finish()});
}

PythonSpec Inline(const std::string& script, std::vector<std::string> outputs = {"out"}) {
  PythonSpec spec;
  spec.script = script;
  spec.outputs = std::move(outputs);
  return spec;
}

// importlib.metadata is fast; pip freeze (about a second) is exercised by its own test.
PythonRunOptions FastOptions() {
  PythonRunOptions options;
  options.use_pip_freeze = false;
  return options;
}

const Table* Output(const PythonRunResult& result, const std::string& name) {
  for (const auto& [output_name, table] : result.outputs) {
    if (output_name == name) return &table;
  }
  ADD_FAILURE() << "no output " << name;
  return nullptr;
}

TEST(PythonRecipe, ParsesConfig) {
  auto spec = ParsePythonSpec(nlohmann::json::parse(
      R"json({"script": "print(1)", "outputs": ["a", "b"], "timeout_seconds": 2.5,
              "interpreter": "python3"})json"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->script, "print(1)");
  EXPECT_EQ(spec->interpreter, "python3");
  EXPECT_EQ(spec->timeout_seconds, 2.5);
  EXPECT_EQ(spec->outputs, (std::vector<std::string>{"a", "b"}));

  auto defaults =
      ParsePythonSpec(nlohmann::json::parse(R"({"script_file": "s.py", "outputs": ["a"]})"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->script_file, "s.py");
  EXPECT_EQ(defaults->interpreter, "/usr/bin/python3");
  EXPECT_EQ(defaults->timeout_seconds, 3600);
}

TEST(PythonRecipe, ConfigErrorsNameTheKey) {
  struct Case {
    const char* config;
    const char* message;
  };
  const Case cases[] = {
      {R"("x")", "python config: expected an object"},
      {R"({"outputs": ["a"]})", "one of \"script\" (inline code) or \"script_file\""},
      {R"({"script": "x", "script_file": "y", "outputs": ["a"]})", "not both"},
      {R"({"script": "x"})", "\"outputs\" is required"},
      {R"({"script": "x", "outputs": []})", "\"outputs\": expected a non-empty list"},
      {R"({"script": "x", "outputs": ["a", 3]})", "\"outputs\"[1]: expected a non-empty string"},
      {R"({"script": "x", "outputs": ["a", "a"]})", "\"outputs\": \"a\" is listed twice"},
      {R"({"script": 5, "outputs": ["a"]})", "\"script\": expected a string"},
      {R"({"script": " ", "outputs": ["a"]})", "\"script\": expected a non-empty string"},
      {R"({"script": "x", "outputs": ["a"], "interpreter": ["py"]})",
       "\"interpreter\": expected a string"},
      {R"({"script": "x", "outputs": ["a"], "timeout_seconds": 0})",
       "\"timeout_seconds\": expected a positive number"},
      {R"({"script": "x", "outputs": ["a"], "timeout_seconds": "60"})",
       "\"timeout_seconds\": expected a positive number"},
      {R"({"script": "x", "outputs": ["a"], "timeout": 60})", "unknown key \"timeout\""},
  };
  for (const Case& c : cases) {
    auto spec = ParsePythonSpec(nlohmann::json::parse(c.config));
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << c.config;
    EXPECT_THAT(spec.status().message(), HasSubstr(c.message)) << c.config;
    EXPECT_THAT(std::string(spec.status().message()), StartsWith("python config: ")) << c.config;
  }
}

TEST(PythonRecipe, RowsRoundTripEveryTypeWithNulls) {
  const Table input = AllTypes();
  // The script also checks the Python values it is handed.
  auto result = RunPythonRecipe(Inline(R"(
import datetime, assay_recipe
rows = assay_recipe.input_rows("visits")
assert assay_recipe.input_names() == ["visits"]
assert assay_recipe.output_names() == ["out"]
assert assay_recipe.input_schema("visits")[4] == ("day", "date")
r = rows[0]
assert r["id"] == 1 and r["flag"] is True and r["score"] == 1.5 and r["name"] == "NA", r
assert r["day"] == datetime.date(2024, 1, 1), r
assert r["at"] == datetime.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=datetime.timezone.utc), r
assert rows[1]["name"] == "" and rows[1]["day"] is None and rows[1]["score"] is None, rows[1]
assert rows[2]["name"] is None and rows[2]["id"] is None and rows[2]["flag"] is None, rows[2]
assert rows[3]["name"] == 'say "hi", then\nleave ', rows[3]
assert rows[1]["id"] == -2**63 and rows[3]["id"] == 2**63 - 1
assert rows[3]["day"] == datetime.date(1, 1, 1)
assert rows[3]["at"].year == 1969
assay_recipe.write_output("out", rows)
)"),
                                {{"visits", &input}}, FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outputs.size(), 1u);
  const Table* out = Output(*result, "out");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->schema(), input.schema());
  EXPECT_TRUE(out->Equals(input));
}

TEST(PythonRecipe, DataFrameRoundTripsEveryTypeWithNulls) {
  const Table input = AllTypes();
  // 0001-01-01 is outside pandas' datetime64[ns] range, but dates stay Python dates.
  auto result = RunPythonRecipe(Inline(R"(
import assay_recipe
df = assay_recipe.input_dataframe("visits")
dtypes = {c: str(t) for c, t in df.dtypes.items()}
assert dtypes == {"id": "Int64", "flag": "boolean", "score": "float64", "name": "object",
                  "day": "object", "at": "datetime64[ns, UTC]"}, dtypes
assay_recipe.write_output("out", df)
)"),
                                {{"visits", &input}}, FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  const Table* out = Output(*result, "out");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->schema(), input.schema());
  EXPECT_TRUE(out->Equals(input));
}

TEST(PythonRecipe, InfersOutputTypesFromPythonValues) {
  auto result = RunPythonRecipe(Inline(R"(
import datetime, math, assay_recipe
tz = datetime.timezone(datetime.timedelta(hours=2))
assay_recipe.write_output("out", [
    {"i": 1, "f": 1.5, "n": 1, "b": True, "s": "x", "d": datetime.date(2024, 1, 1),
     "t": datetime.datetime(2024, 1, 1, 2, 0, tzinfo=tz), "z": None, "nan": math.nan},
    {"i": None, "f": 2.0, "n": 2.5, "b": False, "s": None, "d": None,
     "t": datetime.datetime(2024, 1, 1), "z": None, "nan": math.inf},
])
assay_recipe.write_output("empty", [], types={"when": "date", "count": "int64"})
assay_recipe.write_output("typed", [{"d": "2024-01-02", "c": 3}], types={"d": "date", "c": "float64"})
)",
                                       {"out", "empty", "typed"}),
                                {}, FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  const Table* out = Output(*result, "out");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->schema(), table::Schema({{"i", DataType::kInt64},
                                          {"f", DataType::kFloat64},
                                          {"n", DataType::kFloat64},
                                          {"b", DataType::kBool},
                                          {"s", DataType::kString},
                                          {"d", DataType::kDate},
                                          {"t", DataType::kTimestamp},
                                          {"z", DataType::kString},
                                          {"nan", DataType::kFloat64}}));
  // 02:00+02:00 is midnight UTC; a naive datetime is taken as UTC.
  EXPECT_EQ(out->column(6).int64_values()[0], int64_t{kJan1} * kMicrosPerDay);
  EXPECT_EQ(out->column(6).int64_values()[1], int64_t{kJan1} * kMicrosPerDay);
  EXPECT_TRUE(std::isnan(out->column(8).float64_values()[0]));  // NaN in rows is a value
  EXPECT_EQ(out->column(8).null_count(), 0);
  EXPECT_EQ(out->column(7).null_count(), 2);

  const Table* empty = Output(*result, "empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->num_rows(), 0);
  EXPECT_EQ(empty->schema(),
            table::Schema({{"when", DataType::kDate}, {"count", DataType::kInt64}}));
  const Table* typed = Output(*result, "typed");
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed->schema(), table::Schema({{"d", DataType::kDate}, {"c", DataType::kFloat64}}));
  EXPECT_EQ(typed->column(0).date_values()[0], kJan1 + 1);
}

TEST(PythonRecipe, MixedTypesInAColumnFailTheScript) {
  auto result = RunPythonRecipe(
      Inline("import assay_recipe\nassay_recipe.write_output('out', [{'a': 1}, {'a': 'x'}])"), {},
      FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("column 'a' mixes int64 and string values"));
}

TEST(PythonRecipe, FailingScriptReportsItsStderr) {
  PythonRunResult failed;
  auto result = RunPythonRecipe(Inline(R"(
print("working")
raise ValueError("unknown specialty code 'XX'")
)"),
                                {}, FastOptions(), &failed);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("failed with exit code 1"));
  EXPECT_THAT(result.status().message(), HasSubstr("ValueError: unknown specialty code 'XX'"));
  EXPECT_THAT(result.status().message(), HasSubstr("Traceback"));
  // The log of the failed run is kept for the flow.
  EXPECT_EQ(failed.stdout_text, "working\n");
  EXPECT_THAT(failed.stderr_text, HasSubstr("ValueError"));
  EXPECT_THAT(failed.environment.version, StartsWith("Python 3."));
}

TEST(PythonRecipe, FailureMessageKeepsTheLastFiftyLinesOfStderr) {
  auto result = RunPythonRecipe(Inline(R"(
import sys
for i in range(200):
    print("line", i, file=sys.stderr)
sys.exit(3)
)"),
                                {}, FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("exit code 3"));
  EXPECT_THAT(result.status().message(), HasSubstr("line 150\n"));
  EXPECT_THAT(result.status().message(), HasSubstr("line 199"));
  EXPECT_THAT(result.status().message(), Not(HasSubstr("line 149\n")));
}

TEST(PythonRecipe, ScriptKilledBySignalFailsTheRun) {
  auto result = RunPythonRecipe(Inline("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
                                {}, FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("killed by signal 9 (SIGKILL)"));
}

TEST(PythonRecipe, TimeoutKillsTheScript) {
  PythonSpec spec = Inline(R"(
import subprocess, time
subprocess.Popen(["sleep", "60"])
print("started", flush=True)
time.sleep(60)
)");
  spec.timeout_seconds = 1;
  PythonRunResult failed;
  auto result = RunPythonRecipe(spec, {}, FastOptions(), &failed);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(result.status().message(), HasSubstr("timed out after 1 s"));
  EXPECT_EQ(failed.stdout_text, "started\n");
}

TEST(PythonRecipe, MissingOutputIsNamed) {
  auto result =
      RunPythonRecipe(Inline("import assay_recipe\nassay_recipe.write_output('scored', [{'x': 1}])",
                             {"scored", "summary"}),
                      {}, FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("did not write declared output \"summary\""));
}

TEST(PythonRecipe, UndeclaredOutputAndUnknownInputFailTheScript) {
  auto undeclared =
      RunPythonRecipe(Inline("import assay_recipe\nassay_recipe.write_output('other', [{'x': 1}])"),
                      {}, FastOptions());
  EXPECT_EQ(undeclared.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(undeclared.status().message(),
              HasSubstr("no declared output named 'other' (declared outputs: out)"));
  auto unknown = RunPythonRecipe(Inline("import assay_recipe\nassay_recipe.input_rows('x')"), {},
                                 FastOptions());
  EXPECT_THAT(unknown.status().message(), HasSubstr("no input named 'x' (inputs: none)"));
}

TEST(PythonRecipe, RecordsTheEnvironment) {
  auto result = RunPythonRecipe(
      Inline("import assay_recipe\nprint('hello')\nassay_recipe.write_output('out', [])"), {},
      FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  const PythonEnvironment& environment = result->environment;
  EXPECT_EQ(environment.interpreter, "/usr/bin/python3");
  EXPECT_THAT(environment.version, StartsWith("Python 3."));
  EXPECT_EQ(environment.packages_source, "importlib.metadata");
  // bootstrap.sh installs python3-pandas.
  EXPECT_TRUE(std::any_of(environment.packages.begin(), environment.packages.end(),
                          [](const std::string& p) { return p.rfind("pandas==", 0) == 0; }));
  std::vector<std::string> sorted = environment.packages;
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
    std::string la = a, lb = b;
    std::transform(la.begin(), la.end(), la.begin(), ::tolower);
    std::transform(lb.begin(), lb.end(), lb.begin(), ::tolower);
    return la < lb;
  });
  EXPECT_EQ(sorted, environment.packages);
  EXPECT_EQ(result->stdout_text, "hello\n");
  const nlohmann::json json = PythonEnvironmentToJson(environment);
  EXPECT_EQ(json["version"], environment.version);
  EXPECT_EQ(json["packages"].size(), environment.packages.size());
  const Table* out = Output(*result, "out");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->num_columns(), 0);
}

TEST(PythonRecipe, RecordsPipFreezeWhenPipIsInstalled) {
  PythonRunOptions options;  // use_pip_freeze defaults to true
  auto result = RunPythonRecipe(Inline("import assay_recipe\nassay_recipe.write_output('out', [])"),
                                {}, options);
  ASSERT_TRUE(result.ok()) << result.status();
  // Debian ships python3 without pip; either way a non-empty list is recorded.
  const bool has_pip = [] {
    ProcessSpec probe;
    probe.argv = {"/usr/bin/python3", "-c", "import pip"};
    auto outcome = RunProcess(probe);
    return outcome.ok() && outcome->succeeded();
  }();
  EXPECT_EQ(result->environment.packages_source, has_pip ? "pip freeze" : "importlib.metadata");
  EXPECT_FALSE(result->environment.packages.empty());
}

TEST(PythonRecipe, ScriptFileInsteadOfInline) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "scripts");
  std::ofstream(dir.path() / "scripts" / "double.py") << R"(
import assay_recipe
from helper import factor  # a module beside the script file is importable
rows = assay_recipe.input_rows("numbers")
assay_recipe.write_output("doubled", [{"x": r["x"] * factor} for r in rows])
)";
  std::ofstream(dir.path() / "scripts" / "helper.py") << "factor = 2\n";
  ColumnBuilder x(DataType::kInt64);
  x.AppendInt64(21);
  const Table numbers = MakeTable({{"x", DataType::kInt64}}, {x.Finish()});

  PythonSpec spec;
  spec.script_file = "scripts/double.py";
  spec.outputs = {"doubled"};
  PythonRunOptions options = FastOptions();
  options.script_base_dir = dir.path();
  auto result = RunPythonRecipe(spec, {{"numbers", &numbers}}, options);
  ASSERT_TRUE(result.ok()) << result.status();
  const Table* doubled = Output(*result, "doubled");
  ASSERT_NE(doubled, nullptr);
  EXPECT_EQ(doubled->column(0).int64_values(), (std::vector<int64_t>{42}));

  spec.script_file = "scripts/missing.py";
  auto missing = RunPythonRecipe(spec, {}, options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("script_file \"scripts/missing.py\""));
}

TEST(PythonRecipe, MissingInterpreterIsNotFound) {
  PythonSpec spec = Inline("pass");
  spec.interpreter = "/nonexistent/python3";
  auto result = RunPythonRecipe(spec, {}, FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("interpreter \"/nonexistent/python3\""));
}

TEST(PythonRecipe, TempDirectoryIsRemovedOnSuccessAndFailure) {
  test::TempDir root;
  PythonRunOptions options = FastOptions();
  options.temp_root = root.path();
  ASSERT_TRUE(RunPythonRecipe(Inline("import assay_recipe\nassay_recipe.write_output('out', [])"),
                              {}, options)
                  .ok());
  EXPECT_TRUE(fs::is_empty(root.path()));
  EXPECT_FALSE(RunPythonRecipe(Inline("raise SystemExit(1)"), {}, options).ok());
  EXPECT_TRUE(fs::is_empty(root.path()));
  options.keep_temp_dir = true;
  EXPECT_FALSE(RunPythonRecipe(Inline("raise SystemExit(1)"), {}, options).ok());
  EXPECT_FALSE(fs::is_empty(root.path()));
}

TEST(PythonRecipe, SeveralInputsEmptyInputsAndOddNames) {
  const Table input = AllTypes();
  const Table empty = MakeTable({{"x", DataType::kDate}}, {Column(DataType::kDate)});
  auto result = RunPythonRecipe(Inline(R"(
import assay_recipe
assert assay_recipe.input_rows("CHURN/empty") == []
df = assay_recipe.input_dataframe("CHURN/empty")
assert list(df.columns) == ["x"] and len(df) == 0
rows = assay_recipe.input_rows("CHURN/visits")
assay_recipe.write_output("a b/c", [{"n": len(rows)}])
assay_recipe.write_output("copy", df)
)",
                                       {"a b/c", "copy"}),
                                {{"CHURN/visits", &input}, {"CHURN/empty", &empty}}, FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  const Table* count = Output(*result, "a b/c");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->column(0).int64_values(), (std::vector<int64_t>{4}));
  const Table* copy = Output(*result, "copy");
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->num_rows(), 0);
  EXPECT_EQ(copy->num_columns(), 1);
}

TEST(PythonRecipe, CsvWrittenWithoutTheHelperIsInferred) {
  auto result = RunPythonRecipe(Inline(R"(
import json, os
manifest = json.load(open(os.environ["ASSAY_RECIPE_MANIFEST"]))
with open(manifest["outputs"][0]["csv"], "w") as f:
    f.write("id,when\n1,2024-01-01\n2,NA\n")
)"),
                                {}, FastOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  const Table* out = Output(*result, "out");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->schema(), table::Schema({{"id", DataType::kInt64}, {"when", DataType::kDate}}));
  EXPECT_TRUE(out->column(1).IsNull(1));
}

TEST(PythonRecipe, RejectsDuplicateInputNames) {
  const Table input = AllTypes();
  auto result = RunPythonRecipe(Inline("pass"), {{"a", &input}, {"a", &input}}, FastOptions());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("two inputs are named \"a\""));
}

TEST(PythonRecipe, HelperModuleIsCompiledInFromTheRepository) {
  std::ifstream file(fs::path(ASSAY_TEST_DATA_DIR) / ".." / ".." / "python" / "assay_recipe.py");
  ASSERT_TRUE(file.good());
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(PythonHelperModuleSource(), content.str());
}

}  // namespace
}  // namespace assay::recipes
