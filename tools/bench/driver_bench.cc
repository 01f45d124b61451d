// The rewrite driver's figures (issue 3, BENCHMARKS.md): a Google Benchmark
// binary, not a test. It builds synthetic transformer-like edge graphs of
// about 10k, 100k and 1M nodes and runs the ten rules of bench_rules.h.
//
//   BM_VisitNoMatch/N   canonical graph (every projection already a linear):
//                       rules are tried and fail; nodes visited per second.
//   BM_Rewrite/N        every site rewritable: time per applied rewrite.
//   BM_Mixed10/N        10% of the sites rewritable, the realistic case.
//   BM_Build/N          graph construction; bytes of IR per node.
// Graph construction and destruction are outside every timed region. A
// summary table at the end puts the sizes side by side with the targets.
//
//   bazel run -c opt //tools/bench:driver_bench
#include <malloc.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "graft/driver/driver.h"
#include "graft/ir/builder.h"
#include "graft/ir/graph.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "tools/bench/bench_rules.h"

namespace graft {
namespace bench {
namespace {

// ---------------------------------------------------------------------------
// The synthetic graph: whisper-tiny-sized decoder blocks (S=128 tokens,
// D=384, 6 heads, MLP 4D) in ExecuTorch's edge dialect. Per block:
//   native_layer_norm; q, k, v projections; head split (view_copy +
//   permute_copy); bmm, mul by a scale, _softmax, bmm; head merge; output
//   projection; residual add; native_layer_norm; MLP (view to 2-D, fc1,
//   gelu, fc2, view back); residual add.
// Every block has 10 "sites". Canonically a site is its clean form (a
// projection is one linear); a rewritable site takes a form one or more of
// the rules fold back to exactly that clean form:
//   - projections (6): the whisper form view_copy(mm(view_copy(x),
//     permute_copy(W))) (+ add bias), addmm with t_copy(W), or mm with
//     transpose_copy(W) + add bias (bias first, to need commutativity);
//   - a clone of the block input (.contiguous()), a double view in the head
//     merge, a permute_copy pair on the MLP input, a no-op view after gelu.
// Which sites are rewritable is decided by an error-diffusion counter, so a
// fraction f gives exactly round(f * sites) rewritable sites, evenly spread.
struct GenOptions {
  int64_t target_nodes = 10000;
  double rewritable = 0.0;  // fraction of sites in rewritable form
  bool names = false;       // name every value (as a text or exir import does)
  int64_t blocks = 0;       // when > 0, exactly this many blocks (target_nodes ignored)
};

class Generator {
 public:
  static constexpr int64_t S = 128, D = 384, H = 6, Dh = 64, F = 4 * 384;

  explicit Generator(const GenOptions& o)
      : opt_(o), g_(std::make_unique<Graph>("bench")), b_(*g_, Ops()) {}

  std::unique_ptr<Graph> Build() {
    Value* x = g_->AddInput(T({1, S, D}), opt_.names ? "x" : "");
    scale_ = g_->AddInput(T({}), opt_.names ? "scale" : "", InputKind::kConstant);
    if (opt_.blocks > 0) {
      for (int64_t i = 0; i < opt_.blocks; ++i) x = Block(x);
    } else {
      while (static_cast<int64_t>(g_->num_nodes()) < opt_.target_nodes) x = Block(x);
    }
    g_->AddOutput(x);
    if (opt_.names) {
      int64_t i = 0;
      for (Node* n : g_->nodes())
        for (int r = 0; r < n->num_results(); ++r)
          g_->set_name(n->result(r), absl::StrCat("v", i++));
    }
    return std::move(g_);
  }

