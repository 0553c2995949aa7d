// Content-addressed object store: immutable blobs named by the SHA-256 of their bytes, kept as
// <root>/sha256/ab/cdef... (first two hex digits as a fan-out directory).
//
// Writes go to <root>/tmp/, are fsynced, and renamed into place, so a crash never leaves a
// partial object under its final name. Reads verify the hash; a mismatch is DATA_LOSS, never
// silently returned.
//
// Thread-safe: objects are immutable and every write uses its own temporary file.
#ifndef ASSAY_STORE_OBJECT_STORE_H_
#define ASSAY_STORE_OBJECT_STORE_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace assay::store {

class ObjectStore {
 public:
  // Opens (creating directories as needed) the store under `root` and removes temporary files
  // left behind by killed writers. Temporaries are named "put-<pid>-<random>@<hostname>"; one
  // is removed only when its writer is certainly gone: its host is this host and no process
  // has its PID, or (another host sharing the volume) it is older than 24 hours. A concurrent
  // writer in another live process is therefore never disturbed. Files in tmp/ that do not
  // follow the scheme are left alone. Errors: INTERNAL if the directories cannot be created.
  static absl::StatusOr<ObjectStore> Open(const std::filesystem::path& root);

  // Stores `bytes` and returns their SHA-256 (64 lowercase hex). Storing an object that
  // already exists is a no-op returning the same hash. Errors: INTERNAL on I/O failure.
  absl::StatusOr<std::string> Put(std::string_view bytes) const;

  // As Put, for bytes whose hash the caller already computed (skips hashing twice).
  // Requires `sha256_hex` to be the true hash of `bytes` (not re-checked here; Get would
  // report the object as corrupt). An existing object of a different size is replaced.
  // Errors: INVALID_ARGUMENT for a malformed hash, INTERNAL on I/O failure.
  absl::Status PutWithHash(std::string_view bytes, std::string_view sha256_hex) const;

  // The object's bytes, verified against its name. Errors: INVALID_ARGUMENT for a malformed
  // hash, NOT_FOUND if absent, DATA_LOSS if the stored bytes do not match the hash.
  absl::StatusOr<std::string> Get(std::string_view sha256_hex) const;

  // True if an object file with that name exists (not verified); false for a malformed hash.
  bool Contains(std::string_view sha256_hex) const;
  // Size in bytes. Errors: INVALID_ARGUMENT for a malformed hash, NOT_FOUND.
  absl::StatusOr<int64_t> Size(std::string_view sha256_hex) const;
  // Where the object lives (whether or not it exists); an empty path for a malformed hash, so
  // that no caller-supplied text can name a file outside the store.
  std::filesystem::path PathFor(std::string_view sha256_hex) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit ObjectStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace assay::store

#endif  // ASSAY_STORE_OBJECT_STORE_H_
