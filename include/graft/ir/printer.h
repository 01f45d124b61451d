// The text form of a graph, one node a line:
//
//   graph @whisper_logits(
//       %x: f32[1, 128, 384],
//       parameter %p_token_embedding_weight: f32[51864, 384] "token_embedding.weight") {
//     %permute = aten::permute_copy.default(%p_token_embedding_weight, [1, 0]) : f32[384, 51864]
//     %mm = aten::mm.default(%view, %permute) : f32[128, 51864] loc("decoder.py:42")
//     return %out
//   }
//
// Inputs carry their kind (`input` is the default and is not printed) and the
// name the source program gave them. graft/ir/parser.h reads it back:
// Parse(Print(g)) is g again, names included (the printer makes duplicate
// names unique).
#ifndef GRAFT_IR_PRINTER_H_
#define GRAFT_IR_PRINTER_H_

#include <cctype>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"

namespace graft {

namespace printer_internal {

// Names that survive a round trip: [A-Za-z0-9_.] only, unique in the graph.
class Namer {
 public:
  Namer(const Graph& g, bool number_nodes) : g_(g), number_nodes_(number_nodes) {}
  const std::string& operator()(const Value* v) {
    auto it = names_.find(v);
    if (it != names_.end()) return it->second;
    std::string base = number_nodes_ && !v->is_input() ? std::string() : std::string(g_.name(v));
    for (char& c : base) {
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) c = '_';
    }
    std::string name = base.empty() ? absl::StrCat(next_++) : base;
    for (int k = 1; !used_.insert(name).second; ++k) {
      name = base.empty() ? absl::StrCat(next_++) : absl::StrCat(base, "_", k);
    }
    return names_[v] = name;
  }

 private:
  const Graph& g_;
  bool number_nodes_;
  absl::flat_hash_map<const Value*, std::string> names_;
  absl::flat_hash_set<std::string> used_;
  int next_ = 0;
};

}  // namespace printer_internal

// "%mm = aten::mm.default(...)" style label used in error messages.
inline std::string NodeLabel(const Graph& g, const Node* n) {
  std::string name = n->num_results() > 0 ? std::string(g.name(n->result(0))) : "";
  std::string out = name.empty() ? std::string(n->op()->name())
                                 : absl::StrCat("%", name, " = ", n->op()->name());
  if (n->loc()) absl::StrAppend(&out, " (", g.loc(n->loc()), ")");
  return out;
}

// Prints one node (without indentation or newline) using `namer`.
template <typename Namer>
void PrintNode(const Graph& g, const Node* n, Namer& namer, std::string* out) {
  for (int i = 0; i < n->num_results(); ++i)
    absl::StrAppend(out, i ? ", " : "", "%", namer(n->result(i)));
  if (n->num_results() > 0) out->append(" = ");
  absl::StrAppend(out, n->op()->name(), "(");
  for (int i = 0; i < n->num_args(); ++i) {
    if (i) out->append(", ");
    Arg a = n->arg(i);
    if (Value* v = a.value()) {
      absl::StrAppend(out, "%", namer(v));
    } else {
      out->append(a.literal()->ToString());
    }
  }
  out->append(")");
  for (int i = 0; i < n->num_results(); ++i)
    absl::StrAppend(out, i ? ", " : " : ", n->result(i)->type().ToString());
  if (n->loc()) absl::StrAppend(out, " loc(", Literal::String(g.loc(n->loc()))->ToString(), ")");
}

struct PrintOptions {
  // Name node results %0, %1, ... in order instead of by their names, so
  // graphs that differ only in value names print the same (tests compare
  // graphs this way). Inputs keep their names: they are the interface.
  bool number_nodes = false;
};

inline std::string Print(const Graph& g, PrintOptions options = {}) {
  printer_internal::Namer namer(g, options.number_nodes);
  // The graph name obeys the value names' rule too, or it would not parse.
  std::string name = g.name().empty() ? "main" : g.name();
  for (char& c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) c = '_';
  }
  std::string out = absl::StrCat("graph @", name, "(");
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const Value* in = g.inputs()[i];
    absl::StrAppend(&out, i ? ",\n    " : "\n    ");
    if (g.input_kind(in) != InputKind::kUserInput)
      absl::StrAppend(&out, InputKindName(g.input_kind(in)), " ");
    absl::StrAppend(&out, "%", namer(in), ": ", in->type().ToString());
    if (!g.original_name(in).empty())
      absl::StrAppend(&out, " ", Literal::String(g.original_name(in))->ToString());
  }
  out.append(") {\n");
  for (const Node* n : g.nodes()) {
    out.append("  ");
    PrintNode(g, n, namer, &out);
    out.append("\n");
  }
  out.append("  return");
  for (size_t i = 0; i < g.num_outputs(); ++i)
    absl::StrAppend(&out, i ? ", " : " ", "%", namer(g.output(i)));
  out.append("\n}\n");
  return out;
}

}  // namespace graft

#endif  // GRAFT_IR_PRINTER_H_
