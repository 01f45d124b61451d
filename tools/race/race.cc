// The race, C++ side: the same rewrite, `x @ W.T -> linear(x, W)` on
// parameter weights, done by graft (import from TorchScript, rewrite,
// export back to TorchScript) and by torch::jit::SubgraphRewriter, on the
// same torch::jit graphs. tools/race/race.py runs this and torch.fx's
// replace_pattern and prints the table for BENCHMARKS.md.
//
//   race synthetic N [--repeat R]    the chain graph below with ~N op nodes
//   race decoder MODEL.pt TYPES      a module saved by torch.jit.save (the
//                                    whisper decoder from examples/fx)
//
// Prints one JSON object per line on standard output.
//
// The synthetic graph (race.py builds the same one in torch.fx):
//   x: f32[4, 16]; weights w0..w{k-1}: f32[16, 16] (parameters)
//   block i:  t = aten::t(W); y = aten::matmul(h, t); r = aten::relu(y);
//             h = aten::add(r, h, 1)
// where W = w_i, except every 4th block where W = aten::relu(w_i), a computed
// weight the rewrite must leave alone. 4 op nodes a block (5 with the relu):
// 3/4 of the matmul sites rewrite.
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/ir/subgraph_matcher.h>
#include <torch/csrc/jit/passes/subgraph_rewrite.h>

#include <ctime>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graft/driver/driver.h"
#include "graft/interop/torchscript.h"
#include "graft/ir/printer.h"
#include "graft/rules/loader.h"

namespace {

namespace jit = torch::jit;
// CPU time of this thread: the machines these run on are shared, and wall
// time under contention measures the neighbours.
struct Clock {
  using time_point = double;  // ms
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  }
};

double Ms(double a, double b) { return b - a; }

struct Synthetic {
  std::shared_ptr<jit::Graph> graph;
  int blocks = 0;
  int sites = 0;      // matmul(x, t(W)) sites
  int rewritable = 0; // ... whose W is a parameter
};

jit::Node* Add(jit::Graph& g, c10::Symbol op, std::vector<jit::Value*> in, c10::TypePtr type) {
  jit::Node* n = g.insertNode(g.create(op, in, 1));
  n->output()->setType(std::move(type));
  return n;
}

Synthetic MakeSynthetic(int nodes) {
  Synthetic s;
  s.graph = std::make_shared<jit::Graph>();
  jit::Graph& g = *s.graph;
  auto act = c10::TensorType::createContiguous(at::kFloat, at::kCPU, {4, 16});
  auto wt = c10::TensorType::createContiguous(at::kFloat, at::kCPU, {16, 16});
  jit::Value* h = g.addInput("x");
  h->setType(act);
  jit::Value* one = g.insertConstant(1);
  // 4 nodes per block, 5 in every 4th: 17 per 4 blocks.
  s.blocks = std::max(1, nodes * 4 / 17);
  for (int i = 0; i < s.blocks; ++i) {
    jit::Value* w = g.addInput(absl::StrCat("w", i));
    w->setType(wt);
    if (i % 4 == 3) {
      w = Add(g, c10::aten::relu, {w}, wt)->output();
    } else {
      ++s.rewritable;
    }
    ++s.sites;
    jit::Value* t = Add(g, c10::aten::t, {w}, wt)->output();
    jit::Value* y = Add(g, c10::aten::matmul, {h, t}, act)->output();
    jit::Value* r = Add(g, c10::aten::relu, {y}, act)->output();
    h = Add(g, c10::aten::add, {r, h, one}, act)->output();
  }
  g.registerOutput(h);
  return s;
}

int CountKind(const jit::Graph& g, c10::Symbol kind) {
  int n = 0;
  for (const jit::Node* node : g.nodes()) n += node->kind() == kind;
  return n;
}

int OpNodes(const jit::Graph& g) {
  int n = 0;
  for (const jit::Node* node : g.nodes())
    n += node->kind() != c10::prim::Constant && node->kind() != c10::prim::GetAttr &&
         node->kind() != c10::prim::ListConstruct;
  return n;
}