 private:
  static TensorType T(std::initializer_list<Dim> shape) {
    return TensorType::Get(DType::kFloat32, shape);
  }
  // Whether the next site is rewritable.
  bool Site() {
    acc_ += opt_.rewritable;
    if (acc_ >= 1.0 - 1e-9) {
      acc_ -= 1.0;
      return true;
    }
    return false;
  }
  Value* Param(std::initializer_list<Dim> shape) {
    return g_->AddInput(T(shape), opt_.names ? absl::StrCat("p", params_++) : std::string(),
                        InputKind::kParameter);
  }
  Node* N(const OpDef* op, std::initializer_list<Arg> args) {
    auto n = b_.Create(op, absl::MakeConstSpan(args.begin(), args.size()));
    if (!n.ok()) {
      std::fprintf(stderr, "generator: %s\n", std::string(n.status().message()).c_str());
      std::abort();
    }
    return *n;
  }
  Value* V(const OpDef* op, std::initializer_list<Arg> args) { return N(op, args)->result(0); }
  Value* View(Value* x, std::initializer_list<int64_t> size) {
    return V(ops::view_copy(), {x, Literal::Ints(size)});
  }
  Value* Permute(Value* x, std::initializer_list<int64_t> dims) {
    return V(ops::permute_copy(), {x, Literal::Ints(dims)});
  }
  // Transposed weight, in one of three spellings.
  Value* Transposed(Value* w, int variant) {
    switch (variant) {
      case 0: return Permute(w, {1, 0});
      case 1: return V(ops::t_copy(), {w});
      default: return V(ops::transpose_copy(), {w, Literal::Int(0), Literal::Int(1)});
    }
  }

  // x [S, K] -> [S, N].
  Value* Proj2D(Value* x, int64_t K, int64_t N, bool bias) {
    Value* w = Param({N, K});
    Value* bv = bias ? Param({N}) : nullptr;
    if (!Site()) return bias ? V(ops::linear(), {x, w, bv}) : V(ops::linear(), {x, w});
    int variant = bias ? (variant_++ % 3) : 0;
    switch (variant) {
      case 0: {
        Value* y = V(ops::mm(), {x, Transposed(w, 0)});
        return bias ? V(ops::add(), {y, bv}) : y;
      }
      case 1: return V(ops::addmm(), {bv, x, Transposed(w, 1)});
      default: return V(ops::add(), {bv, V(ops::mm(), {x, Transposed(w, 2)})});
    }
  }
  // x [1, S, K] -> [1, S, N].
  Value* Proj(Value* x, int64_t K, int64_t N, bool bias) {
    Value* w = Param({N, K});
    Value* bv = bias ? Param({N}) : nullptr;
    if (!Site()) return bias ? V(ops::linear(), {x, w, bv}) : V(ops::linear(), {x, w});
    int variant = bias ? (variant_++ % 3) : 0;
    Value* x2 = View(x, {S, K});
    switch (variant) {
      case 0: {  // the whisper form
        Value* y = View(V(ops::mm(), {x2, Transposed(w, 0)}), {1, S, N});
        return bias ? V(ops::add(), {y, bv}) : y;
      }
      case 1: return View(V(ops::addmm(), {bv, x2, Transposed(w, 1)}), {1, S, N});
      default: return View(V(ops::add(), {V(ops::mm(), {x2, Transposed(w, 2)}), bv}), {1, S, N});
    }
  }
  Value* LayerNorm(Value* x) {
    return N(ops::native_layer_norm(),
             {x, Literal::Ints({D}), Param({D}), Param({D}), Literal::Float(1e-5)})
        ->result(0);
  }

  Value* Block(Value* x) {
    if (Site()) x = V(ops::clone(), {x});
    Value* ln1 = LayerNorm(x);
    Value* q = Proj(ln1, D, D, true);
    Value* k = Proj(ln1, D, D, false);
    Value* v = Proj(ln1, D, D, true);
    Value* qh = Permute(View(q, {1, S, H, Dh}), {0, 2, 1, 3});  // [1, H, S, Dh]
    Value* kh = Permute(View(k, {1, S, H, Dh}), {0, 2, 3, 1});  // [1, H, Dh, S]
    Value* vh = Permute(View(v, {1, S, H, Dh}), {0, 2, 1, 3});
    Value* scores = V(ops::bmm(), {View(qh, {H, S, Dh}), View(kh, {H, Dh, S})});
    scores = V(ops::mul(), {scores, scale_});
    Value* p = V(ops::_softmax(), {scores, Literal::Int(-1), Literal::Bool(false)});
    Value* ctx = V(ops::bmm(), {p, View(vh, {H, S, Dh})});
    ctx = Permute(View(ctx, {1, H, S, Dh}), {0, 2, 1, 3});  // [1, S, H, Dh]
    ctx = Site() ? View(View(ctx, {S, D}), {1, S, D}) : View(ctx, {1, S, D});
    x = V(ops::add(), {x, Proj(ctx, D, D, true)});
    Value* h = View(LayerNorm(x), {S, D});
    if (Site()) h = Permute(Permute(h, {1, 0}), {1, 0});
    h = V(ops::gelu(), {Proj2D(h, D, F, true)});
    if (Site()) h = View(h, {S, F});
    h = Proj2D(h, F, D, true);
    return V(ops::add(), {x, View(h, {1, S, D})});
  }

