// What the shape functions share: dim arithmetic (compatibility of symbolic
// dims, normalizing negative dims, broadcasting), operand checks, and
// torch's type promotion.
//
// A shape function sees only known operand types (every fact: dtype, rank,
// each dim): InferCheckedTypes (ir/op_call.h) answers for partial operands
// before calling it, so the families read facts with `*t.rank()` and need no
// checks of their own.
//
// Symbolic dims: two dims are compatible when equal or when either is
// symbolic (torch.export has guarded them); a symbolic dim meeting a static
// one resolves to the static one.
#ifndef GRAFT_OPS_SHAPE_COMMON_H_
#define GRAFT_OPS_SHAPE_COMMON_H_

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/dtype.h"
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
  if (*t.rank() != rank)
    return c.Error(absl::StrCat(what, " must have rank ", rank, ", got ", t.ToString()));
  return absl::OkStatus();
}

inline absl::Status SameDType(const OpCall& c, TensorType a, TensorType b) {
  if (*a.dtype() != *b.dtype())
    return c.Error(absl::StrCat("dtypes differ: ", a.ToString(), " and ", b.ToString()));
  return absl::OkStatus();
}

inline TypeList One(TensorType t) { return TypeList{t}; }

// ---- Literal arguments. A family reads its op's parameters by position;
// these give an error, not a crash, when the call has something else there
// (a family assigned to an op of another signature).

// Literal argument `i` when `is_kind` holds for it.
inline absl::StatusOr<const Literal*> LiteralArg(const OpCall& c, int i,
                                                 bool (Literal::*is_kind)() const,
                                                 absl::string_view kind) {
  const Literal* l = c.lit(i);
  if (l && (l->*is_kind)()) return l;
  const OpSchema* s = c.op()->schema();
  absl::string_view name =
      s && i < static_cast<int>(s->params.size()) ? s->params[i].name : absl::string_view("?");
  return c.Error(absl::StrCat("argument ", i, " (", name, ") must be ", kind, ", got ",
                              l                      ? l->ToString()
                              : c.arg(i).is_value() ? "a tensor"
                                                    : "nothing"));
}
inline absl::StatusOr<int64_t> IntArg(const OpCall& c, int i) {
  GRAFT_ASSIGN_OR_RETURN(const Literal* l, LiteralArg(c, i, &Literal::is_int, "an int"));
  return l->as_int();
}
inline absl::StatusOr<bool> BoolArg(const OpCall& c, int i) {
  GRAFT_ASSIGN_OR_RETURN(const Literal* l, LiteralArg(c, i, &Literal::is_bool, "a bool"));
  return l->as_bool();
}
inline absl::StatusOr<absl::Span<const int64_t>> IntsArg(const OpCall& c, int i) {
  GRAFT_ASSIGN_OR_RETURN(const Literal* l, LiteralArg(c, i, &Literal::is_ints, "an int list"));
  return l->as_ints();
}

// The index of the parameter called `name` in the call's schema, or -1.
// For arguments whose position differs between overloads of one family
// (`dtype` is argument 5 of quantize_per_tensor, 6 of quantize_per_channel).
inline int ParamIndex(const OpCall& c, absl::string_view name) {
  const OpSchema* s = c.op()->schema();
  if (!s) return -1;
  for (size_t i = 0; i < s->params.size(); ++i)
    if (s->params[i].name == name) return static_cast<int>(i);
  return -1;
}

// The dtype argument called `name` when the schema has it and the call
// gives one (not None).
inline std::optional<DType> DTypeParam(const OpCall& c, absl::string_view name) {
  int i = ParamIndex(c, name);
  const Literal* l = i < 0 ? nullptr : c.lit(i);
  if (l && l->is_dtype()) return l->as_dtype();
  return std::nullopt;
}

// ---- Type promotion (torch.result_type, c10's ResultTypeState).
//
// Operands count by priority: tensors with dims first, then 0-dim tensors,
// then Python scalars (the `Scalar` arguments of `.Scalar` overloads). A
// lower-priority operand changes the result only when its category (bool <
// integer < floating < complex) is higher, and a Python float then gives
// the default dtype f32, a Python int i64.

// c10's combine_categories: `higher` is the dtype of the higher-priority
// operands, `lower` of the others; either may be absent.
inline std::optional<DType> CombineCategories(std::optional<DType> higher,
                                              std::optional<DType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  DType hi = *higher, lo = *lower;
  if (IsComplex(hi)) return hi;
  if (IsComplex(lo)) return IsFloatingPoint(hi) ? PromoteTypes(hi, DType::kComplex32) : lo;
  if (IsFloatingPoint(hi)) return hi;
  if (hi == DType::kBool || IsFloatingPoint(lo)) return PromoteTypes(hi, lo);
  return hi;
}

// The promoted dtype of the call's arguments `args` (tensors, Scalar
// literals, None for an absent optional Scalar); the tensors must have
// known types.
inline absl::StatusOr<DType> ResultType(const OpCall& c, std::initializer_list<int> args) {
  std::optional<DType> dimensioned, zero_dim, wrapped;
  auto add = [](std::optional<DType>& state, DType d) {
    state = state ? PromoteTypes(*state, d) : d;
  };
  for (int i : args) {
    Arg a = c.arg(i);
    if (a.is_value()) {
      TensorType t = a.value()->type();
      add(*t.rank() == 0 ? zero_dim : dimensioned, *t.dtype());
    } else if (const Literal* l = a.literal(); l && l->is_number()) {
      add(wrapped, l->is_int() ? DType::kInt64 : DType::kFloat32);
    } else if (l && l->is_bool()) {
      add(wrapped, DType::kBool);
    }  // else an absent optional Scalar (None)
  }
  std::optional<DType> d = CombineCategories(CombineCategories(dimensioned, zero_dim), wrapped);
  if (!d) return c.Error("has no tensor or number operand to take a dtype from");
  return *d;
}

// The shape of argument `i`: a tensor's, or [] for a Scalar.
inline absl::Span<const Dim> ShapeOf(const OpCall& c, int i) {
  Arg a = c.arg(i);
  if (a.is_value()) return *a.value()->type().shape();
  return {};
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_COMMON_H_
