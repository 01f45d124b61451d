// provenance.h: the `<node> @ <file>:<line>` locations every importer gives
// its nodes, and the Origins map writers use to find a node's source again,
// through a rewrite that replaces the node.
#include "graft/interop/provenance.h"

#include <string>

#include "gmock/gmock.h"
#include "graft/driver/driver.h"
#include "graft/ir/parser.h"
#include "graft/ops/catalogue.h"
#include "graft/rules/loader.h"
#include "gtest/gtest.h"

namespace graft {
namespace {

TEST(Provenance, PrintsAndParsesEveryForm) {
  struct Case {
    Provenance p;
    std::string text;
  };
  for (const Case& c : {Case{{"aten_mm_default", "model.py", 13}, "aten_mm_default @ model.py:13"},
                        Case{{"y.3", "<string>", 5}, "y.3 @ <string>:5"},
                        Case{{"", "decoder.py", 42}, "decoder.py:42"},
                        Case{{"mm", "", 0}, "mm"},
                        Case{{"mm", "model.py", 0}, "mm @ model.py"}}) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(c.p.ToString(), c.text);
    Provenance back = Provenance::Parse(c.text);
    EXPECT_EQ(back.node, c.p.node);
    EXPECT_EQ(back.file, c.p.file);
    EXPECT_EQ(back.line, c.p.line);
  }
  // A colon without a line number is part of a node name.
  EXPECT_EQ(Provenance::Parse("ns::op").node, "ns::op");
  EXPECT_EQ(Provenance::BaseName("/home/me/model/decoder.py"), "decoder.py");
  EXPECT_EQ(Provenance::BaseName("decoder.py"), "decoder.py");
}

TEST(Origins, ARewriteInheritsTheReplacedRootsSource) {
  auto g = ParseGraph(R"(
graph @g(%x: f32[2, 4], parameter %w: f32[3, 4]) {
  %t = aten::permute_copy.default(%w, [1, 0]) loc("t @ model.py:10")
  %mm = aten::mm.default(%x, %t) loc("mm @ model.py:11")
  %r = aten::relu.default(%mm) loc("r @ model.py:12")
  return %r
}
)",
                      Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  // What an importer records: here, the source node's index.
  Origins<int> origins;
  int index = 0;
  for (const Node* n : (*g)->nodes()) origins.Record(n, index++);
  auto rules = rules::ParseRules(
      "rule mm_to_linear:\n  mm(x, permute_copy(const W, [1, 0])) -> linear(x, W)\n");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto r = ApplyRules(**g, *rules);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rewrites, 1);

  const Node* linear = (*g)->output(0)->def()->operand(0)->def();
  ASSERT_EQ(linear->op()->name(), "aten::linear.default");
  EXPECT_EQ(origins.Of(linear), nullptr);  // created, not imported
  ASSERT_NE(origins.Inherited(linear), nullptr);
  EXPECT_EQ(*origins.Inherited(linear), 1);  // the mm it replaced
  EXPECT_EQ(Provenance::Parse((*g)->loc(linear->loc())).node, "mm");
  const Node* relu = (*g)->output(0)->def();
  ASSERT_NE(origins.Of(relu), nullptr);
  EXPECT_EQ(*origins.Of(relu), 2);
  EXPECT_EQ(origins.Inherited(relu), origins.Of(relu));
}

}  // namespace
}  // namespace graft
