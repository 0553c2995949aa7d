// A workspace with project CHURN (test::WorkspaceFixture) and helpers to import CSV text
// through the quality rules, apply flow.yaml text and build, shared by the flow tests.
// Header-only; one fixture per test.
#ifndef ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_
#define ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "catalog/datasets.h"
#include "flow/flow_build.h"
#include "flow/flow_definition.h"
#include "flow/flow_service.h"
#include "flow/quality_gate.h"
#include "gtest/gtest.h"
#include "tests/testing/workspace_fixture.h"

namespace assay::flow {

class FlowTest : public test::WorkspaceFixture {
 protected:
  // Imports `csv` as the next version of CHURN/name (running its quality rules).
  catalog::DatasetVersion Import(const std::string& name, const std::string& csv) {
    auto checker = MakeVersionChecker(*workspace_, "CHURN", name);
    EXPECT_TRUE(checker.ok()) << checker.status();
    auto result = ImportCsvText(name, csv, *checker);
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
};

}  // namespace assay::flow

#endif  // ASSAY_TESTS_FLOW_FLOW_TEST_SUPPORT_H_
