#include "store/object_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace assay::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kObjectsDir = "sha256";
constexpr std::string_view kTempDir = "tmp";
constexpr std::string_view kTempPrefix = "put-";

// A temporary file of another host cannot be checked for a live writer; one older than this is
// abandoned (no single object write takes a day).
constexpr auto kForeignTempMaxAge = std::chrono::hours(24);

absl::Status OsError(std::string_view what, const fs::path& path, int error) {
  return absl::InternalError(
      absl::StrCat(Absl(what), " ", path.string(), ": ", std::strerror(error)));
}

absl::Status CheckHash(std::string_view sha256_hex) {
  if (common::IsSha256Hex(sha256_hex)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("\"", Absl(sha256_hex),
                   "\" is not an object hash (expected 64 lowercase hexadecimal characters)"));
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

// Temporary names are "put-<pid>-<16 hex random>@<hostname>": the PID and host tell Open()
// whether the writer may still be alive; the random part keeps concurrent writers of one
// process apart.
std::string TempFileName() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t unique = rng() ^ (counter.fetch_add(1) << 48);
  return absl::StrFormat("%s%d-%016x@%s", Absl(kTempPrefix), ::getpid(), unique, HostName());
}

struct TempNameParts {
  int64_t pid = 0;
  std::string host;
};

std::optional<TempNameParts> ParseTempFileName(std::string_view name) {
  if (name.substr(0, kTempPrefix.size()) != kTempPrefix) return std::nullopt;
  name.remove_prefix(kTempPrefix.size());
  const size_t dash = name.find('-');
  const size_t at = name.find('@');
  if (dash == std::string_view::npos || at == std::string_view::npos || at < dash) {
    return std::nullopt;
  }
  TempNameParts parts;
  if (!absl::SimpleAtoi(Absl(name.substr(0, dash)), &parts.pid) || parts.pid <= 0) {
    return std::nullopt;
  }
  parts.host = std::string(name.substr(at + 1));
  return parts;
}

bool ProcessIsAlive(int64_t pid) {
  if (pid == ::getpid()) return true;
  // Signal 0 checks existence only. EPERM means it exists but belongs to another user.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

// Removes temporaries whose writer is certainly gone: a dead PID on this host, or older than
// kForeignTempMaxAge from another host. Files that do not follow the naming scheme are left
// alone. Best effort: a temporary that cannot be removed now is retried at the next Open.
void RemoveStaleTemporaries(const fs::path& temp_dir) {
  const std::string host = HostName();
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(temp_dir, error)) {
    std::optional<TempNameParts> parts = ParseTempFileName(entry.path().filename().string());
    if (!parts) continue;
    bool stale = false;
    if (parts->host == host) {
      stale = !ProcessIsAlive(parts->pid);
    } else {
      std::error_code time_error;
      const auto modified = fs::last_write_time(entry.path(), time_error);
      stale = !time_error && fs::file_time_type::clock::now() - modified > kForeignTempMaxAge;
    }
    if (stale) fs::remove(entry.path(), error);
  }
}

// Writes `bytes` to a new file at `path` and fsyncs it. Objects are immutable, so the file is
// created read-only.
absl::Status WriteNewFile(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return OsError("cannot create", path, errno);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return OsError("cannot write", path, error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return OsError("fsync failed for", path, error);
  }
  if (::close(fd) != 0) return OsError("cannot close", path, errno);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ObjectStore> ObjectStore::Open(const fs::path& root) {
  std::error_code error;
  for (std::string_view dir : {kObjectsDir, kTempDir}) {
    fs::create_directories(root / dir, error);
    if (error) {
      return absl::InternalError(absl::StrCat("cannot create object store directory ",
                                              (root / dir).string(), ": ", error.message()));
    }
  }
  RemoveStaleTemporaries(root / kTempDir);
  return ObjectStore(root);
}

fs::path ObjectStore::PathFor(std::string_view sha256_hex) const {
  // Never build a path from something that is not a hash ("../.." must not escape root).
  if (!common::IsSha256Hex(sha256_hex)) return fs::path();
  return root_ / kObjectsDir / std::string(sha256_hex.substr(0, 2)) /
         std::string(sha256_hex.substr(2));
}

absl::StatusOr<std::string> ObjectStore::Put(std::string_view bytes) const {
  std::string hash = common::Sha256Hex(bytes);
  ASSAY_RETURN_IF_ERROR(PutWithHash(bytes, hash));
  return hash;
}

absl::Status ObjectStore::PutWithHash(std::string_view bytes, std::string_view sha256_hex) const {
  ASSAY_RETURN_IF_ERROR(CheckHash(sha256_hex));
  const fs::path final_path = PathFor(sha256_hex);

  // Already stored: nothing to do. A file of the wrong size (damaged) is replaced below; a
  // same-size damaged file is caught by Get's verification.
  struct stat existing {};
  if (::stat(final_path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
      static_cast<uint64_t>(existing.st_size) == bytes.size()) {
    return absl::OkStatus();
  }

  const fs::path fan_out = final_path.parent_path();
  std::error_code error;
  const bool created = fs::create_directory(fan_out, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create directory ", fan_out.string(), ": ", error.message()));
  }
  // The new directory entry must itself survive a crash before objects are renamed into it.
  if (created) ASSAY_RETURN_IF_ERROR(common::FsyncPath(fan_out.parent_path()));

  const fs::path temp = root_ / kTempDir / TempFileName();
  absl::Status status = WriteNewFile(temp, bytes);
  // Concurrent puts of one object each rename their own complete temporary; rename replaces
  // atomically, so readers see one full copy or the other, never a mix.
  if (status.ok()) status = common::DurableRename(temp, final_path);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ObjectStore::Get(std::string_view sha256_hex) const {
  ASSAY_RETURN_IF_ERROR(CheckHash(sha256_hex));
  absl::StatusOr<std::string> bytes = common::ReadFile(PathFor(sha256_hex));
  if (!bytes.ok()) {
    if (bytes.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("object ", Absl(sha256_hex),
                                              " is not in the object store ", root_.string()));
    }
    return bytes.status();
  }
  const std::string actual = common::Sha256Hex(*bytes);
  if (actual != sha256_hex) {
    return absl::DataLossError(
        absl::StrCat("object ", Absl(sha256_hex), " is corrupt: stored bytes hash to ", actual,
                     "; restore ", PathFor(sha256_hex).string(), " from a backup"));
  }
  return bytes;
}

bool ObjectStore::Contains(std::string_view sha256_hex) const {
  if (!common::IsSha256Hex(sha256_hex)) return false;
  struct stat st {};
  return ::stat(PathFor(sha256_hex).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<int64_t> ObjectStore::Size(std::string_view sha256_hex) const {
  ASSAY_RETURN_IF_ERROR(CheckHash(sha256_hex));
  const fs::path path = PathFor(sha256_hex);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("object ", Absl(sha256_hex),
                                              " is not in the object store ", root_.string()));
    }
    return OsError("cannot stat", path, errno);
  }
  return static_cast<int64_t>(st.st_size);
}

}  // namespace assay::store
