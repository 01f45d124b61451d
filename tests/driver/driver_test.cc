// Tests of the greedy driver (graft/driver/driver.h): fixpoints, benefit and
// visiting order, the whisper logits rules on the fixture, caps and the
// non-convergence report, verify_each, statistics, only/disabled, dead-node
// erasure and Explain.
#include "graft/driver/driver.h"

#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "graft/ir/builder.h"
#include "graft/ir/graph.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/match/matchers.h"
#include "graft/rewrite/rule.h"
#include "gtest/gtest.h"
#include "tests/match/test_util.h"

namespace graft {
namespace {

namespace m = graft::match;
using test_util::Canon;
using test_util::MustParse;
using test_util::Numbered;

std::unique_ptr<Graph> LoadFixture() {
  const char* path = "tests/fixtures/whisper_logits.graft";
  std::ifstream f(path);
  if (!f) {
    ADD_FAILURE() << "cannot open " << path;
    return std::make_unique<Graph>();
  }
  std::stringstream text;
  text << f.rdbuf();
  return MustParse(text.str());
}

RuleBuilder MmRule() {
  Var x("x"), W("W");
  return rule("mm_transposed_weight_to_linear", m::mm(x, m::transpose(m::constant(W))),
              m::linear(x, W));
}

// view_copy(mm(view_copy(x, _), transpose(const W)), _) -> linear(x, W).
// The shape conditions that make it exact: the inner view flattens x's
// leading dims (x's last dim is the mm's inner dim), and the outer view
// restores them; the type check refuses any other reshape.
RuleBuilder WhisperRule() {
  Var x("x"), W("W");
  return rule("whisper_logits_to_linear",
              m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_),
              m::linear(x, W))
      .Where("dim(x, -1) == dim(W, 1)",
             [x, W](const MatchState& s) { return dim(s, x, -1) == dim(s, W, 1); });
}

RuleBuilder ViewOfView() {
  Var x("x"), s("s");
  return rule("view_of_view", m::view_copy(m::view_copy(x, m::_), s), m::view_copy(x, s));
}

// Runs the driver, failing the test on an error.
DriverResult RunDriver(Graph& g, const RuleSet& rules, DriverOptions options = {}) {
  auto r = ApplyRules(g, rules, options);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return DriverResult();
  }
  return *std::move(r);
}

constexpr const char* kWhisperLinear = R"(
graph @whisper_logits(
    %x: f32[1, 128, 384],
    parameter %p_token_embedding_weight: f32[51864, 384] "token_embedding.weight") {
  %0 = aten::linear.default(%x, %p_token_embedding_weight)
  return %0
}
)";

// ---------------------------------------------------------------------------
// The whisper logits fixture.

TEST(DriverTest, WhisperRuleTurnsTheFixtureIntoOneLinear) {
  auto g = LoadFixture();
  RuleSet rules;
  ASSERT_TRUE(rules.Add(WhisperRule()).ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(r.iterations, 2);
  EXPECT_TRUE(r.still_firing.empty());
  EXPECT_EQ(Numbered(*g), Canon(kWhisperLinear));
  ASSERT_EQ(g->num_nodes(), 1u);
  EXPECT_EQ(g->first_node()->result(0)->type().ToString(), "f32[1, 128, 51864]");
  EXPECT_EQ(g->output(0), g->first_node()->result(0));
  EXPECT_TRUE(Verify(*g).ok());
}

TEST(DriverTest, MmRuleAloneOnTheFixture) {
  auto g = LoadFixture();
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @whisper_logits(
    %x: f32[1, 128, 384],
    parameter %p_token_embedding_weight: f32[51864, 384] "token_embedding.weight") {
  %0 = aten::view_copy.default(%x, [128, 384])
  %1 = aten::linear.default(%0, %p_token_embedding_weight)
  %2 = aten::view_copy.default(%1, [1, 128, 51864])
  return %2
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

// Users are visited before their operands: the whisper rule, rooted at the
// last view_copy, gets its chance before the mm rule, rooted inside it, even
// when the mm rule comes first in the rule set.
TEST(DriverTest, LargerPatternRootedAtTheUserWins) {
  auto g = LoadFixture();
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  ASSERT_TRUE(rules.Add(WhisperRule()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(Numbered(*g), Canon(kWhisperLinear));
  EXPECT_EQ(g->first_node()->result(0)->type().ToString(), "f32[1, 128, 51864]");
  const RuleStats* whisper = r.StatsFor("whisper_logits_to_linear");
  const RuleStats* mm = r.StatsFor("mm_transposed_weight_to_linear");
  ASSERT_NE(whisper, nullptr);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(whisper->applied, 1);
  EXPECT_EQ(mm->applied, 0);
  EXPECT_EQ(mm->tried, 0);  // the mm was gone before its turn
}

// The whisper rule is exact: reshapes other than flatten/unflatten of the
// leading dims are left alone.
TEST(DriverTest, WhisperRuleRefusesOtherReshapes) {
  const char* kOtherOuterView = R"(
graph @g(%x: f32[1, 128, 384], parameter %w: f32[51864, 384]) {
  %permute = aten::permute_copy.default(%w, [1, 0])
  %view = aten::view_copy.default(%x, [128, 384])
  %mm = aten::mm.default(%view, %permute)
  %logits = aten::view_copy.default(%mm, [2, 64, 51864])
  return %logits
}
)";
  auto g = MustParse(kOtherOuterView);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(WhisperRule()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(Numbered(*g), Canon(kOtherOuterView));
  const RuleStats* st = r.StatsFor("whisper_logits_to_linear");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->refused, 1);
  EXPECT_EQ(st->refusals.at("the replacement computes f32[1, 128, 51864] where "
                            "aten::view_copy.default produced f32[2, 64, 51864]"),
            1);

  const char* kOtherInnerView = R"(
graph @g(%x: f32[1, 384, 128], parameter %w: f32[51864, 384]) {
  %permute = aten::permute_copy.default(%w, [1, 0])
  %view = aten::view_copy.default(%x, [128, 384])
  %mm = aten::mm.default(%view, %permute)
  %logits = aten::view_copy.default(%mm, [1, 128, 51864])
  return %logits
}
)";
  g = MustParse(kOtherInnerView);
  r = RunDriver(*g, rules);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(Numbered(*g), Canon(kOtherInnerView));
  EXPECT_EQ(r.StatsFor("whisper_logits_to_linear")
                ->refusals.at("constraint 'dim(x, -1) == dim(W, 1)' fails"),
            1);
}

// The 2-D rule on its own, on every transpose spelling of the weight.
TEST(DriverTest, MmRuleOnEveryTransposeSpelling) {
  auto g = MustParse(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4], buffer %b: f32[3, 4], constant %c: f32[3, 4], %u: f32[3, 4]) {
  %t1 = aten::permute_copy.default(%w, [1, 0])
  %mm1 = aten::mm.default(%x, %t1)
  %t2 = aten::t_copy.default(%b)
  %mm2 = aten::mm.default(%x, %t2)
  %t3 = aten::transpose_copy.int(%c, 1, 0)
  %mm3 = aten::mm.default(%x, %t3)
  %t4 = aten::transpose_copy.int(%u, 0, 1)
  %mm4 = aten::mm.default(%x, %t4)
  %t5 = aten::transpose.int(%w, -1, -2)
  %mm5 = aten::mm.default(%x, %t5)
  return %mm1, %mm2, %mm3, %mm4, %mm5
}
)");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 4);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4], buffer %b: f32[3, 4], constant %c: f32[3, 4], %u: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w)
  %1 = aten::linear.default(%x, %b)
  %2 = aten::linear.default(%x, %c)
  %3 = aten::transpose_copy.int(%u, 0, 1)
  %4 = aten::mm.default(%x, %3)
  %5 = aten::linear.default(%x, %w)
  return %0, %1, %2, %4, %5
}
)"));
}

