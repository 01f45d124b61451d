// Rewriting a TorchScript graph in place (TorchScriptInPlace): import with
// provenance, rewrite, and write back only what changed into the original
// graph or module method; nodes graft did not touch keep their names, source
// ranges and shape arithmetic. Where graft created nodes, their literal sizes
// are those of the input types given at import: the result is specialized to
// those shapes, as graft's static types are.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_WRITE_BACK_H_
#define GRAFT_INTEROP_TORCHSCRIPT_WRITE_BACK_H_

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/exporter.h"
#include "graft/interop/torchscript/importer.h"
#include "graft/interop/torchscript/types.h"
#include "graft/ir/graph.h"
#include "graft/ir/printer.h"
#include "graft/ir/status.h"

namespace graft {
namespace torchscript_internal {

// Whether jit::Graph::insertConstant can make a constant of `v`.
inline bool Insertable(const c10::IValue& v) {
  return v.isInt() || v.isDouble() || v.isBool() || v.isString() || v.isIntList() || v.isNone() ||
         v.isTensor() || v.isDevice() || v.isDoubleList() || v.isBoolList();
}

// Moves a GetAttr chain ending in `n` before `before`.
inline void HoistGetAttr(jit::Node* n, jit::Node* before) {
  if (n->kind() != c10::prim::GetAttr || n->isBefore(before)) return;
  HoistGetAttr(n->input()->node(), before);
  n->moveBefore(before);
}

// Writes the rewrites done on `g` back into `jg`, the graph it was imported
// from by `importer` with `trace`, whose lifted constants are `tensors`:
// nodes graft created are inserted, uses are redirected, nodes graft erased
// are destroyed with the constants and attribute reads only they used. Nodes
// graft did not touch stay as they are. Checks first and changes nothing
// when it cannot patch (FailedPrecondition): then export instead. Once only:
// the trace describes `jg` as imported.
inline absl::Status WriteBack(const Importer& importer, ImportTrace& trace,
                              const TensorMap& tensors, const std::shared_ptr<jit::Graph>& jg,
                              const Graph& g, const TorchScriptExportOptions& options) {
  if (!trace.in_place)
    return absl::FailedPreconditionError("this import cannot be written back in place");
  jit::Node* ret = jg->return_node();
  // Branches on constants: the branch taken replaces the prim::If (as
  // TorchScript's constant propagation does), so every imported node sits
  // in the graph's top block. This changes no value.
  // Every node destroyed below enters `destroyed` first; a candidate orphan
  // is looked up there before it is touched, since the same node may be
  // queued twice or be destroyed after it was queued.
  std::vector<jit::Node*> orphans;
  absl::flat_hash_set<const jit::Node*> destroyed;
  for (auto [node, branch] : trace.folded_ifs) {
    jit::Block* b = node->blocks()[branch];
    for (auto it = b->nodes().begin(); it != b->nodes().end();) {
      jit::Node* m = *it;
      ++it;
      m->moveBefore(node);
    }
    for (size_t i = 0; i < node->outputs().size(); ++i)
      node->output(i)->replaceAllUsesWith(b->outputs()[i]);
    orphans.push_back(node->input(0)->node());
    destroyed.insert(node);
    node->destroy();
  }
  trace.folded_ifs.clear();
  // Graft nodes in order; for each new one, the TorchScript node it goes
  // before: that of the next imported node that survives (else return).
  std::vector<const Node*> order;
  for (const Node* n : g.nodes()) order.push_back(n);
  std::vector<jit::Node*> before(order.size(), nullptr);
  std::vector<const ImportTrace::Origin*> origins(order.size(), nullptr);
  jit::Node* next = ret;
  for (size_t i = order.size(); i-- > 0;) {
    if (const ImportTrace::Origin* origin = trace.origins.Of(order[i])) {
      next = origin->node;
      origins[i] = origin;
    } else {
      before[i] = next;
    }
  }
  auto jit_of = [&trace](const Value* v) -> jit::Value* {
    if (v->is_input()) return v->index() < trace.inputs.size() ? trace.inputs[v->index()] : nullptr;
    const ImportTrace::Origin* origin = trace.origins.Of(v->def());
    return origin ? origin->node->output(v->index()) : nullptr;
  };
  // Checks: operands of new nodes are defined before where the nodes go
  // (attribute reads may move up), outputs of erased nodes are used only
  // by what is rewritten or folded.
  std::vector<jit::Node*> to_move;  // GetAttr chains to hoist, with their target
  std::vector<jit::Node*> move_before;
  for (size_t i = 0; i < order.size(); ++i) {
    if (!before[i]) continue;
    for (int a = 0; a < order[i]->num_args(); ++a) {
      const Value* v = order[i]->arg(a).value();
      if (!v || (!v->is_input() && !trace.origins.contains(v->def()))) continue;
      jit::Value* jv = jit_of(v);
      if (!jv) continue;  // a folded constant: inserted where needed
      jit::Node* def = jv->node();
      if (def->kind() == c10::prim::Param || def->isBefore(before[i])) continue;
      for (jit::Node* d = def; d->kind() == c10::prim::GetAttr; d = d->input()->node()) {
        if (d->input()->node()->kind() == c10::prim::Param || d->input()->node()->isBefore(before[i])) {
          to_move.push_back(def);
          move_before.push_back(before[i]);
          def = nullptr;
          break;
        }
      }
      if (def)
        return absl::FailedPreconditionError(absl::StrCat(
            "node ", NodeLabel(g, order[i]), " uses a value TorchScript defines later"));
    }
  }
  std::vector<jit::Node*> dead;
  for (const auto& [node, origin] : trace.origins) {
    if (node->is_dead() && destroyed.insert(origin.node).second) dead.push_back(origin.node);
  }
  std::vector<jit::Node*> folded;  // users to replace by constants
  for (jit::Node* d : dead) {
    for (jit::Value* o : d->outputs()) {
      for (const jit::Use& u : o->uses()) {
        if (trace.Tracked(u.user) || u.user == ret) continue;
        if (u.user->kind() == c10::prim::TupleConstruct && u.user->output()->uses().size() == 1 &&
            u.user->output()->uses()[0].user == ret)
          continue;
        bool all_const = u.user->blocks().empty();
        for (const jit::Value* uo : u.user->outputs()) {
          const c10::IValue* c = importer.Constant(uo);
          all_const &= c && Insertable(*c);
        }
        if (!all_const)
          return absl::FailedPreconditionError(absl::StrCat(
              "%", o->debugName(), " is still used by ", u.user->kind().toQualString()));
        folded.push_back(u.user);
      }
    }
  }

  // Patch.
  for (size_t k = 0; k < to_move.size(); ++k) HoistGetAttr(to_move[k], move_before[k]);
  Exporter exporter(options, jg, [&](const Value* v) -> absl::StatusOr<jit::Value*> {
    if (jit::Value* jv = jit_of(v)) return jv;
    if (v->is_input()) {
      // A folded scalar tensor lifted to an input: a TorchScript constant.
      auto t = tensors.find(std::string(g.original_name(v)));
      if (t == tensors.end()) return absl::InternalError("lifted constant without a tensor");
      return jg->insertConstant(t->second);
    }
    return absl::InternalError(absl::StrCat("no TorchScript value for an operand of ", NodeLabel(g, v->def())));
  });
  for (size_t i = 0; i < order.size(); ++i) {
    const Node* n = order[i];
    if (before[i]) {
      jg->setInsertPoint(before[i]);
      GRAFT_RETURN_IF_ERROR(exporter.ExportNode(g, n));
      continue;
    }
    const ImportTrace::Origin& origin = *origins[i];
    for (int a = 0; a < n->num_args(); ++a) {
      Arg now = n->arg(a);
      if (now == trace.args[origin.args + a] || !now.is_value()) continue;
      jg->setInsertPoint(origin.node);
      GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, exporter.Get(now.value()));
      origin.node->replaceInput(a, jv);
    }
  }
  for (size_t i = 0; i < trace.output_slots.size() && i < g.num_outputs(); ++i) {
    const ImportTrace::OutputSlot& slot = trace.output_slots[i];
    if (g.output(i) == slot.value) continue;
    jg->setInsertPoint(slot.user);
    GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, exporter.Get(g.output(i)));
    slot.user->replaceInput(slot.index, jv);
  }
  for (jit::Node* f : folded) {
    if (f->outputs().empty() || !destroyed.insert(f).second) continue;
    jg->setInsertPoint(f);
    for (jit::Value* o : f->outputs()) o->replaceAllUsesWith(jg->insertConstant(*importer.Constant(o)));
    dead.push_back(f);
  }
  jg->setInsertPoint(jg->block());
  // Destroy what graft erased (users first), then what only they used.
  std::sort(dead.begin(), dead.end(), [](jit::Node* a, jit::Node* b) { return b->isBefore(a); });
  for (jit::Node* d : dead) {
    for (jit::Value* in : d->inputs()) orphans.push_back(in->node());
    d->destroy();
  }
  while (!orphans.empty()) {
    jit::Node* p = orphans.back();
    orphans.pop_back();
    if (destroyed.contains(p) || p->kind() == c10::prim::Param || !p->blocks().empty()) continue;
    bool unused = true;
    for (const jit::Value* o : p->outputs()) unused &= !o->hasUses();
    if (!unused || p->hasSideEffects()) continue;
    destroyed.insert(p);
    for (jit::Value* in : p->inputs()) orphans.push_back(in->node());
    p->destroy();
  }
  return absl::OkStatus();
}

}  // namespace torchscript_internal

