// The metadata store: the relational database behind a workspace (projects, datasets,
// versions, the audit trail, ...). SQLite in WAL mode with synchronous=FULL and foreign keys
// on is the embedded default; the interface is narrow (parameterized SQL inside a
// transaction) so a PostgreSQL implementation can pass the same tests later.
//
// SQL text uses `?` placeholders and the portable subset of SQL shared by SQLite and
// PostgreSQL (INTEGER/TEXT/REAL/BLOB columns, RETURNING, ON CONFLICT DO NOTHING).
//
// Numbered migrations (migrations.h) run inside Open(), each in its own transaction.
//
// Thread-safety: a MetadataStore may be used from several threads; calls are serialized
// internally. Several processes may open the same database; writers wait for each other
// (busy timeout) and a writer that still cannot get the lock gets UNAVAILABLE.
#ifndef ASSAY_STORE_METADATA_STORE_H_
#define ASSAY_STORE_METADATA_STORE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace assay::store {

// One SQL value: NULL, INTEGER, REAL or TEXT (TEXT also carries BLOBs as raw bytes).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

// One result row. Accessors require the index to be in range; the typed getters return the
// zero value for NULL (use IsNull to tell them apart) and convert other types the way SQLite
// does (REAL truncates to INTEGER, TEXT is parsed as a number, numbers print as TEXT).
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t index) const;
  int64_t GetInt(size_t index) const;
  double GetDouble(size_t index) const;
  std::string GetText(size_t index) const;
  const SqlValue& value(size_t index) const { return values_[index]; }

 private:
  std::vector<SqlValue> values_;
};

// What can be done inside one transaction. Only valid during the callback it is passed to.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement that returns no rows. Errors: see MetadataStore.
  virtual absl::Status Execute(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs one statement and returns all its rows.
  virtual absl::StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                                    const std::vector<SqlValue>& params = {}) = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Runs fn inside one write transaction (SQLite: BEGIN IMMEDIATE). Commits if fn returns OK,
  // rolls back otherwise and returns fn's status. A crash at any point leaves the database as
  // it was before or after the whole transaction.
  // Errors: fn's own; UNAVAILABLE if the database stays locked by another process;
  // ALREADY_EXISTS for a UNIQUE/PRIMARY KEY violation; FAILED_PRECONDITION for another
  // constraint (foreign key, CHECK, trigger ABORT); DATA_LOSS if SQLite reports corruption;
  // INTERNAL for anything else. Messages carry SQLite's own text.
  virtual absl::Status WithTransaction(const std::function<absl::Status(SqlSession&)>& fn) = 0;

  // Runs a read-only query in its own consistent snapshot.
  virtual absl::StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                                    const std::vector<SqlValue>& params = {}) = 0;

  // The highest migration applied.
  virtual int SchemaVersion() const = 0;
};

// Opens (creating if absent) the SQLite database at `path`, sets WAL, synchronous=FULL,
// foreign_keys=ON and a busy timeout, and applies pending migrations.
// Errors: FAILED_PRECONDITION if the file was written by a newer Assay (schema version above
// the highest this build knows), DATA_LOSS if it is not a database, INTERNAL otherwise.
absl::StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(
    const std::filesystem::path& path);

}  // namespace assay::store

#endif  // ASSAY_STORE_METADATA_STORE_H_
