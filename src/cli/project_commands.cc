// `assay project create|list`.
#include <iostream>

#include "CLI/CLI.hpp"
#include "catalog/projects.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status_macros.h"

namespace assay::cli {
namespace {

nlohmann::json ProjectToJson(const catalog::Project& project) {
  return {{"key", project.key},
          {"name", project.name},
          {"description", project.description},
          {"created_by", project.created_by},
          {"created_at", FormatTime(project.created_at_micros)}};
}

}  // namespace

void RegisterProjectCommands(CLI::App& app, CommandContext& context) {
  auto* project = app.add_subcommand("project", "Create and list projects");
  project->require_subcommand(1);

  struct CreateFlags {
    std::string key, name, description, reason;
    bool json = false;
  };
  auto create_flags = std::make_shared<CreateFlags>();
  auto* create = project->add_subcommand("create", "Create a project");
  create->add_option("KEY", create_flags->key, "Project key: upper-case letters, digits, '_'")
      ->required();
  create->add_option("--name", create_flags->name, "Display name (default: the key)");
  create->add_option("--description", create_flags->description, "What the project is for");
  create->add_option("--reason", create_flags->reason, "Why (recorded in the audit trail)");
  create->add_flag("--json", create_flags->json, "Print the project as JSON");
  create->callback([&context, create_flags] {
    context.action = [&context, create_flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(
          const catalog::Project created,
          catalog::ProjectCatalog(*workspace)
              .Create(create_flags->key, create_flags->name, create_flags->description,
                      CommandContext::MakeActor(create_flags->reason)));
      if (create_flags->json) {
        PrintJson(std::cout, ProjectToJson(created));
      } else {
        std::cout << "Created project " << created.key << "\n";
      }
      return absl::OkStatus();
    };
  });

  auto list_json = std::make_shared<bool>(false);
  auto* list = project->add_subcommand("list", "List projects");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([&context, list_json] {
    context.action = [&context, list_json]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto projects, catalog::ProjectCatalog(*workspace).List());
      if (*list_json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : projects) out.push_back(ProjectToJson(p));
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      if (projects.empty()) {
        std::cout << "No projects yet. Create one with `assay project create KEY`.\n";
        return absl::OkStatus();
      }
      TextTable table({"KEY", "NAME", "CREATED", "BY", "DESCRIPTION"});
      for (const auto& p : projects) {
        table.AddRow({p.key, p.name, FormatTime(p.created_at_micros), p.created_by, p.description});
      }
      table.Print(std::cout);
      return absl::OkStatus();
    };
  });
}

}  // namespace assay::cli
