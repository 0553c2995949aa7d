#include "common/files.h"

#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace assay::common {
namespace {

std::filesystem::path TempDir() {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("assay_files_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemporaries) {
  const auto dir = TempDir();
  const auto path = dir / "a.txt";
  ASSERT_TRUE(AtomicWriteFile(path, "first").ok());
  ASSERT_TRUE(AtomicWriteFile(path, "second").ok());
  EXPECT_EQ(*ReadFile(path), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  std::filesystem::remove_all(dir);
}

TEST(Files, AtomicWriteHonoursPermissions) {
  const auto dir = TempDir();
  const auto path = dir / "secret";
  ASSERT_TRUE(
      AtomicWriteFile(path, "k",
                      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
          .ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

TEST(Files, ReadMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/assay/file").status().code(), absl::StatusCode::kNotFound);
}

TEST(Files, MappedFileSeesContents) {
  const auto dir = TempDir();
  ASSERT_TRUE(AtomicWriteFile(dir / "m", "mapped bytes").ok());
  auto mapped = MappedFile::Open(dir / "m");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->view(), "mapped bytes");
  ASSERT_TRUE(AtomicWriteFile(dir / "empty", "").ok());
  auto empty = MappedFile::Open(dir / "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->view().empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace assay::common
