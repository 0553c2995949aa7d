#include "catalog/dataset_ref.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::catalog {
namespace {

constexpr char kRefForms[] =
    "expected PROJECT/NAME, PROJECT/NAME@v3 or PROJECT/NAME@sha256:<hex prefix>";
constexpr size_t kMinHashPrefix = 4;

bool IsUpperOrDigitOrUnderscore(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

absl::Status ValidateProjectKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 32 && key[0] >= 'A' && key[0] <= 'Z';
  for (char c : key) ok = ok && IsUpperOrDigitOrUnderscore(c);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid project key \"", Absl(key),
                     "\": use 1-32 upper-case letters, digits or '_', starting with a letter "
                     "(e.g. CHURN)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDatasetName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128 && absl::ascii_isalpha(name[0]);
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid dataset name \"", Absl(name),
                     "\": use 1-128 letters, digits, '_', '-' or '.', starting with a letter"));
  }
  return absl::OkStatus();
}

std::string DatasetRef::ToString() const {
  switch (kind) {
    case Kind::kLatest:
      return dataset.ToString();
    case Kind::kVersion:
      return absl::StrCat(dataset.ToString(), "@", VersionLabel(version));
    case Kind::kHashPrefix:
      return absl::StrCat(dataset.ToString(), "@sha256:", hash_prefix);
  }
  return dataset.ToString();
}

absl::StatusOr<DatasetName> ParseDatasetName(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || text.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid dataset \"", Absl(text), "\": expected PROJECT/NAME"));
  }
  DatasetName name{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  ASSAY_RETURN_IF_ERROR(ValidateProjectKey(name.project));
  ASSAY_RETURN_IF_ERROR(ValidateDatasetName(name.name));
  return name;
}

absl::StatusOr<DatasetRef> ParseDatasetRef(std::string_view text) {
  DatasetRef ref;
  const size_t at = text.find('@');
  const std::string_view base = text.substr(0, at);
  auto name = ParseDatasetName(base);
  if (!name.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid dataset reference \"", Absl(text),
                                                   "\": ", name.status().message(), " (", kRefForms,
                                                   ")"));
  }
  ref.dataset = *std::move(name);
  if (at == std::string_view::npos) return ref;
  const std::string_view selector = text.substr(at + 1);
  if (selector.size() >= 2 && selector[0] == 'v') {
    int64_t version = 0;
    if (absl::SimpleAtoi(Absl(selector.substr(1)), &version) && version >= 1 &&
        absl::ascii_isdigit(selector[1])) {
      ref.kind = DatasetRef::Kind::kVersion;
      ref.version = version;
      return ref;
    }
  }
  constexpr std::string_view kHashTag = "sha256:";
  if (selector.substr(0, kHashTag.size()) == kHashTag) {
    const std::string_view prefix = selector.substr(kHashTag.size());
    bool hex = prefix.size() >= kMinHashPrefix && prefix.size() <= 64;
    for (char c : prefix) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (hex) {
      ref.kind = DatasetRef::Kind::kHashPrefix;
      ref.hash_prefix = std::string(prefix);
      return ref;
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid dataset reference \"", Absl(text),
                                                   "\": a hash prefix needs ", kMinHashPrefix,
                                                   " to 64 lowercase hex digits"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid dataset reference \"", Absl(text), "\": ", kRefForms));
}

std::string VersionLabel(int64_t version) { return absl::StrCat("v", version); }

}  // namespace assay::catalog
