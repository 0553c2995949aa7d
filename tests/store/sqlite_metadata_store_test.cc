#include "store/sqlite_metadata_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/metadata_store.h"
#include "store/migrations.h"
#include "tests/testing/raw_sqlite.h"
#include "tests/testing/temp_dir.h"

namespace assay::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

using ::assay::test::TempDir;

// A second connection, as another assay process (or an attacker) would have it.
using RawConnection = test::RawSqlite;

std::unique_ptr<MetadataStore> OpenOrDie(const fs::path& path, SqliteOptions options = {}) {
  static const common::FakeClock clock(kNow);
  if (options.clock == nullptr) options.clock = &clock;
  auto store = OpenSqliteMetadataStoreWithOptions(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

int64_t CountRows(MetadataStore& store, const std::string& table) {
  auto rows = store.Query("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? (*rows)[0].GetInt(0) : -1;
}

absl::Status InsertProject(SqlSession& session, const std::string& key) {
  return session.Execute(
      "INSERT INTO projects (key, name, created_by, created_at_micros) VALUES (?, ?, ?, ?)",
      {key, "Project " + key, std::string("alice"), kNow});
}

TEST(SqliteMetadataStore, CreatesDatabaseWithSchema) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::exists(db));
  const int latest = LatestVersion(SqliteMigrations());
  EXPECT_EQ(store->SchemaVersion(), latest);

  auto tables = store->Query(
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger', 'index') "
      "AND name NOT LIKE 'sqlite_%' ORDER BY name");
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::vector<std::string> names;
  for (const SqlRow& row : *tables) names.push_back(row.GetText(0));
  EXPECT_THAT(
      names,
      ::testing::ElementsAre(
          "audit_log", "audit_log_no_delete", "audit_log_no_update", "audit_log_object",
          "audit_log_project", "dataset_rules", "dataset_versions", "datasets", "ml_task_versions",
          "ml_tasks", "ml_trainings", "ml_trainings_task", "ml_trials", "projects",
          "recipe_versions", "recipes", "run_inputs", "run_inputs_version", "run_outputs",
          "run_outputs_version", "runs", "runs_memo", "runs_recipe", "saved_model_versions",
          "saved_models", "schema_migrations", "version_checks", "workspace_info"));

  auto migrations = store->Query("SELECT version, applied_at_micros FROM schema_migrations");
  ASSERT_TRUE(migrations.ok());
  ASSERT_EQ(migrations->size(), static_cast<size_t>(latest));
  for (int index = 0; index < latest; ++index) {
    EXPECT_EQ((*migrations)[index].GetInt(0), index + 1);
    EXPECT_EQ((*migrations)[index].GetInt(1), kNow);
  }
}

TEST(SqliteMetadataStore, SetsPragmas) {
  TempDir dir;
  SqliteOptions options;
  options.busy_timeout_ms = 1234;
  auto store = OpenOrDie(dir.path() / "assay.db", options);
  ASSERT_NE(store, nullptr);

  auto synchronous = store->Query("PRAGMA synchronous");
  ASSERT_TRUE(synchronous.ok()) << synchronous.status();
  EXPECT_EQ((*synchronous)[0].GetInt(0), 2);  // FULL
  auto foreign_keys = store->Query("PRAGMA foreign_keys");
  ASSERT_TRUE(foreign_keys.ok());
  EXPECT_EQ((*foreign_keys)[0].GetInt(0), 1);
  auto busy_timeout = store->Query("PRAGMA busy_timeout");
  ASSERT_TRUE(busy_timeout.ok());
  EXPECT_EQ((*busy_timeout)[0].GetInt(0), 1234);

  // The journal mode is a property of the file: another connection sees it too.
  RawConnection raw(dir.path() / "assay.db");
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
}

TEST(SqliteMetadataStore, ReopenKeepsDataAndDoesNotReapplyMigrations) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->WithTransaction([](SqlSession& s) { return InsertProject(s, "CHURN"); }).ok());
  }
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  const int latest = LatestVersion(SqliteMigrations());
  EXPECT_EQ(store->SchemaVersion(), latest);
  EXPECT_EQ(CountRows(*store, "schema_migrations"), latest);
  EXPECT_EQ(CountRows(*store, "projects"), 1);
}

