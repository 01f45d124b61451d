// graft-opt: reads a graph, applies rewrite rules to a fixpoint, writes the
// result; in the style of mlir-opt. main.cc supplies the formats and the
// built-in rule catalogue (it alone includes libtorch); graft_opt.cc is the
// rest: flags, loading, rewriting, writing, and errors as exit statuses.
#ifndef GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
#define GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graft/rules/loader.h"
#include "tools/graft_opt/formats.h"

namespace graft {
namespace opt {

// A rule file compiled into the binary (patterns/catalogue.inc).
struct EmbeddedFile {
  const char* name;
  const char* text;
};

// --prove's settings (graft/prove/prove.h's Options, as the command line
// spells them).
struct ProveSettings {
  int instances = 0;
  int64_t seed = 0;
  int max_tries = 0;
  int max_seconds = 0;
  std::vector<std::string> only;  // --only
};

// How many rules came out which way.
struct ProveCounts {
  int proven = 0, counterexamples = 0, unprovable = 0;
};

// --prove's engine, supplied by main.cc, which alone links libtorch:
// `defaults` are the settings --help shows; `run` proves the rules
// `loader` holds, printing each verdict to standard output.
struct Prover {
  ProveSettings defaults;
  std::function<absl::StatusOr<ProveCounts>(const rules::RuleLoader& loader,
                                            const ProveSettings& settings)>
      run;
};

// The whole tool; returns the exit status (graft-opt --help lists them).
int Main(int argc, char** argv, const std::vector<Format>& formats,
         absl::Span<const EmbeddedFile> catalogue, const Prover& prover);

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
