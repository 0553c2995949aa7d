// TempDir: a fresh directory for the running GoogleTest test, named after the suite, the test
// and the process (so parallel ctest runs never collide), removed with everything in it when
// the object goes away. Header-only; one per test, used from the test's thread.
#ifndef ASSAY_TESTS_TESTING_TEMP_DIR_H_
#define ASSAY_TESTS_TESTING_TEMP_DIR_H_

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace assay::test {

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("assay_") + info->test_suite_name() + "_" + info->name() + "_" +
                       std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized test names
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace assay::test

#endif  // ASSAY_TESTS_TESTING_TEMP_DIR_H_
