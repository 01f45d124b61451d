// Shape and dtype functions of the catalogue's ops, written against ATen's
// semantics (broadcasting, -1 in view sizes, matmul's batching rules).
//
// A shape function sees an OpCall: the op and its arguments, with defaults
// from the schema filled in for trailing arguments the call left out. It
// returns the result types, or an error a person can act on ("mm: operand
// shapes f32[2, 3] and f32[4, 5] do not chain (3 != 4)").
//
// Symbolic dims: two dims are compatible when equal or when either is
// symbolic (torch.export has guarded them); a symbolic dim meeting a static
// one resolves to the static one.
#ifndef GRAFT_OPS_SHAPE_FUNCTIONS_H_
#define GRAFT_OPS_SHAPE_FUNCTIONS_H_

#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/graph.h"
#include "graft/ir/op.h"
#include "graft/ir/op_call.h"
#include "graft/ir/status.h"

namespace graft {

namespace shape {

inline bool Compatible(Dim a, Dim b) { return a == b || a.is_symbolic() || b.is_symbolic(); }
// The more informative of two compatible dims.
inline Dim Unify(Dim a, Dim b) { return a.is_static() ? a : b; }

inline std::string ShapeString(absl::Span<const Dim> s) {
  return absl::StrCat("[", absl::StrJoin(s, ", ", [](std::string* o, Dim d) { o->append(d.ToString()); }), "]");
}

// Normalizes a possibly negative dim index against `rank`.
inline absl::StatusOr<int> NormDim(const OpCall& c, int64_t d, int rank) {
  int r = rank == 0 ? 1 : rank;  // torch accepts dim 0 / -1 on scalars
  if (d < -r || d >= r)
    return c.Error(absl::StrCat("dim ", d, " out of range for rank ", rank));
  return static_cast<int>(d < 0 ? d + r : d);
}

// NumPy broadcasting of two shapes.
inline absl::StatusOr<Shape> Broadcast(const OpCall& c, absl::Span<const Dim> a,
                                       absl::Span<const Dim> b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    Dim da = i < n - a.size() ? Dim(1) : a[i - (n - a.size())];
    Dim db = i < n - b.size() ? Dim(1) : b[i - (n - b.size())];
    if (da == Dim(1)) {
      out[i] = db;
    } else if (db == Dim(1)) {
      out[i] = da;  // not Unify: a symbolic `da` must survive a size-1 `db`
    } else if (Compatible(da, db)) {
      out[i] = Unify(da, db);
    } else {
      return c.Error(absl::StrCat("shapes ", ShapeString(a), " and ", ShapeString(b),
                                  " do not broadcast"));
    }
  }
  return out;
}

inline absl::Status NeedRank(const OpCall& c, TensorType t, int rank, absl::string_view what) {
  if (!t.known()) return c.Error(absl::StrCat(what, " has an unknown type"));
  if (t.rank() != rank)
    return c.Error(absl::StrCat(what, " must have rank ", rank, ", got ", t.ToString()));
  return absl::OkStatus();
}

inline absl::Status NeedKnown(const OpCall& c, std::initializer_list<TensorType> ts) {
  for (TensorType t : ts)
    if (!t.known()) return c.Error("an operand has an unknown type");
  return absl::OkStatus();
}

inline absl::Status SameDType(const OpCall& c, TensorType a, TensorType b) {
  if (a.dtype() != b.dtype())
    return c.Error(absl::StrCat("dtypes differ: ", a.ToString(), " and ", b.ToString()));
  return absl::OkStatus();
}

inline TypeList One(TensorType t) { return TypeList{t}; }

// Same type as operand 0 (clone, relu, gelu, ...).
inline absl::StatusOr<TypeList> SameAsInput(const OpCall& c) {
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {c.type(0)}));
  return One(c.type(0));
}

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
  return One(TensorType::Get(a.dtype(), {a.dim(0), b.dim(1)}));
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
  return One(TensorType::Get(a.dtype(), {Unify(a.dim(0), b.dim(0)), a.dim(1), b.dim(2)}));
}

