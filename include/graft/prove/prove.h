// graft-opt --prove: each rule checked on random instances of its
// left-hand side (sampler.h), the graph before and after the rewrite run
// through libtorch and compared (numerics.h). A rule is
//   - proven: N instances drawn, each rewritten by the rule and each
//     agreeing with the original (a sampled check, not a formal proof);
//   - a counterexample: the first instance whose rewrite disagrees, fails
//     to run, or changes an output's shape or dtype;
//   - unprovable: no N instances in the tries or time allowed (an op graft
//     cannot build, a pattern libtorch cannot run at f32, constraints
//     the sampler does not satisfy), with the reason.
// docs/prove.md says what this proves and what not.
#ifndef GRAFT_PROVE_PROVE_H_
#define GRAFT_PROVE_PROVE_H_

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graft/interop/torchscript.h"
#include "graft/ir/printer.h"
#include "graft/prove/numerics.h"
#include "graft/prove/sampler.h"
#include "graft/rules/loader.h"

namespace graft {
namespace prove {

struct Options {
  int instances = 20;            // per rule, to call it proven
  uint64_t seed = 1;             // with the rule's name, seeds each rule's draws
  int max_tries = 20000;         // per rule: instances drawn, rejected or run
  double max_seconds = 60;       // per rule
  std::vector<std::string> only;  // prove only these rules; empty: all
};

struct Verdict {
  enum Outcome { kProven, kCounterexample, kUnprovable };
  Outcome outcome = kUnprovable;
  std::string rule, origin;
  int instances = 0;               // drawn, run and agreeing
  std::map<DType, int> dtypes;        // instances with an input of each dtype
  int min_rank = -1, max_rank = -1;   // of the instances' inputs
  std::vector<std::string> skipped;   // dtypes libtorch cannot run the pattern at, and why
  std::string detail;  // the counterexample, or why unprovable
};

inline absl::string_view OutcomeName(Verdict::Outcome o) {
  switch (o) {
    case Verdict::kProven: return "proven";
    case Verdict::kCounterexample: return "counterexample";
    case Verdict::kUnprovable: return "unprovable";
  }
  return "?";
}

// "relu_of_relu (patterns/activations.rules:4:1): proven on 20 instances
// (inputs f32 in 7, f16 in 7, bf16 in 6; ranks 0-4)", a counterexample or
// the reason it is unprovable, then the dtypes skipped.
inline std::string Format(const Verdict& v) {
  std::string out = absl::StrCat(v.rule, " (", v.origin, "): ", OutcomeName(v.outcome));
  if (v.outcome == Verdict::kProven) {
    std::vector<std::string> d;
    for (const auto& [dtype, n] : v.dtypes) d.push_back(absl::StrCat(DTypeName(dtype), " in ", n));
    absl::StrAppend(&out, " on ", v.instances, " instances (inputs ", absl::StrJoin(d, ", "),
                    "; ranks ", v.min_rank,
                    v.max_rank > v.min_rank ? absl::StrCat("-", v.max_rank) : "", ")");
  }
  if (!v.detail.empty()) absl::StrAppend(&out, ": ", v.detail);
  out += "\n";
  for (const std::string& s : v.skipped) absl::StrAppend(&out, "  skipped ", s, "\n");
  return out;
}

namespace prove_internal {

// FNV-1a: a rule's draws depend on the seed and its name only, not on the
// rules around it or the standard library's std::hash.
inline uint64_t Hash(absl::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// "%x: f32[2, 3] (input)"; the kinds as --prove's instances draw them.
inline std::string InputList(const Graph& g) {
  std::vector<std::string> out;
  for (Value* in : g.inputs())
    out.push_back(absl::StrCat("%", g.name(in), ": ", in->type().ToString(), " (",
                               InputKindName(g.input_kind(in)), ")"));
  return absl::StrJoin(out, ", ");
}

inline std::string Counterexample(const Instance& inst, int index, absl::string_view what) {
  return absl::StrCat("instance ", index + 1, " (", DTypeName(inst.dtype), ")\n", "  inputs: ",
                      InputList(*inst.before), "\n  ", what, "\n  before:\n",
                      Print(*inst.before), "  after:\n", Print(*inst.after));
}

}  // namespace prove_internal

// Proves `rule`, whose alias-expanded left-hand side is `lhs` and whose
// constraints give `hints` (sampler.h).
inline Verdict ProveRule(const Rule& rule, const rules::PatPtr& lhs, const Hints& hints,
                         const Options& o) {
  namespace pi = prove_internal;
  Verdict v;
  v.rule = rule.name();
  v.origin = rule.origin();
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const uint64_t seed = pi::Hash(rule.name(), o.seed);
  Sampler sampler(rule, lhs, hints, seed);
  // Why tries failed: how often, and the first reason of each kind.
  std::map<std::string, std::pair<int, std::string>> rejected;
  auto reject = [&rejected](absl::string_view kind, absl::string_view reason) {
    auto& r = rejected[std::string(kind)];
    if (r.first++ == 0) r.second = std::string(reason);
  };
  auto most_common = [&rejected] {
    std::string kind;
    int n = 0;
    for (const auto& [k, r] : rejected)
      if (r.first > n) kind = k, n = r.first;
    return n ? absl::StrCat("; most tries failed as: ", kind, " (", n, "x, first: ",
                            rejected[kind].second, ")")
             : std::string();
  };
  // Runs of the graph before that failed or worked, per dtype. A dtype
  // whose first kRunFailuresToGiveUp runs all fail has no kernel for the
  // pattern: f32, the first dtype drawn, makes the rule unprovable; f16 and
  // bf16 (drawn once f32 has run) are skipped and listed.
  std::map<DType, int> failed_runs, good_runs;
  constexpr int kRunFailuresToGiveUp = 20;
  bool retry = false;
  for (int tries = 0; v.instances < o.instances; ++tries) {
    if (tries >= o.max_tries || elapsed() > o.max_seconds) {
      std::string cap = tries >= o.max_tries
                            ? " tries (--prove-tries)"
                            : absl::StrFormat(" tries and %.0f s (--prove-seconds)", elapsed());
      v.detail = absl::StrCat("only ", v.instances, " of ", o.instances, " instances in ", tries,
                              cap, most_common());
      return v;
    }
    Rejection why{Rejection::kIllTyped, ""};
    absl::StatusOr<Instance> inst = sampler.Next(v.instances, retry, &why);
    retry = true;
    if (!inst.ok()) {
      if (why.kind == Rejection::kNoBuild) {
        v.detail = why.reason;
        return v;
      }
      reject(RejectionName(why.kind), why.reason);
      continue;
    }
    at::Generator gen = at::detail::createCPUGenerator(seed + static_cast<uint64_t>(tries));
    Inputs in = RandomInputs(*inst->before, gen);
    absl::StatusOr<std::vector<at::Tensor>> want = Run(*inst->before, in);
    if (!want.ok()) {
      constexpr absl::string_view kNoRun = "libtorch cannot run the graph before";
      reject(kNoRun, want.status().message());
      DType d = inst->dtype;
      if (++failed_runs[d] >= kRunFailuresToGiveUp && !good_runs[d]) {
        std::string why = absl::StrCat(kNoRun, " at ", DTypeName(d), " (", kRunFailuresToGiveUp,
                                       " instances, none ran; first: ",
                                       rejected[std::string(kNoRun)].second,
                                       ")");
        if (d == DType::kFloat32) {
          v.detail = why;
          return v;
        }
        auto& dtypes = sampler.dtypes();
        dtypes.erase(std::find(dtypes.begin(), dtypes.end(), d));
        v.skipped.push_back(why);
      }
      continue;
    }
    ++good_runs[inst->dtype];
    absl::StatusOr<std::vector<at::Tensor>> got = Run(*inst->after, in);
    if (!got.ok()) {
      v.outcome = Verdict::kCounterexample;
      v.detail = pi::Counterexample(*inst, v.instances,
                                    absl::StrCat("the graph after fails where the graph before "
                                                 "ran: ",
                                                 got.status().message()));
      return v;
    }
    std::vector<at::Tensor> want_f64;
    if (inst->dtype != DType::kFloat32) {
      // The reference for low-precision rounding (numerics.h); a graph
      // that does not run widened (a dtype literal in it) has none.
      absl::StatusOr<std::vector<at::Tensor>> wide = Run(*inst->before, Widened(in));
      if (wide.ok()) want_f64 = *std::move(wide);
    }
    absl::StatusOr<Comparison> cmp = Compare(*got, *want, want_f64);
    if (!cmp.ok() || !cmp->ok()) {
      v.outcome = Verdict::kCounterexample;
      v.detail = pi::Counterexample(
          *inst, v.instances, cmp.ok() ? cmp->ToString() : std::string(cmp.status().message()));
      return v;
    }
    ++v.instances;
    std::set<DType> dtypes;
    for (Value* x : inst->before->inputs()) {
      // Sampled instances have known types.
      if (!x->type().known()) continue;
      dtypes.insert(*x->type().dtype());
      int r = *x->type().rank();
      v.min_rank = v.min_rank < 0 ? r : std::min(v.min_rank, r);
      v.max_rank = std::max(v.max_rank, r);
    }
    for (DType d : dtypes) ++v.dtypes[d];
    retry = false;
  }
  v.outcome = Verdict::kProven;
  return v;
}

// Proves every rule `loader` holds (its files in order), calling `report`
// with each verdict as it is found. Fails if the rules do not compile, or
// `only` names a rule they do not have.
inline absl::StatusOr<std::vector<Verdict>> ProveRules(
    const rules::RuleLoader& loader, const Options& o,
    const std::function<void(const Verdict&)>& report = nullptr) {
  GRAFT_ASSIGN_OR_RETURN(RuleSet set, loader.Finish());
  for (const std::string& name : o.only)
    if (!set.Find(name)) return absl::NotFoundError(absl::StrCat("no rule named '", name, "'"));
  std::vector<Verdict> out;
  for (const rules::RuleFile* f : loader.files()) {
    for (const rules::RuleDef& def : f->rules) {
      if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), def.name) == o.only.end())
        continue;
      GRAFT_ASSIGN_OR_RETURN(rules::PatPtr lhs, rules::ExpandedLhs(def, loader.files()));
      out.push_back(ProveRule(*set.Find(def.name), lhs, HintsOf(def), o));
      if (report) report(out.back());
    }
  }
  return out;
}

}  // namespace prove
}  // namespace graft

#endif  // GRAFT_PROVE_PROVE_H_
