// The DAG of a project's stored flow: active recipes and the datasets they read and write.
// Datasets no recipe writes are sources (imported). Used by the build planner, `flow show`
// and `flow export`.
//
// Immutable after Load; thread-safe to read.
#ifndef ASSAY_FLOW_FLOW_GRAPH_H_
#define ASSAY_FLOW_FLOW_GRAPH_H_

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/recipes.h"
#include "catalog/workspace.h"

namespace assay::flow {

class FlowGraph {
 public:
  // Loads the latest versions of the project's active recipes. Errors: NOT_FOUND project,
  // FAILED_PRECONDITION if the stored recipes form a cycle (only possible when recipes were
  // created one by one), store errors.
  static absl::StatusOr<FlowGraph> Load(catalog::Workspace& workspace, const std::string& project);
  // The same from definitions in memory (tests, flow apply).
  static absl::StatusOr<FlowGraph> FromRecipes(std::vector<catalog::RecipeVersion> recipes);

  // In topological order (ties by name).
  const std::vector<catalog::RecipeVersion>& recipes() const { return recipes_; }
  // The index of the recipe writing `dataset`, or -1 for a source.
  int ProducerOf(const std::string& dataset) const;
  // The index of the recipe called `name`, or -1.
  int IndexOf(const std::string& name) const;
  // Datasets read by some recipe and written by none.
  std::set<std::string> Sources() const;
  // Every dataset named by a recipe.
  std::set<std::string> Datasets() const;

  // Indices of the recipes needed to build `targets` (dataset or recipe names; empty means
  // all), in topological order. Errors: NOT_FOUND for an unknown name (listing what exists),
  // INVALID_ARGUMENT for a source dataset.
  absl::StatusOr<std::vector<size_t>> Upstream(const std::vector<std::string>& targets) const;
  // Indices of the recipes that read, directly or not, what recipe `index` writes.
  std::vector<size_t> Downstream(size_t index) const;

 private:
  std::vector<catalog::RecipeVersion> recipes_;
  std::map<std::string, size_t> producer_;  // dataset -> recipe index
  std::map<std::string, size_t> by_name_;   // recipe name -> index
};

}  // namespace assay::flow

#endif  // ASSAY_FLOW_FLOW_GRAPH_H_
