#include "catalog/datasets.h"

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/projects.h"
#include "common/absl_compat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "table/column_profile.h"
#include "table/table_format.h"

namespace assay::catalog {
namespace {

namespace fs = std::filesystem;

constexpr char kSelectVersion[] =
    "SELECT d.project_key, d.name, v.version, v.sha256, v.row_count, v.column_count, "
    "v.byte_size, v.schema_json, v.profile_json, v.source_json, v.created_by, "
    "v.created_at_micros, v.id, c.report_json FROM dataset_versions v "
    "JOIN datasets d ON d.id = v.dataset_id "
    "LEFT JOIN version_checks c ON c.dataset_version_id = v.id";

absl::StatusOr<nlohmann::json> ParseStoredJson(const std::string& text, std::string_view what) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError(absl::StrCat("stored ", Absl(what), " is not valid JSON"));
  }
  return json;
}

absl::StatusOr<DatasetVersion> VersionFromRow(const store::SqlRow& row) {
  DatasetVersion version;
  version.dataset = DatasetName{row.GetText(0), row.GetText(1)};
  version.version = row.GetInt(2);
  version.sha256 = row.GetText(3);
  version.row_count = row.GetInt(4);
  version.column_count = row.GetInt(5);
  version.byte_size = row.GetInt(6);
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json schema, ParseStoredJson(row.GetText(7), "schema"));
  ASSAY_ASSIGN_OR_RETURN(version.schema, SchemaFromJson(schema));
  ASSAY_ASSIGN_OR_RETURN(version.profile, ParseStoredJson(row.GetText(8), "profile"));
  ASSAY_ASSIGN_OR_RETURN(version.source, ParseStoredJson(row.GetText(9), "source"));
  version.created_by = row.GetText(10);
  version.created_at_micros = row.GetInt(11);
  version.id = row.GetInt(12);
  if (!row.IsNull(13)) {
    ASSAY_ASSIGN_OR_RETURN(version.checks, ParseStoredJson(row.GetText(13), "quality report"));
  }
  return version;
}

// User-provided text (paths, column names) may hold invalid UTF-8; store it replaced.
std::string DumpJson(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string DelimiterName(char delimiter) {
  return delimiter == '\t' ? std::string("\\t") : std::string(1, delimiter);
}

}  // namespace

nlohmann::json SchemaToJson(const table::Schema& schema) {
  nlohmann::json fields = nlohmann::json::array();
  for (const table::Field& field : schema.fields()) {
    fields.push_back(
        {{"name", field.name}, {"type", std::string(table::DataTypeName(field.type))}});
  }
  return fields;
}

absl::StatusOr<table::Schema> SchemaFromJson(const nlohmann::json& json) {
  if (!json.is_array()) return absl::DataLossError("stored schema is not a JSON array");
  std::vector<table::Field> fields;
  for (const auto& field : json) {
    if (!field.is_object() || !field.contains("name") || !field["name"].is_string() ||
        !field.contains("type") || !field["type"].is_string()) {
      return absl::DataLossError("stored schema has a malformed field");
    }
    const auto type = table::DataTypeFromName(field["type"].get<std::string>());
    if (!type) {
      return absl::DataLossError(
          absl::StrCat("stored schema has unknown type ", field["type"].get<std::string>()));
    }
    fields.push_back(table::Field{field["name"].get<std::string>(), *type});
  }
  return table::Schema(std::move(fields));
}

absl::StatusOr<std::optional<int64_t>> DatasetCatalog::FindDatasetId(
    const DatasetName& name) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows,
      workspace_.metadata().Query("SELECT id FROM datasets WHERE project_key = ? AND name = ?",
                                  {name.project, name.name}));
  if (rows.empty()) return std::nullopt;
  return rows[0].GetInt(0);
}

absl::StatusOr<std::vector<DatasetVersion>> DatasetCatalog::QueryVersions(
    const std::string& where, const std::vector<store::SqlValue>& params) const {
  ASSAY_ASSIGN_OR_RETURN(
      auto rows,
      workspace_.metadata().Query(
          absl::StrCat(kSelectVersion, " WHERE ", where, " ORDER BY v.version"), params));
  std::vector<DatasetVersion> versions;
  versions.reserve(rows.size());
  for (const auto& row : rows) {
    ASSAY_ASSIGN_OR_RETURN(DatasetVersion version, VersionFromRow(row));
    versions.push_back(std::move(version));
  }
  return versions;
}

