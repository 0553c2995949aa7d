#include "recipes/recipe.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "recipes/distinct.h"
#include "recipes/group.h"
#include "recipes/join.h"
#include "recipes/pivot.h"
#include "recipes/prepare.h"
#include "recipes/python_recipe.h"
#include "recipes/sample.h"
#include "recipes/sort.h"
#include "recipes/split.h"
#include "recipes/sql_recipe.h"
#include "recipes/stack.h"
#include "recipes/top_n.h"
#include "recipes/window.h"

namespace assay::recipes {
namespace {

// How many inputs and outputs a type takes; -1 = any number (at least `min`).
struct Arity {
  int inputs = 1;
  int outputs = 1;
  int min_inputs = 1;
};

struct RecipeType {
  Arity arity;
  // Parses the config (the spec is discarded): used for validation.
  std::function<absl::Status(const nlohmann::json&)> validate;
  // Schema-only checks against the inputs; may be null.
  std::function<absl::Status(const nlohmann::json&, const std::vector<table::Schema>&)> bind;
  std::function<absl::StatusOr<RecipeOutcome>(
      const nlohmann::json&, const std::vector<RecipeInput>&, size_t, const RecipeContext&)>
      run;
};

// Adapts a single-input, single-output recipe.
template <typename Spec>
RecipeType OneToOne(absl::StatusOr<Spec> (*parse)(const nlohmann::json&),
                    absl::StatusOr<table::Table> (*run)(const Spec&, const table::Table&)) {
  RecipeType type;
  type.validate = [parse](const nlohmann::json& config) { return parse(config).status(); };
  type.run = [parse, run](const nlohmann::json& config, const std::vector<RecipeInput>& inputs,
                          size_t, const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
    ASSAY_ASSIGN_OR_RETURN(const Spec spec, parse(config));
    RecipeOutcome outcome;
    ASSAY_ASSIGN_OR_RETURN(table::Table output, run(spec, *inputs[0].table));
    outcome.log = absl::StrCat(inputs[0].name, ": ", inputs[0].table->num_rows(), " rows in, ",
                               output.num_rows(), " rows out\n");
    outcome.outputs.push_back(std::move(output));
    return outcome;
  };
  return type;
}

std::string PrepareLog(const PrepareResult& result) {
  std::string log;
  for (const auto& step : result.log) {
    absl::StrAppend(&log, "step ", step.step, " (", step.type, "): ", step.rows_in, " -> ",
                    step.rows_out, " rows");
    if (step.cells_changed >= 0) absl::StrAppend(&log, ", ", step.cells_changed, " cells changed");
    if (step.conversion_failures > 0) {
      absl::StrAppend(&log, ", ", step.conversion_failures, " conversion failures");
    }
    if (!step.detail.empty()) absl::StrAppend(&log, "; ", step.detail);
    absl::StrAppend(&log, "\n");
  }
  return log;
}

const std::map<std::string, RecipeType>& Registry() {
  static const auto* const kRegistry = [] {
    auto* registry = new std::map<std::string, RecipeType>;
    auto& types = *registry;

    RecipeType prepare;
    prepare.validate = [](const nlohmann::json& config) {
      return ParsePrepareSpec(config).status();
    };
    prepare.bind = [](const nlohmann::json& config,
                      const std::vector<table::Schema>& schemas) -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(const PrepareSpec spec, ParsePrepareSpec(config));
      return BindPrepare(spec, schemas[0]).status();
    };
    prepare.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs, size_t,
                     const RecipeContext& context) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const PrepareSpec spec, ParsePrepareSpec(config));
      PrepareContext prepare_context;
      prepare_context.now_micros = context.build_start_micros;
      ASSAY_ASSIGN_OR_RETURN(PrepareResult result,
                             RunPrepare(spec, *inputs[0].table, prepare_context));
      RecipeOutcome outcome;
      outcome.log = PrepareLog(result);
      outcome.outputs.push_back(std::move(result.output));
      return outcome;
    };
    types["prepare"] = std::move(prepare);

    RecipeType join;
    join.arity = {2, 1, 2};
    join.validate = [](const nlohmann::json& config) { return ParseJoinSpec(config).status(); };
    join.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs, size_t,
                  const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const JoinSpec spec, ParseJoinSpec(config));
      RecipeOutcome outcome;
      ASSAY_ASSIGN_OR_RETURN(table::Table output,
                             RunJoin(spec, *inputs[0].table, *inputs[1].table));
      outcome.log = absl::StrCat(inputs[0].name, " (", inputs[0].table->num_rows(), " rows) x ",
                                 inputs[1].name, " (", inputs[1].table->num_rows(), " rows) -> ",
                                 output.num_rows(), " rows\n");
      outcome.outputs.push_back(std::move(output));
      return outcome;
    };
    types["join"] = std::move(join);

    types["group"] = OneToOne<GroupSpec>(&ParseGroupSpec, &RunGroup);
    types["window"] = OneToOne<WindowSpec>(&ParseWindowSpec, &RunWindow);
    types["sort"] = OneToOne<SortSpec>(&ParseSortSpec, &RunSort);
    types["top_n"] = OneToOne<TopNSpec>(&ParseTopNSpec, &RunTopN);
    types["distinct"] = OneToOne<DistinctSpec>(&ParseDistinctSpec, &RunDistinct);
    types["sample"] = OneToOne<SampleSpec>(&ParseSampleSpec, &RunSample);
    types["pivot"] = OneToOne<PivotSpec>(&ParsePivotSpec, &RunPivot);

    RecipeType split;
    split.arity = {1, -1, 1};
    split.validate = [](const nlohmann::json& config) { return ParseSplitSpec(config).status(); };
    split.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs,
                   size_t num_outputs,
                   const RecipeContext& context) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const SplitSpec spec, ParseSplitSpec(config));
      expr::EvalOptions options;
      options.now_micros = context.build_start_micros;
      RecipeOutcome outcome;
      ASSAY_ASSIGN_OR_RETURN(outcome.outputs, RunSplit(spec, *inputs[0].table, options));
      if (outcome.outputs.size() != num_outputs) {
        return absl::InvalidArgumentError(absl::StrCat("split makes ", outcome.outputs.size(),
                                                       " outputs but the recipe declares ",
                                                       num_outputs));
      }
      for (size_t position = 0; position < outcome.outputs.size(); ++position) {
        absl::StrAppend(&outcome.log, "output ", position + 1, ": ",
                        outcome.outputs[position].num_rows(), " rows\n");
      }
      return outcome;
    };
    types["split"] = std::move(split);

    RecipeType stack;
    stack.arity = {-1, 1, 1};
    stack.validate = [](const nlohmann::json& config) { return ParseStackSpec(config).status(); };
    stack.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs, size_t,
                   const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const StackSpec spec, ParseStackSpec(config));
      std::vector<NamedTable> named;
      for (const auto& input : inputs) named.emplace_back(input.name, input.table);
      RecipeOutcome outcome;
      ASSAY_ASSIGN_OR_RETURN(table::Table output, RunStack(spec, named));
      outcome.log = absl::StrCat(inputs.size(), " inputs -> ", output.num_rows(), " rows\n");
      outcome.outputs.push_back(std::move(output));
      return outcome;
    };
    types["stack"] = std::move(stack);

    RecipeType sql;
    sql.arity = {-1, 1, 1};
    sql.validate = [](const nlohmann::json& config) { return ParseSqlSpec(config).status(); };
    sql.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs, size_t,
                 const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const SqlSpec spec, ParseSqlSpec(config));
      ExternalInputs named;
      for (const auto& input : inputs) named.emplace_back(input.name, input.table);
      RecipeOutcome outcome;
      ASSAY_ASSIGN_OR_RETURN(table::Table output, RunSqlRecipe(spec, named));
      outcome.log = absl::StrCat("query returned ", output.num_rows(), " rows\n");
      outcome.outputs.push_back(std::move(output));
      return outcome;
    };
    types["sql"] = std::move(sql);

    RecipeType python;
    python.arity = {-1, -1, 0};
    python.validate = [](const nlohmann::json& config) { return ParsePythonSpec(config).status(); };
    python.run = [](const nlohmann::json& config, const std::vector<RecipeInput>& inputs,
                    size_t num_outputs, const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
      ASSAY_ASSIGN_OR_RETURN(const PythonSpec spec, ParsePythonSpec(config));
      if (spec.outputs.size() != num_outputs) {
        return absl::InvalidArgumentError(
            absl::StrCat("python config declares ", spec.outputs.size(), " outputs (",
                         absl::StrJoin(spec.outputs, ", "), ") but the recipe writes ", num_outputs,
                         " datasets; list one output name per recipe output, in order"));
      }
      ExternalInputs named;
      for (const auto& input : inputs) named.emplace_back(input.name, input.table);
      PythonRunResult failed;
      absl::StatusOr<PythonRunResult> result = RunPythonRecipe(spec, named, {}, &failed);
      if (!result.ok()) return result.status();
      RecipeOutcome outcome;
      outcome.environment = PythonEnvironmentToJson(result->environment);
      if (!result->stdout_text.empty()) {
        absl::StrAppend(&outcome.log, "stdout:\n", result->stdout_text, "\n");
      }
      if (!result->stderr_text.empty()) {
        absl::StrAppend(&outcome.log, "stderr:\n", result->stderr_text, "\n");
      }
      for (auto& [name, table] : result->outputs) {
        absl::StrAppend(&outcome.log, "output ", name, ": ", table.num_rows(), " rows\n");
        outcome.outputs.push_back(std::move(table));
      }
      return outcome;
    };
    types["python"] = std::move(python);

    // score reads a saved model from the registry, a layer above recipes/, so the flow parses
    // its config and runs it (src/flow/score_recipe.h, decision 0007). It is declared here so
    // that its arity is checked and RecipeTypes() names it.
    RecipeType score;
    score.validate = [](const nlohmann::json& config) -> absl::Status {
      if (!config.is_object()) {
        return absl::InvalidArgumentError(
            "score config: expected an object with \"model\": PROJECT/MODEL[@vN]");
      }
      return absl::OkStatus();
    };
    score.run = [](const nlohmann::json&, const std::vector<RecipeInput>&, size_t,
                   const RecipeContext&) -> absl::StatusOr<RecipeOutcome> {
      return absl::FailedPreconditionError(
          "a score recipe reads the model registry, so it runs only in a flow build "
          "(`assay flow build`); to score a dataset directly use `assay score`");
    };
    types["score"] = std::move(score);
    return registry;
  }();
  return *kRegistry;
}