// graft's canonical text of a TorchScript graph (all inputs of `kinds`),
// to check that two rewrites produced the same graph.
std::string Canonical(const jit::Graph& g, const std::vector<graft::InputKind>& kinds) {
  graft::TorchScriptImportOptions options;
  options.input_kinds = kinds;
  options.keep_locations = false;
  auto imported = graft::ImportTorchScript(g, options);
  if (!imported.ok()) return absl::StrCat("<", imported.status().message(), ">");
  return graft::Print(**imported, {true});
}

const char* kMatmulPattern = R"IR(
graph(%x, %w):
  %t = aten::t(%w)
  %y = aten::matmul(%x, %t)
  return (%y))IR";
const char* kLinearReplacement = R"IR(
graph(%x, %w):
  %none : NoneType = prim::Constant()
  %y = aten::linear(%x, %w, %none)
  return (%y))IR";

int RunSynthetic(int nodes, int repeat, const graft::RuleSet& rule, const graft::RuleSet& catalogue) {
  Synthetic s = MakeSynthetic(nodes);
  int op_nodes = OpNodes(*s.graph);
  std::vector<graft::InputKind> kinds(s.graph->inputs().size(), graft::InputKind::kParameter);
  kinds[0] = graft::InputKind::kUserInput;

  double best_import = 1e30, best_rewrite = 1e30, best_export = 1e30, best_catalogue = 1e30,
         best_sr = 1e30, best_full_export = 1e30;
  std::shared_ptr<jit::Graph> graft_out, sr_out;
  int64_t rewrites = 0;
  for (int r = 0; r < repeat; ++r) {
    // graft in place on a copy (the copy is not timed): import, rewrite
    // (the one rule), write back.
    graft::TorchScriptImportOptions options;
    options.input_kinds = kinds;
    options.keep_locations = false;
    std::shared_ptr<jit::Graph> target = s.graph->copy();
    auto t0 = Clock::now();
    auto rw = graft::TorchScriptInPlace::ForGraph(target, options);
    auto t1 = Clock::now();
    if (!rw.ok()) {
      std::cerr << rw.status() << "\n";
      return 1;
    }
    auto result = graft::ApplyRules((*rw)->graph(), rule, {});
    auto t2 = Clock::now();
    absl::Status committed = (*rw)->Commit();
    auto t3 = Clock::now();
    if (!result.ok() || !committed.ok()) {
      std::cerr << (result.ok() ? committed : result.status()) << "\n";
      return 1;
    }
    rewrites = result->rewrites;
    best_import = std::min(best_import, Ms(t0, t1));
    best_rewrite = std::min(best_rewrite, Ms(t1, t2));
    best_export = std::min(best_export, Ms(t2, t3));
    graft_out = target;

    // The same with a full export (a new TorchScript graph).
    auto g2 = graft::ImportTorchScript(*s.graph, options);
    if (!g2.ok()) return 1;
    auto t4 = Clock::now();
    auto result2 = graft::ApplyRules(**g2, catalogue, {});
    auto t5 = Clock::now();
    auto full = graft::ExportTorchScript(**g2);
    auto t6 = Clock::now();
    if (!full.ok()) return 1;
    best_catalogue = std::min(best_catalogue, Ms(t4, t5));
    best_full_export = std::min(best_full_export, Ms(t5, t6));

    // SubgraphRewriter on a copy (the copy is not timed).
    std::shared_ptr<jit::Graph> copy = s.graph->copy();
    jit::SubgraphRewriter rewriter;
    rewriter.RegisterRewritePattern(kMatmulPattern, kLinearReplacement);
    jit::MatchFilter is_parameter = [](const jit::Match& m,
                                       const std::unordered_map<std::string, jit::Value*>& vmap) {
      const jit::Value* w = m.values_map.at(vmap.at("w"));
      return w->node()->kind() == c10::prim::Param && w->offset() > 0;
    };
    auto t7 = Clock::now();
    rewriter.runOnGraph(copy, is_parameter);
    auto t8 = Clock::now();
    best_sr = std::min(best_sr, Ms(t7, t8));
    sr_out = copy;
  }
  int graft_linear = CountKind(*graft_out, c10::aten::linear);
  int sr_linear = CountKind(*sr_out, c10::aten::linear);
  bool same = Canonical(*graft_out, kinds) == Canonical(*sr_out, kinds);
  double graft_total = best_import + best_rewrite + best_export;
  std::printf(
      "{\"graph\": \"synthetic\", \"nodes\": %d, \"sites\": %d, \"rewritable\": %d, "
      "\"graft_import_ms\": %.3f, \"graft_rewrite_ms\": %.3f, \"graft_writeback_ms\": %.3f, "
      "\"graft_total_ms\": %.3f, \"graft_catalogue_rewrite_ms\": %.3f, "
      "\"graft_full_export_ms\": %.3f, \"graft_rewrites\": %lld, "
      "\"graft_linear\": %d, \"subgraph_rewriter_ms\": %.3f, \"subgraph_rewriter_linear\": %d, "
      "\"same_graph\": %s, \"repeat\": %d}\n",
      op_nodes, s.sites, s.rewritable, best_import, best_rewrite, best_export, graft_total,
      best_catalogue, best_full_export, static_cast<long long>(rewrites), graft_linear, best_sr, sr_linear,
      same ? "true" : "false", repeat);
  return graft_linear == s.rewritable && sr_linear == s.rewritable && same ? 0 : 3;
}

