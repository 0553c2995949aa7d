#include "catalog/recipes.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/dataset_ref.h"
#include "catalog/projects.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace assay::catalog {
namespace {

constexpr char kSelectRecipeVersion[] =
    "SELECT r.id, r.project_key, r.name, v.version, v.type, v.inputs_json, v.outputs_json, "
    "v.config_json, v.definition_sha256, v.created_by, v.created_at_micros "
    "FROM recipe_versions v JOIN recipes r ON r.id = v.recipe_id";

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<nlohmann::json> ParseStored(const std::string& text, std::string_view what) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError(absl::StrCat("stored ", std::string(what), " is not valid JSON"));
  }
  return json;
}

absl::StatusOr<std::vector<std::string>> ParseNames(const std::string& text) {
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json json, ParseStored(text, "recipe inputs/outputs"));
  std::vector<std::string> names;
  if (!json.is_array()) return absl::DataLossError("stored recipe inputs/outputs is not a list");
  for (const auto& name : json) {
    if (!name.is_string()) return absl::DataLossError("stored recipe input is not a string");
    names.push_back(name.get<std::string>());
  }
  return names;
}

absl::StatusOr<RecipeVersion> RecipeVersionFromRow(const store::SqlRow& row) {
  RecipeVersion version;
  version.recipe_id = row.GetInt(0);
  version.project = row.GetText(1);
  version.definition.name = row.GetText(2);
  version.version = row.GetInt(3);
  version.definition.type = row.GetText(4);
  ASSAY_ASSIGN_OR_RETURN(version.definition.inputs, ParseNames(row.GetText(5)));
  ASSAY_ASSIGN_OR_RETURN(version.definition.outputs, ParseNames(row.GetText(6)));
  ASSAY_ASSIGN_OR_RETURN(version.definition.config, ParseStored(row.GetText(7), "recipe config"));
  version.sha256 = row.GetText(8);
  version.created_by = row.GetText(9);
  version.created_at_micros = row.GetInt(10);
  return version;
}

absl::StatusOr<std::vector<RecipeVersion>> RecipeVersionsFromRows(
    const std::vector<store::SqlRow>& rows) {
  std::vector<RecipeVersion> versions;
  versions.reserve(rows.size());
  for (const auto& row : rows) {
    ASSAY_ASSIGN_OR_RETURN(RecipeVersion version, RecipeVersionFromRow(row));
    versions.push_back(std::move(version));
  }
  return versions;
}

DatasetRules RulesFromRow(const store::SqlRow& row, nlohmann::json rules) {
  DatasetRules result;
  result.project = row.GetText(0);
  result.dataset = row.GetText(1);
  result.version = row.GetInt(2);
  result.rules = std::move(rules);
  result.sha256 = row.GetText(4);
  result.created_by = row.GetText(5);
  result.created_at_micros = row.GetInt(6);
  return result;
}

}  // namespace

absl::Status ValidateRecipeName(std::string_view name) {
  // Recipes share the naming rules of datasets (they appear side by side in flow.yaml).
  absl::Status status = ValidateDatasetName(name);
  if (status.ok()) return status;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid recipe name \"", std::string(name),
      "\": use a letter followed by letters, digits, '_', '-' or '.' (at most 128 characters)"));
}

std::string CanonicalJsonSha256(const nlohmann::json& json) {
  return common::Sha256Hex(Dump(json));
}

nlohmann::json RecipeDefinition::ContentJson() const {
  return {{"type", type}, {"inputs", inputs}, {"outputs", outputs}, {"config", config}};
}

std::string RecipeDefinition::Sha256() const { return CanonicalJsonSha256(ContentJson()); }

std::string RecipeDefinition::ConfigSha256() const { return CanonicalJsonSha256(config); }

std::string RecipeVersion::Ref() const {
  return absl::StrCat(project, "/", definition.name, "@", VersionLabel(version));
}

