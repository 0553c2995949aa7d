// A workspace with project CHURN and helpers to import CSV text, apply flow.yaml text and
// build, shared by the flow tests. Header-only; one fixture per test.
#ifndef ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_
#define ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "catalog/datasets.h"
#include "catalog/projects.h"
#include "catalog/workspace.h"
#include "common/clock.h"
#include "flow/flow_build.h"
#include "flow/flow_definition.h"
#include "flow/flow_service.h"
#include "flow/quality_gate.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace assay::flow {

class FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<test::TempDir>();
    auto workspace = catalog::Workspace::Init(temp_->path() / "ws", actor_, clock_);
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = std::move(*workspace);
    ASSERT_TRUE(catalog::ProjectCatalog(*workspace_).Create("CHURN", "", "", actor_).ok());
  }
  void TearDown() override {
    workspace_.reset();
    temp_.reset();
  }

  // Imports `csv` as the next version of CHURN/name (running its quality rules).
  catalog::DatasetVersion Import(const std::string& name, const std::string& csv) {
    const std::filesystem::path path = temp_->path() / (name + ".csv");
    std::ofstream(path) << csv;
    auto checker = MakeVersionChecker(*workspace_, "CHURN", name);
    EXPECT_TRUE(checker.ok()) << checker.status();
    auto result = catalog::DatasetCatalog(*workspace_)
                      .ImportCsv({"CHURN", name}, path, {}, actor_, nullptr, *checker);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->version : catalog::DatasetVersion{};
  }

  absl::StatusOr<ApplyResult> Apply(const std::string& yaml) {
    auto definition = ParseFlowYaml(yaml);
    if (!definition.ok()) return definition.status();
    return ApplyFlow(*workspace_, "CHURN", *definition, actor_);
  }

  absl::StatusOr<BuildReport> Build(std::vector<std::string> targets = {}, bool force = false,
                                    bool dry_run = false) {
    BuildOptions options;
    options.targets = std::move(targets);
    options.force = force;
    options.dry_run = dry_run;
    return FlowBuilder(*workspace_).Build("CHURN", options, actor_);
  }

  absl::StatusOr<catalog::DatasetVersion> Latest(const std::string& name) {
    catalog::DatasetRef ref;
    ref.dataset = {"CHURN", name};
    return catalog::DatasetCatalog(*workspace_).Resolve(ref);
  }

  common::FakeClock clock_{1'700'000'000'000'000};
  catalog::Actor actor_{"alice", ""};
  std::unique_ptr<test::TempDir> temp_;
  std::unique_ptr<catalog::Workspace> workspace_;
};

}  // namespace assay::flow

#endif  // ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_
