// TorchScript export: graft Graphs into torch::jit graphs and modules. Every
// graft node becomes the ATen operator of the same name and overload
// (including the edge dialect's *_copy ops, which ATen registers), literals
// become prim::Constants typed by the operator's schema, omitted trailing
// arguments take the schema's defaults, and node locations become source
// ranges. The Exporter also inserts single nodes into an existing graph, for
// write_back.h.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_EXPORTER_H_
#define GRAFT_INTEROP_TORCHSCRIPT_EXPORTER_H_

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "graft/interop/provenance.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/reference_kernels.h"
#include "graft/interop/torchscript/types.h"
#include "graft/ir/graph.h"
#include "graft/ir/printer.h"
#include "graft/ir/status.h"

namespace graft {

struct TorchScriptExportOptions {
  // Check each created node against the intended operator schema (one
  // operator lookup per node).
  bool check_schemas = true;
  // Give nodes their graft value names as debug names.
  bool keep_names = true;
};

namespace torchscript_internal {

struct ExportOp {
  c10::Symbol symbol;
  const c10::FunctionSchema* schema = nullptr;  // null for prim list ops
};

inline absl::StatusOr<ExportOp> FindOperator(const OpDef* op) {
  ExportOp out;
  std::string qual = absl::StrCat(op->ns(), "::", op->base_name());
  out.symbol = c10::Symbol::fromQualString(qual);
  if (op->ns() == "prim" && (op->base_name() == "ListConstruct" || op->base_name() == "ListUnpack"))
    return out;
  // PT2E's quantized_decomposed ops exist in a C++ process only once
  // defined there (reference_kernels.h).
  if (op->ns() == "quantized_decomposed") RegisterReferenceKernels();
  std::string overload = op->overload() == "default" ? "" : std::string(op->overload());
  for (const auto& o : jit::getAllOperatorsFor(out.symbol)) {
    if (o->schema().overload_name() == overload) {
      out.schema = &o->schema();
      return out;
    }
  }
  return absl::NotFoundError(absl::StrCat("libtorch has no operator ", op->name(), " (",
                                          qual, overload.empty() ? "" : ".", overload, ")"));
}

class Exporter {
 public:
  explicit Exporter(const TorchScriptExportOptions& options) : options_(options) {}

  // Patch mode: nodes go into `jg` at its insertion point; values exported
  // before are found by `resolve`.
  Exporter(const TorchScriptExportOptions& options, std::shared_ptr<jit::Graph> jg,
           std::function<absl::StatusOr<jit::Value*>(const Value*)> resolve)
      : options_(options), jg_(std::move(jg)), resolve_(std::move(resolve)) {}

  // The TorchScript value of `v`.
  absl::StatusOr<jit::Value*> Get(const Value* v) {
    if (auto it = values_.find(v); it != values_.end()) return it->second;
    if (!resolve_) return absl::InternalError("value exported out of order");
    GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, resolve_(v));
    values_[v] = jv;
    return jv;
  }
  jit::Value* Find(const Value* v) const {
    auto it = values_.find(v);
    return it == values_.end() ? nullptr : it->second;
  }

