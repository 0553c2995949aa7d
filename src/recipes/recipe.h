// One entry point for every recipe type, so the flow can run any recipe from its stored
// definition (type name + JSON config + named inputs) without knowing the families.
//
// Recipe types and their config keys are documented in docs/recipes/.
//
// Thread-safety: all functions are thread-safe (recipes share no state); a recipe may use the
// default thread pool internally, so do not call RunRecipe from inside a ParallelFor.
#ifndef ASSAY_RECIPES_RECIPE_H_
#define ASSAY_RECIPES_RECIPE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

// Part of every memo key: bump when a recipe's output for the same config and inputs changes
// (a bug fix in a kernel, a new default), so memoized results from older engines re-run.
inline constexpr std::string_view kRecipeEngineVersion = "recipes-1";

struct RecipeInput {
  std::string name;  // the dataset name in the project ("providers")
  const table::Table* table = nullptr;
};

struct RecipeContext {
  int64_t build_start_micros = 0;  // now() in formulas
};

struct RecipeOutcome {
  std::vector<table::Table> outputs;                      // one per declared output, in order
  std::string log;                                        // human-readable lines for the run record
  nlohmann::json environment = nlohmann::json::object();  // e.g. the python interpreter
};

// The recipe type names this build knows, sorted.
std::vector<std::string> RecipeTypes();

// Checks that `type` exists, `config` parses for it and the numbers of inputs and outputs fit.
// Errors: INVALID_ARGUMENT naming the type, the key and what is expected.
absl::Status ValidateRecipe(std::string_view type, const nlohmann::json& config, size_t num_inputs,
                            size_t num_outputs);

// Checks a recipe against its input schemas without data, where the type supports it
// (unknown columns, type errors in formulas). Types without a schema-only check return OK.
// Errors: INVALID_ARGUMENT.
absl::Status BindRecipe(std::string_view type, const nlohmann::json& config,
                        const std::vector<table::Schema>& input_schemas);

// Runs the recipe. `inputs` in the recipe's declared order; returns `num_outputs` tables.
// Errors: INVALID_ARGUMENT for a bad config or data that the recipe refuses (naming the step
// and row where the recipe can), FAILED_PRECONDITION for an external engine failure (python
// script exit status), DEADLINE_EXCEEDED for a timeout.
absl::StatusOr<RecipeOutcome> RunRecipe(std::string_view type, const nlohmann::json& config,
                                        const std::vector<RecipeInput>& inputs, size_t num_outputs,
                                        const RecipeContext& context);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_RECIPE_H_