// ---------------------------------------------------------------------------
// Fixpoints.

TEST(DriverTest, ChainNeedingSeveralRewritesReachesAFixpoint) {
  const char* kChain = R"(
graph @views(%x: f32[2, 3, 4]) {
  %v1 = aten::view_copy.default(%x, [6, 4])
  %v2 = aten::view_copy.default(%v1, [24])
  %v3 = aten::view_copy.default(%v2, [4, 6])
  %v4 = aten::view_copy.default(%v3, [2, 12])
  %v5 = aten::view_copy.default(%v4, [3, 8])
  %out = aten::relu.default(%v5)
  return %out
}
)";
  auto g = MustParse(kChain);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(ViewOfView()).ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 4);
  EXPECT_EQ(r.iterations, 2);  // one sweep does it all, one more to confirm
  EXPECT_TRUE(r.still_firing.empty());
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @views(%x: f32[2, 3, 4]) {
  %0 = aten::view_copy.default(%x, [3, 8])
  %1 = aten::relu.default(%0)
  return %1
}
)"));
  EXPECT_EQ(r.StatsFor("view_of_view")->applied, 4);

  // With one sweep allowed, the work is done but not confirmed.
  g = MustParse(kChain);
  options.max_iterations = 1;
  r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_EQ(r.rewrites, 4);
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"view_of_view"});
}

// A rewrite that becomes legal only once another rule removed an outside
// use is picked up by a later sweep; max_iterations bounds the sweeps.
TEST(DriverTest, LaterSweepsPickUpNewlyLegalRewrites) {
  const char* kText = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %r = aten::relu.default(%t)
  %mm = aten::mm.default(%x, %t)
  return %mm, %r
}
)";
  Var W("W");
  // relu(t(w)) -> t(relu(w)), allowed to keep the t the mm still uses.
  auto make_rules = [&] {
    RuleSet rules;
    EXPECT_TRUE(rules.Add(MmRule()).ok());
    EXPECT_TRUE(
        rules.Add(rule("relu_of_transpose", m::relu(m::t_copy(W)), m::t_copy(m::relu(W)))
                      .AllowDuplication())
            .ok());
    return rules;
  };
  const char* kDone = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::relu.default(%w)
  %1 = aten::t_copy.default(%0)
  %2 = aten::linear.default(%x, %w)
  return %2, %1
}
)";
  auto g = MustParse(kText);
  RuleSet rules = make_rules();
  DriverResult r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(Numbered(*g), Canon(kDone));
  const RuleStats* mm = r.StatsFor("mm_transposed_weight_to_linear");
  EXPECT_EQ(mm->applied, 1);
  EXPECT_GE(mm->refused, 1);
  EXPECT_EQ(mm->refusals.at(
                "%t (aten::t_copy.default) inside the match is also used by %r = aten::relu.default"),
            mm->refused);

  g = MustParse(kText);
  DriverOptions options;
  options.max_iterations = 1;
  r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"relu_of_transpose"});
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->applied, 0);
}

// A multi-result root through the driver: every result is replaced, the
// rewritten node does not match again, the verifier passes each step.
TEST(DriverTest, MultiResultRuleReachesAFixpoint) {
  auto g = MustParse(R"(
graph @ln(%x: f32[2, 8], %w: f32[8], %b: f32[8]) {
  %y, %mean, %rstd = aten::native_layer_norm.default(%x, [8], %w, %b, 1e-05)
  %m = aten::relu.default(%mean)
  %z, %mean2, %rstd2 = aten::native_layer_norm.default(%y, [8], None, None, 1e-05)
  return %z, %m, %rstd, %rstd2
}
)");
  Var x("x"), s("s"), w("w"), b("b");
  RuleSet rules;
  ASSERT_TRUE(rules
                  .Add(rule("ln_eps", m::native_layer_norm(x, s, w, b, m::f(1e-5)),
                            m::native_layer_norm(x, s, w, b, m::f(1e-6))))
                  .ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @ln(%x: f32[2, 8], %w: f32[8], %b: f32[8]) {
  %0, %1, %2 = aten::native_layer_norm.default(%x, [8], %w, %b, 1e-06)
  %3 = aten::relu.default(%1)
  %4, %5, %6 = aten::native_layer_norm.default(%0, [8], None, None, 1e-06)
  return %4, %3, %2, %6
}
)"));
}

