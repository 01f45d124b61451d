// A rule written in a rule file and the same rule written with the C++ DSL
// behave identically: on every graph of the catalogue's cases they match the
// same nodes and produce the same graph.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "graft/driver/driver.h"
#include "graft/ir/printer.h"
#include "graft/match/matchers.h"
#include "graft/rewrite/rule.h"
#include "graft/rules/loader.h"
#include "graft/rules/test_cases.h"

namespace graft {
namespace {

namespace m = match;

// The C++ spelling of some catalogue rules, named as in patterns/.
RuleSet DslRules() {
  RuleSet set;
  Var x("x"), W("W"), b("b"), s("s");
  auto add = [&set](std::unique_ptr<Rule> r) { EXPECT_TRUE(set.Add(std::move(r)).ok()); };
  auto dims_match = [=](const MatchState& st) {
    return st.type(b).rank() == 1 && st.type(b).dim(0) == st.type(W).dim(0);
  };
  add(rule("mm_transposed_weight_to_linear", m::mm(x, m::transpose(m::constant(W))),
           m::linear(x, W)));
  auto addmm = rule("addmm_transposed_weight_to_linear",
                    m::addmm(b, x, m::transpose(m::constant(W))), m::linear(x, W, b));
  addmm->Where(dims_match);
  add(std::move(addmm));
  auto add_mm = rule("add_mm_bias_to_linear", m::add(m::mm(x, m::transpose(m::constant(W))), b),
                     m::linear(x, W, b));
  add_mm->Where(dims_match);
  add(std::move(add_mm));
  auto whisper = rule("view_mm_view_to_linear",
                      m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_),
                      m::linear(x, W));
  whisper->Where([=](const MatchState& st) { return st.type(x).dim(-1) == st.type(W).dim(1); });
  add(std::move(whisper));
  add(rule("matmul_transposed_weight_to_linear", m::matmul(x, m::transpose(m::constant(W))),
           m::linear(x, W)));
  add(rule("transpose_of_transpose", m::transpose(m::transpose(x)), x));
  add(rule("identity_permute",
           m::permute_copy(x, m::ints({0})) | m::permute_copy(x, m::ints({0, 1})) |
               m::permute_copy(x, m::ints({0, 1, 2})) | m::permute_copy(x, m::ints({0, 1, 2, 3})) |
               m::permute_copy(x, m::ints({0, 1, 2, 3, 4})),
           x));
  add(rule("view_of_view", m::view_copy(m::view_copy(x, m::_), s), m::view_copy(x, s)));
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
        EXPECT_EQ(Print(**ga, {true}), Print(**gb, {true}));
        ++compared;
        fired += sa->applied > 0;
      }
    }
  }
  EXPECT_GT(compared, 300);
  EXPECT_GE(fired, 15);  // the comparison saw real rewrites, not only silence
}

}  // namespace
}  // namespace graft
