// Names and references of datasets (ARCHITECTURE.md section 1):
//   PROJECT/NAME                 the latest version
//   PROJECT/NAME@v3              version 3
//   PROJECT/NAME@sha256:1f2e...  the version whose hash starts with the (unique) prefix
// Project keys are upper-case identifiers (CHURN, HCP_2026); dataset names start with a letter
// and use letters, digits, '_', '-' and '.'.
//
// Pure functions and values; thread-safe.
#ifndef ASSAY_CATALOG_DATASET_REF_H_
#define ASSAY_CATALOG_DATASET_REF_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace assay::catalog {

// Errors: INVALID_ARGUMENT explaining the allowed form.
absl::Status ValidateProjectKey(std::string_view key);
absl::Status ValidateDatasetName(std::string_view name);

struct DatasetName {
  std::string project;
  std::string name;
  std::string ToString() const { return project + "/" + name; }
  bool operator==(const DatasetName&) const = default;
};

struct DatasetRef {
  enum class Kind { kLatest, kVersion, kHashPrefix };
  DatasetName dataset;
  Kind kind = Kind::kLatest;
  int64_t version = 0;      // kVersion
  std::string hash_prefix;  // kHashPrefix: 4..64 lowercase hex digits
  std::string ToString() const;
};

// Parses "PROJECT/NAME" (no version part). Errors: INVALID_ARGUMENT.
absl::StatusOr<DatasetName> ParseDatasetName(std::string_view text);
// Parses any of the three reference forms. Errors: INVALID_ARGUMENT showing the forms.
absl::StatusOr<DatasetRef> ParseDatasetRef(std::string_view text);

// "v3".
std::string VersionLabel(int64_t version);

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_DATASET_REF_H_
