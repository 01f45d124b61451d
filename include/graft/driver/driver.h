// The greedy rewrite driver: applies a RuleSet to a graph until nothing
// matches (a fixpoint) or a cap is hit. Lessons from MLIR's greedy driver:
//   - rules are indexed by root op, so a node tries only rules that can
//     match it (higher benefit first, ties in rule-set order);
//   - the worklist is seeded in topological order and popped from the back
//     (users before operands); after a rewrite the new
//     nodes, the users of the replacement and the operands of erased nodes
//     are re-queued; trivially dead nodes are erased as they are met;
//   - a sweep that applied anything is followed by a fresh sweep (caught by
//     the iteration cap), and the total number of rewrites is capped too, so
//     a rule and its inverse cannot loop forever; so are the graph's growth
//     and the driver's work (visits and uses moved), so a rule that keeps
//     growing the graph, or re-points a large fan-out at each rewrite, stops
//     in time and memory linear in the input. The result says it did not
//     converge, names the cap that stopped it (stopped_by, the option's
//     name) and the rules that kept firing.
#ifndef GRAFT_DRIVER_DRIVER_H_
#define GRAFT_DRIVER_DRIVER_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/graph.h"
#include "graft/ir/verifier.h"
#include "graft/match/state.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rewriter.h"
#include "graft/rewrite/rule.h"

namespace graft {

struct DriverOptions {
  // The value of max_growth or max_work that turns the cap off.
  static constexpr int kNoCap = -1;

  // Full sweeps over the graph; the last must apply nothing to converge.
  int max_iterations = 10;

  // The value of max_rewrites that scales the cap with the graph:
  // kDefaultRewritesPerNode rewrites per initial node plus
  // kDefaultRewriteSlack, room for every node to be rewritten a few times.
  static constexpr int64_t kRewriteCapScaledToGraph = -1;
  static constexpr int64_t kDefaultRewritesPerNode = 8;
  static constexpr int64_t kDefaultRewriteSlack = 1000;
  // Total rewrites before giving up; a negative value is
  // kRewriteCapScaledToGraph.
  int64_t max_rewrites = kRewriteCapScaledToGraph;

  // Defaults of the growth cap below. Folding rule sets shrink a graph and
  // decompositions multiply it by a few, so 8x is reached only by rules that
  // keep growing it; the slack lets a small graph decompose.
  static constexpr int kDefaultMaxGrowth = 8;
  static constexpr int64_t kDefaultGrowthSlack = 10000;
  // The graph may grow to max_growth times its initial node count plus
  // growth_slack nodes; the rewrite that takes it past that stops the
  // driver (not converged, stopped_by "max_growth"). Bounds the work of a
  // rule set that grows the graph without end, which max_rewrites alone
  // does not (a rewrite may add any number of nodes). A negative max_growth
  // (kNoCap) turns the cap off; a negative slack counts as 0.
  int max_growth = kDefaultMaxGrowth;
  int64_t growth_slack = kDefaultGrowthSlack;

  // Defaults of the work cap below: a fixpoint costs a few visits per node
  // per sweep, so 128 per node is reached only by quadratic work.
  static constexpr int64_t kDefaultMaxWork = 128;
  static constexpr int64_t kDefaultWorkSlack = 1000000;
  // Work budget, in node visits plus uses moved by replacing values:
  // max_work per initial node plus work_slack; spending it stops the
  // driver (not converged, stopped_by "max_work"). The other caps count
  // rewrites and nodes, and a rewrite that re-points a large fan-out
  // costs that fan-out (a rule growing the graph at a value with 4000 users
  // took 132M visits, 22 s, under them). A negative max_work (kNoCap) turns
  // the cap off; a negative slack counts as 0.
  int64_t max_work = kDefaultMaxWork;
  int64_t work_slack = kDefaultWorkSlack;