// addmm(self, mat1, mat2): mm(mat1, mat2) with self broadcast onto it.
inline absl::StatusOr<TypeList> Addmm(const OpCall& c) {
  TensorType self = c.type(0), a = c.type(1), b = c.type(2);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {self}));
  GRAFT_RETURN_IF_ERROR(NeedRank(c, a, 2, "mat1"));
  GRAFT_RETURN_IF_ERROR(NeedRank(c, b, 2, "mat2"));
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  GRAFT_RETURN_IF_ERROR(SameDType(c, self, a));
  if (!Compatible(a.dim(1), b.dim(0)))
    return c.Error(absl::StrCat("mat1 ", a.ToString(), " and mat2 ", b.ToString(), " do not chain"));
  Dim out[] = {a.dim(0), b.dim(1)};
  GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, self.shape(), out));
  if (s.size() != 2 || !Compatible(s[0], out[0]) || !Compatible(s[1], out[1]))
    return c.Error(absl::StrCat("self ", self.ToString(), " does not broadcast to ",
                                ShapeString(out)));
  return One(TensorType::Get(a.dtype(), out));
}

// linear(input [..., in], weight [out, in] or [in], bias?) -> [..., out].
inline absl::StatusOr<TypeList> Linear(const OpCall& c) {
  TensorType x = c.type(0), w = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {x, w}));
  if (x.rank() < 1) return c.Error("input must have rank >= 1");
  if (w.rank() != 1 && w.rank() != 2)
    return c.Error(absl::StrCat("weight must have rank 1 or 2, got ", w.ToString()));
  GRAFT_RETURN_IF_ERROR(SameDType(c, x, w));
  if (!Compatible(x.dim(-1), w.dim(-1)))
    return c.Error(absl::StrCat("input ", x.ToString(), " and weight ", w.ToString(),
                                " disagree on in_features (", x.dim(-1).ToString(), " != ",
                                w.dim(-1).ToString(), ")"));
  Shape out(x.shape().begin(), x.shape().end() - 1);
  if (w.rank() == 2) out.push_back(w.dim(0));
  if (!c.is_none(2)) {
    TensorType b = c.type(2);
    GRAFT_RETURN_IF_ERROR(NeedKnown(c, {b}));
    GRAFT_RETURN_IF_ERROR(SameDType(c, x, b));
    GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, out, b.shape()));
    // The bias is added into the output: it may broadcast, never widen it.
    bool widens = s.size() != out.size();
    for (size_t i = 0; !widens && i < s.size(); ++i) widens = !Compatible(s[i], out[i]);
    if (widens)
      return c.Error(absl::StrCat("bias ", b.ToString(), " does not broadcast to ",
                                  ShapeString(out)));
  }
  return One(TensorType::Get(x.dtype(), out));
}

// matmul: torch.matmul's 1-D, 2-D and batched-broadcast cases.
inline absl::StatusOr<TypeList> Matmul(const OpCall& c) {
  TensorType a = c.type(0), b = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {a, b}));
  GRAFT_RETURN_IF_ERROR(SameDType(c, a, b));
  if (a.rank() == 0 || b.rank() == 0) return c.Error("both operands must have rank >= 1");
  Shape sa(a.shape().begin(), a.shape().end()), sb(b.shape().begin(), b.shape().end());
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
  return One(TensorType::Get(a.dtype(), out));
}

// permute(self, dims): dims must be a permutation of the rank.
inline absl::StatusOr<TypeList> Permute(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  auto dims = c.ints(1);
  if (static_cast<int>(dims.size()) != t.rank())
    return c.Error(absl::StrCat("dims ", c.lit(1)->ToString(), " do not match rank ", t.rank()));
  Shape out(dims.size());
  std::vector<bool> seen(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, dims[i], t.rank()));
    if (seen[d]) return c.Error(absl::StrCat("dims ", c.lit(1)->ToString(), " repeat dim ", d));
    seen[d] = true;
    out[i] = t.dim(d);
  }
  return One(t.WithShape(out));
}

// t(self): transposes a rank-2 tensor; rank 0 and 1 pass through.
inline absl::StatusOr<TypeList> T(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  if (t.rank() > 2) return c.Error(absl::StrCat("expects rank <= 2, got ", t.ToString()));
  if (t.rank() < 2) return One(t);
  return One(t.WithShape({t.dim(1), t.dim(0)}));
}

