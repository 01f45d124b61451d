// graft-opt --dot: a graph as Graphviz, with the nodes a rewrite created
// highlighted.
#ifndef GRAFT_TOOLS_GRAFT_OPT_DOT_H_
#define GRAFT_TOOLS_GRAFT_OPT_DOT_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "graft/ir/graph.h"

namespace graft {
namespace opt {

// Graphviz of `g`; nodes not in `before` (created by rewrites) in orange.
std::string ToDot(const Graph& g, const absl::flat_hash_set<const Node*>& before);

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_DOT_H_
