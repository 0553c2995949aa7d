#include "flow/flow_service.h"

#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/datasets.h"
#include "catalog/projects.h"
#include "catalog/recipes.h"
#include "catalog/runs.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "flow/flow_build.h"
#include "flow/flow_graph.h"
#include "flow/score_recipe.h"
#include "registry/model_registry.h"

namespace assay::flow {

absl::StatusOr<ApplyResult> ApplyFlow(catalog::Workspace& workspace, const std::string& project,
                                      const FlowDefinition& flow, const catalog::Actor& actor,
                                      bool dry_run) {
  ASSAY_RETURN_IF_ERROR(catalog::ProjectCatalog(workspace).Get(project).status());
  if (!flow.project.empty() && flow.project != project) {
    return absl::InvalidArgumentError(absl::StrCat("flow.yaml is for project ", flow.project,
                                                   ", not ", project,
                                                   "; apply it to the project it names"));
  }
  ASSAY_RETURN_IF_ERROR(ValidateFlow(flow));
  // A flow.yaml need not name its project; score recipes must use this project's models.
  for (const auto& recipe : flow.recipes) {
    if (recipe.type != kScoreRecipeType) continue;
    absl::Status status = ParseScoreSpec(recipe.config, project).status();
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe ", recipe.name, ": ", status.message()));
    }
  }
  catalog::RecipeCatalog recipes(workspace);
  ASSAY_ASSIGN_OR_RETURN(const auto existing, recipes.List(project));
  ASSAY_ASSIGN_OR_RETURN(const auto existing_rules, recipes.ListRules(project));

  ApplyResult result;
  std::map<std::string, const catalog::RecipeVersion*> stored;
  for (const auto& recipe : existing) stored[recipe.definition.name] = &recipe;
  std::set<std::string> named;
  for (const auto& recipe : flow.recipes) {
    named.insert(recipe.name);
    auto it = stored.find(recipe.name);
    if (it == stored.end()) {
      result.changes.push_back(
          absl::StrCat("recipe ", recipe.name, ": create (", recipe.type, ")"));
    } else if (it->second->sha256 != recipe.Sha256()) {
      result.changes.push_back(absl::StrCat("recipe ", recipe.name, ": update v",
                                            it->second->version, " -> v", it->second->version + 1));
    }
  }
  for (const auto& recipe : existing) {
    if (!named.contains(recipe.definition.name)) {
      result.changes.push_back(absl::StrCat("recipe ", recipe.definition.name, ": remove"));
    }
  }
  std::map<std::string, nlohmann::json> rules;
  for (const auto& stored_rules : existing_rules) {
    if (!stored_rules.rules.empty()) rules[stored_rules.dataset] = nlohmann::json::array();
  }
  for (const auto& [name, declaration] : flow.datasets) rules[name] = declaration.checks;
  std::map<std::string, std::string> stored_sha;
  for (const auto& stored_rules : existing_rules) {
    stored_sha[stored_rules.dataset] = stored_rules.sha256;
  }
  for (const auto& [name, checks] : rules) {
    const std::string sha = catalog::CanonicalJsonSha256(checks);
    auto it = stored_sha.find(name);
    if (it == stored_sha.end() ? !checks.empty() : it->second != sha) {
      result.changes.push_back(absl::StrCat("dataset ", name, ": quality rules ",
                                            checks.empty() ? "removed" : "set", " (", checks.size(),
                                            " rules)"));
    }
  }
  if (dry_run || result.changes.empty()) return result;

