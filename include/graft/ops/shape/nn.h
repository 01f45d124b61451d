// Shape functions of normalization and lookup ops (native_layer_norm,
// embedding).
#ifndef GRAFT_OPS_SHAPE_NN_H_
#define GRAFT_OPS_SHAPE_NN_H_

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

// native_layer_norm(input, normalized_shape, weight?, bias?, eps) ->
// (out, mean, rstd); mean and rstd keep the leading dims and set the
// normalized ones to 1.
inline absl::StatusOr<TypeList> NativeLayerNorm(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> norm, IntsArg(c, 1));
  int axis = *t.rank() - static_cast<int>(norm.size());
  if (norm.empty() || axis < 0)
    return c.Error(absl::StrCat("normalized_shape ", c.lit(1)->ToString(),
                                " does not fit input ", t.ToString()));
  for (size_t i = 0; i < norm.size(); ++i) {
    // Dim(negative) would be read as a symbol and match anything.
    if (norm[i] < 0 || !Compatible(t.dim(axis + static_cast<int>(i)), Dim(norm[i])))
      return c.Error(absl::StrCat("normalized_shape ", c.lit(1)->ToString(),
                                  " does not match the trailing dims of ", t.ToString()));
  }
  for (int p : {2, 3}) {
    if (c.is_none(p)) continue;
    TensorType w = c.type(p);
    bool fits = *w.rank() == static_cast<int>(norm.size());
    for (int i = 0; fits && i < *w.rank(); ++i) fits = Compatible(w.dim(i), Dim(norm[i]));
    if (!fits)
      return c.Error(absl::StrCat(p == 2 ? "weight " : "bias ", w.ToString(),
                                  " does not match normalized_shape"));
  }
  Shape stat(t.shape()->begin(), t.shape()->begin() + axis);
  stat.resize(*t.rank(), Dim(1));
  TensorType s = t.WithShape(stat);
  return TypeList{t, s, s};
}

// embedding(weight [n, d], indices [...]) -> [..., d].
inline absl::StatusOr<TypeList> Embedding(const OpCall& c) {
  TensorType w = c.type(0), idx = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedRank(c, w, 2, "weight"));
  if (!IsIntegral(*idx.dtype())) return c.Error(absl::StrCat("indices must be integral, got ", idx.ToString()));
  Shape out = *idx.shape();
  out.push_back(w.dim(1));
  return One(TensorType::Get(*w.dtype(), out));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_NN_H_
