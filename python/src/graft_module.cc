// graft._graft: graft's rewrite engine in the Python process.
//
// The binding is deliberately narrow: rule sets (files, directories, text),
// and entry points that run the driver on one structure handed in: graft's
// text form (back: the result printed), or an ExecuTorch serialized program
// (graft/interop/exir_json.h owns the mapping between edge ops and graft's
// IR, so this file adds none; back: the edits that turn the program into
// the result, or the rewritten document, or the rules' explanations without
// rewriting). The driver's statistics come back
// as Python objects. Errors are graft.GraftError, whose message is graft's
// own (file:line:col where graft has one). The GIL is released while C++
// works.
//
// nanobind rather than pybind11: smaller and faster bindings (one object
// conversion per node here), C++17, a CMake config scikit-build-core finds,
// and no dependency on the Python or torch of the build beyond the headers.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graft/driver/driver.h"
#include "graft/interop/exir_json.h"
#include "graft/interop/provenance.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "graft/rules/loader.h"

namespace nb = nanobind;

namespace {

// Raised as graft.GraftError (registered below).
struct GraftException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const absl::Status& s) {
  if (!s.ok()) throw GraftException(std::string(s.message()));
}

template <typename T>
T Unwrap(absl::StatusOr<T> s) {
  Check(s.status());
  return *std::move(s);
}

// A compiled rule set, loaded once and reused across runs.
struct Rules {
  graft::RuleSet set;

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& r : set) out.push_back(r->name());
    return out;
  }
};

Rules LoadRules(const std::vector<std::string>& paths) {
  if (paths.empty()) throw GraftException("load_rules: no rule file or directory given");
  return Rules{Unwrap(graft::rules::LoadRules(paths))};
}

Rules ParseRules(const std::string& text, const std::string& name) {
  return Rules{Unwrap(graft::rules::ParseRules(text, name))};
}

graft::DriverOptions MakeOptions(const Rules& rules, std::vector<std::string> only,
                                 std::vector<std::string> disable, bool verify_each) {
  // A misspelt rule name would otherwise select nothing, silently.
  for (const auto* names : {&only, &disable}) {
    for (const std::string& r : *names) {
      if (!rules.set.Find(r))
        throw GraftException(absl::StrCat("no rule named '", r, "' (rules: ",
                                          absl::StrJoin(rules.names(), ", "), ")"));
    }
  }
  graft::DriverOptions o;
  o.only = std::move(only);
  o.disabled = std::move(disable);
  o.verify_each = verify_each;
  return o;
}

// The driver's record as plain Python objects; graft/stats.py wraps them.
nb::dict StatsToPython(const graft::DriverResult& r) {
  nb::dict rules;
  for (const auto& [name, st] : r.stats) {
    nb::dict refusals;
    for (const auto& [reason, count] : st.refusals) refusals[nb::str(reason.c_str())] = count;
    nb::dict d;
    d["tried"] = st.tried;
    d["matched"] = st.matched;
    d["applied"] = st.applied;
    d["refused"] = st.refused;
    d["refusals"] = refusals;
    rules[nb::str(name.c_str())] = d;
  }
  nb::dict out;
  out["converged"] = r.converged;
  out["iterations"] = r.iterations;
  out["rewrites"] = r.rewrites;
  out["stopped_by"] = r.stopped_by;
  out["stop_reason"] = r.stop_reason;
  out["still_firing"] = r.still_firing;
  out["rules"] = rules;
  out["report"] = r.Report();
  return out;
}

// Reads and verifies a serialized program.
graft::exir::Program ReadProgram(const std::string& text, const std::string& filename) {
  graft::exir::Program p = Unwrap(graft::exir::Program::Parse(text, filename));
  if (absl::Status v = graft::Verify(p.graph()); !v.ok())
    throw GraftException(absl::StrCat(filename, ": the program's graph is malformed: ", v.message()));
  return p;
}

