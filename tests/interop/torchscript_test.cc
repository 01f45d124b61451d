// TorchScript interop: import of parsed, scripted and frozen graphs and
// modules, export back to graphs and modules that run and save, round trips,
// rewriting in between, and the errors for what graft cannot represent.
#include "graft/interop/torchscript.h"

#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/passes/freeze_module.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graft/driver/driver.h"
#include "graft/interop/provenance.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/status.h"
#include "graft/ir/verifier.h"
#include "graft/rules/loader.h"

namespace graft {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<torch::jit::Graph> ParseIR(const std::string& ir) {
  auto g = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, g.get(), /*parse_tensor_constants=*/true);
  return g;
}

std::map<std::string, int> OpCounts(const Graph& g) {
  std::map<std::string, int> counts;
  for (const Node* n : g.nodes()) counts[n->op()->name()]++;
  return counts;
}

// A scripted module: fc.weight/fc.bias parameters, a buffer, an int
// attribute and a flag that folds a branch.
torch::jit::Module MakeModule() {
  torch::manual_seed(0);
  torch::jit::Module fc("__torch__.Fc");
  fc.register_parameter("weight", torch::randn({6, 8}), false);
  fc.register_parameter("bias", torch::randn({6}), false);
  torch::jit::Module m("__torch__.M");
  m.register_module("fc", fc);
  m.register_buffer("scale", torch::rand({6}) + 0.5);
  m.register_attribute("heads", c10::IntType::get(), int64_t{2});
  m.register_attribute("use_relu", c10::BoolType::get(), true);
  m.define(R"(
def forward(self, x):
    b, t, c = x.shape
    y = torch.matmul(x, self.fc.weight.t()) + self.fc.bias
    y = y.view(b, t, self.heads, -1)
    if self.use_relu:
        y = torch.relu(y)
    else:
        y = torch.sigmoid(y)
    y = y.flatten(2) * self.scale
    return y
)");
  m.eval();
  return m;
}

TEST(TorchScriptImport, TypedIrGraph) {
  auto jg = ParseIR(R"IR(
graph(%x : Float(4, 8), %w : Float(6, 8)):
  %wt : Float(8, 6) = aten::t(%w)
  %y : Float(4, 6) = aten::mm(%x, %wt)
  %one : int = prim::Constant[value=1]()
  %z : Float(4, 6) = aten::add(%y, %y, %one)
  return (%z))IR");
  auto g = ImportTorchScript(jg);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(Verify(**g).ok());
  EXPECT_EQ(Print(**g, {true}), R"(graph @main(
    %x: f32[4, 8],
    %w: f32[6, 8]) {
  %0 = aten::t.default(%w) : f32[8, 6]
  %1 = aten::mm.default(%x, %0) : f32[4, 6]
  %2 = aten::add.Tensor(%1, %1) : f32[4, 6]
  return %2
}
)");
}

TEST(TorchScriptImport, UntypedGraphTakesInputTypesAndFoldsShapeArithmetic) {
  auto jg = ParseIR(R"IR(
graph(%x : Tensor):
  %0 : int = prim::Constant[value=0]()
  %1 : int = prim::Constant[value=1]()
  %2 : int = prim::Constant[value=2]()
  %n : int = aten::size(%x, %0)
  %c : int = aten::size(%x, %1)
  %h : int = aten::floordiv(%c, %2)
  %s : int[] = prim::ListConstruct(%n, %2, %h)
  %v : Tensor = aten::view(%x, %s)
  %none : NoneType = prim::Constant()
  %r : Tensor = aten::softmax(%v, %2, %none)
  return (%r))IR");
  // Without them the shape arithmetic cannot fold: the error says so and
  // carries the kind graft-opt's --input-types hint keys on.
  absl::Status untyped = ImportTorchScript(jg).status();
  EXPECT_THAT(untyped.message(), HasSubstr("reads the shape of %x, of type ?; give input types"));
  EXPECT_TRUE(HasErrorKind(untyped, ErrorKind::kMissingInputTypes));
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {3, 8})};
  auto g = ImportTorchScript(jg, options);
  ASSERT_TRUE(g.ok()) << g.status();
  // softmax's trailing `dtype=None` is its default, left out.
  EXPECT_EQ(Print(**g, {true}), R"(graph @main(
    %x: f32[3, 8]) {
  %0 = aten::view.default(%x, [3, 2, 4]) : f32[3, 2, 4]
  %1 = aten::softmax.int(%0, 2) : f32[3, 2, 4]
  return %1
}
)");
}

