#include "store/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::store {
namespace {

// Dynamic SQL (filters with optional clauses) produces a handful of variants per call site;
// the bound keeps a pathological caller from growing the cache without limit.
constexpr size_t kMaxCachedStatements = 256;

// SQL text quoted into INTERNAL error messages is cut to this many bytes.
constexpr size_t kMaxQuotedSql = 200;

std::string QuoteSql(std::string_view sql) {
  if (sql.size() <= kMaxQuotedSql) return absl::StrCat("\"", Absl(sql), "\"");
  return absl::StrCat("\"", Absl(sql.substr(0, kMaxQuotedSql)), "...\"");
}

}  // namespace

absl::Status SqliteStatus(int extended_code, std::string_view message) {
  // Extended codes keep the primary code in their low byte (sqlite.org/rescode.html).
  switch (extended_code & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return absl::OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat("the workspace database is locked by another assay process; retry (",
                       Absl(message), ")"));
    case SQLITE_CONSTRAINT:
      if (extended_code == SQLITE_CONSTRAINT_UNIQUE ||
          extended_code == SQLITE_CONSTRAINT_PRIMARYKEY ||
          extended_code == SQLITE_CONSTRAINT_ROWID) {
        return absl::AlreadyExistsError(Absl(message));
      }
      // Foreign key, CHECK, NOT NULL and trigger RAISE(ABORT) (SQLITE_CONSTRAINT_TRIGGER).
      return absl::FailedPreconditionError(Absl(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(
          absl::StrCat("the workspace database is corrupt or not an assay database (",
                       Absl(message), "); restore it from a backup"));
    default:
      return absl::InternalError(Absl(message));
  }
}

// The SqlSession handed to a WithTransaction callback. It runs on the thread that holds the
// store's mutex, so it calls the store's Requires-mu_-held helpers directly.
class SqliteMetadataStore::Session final : public SqlSession {
 public:
  explicit Session(SqliteMetadataStore& store) : store_(store) {}

  absl::Status Execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    return store_.Run(sql, params, /*require_read_only=*/false).status();
  }

  absl::StatusOr<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params) override {
    return store_.Run(sql, params, /*require_read_only=*/false);
  }

 private:
  SqliteMetadataStore& store_;
};

SqliteMetadataStore::SqliteMetadataStore(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

SqliteMetadataStore::~SqliteMetadataStore() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  statements_.clear();
  sqlite3_close_v2(db_);
}

absl::Status SqliteMetadataStore::LastError(int code, std::string_view context) const {
  const int extended = sqlite3_extended_errcode(db_);
  // sqlite3_prepare/step return the extended code themselves; prefer whichever is more precise.
  const int effective = (extended & 0xff) == (code & 0xff) ? extended : code;
  std::string message = sqlite3_errmsg(db_);
  absl::Status status = SqliteStatus(effective, message);
  if (status.code() == absl::StatusCode::kInternal && !context.empty()) {
    return absl::InternalError(absl::StrCat(status.message(), " in ", Absl(context)));
  }
  return status;
}

absl::Status SqliteMetadataStore::CheckNotReentrant(std::string_view method) const {
  if (transaction_owner_.load() == std::this_thread::get_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "MetadataStore::", Absl(method),
        " was called from inside a WithTransaction callback on the same thread; use the "
        "SqlSession passed to the callback"));
  }
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqliteMetadataStore::Prepare(std::string_view sql) {
  const std::string key(sql);
  if (auto it = statements_.find(key); it != statements_.end()) return it->second;

  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                    SQLITE_PREPARE_PERSISTENT, &statement, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(statement);
    return LastError(rc, QuoteSql(sql));
  }
  if (statement == nullptr) {
    return absl::InternalError(absl::StrCat("SQL text holds no statement: ", QuoteSql(sql)));
  }
  const std::string_view rest(tail, static_cast<size_t>(key.data() + key.size() - tail));
  if (!absl::StripAsciiWhitespace(Absl(rest)).empty()) {
    sqlite3_finalize(statement);
    // Silently running only the first of several statements would hide bugs.
    return absl::InternalError(
        absl::StrCat("SQL text holds more than one statement: ", QuoteSql(sql)));
  }
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [cached_sql, cached] : statements_) sqlite3_finalize(cached);
    statements_.clear();
  }
  statements_.emplace(key, statement);
  return statement;
}

