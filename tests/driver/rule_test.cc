// Tests of graft::Rule and its Apply protocol, one rewrite at a time:
// declarative and callback replacements, constraints, legality (outside
// uses of the matched interior), insertion before the root, the type check
// with rollback, multi-result replacements, and RuleSet.
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rule.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "graft/ir/graph.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/match/matchers.h"
#include "graft/rewrite/rewriter.h"
#include "gtest/gtest.h"
#include "tests/match/test_util.h"

namespace graft {
namespace {

namespace m = graft::match;
using test_util::Canon;
using test_util::MustParse;
using test_util::Numbered;
using test_util::Val;

// Counts what a Rewriter reports.
struct CountingListener : RewriteListener {
  int created = 0, erased = 0, replaced = 0;
  void NodeCreated(Node*) override { ++created; }
  void NodeErasing(Node*) override { ++erased; }
  void UsesReplaced(Value*, Value*) override { ++replaced; }
};

// Matches `r` at the node defining `root` and, if it matched, applies it.
// Returns the match failure as NotFound.
absl::Status MatchAndApply(Graph& g, const Rule& r, absl::string_view root,
                           RewriteListener* listener = nullptr) {
  Node* n = test_util::NodeOf(g, root);
  if (!n) return absl::InvalidArgumentError("no root");
  MatchState s(g);
  if (!r.Match(n, s)) return absl::NotFoundError(absl::StrCat(r.name(), " does not match"));
  Rewriter rw(g, Ops(), listener);
  return r.Apply(rw, n, s);
}

RuleBuilder MmTransposedWeightToLinear() {
  Var x("x"), W("W");
  return rule("mm_transposed_weight_to_linear", m::mm(x, m::transpose(m::constant(W))),
              m::linear(x, W));
}

// ---------------------------------------------------------------------------
// Declarative and callback rules.

TEST(RuleTest, DeclarativeRuleRewrites) {
  auto g = MustParse(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %mm = aten::mm.default(%x, %t)
  %out = aten::relu.default(%mm)
  return %out
}
)");
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear();
  EXPECT_EQ(r->name(), "mm_transposed_weight_to_linear");
  EXPECT_EQ(r->Describe(), "mm(x, transpose(const W)) -> linear(x, W)");
  EXPECT_EQ(r->benefit(), 2);
  EXPECT_FALSE(r->any_root());
  ASSERT_EQ(r->root_ops().size(), 1u);
  EXPECT_EQ(r->root_ops()[0], ops::mm());

