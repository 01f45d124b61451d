// graft/ir/graph.h: nodes, values, use-lists and the mutations the rewrite
// driver relies on (RAUW, SetArg, Erase, EraseDeadNodes, MoveBefore).
#include "graft/ir/graph.h"

#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "graft/ir/builder.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

TensorType F32(std::initializer_list<Dim> shape) { return TensorType::Get(DType::kFloat32, shape); }

// Every use a value lists points back at it, and every argument slot and
// output holding a value is listed exactly once among its uses.
void ExpectUseListsConsistent(const Graph& g) {
  absl::flat_hash_map<const Value*, int> expected;
  std::vector<const Value*> values(g.inputs().begin(), g.inputs().end());
  for (const Node* n : g.nodes()) {
    for (int i = 0; i < n->num_args(); ++i)
      if (Value* v = n->operand(i)) ++expected[v];
    for (int i = 0; i < n->num_results(); ++i) values.push_back(n->result(i));
  }
  for (size_t i = 0; i < g.num_outputs(); ++i) ++expected[g.output(i)];
  for (const Value* v : values) {
    EXPECT_EQ(static_cast<int>(v->num_uses()), expected[v]) << g.name(v);
    for (const Use& u : v->uses()) {
      if (u.user) {
        ASSERT_LT(static_cast<int>(u.index), u.user->num_args());
        EXPECT_EQ(u.user->operand(static_cast<int>(u.index)), v) << g.name(v);
      } else {
        ASSERT_LT(u.index, g.num_outputs());
        EXPECT_EQ(g.output(u.index), v) << g.name(v);
      }
    }
  }
}

// The whisper logits chain, built with the builder.
struct Whisper {
  Graph g{"whisper_logits"};
  Value* x;
  Value* w;
  Node* permute;
  Node* view;
  Node* mm;
  Node* out;

  Whisper() {
    x = g.AddInput(F32({1, 128, 384}), "x");
    w = g.AddInput(F32({51864, 384}), "p_token_embedding_weight", InputKind::kParameter,
                   "token_embedding.weight");
    Builder b(g, Ops());
    permute = *b.Create("permute_copy", {w, Literal::Ints({1, 0})});
    view = *b.Create("view_copy", {x, Literal::Ints({128, 384})});
    mm = *b.Create("mm", {view->result(), permute->result()});
    out = *b.Create("view_copy", {mm->result(), Literal::Ints({1, 128, 51864})});
    g.set_name(permute->result(), "permute");
    g.set_name(view->result(), "view");
    g.set_name(mm->result(), "mm");
    g.set_name(out->result(), "logits");
    g.AddOutput(out->result());
  }
};

std::vector<Node*> Order(const Graph& g) {
  std::vector<Node*> order;
  for (Node* n : g.nodes()) order.push_back(n);
  return order;
}

TEST(GraphTest, BuildsNodesInOrderWithTypes) {
  Whisper w;
  EXPECT_EQ(w.g.name(), "whisper_logits");
  EXPECT_EQ(w.g.num_nodes(), 4u);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.view, w.mm, w.out}));
  EXPECT_EQ(w.g.first_node(), w.permute);
  EXPECT_EQ(w.g.last_node(), w.out);
  EXPECT_EQ(w.permute->prev(), nullptr);
  EXPECT_EQ(w.permute->next(), w.view);
  EXPECT_EQ(w.out->next(), nullptr);
  EXPECT_EQ(w.out->prev(), w.mm);
  EXPECT_EQ(w.mm->op(), ops::mm());
  EXPECT_TRUE(w.mm->is(ops::mm()));
  EXPECT_EQ(w.mm->result()->type(), F32({128, 51864}));
  EXPECT_EQ(w.out->result()->type(), F32({1, 128, 51864}));
  EXPECT_EQ(w.mm->result()->def(), w.mm);
  EXPECT_EQ(w.mm->result()->index(), 0u);
  EXPECT_FALSE(w.mm->result()->is_input());
  EXPECT_EQ(w.permute->num_args(), 2);
  EXPECT_EQ(w.permute->operand(0), w.w);
  EXPECT_EQ(w.permute->operand(1), nullptr);
  EXPECT_EQ(w.permute->literal(1), Literal::Ints({1, 0}));
  EXPECT_EQ(w.permute->literal(0), nullptr);
  EXPECT_EQ(w.permute->operand(2), nullptr);  // out of range
  EXPECT_EQ(w.permute->literal(2), nullptr);
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
}

