// TorchScript import: torch::jit graphs and modules into graft Graphs.
//   - tensor values become graft Values with the dtype and shape of their
//     TensorType; where TorchScript does not know them (scripted or loaded
//     graphs), from the caller's input types propagated node by node:
//     catalogue ops by graft's shape functions, other ops by running them on
//     meta tensors. Without input types, inputs keep the facts TorchScript
//     gives (`Tensor`: none; `Float(*, *)`: dtype and rank), parameters their
//     real tensors' types, and results what can be derived from those
//     (ir/op_call.h InferTypes): partial types, under which the rules that
//     need no missing fact still apply;
//   - prim::Constant and whatever is computed from constants and tensor
//     *metadata* alone (aten::size, prim::dtype, ListConstruct of ints, int
//     arithmetic, NumToTensor/Int round trips of traced graphs) is folded into
//     literal arguments. Folding metadata specializes the graph to the input
//     shapes, which graft's static types do anyway;
//   - prim::GetAttr chains from the module reaching tensors become graph
//     inputs of kind parameter/buffer named by their dotted path; tensor
//     constants (frozen modules) become inputs of kind constant;
//   - aten ops map by schema name and overload ("" -> "default"); ops outside
//     graft's catalogue become opaque nodes that keep their TorchScript
//     arguments and result types; lists of tensors (aten::cat's input,
//     aten::split's result) are opaque prim::ListConstruct/ListUnpack nodes;
//   - prim::If on a condition that folds to a constant is inlined; other
//     control flow, in-place ops, and values graft cannot represent are
//     errors naming the node;
//   - nodes get the location `<value> @ <file>:<line>` (provenance.h); an
//     import for writing back in place also records, in an ImportTrace,
//     which TorchScript node each graft node came from.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_IMPORTER_H_
#define GRAFT_INTEROP_TORCHSCRIPT_IMPORTER_H_

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "graft/interop/provenance.h"
#include "graft/interop/torchscript/errors.h"
#include "graft/interop/torchscript/types.h"
#include "graft/ir/graph.h"
#include "graft/ir/op_call.h"
#include "graft/ir/status.h"
#include "graft/ops/catalogue.h"

namespace graft {

struct TorchScriptImportOptions {
  // Types of the graph's tensor inputs (without the module's `self`), when
  // the graph's own types are not complete. Either these or example inputs,
  // or neither: the graph's own (partial) types.
  std::vector<TensorType> input_types;
  std::vector<at::Tensor> example_inputs;
  // Kinds of the graph's tensor inputs (default: all user inputs), for plain
  // graphs whose weights are inputs (as torch.export lifts them).
  std::vector<InputKind> input_kinds;
  // Carry source locations (`decoder.py:56`) into node locations.
  bool keep_locations = true;
  // Leave out trailing arguments equal to their schema defaults (export puts
  // them back), so imported graphs read like rule-file cases.
  bool drop_default_args = true;
  // Graph name; default: the module's class name, else "main".
  std::string graph_name;
};

struct TorchScriptProgram {
  std::unique_ptr<Graph> graph;
  // The tensors of graph's non-user inputs, by original name.
  TensorMap tensors;
};

namespace torchscript_internal {

// What an import for writing back remembers (write_back.h): the TorchScript
// node behind each graft node, and where the graph's inputs and outputs are.
struct ImportTrace {
  struct Origin {
    jit::Node* node;
    uint32_t args;  // offset of the node's import-time arguments in `args`
  };
  struct OutputSlot {
    jit::Node* user;  // the return node or the returned TupleConstruct
    size_t index;
    Value* value;     // at import
  };

  // Whether graft imported `n` as a node (its first output is bound).
  bool Tracked(const jit::Node* n) const {
    return !n->outputs().empty() && n->output(0)->unique() < outputs.size() &&
           outputs[n->output(0)->unique()];
  }

  bool in_place = true;  // false if an output went through a tuple built elsewhere
  Origins<Origin> origins;
  std::vector<Arg> args;
  std::vector<bool> outputs;  // by jit::Value::unique() of a tracked node's output 0
  std::vector<jit::Value*> inputs;  // by graft input index; null for folded constants
  std::vector<OutputSlot> output_slots;
  std::vector<std::pair<jit::Node*, size_t>> folded_ifs;  // prim::If, branch taken; outer first
};

class Importer {
 public:
  // With a `trace`, records in it what WriteBack needs to patch the
  // TorchScript graph in place. `options` and `trace` outlive the importer.
  explicit Importer(const TorchScriptImportOptions& options, ImportTrace* trace = nullptr)
      : options_(options), trace_(trace) {}

