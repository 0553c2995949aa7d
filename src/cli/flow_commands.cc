// `assay flow apply|export|build|show`, `assay recipe create|show|list` and `assay lineage`.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "catalog/dataset_ref.h"
#include "catalog/datasets.h"
#include "catalog/recipes.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "flow/flow_build.h"
#include "flow/flow_definition.h"
#include "flow/flow_service.h"
#include "flow/lineage.h"
#include "recipes/recipe.h"

namespace assay::cli {
namespace {

// --- flow ----------------------------------------------------------------------------------

struct ApplyFlags {
  std::string project, file, reason;
  bool dry_run = false, json = false;
};

absl::Status RunApply(const CommandContext& context, const ApplyFlags& flags) {
  ASSAY_ASSIGN_OR_RETURN(const std::string text, common::ReadFile(flags.file));
  absl::StatusOr<flow::FlowDefinition> definition = flow::ParseFlowYaml(text);
  if (!definition.ok()) {
    return absl::Status(definition.status().code(),
                        absl::StrCat(flags.file, ": ", definition.status().message()));
  }
  ASSAY_RETURN_IF_ERROR(
      flow::InlineScriptFiles(*definition, std::filesystem::absolute(flags.file).parent_path()));
  ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
  ASSAY_ASSIGN_OR_RETURN(const flow::ApplyResult result,
                         flow::ApplyFlow(*workspace, flags.project, *definition,
                                         CommandContext::MakeActor(flags.reason), flags.dry_run));
  if (flags.json) {
    PrintJson(
        std::cout,
        {{"project", flags.project}, {"dry_run", flags.dry_run}, {"changes", result.changes}});
    return absl::OkStatus();
  }
  if (result.changes.empty()) {
    std::cout << "Flow " << flags.project << " already matches " << flags.file
              << "; nothing changed\n";
    return absl::OkStatus();
  }
  std::cout << (flags.dry_run ? "Would apply" : "Applied") << " " << flags.file << " to "
            << flags.project << ":\n";
  for (const auto& change : result.changes) std::cout << "  " << change << "\n";
  return absl::OkStatus();
}

void RegisterFlowApply(CLI::App& flow, CommandContext& context) {
  auto flags = std::make_shared<ApplyFlags>();
  auto* command = flow.add_subcommand(
      "apply", "Make the project's recipes and quality rules match a flow.yaml (audited)");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("FILE", flags->file, "flow.yaml (docs/flow.md)")->required();
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--dry-run", flags->dry_run, "Only print what would change");
  command->add_flag("--json", flags->json, "Print JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags] { return RunApply(context, *flags); };
  });
}

void RegisterFlowExport(CLI::App& flow, CommandContext& context) {
  struct Flags {
    std::string project, output;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = flow.add_subcommand("export", "Write the project's stored flow as flow.yaml");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("-o,--output", flags->output, "Write to this file (default: stdout)");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const flow::FlowDefinition definition,
                             flow::ExportFlow(*workspace, flags->project));
      const std::string yaml = flow::FlowToYaml(definition);
      if (flags->output.empty()) {
        std::cout << yaml;
        return absl::OkStatus();
      }
      ASSAY_RETURN_IF_ERROR(common::AtomicWriteFile(flags->output, yaml));
      std::cout << "Exported flow " << flags->project << " to " << flags->output << "\n";
      return absl::OkStatus();
    };
  });
}

struct BuildFlags {
  std::string project, reason;
  std::vector<std::string> targets;
  bool force = false, dry_run = false, allow_failed_checks = false, json = false;
};

void PrintStep(const flow::BuildStep& step) {
  std::cout << "  " << absl::StrFormat("%-8s", step.status) << " " << step.recipe << "@v"
            << step.recipe_version << " (" << step.type << ")";
  if (step.status == "planned") {
    std::cout << ": " << step.action << ", " << step.reason << "\n";
    return;
  }
  if (step.run_id != 0) std::cout << " run " << step.run_id;
  if (step.seconds > 0) std::cout << absl::StrFormat(" %.2fs", step.seconds);
  std::cout << "\n";
  if (!step.reason.empty()) std::cout << "           " << step.reason << "\n";
  for (size_t position = 0; position < step.output_refs.size(); ++position) {
    std::cout << "           -> " << step.output_refs[position] << " ("
              << FormatCount(step.output_rows[position]) << " rows"
              << (step.output_created[position] ? "" : ", unchanged") << ")\n";
  }
  if (!step.error.empty()) std::cout << "           error: " << step.error << "\n";
}