TEST(SqliteMetadataStore, AppliesNewMigrationsOnReopen) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  ASSERT_NE(OpenOrDie(db), nullptr);

  std::vector<Migration> migrations = SqliteMigrations();
  const int next = LatestVersion(migrations) + 1;
  migrations.push_back({next, "notes", {"CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"}});
  SqliteOptions options;
  options.migrations = &migrations;
  auto store = OpenOrDie(db, options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), next);
  EXPECT_EQ(CountRows(*store, "notes"), 0);
  EXPECT_EQ(CountRows(*store, "schema_migrations"), next);
}

TEST(SqliteMetadataStore, FailedMigrationIsRolledBack) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  std::vector<Migration> migrations = SqliteMigrations();
  const int latest = LatestVersion(migrations);
  migrations.push_back({latest + 1,
                        "broken",
                        {"CREATE TABLE half_done (id INTEGER PRIMARY KEY)",
                         "CREATE TABLE projects (key TEXT)"}});  // Already exists: fails.
  SqliteOptions options;
  options.migrations = &migrations;
  auto failed = OpenSqliteMetadataStoreWithOptions(db, options);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()),
              HasSubstr("schema migration " + std::to_string(latest + 1) + " (broken)"));

  auto store = OpenOrDie(db);  // The released migrations stayed applied.
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), latest);
  auto half_done = store->Query("SELECT name FROM sqlite_master WHERE name = 'half_done'");
  ASSERT_TRUE(half_done.ok());
  EXPECT_TRUE(half_done->empty());
}

TEST(SqliteMetadataStore, RejectsMisnumberedMigrations) {
  TempDir dir;
  std::vector<Migration> migrations = {{1, "one", {"CREATE TABLE a (x INTEGER)"}},
                                       {3, "three", {"CREATE TABLE b (x INTEGER)"}}};
  SqliteOptions options;
  options.migrations = &migrations;
  auto store = OpenSqliteMetadataStoreWithOptions(dir.path() / "assay.db", options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInternal);
}

TEST(SqliteMetadataStore, RefusesDatabaseFromNewerAssay) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  ASSERT_NE(OpenOrDie(db), nullptr);
  {
    RawConnection raw(db);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (99, 0)"), SQLITE_OK);
  }
  auto store = OpenSqliteMetadataStore(db);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(store.status().message()),
            "workspace was created by a newer assay (schema 99, this build knows " +
                std::to_string(LatestVersion(SqliteMigrations())) + "); upgrade assay");
}

TEST(SqliteMetadataStore, GarbageFileIsDataLoss) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  {
    std::ofstream out(db, std::ios::binary);
    for (int line = 0; line < 200; ++line) out << "this is not a database, just some text\n";
  }
  auto store = OpenSqliteMetadataStore(db);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(db.string()));
}

TEST(SqliteMetadataStore, MissingDirectoryIsInternal) {
  TempDir dir;
  auto store = OpenSqliteMetadataStore(dir.path() / "no" / "such" / "assay.db");
  ASSERT_EQ(store.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("directory exists"));
}

TEST(SqliteMetadataStore, CommitMakesChangesVisible) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  absl::Status status = store->WithTransaction([](SqlSession& session) -> absl::Status {
    absl::Status inserted = InsertProject(session, "CHURN");
    if (!inserted.ok()) return inserted;
    // Reads inside the transaction see its own writes.
    auto rows = session.Query("SELECT name FROM projects WHERE key = ?", {std::string("CHURN")});
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), 1u);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  auto rows = store->Query("SELECT key, name, description FROM projects");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].GetText(0), "CHURN");
  EXPECT_EQ((*rows)[0].GetText(1), "Project CHURN");
  EXPECT_EQ((*rows)[0].GetText(2), "");  // DEFAULT ''
}

