#include "catalog/datasets.h"

#include <filesystem>
#include <fstream>

#include "catalog/projects.h"
#include "catalog/workspace.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace assay::catalog {
namespace {

namespace fs = std::filesystem;

class DatasetCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<test::TempDir>();
    dir_ = temp_->path();
    auto workspace = Workspace::Init(dir_ / "ws", actor_, clock_);
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = std::move(*workspace);
    ASSERT_TRUE(ProjectCatalog(*workspace_).Create("CHURN", "", "", actor_).ok());
  }
  void TearDown() override {
    workspace_.reset();
    temp_.reset();
  }

  fs::path Csv(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << contents;
    return path;
  }

  common::FakeClock clock_{1'700'000'000'000'000};
  Actor actor_{"alice", ""};
  std::unique_ptr<test::TempDir> temp_;
  fs::path dir_;
  std::unique_ptr<Workspace> workspace_;
};

TEST_F(DatasetCatalogTest, IdenticalContentNeverMakesASecondVersion) {
  DatasetCatalog datasets(*workspace_);
  const DatasetName name{"CHURN", "rx"};
  auto first = datasets.ImportCsv(name, Csv("a.csv", "x,y\n1,a\n2,b\n"), {}, actor_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->version.version, 1);
  auto second = datasets.ImportCsv(name, Csv("b.csv", "x,y\n3,c\n"), {}, actor_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version.version, 2);
  // The same bytes as v1 from another file (CRLF line endings, same table): still v1.
  auto again = datasets.ImportCsv(name, Csv("c.csv", "x,y\r\n1,a\r\n2,b\r\n"), {}, actor_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.version, 1);
  EXPECT_EQ(again->version.sha256, first->version.sha256);
  EXPECT_EQ(datasets.Versions(name)->size(), 2u);
}

TEST_F(DatasetCatalogTest, StoredTableIsVerifiedOnLoad) {
  DatasetCatalog datasets(*workspace_);
  auto imported = datasets.ImportCsv({"CHURN", "rx"}, Csv("a.csv", "x\n1\n2\n"), {}, actor_);
  ASSERT_TRUE(imported.ok());
  auto table = datasets.LoadTable(imported->version);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->num_rows(), 2);
  // Corrupt the stored object: loading must fail loudly, never return other data.
  const fs::path object = workspace_->objects().PathFor(imported->version.sha256);
  fs::permissions(object, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream file(object, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(20);
    file.put('\x7f');
  }
  EXPECT_EQ(datasets.LoadTable(imported->version).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(DatasetCatalogTest, FailedImportLeavesNoTrace) {
  DatasetCatalog datasets(*workspace_);
  auto bad = datasets.ImportCsv({"CHURN", "rx"}, Csv("bad.csv", "x,y\n1\n"), {}, actor_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(datasets.Versions({"CHURN", "rx"}).status().code(), absl::StatusCode::kNotFound);
  auto entries = workspace_->audit_trail().List(workspace_->metadata(), {});
  ASSERT_TRUE(entries.ok());
  for (const auto& entry : *entries) EXPECT_NE(entry.event.object_id, "CHURN/rx");
}

TEST_F(DatasetCatalogTest, ImportIsAuditedWithHashesAndActor) {
  DatasetCatalog datasets(*workspace_);
  auto v1 = datasets.ImportCsv({"CHURN", "rx"}, Csv("a.csv", "x\n1\n"), {}, actor_);
  auto v2 = datasets.ImportCsv({"CHURN", "rx"}, Csv("b.csv", "x\n2\n"), {},
                               Actor{"bob", "monthly refresh"});
  ASSERT_TRUE(v1.ok() && v2.ok());
  audit::AuditFilter filter;
  filter.object_id = "CHURN/rx";
  auto entries = workspace_->audit_trail().List(workspace_->metadata(), filter);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);  // create, import v1, import v2
  const auto& last = entries->back();
  EXPECT_EQ(last.event.action, "dataset.import");
  EXPECT_EQ(last.event.actor, "bob");
  EXPECT_EQ(last.event.reason, "monthly refresh");
  EXPECT_EQ(last.event.object_version, "v2");
  EXPECT_EQ(last.event.before_hash, v1->version.sha256);
  EXPECT_EQ(last.event.after_hash, v2->version.sha256);
  auto report = workspace_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(DatasetCatalogTest, HashPrefixMustBeUnique) {
  DatasetCatalog datasets(*workspace_);
  auto v1 = datasets.ImportCsv({"CHURN", "rx"}, Csv("a.csv", "x\n1\n"), {}, actor_);
  ASSERT_TRUE(v1.ok());
  DatasetRef ref{
      {"CHURN", "rx"}, DatasetRef::Kind::kHashPrefix, 0, v1->version.sha256.substr(0, 6)};
  auto resolved = datasets.Resolve(ref);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->version, 1);
  ref.hash_prefix = v1->version.sha256[0] == 'f' ? "0000" : "ffff";
  EXPECT_EQ(datasets.Resolve(ref).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DatasetCatalogTest, WorkspaceRefusesSecondInitAndOpensExisting) {
  EXPECT_EQ(Workspace::Init(dir_ / "ws", actor_, clock_).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Workspace::Open(dir_ / "ws", clock_).ok());
  EXPECT_EQ(Workspace::Open(dir_ / "nowhere", clock_).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace assay::catalog
