// graft/ir/verifier.h: every rejection names the offending node.
#include "graft/ir/verifier.h"

#include <memory>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/builder.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

using ::testing::HasSubstr;

TensorType F32(std::initializer_list<Dim> shape) { return TensorType::Get(DType::kFloat32, shape); }

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
    w = g.AddInput(F32({51864, 384}), "w", InputKind::kParameter);
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

TEST(VerifierTest, AcceptsWellFormedGraphs) {
  Whisper w;
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  Graph empty;
  EXPECT_TRUE(Verify(empty).ok());
  Graph passthrough;
  passthrough.AddOutput(passthrough.AddInput(F32({2}), "x"));
  EXPECT_TRUE(Verify(passthrough).ok());
}

TEST(VerifierTest, UseBeforeDefinition) {
  Whisper w;
  // mm above its operand view: the order is no longer topological.
  w.g.MoveBefore(w.mm, w.view);
  absl::Status s = Verify(w.g);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "node %mm = aten::mm.default: argument 0 is not defined before its use (graph not "
            "in topological order, or value from another graph)");
}

TEST(VerifierTest, UseOfItsOwnResult) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Node* relu = *Builder(g, Ops()).Create("relu", {x});
  g.set_name(relu->result(), "r");
  g.SetArg(relu, 0, relu->result());
  EXPECT_EQ(Verify(g).message(),
            "node %r = aten::relu.default: argument 0 is not defined before its use (graph not "
            "in topological order, or value from another graph)");
}

TEST(VerifierTest, ValueFromAnotherGraph) {
  Graph other;
  Value* foreign = other.AddInput(F32({4}), "foreign");
  Graph g;
  Node* n = g.CreateNode(ops::relu(), {Arg(foreign)}, {F32({4})});
  g.set_name(n->result(), "r");
  EXPECT_THAT(Verify(g).message(),
              HasSubstr("node %r = aten::relu.default: argument 0 is not defined before its use"));
}

TEST(VerifierTest, WrongArgumentCount) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::mm(), {Arg(a)}, {F32({2, 3})});
  g.set_name(n->result(), "mm");
  EXPECT_EQ(Verify(g).message(),
            "node %mm = aten::mm.default: aten::mm.default takes 2 arguments, got 1");
}

TEST(VerifierTest, TooManyArguments) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::relu(), {Arg(a), Arg(a)}, {F32({2, 3})});
  g.set_name(n->result(), "r");
  EXPECT_EQ(Verify(g).message(),
            "node %r = aten::relu.default: aten::relu.default takes 1 argument, got 2");
}

TEST(VerifierTest, WrongLiteralKind) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::permute_copy(), {Arg(a), Literal::Int(1)}, {F32({3, 2})});
  g.set_name(n->result(), "p");
  EXPECT_EQ(Verify(g).message(),
            "node %p = aten::permute_copy.default: aten::permute_copy.default argument 1 (dims) "
            "expects int[], got 1");
}

TEST(VerifierTest, NoneForARequiredLiteral) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::_softmax(), {Arg(a), Literal::None(), Literal::Bool(false)},
                         {F32({2, 3})});
  g.set_name(n->result(), "s");
  EXPECT_EQ(Verify(g).message(),
            "node %s = aten::_softmax.default: aten::_softmax.default argument 1 (dim) expects "
            "int, got None");
}

TEST(VerifierTest, TensorWhereALiteralBelongs) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::view_copy(), {Arg(a), Arg(a)}, {F32({6})});
  g.set_name(n->result(), "v");
  EXPECT_EQ(Verify(g).message(),
            "node %v = aten::view_copy.default: aten::view_copy.default argument 1 (size) "
            "expects int[], got a tensor");
}

TEST(VerifierTest, MissingArgument) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Node* n = g.CreateNode(ops::mm(), {Arg(a), Arg()}, {F32({2, 3})});
  g.set_name(n->result(), "mm");
  EXPECT_EQ(Verify(g).message(), "node %mm = aten::mm.default: argument 1 is missing");
}