// ---------------------------------------------------------------------------
// Benefit order.

constexpr const char* kMm = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  return %mm
}
)";

RuleBuilder MmToMatmul() {
  Var x("x"), y("y");
  return rule("mm_to_matmul", m::mm(x, y), m::matmul(x, y));
}

TEST(DriverTest, HigherBenefitWinsOnTheSameRoot) {
  auto g = MustParse(kMm);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmToMatmul()).ok());  // benefit 1, first
  ASSERT_TRUE(rules.Add(MmRule()).ok());      // benefit 2
  DriverResult r = RunDriver(*g, rules);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w)
  return %0
}
)"));
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->applied, 1);
  EXPECT_EQ(r.StatsFor("mm_to_matmul")->applied, 0);
  EXPECT_EQ(r.StatsFor("mm_to_matmul")->tried, 0);

  // An explicit benefit overrides the op count.
  g = MustParse(kMm);
  RuleSet boosted;
  ASSERT_TRUE(boosted.Add(MmRule()).ok());
  ASSERT_TRUE(boosted.Add(MmToMatmul().Benefit(3)).ok());
  r = RunDriver(*g, boosted);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::t_copy.default(%w)
  %1 = aten::matmul.default(%x, %0)
  return %1
}
)"));
  EXPECT_EQ(r.StatsFor("mm_to_matmul")->applied, 1);
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->applied, 0);
}

TEST(DriverTest, TiesGoToTheEarlierRule) {
  Var x("x"), W("W");
  auto to_matmul = [&] {
    return rule("mm_transposed_to_matmul", m::mm(x, m::transpose(m::constant(W))),
                m::matmul(x, m::transpose(W)));
  };
  const char* kLinear = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w)
  return %0
}
)";
  const char* kMatmul = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::permute_copy.default(%w, [1, 0])
  %1 = aten::matmul.default(%x, %0)
  return %1
}
)";
  auto g = MustParse(kMm);
  RuleSet linear_first;
  ASSERT_TRUE(linear_first.Add(MmRule()).ok());
  ASSERT_TRUE(linear_first.Add(to_matmul()).ok());
  ASSERT_EQ(linear_first[0].benefit(), linear_first[1].benefit());
  RunDriver(*g, linear_first);
  EXPECT_EQ(Numbered(*g), Canon(kLinear));

  g = MustParse(kMm);
  RuleSet matmul_first;
  ASSERT_TRUE(matmul_first.Add(to_matmul()).ok());
  ASSERT_TRUE(matmul_first.Add(MmRule()).ok());
  RunDriver(*g, matmul_first);
  EXPECT_EQ(Numbered(*g), Canon(kMatmul));
}

// A refused rule lets the next candidate try the same root.
TEST(DriverTest, RefusedRuleFallsThroughToTheNextCandidate) {
  auto g = MustParse(kMm);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule().Where("never", [](const MatchState&) { return false; })).ok());
  ASSERT_TRUE(rules.Add(MmToMatmul()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->refused, 1);
  EXPECT_EQ(r.StatsFor("mm_to_matmul")->applied, 1);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::t_copy.default(%w)
  %1 = aten::matmul.default(%x, %0)
  return %1
}
)"));
}

// ---------------------------------------------------------------------------
// Caps and the non-convergence report.

TEST(DriverTest, RuleAndItsInverseDoNotConverge) {
  const char* kText = R"(
graph @g(%a: f32[2, 4]) {
  %r = aten::relu.default(%a)
  return %r
}
)";
  Var x("x");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("relu_to_gelu", m::relu(x), m::gelu(x))).ok());
  ASSERT_TRUE(rules.Add(rule("gelu_to_relu", m::gelu(x), m::relu(x))).ok());
  auto g = MustParse(kText);
  DriverOptions options;
  options.max_rewrites = 7;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.rewrites, 7);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_EQ(r.still_firing, (std::vector<std::string>{"gelu_to_relu", "relu_to_gelu"}));
  EXPECT_EQ(r.StatsFor("relu_to_gelu")->applied, 4);
  EXPECT_EQ(r.StatsFor("gelu_to_relu")->applied, 3);
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[2, 4]) {
  %0 = aten::gelu.default(%a)
  return %0
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
  std::string report = r.Report();
  EXPECT_TRUE(absl::StrContains(report, "DID NOT CONVERGE after 1 iteration(s), 7 rewrite(s)"))
      << report;
  EXPECT_TRUE(absl::StrContains(report, "rules still firing: gelu_to_relu, relu_to_gelu"))
      << report;

  // The default cap: 8 rewrites per node plus 1000.
  g = MustParse(kText);
  r = RunDriver(*g, rules);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.rewrites, 8 * 1 + 1000);
  EXPECT_EQ(r.still_firing, (std::vector<std::string>{"gelu_to_relu", "relu_to_gelu"}));
  EXPECT_EQ(Numbered(*g), Canon(kText));
}

