// exir_json.h and exir_zip.h on hand-written documents shaped like what
// executorch.exir.save writes (the Python tests in this directory use real
// exports). Each document is small enough to read in the test.
#include "graft/interop/exir_json.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "graft/driver/driver.h"
#include "graft/interop/exir_zip.h"
#include "graft/ir/limits.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/rules/loader.h"
#include "gtest/gtest.h"

namespace graft {
namespace exir {
namespace {

using ::testing::HasSubstr;

// f32 [dims...] tensor metadata as exir writes it.
std::string Meta(std::initializer_list<int64_t> dims, int dtype = 7, bool grad = false) {
  std::string sizes, strides;
  std::vector<int64_t> d(dims);
  std::vector<int64_t> st(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * d[i + 1];
  for (size_t i = 0; i < d.size(); ++i) {
    absl::StrAppend(&sizes, i ? ", " : "", "{\"as_int\": ", d[i], "}");
    absl::StrAppend(&strides, i ? ", " : "", "{\"as_int\": ", st[i], "}");
  }
  return absl::StrCat("{\"dtype\": ", dtype, ", \"sizes\": [", sizes, "], \"requires_grad\": ",
                      grad ? "true" : "false", ", \"device\": {\"type\": \"cpu\"}, \"strides\": [",
                      strides, "], \"storage_offset\": {\"as_int\": 0}, \"layout\": 7}");
}

std::string Md(absl::string_view handle, int line) {
  return absl::StrCat(
      "{\"stack_trace\": \"File \\\"/src/model.py\\\", line ", line,
      ", in forward\\n    return x @ self.W.T\", \"nn_module_stack\": \"L__self__,,Tiny\", "
      "\"torch_fn\": \"matmul_1;method_descriptor.matmul\", \"debug_handle\": \"",
      handle, "\"}");
}

// x @ W.T with x [2, 3, 4] and parameter W [8, 4], as edge writes it.
// `x_name` is the user input's name (also try a parameter-like one).
std::string TinyProgram(absl::string_view x_name = "x") {
  std::string x(x_name);
  return absl::StrCat(R"({
 "graph_module": {
  "graph": {
   "inputs": [{"as_tensor": {"name": "p_w"}}, {"as_tensor": {"name": ")", x, R"("}}],
   "outputs": [{"as_tensor": {"name": "aten_view_copy_default_1"}}],
   "nodes": [
    {"name": "aten_permute_copy_default",
     "target": "executorch.exir.dialects.edge.ops.aten.permute_copy.default",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "p_w"}}},
                {"name": "dims", "arg": {"as_ints": [1, 0]}}],
     "outputs": [{"as_tensor": {"name": "aten_permute_copy_default"}}],
     "metadata": )", Md("1", 13), R"(},
    {"name": "aten_view_copy_default",
     "target": "executorch.exir.dialects.edge.ops.aten.view_copy.default",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": ")", x, R"("}}},
                {"name": "size", "arg": {"as_ints": [6, 4]}}],
     "outputs": [{"as_tensor": {"name": "aten_view_copy_default"}}],
     "metadata": )", Md("2", 13), R"(},
    {"name": "aten_mm_default",
     "target": "executorch.exir.dialects.edge.ops.aten.mm.default",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "aten_view_copy_default"}}},
                {"name": "mat2", "arg": {"as_tensor": {"name": "aten_permute_copy_default"}}}],
     "outputs": [{"as_tensor": {"name": "aten_mm_default"}}],
     "metadata": )", Md("3", 13), R"(},
    {"name": "aten_view_copy_default_1",
     "target": "executorch.exir.dialects.edge.ops.aten.view_copy.default",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "aten_mm_default"}}},
                {"name": "size", "arg": {"as_ints": [2, 3, 8]}}],
     "outputs": [{"as_tensor": {"name": "aten_view_copy_default_1"}}],
     "metadata": )", Md("4", 14), R"(}
   ],
   "tensor_values": {
    "p_w": )", Meta({8, 4}, 7, true), R"(,
    ")", x, R"(": )", Meta({2, 3, 4}), R"(,
    "aten_permute_copy_default": )", Meta({4, 8}), R"(,
    "aten_view_copy_default": )", Meta({6, 4}), R"(,
    "aten_mm_default": )", Meta({6, 8}), R"(,
    "aten_view_copy_default_1": )", Meta({2, 3, 8}), R"(
   },
   "sym_int_values": {},
   "sym_bool_values": {},
   "is_single_tensor_return": false,
   "custom_obj_values": {}
  },
  "signature": {
   "input_specs": [
    {"parameter": {"arg": {"name": "p_w"}, "parameter_name": "W"}},
    {"user_input": {"arg": {"as_tensor": {"name": ")", x, R"("}}}}
   ],
   "output_specs": [{"user_output": {"arg": {"as_tensor": {"name": "aten_view_copy_default_1"}}}}]
  },
  "module_call_graph": [{"fqn": "", "signature": {"inputs": [], "outputs": [],
                         "in_spec": "[1, {}]", "out_spec": "[1, {}]"}}]
 },
 "opset_version": {"aten": 10},
 "range_constraints": {},
 "schema_version": {"major": 5, "minor": 4},
 "dialect": "",
 "verifiers": ["EDGE"]
})");
}