TEST(TorchScriptImport, ModuleParametersBuffersAndAttributes) {
  torch::jit::Module m = MakeModule();
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {2, 5, 8})};
  auto p = ImportTorchScriptModule(m, options);
  ASSERT_TRUE(p.ok()) << p.status();
  const Graph& g = *p->graph;
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  ASSERT_EQ(g.inputs().size(), 4u);
  EXPECT_EQ(g.input_kind(g.inputs()[0]), InputKind::kUserInput);
  std::map<std::string, InputKind> kinds;
  for (Value* in : g.inputs()) kinds[std::string(g.original_name(in))] = g.input_kind(in);
  EXPECT_EQ(kinds["fc.weight"], InputKind::kParameter);
  EXPECT_EQ(kinds["fc.bias"], InputKind::kParameter);
  EXPECT_EQ(kinds["scale"], InputKind::kBuffer);
  EXPECT_EQ(p->tensors.size(), 3u);
  EXPECT_TRUE(p->tensors.at("fc.weight").equal(m.attr("fc").toModule().attr("weight").toTensor()));
  // The branch folded (relu, no sigmoid); x.shape and self.heads are literals.
  auto counts = OpCounts(g);
  EXPECT_EQ(counts["aten::relu.default"], 1);
  EXPECT_EQ(counts.count("aten::sigmoid.default"), 0u);
  EXPECT_EQ(counts["aten::t.default"], 1);
  EXPECT_EQ(counts["aten::matmul.default"], 1);
  EXPECT_THAT(Print(g), HasSubstr("aten::view.default(%y, [2, 5, 2, -1]) : f32[2, 5, 2, 3]"));
  EXPECT_THAT(Print(g), HasSubstr("%x: f32[2, 5, 8]"));
  EXPECT_THAT(Print(g), HasSubstr("loc(\"<string>:5\")"));
  EXPECT_THAT(Print(g), HasSubstr("parameter %p_fc_weight: f32[6, 8] \"fc.weight\""));
}

TEST(TorchScriptExport, ModuleRunsLikeTheOriginalAndSaves) {
  torch::jit::Module m = MakeModule();
  at::Tensor x = torch::randn({2, 5, 8});
  at::Tensor want = m.forward({x}).toTensor();
  TorchScriptImportOptions options;
  options.example_inputs = {x};
  auto p = ImportTorchScriptModule(m, options);
  ASSERT_TRUE(p.ok()) << p.status();
  auto out = ExportTorchScriptModule(*p->graph, p->tensors);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->forward({x}).toTensor().equal(want));
  // state_dict keys survive as nested submodules.
  std::map<std::string, at::Tensor> params;
  for (const auto& np : out->named_parameters()) params[np.name] = np.value;
  EXPECT_EQ(params.count("fc.weight"), 1u);
  EXPECT_EQ(params.count("fc.bias"), 1u);
  // Saved and loaded back, it still runs.
  std::stringstream bytes;
  out->save(bytes);
  torch::jit::Module loaded = torch::jit::load(bytes);
  EXPECT_TRUE(loaded.forward({x}).toTensor().equal(want));
  // And imports again to the same graft graph.
  auto again = ImportTorchScriptModule(loaded, options);
  ASSERT_TRUE(again.ok()) << again.status();
  again->graph->set_name(p->graph->name());
  EXPECT_EQ(Print(*again->graph, {true}), Print(*p->graph, {true}));
}

TEST(TorchScriptExport, RewriteInBetween) {
  torch::jit::Module m = MakeModule();
  at::Tensor x = torch::randn({2, 5, 8});
  at::Tensor want = m.forward({x}).toTensor();
  TorchScriptImportOptions options;
  options.example_inputs = {x};
  auto p = ImportTorchScriptModule(m, options);
  ASSERT_TRUE(p.ok()) << p.status();
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto result = ApplyRules(*p->graph, *rules, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->StatsFor("matmul_transposed_weight_to_linear")->applied, 1);
  auto counts = OpCounts(*p->graph);
  EXPECT_EQ(counts["aten::linear.default"], 1);
  EXPECT_EQ(counts.count("aten::matmul.default"), 0u);
  auto out = ExportTorchScriptModule(*p->graph, p->tensors);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(torch::allclose(out->forward({x}).toTensor(), want, 1e-5, 1e-5));
}

