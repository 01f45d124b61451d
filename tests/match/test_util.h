// Helpers shared by the matcher, rule and driver tests: parse a graph from
// its text form and find its values by name.
#ifndef GRAFT_TESTS_MATCH_TEST_UTIL_H_
#define GRAFT_TESTS_MATCH_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "graft/ir/graph.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ops/catalogue.h"
#include "gtest/gtest.h"

namespace graft {
namespace test_util {

// Parses `text`; a parse error fails the test and yields an empty graph.
inline std::unique_ptr<Graph> MustParse(absl::string_view text) {
  auto g = ParseGraph(text, Ops(), "test.graft");
  if (!g.ok()) {
    ADD_FAILURE() << g.status();
    return std::make_unique<Graph>();
  }
  return *std::move(g);
}

// The value named `name` (a graph input or a node result); fails the test
// when there is none.
inline Value* Val(const Graph& g, absl::string_view name) {
  for (Value* in : g.inputs()) {
    if (g.name(in) == name) return in;
  }
  for (Node* n : g.nodes()) {
    for (int i = 0; i < n->num_results(); ++i) {
      if (g.name(n->result(i)) == name) return n->result(i);
    }
  }
  ADD_FAILURE() << "no value named %" << name;
  return nullptr;
}

// The node defining `name`.
inline Node* NodeOf(const Graph& g, absl::string_view name) {
  Value* v = Val(g, name);
  return v ? v->def() : nullptr;
}

// The graph printed with numbered node names (graphs that differ only in
// value names print the same).
inline std::string Numbered(const Graph& g) { return Print(g, {true}); }

// Parses `text` and prints it back numbered: the expected form of a graph.
inline std::string Canon(absl::string_view text) { return Numbered(*MustParse(text)); }

}  // namespace test_util
}  // namespace graft

#endif  // GRAFT_TESTS_MATCH_TEST_UTIL_H_