constexpr absl::string_view kLinearRule = R"(
alias transpose(a) = permute_copy(a, [1, 0])
rule view_mm_view_to_linear:
  view_copy(mm(view_copy(x, _), transpose(const W)), _) -> linear(x, W)
  where dim(x, -1) == dim(W, 1)
)";

Json ParseJson(absl::string_view text) {
  return Json::parse(exir_internal::QuoteNonFinite(text));
}

const Json* NodeNamed(const Json& doc, absl::string_view name) {
  for (const Json& n : doc["graph_module"]["graph"]["nodes"])
    if (n["name"] == std::string(name)) return &n;
  return nullptr;
}

TEST(ExirJson, ReadsGraphKindsNamesTypesAndLocations) {
  auto p = Program::Parse(TinyProgram(), "tiny.json");
  ASSERT_TRUE(p.ok()) << p.status();
  const Graph& g = p->graph();
  ASSERT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(g.name(g.inputs()[0]), "p_w");
  EXPECT_EQ(g.input_kind(g.inputs()[0]), InputKind::kParameter);
  EXPECT_EQ(g.original_name(g.inputs()[0]), "W");
  EXPECT_EQ(g.input_kind(g.inputs()[1]), InputKind::kUserInput);
  EXPECT_EQ(g.inputs()[0]->type(), TensorType::Get(DType::kFloat32, {8, 4}));
  EXPECT_EQ(g.num_nodes(), 4u);
  EXPECT_EQ(g.num_outputs(), 1u);
  const Node* mm = g.first_node()->next()->next();
  EXPECT_EQ(mm->op(), ops::mm());
  EXPECT_EQ(g.loc(mm->loc()), "aten_mm_default @ model.py:13");
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
  EXPECT_EQ(p->num_opaque_nodes(), 0);
}

// Found by fuzzing (tools/fuzz, exir_json): a target whose op name is not
// made of identifiers was interned as is, and the graph printed with it did
// not parse. It is an opaque node now, named by identifiers.
TEST(ExirJson, TargetThatIsNoOpNameBecomesAnOpaqueNodeThatPrints) {
  std::string text = TinyProgram();
  const std::string from = "edge.ops.aten.permute_copy.default";
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "edge.ops.aten.permute_copy).default");
  auto p = Program::Parse(text, "odd.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->num_opaque_nodes(), 1);
  std::string printed = Print(p->graph());
  auto again = ParseGraph(printed, Ops());
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << printed;
  EXPECT_EQ(Print(**again), printed);
}

TEST(ExirJson, IdentityRoundTripReproducesTheDocument) {
  std::string text = TinyProgram();
  auto p = Program::Parse(text);
  ASSERT_TRUE(p.ok()) << p.status();
  auto out = p->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ParseJson(*out), ParseJson(text));
  // Key order is kept too, so the text is the compact form of the input.
  EXPECT_EQ(*out, ParseJson(text).dump(-1, ' ', true));
}

TEST(ExirJson, RewriteToLinearPatchesNodesValuesAndKeepsOutputName) {
  auto p = Program::Parse(TinyProgram());
  ASSERT_TRUE(p.ok()) << p.status();
  auto rules = rules::ParseRules(kLinearRule);
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto r = ApplyRules(p->graph(), *rules);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rewrites, 1);
  ASSERT_TRUE(Verify(p->graph()).ok());
  auto out = p->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  Json doc = ParseJson(*out);
  const Json& g = doc["graph_module"]["graph"];
  ASSERT_EQ(g["nodes"].size(), 1u);
  const Json& lin = g["nodes"][0];
  // The replacement takes the replaced root's name, so the output is unchanged.
  EXPECT_EQ(lin["name"], "aten_view_copy_default_1");
  EXPECT_EQ(lin["target"], "executorch.exir.dialects.edge.ops.aten.linear.default");
  EXPECT_EQ(lin["inputs"], Json::parse(R"([{"name": "input", "arg": {"as_tensor": {"name": "x"}}},
                                           {"name": "weight", "arg": {"as_tensor": {"name": "p_w"}}}])"));
  EXPECT_EQ(lin["outputs"], Json::parse(R"([{"as_tensor": {"name": "aten_view_copy_default_1"}}])"));
  // Metadata of the root (the outer view_copy): its debug handle and line.
  EXPECT_EQ(lin["metadata"]["debug_handle"], "4");
  EXPECT_THAT(lin["metadata"]["stack_trace"].get<std::string>(), HasSubstr("line 14"));
  // tensor_values: the erased intermediates are gone, the root's entry kept.
  std::vector<std::string> names;
  for (auto it = g["tensor_values"].begin(); it != g["tensor_values"].end(); ++it) names.push_back(it.key());
  EXPECT_THAT(names, ::testing::ElementsAre("p_w", "x", "aten_view_copy_default_1"));
  EXPECT_EQ(g["outputs"], Json::parse(R"([{"as_tensor": {"name": "aten_view_copy_default_1"}}])"));
  EXPECT_EQ(doc["graph_module"]["signature"], ParseJson(TinyProgram())["graph_module"]["signature"]);
  // Reading the result again gives the rewritten graph.
  auto again = Program::Parse(*out);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Print(again->graph()), Print(p->graph()));
}

