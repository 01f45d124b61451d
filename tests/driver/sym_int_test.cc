// Tests of SymInt and the rank/dim/numel queries C++ constraints use: the
// rule-file language's meaning of unknown types, symbolic dims and checked
// arithmetic (tests/rules/equivalence_test.cc runs both spellings side by
// side).
#include "graft/rewrite/sym_int.h"

#include <cstdint>
#include <limits>

#include "graft/ir/graph.h"
#include "graft/match/state.h"
#include "gtest/gtest.h"
#include "tests/match/test_util.h"

namespace graft {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(SymIntTest, NumbersComputeAndCompareAsIntegers) {
  SymInt a(6), b(4);
  EXPECT_EQ((a + b).number(), 10);
  EXPECT_EQ((a - b).number(), 2);
  EXPECT_EQ((a * b).number(), 24);
  EXPECT_EQ((a / b).number(), 1);
  EXPECT_EQ((SymInt(-7) / 2).number(), -3);  // truncating, as C++
  EXPECT_TRUE(a == 6 && a != b && b < a && b <= a && a > b && a >= b);
  EXPECT_FALSE(a == b || a < b || a <= b);
}

TEST(SymIntTest, OverflowAndDivisionByZeroAreUnknown) {
  EXPECT_TRUE((SymInt(kMax) + 1).is_unknown());
  EXPECT_TRUE((SymInt(kMin) - 1).is_unknown());
  EXPECT_TRUE((SymInt(kMax) * 2).is_unknown());
  EXPECT_TRUE((SymInt(1) / 0).is_unknown());
  EXPECT_TRUE((SymInt(kMin) / -1).is_unknown());
  EXPECT_TRUE((SymInt::Unknown() + 1).is_unknown());
  // Every comparison with an unknown operand is false, != included: a
  // wrapped 4 * 2^62 would have equalled 0.
  SymInt wrapped = SymInt(4) * (int64_t{1} << 62);
  EXPECT_FALSE(wrapped == 0);
  EXPECT_FALSE(wrapped != 0);
  EXPECT_FALSE(wrapped < 0 || wrapped <= 0 || wrapped > 0 || wrapped >= 0);
  EXPECT_FALSE(SymInt::Unknown() == SymInt::Unknown());
}

TEST(SymIntTest, SymbolsEqualOnlyThemselvesAndHaveNoOrder) {
  SymInt s0 = SymInt::Of(Dim::Symbol("sym_int_test_s0"));
  SymInt s1 = SymInt::Of(Dim::Symbol("sym_int_test_s1"));
  EXPECT_FALSE(s0.is_unknown());
  EXPECT_EQ(s0.number(), std::nullopt);
  EXPECT_TRUE(s0 == s0);
  EXPECT_FALSE(s0 != s0);
  EXPECT_TRUE(s0 != s1);
  EXPECT_FALSE(s0 == s1);
  // A symbol is no number.
  EXPECT_TRUE(s0 != 4);
  EXPECT_FALSE(s0 == 4);
  EXPECT_FALSE(s0 < 4 || s0 <= 4 || s0 > 4 || s0 >= 4 || s0 <= s0);
  EXPECT_TRUE((s0 + 0).is_unknown());
  // The invalid dim (a negative size) is neither.
  EXPECT_TRUE(SymInt::Of(Dim(-1)).is_unknown());
  EXPECT_EQ(SymInt::Of(Dim(3)).number(), 3);
}

TEST(SymIntTest, QueriesOnBindings) {
  auto g = test_util::MustParse(R"(
graph @g(%a: f32[2, sym_int_test_n, 3], %big: f32[4611686018427387904, 4]) {
  %u = vendor::op.v1(%a) : ?
  return %u, %big
}
)");
  Var a("a"), u("u"), big("big"), unbound("unbound");
  MatchState s(*g);
  s.Bind(a.id(), test_util::Val(*g, "a"));
  s.Bind(u.id(), test_util::Val(*g, "u"));
  s.Bind(big.id(), test_util::Val(*g, "big"));

  EXPECT_EQ(rank(s, a).number(), 3);
  EXPECT_EQ(dim(s, a, 0).number(), 2);
  EXPECT_EQ(dim(s, a, -1).number(), 3);
  EXPECT_TRUE(dim(s, a, 1) == SymInt::Of(Dim::Symbol("sym_int_test_n")));
  EXPECT_TRUE(dim(s, a, 3).is_unknown());
  EXPECT_TRUE(dim(s, a, -4).is_unknown());
  EXPECT_TRUE(numel(s, a).is_unknown());    // a symbolic dim
  EXPECT_TRUE(numel(s, big).is_unknown());  // 2^64 elements
  EXPECT_FALSE(numel(s, big) * 0 == 0);  // unknown times 0 is still unknown
  // An unknown type, or nothing bound: every query is unknown.
  for (const Var& v : {u, unbound}) {
    EXPECT_TRUE(rank(s, v).is_unknown());
    EXPECT_TRUE(dim(s, v, 0).is_unknown());
    EXPECT_TRUE(numel(s, v).is_unknown());
  }
}

}  // namespace
}  // namespace graft