absl::StatusOr<PutResult> RecipeCatalog::Put(Workspace::Change& change, const std::string& project,
                                             const RecipeDefinition& definition,
                                             const std::string& user, int64_t now_micros) {
  ASSAY_RETURN_IF_ERROR(ValidateRecipeName(definition.name));
  auto& sql = change.sql();
  ASSAY_ASSIGN_OR_RETURN(auto ids, sql.Query("SELECT id, removed_at_micros FROM recipes WHERE "
                                             "project_key = ? AND name = ?",
                                             {project, definition.name}));
  bool reactivated = false;
  if (ids.empty()) {
    ASSAY_ASSIGN_OR_RETURN(ids, sql.Query("INSERT INTO recipes (project_key, name, created_by, "
                                          "created_at_micros) VALUES (?, ?, ?, ?) "
                                          "RETURNING id, removed_at_micros",
                                          {project, definition.name, user, now_micros}));
  } else if (!ids[0].IsNull(1)) {
    ASSAY_RETURN_IF_ERROR(sql.Execute("UPDATE recipes SET removed_at_micros = NULL WHERE id = ?",
                                      {ids[0].GetInt(0)}));
    reactivated = true;
  }
  const int64_t recipe_id = ids[0].GetInt(0);
  const std::string sha256 = definition.Sha256();
  ASSAY_ASSIGN_OR_RETURN(
      auto latest, sql.Query(absl::StrCat(kSelectRecipeVersion,
                                          " WHERE v.recipe_id = ? ORDER BY v.version DESC LIMIT 1"),
                             {recipe_id}));
  PutResult result;
  if (!latest.empty() && latest[0].GetText(8) == sha256) {
    ASSAY_ASSIGN_OR_RETURN(result.version, RecipeVersionFromRow(latest[0]));
    if (reactivated) {
      audit::AuditEvent event;
      event.action = "recipe.restore";
      event.project_key = project;
      event.object_type = "recipe";
      event.object_id = absl::StrCat(project, "/", definition.name);
      event.object_version = VersionLabel(result.version.version);
      event.after_hash = sha256;
      ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
      result.changed = true;
    }
    return result;
  }
  RecipeVersion& version = result.version;
  version.recipe_id = recipe_id;
  version.project = project;
  version.version = latest.empty() ? 1 : latest[0].GetInt(3) + 1;
  version.definition = definition;
  version.sha256 = sha256;
  version.created_by = user;
  version.created_at_micros = now_micros;
  ASSAY_RETURN_IF_ERROR(sql.Execute(
      "INSERT INTO recipe_versions (recipe_id, version, type, inputs_json, outputs_json, "
      "config_json, definition_sha256, created_by, created_at_micros) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {recipe_id, version.version, definition.type, Dump(definition.inputs),
       Dump(definition.outputs), Dump(definition.config), sha256, user, now_micros}));
  audit::AuditEvent event;
  event.action = latest.empty() ? "recipe.create" : "recipe.update";
  event.project_key = project;
  event.object_type = "recipe";
  event.object_id = absl::StrCat(project, "/", definition.name);
  event.object_version = VersionLabel(version.version);
  event.before_hash = latest.empty() ? "" : latest[0].GetText(8);
  event.after_hash = sha256;
  event.details = definition.ContentJson();
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  result.changed = true;
  return result;
}

absl::Status RecipeCatalog::Remove(Workspace::Change& change, const std::string& project,
                                   const std::string& name, int64_t now_micros) {
  auto& sql = change.sql();
  ASSAY_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT id FROM recipes WHERE project_key = ? AND "
                                              "name = ? AND removed_at_micros IS NULL",
                                              {project, name}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("recipe ", project, "/", name, " does not exist"));
  }
  ASSAY_RETURN_IF_ERROR(sql.Execute("UPDATE recipes SET removed_at_micros = ? WHERE id = ?",
                                    {now_micros, rows[0].GetInt(0)}));
  audit::AuditEvent event;
  event.action = "recipe.remove";
  event.project_key = project;
  event.object_type = "recipe";
  event.object_id = absl::StrCat(project, "/", name);
  return change.Audit(std::move(event)).status();
}

absl::StatusOr<std::vector<RecipeVersion>> RecipeCatalog::List(const std::string& project) const {
  ASSAY_RETURN_IF_ERROR(ProjectCatalog(workspace_).Get(project).status());
  ASSAY_ASSIGN_OR_RETURN(
      auto rows, workspace_.metadata().Query(
                     absl::StrCat(kSelectRecipeVersion,
                                  " WHERE r.project_key = ? AND r.removed_at_micros IS NULL AND "
                                  "v.version = (SELECT MAX(version) FROM recipe_versions WHERE "
                                  "recipe_id = r.id) ORDER BY r.name"),
                     {project}));
  return RecipeVersionsFromRows(rows);
}

