#include "tools/graft_opt/dot.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace graft {
namespace opt {

namespace {

// `s` inside a double-quoted Graphviz string.
std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string ToDot(const Graph& g, const absl::flat_hash_set<const Node*>& before) {
  std::string out = "digraph graft {\n  rankdir=TB;\n  node [shape=box, fontname=monospace];\n";
  absl::flat_hash_map<const Value*, std::string> id;
  int k = 0;
  for (const Value* in : g.inputs()) {
    std::string name = absl::StrCat("in", k++);
    id[in] = name;
    absl::StrAppend(&out, "  ", name, " [shape=ellipse, label=\"%", Escape(g.name(in)), "\\n",
                    InputKindName(g.input_kind(in)), " ", in->type().ToString(), "\"];\n");
  }
  for (const Node* n : g.nodes()) {
    std::string name = absl::StrCat("n", k++);
    for (int i = 0; i < n->num_results(); ++i) id[n->result(i)] = name;
    std::string type = n->num_results() ? n->result(0)->type().ToString() : "";
    absl::StrAppend(&out, "  ", name, " [label=\"", Escape(n->op()->name()), "\\n", type, "\"",
                    before.contains(n) ? "" : ", style=filled, fillcolor=orange", "];\n");
    for (int i = 0; i < n->num_args(); ++i) {
      if (Value* v = n->operand(i)) absl::StrAppend(&out, "  ", id[v], " -> ", name, ";\n");
    }
  }
  for (size_t i = 0; i < g.num_outputs(); ++i)
    absl::StrAppend(&out, "  out", i, " [shape=ellipse, label=\"output ", i, "\"];\n  ",
                    id[g.output(i)], " -> out", i, ";\n");
  return out + "}\n";
}

}  // namespace opt
}  // namespace graft
