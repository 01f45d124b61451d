// graft-opt: reads a graph, applies rewrite rules to a fixpoint, writes the
// result. In the style of mlir-opt; see Usage() for the flags.
#ifndef GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
#define GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "graft/driver/driver.h"
#include "graft/ir/limits.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/rules/loader.h"
#include "tools/graft_opt/formats.h"
#include "tools/graft_opt/output_file.h"

namespace graft {
namespace opt {

struct EmbeddedFile {
  const char* name;
  const char* text;
};

inline std::string Usage(const std::vector<Format>& formats) {
  std::string f;
  for (const Format& fmt : formats)
    absl::StrAppend(&f, "                      ", fmt.name, " (", absl::StrJoin(fmt.extensions, ", "),
                    "): ", fmt.description, "\n");
  return absl::StrCat(R"(graft-opt: apply graft rewrite rules to a graph, to a fixpoint.

usage: graft-opt [options] INPUT [-o OUTPUT]

  INPUT               the graph to rewrite ('-' reads standard input as text)
  -o, --output FILE   where to write the result (default: standard output).
                      A regular file is replaced atomically (complete or not
                      at all, keeping its mode); devices and FIFOs are
                      written directly; symbolic links are followed
  --rules PATH        a .rules file or a directory of them; repeatable.
                      Default: graft's catalogue (patterns/), built in
  --only R1,R2        run only these rules
  --disable R1,R2     run every rule but these
  --stats             print per-rule tried/matched/applied/refused/time and
                      whether the driver converged (to standard error)
  --explain RULE      for each place RULE could apply in the result, say why
                      it did not: the deepest point where its pattern failed
  --verify-each       verify the graph after every rewrite; stop at the first
                      rewrite that breaks it, naming the rule
  --dot FILE          write the result as Graphviz, rewritten nodes in orange
  --check             only load the rules and the input and verify them
  --print-before      print the input graph (as text) to standard error
  --list-rules        print the rules that would run, then exit
  --max-iterations N  full sweeps before giving up (default 10)
  --max-rewrites N    total rewrites before giving up (default 8 per node)
  --max-growth N      stop once the graph has grown past N times its input
                      node count plus 10000 nodes (default 8; -1: no cap)
  --max-work N        stop after N node visits and use moves per input node
                      plus 10^6 (default 128; -1: no cap)
  --max-input-bytes N the largest input read, in bytes (default 4 GiB);
                      the input must be a regular file or '-'
  --from FORMAT       input format (default: from the extension, else text)
  --input-types LIST  the shapes of the input graph's tensor inputs, for
                      formats that do not record them (TorchScript), e.g.
                      --input-types 'i64[1, 128], f32[1, 1500, 384]'
  --to FORMAT         output format (default: from the -o extension, else
                      the input's format)
  -h, --help          this text

formats:
)",
                      f, R"(
exit status: 0 done; 1 bad input, rules or a failed check; 2 bad usage.

examples:
  graft-opt tests/fixtures/whisper_logits.graft --stats
  graft-opt model.graft --rules my.rules --only mm_transposed_weight_to_linear -o out.graft
  graft-opt model.graft --explain view_mm_view_to_linear
  graft-opt model.pt --input-types 'f32[4, 384]' -o model.graft.pt --stats
  graft-opt program.json --only view_mm_view_to_linear -o program.graft.json
)");
}

// Paths given on the command line are relative to where the user stands,
// also under `bazel run` (which changes directory).
inline std::string UserPath(const std::string& p) {
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!wd || p.empty() || p == "-" || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(wd) / p).string();
}

// Graphviz of `g`; nodes not in `before` (created by rewrites) in orange.
inline std::string ToDot(const Graph& g, const absl::flat_hash_set<const Node*>& before) {
  std::string out = "digraph graft {\n  rankdir=TB;\n  node [shape=box, fontname=monospace];\n";
  absl::flat_hash_map<const Value*, std::string> id;
  auto esc = [](std::string s) {
    std::string o;
    for (char c : s) {
      if (c == '"' || c == '\\') o.push_back('\\');
      o.push_back(c);
    }
    return o;
  };
  int k = 0;
  for (const Value* in : g.inputs()) {
    std::string name = absl::StrCat("in", k++);
    id[in] = name;
    absl::StrAppend(&out, "  ", name, " [shape=ellipse, label=\"%", esc(std::string(g.name(in))), "\\n",
                    InputKindName(g.input_kind(in)), " ", in->type().ToString(), "\"];\n");
  }
  for (const Node* n : g.nodes()) {
    std::string name = absl::StrCat("n", k++);
    for (int i = 0; i < n->num_results(); ++i) id[n->result(i)] = name;
    std::string type = n->num_results() ? n->result(0)->type().ToString() : "";
    absl::StrAppend(&out, "  ", name, " [label=\"", esc(n->op()->name()), "\\n", type, "\"",
                    before.contains(n) ? "" : ", style=filled, fillcolor=orange", "];\n");
    for (int i = 0; i < n->num_args(); ++i) {
      if (Value* v = n->operand(i)) absl::StrAppend(&out, "  ", id[v], " -> ", name, ";\n");
    }
  }
  for (size_t i = 0; i < g.num_outputs(); ++i)
    absl::StrAppend(&out, "  out", i, " [shape=ellipse, label=\"output ", i, "\"];\n  ",
                    id[g.output(i)], " -> out", i, ";\n");
  return out + "}\n";
}

inline const Format* FormatByName(const std::vector<Format>& formats, absl::string_view name) {
  for (const Format& f : formats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}
inline const Format* FormatForPath(const std::vector<Format>& formats, const std::string& path) {
  for (const Format& f : formats) {
    for (const std::string& ext : f.extensions) {
      if (absl::EndsWith(path, ext)) return &f;
    }
  }
  return nullptr;
}

// The input's bytes: a regular file, or standard input for "-" (which may
// be a pipe: read with a cap instead of a size check). `max_bytes` is
// --max-input-bytes (default kMaxInputFileBytes), which the errors name.
inline absl::StatusOr<std::string> ReadInput(const std::string& path,
                                             int64_t max_bytes = kMaxInputFileBytes) {
  if (path == "-") return rules::ReadBounded(STDIN_FILENO, "<stdin>", max_bytes, "--max-input-bytes");
  return rules::ReadFile(path, max_bytes, "--max-input-bytes");
}

// The whole tool; returns the exit status.
inline int Main(int argc, char** argv, const std::vector<Format>& formats,
                absl::Span<const EmbeddedFile> catalogue) {
  std::vector<std::string> rule_paths, only, disabled;
  std::string input, output, explain, dot, from, to, input_types;
  bool stats = false, verify_each = false, check = false, print_before = false, list = false;
  int64_t max_input_bytes = kMaxInputFileBytes;
  DriverOptions options;
  auto usage_error = [&](const std::string& msg) {
    std::cerr << "graft-opt: " << msg << "\n(try 'graft-opt --help')\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    // --flag=value and --flag value.
    auto take = [&](absl::string_view flag) -> bool {
      if (a == flag) {
        if (i + 1 >= argc) return false;
        value = argv[++i];
        return true;
      }
      if (absl::StartsWith(a, absl::StrCat(flag, "="))) {
        value = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    // Every flag `take` reads above; one given without its value lands here.
    static constexpr absl::string_view kValueFlags[] = {
        "--rules", "--only", "--disable", "-o", "--output", "--explain", "--dot", "--from",
        "--to", "--input-types", "--max-iterations", "--max-rewrites", "--max-growth",
        "--max-work", "--max-input-bytes"};
    auto needs_value = [&](absl::string_view flag) {
      return a == flag || absl::StartsWith(a, absl::StrCat(flag, "="));
    };
    if (a == "-h" || a == "--help") {
      std::cout << Usage(formats);
      return 0;
    } else if (take("--rules")) {
      rule_paths.push_back(UserPath(value));
    } else if (take("--only")) {
      for (absl::string_view r : absl::StrSplit(value, ',', absl::SkipEmpty())) only.emplace_back(r);
    } else if (take("--disable")) {
      for (absl::string_view r : absl::StrSplit(value, ',', absl::SkipEmpty())) disabled.emplace_back(r);
    } else if (take("-o") || take("--output")) {
      output = UserPath(value);
    } else if (take("--explain")) {
      explain = value;
    } else if (take("--dot")) {
      dot = UserPath(value);
    } else if (take("--from")) {
      from = value;
    } else if (take("--to")) {
      to = value;
    } else if (take("--input-types")) {
      input_types = value;
    } else if (take("--max-iterations")) {
      if (!absl::SimpleAtoi(value, &options.max_iterations) || options.max_iterations < 1)
        return usage_error("--max-iterations takes a positive integer");
    } else if (take("--max-growth")) {
      if (!absl::SimpleAtoi(value, &options.max_growth) || options.max_growth < -1)
        return usage_error("--max-growth takes a non-negative integer, or -1 for no cap");
    } else if (take("--max-work")) {
      if (!absl::SimpleAtoi(value, &options.max_work) || options.max_work < -1)
        return usage_error("--max-work takes a non-negative integer, or -1 for no cap");
    } else if (take("--max-rewrites")) {
      if (!absl::SimpleAtoi(value, &options.max_rewrites) || options.max_rewrites < 0)
        return usage_error("--max-rewrites takes a non-negative integer");
    } else if (take("--max-input-bytes")) {
      if (!absl::SimpleAtoi(value, &max_input_bytes) || max_input_bytes < 0)
        return usage_error("--max-input-bytes takes a non-negative integer");
    } else if (a == "--stats") {
      stats = true;
    } else if (a == "--verify-each") {
      verify_each = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--print-before") {
      print_before = true;
    } else if (a == "--list-rules") {
      list = true;
    } else if (std::any_of(std::begin(kValueFlags), std::end(kValueFlags), needs_value)) {
      return usage_error(absl::StrCat(a, " needs a value"));
    } else if (a != "-" && absl::StartsWith(a, "-")) {
      return usage_error(absl::StrCat("unknown option '", a, "'"));
    } else if (input.empty()) {
      input = a == "-" ? a : UserPath(a);
    } else {
      return usage_error(absl::StrCat("more than one input ('", input, "' and '", a, "')"));
    }
  }

  // Rules.
  absl::StatusOr<RuleSet> rules_or = absl::UnknownError("");
  if (rule_paths.empty()) {
    rules::RuleLoader loader;
    absl::Status s;
    for (const EmbeddedFile& f : catalogue) {
      if (s.ok()) s = loader.AddText(f.text, f.name);
    }
    rules_or = s.ok() ? loader.Finish() : absl::StatusOr<RuleSet>(s);
  } else {
    rules_or = rules::LoadRules(rule_paths);
  }
  if (!rules_or.ok()) {
    std::cerr << "graft-opt: " << rules_or.status().message() << "\n";
    return 1;
  }
  const RuleSet& rules = *rules_or;
  for (const auto* names : {&only, &disabled}) {
    for (const std::string& r : *names) {
      if (!rules.Find(r))
        return usage_error(absl::StrCat("no rule named '", r, "' (see --list-rules)"));
    }
  }
  if (!explain.empty() && !rules.Find(explain))
    return usage_error(absl::StrCat("no rule named '", explain, "' to explain (see --list-rules)"));
  options.only = only;
  options.disabled = disabled;
  options.verify_each = verify_each;
  options.timing = stats;
  if (list) {
    for (const auto& r : rules) {
      bool on = (only.empty() || std::find(only.begin(), only.end(), r->name()) != only.end()) &&
                std::find(disabled.begin(), disabled.end(), r->name()) == disabled.end();
      if (on) std::cout << r->name() << "  (" << r->origin() << ")\n    " << r->Describe() << "\n";
    }
    return 0;
  }

  // Input.
  if (input.empty()) return usage_error("no input graph given");
  const Format* in_fmt = from.empty() ? FormatForPath(formats, input) : FormatByName(formats, from);
  if (!from.empty() && !in_fmt) return usage_error(absl::StrCat("unknown format '", from, "'"));
  if (!in_fmt) in_fmt = FormatByName(formats, "text");
  const Format* out_fmt = !to.empty()           ? FormatByName(formats, to)
                          : !output.empty()     ? FormatForPath(formats, output)
                                                : nullptr;
  if (!to.empty() && !out_fmt) return usage_error(absl::StrCat("unknown format '", to, "'"));
  if (!out_fmt) out_fmt = in_fmt;
  if (!input_types.empty() && !in_fmt->takes_input_types)
    return usage_error(absl::StrCat("--input-types is for formats that do not record input shapes; ",
                                    in_fmt->name, " graphs carry their types"));
  absl::StatusOr<std::string> bytes = ReadInput(input, max_input_bytes);
  if (!bytes.ok()) {
    std::cerr << "graft-opt: " << bytes.status().message() << "\n";
    return 1;
  }
  auto doc = in_fmt->read(*bytes, {input == "-" ? "<stdin>" : input, input_types});
  if (!doc.ok()) {
    std::cerr << "graft-opt: " << doc.status().message() << "\n";
    return 1;
  }
  Graph& g = (*doc)->graph();
  if (absl::Status v = Verify(g); !v.ok()) {
    std::cerr << "graft-opt: " << input << ": the input graph is malformed: " << v.message() << "\n";
    return 1;
  }
  if (print_before) std::cerr << "// ---- input\n" << Print(g);
  if (check) {
    std::cerr << "graft-opt: OK: " << rules.size() << " rule(s) loaded, " << g.num_nodes()
              << " node(s) verified\n";
    return 0;
  }

  // Rewrite.
  absl::flat_hash_set<const Node*> before;
  for (const Node* n : g.nodes()) before.insert(n);
  absl::StatusOr<DriverResult> result = ApplyRules(g, rules, options);
  if (!result.ok()) {
    std::cerr << "graft-opt: " << result.status().message() << "\n";
    return 1;
  }
  if (stats) std::cerr << "// ---- stats\n" << result->Report();
  if (!result->converged)
    std::cerr << "graft-opt: warning: the rules did not converge ("
              << (result->stop_reason.empty() ? "" : absl::StrCat("stopped by ", result->stop_reason, "; "))
              << "still firing: " << absl::StrJoin(result->still_firing, ", ")
              << "); writing the graph as it is\n";
  if (!explain.empty()) {
    const RuleStats* st = result->StatsFor(explain);
    std::cerr << "// ---- explain " << explain << " ("
              << (st ? absl::StrCat("applied ", st->applied, " time(s)") : std::string("not run"))
              << ")\n";
    std::vector<ExplainLine> lines = Explain(g, *rules.Find(explain));
    if (lines.empty()) std::cerr << "no node in the result has an op the rule's pattern starts with\n";
    for (const ExplainLine& l : lines)
      std::cerr << l.node << ": " << (l.matched ? "" : l.where + ": ") << l.reason << "\n";
  }
  if (absl::Status v = Verify(g); !v.ok()) {
    std::cerr << "graft-opt: internal error: the rewritten graph does not verify: " << v.message()
              << "\n(rerun with --verify-each to find the rule)\n";
    return 1;
  }
  if (!dot.empty()) {
    if (absl::Status s = WriteOutputFile(dot, ToDot(g, before)); !s.ok()) {
      std::cerr << "graft-opt: " << s.message() << "\n";
      return 1;
    }
  }
  absl::StatusOr<std::string> out = out_fmt->write(**doc);
  if (!out.ok()) {
    std::cerr << "graft-opt: cannot write " << out_fmt->name << ": " << out.status().message() << "\n";
    return 1;
  }
  if (output.empty() || output == "-") {
    std::cout << *out;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  if (absl::Status s = WriteOutputFile(output, *out); !s.ok()) {
    std::cerr << "graft-opt: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_GRAFT_OPT_H_