TEST(DriverTest, CallbackInversePairDoesNotConverge) {
  Var x("x");
  auto t_to_permute = rule("t_to_permute", m::t_copy(x),
                           [x](Rewriter& rw, Node*, const MatchState& s) {
                             return rw.Op("permute_copy", {s.value(x), Literal::Ints({1, 0})});
                           });
  auto permute_to_t = rule("permute_to_t", m::permute_copy(x, m::ints({1, 0})),
                           [x](Rewriter& rw, Node*, const MatchState& s) {
                             return rw.Op("t_copy", {s.value(x)});
                           });
  RuleSet rules;
  ASSERT_TRUE(rules.Add(std::move(t_to_permute)).ok());
  ASSERT_TRUE(rules.Add(std::move(permute_to_t)).ok());
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4], %b: f32[2, 4]) {
  %t = aten::t_copy.default(%a)
  %p = aten::permute_copy.default(%b, [1, 0])
  %sum = aten::add.Tensor(%t, %p)
  return %sum
}
)");
  DriverOptions options;
  options.max_rewrites = 10;
  options.max_iterations = 100;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.rewrites, 10);
  EXPECT_EQ(r.still_firing, (std::vector<std::string>{"permute_to_t", "t_to_permute"}));
  EXPECT_EQ(r.StatsFor("t_to_permute")->applied + r.StatsFor("permute_to_t")->applied, 10);
  EXPECT_TRUE(Verify(*g).ok());
  EXPECT_EQ(g->num_nodes(), 3u);
}

// ---------------------------------------------------------------------------
// verify_each.

TEST(DriverTest, VerifyEachNamesTheRuleThatBrokeTheGraph) {
  const char* kText = R"(
graph @g(%a: f32[2, 4], %b: f32[2, 4]) {
  %s = aten::add.Tensor(%a, %b)
  %v = aten::view_copy.default(%s, [8])
  return %v
}
)";
  Var x("x");
  // Declares the type the root had instead of what the op computes, so
  // the rule's own type check passes and only the verifier sees it.
  auto broken = [&] {
    return rule("broken_view", m::view_copy(x, m::ints({8})),
                [x](Rewriter& rw, Node* root, const MatchState& s) -> absl::StatusOr<Value*> {
                  Arg args[] = {s.value(x), Literal::Ints({4, 2})};
                  TensorType types[] = {root->result(0)->type()};
                  return rw.CreateWithTypes(ops::view_copy(), args, types)->result(0);
                });
  };
  RuleSet rules;
  ASSERT_TRUE(rules.Add(broken()).ok());
  auto g = MustParse(kText);
  DriverOptions options;
  options.verify_each = true;
  auto r = ApplyRules(*g, rules, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(r.status().message(),
            "rule 'broken_view' broke the graph: node %v = aten::view_copy.default: result 0 has "
            "type f32[8] but the op computes f32[4, 2]");

  // Without verify_each the driver does not notice; the verifier does.
  g = MustParse(kText);
  options.verify_each = false;
  options.max_iterations = 1;
  DriverResult ok = RunDriver(*g, rules, options);
  EXPECT_EQ(ok.rewrites, 1);
  EXPECT_FALSE(Verify(*g).ok());

  // A rule inserting after the root's users breaks topological order.
  auto at_end = rule("inserts_at_end", m::add(x, m::_),
                     [x](Rewriter& rw, Node*, const MatchState& s) -> absl::StatusOr<Value*> {
                       rw.SetInsertionPoint(nullptr);
                       return rw.Op("relu", {s.value(x)});
                     });
  RuleSet bad_order;
  ASSERT_TRUE(bad_order.Add(std::move(at_end)).ok());
  g = MustParse(kText);
  options.verify_each = true;
  r = ApplyRules(*g, bad_order, options);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               "rule 'inserts_at_end' broke the graph: node %v = "
                               "aten::view_copy.default: argument 0 is not defined before its use"))
      << r.status();
}

TEST(DriverTest, VerifyEachAcceptsGoodRules) {
  auto g = LoadFixture();
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  ASSERT_TRUE(rules.Add(ViewOfView()).ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 1);
}

// ---------------------------------------------------------------------------
// Statistics.

TEST(DriverTest, StatisticsCountTriedMatchedAppliedRefused) {
  auto g = MustParse(R"(
graph @stats(%x: f32[2, 4], parameter %w: f32[3, 4], %v: f32[3, 4]) {
  %t1 = aten::t_copy.default(%w)
  %ok = aten::mm.default(%x, %t1)
  %t2 = aten::t_copy.default(%v)
  %nomatch = aten::mm.default(%x, %t2)
  %t3 = aten::permute_copy.default(%w, [1, 0])
  %shared = aten::mm.default(%x, %t3)
  %keep = aten::relu.default(%t3)
  return %ok, %nomatch, %shared, %keep
}
)");
  Var y("y");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  ASSERT_TRUE(rules
                  .Add(rule("relu_rank1", m::relu(y), m::gelu(y))
                           .Where("rank(y) == 1",
                                  [y](const MatchState& s) { return rank(s, y) == 1; }))
                  .ok());
  DriverOptions options;
  options.timing = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.iterations, 2);
  EXPECT_EQ(r.rewrites, 1);
  ASSERT_EQ(r.stats.size(), 2u);
  EXPECT_EQ(r.stats[0].first, "mm_transposed_weight_to_linear");
  EXPECT_EQ(r.stats[1].first, "relu_rank1");

  // Sweep 1 tries the three mms (one applies, one is refused); sweep 2
  // tries the two left (the refusal again).
  const RuleStats& mm = r.stats[0].second;
  EXPECT_EQ(mm.tried, 5);
  EXPECT_EQ(mm.matched, 3);
  EXPECT_EQ(mm.applied, 1);
  EXPECT_EQ(mm.refused, 2);
  ASSERT_EQ(mm.refusals.size(), 1u);
  EXPECT_EQ(mm.refusals.at("%t3 (aten::permute_copy.default) inside the match is also used by "
                           "%keep = aten::relu.default"),
            2);
  EXPECT_GT(mm.nanos, 0);

  const RuleStats& relu = r.stats[1].second;
  EXPECT_EQ(relu.tried, 2);
  EXPECT_EQ(relu.matched, 2);
  EXPECT_EQ(relu.applied, 0);
  EXPECT_EQ(relu.refused, 2);
  ASSERT_EQ(relu.refusals.size(), 1u);
  EXPECT_EQ(relu.refusals.at("constraint 'rank(y) == 1' fails"), 2);

  std::string report = r.Report();
  EXPECT_TRUE(absl::StrContains(report, "refused 2 x: constraint 'rank(y) == 1' fails")) << report;
  EXPECT_TRUE(absl::StrContains(report, "converged after 2 iteration(s), 1 rewrite(s)")) << report;
  EXPECT_FALSE(absl::StrContains(report, "still firing")) << report;
}

