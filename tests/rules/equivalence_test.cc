// A rule written in a rule file and the same rule written with the C++ DSL
// behave identically: on every graph of the catalogue's cases they match the
// same nodes and produce the same graph.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "graft/driver/driver.h"
#include "graft/ir/printer.h"
#include "graft/match/matchers.h"
#include "graft/rewrite/rule.h"
#include "graft/rewrite/sym_int.h"
#include "graft/rules/loader.h"
#include "graft/rules/test_cases.h"

namespace graft {
namespace {

namespace m = match;

// The C++ spelling of some catalogue rules, named as in patterns/.
RuleSet DslRules() {
  RuleSet set;
  Var x("x"), W("W"), b("b"), s("s"), d("d");
  auto add = [&set](std::unique_ptr<Rule> r) { EXPECT_TRUE(set.Add(std::move(r)).ok()); };
  // The constraints of patterns/linear.rules, under the same labels.
  auto bias_fits = [=](RuleBuilder r) {
    return std::move(r)
        .Where("rank(b) == 1", [=](const MatchState& st) { return rank(st, b) == 1; })
        .Where("dim(b, 0) == dim(W, 0)",
               [=](const MatchState& st) { return dim(st, b, 0) == dim(st, W, 0); });
  };
  add(rule("mm_transposed_weight_to_linear", m::mm(x, m::transpose(m::constant(W))),
           m::linear(x, W)));
  add(bias_fits(rule("addmm_transposed_weight_to_linear",
                     m::addmm(m::constant(b), x, m::transpose(m::constant(W))),
                     m::linear(x, W, b))));
  add(bias_fits(rule("add_mm_bias_to_linear",
                     m::add(m::mm(x, m::transpose(m::constant(W))), m::constant(b)),
                     m::linear(x, W, b))));
  add(rule("view_mm_view_to_linear",
           m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_),
           m::linear(x, W))
          .Where("dim(x, -1) == dim(W, 1)",
                 [=](const MatchState& st) { return dim(st, x, -1) == dim(st, W, 1); }));
  add(rule("matmul_transposed_weight_to_linear", m::matmul(x, m::transpose(m::constant(W))),
           m::linear(x, W)));
  add(rule("transpose_of_transpose", m::transpose(m::transpose(x)), x));
  add(rule("identity_permute",
           m::permute_copy(x, m::ints({0})) | m::permute_copy(x, m::ints({0, 1})) |
               m::permute_copy(x, m::ints({0, 1, 2})) | m::permute_copy(x, m::ints({0, 1, 2, 3})) |
               m::permute_copy(x, m::ints({0, 1, 2, 3, 4})),
           x));
  add(rule("view_of_view", m::view_copy(m::view_copy(x, m::_), s), m::view_copy(x, s)));
  // Rules over ops of the generated table, by their one name.
  add(rule("clamp_min_zero_to_relu", m::clamp(x, 0) | m::clamp(x, 0.0), m::relu(x)));
  add(rule("squeeze_of_unsqueeze",
           m::squeeze_copy_dim(m::unsqueeze_copy(x, d), d) | m::squeeze_dim(m::unsqueeze(x, d), d),
           x));
  add(rule("add_zero", m::add_Scalar(x, 0) | m::add_Scalar(x, 0.0), x));
  return set;
}

TEST(EquivalenceTest, RuleFileAndDslAgreeOnEveryCatalogueCase) {
  absl::StatusOr<RuleSet> file_rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(file_rules.ok()) << file_rules.status();
  RuleSet dsl = DslRules();
  int compared = 0, fired = 0;
  for (const auto& entry : std::filesystem::directory_iterator("patterns")) {
    if (entry.path().extension() != ".cases") continue;
    // Two copies of every graph: one per spelling.
    auto a = rules::LoadCases(entry.path().string());
    auto b = rules::LoadCases(entry.path().string());
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t i = 0; i < a->size(); ++i) {
      for (const auto& rule : dsl) {
        const std::string& name = rule->name();
        SCOPED_TRACE(name + " on " + (*a)[i].title);
        ASSERT_NE(file_rules->Find(name), nullptr);
        // Fresh graphs for each rule.
        auto ga = ParseGraph(Print(*(*a)[i].before), Ops());
        auto gb = ParseGraph(Print(*(*b)[i].before), Ops());
        ASSERT_TRUE(ga.ok() && gb.ok());
        DriverOptions only;
        only.only = {name};
        auto ra = ApplyRules(**ga, *file_rules, only);
        auto rb = ApplyRules(**gb, dsl, only);
        ASSERT_TRUE(ra.ok() && rb.ok());
        const RuleStats* sa = ra->StatsFor(name);
        const RuleStats* sb = rb->StatsFor(name);
        EXPECT_EQ(sa->tried, sb->tried);
        EXPECT_EQ(sa->matched, sb->matched);
        EXPECT_EQ(sa->applied, sb->applied);
        EXPECT_EQ(sa->refusals, sb->refusals);  // the same constraints, labels and reasons
        EXPECT_EQ(Print(**ga, {true}), Print(**gb, {true}));
        ++compared;
        fired += sa->applied > 0;
      }
    }
  }
  EXPECT_GT(compared, 300);
  EXPECT_GE(fired, 15);  // the comparison saw real rewrites, not only silence
}

