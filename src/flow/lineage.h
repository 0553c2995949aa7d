// Lineage of a dataset version, read from the run records: upstream (which runs and input
// versions produced it, back to the source imports) or downstream (which runs read it and
// what they wrote, transitively). Rendered as text, JSON, Graphviz dot or Mermaid.
//
// Thread-safety: functions are as thread-safe as the workspace.
#ifndef ASSAY_FLOW_LINEAGE_H_
#define ASSAY_FLOW_LINEAGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/datasets.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::flow {

struct LineageNode {
  std::string id;     // "v12" (dataset version), "r7" (run), "s12" (import source of v12)
  std::string kind;   // "version", "run", "source"
  std::string label;  // one line for people
  nlohmann::json details = nlohmann::json::object();
};

// Data flows from -> to: source -> version, version -> run (input), run -> version (output).
struct LineageEdge {
  std::string from;
  std::string to;
  bool operator==(const LineageEdge&) const = default;
};

struct LineageGraph {
  std::string root;  // node id of the version asked about
  bool downstream = false;
  std::vector<LineageNode> nodes;  // root first, then in discovery order
  std::vector<LineageEdge> edges;
};

// Errors: store errors; DATA_LOSS if run records point at missing versions.
absl::StatusOr<LineageGraph> TraceLineage(catalog::Workspace& workspace,
                                          const catalog::DatasetVersion& version, bool downstream);

std::string LineageToText(const LineageGraph& graph);
nlohmann::json LineageToJson(const LineageGraph& graph);
std::string LineageToDot(const LineageGraph& graph);
std::string LineageToMermaid(const LineageGraph& graph);

}  // namespace assay::flow

#endif  // ASSAY_FLOW_LINEAGE_H_
