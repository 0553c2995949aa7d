// The one place that maps absl::StatusCode to process exit codes (CLI) and HTTP statuses
// (REST), so every interface reports the same failure the same way.
//
// CLI exit codes (ARCHITECTURE.md section 10): 0 success, 1 failure, 2 usage error.
// INVALID_ARGUMENT from parsing flags is a usage error only when the CLI says so; a Status
// coming back from a service is a failure (1) whatever its code.
//
// Pure functions; thread-safe.
#ifndef ASSAY_COMMON_STATUS_MAPPING_H_
#define ASSAY_COMMON_STATUS_MAPPING_H_

#include <string_view>

#include "absl/status/status.h"

namespace assay::common {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// 0 for OK, otherwise kExitFailure.
int ExitCodeFor(const absl::Status& status);

// The HTTP status for a Status: OK 200, INVALID_ARGUMENT 400, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS/ABORTED 409, FAILED_PRECONDITION 412,
// RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, others 500.
int HttpStatusFor(const absl::Status& status);

// "NOT_FOUND", "INVALID_ARGUMENT", ... (the REST error code string).
std::string_view StatusCodeName(absl::StatusCode code);

}  // namespace assay::common

#endif  // ASSAY_COMMON_STATUS_MAPPING_H_