TEST(GraphTest, ArgTagsValuesAndLiterals) {
  Graph g;
  Value* x = g.AddInput(F32({2}));
  Arg v(x), l(Literal::Int(3)), null;
  EXPECT_TRUE(v.is_value());
  EXPECT_FALSE(v.is_literal());
  EXPECT_EQ(v.value(), x);
  EXPECT_EQ(v.literal(), nullptr);
  EXPECT_TRUE(l.is_literal());
  EXPECT_FALSE(l.is_value());
  EXPECT_EQ(l.literal(), Literal::Int(3));
  EXPECT_EQ(l.value(), nullptr);
  EXPECT_TRUE(null.is_null());
  EXPECT_FALSE(null.is_value());
  EXPECT_FALSE(null.is_literal());
  EXPECT_EQ(Arg(x), v);
  EXPECT_NE(v, l);
}

TEST(GraphTest, InputsKindsAndOriginalNames) {
  Graph g;
  Value* x = g.AddInput(F32({1, 128, 384}), "x");
  Value* p = g.AddInput(F32({384}), "p_w", InputKind::kParameter, "ln.weight");
  Value* b = g.AddInput(F32({384}), "b_mean", InputKind::kBuffer, "bn.running_mean");
  Value* c = g.AddInput(F32({}), "c_0", InputKind::kConstant);
  ASSERT_EQ(g.inputs().size(), 4u);
  EXPECT_EQ(g.inputs()[2], b);
  EXPECT_TRUE(x->is_input());
  EXPECT_EQ(x->def(), nullptr);
  EXPECT_EQ(p->index(), 1u);
  EXPECT_EQ(c->index(), 3u);
  EXPECT_EQ(g.input_kind(x), InputKind::kUserInput);
  EXPECT_EQ(g.input_kind(p), InputKind::kParameter);
  EXPECT_EQ(g.input_kind(b), InputKind::kBuffer);
  EXPECT_EQ(g.input_kind(c), InputKind::kConstant);
  EXPECT_FALSE(g.is_constant(x));
  EXPECT_TRUE(g.is_constant(p));
  EXPECT_TRUE(g.is_constant(b));
  EXPECT_TRUE(g.is_constant(c));
  EXPECT_EQ(g.original_name(x), "");
  EXPECT_EQ(g.original_name(p), "ln.weight");
  EXPECT_EQ(g.original_name(b), "bn.running_mean");
  EXPECT_EQ(g.name(x), "x");
  EXPECT_EQ(g.name(p), "p_w");
  EXPECT_EQ(InputKindName(InputKind::kUserInput), "input");
  EXPECT_EQ(InputKindName(InputKind::kParameter), "parameter");
  EXPECT_EQ(InputKindName(InputKind::kBuffer), "buffer");
  EXPECT_EQ(InputKindName(InputKind::kConstant), "constant");
}

TEST(GraphTest, NodeResultsAreNotConstant) {
  Whisper w;
  EXPECT_FALSE(w.g.is_constant(w.permute->result()));
}

TEST(GraphTest, InputsStayValidAsMoreAreAdded) {
  Graph g;
  Value* first = g.AddInput(F32({1}), "first");
  for (int i = 0; i < 100; ++i) g.AddInput(F32({1}), absl::StrCat("in", i));
  EXPECT_EQ(g.inputs()[0], first);
  EXPECT_EQ(g.name(first), "first");
  EXPECT_EQ(g.name(g.inputs()[100]), "in99");
}

TEST(GraphTest, NamesCanBeSetAndCleared) {
  Whisper w;
  EXPECT_EQ(w.g.name(w.mm->result()), "mm");
  w.g.set_name(w.mm->result(), "matmul");
  EXPECT_EQ(w.g.name(w.mm->result()), "matmul");
  w.g.set_name(w.mm->result(), "");
  EXPECT_EQ(w.g.name(w.mm->result()), "");
  w.g.set_name("renamed");
  EXPECT_EQ(w.g.name(), "renamed");
}

