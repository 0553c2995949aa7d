#include "registry/model_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/dataset_ref.h"
#include "catalog/projects.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::registry {
namespace {

constexpr char kSelectVersion[] =
    "SELECT v.id, m.project_key, m.name, v.version, v.sha256, v.state, v.training_id, "
    "v.trial_number, v.algorithm, v.task_type, v.metric, v.cv_score, v.holdout_score, "
    "v.created_by, v.created_at_micros FROM saved_model_versions v "
    "JOIN saved_models m ON m.id = v.model_id";

SavedModelVersion VersionFromRow(const store::SqlRow& row) {
  SavedModelVersion version;
  version.id = row.GetInt(0);
  version.project = row.GetText(1);
  version.name = row.GetText(2);
  version.version = row.GetInt(3);
  version.sha256 = row.GetText(4);
  version.state = row.GetText(5);
  version.training_id = row.GetInt(6);
  version.trial_number = static_cast<int>(row.GetInt(7));
  version.algorithm = row.GetText(8);
  version.task_type = row.GetText(9);
  version.metric = row.GetText(10);
  version.cv_score = row.GetDouble(11);
  version.holdout_score = row.GetDouble(12);
  version.created_by = row.GetText(13);
  version.created_at_micros = row.GetInt(14);
  return version;
}

}  // namespace

std::string ModelRef::ToString() const {
  std::string text = absl::StrCat(project, "/", name);
  if (version > 0) absl::StrAppend(&text, "@v", version);
  return text;
}

absl::Status ValidateModelName(std::string_view name) {
  absl::Status status = catalog::ValidateDatasetName(name);
  if (status.ok()) return status;
  return absl::InvalidArgumentError(absl::StrCat("saved model name \"", std::string(name),
                                                 "\" is not valid: ", status.message()));
}

absl::StatusOr<ModelRef> ParseModelRef(std::string_view text) {
  constexpr char kForms[] = "use PROJECT/MODEL or PROJECT/MODEL@vN";
  const auto usage = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text),
                                                   "\" is not a saved-model reference",
                                                   why.empty() ? "" : ": ", why, "; ", kForms));
  };
  ModelRef ref;
  std::string_view rest = text;
  const size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view label = rest.substr(at + 1);
    rest = rest.substr(0, at);
    // Digits only: SimpleAtoi alone would also take "v+2".
    int64_t number = 0;
    if (label.size() < 2 || label[0] != 'v' ||
        !std::all_of(label.begin() + 1, label.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(Absl(label.substr(1)), &number) || number < 1) {
      return usage("");
    }
    ref.version = number;
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return usage("");
  ref.project = std::string(rest.substr(0, slash));
  ref.name = std::string(rest.substr(slash + 1));
  if (absl::Status key = catalog::ValidateProjectKey(ref.project); !key.ok()) {
    return usage(key.message());
  }
  if (absl::Status name = ValidateModelName(ref.name); !name.ok()) return usage(name.message());
  return ref;
}

std::string SavedModelVersion::Ref() const {
  return absl::StrCat(project, "/", name, "@v", version);
}

nlohmann::json SavedModelVersion::ToJson() const {
  return {{"ref", Ref()},
          {"project", project},
          {"name", name},
          {"version", version},
          {"sha256", sha256},
          {"state", state},
          {"training_id", training_id},
          {"trial", trial_number},
          {"algorithm", algorithm},
          {"task_type", task_type},
          {"metric", metric},
          {"cv_score", cv_score},
          {"holdout_score", holdout_score},
          {"created_by", created_by},
          {"created_at_micros", created_at_micros}};
}