TEST(TorchScriptImport, FrozenModuleConstantsBecomeConstantInputs) {
  torch::jit::Module frozen = torch::jit::freeze_module(MakeModule());
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {2, 5, 8})};
  auto p = ImportTorchScriptModule(frozen, options);
  ASSERT_TRUE(p.ok()) << p.status();
  int constants = 0;
  for (Value* in : p->graph->inputs()) constants += p->graph->input_kind(in) == InputKind::kConstant;
  EXPECT_EQ(constants, 3);
  EXPECT_EQ(p->tensors.size(), 3u);
  at::Tensor x = torch::randn({2, 5, 8});
  auto out = ExportTorchScriptModule(*p->graph, p->tensors);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->forward({x}).toTensor().equal(frozen.forward({x}).toTensor()));
}

TEST(TorchScriptImport, TensorListsAreOpaqueListNodes) {
  torch::jit::Module m("__torch__.Lists");
  m.define(R"(
def forward(self, x, y):
    a, b = torch.split(x, [2, 3], 1)
    return torch.cat([b, y, a], 1), torch.stack([a, a])
)");
  at::Tensor x = torch::randn({4, 5}), y = torch::randn({4, 1});
  TorchScriptImportOptions options;
  options.example_inputs = {x, y};
  auto p = ImportTorchScriptModule(m, options);
  ASSERT_TRUE(p.ok()) << p.status();
  std::string text = Print(*p->graph);
  EXPECT_THAT(text, HasSubstr("aten::split.sizes(%x, [2, 3], 1) : ?"));
  EXPECT_THAT(text, HasSubstr("prim::ListUnpack.default"));
  EXPECT_THAT(text, HasSubstr(": f32[4, 2], f32[4, 3]"));
  EXPECT_THAT(text, HasSubstr("aten::cat.default(%"));
  ASSERT_EQ(p->graph->num_outputs(), 2u);
  EXPECT_EQ(p->graph->output(0)->type().ToString(), "f32[4, 6]");
  auto want = m.forward({x, y}).toTuple();
  auto got = RunGraph(*p->graph, {x, y});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_TRUE((*got)[0].equal(want->elements()[0].toTensor()));
  EXPECT_TRUE((*got)[1].equal(want->elements()[1].toTensor()));
}

TEST(TorchScriptImport, ScalarTypeDeviceAndOptionalArguments) {
  torch::jit::Module m("__torch__.Args");
  m.define(R"(
def forward(self, x):
    y = x.to(dtype=5)
    z = torch.zeros([2, 3], dtype=6, device=x.device)
    return y.float() + torch.layer_norm(x, [3], None, None, 1e-5) + z
)");
  at::Tensor x = torch::randn({2, 3});
  TorchScriptImportOptions options;
  options.example_inputs = {x};
  auto p = ImportTorchScriptModule(m, options);
  ASSERT_TRUE(p.ok()) << p.status();
  std::string text = Print(*p->graph);
  EXPECT_THAT(text, HasSubstr("aten::to.dtype(%x, f16) : f16[2, 3]"));
  EXPECT_THAT(text, HasSubstr("aten::zeros.default([2, 3], f32, None, \"cpu\") : f32[2, 3]"));
  // Trailing arguments at their defaults are left out (export restores them).
  EXPECT_THAT(text, HasSubstr("aten::layer_norm.default(%x, [3]) : f32[2, 3]"));
  auto got = RunGraph(*p->graph, {x});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE((*got)[0].equal(m.forward({x}).toTensor()));
}