TEST(GraphTest, UseLists) {
  Whisper w;
  ASSERT_EQ(w.w->num_uses(), 1u);
  EXPECT_TRUE(w.w->has_one_use());
  EXPECT_EQ(w.w->uses()[0].user, w.permute);
  EXPECT_EQ(w.w->uses()[0].index, 0u);
  ASSERT_EQ(w.permute->result()->num_uses(), 1u);
  EXPECT_EQ(w.permute->result()->uses()[0].user, w.mm);
  EXPECT_EQ(w.permute->result()->uses()[0].index, 1u);
  EXPECT_EQ(w.view->result()->uses()[0].index, 0u);
  // A graph output is a use with a null user.
  ASSERT_EQ(w.out->result()->num_uses(), 1u);
  EXPECT_EQ(w.out->result()->uses()[0].user, nullptr);
  EXPECT_EQ(w.out->result()->uses()[0].index, 0u);
  ExpectUseListsConsistent(w.g);
}

TEST(GraphTest, SameValueTwiceIsTwoUses) {
  Graph g;
  Value* x = g.AddInput(F32({4, 4}), "x");
  Builder b(g, Ops());
  Node* add = *b.Create("add", {x, x});
  ASSERT_EQ(x->num_uses(), 2u);
  EXPECT_EQ(x->uses()[0].user, add);
  EXPECT_EQ(x->uses()[0].index, 0u);
  EXPECT_EQ(x->uses()[1].user, add);
  EXPECT_EQ(x->uses()[1].index, 1u);
  g.AddOutput(add->result());
  g.AddOutput(add->result());
  EXPECT_EQ(add->result()->num_uses(), 2u);
  ExpectUseListsConsistent(g);
}

TEST(GraphTest, SetArg) {
  Whisper w;
  Value* other = w.g.AddInput(F32({384, 51864}), "other");
  // Value -> value.
  w.g.SetArg(w.mm, 1, other);
  EXPECT_EQ(w.mm->operand(1), other);
  EXPECT_TRUE(w.permute->result()->unused());
  ASSERT_EQ(other->num_uses(), 1u);
  EXPECT_EQ(other->uses()[0].user, w.mm);
  EXPECT_EQ(other->uses()[0].index, 1u);
  // Literal -> literal.
  w.g.SetArg(w.permute, 1, Literal::Ints({0, 1}));
  EXPECT_EQ(w.permute->literal(1), Literal::Ints({0, 1}));
  // Value -> literal drops the use; literal -> value adds one.
  w.g.SetArg(w.permute, 0, Literal::None());
  EXPECT_TRUE(w.w->unused());
  EXPECT_EQ(w.permute->literal(0), Literal::None());
  w.g.SetArg(w.permute, 0, w.w);
  EXPECT_EQ(w.w->num_uses(), 1u);
  // Setting the same value again keeps one use.
  w.g.SetArg(w.mm, 1, other);
  EXPECT_EQ(other->num_uses(), 1u);
  ExpectUseListsConsistent(w.g);
}

TEST(GraphTest, SetArgInTheMiddleOfAUseListRepointsTheMovedUse) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Value* y = g.AddInput(F32({4}), "y");
  Builder b(g, Ops());
  std::vector<Node*> relus;
  for (int i = 0; i < 5; ++i) relus.push_back(*b.Create("relu", {x}));
  ASSERT_EQ(x->num_uses(), 5u);
  // Removing use 1 swaps the last use into its place; that node's slot must
  // learn its new position, or the next removal corrupts the list.
  g.SetArg(relus[1], 0, y);
  ExpectUseListsConsistent(g);
  g.SetArg(relus[4], 0, y);
  ExpectUseListsConsistent(g);
  g.SetArg(relus[0], 0, y);
  ExpectUseListsConsistent(g);
  EXPECT_EQ(x->num_uses(), 2u);
  EXPECT_EQ(y->num_uses(), 3u);
  for (const Use& u : x->uses()) EXPECT_TRUE(u.user == relus[2] || u.user == relus[3]);
}

