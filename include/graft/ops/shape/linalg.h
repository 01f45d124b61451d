// Shape functions of matrix products (mm, bmm, addmm, linear, matmul) and
// convolution.
#ifndef GRAFT_OPS_SHAPE_LINALG_H_
#define GRAFT_OPS_SHAPE_LINALG_H_

#include <algorithm>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

// mm: [n, k] x [k, m] -> [n, m].
inline absl::StatusOr<TypeList> Mm(const OpCall& c) {
  TensorType a = c.type(0), b = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedRank(c, a, 2, "self"));
  GRAFT_RETURN_IF_ERROR(NeedRank(c, b, 2, "mat2"));
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  if (!Compatible(a.dim(1), b.dim(0)))
    return c.Error(absl::StrCat("operand shapes ", a.ToString(), " and ", b.ToString(),
                                " do not chain (", a.dim(1).ToString(), " != ",
                                b.dim(0).ToString(), ")"));
  return One(TensorType::Get(*a.dtype(), {a.dim(0), b.dim(1)}));
}

// bmm: [b, n, k] x [b, k, m] -> [b, n, m].
inline absl::StatusOr<TypeList> Bmm(const OpCall& c) {
  TensorType a = c.type(0), b = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedRank(c, a, 3, "self"));
  GRAFT_RETURN_IF_ERROR(NeedRank(c, b, 3, "mat2"));
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  if (!Compatible(a.dim(0), b.dim(0)) || !Compatible(a.dim(2), b.dim(1)))
    return c.Error(absl::StrCat("operand shapes ", a.ToString(), " and ", b.ToString(),
                                " do not chain"));
  return One(TensorType::Get(*a.dtype(), {Unify(a.dim(0), b.dim(0)), a.dim(1), b.dim(2)}));
}

// addmm(self, mat1, mat2): mm(mat1, mat2) with self broadcast onto it.
inline absl::StatusOr<TypeList> Addmm(const OpCall& c) {
  TensorType self = c.type(0), a = c.type(1), b = c.type(2);
  GRAFT_RETURN_IF_ERROR(NeedRank(c, a, 2, "mat1"));
  GRAFT_RETURN_IF_ERROR(NeedRank(c, b, 2, "mat2"));
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  GRAFT_RETURN_IF_ERROR(SameDType(c, self, a));
  if (!Compatible(a.dim(1), b.dim(0)))
    return c.Error(absl::StrCat("mat1 ", a.ToString(), " and mat2 ", b.ToString(), " do not chain"));
  Dim out[] = {a.dim(0), b.dim(1)};
  GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, *self.shape(), out));
  if (s.size() != 2 || !Compatible(s[0], out[0]) || !Compatible(s[1], out[1]))
    return c.Error(absl::StrCat("self ", self.ToString(), " does not broadcast to ",
                                ShapeString(out)));
  return One(TensorType::Get(*a.dtype(), out));
}

// linear(input [..., in], weight [out, in] or [in], bias?) -> [..., out].
inline absl::StatusOr<TypeList> Linear(const OpCall& c) {
  TensorType x = c.type(0), w = c.type(1);
  if (*x.rank() < 1) return c.Error("input must have rank >= 1");
  if (*w.rank() != 1 && *w.rank() != 2)
    return c.Error(absl::StrCat("weight must have rank 1 or 2, got ", w.ToString()));
  GRAFT_RETURN_IF_ERROR(SameDType(c, x, w));
  if (!Compatible(x.dim(-1), w.dim(-1)))
    return c.Error(absl::StrCat("input ", x.ToString(), " and weight ", w.ToString(),
                                " disagree on in_features (", x.dim(-1).ToString(), " != ",
                                w.dim(-1).ToString(), ")"));
  Shape out(x.shape()->begin(), x.shape()->end() - 1);
  if (*w.rank() == 2) out.push_back(w.dim(0));
  if (!c.is_none(2)) {
    TensorType b = c.type(2);
    GRAFT_RETURN_IF_ERROR(SameDType(c, x, b));
    // torch computes that case as addmv, which refuses it.
    if (*w.rank() == 1 && *x.rank() > 1)
      return c.Error(absl::StrCat("a bias needs a rank-2 weight when the input ", x.ToString(),
                                  " has rank > 1"));
    GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, out, *b.shape()));
    // The bias is added into the output: it may broadcast, never widen it.
    bool widens = s.size() != out.size();
    for (size_t i = 0; !widens && i < s.size(); ++i) widens = !Compatible(s[i], out[i]);
    if (widens)
      return c.Error(absl::StrCat("bias ", b.ToString(), " does not broadcast to ",
                                  ShapeString(out)));
  }
  return One(TensorType::Get(*x.dtype(), out));
}