// The edge dialect's ops (graft's own text) run in libtorch as written, and
// ATen agrees with graft's shape functions on every catalogue op.
TEST(TorchScriptExport, EdgeDialectOpsRun) {
  auto g = ParseGraph(R"(
graph @edge(%x: f32[2, 3, 4], parameter %w: f32[5, 4] "w", parameter %b: f32[5] "b",
            %i: i64[2, 3]) {
  %wt = aten::permute_copy.default(%w, [1, 0])
  %wt2 = aten::t_copy.default(%w)
  %wt3 = aten::transpose_copy.int(%w, 0, 1)
  %v = aten::view_copy.default(%x, [6, 4])
  %mm = aten::mm.default(%v, %wt)
  %am = aten::addmm.default(%b, %v, %wt2)
  %lin = aten::linear.default(%x, %w, %b)
  %mt = aten::matmul.default(%x, %wt3)
  %e = aten::expand_copy.default(%wt, [2, 4, 5])
  %bm = aten::bmm.default(%x, %e)
  %c = aten::clone.default(%bm)
  %h = aten::_to_copy.default(%c, f16)
  %a = aten::add.Tensor(%mt, %lin, 2)
  %s = aten::sub.Tensor(%a, %bm)
  %m = aten::mul.Tensor(%s, %s)
  %d = aten::div.Tensor(%m, %a)
  %r = aten::relu.default(%d)
  %ge = aten::gelu.default(%r, "tanh")
  %sm = aten::_softmax.default(%ge, -1, False)
  %ln, %mean, %rstd = aten::native_layer_norm.default(%sm, [5], %b, %b, 1e-05)
  %emb = aten::embedding.default(%w, %i)
  %vt = aten::view.default(%x, [6, 4])
  %tt = aten::t.default(%vt)
  %tr = aten::transpose.int(%x, 1, 2)
  %pe = aten::permute.default(%x, [2, 0, 1])
  %rs = aten::reshape.default(%tr, [8, 3])
  %ex = aten::expand.default(%b, [3, 5])
  return %mm, %am, %h, %ln, %mean, %rstd, %emb, %tt, %pe, %rs, %ex
}
)", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  torch::manual_seed(0);
  TensorMap tensors = {{"w", torch::randn({5, 4})}, {"b", torch::randn({5})}};
  at::Tensor x = torch::randn({2, 3, 4});
  at::Tensor i = torch::randint(0, 5, {2, 3});
  auto got = RunGraph(**g, {x, i}, tensors);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), (*g)->num_outputs());
  for (size_t k = 0; k < got->size(); ++k) {
    EXPECT_EQ(torchscript_internal::FromTensor((*got)[k]), (*g)->output(k)->type())
        << "output " << k << ": libtorch and graft's shape function disagree";
  }
  const at::Tensor& w = tensors["w"];
  EXPECT_TRUE((*got)[0].allclose(torch::mm(x.view({6, 4}), w.t()), 1e-5, 1e-6));
  EXPECT_TRUE((*got)[1].allclose(torch::addmm(tensors["b"], x.view({6, 4}), w.t()), 1e-5, 1e-6));
  EXPECT_TRUE((*got)[6].equal(torch::embedding(w, i)));
}

TEST(TorchScriptExport, ConvolutionRuns) {
  auto g = ParseGraph(R"(
graph @conv(%x: f32[1, 3, 8, 8], parameter %w: f32[4, 3, 3, 3] "w") {
  %y = aten::convolution.default(%x, %w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
  return %y
}
)", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  at::Tensor x = torch::randn({1, 3, 8, 8}), w = torch::randn({4, 3, 3, 3});
  auto got = RunGraph(**g, {x}, {{"w", w}});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE((*got)[0].allclose(torch::conv2d(x, w, {}, 1, 1)));
}

TEST(TorchScriptExport, GraphInputsAndMultipleOutputs) {
  auto g = ParseGraph(R"(
graph @two(%x: f32[2, 3], parameter %w: f32[4, 3] "fc.weight") {
  %y = aten::linear.default(%x, %w)
  %z = aten::relu.default(%y)
  return %y, %z
}
)", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  auto jg = ExportTorchScript(**g);
  ASSERT_TRUE(jg.ok()) << jg.status();
  EXPECT_EQ((*jg)->inputs().size(), 2u);
  std::stringstream s;
  s << **jg;
  EXPECT_THAT(s.str(), HasSubstr("aten::linear(%x, %w, "));
  EXPECT_THAT(s.str(), HasSubstr("prim::TupleConstruct"));
  // A module needs the tensors of its parameters.
  auto missing = ExportTorchScriptModule(**g, {});
  EXPECT_THAT(missing.status().message(), HasSubstr("no tensor given for parameter %w (\"fc.weight\")"));
  auto wrong = ExportTorchScriptModule(**g, {{"fc.weight", torch::zeros({3, 4})}});
  EXPECT_THAT(wrong.status().message(), HasSubstr("f32[3, 4] but the graph says f32[4, 3]"));
}

TEST(TorchScriptExport, OpaqueOpWithoutATenOperatorIsAnError) {
  auto g = ParseGraph(R"(
graph @g(%x: f32[2]) {
  %y = mylib::frob.default(%x) : f32[2]
  return %y
}
)", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  auto jg = ExportTorchScript(**g);
  EXPECT_THAT(jg.status().message(), HasSubstr("libtorch has no operator mylib::frob.default"));
}

// A parsed graph can give prim::If any shape (the torchscript fuzzer found
// an If with one block whose condition folds to the missing else).
TEST(TorchScriptImport, MalformedIfIsAnError) {
  auto one_block = ParseIR(R"IR(
graph(%x : Tensor):
  %c : bool = prim::Constant[value=0]()
  %y : Tensor = prim::If(%c)
    block0():
      -> (%x)
  return (%y)
)IR");
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {4})};
  auto got = ImportTorchScript(*one_block, options);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("has 1 blocks (an If has 2)"));
  auto no_outputs = ParseIR(R"IR(
graph(%x : Tensor):
  %c : bool = prim::Constant[value=1]()
  %y : Tensor = prim::If(%c)
    block0():
      -> ()
    block1():
      -> ()
  return (%y)
)IR");
  got = ImportTorchScript(*no_outputs, options);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("has 1 outputs but its taken block 0"));
}

