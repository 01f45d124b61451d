// The verifier: checks that a graph is well formed, naming the first node
// that is not.
//   - SSA and dominance: every argument is a graph input or the result of a
//     node earlier in the (topological) node list; no erased node is used;
//   - use-lists agree with arguments and outputs;
//   - arguments fit the op's schema (count and kinds);
//   - result types equal what the op's shape function computes.
// Rewrites run it after every change in debug mode and in tests.
#ifndef GRAFT_IR_VERIFIER_H_
#define GRAFT_IR_VERIFIER_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/ops/infer.h"

namespace graft {

// "%mm = aten::mm.default(...)" style label used in error messages.
inline std::string NodeLabel(const Graph& g, const Node* n) {
  std::string name = n->num_results() > 0 ? std::string(g.name(n->result(0))) : "";
  std::string out = name.empty() ? std::string(n->op()->name())
                                 : absl::StrCat("%", name, " = ", n->op()->name());
  if (n->loc()) absl::StrAppend(&out, " (", g.loc(n->loc()), ")");
  return out;
}

inline absl::Status Verify(const Graph& g) {
  absl::flat_hash_set<const Value*> defined(g.inputs().begin(), g.inputs().end());
  auto fail = [&g](const Node* n, absl::string_view msg) {
    return absl::FailedPreconditionError(absl::StrCat("node ", NodeLabel(g, n), ": ", msg));
  };
  for (const Node* n : g.nodes()) {
    if (n->is_dead()) return fail(n, "erased node still linked");
    for (int i = 0; i < n->num_args(); ++i) {
      Arg a = n->arg(i);
      if (a.is_null()) return fail(n, absl::StrCat("argument ", i, " is missing"));
      const Value* v = a.value();
      if (!v) continue;
      if (v->def() && v->def()->is_dead())
        return fail(n, absl::StrCat("argument ", i, " is a result of erased node ",
                                    NodeLabel(g, v->def())));
      if (!defined.contains(v))
        return fail(n, absl::StrCat("argument ", i,
                                    " is not defined before its use (graph not in "
                                    "topological order, or value from another graph)"));
      bool found = false;
      for (const Use& u : v->uses()) found |= u.user == n && u.index == static_cast<uint32_t>(i);
      if (!found) return fail(n, absl::StrCat("argument ", i, " is missing from its use-list"));
    }
    for (int i = 0; i < n->num_results(); ++i) {
      for (const Use& u : n->result(i)->uses()) {
        bool ok = u.user ? u.index < static_cast<uint32_t>(u.user->num_args()) &&
                               u.user->arg(u.index) == Arg(n->result(i))
                         : u.index < g.num_outputs() && g.output(u.index) == n->result(i);
        if (!ok) return fail(n, absl::StrCat("result ", i, " has a stale use"));
      }
    }
    if (const OpSchema* s = n->schema()) {
      std::vector<Arg> args;
      for (int i = 0; i < n->num_args(); ++i) args.push_back(n->arg(i));
      if (absl::Status st = CheckArgs(n->op(), args); !st.ok()) return fail(n, st.message());
      if (n->num_results() != s->num_results)
        return fail(n, absl::StrCat("has ", n->num_results(), " results, the schema says ",
                                    s->num_results));
      auto types = s->shape_fn(OpCall(n->op(), args));
      if (!types.ok()) return fail(n, types.status().message());
      for (int i = 0; i < n->num_results(); ++i) {
        if (n->result(i)->type() != (*types)[i])
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
  }
  return absl::OkStatus();
}

}  // namespace graft

#endif  // GRAFT_IR_VERIFIER_H_
