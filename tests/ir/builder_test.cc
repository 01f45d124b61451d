// graft/ir/builder.h: node creation at an insertion point with inferred
// result types.
#include "graft/ir/builder.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

using ::testing::HasSubstr;

TensorType F32(std::initializer_list<Dim> shape) { return TensorType::Get(DType::kFloat32, shape); }

std::vector<Node*> Order(const Graph& g) {
  std::vector<Node*> order;
  for (Node* n : g.nodes()) order.push_back(n);
  return order;
}

TEST(BuilderTest, InfersTypesAndAppends) {
  Graph g;
  Value* x = g.AddInput(F32({1, 128, 384}), "x");
  Value* w = g.AddInput(F32({51864, 384}), "w", InputKind::kParameter);
  Builder b(g, Ops());
  EXPECT_EQ(&b.graph(), &g);
  EXPECT_EQ(b.insertion_point(), nullptr);
  auto permute = b.Op("permute_copy", {w, Literal::Ints({1, 0})});
  ASSERT_TRUE(permute.ok()) << permute.status();
  EXPECT_EQ((*permute)->type(), F32({384, 51864}));
  auto view = b.Op("aten::view_copy", {x, Literal::Ints({128, 384})});
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->type(), F32({128, 384}));
  auto mm = b.Op("aten.mm.default", {*view, *permute});
  ASSERT_TRUE(mm.ok()) << mm.status();
  EXPECT_EQ((*mm)->type(), F32({128, 51864}));
  EXPECT_EQ((*mm)->def()->op(), ops::mm());
  EXPECT_EQ(g.last_node(), (*mm)->def());
  EXPECT_EQ(g.num_nodes(), 3u);
  g.AddOutput(*mm);
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(BuilderTest, CreateWithOpDef) {
  Graph g;
  Value* x = g.AddInput(F32({2, 3}), "x");
  Builder b(g, Ops());
  Arg args[] = {x};
  auto n = b.Create(ops::t_copy(), args);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ((*n)->result()->type(), F32({3, 2}));
  EXPECT_EQ((*n)->num_args(), 1);
}

TEST(BuilderTest, InsertionPoint) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* last = *b.Create("relu", {x});
  b.SetInsertionPoint(last);
  EXPECT_EQ(b.insertion_point(), last);
  Node* first = *b.Create("gelu", {x});
  Node* second = *b.Create("clone", {x});
  // Each new node goes right before the insertion point, so they keep the
  // order they were created in.
  EXPECT_EQ(Order(g), (std::vector<Node*>{first, second, last}));
  b.SetInsertionPointToEnd();
  EXPECT_EQ(b.insertion_point(), nullptr);
  Node* end = *b.Create("relu", {last->result()});
  EXPECT_EQ(Order(g), (std::vector<Node*>{first, second, last, end}));
  b.SetInsertionPoint(g.first_node());
  Node* head = *b.Create("relu", {x});
  EXPECT_EQ(g.first_node(), head);
}

TEST(BuilderTest, LocationIsStampedOnNewNodes) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  Node* none = *b.Create("relu", {x});
  EXPECT_EQ(none->loc(), 0u);
  uint32_t loc = g.InternLoc("model.py:7");
  b.SetLoc(loc);
  Node* with = *b.Create("relu", {x});
  EXPECT_EQ(with->loc(), loc);
  EXPECT_EQ(g.loc(with->loc()), "model.py:7");
  const OpDef* opaque = *Ops().Intern("custom::thing");
  Node* typed = b.CreateWithTypes(opaque, {Arg(x)}, {F32({4})});
  EXPECT_EQ(typed->loc(), loc);
}

TEST(BuilderTest, TrailingDefaultsMayBeOmitted) {
  Graph g;
  Value* x = g.AddInput(F32({2, 3}), "x");
  Value* y = g.AddInput(F32({2, 3}), "y");
  Builder b(g, Ops());
  auto add = b.Create("add", {x, y});  // alpha defaults to 1
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_EQ((*add)->num_args(), 2);
  auto gelu = b.Create("gelu", {x, Literal::String("tanh")});
  ASSERT_TRUE(gelu.ok()) << gelu.status();
  EXPECT_EQ((*gelu)->num_args(), 2);
}

TEST(BuilderTest, MultiResultCreate) {
  Graph g;
  Value* x = g.AddInput(F32({2, 8}), "x");
  Builder b(g, Ops());
  auto ln = b.Create("native_layer_norm",
                     {x, Literal::Ints({8}), Literal::None(), Literal::None(), Literal::Float(1e-5)});
  ASSERT_TRUE(ln.ok()) << ln.status();
  ASSERT_EQ((*ln)->num_results(), 3);
  EXPECT_EQ((*ln)->result(1)->type(), F32({2, 1}));
  // Op() gives the first result.
  auto out = b.Op("native_layer_norm",
                  {x, Literal::Ints({8}), Literal::None(), Literal::None(), Literal::Float(1e-5)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)->index(), 0u);
  EXPECT_EQ((*out)->type(), F32({2, 8}));
}

