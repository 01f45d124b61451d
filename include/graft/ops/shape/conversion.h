// Shape functions of dtype conversions: _to_copy, and quantized_decomposed's
// quantize and dequantize ops.
#ifndef GRAFT_OPS_SHAPE_CONVERSION_H_
#define GRAFT_OPS_SHAPE_CONVERSION_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

// _to_copy(self, *, dtype=None, ...) and to.dtype(self, dtype, ...): a copy,
// converted when dtype is given.
inline absl::StatusOr<TypeList> ToCopy(const OpCall& c) {
  TensorType t = c.type(0);
  const Literal* dtype = c.lit(1);
  if (dtype && dtype->is_dtype()) return One(t.WithDType(dtype->as_dtype()));
  return One(t);
}

namespace conversion_internal {

// The per-channel ops' `axis` (the channel dim) must be a dim of the input.
inline absl::Status CheckAxis(const OpCall& c, TensorType t) {
  int axis = ParamIndex(c, "axis");
  if (axis < 0) return absl::OkStatus();
  GRAFT_ASSIGN_OR_RETURN(int64_t d, IntArg(c, axis));
  return NormDim(c, d, *t.rank()).status();
}

}  // namespace conversion_internal

namespace conversion_internal {

// What quantize and dequantize both read: the known input (the channel
// `axis`, where the op has one, a dim of it) and the quantized `dtype`.
struct QuantCall {
  TensorType input;
  DType dtype;
};
inline absl::StatusOr<QuantCall> ReadQuantCall(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(CheckAxis(c, t));
  std::optional<DType> dtype = DTypeParam(c, "dtype");
  if (!dtype) return c.Error("has no dtype argument");
  return QuantCall{t, *dtype};
}

}  // namespace conversion_internal

// quantized_decomposed's quantize_per_tensor (.default, .tensor) and
// quantize_per_channel: the input's shape in the `dtype` argument's type.
// The input must be f32, f16 or bf16.
inline absl::StatusOr<TypeList> Quantize(const OpCall& c) {
  GRAFT_ASSIGN_OR_RETURN(auto q, conversion_internal::ReadQuantCall(c));
  DType in = *q.input.dtype();
  if (in != DType::kFloat32 && in != DType::kFloat16 && in != DType::kBFloat16)
    return c.Error(absl::StrCat("input must be f32, f16 or bf16, got ", q.input.ToString()));
  return One(q.input.WithDType(q.dtype));
}

// quantized_decomposed's dequantize_per_tensor (.default, .tensor) and
// dequantize_per_channel: the input's shape in f32, or in the `out_dtype`
// argument's type when given. The input has the quantized `dtype`.
inline absl::StatusOr<TypeList> Dequantize(const OpCall& c) {
  GRAFT_ASSIGN_OR_RETURN(auto q, conversion_internal::ReadQuantCall(c));
  if (*q.input.dtype() != q.dtype)
    return c.Error(absl::StrCat("input ", q.input.ToString(),
                                " does not have the quantized dtype ", DTypeName(q.dtype)));
  std::optional<DType> out = DTypeParam(c, "out_dtype");
  if (!out) out = DTypeParam(c, "output_dtype");
  return One(q.input.WithDType(out.value_or(DType::kFloat32)));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_CONVERSION_H_
