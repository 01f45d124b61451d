// Ten rules written with the C++ DSL, the set the driver benchmark runs (and
// any other benchmark may reuse): the linear folds a backend partitioner
// wants before it looks for GEMMs, plus the layout and copy clean-ups that
// ExecuTorch's edge dialect leaves behind. They are realistic, not
// exhaustive; patterns/ holds the tested catalogue.
#ifndef GRAFT_TOOLS_BENCH_BENCH_RULES_H_
#define GRAFT_TOOLS_BENCH_BENCH_RULES_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "graft/match/matchers.h"
#include "graft/rewrite/rule.h"

namespace graft {
namespace bench {

// The benchmark's rule set, in this order (order breaks benefit ties):
//   1 view_mm_view_to_linear        view_copy(mm(view_copy(x, _), transpose(const W)), _)
//                                     -> linear(x, W)               (the whisper fold)
//   2 mm_transposed_weight_to_linear mm(x, transpose(const W)) -> linear(x, W)
//   3 addmm_to_linear               addmm(b, x, transpose(const W)) -> linear(x, W, b),
//                                     rank(b) == 1
//   4 add_mm_to_linear              add(mm(x, transpose(const W)), const b)
//                                     -> linear(x, W, b), rank(b) == 1
//   5 add_bias_into_linear          add(linear(x, W), const b) -> linear(x, W, b),
//                                     rank(b) == 1
//   6 transpose_transpose           transpose(transpose(x)) -> x
//   7 view_view                     view_copy(view_copy(x, _), s) -> view_copy(x, s)
//   8 view_linear_view_to_linear    view_copy(linear(view_copy(x, _), W, b), _)
//                                     -> linear(x, W, b)
//   9 view_noop                     r@view_copy(x, _) -> x, type(x) == type(r)
//  10 clone_noop                    clone(x) -> x
// Replacement types are checked by the driver against what they replace, so
// rules 1 and 8 fire only where the two views are exact inverses around the
// contraction (x [..., K] flattened to [M, K] and the result viewed back).
inline RuleSet TransformerRules() {
  namespace m = graft::match;
  Var x("x"), W("W"), b("b"), s("s"), r("r");
  RuleSet rules;
  auto add = [&rules](std::unique_ptr<Rule> rule) {
    absl::Status st = rules.Add(std::move(rule));
    if (!st.ok()) {
      std::fprintf(stderr, "bench rules: %s\n", std::string(st.message()).c_str());
      std::abort();
    }
  };
  add(rule("view_mm_view_to_linear",
           m::view_copy(m::mm(m::view_copy(x, m::_), m::transpose(m::constant(W))), m::_),
           m::linear(x, W)));
  add(rule("mm_transposed_weight_to_linear", m::mm(x, m::transpose(m::constant(W))),
           m::linear(x, W)));
  add(rule("addmm_to_linear", m::addmm(m::has_rank(b, 1), x, m::transpose(m::constant(W))),
           m::linear(x, W, b)));
  add(rule("add_mm_to_linear",
           m::add(m::mm(x, m::transpose(m::constant(W))), m::has_rank(m::constant(b), 1)),
           m::linear(x, W, b)));
  add(rule("add_bias_into_linear", m::add(m::linear(x, W), m::has_rank(m::constant(b), 1)),
           m::linear(x, W, b)));
  add(rule("transpose_transpose", m::transpose(m::transpose(x)), x));
  add(rule("view_view", m::view_copy(m::view_copy(x, m::_), s), m::view_copy(x, s)));
  add(rule("view_linear_view_to_linear",
           m::view_copy(m::linear(m::view_copy(x, m::_), W, b), m::_), m::linear(x, W, b)));
  add(rule("view_noop", m::bind(r, m::view_copy(x, m::_)), x)
          .Where("type(x) == type(r)",
                 [x, r](const MatchState& st) { return st.type(x) == st.type(r); }));
  add(rule("clone_noop", m::clone(x), x));
  return rules;
}

}  // namespace bench
}  // namespace graft

#endif  // GRAFT_TOOLS_BENCH_BENCH_RULES_H_
