#include "tools/graft_opt/graft_opt.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graft/driver/driver.h"
#include "graft/ir/limits.h"
#include "graft/ir/printer.h"
#include "graft/ir/status.h"
#include "graft/ir/verifier.h"
#include "graft/rules/loader.h"
#include "tools/graft_opt/dot.h"
#include "tools/graft_opt/flags.h"
#include "tools/graft_opt/output_file.h"
#include "tools/graft_opt/stats_json.h"

namespace graft {
namespace opt {

namespace {

// Exit statuses; Usage() documents them.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,  // input, rules or files: unreadable, malformed, unsupported
  kExitUsage = 2,
  kExitLimit = 3,  // an input past one of graft's limits (ErrorKind::kLimitExceeded)
};

enum class StatsFormat { kNone, kText, kJson };

// Everything the command line sets.
struct Options {
  std::vector<std::string> rule_paths;
  std::string output, explain, dot, from, to, input_types;
  StatsFormat stats = StatsFormat::kNone;
  bool check = false, print_before = false, list_rules = false, help = false;
  bool prove = false, allow_unprovable = false;
  ProveSettings prove_settings;
  int64_t max_input_bytes = kMaxInputFileBytes;
  DriverOptions driver;  // --only, --disable, --verify-each and the caps
};

// Paths given on the command line are relative to where the user stands,
// also under `bazel run` (which changes directory).
std::string UserPath(const std::string& p) {
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!wd || p.empty() || p == "-" || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(wd) / p).string();
}

FlagTarget SetPath(std::string* target) {
  return {[target](absl::string_view v) {
            *target = UserPath(std::string(v));
            return true;
          },
          ""};
}

FlagTarget AppendPath(std::vector<std::string>* target) {
  return {[target](absl::string_view v) {
            target->push_back(UserPath(std::string(v)));
            return true;
          },
          ""};
}

// The flags, bound to `o`; --help is written from the same table.
std::vector<Flag> FlagTable(Options& o) {
  using V = FlagValue;
  return {
      {"--output", "-o", V::kRequired, "FILE",
       "where to write the result. A regular file is replaced atomically (complete or not at all, "
       "keeping its mode); devices and FIFOs are written directly; symbolic links are followed. "
       "'-' is standard output, where an archive (torchscript, exir-zip) goes to a terminal only "
       "when given so",
       "standard output", SetPath(&o.output)},
      {"--rules", "", V::kRequired, "PATH", "a .rules file or a directory of them; repeatable",
       "graft's catalogue, patterns/, built in", AppendPath(&o.rule_paths)},
      {"--only", "", V::kRequired, "R1,R2", "run only these rules", "", AppendList(&o.driver.only)},
      {"--disable", "", V::kRequired, "R1,R2", "run every rule but these", "",
       AppendList(&o.driver.disabled)},
      {"--stats", "", V::kOptional, "FORMAT",
       "print per-rule tried/matched/applied/refused/time and whether the driver converged, to "
       "standard error: as a table (text, also --stats alone) or as one line of JSON (json)",
       "", SetChoice(&o.stats, {{"text", StatsFormat::kText}, {"json", StatsFormat::kJson}}),
       "text"},
      {"--explain", "", V::kRequired, "RULE",
       "for each place RULE could apply in the result, say why it did not: the deepest point "
       "where its pattern failed",
       "", SetString(&o.explain)},
      {"--verify-each", "", V::kNone, "",
       "verify the graph after every rewrite; stop at the first rewrite that breaks it, naming "
       "the rule",
       "", SetTrue(&o.driver.verify_each)},
      {"--dot", "", V::kRequired, "FILE", "write the result as Graphviz, rewritten nodes in orange",
       "", SetPath(&o.dot)},
      {"--check", "", V::kNone, "", "only load the rules and the input and verify them", "",
       SetTrue(&o.check)},
      {"--print-before", "", V::kNone, "", "print the input graph (as text) to standard error", "",
       SetTrue(&o.print_before)},
      {"--list-rules", "", V::kNone, "", "print the rules that would run, then exit", "",
       SetTrue(&o.list_rules)},
      {"--max-iterations", "", V::kRequired, "N", "full sweeps before giving up",
       absl::StrCat(DriverOptions().max_iterations), SetInt(&o.driver.max_iterations, 1)},
      {"--max-rewrites", "", V::kRequired, "N", "total rewrites before giving up",
       absl::StrCat(DriverOptions::kDefaultRewritesPerNode, " per input node plus ",
                    DriverOptions::kDefaultRewriteSlack),
       SetInt(&o.driver.max_rewrites, 0)},
      {"--max-growth", "", V::kRequired, "N",
       absl::StrCat("stop once the graph has grown past N times its input node count plus ",
                    DriverOptions::kDefaultGrowthSlack, " nodes; -1: no cap"),
       absl::StrCat(DriverOptions::kDefaultMaxGrowth),
       SetInt(&o.driver.max_growth, DriverOptions::kNoCap)},
      {"--max-work", "", V::kRequired, "N",
       absl::StrCat("stop after N node visits and use moves per input node plus ",
                    DriverOptions::kDefaultWorkSlack, "; -1: no cap"),
       absl::StrCat(DriverOptions::kDefaultMaxWork),
       SetInt(&o.driver.max_work, DriverOptions::kNoCap)},
      {"--max-input-bytes", "", V::kRequired, "N",
       "the largest input read, in bytes; the input must be a regular file or '-'",
       absl::StrCat(kMaxInputFileBytes >> 30, " GiB"), SetInt(&o.max_input_bytes, 0)},
      {"--from", "", V::kRequired, "FORMAT", "input format", "from the extension, else text",
       SetString(&o.from)},
      {"--input-types", "", V::kRequired, "LIST",
       "the shapes of the input graph's tensor inputs, for formats that do not record them "
       "(TorchScript), e.g. --input-types 'i64[1, 128], f32[1, 1500, 384]'",
       "", SetString(&o.input_types)},
      {"--to", "", V::kRequired, "FORMAT", "output format",
       "from the -o extension, else the input's format", SetString(&o.to)},
      {"--prove", "", V::kNone, "",
       "instead of rewriting, prove each rule of the rule files or directories given as inputs "
       "(none: --rules, else the built-in catalogue): random instances of its pattern, run "
       "before and after the rewrite through libtorch, must agree; one line per rule, proven, "
       "counterexample or unprovable (docs/prove.md). --only and --disable select rules",
       "", SetTrue(&o.prove)},
      {"--prove-instances", "", V::kRequired, "N", "instances each rule must pass under --prove",
       absl::StrCat(o.prove_settings.instances), SetInt(&o.prove_settings.instances, 1)},
      {"--prove-tries", "", V::kRequired, "N",
       "tries per rule to find them (drawn, rejected or run) before the rule is unprovable",
       absl::StrCat(o.prove_settings.max_tries), SetInt(&o.prove_settings.max_tries, 1)},
      {"--prove-seconds", "", V::kRequired, "N",
       "seconds per rule before the rule is unprovable", absl::StrCat(o.prove_settings.max_seconds),
       SetInt(&o.prove_settings.max_seconds, 1)},
      {"--seed", "", V::kRequired, "N",
       "seeds --prove's instances and inputs (same seed, same run)",
       absl::StrCat(o.prove_settings.seed), SetInt(&o.prove_settings.seed, 0)},
      {"--allow-unprovable", "", V::kNone, "",
       "--prove exits 0 when no rule has a counterexample, even if some are unprovable", "",
       SetTrue(&o.allow_unprovable)},
      {"--help", "-h", V::kNone, "", "this text", "", SetTrue(&o.help)},
  };
}

std::string Usage(absl::Span<const Flag> flags, const std::vector<Format>& formats) {
  std::string f;
  for (const Format& fmt : formats)
    absl::StrAppend(&f, "  ", fmt.name, " (", absl::StrJoin(fmt.extensions, ", "),
                    "): ", fmt.description, "\n");
  return absl::StrCat(R"(graft-opt: apply graft rewrite rules to a graph, to a fixpoint.

usage: graft-opt [options] INPUT [-o OUTPUT]
       graft-opt --prove [options] [RULES...]

  INPUT               the graph to rewrite ('-' reads standard input as text)
  RULES               with --prove: .rules files or directories of them
)",
                      FlagHelp(flags), R"(
formats (--from, --to):
)",
                      f, R"(
exit status:
  0  done; also when a cap stopped the rewriting (a warning names it)
  1  input or rules that do not read or verify, an unknown op, a file that
     cannot be read or written
  2  bad usage: a flag, rule name or format graft-opt does not know
  3  an input past one of graft's limits against hostile input (its size,
     nesting depth, zip entries; the error names the limit, and
     docs/robustness.md lists them)
  --prove: 0 every rule proven (with --allow-unprovable: none has a
  counterexample), 1 a counterexample, an unprovable rule, or rules that do
  not load, 2 bad usage

