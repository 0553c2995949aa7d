// `assay init`: create a workspace.
#include <iostream>

#include "CLI/CLI.hpp"
#include "catalog/workspace.h"
#include "cli/commands.h"
#include "common/status_macros.h"

namespace assay::cli {

void RegisterInitCommand(CLI::App& app, CommandContext& context) {
  auto* init = app.add_subcommand(
      "init", "Create a workspace (metadata database, object store, signing key) in --home");
  auto reason = std::make_shared<std::string>();
  init->add_option("--reason", *reason, "Why (recorded in the audit trail)");
  init->callback([&context, reason] {
    context.action = [&context, reason]() -> absl::Status {
      const auto home = catalog::ResolveHome(context.home_flag);
      ASSAY_ASSIGN_OR_RETURN(auto workspace,
                             catalog::Workspace::Init(home, CommandContext::MakeActor(*reason),
                                                      common::SystemClock::Get()));
      std::cout << "Initialized Assay workspace in " << workspace->home().string() << "\n"
                << "  metadata   " << (workspace->home() / "assay.db").string() << "\n"
                << "  objects    " << (workspace->home() / "objects").string() << "\n"
                << "  keys       " << (workspace->home() / "keys").string()
                << " (keep private; back it up)\n"
                << "Next: assay --home " << workspace->home().string() << " project create KEY\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace assay::cli