absl::StatusOr<std::vector<RecipeVersion>> RecipeCatalog::History(const std::string& project,
                                                                  const std::string& name) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows, workspace_.metadata().Query(
                     absl::StrCat(kSelectRecipeVersion,
                                  " WHERE r.project_key = ? AND r.name = ? ORDER BY v.version"),
                     {project, name}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "recipe ", project, "/", name, " does not exist (see `assay recipe list ", project, "`)"));
  }
  return RecipeVersionsFromRows(rows);
}

absl::StatusOr<RecipeVersion> RecipeCatalog::Get(const std::string& project,
                                                 const std::string& name, int64_t version) const {
  ASSAY_ASSIGN_OR_RETURN(auto versions, History(project, name));
  if (version == 0) return std::move(versions.back());
  for (auto& candidate : versions) {
    if (candidate.version == version) return std::move(candidate);
  }
  return absl::NotFoundError(absl::StrCat("recipe ", project, "/", name, " has no version v",
                                          version, " (it has v1..v", versions.back().version, ")"));
}

absl::StatusOr<bool> RecipeCatalog::PutRules(Workspace::Change& change, const std::string& project,
                                             const std::string& dataset,
                                             const nlohmann::json& rules, const std::string& user,
                                             int64_t now_micros) {
  ASSAY_RETURN_IF_ERROR(ValidateDatasetName(dataset));
  auto& sql = change.sql();
  const std::string sha256 = CanonicalJsonSha256(rules);
  ASSAY_ASSIGN_OR_RETURN(auto latest,
                         sql.Query("SELECT version, rules_sha256 FROM dataset_rules WHERE "
                                   "project_key = ? AND dataset_name = ? ORDER BY version DESC "
                                   "LIMIT 1",
                                   {project, dataset}));
  if (!latest.empty() && latest[0].GetText(1) == sha256) return false;
  if (latest.empty() && rules.is_array() && rules.empty()) return false;
  const int64_t version = latest.empty() ? 1 : latest[0].GetInt(0) + 1;
  ASSAY_RETURN_IF_ERROR(sql.Execute(
      "INSERT INTO dataset_rules (project_key, dataset_name, version, rules_json, rules_sha256, "
      "created_by, created_at_micros) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {project, dataset, version, Dump(rules), sha256, user, now_micros}));
  audit::AuditEvent event;
  event.action = "dataset.rules";
  event.project_key = project;
  event.object_type = "dataset_rules";
  event.object_id = absl::StrCat(project, "/", dataset);
  event.object_version = VersionLabel(version);
  event.before_hash = latest.empty() ? "" : latest[0].GetText(1);
  event.after_hash = sha256;
  event.details = {{"rules", rules}};
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  return true;
}

absl::StatusOr<std::optional<DatasetRules>> RecipeCatalog::GetRules(
    const std::string& project, const std::string& dataset) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows, workspace_.metadata().Query(
                     "SELECT project_key, dataset_name, version, rules_json, rules_sha256, "
                     "created_by, created_at_micros FROM dataset_rules WHERE project_key = ? AND "
                     "dataset_name = ? ORDER BY version DESC LIMIT 1",
                     {project, dataset}));
  if (rows.empty()) return std::nullopt;
  ASSAY_ASSIGN_OR_RETURN(nlohmann::json rules, ParseStored(rows[0].GetText(3), "rules"));
  return RulesFromRow(rows[0], std::move(rules));
}

absl::StatusOr<std::vector<DatasetRules>> RecipeCatalog::ListRules(
    const std::string& project) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows,
      workspace_.metadata().Query(
          "SELECT project_key, dataset_name, version, rules_json, rules_sha256, created_by, "
          "created_at_micros FROM dataset_rules r WHERE project_key = ? AND version = (SELECT "
          "MAX(version) FROM dataset_rules WHERE project_key = r.project_key AND dataset_name = "
          "r.dataset_name) ORDER BY dataset_name",
          {project}));
  std::vector<DatasetRules> result;
  for (const auto& row : rows) {
    ASSAY_ASSIGN_OR_RETURN(nlohmann::json rules, ParseStored(row.GetText(3), "rules"));
    result.push_back(RulesFromRow(row, std::move(rules)));
  }
  return result;
}

}  // namespace assay::catalog