TEST(DriverTest, NoTimingWithoutTheOption) {
  auto g = MustParse(kMm);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->nanos, 0);
  EXPECT_EQ(r.StatsFor("mm_transposed_weight_to_linear")->tried, 1);
  EXPECT_EQ(r.StatsFor("nope"), nullptr);
}

// ---------------------------------------------------------------------------
// only / disabled.

TEST(DriverTest, OnlyAndDisabledSelectRules) {
  auto make = [] {
    RuleSet rules;
    EXPECT_TRUE(rules.Add(MmRule()).ok());
    EXPECT_TRUE(rules.Add(ViewOfView()).ok());
    return rules;
  };
  const char* kText = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  %v1 = aten::view_copy.default(%mm, [6])
  %v2 = aten::view_copy.default(%v1, [3, 2])
  return %v2
}
)";
  RuleSet rules = make();
  auto g = MustParse(kText);
  DriverOptions only;
  only.only = {"view_of_view"};
  DriverResult r = RunDriver(*g, rules, only);
  ASSERT_EQ(r.stats.size(), 1u);
  EXPECT_EQ(r.stats[0].first, "view_of_view");
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::t_copy.default(%w)
  %1 = aten::mm.default(%x, %0)
  %2 = aten::view_copy.default(%1, [3, 2])
  return %2
}
)"));

  g = MustParse(kText);
  DriverOptions disabled;
  disabled.disabled = {"view_of_view"};
  r = RunDriver(*g, rules, disabled);
  ASSERT_EQ(r.stats.size(), 1u);
  EXPECT_EQ(r.stats[0].first, "mm_transposed_weight_to_linear");
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %0 = aten::linear.default(%x, %w)
  %1 = aten::view_copy.default(%0, [6])
  %2 = aten::view_copy.default(%1, [3, 2])
  return %2
}
)"));

  // Both lists: only what is listed and not disabled.
  g = MustParse(kText);
  DriverOptions both;
  both.only = {"view_of_view", "mm_transposed_weight_to_linear"};
  both.disabled = {"mm_transposed_weight_to_linear"};
  r = RunDriver(*g, rules, both);
  ASSERT_EQ(r.stats.size(), 1u);
  EXPECT_EQ(r.stats[0].first, "view_of_view");
  EXPECT_EQ(r.rewrites, 1);

  // Everything disabled: nothing changes.
  g = MustParse(kText);
  DriverOptions none;
  none.disabled = {"view_of_view", "mm_transposed_weight_to_linear"};
  r = RunDriver(*g, rules, none);
  EXPECT_TRUE(r.stats.empty());
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(Numbered(*g), Canon(kText));
}

// ---------------------------------------------------------------------------
// Dead nodes.

TEST(DriverTest, DeadNodesAreErased) {
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4]) {
  %d1 = aten::relu.default(%a)
  %d2 = aten::gelu.default(%d1)
  %live = aten::clone.default(%a)
  %d3 = aten::mul.Tensor(%live, %live)
  %effect = aten::my_effect.default(%a) : f32[2, 4]
  return %live
}
)");
  RuleSet none;
  DriverResult r = RunDriver(*g, none);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(r.dead_erased, 3);
  EXPECT_EQ(r.iterations, 1);
  // Opaque ops may have effects: kept.
  EXPECT_EQ(Numbered(*g), Canon(R"(
graph @g(%a: f32[2, 4]) {
  %0 = aten::clone.default(%a)
  %1 = aten::my_effect.default(%a) : f32[2, 4]
  return %0
}
)"));
  EXPECT_TRUE(Verify(*g).ok());
}

// Matched nodes that die with the rewrite are erased by it; nodes kept
// alive by other users stay.
TEST(DriverTest, RewriteErasesTheMatchedNodesThatDied) {
  auto g = LoadFixture();
  ASSERT_EQ(g->num_nodes(), 4u);
  RuleSet rules;
  ASSERT_TRUE(rules.Add(WhisperRule()).ok());
  DriverResult r = RunDriver(*g, rules);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(g->num_nodes(), 1u);
  EXPECT_EQ(r.dead_erased, 0);  // erased by the rewrite, not found dead later
  EXPECT_EQ(g->inputs()[0]->num_uses(), 1u);
  EXPECT_EQ(g->inputs()[1]->num_uses(), 1u);
}

// ---------------------------------------------------------------------------
// Explain.