absl::StatusOr<ImportResult> DatasetCatalog::ImportCsv(
    const DatasetName& name, const fs::path& csv_path, const table::CsvReadOptions& options,
    const Actor& actor, const ImportProgress& progress, const VersionChecker& checker) {
  ASSAY_RETURN_IF_ERROR(ValidateProjectKey(name.project));
  ASSAY_RETURN_IF_ERROR(ValidateDatasetName(name.name));
  ASSAY_RETURN_IF_ERROR(ProjectCatalog(workspace_).Get(name.project).status());
  std::error_code ec;
  if (!fs::is_regular_file(csv_path, ec)) {
    return absl::NotFoundError(absl::StrCat("cannot import ", csv_path.string(), ": no such file"));
  }
  ImportResult result;
  // Each stage's wall time goes into result.timings; the progress callback hears of each.
  auto stage_start = std::chrono::steady_clock::now();
  std::string_view current_stage;
  const auto enter_stage = [&](std::string_view stage) {
    const auto now = std::chrono::steady_clock::now();
    if (!current_stage.empty()) {
      result.timings.push_back(
          {std::string(current_stage), std::chrono::duration<double>(now - stage_start).count()});
    }
    current_stage = stage;
    stage_start = now;
    if (progress && !stage.empty()) progress(stage);
  };

  // The source file's hash is provenance, not identity: compute it alongside the parse.
  std::future<absl::StatusOr<std::string>> file_sha256 =
      std::async(std::launch::async, [&csv_path] { return common::Sha256FileHex(csv_path); });

  enter_stage(kStageRead);
  ASSAY_ASSIGN_OR_RETURN(const table::Table table,
                         table::ReadCsvFile(csv_path, options, &result.report));

  enter_stage(kStageEncode);
  ASSAY_ASSIGN_OR_RETURN(const std::string encoded, table::EncodeTable(table));
  const std::string sha256 = common::Sha256Hex(encoded);

  ASSAY_ASSIGN_OR_RETURN(auto existing,
                         QueryVersions("d.project_key = ? AND d.name = ? AND v.sha256 = ?",
                                       {name.project, name.name, sha256}));
  if (!existing.empty()) {
    enter_stage("");
    result.version = std::move(existing.front());
    return result;
  }

  enter_stage(kStageProfile);
  const nlohmann::json profile = table::ProfileToJson(table::ProfileTable(table));
  ASSAY_ASSIGN_OR_RETURN(const std::string source_sha256, file_sha256.get());
  nlohmann::json source = {
      {"kind", "csv"},
      {"path", fs::absolute(csv_path).lexically_normal().string()},
      {"file_sha256", source_sha256},
      {"file_bytes", static_cast<int64_t>(fs::file_size(csv_path, ec))},
      {"delimiter", DelimiterName(result.report.delimiter)},
      {"header", result.report.header},
      {"skipped_rows", result.report.skipped_rows},
  };

  nlohmann::json checks;
  if (checker) {
    ASSAY_ASSIGN_OR_RETURN(checks, checker(table));
  }

  enter_stage(kStageStore);
  // The object first, durably: if we die after this, it is merely unreferenced.
  ASSAY_RETURN_IF_ERROR(workspace_.objects().PutWithHash(encoded, sha256));
  enter_stage(kStageCommit);

  StagedTable staged;
  staged.sha256 = sha256;
  staged.byte_size = static_cast<int64_t>(encoded.size());
  staged.row_count = table.num_rows();
  staged.schema = table.schema();
  staged.profile = profile;
  CommittedVersion committed;
  ASSAY_RETURN_IF_ERROR(workspace_.Mutate(actor, [&](Workspace::Change& change) -> absl::Status {
    ASSAY_ASSIGN_OR_RETURN(
        committed, CommitVersion(change, name, staged, source, checks, "dataset.import", actor.user,
                                 workspace_.clock().NowMicros()));
    return absl::OkStatus();
  }));
  enter_stage("");
  result.created = committed.created;
  result.version = std::move(committed.version);
  return result;
}

absl::StatusOr<StagedTable> DatasetCatalog::Stage(const table::Table& table) const {
  StagedTable staged;
  ASSAY_ASSIGN_OR_RETURN(const std::string encoded, table::EncodeTable(table));
  staged.sha256 = common::Sha256Hex(encoded);
  staged.byte_size = static_cast<int64_t>(encoded.size());
  staged.row_count = table.num_rows();
  staged.schema = table.schema();
  staged.profile = table::ProfileToJson(table::ProfileTable(table));
  ASSAY_RETURN_IF_ERROR(workspace_.objects().PutWithHash(encoded, staged.sha256));
  return staged;
}