absl::Status RunBuild(const CommandContext& context, const BuildFlags& flags) {
  ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
  flow::BuildOptions options;
  options.targets = flags.targets;
  options.force = flags.force;
  options.dry_run = flags.dry_run;
  options.allow_failed_checks = flags.allow_failed_checks;
  const bool show_progress = !flags.json && ::isatty(STDERR_FILENO);
  flow::BuildProgress progress;
  if (show_progress) {
    progress = [](const flow::BuildStep& step, bool finished) {
      if (!finished) std::cerr << "\r\033[K" << step.recipe << "..." << std::flush;
      if (finished) std::cerr << "\r\033[K" << std::flush;
    };
  }
  ASSAY_ASSIGN_OR_RETURN(
      const flow::BuildReport report,
      flow::FlowBuilder(*workspace)
          .Build(flags.project, options, CommandContext::MakeActor(flags.reason), progress));
  if (flags.json) {
    PrintJson(std::cout, report.ToJson());
  } else {
    std::cout << (report.dry_run ? "Plan for " : "Build of ") << flags.project
              << (flags.targets.empty()
                      ? std::string(" (all recipes)")
                      : absl::StrCat(" (", absl::StrJoin(flags.targets, ", "), ")"))
              << ":\n";
    if (report.steps.empty()) std::cout << "  nothing to build: the flow has no recipes\n";
    for (const auto& step : report.steps) PrintStep(step);
    for (const auto& note : report.notes) std::cout << "note: " << note << "\n";
    if (report.ok) {
      int ran = 0, reused = 0;
      for (const auto& step : report.steps) {
        ran += step.status == "succeeded";
        reused += step.status == "reused";
      }
      if (!report.dry_run) {
        std::cout << "Build succeeded: " << ran << " ran, " << reused << " memoized\n";
      }
    }
  }
  if (!report.ok) return absl::FailedPreconditionError(report.failure);
  return absl::OkStatus();
}

void RegisterFlowBuild(CLI::App& flow, CommandContext& context) {
  auto flags = std::make_shared<BuildFlags>();
  auto* command = flow.add_subcommand(
      "build", "Build targets (datasets or recipes) and what they need, skipping memoized recipes");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command->add_option("TARGET", flags->targets,
                      "Dataset or recipe names (default: every recipe of the flow)");
  command->add_flag("--force", flags->force, "Run the planned recipes even when memoized");
  command->add_flag("--dry-run", flags->dry_run,
                    "Print the plan and why each recipe runs or is skipped; change nothing");
  command->add_flag("--allow-failed-checks", flags->allow_failed_checks,
                    "Read versions that failed error-severity quality rules (needs --reason; "
                    "audited)");
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--json", flags->json, "Print the build report as JSON");
  command->callback([&context, flags] {
    context.action = [&context, flags] { return RunBuild(context, *flags); };
  });
}

void RegisterFlowShow(CLI::App& flow, CommandContext& context) {
  struct Flags {
    std::string project, format = "text";
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = flow.add_subcommand(
      "show", "Show the flow's datasets and recipes with their latest versions and build state");
  command->add_option("PROJECT", flags->project, "Project key")->required();
  command
      ->add_option("--format", flags->format,
                   "text (default), json, mermaid or dot (a diagram of the DAG)")
      ->check(CLI::IsMember({"text", "json", "mermaid", "dot"}));
  command->add_flag("--json", flags->json, "Same as --format json");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const flow::FlowStatus status,
                             flow::ShowFlow(*workspace, flags->project));
      if (flags->json || flags->format == "json") {
        PrintJson(std::cout, status.ToJson());
      } else if (flags->format == "mermaid") {
        std::cout << status.ToMermaid();
      } else if (flags->format == "dot") {
        std::cout << status.ToDot();
      } else {
        std::cout << status.ToText();
      }
      return absl::OkStatus();
    };
  });
}

// --- recipe --------------------------------------------------------------------------------

nlohmann::json RecipeToJson(const catalog::RecipeVersion& recipe) {
  return {{"recipe", absl::StrCat(recipe.project, "/", recipe.definition.name)},
          {"version", recipe.version},
          {"type", recipe.definition.type},
          {"inputs", recipe.definition.inputs},
          {"outputs", recipe.definition.outputs},
          {"config", recipe.definition.config},
          {"sha256", recipe.sha256},
          {"created_by", recipe.created_by},
          {"created_at", FormatTime(recipe.created_at_micros)}};
}

// "PROJECT/NAME" or "PROJECT/NAME@vN".
absl::StatusOr<std::pair<catalog::DatasetName, int64_t>> ParseRecipeRef(const std::string& text) {
  std::string name_part = text;
  int64_t version = 0;
  if (const size_t at = text.find('@'); at != std::string::npos) {
    name_part = text.substr(0, at);
    const std::string label = text.substr(at + 1);
    if (label.size() < 2 || label[0] != 'v' ||
        label.find_first_not_of("0123456789", 1) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid recipe reference ", text, ": use PROJECT/NAME or PROJECT/NAME@v2"));
    }
    version = std::stoll(label.substr(1));
  }
  ASSAY_ASSIGN_OR_RETURN(catalog::DatasetName name, catalog::ParseDatasetName(name_part));
  return std::make_pair(std::move(name), version);
}

