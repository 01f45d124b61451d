// Helpers shared by the printer and parser tests: the fixture's text and a
// structural comparison of two graphs.
#ifndef GRAFT_TESTS_IR_GRAPH_TEXT_H_
#define GRAFT_TESTS_IR_GRAPH_TEXT_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "graft/ir/graph.h"

namespace graft {
namespace test_util {

// tests/fixtures/<name>, from the runfiles under Bazel or the source tree
// when run by hand from the repository root.
inline std::string ReadFixture(const std::string& name) {
  std::string rel = "tests/fixtures/" + name;
  std::string candidates[] = {
      std::getenv("TEST_SRCDIR") && std::getenv("TEST_WORKSPACE")
          ? std::string(std::getenv("TEST_SRCDIR")) + "/" + std::getenv("TEST_WORKSPACE") + "/" +
                rel
          : rel,
      rel};
  for (const std::string& path : candidates) {
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }
  ADD_FAILURE() << "cannot read fixture " << rel;
  return "";
}

// The text without `#` comment lines (the printer writes none).
inline std::string StripCommentLines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '#') out += line + "\n";
  }
  return out;
}

// Same inputs (type, kind, original name, name), same nodes in the same
// order (op, arguments, result types and names, location) and outputs.
// Where `a` has no name, `b` may have any (the printer numbers values and
// calls an unnamed graph @main).
inline void ExpectSameGraph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name().empty() ? "main" : a.name(), b.name());
  ASSERT_EQ(a.inputs().size(), b.inputs().size());
  absl::flat_hash_map<const Value*, const Value*> map;
  for (size_t i = 0; i < a.inputs().size(); ++i) {
    const Value* x = a.inputs()[i];
    const Value* y = b.inputs()[i];
    SCOPED_TRACE(absl::StrCat("input ", i));
    EXPECT_EQ(x->type(), y->type());
    EXPECT_EQ(a.input_kind(x), b.input_kind(y));
    EXPECT_EQ(a.original_name(x), b.original_name(y));
    if (!a.name(x).empty()) {
      EXPECT_EQ(a.name(x), b.name(y));
    }
    map[x] = y;
  }
  ASSERT_EQ(a.num_nodes(), b.num_nodes());
  const Node* m = b.first_node();
  for (const Node* n : a.nodes()) {
    SCOPED_TRACE(n->op()->name());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(n->op(), m->op());
    ASSERT_EQ(n->num_args(), m->num_args());
    for (int i = 0; i < n->num_args(); ++i) {
      if (n->arg(i).is_literal()) {
        // Literals are interned: equal means the same pointer, bit for bit.
        EXPECT_EQ(n->literal(i), m->literal(i))
            << "argument " << i << ": " << n->literal(i)->ToString() << " vs "
            << (m->literal(i) ? m->literal(i)->ToString() : "a value");
      } else {
        EXPECT_EQ(map[n->operand(i)], m->operand(i)) << "argument " << i;
      }
    }
    ASSERT_EQ(n->num_results(), m->num_results());
    for (int i = 0; i < n->num_results(); ++i) {
      EXPECT_EQ(n->result(i)->type(), m->result(i)->type());
      if (!a.name(n->result(i)).empty()) {
        EXPECT_EQ(a.name(n->result(i)), b.name(m->result(i)));
      }
      map[n->result(i)] = m->result(i);
    }
    EXPECT_EQ(a.loc(n->loc()), b.loc(m->loc()));
    m = m->next();
  }
  ASSERT_EQ(a.num_outputs(), b.num_outputs());
  for (size_t i = 0; i < a.num_outputs(); ++i) EXPECT_EQ(map[a.output(i)], b.output(i));
}

}  // namespace test_util
}  // namespace graft

#endif  // GRAFT_TESTS_IR_GRAPH_TEXT_H_