absl::StatusOr<CommittedVersion> DatasetCatalog::CommitVersion(
    Workspace::Change& change, const DatasetName& name, const StagedTable& staged,
    const nlohmann::json& source, const nlohmann::json& checks, std::string_view action,
    const std::string& user, int64_t now_micros) {
  ASSAY_RETURN_IF_ERROR(ValidateProjectKey(name.project));
  ASSAY_RETURN_IF_ERROR(ValidateDatasetName(name.name));
  auto& sql = change.sql();
  CommittedVersion committed;
  ASSAY_ASSIGN_OR_RETURN(auto ids, sql.Query("SELECT id FROM datasets WHERE project_key = ? "
                                             "AND name = ?",
                                             {name.project, name.name}));
  if (ids.empty()) {
    ASSAY_ASSIGN_OR_RETURN(ids, sql.Query("INSERT INTO datasets (project_key, name, "
                                          "created_by, created_at_micros) VALUES (?, ?, ?, ?) "
                                          "RETURNING id",
                                          {name.project, name.name, user, now_micros}));
    audit::AuditEvent created;
    created.action = "dataset.create";
    created.project_key = name.project;
    created.object_type = "dataset";
    created.object_id = name.ToString();
    ASSAY_RETURN_IF_ERROR(change.Audit(std::move(created)).status());
  }
  const int64_t dataset_id = ids.at(0).GetInt(0);
  // Identical content never makes a second version (another process may have stored it since
  // the caller last looked).
  ASSAY_ASSIGN_OR_RETURN(
      auto same, sql.Query(absl::StrCat(kSelectVersion, " WHERE v.dataset_id = ? AND v.sha256 = ?"),
                           {dataset_id, staged.sha256}));
  if (!same.empty()) {
    ASSAY_ASSIGN_OR_RETURN(committed.version, VersionFromRow(same.front()));
    return committed;
  }
  ASSAY_ASSIGN_OR_RETURN(auto latest, sql.Query("SELECT version, sha256 FROM dataset_versions "
                                                "WHERE dataset_id = ? ORDER BY version DESC "
                                                "LIMIT 1",
                                                {dataset_id}));
  DatasetVersion& version = committed.version;
  version.dataset = name;
  version.version = latest.empty() ? 1 : latest[0].GetInt(0) + 1;
  version.sha256 = staged.sha256;
  version.row_count = staged.row_count;
  version.column_count = staged.schema.num_fields();
  version.byte_size = staged.byte_size;
  version.schema = staged.schema;
  version.profile = staged.profile;
  version.source = source;
  version.created_by = user;
  version.created_at_micros = now_micros;
  version.checks = checks;
  const std::string before_hash = latest.empty() ? "" : latest[0].GetText(1);
  ASSAY_ASSIGN_OR_RETURN(
      auto inserted,
      sql.Query("INSERT INTO dataset_versions (dataset_id, version, sha256, row_count, "
                "column_count, byte_size, schema_json, profile_json, source_json, created_by, "
                "created_at_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                {dataset_id, version.version, version.sha256, version.row_count,
                 version.column_count, version.byte_size, SchemaToJson(version.schema).dump(),
                 version.profile.dump(), DumpJson(source), user, now_micros}));
  version.id = inserted.at(0).GetInt(0);
  nlohmann::json check_summary = nullptr;
  if (!checks.is_null()) {
    const bool passed = checks.value("passed", false);
    ASSAY_RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO version_checks (dataset_version_id, rules_sha256, passed, report_json) "
        "VALUES (?, ?, ?, ?)",
        {version.id, checks.value("rules_sha256", std::string()), int64_t{passed ? 1 : 0},
         DumpJson(checks)}));
    check_summary = {{"passed", passed},
                     {"errors", checks.value("errors", 0)},
                     {"warnings", checks.value("warnings", 0)}};
  }
  audit::AuditEvent event;
  event.action = std::string(action);
  event.project_key = name.project;
  event.object_type = "dataset";
  event.object_id = name.ToString();
  event.object_version = version.Label();
  event.before_hash = before_hash;
  event.after_hash = version.sha256;
  event.details = {{"rows", version.row_count},
                   {"columns", version.column_count},
                   {"stored_bytes", version.byte_size},
                   {"source", source}};
  if (!check_summary.is_null()) event.details["checks"] = check_summary;
  ASSAY_RETURN_IF_ERROR(change.Audit(std::move(event)).status());
  committed.created = true;
  return committed;
}

