// Entry point of the `assay` command: `assay <noun> <verb> [flags]`.
// Exit codes (ARCHITECTURE.md section 10): 0 success, 1 failure, 2 usage error.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "common/huge_pages.h"
#include "common/status_mapping.h"

namespace {

constexpr char kDescription[] =
    "Assay: versioned datasets, recipes with lineage and quality gates, AutoML with explanations,\n"
    "saved models with a model document, batch scoring, and a tamper-evident audit trail for\n"
    "regulated ML.\n"
    "The workspace is chosen by --home, else $ASSAY_HOME, else ./.assay.";

}  // namespace

int main(int argc, char** argv) {
  assay::common::ReexecWithProcessTunables(argv);
  assay::cli::CommandContext context;
  CLI::App app(kDescription, "assay");
  app.set_version_flag("--version", "assay 0.1.0");
  app.add_option("--home", context.home_flag,
                 "Workspace directory (default: $ASSAY_HOME or ./.assay)");
  app.require_subcommand(1);
  app.fallthrough();
  assay::cli::RegisterInitCommand(app, context);
  assay::cli::RegisterProjectCommands(app, context);
  assay::cli::RegisterDatasetCommands(app, context);
  assay::cli::RegisterFlowCommands(app, context);
  assay::cli::RegisterLineageCommand(app, context);
  assay::cli::RegisterMlCommands(app, context);
  assay::cli::RegisterAuditCommands(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? assay::common::kExitOk : assay::common::kExitUsage;
  }
  if (!context.action) {
    std::cerr << app.help();
    return assay::common::kExitUsage;
  }
  const absl::Status status = context.action();
  if (!status.ok()) {
    std::cerr << "error: " << status.message() << '\n';
  }
  return assay::common::ExitCodeFor(status);
}