  CountingListener listener;
  ASSERT_TRUE(MatchAndApply(*g, *r, "mm", &listener).ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w)
  %1 = aten::relu.default(%0)
  return %1
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
  EXPECT_EQ(listener.created, 1);
  EXPECT_EQ(listener.erased, 2);  // the mm and the now unused permute
  EXPECT_EQ(listener.replaced, 1);
  // The replacement took the root's name.
  EXPECT_TRUE(absl::StrContains(Print(*g), "%mm = aten::linear.default(%x, %w)"))
      << Print(*g);
}

TEST(RuleTest, DeclarativeRuleWithBoundAndComputedLiterals) {
  auto g = MustParse(R"(
graph @g(%x: f32[2, 3, 4]) {
  %v1 = aten::view_copy.default(%x, [6, 4])
  %v2 = aten::view_copy.default(%v1, [4, 6])
  %r = aten::relu.default(%v2)
  return %r
}
)");
  Var x("x"), s("s");
  // A literal bound on the left used on the right.
  std::unique_ptr<Rule> view_of_view =
      rule("view_of_view", m::view_copy(m::view_copy(x, m::_), s), m::view_copy(x, s));
  EXPECT_EQ(view_of_view->Describe(), "view_copy(view_copy(x, _), s) -> view_copy(x, s)");
  ASSERT_TRUE(MatchAndApply(*g, *view_of_view, "v2").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 3, 4]) {
  %0 = aten::view_copy.default(%x, [4, 6])
  %1 = aten::relu.default(%0)
  return %1
}
)"));
  // A literal computed from a capture: relu on a flattened view.
  std::unique_ptr<Rule> flat_relu = rule(
      "flat_relu", m::relu(m::has_rank(x, 2)),
      m::view_copy(m::relu(m::view_copy(x, m::computed(
                                               [x](const MatchState& st)
                                                   -> absl::StatusOr<const Literal*> {
                                                 return Literal::Ints({*st.type(x).numel()});
                                               },
                                               "[numel(x)]"))),
                   m::computed(
                       [x](const MatchState& st) -> absl::StatusOr<const Literal*> {
                         std::vector<int64_t> dims;
                         for (Dim d : *st.type(x).shape()) dims.push_back(d.size());
                         return Literal::Ints(dims);
                       },
                       "shape(x)")));
  EXPECT_EQ(flat_relu->Describe(),
            "relu(x where rank == 2) -> view_copy(relu(view_copy(x, [numel(x)])), shape(x))");
  EXPECT_EQ(flat_relu->benefit(), 1);
  ASSERT_TRUE(MatchAndApply(*g, *flat_relu, "r").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 3, 4]) {
  %0 = aten::view_copy.default(%x, [4, 6])
  %1 = aten::view_copy.default(%0, [24])
  %2 = aten::relu.default(%1)
  %3 = aten::view_copy.default(%2, [4, 6])
  return %3
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

TEST(RuleTest, CallbackRuleBuildsBeforeTheRoot) {
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4]) {
  %r1 = aten::relu.default(%a)
  %r2 = aten::relu.default(%r1)
  %out = aten::gelu.default(%r2)
  return %out
}
)");
  Var x("x");
  Node* seen_root = nullptr;
  Node* seen_insertion_point = nullptr;
  std::unique_ptr<Rule> r =
      rule("relu_relu", m::relu(m::relu(x)),
           [&, x](Rewriter& rw, Node* root, const MatchState& s) -> absl::StatusOr<Value*> {
             seen_root = root;
             seen_insertion_point = rw.insertion_point();
             return rw.Op("relu", {s.value(x)});
           });
  EXPECT_EQ(r->Describe(), "relu(relu(x)) -> <C++>");
  EXPECT_EQ(r->benefit(), 2);
  Node* root = test_util::NodeOf(*g, "r2");
  ASSERT_TRUE(MatchAndApply(*g, *r, "r2").ok());
  EXPECT_EQ(seen_root, root);
  EXPECT_EQ(seen_insertion_point, root);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[2, 4]) {
  %0 = aten::relu.default(%a)
  %1 = aten::gelu.default(%0)
  return %1
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

TEST(RuleTest, ReplacementKeepsTheRootsLocation) {
  auto g = MustParse(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w) loc("model.py:10")
  %mm = aten::mm.default(%x, %t) loc("model.py:11")
  return %mm
}
)");
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear();
  ASSERT_TRUE(MatchAndApply(*g, *r, "mm").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w) loc("model.py:11")
  return %0
}
)"));
}

// ---------------------------------------------------------------------------
// Constraints.

TEST(RuleTest, ConstraintsRefuseWithTheirLabel) {
  const char* kText = R"(
graph @g(%b: f32[3], %b2: f32[2, 3], %x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %ok = aten::addmm.default(%b, %x, %t)
  %t2 = aten::t_copy.default(%w)
  %bad = aten::addmm.default(%b2, %x, %t2)
  return %ok, %bad
}
)";
  auto g = MustParse(kText);
  Var b("b"), x("x"), W("W");
  std::unique_ptr<Rule> r =
      rule("addmm_transposed_weight_to_linear", m::addmm(b, x, m::transpose(m::constant(W))),
           m::linear(x, W, b))
          .Where("rank(b) == 1", [b](const MatchState& s) { return rank(s, b) == 1; });
  MatchState s(*g);
  Node* bad = test_util::NodeOf(*g, "bad");
  ASSERT_TRUE(r->Match(bad, s));
  ASSERT_NE(r->FailedConstraint(s), nullptr);
  EXPECT_EQ(r->FailedConstraint(s)->label, "rank(b) == 1");
  Rewriter rw(*g, Ops());
  absl::Status st = r->Apply(rw, bad, s);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "constraint 'rank(b) == 1' fails");
  EXPECT_EQ(Numbered(*g), Canon(kText));

  ASSERT_TRUE(MatchAndApply(*g, *r, "ok").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%b: f32[3], %b2: f32[2, 3], %x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w, %b)
  %1 = aten::t_copy.default(%w)
  %2 = aten::addmm.default(%b2, %x, %1)
  return %0, %2
}
)"));
  // Constraints are checked in order; the first failing one is named.
  std::unique_ptr<Rule> r2 = rule("two", m::relu(x), m::gelu(x))
                                  .Where("first", [](const MatchState&) { return true; })
                                  .Where("second", [](const MatchState&) { return false; })
                                  .Where("third", [](const MatchState&) { return false; });
  auto g2 = MustParse("graph @g(%a: f32[2]) {\n  %r = aten::relu.default(%a)\n  return %r\n}\n");
  EXPECT_EQ(MatchAndApply(*g2, *r2, "r").message(), "constraint 'second' fails");
}