TEST(SqliteMetadataStore, CallbackErrorRollsBack) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  absl::Status status = store->WithTransaction([](SqlSession& session) -> absl::Status {
    EXPECT_TRUE(InsertProject(session, "A").ok());
    EXPECT_TRUE(InsertProject(session, "B").ok());
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_EQ(status, absl::InvalidArgumentError("changed my mind"));
  EXPECT_EQ(CountRows(*store, "projects"), 0);
  // The connection is usable again afterwards.
  EXPECT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "C"); }).ok());
  EXPECT_EQ(CountRows(*store, "projects"), 1);
}

TEST(SqliteMetadataStore, ExceptionInCallbackRollsBack) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  EXPECT_THROW(store
                   ->WithTransaction([](SqlSession& session) -> absl::Status {
                     EXPECT_TRUE(InsertProject(session, "A").ok());
                     throw std::runtime_error("boom");
                   })
                   .IgnoreError(),
               std::runtime_error);
  EXPECT_EQ(CountRows(*store, "projects"), 0);
  EXPECT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "B"); }).ok());
  EXPECT_EQ(CountRows(*store, "projects"), 1);
}

TEST(SqliteMetadataStore, CallbackMustNotEndTheTransaction) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  absl::Status status =
      store->WithTransaction([](SqlSession& session) { return session.Execute("COMMIT"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "A"); }).ok());
}

TEST(SqliteMetadataStore, MapsConstraintViolations) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->WithTransaction([](SqlSession& session) -> absl::Status {
                    absl::Status status = InsertProject(session, "CHURN");
                    if (!status.ok()) return status;
                    return session.Execute(
                        "INSERT INTO datasets (project_key, name, created_by, "
                        "created_at_micros) VALUES ('CHURN', 'providers', 'alice', 0)");
                  })
                  .ok());

  // PRIMARY KEY.
  absl::Status duplicate_key =
      store->WithTransaction([](SqlSession& s) { return InsertProject(s, "CHURN"); });
  EXPECT_EQ(duplicate_key.code(), absl::StatusCode::kAlreadyExists) << duplicate_key;
  EXPECT_THAT(std::string(duplicate_key.message()), HasSubstr("projects.key"));

  // INTEGER PRIMARY KEY (the rowid).
  absl::Status duplicate_rowid = store->WithTransaction([](SqlSession& s) {
    return s.Execute(
        "INSERT INTO datasets (id, project_key, name, created_by, created_at_micros) "
        "VALUES (1, 'CHURN', 'other', 'alice', 0)");
  });
  EXPECT_EQ(duplicate_rowid.code(), absl::StatusCode::kAlreadyExists) << duplicate_rowid;

  // UNIQUE (project_key, name).
  absl::Status duplicate_name = store->WithTransaction([](SqlSession& s) {
    return s.Execute(
        "INSERT INTO datasets (project_key, name, created_by, created_at_micros) "
        "VALUES ('CHURN', 'providers', 'bob', 0)");
  });
  EXPECT_EQ(duplicate_name.code(), absl::StatusCode::kAlreadyExists) << duplicate_name;

  // FOREIGN KEY (proves foreign_keys=ON is in effect).
  absl::Status no_project = store->WithTransaction([](SqlSession& s) {
    return s.Execute(
        "INSERT INTO datasets (project_key, name, created_by, created_at_micros) "
        "VALUES ('NOPE', 'x', 'alice', 0)");
  });
  EXPECT_EQ(no_project.code(), absl::StatusCode::kFailedPrecondition) << no_project;

  // NOT NULL.
  absl::Status null_name = store->WithTransaction([](SqlSession& s) {
    return s.Execute(
        "INSERT INTO projects (key, name, created_by, created_at_micros) "
        "VALUES ('X', NULL, 'alice', 0)");
  });
  EXPECT_EQ(null_name.code(), absl::StatusCode::kFailedPrecondition) << null_name;

  // Trigger RAISE(ABORT): the audit log is append-only.
  ASSERT_TRUE(store
                  ->WithTransaction([](SqlSession& s) {
                    return s.Execute(
                        "INSERT INTO audit_log VALUES (1, 0, 'a', 'b', '', '', '', '', '', "
                        "'', '{}', '', 'p', 'e')");
                  })
                  .ok());
  absl::Status update = store->WithTransaction(
      [](SqlSession& s) { return s.Execute("UPDATE audit_log SET actor = 'mallory'"); });
  EXPECT_EQ(update.code(), absl::StatusCode::kFailedPrecondition) << update;
  EXPECT_THAT(std::string(update.message()), HasSubstr("append-only"));
  absl::Status remove = store->WithTransaction(
      [](SqlSession& s) { return s.Execute("DELETE FROM audit_log WHERE seq = 1"); });
  EXPECT_EQ(remove.code(), absl::StatusCode::kFailedPrecondition) << remove;
  EXPECT_EQ(CountRows(*store, "audit_log"), 1);
}

