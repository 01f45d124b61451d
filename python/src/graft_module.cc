// graft._graft: graft's rewrite engine in the Python process.
//
// The binding is deliberately narrow: rule sets (files, directories, text),
// and two entry points that run the driver: one on graft's text form, one
// on an ExecuTorch serialized program (graft/interop/exir_json.h, which owns
// the mapping between edge ops and graft's IR, so this file adds none). The
// caller hands one structure in and gets the rewritten graph and the
// driver's statistics back as Python objects. Errors are graft.GraftError,
// whose message is graft's own (file:line:col where graft has one).
//
// nanobind rather than pybind11: smaller and faster bindings (one object
// conversion per node here), C++17, a CMake config scikit-build-core finds,
// and no dependency on the Python or torch of the build beyond the headers.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graft/driver/driver.h"
#include "graft/interop/exir_json.h"
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

// nlohmann JSON -> Python objects (what json.loads would make).
nb::object JsonToPython(const graft::exir::Json& j) {
  using Json = graft::exir::Json;
  switch (j.type()) {
    case Json::value_t::null: return nb::none();
    case Json::value_t::boolean: return nb::bool_(j.get<bool>());
    case Json::value_t::number_integer: return nb::int_(j.get<int64_t>());
    case Json::value_t::number_unsigned: return nb::int_(j.get<uint64_t>());
    case Json::value_t::number_float: return nb::float_(j.get<double>());
    case Json::value_t::string: {
      // NaN and +-Infinity stand as marker strings while nlohmann holds them.
      if (auto f = graft::exir::exir_internal::JsonToFloat(j)) return nb::float_(*f);
      const auto& s = j.get_ref<const std::string&>();
      return nb::str(s.data(), s.size());
    }
    case Json::value_t::array: {
      nb::list l;
      for (const Json& e : j) l.append(JsonToPython(e));
      return l;
    }
    case Json::value_t::object: {
      nb::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[nb::str(it.key().c_str())] = JsonToPython(*it);
      return d;
    }
    default: return nb::none();  // binary: never in a program
  }
}

// Reads, verifies and rewrites a serialized program; the rewritten
// document's text and the driver's result. Runs without the GIL.
std::pair<std::string, graft::DriverResult> RewriteProgramText(const std::string& program,
                                                               const Rules& rules,
                                                               const graft::DriverOptions& o,
                                                               const std::string& filename) {
  nb::gil_scoped_release unlocked;
  absl::StatusOr<graft::exir::Program> p = graft::exir::Program::Parse(program, filename);
  if (!p.ok()) throw GraftException(std::string(p.status().message()));
  if (absl::Status v = graft::Verify(p->graph()); !v.ok())
    throw GraftException(absl::StrCat(filename, ": the program's graph is malformed: ", v.message()));
  absl::StatusOr<graft::DriverResult> r = graft::ApplyRules(p->graph(), rules.set, o);
  if (!r.ok()) throw GraftException(std::string(r.status().message()));
  absl::StatusOr<std::string> out = p->Write();
  if (!out.ok()) throw GraftException(std::string(out.status().message()));
  return {*std::move(out), *std::move(r)};
}

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
          auto g = graft::ParseGraph(text, graft::Ops(), filename);
          if (!g.ok()) throw GraftException(std::string(g.status().message()));
          Check(graft::Verify(**g));
          absl::StatusOr<graft::DriverResult> res = graft::ApplyRules(**g, rules.set, o);
          if (!res.ok()) throw GraftException(std::string(res.status().message()));
          r = *std::move(res);
          printed = graft::Print(**g);
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
         std::vector<std::string> disable, bool verify_each, bool as_text,
         const std::string& filename) {
        graft::DriverOptions o = MakeOptions(rules, std::move(only), std::move(disable), verify_each);
        auto [text, result] = RewriteProgramText(program, rules, o, filename);
        nb::dict stats = StatsToPython(result);
        if (as_text) return nb::make_tuple(nb::str(text.data(), text.size()), stats);
        // The rewritten graph only: what the caller applies to its FX graph.
        graft::exir::Json doc;
        {
          nb::gil_scoped_release unlocked;
          doc = graft::exir::Json::parse(graft::exir::exir_internal::QuoteNonFinite(text));
        }
        return nb::make_tuple(JsonToPython(doc["graph_module"]["graph"]), stats);
      },
      nb::arg("program"), nb::arg("rules"), nb::arg("only") = std::vector<std::string>(),
      nb::arg("disable") = std::vector<std::string>(), nb::arg("verify_each") = false,
      nb::arg("as_text") = false, nb::arg("filename") = "<program>",
      "Rewrites an ExecuTorch serialized program (serialized_exported_program.json text): "
      "(the rewritten document's text, or its graph as Python objects; stats).");
}
