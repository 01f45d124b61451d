// libFuzzer target: graft's TorchScript importer (graft/interop/torchscript.h)
// on TorchScript IR text.
//
// The input is IR text as torch::jit::parseIR reads it (what
// `print(torch.jit.script(m).graph)` shows), optionally preceded by
// directive lines:
//   # kinds: upbc          one letter per tensor input: user input, parameter,
//                          buffer, constant (so `const W` rules can fire)
//   # types: f32[4, 8], i64[2]   input types, for graphs whose own are not
//                          complete (propagated by graft's shape functions
//                          and meta tensors)
// Text that torch itself refuses (parseIR or Graph::lint throws) is skipped:
// fuzzing torch's parser or its archive reader (torch.jit.load) would test
// libtorch, not graft. Everything after that is graft's: the import, both
// ways (a fresh graph, and in place with write-back), the catalogue's
// rewrites, verify and print round trips, export back to TorchScript. graft
// returning an error status is fine; a crash, a sanitizer report, an escaped
// exception, or a graph graft hands back to torch that fails torch's lint is
// a finding.
#include <torch/csrc/jit/ir/irparser.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "graft/interop/torchscript.h"
#include "tools/fuzz/fuzz_common.h"

namespace {

namespace jit = torch::jit;

// Lints a graph graft produced or patched; torch's complaint is graft's bug.
void LintOrFail(const std::shared_ptr<jit::Graph>& g, const char* what) {
  try {
    g->lint();
  } catch (const std::exception& e) {
    std::ostringstream ir;
    ir << *g;
    graft::fuzz::Fail(std::string(what) + ": torch's lint refuses the graph graft wrote",
                      std::string(e.what()) + "\n" + ir.str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  graft::fuzz::Catalogue();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;  // IR text of a few dozen nodes is plenty
  absl::string_view text(reinterpret_cast<const char*>(data), size);

  graft::TorchScriptImportOptions options;
  // Directive lines first.
  while (absl::StartsWith(text, "#")) {
    size_t eol = text.find('\n');
    absl::string_view line = text.substr(0, eol);
    text = eol == absl::string_view::npos ? absl::string_view() : text.substr(eol + 1);
    if (absl::ConsumePrefix(&line, "# kinds:")) {
      for (char c : line) {
        switch (c) {
          case 'u': options.input_kinds.push_back(graft::InputKind::kUserInput); break;
          case 'p': options.input_kinds.push_back(graft::InputKind::kParameter); break;
          case 'b': options.input_kinds.push_back(graft::InputKind::kBuffer); break;
          case 'c': options.input_kinds.push_back(graft::InputKind::kConstant); break;
          default: break;
        }
      }
    } else if (absl::ConsumePrefix(&line, "# types:")) {
      auto types = graft::ParseTypeList(line, "# types");
      if (!types.ok()) return 0;
      options.input_types = std::move(*types);
    }
  }

  // torch's side: parse and lint. Exceptions here are torch refusing the text.
  auto jg = std::make_shared<jit::Graph>();
  std::shared_ptr<jit::Graph> copy;
  try {
    jit::parseIR(std::string(text), jg.get(), /*parse_tensor_constants=*/true);
    jg->lint();
    copy = jg->copy();
  } catch (const std::exception& e) {
    graft::fuzz::Note("torch parseIR/lint", absl::InvalidArgumentError(graft::torchscript_internal::FirstLine(e.what())));
    return 0;
  }

  // 1. A fresh import, rewritten like graft-opt does, exported back.
  auto imported = graft::ImportTorchScript(*copy, options);
  graft::fuzz::Note("import", imported.status());
  if (imported.ok()) {
    graft::Graph& g = **imported;
    graft::fuzz::VerifyRewriteCheck(g);
    if (graft::Verify(g).ok()) {
      auto exported = graft::ExportTorchScript(g);
      graft::fuzz::Note("export", exported.status());
      if (exported.ok()) LintOrFail(*exported, "export");
    }
  }

  // 2. In place: import with provenance, rewrite, write back into jg.
  auto rw = graft::TorchScriptInPlace::ForGraph(jg, options);
  graft::fuzz::Note("in-place import", rw.status());
  if (rw.ok()) {
    graft::Graph& g = (*rw)->graph();
    if (graft::Verify(g).ok()) {
      auto r = graft::ApplyRules(g, graft::fuzz::Catalogue(), graft::fuzz::FuzzDriverOptions());
      if (r.ok() && graft::Verify(g).ok()) {
        absl::Status c = (*rw)->Commit();
        graft::fuzz::Note("commit", c);
        if (c.ok()) LintOrFail(jg, "in-place write-back");
      }
    }
  }
  return 0;
}