  absl::StatusOr<TorchScriptProgram> Run(const jit::Graph& graph_in, const jit::Module* module,
                                         std::string default_name) {
    std::shared_ptr<jit::Graph> inlined;
    const jit::Graph* graph = &graph_in;
    if (NeedsInlining(*graph->block())) {
      inlined = const_cast<jit::Graph&>(graph_in).copy();
      jit::Inline(*inlined);
      graph = inlined.get();
    }
    g_ = std::make_unique<Graph>(options_.graph_name.empty() ? default_name : options_.graph_name);

    // Inputs: `self` (a module), then tensors.
    auto inputs = graph->inputs();
    size_t first = 0;
    if (!inputs.empty() && inputs[0]->type()->cast<c10::ClassType>()) {
      if (!module)
        return absl::InvalidArgumentError(
            "the TorchScript graph takes a module (`self`) as its first input; import it with "
            "ImportTorchScriptModule so its attributes can be resolved");
      SetModule(inputs[0], {module->_ivalue(), ""});
      first = 1;
    }
    size_t n_user = inputs.size() - first;
    if (!options_.input_types.empty() && options_.input_types.size() != n_user)
      return absl::InvalidArgumentError(absl::StrCat("given ", options_.input_types.size(),
                                                     " input types for a graph with ", n_user,
                                                     " tensor inputs"));
    if (!options_.example_inputs.empty() && options_.example_inputs.size() != n_user)
      return absl::InvalidArgumentError(absl::StrCat("given ", options_.example_inputs.size(),
                                                     " example inputs for a graph with ", n_user,
                                                     " inputs"));
    if (!options_.input_kinds.empty() && options_.input_kinds.size() != n_user)
      return absl::InvalidArgumentError(absl::StrCat("given ", options_.input_kinds.size(),
                                                     " input kinds for a graph with ", n_user,
                                                     " tensor inputs"));
    for (size_t i = first; i < inputs.size(); ++i) {
      const jit::Value* in = inputs[i];
      if (!IsTensorType(in->type()) && !in->type()->cast<c10::OptionalType>())
        return absl::InvalidArgumentError(absl::StrCat(
            "graph input %", in->debugName(), " has type ", in->type()->repr_str(),
            "; graft imports graphs whose inputs are tensors"));
      std::optional<TensorType> t;
      if (!options_.input_types.empty()) {
        t = options_.input_types[i - first];
      } else if (!options_.example_inputs.empty()) {
        t = FromTensor(options_.example_inputs[i - first]);
      } else {
        t = FromTorchType(in->type());
      }
      // A tensor input takes the facts its type gives (none for `Tensor`):
      // rules that need no more still apply. An optional one may be None.
      if (!t)
        return WithErrorKind(
            absl::InvalidArgumentError(absl::StrCat(
                "graph input %", in->debugName(), " has type ", in->type()->repr_str(),
                ", which may be None; give input types or example inputs")),
            ErrorKind::kMissingInputTypes);
      InputKind kind = options_.input_kinds.empty() ? InputKind::kUserInput
                                                    : options_.input_kinds[i - first];
      Value* gv = g_->AddInput(*t, ValueName(in), kind, kind == InputKind::kUserInput ? "" : ValueName(in));
      SetValue(in, gv);
      if (trace_) trace_->inputs.push_back(const_cast<jit::Value*>(in));
    }

    GRAFT_RETURN_IF_ERROR(ImportBlock(*graph->block()));

    const jit::Node* ret = graph->return_node();
    for (size_t i = 0; i < ret->inputs().size(); ++i)
      GRAFT_RETURN_IF_ERROR(AddOutput(ret->input(i), ret, i));
    TorchScriptProgram program;
    program.graph = std::move(g_);
    program.tensors = std::move(tensors_);
    return program;
  }

  // The constant `v` folded to, or null if it is not one.
  const c10::IValue* Constant(const jit::Value* v) const {
    return IsConst(v) ? &consts_.at(v) : nullptr;
  }

  struct OpInfo {
    const c10::FunctionSchema* schema = nullptr;
    const OpDef* op = nullptr;
    bool side_effects = false;
    std::vector<bool> scalar_type_args;
  };
  struct ModuleRef {
    c10::IValue object;
    std::string path;  // dotted, "" for the root
  };

  static bool NeedsInlining(const jit::Block& b) {
    for (const jit::Node* n : b.nodes()) {
      if (n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction) return true;
      for (const jit::Block* sub : n->blocks()) {
        if (NeedsInlining(*sub)) return true;
      }
    }
    return false;
  }

 private:
  // The debug name without TorchScript's uniquing suffix (`y.5` -> `y`);
  // graft's printer makes names unique again.
  static std::string ValueName(const jit::Value* v) {
    if (!v->hasDebugName()) return std::string();
    const std::string& name = v->debugName();
    size_t dot = name.find_last_of('.');
    if (dot != std::string::npos && dot + 1 < name.size() && dot > 0 &&
        name.find_first_not_of("0123456789", dot + 1) == std::string::npos)
      return name.substr(0, dot);
    return name;
  }

  absl::Status ImportBlock(const jit::Block& block) {
    for (const jit::Node* n : block.nodes()) {
      GRAFT_RETURN_IF_ERROR(CatchTorch([&] { return ImportNode(n); },
                                       [n](absl::string_view line) {
                                         return NodeError(n, absl::StrCat("libtorch failed: ", line));
                                       }));
    }
    return absl::OkStatus();
  }

  // Makes `to` stand for whatever `from` stands for.
  absl::Status Alias(const jit::Value* to, const jit::Value* from, const jit::Node* n) {
    switch (SlotOf(from)) {
      case kValue:
        SetValue(to, FindValue(from));
        break;
      case kConst:
        SetConst(to, consts_.at(from));
        break;
      case kModule:
        SetModule(to, modules_.at(from));
        break;
      case kTuple:
        SetTuple(to, tuples_.at(from));
        break;
      default:
        return NodeError(n, absl::StrCat("uses %", from->debugName(), ", which graft could not import"));
    }
    return absl::OkStatus();
  }

