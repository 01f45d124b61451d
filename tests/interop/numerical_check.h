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
// Inputs are drawn, graphs run and outputs compared as graft-opt --prove
// does it (graft/prove/numerics.h, which states the tolerances): the two
// differ in where their graphs come from, a hand-written case here, random
// instances there.
//
// A variant the graph *before* cannot run (an op without a half kernel on
// CPU, a view that does not fit a bigger batch) is skipped and reported; the
// case as written at f32 must run. A graph after that fails where the graph
// before ran, or disagrees, is a failure.
#ifndef GRAFT_TESTS_INTEROP_NUMERICAL_CHECK_H_
#define GRAFT_TESTS_INTEROP_NUMERICAL_CHECK_H_

#include <algorithm>
#include <chrono>
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
#include "graft/prove/numerics.h"
#include "graft/rules/test_cases.h"

namespace graft {
namespace numerics {

struct Options {
  std::vector<uint64_t> seeds = {1, 2, 3};
  std::vector<DType> dtypes = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};
  bool non_contiguous = true;
  bool scaled_batch = true;
};

struct Variant {
  std::string name;  // "f16 seed=2 non-contiguous batch*3"
  bool ran = false;
  std::string skipped;  // why it did not run
  double error = 0;     // max|after - before| / max(1, max|before|)
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
    const std::string label(DTypeName(dtype));
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
          at::Generator gen = at::detail::createCPUGenerator(seed);
          prove::InputOptions inputs;
          inputs.symbol_value = symbolic ? factor : 1;
          inputs.batch_factor = symbolic ? 1 : factor;
          inputs.non_contiguous = non_contiguous;
          prove::Inputs in = prove::RandomInputs(**before, gen, inputs);
          auto want = prove::Run(**before, in);
          if (!want.ok()) {
            if (dtype == DType::kFloat32 && seed == options.seeds[0] && !non_contiguous && factor == 1) {
              fail(absl::StrCat("the graph before does not run in libtorch: ", want.status().message()));
              return report;
            }
            v.skipped = absl::StrCat("before does not run: ", want.status().message());
            report.variants.push_back(v);
            continue;
          }
          auto got = prove::Run(**after, in);
          if (!got.ok()) {
            fail(absl::StrCat(v.name, ": the graph after fails where the graph before ran: ",
                              got.status().message(), "\n", Print(**after)));
            report.variants.push_back(v);
            continue;
          }
          std::vector<at::Tensor> want_f64;
          if (dtype != DType::kFloat32) {
            auto wide = prove::Run(**before, prove::Widened(in));
            if (wide.ok()) want_f64 = *std::move(wide);
          }
          auto cmp = prove::Compare(*got, *want, want_f64);
          v.ran = true;
          if (!cmp.ok()) {
            fail(absl::StrCat(v.name, ": ", cmp.status().message()));
          } else {
            v.error = cmp->error;
            if (!cmp->ok())
              fail(absl::StrCat(v.name, ": after differs from before, above the tolerance: ",
                                cmp->ToString()));
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