TEST(ExirJson, UserInputNamedLikeAParameterIsNotConstant) {
  // A user input called p_weight: only the signature says what it is.
  auto p = Program::Parse(absl::StrReplaceAll(TinyProgram(), {{"\"p_w\"", "\"p_weight\""}}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->graph().input_kind(p->graph().inputs()[0]), InputKind::kParameter);

  // Swap the kinds: W is now a user input named like a parameter.
  std::string text = TinyProgram();
  text = absl::StrReplaceAll(
      text, {{R"({"parameter": {"arg": {"name": "p_w"}, "parameter_name": "W"}})",
              R"({"user_input": {"arg": {"as_tensor": {"name": "p_w"}}}})"}});
  auto q = Program::Parse(text);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->graph().input_kind(q->graph().inputs()[0]), InputKind::kUserInput);
  auto rules = rules::ParseRules(kLinearRule);
  ASSERT_TRUE(rules.ok());
  auto r = ApplyRules(q->graph(), *rules);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rewrites, 0) << "W is a user input: `const W` must not match";
}

TEST(ExirJson, NewNameAvoidsEveryNameInTheDocument) {
  // A replacement whose inherited name is already live gets a fresh one.
  auto p = Program::Parse(TinyProgram());
  ASSERT_TRUE(p.ok());
  Graph& g = p->graph();
  Node* mm = g.first_node()->next()->next();
  Node* lin = g.CreateNode(ops::linear(), {g.inputs()[1], g.inputs()[0]},
                           {TensorType::Get(DType::kFloat32, {2, 3, 8})}, nullptr, mm->loc());
  g.set_name(lin->result(0), "x");  // taken by the input
  g.ReplaceAllUsesWith(g.last_node()->prev()->result(0), lin->result(0));
  g.EraseDeadNodes();
  auto out = p->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  Json doc = ParseJson(*out);
  const Json& nodes = doc["graph_module"]["graph"]["nodes"];
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["name"], "aten_linear_default");
  EXPECT_EQ(nodes[0]["metadata"]["debug_handle"], "3");  // the mm's: its location
  EXPECT_EQ(doc["graph_module"]["graph"]["outputs"][0]["as_tensor"]["name"], "aten_linear_default");
  EXPECT_EQ(doc["graph_module"]["signature"]["output_specs"][0]["user_output"]["arg"]["as_tensor"]["name"],
            "aten_linear_default");
  // A synthesized tensor entry: f32 [2, 3, 8], contiguous.
  EXPECT_EQ(doc["graph_module"]["graph"]["tensor_values"]["aten_linear_default"],
            Json::parse(Meta({2, 3, 8})));
}

TEST(ExirJson, NewOpaqueNodeCannotBeWritten) {
  auto p = Program::Parse(TinyProgram());
  ASSERT_TRUE(p.ok());
  Graph& g = p->graph();
  const OpDef* op = *Ops().Intern("my::op.default");
  Node* n = g.CreateNode(op, {g.inputs()[1]}, {TensorType::Get(DType::kFloat32, {2, 3, 8})});
  g.ReplaceAllUsesWith(g.output(0), n->result(0));
  auto out = p->Write();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("my::op.default"));
  EXPECT_THAT(out.status().message(), HasSubstr("not in graft's catalogue"));
}

