// TorchScript interop: torch::jit graphs and modules into graft Graphs and
// back, so a scripted, traced or frozen model can be rewritten by graft and
// run (or saved with torch.jit.save) by libtorch again.
//
// Import (ImportTorchScript, ImportTorchScriptModule):
//   - tensor values become graft Values with the dtype and shape of their
//     complete TensorType; where TorchScript does not know them (scripted or
//     loaded graphs), from the caller's input types propagated node by node:
//     catalogue ops by graft's shape functions, other ops by running them on
//     meta tensors;
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
//     errors naming the node.
// Export (ExportTorchScript, ExportTorchScriptModule) is the inverse: every
// graft node becomes the ATen operator of the same name and overload
// (including the edge dialect's *_copy ops, which ATen registers), literals
// become prim::Constants typed by the operator's schema, omitted trailing
// arguments take the schema's defaults.
// In place (TorchScriptInPlace): import with provenance, rewrite, and write
// back only what changed into the original graph or module method; nodes
// graft did not touch keep their names, source ranges and shape arithmetic.
// Where graft created nodes, their literal sizes are those of the input
// types given at import: the result is specialized to those shapes, as
// graft's static types are.
//
// This header, alone in graft, needs libtorch (C++20).
#ifndef GRAFT_INTEROP_TORCHSCRIPT_H_
#define GRAFT_INTEROP_TORCHSCRIPT_H_

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/interpreter.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "graft/ir/graph.h"
#include "graft/ir/parser.h"
#include "graft/ir/status.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "graft/ir/op_call.h"

