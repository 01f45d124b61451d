// graft/ir/printer.h: the exact text form, and Parse(Print(g)) == g for the
// fixture and for graphs using every feature of the text.
#include "graft/ir/printer.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "graft/ir/builder.h"
#include "graft/ir/parser.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "tests/ir/graph_text.h"

namespace graft {
namespace {

using test_util::ExpectSameGraph;
using test_util::ReadFixture;
using test_util::StripCommentLines;

TensorType F32(std::initializer_list<Dim> shape) { return TensorType::Get(DType::kFloat32, shape); }

// Parses `text`, failing the test on error.
std::unique_ptr<Graph> MustParse(absl::string_view text) {
  auto g = ParseGraph(text, Ops(), "test.graft");
  EXPECT_TRUE(g.ok()) << g.status() << "\n" << text;
  return g.ok() ? std::move(*g) : std::make_unique<Graph>();
}

// Print, parse the print, print again: same text, same graph.
void ExpectRoundTrip(const Graph& g) {
  std::string text = Print(g);
  auto back = ParseGraph(text, Ops(), "printed.graft");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_EQ(Print(**back), text);
  ExpectSameGraph(g, **back);
}

TEST(PrinterTest, FixturePrintsAsWritten) {
  std::string fixture = ReadFixture("whisper_logits.graft");
  auto g = MustParse(fixture);
  // The fixture is in the printer's own layout, so only its comments go.
  EXPECT_EQ(Print(*g), StripCommentLines(fixture));
  EXPECT_EQ(Print(*g),
            "graph @whisper_logits(\n"
            "    %x: f32[1, 128, 384],\n"
            "    parameter %p_token_embedding_weight: f32[51864, 384] "
            "\"token_embedding.weight\") {\n"
            "  %permute = aten::permute_copy.default(%p_token_embedding_weight, [1, 0]) : "
            "f32[384, 51864]\n"
            "  %view = aten::view_copy.default(%x, [128, 384]) : f32[128, 384]\n"
            "  %mm = aten::mm.default(%view, %permute) : f32[128, 51864]\n"
            "  %logits = aten::view_copy.default(%mm, [1, 128, 51864]) : f32[1, 128, 51864]\n"
            "  return %logits\n"
            "}\n");
  ExpectRoundTrip(*g);
}

// Every feature of the text at once, written as the printer writes it.
constexpr char kKitchenSink[] = R"(graph @kitchen_sink(
    %x: f32[s0, 128, 384],
    parameter %w: f32[384] "layer_norm.weight",
    buffer %b: f32[384] "layer_norm.bias",
    constant %c: i64[] "_lifted_tensor_constant0",
    %idx: i64[s0, 7],
    parameter %emb: f32[100, 384] "embed.weight",
    %opaque_in: ?) {
  %ln, %mean, %rstd = aten::native_layer_norm.default(%x, [384], %w, %b, 1e-05) : f32[s0, 128, 384], f32[s0, 128, 1], f32[s0, 128, 1] loc("decoder.py:12")
  %t = aten::transpose_copy.int(%ln, -1, -2) : f32[s0, 384, 128]
  %g = aten::gelu.default(%ln, "tanh") : f32[s0, 128, 384]
  %s = aten::_softmax.default(%g, -1, False) : f32[s0, 128, 384]
  %h = aten::_to_copy.default(%s, bf16, None, None, None, False, None) : bf16[s0, 128, 384]
  %m = aten::mul.Tensor(%x, %c) : f32[s0, 128, 384]
  %a = aten::add.Tensor(%x, %m, 0.1) : f32[s0, 128, 384]
  %e = aten::embedding.default(%emb, %idx, -9223372036854775808, True) : f32[s0, 7, 384]
  %o, %aux = vendor::fused.v2(%a, "q\" b\\ n\n t	end", [3, -1, 0, -9223372036854775808, 9223372036854775807], -7, True, None, f8e4m3fn, -0.5, inf, -inf, 1e+300, 5e-324) : f32[s0, 128, 384], ? loc("fused \"op\".py:1")
  vendor::print.default(%o, "side effect")
  return %o, %mean, %aux, %opaque_in
}
)";

TEST(PrinterTest, KitchenSinkPrintsExactly) {
  auto g = MustParse(kKitchenSink);
  EXPECT_EQ(Print(*g), kKitchenSink);
  ExpectRoundTrip(*g);
}