TEST(GraphTest, ReplaceAllUsesWithIncludingOutputs) {
  Whisper w;
  Value* old = w.out->result();
  Builder b(w.g, Ops());
  Node* relu = *b.Create("relu", {old});
  w.g.AddOutput(old);  // output 1 is the same value
  ASSERT_EQ(old->num_uses(), 3u);
  Value* fresh = w.g.AddInput(F32({1, 128, 51864}), "fresh");
  w.g.ReplaceAllUsesWith(old, fresh);
  EXPECT_TRUE(old->unused());
  EXPECT_EQ(fresh->num_uses(), 3u);
  EXPECT_EQ(relu->operand(0), fresh);
  EXPECT_EQ(w.g.output(0), fresh);
  EXPECT_EQ(w.g.output(1), fresh);
  ExpectUseListsConsistent(w.g);
  // Replacing a value with itself changes nothing.
  w.g.ReplaceAllUsesWith(fresh, fresh);
  EXPECT_EQ(fresh->num_uses(), 3u);
  ExpectUseListsConsistent(w.g);
}

TEST(GraphTest, ReplaceAllUsesWithAValueThatAlreadyHasUses) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Value* y = g.AddInput(F32({4}), "y");
  Builder b(g, Ops());
  Node* a = *b.Create("add", {x, y});
  Node* m = *b.Create("mul", {y, x});
  g.AddOutput(a->result());
  g.AddOutput(m->result());
  g.AddOutput(x);
  g.ReplaceAllUsesWith(x, y);
  EXPECT_TRUE(x->unused());
  EXPECT_EQ(y->num_uses(), 5u);
  EXPECT_EQ(a->operand(0), y);
  EXPECT_EQ(m->operand(1), y);
  EXPECT_EQ(g.output(2), y);
  ExpectUseListsConsistent(g);
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(GraphTest, SetOutput) {
  Whisper w;
  w.g.SetOutput(0, w.mm->result());
  EXPECT_EQ(w.g.output(0), w.mm->result());
  EXPECT_TRUE(w.out->result()->unused());
  EXPECT_EQ(w.g.num_outputs(), 1u);
  ExpectUseListsConsistent(w.g);
}

TEST(GraphTest, EraseUnlinksAndDropsOperandUses) {
  Whisper w;
  w.g.SetOutput(0, w.mm->result());
  w.g.Erase(w.out);
  EXPECT_TRUE(w.out->is_dead());
  EXPECT_EQ(w.g.num_nodes(), 3u);
  EXPECT_EQ(w.g.last_node(), w.mm);
  EXPECT_EQ(w.mm->next(), nullptr);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.view, w.mm}));
  // mm's only use left is the graph output.
  ASSERT_EQ(w.mm->result()->num_uses(), 1u);
  EXPECT_EQ(w.mm->result()->uses()[0].user, nullptr);
  ExpectUseListsConsistent(w.g);
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  // Erasing the head and a middle node.
  Value* fresh = w.g.AddInput(F32({384, 51864}), "wt", InputKind::kParameter);
  w.g.ReplaceAllUsesWith(w.permute->result(), fresh);
  w.g.Erase(w.permute);
  EXPECT_EQ(w.g.first_node(), w.view);
  EXPECT_EQ(w.view->prev(), nullptr);
  EXPECT_TRUE(w.w->unused());
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
}

TEST(GraphTest, EraseDeadNodesIsTransitive) {
  Whisper w;
  // Route the output around the chain: all four nodes die.
  w.g.SetOutput(0, w.x);
  EXPECT_EQ(w.g.EraseDeadNodes(), 4);
  EXPECT_EQ(w.g.num_nodes(), 0u);
  EXPECT_EQ(w.g.first_node(), nullptr);
  EXPECT_EQ(w.g.last_node(), nullptr);
  EXPECT_TRUE(w.w->unused());
  EXPECT_EQ(w.x->num_uses(), 1u);
  EXPECT_TRUE(w.mm->is_dead());
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  EXPECT_EQ(w.g.EraseDeadNodes(), 0);
}

TEST(GraphTest, EraseDeadNodesKeepsLiveNodesAndOpaqueOps) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* live = *b.Create("relu", {x});
  Node* dead = *b.Create("gelu", {live->result()});
  Node* dead_user = *b.Create("relu", {dead->result()});
  const OpDef* print = *Ops().Intern("my::print");
  Node* opaque = g.CreateNode(print, {Arg(live->result())}, {F32({4})});
  g.AddOutput(live->result());
  EXPECT_EQ(g.EraseDeadNodes(), 2);
  EXPECT_TRUE(dead->is_dead());
  EXPECT_TRUE(dead_user->is_dead());
  EXPECT_FALSE(live->is_dead());
  EXPECT_FALSE(opaque->is_dead());  // might have effects
  EXPECT_EQ(live->result()->num_uses(), 2u);
  EXPECT_EQ(g.EraseDeadNodes(/*erase_opaque=*/true), 1);
  EXPECT_TRUE(opaque->is_dead());
  EXPECT_EQ(g.num_nodes(), 1u);
  ExpectUseListsConsistent(g);
}

