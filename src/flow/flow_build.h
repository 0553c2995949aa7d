// Building a project's flow: resolve the recipes upstream of the targets, order them by
// their dependencies, skip each recipe whose memo key already has a succeeded run (reusing
// its outputs), run the others, and record every run. docs/flow.md is the reference.
//
// memo key = SHA-256 of the canonical JSON {type, config, input version hashes, output
// names, engine version}, plus, for a score recipe, the manifest hash of the model version
// it reads (resolved when the build reaches it). A recipe's outputs become visible
// atomically: its output versions, their quality reports and the run record are written in
// one metadata transaction. A failed recipe records a failed run and leaves every earlier
// output intact. Before a recipe reads a version that failed an error-severity quality rule
// the build stops, unless the caller allows it with a reason (audited as quality.override).
//
// Thread-safety: a FlowBuilder belongs to one thread; several processes may build at once
// (memo lookups and commits are transactional; concurrent identical runs both succeed and
// the second finds the first's identical output versions).
#ifndef ASSAY_FLOW_FLOW_BUILD_H_
#define ASSAY_FLOW_FLOW_BUILD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/datasets.h"
#include "catalog/recipes.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::flow {

struct BuildOptions {
  std::vector<std::string> targets;  // dataset or recipe names; empty: every recipe
  bool force = false;                // run the planned recipes even when memoized
  bool dry_run = false;              // plan only
  bool allow_failed_checks = false;  // needs Actor::reason; audited
};

struct BuildStep {
  std::string recipe;
  int64_t recipe_version = 0;
  std::string type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string action;  // "run" or "skip" (the plan)
  std::string reason;  // why it runs or is skipped
  // After the build:
  std::string status;  // "succeeded", "reused", "failed", "not run" ("planned" in a dry run)
  int64_t run_id = 0;  // the new run, or the memoized one that was reused
  std::vector<std::string> input_refs;   // "CHURN/hcps@v2"
  std::vector<std::string> output_refs;  // "CHURN/features@v3"
  std::vector<int64_t> output_rows;
  std::vector<bool> output_created;  // false: identical content, an existing version
  double seconds = 0;
  std::string log;
  std::string error;
};

struct BuildReport {
  std::string project;
  bool dry_run = false;
  bool ok = true;
  std::string failure;  // what stopped the build and what to do
  std::vector<BuildStep> steps;
  std::vector<std::string> notes;  // quality overrides, checks run under newer rules
  nlohmann::json ToJson() const;
};

using BuildProgress = std::function<void(const BuildStep& step, bool finished)>;

class FlowBuilder {
 public:
  explicit FlowBuilder(catalog::Workspace& workspace) : workspace_(workspace) {}

  // Plans and (unless dry_run) runs the build. A recipe failure or a quality gate stop is
  // reported in the returned report (ok = false, failure set), not as an error status.
  // Errors: NOT_FOUND for an unknown project or target, INVALID_ARGUMENT for a source
  // dataset named as target or --allow-failed-checks without a reason, FAILED_PRECONDITION
  // when a source dataset has no version yet, store errors.
  absl::StatusOr<BuildReport> Build(const std::string& project, const BuildOptions& options,
                                    const catalog::Actor& actor,
                                    const BuildProgress& progress = nullptr);

 private:
  catalog::Workspace& workspace_;
};

// The engine version that enters every memo key: Assay's version plus the recipe engine's.
std::string EngineVersion();

// The memo key of running `definition` on `inputs` (in the recipe's input order).
// `model_sha256`, for a score recipe, is the manifest hash of the saved-model version it reads
// (flow/score_recipe.h), so a new version of an unpinned model re-runs it; empty for the
// other types, whose keys do not change.
std::string MemoKey(const catalog::RecipeDefinition& definition,
                    const std::vector<catalog::DatasetVersion>& inputs,
                    const std::string& model_sha256 = "");

}  // namespace assay::flow

#endif  // ASSAY_FLOW_FLOW_BUILD_H_
