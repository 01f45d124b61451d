// Status-propagation macros used across graft (absl has none public).
#ifndef GRAFT_IR_STATUS_H_
#define GRAFT_IR_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GRAFT_RETURN_IF_ERROR(expr)            \
  do {                                         \
    absl::Status graft_status_ = (expr);       \
    if (!graft_status_.ok()) return graft_status_; \
  } while (0)

#define GRAFT_ASSIGN_OR_RETURN(lhs, expr)             \
  GRAFT_ASSIGN_OR_RETURN_IMPL(GRAFT_CONCAT(graft_so_, __LINE__), lhs, expr)
#define GRAFT_CONCAT_INNER(a, b) a##b
#define GRAFT_CONCAT(a, b) GRAFT_CONCAT_INNER(a, b)
#define GRAFT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(*tmp)

#endif  // GRAFT_IR_STATUS_H_