// The builder's setters also work one statement at a time, as a rule read
// from a file is configured clause by clause.
TEST(RuleTest, BuilderConfiguresStepByStep) {
  Var x("x");
  RuleBuilder b = rule("relu_to_gelu", m::relu(x), m::gelu(x));
  b.Origin("t.rules:1:1");
  b.Benefit(7);
  b.AllowDuplication();
  b.Where("rank(x) == 3", [x](const MatchState& s) { return rank(s, x) == 3; });
  std::unique_ptr<Rule> r = std::move(b);
  EXPECT_EQ(r->origin(), "t.rules:1:1");
  EXPECT_EQ(r->benefit(), 7);
  auto g = MustParse("graph @g(%a: f32[2]) {\n  %r = aten::relu.default(%a)\n  return %r\n}\n");
  EXPECT_EQ(MatchAndApply(*g, *r, "r").message(), "constraint 'rank(x) == 3' fails");
}

// ---------------------------------------------------------------------------
// Legality: the matched interior may not be used outside the match.

constexpr const char* kSharedTranspose = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  %u = aten::relu.default(%t)
  return %mm, %u
}
)";

TEST(RuleTest, InteriorUsedOutsideTheMatchIsRefused) {
  auto g = MustParse(kSharedTranspose);
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear();
  absl::Status st = MatchAndApply(*g, *r, "mm");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "%t (aten::t_copy.default) inside the match is also used by %u = "
            "aten::relu.default");
  EXPECT_EQ(Numbered(*g), Canon(kSharedTranspose));
}

TEST(RuleTest, InteriorThatIsAGraphOutputIsRefused) {
  const char* kText = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  return %mm, %t
}
)";
  auto g = MustParse(kText);
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear();
  absl::Status st = MatchAndApply(*g, *r, "mm");
  EXPECT_EQ(st.message(), "%t (aten::t_copy.default) inside the match is also used as a graph output");
  EXPECT_EQ(Numbered(*g), Canon(kText));
}

TEST(RuleTest, AllowDuplicationKeepsTheSharedInterior) {
  auto g = MustParse(kSharedTranspose);
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear().AllowDuplication();
  ASSERT_TRUE(MatchAndApply(*g, *r, "mm").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::t_copy.default(%w)
  %1 = aten::linear.default(%x, %w)
  %2 = aten::relu.default(%0)
  return %1, %2
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

// Uses among the matched nodes themselves are fine, including a node the
// pattern reaches twice.
TEST(RuleTest, UsesInsideTheMatchAreLegal) {
  auto g = MustParse(R"(
graph @g(%a: f32[4, 4]) {
  %r = aten::relu.default(%a)
  %sum = aten::add.Tensor(%r, %r)
  return %sum
}
)");
  Var x("x");
  std::unique_ptr<Rule> r =
      rule("double_relu", m::add(m::relu(x), m::relu(x)), m::mul(m::relu(x), m::relu(x)));
  ASSERT_TRUE(MatchAndApply(*g, *r, "sum").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[4, 4]) {
  %0 = aten::relu.default(%a)
  %1 = aten::relu.default(%a)
  %2 = aten::mul.Tensor(%0, %1)
  return %2
}
)"));
}

// ---------------------------------------------------------------------------
// Insertion order.

// The replacement goes right before the root, after every captured value,
// even one defined after the matched interior.
TEST(RuleTest, ReplacementIsInsertedBeforeTheRoot) {
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %x = aten::relu.default(%a)
  %mm = aten::mm.default(%x, %t)
  %out = aten::gelu.default(%mm)
  return %out
}
)");
  std::unique_ptr<Rule> r = MmTransposedWeightToLinear();
  ASSERT_TRUE(MatchAndApply(*g, *r, "mm").ok());
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::relu.default(%a)
  %1 = aten::linear.default(%0, %w)
  %2 = aten::gelu.default(%1)
  return %2
}
)"));
}

