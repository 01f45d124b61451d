// A call of an op: the op and its arguments, checked against the op's schema
// and typed by the schema's shape function. What the builder does before
// creating a node, the verifier for every node, and the parsers for every
// call they read. Independent of which ops exist (graft/ops/ registers them).
#ifndef GRAFT_IR_OP_CALL_H_
#define GRAFT_IR_OP_CALL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graft/ir/graph.h"
#include "graft/ir/op.h"
#include "graft/ir/status.h"

namespace graft {

// What a shape function sees: the op and its arguments, with defaults from
// the schema filled in for trailing arguments the call left out. Indices
// are parameter indices: for an op with a tensor list (cat), list() is the
// run of operands and arg(i) of a later parameter skips over it.
class OpCall {
 public:
  OpCall(const OpDef* op, absl::Span<const Arg> args) : op_(op), args_(args) {}

  const OpDef* op() const { return op_; }
  absl::string_view name() const { return op_->base_name(); }
  // Parameter `i`'s argument, or the schema's default when the call left it
  // out (a null Arg for the list parameter: see list()).
  Arg arg(int i) const {
    const OpSchema* s = op_->schema();
    if (s) return s->ArgOrDefault(args_, i);
    return i < static_cast<int>(args_.size()) ? args_[i] : Arg();
  }
  // The operands of the tensor-list parameter (empty for an op without one).
  absl::Span<const Arg> list() const {
    const OpSchema* s = op_->schema();
    if (!s || !s->has_list()) return {};
    OpSchema::Run run = s->ListRun(static_cast<int>(args_.size()));
    return args_.subspan(run.first, run.count);
  }
  // How many arguments the call passes (a tensor list counts each tensor).
  int num_args() const { return static_cast<int>(args_.size()); }
  bool is_none(int i) const {
    Arg a = arg(i);
    return a.is_literal() && a.literal()->is_none();
  }
  // Type of tensor argument `i` (CheckArgs has checked the kinds).
  TensorType type(int i) const {
    Value* v = arg(i).value();
    return v ? v->type() : TensorType();
  }
  const Literal* lit(int i) const { return arg(i).literal(); }
  int64_t int_arg(int i) const { return lit(i)->as_int(); }
  absl::Span<const int64_t> ints(int i) const { return lit(i)->as_ints(); }

  absl::Status Error(absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat(name(), ": ", msg));
  }
  // A size formula whose value does not fit int64: no tensor has that many
  // elements, and a wrapped number could fake a match or become a bad Dim.
  absl::Status Overflow(absl::string_view quantity) const {
    return Error(absl::StrCat(quantity, " overflows int64"));
  }

 private:
  const OpDef* op_;
  absl::Span<const Arg> args_;
};

constexpr absl::string_view ParamKindName(ParamKind k) {
  switch (k) {
    case ParamKind::kTensor: return "Tensor";
    case ParamKind::kOptionalTensor: return "Tensor?";
    case ParamKind::kTensorList: return "Tensor[]";
    case ParamKind::kOptionalTensorList: return "Tensor?[]";
    case ParamKind::kInt: return "int";
    case ParamKind::kInts: return "int[]";
    case ParamKind::kFloat: return "float";
    case ParamKind::kFloats: return "float[]";
    case ParamKind::kScalar: return "Scalar";
    case ParamKind::kBool: return "bool";
    case ParamKind::kBools: return "bool[]";
    case ParamKind::kString: return "str";
    case ParamKind::kDType: return "ScalarType";
    case ParamKind::kAny: return "any";
  }
  return "?";
}

// Whether argument `a` fits parameter `p` (for a list parameter: whether it
// fits as one element of the run).
inline bool ArgFits(const Param& p, Arg a) {
  if (a.is_null()) return false;
  if (a.is_value()) return IsTensorParam(p.kind) || IsTensorListParam(p.kind);
  const Literal& l = *a.literal();
  if (l.is_none()) return p.optional || p.kind == ParamKind::kOptionalTensor ||
                          p.kind == ParamKind::kOptionalTensorList ||
                          (p.default_value && p.default_value->is_none());
  switch (p.kind) {
    case ParamKind::kTensor:
    case ParamKind::kOptionalTensor:
    case ParamKind::kTensorList:
    case ParamKind::kOptionalTensorList: return false;
    case ParamKind::kInt: return l.is_int();
    case ParamKind::kInts: return l.is_ints();
    // graft's literals have no float or bool lists: an int list is a float
    // list of whole numbers; a bool list can only be left at its default.
    case ParamKind::kFloats: return l.is_ints();
    case ParamKind::kBools: return false;
    case ParamKind::kFloat: return l.is_number();
    case ParamKind::kScalar: return l.is_number() || l.is_bool();
    case ParamKind::kBool: return l.is_bool();
    case ParamKind::kString: return l.is_string();
    case ParamKind::kDType: return l.is_dtype();
    case ParamKind::kAny: return true;
  }
  return false;
}