examples:
  graft-opt tests/fixtures/whisper_logits.graft --stats
  graft-opt model.graft --rules my.rules --only mm_transposed_weight_to_linear -o out.graft
  graft-opt model.graft --explain view_mm_view_to_linear
  graft-opt model.pt --input-types 'f32[4, 384]' -o model.graft.pt --stats
  graft-opt program.json --only view_mm_view_to_linear -o program.graft.json --stats=json
  graft-opt --prove my.rules --prove-instances 50 --seed 7
)");
}

// A usage error; `see` is where to look for what is allowed.
int UsageError(absl::string_view message, absl::string_view see = "--help") {
  std::cerr << "graft-opt: " << message << "; see " << see << "\n";
  return kExitUsage;
}

// Reports a failed step, with a hint chosen by the error's kind (never by
// its text), and returns the exit status for it.
int Fail(const absl::Status& s, const Options& o) {
  std::cerr << "graft-opt: " << s.message() << "\n";
  std::optional<ErrorKind> kind = ErrorKindOf(s);
  if (kind == ErrorKind::kMissingInputTypes && o.input_types.empty())
    std::cerr << "(graft-opt takes them as --input-types 'f32[1, 128], ...')\n";
  if (kind == ErrorKind::kLimitExceeded) {
    std::cerr << "(graft's limits guard against hostile input; docs/robustness.md lists them)\n";
    return kExitLimit;
  }
  return kExitError;
}

