#include "recipes/python_recipe.h"

#include <stdlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "generated/assay_recipe_py.h"
#include "recipes/external_process.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"

namespace assay::recipes {
namespace {

namespace fs = std::filesystem;
using table::DataType;
using table::Field;
using table::Table;

// The failure message quotes this many trailing lines of the script's stderr: enough for a
// Python traceback, short enough for a run summary (the whole stderr is in the run log).
constexpr int kStderrTailLines = 50;

// Reading the version and listing packages are quick; these limits only stop a broken
// interpreter from hanging the run.
constexpr double kVersionTimeoutSeconds = 60;
constexpr double kPackagesTimeoutSeconds = 300;

// Lists the installed distributions. Runs with the interpreter under test, so it must work on
// any Python 3: no f-strings, stdlib only. argv[1] is "pip" to prefer `pip freeze`.
constexpr std::string_view kPackagesProbe = R"py(
import json, os, subprocess, sys

def from_metadata():
    try:
        import importlib.metadata as metadata
    except ImportError:
        return []
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in found:
            found[name.lower()] = "%s==%s" % (name, dist.version)
    return [found[key] for key in sorted(found)]

result = None
if sys.argv[1] == "pip":
    import importlib.util
    if importlib.util.find_spec("pip") is not None:
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        done = subprocess.run([sys.executable, "-m", "pip", "freeze"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env)
        if done.returncode == 0:
            lines = [line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines()]
            result = {"source": "pip freeze", "packages": [line for line in lines if line]}
if result is None:
    result = {"source": "importlib.metadata", "packages": from_metadata()}
sys.stdout.write(json.dumps(result))
)py";

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status WriteWholeFile(const fs::path& path, std::string_view contents) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (file == nullptr) {
    return absl::InternalError(
        absl::StrCat("python recipe: cannot create ", path.string(), ": ", std::strerror(errno)));
  }
  if (!contents.empty() &&
      std::fwrite(contents.data(), 1, contents.size(), file.get()) != contents.size()) {
    return absl::InternalError(
        absl::StrCat("python recipe: cannot write ", path.string(), ": ", std::strerror(errno)));
  }
  if (std::fclose(file.release()) != 0) {
    return absl::InternalError(
        absl::StrCat("python recipe: cannot write ", path.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// The run's private directory; removed when the run ends unless asked to keep it.
class RunDirectory {
 public:
  static absl::StatusOr<std::unique_ptr<RunDirectory>> Make(const fs::path& root, bool keep) {
    std::error_code error;
    fs::path base = root.empty() ? fs::temp_directory_path(error) : root;
    if (error) {
      return absl::InternalError(
          absl::StrCat("python recipe: no temporary directory: ", error.message()));
    }
    std::string pattern = (base / "assay-python-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("python recipe: cannot create a directory in ",
                                              base.string(), ": ", std::strerror(errno)));
    }
    auto directory = std::unique_ptr<RunDirectory>(new RunDirectory(pattern, keep));
    for (const char* sub : {"lib", "inputs", "outputs", "work"}) {
      fs::create_directory(directory->path() / sub, error);
      if (error) {
        return absl::InternalError(absl::StrCat("python recipe: cannot create ",
                                                (directory->path() / sub).string(), ": ",
                                                error.message()));
      }
    }
    return directory;
  }
  ~RunDirectory() {
    if (keep_) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const fs::path& path() const { return path_; }

 private:
  RunDirectory(fs::path path, bool keep) : path_(std::move(path)), keep_(keep) {}
  fs::path path_;
  bool keep_;
};

// The schema file of an input: column names and types, the row count, and for string columns
// the null rows (Python's csv module cannot tell an empty unquoted field from a quoted "").
nlohmann::json InputSchema(const Table& input) {
  nlohmann::json columns = nlohmann::json::array();
  for (int col = 0; col < input.num_columns(); ++col) {
    const Field& field = input.schema().field(col);
    const table::Column& column = input.column(col);
    nlohmann::json entry = {{"name", field.name},
                            {"type", std::string(table::DataTypeName(field.type))}};
    if (field.type == DataType::kString && column.null_count() > 0) {
      std::vector<int64_t> null_rows;
      null_rows.reserve(static_cast<size_t>(column.null_count()));
      for (int64_t row = 0; row < column.size(); ++row) {
        if (column.IsNull(row)) null_rows.push_back(row);
      }
      entry["null_rows"] = std::move(null_rows);
    }
    columns.push_back(std::move(entry));
  }
  return {{"columns", std::move(columns)}, {"num_rows", input.num_rows()}};
}

absl::StatusOr<fs::path> ResolveScriptFile(const PythonSpec& spec,
                                           const PythonRunOptions& options) {
  fs::path path = spec.script_file;
  if (path.is_relative() && !options.script_base_dir.empty()) {
    path = options.script_base_dir / path;
  }
  std::error_code error;
  path = fs::absolute(path, error);
  if (error || !fs::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("python recipe: script_file \"", spec.script_file,
                                            "\" not found (looked at ", path.string(), ")"));
  }
  if (!fs::is_regular_file(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("python recipe: script_file \"",
                                                   spec.script_file, "\" is not a regular file"));
  }
  return path;
}

std::string StderrTail(std::string_view stderr_text) {
  const std::string_view tail = LastLines(stderr_text, kStderrTailLines);
  if (absl::StripAsciiWhitespace(Absl(tail)).empty()) return "\n(its stderr is empty)";
  return absl::StrCat("; last lines of its stderr:\n", Absl(tail));
}

absl::Status RecordEnvironment(const PythonSpec& spec, const PythonRunOptions& options,
                               const ProcessSpec& base, PythonEnvironment& environment) {
  environment.interpreter = spec.interpreter;
  ProcessSpec version = base;
  version.argv = {spec.interpreter, "--version"};
  version.timeout_seconds = kVersionTimeoutSeconds;
  absl::StatusOr<ProcessOutcome> outcome = RunProcess(version);
  if (!outcome.ok()) {
    return absl::Status(outcome.status().code(),
                        absl::StrCat("python recipe: interpreter \"", spec.interpreter,
                                     "\" cannot be run (", outcome.status().message(),
                                     "); set \"interpreter\" to a Python 3 executable"));
  }
  if (!outcome->succeeded()) {
    return absl::FailedPreconditionError(absl::StrCat("python recipe: \"", spec.interpreter,
                                                      " --version\" failed",
                                                      StderrTail(outcome->stderr_text)));
  }
  // Python 2 printed the version on stderr.
  const std::string& printed =
      outcome->stdout_text.empty() ? outcome->stderr_text : outcome->stdout_text;
  environment.version = std::string(absl::StripAsciiWhitespace(printed));

  ProcessSpec packages = base;
  packages.argv = {spec.interpreter, "-c", std::string(kPackagesProbe),
                   options.use_pip_freeze ? "pip" : "metadata"};
  packages.timeout_seconds = kPackagesTimeoutSeconds;
  ASSAY_ASSIGN_OR_RETURN(outcome, RunProcess(packages));
  if (!outcome->succeeded()) {
    return absl::FailedPreconditionError(
        absl::StrCat("python recipe: cannot list the installed packages of \"", spec.interpreter,
                     "\" (is it Python 3?)", StderrTail(outcome->stderr_text)));
  }
  try {
    const nlohmann::json listing = nlohmann::json::parse(outcome->stdout_text);
    environment.packages_source = listing.at("source").get<std::string>();
    environment.packages = listing.at("packages").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return absl::FailedPreconditionError(absl::StrCat(
        "python recipe: unexpected package listing from \"", spec.interpreter, "\": ", e.what()));
  }
  return absl::OkStatus();
}

// Reads output `name` back: typed by the helper's schema file, or (a CSV the script wrote
// itself) by the CSV reader's inference.
absl::StatusOr<Table> ReadOutput(const std::string& name, const fs::path& csv_path,
                                 const fs::path& schema_path) {
  std::error_code error;
  const bool has_schema = fs::exists(schema_path, error);
  const bool has_csv = fs::exists(csv_path, error);
  if (!has_schema && !has_csv) {
    return absl::InvalidArgumentError(
        absl::StrCat("python recipe: the script did not write declared output \"", name,
                     "\"; call assay_recipe.write_output(\"", name, "\", rows_or_dataframe)"));
  }
  table::CsvReadOptions read_options;
  read_options.source_name = absl::StrCat("python output \"", name, "\"");
  // One thread: the run may itself be a task of the shared pool, which the reader must not
  // re-enter (csv_reader.h).
  read_options.num_threads = 1;
  if (!has_schema) return table::ReadCsvFile(csv_path, read_options);

  std::vector<Field> fields;
  int64_t num_rows = 0;
  try {
    ASSAY_ASSIGN_OR_RETURN(std::string text, common::ReadFile(schema_path));
    const nlohmann::json schema = nlohmann::json::parse(text);
    for (const nlohmann::json& column : schema.at("columns")) {
      const std::string type_name = column.at("type").get<std::string>();
      std::optional<DataType> type = table::DataTypeFromName(type_name);
      if (!type) {
        return absl::InvalidArgumentError(absl::StrCat("python recipe: output \"", name,
                                                       "\" has unknown type \"", type_name, "\""));
      }
      fields.push_back(Field{column.at("name").get<std::string>(), *type});
    }
    num_rows = schema.at("num_rows").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("python recipe: output \"", name,
                                                   "\" has a malformed schema file: ", e.what()));
  }
  if (fields.empty()) return Table();
  read_options.delimiter = ',';
  read_options.header = table::HeaderMode::kPresent;
  // The helper writes a null as an unquoted NA and quotes every string.
  read_options.null_tokens = {"NA"};
  read_options.column_types = fields;
  ASSAY_ASSIGN_OR_RETURN(Table output, table::ReadCsvFile(csv_path, read_options));
  if (output.schema() != table::Schema(fields) || output.num_rows() != num_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("python recipe: output \"", name, "\" does not match its schema file (",
                     num_rows, " rows of ", table::Schema(fields).NameList(), " expected; read ",
                     output.num_rows(), " rows of ", output.schema().NameList(), ")"));
  }
  return output;
}

absl::Status CheckNames(const std::vector<std::string>& names, std::string_view what) {
  absl::flat_hash_set<std::string_view> seen;
  for (const std::string& name : names) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("python recipe: an ", Absl(what), " has an empty name"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("python recipe: two ", Absl(what), "s are named \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PythonSpec> ParsePythonSpec(const nlohmann::json& config) {
  auto error = [](std::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("python config: ", Absl(message)));
  };
  if (!config.is_object()) {
    return error("expected an object with \"script\" or \"script_file\", and \"outputs\"");
  }
  PythonSpec spec;
  bool has_script = false;
  bool has_script_file = false;
  bool has_outputs = false;
  for (const auto& [key, value] : config.items()) {
    if (key == "script" || key == "script_file" || key == "interpreter") {
      if (!value.is_string()) return error(absl::StrCat("\"", key, "\": expected a string"));
      std::string text = value.get<std::string>();
      if (absl::StripAsciiWhitespace(text).empty()) {
        return error(absl::StrCat("\"", key, "\": expected a non-empty string"));
      }
      if (key == "script") {
        spec.script = std::move(text);
        has_script = true;
      } else if (key == "script_file") {
        spec.script_file = std::move(text);
        has_script_file = true;
      } else {
        spec.interpreter = std::move(text);
      }
    } else if (key == "timeout_seconds") {
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() <= 0) {
        return error("\"timeout_seconds\": expected a positive number of seconds");
      }
      spec.timeout_seconds = value.get<double>();
    } else if (key == "outputs") {
      if (!value.is_array() || value.empty()) {
        return error("\"outputs\": expected a non-empty list of output names");
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string() || value[i].get<std::string>().empty()) {
          return error(absl::StrCat("\"outputs\"[", i, "]: expected a non-empty string"));
        }
        spec.outputs.push_back(value[i].get<std::string>());
      }
      has_outputs = true;
    } else {
      return error(absl::StrCat("unknown key \"", key,
                                "\" (allowed keys: script, script_file, interpreter, "
                                "timeout_seconds, outputs)"));
    }
  }
  if (has_script == has_script_file) {
    return error(has_script
                     ? "give either \"script\" (inline code) or \"script_file\" (a path), not both"
                     : "one of \"script\" (inline code) or \"script_file\" (a path) is required");
  }
  if (!has_outputs) {
    return error("\"outputs\" is required (the names the script writes with write_output)");
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& name : spec.outputs) {
    if (!seen.insert(name).second) {
      return error(absl::StrCat("\"outputs\": \"", name, "\" is listed twice"));
    }
  }
  return spec;
}