TEST(GraphTest, MultiResultNativeLayerNorm) {
  Graph g;
  Value* x = g.AddInput(F32({1, 128, 384}), "x");
  Value* weight = g.AddInput(F32({384}), "w", InputKind::kParameter);
  Value* bias = g.AddInput(F32({384}), "b", InputKind::kParameter);
  Builder b(g, Ops());
  auto ln = b.Create("native_layer_norm",
                     {x, Literal::Ints({384}), weight, bias, Literal::Float(1e-5)});
  ASSERT_TRUE(ln.ok()) << ln.status();
  Node* n = *ln;
  ASSERT_EQ(n->num_results(), 3);
  EXPECT_EQ(n->result(0)->type(), F32({1, 128, 384}));
  EXPECT_EQ(n->result(1)->type(), F32({1, 128, 1}));
  EXPECT_EQ(n->result(2)->type(), F32({1, 128, 1}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(n->result(i)->def(), n);
    EXPECT_EQ(n->result(i)->index(), static_cast<uint32_t>(i));
  }
  g.set_name(n->result(0), "out");
  g.set_name(n->result(1), "mean");
  g.set_name(n->result(2), "rstd");
  EXPECT_EQ(g.name(n->result(1)), "mean");
  // Only rstd is used: the node lives.
  Node* user = *b.Create("relu", {n->result(2)});
  g.AddOutput(user->result());
  EXPECT_EQ(g.EraseDeadNodes(), 0);
  EXPECT_FALSE(n->is_dead());
  EXPECT_EQ(n->result(2)->uses()[0].user, user);
  // RAUW of one result leaves the others alone.
  Value* other = g.AddInput(F32({1, 128, 1}), "other");
  g.ReplaceAllUsesWith(n->result(2), other);
  EXPECT_EQ(user->operand(0), other);
  EXPECT_TRUE(n->result(0)->unused());
  EXPECT_EQ(g.EraseDeadNodes(), 1);
  EXPECT_TRUE(n->is_dead());
  EXPECT_EQ(x->num_uses(), 0u);
  EXPECT_EQ(weight->num_uses(), 0u);
  ExpectUseListsConsistent(g);
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(GraphTest, MoveBefore) {
  Whisper w;
  // view does not depend on permute: move it first.
  w.g.MoveBefore(w.view, w.permute);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.view, w.permute, w.mm, w.out}));
  EXPECT_EQ(w.g.first_node(), w.view);
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  // To the end (null), then back.
  w.g.MoveBefore(w.view, nullptr);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.mm, w.out, w.view}));
  EXPECT_EQ(w.g.last_node(), w.view);
  EXPECT_EQ(w.out->next(), w.view);
  w.g.MoveBefore(w.view, w.mm);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.view, w.mm, w.out}));
  // Moving before its own successor, or before itself, is a no-op.
  w.g.MoveBefore(w.view, w.mm);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.view, w.mm, w.out}));
  w.g.MoveBefore(w.view, w.view);
  EXPECT_EQ(Order(w.g), (std::vector<Node*>{w.permute, w.view, w.mm, w.out}));
  EXPECT_EQ(w.g.num_nodes(), 4u);
  // Consistent links both ways.
  std::vector<Node*> backwards;
  for (Node* n = w.g.last_node(); n; n = n->prev()) backwards.push_back(n);
  EXPECT_EQ(backwards, (std::vector<Node*>{w.out, w.mm, w.view, w.permute}));
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
}

TEST(GraphTest, IterationWhileErasingTheCurrentNode) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  std::vector<Node*> kept;
  for (int i = 0; i < 6; ++i) {
    Node* n = *b.Create(i % 2 ? "relu" : "gelu", {x});
    if (i % 2) kept.push_back(n);
  }
  for (Node* n : kept) g.AddOutput(n->result());
  int visited = 0;
  for (Node* n : g.nodes()) {
    ++visited;
    if (n->is(ops::gelu())) g.Erase(n);
  }
  EXPECT_EQ(visited, 6);
  EXPECT_EQ(Order(g), kept);
  EXPECT_EQ(x->num_uses(), 3u);
  ExpectUseListsConsistent(g);
}

