// The training service (ARCHITECTURE.md sections 6 and 7): ties the dataset catalog, the
// AutoML run (ml/automl.h), the ML task catalog and the model registry together. This is what
// `assay ml ...`, `assay model ...` and `assay score` call.
//
//   CreateTask  validate a task spec (strictly, against the input dataset) and store it as
//               the next task version (audited).
//   Train       run the AutoML search on the task's input dataset version, finalize the best
//               trial and record the training with its leaderboard (one transaction, audited).
//               The best trial's candidate (the saved-model manifest without registry data)
//               and its model bytes are stored as objects, so deploying it is instant.
//   Deploy      make a trial of the latest training a saved-model version: the best trial's
//               candidate, or any other complete trial re-finalized from the same dataset
//               version, spec and seed. Versions are content-addressed and immutable.
//   LoadScorer  a saved-model version, ready to score tables.
//   ModelDocument  the model-document JSON (docs/formats/model-document.md) of a version.
//
// Manifest format: docs/formats/saved-model.md.
//
// Thread-safety: as thread-safe as the Workspace; one Train at a time per process.
#ifndef ASSAY_TRAINING_TRAINING_SERVICE_H_
#define ASSAY_TRAINING_TRAINING_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "ml/scorer.h"
#include "ml/search.h"
#include "nlohmann/json.hpp"
#include "registry/model_registry.h"
#include "training/ml_task_catalog.h"

namespace assay::training {

struct TrainOverrides {
  std::optional<double> budget_seconds;  // replaces spec.search.budget_seconds
  std::optional<int> max_trials;         // replaces spec.search.max_trials
  int threads = 0;                       // 0 = the machine's cores
};

// Where the training process is, for a terminal progress line.
using TrainProgress = ml::ProgressFn;

class TrainingService {
 public:
  explicit TrainingService(catalog::Workspace& workspace) : workspace_(workspace) {}

  // Parses `spec` (JSON from the task YAML) strictly, checks its input dataset exists and
  // that the target, time and explanation columns exist in its latest version, and stores it.
  // Returns the task version and whether it changed.
  // Errors: INVALID_ARGUMENT naming the key path; NOT_FOUND for the dataset or project.
  absl::StatusOr<std::pair<MlTaskVersion, bool>> CreateTask(const std::string& project,
                                                            const std::string& name,
                                                            const nlohmann::json& spec,
                                                            const catalog::Actor& actor);

  // Trains the latest version of the task. A failed search is recorded as a failed training
  // and its error returned. Errors: NOT_FOUND (task, dataset), the run's errors.
  absl::StatusOr<Training> Train(const std::string& project, const std::string& name,
                                 const TrainOverrides& overrides, const catalog::Actor& actor,
                                 const TrainProgress& progress);

  // `trial` is "best" or a trial number of the task's latest training.
  // Errors: NOT_FOUND (task, training, trial), FAILED_PRECONDITION for a trial that did not
  // complete, INVALID_ARGUMENT for a bad model name.
  absl::StatusOr<registry::RegisterResult> Deploy(const std::string& project,
                                                  const std::string& task, const std::string& trial,
                                                  const std::string& model_name,
                                                  const catalog::Actor& actor);

  // Errors: DATA_LOSS for a corrupt or missing object; FAILED_PRECONDITION for a manifest of
  // another format version.
  absl::StatusOr<ml::Scorer> LoadScorer(const registry::SavedModelVersion& version) const;

  // Errors: as LoadScorer.
  absl::StatusOr<nlohmann::json> ModelDocument(const registry::SavedModelVersion& version,
                                               int64_t generated_at_micros) const;

 private:
  catalog::Workspace& workspace_;
};

// Where and with what this build runs: Assay version and commit, XGBoost version, compiler, OS.
nlohmann::json EnvironmentManifest();

// The Assay release this build reports ("0.1.0").
const char* AssayVersion();

}  // namespace assay::training

#endif  // ASSAY_TRAINING_TRAINING_SERVICE_H_