// transpose(self, dim0, dim1).
inline absl::StatusOr<TypeList> Transpose(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  GRAFT_ASSIGN_OR_RETURN(int d0, NormDim(c, c.int_arg(1), t.rank()));
  GRAFT_ASSIGN_OR_RETURN(int d1, NormDim(c, c.int_arg(2), t.rank()));
  if (t.rank() == 0) return One(t);
  Shape out(t.shape().begin(), t.shape().end());
  std::swap(out[d0], out[d1]);
  return One(t.WithShape(out));
}

// view / reshape(self, size): row-major reinterpretation; one -1 inferred.
inline absl::StatusOr<TypeList> View(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  auto size = c.ints(1);
  Shape out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < size.size(); ++i) {
    if (size[i] == -1) {
      if (infer >= 0) return c.Error("only one dimension can be -1");
      infer = static_cast<int>(i);
      out.push_back(Dim(0));
    } else if (size[i] < 0) {
      return c.Error(absl::StrCat("invalid size ", size[i]));
    } else {
      // An int64 overflow would be UB and could fake a match; no tensor has
      // that many elements, so the size is simply invalid.
      std::optional<int64_t> product = CheckedMul(known, size[i]);
      if (!product)
        return c.Error(absl::StrCat("size ", c.lit(1)->ToString(), " is invalid for input ",
                                    t.ToString()));
      known = *product;
      out.push_back(Dim(size[i]));
    }
  }
  std::optional<int64_t> numel = t.numel();
  if (!numel && t.is_static())
    return c.Overflow(absl::StrCat("the element count of input ", t.ToString()));
  if (!numel) {
    if (infer >= 0) return c.Error("cannot infer -1 from a symbolic input shape");
    return One(t.WithShape(out));
  }
  if (infer >= 0) {
    if (known == 0 || *numel % known != 0)
      return c.Error(absl::StrCat("size ", c.lit(1)->ToString(), " is invalid for input ",
                                  t.ToString()));
    out[infer] = Dim(*numel / known);
  } else if (known != *numel) {
    return c.Error(absl::StrCat("size ", c.lit(1)->ToString(), " is invalid for input ",
                                t.ToString(), " of ", *numel, " elements"));
  }
  return One(t.WithShape(out));
}

// expand(self, size): broadcasts size-1 dims; -1 keeps a dim.
inline absl::StatusOr<TypeList> Expand(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  auto size = c.ints(1);
  if (static_cast<int>(size.size()) < t.rank())
    return c.Error(absl::StrCat("size ", c.lit(1)->ToString(), " has fewer dims than ",
                                t.ToString()));
  size_t lead = size.size() - t.rank();
  Shape out(size.size());
  for (size_t i = 0; i < size.size(); ++i) {
    // Dim(negative) would be read as a symbol.
    if (size[i] < -1)
      return c.Error(absl::StrCat("invalid size ", size[i], " in ", c.lit(1)->ToString()));
    if (i < lead) {
      if (size[i] < 0) return c.Error("-1 is not allowed in a new leading dimension");
      out[i] = Dim(size[i]);
      continue;
    }
    Dim have = t.dim(static_cast<int>(i - lead));
    if (size[i] == -1) {
      out[i] = have;
    } else if (have == Dim(1) || have == Dim(size[i]) || have.is_symbolic()) {
      out[i] = Dim(size[i]);
    } else {
      return c.Error(absl::StrCat("cannot expand ", t.ToString(), " to ", c.lit(1)->ToString()));
    }
  }
  return One(t.WithShape(out));
}

// _to_copy(self, *, dtype=None, ...): a copy, converted when dtype is given.
inline absl::StatusOr<TypeList> ToCopy(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  const Literal* dtype = c.lit(1);
  if (dtype && dtype->is_dtype()) return One(t.WithDType(dtype->as_dtype()));
  return One(t);
}