// ---------------------------------------------------------------------------
// The type check, with rollback.

constexpr const char* kView = R"(
graph @g(%a: f32[2, 4], %b: f32[4, 3]) {
  %v = aten::view_copy.default(%a, [8])
  %mm = aten::mm.default(%a, %b)
  return %v, %mm
}
)";

TEST(RuleTest, ReplacementOfADifferentTypeIsRefusedAndRolledBack) {
  auto g = MustParse(kView);
  size_t nodes = g->num_nodes();
  Var x("x");
  std::unique_ptr<Rule> r = rule("not_a_view", m::view_copy(x, m::_), m::relu(m::gelu(x)));
  CountingListener listener;
  absl::Status st = MatchAndApply(*g, *r, "v", &listener);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "the replacement computes f32[2, 4] where aten::view_copy.default produced f32[8]");
  EXPECT_EQ(listener.created, 2);
  EXPECT_EQ(listener.erased, 0);  // a rollback is not an erasure to revisit
  EXPECT_EQ(listener.replaced, 0);
  EXPECT_EQ(g->num_nodes(), nodes);
  EXPECT_EQ(Numbered(*g), Canon(kView));
  EXPECT_TRUE(Verify(*g).ok());
  // The input keeps no use from the rolled-back nodes.
  EXPECT_EQ(Val(*g, "a")->num_uses(), 2u);
}

// Equal partial types prove nothing (two `?` tensors may differ): without
// ForAnyTypes, an unknown fact on either side refuses, naming the fact.
TEST(RuleTest, AnUnknownFactRefusesTheTypeCheck) {
  const char* kText = R"(
graph @g(%x: ?, parameter %w: f32[3, 4]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %mm = aten::mm.default(%x, %t)
  return %mm
}
)";
  auto g = MustParse(kText);
  std::unique_ptr<Rule> typed = MmTransposedWeightToLinear();
  EXPECT_FALSE(typed->for_any_types());
  EXPECT_EQ(MatchAndApply(*g, *typed, "mm").message(),
            "the replacement computes ? where aten::mm.default produced ?: the type check needs "
            "the dtype of aten::mm.default's result, which is unknown (the rule does not hold "
            "for any types)");
  EXPECT_EQ(Numbered(*g), Canon(kText));
  // Known on the root's side, unknown on the replacement's.
  Var x("x");
  std::unique_ptr<Rule> opaque = rule(
      "opaque", m::relu(x), [x](Rewriter& rw, Node*, const MatchState& s) -> absl::StatusOr<Value*> {
        const OpDef* op = *Ops().Intern("vendor::thing.v1");
        Arg args[] = {s[x]};
        TensorType out[] = {TensorType::OfDType(DType::kFloat32)};
        return rw.CreateWithTypes(op, args, out)->result(0);
      });
  auto g2 = MustParse("graph @g(%a: f32[2]) {\n  %r = aten::relu.default(%a)\n  return %r\n}\n");
  EXPECT_EQ(MatchAndApply(*g2, *opaque, "r").message(),
            "the replacement computes f32[*] where aten::relu.default produced f32[2]: the type "
            "check needs the rank of the replacement, which is unknown (the rule does not hold "
            "for any types)");
}

// ForAnyTypes: partial types pass unless a known fact conflicts, and the
// replacement takes the facts of both sides.
TEST(RuleTest, ForAnyTypesAcceptsPartialTypesAndMergesTheirFacts) {
  auto g = MustParse(R"(
graph @g(%x: ?, parameter %w: f32[3, 4]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %mm = aten::mm.default(%x, %t) : f32[?, 3]
  return %mm
}
)");
  std::unique_ptr<Rule> any = MmTransposedWeightToLinear().ForAnyTypes();
  EXPECT_TRUE(any->for_any_types());
  ASSERT_TRUE(MatchAndApply(*g, *any, "mm").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: ?, parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w) : f32[?, 3]
  return %0
}
)"));
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);
  // A known fact that conflicts still refuses: the root says f16.
  const char* kConflict = R"(
