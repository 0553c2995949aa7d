// The SQLite implementation of MetadataStore (metadata_store.h), and the options behind
// OpenSqliteMetadataStore that tests and tools may tune.
//
// One SqliteMetadataStore owns one SQLite connection. The database runs in WAL mode with
// synchronous=FULL (a committed transaction survives power loss), foreign keys on and a busy
// timeout, so several processes can share a workspace: readers never block, writers queue for
// the write lock and give up with UNAVAILABLE after the timeout. Statements are prepared once
// and cached per connection.
//
// Thread-safety: all public methods may be called from any thread; they are serialized by an
// internal mutex. A thread that calls Query() or WithTransaction() from inside its own
// WithTransaction() callback gets FAILED_PRECONDITION instead of a deadlock (use the
// SqlSession it was handed).
#ifndef ASSAY_STORE_SQLITE_METADATA_STORE_H_
#define ASSAY_STORE_SQLITE_METADATA_STORE_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "store/metadata_store.h"
#include "store/migrations.h"

struct sqlite3;
struct sqlite3_stmt;

namespace assay::store {

struct SqliteOptions {
  // How long a writer waits for another connection's write lock before UNAVAILABLE.
  int busy_timeout_ms = 10'000;
  // Stamps schema_migrations.applied_at_micros. Null means common::SystemClock::Get().
  const common::Clock* clock = nullptr;
  // The migrations to apply; null means SqliteMigrations(). Tests pass their own list.
  const std::vector<Migration>* migrations = nullptr;
};

// As OpenSqliteMetadataStore, with explicit options. `path` may be ":memory:" for a private
// in-memory database (journal mode "memory" instead of WAL; for tests only).
// Errors: as OpenSqliteMetadataStore; UNAVAILABLE if another process holds the write lock
// for longer than the busy timeout while migrations are pending.
absl::StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStoreWithOptions(
    const std::filesystem::path& path, const SqliteOptions& options);

// Maps a SQLite result code (primary or extended) and message to an absl::Status, following
// the rules in metadata_store.h. Exposed for tests and for code that talks to SQLite directly.
absl::Status SqliteStatus(int extended_code, std::string_view message);

class SqliteMetadataStore final : public MetadataStore {
 public:
  ~SqliteMetadataStore() override;
  SqliteMetadataStore(const SqliteMetadataStore&) = delete;
  SqliteMetadataStore& operator=(const SqliteMetadataStore&) = delete;

  absl::Status WithTransaction(const std::function<absl::Status(SqlSession&)>& fn) override;
  absl::StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params = {}) override;
  int SchemaVersion() const override { return schema_version_.load(); }

  const std::filesystem::path& path() const { return path_; }

 private:
  friend absl::StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStoreWithOptions(
      const std::filesystem::path& path, const SqliteOptions& options);
  class Session;

  SqliteMetadataStore(std::filesystem::path path, sqlite3* db);

  // Sets the per-connection PRAGMAs. Requires mu_ not held (called from Open only).
  absl::Status Configure(const SqliteOptions& options);

  // Prepares (or reuses) `sql`, binds `params`, steps to completion and returns the rows.
  // Requires mu_ held.
  absl::StatusOr<std::vector<SqlRow>> Run(std::string_view sql, const std::vector<SqlValue>& params,
                                          bool require_read_only);
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql);
  // Runs a statement that takes no parameters and whose rows are ignored. Requires mu_ held.
  absl::Status RunSimple(const char* sql);
  // The Status for the connection's last error. Requires mu_ held.
  absl::Status LastError(int code, std::string_view context) const;
  // FAILED_PRECONDITION if the calling thread is inside this store's WithTransaction.
  absl::Status CheckNotReentrant(std::string_view method) const;

  const std::filesystem::path path_;
  std::atomic<int> schema_version_{0};
  // The thread currently inside WithTransaction (default id when none). Written under mu_,
  // read without it to detect re-entrance.
  std::atomic<std::thread::id> transaction_owner_{};

  mutable std::mutex mu_;
  sqlite3* const db_;  // Guarded by mu_ (the pointer itself is fixed).
  // Prepared statements keyed by SQL text. Guarded by mu_.
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace assay::store

#endif  // ASSAY_STORE_SQLITE_METADATA_STORE_H_