// matmul: torch.matmul's 1-D, 2-D and batched-broadcast cases.
inline absl::StatusOr<TypeList> Matmul(const OpCall& c) {
  TensorType a = c.type(0), b = c.type(1);
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  if (*a.rank() == 0 || *b.rank() == 0) return c.Error("both operands must have rank >= 1");
  Shape sa = *a.shape(), sb = *b.shape();
  bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  if (a_vec) sa.insert(sa.begin(), Dim(1));
  if (b_vec) sb.push_back(Dim(1));
  if (!Compatible(sa.back(), sb[sb.size() - 2]))
    return c.Error(absl::StrCat("operand shapes ", a.ToString(), " and ", b.ToString(),
                                " do not chain"));
  GRAFT_ASSIGN_OR_RETURN(
      Shape out, Broadcast(c, absl::MakeConstSpan(sa).subspan(0, sa.size() - 2),
                           absl::MakeConstSpan(sb).subspan(0, sb.size() - 2)));
  if (!a_vec) out.push_back(sa[sa.size() - 2]);
  if (!b_vec) out.push_back(sb.back());
  return One(TensorType::Get(*a.dtype(), out));
}

// convolution(input, weight, bias?, stride, padding, dilation, transposed,
// output_padding, groups): N-d convolution, channels first.
inline absl::StatusOr<TypeList> Convolution(const OpCall& c) {
  TensorType x = c.type(0), w = c.type(1);
  int spatial = *x.rank() - 2;
  if (spatial < 1 || *w.rank() != *x.rank())
    return c.Error(absl::StrCat("input ", x.ToString(), " and weight ", w.ToString(),
                                " must both have rank >= 3 and equal ranks"));
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> stride, IntsArg(c, 3));
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> padding, IntsArg(c, 4));
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> dilation, IntsArg(c, 5));
  GRAFT_ASSIGN_OR_RETURN(bool transposed, BoolArg(c, 6));
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> out_pad, IntsArg(c, 7));
  GRAFT_ASSIGN_OR_RETURN(int64_t groups, IntArg(c, 8));
  auto at = [](absl::Span<const int64_t> v, int i) -> int64_t {
    return v.size() == 1 ? v[0] : v[i];
  };
  // Checked before any arithmetic: a zero stride divides by zero, a short
  // list is read out of bounds. output_padding may be empty (no padding).
  auto fits = [spatial](absl::Span<const int64_t> v) {
    return v.size() == 1 || static_cast<int>(v.size()) == spatial;
  };
  if (!fits(stride) || !fits(padding) || !fits(dilation) || !(out_pad.empty() || fits(out_pad)))
    return c.Error("stride, padding, dilation and output_padding need one entry per spatial dim");
  for (int i = 0; i < spatial; ++i) {
    if (at(stride, i) < 1)
      return c.Error(absl::StrCat("stride must be >= 1, got ", c.lit(3)->ToString()));
    if (at(padding, i) < 0)
      return c.Error(absl::StrCat("padding must be >= 0, got ", c.lit(4)->ToString()));
    if (at(dilation, i) < 1)
      return c.Error(absl::StrCat("dilation must be >= 1, got ", c.lit(5)->ToString()));
    if (transposed && !out_pad.empty() &&
        (at(out_pad, i) < 0 || (at(out_pad, i) >= at(stride, i) &&
                                at(out_pad, i) >= at(dilation, i))))
      return c.Error(absl::StrCat("output_padding ", c.lit(7)->ToString(),
                                  " must be smaller than stride or dilation"));
  }
  if (groups < 1) return c.Error("groups must be >= 1");
  Shape out{x.dim(0)};
  Dim cin = x.dim(1);
  if (!transposed) {
    if (cin.is_static() && w.dim(1).is_static() &&
        CheckedMul(w.dim(1).size(), groups) != cin.size())  // overflow: never equal
      return c.Error(absl::StrCat("input channels ", cin.ToString(), " != weight ",
                                  w.ToString(), " in-channels x groups ", groups));
    if (w.dim(0).is_static() && w.dim(0).size() % groups != 0)
      return c.Error(absl::StrCat("weight ", w.ToString(),
                                  " out-channels are not divisible by groups ", groups));
    out.push_back(w.dim(0));
  } else {
    // A transposed weight is [in, out / groups, k...].
    if (!Compatible(cin, w.dim(0)))
      return c.Error(absl::StrCat("input channels ", cin.ToString(), " != weight ",
                                  w.ToString(), " dim 0 (", w.dim(0).ToString(), ")"));
    if (w.dim(1).is_static()) {
      std::optional<int64_t> cout = CheckedMul(w.dim(1).size(), groups);
      if (!cout)
        return c.Overflow(absl::StrCat("the output channel count (weight ", w.ToString(),
                                       " dim 1 x groups ", groups, ")"));
      out.push_back(Dim(*cout));
    } else {
      out.push_back(w.dim(1));
    }
  }
  if (!c.is_none(2)) {
    TensorType b = c.type(2);
    if (*b.rank() != 1 || !Compatible(b.dim(0), out[1]))
      return c.Error(absl::StrCat("bias ", b.ToString(), " does not match the ",
                                  out[1].ToString(), " output channels"));
  }
  for (int i = 0; i < spatial; ++i) {
    Dim in = x.dim(2 + i), k = w.dim(2 + i);
    if (!in.is_static() || !k.is_static()) {
      out.push_back(Dim::Symbol(absl::StrCat("conv_", in.ToString(), "_", i)));
      continue;
    }
    int64_t s = at(stride, i), p = at(padding, i), d = at(dilation, i);
    // Every step checked: padding, dilation and sizes are the file's numbers.
    std::optional<int64_t> o;
    std::optional<int64_t> kernel_span = CheckedMul(d, k.size() - 1);  // k >= 0, d >= 1
    std::optional<int64_t> two_p = CheckedMul(2, p);
    if (transposed) {
      o = CheckedAdd(CheckedAdd(CheckedSub(CheckedMul(in.size() - 1, s), two_p), kernel_span),
                     (out_pad.empty() ? 0 : at(out_pad, i)) + 1);  // out_pad < stride
    } else {
      // Floor division, as torch: C++ truncation would round a kernel that
      // overhangs the input by less than a stride up to one output element.
      std::optional<int64_t> span =
          CheckedSub(CheckedSub(CheckedAdd(in.size(), two_p), kernel_span), 1);
      o = CheckedAdd(CheckedFloorDiv(span, s), 1);
    }
    if (!o)
      return c.Overflow(absl::StrCat("the output size of spatial dim ", i, " (input ",
                                     in.ToString(), ", kernel ", k.ToString(), ", stride ", s,
                                     ", padding ", p, ", dilation ", d, ")"));
    // A transposed convolution may produce empty dims (padding eats
    // them), as long as one is not empty: torch's meta kernel's rule (off
    // cuDNN; its CPU kernels accept some more, refuse some fewer).
    if (*o < (transposed ? 0 : 1))
      return c.Error(absl::StrCat("output size ", *o, " is not positive"));
    out.push_back(Dim(*o));
  }
  if (transposed && std::all_of(out.begin() + 2, out.end(), [](Dim d) { return d == Dim(0); }))
    return c.Error(absl::StrCat("every spatial output size of ", ShapeString(out), " is 0"));
  return One(TensorType::Get(*x.dtype(), out));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_LINALG_H_