// The decoder: a TorchScript module (examples/fx writes one). The rewrites
// the catalogue does there, as SubgraphRewriter patterns: mm/addmm against
// t(W) or transpose(W, 0, 1) of a parameter (a GetAttr).
int RunDecoder(const std::string& path, const std::string& types_text, int repeat,
               const graft::RuleSet& catalogue) {
  torch::jit::Module module = torch::jit::load(path);
  module.eval();
  auto types = graft::ParseTypeList(types_text);
  if (!types.ok()) {
    std::cerr << types.status() << "\n";
    return 2;
  }
  std::shared_ptr<jit::Graph> graph = module.get_method("forward").graph()->copy();
  jit::Inline(*graph);
  int op_nodes = OpNodes(*graph);
  double best_graft = 1e30, best_import = 1e30, best_rewrite = 1e30, best_export = 1e30,
         best_sr = 1e30;
  int graft_linear = 0, sr_linear = 0;
  int64_t rewrites = 0;
  for (int r = 0; r < repeat; ++r) {
    // In place on a fresh copy of the module (loading is not timed).
    torch::jit::Module fresh = torch::jit::load(path);
    fresh.eval();
    graft::TorchScriptImportOptions options;
    options.input_types = *types;
    // Locations off, as for the synthetic graphs: a loaded module's original
    // source ranges cost a one-time unpickling of its debug info (~8 ms here).
    options.keep_locations = std::getenv("RACE_LOCATIONS") != nullptr;
    auto t0 = Clock::now();
    auto rw = graft::TorchScriptInPlace::ForModule(fresh, options);
    auto t1 = Clock::now();
    if (!rw.ok()) {
      std::cerr << rw.status() << "\n";
      return 1;
    }
    auto result = graft::ApplyRules((*rw)->graph(), catalogue, {});
    auto t2 = Clock::now();
    absl::Status committed = (*rw)->Commit();
    auto t3 = Clock::now();
    if (!result.ok() || !committed.ok()) {
      std::cerr << (result.ok() ? committed : result.status()) << "\n";
      return 1;
    }
    rewrites = result->rewrites;
    best_import = std::min(best_import, Ms(t0, t1));
    best_rewrite = std::min(best_rewrite, Ms(t1, t2));
    best_export = std::min(best_export, Ms(t2, t3));
    best_graft = std::min(best_graft, Ms(t0, t3));
    graft_linear = CountKind(*fresh.get_method("forward").graph(), c10::aten::linear);

    std::shared_ptr<jit::Graph> copy = graph->copy();
    jit::SubgraphRewriter rewriter;
    rewriter.RegisterRewritePattern(R"IR(
graph(%x, %w):
  %t = aten::t(%w)
  %y = aten::mm(%x, %t)
  return (%y))IR",
                                    kLinearReplacement);
    rewriter.RegisterRewritePattern(R"IR(
graph(%x, %w, %a, %b):
  %t = aten::transpose(%w, %a, %b)
  %y = aten::mm(%x, %t)
  return (%y))IR",
                                    R"IR(
graph(%x, %w, %a, %b):
  %none : NoneType = prim::Constant()
  %y = aten::linear(%x, %w, %none)
  return (%y))IR");
    rewriter.RegisterRewritePattern(R"IR(
graph(%bias, %x, %w, %beta, %alpha):
  %t = aten::t(%w)
  %y = aten::addmm(%bias, %x, %t, %beta, %alpha)
  return (%y))IR",
                                    R"IR(