  // Run the verifier after every rewrite and stop at the first that breaks
  // the graph, naming the rule.
  bool verify_each = false;
  // Measure time per rule (two clock reads per attempt; off by default).
  bool timing = false;
  // Rules to run by name (empty: all) and rules to skip.
  std::vector<std::string> only;
  std::vector<std::string> disabled;
};

struct RuleStats {
  int64_t tried = 0;     // candidate roots the rule was tried on
  int64_t matched = 0;   // pattern matched
  int64_t applied = 0;   // rewrites done
  int64_t refused = 0;   // matched but refused (constraint, legality, type)
  int64_t nanos = 0;     // with DriverOptions::timing
  absl::flat_hash_map<std::string, int64_t> refusals;  // reason -> count
};

struct DriverResult {
  bool converged = false;
  int iterations = 0;
  int64_t rewrites = 0;
  int64_t nodes_visited = 0;
  int64_t uses_moved = 0;  // by replacing values (the other half of max_work)
  int64_t dead_erased = 0;
  // Rules that still fired when a cap stopped the driver.
  std::vector<std::string> still_firing;
  // The cap that stopped the driver, by its DriverOptions name
  // ("max_iterations", "max_rewrites", "max_growth", "max_work"); empty if
  // converged.
  std::string stopped_by;
  // The same with its figures, for people: "max_growth: the graph grew
  // from 1000 to 18002 nodes, past its cap of 18000 (8 x 1000 + 10000)".
  std::string stop_reason;
  // Per rule, in rule-set order.
  std::vector<std::pair<std::string, RuleStats>> stats;

  const RuleStats* StatsFor(absl::string_view rule) const {
    for (const auto& [name, st] : stats) {
      if (name == rule) return &st;
    }
    return nullptr;
  }

  // A table for humans (graft-opt --stats).
  std::string Report() const {
    std::string out = absl::StrFormat("%-44s %9s %9s %9s %9s %10s\n", "rule", "tried", "matched",
                                      "applied", "refused", "time(us)");
    for (const auto& [name, st] : stats) {
      absl::StrAppendFormat(&out, "%-44s %9d %9d %9d %9d %10.1f\n", name, st.tried, st.matched,
                            st.applied, st.refused, st.nanos / 1e3);
      for (const auto& [reason, n] : st.refusals)
        absl::StrAppendFormat(&out, "    refused %d x: %s\n", n, reason);
    }
    absl::StrAppendFormat(&out, "%s after %d iteration(s), %d rewrite(s), %d node visit(s)\n",
                          converged ? "converged" : "DID NOT CONVERGE", iterations, rewrites,
                          nodes_visited);
    if (!stop_reason.empty()) absl::StrAppend(&out, "stopped by ", stop_reason, "\n");
    if (!still_firing.empty())
      absl::StrAppend(&out, "rules still firing: ", absl::StrJoin(still_firing, ", "), "\n");
    return out;
  }
};

namespace driver_internal {

constexpr uint32_t kQueued = 1;
constexpr size_t kPrefetchDistance = 8;

class Worklist final : public RewriteListener {
 public:
  // Leaves no queued mark behind, whatever way Run returns (an early
  // verify_each error included): a later run on the graph would skip the
  // marked nodes.
  ~Worklist() override { Clear(); }

  void Push(Node* n) {
    if (n->scratch() & kQueued) return;
    n->scratch() |= kQueued;
    stack_.push_back(n);
  }
  // Next live node, or nullptr.
  Node* Pop() {
    while (!stack_.empty()) {
      // The stack is in graph order, so the nodes popped next are known:
      // fetch one a few pops ahead (its header and first result). On a
      // graph larger than the caches this hides most of the visit's
      // memory latency (no-match visit at 1M nodes: -20%).
      if (stack_.size() > kPrefetchDistance) {
        const char* ahead =
            reinterpret_cast<const char*>(stack_[stack_.size() - kPrefetchDistance]);
        __builtin_prefetch(ahead, 1);
        __builtin_prefetch(ahead + 64, 1);
      }
      Node* n = stack_.back();
      stack_.pop_back();
      n->scratch() &= ~kQueued;
      if (!n->is_dead()) return n;
    }
    return nullptr;
  }
  void Clear() {
    for (Node* n : stack_) n->scratch() &= ~kQueued;
    stack_.clear();
  }
  // Seeds every node in topological order. Pop() takes from the back, so
  // users are visited before their operands (as in MLIR's driver): a large
  // pattern rooted at a later node gets its chance before a smaller one
  // rooted inside it.
  void Seed(const Graph& g) {
    stack_.reserve(g.num_nodes());
    for (Node* n = g.first_node(); n; n = n->next()) Push(n);
  }