std::string_view PythonHelperModuleSource() { return kAssayRecipePy; }

nlohmann::json PythonEnvironmentToJson(const PythonEnvironment& environment) {
  return {{"interpreter", environment.interpreter},
          {"version", environment.version},
          {"packages_source", environment.packages_source},
          {"packages", environment.packages}};
}

absl::StatusOr<PythonRunResult> RunPythonRecipe(const PythonSpec& spec,
                                                const ExternalInputs& inputs,
                                                const PythonRunOptions& options,
                                                PythonRunResult* failed_run) {
  if (spec.outputs.empty()) {
    return absl::InvalidArgumentError("python recipe: no outputs declared");
  }
  std::vector<std::string> input_names;
  for (const auto& [name, input] : inputs) input_names.push_back(name);
  ASSAY_RETURN_IF_ERROR(CheckNames(input_names, "input"));
  ASSAY_RETURN_IF_ERROR(CheckNames(spec.outputs, "output"));
  std::optional<fs::path> script_file;
  if (!spec.script_file.empty()) {
    ASSAY_ASSIGN_OR_RETURN(script_file, ResolveScriptFile(spec, options));
  }

  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<RunDirectory> directory,
                         RunDirectory::Make(options.temp_root, options.keep_temp_dir));
  const fs::path& root = directory->path();
  ASSAY_RETURN_IF_ERROR(WriteWholeFile(root / "lib" / "assay_recipe.py", kAssayRecipePy));

  // File names are positional: recipe names may hold characters a file name cannot.
  nlohmann::json manifest = {
      {"format", 1}, {"inputs", nlohmann::json::array()}, {"outputs", nlohmann::json::array()}};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [name, input] = inputs[i];
    const fs::path csv = root / "inputs" / absl::StrCat("input_", i, ".csv");
    const fs::path schema = root / "inputs" / absl::StrCat("input_", i, ".schema.json");
    ASSAY_RETURN_IF_ERROR(WriteWholeFile(csv, table::WriteCsvString(*input)));
    ASSAY_RETURN_IF_ERROR(WriteWholeFile(schema, Dump(InputSchema(*input))));
    manifest["inputs"].push_back(
        {{"name", name}, {"csv", csv.string()}, {"schema", schema.string()}});
  }
  std::vector<std::pair<fs::path, fs::path>> output_files;
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    output_files.emplace_back(root / "outputs" / absl::StrCat("output_", i, ".csv"),
                              root / "outputs" / absl::StrCat("output_", i, ".schema.json"));
    manifest["outputs"].push_back({{"name", spec.outputs[i]},
                                   {"csv", output_files.back().first.string()},
                                   {"schema", output_files.back().second.string()}});
  }
  const fs::path manifest_path = root / "manifest.json";
  ASSAY_RETURN_IF_ERROR(WriteWholeFile(manifest_path, Dump(manifest)));
  fs::path script_path;
  if (script_file) {
    script_path = *script_file;
  } else {
    script_path = root / "script.py";
    ASSAY_RETURN_IF_ERROR(WriteWholeFile(script_path, spec.script));
  }

  std::string python_path = (root / "lib").string();
  if (const char* existing = std::getenv("PYTHONPATH"); existing != nullptr && *existing) {
    absl::StrAppend(&python_path, ":", existing);
  }
  ProcessSpec base;
  base.env = CurrentEnvironmentWith({
      absl::StrCat("PYTHONPATH=", python_path),
      absl::StrCat("ASSAY_RECIPE_MANIFEST=", manifest_path.string()),
      // Nothing of the run may outlive it, bytecode caches included.
      "PYTHONDONTWRITEBYTECODE=1",
      // Unbuffered, so what a killed script printed last reaches the log.
      "PYTHONUNBUFFERED=1",
      "PYTHONIOENCODING=utf-8",
  });
  base.working_dir = root / "work";

  PythonRunResult run;
  auto fail = [&](absl::Status status) {
    if (failed_run != nullptr) {
      failed_run->outputs.clear();
      failed_run->environment = run.environment;
      failed_run->stdout_text = run.stdout_text;
      failed_run->stderr_text = run.stderr_text;
    }
    return status;
  };
  if (absl::Status status = RecordEnvironment(spec, options, base, run.environment); !status.ok()) {
    return fail(status);
  }

  ProcessSpec script = base;
  script.argv = {spec.interpreter, script_path.string()};
  script.timeout_seconds = spec.timeout_seconds;
  absl::StatusOr<ProcessOutcome> outcome = RunProcess(script);
  if (!outcome.ok()) {
    return fail(absl::Status(
        outcome.status().code(),
        absl::StrCat("python recipe: cannot run the script: ", outcome.status().message())));
  }
  run.stdout_text = std::move(outcome->stdout_text);
  run.stderr_text = std::move(outcome->stderr_text);
  if (outcome->timed_out) {
    return fail(absl::DeadlineExceededError(
        absl::StrCat("python recipe: the script timed out after ", spec.timeout_seconds,
                     " s (timeout_seconds) and was killed with every process it started",
                     StderrTail(run.stderr_text))));
  }
  if (!outcome->exited) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("python recipe: the script was killed by ", DescribeSignal(outcome->signal),
                     StderrTail(run.stderr_text))));
  }
  if (outcome->exit_code != 0) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("python recipe: the script failed with exit code ", outcome->exit_code,
                     StderrTail(run.stderr_text))));
  }
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    absl::StatusOr<Table> output =
        ReadOutput(spec.outputs[i], output_files[i].first, output_files[i].second);
    if (!output.ok()) return fail(output.status());
    run.outputs.emplace_back(spec.outputs[i], *std::move(output));
  }
  return run;
}

}  // namespace assay::recipes