graft::DriverResult Run(graft::Graph& g, const Rules& rules, const graft::DriverOptions& o) {
  return Unwrap(graft::ApplyRules(g, rules.set, o));
}

// An imported node's name in the program (the importer's provenance,
// graft/interop/provenance.h).
std::string NodeName(const graft::Graph& g, const graft::Node* n) {
  return graft::Provenance::Parse(g.loc(n->loc())).node;
}

// graft::Explain for every rule of `rules` on the program, as Python objects:
//   [{"rule": name, "root": node, "matched": bool, "where": "operand 1 of root",
//     "reason": text, "covered": [node, ...] (when matched: root first)}]
// graft.report reads which rule's match covers an op the partitioner left
// out, and why the rules rooted near it do not match.
nb::list ExplainProgram(const std::string& program, const Rules& rules, const std::string& filename) {
  struct RuleLines {
    const graft::Rule* rule;
    std::vector<graft::ExplainLine> lines;
  };
  graft::exir::Program p = [&] {
    nb::gil_scoped_release unlocked;
    return ReadProgram(program, filename);
  }();
  const graft::Graph& g = p.graph();
  std::vector<RuleLines> all;
  {
    nb::gil_scoped_release unlocked;
    for (const auto& r : rules.set) all.push_back({r.get(), graft::Explain(g, *r)});
  }
  nb::list out;
  for (const RuleLines& rl : all) {
    for (const graft::ExplainLine& l : rl.lines) {
      nb::list covered;
      for (const graft::Node* n : l.covered) covered.append(NodeName(g, n));
      nb::dict d;
      d["rule"] = rl.rule->name();
      d["root"] = NodeName(g, l.root);
      d["matched"] = l.matched;
      d["where"] = l.where;
      d["reason"] = l.reason;
      d["covered"] = covered;
      out.append(d);
    }
  }
  return out;
}

// What a rewrite did to an imported program, as edits the caller replays on
// the graph it was imported from (graft/_program.py). Values are named by
// their names in the program; a value graft created is "%<k>", which no
// program name can be. Nodes are named by the program's node names (the
// importer's provenance, graft/interop/provenance.h).
class EditRecorder {
 public:
  // Called before the rewrite: what the program was.
  explicit EditRecorder(const graft::Graph& g) : g_(g) {
    for (const graft::Value* in : g.inputs()) names_[in] = std::string(g.name(in));
    for (const graft::Node* n : g.nodes()) {
      std::vector<const graft::Value*>& ops = operands_[n];
      for (int i = 0; i < n->num_args(); ++i) ops.push_back(n->operand(i));
      for (int r = 0; r < n->num_results(); ++r) names_[n->result(r)] = std::string(g.name(n->result(r)));
    }
  }

  // Called after: the edits, as Python objects.
  //   created:  [{"target": "aten.linear.default", "args": [(param, kind, value)],
  //               "results": [value], "root": node, "before": node or None}]
  //             in graft's order; kind "tensor" (value is a value name),
  //             "dtype" (an ExecuTorch ScalarType number) or "value";
  //             "before": the kept node it precedes (None: the end);
  //   repointed: [(node, old value, new value)] for the nodes kept;
  //   erased:   the nodes graft removed;
  //   outputs:  the graph's outputs.
  nb::dict Edits() {
    nb::list created, repointed, erased, outputs;
    std::vector<nb::dict> pending;  // created nodes waiting for the next kept node
    absl::flat_hash_set<const graft::Node*> live;
    for (const graft::Node* n : g_.nodes()) {
      live.insert(n);
      auto was = operands_.find(n);
      if (was == operands_.end()) {
        pending.push_back(Created(n));
        continue;
      }
      std::string name = NodeName(g_, n);
      for (nb::dict& d : pending) {
        d["before"] = name;
        created.append(d);
      }
      pending.clear();
      for (int i = 0; i < n->num_args(); ++i) {
        if (n->operand(i) != was->second[i])
          repointed.append(nb::make_tuple(name, Name(was->second[i]), Name(n->operand(i))));
      }
    }
    for (nb::dict& d : pending) {
      d["before"] = nb::none();
      created.append(d);
    }
    for (const auto& [n, ops] : operands_) {
      if (!live.contains(n)) erased.append(NodeName(g_, n));
    }
    for (size_t i = 0; i < g_.num_outputs(); ++i) outputs.append(Name(g_.output(i)));
    nb::dict out;
    out["created"] = created;
    out["repointed"] = repointed;
    out["erased"] = erased;
    out["outputs"] = outputs;
    return out;
  }

