// libFuzzer target: graft's exir JSON reader and writer
// (graft/interop/exir_json.h), as graft-opt's exir format uses them.
//
// Input: the text of serialized_exported_program.json. A program that
// imports is rewritten with the catalogue like graft-opt does (verify,
// rewrite, verify, print round trips: tools/fuzz/fuzz_common.h), written
// back, and what Write() produces must be read again. A parse or import
// error status is fine; a crash, an abort (an uncaught JSON exception
// included), a sanitizer report or a timeout is a finding.
#include <cstddef>
#include <cstdint>

#include "graft/interop/exir_json.h"
#include "tools/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  graft::fuzz::Catalogue();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 262144) return 0;
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = graft::exir::Program::Parse(text, "<fuzz>");
  graft::fuzz::Note("exir import", p.status());
  if (!p.ok()) return 0;
  graft::fuzz::VerifyRewriteCheck(p->graph());
  auto out = p->Write();
  graft::fuzz::Note("write", out.status());
  if (!out.ok()) return 0;
  auto again = graft::exir::Program::Parse(*out, "<written>");
  if (!again.ok())
    graft::fuzz::Fail("graft cannot read the program it wrote",
                      std::string(again.status().message()) + "\n" + *out);
  return 0;
}
