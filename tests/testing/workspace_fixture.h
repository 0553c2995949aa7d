// WorkspaceFixture: a GoogleTest fixture base that gives each test a fresh workspace in its own
// TempDir, on a FakeClock, with project CHURN created by actor "alice", plus helpers to import
// CSV text and read the audit trail. Depends on catalog/ only, so any layer's tests can use it.
// Header-only; one fixture per test, used from the test's thread.
#ifndef ASSAY_TESTS_TESTING_WORKSPACE_FIXTURE_H_
#define ASSAY_TESTS_TESTING_WORKSPACE_FIXTURE_H_

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_trail.h"
#include "catalog/datasets.h"
#include "catalog/projects.h"
#include "catalog/workspace.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace assay::test {

// Where a WorkspaceFixture's clock starts: 2023-11-14T22:13:20Z.
inline constexpr int64_t kFixtureStartMicros = 1'700'000'000'000'000;

class WorkspaceFixture : public ::testing::Test {
 protected:
  // `actor` makes the workspace and project CHURN and is what the helpers act as.
  explicit WorkspaceFixture(catalog::Actor actor = {"alice", ""}) : actor_(std::move(actor)) {}

  // A subclass that adds setup calls this first, as ASSERT_NO_FATAL_FAILURE(...::SetUp()).
  void SetUp() override {
    temp_ = std::make_unique<TempDir>();
    auto workspace = catalog::Workspace::Init(temp_->path() / "ws", actor_, clock_);
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = std::move(*workspace);
    ASSERT_TRUE(catalog::ProjectCatalog(*workspace_).Create("CHURN", "", "", actor_).ok());
  }
  // The workspace closes before its directory goes.
  void TearDown() override {
    workspace_.reset();
    temp_.reset();
  }

  // Writes `csv` to <temp>/<name>.csv and imports it as the next version of CHURN/<name>,
  // running `checker` (if given) on the new table. Errors: those of DatasetCatalog::ImportCsv.
  absl::StatusOr<catalog::ImportResult> ImportCsvText(
      const std::string& name, const std::string& csv,
      const catalog::VersionChecker& checker = nullptr) {
    const std::filesystem::path path = temp_->path() / (name + ".csv");
    std::ofstream(path) << csv;
    return catalog::DatasetCatalog(*workspace_)
        .ImportCsv({"CHURN", name}, path, {}, actor_, nullptr, checker);
  }

  // The audit entries about `object_id`, oldest first (none, with a test failure, on error).
  std::vector<audit::AuditEntry> AuditFor(const std::string& object_id) {
    audit::AuditFilter filter;
    filter.object_id = object_id;
    auto entries = workspace_->audit_trail().List(workspace_->metadata(), filter);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<audit::AuditEntry>{};
  }

  // The action of each entry, in order.
  static std::vector<std::string> Actions(const std::vector<audit::AuditEntry>& entries) {
    std::vector<std::string> actions;
    for (const auto& entry : entries) actions.push_back(entry.event.action);
    return actions;
  }

  common::FakeClock clock_{kFixtureStartMicros};
  catalog::Actor actor_;
  std::unique_ptr<TempDir> temp_;
  std::unique_ptr<catalog::Workspace> workspace_;
};

}  // namespace assay::test

#endif  // ASSAY_TESTS_TESTING_WORKSPACE_FIXTURE_H_