// native_layer_norm (three outputs, no getitem nodes), a -Infinity literal,
// a view_copy with a symbolic size, a cat (tensor list) and a sym_size.
constexpr absl::string_view kMixed = R"({
 "graph_module": {
  "graph": {
   "inputs": [{"as_tensor": {"name": "x"}}],
   "outputs": [{"as_tensor": {"name": "getitem"}}, {"as_tensor": {"name": "aten_cat_default"}},
               {"as_tensor": {"name": "aten_full_default"}}, {"as_tensor": {"name": "aten_view_copy_default"}}],
   "nodes": [
    {"name": "aten_native_layer_norm_default",
     "target": "executorch.exir.dialects.edge.ops.aten.native_layer_norm.default",
     "inputs": [{"name": "input", "arg": {"as_tensor": {"name": "x"}}},
                {"name": "normalized_shape", "arg": {"as_ints": [4]}},
                {"name": "weight", "arg": {"as_none": []}},
                {"name": "bias", "arg": {"as_none": []}},
                {"name": "eps", "arg": {"as_float": 1e-05}}],
     "outputs": [{"as_tensor": {"name": "getitem"}},
                 {"as_tensor": {"name": "aten_native_layer_norm_default_unused_1"}},
                 {"as_tensor": {"name": "aten_native_layer_norm_default_unused_2"}}],
     "metadata": {}},
    {"name": "aten_cat_default", "target": "executorch.exir.dialects.edge.ops.aten.cat.default",
     "inputs": [{"name": "tensors", "arg": {"as_tensors": [{"name": "getitem"}, {"name": "x"}]}},
                {"name": "dim", "arg": {"as_int": -1}}],
     "outputs": [{"as_tensor": {"name": "aten_cat_default"}}], "metadata": {}},
    {"name": "aten_full_default", "target": "executorch.exir.dialects.edge.ops.aten.full.default",
     "inputs": [{"name": "size", "arg": {"as_ints": [2, 4]}},
                {"name": "fill_value", "arg": {"as_float": -Infinity}},
                {"name": "device", "arg": {"as_device": {"type": "cpu"}}},
                {"name": "pin_memory", "arg": {"as_bool": false}}],
     "outputs": [{"as_tensor": {"name": "aten_full_default"}}], "metadata": {}},
    {"name": "sym_size", "target": "torch.ops.aten.sym_size.int",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}}, {"name": "dim", "arg": {"as_int": 0}}],
     "outputs": [{"as_sym_int": {"as_name": "sym_size"}}], "metadata": {}},
    {"name": "aten_view_copy_default",
     "target": "executorch.exir.dialects.edge.ops.aten.view_copy.default",
     "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}},
                {"name": "size", "arg": {"as_sym_ints": [{"as_name": "sym_size"}, {"as_int": 4}]}}],
     "outputs": [{"as_tensor": {"name": "aten_view_copy_default"}}], "metadata": {}}
   ],
   "tensor_values": {
    "x": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0", "hint": {"as_int": 2}}}, {"as_int": 4}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 4}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7},
    "getitem": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0", "hint": {"as_int": 2}}}, {"as_int": 4}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 4}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7},
    "aten_native_layer_norm_default_unused_1": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0"}}, {"as_int": 1}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 1}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7},
    "aten_native_layer_norm_default_unused_2": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0"}}, {"as_int": 1}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 1}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7},
    "aten_cat_default": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0"}}, {"as_int": 8}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 8}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7},
    "aten_full_default": )" R"({"dtype": 7, "sizes": [{"as_int": 2}, {"as_int": 4}], "requires_grad": false,
          "device": {"type": "cpu"}, "strides": [{"as_int": 4}, {"as_int": 1}],
          "storage_offset": {"as_int": 0}, "layout": 7},
    "aten_view_copy_default": {"dtype": 7, "sizes": [{"as_expr": {"expr_str": "s0"}}, {"as_int": 4}],
          "requires_grad": false, "device": {"type": "cpu"},
          "strides": [{"as_int": 4}, {"as_int": 1}], "storage_offset": {"as_int": 0}, "layout": 7}
   },
   "sym_int_values": {"sym_size": {"as_expr": {"expr_str": "s0"}}},
   "sym_bool_values": {},
   "is_single_tensor_return": false,
   "custom_obj_values": {}
  },
  "signature": {
   "input_specs": [{"user_input": {"arg": {"as_tensor": {"name": "x"}}}}],
   "output_specs": [{"user_output": {"arg": {"as_tensor": {"name": "getitem"}}}},
                    {"user_output": {"arg": {"as_tensor": {"name": "aten_cat_default"}}}},
                    {"user_output": {"arg": {"as_tensor": {"name": "aten_full_default"}}}},
                    {"user_output": {"arg": {"as_tensor": {"name": "aten_view_copy_default"}}}}]
  },
  "module_call_graph": []
 },
 "opset_version": {"aten": 10},
 "range_constraints": {"s0": {"min_val": 2, "max_val": 64}},
 "schema_version": {"major": 5, "minor": 4},
 "dialect": "",
 "verifiers": ["EDGE"]
})";

