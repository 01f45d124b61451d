// graft-opt's entry point: the formats it knows and the built-in catalogue.
// The only file of the tool that includes libtorch (torchscript_format.h).
#include "tools/graft_opt/exir_format.h"
#include "tools/graft_opt/graft_opt.h"
#include "tools/graft_opt/torchscript_format.h"

namespace {
constexpr graft::opt::EmbeddedFile kCatalogue[] = {
#include "patterns/catalogue.inc"
};
}  // namespace

int main(int argc, char** argv) {
  std::vector<graft::opt::Format> formats = {graft::opt::TextFormat(), graft::opt::ExirFormat(),
                                             graft::opt::ExirZipFormat(),
                                             graft::opt::TorchScriptFormat()};
  return graft::opt::Main(argc, argv, formats, kCatalogue);
}
