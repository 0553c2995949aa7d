// Runs: one execution of a recipe (ARCHITECTURE.md section 1). A run records the recipe
// version, the exact dataset versions it read and wrote, its memo key, who ran it, when, how
// long, its status and log. Runs are the lineage: following run_outputs -> run_inputs from a
// version leads back to the source imports, and the reverse leads to what depends on it.
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_CATALOG_RUNS_H_
#define ASSAY_CATALOG_RUNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::catalog {

inline constexpr std::string_view kRunSucceeded = "succeeded";
inline constexpr std::string_view kRunFailed = "failed";

struct RunRecord {
  int64_t id = 0;
  std::string project;
  std::string recipe;  // recipe name
  int64_t recipe_id = 0;
  int64_t recipe_version = 0;
  std::string recipe_type;
  std::string config_sha256;
  std::string memo_key;
  std::string engine_version;
  std::string status;  // kRunSucceeded or kRunFailed
  std::string user;
  int64_t started_at_micros = 0;
  int64_t finished_at_micros = 0;
  std::string log;
  std::string error;  // empty unless failed
  nlohmann::json environment = nlohmann::json::object();
  std::vector<int64_t> input_version_ids;   // dataset_versions.id, in recipe input order
  std::vector<int64_t> output_version_ids;  // in recipe output order (empty when failed)

  std::string Label() const;  // "run 17"
};

class RunCatalog {
 public:
  explicit RunCatalog(Workspace& workspace) : workspace_(workspace) {}

  // Inside a Mutate transaction: stores the run and its inputs/outputs and audits it as
  // recipe.run. Returns the run id.
  static absl::StatusOr<int64_t> Record(Workspace::Change& change, const RunRecord& run);

  // Errors: NOT_FOUND.
  absl::StatusOr<RunRecord> Get(int64_t run_id) const;
  // The most recent succeeded run with this memo key, if any.
  absl::StatusOr<std::optional<RunRecord>> FindSucceeded(const std::string& memo_key) const;
  // The most recent run of a recipe, if any.
  absl::StatusOr<std::optional<RunRecord>> LastRun(int64_t recipe_id) const;
  // The first succeeded run that wrote the version (nullopt for an imported version).
  absl::StatusOr<std::optional<RunRecord>> ProducerOf(int64_t version_id) const;
  // Succeeded runs that read the version, oldest first.
  absl::StatusOr<std::vector<RunRecord>> ConsumersOf(int64_t version_id) const;

 private:
  absl::StatusOr<std::vector<RunRecord>> QueryRuns(
      const std::string& where_and_order, const std::vector<store::SqlValue>& params) const;
  Workspace& workspace_;
};

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_RUNS_H_