TEST(ExirJson, MultiOutputListsSymbolsAndNonFiniteFloats) {
  auto p = Program::Parse(kMixed, "mixed.json");
  ASSERT_TRUE(p.ok()) << p.status();
  const Graph& g = p->graph();
  std::vector<const Node*> nodes;
  for (const Node* n : g.nodes()) nodes.push_back(n);
  ASSERT_EQ(nodes.size(), 5u);
  // One node, three results, no getitem.
  EXPECT_EQ(nodes[0]->op(), ops::native_layer_norm());
  ASSERT_EQ(nodes[0]->num_results(), 3);
  EXPECT_EQ(g.name(nodes[0]->result(0)), "getitem");
  EXPECT_EQ(nodes[0]->result(0)->type().dim(0), Dim::Symbol("s0"));
  EXPECT_EQ(nodes[0]->literal(4)->as_float(), 1e-05);
  // cat: its tensor list a run of operands before dim.
  EXPECT_EQ(nodes[1]->op()->name(), "aten::cat.default");
  ASSERT_EQ(nodes[1]->num_args(), 3);
  EXPECT_EQ(nodes[1]->operand(0), nodes[0]->result(0));
  EXPECT_EQ(nodes[1]->operand(1), g.inputs()[0]);
  EXPECT_EQ(nodes[1]->literal(2)->as_int(), -1);
  EXPECT_EQ(nodes[2]->literal(1)->as_float(), -std::numeric_limits<double>::infinity());
  // sym_size (a SymInt result) and the view_copy of a symbolic size are
  // opaque, reading only their tensors.
  EXPECT_EQ(nodes[3]->op()->name(), "exir_opaque::aten_sym_size_int.default");
  EXPECT_EQ(nodes[3]->num_results(), 0);
  EXPECT_EQ(nodes[4]->op()->name(), "exir_opaque::aten_view_copy_default.default");
  ASSERT_EQ(nodes[4]->num_args(), 1);
  EXPECT_EQ(p->num_opaque_nodes(), 2);

  auto out = p->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("\"as_float\":-Infinity"));
  EXPECT_EQ(ParseJson(*out), ParseJson(kMixed));
}

TEST(ExirJson, RewiredOperandsOfOpaqueNodesAreRenamed) {
  auto p = Program::Parse(kMixed);
  ASSERT_TRUE(p.ok()) << p.status();
  Graph& g = p->graph();
  Node* ln = g.first_node();
  // Make every reader of `getitem` read x instead (a stand-in for a rewrite).
  g.ReplaceAllUsesWith(ln->result(0), g.inputs()[0]);
  auto out = p->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  Json doc = ParseJson(*out);
  const Json* cat = NodeNamed(doc, "aten_cat_default");
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ((*cat)["inputs"][0]["arg"]["as_tensors"][0]["name"], "x");
  EXPECT_EQ(doc["graph_module"]["graph"]["outputs"][0]["as_tensor"]["name"], "x");
  EXPECT_EQ(doc["graph_module"]["signature"]["output_specs"][0]["user_output"]["arg"]["as_tensor"]["name"], "x");
  // The layer norm is unused now but kept: graft erases only what rules match.
  EXPECT_NE(NodeNamed(doc, "aten_native_layer_norm_default"), nullptr);
}

