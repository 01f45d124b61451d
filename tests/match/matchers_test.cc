// Unit tests for every matcher of graft/match/matchers.h: what each matches
// and refuses, what it binds (and leaves unbound after a failure), how it
// describes itself, and how a failed match explains itself.
#include "graft/match/matchers.h"

#include <limits>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/ir/graph.h"
#include "graft/match/state.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rewriter.h"
#include "gtest/gtest.h"
#include "tests/match/test_util.h"

namespace graft {
namespace {

namespace m = graft::match;
using match::TypeOf;
using match::VarP;
using test_util::MustParse;
using test_util::Val;

// A graph, a match state on it, and helpers to match a pattern against a
// named value from a fresh state.
class MatcherTest : public ::testing::Test {
 protected:
  void Load(absl::string_view text) {
    g_ = MustParse(text);
    s_ = std::make_unique<MatchState>(*g_);
  }
  Value* V(absl::string_view name) { return Val(*g_, name); }
  template <typename P>
  bool Matches(const P& p, absl::string_view name) {
    s_->Reset();
    return p.Match(Arg(V(name)), *s_);
  }
  template <typename P>
  bool MatchesArg(const P& p, Arg a) {
    s_->Reset();
    return p.Match(a, *s_);
  }
  // Matches with an explanation attached; returns it.
  template <typename P>
  Explanation Explain(const P& p, absl::string_view name) {
    s_->Reset();
    Explanation e;
    s_->set_explanation(&e);
    bool ok = p.Match(Arg(V(name)), *s_);
    s_->set_explanation(nullptr);
    EXPECT_FALSE(ok) << "expected " << Describe(p) << " to fail on %" << name;
    return e;
  }
  template <typename P>
  static std::string Describe(const P& p) {
    std::string out;
    p.Describe(&out);
    return out;
  }
  // Names of the ops a pattern's root can be, or {"<any>"}.
  template <typename P>
  static std::vector<std::string> Roots(const P& p) {
    std::vector<const OpDef*> ops;
    if (!p.RootOps(&ops)) return {"<any>"};
    std::vector<std::string> names;
    for (const OpDef* op : ops) names.push_back(op->name());
    return names;
  }
  MatchState& s() { return *s_; }
  const Graph& g() { return *g_; }