namespace graft {

// Tensors of a graph's parameter, buffer and constant inputs, by the inputs'
// original names (`token_embedding.weight`).
using TensorMap = std::map<std::string, at::Tensor>;

struct TorchScriptImportOptions {
  // Types of the graph's tensor inputs (without the module's `self`), when
  // the graph's own types are not complete. Either these or example inputs.
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

struct TorchScriptExportOptions {
  // Check each created node against the intended operator schema (one
  // operator lookup per node).
  bool check_schemas = true;
  // Give nodes their graft value names as debug names.
  bool keep_names = true;
};

namespace torchscript_internal {

namespace jit = ::torch::jit;

inline std::string Where(const jit::Node* n) {
  std::string out;
  for (size_t i = 0; i < n->outputs().size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", "%", n->outputs()[i]->debugName());
  if (!out.empty()) out += " = ";
  absl::StrAppend(&out, n->kind().toQualString());
  if (auto flc = n->sourceRange().file_line_col()) {
    auto [file, line, col] = *flc;
    (void)col;
    absl::StrAppend(&out, " (", file.substr(file.find_last_of('/') + 1), ":", line, ")");
  }
  return out;
}

inline absl::Status NodeError(const jit::Node* n, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat("TorchScript node ", Where(n), ": ", msg));
}

inline std::optional<TensorType> FromTorchType(const c10::TypePtr& t) {
  const auto* tt = t->castRaw<c10::TensorType>();
  if (!tt) return std::nullopt;
  auto st = tt->scalarType();
  const auto& sizes = tt->sizes();
  if (!st || !sizes.size()) return std::nullopt;
  Shape shape;
  for (size_t i = 0; i < *sizes.size(); ++i) {
    const auto& d = sizes[i];
    if (!d || *d < 0) return std::nullopt;  // a negative size is no size: unknown
    shape.push_back(*d);
  }
  return TensorType::Get(static_cast<DType>(*st), shape);
}

inline TensorType FromTensor(const at::Tensor& t) {
  Shape shape(t.sizes().begin(), t.sizes().end());
  return TensorType::Get(static_cast<DType>(t.scalar_type()), shape);
}

inline c10::TypePtr ToTorchType(TensorType t) {
  if (!t.known()) return c10::TensorType::get();
  std::vector<std::optional<int64_t>> sizes;
  for (Dim d : t.shape()) sizes.push_back(d.is_static() ? std::optional<int64_t>(d.size()) : std::nullopt);
  return c10::TensorType::create(static_cast<c10::ScalarType>(t.dtype()), c10::Device(c10::kCPU),
                                 c10::VaryingShape<int64_t>(sizes),
                                 c10::VaryingShape<int64_t>(t.rank()), /*requires_grad=*/false);
}

// A meta tensor of type `t` (shape and dtype, no storage) for inferring
// result types by running an op.
inline absl::StatusOr<at::Tensor> MetaTensor(TensorType t) {
  if (!t.known() || !t.is_static())
    return absl::FailedPreconditionError(absl::StrCat("type ", t.ToString(), " is not static"));
  std::vector<int64_t> sizes;
  for (Dim d : t.shape()) sizes.push_back(d.size());
  return at::empty(sizes, at::TensorOptions()
                              .dtype(static_cast<c10::ScalarType>(t.dtype()))
                              .device(c10::kMeta));
}

inline bool IsScalarTypeArg(const c10::Argument& a) {
  const c10::TypePtr* t = &a.real_type();
  if (auto opt = (*t)->cast<c10::OptionalType>()) return opt->getElementType()->kind() == c10::TypeKind::ScalarTypeType;
  return (*t)->kind() == c10::TypeKind::ScalarTypeType;
}

inline bool IsDeviceArg(const c10::Argument& a) {
  c10::TypePtr t = a.type();
  if (auto opt = t->cast<c10::OptionalType>()) t = opt->getElementType();
  return t->kind() == c10::TypeKind::DeviceObjType;
}

inline bool IsTensorType(const c10::TypePtr& t) {
  return t->kind() == c10::TypeKind::TensorType;
}

inline bool IsTensorListType(const c10::TypePtr& t) {
  auto l = t->cast<c10::ListType>();
  if (!l) return false;
  c10::TypePtr e = l->getElementType();
  if (auto opt = e->cast<c10::OptionalType>()) e = opt->getElementType();
  return IsTensorType(e);
}

// A constant IValue as a literal, or nullptr when graft has no literal for it
// (float lists, tuples, objects).
inline const Literal* ToLiteral(const c10::IValue& v, bool scalar_type) {
  if (v.isNone()) return Literal::None();
  if (v.isBool()) return Literal::Bool(v.toBool());
  if (v.isInt()) {
    int64_t i = v.toInt();
    if (scalar_type && IsKnownDType(static_cast<int>(i))) return Literal::OfDType(static_cast<DType>(i));
    return Literal::Int(i);
  }
  if (v.isDouble()) return Literal::Float(v.toDouble());
  if (v.isString()) return Literal::String(v.toStringRef());
  if (v.isDevice()) return Literal::String(v.toDevice().str());
  if (v.isIntList()) return Literal::Ints(v.toIntVector());
  if (v.isList()) {
    // An empty generic list ([] typed e.g. Tensor[]) only reads as ints.
    auto l = v.toListRef();
    if (l.empty()) return Literal::Ints({});
  }
  return nullptr;
}

// The first non-empty line of a libtorch error (the rest is a C++ trace).
inline std::string FirstLine(absl::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  return std::string(s.substr(0, s.find('\n')));
}

// The last non-empty line: where the interpreter puts the actual error,
// after the TorchScript traceback.
inline std::string LastLine(absl::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  size_t nl = s.find_last_of('\n');
  return std::string(nl == absl::string_view::npos ? s : s.substr(nl + 1));
}

inline std::string Sanitize(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  return out;
}

// ---------------------------------------------------------------- importer

class Importer {
 public:
  // With `track`, remembers which graft node came from which TorchScript
  // node, so WriteBack can patch the TorchScript graph in place.
  explicit Importer(const TorchScriptImportOptions& options, bool track = false)
      : options_(options), track_(track) {}

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
      if (!t)
        return WithErrorKind(
            absl::InvalidArgumentError(absl::StrCat(
                "graph input %", in->debugName(),
                " has no complete tensor type (dtype and sizes); give input types or example inputs")),
            ErrorKind::kMissingInputTypes);
      InputKind kind = options_.input_kinds.empty() ? InputKind::kUserInput
                                                    : options_.input_kinds[i - first];
      Value* gv = g_->AddInput(*t, ValueName(in), kind, kind == InputKind::kUserInput ? "" : ValueName(in));
      SetValue(in, gv);
      if (track_) jit_inputs_.push_back(const_cast<jit::Value*>(in));
    }

    GRAFT_RETURN_IF_ERROR(ImportBlock(*graph->block()));

    const jit::Node* ret = graph->return_node();
    for (size_t i = 0; i < ret->inputs().size(); ++i)
      GRAFT_RETURN_IF_ERROR(AddOutput(ret->input(i), ret, i));
    TorchScriptProgram program;
    program.graph = std::move(g_);
    program.tensors = track_ ? tensors_ : std::move(tensors_);
    return program;
  }