TEST(ExirJson, DTypeNumberingIsConverted) {
  EXPECT_EQ(DTypeFromExir(7), DType::kFloat32);
  EXPECT_EQ(DTypeFromExir(5), DType::kInt64);
  EXPECT_EQ(DTypeFromExir(6), DType::kFloat16);
  EXPECT_EQ(DTypeFromExir(12), DType::kBool);
  EXPECT_EQ(DTypeFromExir(13), DType::kBFloat16);
  EXPECT_EQ(DTypeFromExir(0), std::nullopt);
  for (int v = 1; v <= 16; ++v) EXPECT_EQ(DTypeToExir(*DTypeFromExir(v)), v);
  EXPECT_EQ(DTypeToExir(DType::kQInt8), std::nullopt);
  // A long user input is i64 in graft.
  auto p = Program::Parse(absl::StrReplaceAll(TinyProgram(), {{R"("x": {"dtype": 7)", R"("x": {"dtype": 5)"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->graph().inputs()[1]->type().dtype(), DType::kInt64);
}

struct BadCase {
  std::string name;
  std::string text;
  std::string message;
};

TEST(ExirJson, MalformedInputIsAClearError) {
  std::string tiny = TinyProgram();
  auto edit = [&](absl::string_view from, absl::string_view to) {
    std::string s = absl::StrReplaceAll(tiny, {{from, to}});
    EXPECT_NE(s, tiny) << "edit did not apply: " << from;
    return s;
  };
  std::vector<BadCase> cases = {
      {"not json", "{\"graph_module\": ", "bad.json: not valid JSON"},
      {"not an object", "[1, 2]", "document: should be a JSON object"},
      {"no graph_module", "{}", "missing \"graph_module\""},
      {"nodes not a list", edit(R"("nodes": [)", R"("nodes": {"a": [)"),
       ""},  // replaced below
      {"dangling reference", edit(R"({"as_tensor": {"name": "aten_mm_default"}}},)", R"({"as_tensor": {"name": "nope"}}},)"),
       "refers to 'nope', which is not defined before this node"},
      {"no tensor meta", edit(R"("aten_mm_default": {"dtype")", R"("other": {"dtype")"),
       "tensor 'aten_mm_default' has no entry in graph.tensor_values"},
      {"unknown dtype", edit(R"("p_w": {"dtype": 7)", R"("p_w": {"dtype": 99)"),
       "dtype 99 is not an ExecuTorch ScalarType"},
      {"input without spec", edit(R"({"parameter": {"arg": {"name": "p_w"}, "parameter_name": "W"}},)", ""),
       "input 'p_w' has no entry in signature.input_specs"},
      {"node without target", edit(R"("target": "executorch.exir.dialects.edge.ops.aten.mm.default",)", ""),
       "graph.nodes[2] (aten_mm_default): missing \"target\""},
      {"malformed argument", edit(R"({"name": "dims", "arg": {"as_ints": [1, 0]}})", R"({"name": "dims"})"),
       "graph.nodes[0] (aten_permute_copy_default): inputs[1] should be"},
      {"defined twice", edit(R"("outputs": [{"as_tensor": {"name": "aten_mm_default"}}])",
                             R"("outputs": [{"as_tensor": {"name": "aten_view_copy_default"}}])"),
       "'aten_view_copy_default' is defined twice"},
  };
  cases[3].text = "{\"graph_module\": {\"graph\": {\"inputs\": [], \"outputs\": [], \"nodes\": {}, "
                  "\"tensor_values\": {}}, \"signature\": {\"input_specs\": []}}}";
  cases[3].message = "\"nodes\" should be a JSON array, found object";
  for (const BadCase& c : cases) {
    auto p = Program::Parse(c.text, "bad.json");
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(c.message)) << c.name;
    EXPECT_THAT(std::string(p.status().message()), HasSubstr("bad.json: ")) << c.name;
  }
}

TEST(ExirZip, StoredArchiveRoundTrip) {
  std::string json = TinyProgram();
  std::vector<zip::Entry> entries(3);
  entries[0].name = "serialized_exported_program.json";
  entries[0].data = json;
  entries[1].name = "serialized_state_dict.pt";
  std::string blob(1000, '\x7f');
  entries[1].data = blob;
  entries[2].name = "version";
  entries[2].data = "5.4";
  for (auto& e : entries) e.crc = zip::Crc32(e.data);
  auto bytes = zip::WriteStored(entries);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(zip::LooksLikeZip(*bytes));
  auto a = Archive::Parse(*bytes, "p.zip");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->program_json(), json);
  ASSERT_EQ(a->entries().size(), 3u);
  EXPECT_EQ(a->entries()[1].data, blob);
  auto rewritten = a->WriteWithProgram("{}");
  ASSERT_TRUE(rewritten.ok());
  auto b = Archive::Parse(*rewritten);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->program_json(), "{}");
  EXPECT_EQ(b->entries()[2].data, "5.4");
  EXPECT_EQ(zip::Crc32("123456789"), 0xCBF43926u);  // the standard check value
}

TEST(ExirZip, RefusesWhatItCannotRead) {
  auto a = Archive::Parse("not a zip at all, just text", "x.zip");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("x.zip: not a zip archive"));
  std::vector<zip::Entry> entries(1);
  entries[0].name = "other.txt";
  entries[0].data = "hi";
  auto bytes = zip::WriteStored(entries);
  ASSERT_TRUE(bytes.ok());
  auto b = Archive::Parse(*bytes, "y.zip");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("no serialized_exported_program.json"));
  // Mark the entry deflated (method 8) in both headers.
  std::string deflated = *bytes;
  deflated[8] = 8;
  size_t cd = deflated.find(std::string("PK\x01\x02", 4));
  deflated[cd + 10] = 8;
  auto c = Archive::Parse(deflated, "z.zip");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("is compressed"));
}

// ---- Hostile documents and archives (docs/robustness.md).

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

// "file:line:col" of `needle`'s first occurrence in `text`, 1-based.
std::string Where(absl::string_view file, absl::string_view text, absl::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, absl::string_view::npos) << needle;
  size_t line_start = text.rfind('\n', at);
  line_start = line_start == absl::string_view::npos ? 0 : line_start + 1;
  int64_t line = 1 + std::count(text.begin(), text.begin() + at, '\n');
  return absl::StrCat(file, ":", line, ":", at - line_start + 1);
}

TEST(ExirJsonHostile, NumbersOutsideDoubleRangeAreErrorsNotAborts) {
  // nlohmann throws out_of_range for these, which used to end the process.
  auto p = Program::Parse("{\"a\": 1e400}", "n.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "n.json:1:7: number 1e400 is outside the range of a double");
  for (const std::string& number :
       std::vector<std::string>{"-1e400", "1" + std::string(400, '0'), "2.5E+999"}) {
    std::string text = absl::StrCat("{\"a\": [1, 2, ", number, "]}");
    auto q = Program::Parse(text, "n.json");
    ASSERT_FALSE(q.ok()) << number;
    EXPECT_THAT(std::string(q.status().message()), HasSubstr("n.json:1:14: number ")) << number;
    EXPECT_THAT(std::string(q.status().message()), HasSubstr("is outside the range of a double"));
  }
  // Anywhere in a real program, located.
  std::string tiny = absl::StrReplaceAll(TinyProgram(), {{"\"aten\": 10", "\"aten\": 1e999"}});
  auto r = Program::Parse(tiny, "tiny.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), absl::StrCat(Where("tiny.json", tiny, "1e999"),
                                               ": number 1e999 is outside the range of a double"));
  // Strings and small numbers are not numbers out of range.
  EXPECT_TRUE(Program::Parse(absl::StrReplaceAll(TinyProgram(), {{"\"aten\": 10", "\"aten\": 1e-400"}}))
                  .ok());
  EXPECT_TRUE(Program::Parse(absl::StrReplaceAll(TinyProgram(), {{"\"aten\": 10", "\"aten\": \"1e400\""}}))
                  .ok());
}

