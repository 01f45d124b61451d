// The verifier: checks that a graph is well formed, naming the first node
// that is not.
//   - SSA and dominance: every argument is a graph input or the result of a
//     node earlier in the (topological) node list; no erased node is used;
//   - use-lists agree with arguments and outputs: every argument and output
//     is the use at the position it records, every use is an argument or
//     output that records that position, and no use is by an erased node or
//     a node of another graph;
//   - arguments fit the op's schema (count and kinds);
//   - result types equal what the op's shape function computes.
// Rewrites run it after every change in debug mode and in tests. It is
// linear in the graph's size, fan-out included: a use is checked through the
// positions the graph stores, never by scanning a use-list (a value with
// 100k uses took 8 s when each argument searched its value's list).
#ifndef GRAFT_IR_VERIFIER_H_
#define GRAFT_IR_VERIFIER_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/ir/op_call.h"
#include "graft/ir/printer.h"

namespace graft {

namespace verifier_internal {

// Whether `u`, at position `pos` in `v`'s use-list, is an argument of a live
// node (or a graph output) that holds `v` and records `pos`. Together with
// the argument-side check this makes use entries and argument slots a
// bijection: a duplicated, swapped or stale entry fails one side or the
// other.
inline bool UseIsConsistent(const Graph& g, const Value* v, const Use& u, uint32_t pos) {
  if (u.user)
    return !u.user->is_dead() && u.index < static_cast<uint32_t>(u.user->num_args()) &&
           u.user->arg(static_cast<int>(u.index)) == Arg(const_cast<Value*>(v)) &&
           u.user->use_position(static_cast<int>(u.index)) == pos;
  return u.index < g.num_outputs() && g.output(u.index) == v &&
         g.output_use_position(u.index) == pos;
}

inline std::string InputLabel(const Graph& g, const Value* v) {
  absl::string_view name = g.name(v);
  return name.empty() ? absl::StrCat("input ", v->index()) : absl::StrCat("input %", name);
}

}  // namespace verifier_internal

inline absl::Status Verify(const Graph& g) {
  using verifier_internal::UseIsConsistent;
  absl::flat_hash_set<const Value*> defined(g.inputs().begin(), g.inputs().end());
  auto fail = [&g](const Node* n, absl::string_view msg) {
    return absl::FailedPreconditionError(absl::StrCat("node ", NodeLabel(g, n), ": ", msg));
  };
  // Use entries listed by the graph's values, and the argument slots and
  // outputs that account for them; they differ only when a node outside the
  // graph uses one of its values (every other bad entry fails a check below).
  size_t listed_uses = 0, slots = g.num_outputs();
  for (const Value* v : g.inputs()) listed_uses += v->num_uses();
  std::vector<Arg> args;
  for (const Node* n : g.nodes()) {
    if (n->is_dead()) return fail(n, "erased node still linked");
    for (int i = 0; i < n->num_args(); ++i) {
      Arg a = n->arg(i);
      if (a.is_null()) return fail(n, absl::StrCat("argument ", i, " is missing"));
      const Value* v = a.value();
      if (!v) continue;
      ++slots;
      if (v->def() && v->def()->is_dead())
        return fail(n, absl::StrCat("argument ", i, " is a result of erased node ",
                                    NodeLabel(g, v->def())));
      if (!defined.contains(v))
        return fail(n, absl::StrCat("argument ", i,
                                    " is not defined before its use (graph not in "
                                    "topological order, or value from another graph)"));
      absl::Span<const Use> uses = v->uses();
      uint32_t pos = n->use_position(i);
      auto is_this_arg = [n, i](const Use& u) {
        return u.user == n && u.index == static_cast<uint32_t>(i);
      };
      if (pos >= uses.size() || !is_this_arg(uses[pos])) {
        // Failing anyway: a scan to say which of two corruptions it is.
        bool elsewhere = std::any_of(uses.begin(), uses.end(), is_this_arg);
        return fail(n, elsewhere ? absl::StrCat("argument ", i,
                                                " is in its use-list but not at the position "
                                                "it records (",
                                                pos, ")")
                                 : absl::StrCat("argument ", i, " is missing from its use-list"));
      }
    }
    for (int i = 0; i < n->num_results(); ++i) {
      const Value* r = n->result(i);
      listed_uses += r->num_uses();
      absl::Span<const Use> uses = r->uses();
      for (uint32_t p = 0; p < uses.size(); ++p) {
        if (!UseIsConsistent(g, r, uses[p], p))
          return fail(n, absl::StrCat("result ", i, " has a stale use"));
      }
    }
    if (const OpSchema* s = n->schema()) {
      args.clear();
      for (int i = 0; i < n->num_args(); ++i) args.push_back(n->arg(i));
      if (absl::Status st = CheckArgs(n->op(), args); !st.ok()) return fail(n, st.message());
      if (s->num_results != OpSchema::kListResults && n->num_results() != s->num_results)
        return fail(n, absl::StrCat("has ", n->num_results(), " results, the schema says ",
                                    s->num_results));
    }
    if (const OpSchema* s = n->schema(); s && s->shape_fn) {
      auto types = InferCheckedTypes(n->op(), args);
      if (!types.ok()) return fail(n, types.status().message());
      for (int i = 0; i < n->num_results(); ++i) {
        if (!Refines(n->result(i)->type(), (*types)[i]))
          return fail(n, absl::StrCat("result ", i, " has type ", n->result(i)->type().ToString(),
                                      " but the op computes ", (*types)[i].ToString()));
      }
    }
    for (int i = 0; i < n->num_results(); ++i) defined.insert(n->result(i));
  }
  for (size_t i = 0; i < g.num_outputs(); ++i) {
    const Value* v = g.output(i);
    if (v->def() && v->def()->is_dead())
      return absl::FailedPreconditionError(
          absl::StrCat("output ", i, " is a result of erased node ", NodeLabel(g, v->def())));
    if (!defined.contains(v))
      return absl::FailedPreconditionError(
          absl::StrCat("output ", i, " is not defined (a value from another graph?)"));
    absl::Span<const Use> uses = v->uses();
    uint32_t pos = g.output_use_position(i);
    if (pos >= uses.size() || uses[pos].user != nullptr || uses[pos].index != i)
      return absl::FailedPreconditionError(
          absl::StrCat("output ", i, " is not at the position it records in its use-list"));
  }
  for (const Value* v : g.inputs()) {
    absl::Span<const Use> uses = v->uses();
    for (uint32_t p = 0; p < uses.size(); ++p) {
      if (!UseIsConsistent(g, v, uses[p], p))
        return absl::FailedPreconditionError(
            absl::StrCat(verifier_internal::InputLabel(g, v), " has a stale use"));
    }
  }
  if (listed_uses != slots) {
    // Off the fast path: find the use whose user is not in this graph.
    absl::flat_hash_set<const Node*> linked;
    for (const Node* n : g.nodes()) linked.insert(n);
    auto foreign = [&linked](const Value* v) -> const Node* {
      for (const Use& u : v->uses()) {
        if (u.user && !linked.contains(u.user)) return u.user;
      }
      return nullptr;
    };
    for (const Value* v : g.inputs()) {
      if (const Node* user = foreign(v))
        return absl::FailedPreconditionError(
            absl::StrCat(verifier_internal::InputLabel(g, v), " is used by ",
                         user->op()->name(), ", a node of another graph"));
    }
    for (const Node* n : g.nodes()) {
      for (int i = 0; i < n->num_results(); ++i) {
        if (const Node* user = foreign(n->result(i)))
          return fail(n, absl::StrCat("result ", i, " is used by ", user->op()->name(),
                                      ", a node of another graph"));
      }
    }
    return absl::InternalError(absl::StrCat("use-lists hold ", listed_uses,
                                            " uses, arguments and outputs make ", slots));
  }
  return absl::OkStatus();
}

}  // namespace graft

#endif  // GRAFT_IR_VERIFIER_H_
