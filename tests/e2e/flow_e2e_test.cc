// End-to-end tests of the flow commands (flow apply/export/build/show, recipe, lineage) and of
// the churn reference example, driving the real binary.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_test_support.h"

namespace {

class FlowCliTest : public CliTest {};

constexpr char kFlow[] = R"(project: CHURN
datasets:
  hcps:
    checks:
      - {type: not_null, columns: [hcp_id]}
recipes:
  - name: sorted
    type: sort
    inputs: [hcps]
    outputs: [hcps_sorted]
    config: {keys: [{column: hcp_id, order: desc}]}
  - name: by_specialty
    type: sql
    inputs: [hcps_sorted]
    outputs: [specialty_counts]
    config: {query: "SELECT specialty, COUNT(*) AS n FROM hcps_sorted GROUP BY specialty ORDER BY specialty"}
)";

TEST_F(FlowCliTest, ApplyBuildMemoizeLineageAndExport) {
  InitWithProject();
  Ok({"dataset", "import", "CHURN/hcps",
      WriteFile("hcps.csv", "hcp_id,specialty\n1,ONC\n2,CARD\n3,ONC\n").string()});
  const fs::path flow = WriteFile("flow.yaml", kFlow);
  EXPECT_NE(Ok({"flow", "apply", "CHURN", flow.string()}).find("recipe sorted: create"),
            std::string::npos);
  EXPECT_NE(Ok({"flow", "apply", "CHURN", flow.string()}).find("nothing changed"),
            std::string::npos);

  const std::string plan = Ok({"flow", "build", "CHURN", "--dry-run"});
  EXPECT_NE(plan.find("never built"), std::string::npos) << plan;
  const nlohmann::json first = Json({"flow", "build", "CHURN", "specialty_counts"});
  ASSERT_EQ(first["steps"].size(), 2u);
  EXPECT_EQ(first["steps"][0]["status"], "succeeded");
  EXPECT_EQ(first["steps"][1]["status"], "succeeded");
  const nlohmann::json second = Json({"flow", "build", "CHURN"});
  EXPECT_EQ(second["steps"][0]["status"], "reused");
  EXPECT_EQ(second["steps"][1]["status"], "reused");

  const nlohmann::json counts = Json({"dataset", "head", "CHURN/specialty_counts"});
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[1]["specialty"], "ONC");
  EXPECT_EQ(counts[1]["n"], 2);

  const std::string lineage = Ok({"lineage", "CHURN/specialty_counts"});
  EXPECT_NE(lineage.find("recipe CHURN/by_specialty@v1 (sql)"), std::string::npos) << lineage;
  EXPECT_NE(lineage.find("imported from"), std::string::npos) << lineage;
  EXPECT_NE(
      Ok({"lineage", "CHURN/hcps", "--downstream", "--format", "mermaid"}).find("flowchart LR"),
      std::string::npos);
  const nlohmann::json graph =
      nlohmann::json::parse(Ok({"lineage", "CHURN/specialty_counts", "--format", "json"}));
  EXPECT_EQ(graph["nodes"].size(), 6u);
}

