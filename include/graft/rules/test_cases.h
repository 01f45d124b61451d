// Test cases for rules, written in the graph text form (patterns/*.cases):
//
//   case "2-D mm with a permuted parameter" fires mm_transposed_weight_to_linear
//   graph @before(%x: f32[4, 8], parameter %w: f32[16, 8]) { ... }
//   graph @after(%x: f32[4, 8], parameter %w: f32[16, 8]) { ... }
//
//   case "weight is a user input" silent mm_transposed_weight_to_linear
//   graph @before(%x: f32[4, 8], %w: f32[16, 8]) { ... }
//
// A `fires` case gives the graph before and the graph expected after
// applying the rule alone to a fixpoint; a `silent` case gives a near miss
// the rule must leave unchanged. Graphs compare by their printed form with
// node results numbered, so value names do not matter.
#ifndef GRAFT_RULES_TEST_CASES_H_
#define GRAFT_RULES_TEST_CASES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/driver/driver.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rule.h"
#include "graft/rules/ast.h"
#include "graft/rules/loader.h"

namespace graft {
namespace rules {

struct RuleCase {
  SourcePos pos;
  std::string title;
  std::string rule;
  bool fires = false;
  std::unique_ptr<Graph> before;
  std::unique_ptr<Graph> after;  // fires only
};

inline absl::StatusOr<std::vector<RuleCase>> ParseCases(absl::string_view text,
                                                        absl::string_view file) {
  TokenCursor in(text, file);
  std::vector<RuleCase> cases;
  while (in.tok().kind != Token::kEnd) {
    RuleCase c;
    c.pos = {std::string(file), in.tok().line, in.tok().col};
    if (!in.Accept("case")) return in.Expected("'case'");
    if (in.tok().kind != Token::kString) return in.Expected("the case's title in quotes");
    c.title = in.Take().str;
    if (in.Accept("fires")) {
      c.fires = true;
    } else if (!in.Accept("silent")) {
      return in.Expected("'fires' or 'silent'");
    }
    if (in.tok().kind != Token::kIdent) return in.Expected("the rule's name");
    c.rule = std::string(in.Take().text);
    GRAFT_ASSIGN_OR_RETURN(c.before, graft::parser_internal::GraphParser(in, Ops()).Parse());
    if (c.fires) {
      GRAFT_ASSIGN_OR_RETURN(c.after, graft::parser_internal::GraphParser(in, Ops()).Parse());
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

inline absl::StatusOr<std::vector<RuleCase>> LoadCases(const std::string& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseCases(text, path);
}

// Runs one case against `rules`; OK when the rule behaves as the case says.
// `before` is rewritten in place.
inline absl::Status CheckCase(const RuleSet& rules, RuleCase& c) {
  std::string where = absl::StrCat(c.pos.ToString(), ": case \"", c.title, "\": ");
  if (!rules.Find(c.rule))
    return absl::NotFoundError(absl::StrCat(where, "no rule named '", c.rule, "'"));
  std::string original = Print(*c.before, {true});
  DriverOptions options;
  options.only = {c.rule};
  options.verify_each = true;
  absl::StatusOr<DriverResult> result = ApplyRules(*c.before, rules, options);
  if (!result.ok()) return absl::InternalError(absl::StrCat(where, result.status().message()));
  int64_t applied = result->StatsFor(c.rule)->applied;
  std::string got = Print(*c.before, {true});
  if (!c.fires) {
    if (applied != 0 || got != original)
      return absl::FailedPreconditionError(absl::StrCat(
          where, c.rule, " must stay silent but applied ", applied, " time(s):\n", got));
    return absl::OkStatus();
  }
  c.after->set_name(c.before->name());
  std::string want = Print(*c.after, {true});
  if (applied == 0)
    return absl::FailedPreconditionError(
        absl::StrCat(where, c.rule, " did not fire; ", result->Report()));
  if (got != want)
    return absl::FailedPreconditionError(
        absl::StrCat(where, "result differs.\n--- expected\n", want, "--- got\n", got));
  return absl::OkStatus();
}

}  // namespace rules
}  // namespace graft

#endif  // GRAFT_RULES_TEST_CASES_H_