  GenOptions opt_;
  std::unique_ptr<Graph> g_;
  Builder b_;
  Value* scale_ = nullptr;
  double acc_ = 0;
  int variant_ = 0;
  int params_ = 0;
};

std::unique_ptr<Graph> MakeGraph(int64_t nodes, double rewritable, bool names = false) {
  return Generator({nodes, rewritable, names, 0}).Build();
}

const RuleSet& Rules() {
  static const RuleSet* rules = new RuleSet(TransformerRules());
  return *rules;
}

// Heap bytes in use (glibc): small chunks plus mmapped ones (arena blocks).
size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Figures gathered for the summary, by benchmark family and size.
struct Figures {
  std::map<int64_t, double> nomatch_ns_per_visit, rewrite_ns_per_rewrite, rewrite_ns_per_node,
      rewrite_visits_per_rewrite, mixed_ns_per_node, arena_b, heap_b, named_b;
};
Figures& Fig() {
  static Figures f;
  return f;
}

// ---------------------------------------------------------------------------
// Benchmarks.

// Nothing to rewrite: every node is popped, its candidate rules are tried
// and fail. The graph is unchanged by a run, so one graph serves all
// iterations.
void BM_VisitNoMatch(benchmark::State& state) {
  std::unique_ptr<Graph> g = MakeGraph(state.range(0), 0.0);
  Driver driver(Rules());
  int64_t visits = 0, tried = 0;
  for (auto _ : state) {
    auto r = driver.Run(*g);
    if (!r.ok() || r->rewrites != 0 || !r->converged) {
      state.SkipWithError("unexpected rewrite in the canonical graph");
      break;
    }
    visits += r->nodes_visited;
    for (const auto& [name, st] : r->stats) tried += st.tried;
  }
  state.counters["nodes"] = static_cast<double>(g->num_nodes());
  state.counters["visits/s"] =
      benchmark::Counter(static_cast<double>(visits), benchmark::Counter::kIsRate);
  state.counters["ns/visit"] = benchmark::Counter(
      static_cast<double>(visits), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["tries/visit"] = static_cast<double>(tried) / std::max<int64_t>(visits, 1);
}

// A fresh graph per iteration (built and destroyed with the clock paused),
// rewritten to a fixpoint. Reports the gross time per applied rewrite: the
// whole run (both sweeps, every visit and failed try included) divided by
// the rewrites it applied.
void RunRewrite(benchmark::State& state, double fraction) {
  int64_t rewrites = 0, visits = 0, nodes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Graph> g = MakeGraph(state.range(0), fraction);
    nodes += g->num_nodes();
    Driver driver(Rules());
    state.ResumeTiming();
    auto r = driver.Run(*g);
    state.PauseTiming();
    if (!r.ok() || !r->converged) {
      state.SkipWithError("the driver failed or did not converge");
      break;
    }
    rewrites += r->rewrites;
    visits += r->nodes_visited;
    g.reset();
    state.ResumeTiming();
  }
  double iters = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["nodes"] = nodes / iters;
  state.counters["rewrites"] = rewrites / iters;
  state.counters["visits"] = visits / iters;
  state.counters["ns/rewrite"] = benchmark::Counter(
      static_cast<double>(rewrites), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["ns/node"] = benchmark::Counter(
      static_cast<double>(nodes), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_Rewrite(benchmark::State& state) { RunRewrite(state, 1.0); }
void BM_Mixed10(benchmark::State& state) { RunRewrite(state, 0.1); }

// Construction time, and the bytes the graph holds per node: the arena
// (nodes, result values, argument slots), and everything else the process
// heap gained while building it (use lists that outgrew their inline slot,
// graph inputs and their bookkeeping, the node list's vectors). Types and
// literals are interned process-wide and were already interned by an
// earlier build, so they are not counted.
void BM_Build(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool names = state.range(1) != 0;
  MakeGraph(1000, 0.0, names).reset();  // intern types and literals first
  double arena = 0, total = 0, num_nodes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    size_t before = HeapInUse();
    state.ResumeTiming();
    std::unique_ptr<Graph> g = MakeGraph(n, 0.0, names);
    state.PauseTiming();
    total = static_cast<double>(HeapInUse() - before);
    arena = static_cast<double>(g->arena_bytes());
    num_nodes = static_cast<double>(g->num_nodes());
    g.reset();
    state.ResumeTiming();
  }
  state.counters["nodes"] = num_nodes;
  state.counters["arena_B/node"] = arena / num_nodes;
  state.counters["other_heap_B/node"] = (total - arena) / num_nodes;
  state.counters["total_B/node"] = total / num_nodes;
  state.counters["build_ns/node"] = benchmark::Counter(
      num_nodes, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

constexpr int64_t kSizes[] = {10000, 100000, 1000000};

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : kSizes) b->Arg(n);
}

BENCHMARK(BM_VisitNoMatch)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rewrite)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Mixed10)->Apply(Sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Build)
    ->ArgsProduct({{10000, 100000, 1000000}, {0, 1}})
    ->ArgNames({"nodes", "names"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// ---------------------------------------------------------------------------
// Hostile shapes and rule sets (issue 10): driver and verifier work that must
// stay near-linear. Graphs are built with the clock paused.
//
//   BM_GrowingChain/N    a chain of N relus and relu(v) -> add(relu(v), relu(v)),
//                        which never converges and adds a use of one value per
//                        rewrite; driver under the default caps, then Verify on
//                        the result (as graft-opt does).
//   BM_VerifyFanOut/N    Verify on a graph where one value has N uses.
//   BM_FoldOntoShared/N  N relus of one input, each folded onto it
//                        (relu(v) -> v) under N adds that stay.
//   BM_GrowAtFanOut/N    relu(v) -> relu(relu(v)) at a value with N users:
//                        each rewrite moves and re-visits all N.
//
//   bazel run -c opt //tools/bench:driver_bench -- --benchmark_filter='GrowingChain|VerifyFanOut|FoldOntoShared|GrowAtFanOut'

std::unique_ptr<Graph> ReluChain(int64_t n) {
  auto g = std::make_unique<Graph>("chain");
  Value* x = g->AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
  Builder b(*g, Ops());
  for (int64_t i = 0; i < n; ++i) x = (*b.Create(ops::relu(), {x}))->result();
  g->AddOutput(x);
  return g;
}

void BM_GrowingChain(benchmark::State& state) {
  namespace m = graft::match;
  Var v("v");
  RuleSet rules;
  (void)rules.Add(rule("grow", m::relu(v), m::add(m::relu(v), m::relu(v))));
  int64_t rewrites = 0, nodes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Graph> g = ReluChain(state.range(0));
    state.ResumeTiming();
    auto r = ApplyRules(*g, rules);
    absl::Status verified = Verify(*g);
    state.PauseTiming();
    if (!r.ok() || r->converged || !verified.ok()) {
      state.SkipWithError("the growing rule converged, or the result does not verify");
      break;
    }
    rewrites = r->rewrites;
    nodes = static_cast<int64_t>(g->num_nodes());
    g.reset();
    state.ResumeTiming();
  }
  state.counters["rewrites"] = static_cast<double>(rewrites);
  state.counters["nodes_after"] = static_cast<double>(nodes);
}

void BM_VerifyFanOut(benchmark::State& state) {
  Graph g("fan_out");
  Value* x = g.AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
  Builder b(g, Ops());
  Value* hub = (*b.Create(ops::relu(), {x}))->result();
  for (int64_t i = 0; i < state.range(0); ++i)
    g.AddOutput((*b.Create(ops::relu(), {hub}))->result());
  for (auto _ : state) {
    absl::Status s = Verify(g);
    if (!s.ok()) {
      state.SkipWithError("the graph does not verify");
      break;
    }
  }
  state.counters["uses"] = static_cast<double>(hub->num_uses());
}

void BM_FoldOntoShared(benchmark::State& state) {
  namespace m = graft::match;
  Var v("v");
  RuleSet rules;
  (void)rules.Add(rule("drop_relu", m::relu(v), v));
  int64_t visits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto g = std::make_unique<Graph>("star");
    Value* x = g->AddInput(TensorType::Get(DType::kFloat32, {4}), "x");
    Builder b(*g, Ops());
    for (int64_t i = 0; i < state.range(0); ++i) {
      Value* r = (*b.Create(ops::relu(), {x}))->result();
      g->AddOutput((*b.Create(ops::add(), {r, r}))->result());
    }
    state.ResumeTiming();
    auto r = ApplyRules(*g, rules);
    state.PauseTiming();
    if (!r.ok() || !r->converged) {
      state.SkipWithError("the fold did not converge");
      break;
    }
    visits = r->nodes_visited;
    g.reset();
    state.ResumeTiming();
  }
  state.counters["visits"] = static_cast<double>(visits);
}

void BM_GrowAtFanOut(benchmark::State& state) {
  namespace m = graft::match;
  Var v("v");
  RuleSet rules;
  (void)rules.Add(rule("grow", m::relu(v), m::relu(m::relu(v))));
  int64_t rewrites = 0, visits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto g = std::make_unique<Graph>("fan_out");
    Value* in = g->AddInput(TensorType::Get(DType::kFloat32, {4}), "in");
    Builder b(*g, Ops());
    Value* x = (*b.Create(ops::relu(), {in}))->result();
    for (int64_t i = 0; i < state.range(0); ++i)
      g->AddOutput((*b.Create(ops::add(), {x, x}))->result());
    state.ResumeTiming();
    auto r = ApplyRules(*g, rules);
    state.PauseTiming();
    if (!r.ok() || r->converged) {
      state.SkipWithError("the growing rule converged");
      break;
    }
    rewrites = r->rewrites;
    visits = r->nodes_visited;
    g.reset();
    state.ResumeTiming();
  }
  state.counters["rewrites"] = static_cast<double>(rewrites);
  state.counters["visits"] = static_cast<double>(visits);
}

BENCHMARK(BM_GrowAtFanOut)->Arg(4000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_GrowingChain)->Arg(40000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_VerifyFanOut)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FoldOntoShared)->Arg(40000)->Unit(benchmark::kMillisecond)->Iterations(1);

// ---------------------------------------------------------------------------
// Self-check before measuring: the canonical graph has nothing to rewrite;
// the rewritable graph rewrites (verified after every rewrite) to a fixpoint
// with one linear per projection and none of the forms the rules remove,
// and a second run finds nothing more. Prints which rules fired.
bool SelfCheck() {
  const int64_t kBlocks = 8;
  auto canonical = Generator({0, 0.0, false, kBlocks}).Build();
  auto rewritable = Generator({0, 1.0, false, kBlocks}).Build();
  DriverOptions verify;
  verify.verify_each = true;
  auto none = Driver(Rules(), verify).Run(*canonical);
  auto all = Driver(Rules(), verify).Run(*rewritable);
  auto again = Driver(Rules(), verify).Run(*rewritable);
  if (!none.ok() || !all.ok() || !again.ok()) {
    std::fprintf(stderr, "self-check: the verifier failed\n");
    return false;
  }
  auto histogram = [](const Graph& g) {
    std::map<std::string, int> h;
    for (Node* n : g.nodes()) ++h[std::string(n->op()->base_name())];
    return h;
  };
  auto h = histogram(*rewritable);
  bool ok = none->rewrites == 0 && all->converged && again->rewrites == 0 &&
            h["linear"] == 6 * kBlocks && h["mm"] + h["addmm"] + h["clone"] + h["t_copy"] +
                                                  h["transpose_copy"] ==
                                              0;
  std::fprintf(stderr,
               "self-check %s: canonical graph (%zu nodes) %lld rewrites; rewritable graph "
               "rewritten to %zu nodes by %lld rewrites, then %lld more:\n",
               ok ? "passed" : "FAILED", canonical->num_nodes(),
               static_cast<long long>(none->rewrites), rewritable->num_nodes(),
               static_cast<long long>(all->rewrites), static_cast<long long>(again->rewrites));
  for (const auto& [name, st] : all->stats)
    std::fprintf(stderr, "  %-32s tried %5lld  applied %4lld  refused %lld\n", name.c_str(),
                 static_cast<long long>(st.tried), static_cast<long long>(st.applied),
                 static_cast<long long>(st.refused));
  for (const auto& [name, st] : all->stats)
    for (const auto& [why, k] : st.refusals)
      std::fprintf(stderr, "  %s refused %lld x: %s\n", name.c_str(), static_cast<long long>(k),
                   why.c_str());
  return ok;
}

// ---------------------------------------------------------------------------
// Console output plus a summary of the targets, sizes side by side.

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // With --benchmark_repetitions the median stands for the size (it comes
    // after the repetitions, so it overwrites them); other aggregates are
    // ignored.
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      std::string name = r.benchmark_name();
      auto counter = [&r](const char* c) {
        auto it = r.counters.find(c);
        return it == r.counters.end() ? 0.0 : it->second.value;
      };
      // Inverted rates ("ns/...") arrive in seconds per item.
      auto nanos = [&counter](const char* c) { return counter(c) * 1e9; };
      int64_t size = static_cast<int64_t>(std::llround(
          std::strtod(name.substr(name.find('/') + 1).c_str(), nullptr)));
      if (name.rfind("BM_Build", 0) == 0) {
        size = std::strtoll(name.substr(name.find("nodes:") + 6).c_str(), nullptr, 10);
        if (name.find("names:1") != std::string::npos) {
          Fig().named_b[size] = counter("total_B/node");
        } else {
          Fig().arena_b[size] = counter("arena_B/node");
          Fig().heap_b[size] = counter("other_heap_B/node");
        }
      } else if (name.rfind("BM_VisitNoMatch", 0) == 0) {
        Fig().nomatch_ns_per_visit[size] = nanos("ns/visit");
      } else if (name.rfind("BM_Rewrite", 0) == 0) {
        Fig().rewrite_ns_per_rewrite[size] = nanos("ns/rewrite");
        Fig().rewrite_ns_per_node[size] = nanos("ns/node");
        Fig().rewrite_visits_per_rewrite[size] = counter("visits") / counter("rewrites");
      } else if (name.rfind("BM_Mixed10", 0) == 0) {
        Fig().mixed_ns_per_node[size] = nanos("ns/node");
      }
    }
  }
};