TEST(GraphTest, IteratorBasics) {
  Whisper w;
  auto range = w.g.nodes();
  auto it = range.begin();
  EXPECT_EQ(*it, w.permute);
  ++it;
  EXPECT_EQ(*it, w.view);
  EXPECT_TRUE(it != range.end());
  ++it;
  ++it;
  ++it;
  EXPECT_TRUE(it == range.end());
  Graph empty;
  EXPECT_TRUE(empty.nodes().begin() == empty.nodes().end());
}

TEST(GraphTest, Locations) {
  Graph g;
  EXPECT_EQ(g.InternLoc(""), 0u);
  EXPECT_EQ(g.loc(0), "");
  uint32_t a = g.InternLoc("decoder.py:42");
  uint32_t b = g.InternLoc("decoder.py:43");
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(g.InternLoc("decoder.py:42"), a);
  EXPECT_EQ(g.loc(a), "decoder.py:42");
  EXPECT_EQ(g.loc(b), "decoder.py:43");
  Value* x = g.AddInput(F32({4}), "x");
  Builder builder(g, Ops());
  builder.SetLoc(a);
  Node* n = *builder.Create("relu", {x});
  EXPECT_EQ(n->loc(), a);
  n->set_loc(b);
  EXPECT_EQ(n->loc(), b);
  Node* m = g.CreateNode(ops::relu(), {Arg(x)}, {F32({4})}, nullptr, a);
  EXPECT_EQ(m->loc(), a);
  // The location table is per graph.
  Graph other;
  EXPECT_EQ(other.InternLoc("elsewhere"), 1u);
}

TEST(GraphTest, ArenaBytes) {
  Graph g;
  EXPECT_EQ(g.arena_bytes(), 0u);
  Value* a = g.AddInput(F32({2, 3}), "a");
  Value* b = g.AddInput(F32({3, 4}), "b");
  EXPECT_EQ(g.arena_bytes(), 0u);  // inputs live outside the arena
  // One block per node: the node, its results and its arguments (an Arg
  // and a 32-bit use index each), rounded up to 8 bytes.
  const size_t slot = sizeof(Arg) + sizeof(uint32_t);
  const size_t mm_bytes = (sizeof(Node) + sizeof(Value) + 2 * slot + 7) / 8 * 8;
  Node* mm = g.CreateNode(ops::mm(), {Arg(a), Arg(b)}, {F32({2, 4})});
  EXPECT_EQ(g.arena_bytes(), mm_bytes);
  EXPECT_LE(mm_bytes, 104u);  // the header's "104 bytes"
  const size_t ln_bytes = (sizeof(Node) + 3 * sizeof(Value) + 5 * slot + 7) / 8 * 8;
  g.CreateNode(ops::native_layer_norm(),
               {Arg(mm->result()), Literal::Ints({4}), Literal::None(), Literal::None(),
                Literal::Float(1e-5)},
               {F32({2, 4}), F32({2, 1}), F32({2, 1})});
  EXPECT_EQ(g.arena_bytes(), mm_bytes + ln_bytes);
  // Erased nodes stay in the arena.
  g.EraseDeadNodes();
  EXPECT_EQ(g.num_nodes(), 0u);
  EXPECT_EQ(g.arena_bytes(), mm_bytes + ln_bytes);
}

TEST(GraphTest, ArenaBytesCountsSpilledUseLists) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  const size_t relu_bytes =
      (sizeof(Node) + sizeof(Value) + sizeof(Arg) + sizeof(uint32_t) + 7) / 8 * 8;
  g.CreateNode(ops::relu(), {Arg(x)}, {F32({4})});
  // The first use is inline.
  EXPECT_EQ(g.arena_bytes(), relu_bytes);
  for (int i = 1; i < 10; ++i) g.CreateNode(ops::relu(), {Arg(x)}, {F32({4})});
  size_t spilled = g.arena_bytes() - 10 * relu_bytes;
  EXPECT_GE(spilled, 10 * sizeof(Use));
  EXPECT_EQ(spilled % sizeof(Use), 0u);
  EXPECT_LT(spilled, 40 * sizeof(Use));
}