absl::StatusOr<std::vector<SqlRow>> SqliteMetadataStore::Run(std::string_view sql,
                                                             const std::vector<SqlValue>& params,
                                                             bool require_read_only) {
  ASSAY_ASSIGN_OR_RETURN(sqlite3_stmt * statement, Prepare(sql));
  // A cached statement must be reset after every use, also on error, or it would keep its
  // read snapshot (and locks) open.
  struct ResetOnExit {
    sqlite3_stmt* statement;
    ~ResetOnExit() {
      sqlite3_reset(statement);
      sqlite3_clear_bindings(statement);
    }
  } reset_on_exit{statement};

  if (require_read_only && !sqlite3_stmt_readonly(statement)) {
    return absl::InvalidArgumentError(
        absl::StrCat("MetadataStore::Query runs read-only statements only; run ", QuoteSql(sql),
                     " through WithTransaction"));
  }
  const int expected = sqlite3_bind_parameter_count(statement);
  if (expected != static_cast<int>(params.size())) {
    return absl::InternalError(absl::StrCat("statement expects ", expected, " parameters, got ",
                                            params.size(), ": ", QuoteSql(sql)));
  }
  for (size_t index = 0; index < params.size(); ++index) {
    const int position = static_cast<int>(index) + 1;
    const SqlValue& param = params[index];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(param)) {
      rc = sqlite3_bind_null(statement, position);
    } else if (const auto* integer = std::get_if<int64_t>(&param)) {
      rc = sqlite3_bind_int64(statement, position, *integer);
    } else if (const auto* real = std::get_if<double>(&param)) {
      rc = sqlite3_bind_double(statement, position, *real);
    } else {
      const std::string& text = std::get<std::string>(param);
      rc = sqlite3_bind_text64(statement, position, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) return LastError(rc, QuoteSql(sql));
  }

  std::vector<SqlRow> rows;
  const int columns = sqlite3_column_count(statement);
  while (true) {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return LastError(rc, QuoteSql(sql));
    std::vector<SqlValue> values;
    values.reserve(static_cast<size_t>(columns));
    for (int column = 0; column < columns; ++column) {
      switch (sqlite3_column_type(statement, column)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(statement, column)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(statement, column));
          break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
          // Fetch the pointer before the size, as sqlite.org/c3ref/column_blob.html advises.
          const void* data = sqlite3_column_blob(statement, column);
          const int size = sqlite3_column_bytes(statement, column);
          values.emplace_back(
              std::string(static_cast<const char*>(data), static_cast<size_t>(size)));
          break;
        }
        default:
          values.emplace_back(std::monostate{});
          break;
      }
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

absl::Status SqliteMetadataStore::RunSimple(const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  sqlite3_free(error);  // The same text is available from sqlite3_errmsg.
  if (rc != SQLITE_OK) return LastError(rc, sql);
  return absl::OkStatus();
}

absl::Status SqliteMetadataStore::WithTransaction(
    const std::function<absl::Status(SqlSession&)>& fn) {
  ASSAY_RETURN_IF_ERROR(CheckNotReentrant("WithTransaction"));
  std::lock_guard<std::mutex> lock(mu_);
  ASSAY_RETURN_IF_ERROR(RunSimple("BEGIN IMMEDIATE"));

  // Leaves no transaction open and no owner recorded however the callback exits (including
  // by an exception, which must not leave the connection stuck inside a transaction).
  struct EndOnExit {
    SqliteMetadataStore& store;
    ~EndOnExit() {
      store.transaction_owner_.store(std::thread::id());
      if (!sqlite3_get_autocommit(store.db_)) store.RunSimple("ROLLBACK").IgnoreError();
    }
  } end_on_exit{*this};
  transaction_owner_.store(std::this_thread::get_id());

  Session session(*this);
  absl::Status status = fn(session);
  transaction_owner_.store(std::thread::id());

  if (sqlite3_get_autocommit(db_)) {
    // SQLite rolled back on its own (I/O error, disk full, ...), or the callback ran
    // COMMIT/ROLLBACK itself, so the callback's changes were not applied as one unit.
    if (!status.ok()) return status;
    return absl::InternalError(
        "the transaction ended inside the WithTransaction callback (SQLite rolled it back, or "
        "the callback ran BEGIN/COMMIT/ROLLBACK, which it must not)");
  }
  if (!status.ok()) return status;  // end_on_exit rolls back.
  return RunSimple("COMMIT");       // On failure end_on_exit rolls back what is left.
}

absl::StatusOr<std::vector<SqlRow>> SqliteMetadataStore::Query(
    std::string_view sql, const std::vector<SqlValue>& params) {
  ASSAY_RETURN_IF_ERROR(CheckNotReentrant("Query"));
  std::lock_guard<std::mutex> lock(mu_);
  // One statement in autocommit mode is one read transaction: a consistent snapshot.
  absl::StatusOr<std::vector<SqlRow>> rows = Run(sql, params, /*require_read_only=*/true);
  if (!sqlite3_get_autocommit(db_)) {
    // sqlite3_stmt_readonly() is true for BEGIN; do not let it leave a transaction open.
    RunSimple("ROLLBACK").IgnoreError();
    return absl::InvalidArgumentError(
        absl::StrCat("MetadataStore::Query cannot control transactions: ", QuoteSql(sql)));
  }
  return rows;
}

absl::Status SqliteMetadataStore::Configure(const SqliteOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  // Defensive mode forbids writable_schema and similar ways of corrupting the file through
  // SQL; no double-quoted string literals keeps SQL portable ("x" is an identifier in
  // PostgreSQL). See docs/decisions/0001-metadata-store-sql-interface.md.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);

  // The journal mode is the first statement that reads the file, so a file that is not a
  // database fails here with SQLITE_NOTADB (DATA_LOSS).
  ASSAY_ASSIGN_OR_RETURN(std::vector<SqlRow> mode, Run("PRAGMA journal_mode=WAL", {}, false));
  const std::string journal_mode =
      mode.empty() ? std::string() : absl::AsciiStrToLower(mode[0].GetText(0));
  const bool in_memory = path_ == ":memory:";
  if (journal_mode != (in_memory ? "memory" : "wal")) {
    return absl::InternalError(absl::StrCat(
        "cannot switch ", path_.string(), " to WAL journal mode (SQLite kept \"", journal_mode,
        "\"); keep the workspace on a local file system that supports shared memory"));
  }
  ASSAY_RETURN_IF_ERROR(RunSimple("PRAGMA synchronous=FULL"));
  ASSAY_RETURN_IF_ERROR(RunSimple("PRAGMA foreign_keys=ON"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStoreWithOptions(
    const std::filesystem::path& path, const SqliteOptions& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store serializes every use of the connection with its own mutex.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    const absl::Status status = SqliteStatus(rc, reason);
    const bool cannot_open = (rc & 0xff) == SQLITE_CANTOPEN;
    return absl::Status(
        status.code(),
        absl::StrCat("cannot open metadata database ", path.string(), ": ", status.message(),
                     cannot_open ? "; check that the directory exists and is writable" : ""));
  }
  std::unique_ptr<SqliteMetadataStore> store(new SqliteMetadataStore(path, db));

  absl::Status status = store->Configure(options);
  if (status.ok()) {
    const common::Clock& clock =
        options.clock != nullptr ? *options.clock : common::SystemClock::Get();
    const std::vector<Migration>& migrations =
        options.migrations != nullptr ? *options.migrations : SqliteMigrations();
    absl::StatusOr<int> version = ApplyMigrations(*store, migrations, clock.NowMicros());
    if (version.ok()) {
      store->schema_version_.store(*version);
    } else {
      status = version.status();
    }
  }
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kFailedPrecondition) return status;
    return absl::Status(status.code(), absl::StrCat("cannot open metadata database ", path.string(),
                                                    ": ", status.message()));
  }
  return std::unique_ptr<MetadataStore>(std::move(store));
}

absl::StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(
    const std::filesystem::path& path) {
  return OpenSqliteMetadataStoreWithOptions(path, SqliteOptions());
}

}  // namespace assay::store
