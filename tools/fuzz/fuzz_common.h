// Shared by graft's libFuzzer targets (tools/fuzz/*_fuzzer.cc): the rule
// catalogue the targets rewrite with, and the checks every reader's result
// must pass. Any absl::Status error from graft is an accepted answer to a
// hostile input; a check that fails here is a bug in graft, reported by
// aborting (libFuzzer saves the input as a crash).
#ifndef GRAFT_TOOLS_FUZZ_FUZZ_COMMON_H_
#define GRAFT_TOOLS_FUZZ_FUZZ_COMMON_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "graft/driver/driver.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/rules/loader.h"

#ifndef GRAFT_FUZZ_PATTERNS_DIR
#define GRAFT_FUZZ_PATTERNS_DIR "patterns"
#endif

namespace graft {
namespace fuzz {

// Reports a broken invariant and aborts, so libFuzzer records the input.
[[noreturn]] inline void Fail(const std::string& what, const std::string& detail = "") {
  std::fprintf(stderr, "graft fuzz: invariant broken: %s\n%s\n", what.c_str(), detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// With $GRAFT_FUZZ_VERBOSE set, each stage's outcome goes to stderr: to see
// how far a seed or a finding gets (`GRAFT_FUZZ_VERBOSE=1 bin FILE`).
inline void Note(const char* stage, const absl::Status& s) {
  static const bool verbose = std::getenv("GRAFT_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "graft fuzz: %s: %s\n", stage, s.ok() ? "ok" : std::string(s.message()).c_str());
}

// graft's rule catalogue (patterns/*.rules), loaded once. The directory is
// $GRAFT_FUZZ_PATTERNS, else the one compiled in by tools/fuzz/build.sh.
inline const RuleSet& Catalogue() {
  static const RuleSet* rules = [] {
    const char* env = std::getenv("GRAFT_FUZZ_PATTERNS");
    std::string dir = env ? env : GRAFT_FUZZ_PATTERNS_DIR;
    auto r = rules::LoadRules({dir});
    if (!r.ok()) Fail("cannot load the rule catalogue", std::string(r.status().message()));
    return new RuleSet(std::move(*r));
  }();
  return *rules;
}

// Caps that keep one input's rewriting short: a fuzz input is small, and a
// timeout should mean a runaway, not a big graph.
inline DriverOptions FuzzDriverOptions() {
  DriverOptions o;
  o.max_iterations = 4;
  o.max_rewrites = 2000;
  return o;
}

// Print -> parse -> print is the identity on a verified graph.
inline void CheckPrintRoundTrip(const Graph& g, const char* stage) {
  std::string text = Print(g);
  auto again = ParseGraph(text, graft::Ops(), "<printed>");
  if (!again.ok())
    Fail(std::string(stage) + ": the printed graph does not parse",
         std::string(again.status().message()) + "\n--- printed:\n" + text);
  if (absl::Status v = Verify(**again); !v.ok())
    Fail(std::string(stage) + ": the printed graph parses but does not verify",
         std::string(v.message()) + "\n--- printed:\n" + text);
  std::string text2 = Print(**again);
  if (text2 != text)
    Fail(std::string(stage) + ": print(parse(print(g))) != print(g)",
         "--- first:\n" + text + "--- second:\n" + text2);
}

// What graft-opt does with a graph it read: verify it; if it verifies,
// rewrite it with the catalogue, and the result must verify and round-trip.
inline void VerifyRewriteCheck(Graph& g) {
  absl::Status v = Verify(g);
  Note("verify", v);
  if (!v.ok()) return;  // a malformed input graph is a user error
  CheckPrintRoundTrip(g, "input");
  auto r = ApplyRules(g, Catalogue(), FuzzDriverOptions());
  Note("rewrite", r.status());
  if (!r.ok()) return;
  if (std::getenv("GRAFT_FUZZ_VERBOSE"))
    std::fprintf(stderr, "graft fuzz: %d rewrite(s)\n", static_cast<int>(r->rewrites));
  if (absl::Status v = Verify(g); !v.ok())
    Fail("the rewritten graph does not verify", std::string(v.message()) + "\n" + Print(g));
  CheckPrintRoundTrip(g, "rewritten");
}

}  // namespace fuzz
}  // namespace graft

#endif  // GRAFT_TOOLS_FUZZ_FUZZ_COMMON_H_