TEST(GraphTest, LargeGraphAcrossArenaBlocks) {
  Graph g;
  Value* v = g.AddInput(F32({8}), "x");
  Builder b(g, Ops());
  constexpr int kNodes = 5000;  // several 256 KiB blocks
  for (int i = 0; i < kNodes; ++i) v = *b.Op("relu", {v});
  g.AddOutput(v);
  EXPECT_EQ(g.num_nodes(), static_cast<size_t>(kNodes));
  EXPECT_GT(g.arena_bytes(), 256u * 1024u);
  EXPECT_TRUE(Verify(g).ok());
  g.SetOutput(0, g.inputs()[0]);
  EXPECT_EQ(g.EraseDeadNodes(), kNodes);
  EXPECT_EQ(g.num_nodes(), 0u);
}

// The graph dies with its nodes in any order and with heap-spilled use
// lists everywhere (run under ASan, this catches teardown touching a Value
// that was already destroyed).
TEST(GraphTest, DestructionWithSharedValues) {
  for (int round = 0; round < 2; ++round) {
    auto g = std::make_unique<Graph>();
    Value* x = g->AddInput(F32({4}), "x");
    Builder b(*g, Ops());
    Node* first = *b.Create("relu", {x});
    std::vector<Node*> users;
    for (int i = 0; i < 8; ++i) users.push_back(*b.Create("add", {first->result(), x}));
    for (Node* u : users) g->AddOutput(u->result());
    if (round == 1) g->MoveBefore(first, nullptr);  // users before their operand
    g.reset();
  }
}

// Erased nodes keep their result Values: a stale pointer to one can be
// passed around and is reported by the verifier, not a use-after-free.
TEST(GraphTest, StaleValueOfAnErasedNode) {
  Whisper w;
  Value* stale = w.out->result();
  w.g.SetOutput(0, w.mm->result());
  w.g.Erase(w.out);
  EXPECT_TRUE(stale->unused());
  EXPECT_EQ(stale->def(), w.out);
  EXPECT_EQ(stale->type(), F32({1, 128, 51864}));
  Builder b(w.g, Ops());
  Node* user = *b.Create("relu", {stale});
  EXPECT_EQ(stale->num_uses(), 1u);
  w.g.SetArg(user, 0, w.mm->result());
  EXPECT_TRUE(stale->unused());
  ExpectUseListsConsistent(w.g);
}

// Random mutations keep the use-lists exact.
TEST(GraphTest, RandomMutationsKeepUseListsConsistent) {
  std::mt19937 rng(1234);
  Graph g;
  std::vector<Value*> values;
  for (int i = 0; i < 4; ++i) values.push_back(g.AddInput(F32({4}), absl::StrCat("in", i)));
  Builder b(g, Ops());
  std::vector<Node*> nodes;
  for (int i = 0; i < 40; ++i) {
    Value* a = values[rng() % values.size()];
    Value* c = values[rng() % values.size()];
    Node* n = *b.Create("add", {a, c});
    nodes.push_back(n);
    values.push_back(n->result());
  }
  g.AddOutput(values.back());
  g.AddOutput(values[10]);
  for (int step = 0; step < 300; ++step) {
    Node* n = nodes[rng() % nodes.size()];
    // Only values defined before n keep the order topological.
    std::vector<Value*> earlier(g.inputs().begin(), g.inputs().end());
    for (Node* m : nodes) {
      if (m == n) break;
      earlier.push_back(m->result());
    }
    Value* v = earlier[rng() % earlier.size()];
    switch (rng() % 3) {
      case 0:
        g.SetArg(n, static_cast<int>(rng() % 2), v);
        break;
      case 1:
        g.SetOutput(rng() % 2, v);
        break;
      case 2:
        if (v->def() != nullptr) {
          // Replace a node's result with an earlier value everywhere.
          std::vector<Value*> before(g.inputs().begin(), g.inputs().end());
          for (Node* m : nodes) {
            if (m == v->def()) break;
            before.push_back(m->result());
          }
          g.ReplaceAllUsesWith(v, before[rng() % before.size()]);
        }
        break;
    }
  }
  ExpectUseListsConsistent(g);
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  int erased = g.EraseDeadNodes();
  EXPECT_EQ(static_cast<size_t>(erased) + g.num_nodes(), 40u);
  ExpectUseListsConsistent(g);
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

}  // namespace
}  // namespace graft
