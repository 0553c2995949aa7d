// Datasets and their immutable versions. A version is a table stored in the native format
// (docs/formats/table.md) in the object store and identified by the SHA-256 of those bytes;
// identical content never makes a second version. Each version carries its schema, row count,
// column profile (computed once, at import) and source description.
//
// Import is crash-safe: the table object is written durably first, then one metadata
// transaction inserts the version and its audit entry. A process killed at any instant
// leaves either no new version (an unreferenced object at most) or the complete version.
//
// Thread-safety: as thread-safe as the Workspace it wraps.
#ifndef ASSAY_CATALOG_DATASETS_H_
#define ASSAY_CATALOG_DATASETS_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/dataset_ref.h"
#include "catalog/workspace.h"
#include "nlohmann/json.hpp"
#include "table/csv_reader.h"
#include "table/table.h"

namespace assay::catalog {

struct DatasetVersion {
  int64_t id = 0;  // the metadata row id (links runs to the versions they read and wrote)
  DatasetName dataset;
  int64_t version = 0;
  std::string sha256;
  int64_t row_count = 0;
  int64_t column_count = 0;
  int64_t byte_size = 0;  // stored (native format) bytes
  table::Schema schema;
  nlohmann::json profile;  // table::ProfileToJson
  nlohmann::json source;   // where the data came from (file, its hash, reader settings)
  std::string created_by;
  int64_t created_at_micros = 0;
  // The quality report written with the version (quality::QualityReport::ToJson), or null
  // when the dataset had no rules at the time.
  nlohmann::json checks;

  std::string Label() const { return VersionLabel(version); }
  // "CHURN/providers@v3".
  std::string Ref() const { return dataset.ToString() + "@" + Label(); }
};

struct DatasetSummary {
  DatasetName dataset;
  int64_t version_count = 0;
  DatasetVersion latest;
};

// Wall time of one import stage, for operators and benchmarks.
struct StageTiming {
  std::string stage;  // one of the kStage* names below
  double seconds = 0;
};

struct ImportResult {
  bool created = false;    // false: identical content already stored ("unchanged")
  DatasetVersion version;  // the new version, or the existing identical one
  table::CsvReadReport report;
  std::vector<StageTiming> timings;  // in stage order; stages not reached are absent
};

// Stage names passed to an ImportProgress callback, in order. The SHA-256 of the source file
// is computed on a background thread while the CSV is parsed and encoded.
inline constexpr std::string_view kStageRead = "reading CSV";
inline constexpr std::string_view kStageEncode = "encoding";
inline constexpr std::string_view kStageProfile = "profiling";
inline constexpr std::string_view kStageStore = "storing";
inline constexpr std::string_view kStageCommit = "committing";
using ImportProgress = std::function<void(std::string_view stage)>;

// Runs the dataset's quality rules on a table about to become a version. Returns the report
// to store with the version (null when the dataset has no rules). Supplied by a higher layer
// (flow/), since the rules use the formula language.
using VersionChecker = std::function<absl::StatusOr<nlohmann::json>(const table::Table& table)>;

// A table encoded in the native format, profiled and stored as an object: ready to become a
// version of some dataset inside a metadata transaction.
struct StagedTable {
  std::string sha256;
  int64_t byte_size = 0;
  int64_t row_count = 0;
  table::Schema schema;
  nlohmann::json profile;
};

// The outcome of committing a staged table as a version.
struct CommittedVersion {
  bool created = false;    // false: the dataset already had a version with identical content
  DatasetVersion version;  // the new version, or the existing identical one
};

class DatasetCatalog {
 public:
  explicit DatasetCatalog(Workspace& workspace) : workspace_(workspace) {}

  // Reads `csv_path` and stores it as the next version of `name` (creating the dataset on
  // first import). Errors: NOT_FOUND for a missing project or file, INVALID_ARGUMENT for bad
  // CSV (naming file, line and column), store errors. Nothing is stored on error.
  // `checker`, if given, runs on the new table and its report is stored with the version.
  absl::StatusOr<ImportResult> ImportCsv(const DatasetName& name,
                                         const std::filesystem::path& csv_path,
                                         const table::CsvReadOptions& options, const Actor& actor,
                                         const ImportProgress& progress = nullptr,
                                         const VersionChecker& checker = nullptr);

  // Encodes, profiles and durably stores `table` as an object (not yet a version).
  // Errors: store errors.
  absl::StatusOr<StagedTable> Stage(const table::Table& table) const;

  // Inside a Mutate transaction: makes `staged` the next version of `name` (creating the
  // dataset if needed) with its source description and quality report, and audits it under
  // `action` ("dataset.import", "dataset.build"). Identical content yields the existing
  // version (created = false) and no audit entry.
  // Errors: INVALID_ARGUMENT for a bad name, store errors.
  static absl::StatusOr<CommittedVersion> CommitVersion(
      Workspace::Change& change, const DatasetName& name, const StagedTable& staged,
      const nlohmann::json& source, const nlohmann::json& checks, std::string_view action,
      const std::string& user, int64_t now_micros);

  // Datasets of `project` ordered by name. Errors: NOT_FOUND for a missing project.
  absl::StatusOr<std::vector<DatasetSummary>> List(const std::string& project) const;

  // Every version of `name`, oldest first. Errors: NOT_FOUND.
  absl::StatusOr<std::vector<DatasetVersion>> Versions(const DatasetName& name) const;

  // The version a reference names. Errors: NOT_FOUND (listing what exists),
  // INVALID_ARGUMENT for an ambiguous hash prefix (listing the candidates).
  absl::StatusOr<DatasetVersion> Resolve(const DatasetRef& ref) const;

  // The stored table of a version, verified against its hash.
  // Errors: DATA_LOSS if the stored object is missing or corrupt.
  absl::StatusOr<table::Table> LoadTable(const DatasetVersion& version) const;

  // The version whose metadata row id is `id`. Errors: NOT_FOUND.
  absl::StatusOr<DatasetVersion> GetById(int64_t id) const;

 private:
  absl::StatusOr<std::optional<int64_t>> FindDatasetId(const DatasetName& name) const;
  absl::StatusOr<std::vector<DatasetVersion>> QueryVersions(
      const std::string& where, const std::vector<store::SqlValue>& params) const;

  Workspace& workspace_;
};

// The schema as JSON: [{"name": "...", "type": "int64"}, ...] and back.
nlohmann::json SchemaToJson(const table::Schema& schema);
absl::StatusOr<table::Schema> SchemaFromJson(const nlohmann::json& json);

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_DATASETS_H_