// Elementwise binary ops: broadcast shapes, promote dtypes (a 0-dim operand
// only promotes across categories, as in torch). `true_divide` makes
// integer division produce f32.
inline absl::StatusOr<TypeList> Binary(const OpCall& c, bool true_divide) {
  TensorType a = c.type(0), b = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {a, b}));
  GRAFT_ASSIGN_OR_RETURN(Shape s, Broadcast(c, a.shape(), b.shape()));
  DType d;
  if ((a.rank() == 0) != (b.rank() == 0)) {
    // torch's combine_categories (c10/core/ScalarType.h's result_type): the
    // 0-dim operand counts only when its category is higher.
    DType hi = (a.rank() == 0 ? b : a).dtype(), lo = (a.rank() == 0 ? a : b).dtype();
    if (IsComplex(hi)) {
      d = hi;
    } else if (IsComplex(lo)) {
      d = IsFloatingPoint(hi) ? PromoteTypes(hi, DType::kComplex32) : lo;
    } else if (IsFloatingPoint(hi)) {
      d = hi;
    } else if (hi == DType::kBool || IsFloatingPoint(lo)) {
      d = PromoteTypes(hi, lo);
    } else {
      d = hi;
    }
  } else {
    d = PromoteTypes(a.dtype(), b.dtype());
  }
  if (true_divide && IsIntegral(d, /*include_bool=*/true)) d = DType::kFloat32;
  return One(TensorType::Get(d, s));
}
inline absl::StatusOr<TypeList> Elementwise(const OpCall& c) { return Binary(c, false); }
inline absl::StatusOr<TypeList> Divide(const OpCall& c) { return Binary(c, true); }

// _softmax(self, dim, half_to_float).
inline absl::StatusOr<TypeList> Softmax(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, c.int_arg(1), t.rank()));
  (void)d;
  if (c.lit(2)->as_bool()) return One(t.WithDType(DType::kFloat32));
  return One(t);
}

// native_layer_norm(input, normalized_shape, weight?, bias?, eps) ->
// (out, mean, rstd); mean and rstd keep the leading dims and set the
// normalized ones to 1.
inline absl::StatusOr<TypeList> NativeLayerNorm(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {t}));
  auto norm = c.ints(1);
  int axis = t.rank() - static_cast<int>(norm.size());
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
    GRAFT_RETURN_IF_ERROR(NeedKnown(c, {w}));
    bool fits = w.rank() == static_cast<int>(norm.size());
    for (int i = 0; fits && i < w.rank(); ++i) fits = Compatible(w.dim(i), Dim(norm[i]));
    if (!fits)
      return c.Error(absl::StrCat(p == 2 ? "weight " : "bias ", w.ToString(),
                                  " does not match normalized_shape"));
  }
  Shape stat(t.shape().begin(), t.shape().begin() + axis);
  stat.resize(t.rank(), Dim(1));
  TensorType s = t.WithShape(stat);
  return TypeList{t, s, s};
}

// embedding(weight [n, d], indices [...]) -> [..., d].
inline absl::StatusOr<TypeList> Embedding(const OpCall& c) {
  TensorType w = c.type(0), idx = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedRank(c, w, 2, "weight"));
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {idx}));
  if (!IsIntegral(idx.dtype())) return c.Error(absl::StrCat("indices must be integral, got ", idx.ToString()));
  Shape out(idx.shape().begin(), idx.shape().end());
  out.push_back(w.dim(1));
  return One(TensorType::Get(w.dtype(), out));
}

// convolution(input, weight, bias?, stride, padding, dilation, transposed,
// output_padding, groups): N-d convolution, channels first.
inline absl::StatusOr<TypeList> Convolution(const OpCall& c) {
  TensorType x = c.type(0), w = c.type(1);
  GRAFT_RETURN_IF_ERROR(NeedKnown(c, {x, w}));
  int spatial = x.rank() - 2;
  if (spatial < 1 || w.rank() != x.rank())
    return c.Error(absl::StrCat("input ", x.ToString(), " and weight ", w.ToString(),
                                " must both have rank >= 3 and equal ranks"));
  auto stride = c.ints(3), padding = c.ints(4), dilation = c.ints(5), out_pad = c.ints(7);
  bool transposed = c.lit(6)->as_bool();
  int64_t groups = c.int_arg(8);
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
    GRAFT_RETURN_IF_ERROR(NeedKnown(c, {b}));
    if (b.rank() != 1 || !Compatible(b.dim(0), out[1]))
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
    if (*o <= 0) return c.Error(absl::StrCat("output size ", *o, " is not positive"));
    out.push_back(Dim(*o));
  }
  return One(TensorType::Get(x.dtype(), out));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_FUNCTIONS_H_