graph(%bias, %x, %w, %beta, %alpha):
  %y = aten::linear(%x, %w, %bias)
  return (%y))IR");
    jit::MatchFilter filter = [](const jit::Match& m,
                                 const std::unordered_map<std::string, jit::Value*>& vmap) {
      auto get = [&](const char* name) -> const jit::Value* {
        auto it = vmap.find(name);
        return it == vmap.end() ? nullptr : m.values_map.at(it->second);
      };
      if (get("w")->node()->kind() != c10::prim::GetAttr) return false;
      for (const char* one : {"beta", "alpha"}) {
        if (const jit::Value* v = get(one)) {
          auto c = jit::toIValue(v);
          if (!c || !c->isInt() || c->toInt() != 1) return false;
        }
      }
      const jit::Value* a = get("a");
      const jit::Value* b = get("b");
      if (a && b) {
        auto ca = jit::toIValue(a), cb = jit::toIValue(b);
        if (!ca || !cb || get("w")->type()->cast<c10::TensorType>() == nullptr) return false;
        std::set<int64_t> dims = {ca->toInt(), cb->toInt()};
        if (dims != std::set<int64_t>{0, 1} && dims != std::set<int64_t>{-1, -2} &&
            dims != std::set<int64_t>{0, -1} && dims != std::set<int64_t>{-2, 1})
          return false;
      }
      return true;
    };
    auto t4 = Clock::now();
    rewriter.runOnGraph(copy, filter);
    auto t5 = Clock::now();
    best_sr = std::min(best_sr, Ms(t4, t5));
    sr_linear = CountKind(*copy, c10::aten::linear);
  }
  std::printf(
      "{\"graph\": \"decoder\", \"nodes\": %d, \"graft_import_ms\": %.3f, "
      "\"graft_rewrite_ms\": %.3f, \"graft_writeback_ms\": %.3f, \"graft_total_ms\": %.3f, "
      "\"graft_rewrites\": %lld, \"graft_linear\": %d, \"subgraph_rewriter_ms\": %.3f, "
      "\"subgraph_rewriter_linear\": %d, \"repeat\": %d}\n",
      op_nodes, best_import, best_rewrite, best_export, best_graft,
      static_cast<long long>(rewrites), graft_linear, best_sr, sr_linear, repeat);
  return graft_linear == sr_linear ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: race synthetic N [--repeat R] | race decoder MODEL.pt TYPES [--repeat R]\n";
    return 2;
  }
  std::string mode = argv[1];
  int repeat = 3;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--repeat") (void)absl::SimpleAtoi(argv[i + 1], &repeat);
  }
  // Rules from the catalogue (patterns/, next to the binary's runfiles or the
  // working directory): the one rule the race is about, and all of them.
  std::string patterns = std::getenv("GRAFT_PATTERNS") ? std::getenv("GRAFT_PATTERNS") : "patterns";
  auto catalogue = graft::rules::LoadRules({patterns});
  if (!catalogue.ok()) {
    std::cerr << catalogue.status() << " (set GRAFT_PATTERNS to the patterns/ directory)\n";
    return 2;
  }
  auto rule = graft::rules::LoadRules({patterns + "/torchscript.rules"});
  if (!rule.ok()) {
    std::cerr << rule.status() << "\n";
    return 2;
  }
  if (mode == "synthetic") {
    int nodes = 0;
    if (!absl::SimpleAtoi(argv[2], &nodes) || nodes < 4) return 2;
    return RunSynthetic(nodes, repeat, *rule, *catalogue);
  }
  if (mode == "decoder" && argc >= 4) return RunDecoder(argv[2], argv[3], repeat, *catalogue);
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
