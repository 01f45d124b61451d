// Shape functions of elementwise ops: unary (same type, float result, bool
// result), binary with broadcasting and torch's type promotion (Tensor and
// Scalar overloads), comparisons, and where.
#ifndef GRAFT_OPS_SHAPE_ELEMENTWISE_H_
#define GRAFT_OPS_SHAPE_ELEMENTWISE_H_

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

namespace elementwise_internal {

// Unary ops whose kernels refuse some dtypes that the rest of the family
// takes: torch refuses them on every device, so graft must too.
struct DTypeRefusal {
  absl::string_view op;  // base name
  bool bool_input;       // refuses bool
  bool integral_input;   // refuses integers (their float-valued defaults
                         // such as leaky_relu's negative_slope=0.01 do not
                         // convert)
};
inline constexpr DTypeRefusal kRefusals[] = {
    {"neg", true, false},  // torch suggests `~` / logical_not for bools
    {"hardtanh", true, false},
    {"relu6", true, false},  // hardtanh(0, 6)
    {"elu", true, true},
    {"leaky_relu", true, true},
};

inline absl::Status CheckInputDType(const OpCall& c, TensorType t) {
  for (const DTypeRefusal& r : kRefusals) {
    if (r.op != c.name()) continue;
    if ((r.bool_input && *t.dtype() == DType::kBool) ||
        (r.integral_input && IsIntegral(*t.dtype())))
      return c.Error(absl::StrCat("does not take ", DTypeTorchName(*t.dtype()), " input ",
                                  t.ToString()));
  }
  // Clamping to a negative bound makes no sense for unsigned values.
  if (c.name() == "hardtanh" && *t.dtype() == DType::kUInt8) {
    const Literal* min_val = c.lit(1);
    if (min_val && min_val->is_number() && min_val->as_number() < 0)
      return c.Error(absl::StrCat("min_val ", min_val->ToString(), " is negative for the unsigned ",
                                  t.ToString()));
  }
  return absl::OkStatus();
}

// Broadcasts the shapes of arguments `a` and `b` (tensors or Scalars).
inline absl::StatusOr<Shape> BroadcastArgs(const OpCall& c, int a, int b) {
  return Broadcast(c, ShapeOf(c, a), ShapeOf(c, b));
}

// clamp(self, min?, max?): its bounds are Scalars that promote as a binary
// op's second operand does (clamp of i32 by 0.5 is f32, of bool by 0 is
// i64); one of them must be given.
inline absl::StatusOr<TypeList> Clamp(const OpCall& c, TensorType t) {
  if (c.is_none(1) && c.is_none(2)) return c.Error("needs min or max");
  GRAFT_ASSIGN_OR_RETURN(DType d, ResultType(c, {0, 1, 2}));
  return One(t.WithDType(d));
}

}  // namespace elementwise_internal

// Same type as operand 0 (clone, relu, gelu, hardtanh, ...); clamp's
// Scalar bounds promote it.
inline absl::StatusOr<TypeList> SameAsInput(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(elementwise_internal::CheckInputDType(c, t));
  if (c.name() == "clamp") return elementwise_internal::Clamp(c, t);
  return One(t);
}

// Unary math whose result is floating point (sigmoid, exp, sqrt, ...):
// integer and bool inputs give the default dtype f32.
inline absl::StatusOr<TypeList> UnaryFloat(const OpCall& c) {
  TensorType t = c.type(0);
  if (IsIntegral(*t.dtype(), /*include_bool=*/true)) return One(t.WithDType(DType::kFloat32));
  return One(t);
}

// Unary predicates (isnan, isinf, logical_not): a bool of the same shape.
inline absl::StatusOr<TypeList> UnaryBool(const OpCall& c) {
  TensorType t = c.type(0);
  return One(t.WithDType(DType::kBool));
}

// Binary arithmetic (add, sub, mul, maximum, ...; `.Tensor` and `.Scalar`
// overloads): broadcast shapes, promoted dtype.
inline absl::StatusOr<TypeList> Elementwise(const OpCall& c) {
  GRAFT_ASSIGN_OR_RETURN(Shape s, elementwise_internal::BroadcastArgs(c, 0, 1));
  GRAFT_ASSIGN_OR_RETURN(DType d, ResultType(c, {0, 1}));
  // torch's sub_check: there is no bool subtraction.
  if (c.name() == "sub" && d == DType::kBool)
    return c.Error("bool subtraction is not supported (use logical_xor)");
  // A float alpha cannot scale an integer result. As torch's meta kernels
  // (torch._refs.add), only the Tensor overloads check it; the eager
  // kernels also refuse it in the Scalar ones, and a bool alpha with a
  // non-bool result.
  int alpha = ParamIndex(c, "alpha");
  if (alpha >= 0 && c.arg(1).is_value() && c.lit(alpha) && c.lit(alpha)->is_float() &&
      IsIntegral(d))
    return c.Error(absl::StrCat("alpha ", c.lit(alpha)->ToString(),
                                " is not an integer, and the result is ", DTypeName(d)));
  return One(TensorType::Get(d, s));
}

// div: true division (integers and bools give f32), or the promoted dtype
// when a rounding_mode ("floor", "trunc") is given; torch has no floor
// division of bools.
inline absl::StatusOr<TypeList> Divide(const OpCall& c) {
  GRAFT_ASSIGN_OR_RETURN(Shape s, elementwise_internal::BroadcastArgs(c, 0, 1));
  GRAFT_ASSIGN_OR_RETURN(DType d, ResultType(c, {0, 1}));
  int mode = ParamIndex(c, "rounding_mode");
  bool rounds = mode >= 0 && c.lit(mode) && c.lit(mode)->is_string();
  if (rounds && c.lit(mode)->as_string() == "floor" && d == DType::kBool)
    return c.Error("bool has no floor division");
  if (!rounds && IsIntegral(d, /*include_bool=*/true)) d = DType::kFloat32;
  return One(TensorType::Get(d, s));
}

// Comparisons and logical ops (eq, lt, logical_and, ...; Tensor and Scalar
// overloads): broadcast shapes, bool result.
inline absl::StatusOr<TypeList> Comparison(const OpCall& c) {
  GRAFT_ASSIGN_OR_RETURN(Shape s, elementwise_internal::BroadcastArgs(c, 0, 1));
  return One(TensorType::Get(DType::kBool, s));
}

// where.self(condition, self, other): the three shapes broadcast together;
// the dtype is self's and other's promoted; the condition must be bool.
inline absl::StatusOr<TypeList> Where(const OpCall& c) {
  if (c.arg(0).is_value() && *c.type(0).dtype() != DType::kBool)
    return c.Error(absl::StrCat("condition must be bool, got ", c.type(0).ToString()));
  GRAFT_ASSIGN_OR_RETURN(Shape values, elementwise_internal::BroadcastArgs(c, 1, 2));
  GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, ShapeOf(c, 0), values));
  GRAFT_ASSIGN_OR_RETURN(DType d, ResultType(c, {1, 2}));
  return One(TensorType::Get(d, s));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_ELEMENTWISE_H_