  // Exports `g`. With `self`, non-user inputs are read from the module by
  // GetAttr chains over their original names (`attr_path`); else every input
  // is a graph input.
  absl::StatusOr<std::shared_ptr<jit::Graph>> Run(
      const Graph& g, const c10::ClassTypePtr& self_type,
      const std::function<std::vector<std::string>(const Value*)>& attr_path) {
    jg_ = std::make_shared<jit::Graph>();
    jit::Value* self = nullptr;
    if (self_type) {
      self = jg_->addInput("self");
      self->setType(self_type);
    }
    for (Value* in : g.inputs()) {
      if (self && g.is_constant(in)) continue;
      jit::Value* jv = jg_->addInput();
      SetName(jv, g.name(in));
      jv->setType(TypeOf(in->type()));
      values_[in] = jv;
    }
    if (self) {
      // Attribute reads first, one GetAttr per path prefix.
      absl::flat_hash_map<std::string, jit::Value*> objects;
      for (Value* in : g.inputs()) {
        if (!g.is_constant(in)) continue;
        std::vector<std::string> path = attr_path(in);
        jit::Value* obj = self;
        std::string prefix;
        for (size_t i = 0; i + 1 < path.size(); ++i) {
          prefix += path[i] + ".";
          auto [it, inserted] = objects.try_emplace(prefix, nullptr);
          if (inserted) it->second = jg_->insertGetAttr(obj, path[i]);
          obj = it->second;
        }
        jit::Value* v = jg_->insertGetAttr(obj, path.back());
        v->setType(TypeOf(in->type()));
        SetName(v, g.name(in));
        values_[in] = v;
      }
    }
    for (const Node* n : g.nodes()) GRAFT_RETURN_IF_ERROR(ExportNode(g, n));
    if (g.num_outputs() == 1) {
      jg_->registerOutput(values_.at(g.output(0)));
    } else {
      std::vector<jit::Value*> outs;
      for (size_t i = 0; i < g.num_outputs(); ++i) outs.push_back(values_.at(g.output(i)));
      jg_->registerOutput(jg_->insertNode(jg_->createTuple(outs))->output());
    }
    return jg_;
  }

  // Exports one node at the graph's insertion point.
  absl::Status ExportNode(const Graph& g, const Node* n) { return ExportNodeImpl(g, n); }

  void SetName(jit::Value* v, absl::string_view name) {
    // TorchScript refuses names that are numbers (they print like its own).
    if (!options_.keep_names || name.empty() ||
        name.find_first_not_of("0123456789") == absl::string_view::npos)
      return;
    v->setDebugName(std::string(name));
  }

