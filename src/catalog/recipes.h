// Recipes and quality rules as stored definitions (ARCHITECTURE.md section 1). A recipe is a
// named node of a project's flow: a type, the datasets it reads and writes, and a config. Its
// definition is versioned like data: storing an unchanged definition makes no new version,
// and every change is audited. Quality rules are stored per dataset name the same way.
//
// This layer stores and audits; it does not interpret configs or rules (recipes/ and
// quality/ do, and flow/ validates before storing).
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_CATALOG_RECIPES_H_
#define ASSAY_CATALOG_RECIPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::catalog {

// Errors: INVALID_ARGUMENT explaining the allowed form (like a dataset name).
absl::Status ValidateRecipeName(std::string_view name);

struct RecipeDefinition {
  std::string name;
  std::string type;                  // "prepare", "join", ...
  std::vector<std::string> inputs;   // dataset names in the same project, in order
  std::vector<std::string> outputs;  // dataset names in the same project, in order
  nlohmann::json config = nlohmann::json::object();

  // {"type", "inputs", "outputs", "config"} (the name is the key, not part of the content).
  nlohmann::json ContentJson() const;
  // SHA-256 of the canonical ContentJson (sorted keys, no whitespace).
  std::string Sha256() const;
  // SHA-256 of the canonical config alone.
  std::string ConfigSha256() const;
};

struct RecipeVersion {
  int64_t recipe_id = 0;
  std::string project;
  int64_t version = 0;
  RecipeDefinition definition;
  std::string sha256;  // definition.Sha256() when stored
  std::string created_by;
  int64_t created_at_micros = 0;
  std::string Ref() const;  // "CHURN/features@v2"
};

struct PutResult {
  bool changed = false;  // false: identical to the latest version, nothing stored
  RecipeVersion version;
};

struct DatasetRules {
  std::string project;
  std::string dataset;
  int64_t version = 0;
  nlohmann::json rules = nlohmann::json::array();
  std::string sha256;  // of the canonical rules JSON
  std::string created_by;
  int64_t created_at_micros = 0;
};

// SHA-256 hex of json.dump() (nlohmann objects keep keys sorted, so equal JSON values give
// equal text).
std::string CanonicalJsonSha256(const nlohmann::json& json);

class RecipeCatalog {
 public:
  explicit RecipeCatalog(Workspace& workspace) : workspace_(workspace) {}

  // Inside a Mutate transaction: stores `definition` as the next version of recipe
  // project/definition.name unless it equals the latest version; re-activates a removed
  // recipe. Audited as recipe.create / recipe.update. Errors: INVALID_ARGUMENT for a bad
  // name, store errors.
  static absl::StatusOr<PutResult> Put(Workspace::Change& change, const std::string& project,
                                       const RecipeDefinition& definition, const std::string& user,
                                       int64_t now_micros);

  // Inside a Mutate transaction: marks the recipe removed (its history stays). Audited as
  // recipe.remove. Errors: NOT_FOUND.
  static absl::Status Remove(Workspace::Change& change, const std::string& project,
                             const std::string& name, int64_t now_micros);

  // Latest versions of the project's active recipes, by name. Errors: NOT_FOUND project.
  absl::StatusOr<std::vector<RecipeVersion>> List(const std::string& project) const;

  // Version `version` (0 = latest) of an active or removed recipe. Errors: NOT_FOUND naming
  // what exists.
  absl::StatusOr<RecipeVersion> Get(const std::string& project, const std::string& name,
                                    int64_t version = 0) const;

  // All versions, oldest first. Errors: NOT_FOUND.
  absl::StatusOr<std::vector<RecipeVersion>> History(const std::string& project,
                                                     const std::string& name) const;

  // Inside a Mutate transaction: stores `rules` (a JSON array) as the next rules version of
  // project/dataset unless equal to the latest. Audited as dataset.rules. Returns whether
  // anything changed.
  static absl::StatusOr<bool> PutRules(Workspace::Change& change, const std::string& project,
                                       const std::string& dataset, const nlohmann::json& rules,
                                       const std::string& user, int64_t now_micros);

  // The rules in force for project/dataset, or nullopt if none were ever set.
  absl::StatusOr<std::optional<DatasetRules>> GetRules(const std::string& project,
                                                       const std::string& dataset) const;

  // Latest rules of every dataset of the project that has any (possibly empty lists).
  absl::StatusOr<std::vector<DatasetRules>> ListRules(const std::string& project) const;

 private:
  Workspace& workspace_;
};

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_RECIPES_H_