struct CreateFlags {
  std::string recipe, type, config_file, reason;
  std::vector<std::string> inputs, outputs;
};

absl::Status RunRecipeCreate(const CommandContext& context, const CreateFlags& flags) {
  ASSAY_ASSIGN_OR_RETURN(const auto ref, ParseRecipeRef(flags.recipe));
  if (ref.second != 0) {
    return absl::InvalidArgumentError("give the recipe as PROJECT/NAME (versions are assigned)");
  }
  catalog::RecipeDefinition definition;
  definition.name = ref.first.name;
  definition.type = flags.type;
  definition.inputs = flags.inputs;
  definition.outputs = flags.outputs;
  if (!flags.config_file.empty()) {
    ASSAY_ASSIGN_OR_RETURN(const std::string text, common::ReadFile(flags.config_file));
    // JSON is YAML, so one parser reads both.
    ASSAY_ASSIGN_OR_RETURN(definition.config, flow::YamlToJson(text));
    if (definition.config.is_null()) definition.config = nlohmann::json::object();
    ASSAY_RETURN_IF_ERROR(flow::InlineScriptFile(
        definition, std::filesystem::absolute(flags.config_file).parent_path()));
  }
  ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
  // The whole flow must stay valid with this recipe in it (no second writer, no cycle).
  ASSAY_ASSIGN_OR_RETURN(flow::FlowDefinition current,
                         flow::ExportFlow(*workspace, ref.first.project));
  bool replaced = false;
  for (auto& recipe : current.recipes) {
    if (recipe.name == definition.name) {
      recipe = definition;
      replaced = true;
    }
  }
  if (!replaced) current.recipes.push_back(definition);
  ASSAY_RETURN_IF_ERROR(flow::ValidateFlow(current));
  const catalog::Actor actor = CommandContext::MakeActor(flags.reason);
  catalog::PutResult result;
  ASSAY_RETURN_IF_ERROR(workspace->Mutate(actor, [&](catalog::Workspace::Change& change) {
    ASSAY_ASSIGN_OR_RETURN(
        result, catalog::RecipeCatalog::Put(change, ref.first.project, definition, actor.user,
                                            workspace->clock().NowMicros()));
    return absl::OkStatus();
  }));
  if (result.changed) {
    std::cout << "Stored " << result.version.Ref() << " (" << definition.type << ": "
              << absl::StrJoin(definition.inputs, ", ") << " -> "
              << absl::StrJoin(definition.outputs, ", ") << ")\n";
  } else {
    std::cout << "Unchanged: " << result.version.Ref() << " already has this definition\n";
  }
  return absl::OkStatus();
}

