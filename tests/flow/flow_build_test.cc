#include "flow/flow_build.h"

#include "audit/audit_trail.h"
#include "catalog/runs.h"
#include "flow/lineage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/flow/flow_test_support.h"

namespace assay::flow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTwoStepFlow[] = R"(
recipes:
  - name: sorted
    type: sort
    inputs: [hcps]
    outputs: [hcps_sorted]
    config: {keys: [{column: hcp_id, order: desc}]}
  - name: top
    type: sql
    inputs: [hcps_sorted]
    outputs: [top_hcps]
    config: {query: "SELECT hcp_id, specialty FROM hcps_sorted LIMIT 2"}
)";

constexpr char kHcps[] = "hcp_id,specialty\n1,ONC\n2,CARD\n3,ONC\n";

std::vector<std::string> Statuses(const BuildReport& report) {
  std::vector<std::string> statuses;
  for (const auto& step : report.steps) statuses.push_back(step.recipe + ":" + step.status);
  return statuses;
}

TEST_F(FlowTest, BuildRunsInDependencyOrderThenMemoizes) {
  Import("hcps", kHcps);
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  auto first = Build({"top_hcps"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->ok) << first->failure;
  EXPECT_THAT(Statuses(*first), ElementsAre("sorted:succeeded", "top:succeeded"));
  EXPECT_EQ(first->steps[0].reason, "never built");
  auto top = Latest("top_hcps");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->row_count, 2);
  auto table = catalog::DatasetCatalog(*workspace_).LoadTable(*top);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->column(0).int64_values(), (std::vector<int64_t>{3, 2}));

  auto second = Build();
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Statuses(*second), ElementsAre("sorted:reused", "top:reused"));
  EXPECT_THAT(second->steps[0].reason, HasSubstr("memoized"));
  EXPECT_EQ(second->steps[1].run_id, first->steps[1].run_id);

  // A new source version re-runs the first recipe; its output is identical (same rows), so
  // the second recipe's memo key is unchanged and it is reused.
  Import("hcps", "specialty,hcp_id\nONC,1\nCARD,2\nONC,3\n");
  auto third = Build();
  ASSERT_TRUE(third.ok());
  EXPECT_THAT(Statuses(*third), ElementsAre("sorted:succeeded", "top:succeeded"));
  EXPECT_THAT(third->steps[0].reason, HasSubstr("new input CHURN/hcps@v2"));

  auto forced = Build({}, /*force=*/true);
  ASSERT_TRUE(forced.ok());
  EXPECT_THAT(Statuses(*forced), ElementsAre("sorted:succeeded", "top:succeeded"));
  EXPECT_EQ(forced->steps[0].reason, "--force");
  EXPECT_FALSE(forced->steps[0].output_created[0]);  // identical content, existing version
  EXPECT_TRUE(workspace_->VerifyAudit()->ok);
}

TEST_F(FlowTest, DryRunExplainsAndChangesNothing) {
  Import("hcps", kHcps);
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  auto plan = Build({}, false, /*dry_run=*/true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_EQ(plan->steps[0].action, "run");
  EXPECT_EQ(plan->steps[0].reason, "never built");
  EXPECT_EQ(plan->steps[1].action, "run");
  EXPECT_THAT(plan->steps[1].reason, HasSubstr("upstream recipe runs first"));
  EXPECT_FALSE(Latest("hcps_sorted").ok());

  ASSERT_TRUE(Build().ok());
  auto after = Build({}, false, /*dry_run=*/true);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->steps[0].action, "skip");
  EXPECT_EQ(after->steps[1].action, "skip");
}

TEST_F(FlowTest, ChangedRecipeRunsAgainAndOldVersionStaysInHistory) {
  Import("hcps", kHcps);
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  ASSERT_TRUE(Build().ok());
  std::string changed = kTwoStepFlow;
  changed.replace(changed.find("LIMIT 2"), 7, "LIMIT 1");
  auto applied = Apply(changed);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_THAT(applied->changes, ElementsAre("recipe top: update v1 -> v2"));
  auto build = Build();
  ASSERT_TRUE(build.ok());
  EXPECT_THAT(Statuses(*build), ElementsAre("sorted:reused", "top:succeeded"));
  EXPECT_EQ(build->steps[1].reason, "recipe changed (v1 -> v2)");
  EXPECT_EQ(Latest("top_hcps")->row_count, 1);
  EXPECT_EQ(Latest("top_hcps")->version, 2);
}