  absl::Status ImportNode(const jit::Node* n) {
    c10::Symbol kind = n->kind();
    if (kind == c10::prim::Constant) return ImportConstant(n);
    if (kind == c10::prim::GetAttr) return ImportGetAttr(n);
    if (kind == c10::prim::If) return ImportIf(n);
    if (!n->blocks().empty())
      return NodeError(n, "has nested blocks (control flow); graft imports straight-line graphs "
                          "(freeze or trace the model, or make the condition a constant)");
    if (kind == c10::prim::TupleConstruct && !AllConst(n)) {
      SetTuple(n->output(), std::vector<const jit::Value*>(n->inputs().begin(), n->inputs().end()));
      return absl::OkStatus();
    }
    if ((kind == c10::prim::TupleUnpack || kind == c10::prim::TupleIndex) && SlotOf(n->input(0)) == kTuple) {
      const auto elems = tuples_.at(n->input(0));
      if (kind == c10::prim::TupleUnpack) {
        for (size_t i = 0; i < n->outputs().size(); ++i) GRAFT_RETURN_IF_ERROR(Alias(n->output(i), elems[i], n));
        return absl::OkStatus();
      }
      if (!IsConst(n->input(1))) return NodeError(n, "indexes a tuple with a run-time index");
      int64_t i = consts_.at(n->input(1)).toInt();
      if (i < 0) i += static_cast<int64_t>(elems.size());
      return Alias(n->output(), elems.at(i), n);
    }
    const OpInfo* info = Lookup(n);
    if (info && info->side_effects)
      return NodeError(n, "has side effects (prints, raises, mutates state); graft imports pure graphs");
    if (!info && n->hasSideEffects())
      return NodeError(n, "has side effects (prints, raises, mutates state); graft imports pure graphs");
    if (IsFoldable(n)) return Fold(n);
    if (IsShapeQuery(n)) return FoldShapeQuery(n);
    if (kind == c10::prim::ListConstruct) return ImportListConstruct(n);
    if (kind == c10::prim::ListUnpack) return ImportListUnpack(n);
    if (info && info->schema) return ImportOp(n, *info);
    return NodeError(n, "is not an operator graft can import (no ATen schema)");
  }

  bool AllConst(const jit::Node* n) const {
    for (const jit::Value* in : n->inputs()) {
      if (!IsConst(in)) return false;
    }
    return true;
  }

  // Computed from constants alone, without making a tensor out of nothing:
  // int arithmetic, list building, NumToTensor/Int round trips. Ops that make
  // tensors from literal arguments (aten::zeros, arange, rand) stay nodes.
  bool IsFoldable(const jit::Node* n) const {
    if (!AllConst(n) || n->isNondeterministic()) return false;
    if (n->kind() == c10::prim::NumToTensor) return true;
    bool tensor_out = false;
    for (const jit::Value* o : n->outputs())
      tensor_out |= IsTensorType(o->type()) || IsTensorListType(o->type());
    if (!tensor_out) return true;
    // Tensors from scalar tensors that were folded (traced shape arithmetic).
    for (const jit::Value* in : n->inputs()) {
      if (consts_.at(in).isTensor()) return true;
    }
    return false;
  }

  absl::Status Fold(const jit::Node* n) {
    jit::Stack stack;
    for (const jit::Value* in : n->inputs()) stack.push_back(consts_.at(in));
    c10::Symbol kind = n->kind();
    // The interpreter runs these as instructions, not operators.
    if (kind == c10::prim::ListConstruct) {
      auto lt = n->output()->type()->expect<c10::ListType>();
      c10::impl::GenericList list(lt->getElementType());
      for (c10::IValue& v : stack) list.push_back(std::move(v));
      SetConst(n->output(), c10::IValue(list));
      return absl::OkStatus();
    }
    if (kind == c10::prim::TupleConstruct) {
      SetConst(n->output(), c10::ivalue::Tuple::create(std::move(stack)));
      return absl::OkStatus();
    }
    if (kind == c10::prim::ListUnpack || kind == c10::prim::TupleUnpack) {
      std::vector<c10::IValue> elems = stack[0].isTuple()
                                           ? stack[0].toTupleRef().elements().vec()
                                           : stack[0].toListRef().vec();
      if (elems.size() != n->outputs().size())
        return NodeError(n, absl::StrCat("unpacks ", elems.size(), " values into ", n->outputs().size()));
      for (size_t i = 0; i < elems.size(); ++i) SetConst(n->output(i), elems[i]);
      return absl::OkStatus();
    }
    if (kind == c10::prim::TupleIndex) {
      const auto& elems = stack[0].toTupleRef().elements();
      int64_t i = stack[1].toInt();
      SetConst(n->output(), elems.at(i < 0 ? i + elems.size() : i));
      return absl::OkStatus();
    }
    n->getOperation()(stack);
    if (stack.size() != n->outputs().size())
      return NodeError(n, "folding it produced the wrong number of values");
    for (size_t i = 0; i < stack.size(); ++i) SetConst(n->output(i), std::move(stack[i]));
    return absl::OkStatus();
  }

  // Metadata of tensors (FoldShapeQuery needs their sizes).
  bool IsShapeQuery(const jit::Node* n) const {
    static const auto* kinds = new absl::flat_hash_set<c10::Symbol>{
        c10::aten::size,  c10::aten::dim,           c10::prim::dtype,       c10::aten::numel,
        c10::aten::len,   c10::prim::device,        c10::prim::layout,      c10::prim::requires_grad,
        c10::prim::is_cuda, c10::aten::is_floating_point, c10::aten::__getitem__};
    if (!kinds->contains(n->kind())) return false;
    bool tensor_in = false;
    for (const jit::Value* in : n->inputs()) {
      if (Value* found = FindValue(in)) {
        if (!IsTensorType(in->type())) return false;
        tensor_in = true;
      } else if (!IsConst(in)) {
        return false;
      }
    }
    for (const jit::Value* o : n->outputs()) {
      if (IsTensorType(o->type())) return false;
    }
    return tensor_in;
  }

