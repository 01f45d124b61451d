// Shape functions of reductions (sum, mean, amax, amin), arg-reductions
// (argmax, argmin) and softmax.
#ifndef GRAFT_OPS_SHAPE_REDUCTION_H_
#define GRAFT_OPS_SHAPE_REDUCTION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

namespace reduction_internal {

// The input's shape with the dims in `reduced` set to 1 (keepdim) or
// removed.
inline Shape Reduce(TensorType t, const std::vector<bool>& reduced, bool keepdim) {
  Shape out;
  for (int i = 0; i < *t.rank(); ++i) {
    if (!reduced[i])
      out.push_back(t.dim(i));
    else if (keepdim)
      out.push_back(Dim(1));
  }
  return out;
}

// A dim that is statically 0 cannot be reduced by an op without an
// identity (max of nothing).
inline absl::Status NeedNonEmpty(const OpCall& c, TensorType t, int dim) {
  if (*t.rank() > 0 && t.dim(dim) == Dim(0))
    return c.Error(absl::StrCat("cannot reduce dim ", dim, " of size 0 of ", t.ToString(),
                                " (there is no identity)"));
  return absl::OkStatus();
}

}  // namespace reduction_internal

// sum.dim_IntList / mean.dim (self, dim?, keepdim, *, dtype?) and amax / amin
// (self, dim=[], keepdim): the dims listed (None or [] = all) are reduced.
// sum accumulates integers and bools in i64; mean needs a floating result;
// amax and amin keep the dtype and need the reduced dims non-empty.
inline absl::StatusOr<TypeList> Reduction(const OpCall& c) {
  TensorType t = c.type(0);
  const Literal* dim = c.lit(1);
  if (!dim || !(dim->is_none() || dim->is_ints()))
    return LiteralArg(c, 1, &Literal::is_ints, "an int list or None").status();
  GRAFT_ASSIGN_OR_RETURN(bool keepdim, BoolArg(c, 2));
  bool all = dim->is_none() || dim->as_ints().empty();
  std::vector<bool> reduced(*t.rank(), all);
  if (!all) {
    std::vector<bool> seen(std::max(*t.rank(), 1));
    for (int64_t d : dim->as_ints()) {
      GRAFT_ASSIGN_OR_RETURN(int n, NormDim(c, d, *t.rank()));
      if (seen[n]) return c.Error(absl::StrCat("dim ", n, " appears twice in ", dim->ToString()));
      seen[n] = true;
      if (*t.rank() > 0) reduced[n] = true;
    }
  }
  bool has_identity = c.name() == "sum" || c.name() == "mean";
  for (int i = 0; i < *t.rank() && !has_identity; ++i)
    if (reduced[i]) GRAFT_RETURN_IF_ERROR(reduction_internal::NeedNonEmpty(c, t, i));
  DType d = *t.dtype();
  std::optional<DType> explicit_dtype = DTypeParam(c, "dtype");
  if (explicit_dtype) {
    d = *explicit_dtype;
  } else if (c.name() == "sum" && IsIntegral(d, /*include_bool=*/true)) {
    d = DType::kInt64;
  }
  if (c.name() == "mean" && !IsFloatingPoint(d) && !IsComplex(d))
    return c.Error(absl::StrCat("needs a floating-point ",
                                explicit_dtype ? "dtype argument" : "input", ", got ",
                                DTypeName(d)));
  return One(TensorType::Get(d, reduction_internal::Reduce(t, reduced, keepdim)));
}

// argmax / argmin (self, dim?, keepdim) -> i64: the index along `dim`, or
// into the flattened input when dim is None (keepdim then keeps every dim
// as 1).
inline absl::StatusOr<TypeList> ArgReduction(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(bool keepdim, BoolArg(c, 2));
  std::vector<bool> reduced(*t.rank(), true);
  if (c.is_none(1)) {
    std::optional<int64_t> numel = t.numel();
    if (numel && *numel == 0)
      return c.Error(absl::StrCat("needs a dim for the empty input ", t.ToString()));
  } else {
    GRAFT_ASSIGN_OR_RETURN(int64_t dim, IntArg(c, 1));
    GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, dim, *t.rank()));
    GRAFT_RETURN_IF_ERROR(reduction_internal::NeedNonEmpty(c, t, d));
    reduced.assign(*t.rank(), false);
    if (*t.rank() > 0) reduced[d] = true;
  }
  return One(TensorType::Get(DType::kInt64, reduction_internal::Reduce(t, reduced, keepdim)));
}

// _softmax / _log_softmax (self, dim, half_to_float): the input's type, or
// f32 when half_to_float converts an f16 input (or a bf16 one, for
// _softmax only).
inline absl::StatusOr<TypeList> Softmax(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(int64_t dim, IntArg(c, 1));
  GRAFT_RETURN_IF_ERROR(NormDim(c, dim, *t.rank()).status());
  GRAFT_ASSIGN_OR_RETURN(bool half_to_float, BoolArg(c, 2));
  if (!half_to_float) return One(t);
  bool bf16_ok = c.name() == "_softmax";
  if (*t.dtype() != DType::kFloat16 && !(bf16_ok && *t.dtype() == DType::kBFloat16))
    return c.Error(absl::StrCat("half_to_float needs an f16", bf16_ok ? " or bf16" : "",
                                " input, got ", t.ToString()));
  return One(t.WithDType(DType::kFloat32));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_REDUCTION_H_