// Rewriting a TorchScript graph in place: import it, rewrite graph() (with
// ApplyRules), then Commit() writes back only what changed: new nodes are
// inserted, uses redirected, erased nodes destroyed; every node graft did not
// touch stays as it was (names, source ranges, ops graft treats as opaque).
// Import and write-back cost about one pass over the graph plus the
// changes, where a full export rebuilds every node.
class TorchScriptInPlace {
 public:
  // Imports `graph` (a plain graph: every input a tensor).
  static absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> ForGraph(
      std::shared_ptr<torch::jit::Graph> graph, const TorchScriptImportOptions& options = {}) {
    return torchscript_internal::CatchTorch(
        [&] { return Import(std::move(graph), nullptr, options, "main"); }, "importing TorchScript");
  }
  // Imports method `method` of `module`, whose graph is then patched in
  // place (inlined first if it calls submodules). Rewrite before running the
  // module: libtorch keeps optimized copies of graphs it has run.
  static absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> ForModule(
      const torch::jit::Module& module, const TorchScriptImportOptions& options = {},
      const std::string& method = "forward") {
    return torchscript_internal::CatchTorch(
        [&]() -> absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> {
          auto m = module.find_method(method);
          if (!m) return absl::NotFoundError(absl::StrCat("the module has no method '", method, "'"));
          std::string name = module.type()->name() ? module.type()->name()->name() : "main";
          GRAFT_ASSIGN_OR_RETURN(auto out, Import(m->graph(), &module, options, std::move(name)));
          out->function_ = &torch::jit::toGraphFunction(m->function());
          out->module_ = module;
          return out;
        },
        "importing TorchScript");
  }

