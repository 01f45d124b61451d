// graft/ir/status.h's error kinds: the payload helpers, and the kinds the IR's
// readers attach at the source (callers such as graft-opt choose exit codes
// and hints from them, never from the message).
#include "graft/ir/status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "graft/ir/parser.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

constexpr ErrorKind kAllKinds[] = {
#define GRAFT_ERROR_KIND_LIST(e, s) ErrorKind::e,
    GRAFT_ERROR_KINDS(GRAFT_ERROR_KIND_LIST)
#undef GRAFT_ERROR_KIND_LIST
};

TEST(StatusTest, EveryKindRoundTripsThroughThePayload) {
  for (ErrorKind k : kAllKinds) {
    absl::Status s = WithErrorKind(absl::InvalidArgumentError("bad"), k);
    EXPECT_EQ(ErrorKindOf(s), k) << ErrorKindName(k);
    EXPECT_TRUE(HasErrorKind(s, k));
    // The kind travels beside the message, which stays as written.
    EXPECT_EQ(s.message(), "bad");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(StatusTest, KindNamesAreDistinct) {
  for (ErrorKind a : kAllKinds) {
    for (ErrorKind b : kAllKinds) {
      if (a == b) continue;
      EXPECT_NE(ErrorKindName(a), ErrorKindName(b));
    }
  }
  EXPECT_EQ(ErrorKindName(ErrorKind::kLimitExceeded), "limit_exceeded");
}

TEST(StatusTest, UntaggedAndForeignPayloadsHaveNoKind) {
  EXPECT_EQ(ErrorKindOf(absl::InvalidArgumentError("bad")), std::nullopt);
  absl::Status s = absl::InvalidArgumentError("bad");
  s.SetPayload(kErrorKindPayloadUrl, absl::Cord("no_such_kind"));
  EXPECT_EQ(ErrorKindOf(s), std::nullopt);
  EXPECT_FALSE(HasErrorKind(s, ErrorKind::kSyntax));
}

TEST(StatusTest, OkStaysOkAndUntagged) {
  absl::Status s = WithErrorKind(absl::OkStatus(), ErrorKind::kSyntax);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(ErrorKindOf(s), std::nullopt);
}

// Retagging replaces the kind: a caller that knows more (a lexer error that
// reports a nesting limit) says so.
TEST(StatusTest, TheLastKindWins) {
  absl::Status syntax = WithErrorKind(absl::InvalidArgumentError("deep"), ErrorKind::kSyntax);
  absl::Status s = WithErrorKind(syntax, ErrorKind::kLimitExceeded);
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kLimitExceeded);
}

TEST(StatusTest, WithContextKeepsCodeAndKind) {
  absl::Status inner = WithErrorKind(absl::ResourceExhaustedError("big.rules: too large"),
                                     ErrorKind::kLimitExceeded);
  absl::Status s = WithContext(inner, "main.rules:1:1: in include \"big.rules\"");
  EXPECT_EQ(s.message(), "main.rules:1:1: in include \"big.rules\": big.rules: too large");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorKindOf(s), ErrorKind::kLimitExceeded);
  EXPECT_TRUE(WithContext(absl::OkStatus(), "anywhere").ok());
}

// The graph reader: located syntax errors, unknown ops and size caps each
// carry their kind.
ErrorKind KindOfParsing(absl::string_view text) {
  auto g = ParseGraph(text, Ops(), "t.graft");
  EXPECT_FALSE(g.ok());
  if (g.ok()) return ErrorKind::kUnsupported;  // any; the expectation above failed
  std::optional<ErrorKind> k = ErrorKindOf(g.status());
  EXPECT_TRUE(k.has_value()) << g.status();
  return k.value_or(ErrorKind::kUnsupported);
}

TEST(StatusTest, GraphParserTagsItsErrors) {
  EXPECT_EQ(KindOfParsing("graph @g(%x: f32[2]) {\n  return %x\n"), ErrorKind::kSyntax);
  EXPECT_EQ(KindOfParsing("graph @g(%x: f32[2]) {\n  %y = frobnicate(%x)\n  return %y\n}\n"),
            ErrorKind::kUnknownOp);
  // One argument past Node::kMaxArgs.
  std::string args = "%x";
  for (size_t i = 0; i < Node::kMaxArgs; ++i) args += ", %x";
  EXPECT_EQ(KindOfParsing(absl::StrCat("graph @g(%x: f32[2]) {\n  %y = test::t(", args,
                                       ") : f32[2]\n  return %y\n}\n")),
            ErrorKind::kLimitExceeded);
}

}  // namespace
}  // namespace graft
