// The numerical proof of the catalogue: every rule in patterns/ has at least
// one positive case, and on every positive case the graph before and the
// graph after the rule agree in libtorch (tests/interop/numerical_check.h
// says on which inputs and within which tolerance). A rule without this
// check is not done: adding a rule without a positive case fails here.
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "graft/rules/loader.h"
#include "graft/rules/test_cases.h"
#include "tests/interop/numerical_check.h"

namespace graft {
namespace {

std::vector<rules::RuleCase> AllCases(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".cases") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<rules::RuleCase> all;
  for (const std::string& f : files) {
    auto cases = rules::LoadCases(f);
    EXPECT_TRUE(cases.ok()) << cases.status();
    if (!cases.ok()) continue;
    for (auto& c : *cases) all.push_back(std::move(c));
  }
  return all;
}

TEST(RuleNumerics, EveryRuleHasAPositiveCaseThatAgreesInLibtorch) {
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  std::vector<rules::RuleCase> cases = AllCases("patterns");
  std::map<std::string, int> positive;
  std::vector<numerics::Report> reports;
  for (const rules::RuleCase& c : cases) {
    if (!c.fires) continue;
    SCOPED_TRACE(c.title);
    numerics::Report r = numerics::CheckCaseNumerics(*rules, c);
    EXPECT_TRUE(r.status.ok()) << r.status;
    EXPECT_GE(r.ran("f32"), 1) << c.title << ": no f32 variant ran";
    if (r.status.ok()) ++positive[c.rule];
    reports.push_back(std::move(r));
  }
  for (const auto& rule : *rules) {
    EXPECT_GE(positive[rule->name()], 1)
        << "rule " << rule->name() << " (" << rule->origin()
        << ") has no positive case checked numerically; add a `fires` case to patterns/*.cases";
  }
  std::cout << numerics::Summary(reports);
  int ran = 0, skipped = 0;
  for (const auto& r : reports) {
    ran += r.ran();
    skipped += static_cast<int>(r.variants.size()) - r.ran();
  }
  std::cout << rules->size() << " rules, " << reports.size() << " positive cases, " << ran
            << " variants ran, " << skipped << " skipped\n";
  // Why variants were skipped, once per reason.
  std::map<std::string, int> reasons;
  for (const auto& r : reports) {
    for (const auto& v : r.variants) {
      if (!v.ran) reasons[absl::StrCat(r.rule, ": ", v.skipped.substr(0, 140))]++;
    }
  }
  for (const auto& [reason, n] : reasons) std::cout << "  skipped " << n << " x " << reason << "\n";
}

// The harness catches a wrong rewrite.
TEST(RuleNumerics, AWrongRuleIsCaught) {
  auto rules = rules::ParseRules(R"(
rule add_is_sub:
  add(x, y) -> sub(x, y)
)");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto cases = rules::ParseCases(R"(
case "add" fires add_is_sub
graph @before(%x: f32[4, 8], %y: f32[4, 8]) {
  %z = aten::add.Tensor(%x, %y)
  return %z
}
graph @after(%x: f32[4, 8], %y: f32[4, 8]) {
  %z = aten::sub.Tensor(%x, %y)
  return %z
}
)", "<test>");
  ASSERT_TRUE(cases.ok()) << cases.status();
  numerics::Report r = numerics::CheckCaseNumerics(*rules, (*cases)[0]);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("above the tolerance"), std::string::npos) << r.status;
}

// ... and a rewrite that is right only in exact arithmetic passes at f16
// within its tolerance, while a shape-changing one fails.
TEST(RuleNumerics, AShapeChangingRuleIsCaught) {
  auto rules = rules::ParseRules(R"(
rule drop_view:
  view_copy(x, _) -> x
)");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto cases = rules::ParseCases(R"(
case "view" fires drop_view
graph @before(%x: f32[4, 8]) {
  %z = aten::view_copy.default(%x, [8, 4])
  %r = aten::relu.default(%z)
  return %r
}
graph @after(%x: f32[4, 8]) {
  %r = aten::relu.default(%x)
  return %r
}
)", "<test>");
  ASSERT_TRUE(cases.ok()) << cases.status();
  numerics::Report r = numerics::CheckCaseNumerics(*rules, (*cases)[0]);
  // The driver's type check refuses the rewrite, so the rule never fires.
  EXPECT_FALSE(r.status.ok());
}

}  // namespace
}  // namespace graft