TEST(ExirJsonHostile, NestingIsBounded) {
  // Nested past the limit in a key graft ignores: copied and dumped on
  // Write, recursively, so a deep one overflowed the stack.
  auto with_junk = [](int depth) {
    std::string tiny = TinyProgram();
    return absl::StrCat("{\"junk\": ", Repeat("[", depth), Repeat("]", depth), ",", tiny.substr(1));
  };
  std::string deep = with_junk(1000000);
  auto p = Program::Parse(deep, "deep.json");
  ASSERT_FALSE(p.ok());
  // The outer object is level 1: the 512th '[' (column 9 + 512) is level 513.
  EXPECT_EQ(p.status().message(),
            "deep.json:1:521: JSON nested deeper than kMaxJsonNestingDepth (512 levels of [ and {)");
  // At the limit the program reads and writes back whole.
  std::string at_limit = with_junk(kMaxJsonNestingDepth - 1);
  auto q = Program::Parse(at_limit, "ok.json");
  ASSERT_TRUE(q.ok()) << q.status();
  auto out = q->Write();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ParseJson(*out), ParseJson(at_limit));
  // Brackets inside strings are text.
  EXPECT_TRUE(Program::Parse(absl::StrReplaceAll(TinyProgram(), {{"\"dialect\": \"\"",
                                                                   "\"dialect\": \"" + Repeat("[{", 5000) + "\""}}))
                  .ok());
}

TEST(ExirJsonHostile, IntegersBeyondInt64AreCheckedNotWrapped) {
  std::string tiny = TinyProgram();
  // A size of 2^64 - 1 used to wrap to -1 ("negative size -1").
  size_t meta = tiny.find("\"p_w\": {");
  size_t size = tiny.find("{\"as_int\": 8}", meta);
  std::string huge_size = tiny;
  huge_size.replace(size, 13, "{\"as_int\": 18446744073709551615}");
  auto p = Program::Parse(huge_size, "big.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "big.json: graph.tensor_values['p_w']: size 18446744073709551615 does not fit in int64");
  // An int list beyond int64 has no graft literal: the node stays opaque
  // (it used to read as [6, -1]).
  auto v = Program::Parse(absl::StrReplaceAll(tiny, {{"\"as_ints\": [6, 4]",
                                                      "\"as_ints\": [6, 18446744073709551615]"}}));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->num_opaque_nodes(), 1);
}

TEST(ExirJsonHostile, StridesOfANewValueAreChecked) {
  // relu(x) with x f32[2, 2^62, 4]; a rule makes a new clone, whose strides
  // (4 * 2^62 for dim 0) do not fit in int64.
  std::string meta = R"({"dtype": 7, "sizes": [{"as_int": 2}, {"as_int": 4611686018427387904},
      {"as_int": 4}], "requires_grad": false, "device": {"type": "cpu"}, "strides": [],
      "storage_offset": {"as_int": 0}, "layout": 7})";
  std::string text = absl::StrCat(R"({"graph_module": {"graph": {
    "inputs": [{"as_tensor": {"name": "x"}}],
    "outputs": [{"as_tensor": {"name": "aten_relu_default"}}],
    "nodes": [{"name": "aten_relu_default",
               "target": "executorch.exir.dialects.edge.ops.aten.relu.default",
               "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}}],
               "outputs": [{"as_tensor": {"name": "aten_relu_default"}}], "metadata": {}}],
    "tensor_values": {"x": )", meta, R"(, "aten_relu_default": )", meta, R"(}},
   "signature": {"input_specs": [{"user_input": {"arg": {"as_tensor": {"name": "x"}}}}],
     "output_specs": [{"user_output": {"arg": {"as_tensor": {"name": "aten_relu_default"}}}}]}}})");
  auto p = Program::Parse(text, "wide.json");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->num_opaque_nodes(), 0);
  auto rules = rules::ParseRules("rule r:\n  relu(x) -> gelu(clone(x))\n");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto r = ApplyRules(p->graph(), *rules);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rewrites, 1);
  // gelu inherits relu's name and entry; the clone needs a new entry.
  auto out = p->Write();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("the strides of a new f32[2, 4611686018427387904, 4] value do not fit in int64"));
}