TEST(BuilderTest, UnknownShortNameIsAnError) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  auto r = b.Op("frobnicate", {x});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("unknown op 'frobnicate'"));
  EXPECT_EQ(g.num_nodes(), 0u);
}

TEST(BuilderTest, OpaqueOpsNeedTypes) {
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops());
  auto r = b.Op("my_ns::custom_op", {x});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "my_ns::custom_op.default is not in the catalogue, so its result type is unknown");
  EXPECT_EQ(g.num_nodes(), 0u);
  const OpDef* op = *Ops().Intern("my_ns::custom_op");
  Node* n = b.CreateWithTypes(op, {Arg(x), Literal::Int(3)}, {F32({4}), F32({})});
  EXPECT_EQ(n->num_results(), 2);
  EXPECT_EQ(n->result(1)->type(), F32({}));
  EXPECT_EQ(n->schema(), nullptr);
  g.AddOutput(n->result(0));
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(BuilderTest, ArgumentErrorsCreateNothing) {
  Graph g;
  Value* x = g.AddInput(F32({2, 3}), "x");
  Value* y = g.AddInput(F32({4, 5}), "y");
  Builder b(g, Ops());
  auto too_few = b.Op("mm", {x});
  ASSERT_FALSE(too_few.ok());
  EXPECT_EQ(too_few.status().message(), "aten::mm.default takes 2 arguments, got 1");
  auto too_many = b.Op("add", {x, x, Literal::Int(1), Literal::Int(2)});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().message(), "aten::add.Tensor takes 2 to 3 arguments, got 4");
  auto wrong_kind = b.Op("view_copy", {x, Literal::Int(6)});
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.status().message(),
            "aten::view_copy.default argument 1 (size) expects int[], got 6");
  auto literal_for_tensor = b.Op("relu", {Literal::Float(1.0)});
  ASSERT_FALSE(literal_for_tensor.ok());
  EXPECT_EQ(literal_for_tensor.status().message(),
            "aten::relu.default argument 0 (self) expects Tensor, got 1.0");
  auto tensor_for_literal = b.Op("permute_copy", {x, y});
  ASSERT_FALSE(tensor_for_literal.ok());
  EXPECT_EQ(tensor_for_literal.status().message(),
            "aten::permute_copy.default argument 1 (dims) expects int[], got a tensor");
  auto shape_error = b.Op("mm", {x, y});
  ASSERT_FALSE(shape_error.ok());
  EXPECT_EQ(shape_error.status().message(),
            "mm: operand shapes f32[2, 3] and f32[4, 5] do not chain (3 != 4)");
  EXPECT_EQ(g.num_nodes(), 0u);
  EXPECT_TRUE(x->unused());
  EXPECT_TRUE(y->unused());
}

TEST(BuilderTest, ListenerHearsEveryNodeCreated) {
  struct Recorder : Builder::Listener {
    std::vector<Node*> created;
    void NodeCreated(Node* n) override { created.push_back(n); }
  } recorder;
  Graph g;
  Value* x = g.AddInput(F32({4}), "x");
  Builder b(g, Ops(), &recorder);
  Node* relu = *b.Create("relu", {x});
  Node* opaque = b.CreateWithTypes(*Ops().Intern("custom::thing"), {Arg(x)}, {F32({4})});
  auto failed = b.Op("mm", {x});  // refused: nothing created, nothing heard
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(recorder.created, (std::vector<Node*>{relu, opaque}));
}

// The IR depends on no particular op set: a registry of one's own, with its
// own schema, short name and shape function, builds and parses by name, and
// graft's catalogue means nothing to it.
absl::StatusOr<TypeList> SameAsFirst(const OpCall& call) { return TypeList{call.type(0)}; }

TEST(BuilderTest, ARegistryOfOnesOwn) {
  OpRegistry mine;
  OpSchema schema;
  schema.params = {{"self", ParamKind::kTensor}, {"k", ParamKind::kInt, Literal::Int(2)}};
  schema.shape_fn = SameAsFirst;
  const OpDef* scale = mine.Register("my::scale.default", std::move(schema));
  mine.AddAlias("scale", scale);

  Graph g;
  Value* x = g.AddInput(F32({3}), "x");
  Builder b(g, mine);
  auto y = b.Op("scale", {x});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ((*y)->def()->op(), scale);
  EXPECT_EQ((*y)->type(), F32({3}));
  // The left-out k reads as its default; 2 and 2.0 are both the default.
  EXPECT_EQ((*y)->def()->arg_or_default(1), Arg(Literal::Int(2)));
  EXPECT_TRUE(scale->schema()->params[1].IsDefault(Literal::Float(2.0)));
  EXPECT_FALSE(scale->schema()->params[1].IsDefault(Literal::Int(3)));
  EXPECT_TRUE((*y)->def()->arg_or_default(2).is_null());

  auto relu = b.Op("relu", {x});
  ASSERT_FALSE(relu.ok());
  EXPECT_EQ(ErrorKindOf(relu.status()), ErrorKind::kUnknownOp);
  EXPECT_EQ(mine.Find("aten::relu.default"), nullptr);
}

}  // namespace
}  // namespace graft
