// libFuzzer target: graft's rule-file loader with includes
// (graft/rules/loader.h), then the loaded rules at work.
//
// Input: up to three rule files separated by lines `---`. They are written
// to a private temporary directory as main.rules, lib.rules and
// sub/deep.rules (a part left out keeps the fixed text below), and
// main.rules is loaded from disk, so `include "lib.rules"`,
// `include "sub/deep.rules"`, `include "../lib.rules"` from deep.rules,
// cycles and missing files are all real. main.rules is also loaded as text
// (RuleLoader::AddText, where include is refused). Rules that load are
// applied to four graphs of patterns/*.cases and tests/fixtures (read once;
// which four depends on the input), and every rewritten graph must verify
// and round-trip.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tools/fuzz/fuzz_common.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultLib = R"(# lib.rules (fixed)
alias tr(a) = permute_copy(a, [1, 0]) | t_copy(a)
rule lib_mm_tr: mm(x, tr(const W)) -> linear(x, W)
)";
constexpr const char* kDefaultDeep = R"(# sub/deep.rules (fixed)
include "../lib.rules"
rule deep_relu_relu: relu(relu(x)) -> relu(x)
)";

std::string& Dir() {
  static std::string dir;
  return dir;
}

void RemoveDir() {
  std::error_code ec;
  if (!Dir().empty()) fs::remove_all(Dir(), ec);
}

void Write(const fs::path& p, absl::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) graft::fuzz::Fail("cannot write " + p.string());
}

// The graphs rules are tried on: every graph of patterns/*.cases and the
// fixtures that verifies.
const std::vector<std::string>& Graphs() {
  static const auto* graphs = [] {
    auto* v = new std::vector<std::string>;
    fs::path patterns(std::getenv("GRAFT_FUZZ_PATTERNS") ? std::getenv("GRAFT_FUZZ_PATTERNS")
                                                         : GRAFT_FUZZ_PATTERNS_DIR);
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(patterns, ec))
      if (e.path().extension() == ".cases") files.push_back(e.path());
    files.push_back(patterns.parent_path() / "tests/fixtures/whisper_logits.graft");
    for (const fs::path& f : files) {
      auto text = graft::rules::ReadFile(f.string());
      if (!text.ok()) continue;
      // A .cases file is graphs between `case` lines; keep the graph blocks.
      std::string graphs_only;
      for (absl::string_view line : absl::StrSplit(*text, '\n'))
        if (!absl::StartsWith(line, "case ")) absl::StrAppend(&graphs_only, line, "\n");
      auto gs = graft::ParseGraphs(graphs_only, graft::Ops(), f.string());
      if (!gs.ok()) continue;
      for (auto& g : *gs)
        if (graft::Verify(*g).ok()) v->push_back(graft::Print(*g));
    }
    if (v->empty()) graft::fuzz::Fail("no graphs to apply rules to (patterns/*.cases)");
    return v;
  }();
  return *graphs;
}

// A hash that is the same in every process (absl's is seeded per process).
size_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return static_cast<size_t>(h);
}

// Applies `rules` to four of the graphs, picked by `seed` (the input's hash,
// so a finding replays): all of them would cost ~100 rewrites per input.
void ApplySome(const graft::RuleSet& rules, size_t seed) {
  const std::vector<std::string>& graphs = Graphs();
  for (size_t i = 0; i < 4 && i < graphs.size(); ++i) {
    const std::string& text = graphs[(seed + i * 7919) % graphs.size()];
    auto g = graft::ParseGraph(text, graft::Ops());
    if (!g.ok()) graft::fuzz::Fail("a seed graph no longer parses", text);
    auto r = graft::ApplyRules(**g, rules, graft::fuzz::FuzzDriverOptions());
    if (!r.ok()) continue;
    if (absl::Status v = graft::Verify(**g); !v.ok())
      graft::fuzz::Fail("a loaded rule file broke a graph", std::string(v.message()) + "\n" +
                                                                 graft::Print(**g));
    graft::fuzz::CheckPrintRoundTrip(**g, "rewritten");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = (fs::temp_directory_path() / "graft_rules_fuzz.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) graft::fuzz::Fail("mkdtemp failed");
  Dir() = tmpl;
  fs::create_directories(fs::path(tmpl) / "sub");
  atexit(RemoveDir);
  Graphs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits("\n---\n", 2));
  fs::path dir(Dir());
  Write(dir / "main.rules", parts[0]);
  Write(dir / "lib.rules", parts.size() > 1 ? parts[1] : kDefaultLib);
  Write(dir / "sub" / "deep.rules", parts.size() > 2 ? parts[2] : kDefaultDeep);

  auto from_disk = graft::rules::LoadRules({(dir / "main.rules").string()});
  graft::fuzz::Note("load from disk", from_disk.status());
  if (from_disk.ok()) ApplySome(*from_disk, Fnv1a(text));
  // The same file as text (include refused there); without includes it
  // loads the same rules, so they are not applied twice.
  auto from_text = graft::rules::ParseRules(parts[0], "main.rules");
  if (from_text.ok() && !from_disk.ok()) ApplySome(*from_text, Fnv1a(text));
  return 0;
}