 private:
  const std::string& Name(const graft::Value* v) {
    auto [it, fresh] = names_.try_emplace(v);
    if (fresh) it->second = absl::StrCat("%", next_id_++);
    return it->second;
  }

  nb::dict Created(const graft::Node* n) {
    const graft::OpDef* op = n->op();
    if (!n->schema())
      throw GraftException(absl::StrCat("a rewrite created a node of ", op->name(),
                                        ", which is not in graft's catalogue: its arguments "
                                        "cannot be named for an ExecuTorch node"));
    nb::list args;
    for (int i = 0; i < n->num_args(); ++i) {
      const graft::Param& p = n->schema()->params[i];
      graft::Arg a = n->arg(i);
      if (p.IsDefault(a)) continue;  // the op's own default applies
      nb::str param(std::string(p.name).c_str());
      if (const graft::Value* v = a.value()) {
        args.append(nb::make_tuple(param, "tensor", Name(v)));
        continue;
      }
      const graft::Literal& l = *a.literal();
      if (l.is_dtype()) {
        auto d = graft::exir::DTypeToExir(l.as_dtype());
        if (!d) throw GraftException(absl::StrCat(op->name(), ": dtype ", graft::DTypeName(l.as_dtype()),
                                                  " has no ExecuTorch ScalarType"));
        args.append(nb::make_tuple(param, "dtype", *d));
        continue;
      }
      args.append(nb::make_tuple(param, "value", LiteralToPython(l, p)));
    }
    nb::list results;
    for (int r = 0; r < n->num_results(); ++r) results.append(Name(n->result(r)));
    nb::dict d;
    d["target"] = absl::StrCat(op->ns(), ".", op->base_name(), ".", op->overload());
    d["args"] = args;
    d["results"] = results;
    d["root"] = NodeName(g_, n);  // the rewriter gives a replacement its root's location
    return d;
  }

  // A literal as the Python value torch takes for parameter `p`.
  static nb::object LiteralToPython(const graft::Literal& l, const graft::Param& p) {
    if (l.is_none()) return nb::none();
    if (l.is_bool()) return nb::bool_(l.as_bool());
    if (l.is_int()) {
      if (p.kind == graft::ParamKind::kFloat) return nb::float_(static_cast<double>(l.as_int()));
      return nb::int_(l.as_int());
    }
    if (l.is_number()) return nb::float_(l.as_float());
    if (l.is_ints()) {
      nb::list items;
      for (int64_t v : l.as_ints()) items.append(v);
      return items;
    }
    if (l.is_string()) return nb::str(std::string(l.as_string()).c_str());
    throw GraftException(absl::StrCat("a literal graft cannot hand to Python: ", l.ToString()));
  }

  const graft::Graph& g_;
  absl::flat_hash_map<const graft::Node*, std::vector<const graft::Value*>> operands_;
  absl::flat_hash_map<const graft::Value*, std::string> names_;
  int next_id_ = 0;
};

}  // namespace

