// Shape functions of layout and view ops: permute, t, transpose, view,
// expand, squeeze, unsqueeze, slice, select, cat. Their edge-dialect
// `_copy` forms share them.
#ifndef GRAFT_OPS_SHAPE_LAYOUT_H_
#define GRAFT_OPS_SHAPE_LAYOUT_H_

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/op_call.h"
#include "graft/ops/shape/common.h"

namespace graft {
namespace shape {

// permute(self, dims): dims must be a permutation of the rank.
inline absl::StatusOr<TypeList> Permute(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> dims, IntsArg(c, 1));
  if (static_cast<int>(dims.size()) != *t.rank())
    return c.Error(absl::StrCat("dims ", c.lit(1)->ToString(), " do not match rank ", *t.rank()));
  Shape out(dims.size());
  std::vector<bool> seen(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, dims[i], *t.rank()));
    if (seen[d]) return c.Error(absl::StrCat("dims ", c.lit(1)->ToString(), " repeat dim ", d));
    seen[d] = true;
    out[i] = t.dim(d);
  }
  return One(t.WithShape(out));
}

// t(self): transposes a rank-2 tensor; rank 0 and 1 pass through.
inline absl::StatusOr<TypeList> T(const OpCall& c) {
  TensorType t = c.type(0);
  if (*t.rank() > 2) return c.Error(absl::StrCat("expects rank <= 2, got ", t.ToString()));
  if (*t.rank() < 2) return One(t);
  return One(t.WithShape({t.dim(1), t.dim(0)}));
}

// transpose(self, dim0, dim1).
inline absl::StatusOr<TypeList> Transpose(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(int64_t dim0, IntArg(c, 1));
  GRAFT_ASSIGN_OR_RETURN(int64_t dim1, IntArg(c, 2));
  GRAFT_ASSIGN_OR_RETURN(int d0, NormDim(c, dim0, *t.rank()));
  GRAFT_ASSIGN_OR_RETURN(int d1, NormDim(c, dim1, *t.rank()));
  if (*t.rank() == 0) return One(t);
  Shape out = *t.shape();
  std::swap(out[d0], out[d1]);
  return One(t.WithShape(out));
}

// view / reshape(self, size): row-major reinterpretation; one -1 inferred.
inline absl::StatusOr<TypeList> View(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> size, IntsArg(c, 1));
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
  GRAFT_ASSIGN_OR_RETURN(absl::Span<const int64_t> size, IntsArg(c, 1));
  if (static_cast<int>(size.size()) < *t.rank())
    return c.Error(absl::StrCat("size ", c.lit(1)->ToString(), " has fewer dims than ",
                                t.ToString()));
  size_t lead = size.size() - *t.rank();
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

// squeeze.dim (self, dim), squeeze.dims (self, dims) and squeeze.default
// (self: every dim): removes the listed dims that have size 1; others stay.
// A symbolic dim stays (torch.export specializes sizes 0 and 1, so a
// symbol is never 1).
inline absl::StatusOr<TypeList> Squeeze(const OpCall& c) {
  TensorType t = c.type(0);
  std::vector<bool> listed(std::max(*t.rank(), 1), c.arg(1).is_null());
  if (!c.arg(1).is_null()) {
    const Literal* dims = c.lit(1);
    if (!dims || !(dims->is_int() || dims->is_ints()))
      return LiteralArg(c, 1, &Literal::is_ints, "an int or an int list").status();
    std::vector<int64_t> ds;
    if (dims->is_int())
      ds.push_back(dims->as_int());
    else
      ds.assign(dims->as_ints().begin(), dims->as_ints().end());
    for (int64_t d : ds) {
      GRAFT_ASSIGN_OR_RETURN(int n, NormDim(c, d, *t.rank()));
      if (listed[n]) return c.Error(absl::StrCat("dim ", n, " appears twice in ", dims->ToString()));
      listed[n] = true;
    }
  }
  Shape out;
  for (int i = 0; i < *t.rank(); ++i)
    if (!listed[i] || t.dim(i) != Dim(1)) out.push_back(t.dim(i));
  return One(t.WithShape(out));
}

