// Running the real `assay` binary from tests: Spawn (with stdout/stderr captured to files) and
// the CliTest fixture (a scratch workspace per test, Run/Ok/Json helpers). Header-only, for
// the tests in tests/e2e/ (which define ASSAY_BINARY).
#ifndef ASSAY_TESTS_E2E_CLI_TEST_SUPPORT_H_
#define ASSAY_TESTS_E2E_CLI_TEST_SUPPORT_H_

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Starts `assay args...` with stdout/stderr sent to files in `dir`; returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const fs::path& dir) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open((dir / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open((dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    std::string binary = ASSAY_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<assay::test::TempDir>();
    dir_ = temp_->path();
    home_ = dir_ / "ws";
  }
  void TearDown() override { temp_.reset(); }

  // Runs assay --home <home_> args... to completion.
  Result Run(std::vector<std::string> args, bool with_home = true) {
    if (with_home) args.insert(args.begin(), {"--home", home_.string()});
    const pid_t pid = Spawn(args, dir_);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Result result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = Slurp(dir_ / "stdout");
    result.err = Slurp(dir_ / "stderr");
    return result;
  }

  // Runs and requires success; returns stdout.
  std::string Ok(std::vector<std::string> args) {
    Result result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << "stderr: " << result.err << "\nstdout: " << result.out;
    return result.out;
  }

  nlohmann::json Json(std::vector<std::string> args) {
    args.push_back("--json");
    return nlohmann::json::parse(Ok(args));
  }

  fs::path WriteFile(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  void InitWithProject() {
    Ok({"init"});
    Ok({"project", "create", "CHURN", "--name", "HCP churn"});
  }

  std::unique_ptr<assay::test::TempDir> temp_;
  fs::path dir_;
  fs::path home_;
};

}  // namespace

#endif  // ASSAY_TESTS_E2E_CLI_TEST_SUPPORT_H_
