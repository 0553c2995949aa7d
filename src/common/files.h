// File-system helpers with the durability rules of ARCHITECTURE.md section 4: a file is
// written to a temporary name in the same directory, fsynced, renamed over its final name,
// and the directory is fsynced, so a crash leaves either the old file or the new one.
//
// Stateless; thread-safe as long as two threads do not write the same path.
#ifndef ASSAY_COMMON_FILES_H_
#define ASSAY_COMMON_FILES_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace assay::common {

// Atomically replaces (or creates) `path` with `contents`, with the given permission bits.
// Requires the parent directory to exist. Errors: INTERNAL with the OS reason.
absl::Status AtomicWriteFile(const std::filesystem::path& path, std::string_view contents,
                             std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                            std::filesystem::perms::owner_write |
                                                            std::filesystem::perms::group_read |
                                                            std::filesystem::perms::others_read);

// Renames `from` to `to` atomically (same file system) and fsyncs the target directory.
absl::Status DurableRename(const std::filesystem::path& from, const std::filesystem::path& to);

// fsyncs a file or directory by path.
absl::Status FsyncPath(const std::filesystem::path& path);

// Reads the whole file. Errors: NOT_FOUND if it does not exist, INTERNAL on I/O failure.
absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// A read-only memory mapping of a whole file; unmapped on destruction. Empty files map to an
// empty view. Movable, not copyable.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace assay::common

#endif  // ASSAY_COMMON_FILES_H_