// unsqueeze(self, dim): inserts a dim of size 1 before `dim`, which may
// also be the rank (append).
inline absl::StatusOr<TypeList> Unsqueeze(const OpCall& c) {
  TensorType t = c.type(0);
  GRAFT_ASSIGN_OR_RETURN(int64_t d, IntArg(c, 1));
  if (d < -*t.rank() - 1 || d > *t.rank())
    return c.Error(absl::StrCat("dim ", d, " out of range for inserting into rank ", *t.rank()));
  if (d < 0) d += *t.rank() + 1;
  Shape out = *t.shape();
  out.insert(out.begin() + d, Dim(1));
  return One(t.WithShape(out));
}

namespace layout_internal {

// A symbol for a size computed by an op from a symbolic size: the same for
// the same inputs (the verifier re-infers it), distinct for different ones.
// `sizes` and `params` are what it is computed from; the name must
// be an identifier, so a minus is spelt `m`.
inline Dim DerivedSymbol(absl::string_view op, std::initializer_list<Dim> sizes,
                         std::initializer_list<int64_t> params) {
  std::string name(op);
  for (Dim d : sizes) absl::StrAppend(&name, "_", d.ToString());
  for (int64_t p : params) {
    // -(p + 1) + 1 as unsigned: the magnitude, also of INT64_MIN.
    if (p < 0)
      absl::StrAppend(&name, "_m", static_cast<uint64_t>(-(p + 1)) + 1);
    else
      absl::StrAppend(&name, "_", p);
  }
  return Dim::Symbol(name);
}

}  // namespace layout_internal

// slice.Tensor (self, dim=0, start?, end?, step=1): as Python's slicing, a
// negative start or end counts from the end, and out-of-range ones are
// clamped to the dim (so [100:] is empty, not an error).
inline absl::StatusOr<TypeList> Slice(const OpCall& c) {
  TensorType t = c.type(0);
  if (*t.rank() == 0) return c.Error("cannot slice a 0-dim tensor");
  GRAFT_ASSIGN_OR_RETURN(int64_t dim, IntArg(c, 1));
  GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, dim, *t.rank()));
  GRAFT_ASSIGN_OR_RETURN(int64_t step, IntArg(c, 4));
  if (step < 1) return c.Error(absl::StrCat("step must be positive, got ", step));
  int64_t start = 0, end = std::numeric_limits<int64_t>::max();  // None: the whole dim
  if (!c.is_none(2)) {
    GRAFT_ASSIGN_OR_RETURN(start, IntArg(c, 2));
  }
  if (!c.is_none(3)) {
    GRAFT_ASSIGN_OR_RETURN(end, IntArg(c, 3));
  }
  Shape out = *t.shape();
  Dim size = t.dim(d);
  if (!size.is_static()) {
    // Whole-dim slices keep the symbol; others get one derived from it.
    if (start != 0 || end != std::numeric_limits<int64_t>::max() || step != 1)
      out[d] = layout_internal::DerivedSymbol("slice", {size}, {start, end, step});
    return One(t.WithShape(out));
  }
  int64_t n = size.size();
  // start and end are >= INT64_MIN and n >= 0: adding n cannot overflow.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  int64_t len = end - start;
  out[d] = Dim(len / step + (len % step != 0));
  return One(t.WithShape(out));
}