TEST(DriverTest, ExplainOnTheFixture) {
  auto g = LoadFixture();
  std::unique_ptr<Rule> whisper = WhisperRule();
  std::vector<ExplainLine> lines = Explain(*g, *whisper);
  ASSERT_EQ(lines.size(), 2u);  // the two view_copy nodes
  EXPECT_EQ(lines[0].node, "%view = aten::view_copy.default");
  EXPECT_FALSE(lines[0].matched);
  EXPECT_EQ(lines[0].where, "operand 0");
  EXPECT_EQ(lines[0].reason, "expected mm, got %x (input)");
  EXPECT_EQ(lines[1].node, "%logits = aten::view_copy.default");
  EXPECT_TRUE(lines[1].matched);
  EXPECT_EQ(lines[1].where, "root");
  EXPECT_EQ(lines[1].reason, "matches");
  // The match covers view_copy(mm(view_copy, permute_copy)), root first.
  ASSERT_EQ(lines[1].covered.size(), 4u);
  EXPECT_EQ(lines[1].covered[0], lines[1].root);
  EXPECT_TRUE(lines[0].covered.empty());

  // A rule that wants t_copy where the fixture has permute_copy.
  Var x("x"), W("W");
  std::unique_ptr<Rule> t_only =
      rule("mm_t_copy", m::mm(x, m::t_copy(m::constant(W))), m::linear(x, W));
  lines = Explain(*g, *t_only);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].node, "%mm = aten::mm.default");
  EXPECT_FALSE(lines[0].matched);
  EXPECT_EQ(lines[0].where, "operand 1");
  EXPECT_EQ(lines[0].reason, "expected t_copy, got permute_copy");

  // A rule that matches but whose constraint fails says which.
  std::unique_ptr<Rule> constrained =
      MmRule().Where("never", [](const MatchState&) { return false; });
  lines = Explain(*g, *constrained);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].matched);
  EXPECT_EQ(lines[0].reason, "matches, but constraint 'never' fails");

  // A rule wanting a user input for the weight fails one level deeper.
  std::unique_ptr<Rule> input_w =
      rule("mm_input_w", m::mm(x, m::transpose(m::input(W))), m::linear(x, W));
  lines = Explain(*g, *input_w);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].where, "operand 0 of operand 1");
  EXPECT_EQ(lines[0].reason, "expected an input, got %p_token_embedding_weight (parameter)");

  // Explaining changes nothing.
  EXPECT_EQ(g->num_nodes(), 4u);
  EXPECT_TRUE(Verify(*g).ok());
}

TEST(DriverTest, ExplainListsEveryNodeForAnyRootRule) {
  auto g = LoadFixture();
  Var x("x");
  std::unique_ptr<Rule> any = rule("rank1", m::has_rank(x, 1), x);
  std::vector<ExplainLine> lines = Explain(*g, *any);
  ASSERT_EQ(lines.size(), 4u);
  for (const ExplainLine& l : lines) {
    EXPECT_FALSE(l.matched) << l.node;
    EXPECT_TRUE(absl::StrContains(l.reason, "fails 'rank == 1'")) << l.reason;
  }
  EXPECT_EQ(lines[0].reason, "%permute = aten::permute_copy.default fails 'rank == 1'");
}


// ---------------------------------------------------------------------------
// Regressions.

// A run that stopped early (verify_each) used to leave the worklist's
// queued marks on nodes, so a later run on the same graph skipped them.
TEST(DriverTest, RunAfterAFailedVerifyEachVisitsEveryNode) {
  auto g = MustParse(R"(
graph @g(%a: f32[2, 4], %b: f32[2, 4]) {
  %s = aten::add.Tensor(%a, %b)
  %v = aten::view_copy.default(%s, [8])
  return %v
}
)");
  Var x("x"), y("y");
  RuleSet broken;
  ASSERT_TRUE(broken
                  .Add(rule("broken_view", m::view_copy(x, m::ints({8})),
                            [x](Rewriter& rw, Node* root,
                                const MatchState& s) -> absl::StatusOr<Value*> {
                              Arg args[] = {s.value(x), Literal::Ints({4, 2})};
                              TensorType types[] = {root->result(0)->type()};
                              return rw.CreateWithTypes(ops::view_copy(), args, types)
                                  ->result(0);
                            }))
                  .ok());
  DriverOptions options;
  options.verify_each = true;
  ASSERT_FALSE(ApplyRules(*g, broken, options).ok());
  for (Node* n : g->nodes()) EXPECT_EQ(n->scratch(), 0u) << NodeLabel(*g, n);

  RuleSet add_to_mul;
  ASSERT_TRUE(add_to_mul.Add(rule("add_to_mul", m::add(x, y), m::mul(x, y))).ok());
  DriverResult r = RunDriver(*g, add_to_mul);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(r.StatsFor("add_to_mul")->tried, 1);
  // (The broken view stays: the text form cannot even be parsed back.)
  EXPECT_EQ(Numbered(*g),
            "graph @g(\n"
            "    %a: f32[2, 4],\n"
            "    %b: f32[2, 4]) {\n"
            "  %0 = aten::mul.Tensor(%a, %b) : f32[2, 4]\n"
            "  %1 = aten::view_copy.default(%0, [4, 2]) : f32[8]\n"
            "  return %1\n"
            "}\n");
}

// max_rewrites = 0 used to allow one rewrite, and to report convergence
// after visiting a single node.
TEST(DriverTest, ZeroRewriteCapRewritesNothing) {
  const char* kText = R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::t_copy.default(%w)
  %mm = aten::mm.default(%x, %t)
  %r = aten::relu.default(%mm)
  return %r
}
)";
  RuleSet rules;
  ASSERT_TRUE(rules.Add(MmRule()).ok());
  DriverOptions options;
  options.max_rewrites = 0;
  for (const char* text : {kMm, kText}) {
    auto g = MustParse(text);
    DriverResult r = RunDriver(*g, rules, options);
    EXPECT_FALSE(r.converged);
    EXPECT_EQ(r.rewrites, 0);
    EXPECT_EQ(Numbered(*g), Canon(text));
  }
  // A cap of one allows exactly one.
  auto g = MustParse(kText);
  options.max_rewrites = 1;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"mm_transposed_weight_to_linear"});
}

