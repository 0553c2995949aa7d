#include "catalog/projects.h"

#include "absl/strings/str_cat.h"
#include "catalog/dataset_ref.h"
#include "common/status_macros.h"

namespace assay::catalog {
namespace {

constexpr char kSelectProject[] =
    "SELECT key, name, description, created_by, created_at_micros FROM projects";

Project ProjectFromRow(const store::SqlRow& row) {
  return Project{row.GetText(0), row.GetText(1), row.GetText(2), row.GetText(3), row.GetInt(4)};
}

}  // namespace

absl::StatusOr<Project> ProjectCatalog::Create(const std::string& key, const std::string& name,
                                               const std::string& description, const Actor& actor) {
  ASSAY_RETURN_IF_ERROR(ValidateProjectKey(key));
  Project project{key, name.empty() ? key : name, description, actor.user,
                  workspace_.clock().NowMicros()};
  absl::Status status = workspace_.Mutate(actor, [&](Workspace::Change& change) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(change.sql().Execute(
        "INSERT INTO projects (key, name, description, created_by, created_at_micros) "
        "VALUES (?, ?, ?, ?, ?)",
        {project.key, project.name, project.description, project.created_by,
         project.created_at_micros}));
    audit::AuditEvent event;
    event.action = "project.create";
    event.project_key = project.key;
    event.object_type = "project";
    event.object_id = project.key;
    event.details = {{"name", project.name}, {"description", project.description}};
    return change.Audit(std::move(event)).status();
  });
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("project ", key, " already exists"));
  }
  ASSAY_RETURN_IF_ERROR(status);
  return project;
}

absl::StatusOr<std::vector<Project>> ProjectCatalog::List() const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows, workspace_.metadata().Query(absl::StrCat(kSelectProject, " ORDER BY key")));
  std::vector<Project> projects;
  projects.reserve(rows.size());
  for (const auto& row : rows) projects.push_back(ProjectFromRow(row));
  return projects;
}

absl::StatusOr<Project> ProjectCatalog::Get(const std::string& key) const {
  ASSAY_RETURN_IF_ERROR(ValidateProjectKey(key));
  ASSAY_ASSIGN_OR_RETURN(auto rows, workspace_.metadata().Query(
                                        absl::StrCat(kSelectProject, " WHERE key = ?"), {key}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("project ", key,
                                            " does not exist (create it with `assay project "
                                            "create ",
                                            key, "`)"));
  }
  return ProjectFromRow(rows[0]);
}

}  // namespace assay::catalog