  Graph& graph() { return *program_.graph; }
  const TensorMap& tensors() const { return program_.tensors; }
  const std::shared_ptr<torch::jit::Graph>& torchscript_graph() const { return jit_graph_; }

  // Writes the rewrites back. FailedPrecondition (and nothing changed) when
  // the graph cannot be patched; export the graph instead then.
  absl::Status Commit(const TorchScriptExportOptions& options = {}) {
    return torchscript_internal::CatchTorch(
        [&] {
          GRAFT_RETURN_IF_ERROR(torchscript_internal::WriteBack(*importer_, trace_, program_.tensors,
                                                                jit_graph_, *program_.graph, options));
          if (function_) function_->clear_optimized_graphs();
          return absl::OkStatus();
        },
        "writing back to TorchScript");
  }

 private:
  // Inlines `graph` in place (write-back patches the graph that runs) and
  // imports it with a trace. Runs inside the callers' CatchTorch.
  static absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> Import(
      std::shared_ptr<torch::jit::Graph> graph, const torch::jit::Module* module,
      const TorchScriptImportOptions& options, std::string name) {
    auto out = std::unique_ptr<TorchScriptInPlace>(new TorchScriptInPlace);
    out->options_ = options;
    out->jit_graph_ = graph;
    if (torchscript_internal::Importer::NeedsInlining(*graph->block())) torch::jit::Inline(*graph);
    out->importer_ = std::make_unique<torchscript_internal::Importer>(out->options_, &out->trace_);
    GRAFT_ASSIGN_OR_RETURN(out->program_, out->importer_->Run(*graph, module, std::move(name)));
    return out;
  }

  TorchScriptInPlace() = default;
  TorchScriptImportOptions options_;
  std::shared_ptr<torch::jit::Graph> jit_graph_;
  torchscript_internal::ImportTrace trace_;
  std::unique_ptr<torchscript_internal::Importer> importer_;  // holds the folded constants
  TorchScriptProgram program_;
  torch::jit::GraphFunction* function_ = nullptr;
  torch::jit::Module module_;  // keeps the module alive with the graph
};

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_WRITE_BACK_H_