// select.int (self, dim, index): removes `dim`; the index must be inside it
// (negative counts from the end).
inline absl::StatusOr<TypeList> Select(const OpCall& c) {
  TensorType t = c.type(0);
  if (*t.rank() == 0) return c.Error("cannot select from a 0-dim tensor");
  GRAFT_ASSIGN_OR_RETURN(int64_t dim, IntArg(c, 1));
  GRAFT_ASSIGN_OR_RETURN(int d, NormDim(c, dim, *t.rank()));
  GRAFT_ASSIGN_OR_RETURN(int64_t index, IntArg(c, 2));
  Dim size = t.dim(d);
  if (size.is_static() && (index < -size.size() || index >= size.size()))
    return c.Error(absl::StrCat("index ", index, " out of range for dim ", d, " of ",
                                t.ToString()));
  Shape out = *t.shape();
  out.erase(out.begin() + d);
  return One(t.WithShape(out));
}

namespace layout_internal {

// cat's arguments: its tensor list (the run of operands OpCall::list()
// gives) and its dim (parameter 1, after the run).
struct CatArgs {
  absl::Span<const Arg> tensors;
  Arg dim;
};
inline CatArgs ReadCatArgs(const OpCall& c) { return {c.list(), c.arg(1)}; }

}  // namespace layout_internal

// cat.default (tensors: Tensor[], dim=0): all tensors have one rank and
// agree on every dim but `dim`, whose sizes add up; the dtype is their
// promoted one. As torch does for old code, a 1-D tensor of size 0 is
// skipped whatever the others' rank.
inline absl::StatusOr<TypeList> Cat(const OpCall& c) {
  layout_internal::CatArgs args = layout_internal::ReadCatArgs(c);
  int n = static_cast<int>(args.tensors.size());
  if (n < 1) return c.Error("needs a non-empty list of tensors");
  const Literal* dim_arg = args.dim.literal();
  if (!dim_arg || !dim_arg->is_int())
    return c.Error("the dim must be an int");
  std::optional<TensorType> first;  // the first tensor not skipped
  std::optional<DType> dtype;
  Shape out;
  int d = 0;
  for (int i = 0; i < n; ++i) {
    if (!args.tensors[i].is_value())
      return c.Error(absl::StrCat("argument ", i, " is not a tensor"));
    TensorType t = args.tensors[i].value()->type();
    if (*t.rank() == 0)
      return c.Error(absl::StrCat("cannot concatenate the 0-dim tensor ", t.ToString(),
                                  " (argument ", i, ")"));
    // Promotion over all of them, as torch.result_type of the list: one
    // category of operands (a 0-dim tensor is refused above).
    dtype = dtype ? PromoteTypes(*dtype, *t.dtype()) : *t.dtype();
    if (*t.rank() == 1 && t.dim(0) == Dim(0)) continue;
    if (!first) {
      first = t;
      GRAFT_ASSIGN_OR_RETURN(d, NormDim(c, dim_arg->as_int(), *t.rank()));
      out = *t.shape();
      continue;
    }
    if (*t.rank() != *first->rank())
      return c.Error(absl::StrCat("tensors ", first->ToString(), " and ", t.ToString(),
                                  " (argument ", i, ") differ in rank"));
    for (int j = 0; j < *t.rank(); ++j) {
      if (j == d) continue;
      if (!Compatible(out[j], t.dim(j)))
        return c.Error(absl::StrCat("tensors ", first->ToString(), " and ", t.ToString(),
                                    " (argument ", i, ") differ in dim ", j));
      out[j] = Unify(out[j], t.dim(j));
    }
    if (out[d].is_static() && t.dim(d).is_static()) {
      std::optional<int64_t> sum = CheckedAdd(out[d].size(), t.dim(d).size());
      if (!sum) return c.Overflow(absl::StrCat("the size of the concatenated dim ", d));
      out[d] = Dim(*sum);
    } else {
      out[d] = layout_internal::DerivedSymbol("cat", {out[d], t.dim(d)}, {});
    }
  }
  if (!first) return One(TensorType::Get(*dtype, {Dim(0)}));  // only skipped tensors
  return One(TensorType::Get(*dtype, out));
}

}  // namespace shape
}  // namespace graft

#endif  // GRAFT_OPS_SHAPE_LAYOUT_H_