absl::StatusOr<const RecipeType*> Find(std::string_view type) {
  const auto& registry = Registry();
  auto it = registry.find(std::string(type));
  if (it == registry.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown recipe type \"", std::string(type),
                     "\" (types: ", absl::StrJoin(RecipeTypes(), ", "), ")"));
  }
  return &it->second;
}

absl::Status CheckArity(std::string_view name, const Arity& arity, size_t num_inputs,
                        size_t num_outputs) {
  if (arity.inputs >= 0 && num_inputs != static_cast<size_t>(arity.inputs)) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(name), " takes ", arity.inputs,
                                                   arity.inputs == 1 ? " input" : " inputs",
                                                   ", got ", num_inputs));
  }
  if (num_inputs < static_cast<size_t>(arity.min_inputs)) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(name), " needs at least ", arity.min_inputs, " input(s), got ", num_inputs));
  }
  if (arity.outputs >= 0 && num_outputs != static_cast<size_t>(arity.outputs)) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(name), " writes ", arity.outputs,
                                                   arity.outputs == 1 ? " output" : " outputs",
                                                   ", got ", num_outputs));
  }
  if (num_outputs == 0) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(name), " needs an output"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> RecipeTypes() {
  std::vector<std::string> names;
  for (const auto& [name, type] : Registry()) names.push_back(name);
  return names;
}

absl::Status ValidateRecipe(std::string_view type, const nlohmann::json& config, size_t num_inputs,
                            size_t num_outputs) {
  ASSAY_ASSIGN_OR_RETURN(const RecipeType* recipe, Find(type));
  ASSAY_RETURN_IF_ERROR(CheckArity(type, recipe->arity, num_inputs, num_outputs));
  return recipe->validate(config);
}

absl::Status BindRecipe(std::string_view type, const nlohmann::json& config,
                        const std::vector<table::Schema>& input_schemas) {
  ASSAY_ASSIGN_OR_RETURN(const RecipeType* recipe, Find(type));
  if (!recipe->bind) return absl::OkStatus();
  return recipe->bind(config, input_schemas);
}

absl::StatusOr<RecipeOutcome> RunRecipe(std::string_view type, const nlohmann::json& config,
                                        const std::vector<RecipeInput>& inputs, size_t num_outputs,
                                        const RecipeContext& context) {
  ASSAY_ASSIGN_OR_RETURN(const RecipeType* recipe, Find(type));
  ASSAY_RETURN_IF_ERROR(CheckArity(type, recipe->arity, inputs.size(), num_outputs));
  return recipe->run(config, inputs, num_outputs, context);
}

}  // namespace assay::recipes