// Entries `names` (the first is the program) of `size` bytes each.
std::string MakeZip(const std::vector<std::string>& names, size_t size,
                    std::vector<std::string>* keep) {
  std::vector<zip::Entry> entries(names.size());
  keep->assign(names.size(), "");
  for (size_t i = 0; i < names.size(); ++i) {
    (*keep)[i] = i == 0 ? TinyProgram() : std::string(size, static_cast<char>('a' + i % 26));
    entries[i].name = names[i];
    entries[i].data = (*keep)[i];
    entries[i].crc = zip::Crc32(entries[i].data);
  }
  auto bytes = zip::WriteStored(entries);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

// Offsets of the central directory records in `zip`.
std::vector<size_t> CentralRecords(const std::string& zip) {
  std::vector<size_t> out;
  for (size_t at = zip.find(std::string("PK\x01\x02", 4)); at != std::string::npos;
       at = zip.find(std::string("PK\x01\x02", 4), at + 1))
    out.push_back(at);
  return out;
}

void Put32At(std::string* zip, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*zip)[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

TEST(ExirZipHostile, OverlappingEntriesAreRefused) {
  // The zip bomb of stored entries: central directory records that point
  // at an entry another record already owns.
  std::vector<std::string> keep;
  std::string zip = MakeZip({std::string(kProgramEntry), "serialized_state_dict.pt", "version"}, 100, &keep);
  ASSERT_TRUE(Archive::Parse(zip, "ok.zip").ok());
  std::vector<size_t> cd = CentralRecords(zip);
  ASSERT_EQ(cd.size(), 3u);
  // "version" now claims the state dict's local header and bytes.
  uint32_t state_dict_local = static_cast<uint8_t>(zip[cd[1] + 42]) |
                              static_cast<uint8_t>(zip[cd[1] + 43]) << 8 |
                              static_cast<uint8_t>(zip[cd[1] + 44]) << 16 |
                              static_cast<uint32_t>(static_cast<uint8_t>(zip[cd[1] + 45])) << 24;
  Put32At(&zip, cd[2] + 42, state_dict_local);
  auto a = Archive::Parse(zip, "bomb.zip");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "bomb.zip: corrupt zip (entries 'serialized_state_dict.pt' and 'version' overlap; each "
            "entry must have bytes of its own)");
}

TEST(ExirZipHostile, EntryCountAndTotalSizeAreBounded) {
  std::vector<std::string> names = {std::string(kProgramEntry)};
  for (int i = 1; i <= kMaxZipEntries; ++i) names.push_back(absl::StrCat("e", i));
  std::vector<std::string> keep;
  std::string many = MakeZip(names, 1, &keep);
  auto a = Archive::Parse(many, "many.zip");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "many.zip: the central directory lists 1025 entries, more than kMaxZipEntries (1024); "
            "executorch.exir.save writes five");
  names.pop_back();
  std::string enough = MakeZip(names, 1, &keep);
  EXPECT_TRUE(Archive::Parse(enough, "enough.zip").ok());

  // The total, with the limit lowered (4 GiB of test data would not do).
  std::string two = MakeZip({std::string(kProgramEntry), "a", "b"}, 60, &keep);
  zip::ReadLimits limits;
  limits.max_total_bytes = static_cast<int64_t>(keep[0].size()) + 100;
  auto r = zip::ReadStored(two, "two.zip", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), absl::StrCat("two.zip: the entries hold more than kMaxZipTotalBytes (",
                                               limits.max_total_bytes, " bytes) in all"));
  limits.max_total_bytes += 20;
  EXPECT_TRUE(zip::ReadStored(two, "two.zip", limits).ok());
}

TEST(ExirZipHostile, SizesAndOffsetsAreCheckedAgainstTheBuffer) {
  std::vector<std::string> keep;
  std::string zip = MakeZip({std::string(kProgramEntry), "w"}, 10, &keep);
  std::vector<size_t> cd = CentralRecords(zip);
  ASSERT_EQ(cd.size(), 2u);
  // The last entry's size grown into the central directory.
  std::string into_cd = zip;
  Put32At(&into_cd, cd[1] + 20, 20);
  Put32At(&into_cd, cd[1] + 24, 20);
  auto a = zip::ReadStored(into_cd, "x.zip");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "x.zip: corrupt zip (entry 'w' truncated or runs into the central directory)");
  // Offsets near 2^32 do not wrap.
  std::string far = zip;
  Put32At(&far, cd[1] + 42, 0xFFFFFFF0u);
  auto b = zip::ReadStored(far, "far.zip");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "far.zip: corrupt zip (no local header for 'w')");
  std::string big = zip;
  Put32At(&big, cd[1] + 20, 0xFFFFFFF0u);
  Put32At(&big, cd[1] + 24, 0xFFFFFFF0u);
  EXPECT_FALSE(zip::ReadStored(big, "big.zip").ok());
}

}  // namespace
}  // namespace exir
}  // namespace graft
