// graft-opt's entry point: the formats it knows, the built-in catalogue and
// --prove. The only file of the tool that includes libtorch
// (torchscript_format.h, graft/prove/prove.h).
#include <iostream>

#include "graft/prove/prove.h"
#include "tools/graft_opt/exir_format.h"
#include "tools/graft_opt/graft_opt.h"
#include "tools/graft_opt/torchscript_format.h"

namespace {
constexpr graft::opt::EmbeddedFile kCatalogue[] = {
#include "patterns/catalogue.inc"
};

// --prove through graft/prove/prove.h, each verdict printed as found.
graft::opt::Prover MakeProver() {
  const graft::prove::Options defaults;
  graft::opt::Prover p;
  p.defaults.instances = defaults.instances;
  p.defaults.seed = static_cast<int64_t>(defaults.seed);
  p.defaults.max_tries = defaults.max_tries;
  p.defaults.max_seconds = static_cast<int>(defaults.max_seconds);
  p.run = [](const graft::rules::RuleLoader& loader, const graft::opt::ProveSettings& s)
      -> absl::StatusOr<graft::opt::ProveCounts> {
    graft::prove::Options o;
    o.instances = s.instances;
    o.seed = static_cast<uint64_t>(s.seed);
    o.max_tries = s.max_tries;
    o.max_seconds = s.max_seconds;
    o.only = s.only;
    graft::opt::ProveCounts counts;
    auto verdicts = graft::prove::ProveRules(loader, o, [&counts](const graft::prove::Verdict& v) {
      std::cout << graft::prove::Format(v) << std::flush;
      switch (v.outcome) {
        case graft::prove::Verdict::kProven: ++counts.proven; break;
        case graft::prove::Verdict::kCounterexample: ++counts.counterexamples; break;
        case graft::prove::Verdict::kUnprovable: ++counts.unprovable; break;
      }
    });
    if (!verdicts.ok()) return verdicts.status();
    return counts;
  };
  return p;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<graft::opt::Format> formats = {graft::opt::TextFormat(), graft::opt::ExirFormat(),
                                             graft::opt::ExirZipFormat(),
                                             graft::opt::TorchScriptFormat()};
  return graft::opt::Main(argc, argv, formats, kCatalogue, MakeProver());
}