const Format* FormatByName(const std::vector<Format>& formats, absl::string_view name) {
  for (const Format& f : formats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Format* FormatForPath(const std::vector<Format>& formats, const std::string& path) {
  for (const Format& f : formats) {
    for (const std::string& ext : f.extensions) {
      if (absl::EndsWith(path, ext)) return &f;
    }
  }
  return nullptr;
}

// The input's bytes: a regular file, or standard input for "-" (which may
// be a pipe: read with a cap instead of a size check). The errors name
// --max-input-bytes.
absl::StatusOr<std::string> ReadInput(const std::string& path, int64_t max_bytes) {
  if (path == "-")
    return rules::ReadBounded(STDIN_FILENO, "<stdin>", max_bytes, "--max-input-bytes");
  return rules::ReadFile(path, max_bytes, "--max-input-bytes");
}

// --rules, else the built-in catalogue.
absl::StatusOr<RuleSet> LoadRuleSet(const Options& o, absl::Span<const EmbeddedFile> catalogue) {
  if (!o.rule_paths.empty()) return rules::LoadRules(o.rule_paths);
  rules::RuleLoader loader;
  for (const EmbeddedFile& f : catalogue) GRAFT_RETURN_IF_ERROR(loader.AddText(f.text, f.name));
  return loader.Finish();
}

// Whether --only and --disable let `rule` run (for --list-rules; the
// driver reads the same lists).
bool Selected(const DriverOptions& d, const std::string& rule) {
  auto has = [&rule](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), rule) != v.end();
  };
  return (d.only.empty() || has(d.only)) && !has(d.disabled);
}

// --explain: why RULE does not apply at each place it could in `g`.
void PrintExplain(const Graph& g, const Rule& rule, const DriverResult& result) {
  const RuleStats* st = result.StatsFor(rule.name());
  std::cerr << "// ---- explain " << rule.name() << " ("
            << (st ? absl::StrCat("applied ", st->applied, " time(s)") : std::string("not run"))
            << ")\n";
  std::vector<ExplainLine> lines = Explain(g, rule);
  if (lines.empty())
    std::cerr << "no node in the result has an op the rule's pattern starts with\n";
  for (const ExplainLine& l : lines)
    std::cerr << l.node << ": " << (l.matched ? "" : l.where + ": ") << l.reason << "\n";
  // Refusals after the constraints (legality, the type check, e.g. an
  // unknown fact of a partial type) happen while building the replacement,
  // which Explain does not do: the run's reasons say why a match stayed.
  if (st) {
    for (const auto& [reason, n] : st->refusals)
      std::cerr << "refused " << n << " time(s): " << reason << "\n";
  }
}