TEST(SqliteMetadataStore, StatementMistakesAreInternal) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Query("SELEKT 1").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store->Query("SELECT ?").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store->Query("SELECT 1", {int64_t{1}}).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store->Query("SELECT 1; SELECT 2").status().code(), absl::StatusCode::kInternal);
  // Double-quoted strings are identifiers (portable SQL), not string literals.
  EXPECT_EQ(store->Query("SELECT \"abc\"").status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store->Query("SELECT 1;").ok());
}

TEST(SqliteMetadataStore, QueryIsReadOnly) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Query("INSERT INTO workspace_info VALUES ('a', 'b')").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Query("BEGIN").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CountRows(*store, "workspace_info"), 0);
  EXPECT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "A"); }).ok());
}

TEST(SqliteMetadataStore, RoundTripsValueTypesAndReturning) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  const std::string blob("a\0b\xff", 4);
  auto rows = store->Query("SELECT ?, ?, ?, ?, ?",
                           {SqlValue(), int64_t{-42}, 2.5, std::string("héllo"), blob});
  ASSERT_TRUE(rows.ok()) << rows.status();
  const SqlRow& row = (*rows)[0];
  ASSERT_EQ(row.size(), 5u);
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_EQ(row.GetInt(0), 0);
  EXPECT_EQ(row.GetText(0), "");
  EXPECT_EQ(row.GetInt(1), -42);
  EXPECT_EQ(row.GetDouble(1), -42.0);
  EXPECT_EQ(row.GetText(1), "-42");
  EXPECT_EQ(row.GetDouble(2), 2.5);
  EXPECT_EQ(row.GetInt(2), 2);
  EXPECT_EQ(row.GetText(2), "2.5");
  EXPECT_EQ(SqlRow({0.1}).GetText(0), "0.1");
  EXPECT_EQ(SqlRow({1.0 / 3.0}).GetText(0), "0.33333333333333331");
  EXPECT_EQ(SqlRow({std::string("17")}).GetInt(0), 17);
  EXPECT_EQ(SqlRow({std::string("x")}).GetInt(0), 0);
  EXPECT_EQ(SqlRow({1e300}).GetInt(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(row.GetText(3), "héllo");
  EXPECT_EQ(row.GetText(4), blob);
  EXPECT_FALSE(row.IsNull(1));

  int64_t id = 0;
  ASSERT_TRUE(store
                  ->WithTransaction([&](SqlSession& session) -> absl::Status {
                    absl::Status status = InsertProject(session, "CHURN");
                    if (!status.ok()) return status;
                    auto inserted = session.Query(
                        "INSERT INTO datasets (project_key, name, created_by, "
                        "created_at_micros) VALUES (?, ?, ?, ?) RETURNING id",
                        {std::string("CHURN"), std::string("providers"), std::string("a"), kNow});
                    if (!inserted.ok()) return inserted.status();
                    id = (*inserted)[0].GetInt(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(id, 1);
}

TEST(SqliteMetadataStore, BusyDatabaseIsUnavailable) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  SqliteOptions options;
  options.busy_timeout_ms = 20;  // Keep the test quick; production waits 10 s.
  auto store = OpenOrDie(db, options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "A"); }).ok());

  RawConnection other(db);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  ASSERT_EQ(other.Exec("INSERT INTO workspace_info VALUES ('k', 'v')"), SQLITE_OK);

  absl::Status status = store->WithTransaction([](SqlSession& s) { return InsertProject(s, "B"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("the workspace database is locked by another assay process; retry"));
  // WAL: readers are not blocked by the writer, and do not see its uncommitted rows.
  EXPECT_EQ(CountRows(*store, "projects"), 1);
  EXPECT_EQ(CountRows(*store, "workspace_info"), 0);

  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(store->WithTransaction([](SqlSession& s) { return InsertProject(s, "B"); }).ok());
  EXPECT_EQ(CountRows(*store, "workspace_info"), 1);
}

TEST(SqliteMetadataStore, NestedUseFromTheCallbackFailsInsteadOfDeadlocking) {
  TempDir dir;
  auto store = OpenOrDie(dir.path() / "assay.db");
  ASSERT_NE(store, nullptr);
  absl::Status status = store->WithTransaction([&](SqlSession&) -> absl::Status {
    EXPECT_EQ(store->Query("SELECT 1").status().code(), absl::StatusCode::kFailedPrecondition);
    return store->WithTransaction([](SqlSession&) { return absl::OkStatus(); });
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteMetadataStore, ConcurrentTransactionsFromThreads) {
  TempDir dir;
  const fs::path db = dir.path() / "assay.db";
  auto shared = OpenOrDie(db);
  auto second = OpenOrDie(db);  // A second connection: the same locking as two processes.
  ASSERT_NE(shared, nullptr);
  ASSERT_NE(second, nullptr);

  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    MetadataStore* store = thread % 2 == 0 ? shared.get() : second.get();
    threads.emplace_back([store, thread, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        // Read-modify-write: a lost update would show up as a wrong final counter.
        absl::Status status = store->WithTransaction([&](SqlSession& session) -> absl::Status {
          auto rows = session.Query("SELECT COUNT(*) FROM workspace_info");
          if (!rows.ok()) return rows.status();
          const int64_t count = (*rows)[0].GetInt(0);
          return session.Execute(
              "INSERT INTO workspace_info (key, value) VALUES (?, ?)",
              {"t" + std::to_string(thread) + "_" + std::to_string(i), std::to_string(count)});
        });
        if (!status.ok()) ++failures;
        if (!store->Query("SELECT COUNT(*) FROM workspace_info").ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CountRows(*shared, "workspace_info"), kThreads * kPerThread);
  // Every insert saw all earlier ones: the counters are exactly 0..N-1.
  auto distinct = shared->Query(
      "SELECT COUNT(DISTINCT value), MAX(CAST(value AS INTEGER)) "
      "FROM workspace_info");
  ASSERT_TRUE(distinct.ok());
  EXPECT_EQ((*distinct)[0].GetInt(0), kThreads * kPerThread);
  EXPECT_EQ((*distinct)[0].GetInt(1), kThreads * kPerThread - 1);
}

TEST(SqliteMetadataStore, MapsResultCodes) {
  EXPECT_TRUE(SqliteStatus(SQLITE_OK, "").ok());
  EXPECT_EQ(SqliteStatus(SQLITE_BUSY_SNAPSHOT, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_LOCKED, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_CONSTRAINT_UNIQUE, "x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteStatus(SQLITE_CONSTRAINT_CHECK, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqliteStatus(SQLITE_CONSTRAINT_TRIGGER, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqliteStatus(SQLITE_CORRUPT_INDEX, "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(SqliteStatus(SQLITE_NOTADB, "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(SqliteStatus(SQLITE_IOERR_FSYNC, "x").code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace assay::store