  absl::Status FoldShapeQuery(const jit::Node* n) {
    if (n->kind() == c10::prim::device) {
      SetConst(n->output(), c10::Device(c10::kCPU));
      return absl::OkStatus();
    }
    if (n->kind() == c10::prim::is_cuda || n->kind() == c10::prim::requires_grad) {
      SetConst(n->output(), false);
      return absl::OkStatus();
    }
    jit::Stack stack;
    for (const jit::Value* in : n->inputs()) {
      if (Value* found = FindValue(in)) {
        // Folding specializes the graph to the sizes, which must be known.
        if (!found->type().is_static())
          return WithErrorKind(
              NodeError(n, absl::StrCat("reads the shape of %", in->debugName(), ", of type ",
                                        found->type().ToString(),
                                        "; give input types or example inputs")),
              ErrorKind::kMissingInputTypes);
        GRAFT_ASSIGN_OR_RETURN(at::Tensor meta, MetaTensor(found->type()));
        stack.push_back(std::move(meta));
      } else {
        stack.push_back(consts_.at(in));
      }
    }
    n->getOperation()(stack);
    for (size_t i = 0; i < stack.size(); ++i) SetConst(n->output(i), std::move(stack[i]));
    return absl::OkStatus();
  }

  absl::Status ImportConstant(const jit::Node* n) {
    const jit::Value* out = n->output();
    if (out->type()->kind() == c10::TypeKind::FunctionType) return absl::OkStatus();
    std::optional<c10::IValue> v = jit::toIValue(out);
    if (!v) return NodeError(n, "is a constant graft cannot read");
    // Scalar tensors (traced shape arithmetic divides by `tensor(6)`) stay
    // foldable; they become inputs only where a real op takes them.
    if (v->isTensor() && v->toTensor().dim() > 0) {
      std::string name = ValueName(out);
      if (absl::StartsWith(name, "self.")) name = name.substr(5);
      SetValue(out, TensorInput(v->toTensor(), name, InputKind::kConstant, out));
      return absl::OkStatus();
    }
    SetConst(out, std::move(*v));
    return absl::OkStatus();
  }

  // The graph input holding tensor `t` (tied tensors share one input).
  Value* TensorInput(const at::Tensor& t, std::string path, InputKind kind,
                     const jit::Value* jv = nullptr) {
    if (auto it = tensor_inputs_.find(t.unsafeGetTensorImpl()); it != tensor_inputs_.end())
      return it->second;
    if (path.empty()) path = absl::StrCat("_tensor_constant", num_lifted_++);
    std::string unique = path;
    for (int k = 1; tensors_.contains(unique); ++k) unique = absl::StrCat(path, "_", k);
    const char* prefix = kind == InputKind::kParameter ? "p_" : kind == InputKind::kBuffer ? "b_" : "c_";
    Value* v = g_->AddInput(FromTensor(t), absl::StrCat(prefix, Sanitize(unique)), kind, unique);
    tensors_[unique] = t;
    tensor_inputs_[t.unsafeGetTensorImpl()] = v;
    if (trace_) trace_->inputs.push_back(const_cast<jit::Value*>(jv));
    return v;
  }

  absl::Status ImportGetAttr(const jit::Node* n) {
    auto it = modules_.find(n->input(0));
    if (it == modules_.end()) return NodeError(n, "reads an attribute of something that is not the module");
    const ModuleRef& ref = it->second;
    const std::string& field = n->s(c10::attr::name);
    auto obj = ref.object.toObject();
    auto cls = obj->type();
    auto slot = cls->findAttributeSlot(field);
    if (!slot) return NodeError(n, absl::StrCat("module has no attribute '", field, "'"));
    c10::IValue attr = obj->getSlot(*slot);
    std::string path = ref.path.empty() ? field : absl::StrCat(ref.path, ".", field);
    if (attr.isTensor()) {
      InputKind kind = cls->is_parameter(*slot) ? InputKind::kParameter
                       : cls->is_buffer(*slot)  ? InputKind::kBuffer
                                                : InputKind::kConstant;
      SetValue(n->output(), TensorInput(attr.toTensor(), path, kind, n->output()));
    } else if (attr.isObject()) {
      SetModule(n->output(), {attr, path});
    } else {
      // Plain attributes (ints, flags) are constants of the module.
      SetConst(n->output(), attr);
    }
    return absl::OkStatus();
  }

  absl::Status ImportIf(const jit::Node* n) {
    if (!IsConst(n->input(0)))
      return NodeError(n, "branches on a value computed at run time; graft imports straight-line "
                          "graphs (freeze or trace the model)");
    // A parsed graph may give an If any number of blocks and block outputs.
    if (n->blocks().size() != 2)
      return NodeError(n, absl::StrCat("has ", n->blocks().size(), " blocks (an If has 2)"));
    size_t branch = consts_.at(n->input(0)).toBool() ? 0 : 1;
    const jit::Block* taken = n->blocks()[branch];
    if (taken->outputs().size() != n->outputs().size())
      return NodeError(n, absl::StrCat("has ", n->outputs().size(), " outputs but its taken block ",
                                       taken->outputs().size()));
    if (trace_) trace_->folded_ifs.push_back({const_cast<jit::Node*>(n), branch});
    GRAFT_RETURN_IF_ERROR(ImportBlock(*taken));
    for (size_t i = 0; i < n->outputs().size(); ++i)
      GRAFT_RETURN_IF_ERROR(Alias(n->output(i), taken->outputs()[i], n));
    return absl::OkStatus();
  }