TEST(TorchScriptImport, Errors) {
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {4})};
  auto import = [&options](const std::string& src) {
    torch::jit::Module m("__torch__.E");
    m.define(src);
    return ImportTorchScriptModule(m, options).status();
  };
  EXPECT_THAT(import(R"(
def forward(self, x):
    if bool(x.sum() > 0):
        return x
    return -x
)").message(),
              AllOf(HasSubstr("aten::Bool"), HasSubstr("computed from tensor data at run time")));
  EXPECT_THAT(import(R"(
def forward(self, x):
    y = x.clone()
    y.add_(1)
    return y
)").message(),
              AllOf(HasSubstr("aten::add_"), HasSubstr("mutates its input in place")));
  EXPECT_THAT(import(R"(
def forward(self, x):
    n = int(x.sum())
    return x.view(n, -1)
)").message(),
              HasSubstr("computed from tensor data at run time"));
  EXPECT_THAT(import(R"(
def forward(self, x):
    for i in range(3):
        x = x + 1
    return x
)").message(),
              AllOf(HasSubstr("prim::Loop"), HasSubstr("control flow")));
  // Errors name the source line.
  EXPECT_THAT(import(R"(
def forward(self, x):
    y = x.clone()
    y.add_(1)
    return y
)").message(),
              HasSubstr(":4)"));
  // Too many input types.
  options.input_types.push_back(options.input_types[0]);
  EXPECT_THAT(import("def forward(self, x):\n    return x\n").message(),
              HasSubstr("given 2 input types for a graph with 1 tensor inputs"));
  // No module for a method graph.
  torch::jit::Module m("__torch__.E");
  m.define("def forward(self, x):\n    return x\n");
  EXPECT_THAT(ImportTorchScript(*m.get_method("forward").graph()).status().message(),
              HasSubstr("ImportTorchScriptModule"));
}

TEST(TorchScriptImport, TracedShapeArithmeticFolds) {
  // What torch.jit.trace records for `x.view(b, t, h, c // h)`.
  auto jg = ParseIR(R"IR(
graph(%x : Float(2, 5, 8)):
  %0 : int = prim::Constant[value=0]()
  %2 : int = prim::Constant[value=2]()
  %h : Long(requires_grad=0, device=cpu) = prim::Constant[value={2}]()
  %b : int = aten::size(%x, %0)
  %bt : Tensor = prim::NumToTensor(%b)
  %c : int = aten::size(%x, %2)
  %ct : Tensor = prim::NumToTensor(%c)
  %d : Tensor = aten::floor_divide(%ct, %h)
  %di : int = aten::Int(%d)
  %bi : int = aten::Int(%bt)
  %m1 : int = prim::Constant[value=-1]()
  %s : int[] = prim::ListConstruct(%bi, %m1, %di)
  %y : Float(2, 10, 4) = aten::view(%x, %s)
  return (%y))IR");
  auto g = ImportTorchScript(jg);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(Print(**g, {true}), R"(graph @main(
    %x: f32[2, 5, 8]) {
  %0 = aten::view.default(%x, [2, -1, 4]) : f32[2, 10, 4]
  return %0
}
)");
}

}  // namespace
}  // namespace graft