 private:
  absl::Status Error(const Graph& g, const Node* n, absl::string_view msg) {
    return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(g, n), ": ", msg));
  }

  absl::StatusOr<const ExportOp*> Op(const OpDef* op) {
    auto it = ops_.find(op);
    if (it != ops_.end()) return &it->second;
    GRAFT_ASSIGN_OR_RETURN(ExportOp e, FindOperator(op));
    return &ops_.emplace(op, e).first->second;
  }

 private:
  jit::Value* Constant(const c10::IValue& v) { return jg_->insertConstant(v); }

  // Interned TorchScript types, one per graft type.
  c10::TypePtr TypeOf(TensorType t) {
    auto [it, inserted] = types_.try_emplace(t, nullptr);
    if (inserted) it->second = ToTorchType(t);
    return it->second;
  }

  // A constant for a schema default, shared by the nodes that need it.
  jit::Value* DefaultValue(const c10::FunctionSchema* schema, size_t i) {
    auto [it, inserted] = defaults_.try_emplace(std::make_pair(schema, i), nullptr);
    if (inserted) it->second = Constant(*schema->arguments()[i].default_value());
    return it->second;
  }

  // A literal as a constant of the schema parameter's type.
  absl::StatusOr<jit::Value*> LiteralValue(const Literal* l, const c10::Argument& param) {
    auto key = std::make_pair(l, IsDeviceArg(param));
    if (auto it = constants_.find(key); it != constants_.end()) return it->second;
    c10::IValue v;
    switch (l->kind()) {
      case Literal::Kind::kNone:
        break;
      case Literal::Kind::kInt:
        v = l->as_int();
        break;
      case Literal::Kind::kInts:
        v = std::vector<int64_t>(l->as_ints().begin(), l->as_ints().end());
        break;
      case Literal::Kind::kFloat:
        v = l->as_float();
        break;
      case Literal::Kind::kBool:
        v = l->as_bool();
        break;
      case Literal::Kind::kString:
        if (IsDeviceArg(param)) {
          v = c10::Device(std::string(l->as_string()));
        } else {
          v = std::string(l->as_string());
        }
        break;
      case Literal::Kind::kDType:
        v = static_cast<int64_t>(l->as_dtype());
        break;
    }
    jit::Value* c = Constant(v);
    constants_[key] = c;
    return c;
  }

  absl::Status ExportNodeImpl(const Graph& g, const Node* n) {
    GRAFT_ASSIGN_OR_RETURN(const ExportOp* op, Op(n->op()));
    std::vector<jit::Value*> inputs;
    if (!op->schema) {
      // prim::ListConstruct / prim::ListUnpack.
      for (int i = 0; i < n->num_args(); ++i) {
        Arg a = n->arg(i);
        if (a.is_value()) {
          GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, Get(a.value()));
          inputs.push_back(jv);
        } else if (a.literal()->is_none()) {
          inputs.push_back(Constant(c10::IValue()));
        } else {
          return Error(g, n, "list elements must be tensors or None");
        }
      }
      jit::Node* jn;
      if (op->symbol == c10::prim::ListConstruct) {
        bool optional = false;
        for (int i = 0; i < n->num_args(); ++i) optional |= n->arg(i).is_literal();
        // An index list (Tensor?[]) by what its users expect.
        for (const Use& u : n->result()->uses()) {
          if (!u.user) continue;
          auto uop = Op(u.user->op());
          if (uop.ok() && (*uop)->schema && u.index < (*uop)->schema->arguments().size()) {
            auto lt = (*uop)->schema->arguments()[u.index].type()->cast<c10::ListType>();
            if (lt && lt->getElementType()->cast<c10::OptionalType>()) optional = true;
          }
        }
        c10::TypePtr elem = optional ? c10::TypePtr(c10::OptionalType::ofTensor()) : c10::TensorType::get();
        jn = jg_->insertNode(jg_->createList(elem, inputs));
      } else {
        if (inputs.size() != 1) return Error(g, n, "ListUnpack takes one list");
        jn = jg_->insertNode(jg_->createListUnpack(inputs[0], n->num_results()));
      }
      for (int i = 0; i < n->num_results(); ++i) {
        if (n->result(i)->type().known()) jn->output(i)->setType(TypeOf(n->result(i)->type()));
        values_[n->result(i)] = jn->output(i);
      }
      return absl::OkStatus();
    }
    const c10::FunctionSchema& schema = *op->schema;
    const auto& params = schema.arguments();
    // A tensor list is a run of operands in graft (OpSchema), a
    // prim::ListConstruct in TorchScript.
    const OpSchema* gs = n->schema();
    bool list_op = gs && gs->has_list();
    if (!list_op && n->num_args() > static_cast<int>(params.size()))
      return Error(g, n, absl::StrCat("has ", n->num_args(), " arguments; ", schema.name(),
                                      " takes ", params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      if (list_op && static_cast<int>(i) == gs->list_param) {
        GRAFT_ASSIGN_OR_RETURN(jit::Value * list, ListValue(g, n, *gs, params[i]));
        inputs.push_back(list);
        continue;
      }
      int ai = list_op ? gs->ArgIndex(static_cast<int>(i), n->num_args()) : static_cast<int>(i);
      if (ai < n->num_args()) {
        Arg a = n->arg(ai);
        if (Value* v = a.value()) {
          GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, Get(v));
          inputs.push_back(jv);
        } else {
          GRAFT_ASSIGN_OR_RETURN(jit::Value * c, LiteralValue(a.literal(), params[i]));
          inputs.push_back(c);
        }
      } else if (params[i].default_value()) {
        inputs.push_back(DefaultValue(op->schema, i));
      } else {
        return Error(g, n, absl::StrCat("leaves out argument ", i, " (", params[i].name(),
                                        "), which has no default"));
      }
    }
    const auto& returns = schema.returns();
    bool unpack = returns.size() == 1 && IsTensorListType(returns[0].type()) && n->num_results() != 1;
    size_t num_outputs = returns.size();
    if (!unpack && static_cast<int>(num_outputs) != n->num_results())
      return Error(g, n, absl::StrCat("has ", n->num_results(), " results; ", schema.name(),
                                      " returns ", num_outputs));
    jit::Node* jn = jg_->insertNode(jg_->create(op->symbol, inputs, num_outputs));
    if (options_.check_schemas && checked_.insert(SignatureOf(jn)).second) {
      // Operator resolution depends on the inputs' types only: checking
      // one node per (operator, input kinds) checks them all.
      const c10::FunctionSchema* got = jn->maybeSchema();
      if (got != op->schema)
        return Error(g, n, absl::StrCat("libtorch resolves the exported node to ",
                                        got ? c10::toString(*got) : std::string("no operator"),
                                        " instead of ", c10::toString(schema)));
    }
    if (unpack) {
      jn->output()->setType(returns[0].type());
      jn = jg_->insertNode(jg_->createListUnpack(jn->output(), n->num_results()));
    }
    if (n->loc()) {
      if (const std::optional<jit::SourceRange>& range = SourceFor(g, n->loc()))
        jn->setSourceRange(*range);
    }
    for (int i = 0; i < n->num_results(); ++i) {
      Value* r = n->result(i);
      // A type not fully known (a list, such as aten::split's Tensor[], or a
      // partial tensor type): the schema's, generic `Tensor` for a tensor.
      jn->output(i)->setType(r->type().known() || unpack ? TypeOf(r->type())
                                                         : returns[i].type());
      SetName(jn->output(i), g.name(r));
      values_[r] = jn->output(i);
    }
    return absl::OkStatus();
  }

  // The prim::ListConstruct of node `n`'s run of list operands.
  absl::StatusOr<jit::Value*> ListValue(const Graph& g, const Node* n, const OpSchema& gs,
                                        const c10::Argument& param) {
    OpSchema::Run run = gs.ListRun(n->num_args());
    std::vector<jit::Value*> elems;
    for (int i = run.first; i < run.first + run.count; ++i) {
      Arg a = n->arg(i);
      if (Value* v = a.value()) {
        GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, Get(v));
        elems.push_back(jv);
      } else if (a.literal()->is_none()) {
        elems.push_back(Constant(c10::IValue()));
      } else {
        return Error(g, n, "list elements must be tensors or None");
      }
    }
    auto list_type = param.type()->cast<c10::ListType>();
    if (!list_type) return Error(g, n, absl::StrCat(param.name(), " is not a list in libtorch"));
    return jg_->insertNode(jg_->createList(list_type->getElementType(), elems))->output();
  }

  // A source range for the file and line of a graft location
  // (provenance.h), so they survive export, torch.jit.save and import; none
  // for a location without a file.
  const std::optional<jit::SourceRange>& SourceFor(const Graph& g, uint32_t loc) {
    auto [it, inserted] = sources_.try_emplace(loc);
    if (!inserted) return it->second;
    Provenance p = Provenance::Parse(g.loc(loc));
    if (p.file.empty()) return it->second;
    auto source = std::make_shared<jit::Source>(std::string_view(" "), p.file,
                                                static_cast<size_t>(p.line));
    it->second = jit::SourceRange(source, 0, 1);
    return it->second;
  }

  static std::string SignatureOf(const jit::Node* n) {
    std::string key;
    uint32_t id = static_cast<uint32_t>(n->kind());
    key.append(reinterpret_cast<const char*>(&id), sizeof id);
    for (const jit::Value* in : n->inputs()) key.push_back(static_cast<char>(in->type()->kind()));
    return key;
  }

  const TorchScriptExportOptions& options_;
  absl::flat_hash_map<uint32_t, std::optional<jit::SourceRange>> sources_;
  std::shared_ptr<jit::Graph> jg_;
  std::function<absl::StatusOr<jit::Value*>(const Value*)> resolve_;
  absl::flat_hash_map<TensorType, c10::TypePtr> types_;
  absl::flat_hash_map<std::pair<const c10::FunctionSchema*, size_t>, jit::Value*> defaults_;
  absl::flat_hash_set<std::string> checked_;
  absl::flat_hash_map<const Value*, jit::Value*> values_;
  absl::flat_hash_map<const OpDef*, ExportOp> ops_;
  absl::flat_hash_map<std::pair<const Literal*, bool>, jit::Value*> constants_;
};