  const int64_t now = workspace.clock().NowMicros();
  ASSAY_RETURN_IF_ERROR(workspace.Mutate(actor, [&](catalog::Workspace::Change& change) {
    for (const auto& recipe : flow.recipes) {
      ASSAY_RETURN_IF_ERROR(
          catalog::RecipeCatalog::Put(change, project, recipe, actor.user, now).status());
    }
    for (const auto& recipe : existing) {
      if (!named.contains(recipe.definition.name)) {
        ASSAY_RETURN_IF_ERROR(
            catalog::RecipeCatalog::Remove(change, project, recipe.definition.name, now));
      }
    }
    for (const auto& [name, checks] : rules) {
      ASSAY_RETURN_IF_ERROR(
          catalog::RecipeCatalog::PutRules(change, project, name, checks, actor.user, now)
              .status());
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<FlowDefinition> ExportFlow(catalog::Workspace& workspace,
                                          const std::string& project) {
  ASSAY_ASSIGN_OR_RETURN(const FlowGraph graph, FlowGraph::Load(workspace, project));
  FlowDefinition flow;
  flow.project = project;
  for (const auto& recipe : graph.recipes()) flow.recipes.push_back(recipe.definition);
  ASSAY_ASSIGN_OR_RETURN(const auto rules, catalog::RecipeCatalog(workspace).ListRules(project));
  for (const auto& stored : rules) {
    if (stored.rules.empty()) continue;
    flow.datasets[stored.dataset].checks = stored.rules;
  }
  return flow;
}

namespace {

// The manifest hash of the model version a score recipe would read now. A bad config or a
// model missing from the registry (which fail the recipe at build time) sets `*problem` and
// returns "". Errors: store errors.
absl::StatusOr<std::string> CurrentModelSha256(catalog::Workspace& workspace,
                                               const std::string& project,
                                               const catalog::RecipeDefinition& definition,
                                               std::string* problem) {
  absl::StatusOr<ScoreSpec> spec = ParseScoreSpec(definition.config, project);
  if (!spec.ok()) {
    *problem = std::string(spec.status().message());
    return std::string();
  }
  absl::StatusOr<registry::SavedModelVersion> model = ResolveScoreModel(workspace, *spec);
  if (model.status().code() == absl::StatusCode::kNotFound) {
    *problem = std::string(model.status().message());
    return std::string();
  }
  if (!model.ok()) return model.status();
  return model->sha256;
}

}  // namespace

absl::StatusOr<FlowStatus> ShowFlow(catalog::Workspace& workspace, const std::string& project) {
  ASSAY_ASSIGN_OR_RETURN(const FlowGraph graph, FlowGraph::Load(workspace, project));
  catalog::DatasetCatalog datasets(workspace);
  catalog::RunCatalog runs(workspace);
  FlowStatus status;
  status.project = project;

  std::set<std::string> names = graph.Datasets();
  ASSAY_ASSIGN_OR_RETURN(const auto summaries, datasets.List(project));
  std::map<std::string, catalog::DatasetVersion> latest;
  for (const auto& summary : summaries) {
    latest[summary.dataset.name] = summary.latest;
    names.insert(summary.dataset.name);
  }
  for (const auto& name : names) {
    DatasetState state;
    state.name = name;
    state.role = graph.ProducerOf(name) >= 0 ? "recipe output" : "source";
    auto it = latest.find(name);
    if (it != latest.end()) {
      state.latest = it->second.Label();
      state.rows = it->second.row_count;
      const auto& checks = it->second.checks;
      if (checks.is_null()) {
        state.checks = "none";
      } else if (!checks.value("passed", true)) {
        state.checks = absl::StrCat("FAILED (", checks.value("errors", 0), " errors)");
      } else if (checks.value("warnings", 0) > 0) {
        state.checks = absl::StrCat("passed, ", checks.value("warnings", 0), " warnings");
      } else {
        state.checks = "passed";
      }
    }
    status.datasets.push_back(std::move(state));
  }

  for (const auto& recipe : graph.recipes()) {
    RecipeState state;
    state.name = recipe.definition.name;
    state.type = recipe.definition.type;
    state.version = recipe.version;
    state.inputs = recipe.definition.inputs;
    state.outputs = recipe.definition.outputs;
    ASSAY_ASSIGN_OR_RETURN(auto last, runs.LastRun(recipe.recipe_id));
    if (last) {
      state.last_run_id = last->id;
      state.last_run_status = last->status;
      state.last_run_at = common::FormatTimestampMicros(last->finished_at_micros);
    }
    std::vector<catalog::DatasetVersion> inputs;
    std::vector<std::string> missing;
    for (const auto& input : recipe.definition.inputs) {
      auto it = latest.find(input);
      if (it == latest.end()) {
        missing.push_back(input);
      } else {
        inputs.push_back(it->second);
      }
    }
    // A score recipe's memo key holds the model version it would read now.
    std::string model_sha256;
    std::string model_problem;
    if (recipe.definition.type == kScoreRecipeType) {
      ASSAY_ASSIGN_OR_RETURN(
          model_sha256, CurrentModelSha256(workspace, project, recipe.definition, &model_problem));
    }
    if (!missing.empty()) {
      state.state = "blocked";
      state.detail = absl::StrCat("no version of ", absl::StrJoin(missing, ", "), " yet");
    } else if (!model_problem.empty()) {
      state.state = "blocked";
      state.detail = model_problem;
    } else {
      ASSAY_ASSIGN_OR_RETURN(auto memo,
                             runs.FindSucceeded(MemoKey(recipe.definition, inputs, model_sha256)));
      if (memo) {
        state.state = "up to date";
        state.detail = absl::StrCat("run ", memo->id, " matches the latest inputs");
      } else if (!last) {
        state.state = "never built";
      } else if (last->status != catalog::kRunSucceeded) {
        state.state = "failed";
        state.detail = last->error;
      } else {
        state.state = "stale";
        if (last->recipe_version != recipe.version) {
          state.detail = absl::StrCat("recipe changed since run ", last->id);
        } else if (model_sha256.empty()) {
          state.detail = "an input has a newer version (or the engine changed)";
        } else {
          state.detail = "an input or the model has a newer version (or the engine changed)";
        }
      }
    }
    status.recipes.push_back(std::move(state));
  }
  return status;
}

nlohmann::json FlowStatus::ToJson() const {
  nlohmann::json datasets_json = nlohmann::json::array();
  for (const auto& dataset : datasets) {
    datasets_json.push_back({{"name", dataset.name},
                             {"role", dataset.role},
                             {"latest", dataset.latest},
                             {"rows", dataset.rows},
                             {"checks", dataset.checks}});
  }
  nlohmann::json recipes_json = nlohmann::json::array();
  for (const auto& recipe : recipes) {
    recipes_json.push_back({{"name", recipe.name},
                            {"type", recipe.type},
                            {"version", recipe.version},
                            {"inputs", recipe.inputs},
                            {"outputs", recipe.outputs},
                            {"state", recipe.state},
                            {"detail", recipe.detail},
                            {"last_run_id", recipe.last_run_id},
                            {"last_run_status", recipe.last_run_status},
                            {"last_run_at", recipe.last_run_at}});
  }
  return {{"project", project}, {"datasets", datasets_json}, {"recipes", recipes_json}};
}

std::string FlowStatus::ToText() const {
  std::string text = absl::StrCat("flow ", project, "\n\ndatasets:\n");
  for (const auto& dataset : datasets) {
    absl::StrAppend(&text, "  ", dataset.name, "  [", dataset.role, "]  ",
                    dataset.latest.empty() ? "no version yet"
                                           : absl::StrCat(dataset.latest, ", ", dataset.rows,
                                                          " rows, checks: ", dataset.checks),
                    "\n");
  }
  absl::StrAppend(&text, "\nrecipes (in build order):\n");
  if (recipes.empty()) absl::StrAppend(&text, "  none (define them with `assay flow apply`)\n");
  for (const auto& recipe : recipes) {
    absl::StrAppend(&text, "  ", recipe.name, "@v", recipe.version, " (", recipe.type,
                    "): ", absl::StrJoin(recipe.inputs, ", "), " -> ",
                    absl::StrJoin(recipe.outputs, ", "), "\n      ", recipe.state,
                    recipe.detail.empty() ? "" : absl::StrCat(": ", recipe.detail));
    if (recipe.last_run_id != 0) {
      absl::StrAppend(&text, "; last run ", recipe.last_run_id, " ", recipe.last_run_status, " at ",
                      recipe.last_run_at);
    }
    absl::StrAppend(&text, "\n");
  }
  return text;
}

namespace {

// Node ids safe for both diagram languages: d_<dataset>, r_<recipe>, with any character
// outside [A-Za-z0-9_] replaced (names may hold '-' and '.').
std::string NodeId(std::string_view prefix, const std::string& name) {
  std::string id(prefix);
  for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return id;
}

std::string DatasetLabel(const DatasetState& dataset) {
  return dataset.latest.empty()
             ? absl::StrCat(dataset.name, " (no version)")
             : absl::StrCat(dataset.name, "@", dataset.latest, " checks: ", dataset.checks);
}

std::string RecipeLabel(const RecipeState& recipe) {
  return absl::StrCat(recipe.name, "@v", recipe.version, " (", recipe.type, "): ", recipe.state);
}

std::string Quoted(const std::string& text, bool mermaid) {
  std::string out;
  for (char c : text) {
    if (c == '"') {
      out += mermaid ? "#quot;" : "\\\"";
    } else if (c == '\\' && !mermaid) {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return "\"" + out + "\"";
}

}  // namespace

std::string FlowStatus::ToMermaid() const {
  std::string text = "flowchart LR\n";
  for (const auto& dataset : datasets) {
    absl::StrAppend(&text, "  ", NodeId("d_", dataset.name), "([",
                    Quoted(DatasetLabel(dataset), true), "])\n");
  }
  for (const auto& recipe : recipes) {
    const std::string id = NodeId("r_", recipe.name);
    absl::StrAppend(&text, "  ", id, "[", Quoted(RecipeLabel(recipe), true), "]\n");
    for (const auto& input : recipe.inputs) {
      absl::StrAppend(&text, "  ", NodeId("d_", input), " --> ", id, "\n");
    }
    for (const auto& output : recipe.outputs) {
      absl::StrAppend(&text, "  ", id, " --> ", NodeId("d_", output), "\n");
    }
  }
  return text;
}

std::string FlowStatus::ToDot() const {
  std::string text = "digraph flow {\n  rankdir=LR;\n";
  for (const auto& dataset : datasets) {
    absl::StrAppend(&text, "  ", NodeId("d_", dataset.name),
                    " [shape=ellipse, label=", Quoted(DatasetLabel(dataset), false), "];\n");
  }
  for (const auto& recipe : recipes) {
    const std::string id = NodeId("r_", recipe.name);
    absl::StrAppend(&text, "  ", id, " [shape=box, label=", Quoted(RecipeLabel(recipe), false),
                    "];\n");
    for (const auto& input : recipe.inputs) {
      absl::StrAppend(&text, "  ", NodeId("d_", input), " -> ", id, ";\n");
    }
    for (const auto& output : recipe.outputs) {
      absl::StrAppend(&text, "  ", id, " -> ", NodeId("d_", output), ";\n");
    }
  }
  return text + "}\n";
}

}  // namespace assay::flow