absl::StatusOr<RegisterResult> ModelRegistry::Register(catalog::Workspace::Change& change,
                                                       const std::string& project,
                                                       const std::string& name,
                                                       const NewVersion& version,
                                                       const std::string& user, int64_t now_micros,
                                                       const catalog::Workspace& workspace) {
  ASSAY_RETURN_IF_ERROR(ValidateModelName(name));
  if (!workspace.objects().Contains(version.manifest_sha256)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "saved-model manifest object ", version.manifest_sha256, " is not in the object store"));
  }
  store::SqlSession& sql = change.sql();
  // Checked here rather than left to the foreign key, whose failure names neither the project
  // nor the fix.
  ASSAY_ASSIGN_OR_RETURN(std::vector<store::SqlRow> projects,
                         sql.Query("SELECT key FROM projects WHERE key = ?", {project}));
  if (projects.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project ", project, " does not exist; create it with `assay project create ",
                     project, "`"));
  }
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> models,
      sql.Query("SELECT id FROM saved_models WHERE project_key = ? AND name = ?", {project, name}));
  int64_t model_id = 0;
  if (models.empty()) {
    ASSAY_ASSIGN_OR_RETURN(
        std::vector<store::SqlRow> inserted,
        sql.Query("INSERT INTO saved_models (project_key, name, created_by, created_at_micros) "
                  "VALUES (?, ?, ?, ?) RETURNING id",
                  {project, name, user, now_micros}));
    model_id = inserted.at(0).GetInt(0);
    audit::AuditEvent created;
    created.action = "model.create";
    created.project_key = project;
    created.object_type = "saved_model";
    created.object_id = absl::StrCat(project, "/", name);
    ASSAY_RETURN_IF_ERROR(change.Audit(std::move(created)).status());
  } else {
    model_id = models[0].GetInt(0);
  }
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> existing,
      sql.Query(absl::StrCat(kSelectVersion, " WHERE v.model_id = ? AND v.sha256 = ?"),
                {model_id, version.manifest_sha256}));
  if (!existing.empty()) return RegisterResult{false, VersionFromRow(existing[0])};
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> latest,
      sql.Query("SELECT COALESCE(MAX(version), 0), (SELECT sha256 FROM saved_model_versions "
                "WHERE model_id = ? ORDER BY version DESC LIMIT 1) "
                "FROM saved_model_versions WHERE model_id = ?",
                {model_id, model_id}));
  const int64_t number = latest.at(0).GetInt(0) + 1;
  const std::string before_hash = latest.at(0).GetText(1);
  ASSAY_RETURN_IF_ERROR(sql.Execute(
      "INSERT INTO saved_model_versions (model_id, version, sha256, state, training_id, "
      "trial_number, algorithm, task_type, metric, cv_score, holdout_score, created_by, "
      "created_at_micros) VALUES (?, ?, ?, 'trained', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {model_id, number, version.manifest_sha256, version.training_id,
       int64_t{version.trial_number}, version.algorithm, version.task_type, version.metric,
       version.cv_score, version.holdout_score, user, now_micros}));
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      sql.Query(absl::StrCat(kSelectVersion, " WHERE v.model_id = ? AND v.version = ?"),
                {model_id, number}));
  SavedModelVersion stored = VersionFromRow(rows.at(0));
  audit::AuditEvent event;
  event.action = "model.version.create";
  event.project_key = project;
  event.object_type = "saved_model";
  event.object_id = absl::StrCat(project, "/", name);
  event.object_version = absl::StrCat("v", number);
  event.before_hash = before_hash;
  event.after_hash = version.manifest_sha256;
  event.details = {{"training_id", version.training_id},
                   {"trial", version.trial_number},
                   {"algorithm", version.algorithm},
                   {"metric", version.metric},
                   {"cv_score", version.cv_score},
                   {"holdout_score", version.holdout_score},
                   {"state", "trained"}};
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  return RegisterResult{true, std::move(stored)};
}

absl::StatusOr<std::vector<SavedModelSummary>> ModelRegistry::List(
    const std::string& project) const {
  ASSAY_RETURN_IF_ERROR(catalog::ProjectCatalog(workspace_).Get(project).status());
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectVersion,
                       " WHERE m.project_key = ? AND v.version = (SELECT MAX(version) FROM "
                       "saved_model_versions WHERE model_id = m.id) ORDER BY m.name"),
          {project}));
  std::vector<SavedModelSummary> summaries;
  for (const auto& row : rows) {
    SavedModelSummary summary;
    summary.latest = VersionFromRow(row);
    summary.project = summary.latest.project;
    summary.name = summary.latest.name;
    summary.versions = summary.latest.version;
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

absl::StatusOr<std::vector<SavedModelVersion>> ModelRegistry::Versions(
    const std::string& project, const std::string& name) const {
  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectVersion,
                       " WHERE m.project_key = ? AND m.name = ? ORDER BY v.version"),
          {project, name}));
  if (rows.empty()) {
    ASSAY_ASSIGN_OR_RETURN(std::vector<SavedModelSummary> all, List(project));
    std::vector<std::string> names;
    for (const auto& summary : all) names.push_back(summary.name);
    return absl::NotFoundError(absl::StrCat(
        "project ", project, " has no saved model \"", name, "\" (saved models: ",
        names.empty() ? "none yet; create one with `assay ml deploy`" : absl::StrJoin(names, ", "),
        ")"));
  }
  std::vector<SavedModelVersion> versions;
  for (const auto& row : rows) versions.push_back(VersionFromRow(row));
  return versions;
}

absl::StatusOr<SavedModelVersion> ModelRegistry::Resolve(const ModelRef& ref) const {
  ASSAY_ASSIGN_OR_RETURN(std::vector<SavedModelVersion> versions, Versions(ref.project, ref.name));
  if (ref.version == 0) return versions.back();
  for (auto& version : versions) {
    if (version.version == ref.version) return version;
  }
  return absl::NotFoundError(absl::StrCat("saved model ", ref.project, "/", ref.name,
                                          " has no version v", ref.version, " (latest is v",
                                          versions.back().version, ")"));
}

absl::StatusOr<nlohmann::json> ModelRegistry::LoadManifest(const SavedModelVersion& version) const {
  ASSAY_ASSIGN_OR_RETURN(std::string bytes, workspace_.objects().Get(version.sha256));
  nlohmann::json manifest = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return absl::DataLossError(absl::StrCat("the manifest of ", version.Ref(), " (object ",
                                            version.sha256,
                                            ") is not a JSON object; the object store is damaged"));
  }
  return manifest;
}

}  // namespace assay::registry
