// RawSqlite: a plain sqlite3 connection to a workspace database, as another assay process or
// an attacker with file access would have it. Tests use it to hold locks, read pragmas and
// tamper with rows behind the store's back. Header-only; one per test thread.
#ifndef ASSAY_TESTS_TESTING_RAW_SQLITE_H_
#define ASSAY_TESTS_TESTING_RAW_SQLITE_H_

#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace assay::test {

class RawSqlite {
 public:
  explicit RawSqlite(const std::filesystem::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawSqlite() { sqlite3_close(db_); }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  // Runs `sql` and returns SQLite's result code.
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  // Runs `sql` and fails the test (with SQLite's message) unless it succeeds.
  void MustExec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  // The first column of the first row of `sql` as text ("" if none or NULL).
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(statement);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace assay::test

#endif  // ASSAY_TESTS_TESTING_RAW_SQLITE_H_