std::string Cell(const std::map<int64_t, double>& m, int64_t k, const char* fmt = "%.1f") {
  auto it = m.find(k);
  return it == m.end() ? "-" : absl::StrFormat(fmt, it->second);
}
std::string Growth(const std::map<int64_t, double>& m) {
  if (!m.count(10000) || !m.count(1000000) || m.at(10000) == 0) return "-";
  return absl::StrFormat("%.2fx", m.at(1000000) / m.at(10000));
}

void PrintSummary() {
  const Figures& f = Fig();
  std::map<int64_t, double> rate, net;
  for (const auto& [n, ns] : f.nomatch_ns_per_visit) rate[n] = ns > 0 ? 1e3 / ns : 0;
  // Net time per rewrite: the gross figure minus the visits the run made
  // (per rewrite), each priced at the no-match cost per visit of the same
  // size. An estimate: a visit in the rewritten graph is priced like one in
  // the canonical graph.
  for (const auto& [n, gross] : f.rewrite_ns_per_rewrite) {
    if (f.nomatch_ns_per_visit.count(n))
      net[n] = gross - f.rewrite_visits_per_rewrite.at(n) * f.nomatch_ns_per_visit.at(n);
  }
  std::map<int64_t, double> graph_b;
  for (const auto& [n, a] : f.arena_b) graph_b[n] = a + f.heap_b.at(n);
  std::printf("\nSummary (per-node cost side by side; growth = 1M / 10k)\n");
  std::printf("%-44s %10s %10s %10s %8s  %s\n", "figure", "10k", "100k", "1M", "growth",
              "target");
  auto row = [](const char* what, const std::map<int64_t, double>& m, const char* fmt,
                const char* target) {
    std::printf("%-44s %10s %10s %10s %8s  %s\n", what, Cell(m, 10000, fmt).c_str(),
                Cell(m, 100000, fmt).c_str(), Cell(m, 1000000, fmt).c_str(), Growth(m).c_str(),
                target);
  };
  row("no match: M nodes visited / s", rate, "%.1f", ">= 20");
  row("no match: ns / visit", f.nomatch_ns_per_visit, "%.1f", "growth < 1.3x");
  row("all rewritable: ns / applied rewrite (gross)", f.rewrite_ns_per_rewrite, "%.0f", "< 1000");
  row("all rewritable: ns / rewrite (net of visits)", net, "%.0f", "");
  row("all rewritable: ns / node", f.rewrite_ns_per_node, "%.1f", "growth < 1.3x");
  row("10% rewritable: ns / node", f.mixed_ns_per_node, "%.1f", "growth < 1.3x");
  row("bytes / node: nodes, values, args, use lists", f.arena_b, "%.1f", "<= 128");
  row("bytes / node: whole graph (+ inputs, vectors)", graph_b, "%.1f", "");
  row("bytes / node: whole graph, every value named", f.named_b, "%.1f", "");
}

}  // namespace
}  // namespace bench
}  // namespace graft

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!graft::bench::SelfCheck()) return 1;
  graft::bench::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  graft::bench::PrintSummary();
  benchmark::Shutdown();
  return 0;
}
