#include "flow/flow_graph.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace assay::flow {

absl::StatusOr<FlowGraph> FlowGraph::Load(catalog::Workspace& workspace,
                                          const std::string& project) {
  ASSAY_ASSIGN_OR_RETURN(auto recipes, catalog::RecipeCatalog(workspace).List(project));
  return FromRecipes(std::move(recipes));
}

absl::StatusOr<FlowGraph> FlowGraph::FromRecipes(std::vector<catalog::RecipeVersion> recipes) {
  std::sort(recipes.begin(), recipes.end(),
            [](const auto& a, const auto& b) { return a.definition.name < b.definition.name; });
  std::map<std::string, size_t> producer;
  for (size_t index = 0; index < recipes.size(); ++index) {
    for (const auto& output : recipes[index].definition.outputs) {
      auto [it, inserted] = producer.emplace(output, index);
      if (!inserted) {
        return absl::FailedPreconditionError(absl::StrCat(
            "dataset ", output, " is written by both ", recipes[it->second].definition.name,
            " and ", recipes[index].definition.name));
      }
    }
  }
  // Kahn's algorithm; the ready set is ordered by name so the order is deterministic.
  std::vector<int> pending(recipes.size(), 0);
  std::vector<std::vector<size_t>> readers(recipes.size());
  for (size_t index = 0; index < recipes.size(); ++index) {
    for (const auto& input : recipes[index].definition.inputs) {
      auto it = producer.find(input);
      if (it == producer.end()) continue;
      ++pending[index];
      readers[it->second].push_back(index);
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t index = 0; index < recipes.size(); ++index) {
    if (pending[index] == 0) ready.push(index);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t index = ready.top();
    ready.pop();
    order.push_back(index);
    for (size_t reader : readers[index]) {
      if (--pending[reader] == 0) ready.push(reader);
    }
  }
  if (order.size() != recipes.size()) {
    std::vector<std::string> stuck;
    for (size_t index = 0; index < recipes.size(); ++index) {
      if (pending[index] > 0) stuck.push_back(recipes[index].definition.name);
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the flow has a cycle through recipes ", absl::StrJoin(stuck, ", "),
                     "; change one of them so it no longer reads what it writes"));
  }
  FlowGraph graph;
  for (size_t index : order) graph.recipes_.push_back(std::move(recipes[index]));
  for (size_t index = 0; index < graph.recipes_.size(); ++index) {
    graph.by_name_[graph.recipes_[index].definition.name] = index;
    for (const auto& output : graph.recipes_[index].definition.outputs) {
      graph.producer_[output] = index;
    }
  }
  return graph;
}

int FlowGraph::ProducerOf(const std::string& dataset) const {
  auto it = producer_.find(dataset);
  return it == producer_.end() ? -1 : static_cast<int>(it->second);
}

int FlowGraph::IndexOf(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int>(it->second);
}

std::set<std::string> FlowGraph::Sources() const {
  std::set<std::string> sources;
  for (const auto& recipe : recipes_) {
    for (const auto& input : recipe.definition.inputs) {
      if (!producer_.contains(input)) sources.insert(input);
    }
  }
  return sources;
}

std::set<std::string> FlowGraph::Datasets() const {
  std::set<std::string> datasets;
  for (const auto& recipe : recipes_) {
    datasets.insert(recipe.definition.inputs.begin(), recipe.definition.inputs.end());
    datasets.insert(recipe.definition.outputs.begin(), recipe.definition.outputs.end());
  }
  return datasets;
}

absl::StatusOr<std::vector<size_t>> FlowGraph::Upstream(
    const std::vector<std::string>& targets) const {
  std::vector<bool> needed(recipes_.size(), targets.empty());
  std::vector<size_t> work;
  for (const auto& target : targets) {
    if (auto it = by_name_.find(target); it != by_name_.end()) {
      work.push_back(it->second);
    } else if (auto produced = producer_.find(target); produced != producer_.end()) {
      work.push_back(produced->second);
    } else if (Sources().contains(target)) {
      return absl::InvalidArgumentError(
          absl::StrCat(target,
                       " is a source dataset (no recipe writes it): import a new version "
                       "with `assay dataset import` instead of building it"));
    } else {
      std::vector<std::string> names;
      for (const auto& [name, index] : by_name_) names.push_back(name);
      return absl::NotFoundError(absl::StrCat(
          "no recipe or recipe output called ", target,
          " in this flow (recipes: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
  }
  while (!work.empty()) {
    const size_t index = work.back();
    work.pop_back();
    if (needed[index] && !targets.empty()) continue;
    needed[index] = true;
    for (const auto& input : recipes_[index].definition.inputs) {
      auto it = producer_.find(input);
      if (it != producer_.end() && !needed[it->second]) work.push_back(it->second);
    }
  }
  std::vector<size_t> plan;
  for (size_t index = 0; index < recipes_.size(); ++index) {
    if (needed[index]) plan.push_back(index);
  }
  return plan;
}

std::vector<size_t> FlowGraph::Downstream(size_t index) const {
  std::vector<bool> reached(recipes_.size(), false);
  std::vector<size_t> work = {index};
  while (!work.empty()) {
    const size_t current = work.back();
    work.pop_back();
    for (size_t reader = 0; reader < recipes_.size(); ++reader) {
      if (reached[reader]) continue;
      for (const auto& input : recipes_[reader].definition.inputs) {
        const auto it = producer_.find(input);
        if (it != producer_.end() && it->second == current) {
          reached[reader] = true;
          work.push_back(reader);
          break;
        }
      }
    }
  }
  std::vector<size_t> result;
  for (size_t reader = 0; reader < recipes_.size(); ++reader) {
    if (reached[reader]) result.push_back(reader);
  }
  return result;
}

}  // namespace assay::flow
