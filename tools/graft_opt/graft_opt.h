// graft-opt: reads a graph, applies rewrite rules to a fixpoint, writes the
// result; in the style of mlir-opt. main.cc supplies the formats and the
// built-in rule catalogue (it alone includes libtorch); graft_opt.cc is the
// rest: flags, loading, rewriting, writing, and errors as exit statuses.
#ifndef GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
#define GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_

#include <vector>

#include "absl/types/span.h"
#include "tools/graft_opt/formats.h"

namespace graft {
namespace opt {

// A rule file compiled into the binary (patterns/catalogue.inc).
struct EmbeddedFile {
  const char* name;
  const char* text;
};

// The whole tool; returns the exit status (graft-opt --help lists them).
int Main(int argc, char** argv, const std::vector<Format>& formats,
         absl::Span<const EmbeddedFile> catalogue);

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
