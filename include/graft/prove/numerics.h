// Running a rewrite's graph before and after through libtorch and comparing
// the outputs: what graft-opt --prove and the catalogue's per-case check
// (tests/interop/numerical_check.h) both judge a rewrite by.
//
// Outputs must have the same shapes and dtypes, the same NaNs and
// infinities, and agree within
//   max|after - before| <= tol(dtype) * max(1, max|before|) + 2 * rounding
// where tol = 1e-5 (f32), 1e-2 (f16), 2e-2 (bf16), 1e-12 (f64), 0 (integer
// and bool outputs: exact), and `rounding` is, for f16/bf16 outputs, how far
// the graph before itself is from its own float64 evaluation
// (max|before - before_f64|): a reassociated low-precision sum may differ by
// about as much as the original's own rounding error, which no fixed
// tolerance fits across sizes and magnitudes.
#ifndef GRAFT_PROVE_NUMERICS_H_
#define GRAFT_PROVE_NUMERICS_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graft/interop/torchscript.h"
#include "graft/ir/graph.h"

namespace graft {
namespace prove {

inline double Tolerance(DType d) {
  switch (d) {
    case DType::kFloat16: return 1e-2;
    case DType::kBFloat16: return 2e-2;
    case DType::kFloat64: return 1e-12;
    case DType::kFloat32: return 1e-5;
    default: return IsFloatingPoint(d) ? 1e-5 : 0;
  }
}

// How a graph's inputs are filled.
struct InputOptions {
  int64_t symbol_value = 1;     // the size every symbolic dim takes
  int64_t batch_factor = 1;     // the leading dim of every user input, times this
  bool non_contiguous = false;  // a transposed or strided view of the same shape
};

// The tensors for a graph's inputs: user inputs in order, the others by name.
struct Inputs {
  std::vector<at::Tensor> user;
  TensorMap named;
};

namespace numerics_internal {

inline at::Tensor RandomTensor(std::vector<int64_t> sizes, DType dtype, bool non_contiguous,
                               at::Generator& gen) {
  auto type = static_cast<c10::ScalarType>(dtype);
  auto make = [&](const std::vector<int64_t>& s) {
    if (IsFloatingPoint(dtype))
      return at::randn(s, gen, at::TensorOptions().dtype(at::kFloat)).to(type);
    if (dtype == DType::kBool)
      return at::randint(0, 2, s, gen, at::TensorOptions().dtype(at::kLong)).to(at::kBool);
    // Small non-negative ints: valid indices for any lookup table here, and
    // in range of every quantized dtype.
    return at::randint(0, 4, s, gen, at::TensorOptions().dtype(at::kLong)).to(type);
  };
  if (!non_contiguous || sizes.empty()) return make(sizes);
  size_t r = sizes.size();
  if (r >= 2 && sizes[r - 1] > 1 && sizes[r - 2] > 1) {
    std::vector<int64_t> swapped = sizes;
    std::swap(swapped[r - 1], swapped[r - 2]);
    return make(swapped).transpose(-1, -2);
  }
  // A stride-2 view along the last dim.
  std::vector<int64_t> doubled = sizes;
  doubled[r - 1] *= 2;
  return make(doubled).slice(-1, 0, doubled[r - 1], 2);
}

// An output's dtype and sizes in graft's spelling (`f32[2, 3]`), as the
// instance's graphs print them.
inline std::string TypeOf(const at::Tensor& t) {
  return absl::StrCat(DTypeName(static_cast<DType>(t.scalar_type())), "[",
                      absl::StrJoin(t.sizes(), ", "), "]");
}

inline at::Tensor Widened(const at::Tensor& t) {
  return at::isFloatingType(t.scalar_type()) ? t.to(at::kDouble) : t;
}

}  // namespace numerics_internal

// Random tensors for `g`'s inputs (standard normal floats, small ints).
inline Inputs RandomInputs(const Graph& g, at::Generator& gen, const InputOptions& o = {}) {
  Inputs out;
  for (Value* in : g.inputs()) {
    std::vector<int64_t> sizes;
    // Sampled instances have known types; a rank nobody knows gives a scalar.
    if (const Shape* shape = in->type().shape())
      for (Dim d : *shape) sizes.push_back(d.is_static() ? d.size() : o.symbol_value);
    bool user = !g.is_constant(in);
    if (user && o.batch_factor > 1 && !sizes.empty()) sizes[0] *= o.batch_factor;
    at::Tensor t =
        numerics_internal::RandomTensor(sizes, in->type().dtype().value_or(DType::kFloat32),
                                       o.non_contiguous, gen);
    if (user) {
      out.user.push_back(t);
    } else {
      std::string name(g.original_name(in));
      out.named[name.empty() ? std::string(g.name(in)) : name] = t;
    }
  }
  return out;
}

// The same inputs with every float tensor widened to float64.
inline Inputs Widened(const Inputs& in) {
  Inputs out;
  for (const at::Tensor& t : in.user) out.user.push_back(numerics_internal::Widened(t));
  for (const auto& [name, t] : in.named) out.named[name] = numerics_internal::Widened(t);
  return out;
}

inline absl::StatusOr<std::vector<at::Tensor>> Run(const Graph& g, const Inputs& in) {
  return RunGraph(g, in.user, in.named);
}

// How far apart two runs are: the worst output element, relative to the
// output's magnitude, and whether that is within what is allowed.
struct Comparison {
  double error = 0;    // max|after - before| / max(1, max|before|), worst output
  double allowed = 0;  // the same scale: tol(dtype) + 2 * rounding / max(1, max|before|)
  int output = -1;     // the worst output, its element's index and values
  std::vector<int64_t> index;
  double after = 0, before = 0;
  std::string mismatch;  // shapes, dtypes, NaNs or infinities differ: why
  bool ok() const { return mismatch.empty() && error <= allowed; }
  std::string ToString() const {
    if (!mismatch.empty()) return mismatch;
    return absl::StrFormat(
        "worst error %.3g at output %d [%s]: after %.6g, before %.6g (allowed %.3g, relative to "
        "max(1, max|before|))",
        error, output, absl::StrJoin(index, ", "), after, before, allowed);
  }
};

// Compares `got` (the graph after) with `want` (before). `want_f64`, if
// not empty, is the graph before run on the inputs widened to float64: the
// reference that measures low-precision rounding (file comment).
inline absl::StatusOr<Comparison> Compare(const std::vector<at::Tensor>& got,
                                          const std::vector<at::Tensor>& want,
                                          const std::vector<at::Tensor>& want_f64 = {}) {
  Comparison c;
  if (got.size() != want.size()) {
    c.mismatch = absl::StrCat("after returns ", got.size(), " outputs, before ", want.size());
    return c;
  }
  return torchscript_internal::CatchTorch([&]() -> absl::StatusOr<Comparison> {
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].sizes() != want[i].sizes() || got[i].scalar_type() != want[i].scalar_type()) {
        c.mismatch = absl::StrCat("output ", i, ": after gives ", numerics_internal::TypeOf(got[i]),
                                  ", before ", numerics_internal::TypeOf(want[i]));
        return c;
      }
      if (want[i].numel() == 0) continue;
      at::Tensor a = got[i].to(at::kDouble), b = want[i].to(at::kDouble);
      at::Tensor nan_a = a.isnan(), nan_b = b.isnan();
      if (!at::equal(nan_a, nan_b)) {
        c.mismatch = absl::StrCat("output ", i, ": NaNs differ");
        return c;
      }
      a = a.masked_fill(nan_a, 0);
      b = b.masked_fill(nan_b, 0);
      at::Tensor inf_b = b.isinf();
      if (!at::equal(a.masked_select(inf_b), b.masked_select(inf_b))) {
        c.mismatch = absl::StrCat("output ", i, ": infinities differ");
        return c;
      }
      a = a.masked_fill(inf_b, 0);
      b = b.masked_fill(inf_b, 0);
      double scale = std::max(1.0, b.abs().max().item<double>());
      DType dtype = static_cast<DType>(want[i].scalar_type());
      double rounding = 0;
      if ((dtype == DType::kFloat16 || dtype == DType::kBFloat16) && i < want_f64.size() &&
          want_f64[i].sizes() == want[i].sizes()) {
        at::Tensor r = want_f64[i].to(at::kDouble);
        rounding = (b - r.masked_fill(r.isnan() | r.isinf(), 0)).abs().max().item<double>();
      }
      double allowed = Tolerance(dtype) + 2 * rounding / scale;
      at::Tensor diff = (a - b).abs();
      int64_t flat = diff.argmax().item<int64_t>();
      double error = diff.reshape({-1})[flat].item<double>() / scale;
      // The output that breaks its allowance most decides; among those that
      // keep it, the one with the largest error is reported.
      bool worse = c.output < 0 || (error - allowed) > (c.error - c.allowed);
      if (!worse) continue;
      c.error = error;
      c.allowed = allowed;
      c.output = static_cast<int>(i);
      c.index.clear();
      for (int64_t d = want[i].dim() - 1, rest = flat; d >= 0; --d) {
        c.index.insert(c.index.begin(), rest % want[i].size(d));
        rest /= want[i].size(d);
      }
      c.after = a.reshape({-1})[flat].item<double>();
      c.before = b.reshape({-1})[flat].item<double>();
    }
    return c;
  }, "comparing outputs");
}

}  // namespace prove
}  // namespace graft

#endif  // GRAFT_PROVE_NUMERICS_H_
