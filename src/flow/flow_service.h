// The flow as a whole: apply a flow.yaml (store what changed, audited), export the stored
// flow back to flow.yaml, and show the DAG with the state of every node.
//
// Thread-safety: as thread-safe as the workspace.
#ifndef ASSAY_FLOW_FLOW_SERVICE_H_
#define ASSAY_FLOW_FLOW_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "flow/flow_definition.h"
#include "nlohmann/json.hpp"

namespace assay::flow {

struct ApplyResult {
  std::vector<std::string> changes;  // one line per stored change; empty: nothing changed
};

// Validates `flow` (ValidateFlow, plus the project key when the file names one) and, in one
// transaction, stores new versions of changed recipes, removes recipes absent from the file,
// and stores changed quality rules (a dataset with rules that the file no longer lists gets
// an empty rule list). With `dry_run` nothing is stored. Errors: INVALID_ARGUMENT for an
// invalid flow or a project mismatch, NOT_FOUND project, store errors.
absl::StatusOr<ApplyResult> ApplyFlow(catalog::Workspace& workspace, const std::string& project,
                                      const FlowDefinition& flow, const catalog::Actor& actor,
                                      bool dry_run = false);

// The stored flow (latest versions of active recipes, in dependency order, and the rules in
// force). Applying it changes nothing. Errors: NOT_FOUND project.
absl::StatusOr<FlowDefinition> ExportFlow(catalog::Workspace& workspace,
                                          const std::string& project);

struct RecipeState {
  std::string name;
  std::string type;
  int64_t version = 0;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string state;   // "up to date", "stale", "never built", "failed", "blocked"
  std::string detail;  // why
  int64_t last_run_id = 0;
  std::string last_run_status;
  std::string last_run_at;
};

struct DatasetState {
  std::string name;
  std::string role;    // "source" or "recipe output"
  std::string latest;  // "v3" or "" when there is none
  int64_t rows = 0;
  std::string checks;  // "passed", "failed (2 errors)", "warnings (1)", "none"
};

struct FlowStatus {
  std::string project;
  std::vector<DatasetState> datasets;
  std::vector<RecipeState> recipes;  // in dependency order
  nlohmann::json ToJson() const;
  std::string ToText() const;
  // The DAG as a diagram: datasets as rounded nodes (with latest version and check status),
  // recipes as boxes (with type and state), edges in data-flow direction.
  std::string ToMermaid() const;
  std::string ToDot() const;
};

// Errors: NOT_FOUND project, store errors.
absl::StatusOr<FlowStatus> ShowFlow(catalog::Workspace& workspace, const std::string& project);

}  // namespace assay::flow

#endif  // ASSAY_FLOW_FLOW_SERVICE_H_