graph @g(%x: ?, parameter %w: f32[3, 4]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %mm = aten::mm.default(%x, %t) : f16[*]
  return %mm
}
)";
  auto g2 = MustParse(kConflict);
  Var x("x");
  std::unique_ptr<Rule> to_f32 =
      rule("to_f32", m::mm(x, m::_), [x](Rewriter& rw, Node*, const MatchState& s) -> absl::StatusOr<Value*> {
        const OpDef* op = *Ops().Intern("vendor::thing.v1");
        Arg args[] = {s[x]};
        TensorType out[] = {TensorType::OfDType(DType::kFloat32)};
        return rw.CreateWithTypes(op, args, out)->result(0);
      }).ForAnyTypes();
  EXPECT_EQ(MatchAndApply(*g2, *to_f32, "mm").message(),
            "the replacement computes f32[*] where aten::mm.default produced f16[*]");
  EXPECT_EQ(Numbered(*g2), Canon(kConflict));
}

// A C++ constraint reads partial types safely, and declares what it reads
// so that a refusal names the unknown fact.
TEST(RuleTest, CxxConstraintsOnPartialTypes) {
  auto g = MustParse(
      "graph @g(%a: f32[*], %b: ?[2, ?]) {\n  %r = aten::add.Tensor(%a, %b)\n  return %r\n}\n");
  Var a("a"), b("b");
  auto build = [&](std::vector<Fact> reads, Rule::Predicate p) -> std::unique_ptr<Rule> {
    return rule("r", m::add(a, b), a).Where("c", std::move(reads), std::move(p)).ForAnyTypes();
  };
  // Every query on an unknown fact is unknown, and false in a comparison.
  auto holds = [&](Rule::Predicate p) {
    MatchState s(*g);
    std::unique_ptr<Rule> r = build({}, std::move(p));
    EXPECT_TRUE(r->Match(test_util::NodeOf(*g, "r"), s));
    return r->FailedConstraint(s) == nullptr;
  };
  EXPECT_FALSE(holds([a](const MatchState& s) { return rank(s, a) == 2; }));
  EXPECT_FALSE(holds([a](const MatchState& s) { return rank(s, a) != 2; }));
  EXPECT_FALSE(holds([a](const MatchState& s) { return s.type(a).rank() == 2; }));
  EXPECT_TRUE(holds([a](const MatchState& s) { return s.type(a).dtype() == DType::kFloat32; }));
  EXPECT_TRUE(holds([b](const MatchState& s) { return rank(s, b) == 2 && dim(s, b, 0) == 2; }));
  EXPECT_FALSE(holds([b](const MatchState& s) { return dim(s, b, 1) == 2; }));
  EXPECT_FALSE(holds([b](const MatchState& s) { return dim(s, b, 1) != 2; }));
  EXPECT_FALSE(holds([b](const MatchState& s) { return numel(s, b) > 0; }));
  EXPECT_FALSE(holds([b](const MatchState& s) { return s.type(b).dtype() == DType::kFloat32; }));
  // The refusal names the first unknown fact among those declared.
  std::unique_ptr<Rule> r = build({Fact::DTypeOf(a), Fact::DimOf(b, 0), Fact::DimOf(b, -1)},
                                  [](const MatchState&) { return false; });
  EXPECT_EQ(MatchAndApply(*g, *r, "r").message(), "constraint 'c' fails: dim -1 of %b is unknown");
  std::unique_ptr<Rule> r2 =
      build({Fact::RankOf(a)}, [](const MatchState&) { return false; });
  EXPECT_EQ(MatchAndApply(*g, *r2, "r").message(), "constraint 'c' fails: the rank of %a is unknown");
}

