// End-to-end tests of the `assay` command: each test runs the real binary against a scratch
// workspace, as a user would, and checks exit codes, output and the state left behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_test_support.h"
#include "tests/testing/raw_sqlite.h"
#include "tests/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

constexpr char kProviders[] =
    "hcp_id,specialty,zip,volume,first_seen,active\n"
    "1,Oncology,02134,12.5,2024-01-03,true\n"
    "2,\"Cardiology, Interventional\",10001,,2024-02-11,false\n"
    "3,\"Said \"\"hi\"\"\",94105,7.25,,true\n";

TEST_F(CliTest, InitCreatesPrivateKeysAndRefusesSecondInit) {
  Ok({"init"});
  EXPECT_TRUE(fs::exists(home_ / "assay.db"));
  EXPECT_TRUE(fs::is_directory(home_ / "objects"));
  struct stat st {};
  ASSERT_EQ(::stat((home_ / "keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((home_ / "keys" / "workspace.ed25519").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const Result again = Run({"init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(CliTest, MissingWorkspaceSaysHowToCreateOne) {
  const Result result = Run({"project", "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("assay init"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(home_ / "assay.db"));
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Run({"dataset", "import"}).exit_code, 2);
  EXPECT_EQ(Run({"no-such-noun"}).exit_code, 2);
  EXPECT_EQ(Run({}, /*with_home=*/false).exit_code, 2);
  EXPECT_EQ(Run({"--help"}, /*with_home=*/false).exit_code, 0);
}

TEST_F(CliTest, HomeComesFromEnvironmentWhenNoFlag) {
  ::setenv("ASSAY_HOME", home_.c_str(), 1);
  const Result result = Run({"init"}, /*with_home=*/false);
  ::unsetenv("ASSAY_HOME");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(home_ / "assay.db"));
}

TEST_F(CliTest, ProjectsAreCreatedOnceAndListed) {
  InitWithProject();
  const Result duplicate = Run({"project", "create", "CHURN"});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_NE(duplicate.err.find("already exists"), std::string::npos);
  const Result bad_key = Run({"project", "create", "churn"});
  EXPECT_EQ(bad_key.exit_code, 1);
  EXPECT_NE(bad_key.err.find("upper-case"), std::string::npos) << bad_key.err;
  const nlohmann::json projects = Json({"project", "list"});
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0]["key"], "CHURN");
  EXPECT_EQ(projects[0]["name"], "HCP churn");
}

TEST_F(CliTest, ImportVersionsDeduplicatesAndResolvesReferences) {
  InitWithProject();
  const fs::path csv = WriteFile("providers.csv", kProviders);
  const nlohmann::json v1 = Json({"dataset", "import", "CHURN/providers", csv.string()});
  EXPECT_EQ(v1["status"], "created");
  EXPECT_EQ(v1["version"], "v1");
  EXPECT_EQ(v1["rows"], 3);
  const std::string sha1 = v1["sha256"];

  const nlohmann::json same = Json({"dataset", "import", "CHURN/providers", csv.string()});
  EXPECT_EQ(same["status"], "unchanged");
  EXPECT_EQ(same["version"], "v1");

  const fs::path csv2 = WriteFile(
      "providers2.csv", std::string(kProviders) + "4,Oncology,60601,3.5,2024-03-01,false\n");
  const nlohmann::json v2 = Json({"dataset", "import", "CHURN/providers", csv2.string()});
  EXPECT_EQ(v2["version"], "v2");
  EXPECT_NE(v2["sha256"], sha1);

  const nlohmann::json versions = Json({"dataset", "versions", "CHURN/providers"});
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(Json({"dataset", "show", "CHURN/providers"})["version"], "v2");
  EXPECT_EQ(Json({"dataset", "show", "CHURN/providers@v1"})["sha256"], sha1);
  EXPECT_EQ(Json({"dataset", "show", "CHURN/providers@sha256:" + sha1.substr(0, 8)})["version"],
            "v1");
  const Result missing = Run({"dataset", "show", "CHURN/providers@v9"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("v1..v2"), std::string::npos) << missing.err;

  const nlohmann::json list = Json({"dataset", "list", "CHURN"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["versions"], 2);
}

TEST_F(CliTest, ShowReportsSchemaTypesAndSource) {
  InitWithProject();
  const fs::path csv = WriteFile("providers.csv", kProviders);
  Ok({"dataset", "import", "CHURN/providers", csv.string()});
  const nlohmann::json shown = Json({"dataset", "show", "CHURN/providers"});
  std::map<std::string, std::string> types;
  for (const auto& field : shown["schema"]) types[field["name"]] = field["type"];
  EXPECT_EQ(types["hcp_id"], "int64");
  EXPECT_EQ(types["specialty"], "string");
  EXPECT_EQ(types["zip"], "string");  // leading zero kept
  EXPECT_EQ(types["volume"], "float64");
  EXPECT_EQ(types["first_seen"], "date");
  EXPECT_EQ(types["active"], "bool");
  EXPECT_EQ(shown["source"]["kind"], "csv");
  EXPECT_EQ(shown["source"]["file_sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(shown["profile"]["columns"].is_array());
  const std::string text = Ok({"dataset", "show", "CHURN/providers"});
  EXPECT_NE(text.find("hcp_id"), std::string::npos);
  EXPECT_NE(text.find("CHURN/providers@v1"), std::string::npos);
}

TEST_F(CliTest, HeadAndProfileReadTheStoredVersion) {
  InitWithProject();
  Ok({"dataset", "import", "CHURN/providers", WriteFile("p.csv", kProviders).string()});
  const nlohmann::json rows = Json({"dataset", "head", "CHURN/providers", "-n", "2"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["specialty"], "Cardiology, Interventional");
  EXPECT_TRUE(rows[1]["volume"].is_null());
  EXPECT_EQ(rows[0]["zip"], "02134");
  const nlohmann::json profile = Json({"dataset", "profile", "CHURN/providers"});
  ASSERT_EQ(profile["columns"].size(), 6u);
  const nlohmann::json volume =
      Json({"dataset", "profile", "CHURN/providers", "--column", "volume"})["columns"][0];
  EXPECT_EQ(volume["nulls"], 1);
  EXPECT_EQ(volume["count"], 3);
  EXPECT_EQ(Run({"dataset", "profile", "CHURN/providers", "--column", "nope"}).exit_code, 1);
  const std::string text = Ok({"dataset", "profile", "CHURN/providers"});
  EXPECT_NE(text.find("volume (float64)"), std::string::npos) << text;
}

TEST_F(CliTest, ExportRoundTripsToTheSameVersion) {
  InitWithProject();
  Ok({"dataset", "import", "CHURN/providers", WriteFile("p.csv", kProviders).string()});
  const fs::path exported = dir_ / "exported.csv";
  Ok({"dataset", "export", "CHURN/providers@v1", "--output", exported.string()});
  const nlohmann::json again = Json({"dataset", "import", "CHURN/providers", exported.string()});
  EXPECT_EQ(again["status"], "unchanged") << Slurp(exported);
}

TEST_F(CliTest, MalformedCsvNamesLineAndColumnAndStoresNothing) {
  InitWithProject();
  const fs::path bad = WriteFile("bad.csv", "a,b\n1,2\n3,4,5\n6,7\n");
  const Result result = Run({"dataset", "import", "CHURN/bad", bad.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("line 3"), std::string::npos) << result.err;
  EXPECT_EQ(Run({"dataset", "versions", "CHURN/bad"}).exit_code, 1);

  const nlohmann::json skipped =
      Json({"dataset", "import", "CHURN/bad", bad.string(), "--on-bad-rows", "skip"});
  EXPECT_EQ(skipped["rows"], 2);
  EXPECT_EQ(skipped["skipped_rows"], 1);
  EXPECT_EQ(skipped["skipped_examples"][0]["line"], 3);
}

TEST_F(CliTest, ImportIntoMissingProjectOrFileFailsClearly) {
  Ok({"init"});
  const Result no_project =
      Run({"dataset", "import", "NOPE/x", WriteFile("p.csv", kProviders).string()});
  EXPECT_EQ(no_project.exit_code, 1);
  EXPECT_NE(no_project.err.find("project create NOPE"), std::string::npos) << no_project.err;
  Ok({"project", "create", "CHURN"});
  const Result no_file = Run({"dataset", "import", "CHURN/x", (dir_ / "missing.csv").string()});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_NE(no_file.err.find("no such file"), std::string::npos) << no_file.err;
}

TEST_F(CliTest, AuditRecordsEveryChangeAndVerifies) {
  InitWithProject();
  Ok({"dataset", "import", "CHURN/providers", WriteFile("p.csv", kProviders).string(), "--reason",
      "baseline for validation"});
  const nlohmann::json log = Json({"audit", "log"});
  std::vector<std::string> actions;
  for (const auto& entry : log) {
    actions.push_back(entry.contains("event") ? entry["event"]["action"] : entry["action"]);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"workspace.init", "project.create", "dataset.create",
                                               "dataset.import"}));
  const nlohmann::json project_log = Json({"audit", "log", "--object", "CHURN/providers@v1"});
  ASSERT_EQ(project_log.size(), 1u);
  EXPECT_NE(project_log[0].dump().find("baseline for validation"), std::string::npos);

  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
  const fs::path exported = dir_ / "audit.jsonl";
  Ok({"audit", "export", "--output", exported.string()});
  EXPECT_EQ(Run({"audit", "verify", "--file", exported.string()}).exit_code, 0);
}

TEST_F(CliTest, TamperingWithTheDatabaseIsReported) {
  InitWithProject();
  Ok({"dataset", "import", "CHURN/providers", WriteFile("p.csv", kProviders).string()});
  {
    assay::test::RawSqlite db(home_ / "assay.db");
    db.MustExec("DROP TRIGGER audit_log_no_update");
    db.MustExec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
  }
  const Result result = Run({"audit", "verify"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("seq 2"), std::string::npos) << result.out << result.err;
}

TEST_F(CliTest, ConcurrentImportsNeverDuplicateOrLoseVersions) {
  InitWithProject();
  const fs::path a = WriteFile("a.csv", kProviders);
  const fs::path b =
      WriteFile("b.csv", std::string(kProviders) + "4,Oncology,60601,3.5,2024-03-01,false\n");
  // Four processes at once: two with identical content, two with different content.
  std::vector<pid_t> pids;
  std::vector<fs::path> dirs;
  for (const fs::path& file : {a, a, b, b}) {
    dirs.push_back(dir_ / ("run" + std::to_string(dirs.size())));
    fs::create_directories(dirs.back());
    pids.push_back(
        Spawn({"--home", home_.string(), "dataset", "import", "CHURN/providers", file.string()},
              dirs.back()));
  }
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    ::waitpid(pids[i], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Slurp(dirs[i] / "stderr");
  }
  const nlohmann::json versions = Json({"dataset", "versions", "CHURN/providers"});
  ASSERT_EQ(versions.size(), 2u) << versions.dump();
  EXPECT_NE(versions[0]["sha256"], versions[1]["sha256"]);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
  const nlohmann::json imports = Json({"audit", "log", "--object", "CHURN/providers"});
  int import_entries = 0;
  for (const auto& entry : imports) {
    const auto& event = entry.contains("event") ? entry["event"] : entry;
    import_entries += event["action"] == "dataset.import";
  }
  EXPECT_EQ(import_entries, 2);
}

TEST_F(CliTest, AuditLogFiltersByProjectAndLimit) {
  InitWithProject();
  Ok({"project", "create", "OTHER"});
  Ok({"dataset", "import", "OTHER/x", WriteFile("p.csv", kProviders).string()});
  const nlohmann::json churn = Json({"audit", "log", "--project", "CHURN"});
  ASSERT_EQ(churn.size(), 1u);  // project.create only
  const nlohmann::json newest = Json({"audit", "log", "--limit", "2"});
  ASSERT_EQ(newest.size(), 2u);
  const auto& last = newest[1].contains("event") ? newest[1]["event"] : newest[1];
  EXPECT_EQ(last["action"], "dataset.import");
}

// Writes a CSV large enough that an import takes a noticeable time.
fs::path WriteBigCsv(const fs::path& dir, int rows) {
  const fs::path path = dir / "big.csv";
  std::ofstream out(path);
  out << "id,name,value,day\n";
  std::mt19937_64 rng(11);
  for (int i = 0; i < rows; ++i) {
    out << i << ",name_" << rng() % 100000 << "," << (rng() % 1000000) / 100.0 << ",2024-0"
        << 1 + rng() % 9 << "-1" << rng() % 10 << "\n";
  }
  return path;
}

TEST_F(CliTest, KillDuringImportLeavesOldStateOrNewNeverHalf) {
  InitWithProject();
  const fs::path csv = WriteBigCsv(dir_, 400000);
  // Kill the import at spread-out instants: before, during and (some runs) after the commit.
  const int delays_ms[] = {1, 5, 15, 30, 60, 100, 150, 250};
  for (int delay : delays_ms) {
    const pid_t pid =
        Spawn({"--home", home_.string(), "dataset", "import", "CHURN/big", csv.string()}, dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Whatever happened, the workspace is consistent and usable.
    const Result versions = Run({"dataset", "versions", "CHURN/big", "--json"});
    if (versions.exit_code == 0) {
      const nlohmann::json list = nlohmann::json::parse(versions.out);
      ASSERT_EQ(list.size(), 1u) << "at most one version of identical content";
      EXPECT_EQ(list[0]["rows"], 400000);
      Ok({"dataset", "head", "CHURN/big", "-n", "1"});  // its object is complete
    } else {
      EXPECT_NE(versions.err.find("does not exist"), std::string::npos) << versions.err;
    }
    const Result verify = Run({"audit", "verify"});
    EXPECT_EQ(verify.exit_code, 0)
        << "after kill at " << delay << " ms: " << verify.out << verify.err;
  }
  const nlohmann::json final_import = Json({"dataset", "import", "CHURN/big", csv.string()});
  EXPECT_EQ(final_import["version"], "v1");
  EXPECT_EQ(final_import["rows"], 400000);
}

}  // namespace