TEST(PrinterTest, KitchenSinkParsedAsMeant) {
  auto g = MustParse(kKitchenSink);
  ASSERT_EQ(g->inputs().size(), 7u);
  EXPECT_EQ(g->input_kind(g->inputs()[1]), InputKind::kParameter);
  EXPECT_EQ(g->input_kind(g->inputs()[2]), InputKind::kBuffer);
  EXPECT_EQ(g->input_kind(g->inputs()[3]), InputKind::kConstant);
  EXPECT_EQ(g->input_kind(g->inputs()[4]), InputKind::kUserInput);
  EXPECT_EQ(g->original_name(g->inputs()[3]), "_lifted_tensor_constant0");
  EXPECT_FALSE(g->inputs()[6]->type().known());
  EXPECT_EQ(g->inputs()[0]->type().dim(0), Dim::Symbol("s0"));
  ASSERT_EQ(g->num_nodes(), 10u);
  const Node* ln = g->first_node();
  EXPECT_EQ(ln->num_results(), 3);
  EXPECT_EQ(g->loc(ln->loc()), "decoder.py:12");
  EXPECT_EQ(ln->literal(4), Literal::Float(1e-05));
  const Node* fused = g->last_node()->prev();
  EXPECT_EQ(fused->op()->name(), "vendor::fused.v2");
  EXPECT_EQ(fused->schema(), nullptr);
  EXPECT_EQ(fused->literal(1), Literal::String("q\" b\\ n\n t\tend"));
  EXPECT_EQ(fused->literal(2), Literal::Ints({3, -1, 0, std::numeric_limits<int64_t>::min(),
                                              std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(fused->literal(3), Literal::Int(-7));
  EXPECT_EQ(fused->literal(4), Literal::Bool(true));
  EXPECT_EQ(fused->literal(5), Literal::None());
  EXPECT_EQ(fused->literal(6), Literal::OfDType(DType::kFloat8E4M3FN));
  EXPECT_EQ(fused->literal(7), Literal::Float(-0.5));
  EXPECT_EQ(fused->literal(8), Literal::Float(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(fused->literal(9), Literal::Float(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(fused->literal(10), Literal::Float(1e300));
  EXPECT_EQ(fused->literal(11), Literal::Float(5e-324));
  EXPECT_FALSE(fused->result(1)->type().known());
  EXPECT_EQ(g->loc(fused->loc()), "fused \"op\".py:1");
  EXPECT_EQ(g->last_node()->num_results(), 0);
  EXPECT_EQ(g->num_outputs(), 4u);
  EXPECT_EQ(g->output(3), g->inputs()[6]);
  EXPECT_TRUE(Verify(*g).ok()) << Verify(*g);
}

// Floats go through text and come back bit for bit.
TEST(PrinterTest, FloatsRoundTripExactly) {
  const double values[] = {1e-05,
                           0.1,
                           1.0 / 3.0,
                           -2.5,
                           0.0,
                           -0.0,
                           1.0,
                           1e16,
                           123456789.123456789,
                           std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           -std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           -std::numeric_limits<double>::quiet_NaN()};
  Graph g("floats");
  Value* x = g.AddInput(F32({2}), "x");
  const OpDef* op = *Ops().Intern("test::floats");
  for (double v : values) g.CreateNode(op, {Arg(x), Literal::Float(v)}, {});
  auto back = ParseGraph(Print(g), Ops());
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << Print(g);
  const Node* n = (*back)->first_node();
  for (double v : values) {
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->literal(1), Literal::Float(v))
        << Literal::FloatToString(v) << " came back as " << n->literal(1)->ToString();
    n = n->next();
  }
  EXPECT_TRUE(std::signbit((*back)->last_node()->literal(1)->as_float()));  // -nan
}

TEST(PrinterTest, IntsRoundTripExactly) {
  const int64_t values[] = {0, 1, -1, 384, -9223372036854775807,
                            std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max()};
  Graph g;
  Value* x = g.AddInput(F32({2}), "x");
  const OpDef* op = *Ops().Intern("test::ints");
  for (int64_t v : values) {
    g.CreateNode(op, {Arg(x), Literal::Int(v), Literal::Ints({v, 0, v})}, {});
  }
  ExpectRoundTrip(g);
}

TEST(PrinterTest, StringsRoundTripExactly) {
  const char* values[] = {"",        "plain",     "with \"quotes\"", "back\\slash", "trailing\\",
                          "new\nline", "tab\there", "cr\rhere",      "\xc3\xa9t\xc3\xa9 utf-8",
                          "# not a comment", "%not_a_value", "}"};
  Graph g;
  Value* x = g.AddInput(F32({2}), "x", InputKind::kParameter, "odd \"original\"\nname");
  const OpDef* op = *Ops().Intern("test::strings");
  for (const char* v : values) {
    Node* n = g.CreateNode(op, {Arg(x), Literal::String(v)}, {});
    n->set_loc(g.InternLoc(v));
  }
  ExpectRoundTrip(g);
}

TEST(PrinterTest, EveryDTypeRoundTrips) {
  Graph g;
  const OpDef* op = *Ops().Intern("test::dtypes");
  for (const auto& info : dtype_internal::kDTypes) {
    Value* in = g.AddInput(TensorType::Get(info.dtype, {2, Dim::Symbol("n")}),
                           std::string(info.short_name));
    g.CreateNode(op, {Arg(in), Literal::OfDType(info.dtype)}, {});
  }
  ExpectRoundTrip(g);
}

TEST(PrinterTest, BuiltGraphRoundTrips) {
  Graph g("built");
  Value* x = g.AddInput(TensorType::Get(DType::kBFloat16, {Dim::Symbol("batch"), 16}), "x");
  Value* w = g.AddInput(TensorType::Get(DType::kBFloat16, {32, 16}), "w", InputKind::kParameter,
                        "fc.weight");
  Builder b(g, Ops());
  b.SetLoc(g.InternLoc("model.py:3"));
  Value* y = *b.Op("linear", {x, w});
  b.SetLoc(0);
  Value* z = *b.Op("relu", {y});
  g.set_name(y->def()->result(), "y");
  g.AddOutput(z);
  g.AddOutput(y);
  ExpectRoundTrip(g);
  EXPECT_EQ(Print(g),
            "graph @built(\n"
            "    %x: bf16[batch, 16],\n"
            "    parameter %w: bf16[32, 16] \"fc.weight\") {\n"
            "  %y = aten::linear.default(%x, %w) : bf16[batch, 32] loc(\"model.py:3\")\n"
            "  %0 = aten::relu.default(%y) : bf16[batch, 32]\n"
            "  return %0, %y\n"
            "}\n");
}

TEST(PrinterTest, NamesAreMadeUniqueAndParseable) {
  Graph g("my graph/v1");
  Value* x = g.AddInput(F32({2}), "x");
  Value* zero = g.AddInput(F32({2}), "0");
  Builder b(g, Ops());
  Value* r1 = *b.Op("relu", {x});
  Value* r2 = *b.Op("relu", {r1});
  Value* r3 = *b.Op("relu", {r2});
  Value* r4 = *b.Op("add", {r3, zero});
  g.set_name(r1, "x");            // clashes with the input
  g.set_name(r2, "a-b c");        // characters the lexer does not take
  g.set_name(r3, "x");            // clashes again
  g.AddOutput(r4);                // unnamed: numbered, avoiding %0
  EXPECT_EQ(Print(g),
            "graph @my_graph_v1(\n"
            "    %x: f32[2],\n"
            "    %0: f32[2]) {\n"
            "  %x_1 = aten::relu.default(%x) : f32[2]\n"
            "  %a_b_c = aten::relu.default(%x_1) : f32[2]\n"
            "  %x_2 = aten::relu.default(%a_b_c) : f32[2]\n"
            "  %1 = aten::add.Tensor(%x_2, %0) : f32[2]\n"
            "  return %1\n"
            "}\n");
  auto back = ParseGraph(Print(g), Ops());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Print(**back), Print(g));
}

TEST(PrinterTest, UnnamedGraphIsMain) {
  Graph g;
  g.AddOutput(g.AddInput(F32({}), "x"));
  EXPECT_EQ(Print(g), "graph @main(\n    %x: f32[]) {\n  return %x\n}\n");
}

TEST(PrinterTest, EmptyGraph) {
  Graph g("empty");
  EXPECT_EQ(Print(g), "graph @empty() {\n  return\n}\n");
  auto back = ParseGraph(Print(g), Ops());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->inputs().size(), 0u);
  EXPECT_EQ((*back)->num_outputs(), 0u);
}

TEST(PrinterTest, NumberNodesIgnoresResultNames) {
  auto a = MustParse(ReadFixture("whisper_logits.graft"));
  auto b = MustParse(ReadFixture("whisper_logits.graft"));
  for (Node* n : b->nodes()) b->set_name(n->result(), absl::StrCat("renamed_", n->loc()));
  EXPECT_NE(Print(*a), Print(*b));
  PrintOptions numbered;
  numbered.number_nodes = true;
  EXPECT_EQ(Print(*a, numbered), Print(*b, numbered));
  EXPECT_EQ(Print(*a, numbered),
            "graph @whisper_logits(\n"
            "    %x: f32[1, 128, 384],\n"
            "    parameter %p_token_embedding_weight: f32[51864, 384] "
            "\"token_embedding.weight\") {\n"
            "  %0 = aten::permute_copy.default(%p_token_embedding_weight, [1, 0]) : "
            "f32[384, 51864]\n"
            "  %1 = aten::view_copy.default(%x, [128, 384]) : f32[128, 384]\n"
            "  %2 = aten::mm.default(%1, %0) : f32[128, 51864]\n"
            "  %3 = aten::view_copy.default(%2, [1, 128, 51864]) : f32[1, 128, 51864]\n"
            "  return %3\n"
            "}\n");
}

TEST(PrinterTest, PrintNodeAlone) {
  auto g = MustParse(ReadFixture("whisper_logits.graft"));
  printer_internal::Namer namer(*g, /*number_nodes=*/false);
  std::string out;
  PrintNode(*g, g->first_node()->next()->next(), namer, &out);
  EXPECT_EQ(out, "%mm = aten::mm.default(%view, %permute) : f32[128, 51864]");
}

TEST(PrinterTest, MultipleGraphsInOneFile) {
  std::string one = Print(*MustParse(ReadFixture("whisper_logits.graft")));
  std::string two = Print(*MustParse(kKitchenSink));
  auto graphs = ParseGraphs(one + "\n# between\n" + two, Ops(), "two.graft");
  ASSERT_TRUE(graphs.ok()) << graphs.status();
  ASSERT_EQ(graphs->size(), 2u);
  EXPECT_EQ(Print(*(*graphs)[0]), one);
  EXPECT_EQ(Print(*(*graphs)[1]), two);
}

}  // namespace
}  // namespace graft