TEST(VerifierTest, WrongDeclaredResultType) {
  Whisper w;
  w.mm->result()->set_type(F32({128, 51865}));
  EXPECT_EQ(Verify(w.g).message(),
            "node %mm = aten::mm.default: result 0 has type f32[128, 51865] but the op "
            "computes f32[128, 51864]");
}

TEST(VerifierTest, WrongResultDType) {
  Whisper w;
  w.permute->result()->set_type(TensorType::Get(DType::kFloat16, {384, 51864}));
  EXPECT_EQ(Verify(w.g).message(),
            "node %permute = aten::permute_copy.default: result 0 has type f16[384, 51864] but "
            "the op computes f32[384, 51864]");
}

// A result that knows less than its op computes is sound (its users may
// then know less too, or more: a rewrite that holds for any types refines
// a value after its users were made); a known fact that conflicts is not.
TEST(VerifierTest, PartialResultTypeOnACatalogueOp) {
  Whisper w;
  w.view->result()->set_type(TensorType());
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  Dim dims[] = {Dim::Unknown(), 384};
  w.view->result()->set_type(TensorType::Get(DType::kFloat32, dims));
  EXPECT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  Dim wrong[] = {Dim::Unknown(), 385};
  w.view->result()->set_type(TensorType::Get(DType::kFloat32, wrong));
  EXPECT_EQ(Verify(w.g).message(),
            "node %view = aten::view_copy.default: result 0 has type f32[?, 385] but the op "
            "computes f32[128, 384]");
}

TEST(VerifierTest, ShapeFunctionRejection) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  Value* b = g.AddInput(F32({4, 5}), "b");
  Node* n = g.CreateNode(ops::mm(), {Arg(a), Arg(b)}, {F32({2, 5})});
  g.set_name(n->result(), "mm");
  EXPECT_EQ(Verify(g).message(),
            "node %mm = aten::mm.default: mm: operand shapes f32[2, 3] and f32[4, 5] do not "
            "chain (3 != 4)");
}

TEST(VerifierTest, WrongResultCount) {
  Graph g;
  Value* x = g.AddInput(F32({2, 8}), "x");
  Node* n = g.CreateNode(ops::native_layer_norm(),
                         {Arg(x), Literal::Ints({8}), Literal::None(), Literal::None(),
                          Literal::Float(1e-5)},
                         {F32({2, 8})});
  g.set_name(n->result(), "ln");
  EXPECT_EQ(Verify(g).message(),
            "node %ln = aten::native_layer_norm.default: has 1 results, the schema says 3");
}

TEST(VerifierTest, MultiResultTypesAreCheckedEach) {
  Graph g;
  Value* x = g.AddInput(F32({2, 8}), "x");
  Node* n = g.CreateNode(ops::native_layer_norm(),
                         {Arg(x), Literal::Ints({8}), Literal::None(), Literal::None(),
                          Literal::Float(1e-5)},
                         {F32({2, 8}), F32({2, 1}), F32({2, 8})});
  g.set_name(n->result(0), "out");
  EXPECT_EQ(Verify(g).message(),
            "node %out = aten::native_layer_norm.default: result 2 has type f32[2, 8] but the "
            "op computes f32[2, 1]");
  n->result(2)->set_type(F32({2, 1}));
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(VerifierTest, ResultOfAnErasedNode) {
  Whisper w;
  Value* stale = w.out->result();
  w.g.SetOutput(0, w.mm->result());
  w.g.Erase(w.out);
  ASSERT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  // A rewrite that kept a pointer to the erased node's result and used it.
  Node* user = w.g.CreateNode(ops::relu(), {Arg(stale)}, {F32({1, 128, 51864})});
  w.g.set_name(user->result(), "r");
  EXPECT_EQ(Verify(w.g).message(),
            "node %r = aten::relu.default: argument 0 is a result of erased node %logits = "
            "aten::view_copy.default");
}

TEST(VerifierTest, OutputIsAResultOfAnErasedNode) {
  Whisper w;
  Value* stale = w.out->result();
  w.g.SetOutput(0, w.mm->result());
  w.g.Erase(w.out);
  w.g.SetOutput(0, stale);
  EXPECT_EQ(Verify(w.g).message(),
            "output 0 is a result of erased node %logits = aten::view_copy.default");
}

TEST(VerifierTest, OutputUndefined) {
  Graph other;
  Value* foreign = other.AddInput(F32({4}), "foreign");
  Whisper w;
  w.g.AddOutput(foreign);
  absl::Status s = Verify(w.g);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "output 1 is not defined (a value from another graph?)");
}