absl::StatusOr<std::vector<DatasetSummary>> DatasetCatalog::List(const std::string& project) const {
  ASSAY_RETURN_IF_ERROR(ProjectCatalog(workspace_).Get(project).status());
  ASSAY_ASSIGN_OR_RETURN(
      auto versions, QueryVersions("d.project_key = ? AND v.version = (SELECT MAX(version) FROM "
                                   "dataset_versions WHERE dataset_id = d.id)",
                                   {project}));
  std::vector<DatasetSummary> summaries;
  for (auto& version : versions) {
    DatasetSummary summary;
    summary.dataset = version.dataset;
    summary.version_count = version.version;
    summary.latest = std::move(version);
    summaries.push_back(std::move(summary));
  }
  std::sort(summaries.begin(), summaries.end(),
            [](const auto& a, const auto& b) { return a.dataset.name < b.dataset.name; });
  return summaries;
}

absl::StatusOr<std::vector<DatasetVersion>> DatasetCatalog::Versions(
    const DatasetName& name) const {
  ASSAY_RETURN_IF_ERROR(ProjectCatalog(workspace_).Get(name.project).status());
  ASSAY_ASSIGN_OR_RETURN(
      auto versions, QueryVersions("d.project_key = ? AND d.name = ?", {name.project, name.name}));
  if (versions.empty()) {
    return absl::NotFoundError(absl::StrCat("dataset ", name.ToString(),
                                            " does not exist (import it with `assay dataset "
                                            "import ",
                                            name.ToString(), " FILE.csv`)"));
  }
  return versions;
}

absl::StatusOr<DatasetVersion> DatasetCatalog::Resolve(const DatasetRef& ref) const {
  ASSAY_ASSIGN_OR_RETURN(auto versions, Versions(ref.dataset));
  switch (ref.kind) {
    case DatasetRef::Kind::kLatest:
      return std::move(versions.back());
    case DatasetRef::Kind::kVersion:
      for (auto& version : versions) {
        if (version.version == ref.version) return std::move(version);
      }
      return absl::NotFoundError(absl::StrCat(ref.dataset.ToString(), " has no version v",
                                              ref.version, " (it has v1..v",
                                              versions.back().version, ")"));
    case DatasetRef::Kind::kHashPrefix: {
      std::vector<DatasetVersion> matches;
      for (auto& version : versions) {
        if (version.sha256.compare(0, ref.hash_prefix.size(), ref.hash_prefix) == 0) {
          matches.push_back(std::move(version));
        }
      }
      if (matches.size() == 1) return std::move(matches.front());
      if (matches.empty()) {
        return absl::NotFoundError(absl::StrCat(
            ref.dataset.ToString(), " has no version whose sha256 starts with ", ref.hash_prefix,
            " (see `assay dataset versions ", ref.dataset.ToString(), "`)"));
      }
      std::vector<std::string> labels;
      for (const auto& match : matches) {
        labels.push_back(absl::StrCat(match.Label(), " (", match.sha256.substr(0, 12), ")"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("sha256:", ref.hash_prefix, " is ambiguous in ", ref.dataset.ToString(),
                       ": matches ", absl::StrJoin(labels, ", "), "; give more digits"));
    }
  }
  return absl::InternalError("unknown reference kind");
}

absl::StatusOr<table::Table> DatasetCatalog::LoadTable(const DatasetVersion& version) const {
  auto bytes = workspace_.objects().Get(version.sha256);
  if (!bytes.ok()) {
    return absl::DataLossError(absl::StrCat("cannot load ", version.Ref(), ": ",
                                            bytes.status().message(),
                                            " (restore the workspace's objects/ from backup)"));
  }
  return table::DecodeTable(*bytes);
}

absl::StatusOr<DatasetVersion> DatasetCatalog::GetById(int64_t id) const {
  ASSAY_ASSIGN_OR_RETURN(auto versions, QueryVersions("v.id = ?", {id}));
  if (versions.empty()) {
    return absl::NotFoundError(absl::StrCat("no dataset version with id ", id));
  }
  return std::move(versions.front());
}

}  // namespace assay::catalog
