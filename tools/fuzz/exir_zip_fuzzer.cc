// libFuzzer target: graft's exir zip reader and writer
// (graft/interop/exir_zip.h) with the program inside, as graft-opt's exir
// and exir-zip formats use them (tools/graft_opt/exir_format.h).
//
// Input: the bytes of an executorch.exir.save zip. The archive's entries
// are read (zip::ReadStored), the program entry's JSON imported and
// rewritten with the catalogue, and the archive written back with the new
// program (WriteWithProgram) must read again, with the same entries. Note:
// the program entry carries a CRC, so mutations of its JSON mostly stop at
// the CRC check; the JSON reader has its own target (exir_json). An error
// status is fine; a crash, abort, sanitizer report, timeout or an archive
// graft cannot read back is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "graft/interop/exir_json.h"
#include "graft/interop/exir_zip.h"
#include "tools/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  graft::fuzz::Catalogue();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // As graft-opt decides: a zip by its magic, else JSON (exir_json covers it).
  if (!graft::zip::LooksLikeZip(bytes)) return 0;
  auto a = graft::exir::Archive::Parse(bytes, "<fuzz.zip>");
  graft::fuzz::Note("zip", a.status());
  if (!a.ok()) return 0;
  auto p = graft::exir::Program::Parse(a->program_json(), "<fuzz.zip>:program");
  graft::fuzz::Note("exir import", p.status());
  if (!p.ok()) return 0;
  graft::fuzz::VerifyRewriteCheck(p->graph());
  auto json = p->Write();
  graft::fuzz::Note("write", json.status());
  if (!json.ok()) return 0;
  auto zip = a->WriteWithProgram(*json);
  if (!zip.ok()) return 0;
  auto b = graft::exir::Archive::Parse(*zip, "<written.zip>");
  if (!b.ok())
    graft::fuzz::Fail("graft cannot read the archive it wrote", std::string(b.status().message()));
  if (b->entries().size() != a->entries().size() || b->program_json() != *json)
    graft::fuzz::Fail("the archive written back lost entries or the program");
  for (size_t i = 0; i < a->entries().size(); ++i) {
    const auto& x = a->entries()[i];
    const auto& y = b->entries()[i];
    if (x.name != y.name || (x.name != graft::exir::kProgramEntry && x.data != y.data))
      graft::fuzz::Fail("entry " + x.name + " changed in the archive written back");
  }
  return 0;
}
