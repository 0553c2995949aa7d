// The python recipe: runs a user's Python script with a real interpreter (/usr/bin/python3
// by default) over the recipe's inputs and reads back the outputs the recipe declares. The
// user reference (helper API, type mapping, limits) is docs/recipes/sql-python.md.
//
// A run makes a private temporary directory, writes each input there as CSV (csv_writer.h)
// with its schema as JSON, writes the helper module assay_recipe (python/assay_recipe.py,
// compiled into Assay) and a manifest, records the interpreter's version and installed
// distributions, runs the script without a shell (posix_spawn; the helper on PYTHONPATH,
// the working directory inside the temporary directory), and reads every declared output
// back, typed by the schema the helper writes. The temporary directory is removed at the end
// of the run, on success and on failure alike (PythonRunOptions::keep_temp_dir keeps it for
// debugging).
//
// Thread-safety: the functions keep no state; concurrent runs are safe (each has its own
// directory and processes).
#ifndef ASSAY_RECIPES_PYTHON_RECIPE_H_
#define ASSAY_RECIPES_PYTHON_RECIPE_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recipes/external_inputs.h"
#include "table/table.h"

namespace assay::recipes {

struct PythonSpec {
  // Exactly one of `script` (inline code) and `script_file` (a path) is set.
  std::string script;
  std::string script_file;
  // A path, or a name looked up in PATH.
  std::string interpreter = "/usr/bin/python3";
  // Wall-clock limit of the script run; when it expires the script's process group is killed.
  double timeout_seconds = 3600;
  // The outputs the script must write with assay_recipe.write_output, in recipe order.
  std::vector<std::string> outputs;
};

// Parses a python recipe config:
//   {"script": "<code>" | "script_file": "<path>", "outputs": ["<name>", ...],
//    "interpreter": "<path>", "timeout_seconds": <number>}
// ("interpreter" and "timeout_seconds" optional).
// Errors: INVALID_ARGUMENT (message starts `python config: `) for a non-object config, an
// unknown key, both or neither of script/script_file, an empty script or path, missing or
// empty "outputs", an empty or duplicate output name, a non-positive timeout, or a value of
// the wrong JSON type.
absl::StatusOr<PythonSpec> ParsePythonSpec(const nlohmann::json& config);

// What the script ran with, stored with the run so it can be reproduced.
struct PythonEnvironment {
  std::string interpreter;  // as configured
  std::string version;      // what `<interpreter> --version` prints, e.g. "Python 3.11.2"
  // "pip freeze" when pip is available (and PythonRunOptions::use_pip_freeze), else
  // "importlib.metadata" (every installed distribution as name==version, sorted by name).
  std::string packages_source;
  std::vector<std::string> packages;
};

struct PythonRunResult {
  // The declared outputs, in PythonSpec::outputs order.
  std::vector<std::pair<std::string, table::Table>> outputs;
  PythonEnvironment environment;
  // What the script printed, for the run log (each stream keeps its last 16 MiB).
  std::string stdout_text;
  std::string stderr_text;
};

struct PythonRunOptions {
  // A relative script_file is resolved against this directory (empty: the current one).
  std::filesystem::path script_base_dir;
  // Where the run's temporary directory is made (empty: std::filesystem::temp_directory_path).
  std::filesystem::path temp_root;
  // Record packages with `python -m pip freeze` when pip is installed (about a second);
  // false lists them with importlib.metadata only.
  bool use_pip_freeze = true;
  // Keep the temporary directory instead of removing it (debugging).
  bool keep_temp_dir = false;
};

// Runs the script of `spec` over `inputs` and returns its declared outputs, the environment
// and the script's stdout/stderr. `failed_run`, when not null, receives the environment and
// the stdout/stderr gathered so far if the run fails, so the flow can log a failed run too.
// Requires: the input tables are non-null and outlive the call.
// Errors:
//   FAILED_PRECONDITION: the script exits with a non-zero code or is killed by a signal (the
//     message ends with the last 50 lines of its stderr; recipe.h maps external engine
//     failures to this code); the interpreter is not a runnable program, or its version or
//     packages cannot be read (e.g. it is not Python 3);
//   INVALID_ARGUMENT: empty or duplicate input/output names, a declared output was not
//     written, or an output file is malformed;
//   DEADLINE_EXCEEDED: the script ran longer than spec.timeout_seconds (it and every process
//     it started are killed);
//   NOT_FOUND: the interpreter or script_file does not exist;
//   PERMISSION_DENIED: the interpreter is not executable;
//   INTERNAL: the temporary directory or its files cannot be written, or the process
//     machinery fails.
absl::StatusOr<PythonRunResult> RunPythonRecipe(const PythonSpec& spec,
                                                const ExternalInputs& inputs,
                                                const PythonRunOptions& options = {},
                                                PythonRunResult* failed_run = nullptr);

// The environment as JSON for the run record (RecipeOutcome::environment):
// {"interpreter", "version", "packages_source", "packages": [...]}.
nlohmann::json PythonEnvironmentToJson(const PythonEnvironment& environment);

// The source of the assay_recipe helper module compiled into Assay (python/assay_recipe.py),
// e.g. for `assay` to print so users can read it or vendor it into an IDE.
std::string_view PythonHelperModuleSource();

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_PYTHON_RECIPE_H_