  std::unique_ptr<Graph> g_;
  std::unique_ptr<MatchState> s_;
};

constexpr absl::string_view kBasic = R"(
graph @basic(
    %a: f32[4, 4],
    %b: f32[4, 4],
    parameter %w: f32[4, 4] "w",
    buffer %buf: f32[4, 4] "running_mean",
    constant %c: f32[4, 4],
    %i: i64[4]) {
  %mm = aten::mm.default(%a, %b)
  %mm_ab = aten::mm.default(%a, %w)
  %clone = aten::clone.default(%a)
  %relu = aten::relu.default(%mm)
  %gelu = aten::gelu.default(%a, "tanh")
  %gelu_default = aten::gelu.default(%a)
  %add_aa = aten::add.Tensor(%a, %a)
  %add_ab = aten::add.Tensor(%a, %b)
  %view = aten::view_copy.default(%relu, [16])
  %out = aten::add.Tensor(%relu, %relu)
  return %out, %view, %mm_ab, %clone, %gelu, %gelu_default, %add_aa, %add_ab
}
)";

// ---------------------------------------------------------------------------
// Ops by name and by factory; operand sub-patterns.

TEST_F(MatcherTest, OpByFactoryAndByName) {
  Load(kBasic);
  Var x("x"), y("y");
  EXPECT_TRUE(Matches(m::mm(x, y), "mm"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_EQ(s().value(y), V("b"));
  EXPECT_TRUE(Matches(m::op("aten::mm.default", x, y), "mm"));
  EXPECT_EQ(s().value(y), V("b"));
  EXPECT_TRUE(Matches(m::op("mm", x, y), "mm"));
  EXPECT_TRUE(Matches(m::op(ops::mm(), x, y), "mm"));
  EXPECT_TRUE(Matches(m::op("aten::gelu.default", x, m::_), "gelu"));
  EXPECT_EQ(s().value(x), V("a"));
  // The wrong op, a graph input and a literal are not an mm.
  EXPECT_FALSE(Matches(m::mm(x, y), "clone"));
  EXPECT_FALSE(Matches(m::bmm(x, y), "mm"));
  EXPECT_FALSE(Matches(m::mm(x, y), "a"));
  EXPECT_FALSE(MatchesArg(m::mm(x, y), Literal::Int(3)));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
}

TEST_F(MatcherTest, OperandSubPatterns) {
  Load(kBasic);
  Var x("x"), y("y");
  EXPECT_TRUE(Matches(m::view_copy(m::relu(m::mm(x, y)), m::_), "view"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_EQ(s().value(y), V("b"));
  // Covered nodes, root first.
  ASSERT_EQ(s().matched().size(), 3u);
  EXPECT_EQ(s().matched()[0], V("view")->def());
  EXPECT_EQ(s().matched()[1], V("relu")->def());
  EXPECT_EQ(s().matched()[2], V("mm")->def());
  // A sub-pattern that fails anywhere fails the whole match.
  EXPECT_FALSE(Matches(m::view_copy(m::relu(m::bmm(x, y)), m::_), "view"));
  EXPECT_FALSE(Matches(m::view_copy(m::gelu(x), m::_), "view"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
}

// A pattern with fewer children than the node has arguments demands the
// rest be at their schema defaults; numbers compare by value.
TEST_F(MatcherTest, TrailingArgumentsMustBeDefaults) {
  Load(R"(
graph @addmm(%b: f32[3], %x: f32[2, 4], %w: f32[4, 3]) {
  %plain = aten::addmm.default(%b, %x, %w)
  %beta1 = aten::addmm.default(%b, %x, %w, 1)
  %beta1f = aten::addmm.default(%b, %x, %w, 1.0)
  %beta2 = aten::addmm.default(%b, %x, %w, 2)
  %alpha2 = aten::addmm.default(%b, %x, %w, 1, 2)
  %alpha1f = aten::addmm.default(%b, %x, %w, 1.0, 1.0)
  return %plain, %beta1, %beta1f, %beta2, %alpha2, %alpha1f
}
)");
  Var b("b"), x("x"), w("w");
  auto p = m::addmm(b, x, w);
  EXPECT_TRUE(Matches(p, "plain"));
  EXPECT_TRUE(Matches(p, "beta1"));
  EXPECT_TRUE(Matches(p, "beta1f"));
  EXPECT_TRUE(Matches(p, "alpha1f"));
  EXPECT_FALSE(Matches(p, "beta2"));
  EXPECT_FALSE(Matches(p, "alpha2"));
  EXPECT_TRUE(s().bindings().empty());

  // Naming the argument takes it out of the default check.
  EXPECT_TRUE(Matches(m::addmm(b, x, w, m::_), "beta2"));
  EXPECT_FALSE(Matches(m::addmm(b, x, w, m::_), "alpha2"));
  EXPECT_TRUE(Matches(m::addmm(b, x, w, m::i(2)), "beta2"));
  EXPECT_FALSE(Matches(m::addmm(b, x, w, m::i(2)), "beta1"));
  // A child for an argument the node left out matches the default.
  EXPECT_TRUE(Matches(m::addmm(b, x, w, m::i(1), m::i(1)), "plain"));
  EXPECT_TRUE(Matches(m::addmm(b, x, w, 1, 1), "plain"));
  EXPECT_FALSE(Matches(m::addmm(b, x, w, m::i(2)), "plain"));
  Var beta("beta");
  EXPECT_TRUE(Matches(m::addmm(b, x, w, beta), "plain"));
  EXPECT_EQ(s().literal(beta), Literal::Int(1));

  Explanation e = Explain(p, "beta2");
  EXPECT_EQ(e.where, "root");
  EXPECT_EQ(e.message,
            "addmm argument 3 (beta) is literal 2, which the pattern leaves at its default");
}

TEST_F(MatcherTest, OptionalTensorDefaultsToNone) {
  Load(R"(
graph @linear(%x: f32[2, 4], %w: f32[3, 4], %b: f32[3]) {
  %nobias = aten::linear.default(%x, %w)
  %none = aten::linear.default(%x, %w, None)
  %bias = aten::linear.default(%x, %w, %b)
  return %nobias, %none, %bias
}
)");
  Var x, w, b;
  EXPECT_TRUE(Matches(m::linear(x, w), "nobias"));
  EXPECT_TRUE(Matches(m::linear(x, w), "none"));
  EXPECT_FALSE(Matches(m::linear(x, w), "bias"));
  EXPECT_TRUE(Matches(m::linear(x, w, m::none()), "nobias"));
  EXPECT_TRUE(Matches(m::linear(x, w, m::none()), "none"));
  EXPECT_FALSE(Matches(m::linear(x, w, m::none()), "bias"));
  EXPECT_TRUE(Matches(m::linear(x, w, b), "bias"));
  EXPECT_EQ(s().value(b), V("b"));
}

// ---------------------------------------------------------------------------
// Variables.

TEST_F(MatcherTest, VariableBindsOnFirstSightAndDemandsTheSameAfter) {
  Load(kBasic);
  Var x("x");
  EXPECT_TRUE(Matches(m::add(x, x), "add_aa"));
  EXPECT_EQ(s().value(x), V("a"));
  ASSERT_EQ(s().bindings().size(), 1u);  // bound once, checked once
  EXPECT_FALSE(Matches(m::add(x, x), "add_ab"));
  EXPECT_TRUE(s().bindings().empty());
  // The same variable across sub-patterns.
  EXPECT_TRUE(Matches(m::add(m::relu(x), m::relu(x)), "out"));
  EXPECT_FALSE(Matches(m::add(m::relu(x), x), "out"));
  // Copies of a Var are the same variable; distinct Vars are not.
  Var x2 = x;
  EXPECT_TRUE(Matches(m::add(x, x2), "add_aa"));
  EXPECT_FALSE(Matches(m::add(x, x2), "add_ab"));
  Var y("y");
  EXPECT_TRUE(Matches(m::add(x, y), "add_aa"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_EQ(s().value(y), V("a"));

  Explanation e = Explain(m::add(x, x), "add_ab");
  EXPECT_EQ(e.where, "operand 1");
  EXPECT_EQ(e.message, "x is already %a (input), not %b (input)");
}

TEST_F(MatcherTest, VariableBindsLiterals) {
  Load(kBasic);
  Var x("x"), shape("shape");
  EXPECT_TRUE(Matches(m::view_copy(x, shape), "view"));
  EXPECT_EQ(s().literal(shape), Literal::Ints({16}));
  EXPECT_EQ(s().value(shape), nullptr);
  EXPECT_EQ(s()[shape], Arg(Literal::Ints({16})));
  EXPECT_EQ(s().value(x), V("relu"));
  EXPECT_EQ(s().type(x).ToString(), "f32[4, 4]");
  EXPECT_FALSE(s().type(shape).known());
}

TEST_F(MatcherTest, VarNames) {
  Var named("weight"), anon;
  EXPECT_EQ(named.name(), "weight");
  EXPECT_EQ(anon.name(), absl::StrCat("v", anon.id()));
  EXPECT_NE(named.id(), anon.id());
  Var copy = named;
  EXPECT_EQ(copy.id(), named.id());
}

// ---------------------------------------------------------------------------
// Literals and wildcards.

TEST_F(MatcherTest, LiteralsMatchExactly) {
  Load(R"(
graph @lits(%x: f32[2, 3], %y: f32[3, 2]) {
  %p10 = aten::permute_copy.default(%x, [1, 0])
  %p01 = aten::permute_copy.default(%x, [0, 1])
  %t01 = aten::transpose_copy.int(%x, 0, 1)
  %add1 = aten::add.Tensor(%x, %x, 1)
  %add1f = aten::add.Tensor(%x, %x, 1.0)
  %add2 = aten::add.Tensor(%x, %x, 2)
  %gtanh = aten::gelu.default(%x, "tanh")
  %gnone = aten::gelu.default(%x, "none")
  %sm = aten::_softmax.default(%x, 1, False)
  %cast = aten::_to_copy.default(%x, f16)
  return %p10, %p01, %t01, %add1, %add1f, %add2, %gtanh, %gnone, %sm, %cast
}
)");
  Var x;
  EXPECT_TRUE(Matches(m::permute_copy(x, m::ints({1, 0})), "p10"));
  EXPECT_FALSE(Matches(m::permute_copy(x, m::ints({1, 0})), "p01"));
  EXPECT_FALSE(Matches(m::permute_copy(x, m::ints({1})), "p10"));
  const int64_t dims[] = {0, 1};
  EXPECT_TRUE(Matches(m::permute_copy(x, m::ints(absl::MakeConstSpan(dims))), "p01"));
  EXPECT_TRUE(Matches(m::transpose_copy(x, m::i(0), m::i(1)), "t01"));
  EXPECT_TRUE(Matches(m::transpose_copy(x, 0, 1), "t01"));
  EXPECT_FALSE(Matches(m::transpose_copy(x, 1, 0), "t01"));
  // Exact: an int literal is not the float of the same value.
  EXPECT_TRUE(Matches(m::add(x, x, m::i(1)), "add1"));
  EXPECT_FALSE(Matches(m::add(x, x, m::i(1)), "add1f"));
  EXPECT_TRUE(Matches(m::add(x, x, m::f(1.0)), "add1f"));
  EXPECT_FALSE(Matches(m::add(x, x, m::f(1.0)), "add1"));
  EXPECT_TRUE(Matches(m::add(x, x, 1.0), "add1f"));
  EXPECT_FALSE(Matches(m::add(x, x, m::i(1)), "add2"));
  EXPECT_TRUE(Matches(m::add(x, x, m::lit(Literal::Int(2))), "add2"));
  EXPECT_TRUE(Matches(m::gelu(x, m::lit(Literal::String("tanh"))), "gtanh"));
  EXPECT_FALSE(Matches(m::gelu(x, m::lit(Literal::String("tanh"))), "gnone"));
  EXPECT_TRUE(Matches(m::_softmax(x, 1, false), "sm"));
  EXPECT_FALSE(Matches(m::_softmax(x, 1, true), "sm"));
  EXPECT_FALSE(Matches(m::_softmax(x, -1, false), "sm"));
  EXPECT_TRUE(Matches(m::_to_copy(x, DType::kFloat16), "cast"));
  EXPECT_FALSE(Matches(m::_to_copy(x, DType::kFloat32), "cast"));
  // A literal pattern does not match a value, nor None a value.
  EXPECT_FALSE(MatchesArg(m::i(1), Arg(V("x"))));
  EXPECT_FALSE(MatchesArg(m::none(), Arg(V("x"))));
  EXPECT_TRUE(MatchesArg(m::none(), Literal::None()));

  Explanation e = Explain(m::permute_copy(x, m::ints({1, 0})), "p01");
  EXPECT_EQ(e.where, "operand 1");
  EXPECT_EQ(e.message, "expected [1, 0], got literal [0, 1]");
}

TEST_F(MatcherTest, WildcardsMatchAnythingAndBindNothing) {
  Load(kBasic);
  EXPECT_TRUE(Matches(m::_, "a"));
  EXPECT_TRUE(Matches(m::any(), "mm"));
  EXPECT_TRUE(MatchesArg(m::_, Literal::Ints({1, 2})));
  EXPECT_TRUE(Matches(m::view_copy(m::_, m::_), "view"));
  EXPECT_TRUE(Matches(m::mm(m::_, m::_), "mm"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_EQ(s().matched().size(), 1u);
  // A wildcard stands for one argument: mm takes exactly two.
  EXPECT_FALSE(Matches(m::mm(m::_, m::_, m::_), "mm"));
}

// ---------------------------------------------------------------------------
// Graph inputs by kind.

TEST_F(MatcherTest, InputsByKind) {
  Load(kBasic);
  Var W("W");
  struct Case {
    const char* value;
    bool constant, param, buffer, input;
  };
  const Case cases[] = {
      {"a", false, false, false, true},   {"w", true, true, false, false},
      {"buf", true, false, true, false},  {"c", true, false, false, false},
      {"mm", false, false, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(Matches(m::constant(W), c.value), c.constant);
    EXPECT_EQ(Matches(m::param(W), c.value), c.param);
    EXPECT_EQ(Matches(m::buffer(W), c.value), c.buffer);
    EXPECT_EQ(Matches(m::input(W), c.value), c.input);
  }
  EXPECT_TRUE(Matches(m::param(W), "w"));
  EXPECT_EQ(s().value(W), V("w"));
  EXPECT_FALSE(Matches(m::buffer(W), "w"));
  EXPECT_TRUE(s().bindings().empty());
  // Inner patterns apply to the input too.
  EXPECT_TRUE(Matches(m::constant(m::has_rank(W, 2)), "w"));
  EXPECT_FALSE(Matches(m::constant(m::has_rank(W, 1)), "w"));
  // A literal is no input.
  EXPECT_FALSE(MatchesArg(m::constant(m::_), Literal::Int(0)));

  EXPECT_EQ(Explain(m::param(W), "buf").message,
            "expected a parameter, got %buf (buffer)");
  EXPECT_EQ(Explain(m::buffer(W), "w").message, "expected a buffer, got %w (parameter)");
  EXPECT_EQ(Explain(m::constant(W), "a").message,
            "expected a parameter, buffer or constant, got %a (input)");
  EXPECT_EQ(Explain(m::input(W), "mm").message,
            "expected an input, got %mm = aten::mm.default");
}

// ---------------------------------------------------------------------------
// Type predicates and one_use.

TEST_F(MatcherTest, DTypeRankShapePredicates) {
  Load(R"(
graph @types(%x: f32[2, 3], %h: f16[2, 3], %v: f32[6], %s: f32[s0, 3], %i: i64[2, 3]) {
  %r = aten::relu.default(%x)
  return %r
}
)");
  Var x("x");
  EXPECT_TRUE(Matches(m::has_dtype(x, DType::kFloat32), "x"));
  EXPECT_FALSE(Matches(m::has_dtype(x, DType::kFloat32), "h"));
  EXPECT_FALSE(Matches(m::has_dtype(x, DType::kFloat32), "i"));
  EXPECT_TRUE(Matches(m::has_dtype(x, DType::kInt64), "i"));
  EXPECT_TRUE(Matches(m::has_rank(x, 2), "x"));
  EXPECT_TRUE(Matches(m::has_rank(x, 2), "s"));
  EXPECT_FALSE(Matches(m::has_rank(x, 2), "v"));
  EXPECT_TRUE(Matches(m::has_rank(x, 1), "v"));
  EXPECT_TRUE(Matches(m::has_shape(x, {2, 3}), "x"));
  EXPECT_TRUE(Matches(m::has_shape(x, {2, 3}), "h"));
  EXPECT_FALSE(Matches(m::has_shape(x, {3, 2}), "x"));
  EXPECT_FALSE(Matches(m::has_shape(x, {6}), "x"));
  EXPECT_FALSE(Matches(m::has_shape(x, {2, 3}), "s"));
  EXPECT_TRUE(Matches(m::has_shape(x, {Dim::Symbol("s0"), 3}), "s"));
  EXPECT_FALSE(Matches(m::has_shape(x, {Dim::Symbol("s1"), 3}), "s"));
  // On an op's result; and no predicate holds on a literal.
  EXPECT_TRUE(Matches(m::has_shape(m::relu(x), {2, 3}), "r"));
  EXPECT_FALSE(MatchesArg(m::has_rank(m::_, 0), Literal::Int(1)));
  // A failed predicate unbinds what its pattern bound.
  EXPECT_FALSE(Matches(m::has_dtype(x, DType::kFloat16), "x"));
  EXPECT_TRUE(s().bindings().empty());

  EXPECT_EQ(Explain(m::has_rank(x, 2), "v").message, "%v (input) fails 'rank == 2'");
  EXPECT_EQ(Explain(m::has_dtype(x, DType::kFloat32), "h").message,
            "%h (input) fails 'dtype == f32'");
  EXPECT_EQ(Explain(m::has_shape(x, {3, 2}), "x").message,
            "%x (input) fails 'shape == [3, 2]'");
}

TEST_F(MatcherTest, OneUse) {
  Load(R"(
graph @uses(%x: f32[2, 3]) {
  %once = aten::relu.default(%x)
  %twice = aten::relu.default(%x)
  %unused = aten::relu.default(%x)
  %a = aten::gelu.default(%once)
  %b = aten::add.Tensor(%twice, %twice)
  %out = aten::add.Tensor(%a, %b)
  return %out, %out
}
)");
  Var x;
  EXPECT_TRUE(Matches(m::one_use(x), "once"));
  EXPECT_FALSE(Matches(m::one_use(x), "twice"));  // two uses by one node
  EXPECT_FALSE(Matches(m::one_use(x), "unused"));
  EXPECT_FALSE(Matches(m::one_use(x), "x"));      // three users
  EXPECT_FALSE(Matches(m::one_use(x), "out"));    // two graph outputs
  EXPECT_TRUE(Matches(m::one_use(m::relu(x)), "once"));
  EXPECT_TRUE(Matches(m::gelu(m::one_use(m::relu(x))), "a"));
  EXPECT_FALSE(Matches(m::add(m::one_use(m::relu(x)), m::_), "b"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
}

// ---------------------------------------------------------------------------
// Alternatives, user predicates, bind.

TEST_F(MatcherTest, Alternatives) {
  Load(kBasic);
  Var x("x"), y("y");
  auto act = m::relu(x) | m::gelu(x, m::_);
  EXPECT_TRUE(Matches(act, "relu"));
  EXPECT_EQ(s().value(x), V("mm"));
  EXPECT_TRUE(Matches(act, "gelu"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_FALSE(Matches(act, "mm"));
  // The first alternative that matches wins.
  auto either = m::mm(x, m::param(y)) | m::mm(x, y);
  EXPECT_TRUE(Matches(either, "mm_ab"));
  EXPECT_EQ(s().value(y), V("w"));
  EXPECT_EQ(s().bindings().size(), 2u);
  EXPECT_TRUE(Matches(either, "mm"));
  EXPECT_EQ(s().value(y), V("b"));
  // Three-way alternatives, numbers lifted to literals.
  auto dims = m::permute_copy(x, m::ints({1, 0}) | m::ints({0, 1}) | m::ints({2, 0, 1}));
  Load(R"(
graph @perm(%x: f32[2, 3], %y: f32[2, 3, 4]) {
  %p10 = aten::permute_copy.default(%x, [1, 0])
  %p01 = aten::permute_copy.default(%x, [0, 1])
  %p201 = aten::permute_copy.default(%y, [2, 0, 1])
  %p120 = aten::permute_copy.default(%y, [1, 2, 0])
  return %p10, %p01, %p201, %p120
}
)");
  EXPECT_TRUE(Matches(dims, "p10"));
  EXPECT_TRUE(Matches(dims, "p01"));
  EXPECT_TRUE(Matches(dims, "p201"));
  EXPECT_FALSE(Matches(dims, "p120"));
  EXPECT_TRUE(MatchesArg(m::i(1) | 2, Literal::Int(2)));
  EXPECT_FALSE(MatchesArg(m::i(1) | 2, Literal::Int(3)));
}

// A failed alternative leaves nothing bound and nothing covered, so a
// later alternative can bind the same variable afresh.
TEST_F(MatcherTest, FailedAlternativeRollsBackItsBindings) {
  Load(kBasic);
  Var x("x"), y("y"), z("z");
  // Branch 1 binds x = %a and y = %b, then fails on a constraint on y.
  auto p = m::mm(x, m::param(y)) | m::mm(y, x);
  ASSERT_TRUE(Matches(p, "mm"));
  ASSERT_EQ(s().bindings().size(), 2u);
  EXPECT_EQ(s().value(y), V("a"));
  EXPECT_EQ(s().value(x), V("b"));
  EXPECT_EQ(s().matched().size(), 1u);
  // Branch 1 fails deep (relu(mm(...)) is not relu(clone(...))): nothing of
  // it survives into branch 2.
  auto q = m::relu(m::clone(z)) | m::relu(x);
  ASSERT_TRUE(Matches(q, "relu"));
  ASSERT_EQ(s().bindings().size(), 1u);
  EXPECT_EQ(s().bindings()[0].first, x.id());
  EXPECT_TRUE(s()[z].is_null());
  EXPECT_EQ(s().matched().size(), 1u);
  // Both branches fail: nothing at all.
  auto r = m::add(x, m::mm(y, z)) | m::add(m::relu(x), y);
  EXPECT_FALSE(Matches(r, "add_ab"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
  // An alternative inside a commutative op: x is bound in each order, the
  // alternative fails in each, and neither order leaves anything.
  auto t = m::add(x, m::relu(y) | m::clone(y));
  s().Reset();
  EXPECT_FALSE(t.Match(Arg(V("add_ab")), s()));
  EXPECT_TRUE(s().bindings().empty());
}

TEST_F(MatcherTest, UserPredicates) {
  Load(kBasic);
  Var x("x"), y("y");
  // A predicate on the matched argument.
  auto sq = m::where(
      x,
      [](Arg a, const MatchState&) {
        TensorType t = TypeOf(a);
        return t.known() && t.rank() == 2 && t.dim(0) == t.dim(1);
      },
      "square");
  EXPECT_TRUE(Matches(sq, "a"));
  EXPECT_FALSE(Matches(sq, "view"));
  EXPECT_TRUE(s().bindings().empty());
  // A predicate on captured values: y has the type of x.
  auto same_type = m::add(x, m::where(
                                 y,
                                 [x](Arg a, const MatchState& s) {
                                   return TypeOf(a) == s.type(x);
                                 },
                                 "same type as x"));
  EXPECT_TRUE(Matches(same_type, "add_ab"));
  // A predicate that reads which value x is.
  auto not_a = m::mm(m::where(x, [this](Arg a, const MatchState&) { return a.value() != V("a"); }), y);
  EXPECT_FALSE(Matches(not_a, "mm"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_EQ(Describe(sq), "x where square");
  EXPECT_EQ(Describe(m::where(x, [](Arg, const MatchState&) { return true; })),
            "x where predicate");
  Explanation e = Explain(not_a, "mm");
  EXPECT_EQ(e.where, "operand 0");
  EXPECT_EQ(e.message, "%a (input) fails 'predicate'");
}

TEST_F(MatcherTest, Bind) {
  Load(kBasic);
  Var x("x"), r("r");
  auto p = m::view_copy(m::bind(r, m::relu(x)), m::_);
  EXPECT_TRUE(Matches(p, "view"));
  EXPECT_EQ(s().value(r), V("relu"));
  EXPECT_EQ(s().value(x), V("mm"));
  EXPECT_EQ(Describe(p), "view_copy(r@(relu(x)), _)");
  EXPECT_EQ(p.OpCount(), 2);
  // Bound twice: the same node both times.
  EXPECT_TRUE(Matches(m::add(m::bind(r, m::relu(x)), r), "out"));
  EXPECT_FALSE(Matches(m::add(r, m::bind(r, m::relu(x))), "add_ab"));
  // A bind whose pattern fails binds nothing, nor what its pattern bound.
  EXPECT_FALSE(Matches(m::bind(r, m::relu(m::clone(x))), "relu"));
  EXPECT_TRUE(s().bindings().empty());
  // A bind whose variable disagrees unbinds its pattern's captures too.
  s().Reset();
  s().Bind(r.id(), Arg(V("a")));
  EXPECT_FALSE(m::bind(r, m::relu(x)).Match(Arg(V("relu")), s()));
  ASSERT_EQ(s().bindings().size(), 1u);
  EXPECT_EQ(s().value(r), V("a"));
  EXPECT_TRUE(s()[x].is_null());
}

// ---------------------------------------------------------------------------
// Commutativity.

constexpr absl::string_view kCommute = R"(
graph @commute(%a: f32[4, 4], %b: f32[4, 4], %c: f32[4, 4]) {
  %mm1 = aten::mm.default(%a, %b)
  %mm2 = aten::mm.default(%b, %c)
  %r = aten::relu.default(%a)
  %add_mb = aten::add.Tensor(%mm1, %c)
  %add_bm = aten::add.Tensor(%c, %mm1)
  %add_bm_alpha2 = aten::add.Tensor(%c, %mm1, 2)
  %add_bm_alpha1 = aten::add.Tensor(%c, %mm1, 1)
  %add_bm_alpha1f = aten::add.Tensor(%c, %mm1, 1.0)
  %add_mm = aten::add.Tensor(%mm1, %mm2)
  %mul_bm = aten::mul.Tensor(%c, %mm1)
  %mul_mm = aten::mul.Tensor(%mm1, %mm2)
  %sub_bm = aten::sub.Tensor(%c, %mm1)
  %sub_mb = aten::sub.Tensor(%mm1, %c)
  %add_ra = aten::add.Tensor(%r, %a)
  %add_ar = aten::add.Tensor(%a, %r)
  return %add_mb, %add_bm, %add_bm_alpha2, %add_bm_alpha1, %add_bm_alpha1f, %add_mm, %mul_bm, %mul_mm, %sub_bm, %sub_mb, %add_ra, %add_ar
}
)";

TEST_F(MatcherTest, CommutativeOpsMatchEitherOperandOrder) {
  Load(kCommute);
  Var x("x"), y("y"), b("b");
  auto p = m::add(m::mm(x, y), b);
  EXPECT_TRUE(Matches(p, "add_mb"));
  EXPECT_EQ(s().value(b), V("c"));
  EXPECT_TRUE(Matches(p, "add_bm"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_EQ(s().value(y), V("b"));
  EXPECT_EQ(s().value(b), V("c"));
  EXPECT_EQ(s().bindings().size(), 3u);
  EXPECT_EQ(s().matched().size(), 2u);
  // alpha at its default, spelled or not, still commutes.
  EXPECT_TRUE(Matches(m::add(m::mm(x, y), b, m::_), "add_bm_alpha1"));
  EXPECT_TRUE(Matches(p, "add_bm_alpha1"));
  EXPECT_TRUE(Matches(p, "add_bm_alpha1f"));
  // mul commutes; sub does not.
  EXPECT_TRUE(Matches(m::mul(m::mm(x, y), b), "mul_bm"));
  EXPECT_EQ(s().value(b), V("c"));
  EXPECT_TRUE(Matches(m::sub(m::mm(x, y), b), "sub_mb"));
  EXPECT_FALSE(Matches(m::sub(m::mm(x, y), b), "sub_bm"));
  EXPECT_TRUE(Matches(m::sub(b, m::mm(x, y)), "sub_bm"));
  // mm is not commutative either.
  EXPECT_FALSE(Matches(m::mm(m::_, m::relu(m::_)), "mm1"));
}

TEST_F(MatcherTest, NoCommutingWhenAlphaIsNotOne) {
  Load(kCommute);
  Var x("x"), y("y"), b("b"), alpha("alpha");
  // The two-child pattern wants alpha at its default anyway.
  EXPECT_FALSE(Matches(m::add(m::mm(x, y), b), "add_bm_alpha2"));
  // Naming alpha: the operands must come in the written order.
  EXPECT_FALSE(Matches(m::add(m::mm(x, y), b, alpha), "add_bm_alpha2"));
  EXPECT_FALSE(Matches(m::add(m::mm(x, y), b, m::i(2)), "add_bm_alpha2"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(Matches(m::add(b, m::mm(x, y), alpha), "add_bm_alpha2"));
  EXPECT_EQ(s().literal(alpha), Literal::Int(2));
}

// Left-hand order is tried first: when both orders match, the bindings are
// those of the written order.
TEST_F(MatcherTest, WrittenOrderWinsWhenBothOrdersMatch) {
  Load(kCommute);
  Var x("x"), y("y"), b("b");
  ASSERT_TRUE(Matches(m::add(m::mm(x, y), b), "add_mm"));
  EXPECT_EQ(s().value(x), V("a"));  // mm1 = mm(a, b) as the mm operand
  EXPECT_EQ(s().value(y), V("b"));
  EXPECT_EQ(s().value(b), V("mm2"));
  ASSERT_TRUE(Matches(m::mul(m::mm(x, y), b), "mul_mm"));
  EXPECT_EQ(s().value(x), V("a"));
  EXPECT_EQ(s().value(b), V("mm2"));
  ASSERT_TRUE(Matches(m::add(b, m::mm(x, y)), "add_mm"));
  EXPECT_EQ(s().value(b), V("mm1"));
  EXPECT_EQ(s().value(x), V("b"));
  EXPECT_EQ(s().value(y), V("c"));
  // Plain variables: x is operand 0.
  ASSERT_TRUE(Matches(m::add(x, y), "add_ra"));
  EXPECT_EQ(s().value(x), V("r"));
  EXPECT_EQ(s().value(y), V("a"));
}

// A failed written-order attempt leaves no binding behind for the swapped
// attempt, nor after a failed swap.
TEST_F(MatcherTest, FailedCommutedAttemptRollsBack) {
  Load(kCommute);
  Var x("x"), y("y");
  // add(relu(a), a): the written order binds x = %r, then fails (%a is no
  // relu); the swapped attempt must start without that binding, or relu(x)
  // would demand relu(%r).
  ASSERT_TRUE(Matches(m::add(x, m::relu(x)), "add_ra"));
  ASSERT_EQ(s().bindings().size(), 1u);
  EXPECT_EQ(s().value(x), V("a"));
  ASSERT_EQ(s().matched().size(), 2u);
  EXPECT_EQ(s().matched()[0], V("add_ra")->def());
  EXPECT_EQ(s().matched()[1], V("r")->def());
  ASSERT_TRUE(Matches(m::add(x, m::relu(x)), "add_ar"));
  EXPECT_EQ(s().value(x), V("a"));
  // Both orders fail: nothing stays bound or covered.
  EXPECT_FALSE(Matches(m::add(x, m::relu(y)), "add_mb"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
  EXPECT_FALSE(Matches(m::add(m::mm(x, x), y), "add_bm"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());
}

// ---------------------------------------------------------------------------
// Transposes.

constexpr absl::string_view kTransposes = R"(
graph @transposes(parameter %w: f32[3, 5], %x: f32[3, 5], %y: f32[2, 3, 5], %v: f32[5], %c: c64[3, 5]) {
  %permute_10 = aten::permute_copy.default(%w, [1, 0])
  %permute_m1m2 = aten::permute_copy.default(%w, [-1, -2])
  %permute_m10 = aten::permute_copy.default(%w, [-1, 0])
  %t_copy = aten::t_copy.default(%w)
  %transpose_01 = aten::transpose_copy.int(%w, 0, 1)
  %transpose_10 = aten::transpose_copy.int(%w, 1, 0)
  %transpose_m1m2 = aten::transpose_copy.int(%w, -1, -2)
  %transpose_0m1 = aten::transpose_copy.int(%w, 0, -1)
  %ts_t = aten::t.default(%w)
  %ts_transpose = aten::transpose.int(%w, 0, 1)
  %ts_permute = aten::permute.default(%w, [1, 0])
  %x_t = aten::t_copy.default(%x)
  %numpy_T = aten::numpy_T.default(%w) : f32[5, 3]
  %mT = aten::mT.default(%w) : f32[5, 3]
  %mH = aten::mH.default(%w) : f32[5, 3]
  %adjoint = aten::adjoint.default(%w) : f32[5, 3]
  %matrix_H = aten::matrix_H.default(%w) : f32[5, 3]
  %swapaxes = aten::swapaxes.default(%w, 0, 1) : f32[5, 3]
  %swapdims_m = aten::swapdims.default(%w, -1, 0) : f32[5, 3]
  %movedim = aten::movedim.int(%w, 0, 1) : f32[5, 3]
  %moveaxis = aten::moveaxis.int(%w, 1, 0) : f32[5, 3]
  %no_mH_complex = aten::mH.default(%c) : c64[5, 3]
  %no_mT3 = aten::mT.default(%y) : f32[2, 5, 3]
  %no_numpy_T3 = aten::numpy_T.default(%y) : f32[5, 3, 2]
  %no_movedim_00 = aten::movedim.int(%w, 0, 0) : f32[3, 5]
  %no_swapaxes3 = aten::swapaxes.default(%y, 0, 1) : f32[3, 2, 5]
  %no_permute_01 = aten::permute_copy.default(%w, [0, 1])
  %no_transpose_00 = aten::transpose_copy.int(%w, 0, 0)
  %no_transpose_11 = aten::transpose_copy.int(%w, 1, 1)
  %no_transpose_m1m1 = aten::transpose_copy.int(%w, -1, -1)
  %no_ts_permute_01 = aten::permute.default(%w, [0, 1])
  %no_permute3 = aten::permute_copy.default(%y, [0, 2, 1])
  %no_permute3_last = aten::permute_copy.default(%y, [0, -1, -2])
  %no_transpose3_12 = aten::transpose_copy.int(%y, 1, 2)
  %no_transpose3_01 = aten::transpose_copy.int(%y, 0, 1)
  %no_transpose3_m1m2 = aten::transpose_copy.int(%y, -1, -2)
  %no_ts_transpose3 = aten::transpose.int(%y, 0, 1)
  %no_t1 = aten::t_copy.default(%v)
  %no_clone = aten::clone.default(%w)
  return %permute_10, %permute_m1m2, %permute_m10, %t_copy, %transpose_01, %transpose_10, %transpose_m1m2, %transpose_0m1, %ts_t, %ts_transpose, %ts_permute, %x_t, %numpy_T, %mT, %mH, %adjoint, %matrix_H, %swapaxes, %swapdims_m, %movedim, %moveaxis, %no_mH_complex, %no_mT3, %no_numpy_T3, %no_movedim_00, %no_swapaxes3, %no_permute_01, %no_transpose_00, %no_transpose_11, %no_transpose_m1m1, %no_ts_permute_01, %no_permute3, %no_permute3_last, %no_transpose3_12, %no_transpose3_01, %no_transpose3_m1m2, %no_ts_transpose3, %no_t1, %no_clone
}
)";

TEST_F(MatcherTest, TransposeMatchesEverySpelling) {
  Load(kTransposes);
  Var W("W");
  auto p = m::transpose(W);
  for (const char* name :
       {"permute_10", "permute_m1m2", "permute_m10", "t_copy", "transpose_01", "transpose_10",
        "transpose_m1m2", "transpose_0m1", "ts_t", "ts_transpose", "ts_permute", "numpy_T", "mT",
        "mH", "adjoint", "matrix_H", "swapaxes", "swapdims_m", "movedim", "moveaxis"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(Matches(p, name));
    EXPECT_EQ(s().value(W), V("w"));
    ASSERT_EQ(s().matched().size(), 1u);
    EXPECT_EQ(s().matched()[0], V(name)->def());
  }
  EXPECT_TRUE(Matches(p, "x_t"));
  EXPECT_EQ(s().value(W), V("x"));
}

TEST_F(MatcherTest, TransposeRefusesOtherPermutations) {
  Load(kTransposes);
  Var W("W");
  for (const char* name :
       {"no_permute_01", "no_transpose_00", "no_transpose_11", "no_transpose_m1m1",
        "no_ts_permute_01", "no_permute3", "no_permute3_last", "no_transpose3_12",
        "no_transpose3_01", "no_transpose3_m1m2", "no_ts_transpose3", "no_t1", "no_clone", "w",
        "no_mH_complex", "no_mT3", "no_numpy_T3", "no_movedim_00", "no_swapaxes3"}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(Matches(m::transpose(W), name));
    EXPECT_TRUE(s().bindings().empty());
    EXPECT_TRUE(s().matched().empty());
  }
  // The inner pattern must match the transposed value too.
  EXPECT_TRUE(Matches(m::transpose(m::constant(W)), "t_copy"));
  EXPECT_FALSE(Matches(m::transpose(m::constant(W)), "x_t"));
  EXPECT_TRUE(s().bindings().empty());
  EXPECT_TRUE(s().matched().empty());

  EXPECT_EQ(Explain(m::transpose(W), "no_clone").message,
            "expected a 2-D transpose, got %no_clone = aten::clone.default");
  EXPECT_EQ(Explain(m::transpose(W), "w").message,
            "expected a 2-D transpose, got %w (parameter)");
  Explanation e = Explain(m::transpose(m::constant(W)), "x_t");
  EXPECT_EQ(e.where, "operand 0");
  EXPECT_EQ(e.message, "expected a parameter, buffer or constant, got %x (input)");
}

// On a partial type a spelling is a 2-D transpose only when it says the
// rank itself (permute's 2-element dims) or the operand's rank is known:
// `t` of a vector is the vector, `transpose(0, 1)` of a rank-3 tensor no
// 2-D transpose. Unknown dims do not matter; a conjugating spelling needs
// the dtype.
TEST_F(MatcherTest, TransposeOnPartialTypesNeedsTheRankUnlessTheSpellingSaysIt) {
  // Result types given: some of these ops have no shape function.
  Load(R"(
graph @g(%u: ?, %r2: ?[?, ?], %f: f32[*], %c: c64[?, 3]) {
  %permute = aten::permute.default(%u, [1, 0]) : ?
  %permute_m = aten::permute_copy.default(%u, [-1, -2]) : ?
  %no_permute3 = aten::permute.default(%u, [1, 0, 2]) : ?
  %no_t = aten::t.default(%u) : ?
  %no_transpose = aten::transpose.int(%f, 0, 1) : ?
  %no_numpy_T = aten::numpy_T.default(%u) : ?
  %t_r2 = aten::t.default(%r2) : ?
  %transpose_r2 = aten::transpose.int(%r2, -1, -2) : ?
  %no_mH_unknown_dtype = aten::mH.default(%r2) : ?
  %no_mH_complex = aten::mH.default(%c) : ?
  return %permute, %permute_m, %no_permute3, %no_t, %no_transpose, %no_numpy_T, %t_r2, %transpose_r2, %no_mH_unknown_dtype, %no_mH_complex
}
)");
  Var W("W");
  for (const char* name : {"permute", "permute_m", "t_r2", "transpose_r2"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(Matches(m::transpose(W), name));
  }
  for (const char* name : {"no_permute3", "no_t", "no_transpose", "no_numpy_T",
                           "no_mH_unknown_dtype", "no_mH_complex"}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(Matches(m::transpose(W), name));
  }
  EXPECT_EQ(Explain(m::transpose(W), "no_t").message,
            "expected a 2-D transpose, got %no_t = aten::t.default (the rank of %u is unknown)");
}

// A node built without its shape function (as an importer may) can carry
// any dims: out-of-range ones are no transpose. (-3, 2) used to pass as its
// normalized dims summed to 1; huge ones overflowed the sum.
TEST_F(MatcherTest, TransposeWithOutOfRangeDimsIsNoTranspose) {
  Load(kTransposes);
  Var W("W");
  Value* w = V("w");
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::pair<int64_t, int64_t> dims[] = {
      {-3, 2}, {2, -3}, {5, -4}, {kMax, kMax}, {kMax, 2 - kMax}, {kMin, kMin}, {kMin, kMax}};
  for (auto [d0, d1] : dims) {
    SCOPED_TRACE(absl::StrCat(d0, ", ", d1));
    Arg args[] = {w, Literal::Int(d0), Literal::Int(d1)};
    TensorType types[] = {w->type()};
    Node* n = g_->CreateNode(ops::transpose_copy(), args, types);
    EXPECT_FALSE(MatchesArg(m::transpose(W), Arg(n->result(0))));
  }
  Arg ok[] = {w, Literal::Int(-1), Literal::Int(0)};
  TensorType types[] = {w->type()};
  Node* n = g_->CreateNode(ops::transpose_copy(), ok, types);
  EXPECT_TRUE(MatchesArg(m::transpose(W), Arg(n->result(0))));
}

TEST_F(MatcherTest, TransposeDescribesItselfAndListsItsRoots) {
  Var W("W");
  auto p = m::transpose(m::constant(W));
  EXPECT_EQ(Describe(p), "transpose(const W)");
  EXPECT_EQ(p.OpCount(), 1);
  EXPECT_EQ(Roots(p), (std::vector<std::string>{
                          "aten::permute_copy.default", "aten::permute.default",
                          "aten::t_copy.default", "aten::t.default", "aten::numpy_T.default",
                          "aten::mT.default", "aten::mH.default", "aten::adjoint.default",
                          "aten::matrix_H.default", "aten::transpose_copy.int",
                          "aten::transpose.int", "aten::swapaxes.default",
                          "aten::swapdims.default", "aten::movedim.int", "aten::moveaxis.int"}));
}

// ---------------------------------------------------------------------------
// Describe, OpCount, RootOps.

TEST_F(MatcherTest, Describe) {
  Var x("x"), W("W"), b("b");
  EXPECT_EQ(Describe(m::mm(x, m::transpose(m::constant(W)))), "mm(x, transpose(const W))");
  EXPECT_EQ(Describe(m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_)),
            "view_copy(mm(view_copy(x, _), transpose(const W)), _)");
  EXPECT_EQ(Describe(m::addmm(b, x, m::param(W))), "addmm(b, x, parameter W)");
  EXPECT_EQ(Describe(m::buffer(W)), "buffer W");
  EXPECT_EQ(Describe(m::input(x)), "input x");
  EXPECT_EQ(Describe(m::add(x, b)), "aten::add.Tensor(x, b)");
  EXPECT_EQ(Describe(m::op("aten::gelu.default", x)), "gelu(x)");
  EXPECT_EQ(Describe(m::op("aten::my_op.default", x)), "my_op(x)");
  EXPECT_EQ(Describe(m::op("aten::my_op.out", x)), "aten::my_op.out(x)");
  EXPECT_EQ(Describe(m::relu(x) | m::gelu(x)), "relu(x) | gelu(x)");
  EXPECT_EQ(Describe(m::permute_copy(x, m::ints({1, 0}))), "permute_copy(x, [1, 0])");
  EXPECT_EQ(Describe(m::transpose_copy(x, 0, -1)), "aten::transpose_copy.int(x, 0, -1)");
  EXPECT_EQ(Describe(m::native_layer_norm(x, m::_, m::none(), m::none(), m::f(1e-5))),
            "native_layer_norm(x, _, None, None, 1e-05)");
  EXPECT_EQ(Describe(m::gelu(x, m::lit(Literal::String("tanh")))), "gelu(x, \"tanh\")");
  EXPECT_EQ(Describe(m::has_rank(b, 1)), "b where rank == 1");
  EXPECT_EQ(Describe(m::has_dtype(b, DType::kFloat16)), "b where dtype == f16");
  EXPECT_EQ(Describe(m::has_shape(b, {Dim::Symbol("s0"), 4})), "b where shape == [s0, 4]");
  EXPECT_EQ(Describe(m::one_use(m::relu(x))), "relu(x) where one use");
  EXPECT_EQ(Describe(m::computed([](const MatchState&) -> absl::StatusOr<const Literal*> {
              return Literal::Int(0);
            })),
            "<computed>");
  EXPECT_EQ(Describe(m::computed(
                [](const MatchState&) -> absl::StatusOr<const Literal*> { return Literal::Int(0); },
                "numel(x)")),
            "numel(x)");
}

TEST_F(MatcherTest, OpCount) {
  Var x, W, b;
  EXPECT_EQ(m::mm(x, m::transpose(m::constant(W))).OpCount(), 2);
  EXPECT_EQ(m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_).OpCount(),
            4);
  EXPECT_EQ(VarP(x).OpCount(), 0);
  EXPECT_EQ(m::_.OpCount(), 0);
  EXPECT_EQ(m::i(1).OpCount(), 0);
  EXPECT_EQ(m::constant(W).OpCount(), 0);
  EXPECT_EQ((m::relu(x) | m::relu(m::relu(x))).OpCount(), 2);
  EXPECT_EQ(m::one_use(m::relu(m::gelu(x))).OpCount(), 2);
  EXPECT_EQ(m::bind(b, m::relu(x)).OpCount(), 1);
}

TEST_F(MatcherTest, RootOps) {
  Var x, y;
  EXPECT_EQ(Roots(m::mm(x, y)), (std::vector<std::string>{"aten::mm.default"}));
  EXPECT_EQ(Roots(m::mm(x, y) | m::bmm(x, y)),
            (std::vector<std::string>{"aten::mm.default", "aten::bmm.default"}));
  EXPECT_EQ(Roots(m::has_rank(m::addmm(x, y, m::_), 2)),
            (std::vector<std::string>{"aten::addmm.default"}));
  EXPECT_EQ(Roots(m::bind(x, m::relu(y))), (std::vector<std::string>{"aten::relu.default"}));
  EXPECT_EQ(Roots(m::op("aten::gelu.default", x)),
            (std::vector<std::string>{"aten::gelu.default"}));
  EXPECT_EQ(Roots(VarP(x)), (std::vector<std::string>{"<any>"}));
  EXPECT_EQ(Roots(m::_), (std::vector<std::string>{"<any>"}));
  EXPECT_EQ(Roots(m::constant(x)), (std::vector<std::string>{"<any>"}));
  EXPECT_EQ(Roots(m::mm(x, y) | VarP(x)), (std::vector<std::string>{"<any>"}));
  EXPECT_EQ(Roots(VarP(x) | m::mm(x, y)), (std::vector<std::string>{"<any>"}));
}

// ---------------------------------------------------------------------------
// Explanations.

TEST_F(MatcherTest, ExplanationNamesTheDeepestFailure) {
  Load(R"(
graph @explain(%a: f32[4, 4], parameter %w: f32[4, 4]) {
  %c = aten::clone.default(%w)
  %mm = aten::mm.default(%a, %c)
  %v = aten::view_copy.default(%mm, [16])
  %r = aten::relu.default(%a)
  return %v, %r
}
)");
  Var x("x"), W("W");
  Explanation e = Explain(m::mm(x, m::permute_copy(m::constant(W), m::ints({1, 0}))), "mm");
  EXPECT_EQ(e.depth, 1);
  EXPECT_EQ(e.where, "operand 1");
  EXPECT_EQ(e.message, "expected permute_copy, got clone");

  e = Explain(m::view_copy(m::mm(x, m::transpose(m::constant(W))), m::_), "v");
  EXPECT_EQ(e.depth, 2);
  EXPECT_EQ(e.where, "operand 1 of operand 0");
  EXPECT_EQ(e.message, "expected a 2-D transpose, got %c = aten::clone.default");

  e = Explain(m::mm(x, m::clone(m::input(W))), "mm");
  EXPECT_EQ(e.where, "operand 0 of operand 1");
  EXPECT_EQ(e.message, "expected an input, got %w (parameter)");

  e = Explain(m::relu(x), "mm");
  EXPECT_EQ(e.depth, 0);
  EXPECT_EQ(e.where, "root");
  EXPECT_EQ(e.message, "expected relu, got mm");

  e = Explain(m::mm(m::relu(x), m::_), "mm");
  EXPECT_EQ(e.where, "operand 0");
  EXPECT_EQ(e.message, "expected relu, got %a (input)");

  // Of two alternatives, the one that got deeper explains.
  e = Explain(m::relu(x) | m::mm(x, m::transpose(W)), "mm");
  EXPECT_EQ(e.where, "operand 1");
  EXPECT_EQ(e.message, "expected a 2-D transpose, got %c = aten::clone.default");

  // Without an explanation attached, a failure records nothing and costs
  // no message.
  s().Reset();
  EXPECT_FALSE(s().explaining());
  EXPECT_FALSE(m::relu(x).Match(Arg(V("mm")), s()));
}

TEST_F(MatcherTest, DescribeArg) {
  Load(kBasic);
  EXPECT_EQ(DescribeArg(g(), Arg(V("a"))), "%a (input)");
  EXPECT_EQ(DescribeArg(g(), Arg(V("w"))), "%w (parameter)");
  EXPECT_EQ(DescribeArg(g(), Arg(V("buf"))), "%buf (buffer)");
  EXPECT_EQ(DescribeArg(g(), Arg(V("c"))), "%c (constant)");
  EXPECT_EQ(DescribeArg(g(), Arg(V("mm"))), "%mm = aten::mm.default");
  EXPECT_EQ(DescribeArg(g(), Arg(Literal::Ints({1, 0}))), "literal [1, 0]");
  EXPECT_EQ(DescribeArg(g(), Arg()), "nothing");
}

// ---------------------------------------------------------------------------
// Right-hand sides: Build.

TEST_F(MatcherTest, BuildCreatesNodesWithInferredTypes) {
  Load(R"(
graph @build(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  return %mm
}
)");
  Var x("x"), W("W"), n("n");
  ASSERT_TRUE(Matches(m::mm(x, m::transpose(m::constant(W))), "mm"));
  Rewriter rw(*g_, Ops());
  rw.SetInsertionPoint(V("mm")->def());
  auto built = m::linear(x, W).Build(rw, s());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->value()->type().ToString(), "f32[2, 3]");
  EXPECT_EQ(built->value()->def()->op(), ops::linear());
  EXPECT_EQ(built->value()->def()->next(), V("mm")->def());  // before the insertion point
  // transpose() builds permute_copy(p, [1, 0]).
  auto t = m::transpose(W).Build(rw, s());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->value()->def()->op(), ops::permute_copy());
  EXPECT_EQ(t->value()->def()->literal(1), Literal::Ints({1, 0}));
  EXPECT_EQ(t->value()->type().ToString(), "f32[4, 3]");
  // Literals and computed literals build themselves.
  EXPECT_EQ(*m::i(3).Build(rw, s()), Arg(Literal::Int(3)));
  auto numel = m::computed(
      [x](const MatchState& st) -> absl::StatusOr<const Literal*> {
        return Literal::Ints({*st.type(x).numel()});
      },
      "numel(x)");
  EXPECT_EQ(*numel.Build(rw, s()), Arg(Literal::Ints({8})));
  // An unbound variable, or a shape function error, is an error.
  auto unbound = VarP(n).Build(rw, s());
  EXPECT_EQ(unbound.status().message(), "variable n is unbound");
  auto bad = m::mm(x, x).Build(rw, s());
  EXPECT_FALSE(bad.ok());
  // Wrappers build what they wrap.
  EXPECT_EQ(*m::constant(W).Build(rw, s()), Arg(V("w")));
  EXPECT_EQ(*m::has_rank(x, 2).Build(rw, s()), Arg(V("x")));
  // A computed literal only builds (and resets nothing but the state).
  EXPECT_FALSE(MatchesArg(numel, Literal::Ints({8})));
}

// ---------------------------------------------------------------------------
// DynP and DynOpP: the run-time twins behave like the static patterns.

TEST_F(MatcherTest, DynamicPatternsBehaveLikeStaticOnes) {
  Load(kCommute);
  Var x("x"), y("y"), b("b");
  auto static_p = m::add(m::mm(x, y), b);
  m::DynOpP mm_dyn{{}, ops::mm(), {m::DynP(VarP(x)), m::DynP(VarP(y))}};
  m::DynOpP add_dyn{{}, ops::add(), {m::DynP(mm_dyn), m::DynP(VarP(b))}};
  m::DynP dyn(add_dyn);

  EXPECT_EQ(Describe(dyn), Describe(static_p));
  EXPECT_EQ(dyn.OpCount(), static_p.OpCount());
  EXPECT_EQ(Roots(dyn), Roots(static_p));
  EXPECT_TRUE(dyn.CanBuild());

  for (const char* name : {"add_mb", "add_bm", "add_bm_alpha2", "add_bm_alpha1", "add_mm",
                           "mul_bm", "sub_bm", "add_ra", "mm1", "a"}) {
    SCOPED_TRACE(name);
    using Bindings = std::vector<std::pair<uint32_t, Arg>>;
    bool want = Matches(static_p, name);
    Bindings want_bindings(s().bindings().begin(), s().bindings().end());
    std::vector<Node*> want_matched(s().matched().begin(), s().matched().end());
    EXPECT_EQ(Matches(dyn, name), want);
    Bindings got_bindings(s().bindings().begin(), s().bindings().end());
    EXPECT_EQ(got_bindings, want_bindings);
    std::vector<Node*> got_matched(s().matched().begin(), s().matched().end());
    EXPECT_EQ(got_matched, want_matched);
  }
  // Same answers as the static pattern on the interesting cases.
  EXPECT_TRUE(Matches(dyn, "add_bm"));
  EXPECT_EQ(s().value(b), V("c"));
  EXPECT_FALSE(Matches(dyn, "add_bm_alpha2"));
  EXPECT_TRUE(Matches(dyn, "add_mm"));
  EXPECT_EQ(s().value(b), V("mm2"));

  // Explanations agree too.
  Explanation es = Explain(m::add(m::relu(x), b), "add_mb");
  m::DynP dyn_relu(m::DynOpP{{}, ops::relu(), {m::DynP(VarP(x))}});
  Explanation ed = Explain(m::DynOpP{{}, ops::add(), {dyn_relu, m::DynP(VarP(b))}}, "add_mb");
  EXPECT_EQ(ed.where, es.where);
  EXPECT_EQ(ed.message, es.message);
  EXPECT_EQ(ed.depth, es.depth);
}

TEST_F(MatcherTest, DynOpPChecksTrailingDefaultsAndBuilds) {
  Load(R"(
graph @addmm(%b: f32[3], %x: f32[2, 4], %w: f32[4, 3], parameter %p: f32[3, 4]) {
  %plain = aten::addmm.default(%b, %x, %w)
  %beta1f = aten::addmm.default(%b, %x, %w, 1.0)
  %beta2 = aten::addmm.default(%b, %x, %w, 2)
  %t = aten::t_copy.default(%p)
  %mm = aten::mm.default(%x, %t)
  return %plain, %beta1f, %beta2, %mm
}
)");
  Var b("b"), x("x"), w("w"), W("W");
  m::DynOpP addmm{{}, ops::addmm(), {m::DynP(VarP(b)), m::DynP(VarP(x)), m::DynP(VarP(w))}};
  EXPECT_TRUE(Matches(addmm, "plain"));
  EXPECT_TRUE(Matches(addmm, "beta1f"));
  EXPECT_FALSE(Matches(addmm, "beta2"));
  EXPECT_TRUE(s().bindings().empty());

  // A DynP around transpose(constant) and a DynOpP linear replacement.
  m::DynOpP mm{{}, ops::mm(), {m::DynP(VarP(x)), m::DynP(m::transpose(m::constant(W)))}};
  EXPECT_EQ(Describe(mm), "mm(x, transpose(const W))");
  EXPECT_EQ(mm.OpCount(), 2);
  ASSERT_TRUE(Matches(mm, "mm"));
  EXPECT_EQ(s().value(W), V("p"));
  Rewriter rw(*g_, Ops());
  rw.SetInsertionPoint(V("mm")->def());
  m::DynOpP linear{{}, ops::linear(), {m::DynP(VarP(x)), m::DynP(VarP(W))}};
  auto built = linear.Build(rw, s());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->value()->type(), V("mm")->type());
  // A pattern that cannot build says so.
  m::DynP where_dyn(m::where(VarP(x), [](Arg, const MatchState&) { return true; }, "p"));
  EXPECT_TRUE(where_dyn.CanBuild());
  m::DynP any_dyn(m::AnyP{});
  EXPECT_FALSE(any_dyn.CanBuild());
  EXPECT_EQ(any_dyn.Build(rw, s()).status().message(), "'_' cannot be built");
}


// ---------------------------------------------------------------------------
// Tensor lists: a node holds the list as a run of operands; m::list matches
// the run exactly and parameters after it are indexed around it.

constexpr absl::string_view kLists = R"(
graph @lists(%a: f32[2, 3], %b: f32[2, 3], %i: i64[2]) {
  %cat1 = aten::cat.default(%a, 0) : f32[2, 3]
  %cat1_dim1 = aten::cat.default(%a, 1) : f32[2, 3]
  %cat2 = aten::cat.default(%a, %b, 0) : f32[4, 3]
  %cat_aa = aten::cat.default(%a, %a, 1) : f32[2, 6]
  %index = aten::index.Tensor(%a, None, %i) : f32[2, 2]
  return %cat1, %cat1_dim1, %cat2, %cat_aa, %index
}
)";

TEST_F(MatcherTest, ListPatternsMatchTheRunExactly) {
  Load(kLists);
  Var x("x"), y("y"), d("d");
  EXPECT_TRUE(Matches(m::cat(m::list(x), 0), "cat1"));
  EXPECT_EQ(s().value(x), V("a"));
  // The dim after the run is parameter 1, whatever the run's length.
  EXPECT_FALSE(Matches(m::cat(m::list(x), 0), "cat1_dim1"));
  EXPECT_TRUE(Matches(m::cat(m::list(x), d), "cat1_dim1"));
  EXPECT_EQ(s().Lookup(d.id()).literal(), Literal::Int(1));
  // Left out, dim must be at its default (0).
  EXPECT_TRUE(Matches(m::cat(m::list(x)), "cat1"));
  EXPECT_FALSE(Matches(m::cat(m::list(x)), "cat1_dim1"));
  // A list of one does not match two tensors, nor two one.
  EXPECT_FALSE(Matches(m::cat(m::list(x), 0), "cat2"));
  EXPECT_FALSE(Matches(m::cat(m::list(x, y), 0), "cat1"));
  EXPECT_TRUE(Matches(m::cat(m::list(x, y), 0), "cat2"));
  EXPECT_EQ(s().value(y), V("b"));
  // A variable used twice inside a list.
  EXPECT_TRUE(Matches(m::cat(m::list(x, x), 1), "cat_aa"));
  EXPECT_FALSE(Matches(m::cat(m::list(x, x), 0), "cat2"));
  // `_` matches any list.
  EXPECT_TRUE(Matches(m::cat(m::_, 0), "cat2"));
  // Tensor?[] holds None elements.
  EXPECT_TRUE(Matches(m::index(x, m::list(m::none(), y)), "index"));
  EXPECT_EQ(s().value(y), V("i"));
  EXPECT_EQ(Describe(m::cat(m::list(x, y), 0)), "cat([x, y], 0)");
}

TEST_F(MatcherTest, ListPatternFailuresExplainThemselves) {
  Load(kLists);
  Var x("x");
  Explanation e = Explain(m::cat(m::list(x), 0), "cat2");
  EXPECT_EQ(e.message, "expected a list of 1, got 2 tensors");
  // A single-tensor pattern at a list parameter.
  Explanation single = Explain(m::cat(x, 0), "cat1");
  EXPECT_EQ(single.message, "cat parameter tensors is a tensor list: match it with a list pattern or _");
}

TEST_F(MatcherTest, DynamicListPatternsBehaveLikeStaticOnes) {
  Load(kLists);
  Var x("x"), y("y");
  m::DynListP list{{}, {m::DynP(VarP(x)), m::DynP(VarP(y))}};
  m::DynOpP cat{{}, ops::cat(), {m::DynP(list), m::DynP(m::i(0))}};
  auto static_p = m::cat(m::list(x, y), 0);
  EXPECT_EQ(Describe(cat), Describe(static_p));
  for (const char* name : {"cat1", "cat1_dim1", "cat2", "cat_aa"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Matches(cat, name), Matches(static_p, name));
  }
}

}  // namespace
}  // namespace graft
