// The numerical proof of a rewrite: the graph before and the graph after a
// rule runs through libtorch on random inputs and must agree.
//
// For one positive rule case (patterns/*.cases) CheckCaseNumerics runs these
// variants, each on several seeds:
//   - dtype: the case as written (f32), and re-instantiated with every f32
//     replaced by f16 and by bf16; the rule is applied again to the
//     re-instantiated graph (a rule that no longer fires is a skip);
//   - layout: contiguous inputs, and non-contiguous ones (a transposed or
//     strided view with the same shape);
//   - batch: the case's shapes, and the leading dim of every user input
//     times 3 (symbolic dims are bound to 1 and to 3) where the graph before
//     accepts that at run time;
//   - seeds: 3 (1 below f32 for cases with over 4M input elements, where
//     half-precision GEMMs on CPU take seconds);
// Outputs must have the same shapes and dtypes and agree within
//   max|after - before| <= tol(dtype) * max(1, max|before|)
// with tol = 1e-5 (f32), 1e-2 (f16), 2e-2 (bf16): the difference of
// reassociated sums, scaled to the outputs' magnitude.
//
// A variant the graph *before* cannot run (an op without a half kernel on
// CPU, a view that does not fit a bigger batch) is skipped and reported; the
// case as written at f32 must run. A graph after that fails where the graph
// before ran, or disagrees, is a failure.
#ifndef GRAFT_TESTS_INTEROP_NUMERICAL_CHECK_H_
#define GRAFT_TESTS_INTEROP_NUMERICAL_CHECK_H_

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "graft/driver/driver.h"
#include "graft/interop/torchscript.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/rules/test_cases.h"

namespace graft {
namespace numerics {

struct Options {
  std::vector<uint64_t> seeds = {1, 2, 3};
  std::vector<DType> dtypes = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};
  bool non_contiguous = true;
  bool scaled_batch = true;
};

inline double Tolerance(DType d) {
  switch (d) {
    case DType::kFloat16: return 1e-2;
    case DType::kBFloat16: return 2e-2;
    case DType::kFloat64: return 1e-12;
    default: return 1e-5;
  }
}

struct Variant {
  std::string name;  // "f16 seed=2 non-contiguous batch*3"
  bool ran = false;
  std::string skipped;  // why it did not run
  double error = 0;     // max|after - before| / max(1, max|before|)
  double tol = 0;
};

struct Report {
  std::string rule, title;
  std::vector<Variant> variants;
  absl::Status status;  // the first failure
  double seconds = 0;
  int ran() const {
    int n = 0;
    for (const Variant& v : variants) n += v.ran;
    return n;
  }
  int ran(absl::string_view dtype) const {
    int n = 0;
    for (const Variant& v : variants) n += v.ran && absl::StartsWith(v.name, dtype);
    return n;
  }
  double worst(absl::string_view dtype) const {
    double e = 0;
    for (const Variant& v : variants) {
      if (v.ran && absl::StartsWith(v.name, dtype)) e = std::max(e, v.error);
    }
    return e;
  }
};

namespace internal {

inline std::vector<int64_t> Sizes(TensorType t, int64_t symbol_value) {
  std::vector<int64_t> s;
  for (Dim d : t.shape()) s.push_back(d.is_static() ? d.size() : symbol_value);
  return s;
}

inline at::Tensor RandomTensor(std::vector<int64_t> sizes, DType dtype, bool non_contiguous,
                               at::Generator& gen) {
  auto type = static_cast<c10::ScalarType>(dtype);
  auto make = [&](const std::vector<int64_t>& s) {
    at::Tensor t;
    if (IsFloatingPoint(dtype)) {
      t = at::randn(s, gen, at::TensorOptions().dtype(at::kFloat)).to(type);
    } else if (dtype == DType::kBool) {
      t = at::randint(0, 2, s, gen, at::TensorOptions().dtype(at::kLong)).to(at::kBool);
    } else {
      // Small non-negative ints: valid indices for any lookup table here.
      t = at::randint(0, 4, s, gen, at::TensorOptions().dtype(at::kLong)).to(type);
    }
    return t;
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

// Max |a - b| / max(1, max|b|), or an error for mismatched shapes/dtypes.
inline absl::StatusOr<double> Compare(const std::vector<at::Tensor>& got,
                                      const std::vector<at::Tensor>& want) {
  if (got.size() != want.size())
    return absl::FailedPreconditionError(
        absl::StrCat("after returns ", got.size(), " outputs, before ", want.size()));
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].sizes() != want[i].sizes() || got[i].scalar_type() != want[i].scalar_type())
      return absl::FailedPreconditionError(absl::StrCat(
          "output ", i, ": after gives ", c10::toString(got[i].scalar_type()), "[",
          absl::StrJoin(got[i].sizes(), ", "), "], before ", c10::toString(want[i].scalar_type()),
          "[", absl::StrJoin(want[i].sizes(), ", "), "]"));
    if (want[i].numel() == 0) continue;
    at::Tensor a = got[i].to(at::kDouble), b = want[i].to(at::kDouble);
    at::Tensor nan_a = a.isnan(), nan_b = b.isnan();
    if (!at::equal(nan_a, nan_b))
      return absl::FailedPreconditionError(absl::StrCat("output ", i, ": NaNs differ"));
    a = a.masked_fill(nan_a, 0);
    b = b.masked_fill(nan_b, 0);
    at::Tensor inf_b = b.isinf();
    if (!at::equal(a.masked_select(inf_b), b.masked_select(inf_b)))
      return absl::FailedPreconditionError(absl::StrCat("output ", i, ": infinities differ"));
    a = a.masked_fill(inf_b, 0);
    b = b.masked_fill(inf_b, 0);
    double scale = std::max(1.0, b.abs().max().item<double>());
    worst = std::max(worst, (a - b).abs().max().item<double>() / scale);
  }
  return worst;
}

inline std::string DTypeLabel(DType d) { return std::string(DTypeName(d)); }

}  // namespace internal

