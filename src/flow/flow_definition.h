// The declarative, reviewable definition of a project's flow (flow.yaml): the datasets with
// their quality rules and the recipes between them. `assay flow apply` turns a file into
// stored recipe and rule versions; `assay flow export` writes the stored state back.
//
//   project: CHURN                      # optional; must match the project applied to
//   datasets:
//     hcps:
//       checks:                         # quality rules (docs/quality-rules.md)
//         - {type: not_null, columns: [hcp_id]}
//   recipes:
//     - name: rx_recent                 # unique within the project
//       type: group                     # docs/recipes/
//       inputs: [rx_monthly]
//       outputs: [rx_recent]
//       config: {...}                   # the recipe type's config
//
// docs/flow.md is the reference. Pure functions and values; thread-safe.
#ifndef ASSAY_FLOW_FLOW_DEFINITION_H_
#define ASSAY_FLOW_FLOW_DEFINITION_H_

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/recipes.h"
#include "nlohmann/json.hpp"

namespace assay::flow {

struct DatasetDeclaration {
  nlohmann::json checks = nlohmann::json::array();  // quality rule specs
};

struct FlowDefinition {
  std::string project;  // empty when the file does not say
  std::map<std::string, DatasetDeclaration> datasets;
  std::vector<catalog::RecipeDefinition> recipes;  // in file order
};

// Parses flow.yaml text. Plain YAML scalars become JSON booleans, numbers or null where they
// look like one; quoted scalars stay strings. Errors: INVALID_ARGUMENT naming the line and
// the key that is wrong.
absl::StatusOr<FlowDefinition> ParseFlowYaml(std::string_view text);

// Checks everything that needs no data: names, known recipe types and their configs, each
// dataset written by at most one recipe, no recipe reading its own output, no cycles, rule
// specs. Errors: INVALID_ARGUMENT listing the problem.
absl::Status ValidateFlow(const FlowDefinition& flow);

// Replaces `script_file` in python recipe configs by the file's text (`script`), reading the
// file relative to `base_dir`: the code a recipe runs is stored, versioned and memoized with
// the recipe, never read again from a file that may have changed. Errors: NOT_FOUND naming
// the recipe and the file.
absl::Status InlineScriptFiles(FlowDefinition& flow, const std::filesystem::path& base_dir);
absl::Status InlineScriptFile(catalog::RecipeDefinition& recipe,
                              const std::filesystem::path& base_dir);

// Renders the definition as flow.yaml (datasets by name, recipes in the given order).
std::string FlowToYaml(const FlowDefinition& flow);

// JSON <-> YAML conversion used by the above and by `assay recipe create --config`.
absl::StatusOr<nlohmann::json> YamlToJson(std::string_view text);
std::string JsonToYaml(const nlohmann::json& json);

}  // namespace assay::flow

#endif  // ASSAY_FLOW_FLOW_DEFINITION_H_