// The attribute path of a non-user input: its original name, dotted.
inline std::vector<std::string> AttrPath(const Graph& g, const Value* in) {
  std::string name(g.original_name(in));
  if (name.empty()) name = std::string(g.name(in));
  return absl::StrSplit(name, '.');
}

}  // namespace torchscript_internal

// Exports `g` as a TorchScript graph taking every graft input (parameters
// included) as a graph input, in order; one output is returned as is,
// several as a tuple.
inline absl::StatusOr<std::shared_ptr<torch::jit::Graph>> ExportTorchScript(
    const Graph& g, const TorchScriptExportOptions& options = {}) {
  return torchscript_internal::CatchTorch(
      [&] { return torchscript_internal::Exporter(options).Run(g, nullptr, nullptr); },
      "exporting to TorchScript");
}

// Exports `g` as a module whose `forward` takes the user inputs and reads
// parameters, buffers and constants from attributes holding `tensors` (by
// original name; a dotted name becomes nested submodules, as in the source
// model, so state_dict keys survive). The module can be run, and saved with
// torch.jit.save.
inline absl::StatusOr<torch::jit::Module> ExportTorchScriptModule(
    const Graph& g, const TensorMap& tensors, const TorchScriptExportOptions& options = {},
    const std::string& class_name = "GraftModule") {
  namespace ti = torchscript_internal;
  return ti::CatchTorch([&]() -> absl::StatusOr<torch::jit::Module> {
    auto cu = std::make_shared<torch::jit::CompilationUnit>();
    torch::jit::Module root(c10::QualifiedName("__torch__.graft." + ti::Sanitize(class_name)), cu,
                            /*shouldMangle=*/true);
    absl::flat_hash_map<std::string, torch::jit::Module> subs;  // by dotted prefix
    absl::flat_hash_set<std::string> leaves;
    for (Value* in : g.inputs()) {
      if (!g.is_constant(in)) continue;
      std::string name(g.original_name(in));
      if (name.empty()) name = std::string(g.name(in));
      auto it = tensors.find(name);
      if (it == tensors.end())
        return absl::NotFoundError(absl::StrCat("no tensor given for ", InputKindName(g.input_kind(in)),
                                                " %", g.name(in), " (\"", name, "\")"));
      if (ti::FromTensor(it->second) != in->type())
        return absl::InvalidArgumentError(absl::StrCat(
            "the tensor for %", g.name(in), " (\"", name, "\") is ", ti::FromTensor(it->second).ToString(),
            " but the graph says ", in->type().ToString()));
      std::vector<std::string> path = ti::AttrPath(g, in);
      torch::jit::Module obj = root;
      std::string prefix;
      for (size_t i = 0; i + 1 < path.size(); ++i) {
        prefix += path[i] + ".";
        if (leaves.contains(prefix.substr(0, prefix.size() - 1)))
          return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" nests under a tensor"));
        auto [sit, inserted] = subs.try_emplace(prefix, root);
        if (inserted) {
          sit->second = torch::jit::Module(
              c10::QualifiedName("__torch__.graft." + ti::Sanitize(class_name) + "_" +
                                 ti::Sanitize(prefix.substr(0, prefix.size() - 1))),
              cu, /*shouldMangle=*/true);
          obj.register_module(path[i], sit->second);
        }
        obj = sit->second;
      }
      if (subs.contains(name + ".") || !leaves.insert(name).second)
        return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is used twice"));
      bool buffer = g.input_kind(in) != InputKind::kParameter;
      obj.register_parameter(path.back(), it->second, buffer);
    }
    ti::Exporter exporter(options);
    GRAFT_ASSIGN_OR_RETURN(auto graph, exporter.Run(g, root.type(), [&g](const Value* v) {
                             return ti::AttrPath(g, v);
                           }));
    auto fn = cu->create_function(c10::QualifiedName(*root.type()->name(), "forward"), graph);
    root.type()->addMethod(fn);
    return root;
  }, "exporting a TorchScript module");
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_EXPORTER_H_