  // Writes the rewrites done on `g` (imported by this importer, with
  // tracking) back into `jg`, the graph it was imported from: nodes graft
  // created are inserted, uses are redirected, nodes graft erased are
  // destroyed with the constants and attribute reads only they used. Nodes
  // graft did not touch stay as they are. Checks first and changes nothing
  // when it cannot patch (FailedPrecondition): then export instead.
  absl::Status WriteBack(const std::shared_ptr<jit::Graph>& jg, const Graph& g,
                         const TorchScriptExportOptions& options = {});

 public:
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
      try {
        GRAFT_RETURN_IF_ERROR(ImportNode(n));
      } catch (const std::exception& e) {
        return NodeError(n, absl::StrCat("libtorch failed: ", FirstLine(e.what())));
      }
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

  // Metadata of tensors whose types are known.
  bool IsShapeQuery(const jit::Node* n) const {
    static const auto* kinds = new absl::flat_hash_set<c10::Symbol>{
        c10::aten::size,  c10::aten::dim,           c10::prim::dtype,       c10::aten::numel,
        c10::aten::len,   c10::prim::device,        c10::prim::layout,      c10::prim::requires_grad,
        c10::prim::is_cuda, c10::aten::is_floating_point, c10::aten::__getitem__};
    if (!kinds->contains(n->kind())) return false;
    bool tensor_in = false;
    for (const jit::Value* in : n->inputs()) {
      if (Value* found = FindValue(in)) {
        if (!IsTensorType(in->type()) || !found->type().known()) return false;
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
    if (track_) jit_inputs_.push_back(const_cast<jit::Value*>(jv));
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
    size_t branch = consts_.at(n->input(0)).toBool() ? 0 : 1;
    const jit::Block* taken = n->blocks()[branch];
    if (track_) folded_ifs_.push_back({const_cast<jit::Node*>(n), branch});
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
      if (!t) {
        auto m = list_meta_.find(list);
        if (m == list_meta_.end() || m->second.size() <= i)
          return NodeError(n, "cannot tell the types of the unpacked tensors");
        t = FromTensor(m->second[i]);
      }
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

  uint32_t Loc(const jit::Node* n) {
    if (!options_.keep_locations) return 0;
    // A loaded module's nodes point into its serialized code; the range
    // that generated it is the model's own source.
    jit::SourceRange range = n->sourceRange();
    if (auto original = range.findSourceRangeThatGenerated()) range = *original;
    auto flc = range.file_line_col();
    if (!flc) return 0;
    const std::string& file = std::get<0>(*flc);
    return g_->InternLoc(absl::StrCat(file.substr(file.find_last_of('/') + 1), ":", std::get<1>(*flc)));
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

    // Result types.
    TypeList types;
    bool complete = true;
    for (const jit::Value* o : n->outputs()) {
      if (IsTensorType(o->type())) {
        std::optional<TensorType> t = FromTorchType(o->type());
        complete &= t.has_value();
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
    if (const OpSchema* gs = op->schema()) {
      if (absl::Status st = CheckArgs(op, args); !st.ok()) return NodeError(n, st.message());
      auto inferred = gs->shape_fn(OpCall(op, args));
      if (!inferred.ok()) return NodeError(n, inferred.status().message());
      if (complete && *inferred != types)
        return NodeError(n, absl::StrCat("TorchScript says its result is ", types[0].ToString(),
                                         " but graft's shape function computes ",
                                         (*inferred)[0].ToString()));
      types = *inferred;
    } else if (!complete) {
      GRAFT_RETURN_IF_ERROR(InferByMeta(n, args, types));
    }

    if (options_.drop_default_args) DropDefaults(op, schema, args);
    GRAFT_ASSIGN_OR_RETURN(Node * node, NewNode(n, op, args, types));
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
        if (!v.ok()) return NodeError(n, absl::StrCat("cannot infer its result type: ", v.status().message()));
        c10::IValue iv = *v;
        if (real) iv = ToReal(iv);
        stack.push_back(std::move(iv));
      }
      try {
        n->getOperation()(stack);
      } catch (const std::exception& e) {
        if (!real) continue;
        return NodeError(n, absl::StrCat("cannot infer its result type (running it on example "
                                         "tensors failed: ",
                                         FirstLine(e.what()), ")"));
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
        const Param& p = gs->params[i];
        bool is_default = p.default_value
                              ? (lit == p.default_value ||
                                 (lit->is_number() && p.default_value->is_number() &&
                                  lit->as_number() == p.default_value->as_number()))
                              : (p.kind == ParamKind::kOptionalTensor && lit->is_none());
        if (!is_default) break;
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
    if (track_) {
      // Outputs that went through a tuple built elsewhere cannot be patched.
      if (ret->kind() != c10::prim::Return && ret->kind() != c10::prim::TupleConstruct) in_place_ = false;
      output_slots_.push_back({const_cast<jit::Node*>(ret), index, a.value()});
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

  static bool Insertable(const c10::IValue& v) {
    return v.isInt() || v.isDouble() || v.isBool() || v.isString() || v.isIntList() ||
           v.isNone() || v.isTensor() || v.isDevice() || v.isDoubleList() || v.isBoolList();
  }

  // Moves a GetAttr chain ending in `n` before `before`.
  static void HoistGetAttr(jit::Node* n, jit::Node* before) {
    if (n->kind() != c10::prim::GetAttr || n->isBefore(before)) return;
    HoistGetAttr(n->input()->node(), before);
    n->moveBefore(before);
  }

  // ---- Tracking for WriteBack.
  void Track(Node* node, const jit::Node* n) {
    if (!track_) return;
    uint32_t offset = static_cast<uint32_t>(tracked_args_.size());
    for (int i = 0; i < node->num_args(); ++i) tracked_args_.push_back(node->arg(i));
    origin_.emplace(node, Origin{const_cast<jit::Node*>(n), offset});
    size_t u = n->outputs().empty() ? 0 : n->output(0)->unique();
    if (u >= tracked_outputs_.size()) tracked_outputs_.resize(u + u / 2 + 64, false);
    if (!n->outputs().empty()) tracked_outputs_[u] = true;
  }
  struct Origin {
    jit::Node* node;
    uint32_t args;  // offset of the import-time arguments in tracked_args_
  };
  struct OutputSlot {
    jit::Node* user;  // the return node or the returned TupleConstruct
    size_t index;
    Value* value;     // at import
  };

  const TorchScriptImportOptions& options_;
  bool track_ = false;
  bool in_place_ = true;
  std::unique_ptr<Graph> g_;
  std::vector<uint8_t> slots_;
  std::vector<Value*> values_;
  absl::flat_hash_map<std::string, OpInfo> op_infos_;
  absl::flat_hash_map<std::pair<const jit::Value*, bool>, const Literal*> literals_;
  absl::flat_hash_map<const Node*, Origin> origin_;
  std::vector<Arg> tracked_args_;
  std::vector<bool> tracked_outputs_;  // by jit::Value::unique() of a tracked node's output 0
  std::vector<jit::Value*> jit_inputs_;  // by graft input index; null for folded constants
  std::vector<OutputSlot> output_slots_;
  std::vector<std::pair<jit::Node*, size_t>> folded_ifs_;  // outer first
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

// ---------------------------------------------------------------- exporter

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
    if (n->num_args() > static_cast<int>(params.size()))
      return Error(g, n, absl::StrCat("has ", n->num_args(), " arguments; ", schema.name(),
                                      " takes ", params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      if (static_cast<int>(i) < n->num_args()) {
        Arg a = n->arg(static_cast<int>(i));
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
    if (uint32_t loc = n->loc()) jn->setSourceRange(SourceFor(g, loc));
    for (int i = 0; i < n->num_results(); ++i) {
      Value* r = n->result(i);
      // Unknown types are lists (aten::split's Tensor[]): the schema's type.
      jn->output(i)->setType(r->type().known() || unpack ? TypeOf(r->type())
                                                         : returns[i].type());
      SetName(jn->output(i), g.name(r));
      values_[r] = jn->output(i);
    }
    return absl::OkStatus();
  }

  // A source range for graft location `file:line`, so locations survive
  // export, torch.jit.save and import.
  jit::SourceRange SourceFor(const Graph& g, uint32_t loc) {
    auto it = sources_.find(loc);
    if (it != sources_.end()) return it->second;
    absl::string_view text = g.loc(loc);
    size_t colon = text.find_last_of(':');
    size_t line = 0;
    std::string file(text);
    if (colon != absl::string_view::npos && absl::SimpleAtoi(text.substr(colon + 1), &line)) {
      file = std::string(text.substr(0, colon));
    }
    auto source = std::make_shared<jit::Source>(std::string_view(" "), file, line);
    jit::SourceRange range(source, 0, 1);
    sources_.emplace(loc, range);
    return range;
  }

  static std::string SignatureOf(const jit::Node* n) {
    std::string key;
    uint32_t id = static_cast<uint32_t>(n->kind());
    key.append(reinterpret_cast<const char*>(&id), sizeof id);
    for (const jit::Value* in : n->inputs()) key.push_back(static_cast<char>(in->type()->kind()));
    return key;
  }

  const TorchScriptExportOptions& options_;
  absl::flat_hash_map<uint32_t, jit::SourceRange> sources_;
  std::shared_ptr<jit::Graph> jg_;
  std::function<absl::StatusOr<jit::Value*>(const Value*)> resolve_;
  absl::flat_hash_map<TensorType, c10::TypePtr> types_;
  absl::flat_hash_map<std::pair<const c10::FunctionSchema*, size_t>, jit::Value*> defaults_;
  absl::flat_hash_set<std::string> checked_;
  absl::flat_hash_map<const Value*, jit::Value*> values_;
  absl::flat_hash_map<const OpDef*, ExportOp> ops_;
  absl::flat_hash_map<std::pair<const Literal*, bool>, jit::Value*> constants_;
};

inline absl::Status Importer::WriteBack(const std::shared_ptr<jit::Graph>& jg, const Graph& g,
                                       const TorchScriptExportOptions& options) {
  if (!track_ || !in_place_)
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
  for (auto [node, branch] : folded_ifs_) {
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
  folded_ifs_.clear();
  // Graft nodes in order; for each new one, the TorchScript node it goes
  // before: that of the next imported node that survives (else return).
  std::vector<const Node*> order;
  for (const Node* n : g.nodes()) order.push_back(n);
  std::vector<jit::Node*> before(order.size(), nullptr);
  std::vector<const Origin*> origins(order.size(), nullptr);
  jit::Node* next = ret;
  for (size_t i = order.size(); i-- > 0;) {
    auto it = origin_.find(order[i]);
    if (it != origin_.end()) {
      next = it->second.node;
      origins[i] = &it->second;
    } else {
      before[i] = next;
    }
  }
  auto jit_of = [this](const Value* v) -> jit::Value* {
    if (v->is_input()) return v->index() < jit_inputs_.size() ? jit_inputs_[v->index()] : nullptr;
    auto it = origin_.find(v->def());
    return it == origin_.end() ? nullptr : it->second.node->output(v->index());
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
      if (!v || (!v->is_input() && !origin_.contains(v->def()))) continue;
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
  for (const auto& [node, origin] : origin_) {
    if (node->is_dead() && destroyed.insert(origin.node).second) dead.push_back(origin.node);
  }
  // Tracked TorchScript nodes are those whose first output graft bound.
  auto tracked = [this](const jit::Node* n) {
    return !n->outputs().empty() && n->output(0)->unique() < tracked_outputs_.size() &&
           tracked_outputs_[n->output(0)->unique()];
  };
  std::vector<jit::Node*> folded;  // users to replace by constants
  for (jit::Node* d : dead) {
    for (jit::Value* o : d->outputs()) {
      for (const jit::Use& u : o->uses()) {
        if (tracked(u.user) || u.user == ret) continue;
        if (u.user->kind() == c10::prim::TupleConstruct && u.user->output()->uses().size() == 1 &&
            u.user->output()->uses()[0].user == ret)
          continue;
        bool all_const = u.user->blocks().empty();
        for (const jit::Value* uo : u.user->outputs()) all_const &= IsConst(uo) && Insertable(consts_.at(uo));
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
      auto t = tensors_.find(std::string(g.original_name(v)));
      if (t == tensors_.end()) return absl::InternalError("lifted constant without a tensor");
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
    const Origin& origin = *origins[i];
    for (int a = 0; a < n->num_args(); ++a) {
      Arg now = n->arg(a);
      if (now == tracked_args_[origin.args + a] || !now.is_value()) continue;
      jg->setInsertPoint(origin.node);
      GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, exporter.Get(now.value()));
      origin.node->replaceInput(a, jv);
    }
  }
  for (size_t i = 0; i < output_slots_.size() && i < g.num_outputs(); ++i) {
    const OutputSlot& slot = output_slots_[i];
    if (g.output(i) == slot.value) continue;
    jg->setInsertPoint(slot.user);
    GRAFT_ASSIGN_OR_RETURN(jit::Value * jv, exporter.Get(g.output(i)));
    slot.user->replaceInput(slot.index, jv);
  }
  for (jit::Node* f : folded) {
    if (f->outputs().empty() || !destroyed.insert(f).second) continue;
    jg->setInsertPoint(f);
    for (jit::Value* o : f->outputs()) o->replaceAllUsesWith(jg->insertConstant(consts_.at(o)));
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

inline std::vector<std::string> AttrPath(const Graph& g, const Value* in) {
  std::string name(g.original_name(in));
  if (name.empty()) name = std::string(g.name(in));
  return absl::StrSplit(name, '.');
}

}  // namespace torchscript_internal

// ---------------------------------------------------------------- API

// Imports a TorchScript graph whose inputs are all tensors. Tensor constants
// become inputs of kind constant; the returned map holds their tensors.
inline absl::StatusOr<TorchScriptProgram> ImportTorchScriptProgram(
    const torch::jit::Graph& graph, const TorchScriptImportOptions& options = {}) {
  torchscript_internal::Importer importer(options);
  return importer.Run(graph, nullptr, "main");
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
  auto m = module.find_method(method);
  if (!m) return absl::NotFoundError(absl::StrCat("the module has no method '", method, "'"));
  std::string name = module.type()->name() ? module.type()->name()->name() : "main";
  torchscript_internal::Importer importer(options);
  try {
    return importer.Run(*m->graph(), &module, name);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("importing TorchScript: ", e.what()));
  }
}

// Exports `g` as a TorchScript graph taking every graft input (parameters
// included) as a graph input, in order; one output is returned as is,
// several as a tuple.
inline absl::StatusOr<std::shared_ptr<torch::jit::Graph>> ExportTorchScript(
    const Graph& g, const TorchScriptExportOptions& options = {}) {
  torchscript_internal::Exporter exporter(options);
  try {
    return exporter.Run(g, nullptr, nullptr);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exporting to TorchScript: ", e.what()));
  }
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
  try {
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
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exporting a TorchScript module: ", e.what()));
  }
}

// ---------------------------------------------------------------- in place

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
    return Make(std::move(graph), nullptr, options, "main");
  }
  // Imports method `method` of `module`, whose graph is then patched in
  // place (inlined first if it calls submodules). Rewrite before running the
  // module: libtorch keeps optimized copies of graphs it has run.
  static absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> ForModule(
      const torch::jit::Module& module, const TorchScriptImportOptions& options = {},
      const std::string& method = "forward") {
    auto m = module.find_method(method);
    if (!m) return absl::NotFoundError(absl::StrCat("the module has no method '", method, "'"));
    std::shared_ptr<torch::jit::Graph> graph = m->graph();
    std::string name = module.type()->name() ? module.type()->name()->name() : "main";
    auto out = Make(graph, &module, options, name);
    if (out.ok()) {
      (*out)->function_ = &torch::jit::toGraphFunction(m->function());
      (*out)->module_ = module;
    }
    return out;
  }

  Graph& graph() { return *program_.graph; }
  const TensorMap& tensors() const { return program_.tensors; }
  const std::shared_ptr<torch::jit::Graph>& torchscript_graph() const { return jit_graph_; }

  // Writes the rewrites back. FailedPrecondition (and nothing changed) when
  // the graph cannot be patched; export the graph instead then.
  absl::Status Commit(const TorchScriptExportOptions& options = {}) {
    try {
      GRAFT_RETURN_IF_ERROR(importer_->WriteBack(jit_graph_, *program_.graph, options));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("writing back to TorchScript: ",
                                              torchscript_internal::FirstLine(e.what())));
    }
    if (function_) function_->clear_optimized_graphs();
    return absl::OkStatus();
  }

 private:
  static absl::StatusOr<std::unique_ptr<TorchScriptInPlace>> Make(
      std::shared_ptr<torch::jit::Graph> graph, const torch::jit::Module* module,
      const TorchScriptImportOptions& options, std::string name) {
    auto out = std::unique_ptr<TorchScriptInPlace>(new TorchScriptInPlace);
    out->options_ = options;
    out->jit_graph_ = graph;
    try {
      if (torchscript_internal::Importer::NeedsInlining(*graph->block())) torch::jit::Inline(*graph);
      out->importer_ = std::make_unique<torchscript_internal::Importer>(out->options_, /*track=*/true);
      GRAFT_ASSIGN_OR_RETURN(out->program_, out->importer_->Run(*graph, module, std::move(name)));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("importing TorchScript: ",
                                              torchscript_internal::FirstLine(e.what())));
    }
    return out;
  }

  TorchScriptInPlace() = default;
  TorchScriptImportOptions options_;
  std::shared_ptr<torch::jit::Graph> jit_graph_;
  std::unique_ptr<torchscript_internal::Importer> importer_;
  TorchScriptProgram program_;
  torch::jit::GraphFunction* function_ = nullptr;
  torch::jit::Module module_;  // keeps the module alive with the graph
};

// ---------------------------------------------------------------- files

// A saved module's input types travel in this extra file of its archive
// (torch.jit.save(m, f, _extra_files={"graft_input_types": "i64[1, 128],
// f32[1, 1500, 384]"})): a loaded module's graph has lost them.
inline constexpr char kInputTypesExtraFile[] = "graft_input_types";

// Parses `i64[1, 128], f32[1, 1500, 384]`.
inline absl::StatusOr<std::vector<TensorType>> ParseTypeList(absl::string_view text,
                                                             absl::string_view where = "<types>") {
  TokenCursor in(text, where);
  std::vector<TensorType> types;
  while (in.tok().kind != Token::kEnd) {
    GRAFT_ASSIGN_OR_RETURN(TensorType t, ParseType(in));
    if (!t.known()) return in.Expected("a tensor type such as f32[1, 128]");
    types.push_back(t);
    if (!in.Accept(",")) break;
  }
  if (in.tok().kind != Token::kEnd) return in.Expected("',' or the end of the type list");
  return types;
}

inline std::string TypeListString(const Graph& g) {
  std::vector<std::string> types;
  for (Value* in : g.inputs()) {
    if (!g.is_constant(in)) types.push_back(in->type().ToString());
  }
  return absl::StrJoin(types, ", ");
}

// Reads a module saved by torch.jit.save (bytes of the archive) and imports
// its forward. Input types: `options` if given, else the archive's
// graft_input_types extra file.
inline absl::StatusOr<TorchScriptProgram> LoadTorchScript(const std::string& bytes,
                                                          TorchScriptImportOptions options = {},
                                                          absl::string_view where = "<module>") {
  torch::jit::Module module;
  torch::jit::ExtraFilesMap extra = {{kInputTypesExtraFile, ""}};
  try {
    std::istringstream stream(bytes);
    module = torch::jit::load(stream, c10::kCPU, extra);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a TorchScript archive (torch.jit.save): ", torchscript_internal::FirstLine(e.what())));
  }
  module.eval();
  if (options.input_types.empty() && options.example_inputs.empty() &&
      !extra[kInputTypesExtraFile].empty()) {
    auto types = ParseTypeList(extra[kInputTypesExtraFile],
                               absl::StrCat(where, ":", kInputTypesExtraFile));
    if (!types.ok()) return types.status();
    options.input_types = *types;
  }
  auto program = ImportTorchScriptModule(module, options);
  if (!program.ok())
    return absl::Status(program.status().code(), absl::StrCat(where, ": ", program.status().message()));
  return program;
}

// Reads a module saved by torch.jit.save for rewriting in place (see
// LoadTorchScript for the input types). Keeps the module.
struct TorchScriptModuleRewrite {
  torch::jit::Module module;
  std::unique_ptr<TorchScriptInPlace> rewrite;
  std::string input_types;  // as saved, for saving again
};

inline absl::StatusOr<TorchScriptModuleRewrite> LoadTorchScriptForRewrite(
    const std::string& bytes, TorchScriptImportOptions options = {},
    absl::string_view where = "<module>") {
  TorchScriptModuleRewrite out;
  torch::jit::ExtraFilesMap extra = {{kInputTypesExtraFile, ""}};
  try {
    std::istringstream stream(bytes);
    out.module = torch::jit::load(stream, c10::kCPU, extra);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a TorchScript archive (torch.jit.save): ", torchscript_internal::FirstLine(e.what())));
  }
  out.module.eval();
  out.input_types = extra[kInputTypesExtraFile];
  // Types given by the caller win over the archive's, and are saved with it.
  if (!options.input_types.empty() || !options.example_inputs.empty()) out.input_types.clear();
  else if (!out.input_types.empty()) {
    auto types = ParseTypeList(out.input_types, absl::StrCat(where, ":", kInputTypesExtraFile));
    if (!types.ok()) return types.status();
    options.input_types = *types;
  }
  auto rewrite = TorchScriptInPlace::ForModule(out.module, options);
  if (!rewrite.ok())
    return absl::Status(rewrite.status().code(), absl::StrCat(where, ": ", rewrite.status().message()));
  out.rewrite = std::move(*rewrite);
  if (out.input_types.empty()) out.input_types = TypeListString(out.rewrite->graph());
  return out;
}

// Commits the rewrite into the module and returns its torch.jit.save bytes;
// when the graph cannot be patched in place, exports it as a new module.
inline absl::StatusOr<std::string> SaveTorchScriptRewrite(TorchScriptModuleRewrite& r,
                                                          const TorchScriptExportOptions& options = {});

// Exports `g` as a module (ExportTorchScriptModule) and returns the bytes of
// its torch.jit.save archive, with the input types as an extra file.
inline absl::StatusOr<std::string> SaveTorchScript(const Graph& g, const TensorMap& tensors,
                                                   const TorchScriptExportOptions& options = {}) {
  GRAFT_ASSIGN_OR_RETURN(torch::jit::Module m,
                         ExportTorchScriptModule(g, tensors, options,
                                                 g.name().empty() ? "GraftModule" : g.name()));
  try {
    std::ostringstream out;
    m.save(out, {{kInputTypesExtraFile, TypeListString(g)}});
    return out.str();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving the TorchScript module: ",
                                            torchscript_internal::FirstLine(e.what())));
  }
}

inline absl::StatusOr<std::string> SaveTorchScriptRewrite(TorchScriptModuleRewrite& r,
                                                          const TorchScriptExportOptions& options) {
  absl::Status committed = r.rewrite->Commit(options);
  if (absl::IsFailedPrecondition(committed))
    return SaveTorchScript(r.rewrite->graph(), r.rewrite->tensors(), options);
  GRAFT_RETURN_IF_ERROR(committed);
  try {
    std::ostringstream out;
    r.module.save(out, {{kInputTypesExtraFile, r.input_types}});
    return out.str();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving the TorchScript module: ",
                                            torchscript_internal::FirstLine(e.what())));
  }
}

// Runs a TorchScript graph in libtorch's interpreter (no graph-executor
// optimizations, so numbers are those of the ops as written).
inline absl::StatusOr<std::vector<at::Tensor>> RunTorchScript(
    const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<at::Tensor>& inputs) {
  try {
    torch::jit::Code code(graph, "graft");
    torch::jit::InterpreterState state(code);
    torch::jit::Stack stack(inputs.begin(), inputs.end());
    state.run(stack);
    std::vector<at::Tensor> out;
    for (const c10::IValue& v : stack) {
      if (v.isTuple()) {
        for (const c10::IValue& e : v.toTupleRef().elements()) out.push_back(e.toTensor());
      } else {
        out.push_back(v.toTensor());
      }
    }
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(torchscript_internal::LastLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(torchscript_internal::LastLine(e.what()));
  }
}

// Runs a graft graph through libtorch: exports it and feeds `user_inputs` to
// its user inputs and `tensors` (by original name) to the others.
inline absl::StatusOr<std::vector<at::Tensor>> RunGraph(const Graph& g,
                                                        const std::vector<at::Tensor>& user_inputs,
                                                        const TensorMap& tensors = {}) {
  GRAFT_ASSIGN_OR_RETURN(auto jg, ExportTorchScript(g));
  std::vector<at::Tensor> inputs;
  size_t next = 0;
  for (Value* in : g.inputs()) {
    if (g.is_constant(in)) {
      std::string name(g.original_name(in));
      if (name.empty()) name = std::string(g.name(in));
      auto it = tensors.find(name);
      if (it == tensors.end())
        return absl::NotFoundError(absl::StrCat("no tensor given for %", g.name(in), " (\"", name, "\")"));
      inputs.push_back(it->second);
    } else {
      if (next >= user_inputs.size())
        return absl::InvalidArgumentError(absl::StrCat("the graph has more than ", user_inputs.size(), " user inputs"));
      inputs.push_back(user_inputs[next++]);
    }
  }
  if (next != user_inputs.size())
    return absl::InvalidArgumentError(absl::StrCat("given ", user_inputs.size(), " inputs for ", next, " user inputs"));
  return RunTorchScript(jg, inputs);
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_H_
