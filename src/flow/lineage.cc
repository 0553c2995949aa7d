#include "flow/lineage.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "catalog/runs.h"
#include "common/civil_time.h"
#include "common/status_macros.h"

namespace assay::flow {
namespace {

std::string ShortHash(const std::string& sha256) { return sha256.substr(0, 12); }

LineageNode VersionNode(const catalog::DatasetVersion& version) {
  LineageNode node;
  node.id = absl::StrCat("v", version.id);
  node.kind = "version";
  node.label = absl::StrCat(version.Ref(), " (sha256:", ShortHash(version.sha256), ", ",
                            version.row_count, " rows)");
  node.details = {{"ref", version.Ref()},
                  {"sha256", version.sha256},
                  {"rows", version.row_count},
                  {"created_by", version.created_by},
                  {"created_at", common::FormatTimestampMicros(version.created_at_micros)}};
  if (!version.checks.is_null())
    node.details["checks_passed"] = version.checks.value("passed", true);
  return node;
}

LineageNode RunNode(const catalog::RunRecord& run) {
  LineageNode node;
  node.id = absl::StrCat("r", run.id);
  node.kind = "run";
  node.label = absl::StrCat(run.Label(), ": recipe ", run.project, "/", run.recipe, "@v",
                            run.recipe_version, " (", run.recipe_type, ") by ", run.user, " at ",
                            common::FormatTimestampMicros(run.started_at_micros));
  // A score run names the saved-model version it read (flow/score_recipe.h).
  if (const auto model = run.environment.find("model");
      model != run.environment.end() && model->is_object()) {
    absl::StrAppend(&node.label, ", scored with ", model->value("ref", "?"));
  }
  node.details = {{"run_id", run.id},
                  {"recipe", absl::StrCat(run.project, "/", run.recipe)},
                  {"recipe_version", run.recipe_version},
                  {"type", run.recipe_type},
                  {"config_sha256", run.config_sha256},
                  {"memo_key", run.memo_key},
                  {"engine_version", run.engine_version},
                  {"user", run.user},
                  {"started_at", common::FormatTimestampMicros(run.started_at_micros)},
                  {"finished_at", common::FormatTimestampMicros(run.finished_at_micros)}};
  if (!run.environment.empty()) node.details["environment"] = run.environment;
  return node;
}

LineageNode SourceNode(const catalog::DatasetVersion& version) {
  LineageNode node;
  node.id = absl::StrCat("s", version.id);
  node.kind = "source";
  const auto& source = version.source;
  if (source.value("kind", "") == "csv") {
    node.label = absl::StrCat("imported from ", source.value("path", "?"),
                              " (file sha256:", ShortHash(source.value("file_sha256", "")), ") by ",
                              version.created_by, " at ",
                              common::FormatTimestampMicros(version.created_at_micros));
  } else {
    node.label = absl::StrCat("source: ", source.dump());
  }
  node.details = source;
  return node;
}

class Tracer {
 public:
  explicit Tracer(catalog::Workspace& workspace) : datasets_(workspace), runs_(workspace) {}

  absl::StatusOr<LineageGraph> Trace(const catalog::DatasetVersion& root, bool downstream) {
    graph_.downstream = downstream;
    graph_.root = Add(VersionNode(root));
    std::vector<catalog::DatasetVersion> work = {root};
    std::set<int64_t> seen_versions = {root.id};
    while (!work.empty()) {
      const catalog::DatasetVersion version = std::move(work.back());
      work.pop_back();
      const std::string version_id = absl::StrCat("v", version.id);
      std::vector<catalog::RunRecord> runs;
      if (downstream) {
        ASSAY_ASSIGN_OR_RETURN(runs, runs_.ConsumersOf(version.id));
      } else {
        ASSAY_ASSIGN_OR_RETURN(auto producer, runs_.ProducerOf(version.id));
        if (!producer) {
          const std::string source = Add(SourceNode(version));
          graph_.edges.push_back({source, version_id});
          continue;
        }
        runs.push_back(*std::move(producer));
      }
      for (const auto& run : runs) {
        const bool new_run = !nodes_.contains(absl::StrCat("r", run.id));
        const std::string run_id = Add(RunNode(run));
        graph_.edges.push_back(downstream ? LineageEdge{version_id, run_id}
                                          : LineageEdge{run_id, version_id});
        if (!new_run) continue;
        const auto& next_ids = downstream ? run.output_version_ids : run.input_version_ids;
        for (int64_t next_id : next_ids) {
          ASSAY_ASSIGN_OR_RETURN(catalog::DatasetVersion next, datasets_.GetById(next_id));
          const std::string next_node = Add(VersionNode(next));
          graph_.edges.push_back(downstream ? LineageEdge{run_id, next_node}
                                            : LineageEdge{next_node, run_id});
          if (seen_versions.insert(next.id).second) work.push_back(std::move(next));
        }
      }
    }
    return std::move(graph_);
  }