TEST(VerifierTest, LabelCarriesTheLocation) {
  Whisper w;
  w.mm->set_loc(w.g.InternLoc("whisper/model.py:211"));
  w.mm->result()->set_type(F32({128, 1}));
  EXPECT_EQ(Verify(w.g).message(),
            "node %mm = aten::mm.default (whisper/model.py:211): result 0 has type f32[128, 1] "
            "but the op computes f32[128, 51864]");
}

TEST(VerifierTest, UnnamedNodeIsLabelledByItsOp) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  g.CreateNode(ops::t_copy(), {Arg(a)}, {F32({2, 3})});
  EXPECT_EQ(Verify(g).message(),
            "node aten::t_copy.default: result 0 has type f32[2, 3] but the op computes "
            "f32[3, 2]");
}

TEST(VerifierTest, ReportsTheFirstBadNode) {
  Whisper w;
  w.view->result()->set_type(F32({384, 128}));  // also breaks mm's inference
  EXPECT_THAT(Verify(w.g).message(), HasSubstr("node %view = aten::view_copy.default:"));
}

TEST(VerifierTest, OpaqueOpsAreNotChecked) {
  Graph g;
  Value* a = g.AddInput(F32({2, 3}), "a");
  const OpDef* op = *Ops().Intern("vendor::fused_thing.v2");
  Node* n = g.CreateNode(op, {Arg(a), Literal::String("cfg"), Arg(a)}, {TensorType(), F32({1})});
  g.AddOutput(n->result(1));
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
  // A catalogue op fed by an unknown type computes an unknown type, which
  // any declared result refines (an importer may know more)...
  Node* relu = g.CreateNode(ops::relu(), {Arg(n->result(0))}, {TensorType()});
  g.set_name(relu->result(), "r");
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
  relu->result()->set_type(TensorType::OfDType(DType::kFloat32));
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
  // ...and one that knows less than the op computes is sound too; a known
  // fact that conflicts is an error.
  Node* relu2 = g.CreateNode(ops::relu(), {Arg(a)}, {TensorType::OfDType(DType::kFloat32)});
  g.set_name(relu2->result(), "r2");
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
  relu2->result()->set_type(TensorType::OfDType(DType::kFloat16));
  EXPECT_EQ(Verify(g).message(),
            "node %r2 = aten::relu.default: result 0 has type f16[*] but the op computes f32[2, 3]");
}

// ---------------------------------------------------------------------------
// Use-lists, checked through the positions the graph stores (linear in the
// fan-out). The graph keeps them right by construction, so these tests
// corrupt an entry by hand, as a buggy rewrite writing through a cast would.

Use& MutableUse(Value* v, size_t i) { return const_cast<Use&>(v->uses()[i]); }

// Entries swapped without their slots learning it: each argument is still
// somewhere in the list, so a search of the list accepted it, but the next
// removal would overwrite the wrong entry.
TEST(VerifierTest, UseListEntriesOutOfPlace) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  std::vector<Node*> relus;
  for (int i = 0; i < 5; ++i) {
    relus.push_back(*b.Create("relu", {x}));
    g.set_name(relus.back()->result(), absl::StrCat("r", i));
    g.AddOutput(relus.back()->result());
  }
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  std::swap(MutableUse(x, 1), MutableUse(x, 3));
  EXPECT_EQ(Verify(g).message(),
            "node %r1 = aten::relu.default: argument 0 is in its use-list but not at the "
            "position it records (1)");
}

// The same user's two arguments swapped in the list: every entry still names
// an argument that holds the value.
TEST(VerifierTest, SameUserArgumentsSwappedInTheUseList) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* relu = *b.Create("relu", {x});
  g.set_name(relu->result(), "r");
  Node* add = *b.Create("add", {relu->result(), relu->result()});
  g.AddOutput(add->result());
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  std::swap(MutableUse(relu->result(), 0), MutableUse(relu->result(), 1));
  EXPECT_EQ(Verify(g).message(), "node %r = aten::relu.default: result 0 has a stale use");
}