// Checks one positive case of `rules` numerically; see the file comment.
inline Report CheckCaseNumerics(const RuleSet& rules, const rules::RuleCase& c,
                                const Options& options = {}) {
  Report report;
  auto start = std::chrono::steady_clock::now();
  struct Timer {
    Report& r;
    std::chrono::steady_clock::time_point start;
    ~Timer() { r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
  } timer{report, start};
  report.rule = c.rule;
  report.title = c.title;
  auto fail = [&report, &c](const std::string& msg) {
    if (report.status.ok())
      report.status = absl::FailedPreconditionError(
          absl::StrCat(c.pos.ToString(), ": case \"", c.title, "\" (", c.rule, "): ", msg));
  };
  if (!c.fires) {
    fail("is not a positive case");
    return report;
  }
  const std::string text = Print(*c.before);
  for (DType dtype : options.dtypes) {
    const std::string label = internal::DTypeLabel(dtype);
    std::string variant_text =
        dtype == DType::kFloat32
            ? text
            : absl::StrReplaceAll(text, {{"f32[", absl::StrCat(DTypeName(dtype), "[")},
                                         {"float32", std::string(DTypeTorchName(dtype))}});
    auto before = ParseGraph(variant_text, Ops(), "<case>");
    auto after = ParseGraph(variant_text, Ops(), "<case>");
    if (!before.ok() || !after.ok()) {
      if (dtype == DType::kFloat32) {
        fail(absl::StrCat("the case does not read back: ", before.status().message()));
        return report;
      }
      report.variants.push_back({label, false, "does not type-check at this dtype"});
      continue;
    }
    DriverOptions driver;
    driver.only = {c.rule};
    driver.verify_each = true;
    auto result = ApplyRules(**after, rules, driver);
    if (!result.ok()) {
      fail(absl::StrCat(label, ": the driver failed: ", result.status().message()));
      return report;
    }
    const RuleStats* st = result->StatsFor(c.rule);
    if (!st || st->applied == 0) {
      if (dtype == DType::kFloat32) {
        fail("the rule does not fire on the case");
        return report;
      }
      report.variants.push_back({label, false, "the rule does not fire at this dtype"});
      continue;
    }
    bool symbolic = false;
    for (Value* in : (*before)->inputs()) symbolic |= in->type().known() && !in->type().is_static();
    std::vector<int64_t> batch_factors = {1};
    if (options.scaled_batch) batch_factors.push_back(3);
    // Half-precision GEMMs on CPU are slow: a big case (the whisper logits,
    // 20M weights) gets one seed below f32.
    int64_t elements = 0;
    for (Value* in : (*before)->inputs()) elements += in->type().numel().value_or(0);
    std::vector<uint64_t> seeds = options.seeds;
    if (dtype != DType::kFloat32 && elements > (int64_t{1} << 22)) seeds.resize(1);
    for (uint64_t seed : seeds) {
      for (bool non_contiguous : {false, true}) {
        if (non_contiguous && !options.non_contiguous) continue;
        for (int64_t factor : batch_factors) {
          Variant v;
          v.name = absl::StrCat(label, " seed=", seed, non_contiguous ? " non-contiguous" : "",
                                factor > 1 ? (symbolic ? " symbols=3" : " batch*3")
                                           : (symbolic ? " symbols=1" : ""));
          v.tol = Tolerance(dtype);
          at::Generator gen = at::detail::createCPUGenerator(seed);
          int64_t symbol_value = symbolic ? factor : 1;
          std::vector<at::Tensor> user;
          TensorMap tensors;
          for (Value* in : (*before)->inputs()) {
            std::vector<int64_t> sizes = internal::Sizes(in->type(), symbol_value);
            bool is_user = !(*before)->is_constant(in);
            if (is_user && !symbolic && factor > 1 && !sizes.empty()) sizes[0] *= factor;
            at::Tensor t = internal::RandomTensor(sizes, in->type().dtype(), non_contiguous, gen);
            if (is_user) {
              user.push_back(t);
            } else {
              std::string name((*before)->original_name(in));
              tensors[name.empty() ? std::string((*before)->name(in)) : name] = t;
            }
          }
          auto want = RunGraph(**before, user, tensors);
          if (!want.ok()) {
            if (dtype == DType::kFloat32 && seed == options.seeds[0] && !non_contiguous && factor == 1) {
              fail(absl::StrCat("the graph before does not run in libtorch: ", want.status().message()));
              return report;
            }
            v.skipped = absl::StrCat("before does not run: ", want.status().message());
            report.variants.push_back(v);
            continue;
          }
          auto got = RunGraph(**after, user, tensors);
          if (!got.ok()) {
            fail(absl::StrCat(v.name, ": the graph after fails where the graph before ran: ",
                              got.status().message(), "\n", Print(**after)));
            report.variants.push_back(v);
            continue;
          }
          auto err = internal::Compare(*got, *want);
          v.ran = true;
          if (!err.ok()) {
            fail(absl::StrCat(v.name, ": ", err.status().message()));
          } else {
            v.error = *err;
            if (!(*err <= v.tol))
              fail(absl::StrFormat("%s: after differs from before by %.3g (relative to the "
                                   "outputs' magnitude), above the tolerance %.0e",
                                   v.name, *err, v.tol));
          }
          report.variants.push_back(v);
        }
      }
    }
  }
  return report;
}

// One line per report: rule, case, variants run/skipped, worst error per dtype.
inline std::string Summary(const std::vector<Report>& reports) {
  std::string out = absl::StrFormat("%-36s %-52s %5s %5s %9s %9s %9s %7s\n", "rule", "case", "ran",
                                    "skip", "f32 err", "f16 err", "bf16 err", "seconds");
  for (const Report& r : reports) {
    auto err = [&r](absl::string_view d) {
      return r.ran(d) ? absl::StrFormat("%9.1e", r.worst(d)) : absl::StrFormat("%9s", "-");
    };
    absl::StrAppendFormat(&out, "%-36s %-52s %5d %5d %s %s %s %7.2f%s\n", r.rule,
                          r.title.substr(0, 52), r.ran(),
                          static_cast<int>(r.variants.size()) - r.ran(), err("f32"), err("f16"),
                          err("bf16"), r.seconds, r.status.ok() ? "" : "  FAILED");
  }
  return out;
}

}  // namespace numerics
}  // namespace graft

#endif  // GRAFT_TESTS_INTEROP_NUMERICAL_CHECK_H_
