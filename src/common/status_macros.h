// Small macros for propagating absl::Status and absl::StatusOr<T> values.
//
// ASSAY_RETURN_IF_ERROR(expr): evaluates expr (a Status); returns it from the enclosing
// function if it is not OK.
// ASSAY_ASSIGN_OR_RETURN(lhs, expr): evaluates expr (a StatusOr<T>); on error returns its
// status, otherwise move-assigns the value to lhs (which may be a declaration).
//
// Header-only, no state: thread-safe.
#ifndef ASSAY_COMMON_STATUS_MACROS_H_
#define ASSAY_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ASSAY_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status assay_status_ = (expr);         \
    if (!assay_status_.ok()) return assay_status_; \
  } while (false)

#define ASSAY_STATUS_CONCAT_INNER_(a, b) a##b
#define ASSAY_STATUS_CONCAT_(a, b) ASSAY_STATUS_CONCAT_INNER_(a, b)

#define ASSAY_ASSIGN_OR_RETURN(lhs, expr) \
  ASSAY_ASSIGN_OR_RETURN_IMPL_(ASSAY_STATUS_CONCAT_(assay_statusor_, __LINE__), lhs, expr)

#define ASSAY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // ASSAY_COMMON_STATUS_MACROS_H_