NB_MODULE(_graft, m) {
  m.doc() = "graft's C++ rewrite engine (use graft and graft.executorch, not this module)";
  nb::exception<GraftException>(m, "GraftError", PyExc_RuntimeError);

  nb::class_<Rules>(m, "Rules", "A compiled rule set.")
      .def_prop_ro("names", &Rules::names, "The rules' names, in the order they were given.")
      .def("__len__", [](const Rules& r) { return r.set.size(); })
      .def("describe",
           [](const Rules& r, const std::string& name) {
             const graft::Rule* rule = r.set.Find(name);
             if (!rule) throw GraftException(absl::StrCat("no rule named '", name, "'"));
             return rule->Describe();
           },
           nb::arg("name"), "The rule's pattern, replacement and constraints, as text.");

  m.def("load_rules", &LoadRules, nb::arg("paths"),
        "Compiles .rules files and directories of them (errors say file:line:col).");
  m.def("parse_rules", &ParseRules, nb::arg("text"), nb::arg("name") = "<rules>",
        "Compiles rules given as text; `name` appears in error locations.");

  m.def(
      "rewrite_text",
      [](const std::string& text, const Rules& rules, std::vector<std::string> only,
         std::vector<std::string> disable, bool verify_each, const std::string& filename) {
        graft::DriverOptions o = MakeOptions(rules, std::move(only), std::move(disable), verify_each);
        std::string printed;
        graft::DriverResult r;
        {
          nb::gil_scoped_release unlocked;
          std::unique_ptr<graft::Graph> g = Unwrap(graft::ParseGraph(text, graft::Ops(), filename));
          Check(graft::Verify(*g));
          r = Run(*g, rules, o);
          printed = graft::Print(*g);
        }
        return nb::make_tuple(printed, StatsToPython(r));
      },
      nb::arg("text"), nb::arg("rules"), nb::arg("only") = std::vector<std::string>(),
      nb::arg("disable") = std::vector<std::string>(), nb::arg("verify_each") = false,
      nb::arg("filename") = "<input>",
      "Rewrites a graph in graft's text form: (printed result, stats).");

  m.def(
      "rewrite_program",
      [](const std::string& program, const Rules& rules, std::vector<std::string> only,
         std::vector<std::string> disable, bool verify_each, const std::string& filename) {
        graft::DriverOptions o = MakeOptions(rules, std::move(only), std::move(disable), verify_each);
        graft::exir::Program p = [&] {
          nb::gil_scoped_release unlocked;
          return ReadProgram(program, filename);
        }();
        EditRecorder edits(p.graph());
        graft::DriverResult r = [&] {
          nb::gil_scoped_release unlocked;
          return Run(p.graph(), rules, o);
        }();
        return nb::make_tuple(edits.Edits(), StatsToPython(r));
      },
      nb::arg("program"), nb::arg("rules"), nb::arg("only") = std::vector<std::string>(),
      nb::arg("disable") = std::vector<std::string>(), nb::arg("verify_each") = false,
      nb::arg("filename") = "<program>",
      "Rewrites an ExecuTorch serialized program (serialized_exported_program.json text): "
      "(the edits that turn it into the result, stats); see EditRecorder.");

  m.def(
      "rewrite_program_json",
      [](const std::string& program, const Rules& rules, std::vector<std::string> only,
         std::vector<std::string> disable, bool verify_each, const std::string& filename) {
        graft::DriverOptions o = MakeOptions(rules, std::move(only), std::move(disable), verify_each);
        std::string text;
        graft::DriverResult r;
        {
          nb::gil_scoped_release unlocked;
          graft::exir::Program p = ReadProgram(program, filename);
          r = Run(p.graph(), rules, o);
          text = Unwrap(p.Write());
        }
        return nb::make_tuple(text, StatsToPython(r));
      },
      nb::arg("program"), nb::arg("rules"), nb::arg("only") = std::vector<std::string>(),
      nb::arg("disable") = std::vector<std::string>(), nb::arg("verify_each") = false,
      nb::arg("filename") = "<program>",
      "Rewrites an ExecuTorch serialized program: (the rewritten document's text, stats).");

  m.def("explain_program", &ExplainProgram, nb::arg("program"), nb::arg("rules"),
        nb::arg("filename") = "<program>",
        "Why each rule does or does not match at each node it could be rooted at, in an "
        "ExecuTorch serialized program, without rewriting it; see ExplainProgram.");
}
