// The model registry (ARCHITECTURE.md sections 1 and 7): named saved models of a project and
// their immutable, numbered versions. A version is one object in the object store, its
// manifest (docs/formats/saved-model.md), whose SHA-256 identifies the version; the manifest
// names the other objects it needs (the model bytes) by hash, so a version can never change
// after it is written. The metadata row only indexes it (state, scores, lineage ids).
//
// Lifecycle states (trained -> validated -> approved -> deployed -> retired) are stored per
// version; only `trained` is produced until electronic sign-off exists.
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_REGISTRY_MODEL_REGISTRY_H_
#define ASSAY_REGISTRY_MODEL_REGISTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"

namespace assay::registry {

// The saved-model manifest format (docs/formats/saved-model.md) this build writes and reads.
inline constexpr char kSavedModelFormat[] = "assay-saved-model";
inline constexpr int kSavedModelFormatVersion = 1;

// "PROJECT/MODEL" or "PROJECT/MODEL@vN".
struct ModelRef {
  std::string project;
  std::string name;
  int64_t version = 0;  // 0 = latest
  std::string ToString() const;
};
// Errors: INVALID_ARGUMENT quoting the text, saying what is wrong when the project key or the
// name is the problem, and showing the accepted forms.
absl::StatusOr<ModelRef> ParseModelRef(std::string_view text);
// Saved-model names follow dataset-name rules. Errors: INVALID_ARGUMENT.
absl::Status ValidateModelName(std::string_view name);

struct SavedModelVersion {
  int64_t id = 0;
  std::string project;
  std::string name;
  int64_t version = 0;
  std::string sha256;  // of the manifest object
  std::string state;   // "trained", ...
  int64_t training_id = 0;
  int trial_number = 0;
  std::string algorithm;
  std::string task_type;
  std::string metric;
  double cv_score = 0;
  double holdout_score = 0;
  std::string created_by;
  int64_t created_at_micros = 0;

  std::string Ref() const;  // "CHURN/churn@v2"
  nlohmann::json ToJson() const;
};

struct SavedModelSummary {
  std::string project;
  std::string name;
  int64_t versions = 0;
  SavedModelVersion latest;
};

// What a new version records besides its manifest.
struct NewVersion {
  std::string manifest_sha256;  // already stored in the object store
  int64_t training_id = 0;
  int trial_number = 0;
  std::string algorithm;
  std::string task_type;
  std::string metric;
  double cv_score = 0;
  double holdout_score = 0;
};

struct RegisterResult {
  bool created = false;  // false: that exact manifest already is a version of this model
  SavedModelVersion version;
};

class ModelRegistry {
 public:
  explicit ModelRegistry(catalog::Workspace& workspace) : workspace_(workspace) {}

  // Inside a Mutate transaction: adds `version` as the next version of project/name (creating
  // the saved model on first use), in state "trained". Audited as model.create (first time)
  // and model.version.create. The manifest object must already be stored.
  // Errors: INVALID_ARGUMENT for a bad name; NOT_FOUND for an unknown project;
  // FAILED_PRECONDITION if the manifest object is missing or version.training_id names no
  // training; store errors.
  static absl::StatusOr<RegisterResult> Register(catalog::Workspace::Change& change,
                                                 const std::string& project,
                                                 const std::string& name, const NewVersion& version,
                                                 const std::string& user, int64_t now_micros,
                                                 const catalog::Workspace& workspace);

  // Saved models of a project, by name. Errors: NOT_FOUND for an unknown project.
  absl::StatusOr<std::vector<SavedModelSummary>> List(const std::string& project) const;
  // Versions of one saved model, oldest first. Errors: NOT_FOUND naming the models that exist.
  absl::StatusOr<std::vector<SavedModelVersion>> Versions(const std::string& project,
                                                          const std::string& name) const;
  // One version (latest when ref.version == 0). Errors: NOT_FOUND naming what exists.
  absl::StatusOr<SavedModelVersion> Resolve(const ModelRef& ref) const;
  // The version's manifest, verified against its hash. Errors: DATA_LOSS on corruption.
  absl::StatusOr<nlohmann::json> LoadManifest(const SavedModelVersion& version) const;

 private:
  catalog::Workspace& workspace_;
};

}  // namespace assay::registry

#endif  // ASSAY_REGISTRY_MODEL_REGISTRY_H_