TEST_F(FlowTest, FailedRecipeKeepsEarlierOutputsAndRecordsTheRun) {
  Import("hcps", kHcps);
  std::string broken = kTwoStepFlow;
  broken.replace(broken.find("SELECT hcp_id"), 13, "SELECT no_such_column");
  ASSERT_TRUE(Apply(broken).ok());
  auto build = Build();
  ASSERT_TRUE(build.ok()) << build.status();
  EXPECT_FALSE(build->ok);
  EXPECT_THAT(Statuses(*build), ElementsAre("sorted:succeeded", "top:failed"));
  EXPECT_THAT(build->failure, HasSubstr("recipe top failed"));
  EXPECT_THAT(build->failure, HasSubstr("no_such_column"));
  EXPECT_TRUE(Latest("hcps_sorted").ok());  // the earlier output is intact
  EXPECT_FALSE(Latest("top_hcps").ok());    // nothing half-written
  auto run = catalog::RunCatalog(*workspace_).Get(build->steps[1].run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "failed");
  EXPECT_TRUE(run->output_version_ids.empty());

  // Fixing the recipe lets the next build finish, reusing the first step.
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  auto fixed = Build();
  ASSERT_TRUE(fixed.ok());
  EXPECT_TRUE(fixed->ok) << fixed->failure;
  EXPECT_THAT(Statuses(*fixed), ElementsAre("sorted:reused", "top:succeeded"));
}

TEST_F(FlowTest, QualityGateStopsBeforeDownstreamRecipesUnlessOverridden) {
  ASSERT_TRUE(Apply(std::string(kTwoStepFlow) + R"(
datasets:
  hcps:
    checks:
      - {type: not_null, columns: [hcp_id]}
      - {type: in_set, column: specialty, values: [ONC, CARD], severity: warning}
)")
                  .ok());
  const auto bad = Import("hcps", "hcp_id,specialty\n1,ONC\n,CARD\n3,PCP\n");
  ASSERT_FALSE(bad.checks.is_null());
  EXPECT_FALSE(bad.checks["passed"].get<bool>());
  EXPECT_EQ(bad.checks["errors"], 1);
  EXPECT_EQ(bad.checks["warnings"], 1);

  auto blocked = Build();
  ASSERT_TRUE(blocked.ok()) << blocked.status();
  EXPECT_FALSE(blocked->ok);
  EXPECT_THAT(blocked->failure, HasSubstr("quality gate: CHURN/hcps@v1"));
  EXPECT_THAT(blocked->failure, HasSubstr("not_null(hcp_id)"));
  EXPECT_THAT(blocked->failure, HasSubstr("row"));
  EXPECT_THAT(Statuses(*blocked), ElementsAre("sorted:not run", "top:not run"));
  EXPECT_FALSE(Latest("hcps_sorted").ok());

  BuildOptions options;
  options.allow_failed_checks = true;
  EXPECT_EQ(FlowBuilder(*workspace_).Build("CHURN", options, actor_).status().code(),
            absl::StatusCode::kInvalidArgument);  // a reason is required
  catalog::Actor with_reason{"alice", "known gap, vendor fix due"};
  auto overridden = FlowBuilder(*workspace_).Build("CHURN", options, with_reason);
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_TRUE(overridden->ok) << overridden->failure;
  ASSERT_FALSE(overridden->notes.empty());
  EXPECT_THAT(overridden->notes[0], HasSubstr("quality override"));
  auto log = workspace_->audit_trail().List(workspace_->metadata(), {});
  ASSERT_TRUE(log.ok());
  bool audited = false;
  for (const auto& entry : *log) {
    if (entry.event.action == "quality.override") {
      audited = true;
      EXPECT_EQ(entry.event.reason, "known gap, vendor fix due");
      EXPECT_EQ(entry.event.object_id, "CHURN/hcps");
    }
  }
  EXPECT_TRUE(audited);
}

TEST_F(FlowTest, OutputsAreCheckedAndAFailedOutputFailsTheBuild) {
  Import("hcps", kHcps);
  ASSERT_TRUE(Apply(std::string(kTwoStepFlow) + R"(
datasets:
  top_hcps:
    checks:
      - {type: row_count, min: 3}
)")
                  .ok());
  auto build = Build();
  ASSERT_TRUE(build.ok());
  EXPECT_FALSE(build->ok);
  EXPECT_THAT(build->failure, HasSubstr("CHURN/top_hcps@v1"));
  auto top = Latest("top_hcps");
  ASSERT_TRUE(top.ok());  // stored, with its failed report
  EXPECT_FALSE(top->checks["passed"].get<bool>());
}

