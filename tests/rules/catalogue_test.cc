// The rule catalogue in patterns/: it loads, every case in patterns/*.cases
// holds, and every rule has at least one case where it fires and one where
// it must stay silent.
#include <filesystem>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "graft/rules/loader.h"
#include "graft/rules/test_cases.h"

namespace graft {
namespace {

TEST(CatalogueTest, EveryCaseHoldsAndEveryRuleIsCovered) {
  absl::StatusOr<RuleSet> rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_GE(rules->size(), 10u);
  std::map<std::string, std::pair<int, int>> coverage;  // rule -> (fires, silent)
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("patterns")) {
    if (entry.path().extension() != ".cases") continue;
    auto cases = rules::LoadCases(entry.path().string());
    ASSERT_TRUE(cases.ok()) << cases.status();
    for (rules::RuleCase& c : *cases) {
      SCOPED_TRACE(c.title);
      EXPECT_TRUE(rules::CheckCase(*rules, c).ok()) << rules::CheckCase(*rules, c);
      (c.fires ? coverage[c.rule].first : coverage[c.rule].second)++;
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);
  for (const auto& r : *rules) {
    EXPECT_GE(coverage[r->name()].first, 1) << r->name() << " has no case where it fires";
    EXPECT_GE(coverage[r->name()].second, 1) << r->name() << " has no case where it stays silent";
  }
}

TEST(CatalogueTest, AFailingCaseIsReported) {
  absl::StatusOr<RuleSet> rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  // A case that claims the rule stays silent where it fires must fail.
  auto cases = rules::ParseCases(R"(
case "wrongly silent" silent mm_transposed_weight_to_linear
graph @before(%x: f32[4, 8], parameter %w: f32[16, 8]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %y = aten::mm.default(%x, %t)
  return %y
}
case "wrong expectation" fires mm_transposed_weight_to_linear
graph @before(%x: f32[4, 8], parameter %w: f32[16, 8]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %y = aten::mm.default(%x, %t)
  return %y
}
graph @after(%x: f32[4, 8], parameter %w: f32[16, 8]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %y = aten::mm.default(%x, %t)
  return %y
}
case "unknown rule" fires no_such_rule
graph @before(%x: f32[4]) { return %x }
graph @after(%x: f32[4]) { return %x }
)",
                                 "inline.cases");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 3u);
  absl::Status silent = rules::CheckCase(*rules, (*cases)[0]);
  EXPECT_NE(silent.message().find("must stay silent but applied 1 time"), absl::string_view::npos)
      << silent;
  absl::Status differs = rules::CheckCase(*rules, (*cases)[1]);
  EXPECT_NE(differs.message().find("result differs"), absl::string_view::npos) << differs;
  absl::Status unknown = rules::CheckCase(*rules, (*cases)[2]);
  EXPECT_NE(unknown.message().find("no rule named 'no_such_rule'"), absl::string_view::npos)
      << unknown;
}

TEST(CatalogueTest, CaseFileErrorsHaveLocations) {
  auto cases = rules::ParseCases("case \"x\" sometimes r\n", "bad.cases");
  ASSERT_FALSE(cases.ok());
  EXPECT_EQ(cases.status().message(), "bad.cases:1:10: expected 'fires' or 'silent', got 'sometimes'");
}

}  // namespace
}  // namespace graft
