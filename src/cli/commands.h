// The `assay` command's subcommands. Each Register* function adds one noun (init, project,
// dataset, flow, recipe, lineage, audit, ml, model, score) to the CLI11 app; the chosen subcommand
// stores its action in the CommandContext, and main() runs it after parsing so that errors are
// reported in one place.
//
// The commands are thin (STYLE.md): parse flags, call one catalog/audit function, render.
//
// Not thread-safe; used from main() only.
#ifndef ASSAY_CLI_COMMANDS_H_
#define ASSAY_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "common/clock.h"

namespace CLI {
class App;
}  // namespace CLI

namespace assay::cli {

struct CommandContext {
  std::string home_flag;  // --home
  std::function<absl::Status()> action;

  // Opens the workspace chosen by --home / $ASSAY_HOME / ./.assay.
  absl::StatusOr<std::unique_ptr<catalog::Workspace>> OpenWorkspace() const {
    return catalog::Workspace::Open(catalog::ResolveHome(home_flag), common::SystemClock::Get());
  }
  static catalog::Actor MakeActor(const std::string& reason) {
    return catalog::Actor{catalog::CurrentOsUser(), reason};
  }
};

void RegisterInitCommand(CLI::App& app, CommandContext& context);
void RegisterProjectCommands(CLI::App& app, CommandContext& context);
void RegisterDatasetCommands(CLI::App& app, CommandContext& context);
void RegisterAuditCommands(CLI::App& app, CommandContext& context);
// `flow` and `recipe`.
void RegisterFlowCommands(CLI::App& app, CommandContext& context);
void RegisterLineageCommand(CLI::App& app, CommandContext& context);
// `ml`, `model` and `score`.
void RegisterMlCommands(CLI::App& app, CommandContext& context);

}  // namespace assay::cli

#endif  // ASSAY_CLI_COMMANDS_H_