TEST_F(FlowTest, LineageFollowsRunsBackToTheImportAndForward) {
  const auto hcps = Import("hcps", kHcps);
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  ASSERT_TRUE(Build().ok());
  auto top = Latest("top_hcps");
  ASSERT_TRUE(top.ok());
  auto upstream = TraceLineage(*workspace_, *top, /*downstream=*/false);
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  std::vector<std::string> kinds;
  for (const auto& node : upstream->nodes) kinds.push_back(node.kind);
  EXPECT_THAT(kinds, ElementsAre("version", "run", "version", "run", "version", "source"));
  const std::string text = LineageToText(*upstream);
  EXPECT_THAT(text, HasSubstr("CHURN/top_hcps@v1"));
  EXPECT_THAT(text, HasSubstr("recipe CHURN/top@v1 (sql)"));
  EXPECT_THAT(text, HasSubstr("CHURN/hcps@v1"));
  EXPECT_THAT(text, HasSubstr("imported from "));
  EXPECT_THAT(LineageToDot(*upstream), HasSubstr("digraph lineage"));
  EXPECT_THAT(LineageToMermaid(*upstream), HasSubstr("flowchart LR"));
  EXPECT_EQ(LineageToJson(*upstream)["nodes"].size(), 6u);

  auto downstream = TraceLineage(*workspace_, hcps, /*downstream=*/true);
  ASSERT_TRUE(downstream.ok());
  EXPECT_EQ(downstream->nodes.size(), 5u);  // hcps, run, sorted, run, top
  EXPECT_THAT(LineageToText(*downstream), HasSubstr("CHURN/top_hcps@v1"));
}

TEST_F(FlowTest, ApplyIsIdempotentAndExportRoundTrips) {
  auto first = Apply(kTwoStepFlow);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->changes.size(), 2u);
  auto again = Apply(kTwoStepFlow);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changes.empty());
  auto exported = ExportFlow(*workspace_, "CHURN");
  ASSERT_TRUE(exported.ok());
  auto reapplied = Apply(FlowToYaml(*exported));
  ASSERT_TRUE(reapplied.ok()) << reapplied.status() << "\n" << FlowToYaml(*exported);
  EXPECT_TRUE(reapplied->changes.empty());

  // Dropping a recipe from the file removes it (history stays).
  auto removed = Apply(R"(
recipes:
  - name: sorted
    type: sort
    inputs: [hcps]
    outputs: [hcps_sorted]
    config: {keys: [{column: hcp_id, order: desc}]}
)");
  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(removed->changes, ElementsAre("recipe top: remove"));
  EXPECT_EQ(catalog::RecipeCatalog(*workspace_).List("CHURN")->size(), 1u);
  EXPECT_EQ(catalog::RecipeCatalog(*workspace_).History("CHURN", "top")->size(), 1u);
}

TEST_F(FlowTest, ErrorsNameTheFix) {
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  auto no_source = Build();
  EXPECT_EQ(no_source.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(no_source.status().message()),
              HasSubstr("assay dataset import CHURN/hcps"));
  EXPECT_EQ(Build({"nope"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(Build({"hcps"}).status().message()), HasSubstr("source dataset"));
  auto mismatch = ParseFlowYaml("project: OTHER\n");
  ASSERT_TRUE(mismatch.ok());
  EXPECT_THAT(std::string(ApplyFlow(*workspace_, "CHURN", *mismatch, actor_).status().message()),
              HasSubstr("for project OTHER"));
}

TEST_F(FlowTest, ShowReportsStateOfEveryNode) {
  Import("hcps", kHcps);
  ASSERT_TRUE(Apply(kTwoStepFlow).ok());
  auto before = ShowFlow(*workspace_, "CHURN");
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->recipes.size(), 2u);
  EXPECT_EQ(before->recipes[0].state, "never built");
  EXPECT_EQ(before->recipes[1].state, "blocked");
  ASSERT_TRUE(Build().ok());
  auto after = ShowFlow(*workspace_, "CHURN");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->recipes[0].state, "up to date");
  EXPECT_EQ(after->recipes[1].state, "up to date");
  Import("hcps", "hcp_id,specialty\n9,ONC\n");
  auto stale = ShowFlow(*workspace_, "CHURN");
  EXPECT_EQ(stale->recipes[0].state, "stale");
  EXPECT_THAT(stale->ToText(), HasSubstr("hcps_sorted"));
  const std::string mermaid = stale->ToMermaid();
  EXPECT_THAT(mermaid, HasSubstr("flowchart LR"));
  EXPECT_THAT(mermaid, HasSubstr("d_hcps --> r_sorted"));
  EXPECT_THAT(mermaid, HasSubstr("r_sorted --> d_hcps_sorted"));
  EXPECT_THAT(stale->ToDot(), HasSubstr("r_top -> d_top_hcps;"));
}

}  // namespace
}  // namespace assay::flow
