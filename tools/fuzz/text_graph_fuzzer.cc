// libFuzzer target: graft's text graph parser (graft/ir/parser.h).
//
// Input: graph text (`graph @main(%x: f32[4, 8]) { ... }`), one graph or
// several (as in patterns/*.cases). Each graph that parses goes the way
// graft-opt takes it: Verify; if it verifies, print -> parse -> print must
// be the identity, the catalogue's rules rewrite it, and the result must
// verify and round-trip again (tools/fuzz/fuzz_common.h). A parse or verify
// error status is fine; a crash, sanitizer report, timeout or broken
// invariant is a finding.
#include <cstddef>
#include <cstdint>

#include "tools/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  graft::fuzz::Catalogue();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto one = graft::ParseGraph(text, graft::Ops());
  auto all = graft::ParseGraphs(text, graft::Ops());
  if (one.ok() && (!all.ok() || all->size() != 1))
    graft::fuzz::Fail("ParseGraph accepts text ParseGraphs does not read as one graph");
  if (!all.ok()) return 0;
  for (auto& g : *all) graft::fuzz::VerifyRewriteCheck(*g);
  return 0;
}