void RegisterRecipeCommands(CLI::App& app, CommandContext& context) {
  auto* recipe = app.add_subcommand("recipe", "Recipes: versioned transformations of datasets");
  recipe->require_subcommand(1);

  auto create_flags = std::make_shared<CreateFlags>();
  auto* create = recipe->add_subcommand(
      "create", "Create a recipe, or store a new version of it when its definition changed");
  create->add_option("RECIPE", create_flags->recipe, "PROJECT/NAME")->required();
  create
      ->add_option("--type", create_flags->type,
                   absl::StrCat("Recipe type: ", absl::StrJoin(recipes::RecipeTypes(), ", ")))
      ->required();
  create->add_option("--input", create_flags->inputs, "Input dataset name (repeatable, in order)");
  create
      ->add_option("--output", create_flags->outputs, "Output dataset name (repeatable, in order)")
      ->required();
  create->add_option("--config", create_flags->config_file,
                     "The recipe's config as a YAML or JSON file (docs/recipes/)");
  create->add_option("--reason", create_flags->reason, "Why (recorded in the audit trail)");
  create->callback([&context, create_flags] {
    context.action = [&context, create_flags] { return RunRecipeCreate(context, *create_flags); };
  });

  struct ShowFlags {
    std::string recipe;
    bool json = false, history = false;
  };
  auto show_flags = std::make_shared<ShowFlags>();
  auto* show = recipe->add_subcommand("show", "Show a recipe version (PROJECT/NAME[@vN])");
  show->add_option("RECIPE", show_flags->recipe, "PROJECT/NAME or PROJECT/NAME@vN")->required();
  show->add_flag("--history", show_flags->history, "List every version instead");
  show->add_flag("--json", show_flags->json, "Print JSON");
  show->callback([&context, show_flags] {
    context.action = [&context, show_flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(const auto ref, ParseRecipeRef(show_flags->recipe));
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      catalog::RecipeCatalog catalog(*workspace);
      if (show_flags->history) {
        ASSAY_ASSIGN_OR_RETURN(const auto versions,
                               catalog.History(ref.first.project, ref.first.name));
        if (show_flags->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& version : versions) out.push_back(RecipeToJson(version));
          PrintJson(std::cout, out);
          return absl::OkStatus();
        }
        TextTable table({"VERSION", "TYPE", "SHA256", "CREATED", "BY"});
        for (const auto& version : versions) {
          table.AddRow({catalog::VersionLabel(version.version), version.definition.type,
                        version.sha256.substr(0, 12), FormatTime(version.created_at_micros),
                        version.created_by});
        }
        table.Print(std::cout);
        return absl::OkStatus();
      }
      ASSAY_ASSIGN_OR_RETURN(const auto version,
                             catalog.Get(ref.first.project, ref.first.name, ref.second));
      if (show_flags->json) {
        PrintJson(std::cout, RecipeToJson(version));
        return absl::OkStatus();
      }
      std::cout << version.Ref() << " (" << version.definition.type << ")\n"
                << "  inputs   " << absl::StrJoin(version.definition.inputs, ", ") << "\n"
                << "  outputs  " << absl::StrJoin(version.definition.outputs, ", ") << "\n"
                << "  sha256   " << version.sha256 << "\n"
                << "  created  " << FormatTime(version.created_at_micros) << " by "
                << version.created_by << "\n"
                << "config:\n"
                << flow::JsonToYaml(version.definition.config);
      return absl::OkStatus();
    };
  });

  struct ListFlags {
    std::string project;
    bool json = false;
  };
  auto list_flags = std::make_shared<ListFlags>();
  auto* list = recipe->add_subcommand("list", "List the recipes of a project");
  list->add_option("PROJECT", list_flags->project, "Project key")->required();
  list->add_flag("--json", list_flags->json, "Print JSON");
  list->callback([&context, list_flags] {
    context.action = [&context, list_flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto recipes,
                             catalog::RecipeCatalog(*workspace).List(list_flags->project));
      if (list_flags->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& recipe : recipes) out.push_back(RecipeToJson(recipe));
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      if (recipes.empty()) {
        std::cout << "Project " << list_flags->project
                  << " has no recipes yet. Define them in a flow.yaml and run `assay flow apply "
                  << list_flags->project << " flow.yaml`.\n";
        return absl::OkStatus();
      }
      TextTable table({"RECIPE", "VERSION", "TYPE", "INPUTS", "OUTPUTS", "UPDATED"});
      for (const auto& recipe : recipes) {
        table.AddRow({recipe.definition.name, catalog::VersionLabel(recipe.version),
                      recipe.definition.type, absl::StrJoin(recipe.definition.inputs, ", "),
                      absl::StrJoin(recipe.definition.outputs, ", "),
                      FormatTime(recipe.created_at_micros)});
      }
      table.Print(std::cout);
      return absl::OkStatus();
    };
  });
}

}  // namespace

void RegisterFlowCommands(CLI::App& app, CommandContext& context) {
  auto* flow = app.add_subcommand(
      "flow", "The project's flow: datasets and recipes, memoized builds, quality gates");
  flow->require_subcommand(1);
  RegisterFlowApply(*flow, context);
  RegisterFlowExport(*flow, context);
  RegisterFlowBuild(*flow, context);
  RegisterFlowShow(*flow, context);
  RegisterRecipeCommands(app, context);
}

void RegisterLineageCommand(CLI::App& app, CommandContext& context) {
  struct Flags {
    std::string ref, format = "text";
    bool downstream = false, json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "lineage",
      "Show where a dataset version came from (runs, recipes, inputs, source files), or with "
      "--downstream what was built from it");
  command->add_option("REF", flags->ref, "PROJECT/NAME, PROJECT/NAME@v3 or @sha256:PREFIX")
      ->required();
  command->add_flag("--downstream", flags->downstream, "Follow what depends on the version");
  command->add_option("--format", flags->format, "text (default), json, dot or mermaid")
      ->check(CLI::IsMember({"text", "json", "dot", "mermaid"}));
  command->add_flag("--json", flags->json, "Same as --format json");
  command->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetRef ref, catalog::ParseDatasetRef(flags->ref));
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetVersion version,
                             catalog::DatasetCatalog(*workspace).Resolve(ref));
      ASSAY_ASSIGN_OR_RETURN(const flow::LineageGraph graph,
                             flow::TraceLineage(*workspace, version, flags->downstream));
      if (flags->json || flags->format == "json") {
        PrintJson(std::cout, flow::LineageToJson(graph));
      } else if (flags->format == "dot") {
        std::cout << flow::LineageToDot(graph);
      } else if (flags->format == "mermaid") {
        std::cout << flow::LineageToMermaid(graph);
      } else {
        std::cout << flow::LineageToText(graph);
      }
      return absl::OkStatus();
    };
  });
}

}  // namespace assay::cli