// A C++ constraint built on rank/dim/numel decides as its rule-file
// spelling on every kind of type: static, symbolic, too large to count.
TEST(EquivalenceTest, CppAndRuleFileConstraintsAgree) {
  Var x("x");
  struct Case {
    const char* text;
    Rule::Predicate holds;
  };
  const Case cases[] = {
      {"rank(x) == 2", [x](const MatchState& s) { return rank(s, x) == 2; }},
      {"dim(x, -1) == 3", [x](const MatchState& s) { return dim(s, x, -1) == 3; }},
      {"dim(x, 0) != 4", [x](const MatchState& s) { return dim(s, x, 0) != 4; }},
      {"dim(x, 1) >= 0", [x](const MatchState& s) { return dim(s, x, 1) >= 0; }},
      {"dim(x, 0) == dim(x, -1)",
       [x](const MatchState& s) { return dim(s, x, 0) == dim(s, x, -1); }},
      {"dim(x, 0) + 1 > 1", [x](const MatchState& s) { return dim(s, x, 0) + 1 > 1; }},
      {"numel(x) > 0", [x](const MatchState& s) { return numel(s, x) > 0; }},
      {"numel(x) * 4611686018427387904 != 1",
       [x](const MatchState& s) { return numel(s, x) * 4611686018427387904 != 1; }},
      {"numel(x) / (rank(x) - 1) == 0",
       [x](const MatchState& s) { return numel(s, x) / (rank(s, x) - 1) == 0; }},
  };
  const char* types[] = {"f32[4]", "f32[2, 3]", "f32[eq_test_s0]", "f32[eq_test_s0, 3]",
                         "f32[4611686018427387904, 4]"};
  int fired = 0, silent = 0;
  for (const Case& c : cases) {
    absl::StatusOr<RuleSet> file = rules::ParseRules(
        absl::StrCat("rule r:\n  relu(x) -> gelu(x)\n  where ", c.text, "\n"), "t.rules");
    ASSERT_TRUE(file.ok()) << file.status();
    RuleSet cpp;
    ASSERT_TRUE(cpp.Add(rule("r", m::relu(x), m::gelu(x)).Where(c.text, c.holds)).ok());
    for (const char* type : types) {
      SCOPED_TRACE(absl::StrCat(c.text, " on ", type));
      std::string text =
          absl::StrCat("graph @g(%x: ", type, ") {\n  %y = aten::relu.default(%x)\n  return %y\n}");
      auto ga = ParseGraph(text, Ops()), gb = ParseGraph(text, Ops());
      ASSERT_TRUE(ga.ok() && gb.ok());
      auto ra = ApplyRules(**ga, *file), rb = ApplyRules(**gb, cpp);
      ASSERT_TRUE(ra.ok() && rb.ok());
      EXPECT_EQ(ra->rewrites, rb->rewrites);
      EXPECT_EQ(ra->StatsFor("r")->refused, rb->StatsFor("r")->refused);
      (ra->rewrites ? fired : silent) += 1;
    }
  }
  // Both outcomes were seen, not only silence.
  EXPECT_GT(fired, 10);
  EXPECT_GT(silent, 10);
}

}  // namespace
}  // namespace graft