  // A graft node for `n`; a node holds at most Node::kMaxArgs arguments and
  // kMaxResults results (a hostile graph may have more).
  absl::StatusOr<Node*> NewNode(const jit::Node* n, const OpDef* op, absl::Span<const Arg> args,
                                absl::Span<const TensorType> types) {
    if (args.size() > Node::kMaxArgs || types.size() > Node::kMaxResults)
      return NodeError(n, absl::StrCat("has ", args.size(), " inputs and ", types.size(),
                                       " outputs; a graft node holds at most ", Node::kMaxArgs));
    return g_->CreateNode(op, args, types, nullptr, Loc(n));
  }

  absl::Status ImportListConstruct(const jit::Node* n) {
    if (!IsTensorListType(n->output()->type()))
      return NodeError(n, absl::StrCat("builds a ", n->output()->type()->repr_str(),
                                       " from values computed at run time; graft needs it constant"));
    std::vector<Arg> args;
    for (const jit::Value* in : n->inputs()) {
      GRAFT_ASSIGN_OR_RETURN(Arg a, TensorArg(n, in));
      args.push_back(a);
    }
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, Ops().Intern("prim::ListConstruct"));
    TensorType unknown;
    GRAFT_ASSIGN_OR_RETURN(Node * node, NewNode(n, op, args, absl::MakeConstSpan(&unknown, 1)));
    Track(node, n);
    Bind(n->output(), node->result(0));
    return absl::OkStatus();
  }

