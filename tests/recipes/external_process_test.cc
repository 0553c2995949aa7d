#include "recipes/external_process.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace assay::recipes {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ProcessSpec Shell(const std::string& script, double timeout_seconds = 60) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = CurrentEnvironmentWith({});
  spec.timeout_seconds = timeout_seconds;
  return spec;
}

// True if `pid` is gone or a zombie waiting for its (re)parent to reap it: either way it
// no longer runs.
bool ProcessIsGone(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// SIGKILL is delivered asynchronously: the process dies when next scheduled. Waits for that
// (a process that was never signalled sleeps for 60 s, far past this wait).
bool ProcessIsDead(const std::string& pid) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (ProcessIsGone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

TEST(ExternalProcess, CapturesOutputAndExitCode) {
  auto outcome = RunProcess(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->exited);
  EXPECT_EQ(outcome->exit_code, 3);
  EXPECT_FALSE(outcome->timed_out);
  EXPECT_FALSE(outcome->succeeded());
  EXPECT_EQ(outcome->stdout_text, "out\n");
  EXPECT_EQ(outcome->stderr_text, "err\n");
}

TEST(ExternalProcess, ArgumentsAreNotInterpretedByAShell) {
  ProcessSpec spec;
  spec.argv = {"/bin/echo", "a; echo b", "$HOME"};
  auto outcome = RunProcess(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->succeeded());
  EXPECT_EQ(outcome->stdout_text, "a; echo b $HOME\n");
}

TEST(ExternalProcess, UsesEnvironmentAndWorkingDirectory) {
  test::TempDir dir;
  ProcessSpec spec = Shell("echo \"$ASSAY_X\"; pwd; read line || echo no-stdin");
  spec.env = CurrentEnvironmentWith({"ASSAY_X=hello"});
  spec.working_dir = dir.path();
  auto outcome = RunProcess(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_text, "hello\n" + dir.path().string() + "\nno-stdin\n");
}

TEST(ExternalProcess, ReportsTheSignal) {
  auto outcome = RunProcess(Shell("kill -TERM $$"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome->exited);
  EXPECT_EQ(outcome->signal, SIGTERM);
  EXPECT_EQ(DescribeSignal(SIGKILL), "signal 9 (SIGKILL)");
}

TEST(ExternalProcess, TimeoutKillsTheProcessGroup) {
  auto outcome = RunProcess(Shell("sleep 60 & echo $!; wait", /*timeout_seconds=*/0.5));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_FALSE(outcome->exited);
  EXPECT_EQ(outcome->signal, SIGKILL);
  std::string pid = outcome->stdout_text;
  ASSERT_FALSE(pid.empty());
  pid.pop_back();  // the line break
  EXPECT_TRUE(ProcessIsDead(pid)) << "the background sleep " << pid << " survived";
}

TEST(ExternalProcess, ProcessesLeftBehindDoNotKeepTheRunAlive) {
  // The shell exits at once; the sleep it started keeps stdout open. The run must end with
  // the shell and take the sleep with it.
  auto outcome = RunProcess(Shell("sleep 60 & echo $!"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->succeeded());
  std::string pid = outcome->stdout_text;
  ASSERT_FALSE(pid.empty());
  pid.pop_back();
  EXPECT_TRUE(ProcessIsDead(pid)) << "the background sleep " << pid << " survived";
}

TEST(ExternalProcess, MissingProgramIsNotFound) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/python3"};
  auto outcome = RunProcess(spec);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(outcome.status().message(), HasSubstr("/nonexistent/python3"));
  test::TempDir dir;
  const std::filesystem::path data = dir.path() / "data.txt";
  std::ofstream(data) << "not a program\n";
  std::filesystem::permissions(
      data, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  spec.argv = {data.string()};
  EXPECT_EQ(RunProcess(spec).status().code(), absl::StatusCode::kPermissionDenied);
  std::filesystem::permissions(data, std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  EXPECT_EQ(RunProcess(spec).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ExternalProcess, KeepsTheTailOfLongOutput) {
  ProcessSpec spec = Shell("i=0; while [ $i -lt 100 ]; do printf x; i=$((i+1)); done; printf END");
  spec.max_output_bytes = 10;
  auto outcome = RunProcess(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_text, "[... 93 earlier bytes dropped ...]\nxxxxxxxEND");
}

TEST(ExternalProcess, LastLines) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(LastLines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(LastLines("a\nb\nc", 5), "a\nb\nc");
  EXPECT_EQ(LastLines("", 3), "");
}

TEST(ExternalProcess, EnvironmentOverrides) {
  ::setenv("ASSAY_PROCESS_TEST_VAR", "old", 1);
  const std::vector<std::string> env = CurrentEnvironmentWith({"ASSAY_PROCESS_TEST_VAR=new"});
  int found = 0;
  for (const std::string& entry : env) {
    if (entry.rfind("ASSAY_PROCESS_TEST_VAR=", 0) == 0) {
      ++found;
      EXPECT_EQ(entry, "ASSAY_PROCESS_TEST_VAR=new");
    }
  }
  EXPECT_EQ(found, 1);
  ::unsetenv("ASSAY_PROCESS_TEST_VAR");
}

}  // namespace
}  // namespace assay::recipes
