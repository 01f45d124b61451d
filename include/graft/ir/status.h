// Status helpers used across graft: propagation macros (absl has none
// public) and a machine-readable error kind carried as a status payload, so
// a caller decides what to do from the kind and never from the message text.
#ifndef GRAFT_IR_STATUS_H_
#define GRAFT_IR_STATUS_H_

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace graft {

// What went wrong, for callers that react to it (graft-opt's hints, the
// Python bindings' exception types). The message stays the human account.
// One table: X(enumerator, payload spelling).
#define GRAFT_ERROR_KINDS(X)                                                     \
  X(kSyntax, "syntax")                   /* malformed text: graph, rule, type */ \
  X(kUnknownOp, "unknown_op")            /* an op name no registry knows */      \
  X(kUnsupported, "unsupported")         /* valid input graft cannot handle */   \
  X(kMissingInputTypes, "missing_input_types") /* a graph input without shape */ \
  X(kLimitExceeded, "limit_exceeded")    /* a size, depth or work cap */         \
  X(kMalformedInput, "malformed_input")  /* a file that is not what it claims */

enum class ErrorKind {
#define GRAFT_ERROR_KIND_ENUM(e, s) e,
  GRAFT_ERROR_KINDS(GRAFT_ERROR_KIND_ENUM)
#undef GRAFT_ERROR_KIND_ENUM
};

// The payload's type URL (absl::Status::SetPayload).
inline constexpr absl::string_view kErrorKindPayloadUrl = "type.graft.dev/graft.ErrorKind";

inline constexpr absl::string_view ErrorKindName(ErrorKind k) {
  switch (k) {
#define GRAFT_ERROR_KIND_NAME(e, s) \
  case ErrorKind::e:                \
    return s;
    GRAFT_ERROR_KINDS(GRAFT_ERROR_KIND_NAME)
#undef GRAFT_ERROR_KIND_NAME
  }
  return "?";
}

// `s` with `kind` attached (an OK status stays OK).
inline absl::Status WithErrorKind(absl::Status s, ErrorKind kind) {
  if (!s.ok()) s.SetPayload(kErrorKindPayloadUrl, absl::Cord(ErrorKindName(kind)));
  return s;
}

// The kind attached to `s`, if any.
inline std::optional<ErrorKind> ErrorKindOf(const absl::Status& s) {
  auto p = s.GetPayload(kErrorKindPayloadUrl);  // absl::optional<absl::Cord>
  if (!p) return std::nullopt;
#define GRAFT_ERROR_KIND_PARSE(e, str) \
  if (*p == str) return ErrorKind::e;
  GRAFT_ERROR_KINDS(GRAFT_ERROR_KIND_PARSE)
#undef GRAFT_ERROR_KIND_PARSE
  return std::nullopt;
}

inline bool HasErrorKind(const absl::Status& s, ErrorKind kind) {
  std::optional<ErrorKind> k = ErrorKindOf(s);
  return k && *k == kind;
}

// `s` with "context: " before its message, keeping its code and payloads
// (its kind): for a caller that says where an error from below happened,
// such as the include that led to a rule file's error.
inline absl::Status WithContext(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  absl::Status out(s.code(), absl::StrCat(context, ": ", s.message()));
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) { out.SetPayload(url, p); });
  return out;
}

}  // namespace graft

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