// Checks argument count and kinds against the schema (no-op for opaque ops).
inline absl::Status CheckArgs(const OpDef* op, absl::Span<const Arg> args) {
  const OpSchema* s = op->schema();
  if (!s) return absl::OkStatus();
  int n = static_cast<int>(args.size());
  int num_params = static_cast<int>(s->params.size());
  if (s->has_list()) {
    // Every parameter explicit, the list a run of any length.
    if (n < num_params - 1)
      return absl::InvalidArgumentError(absl::StrCat(
          op->name(), " takes its ", num_params - 1, " non-list arguments and a run of ",
          s->params[s->list_param].name, " operands, got ", n, " operands"));
  } else if (n > num_params || n < s->num_required()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op->name(), " takes ", s->num_required(),
        s->num_required() == num_params ? std::string() : absl::StrCat(" to ", num_params),
        num_params == 1 ? " argument" : " arguments", ", got ", n));
  }
  for (int i = 0; i < n; ++i) {
    int p = i;
    if (s->has_list()) {
      OpSchema::Run run = s->ListRun(n);
      p = i < run.first ? i : i < run.first + run.count ? s->list_param : i - run.count + 1;
    }
    const Param& param = s->params[p];
    if (!ArgFits(param, args[i]))
      return absl::InvalidArgumentError(absl::StrCat(
          op->name(), " argument ", i, " (", param.name,
          IsTensorListParam(param.kind) ? " element" : "", ") expects ",
          ParamKindName(param.kind), param.optional ? "?" : "", ", got ",
          args[i].is_value() ? "a tensor"
          : args[i].is_null() ? "nothing"
                              : args[i].literal()->ToString()));
  }
  return absl::OkStatus();
}

// Result types of a call of a catalogue op with a shape function whose
// arguments CheckArgs has accepted.
//
// Shape functions see only known operand types. When an operand's type is
// partial (a TorchScript module saved without shapes), every result type is
// fully unknown: the one sound rule, applied here once so that no shape
// function ever reads an unknown fact or claims one it cannot derive. Such a
// call is checked for argument kinds only; its shape errors, if any, surface
// once the types are known.
inline absl::StatusOr<TypeList> InferCheckedTypes(const OpDef* op, absl::Span<const Arg> args) {
  const OpSchema* s = op->schema();
  for (const Arg& a : args) {
    if (!a.is_value() || a.value()->type().known()) continue;
    if (s->num_results == OpSchema::kListResults)
      return absl::FailedPreconditionError(absl::StrCat(
          op->name(), " returns a list whose length depends on its operands' shapes, and ",
          "an operand's ", a.value()->type().FirstUnknownFact(), " is unknown"));
    return TypeList(s->num_results, TensorType());
  }
  return s->shape_fn(OpCall(op, args));
}

// Whether a node may declare `declared` for a result its shape function
// computes as `computed`: the same type when both are known; else any type
// that contradicts no computed fact. A declared type may know more than
// graft derives (TorchScript typed a result whose operands are partial) or
// less (an operand's type was refined after the node was made, by a rewrite
// that holds for any types: rewrite/rule.h); neither is unsound, as no
// unknown fact is ever used.
inline bool Refines(TensorType declared, TensorType computed) {
  if (declared == computed) return true;
  return (!declared.known() || !computed.known()) && MergeTypes(declared, computed).has_value();
}
inline bool Refines(absl::Span<const TensorType> declared, absl::Span<const TensorType> computed) {
  if (declared.size() != computed.size()) return false;
  for (size_t i = 0; i < declared.size(); ++i)
    if (!Refines(declared[i], computed[i])) return false;
  return true;
}

// Result types of `op` applied to `args` (see InferCheckedTypes).
inline absl::StatusOr<TypeList> InferTypes(const OpDef* op, absl::Span<const Arg> args) {
  const OpSchema* s = op->schema();
  if (!s)
    return absl::FailedPreconditionError(
        absl::StrCat(op->name(), " is not in the catalogue, so its result type is unknown"));
  if (!s->shape_fn)
    return absl::FailedPreconditionError(
        absl::StrCat("cannot build ", op->name(), ": graft has no shape function for it"));
  GRAFT_RETURN_IF_ERROR(CheckArgs(op, args));
  return InferCheckedTypes(op, args);
}

}  // namespace graft

#endif  // GRAFT_IR_OP_CALL_H_
