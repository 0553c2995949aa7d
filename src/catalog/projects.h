// Projects: named units (key like CHURN) that own datasets and, later, recipes, models and
// permissions. Creating one is audited.
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_CATALOG_PROJECTS_H_
#define ASSAY_CATALOG_PROJECTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"

namespace assay::catalog {

struct Project {
  std::string key;
  std::string name;
  std::string description;
  std::string created_by;
  int64_t created_at_micros = 0;
};

class ProjectCatalog {
 public:
  explicit ProjectCatalog(Workspace& workspace) : workspace_(workspace) {}

  // Creates project `key` (name defaults to the key). Errors: INVALID_ARGUMENT for a bad key,
  // ALREADY_EXISTS if the key is taken.
  absl::StatusOr<Project> Create(const std::string& key, const std::string& name,
                                 const std::string& description, const Actor& actor);

  // All projects ordered by key.
  absl::StatusOr<std::vector<Project>> List() const;

  // Errors: NOT_FOUND with the hint to create it.
  absl::StatusOr<Project> Get(const std::string& key) const;

 private:
  Workspace& workspace_;
};

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_PROJECTS_H_