// --prove: the rule files given as inputs (else --rules, else the
// catalogue), each rule proven or not; see Usage for the exit status.
int Prove(const Options& o, const std::vector<std::string>& inputs,
          absl::Span<const EmbeddedFile> catalogue, const Prover& prover) {
  if (!prover.run)
    return UsageError("this graft-opt was built without libtorch, which --prove needs");
  std::vector<std::string> paths = o.rule_paths;
  for (const std::string& in : inputs) paths.push_back(UserPath(in));
  rules::RuleLoader loader;
  for (const std::string& p : paths) {
    if (absl::Status s = loader.AddPath(p); !s.ok()) return Fail(s, o);
  }
  for (const EmbeddedFile& f : paths.empty() ? catalogue : absl::Span<const EmbeddedFile>()) {
    if (absl::Status s = loader.AddText(f.text, f.name); !s.ok()) return Fail(s, o);
  }
  absl::StatusOr<RuleSet> rules = loader.Finish();
  if (!rules.ok()) return Fail(rules.status(), o);
  ProveSettings settings = o.prove_settings;
  for (const auto* names : {&o.driver.only, &o.driver.disabled}) {
    for (const std::string& r : *names) {
      if (!rules->Find(r))
        return UsageError(absl::StrCat("no rule named '", r, "'"), "--list-rules");
    }
  }
  if (!o.driver.only.empty() || !o.driver.disabled.empty()) {
    for (const auto& r : *rules)
      if (Selected(o.driver, r->name())) settings.only.push_back(r->name());
    if (settings.only.empty()) return UsageError("--only and --disable leave no rule to prove");
  }
  absl::StatusOr<ProveCounts> counts = prover.run(loader, settings);
  if (!counts.ok()) return Fail(counts.status(), o);
  std::cout << "prove: " << counts->proven + counts->counterexamples + counts->unprovable
            << " rule(s): " << counts->proven << " proven, " << counts->counterexamples
            << " with a counterexample, " << counts->unprovable << " unprovable\n";
  std::cout.flush();
  if (counts->counterexamples > 0) return kExitError;
  if (counts->unprovable > 0 && !o.allow_unprovable) return kExitError;
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv, const std::vector<Format>& formats,
         absl::Span<const EmbeddedFile> catalogue, const Prover& prover) {
  Options o;
  o.prove_settings = prover.defaults;
  const std::vector<Flag> flags = FlagTable(o);
  absl::StatusOr<std::vector<std::string>> inputs =
      ParseFlags(flags, absl::MakeConstSpan(argv + 1, argc > 0 ? argc - 1 : 0));
  if (!inputs.ok()) return UsageError(inputs.status().message());
  if (o.help) {
    std::cout << Usage(flags, formats);
    return kExitOk;
  }
  if (o.prove) {
    if (!o.output.empty() || !o.dot.empty() || !o.explain.empty() ||
        o.stats != StatsFormat::kNone || o.check || o.print_before || o.list_rules)
      return UsageError("--prove checks rule files and writes no graph: -o, --dot, --explain, "
                        "--stats, --check, --print-before and --list-rules do not apply");
    return Prove(o, *inputs, catalogue, prover);
  }
  if (inputs->size() > 1)
    return UsageError(
        absl::StrCat("more than one input ('", (*inputs)[0], "' and '", (*inputs)[1], "')"));
  const std::string input = inputs->empty() ? "" : UserPath(inputs->front());
  o.driver.timing = o.stats != StatsFormat::kNone;

  // Rules.
  absl::StatusOr<RuleSet> rules_or = LoadRuleSet(o, catalogue);
  if (!rules_or.ok()) return Fail(rules_or.status(), o);
  const RuleSet& rules = *rules_or;
  for (const auto* names : {&o.driver.only, &o.driver.disabled}) {
    for (const std::string& r : *names) {
      if (!rules.Find(r))
        return UsageError(absl::StrCat("no rule named '", r, "'"), "--list-rules");
    }
  }
  if (!o.explain.empty() && !rules.Find(o.explain))
    return UsageError(absl::StrCat("no rule named '", o.explain, "' to explain"), "--list-rules");
  if (o.list_rules) {
    for (const auto& r : rules) {
      if (Selected(o.driver, r->name()))
        std::cout << r->name() << "  (" << r->origin() << ")\n    " << r->Describe() << "\n";
    }
    return kExitOk;
  }

  // Input.
  if (input.empty()) return UsageError("no input graph given");
  const Format* in_fmt =
      o.from.empty() ? FormatForPath(formats, input) : FormatByName(formats, o.from);
  if (!o.from.empty() && !in_fmt) return UsageError(absl::StrCat("unknown format '", o.from, "'"));
  if (!in_fmt) in_fmt = FormatByName(formats, "text");
  const Format* out_fmt = !o.to.empty()       ? FormatByName(formats, o.to)
                          : !o.output.empty() ? FormatForPath(formats, o.output)
                                              : nullptr;
  if (!o.to.empty() && !out_fmt) return UsageError(absl::StrCat("unknown format '", o.to, "'"));
  if (!out_fmt) out_fmt = in_fmt;
  // An archive on a terminal is noise the terminal may act on (`graft-opt
  // model.pt --explain r` without -o): written there only on request.
  if (out_fmt->binary && o.output.empty() && isatty(STDOUT_FILENO))
    return UsageError(absl::StrCat("the ", out_fmt->name,
                                   " output is an archive, not text; give -o FILE (or -o - to "
                                   "write it to standard output anyway)"));
  if (!o.input_types.empty() && !in_fmt->takes_input_types)
    return UsageError(absl::StrCat("--input-types is for formats that do not record input shapes, "
                                   "and ", in_fmt->name, " graphs carry their types"));
  absl::StatusOr<std::string> bytes = ReadInput(input, o.max_input_bytes);
  if (!bytes.ok()) return Fail(bytes.status(), o);
  auto doc = in_fmt->read(*bytes, {input == "-" ? "<stdin>" : input, o.input_types});
  if (!doc.ok()) return Fail(doc.status(), o);
  Graph& g = (*doc)->graph();
  if (absl::Status v = Verify(g); !v.ok())
    return Fail(WithContext(v, absl::StrCat(input, ": the input graph is malformed")), o);
  if (o.print_before) std::cerr << "// ---- input\n" << Print(g);
  if (o.check) {
    std::cerr << "graft-opt: OK: " << rules.size() << " rule(s) loaded, " << g.num_nodes()
              << " node(s) verified\n";
    return kExitOk;
  }

  // Rewrite.
  absl::flat_hash_set<const Node*> before;
  for (const Node* n : g.nodes()) before.insert(n);
  absl::StatusOr<DriverResult> result = ApplyRules(g, rules, o.driver);
  if (!result.ok()) return Fail(result.status(), o);
  if (o.stats == StatsFormat::kText) std::cerr << "// ---- stats\n" << result->Report();
  if (o.stats == StatsFormat::kJson) std::cerr << StatsJson(*result) << "\n";
  if (!result->converged)
    std::cerr << "graft-opt: warning: the rules did not converge ("
              << (result->stop_reason.empty()
                      ? ""
                      : absl::StrCat("stopped by ", result->stop_reason, "; "))
              << "still firing: " << absl::StrJoin(result->still_firing, ", ")
              << "); writing the graph as it is\n";
  if (!o.explain.empty()) PrintExplain(g, *rules.Find(o.explain), *result);
  if (absl::Status v = Verify(g); !v.ok()) {
    std::cerr << "graft-opt: internal error: the rewritten graph does not verify: " << v.message()
              << "\n(rerun with --verify-each to find the rule)\n";
    return kExitError;
  }

  // Output.
  if (!o.dot.empty()) {
    if (absl::Status s = WriteOutputFile(o.dot, ToDot(g, before)); !s.ok()) return Fail(s, o);
  }
  absl::StatusOr<std::string> out = out_fmt->write(**doc);
  if (!out.ok())
    return Fail(WithContext(out.status(), absl::StrCat("cannot write ", out_fmt->name)), o);
  if (o.output.empty() || o.output == "-") {
    std::cout << *out;
    std::cout.flush();
    return std::cout ? kExitOk : kExitError;
  }
  if (absl::Status s = WriteOutputFile(o.output, *out); !s.ok()) return Fail(s, o);
  return kExitOk;
}

}  // namespace opt
}  // namespace graft