  absl::Status ImportListUnpack(const jit::Node* n) {
    Value* list = FindValue(n->input(0));
    if (!list) return NodeError(n, "unpacks a list graft could not import");
    // Unpacking our own ListConstruct: its elements, no node.
    if (Node* def = list->def(); def && def->op()->name() == "prim::ListConstruct.default" &&
                                 def->num_args() == static_cast<int>(n->outputs().size())) {
      for (size_t i = 0; i < n->outputs().size(); ++i) {
        Arg a = def->arg(static_cast<int>(i));
        if (!a.is_value()) return NodeError(n, "unpacks a None from a tensor list");
        SetValue(n->output(i), a.value());
      }
      return absl::OkStatus();
    }
    TypeList types;
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      std::optional<TensorType> t = FromTorchType(n->output(i)->type());
      if (auto m = list_meta_.find(list);
          (!t || !t->known()) && m != list_meta_.end() && m->second.size() > i)
        t = FromTensor(m->second[i]);
      if (!t) return NodeError(n, "cannot tell the types of the unpacked tensors");
      types.push_back(*t);
    }
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, Ops().Intern("prim::ListUnpack"));
    GRAFT_ASSIGN_OR_RETURN(Node * node, NewNode(n, op, {Arg(list)}, types));
    Track(node, n);
    for (size_t i = 0; i < n->outputs().size(); ++i) Bind(n->output(i), node->result(static_cast<int>(i)));
    return absl::OkStatus();
  }

  void Bind(const jit::Value* v, Value* gv) {
    SetValue(v, gv);
    if (v->hasDebugName()) g_->set_name(gv, ValueName(v));
  }

  // The node's provenance (provenance.h): its source line, `<file>:<line>`,
  // none for a graph without source ranges (parsed IR). No node part: the
  // TorchScript node itself is in the trace, and its value names, which graft
  // keeps as its own, do not survive torch.jit.save and load.
  uint32_t Loc(const jit::Node* n) {
    if (!options_.keep_locations) return 0;
    // A loaded module's nodes point into its serialized code; the range
    // that generated it is the model's own source.
    jit::SourceRange range = n->sourceRange();
    if (auto original = range.findSourceRangeThatGenerated()) range = *original;
    auto flc = range.file_line_col();
    if (!flc) return 0;
    Provenance p;
    p.file = Provenance::BaseName(std::get<0>(*flc));
    p.line = static_cast<int64_t>(std::get<1>(*flc));
    return g_->InternLoc(p.ToString());
  }

  // A tensor (or tensor list) argument: a value, None, or a folded scalar
  // tensor lifted to a constant input.
  absl::StatusOr<Arg> TensorArg(const jit::Node* n, const jit::Value* in) {
    if (Value* found = FindValue(in)) return Arg(found);
    if (auto c = consts_.find(in); c != consts_.end()) {
      if (c->second.isNone()) return Arg(Literal::None());
      if (c->second.isTensor()) {
        Value* v = TensorInput(c->second.toTensor(), "", InputKind::kConstant);
        SetValue(in, v);
        return Arg(v);
      }
    }
    return NodeError(n, absl::StrCat("takes %", in->debugName(), " (", in->type()->repr_str(),
                                     ") where a tensor is expected, and graft cannot represent it"));
  }

  const OpDef* OpFor(c10::Symbol kind, const std::string& overload) {
    auto key = std::make_pair(kind, overload);
    auto it = op_cache_.find(key);
    if (it != op_cache_.end()) return it->second;
    std::string name = absl::StrCat(kind.toQualString(), ".", overload.empty() ? "default" : overload);
    auto op = Ops().Intern(name);
    const OpDef* def = op.ok() ? *op : nullptr;
    op_cache_[key] = def;
    return def;
  }

  absl::Status ImportOp(const jit::Node* n, const OpInfo& info) {
    const c10::FunctionSchema& schema = *info.schema;
    if (schema.is_mutable())
      return NodeError(n, absl::StrCat("mutates its input in place (", schema.name(),
                                       "); graft imports functional graphs (use the out-of-place op)"));
    if (schema.is_vararg() || n->inputs().size() != schema.arguments().size())
      return NodeError(n, "has a variable argument list");
    const OpDef* op = info.op;
    if (!op) return NodeError(n, "has a name graft cannot represent");

    const OpSchema* gs = op->schema();
    absl::InlinedVector<Arg, 6> args;
    for (size_t i = 0; i < n->inputs().size(); ++i) {
      const jit::Value* in = n->input(i);
      const c10::Argument& param = schema.arguments()[i];
      if (Value* found = FindValue(in)) {
        args.push_back(found);
        continue;
      }
      auto c = consts_.find(in);
      if (c == consts_.end())
        return NodeError(n, absl::StrCat("argument ", i, " (", param.name(), ") is ",
                                         SlotOf(in) == kModule ? "a module" : "a value graft could not import"));
      if (c->second.isTensor()) {
        GRAFT_ASSIGN_OR_RETURN(Arg a, TensorArg(n, in));
        args.push_back(a);
        continue;
      }
      const Literal* lit = LiteralOf(in, c->second, info.scalar_type_args[i]);
      if (!lit)
        return NodeError(n, absl::StrCat("argument ", i, " (", param.name(), ") is the constant ",
                                         c->second.type()->repr_str(),
                                         ", which graft has no literal for"));
      args.push_back(lit);
    }

    // graft holds a tensor list as a run of operands (OpSchema): the
    // elements of the prim::ListConstruct that built it. `args` stays one
    // per TorchScript input, for running the node on example tensors.
    absl::InlinedVector<Arg, 6> node_args = args;
    if (gs && gs->has_list()) {
      Value* list = args[gs->list_param].value();
      Node* def = list ? list->def() : nullptr;
      if (!def || def->op()->name() != "prim::ListConstruct.default")
        return NodeError(n, absl::StrCat("argument ", gs->list_param, " (",
                                         schema.arguments()[gs->list_param].name(),
                                         ") is a tensor list graft cannot see the elements of"));
      node_args.erase(node_args.begin() + gs->list_param);
      for (int e = def->num_args() - 1; e >= 0; --e)
        node_args.insert(node_args.begin() + gs->list_param, def->arg(e));
    }

    // Result types.
    TypeList types;
    bool complete = true;
    for (const jit::Value* o : n->outputs()) {
      if (IsTensorType(o->type())) {
        std::optional<TensorType> t = FromTorchType(o->type());
        complete &= t && t->known();
        types.push_back(t.value_or(TensorType()));
      } else if (IsTensorListType(o->type())) {
        types.push_back(TensorType());
        complete = false;  // element types come from the meta run
      } else {
        return NodeError(n, absl::StrCat("returns a ", o->type()->repr_str(),
                                         " computed from tensor data at run time; graft "
                                         "represents tensor programs only"));
      }
    }
    if (gs) {
      if (absl::Status st = CheckArgs(op, node_args); !st.ok()) return NodeError(n, st.message());
    }
    if (gs && gs->shape_fn) {
      auto inferred = InferCheckedTypes(op, node_args);
      if (!inferred.ok()) return NodeError(n, inferred.status().message());
      // TorchScript's facts and graft's must agree; the result has both
      // (TorchScript may know a dtype graft cannot derive from `Tensor`
      // inputs).
      for (size_t i = 0; i < types.size() && i < inferred->size(); ++i) {
        std::optional<TensorType> merged = MergeTypes(types[i], (*inferred)[i]);
        if (!merged)
          return NodeError(n, absl::StrCat("TorchScript says its result is ", types[i].ToString(),
                                           " but graft's shape function computes ",
                                           (*inferred)[i].ToString()));
        (*inferred)[i] = *merged;
      }
      types = *inferred;
    } else if (!complete) {
      GRAFT_RETURN_IF_ERROR(InferByMeta(n, args, types));
    }

    // A node of a list op carries every parameter (OpSchema).
    if (options_.drop_default_args && !(gs && gs->has_list())) DropDefaults(op, schema, node_args);
    GRAFT_ASSIGN_OR_RETURN(Node * node, NewNode(n, op, node_args, types));
    Track(node, n);
    for (size_t i = 0; i < n->outputs().size(); ++i) Bind(n->output(i), node->result(static_cast<int>(i)));
    if (!pending_list_meta_.empty()) {
      list_meta_[node->result(0)] = std::move(pending_list_meta_);
      pending_list_meta_.clear();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<c10::IValue> MetaArg(const jit::Value* in, Arg a) {
    if (Value* v = a.value()) {
      if (!v->type().known()) {
        // A tensor list: its elements' metas.
        Node* def = v->def();
        if (def && def->op()->name() == "prim::ListConstruct.default") {
          c10::List<std::optional<at::Tensor>> opt_list;
          c10::List<at::Tensor> list;
          bool has_none = false;
          for (int i = 0; i < def->num_args(); ++i) {
            if (Value* e = def->arg(i).value()) {
              GRAFT_ASSIGN_OR_RETURN(at::Tensor t, MetaTensor(e->type()));
              list.push_back(t);
              opt_list.push_back(t);
            } else {
              has_none = true;
              opt_list.push_back(std::nullopt);
            }
          }
          auto lt = in->type()->cast<c10::ListType>();
          if (has_none || (lt && lt->getElementType()->cast<c10::OptionalType>())) return c10::IValue(opt_list);
          return c10::IValue(list);
        }
        if (auto m = list_meta_.find(v); m != list_meta_.end()) {
          c10::List<at::Tensor> list;
          for (const at::Tensor& t : m->second) list.push_back(t);
          return c10::IValue(list);
        }
        return absl::FailedPreconditionError("an input's type is unknown");
      }
      GRAFT_ASSIGN_OR_RETURN(at::Tensor t, MetaTensor(v->type()));
      return c10::IValue(t);
    }
    c10::IValue c = IsConst(in) ? consts_.at(in) : c10::IValue();
    if (c.isTensor()) return c10::IValue(c.toTensor().to(c10::kMeta));
    return c;
  }

  // Result types of an opaque op, by running it on meta tensors (and on
  // zero-filled CPU tensors if the op has no meta kernel).
  absl::Status InferByMeta(const jit::Node* n, absl::Span<const Arg> args, TypeList& types) {
    for (bool real : {false, true}) {
      jit::Stack stack;
      for (size_t i = 0; i < n->inputs().size(); ++i) {
        auto v = MetaArg(n->input(i), args[i]);
        // An input without every fact: the results keep what TorchScript
        // says of them (at least nothing), no guess.
        if (!v.ok()) return absl::OkStatus();
        c10::IValue iv = *v;
        if (real) iv = ToReal(iv);
        stack.push_back(std::move(iv));
      }
      absl::Status ran = CatchTorch(
          [&] {
            n->getOperation()(stack);
            return absl::OkStatus();
          },
          [n](absl::string_view line) {
            return NodeError(n, absl::StrCat("cannot infer its result type (running it on example "
                                             "tensors failed: ",
                                             line, ")"));
          });
      if (!ran.ok()) {
        if (!real) continue;  // no meta kernel: try real tensors
        return ran;
      }
      for (size_t i = 0; i < stack.size() && i < types.size(); ++i) {
        if (stack[i].isTensor()) {
          types[i] = FromTensor(stack[i].toTensor());
        } else if (stack[i].isTensorList()) {
          pending_list_meta_.clear();
          for (const at::Tensor& t : stack[i].toTensorVector()) pending_list_meta_.push_back(t);
        }
      }
      return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  static c10::IValue ToReal(const c10::IValue& v) {
    auto real = [](const at::Tensor& t) {
      return at::zeros(t.sizes(), t.options().device(c10::kCPU));
    };
    if (v.isTensor()) return real(v.toTensor());
    if (v.isTensorList()) {
      c10::List<at::Tensor> out;
      for (const at::Tensor& t : v.toTensorVector()) out.push_back(real(t));
      return out;
    }
    return v;
  }

  // Drops trailing literal arguments equal to their defaults.
  static void DropDefaults(const OpDef* op, const c10::FunctionSchema& schema,
                           absl::InlinedVector<Arg, 6>& args) {
    const OpSchema* gs = op->schema();
    while (!args.empty()) {
      size_t i = args.size() - 1;
      const Literal* lit = args[i].literal();
      if (!lit) break;
      if (gs) {
        if (static_cast<int>(i) < gs->num_required() || i >= gs->params.size()) break;
        if (!gs->params[i].IsDefault(args[i])) break;
      } else {
        const auto& def = schema.arguments()[i].default_value();
        if (!def) break;
        const Literal* dl = ToLiteral(*def, IsScalarTypeArg(schema.arguments()[i]));
        if (dl != lit) break;
      }
      args.pop_back();
    }
  }

  absl::Status AddOutput(const jit::Value* out, const jit::Node* ret, size_t index) {
    if (auto t = tuples_.find(out); t != tuples_.end()) {
      for (size_t i = 0; i < t->second.size(); ++i)
        GRAFT_RETURN_IF_ERROR(AddOutput(t->second[i], out->node(), i));
      return absl::OkStatus();
    }
    auto c = consts_.find(out);
    if (c != consts_.end() && c->second.isTuple()) {
      return NodeError(ret, "returns a constant tuple");
    }
    GRAFT_ASSIGN_OR_RETURN(Arg a, TensorArg(ret, out));
    if (!a.is_value()) return NodeError(ret, "returns None");
    g_->AddOutput(a.value());
    if (trace_) {
      // Outputs that went through a tuple built elsewhere cannot be patched.
      if (ret->kind() != c10::prim::Return && ret->kind() != c10::prim::TupleConstruct)
        trace_->in_place = false;
      trace_->output_slots.push_back({const_cast<jit::Node*>(ret), index, a.value()});
    }
    return absl::OkStatus();
  }

  // ---- What each TorchScript value stands for, by jit::Value::unique().
  enum Slot : uint8_t { kUnset, kValue, kConst, kModule, kTuple };
  uint8_t SlotOf(const jit::Value* v) const {
    size_t u = v->unique();
    return u < slots_.size() ? slots_[u] : kUnset;
  }
  void Mark(const jit::Value* v, uint8_t slot) {
    size_t u = v->unique();
    if (u >= slots_.size()) {
      slots_.resize(u + u / 2 + 64, kUnset);
      values_.resize(slots_.size(), nullptr);
    }
    slots_[u] = slot;
  }
  Value* FindValue(const jit::Value* v) const {
    return SlotOf(v) == kValue ? values_[v->unique()] : nullptr;
  }
  bool IsConst(const jit::Value* v) const { return SlotOf(v) == kConst; }
  void SetValue(const jit::Value* v, Value* gv) {
    Mark(v, kValue);
    values_[v->unique()] = gv;
  }
  void SetConst(const jit::Value* v, c10::IValue iv) {
    Mark(v, kConst);
    consts_[v] = std::move(iv);
  }
  void SetModule(const jit::Value* v, ModuleRef ref) {
    Mark(v, kModule);
    modules_[v] = std::move(ref);
  }
  void SetTuple(const jit::Value* v, std::vector<const jit::Value*> elems) {
    Mark(v, kTuple);
    tuples_[v] = std::move(elems);
  }

  // ---- Operators, resolved once per (kind, input types): the schema
  // lookup is the importer's most expensive step per node.
  using Key = absl::InlinedVector<char, 32>;
  static void AppendTypeKey(const c10::Type& t, Key& key) {
    key.push_back(static_cast<char>(t.kind()));
    if (t.kind() == c10::TypeKind::ListType || t.kind() == c10::TypeKind::OptionalType)
      AppendTypeKey(*t.containedTypes()[0], key);
  }
  const OpInfo* Lookup(const jit::Node* n) {
    c10::Symbol kind = n->kind();
    if (kind.is_prim() && kind != c10::prim::NumToTensor) return nullptr;
    Key key;
    uint32_t id = static_cast<uint32_t>(kind);
    key.insert(key.end(), reinterpret_cast<const char*>(&id), reinterpret_cast<const char*>(&id) + sizeof id);
    for (const jit::Value* in : n->inputs()) AppendTypeKey(*in->type(), key);
    absl::string_view view(key.data(), key.size());
    auto found = op_infos_.find(view);
    if (found != op_infos_.end()) return found->second.schema ? &found->second : nullptr;
    auto [it, inserted] = op_infos_.try_emplace(std::string(view));
    if (inserted) {
      OpInfo& info = it->second;
      if (const jit::Operator* op = n->maybeOperator()) {
        info.schema = &op->schema();
        info.op = OpFor(kind, info.schema->overload_name());
        info.side_effects = n->hasSideEffects();
        for (const auto& a : info.schema->arguments()) info.scalar_type_args.push_back(IsScalarTypeArg(a));
      }
    }
    return it->second.schema ? &it->second : nullptr;
  }

  // Literals of constant values, by value and whether a ScalarType is meant.
  const Literal* LiteralOf(const jit::Value* v, const c10::IValue& c, bool scalar_type) {
    auto [it, inserted] = literals_.try_emplace(std::make_pair(v, scalar_type), nullptr);
    if (inserted) it->second = ToLiteral(c, scalar_type);
    return it->second;
  }

  // ---- Tracking for WriteBack.
  void Track(Node* node, const jit::Node* n) {
    if (!trace_) return;
    uint32_t offset = static_cast<uint32_t>(trace_->args.size());
    for (int i = 0; i < node->num_args(); ++i) trace_->args.push_back(node->arg(i));
    trace_->origins.Record(node, ImportTrace::Origin{const_cast<jit::Node*>(n), offset});
    if (n->outputs().empty()) return;
    size_t u = n->output(0)->unique();
    if (u >= trace_->outputs.size()) trace_->outputs.resize(u + u / 2 + 64, false);
    trace_->outputs[u] = true;
  }

  const TorchScriptImportOptions& options_;
  ImportTrace* trace_;
  std::unique_ptr<Graph> g_;
  std::vector<uint8_t> slots_;
  std::vector<Value*> values_;
  absl::flat_hash_map<std::string, OpInfo> op_infos_;
  absl::flat_hash_map<std::pair<const jit::Value*, bool>, const Literal*> literals_;
  absl::flat_hash_map<const jit::Value*, c10::IValue> consts_;
  absl::flat_hash_map<const jit::Value*, ModuleRef> modules_;
  absl::flat_hash_map<const jit::Value*, std::vector<const jit::Value*>> tuples_;
  absl::flat_hash_map<const c10::TensorImpl*, Value*> tensor_inputs_;
  absl::flat_hash_map<const Value*, std::vector<at::Tensor>> list_meta_;
  std::vector<at::Tensor> pending_list_meta_;
  absl::flat_hash_map<std::pair<c10::Symbol, std::string>, const OpDef*> op_cache_;
  TensorMap tensors_;
  int num_lifted_ = 0;
};

}  // namespace torchscript_internal

// Imports a TorchScript graph whose inputs are all tensors. Tensor constants
// become inputs of kind constant; the returned map holds their tensors.
inline absl::StatusOr<TorchScriptProgram> ImportTorchScriptProgram(
    const torch::jit::Graph& graph, const TorchScriptImportOptions& options = {}) {
  return torchscript_internal::CatchTorch(
      [&] { return torchscript_internal::Importer(options).Run(graph, nullptr, "main"); },
      "importing TorchScript");
}

inline absl::StatusOr<std::unique_ptr<Graph>> ImportTorchScript(
    const torch::jit::Graph& graph, const TorchScriptImportOptions& options = {}) {
  GRAFT_ASSIGN_OR_RETURN(TorchScriptProgram p, ImportTorchScriptProgram(graph, options));
  return std::move(p.graph);
}

inline absl::StatusOr<std::unique_ptr<Graph>> ImportTorchScript(
    const std::shared_ptr<torch::jit::Graph>& graph, const TorchScriptImportOptions& options = {}) {
  return ImportTorchScript(*graph, options);
}

// Imports method `method` of a scripted, traced or frozen module: its
// parameters and buffers (prim::GetAttr chains) become graph inputs named by
// their dotted paths, its submodule calls are inlined.
inline absl::StatusOr<TorchScriptProgram> ImportTorchScriptModule(
    const torch::jit::Module& module, const TorchScriptImportOptions& options = {},
    const std::string& method = "forward") {
  return torchscript_internal::CatchTorch(
      [&]() -> absl::StatusOr<TorchScriptProgram> {
        auto m = module.find_method(method);
        if (!m) return absl::NotFoundError(absl::StrCat("the module has no method '", method, "'"));
        std::string name = module.type()->name() ? module.type()->name()->name() : "main";
        return torchscript_internal::Importer(options).Run(*m->graph(), &module, name);
      },
      "importing TorchScript");
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_IMPORTER_H_