namespace graft {
namespace {

// In place: only the rewritten nodes change in the TorchScript graph.
TEST(TorchScriptInPlace, PatchesOnlyWhatChanged) {
  auto jg = ParseIR(R"IR(
graph(%x : Float(4, 8), %w : Float(6, 8), %v : Float(6, 6)):
  %wt : Float(8, 6) = aten::t(%w)
  %y : Float(4, 6) = aten::matmul(%x, %wt)
  %s : Float(4, 6) = aten::sigmoid(%y)
  %vt : Float(6, 6) = aten::t(%v)
  %z : Float(4, 6) = aten::matmul(%s, %vt)
  return (%z, %y))IR");
  torch::manual_seed(0);
  at::Tensor x = torch::randn({4, 8}), w = torch::randn({6, 8}), v = torch::randn({6, 6});
  auto want = RunTorchScript(jg, {x, w, v});
  ASSERT_TRUE(want.ok()) << want.status();
  TorchScriptImportOptions options;
  options.input_kinds = {InputKind::kUserInput, InputKind::kParameter, InputKind::kUserInput};
  auto rw = TorchScriptInPlace::ForGraph(jg, options);
  ASSERT_TRUE(rw.ok()) << rw.status();
  const torch::jit::Node* sigmoid = nullptr;
  for (const torch::jit::Node* n : jg->nodes()) {
    if (n->kind() == c10::aten::sigmoid) sigmoid = n;
  }
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto result = ApplyRules((*rw)->graph(), *rules, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rewrites, 1);
  ASSERT_TRUE((*rw)->Commit().ok()) << (*rw)->Commit();
  jg->lint();
  std::map<std::string, int> kinds;
  for (const torch::jit::Node* n : jg->nodes()) kinds[n->kind().toQualString()]++;
  EXPECT_EQ(kinds["aten::linear"], 1);
  EXPECT_EQ(kinds["aten::matmul"], 1);  // %v is not a parameter
  EXPECT_EQ(kinds["aten::t"], 1);
  // The untouched sigmoid is the same node, now fed by the linear.
  bool same = false;
  for (const torch::jit::Node* n : jg->nodes()) same |= n == sigmoid;
  EXPECT_TRUE(same);
  EXPECT_EQ(sigmoid->input(0)->node()->kind(), c10::aten::linear);
  auto got = RunTorchScript(jg, {x, w, v});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_TRUE((*got)[0].allclose((*want)[0], 1e-5, 1e-6));
  EXPECT_TRUE((*got)[1].allclose((*want)[1], 1e-5, 1e-6));
}

TEST(TorchScriptInPlace, ModuleMethodRewrittenAndSaved) {
  torch::jit::Module m = MakeModule();
  at::Tensor x = torch::randn({2, 5, 8});
  TorchScriptImportOptions options;
  options.input_types = {TensorType::Get(DType::kFloat32, {2, 5, 8})};
  torch::jit::Module fresh = MakeModule();
  at::Tensor want = fresh.forward({x}).toTensor();
  auto rw = TorchScriptInPlace::ForModule(m, options);
  ASSERT_TRUE(rw.ok()) << rw.status();
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto result = ApplyRules((*rw)->graph(), *rules, {});
  ASSERT_TRUE(result.ok()) << result.status();
  // matmul(x, t(W)) -> linear(x, W), then the parameter bias added to it
  // folds in (add_linear_bias_to_linear): one linear with bias.
  EXPECT_EQ(result->rewrites, 2);
  ASSERT_TRUE((*rw)->Commit().ok()) << (*rw)->Commit();
  auto graph = m.get_method("forward").graph();
  graph->lint();
  int linear = 0, matmul = 0, add = 0, size = 0;
  for (const torch::jit::Node* n : graph->nodes()) {
    linear += n->kind() == c10::aten::linear;
    matmul += n->kind() == c10::aten::matmul;
    add += n->kind() == c10::aten::add;
    size += n->kind() == c10::aten::size;
  }
  EXPECT_EQ(linear, 1);
  EXPECT_EQ(matmul, 0);
  EXPECT_EQ(add, 0);
  EXPECT_GE(size, 1);  // untouched: the module still computes its shapes
  EXPECT_TRUE(torch::allclose(m.forward({x}).toTensor(), want, 1e-5, 1e-5));
  std::stringstream bytes;
  m.save(bytes);
  torch::jit::Module loaded = torch::jit::load(bytes);
  EXPECT_TRUE(torch::allclose(loaded.forward({x}).toTensor(), want, 1e-5, 1e-5));
}

// A module saved and loaded has no input shapes. It imports with partial
// types (inputs as TorchScript types them, parameters as their tensors
// are), and a rule that holds for any types rewrites it; one whose type
// check needs a missing fact does not, and says which. The rewritten module
// computes what the original does on inputs of any shape.
TEST(TorchScriptInPlace, ModuleWithoutShapesIsRewrittenByRulesThatNeedNone) {
  torch::manual_seed(0);
  torch::jit::Module m("__torch__.NoShapes");
  m.register_parameter("weight", torch::randn({6, 8}), false);
  m.register_parameter("bias", torch::randn({6}), false);
  m.define(R"(
def forward(self, x):
    return torch.relu(torch.matmul(x, self.weight.t()) + self.bias)
)");
  m.eval();
  std::stringstream saved;
  m.save(saved);
  torch::jit::Module original = torch::jit::load(saved);
  saved.seekg(0);
  torch::jit::Module loaded = torch::jit::load(saved);

  auto rw = TorchScriptInPlace::ForModule(loaded, {});
  ASSERT_TRUE(rw.ok()) << rw.status();
  const Graph& g = (*rw)->graph();
  ASSERT_TRUE(Verify(g).ok()) << Verify(g);
  EXPECT_EQ(g.inputs()[0]->type(), TensorType());  // `Tensor`: nothing known
  for (Value* in : g.inputs()) {
    if (g.input_kind(in) == InputKind::kParameter) {
      EXPECT_TRUE(in->type().known()) << g.name(in);
    }
  }
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto result = ApplyRules((*rw)->graph(), *rules, {});
  ASSERT_TRUE(result.ok()) << result.status();
  // matmul(x, t(W)) -> linear(x, W) holds for any types; folding the bias
  // into the linear needs the add's type, unknown.
  EXPECT_EQ(result->rewrites, 1);
  const RuleStats* fold = result->StatsFor("add_linear_bias_to_linear");
  ASSERT_NE(fold, nullptr);
  ASSERT_EQ(fold->refusals.size(), 1u);
  EXPECT_THAT(fold->refusals.begin()->first,
              HasSubstr("the type check needs the dtype of aten::add.Tensor's result, which is "
                        "unknown"));
  ASSERT_TRUE((*rw)->Commit().ok()) << (*rw)->Commit();
  int linear = 0, matmul = 0;
  for (const torch::jit::Node* n : loaded.get_method("forward").graph()->nodes()) {
    linear += n->kind() == c10::aten::linear;
    matmul += n->kind() == c10::aten::matmul;
  }
  EXPECT_EQ(linear, 1);
  EXPECT_EQ(matmul, 0);
  std::stringstream rewritten;
  loaded.save(rewritten);
  torch::jit::Module reloaded = torch::jit::load(rewritten);
  // Shapes were never fixed: any batch shape runs.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{3, 8}, {2, 5, 8}}) {
    at::Tensor x = torch::randn(shape);
    EXPECT_TRUE(torch::allclose(reloaded.forward({x}).toTensor(),
                                original.forward({x}).toTensor(), 1e-5, 1e-5));
  }
}

// An erased node whose value TorchScript still reads for its shape: the
// shape computation becomes a constant.
TEST(TorchScriptInPlace, FoldedUsersOfErasedNodesBecomeConstants) {
  auto jg = ParseIR(R"IR(
graph(%x : Float(4, 8), %w : Float(6, 8)):
  %wt : Float(8, 6) = aten::t(%w)
  %y : Float(4, 6) = aten::matmul(%x, %wt)
  %one : int = prim::Constant[value=1]()
  %n : int = aten::size(%wt, %one)
  %m1 : int = prim::Constant[value=-1]()
  %s : int[] = prim::ListConstruct(%m1, %n)
  %z : Tensor = aten::view(%y, %s)
  return (%z))IR");
  TorchScriptImportOptions options;
  options.input_kinds = {InputKind::kUserInput, InputKind::kParameter};
  auto rw = TorchScriptInPlace::ForGraph(jg, options);
  ASSERT_TRUE(rw.ok()) << rw.status();
  auto rules = rules::LoadRules({"patterns"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_TRUE(ApplyRules((*rw)->graph(), *rules, {}).ok());
  ASSERT_TRUE((*rw)->Commit().ok()) << (*rw)->Commit();
  jg->lint();
  for (const torch::jit::Node* n : jg->nodes()) {
    EXPECT_NE(n->kind(), c10::aten::t);
    EXPECT_NE(n->kind(), c10::aten::size);
  }
  at::Tensor x = torch::randn({4, 8}), w = torch::randn({6, 8});
  auto got = RunTorchScript(jg, {x, w});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE((*got)[0].allclose(torch::matmul(x, w.t()).view({-1, 6}), 1e-5, 1e-6));
}

// ---------------------------------------------------------------------------
// The exception boundary: whatever libtorch throws comes back as a status
// naming what graft was doing and the line of the error that says why.

TEST(TorchScriptErrors, CatchTorchTurnsExceptionsIntoStatuses) {
  absl::Status torch_error = torchscript_internal::CatchTorch(
      []() -> absl::Status {
        TORCH_CHECK(false, "the check failed");
        return absl::OkStatus();
      },
      "doing it");
  EXPECT_EQ(torch_error.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(torch_error.message()), testing::StartsWith("doing it: "));
  EXPECT_THAT(torch_error.message(), HasSubstr("the check failed"));
  EXPECT_THAT(torch_error.message(), testing::Not(HasSubstr("\n")));  // no C++ backtrace

  absl::StatusOr<int> std_error = torchscript_internal::CatchTorch(
      []() -> absl::StatusOr<int> { throw std::runtime_error("first\nsecond"); },
      "reading", absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std_error.status(), absl::InvalidArgumentError("reading: first"));

  EXPECT_EQ(*torchscript_internal::CatchTorch([] { return absl::StatusOr<int>(7); }, "x"), 7);
}

TEST(TorchScriptErrors, EntryPointsReportWhatFailed) {
  // The interpreter's error is the last line of its TorchScript traceback.
  auto jg = ParseIR(R"IR(
graph(%x : Tensor, %w : Tensor):
  %y : Tensor = aten::mm(%x, %w)
  return (%y))IR");
  auto run = RunTorchScript(jg, {torch::randn({2, 3}), torch::randn({4, 5})});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(run.status().message()),
              testing::StartsWith("running the TorchScript graph: "));
  EXPECT_THAT(run.status().message(), HasSubstr("cannot be multiplied"));
  EXPECT_THAT(run.status().message(), testing::Not(HasSubstr("Traceback")));

  auto garbage = LoadTorchScript("not a zip", {}, "m.pt");
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(garbage.status().message()),
              testing::StartsWith("m.pt: not a TorchScript archive (torch.jit.save): "));
  EXPECT_EQ(LoadTorchScriptForRewrite("not a zip", {}, "m.pt").status(), garbage.status());

  // An archive whose input may be None, without input types: the error
  // names the archive and keeps its machine-readable kind (graft-opt's hint
  // keys on it). A plain `Tensor` input imports, with an unknown type.
  torch::jit::Module m("__torch__.Bare");
  m.define(
      "def forward(self, x: Optional[Tensor]):\n"
      "    if x is None:\n        return torch.zeros(1)\n    return torch.relu(x)\n");
  std::stringstream bytes;
  m.save(bytes);
  auto untyped = LoadTorchScriptForRewrite(bytes.str(), {}, "m.pt");
  EXPECT_THAT(std::string(untyped.status().message()),
              testing::StartsWith("m.pt: graph input %x.1 has type Optional[Tensor], which may "
                                  "be None; give input types or example inputs"));
  EXPECT_TRUE(HasErrorKind(untyped.status(), ErrorKind::kMissingInputTypes));
  EXPECT_TRUE(HasErrorKind(LoadTorchScript(bytes.str(), {}, "m.pt").status(),
                           ErrorKind::kMissingInputTypes));
}

// ---------------------------------------------------------------------------
// Provenance (provenance.h): the source line of a node survives export and
// import, whichever interop gave the location.

TEST(TorchScriptProvenance, SourceLinesSurviveExportAndImport) {
  auto g = ParseGraph(R"(
graph @g(%x: f32[2, 4], %w: f32[4, 3]) {
  %mm = aten::mm.default(%x, %w) loc("aten_mm_default @ model.py:13")
  %r = aten::relu.default(%mm) loc("aten_relu_default")
  return %r
}
)",
                      Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  auto jg = ExportTorchScript(**g);
  ASSERT_TRUE(jg.ok()) << jg.status();
  std::vector<const torch::jit::Node*> nodes((*jg)->nodes().begin(), (*jg)->nodes().end());
  ASSERT_EQ(nodes.size(), 2u);
  auto mm_line = nodes[0]->sourceRange().file_line_col();
  ASSERT_TRUE(mm_line.has_value());
  EXPECT_EQ(std::get<0>(*mm_line), "model.py");
  EXPECT_EQ(std::get<1>(*mm_line), 13u);
  // A location without a file (an exir node without a stack trace) gives no
  // source range.
  EXPECT_FALSE(nodes[1]->sourceRange().file_line_col().has_value());

  auto back = ImportTorchScript(*jg);
  ASSERT_TRUE(back.ok()) << back.status();
  const Node* mm = (*back)->output(0)->def()->operand(0)->def();
  Provenance p = Provenance::Parse((*back)->loc(mm->loc()));
  EXPECT_EQ(p.file, "model.py");
  EXPECT_EQ(p.line, 13);
  EXPECT_EQ((*back)->output(0)->def()->loc(), 0u);
}

}  // namespace
}  // namespace graft