TEST(VerifierTest, OutputsSwappedInTheUseList) {
  Whisper w;
  w.g.AddOutput(w.out->result());
  ASSERT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  std::swap(MutableUse(w.out->result(), 0), MutableUse(w.out->result(), 1));
  EXPECT_EQ(Verify(w.g).message(),
            "node %logits = aten::view_copy.default: result 0 has a stale use");
}

// An entry pointing at an erased node whose argument slot still holds the
// value (erasure drops the entries, not the slots).
TEST(VerifierTest, UseByAnErasedNode) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* a = *b.Create("relu", {x});
  g.set_name(a->result(), "a");
  Node* erased = *b.Create("relu", {a->result()});
  g.Erase(erased);
  Node* f = *b.Create("relu", {a->result()});
  g.set_name(f->result(), "f");
  g.AddOutput(f->result());
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  ASSERT_EQ(f->use_position(0), erased->use_position(0));
  MutableUse(a->result(), 0).user = erased;
  EXPECT_EQ(Verify(g).message(), "node %a = aten::relu.default: result 0 has a stale use");
}

// A node built in another graph on this graph's values: its entries are
// consistent with its slots, but they are nobody's argument here, and they
// dangle once that graph dies.
TEST(VerifierTest, UseByANodeOfAnotherGraph) {
  Whisper w;
  Graph other;
  Node* foreign = other.CreateNode(ops::relu(), {Arg(w.x)}, {F32({1, 128, 384})});
  EXPECT_EQ(Verify(w.g).message(), "input %x is used by aten::relu.default, a node of another graph");
  other.SetArg(foreign, 0, other.AddInput(F32({1, 128, 384})));
  ASSERT_TRUE(Verify(w.g).ok()) << Verify(w.g);
  other.SetArg(foreign, 0, w.view->result());
  EXPECT_EQ(Verify(w.g).message(),
            "node %view = aten::view_copy.default: result 0 is used by aten::relu.default, a node "
            "of another graph");
}

TEST(VerifierTest, InputUseListEntryStale) {
  Whisper w;
  // w's only use is permute's argument 0; point the entry at argument 1 (a
  // literal).
  ASSERT_EQ(w.w->num_uses(), 1u);
  MutableUse(w.w, 0).index = 1;
  EXPECT_EQ(Verify(w.g).message(),
            "node %permute = aten::permute_copy.default: argument 0 is missing from its use-list");
}

// A value with a large fan-out: accepted, and one corrupted entry among
// 20,000 is found and the right node named. (Searching each argument's
// use-list made this quadratic: 100k uses took 8 s.)
TEST(VerifierTest, LargeFanOut) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* hub = *b.Create("relu", {x});
  g.set_name(hub->result(), "hub");
  constexpr int kUsers = 10000;
  std::vector<Node*> users;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(*b.Create("add", {hub->result(), hub->result()}));
    g.set_name(users.back()->result(), absl::StrCat("u", i));
    g.AddOutput(users.back()->result());
  }
  ASSERT_EQ(hub->result()->num_uses(), 2u * kUsers);
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);

  // Removing uses from the middle repoints the moved entries; still valid.
  for (int i = 0; i < kUsers; i += 7) g.SetArg(users[i], 1, x);
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);

  Value* hv = hub->result();
  std::swap(MutableUse(hv, 12345), MutableUse(hv, 12346));
  EXPECT_EQ(Verify(g).message(), "node %hub = aten::relu.default: result 0 has a stale use");
  std::swap(MutableUse(hv, 12345), MutableUse(hv, 12346));
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);

  // An entry that no longer names its argument: the user is the one named.
  Use& u = MutableUse(hv, 9000);
  Node* victim = u.user;
  u.user = users[0] == victim ? users[1] : users[0];
  EXPECT_EQ(Verify(g).message(), "node %hub = aten::relu.default: result 0 has a stale use");
  u.user = victim;
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  u.index = 5;
  EXPECT_EQ(Verify(g).message(), "node %hub = aten::relu.default: result 0 has a stale use");
}

}  // namespace
}  // namespace graft