  void NodeCreated(Node* n) override { Push(n); }
  void NodeErasing(Node* n) override {
    for (int i = 0; i < n->num_args(); ++i) {
      if (Value* v = n->operand(i); v && v->def()) Push(v->def());
    }
  }
  // Only the users that get a new operand may match something new: the
  // other users of `to` see more uses of it, which makes no pattern
  // legal that was not. Re-queuing every user of `to` made a rewrite cost
  // `to`'s fan-out, and each re-queued user a visit: a value with 40k users
  // each folded onto it took 800M visits (58 s).
  void UsesReplacing(Value* from, Value*) override {
    uses_moved_ += static_cast<int64_t>(from->num_uses());
    // In the order they land in to's list (the graph moves them from the
    // back), as when the whole list of `to` was queued.
    absl::Span<const Use> uses = from->uses();
    for (size_t i = uses.size(); i-- > 0;) {
      if (uses[i].user) Push(uses[i].user);
    }
  }
  void UsesReplaced(Value*, Value* to) override {
    if (to->def()) Push(to->def());
  }
  int64_t uses_moved() const { return uses_moved_; }

 private:
  std::vector<Node*> stack_;
  int64_t uses_moved_ = 0;
};

inline bool TriviallyDead(const Node* n) {
  if (!n->schema()) return false;  // opaque ops may have effects
  for (int i = 0; i < n->num_results(); ++i) {
    if (!n->result(i)->unused()) return false;
  }
  return true;
}

}  // namespace driver_internal

class Driver {
 public:
  Driver(const RuleSet& rules, DriverOptions options = {})
      : rules_(rules), options_(std::move(options)) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      const Rule& r = rules_[i];
      bool on = options_.only.empty() ||
                std::find(options_.only.begin(), options_.only.end(), r.name()) != options_.only.end();
      on &= std::find(options_.disabled.begin(), options_.disabled.end(), r.name()) ==
            options_.disabled.end();
      if (on) active_.push_back(static_cast<int>(i));
    }
  }

  // Rewrites `g` to a fixpoint. Errors only for verify_each failures; not
  // converging is reported in the result, not as an error.
  absl::StatusOr<DriverResult> Run(Graph& g) {
    DriverResult result;
    std::vector<RuleStats> stats(rules_.size());
    driver_internal::Worklist worklist;
    Rewriter rw(g, Ops(), &worklist);
    MatchState state(g);
    const int64_t initial_nodes = static_cast<int64_t>(g.num_nodes());
    const int64_t cap = options_.max_rewrites >= 0
                            ? options_.max_rewrites
                            : ScaledCap(DriverOptions::kDefaultRewritesPerNode, initial_nodes,
                                        DriverOptions::kDefaultRewriteSlack);
    const int64_t node_cap = ScaledCap(options_.max_growth, initial_nodes, options_.growth_slack);
    const int64_t work_cap = ScaledCap(options_.max_work, initial_nodes, options_.work_slack);
    // Per rule: constraint -> refusals it caused.
    std::vector<std::vector<std::pair<const Rule::Constraint*, int64_t>>> constraint_refusals(
        rules_.size());
    absl::flat_hash_set<int> fired;  // rules that applied in this sweep
    absl::flat_hash_set<int> last_fired;  // and in the one before
    bool changed = true;
    bool capped = cap == 0;  // a cap of 0 allows no rewrite: nothing to try
    bool unfinished_sweep = false;  // a sweep cut short proves no fixpoint
    if (capped) StopBy(result, "max_rewrites", RewriteCapReason(0, cap, initial_nodes));
    while (changed && !capped && result.iterations < options_.max_iterations) {
      changed = false;
      ++result.iterations;
      last_fired = std::move(fired);
      fired.clear();
      worklist.Seed(g);
      while (Node* n = worklist.Pop()) {
        if (ABSL_PREDICT_FALSE(result.nodes_visited + worklist.uses_moved() >= work_cap)) {
          capped = unfinished_sweep = true;
          StopBy(result, "max_work",
                 WorkCapReason(result.nodes_visited, worklist.uses_moved(), work_cap,
                               initial_nodes));
          break;
        }
        ++result.nodes_visited;
        if (driver_internal::TriviallyDead(n)) {
          rw.Erase(n);
          ++result.dead_erased;
          continue;
        }
        for (int ri : Candidates(n->op())) {
          const Rule& r = rules_[ri];
          RuleStats& st = stats[ri];
          ++st.tried;
          auto start = options_.timing ? std::chrono::steady_clock::now()
                                       : std::chrono::steady_clock::time_point();
          state.Reset();
          // The common outcomes, no match and a failed constraint, build no
          // Status and no string: a constraint refusal is counted by
          // constraint and spelled once, after the run.
          bool applied = false;
          if (r.Match(n, state)) {
            ++st.matched;
            if (const Rule::Constraint* c = r.FailedConstraint(state)) {
              ++st.refused;
              CountConstraintRefusal(constraint_refusals[ri], c);
            } else if (absl::Status s = r.Apply(rw, n, state, /*constraints_checked=*/true);
                       s.ok()) {
              applied = true;
              ++st.applied;
            } else {
              ++st.refused;
              ++st.refusals[s.message()];
            }
          }
          if (options_.timing)
            st.nanos += std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
          if (!applied) continue;
          changed = true;
          ++result.rewrites;
          fired.insert(ri);
          if (options_.verify_each) {
            if (absl::Status v = Verify(g); !v.ok())
              return absl::InternalError(absl::StrCat("rule '", r.name(), "' broke the graph: ",
                                                      v.message()));
          }
          // Only a rewrite moves the caps' counts: checked here, not per visit.
          if (result.rewrites >= cap) {
            capped = true;
            StopBy(result, "max_rewrites", RewriteCapReason(result.rewrites, cap, initial_nodes));
          } else if (static_cast<int64_t>(g.num_nodes()) > node_cap) {
            capped = true;
            StopBy(result, "max_growth", GrowthCapReason(initial_nodes, g.num_nodes(), node_cap));
          }
          break;  // the root is gone
        }
        if (ABSL_PREDICT_FALSE(capped)) break;
      }
      worklist.Clear();
    }
    result.converged = !changed && !unfinished_sweep;
    result.uses_moved = worklist.uses_moved();
    // Cut short before any rewrite of its own, a sweep names the rules of
    // the one before.
    if (fired.empty()) fired = std::move(last_fired);
    if (!result.converged && result.stopped_by.empty())
      StopBy(result, "max_iterations",
             absl::StrCat("max_iterations: each of the ", result.iterations,
                          " sweep(s) applied a rewrite"));
    if (!result.converged) {
      for (int ri : fired) result.still_firing.push_back(rules_[ri].name());
      std::sort(result.still_firing.begin(), result.still_firing.end());
    }
    for (size_t ri = 0; ri < rules_.size(); ++ri) {
      for (const auto& [c, k] : constraint_refusals[ri])
        stats[ri].refusals[absl::StrCat("constraint '", c->label, "' fails")] += k;
    }
    for (int ri : active_) result.stats.emplace_back(rules_[ri].name(), std::move(stats[ri]));
    return result;
  }

 private:
  // per_node x nodes + slack, saturating (user-given factors must not wrap
  // into a tiny cap); a negative per_node (DriverOptions::kNoCap) means no cap.
  static int64_t ScaledCap(int64_t per_node, int64_t nodes, int64_t slack) {
    constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
    if (per_node < 0) return kUnbounded;
    return CheckedAdd(CheckedMul(per_node, nodes), std::max<int64_t>(slack, 0)).value_or(kUnbounded);
  }
  static void StopBy(DriverResult& result, absl::string_view cap, std::string reason) {
    result.stopped_by = std::string(cap);
    result.stop_reason = std::move(reason);
  }
  std::string RewriteCapReason(int64_t rewrites, int64_t cap, int64_t initial_nodes) const {
    return absl::StrCat("max_rewrites: ", rewrites, " rewrite(s) reached its cap of ", cap,
                        options_.max_rewrites < 0
                            ? absl::StrCat(" (", DriverOptions::kDefaultRewritesPerNode,
                                           " per node plus ", DriverOptions::kDefaultRewriteSlack,
                                           ", ", initial_nodes, " nodes)")
                            : std::string());
  }
  std::string GrowthCapReason(int64_t initial_nodes, size_t nodes, int64_t node_cap) const {
    return absl::StrCat("max_growth: the graph grew from ", initial_nodes, " to ", nodes,
                        " nodes, past its cap of ", node_cap, " (", options_.max_growth, " x ",
                        initial_nodes, " + ", std::max<int64_t>(options_.growth_slack, 0), ")");
  }

  std::string WorkCapReason(int64_t visits, int64_t moved, int64_t work_cap,
                            int64_t initial_nodes) const {
    return absl::StrCat("max_work: ", visits, " node visits + ", moved,
                        " uses moved reached its cap of ", work_cap, " (", options_.max_work,
                        " per node x ", initial_nodes, " + ",
                        std::max<int64_t>(options_.work_slack, 0), ")");
  }

  static void CountConstraintRefusal(
      std::vector<std::pair<const Rule::Constraint*, int64_t>>& counts, const Rule::Constraint* c) {
    for (auto& [seen, k] : counts) {
      if (seen == c) {
        ++k;
        return;
      }
    }
    counts.emplace_back(c, 1);
  }

  // Rules whose root can be `op`, best first; built on first sight of op.
  const std::vector<int>& Candidates(const OpDef* op) {
    uint32_t id = op->id();
    if (ABSL_PREDICT_TRUE(id < built_.size() && built_[id])) return by_op_[id];
    return BuildCandidates(op);
  }
  ABSL_ATTRIBUTE_NOINLINE const std::vector<int>& BuildCandidates(const OpDef* op) {
    uint32_t id = op->id();
    if (id >= by_op_.size()) {
      by_op_.resize(id + 1);
      built_.resize(id + 1);
    }
    if (!built_[id]) {
      built_[id] = true;
      std::vector<int>& list = by_op_[id];
      for (int ri : active_) {
        const Rule& r = rules_[ri];
        if (r.any_root() || std::find(r.root_ops().begin(), r.root_ops().end(), op) !=
                                r.root_ops().end())
          list.push_back(ri);
      }
      std::stable_sort(list.begin(), list.end(), [this](int a, int b) {
        return rules_[a].benefit() > rules_[b].benefit();
      });
    }
    return by_op_[id];
  }

  const RuleSet& rules_;
  DriverOptions options_;
  std::vector<int> active_;  // the rules options_ selects, in rule-set order
  std::vector<std::vector<int>> by_op_;
  std::vector<char> built_;  // not vector<bool>: read once per visit
};

