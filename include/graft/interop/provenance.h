// Where an imported node came from: one scheme for every interop.
//
// An importer gives each node it creates the graph location
// `<node> @ <file>:<line>` (Provenance::ToString): the node's name in the
// program it was read from (`aten_mm_default` in an exir program; left out
// where names do not identify nodes, as TorchScript's do not survive
// torch.jit.save) and the innermost user source line. The location is what
// travels with the node: the printer shows it, exporters turn it back into
// source lines, and Rule::Apply copies the matched root's location to the
// nodes it builds, so a replacement carries the provenance of the node it
// replaced.
//
// The importer also records, in an Origins map, the source node behind each
// node it created. The writer of the same interop asks it:
//   - Of(n): what n was imported as, for n a rewrite kept (patch it in
//     place);
//   - Inherited(n): the source node whose location n carries, n's own or
//     that of the root a rewrite replaced (copy its metadata). Exact where
//     locations name their node (exir); else the first node imported with
//     that location.
// Keys are node pointers, which stay valid: erased nodes stay in the graph's
// arena until the graph is destroyed.
#ifndef GRAFT_INTEROP_PROVENANCE_H_
#define GRAFT_INTEROP_PROVENANCE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/ir/graph.h"

namespace graft {

struct Provenance {
  std::string node;  // name in the source program; "" if unknown
  std::string file;  // base name of the user's source file; "" if unknown
  int64_t line = 0;  // 0 if unknown

  // `<node> @ <file>:<line>`; a missing part leaves out its separator:
  // `<node>`, `<file>:<line>`, `<node> @ <file>`.
  std::string ToString() const {
    std::string source = file;
    if (!file.empty() && line > 0) absl::StrAppend(&source, ":", line);
    if (node.empty()) return source;
    if (source.empty()) return node;
    return absl::StrCat(node, " @ ", source);
  }

  // The inverse of ToString. A location without ` @ ` is a source line when
  // it ends in `:<line>` (`decoder.py:42`, as text graphs and rule files
  // write them) and a node name otherwise.
  static Provenance Parse(absl::string_view loc) {
    Provenance p;
    absl::string_view source = loc;
    size_t at = loc.rfind(" @ ");
    if (at != absl::string_view::npos) {
      p.node = std::string(loc.substr(0, at));
      source = loc.substr(at + 3);
    }
    size_t colon = source.rfind(':');
    int64_t line = 0;
    bool has_line = colon != absl::string_view::npos &&
                    absl::SimpleAtoi(source.substr(colon + 1), &line) && line > 0;
    if (at == absl::string_view::npos && !has_line) {
      p.node = std::string(loc);
      return p;
    }
    p.file = std::string(has_line ? source.substr(0, colon) : source);
    p.line = has_line ? line : 0;
    return p;
  }

  // `decoder.py` for `/home/me/model/decoder.py`: locations stay short and do
  // not depend on where the model was built.
  static std::string BaseName(absl::string_view path) {
    size_t slash = path.rfind('/');
    return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
  }
};

// The source node (`Source`: a JSON index, a TorchScript node, ...) behind
// each node an importer created; see the top of this file.
template <typename Source>
class Origins {
 public:
  // Records that `n`, whose location is already set, was imported from
  // `source`. The first node recorded with a location owns it.
  void Record(const Node* n, Source source) {
    by_node_.emplace(n, std::move(source));
    if (n->loc()) by_loc_.try_emplace(n->loc(), n);
  }

  // What `n` was imported as; null for nodes a rewrite created.
  const Source* Of(const Node* n) const {
    auto it = by_node_.find(n);
    return it == by_node_.end() ? nullptr : &it->second;
  }

  // The source of the imported node whose location `n` carries: n's own,
  // or that of the root a rewrite replaced; null for a location no import
  // gave (nodes built without one).
  const Source* Inherited(const Node* n) const {
    auto it = by_loc_.find(n->loc());
    return it == by_loc_.end() ? nullptr : Of(it->second);
  }

  bool contains(const Node* n) const { return by_node_.contains(n); }

  // Every imported node with its source, in no particular order (erased
  // nodes included: they say what the writer has to remove).
  auto begin() const { return by_node_.begin(); }
  auto end() const { return by_node_.end(); }

 private:
  absl::flat_hash_map<const Node*, Source> by_node_;
  absl::flat_hash_map<uint32_t, const Node*> by_loc_;
};

}  // namespace graft

#endif  // GRAFT_INTEROP_PROVENANCE_H_