// A callback whose replacement uses the root's own result (here: wrap it in
// a clone) used to be applied: replacing the root's uses rewired the clone
// onto itself. It is refused, once per sweep (rolling the clone back must
// not re-queue the root); the graph is unchanged.
TEST(DriverTest, SelfReferentialReplacementIsRefused) {
  const char* kText = R"(
graph @g(%a: f32[2, 4]) {
  %r = aten::relu.default(%a)
  %o = aten::gelu.default(%r)
  return %o
}
)";
  auto g = MustParse(kText);
  Var x("x");
  RuleSet rules;
  int calls = 0;
  ASSERT_TRUE(rules
                  .Add(rule("clone_after_relu", m::relu(x),
                            [&calls](Rewriter& rw, Node* root,
                                     const MatchState&) -> absl::StatusOr<Value*> {
                              // Guards the test against an endless retry.
                              if (++calls > 3) return absl::AbortedError("retried");
                              return rw.Op("clone", {root->result(0)});
                            }))
                  .ok());
  DriverOptions options;
  options.verify_each = true;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(calls, 1);
  const RuleStats* st = r.StatsFor("clone_after_relu");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->tried, 1);
  EXPECT_EQ(st->refused, 1);
  EXPECT_EQ(st->refusals.size(), 1u);
  EXPECT_EQ(st->refusals.at(
                "the replacement depends on %r, a result of the aten::relu.default it replaces"),
            1);
  EXPECT_EQ(Numbered(*g), Canon(kText));
  EXPECT_TRUE(Verify(*g).ok());
}

// ---------------------------------------------------------------------------
// Growth, and work that stays linear.

// A chain relu(relu(...relu(x))) of `n` nodes.
std::unique_ptr<Graph> ReluChain(int n) {
  auto g = std::make_unique<Graph>("chain");
  Value* x = g->AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
  Builder b(*g, Ops());
  for (int i = 0; i < n; ++i) x = (*b.Create("relu", {x}))->result();
  g->AddOutput(x);
  return g;
}

// relu(v) -> add(relu(v), relu(v)): each rewrite adds two nodes net and
// makes two new sites, so it never converges; every new relu also uses the
// same v, whose fan-out grows with each rewrite.
RuleSet GrowingRules() {
  Var v("v");
  RuleSet rules;
  EXPECT_TRUE(rules.Add(rule("grow", m::relu(v), m::add(m::relu(v), m::relu(v)))).ok());
  return rules;
}

// Without a growth cap the driver ran to max_rewrites (here 1800 rewrites
// and 3700 nodes, 37x the input); with one it stops at the first rewrite
// past max_growth x the input + growth_slack, says so, and the graph still
// verifies.
TEST(DriverTest, GrowingRuleStopsAtTheGrowthCap) {
  auto g = ReluChain(100);
  DriverOptions options;
  options.max_growth = 2;
  options.growth_slack = 50;
  DriverResult r = RunDriver(*g, GrowingRules(), options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_growth");
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"grow"});
  EXPECT_EQ(g->num_nodes(), 252u);  // 100 + 2 per rewrite, first past 250
  EXPECT_EQ(r.rewrites, 76);
  EXPECT_EQ(r.stop_reason,
            "max_growth: the graph grew from 100 to 252 nodes, past its cap of 250 (2 x 100 + 50)");
  std::string report = r.Report();
  EXPECT_TRUE(absl::StrContains(report, "DID NOT CONVERGE")) << report;
  EXPECT_TRUE(absl::StrContains(report, "stopped by max_growth: ")) << report;
  EXPECT_TRUE(absl::StrContains(report, "rules still firing: grow")) << report;
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);
}

// The defaults alone stop it: 8 x the input + 10000 nodes, before the
// default rewrite cap (8 per node plus 1000) would.
TEST(DriverTest, DefaultGrowthCapStopsAGrowingRule) {
  auto g = ReluChain(1000);
  DriverResult r = RunDriver(*g, GrowingRules());
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_growth");
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"grow"});
  EXPECT_EQ(g->num_nodes(), 8u * 1000 + 10000 + 2);
  EXPECT_LT(r.rewrites, 8 * 1000 + 1000);
  EXPECT_EQ(r.stop_reason,
            "max_growth: the graph grew from 1000 to 18002 nodes, past its cap of 18000 (8 x "
            "1000 + 10000)");
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);

  // With the cap off, max_rewrites stops it, and says so.
  g = ReluChain(1000);
  DriverOptions options;
  options.max_growth = DriverOptions::kNoCap;
  r = RunDriver(*g, GrowingRules(), options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_rewrites");
  EXPECT_EQ(r.rewrites, 9000);
  EXPECT_EQ(r.stop_reason,
            "max_rewrites: 9000 rewrite(s) reached its cap of 9000 (8 per node plus 1000, 1000 "
            "nodes)");
  EXPECT_EQ(g->num_nodes(), 1000u + 2 * 9000);
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);
}

// A rule set that grows the graph by a bounded factor converges under the
// default cap; the cap counts nodes, so a tighter one stops it.
TEST(DriverTest, BoundedGrowthConvergesUnderTheGrowthCap) {
  Var v("v");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("decompose", m::gelu(v), m::relu(m::relu(m::relu(v))))).ok());
  auto chain = [] {
    auto g = std::make_unique<Graph>("chain");
    Value* x = g->AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
    Builder b(*g, Ops());
    for (int i = 0; i < 100; ++i) x = (*b.Create("gelu", {x}))->result();
    g->AddOutput(x);
    return g;
  };
  auto g = chain();
  DriverResult r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.stopped_by, "");
  EXPECT_EQ(r.stop_reason, "");
  EXPECT_EQ(g->num_nodes(), 300u);

  g = chain();
  DriverOptions options;
  options.max_growth = 2;
  options.growth_slack = 0;
  r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_growth");
  EXPECT_EQ(g->num_nodes(), 202u);
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);

  // A huge factor or slack saturates instead of wrapping into a tiny cap.
  g = chain();
  options.max_growth = std::numeric_limits<int>::max();
  options.growth_slack = std::numeric_limits<int64_t>::max();
  r = RunDriver(*g, rules, options);
  EXPECT_TRUE(r.converged);
}