TEST(RuleTest, ReplacementThatCannotBeBuiltIsRefusedAndRolledBack) {
  auto g = MustParse(kView);
  size_t nodes = g->num_nodes();
  Var x("x"), y("y");
  // relu(y) builds, then mm(relu(y), x) fails its shape function.
  std::unique_ptr<Rule> r = rule("swap_mm", m::mm(x, y), m::mm(m::relu(y), x));
  CountingListener listener;
  absl::Status st = MatchAndApply(*g, *r, "mm", &listener);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "mm: operand shapes f32[4, 3] and f32[2, 4] do not chain (3 != 2)");
  EXPECT_EQ(listener.created, 1);
  EXPECT_EQ(listener.erased, 0);
  EXPECT_EQ(g->num_nodes(), nodes);
  EXPECT_EQ(Numbered(*g), Canon(kView));
  EXPECT_EQ(Val(*g, "b")->num_uses(), 1u);
}

TEST(RuleTest, CallbackErrorIsRefusedAndRolledBack) {
  auto g = MustParse(kView);
  Var x("x");
  std::unique_ptr<Rule> r =
      rule("gives_up", m::view_copy(x, m::_),
           [x](Rewriter& rw, Node*, const MatchState& s) -> absl::StatusOr<Value*> {
             GRAFT_ASSIGN_OR_RETURN(Value * r, rw.Op("relu", {s.value(x)}));
             (void)r;
             return absl::UnimplementedError("changed my mind");
           });
  absl::Status st = MatchAndApply(*g, *r, "v");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "changed my mind");
  EXPECT_EQ(Numbered(*g), Canon(kView));
}

TEST(RuleTest, ReplacingWithAnExistingValueChecksItsType) {
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4]) {
  %same = aten::view_copy.default(%a, [2, 4])
  %flat = aten::view_copy.default(%a, [8])
  return %same, %flat
}
)");
  Var x("x");
  std::unique_ptr<Rule> r = rule("identity_view", m::view_copy(x, m::_), x);
  EXPECT_EQ(r->Describe(), "view_copy(x, _) -> x");
  EXPECT_EQ(MatchAndApply(*g, *r, "flat").message(),
            "the replacement computes f32[2, 4] where aten::view_copy.default produced f32[8]");
  ASSERT_TRUE(MatchAndApply(*g, *r, "same").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[2, 4]) {
  %0 = aten::view_copy.default(%a, [8])
  return %a, %0
}
)"));
  // A literal cannot replace a value.
  Var s("s");
  std::unique_ptr<Rule> lit = rule("to_literal", m::view_copy(x, s), s);
  EXPECT_EQ(MatchAndApply(*g, *lit, "flat").message(),
            "the replacement is a literal, not a value");
}

// The replacement is built before the root: it may not use the root's
// results, nor be one of them.
TEST(RuleTest, ReplacementMayNotDependOnTheRoot) {
  const char* kText = R"(
graph @g(%a: f32[2, 4]) {
  %r = aten::relu.default(%a)
  %o = aten::gelu.default(%r)
  return %o
}
)";
  auto g = MustParse(kText);
  Var x("x");
  std::unique_ptr<Rule> wrap = rule("clone_after_relu", m::relu(x),
                                    [](Rewriter& rw, Node* root, const MatchState&) {
                                      return rw.Op("clone", {root->result(0)});
                                    });
  CountingListener listener;
  EXPECT_EQ(MatchAndApply(*g, *wrap, "r", &listener).message(),
            "the replacement depends on %r, a result of the aten::relu.default it replaces");
  EXPECT_EQ(listener.created, 1);
  EXPECT_EQ(listener.erased, 0);
  EXPECT_EQ(listener.replaced, 0);
  EXPECT_EQ(Numbered(*g), Canon(kText));
  EXPECT_TRUE(Verify(*g).ok());

  std::unique_ptr<Rule> itself =
      rule("relu_itself", m::relu(x),
           [](Rewriter&, Node* root, const MatchState&) -> absl::StatusOr<Value*> {
             return root->result(0);
           });
  EXPECT_EQ(MatchAndApply(*g, *itself, "r").message(),
            "the replacement depends on %r, a result of the aten::relu.default it replaces");
  EXPECT_EQ(Numbered(*g), Canon(kText));

  // Capturing the root with bind() and using it on the right is the same.
  Var y("y");
  std::unique_ptr<Rule> bound = rule("gelu_of_root", m::bind(y, m::relu(x)), m::gelu(y));
  EXPECT_EQ(MatchAndApply(*g, *bound, "r").message(),
            "the replacement depends on %r, a result of the aten::relu.default it replaces");
  EXPECT_EQ(Numbered(*g), Canon(kText));
}