// Applies `rules` to `g` to a fixpoint.
inline absl::StatusOr<DriverResult> ApplyRules(Graph& g, const RuleSet& rules,
                                               DriverOptions options = {}) {
  return Driver(rules, std::move(options)).Run(g);
}

// Explain mode: for each node `rule` could be rooted at, why it does (not)
// fire there: the deepest point where the pattern failed, a failed
// constraint, or "matches". Runs a separate pass, so the driver pays nothing.
struct ExplainLine {
  std::string node;    // "%mm = aten::mm.default"
  const Node* root = nullptr;
  bool matched = false;
  // When matched: the nodes the pattern covered, root first (what a
  // rewrite here would replace; graft.report names the rule that removes
  // an op from them).
  std::vector<const Node*> covered;
  std::string where;   // "operand 1 of operand 0"
  std::string reason;
};

inline std::vector<ExplainLine> Explain(const Graph& g, const Rule& rule) {
  std::vector<ExplainLine> lines;
  for (Node* n : g.nodes()) {
    if (!rule.any_root() && std::find(rule.root_ops().begin(), rule.root_ops().end(), n->op()) ==
                                rule.root_ops().end())
      continue;
    MatchState s(g);
    Explanation e;
    s.set_explanation(&e);
    ExplainLine line;
    line.node = NodeLabel(g, n);
    line.root = n;
    line.matched = rule.Match(n, s);
    if (line.matched) {
      line.covered.assign(s.matched().begin(), s.matched().end());
      const Rule::Constraint* c = rule.FailedConstraint(s);
      line.where = "root";
      line.reason = c ? absl::StrCat("matches, but ", Rule::Refusal(*c, s)) : "matches";
    } else {
      line.where = e.where;
      line.reason = e.message;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace graft

#endif  // GRAFT_DRIVER_DRIVER_H_
