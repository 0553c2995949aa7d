// SHA-256 digests (OpenSSL EVP) and lowercase hex encoding.
//
// Sha256 is an incremental hasher; one instance must not be shared between threads without
// external synchronization. The free functions are thread-safe.
#ifndef ASSAY_COMMON_SHA256_H_
#define ASSAY_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace assay::common {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Feeds more bytes. Requires that Finish() has not been called.
  void Update(std::string_view bytes);
  // Returns the digest of everything fed so far. The hasher cannot be used afterwards.
  Sha256Digest Finish();
  // Finish() as 64 lowercase hex characters.
  std::string FinishHex();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
std::string HexEncode(const Sha256Digest& digest);

// SHA-256 of `bytes` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view bytes);

// SHA-256 of the file at `path`, streamed. Errors: NOT_FOUND / INTERNAL from I/O.
absl::StatusOr<std::string> Sha256FileHex(const std::filesystem::path& path);

// True if `text` is exactly 64 lowercase hex characters.
bool IsSha256Hex(std::string_view text);

}  // namespace assay::common

#endif  // ASSAY_COMMON_SHA256_H_