TEST_F(FlowCliTest, ExportAppliesBackUnchangedAndShowAndRecipeCommandsWork) {
  InitWithProject();
  Ok({"flow", "apply", "CHURN", WriteFile("flow.yaml", kFlow).string()});
  const fs::path exported = dir_ / "exported.yaml";
  Ok({"flow", "export", "CHURN", "-o", exported.string()});
  EXPECT_NE(Ok({"flow", "apply", "CHURN", exported.string()}).find("nothing changed"),
            std::string::npos);
  const std::string show = Ok({"flow", "show", "CHURN"});
  EXPECT_NE(show.find("blocked"), std::string::npos) << show;
  EXPECT_NE(Ok({"recipe", "list", "CHURN"}).find("by_specialty"), std::string::npos);
  const nlohmann::json recipe = Json({"recipe", "show", "CHURN/sorted"});
  EXPECT_EQ(recipe["type"], "sort");
  EXPECT_EQ(recipe["version"], 1);

  const fs::path config = WriteFile("config.yaml", "keys: [{column: hcp_id}]\n");
  EXPECT_NE(Ok({"recipe", "create", "CHURN/sorted", "--type", "sort", "--input", "hcps", "--output",
                "hcps_sorted", "--config", config.string()})
                .find("Stored CHURN/sorted@v2"),
            std::string::npos);
  EXPECT_EQ(Json({"recipe", "show", "CHURN/sorted", "--history"}).size(), 2u);
  const Result bad = Run({"recipe", "create", "CHURN/other", "--type", "sort", "--input", "hcps",
                          "--output", "hcps_sorted", "--config", config.string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("written by both"), std::string::npos) << bad.err;
}

TEST_F(FlowCliTest, QualityGateFailsTheBuildWithExitOneAndOverrideIsAudited) {
  InitWithProject();
  Ok({"flow", "apply", "CHURN", WriteFile("flow.yaml", kFlow).string()});
  Ok({"dataset", "import", "CHURN/hcps",
      WriteFile("hcps.csv", "hcp_id,specialty\n1,ONC\n,CARD\n").string()});
  const std::string show = Ok({"dataset", "show", "CHURN/hcps"});
  EXPECT_NE(show.find("FAILED"), std::string::npos) << show;
  const Result blocked = Run({"flow", "build", "CHURN"});
  EXPECT_EQ(blocked.exit_code, 1);
  EXPECT_NE(blocked.err.find("quality gate"), std::string::npos) << blocked.err;
  EXPECT_NE(blocked.err.find("--allow-failed-checks"), std::string::npos) << blocked.err;
  EXPECT_EQ(Run({"flow", "build", "CHURN", "--allow-failed-checks"}).exit_code, 1);
  Ok({"flow", "build", "CHURN", "--allow-failed-checks", "--reason", "ticket 42"});
  const nlohmann::json log = Json({"audit", "log", "--project", "CHURN"});
  bool found = false;
  for (const auto& entry : log) found |= entry["action"] == "quality.override";
  EXPECT_TRUE(found);
  Ok({"audit", "verify"});
}

TEST_F(FlowCliTest, KillDuringBuildLeavesWholeRunsOnly) {
  InitWithProject();
  std::string csv = "hcp_id,specialty\n";
  std::mt19937_64 rng(5);
  for (int row = 0; row < 300000; ++row) {
    csv += std::to_string(rng() % 1000000) + (row % 3 == 0 ? ",ONC\n" : ",CARD\n");
  }
  Ok({"dataset", "import", "CHURN/hcps", WriteFile("hcps.csv", csv).string()});
  Ok({"flow", "apply", "CHURN", WriteFile("flow.yaml", kFlow).string()});
  for (int delay : {5, 20, 60, 120, 250}) {
    const pid_t pid = Spawn({"--home", home_.string(), "flow", "build", "CHURN", "--force"}, dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const Result verify = Run({"audit", "verify"});
    EXPECT_EQ(verify.exit_code, 0) << "after kill at " << delay << " ms: " << verify.err;
    // Every output version that exists is complete and readable.
    for (const char* dataset : {"CHURN/hcps_sorted", "CHURN/specialty_counts"}) {
      const Result head = Run({"dataset", "head", dataset, "-n", "1"});
      if (head.exit_code != 0) {
        EXPECT_NE(head.err.find("does not exist"), std::string::npos) << head.err;
      }
    }
  }
  const nlohmann::json build = Json({"flow", "build", "CHURN"});
  EXPECT_TRUE(build["ok"].get<bool>());
  EXPECT_EQ(Json({"dataset", "versions", "CHURN/hcps_sorted"}).size(), 1u);
}

// The reference example end to end, as examples/churn/run.sh does it (smaller data).
TEST_F(FlowCliTest, ChurnExampleBuildsTheTrainingTable) {
  const fs::path example = fs::path(ASSAY_SOURCE_DIR) / "examples" / "churn";
  const fs::path data = dir_ / "data";
  const std::string generate = "/usr/bin/python3 " + (example / "generate.py").string() +
                               " --providers 400 --months 15 --seed 3 --quiet --output " +
                               data.string();
  ASSERT_EQ(std::system(generate.c_str()), 0) << generate;
  InitWithProject();
  Ok({"flow", "apply", "CHURN", (example / "flow.yaml").string()});
  const nlohmann::json hcps = Json({"dataset", "import", "CHURN/hcps", (data / "hcps.csv").string(),
                                    "--type", "npi=string", "--type", "practice_zip=string"});
  EXPECT_TRUE(hcps["checks"]["passed"].get<bool>()) << hcps["checks"].dump();
  for (const char* name : {"rx_monthly", "calls", "emails", "labels"}) {
    const nlohmann::json imported = Json({"dataset", "import", std::string("CHURN/") + name,
                                          (data / (std::string(name) + ".csv")).string()});
    EXPECT_TRUE(imported["checks"]["passed"].get<bool>()) << name << imported["checks"].dump();
  }
  const nlohmann::json build = Json({"flow", "build", "CHURN", "training"});
  ASSERT_TRUE(build["ok"].get<bool>()) << build.dump(2);
  EXPECT_EQ(build["steps"].size(), 14u);
  for (const auto& step : build["steps"]) EXPECT_EQ(step["status"], "succeeded") << step.dump();

  // One row per label, every feature present, the training table's own rules passed.
  const nlohmann::json labels = Json({"dataset", "show", "CHURN/labels"});
  const nlohmann::json training = Json({"dataset", "show", "CHURN/training"});
  EXPECT_EQ(training["rows"], labels["rows"]);
  EXPECT_TRUE(training["checks"]["passed"].get<bool>()) << training["checks"].dump();
  std::vector<std::string> columns;
  for (const auto& field : training["schema"]) columns.push_back(field["name"]);
  for (const char* feature : {"churned", "specialty", "own_trx_3m", "own_trend_3m", "own_share_3m",
                              "calls_3m", "days_since_last_call", "email_open_rate_6m"}) {
    EXPECT_NE(std::find(columns.begin(), columns.end(), feature), columns.end()) << feature;
  }

  const nlohmann::json again = Json({"flow", "build", "CHURN", "training"});
  for (const auto& step : again["steps"]) EXPECT_EQ(step["status"], "reused") << step.dump();
  const nlohmann::json lineage =
      nlohmann::json::parse(Ok({"lineage", "CHURN/training", "--format", "json"}));
  int sources = 0;
  for (const auto& node : lineage["nodes"]) sources += node["kind"] == "source";
  EXPECT_EQ(sources, 5);  // all five imported files
  Ok({"audit", "verify"});
}

}  // namespace