 private:
  std::string Add(LineageNode node) {
    const std::string id = node.id;
    if (nodes_.insert(id).second) graph_.nodes.push_back(std::move(node));
    return id;
  }

  catalog::DatasetCatalog datasets_;
  catalog::RunCatalog runs_;
  LineageGraph graph_;
  std::set<std::string> nodes_;
};

std::string Escape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}});
}

}  // namespace

absl::StatusOr<LineageGraph> TraceLineage(catalog::Workspace& workspace,
                                          const catalog::DatasetVersion& version, bool downstream) {
  return Tracer(workspace).Trace(version, downstream);
}

std::string LineageToText(const LineageGraph& graph) {
  std::map<std::string, const LineageNode*> by_id;
  for (const auto& node : graph.nodes) by_id[node.id] = &node;
  // Children in the direction of the walk: upstream shows what each node came from.
  std::map<std::string, std::vector<std::string>> children;
  for (const auto& edge : graph.edges) {
    if (graph.downstream) {
      children[edge.from].push_back(edge.to);
    } else {
      children[edge.to].push_back(edge.from);
    }
  }
  std::string text;
  std::set<std::string> printed;
  std::function<void(const std::string&, const std::string&, const std::string&)> print =
      [&](const std::string& id, const std::string& prefix, const std::string& child_prefix) {
        const bool again = !printed.insert(id).second;
        absl::StrAppend(&text, prefix, by_id.at(id)->label,
                        again && !children[id].empty() ? " (see above)" : "", "\n");
        if (again) return;
        const auto& kids = children[id];
        for (size_t index = 0; index < kids.size(); ++index) {
          const bool last = index + 1 == kids.size();
          print(kids[index], child_prefix + (last ? "└─ " : "├─ "),
                child_prefix + (last ? "   " : "│  "));
        }
      };
  print(graph.root, "", "");
  if (graph.downstream && children[graph.root].empty()) {
    absl::StrAppend(&text, "(no run has read this version)\n");
  }
  return text;
}

nlohmann::json LineageToJson(const LineageGraph& graph) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : graph.nodes) {
    nodes.push_back(
        {{"id", node.id}, {"kind", node.kind}, {"label", node.label}, {"details", node.details}});
  }
  nlohmann::json edges = nlohmann::json::array();
  for (const auto& edge : graph.edges) edges.push_back({{"from", edge.from}, {"to", edge.to}});
  return {{"root", graph.root},
          {"direction", graph.downstream ? "downstream" : "upstream"},
          {"nodes", nodes},
          {"edges", edges}};
}

std::string LineageToDot(const LineageGraph& graph) {
  std::string text = "digraph lineage {\n  rankdir=LR;\n";
  for (const auto& node : graph.nodes) {
    const char* shape = node.kind == "run" ? "box" : node.kind == "source" ? "note" : "ellipse";
    absl::StrAppend(&text, "  ", node.id, " [shape=", shape, ", label=\"", Escape(node.label), "\"",
                    node.id == graph.root ? ", style=bold" : "", "];\n");
  }
  for (const auto& edge : graph.edges) {
    absl::StrAppend(&text, "  ", edge.from, " -> ", edge.to, ";\n");
  }
  return text + "}\n";
}

std::string LineageToMermaid(const LineageGraph& graph) {
  std::string text = "flowchart LR\n";
  for (const auto& node : graph.nodes) {
    // Mermaid labels are quoted; it has no escape for '"', so use the HTML entity.
    const std::string label = absl::StrReplaceAll(node.label, {{"\"", "#quot;"}});
    if (node.kind == "run") {
      absl::StrAppend(&text, "  ", node.id, "[\"", label, "\"]\n");
    } else if (node.kind == "source") {
      absl::StrAppend(&text, "  ", node.id, "[/\"", label, "\"/]\n");
    } else {
      absl::StrAppend(&text, "  ", node.id, "([\"", label, "\"])\n");
    }
  }
  for (const auto& edge : graph.edges) {
    absl::StrAppend(&text, "  ", edge.from, " --> ", edge.to, "\n");
  }
  return text;
}

}  // namespace assay::flow