// The other caps are named too.
TEST(DriverTest, StoppedByNamesTheCap) {
  Var x("x");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("relu_to_gelu", m::relu(x), m::gelu(x))).ok());
  ASSERT_TRUE(rules.Add(rule("gelu_to_relu", m::gelu(x), m::relu(x))).ok());
  const char* kText = R"(
graph @g(%a: f32[2, 4]) {
  %r = aten::relu.default(%a)
  return %r
}
)";
  auto g = MustParse(kText);
  DriverOptions options;
  options.max_rewrites = 7;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_EQ(r.stopped_by, "max_rewrites");
  EXPECT_EQ(r.stop_reason, "max_rewrites: 7 rewrite(s) reached its cap of 7");
  EXPECT_TRUE(absl::StrContains(r.Report(), "stopped by max_rewrites: 7 rewrite(s)"))
      << r.Report();

  g = MustParse(kText);
  options.max_rewrites = 0;
  r = RunDriver(*g, rules, options);
  EXPECT_EQ(r.stopped_by, "max_rewrites");

  // A sweep that applies a rewrite is followed by another: one sweep allowed.
  g = MustParse(kText);
  options = DriverOptions();
  options.max_iterations = 1;
  options.max_rewrites = 1000000;
  RuleSet once;
  ASSERT_TRUE(once.Add(rule("relu_to_gelu", m::relu(x), m::gelu(x))).ok());
  r = RunDriver(*g, once, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_iterations");
  EXPECT_EQ(r.stop_reason, "max_iterations: each of the 1 sweep(s) applied a rewrite");

  g = MustParse(kText);
  r = RunDriver(*g, once);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.stopped_by, "");
  EXPECT_EQ(r.Report().find("stopped by"), std::string::npos);
}

// Folding many users onto one shared value: each rewrite re-queues the one
// user whose operand changed, not every user of the shared value (that made
// each rewrite cost the value's fan-out in visits: quadratic, 800M visits
// for 40k users).
TEST(DriverTest, ReplacingUsesRequeuesOnlyTheMovedUsers) {
  constexpr int kUsers = 200;
  Graph g("star");
  Value* x = g.AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
  Builder b(g, Ops());
  for (int i = 0; i < kUsers; ++i) {
    Value* r = (*b.Create("relu", {x}))->result();
    g.AddOutput((*b.Create("add", {r, r}))->result());
  }
  Var v("v");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("drop_relu", m::relu(v), v)).ok());
  DriverResult r = RunDriver(g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rewrites, kUsers);
  EXPECT_EQ(g.num_nodes(), static_cast<size_t>(kUsers));
  EXPECT_EQ(x->num_uses(), 2u * kUsers);
  // Sweep 1: every node, plus each add again after its relu folded; sweep 2:
  // the adds.
  EXPECT_EQ(r.nodes_visited, 4 * kUsers);
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

// A rule growing the graph at a value with many users re-points (and
// re-visits) every user at each rewrite: quadratic under the rewrite and
// growth caps (4000 users: 132M visits). The work cap stops it.
TEST(DriverTest, WorkCapStopsRewritesThatEachMoveALargeFanOut) {
  constexpr int kUsers = 300;
  Graph g("fan_out");
  Value* in = g.AddInput(TensorType::Get(DType::kFloat32, {4}), "in");
  Builder b(g, Ops());
  Value* x = (*b.Create("relu", {in}))->result();
  for (int i = 0; i < kUsers; ++i) g.AddOutput((*b.Create("add", {x, x}))->result());
  Var v("v");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("grow", m::relu(v), m::relu(m::relu(v)))).ok());
  DriverOptions options;
  options.max_work = 4;
  options.work_slack = 1000;  // 4 x 301 + 1000 = 2204
  DriverResult r = RunDriver(g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_work");
  EXPECT_EQ(r.still_firing, std::vector<std::string>{"grow"});
  // Each rewrite moves 2 x 300 uses and re-visits the 300 users.
  EXPECT_LE(r.nodes_visited + r.uses_moved, 2204 + 2 * kUsers);
  EXPECT_GE(r.nodes_visited + r.uses_moved, 2204);
  EXPECT_EQ(r.rewrites, 3);
  EXPECT_TRUE(absl::StrContains(r.stop_reason, "max_work: ")) << r.stop_reason;
  EXPECT_TRUE(absl::StrContains(r.stop_reason, "reached its cap of 2204 (4 per node x 301 + 1000)"))
      << r.stop_reason;
  EXPECT_TRUE(absl::StrContains(r.Report(), "stopped by max_work: ")) << r.Report();
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

// A sweep the work cap cuts short has not proved a fixpoint, even if it had
// rewritten nothing yet.
TEST(DriverTest, WorkCapMidSweepIsNotConvergence) {
  auto g = ReluChain(100);
  Var v("v");
  RuleSet rules;
  ASSERT_TRUE(rules.Add(rule("never", m::gelu(v), v)).ok());
  DriverOptions options;
  options.max_work = 0;
  options.work_slack = 10;
  DriverResult r = RunDriver(*g, rules, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stopped_by, "max_work");
  EXPECT_EQ(r.nodes_visited, 10);
  EXPECT_TRUE(r.still_firing.empty());

  // The default budget is ample for an ordinary fixpoint.
  g = ReluChain(100);
  r = RunDriver(*g, rules);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.nodes_visited, 100);
}

}  // namespace
}  // namespace graft
