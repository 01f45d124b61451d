// Checking a call against its op's schema and inferring its result types:
// what the builder does before creating a node and the verifier does for
// every node.
#ifndef GRAFT_OPS_INFER_H_
#define GRAFT_OPS_INFER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/ops/catalogue.h"
#include "graft/ops/shape_functions.h"

namespace graft {

constexpr absl::string_view ParamKindName(ParamKind k) {
  switch (k) {
    case ParamKind::kTensor: return "Tensor";
    case ParamKind::kOptionalTensor: return "Tensor?";
    case ParamKind::kInt: return "int";
    case ParamKind::kInts: return "int[]";
    case ParamKind::kFloat: return "float";
    case ParamKind::kScalar: return "Scalar";
    case ParamKind::kBool: return "bool";
    case ParamKind::kString: return "str";
    case ParamKind::kDType: return "ScalarType";
    case ParamKind::kAny: return "any";
  }
  return "?";
}

// Whether argument `a` fits parameter `p`.
inline bool ArgFits(const Param& p, Arg a) {
  if (a.is_null()) return false;
  if (a.is_value()) return IsTensorParam(p.kind);
  const Literal& l = *a.literal();
  if (l.is_none()) return p.optional || p.kind == ParamKind::kOptionalTensor ||
                          (p.default_value && p.default_value->is_none());
  switch (p.kind) {
    case ParamKind::kTensor:
    case ParamKind::kOptionalTensor: return false;
    case ParamKind::kInt: return l.is_int();
    case ParamKind::kInts: return l.is_ints();
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
  if (n > static_cast<int>(s->params.size()) || n < s->num_required())
    return absl::InvalidArgumentError(absl::StrCat(
        op->name(), " takes ", s->num_required(),
        s->num_required() == static_cast<int>(s->params.size())
            ? std::string()
            : absl::StrCat(" to ", s->params.size()),
        s->params.size() == 1 ? " argument" : " arguments", ", got ", n));
  for (int i = 0; i < n; ++i) {
    const Param& p = s->params[i];
    if (!ArgFits(p, args[i]))
      return absl::InvalidArgumentError(absl::StrCat(
          op->name(), " argument ", i, " (", p.name, ") expects ", ParamKindName(p.kind),
          p.optional ? "?" : "", ", got ",
          args[i].is_value() ? "a tensor"
          : args[i].is_null() ? "nothing"
                              : args[i].literal()->ToString()));
  }
  return absl::OkStatus();
}

// Result types of `op` applied to `args`, by the catalogue's shape function.
inline absl::StatusOr<TypeList> InferTypes(const OpDef* op, absl::Span<const Arg> args) {
  const OpSchema* s = op->schema();
  if (!s || !s->shape_fn)
    return absl::FailedPreconditionError(
        absl::StrCat(op->name(), " is not in the catalogue, so its result type is unknown"));
  GRAFT_RETURN_IF_ERROR(CheckArgs(op, args));
  return s->shape_fn(OpCall(op, args));
}

}  // namespace graft

#endif  // GRAFT_OPS_INFER_H_