// A callback giving no value (e.g. s.value() of a literal-bound variable)
// is refused, not dereferenced.
TEST(RuleTest, NullReplacementValueIsRefused) {
  auto g = MustParse(kView);
  Var x("x"), s("s");
  std::unique_ptr<Rule> r =
      rule("null", m::view_copy(x, s),
           [s](Rewriter&, Node*, const MatchState& st) -> absl::StatusOr<Value*> {
             return st.value(s);
           });
  EXPECT_EQ(MatchAndApply(*g, *r, "v").message(), "the replacement gives no value for result 0");
  EXPECT_EQ(Numbered(*g), Canon(kView));
}

// ---------------------------------------------------------------------------
// Multi-result roots.

constexpr const char* kLayerNorm = R"(
graph @ln(%x: f32[2, 8], %w: f32[8], %b: f32[8]) {
  %y, %mean, %rstd = aten::native_layer_norm.default(%x, [8], %w, %b, 1e-05)
  %m = aten::relu.default(%mean)
  return %y, %m, %rstd
}
)";

TEST(RuleTest, MultiResultDeclarativeReplacement) {
  auto g = MustParse(kLayerNorm);
  Var x("x"), s("s"), w("w"), b("b");
  std::unique_ptr<Rule> r = rule("ln_eps", m::native_layer_norm(x, s, w, b, m::f(1e-5)),
                                 m::native_layer_norm(x, s, w, b, m::f(1e-6)));
  EXPECT_EQ(r->Describe(),
            "native_layer_norm(x, s, w, b, 1e-05) -> native_layer_norm(x, s, w, b, 1e-06)");
  ASSERT_TRUE(MatchAndApply(*g, *r, "y").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @ln(%x: f32[2, 8], %w: f32[8], %b: f32[8]) {
  %0, %1, %2 = aten::native_layer_norm.default(%x, [8], %w, %b, 1e-06)
  %3 = aten::relu.default(%1)
  return %0, %3, %2
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
  // Every result took its predecessor's name.
  EXPECT_TRUE(absl::StrContains(
      Print(*g), "%y, %mean, %rstd = aten::native_layer_norm.default(%x, [8], %w, %b, 1e-06)"))
      << Print(*g);
  // The rewritten node no longer matches (eps is exact).
  EXPECT_EQ(MatchAndApply(*g, *r, "y").code(), absl::StatusCode::kNotFound);
}

TEST(RuleTest, MultiResultCallbackReplacement) {
  auto g = MustParse(kLayerNorm);
  Var x("x"), s("s"), w("w"), b("b");
  std::unique_ptr<Rule> r = rule(
      "ln_no_affine", m::native_layer_norm(x, s, w, b, m::_),
      [=](Rewriter& rw, Node* root, const MatchState& st) -> absl::StatusOr<std::vector<Value*>> {
        Arg args[] = {st.value(x), st.literal(s), st.value(w), Literal::None(), root->arg(4)};
        GRAFT_ASSIGN_OR_RETURN(Node * n, rw.Create(ops::native_layer_norm(), args));
        GRAFT_ASSIGN_OR_RETURN(Value * y, rw.Op("add", {n->result(0), st.value(b)}));
        return std::vector<Value*>{y, n->result(1), n->result(2)};
      });
  ASSERT_TRUE(MatchAndApply(*g, *r, "y").ok());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @ln(%x: f32[2, 8], %w: f32[8], %b: f32[8]) {
  %0, %1, %2 = aten::native_layer_norm.default(%x, [8], %w, None, 1e-05)
  %3 = aten::add.Tensor(%0, %b)
  %4 = aten::relu.default(%1)
  return %3, %4, %2
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

TEST(RuleTest, MultiResultRootNeedsAsManyResults) {
  auto g = MustParse(kLayerNorm);
  Var x("x");
  std::unique_ptr<Rule> single =
      rule("ln_to_relu", m::native_layer_norm(x, m::_, m::_, m::_, m::_), m::relu(x));
  CountingListener listener;
  EXPECT_EQ(MatchAndApply(*g, *single, "y", &listener).message(),
            "the replacement must produce 3 results like aten::native_layer_norm.default");
  EXPECT_EQ(listener.created, 1);
  EXPECT_EQ(g->num_nodes(), 2u);
  std::unique_ptr<Rule> two =
      rule("ln_two", m::native_layer_norm(x, m::_, m::_, m::_, m::_),
           [x](Rewriter&, Node*, const MatchState& s) -> absl::StatusOr<std::vector<Value*>> {
             return std::vector<Value*>{s.value(x), s.value(x)};
           });
  EXPECT_EQ(MatchAndApply(*g, *two, "y").message(),
            "the replacement has 2 results, aten::native_layer_norm.default has 3");
  EXPECT_EQ(Numbered(*g), Canon(kLayerNorm));
}

// ---------------------------------------------------------------------------
// Benefit, roots, RuleSet.

TEST(RuleTest, BenefitDefaultsToTheMatchedOpCount) {
  Var x, W;
  auto whisper = [&] {
    return rule("whisper",
                m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_),
                m::linear(x, W));
  };
  EXPECT_EQ(std::unique_ptr<Rule>(whisper())->benefit(), 4);
  EXPECT_EQ(std::unique_ptr<Rule>(whisper().Benefit(10))->benefit(), 10);
  // A pattern rooted at a variable can be rooted anywhere.
  std::unique_ptr<Rule> any = rule("any", m::has_rank(x, 2), x);
  EXPECT_TRUE(any->any_root());
  EXPECT_TRUE(any->root_ops().empty());
  EXPECT_EQ(any->benefit(), 0);
}

TEST(RuleTest, RuleSetKeepsOrderAndUniqueNames) {
  RuleSet rules;
  EXPECT_TRUE(rules.Add(MmTransposedWeightToLinear()).ok());
  Var x;
  EXPECT_TRUE(rules.Add(rule("relu_to_gelu", m::relu(x), m::gelu(x))).ok());
  absl::Status dup = rules.Add(MmTransposedWeightToLinear());
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "a rule named 'mm_transposed_weight_to_linear' already exists");
  ASSERT_TRUE(rules.Add(rule("other", m::gelu(x), m::relu(x)).Origin("linear.rules:3:1")).ok());
  EXPECT_EQ(rules.Add(rule("other", m::gelu(x), m::relu(x))).message(),
            "a rule named 'other' already exists (linear.rules:3:1)");
  absl::Status unnamed = rules.Add(rule("", m::gelu(x), m::relu(x)));
  EXPECT_EQ(unnamed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unnamed.message(), "a rule needs a name");
  auto always = [](const MatchState&) { return true; };
  EXPECT_EQ(rules
                .Add(rule("unlabelled", m::gelu(x), m::relu(x))
                         .Where("rank(x) == 2", always)
                         .Where("", always))
                .message(),
            "rule 'unlabelled': constraint 2 has no label (what --explain and refusals print)");
  EXPECT_EQ(rules.Add(rule("no_predicate", m::gelu(x), m::relu(x)).Where("rank(x) == 2", nullptr))
                .message(),
            "rule 'no_predicate': constraint 1 has no predicate");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].name(), "mm_transposed_weight_to_linear");
  EXPECT_EQ(rules[1].name(), "relu_to_gelu");
  EXPECT_EQ(rules[2].name(), "other");
  EXPECT_EQ(rules.Find("relu_to_gelu"), &rules[1]);
  EXPECT_EQ(rules.Find("nope"), nullptr);

  RuleSet more;
  ASSERT_TRUE(more.Add(rule("fourth", m::clone(x), x)).ok());
  ASSERT_TRUE(more.Add(rule("other", m::clone(x), x)).ok());
  EXPECT_EQ(rules.Merge(std::move(more)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(rules.size(), 3u);  // unchanged
  RuleSet fine;
  ASSERT_TRUE(fine.Add(rule("fourth", m::clone(x), x)).ok());
  ASSERT_TRUE(rules.Merge(std::move(fine)).ok());
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[3].name(), "fourth");
}

}  // namespace
}  // namespace graft
