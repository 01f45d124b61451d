// embed: a tiny graph compiler of its own that uses graft only through its
// installed public headers (the proof that graft is include-only in other
// compilers). It reads a graph in graft's text form, applies its two rules,
// one written with graft's C++ DSL and one from a rule file, and prints the
// result.
//
//   embed RULES_FILE GRAPH_FILE
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "graft/driver/driver.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/match/matchers.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rule.h"
#include "graft/rules/loader.h"

namespace m = graft::match;

namespace {

// relu is idempotent: relu(relu(x)) computes relu(x). Ops are named in
// full, as a compiler with its own op set would name them.
absl::Status AddCppRules(graft::RuleSet& rules) {
  graft::Var x("x");
  return rules.Add(graft::rule("relu_of_relu",
                               m::op("aten::relu.default", m::op("aten::relu.default", x)),
                               m::op("aten::relu.default", x)));
}

int Fail(const absl::Status& s) {
  std::cerr << "embed: " << s.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: embed RULES_FILE GRAPH_FILE\n";
    return 2;
  }
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << "embed: cannot read " << argv[2] << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();

  absl::StatusOr<graft::RuleSet> rules = graft::rules::LoadRules({argv[1]});
  if (!rules.ok()) return Fail(rules.status());
  if (absl::Status s = AddCppRules(*rules); !s.ok()) return Fail(s);

  auto graph = graft::ParseGraph(text.str(), graft::Ops(), argv[2]);
  if (!graph.ok()) return Fail(graph.status());
  auto result = graft::ApplyRules(**graph, *rules);
  if (!result.ok()) return Fail(result.status());
  if (absl::Status s = graft::Verify(**graph); !s.ok()) return Fail(s);

  for (const auto& [name, stats] : result->stats)
    std::cout << "// " << name << ": applied " << stats.applied << "\n";
  std::cout << graft::Print(**graph);
  return 0;
}
