// Checks graft's shape functions against the cases meta_cases.py recorded
// from torch's meta kernels (see there for the format). Each case is parsed
// as a one-node graph, which infers the node's result types through its
// shape function; the printed types must equal torch's, and where torch
// refused the call graft must refuse it too.
//
// An op in graft::Ops() with a shape function is checked as the table
// declares it. An op the table does not have yet is checked through a
// registry of its own, with the schema the case gives and the shape
// function its family names, so a family is tested before the table
// assigns it (a tensor list is a Tensor parameter per tensor there, so
// each list length gets a registry); ops whose schema graft cannot declare
// are then skipped. Prints every mismatch and, per family, how many cases
// passed. Exits 1 on any mismatch, 2 on unreadable input.
//
// Usage: meta_checker cases.tsv
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "graft/ir/lexer.h"
#include "graft/ir/op_call.h"
#include "graft/ir/parser.h"
#include "graft/ops/catalogue.h"
#include "graft/ops/shape_functions.h"

namespace graft {
namespace {

// The shape function of each family name meta_cases.py uses.
ShapeFn FamilyFunction(absl::string_view family) {
  static const auto* by_name = new absl::flat_hash_map<absl::string_view, ShapeFn>{
      {"SameAsInput", shape::SameAsInput}, {"UnaryFloat", shape::UnaryFloat},
      {"UnaryBool", shape::UnaryBool},     {"Elementwise", shape::Elementwise},
      {"Divide", shape::Divide},           {"Comparison", shape::Comparison},
      {"Where", shape::Where},             {"Reduction", shape::Reduction},
      {"ArgReduction", shape::ArgReduction}, {"Mm", shape::Mm},
      {"Bmm", shape::Bmm},                 {"Addmm", shape::Addmm},
      {"Linear", shape::Linear},           {"Matmul", shape::Matmul},
      {"Convolution", shape::Convolution}, {"Permute", shape::Permute},
      {"T", shape::T},                     {"Transpose", shape::Transpose},
      {"View", shape::View},               {"Expand", shape::Expand},
      {"Squeeze", shape::Squeeze},         {"Unsqueeze", shape::Unsqueeze},
      {"Slice", shape::Slice},             {"Select", shape::Select},
      {"Cat", shape::Cat},                 {"Softmax", shape::Softmax},
      {"NativeLayerNorm", shape::NativeLayerNorm}, {"Embedding", shape::Embedding},
      {"ToCopy", shape::ToCopy},           {"Quantize", shape::Quantize},
      {"Dequantize", shape::Dequantize},
  };
  auto it = by_name->find(family);
  return it == by_name->end() ? nullptr : it->second;
}

// Reads `name:kind[?][=default];...` into an OpSchema whose parameter names
// live in `names`.
absl::StatusOr<OpSchema> ReadSchema(absl::string_view text, std::deque<std::string>& names) {
  OpSchema schema;
  for (absl::string_view decl : absl::StrSplit(text, ';')) {
    std::pair<absl::string_view, absl::string_view> name_rest = absl::StrSplit(decl, ':');
    std::pair<absl::string_view, absl::string_view> kind_default =
        absl::StrSplit(name_rest.second, absl::MaxSplits('=', 1));
    Param p{names.emplace_back(name_rest.first), ParamKind::kAny};
    absl::string_view kind = kind_default.first;
    if (kind != "Tensor?" && absl::ConsumeSuffix(&kind, "?")) p.optional = true;
    bool found = false;
    for (int k = 0; k <= static_cast<int>(ParamKind::kAny) && !found; ++k) {
      found = ParamKindName(static_cast<ParamKind>(k)) == kind;
      if (found) p.kind = static_cast<ParamKind>(k);
    }
    if (!found) return absl::InvalidArgumentError(absl::StrCat("unknown kind in '", decl, "'"));
    if (!kind_default.second.empty()) {
      TokenCursor in(kind_default.second, "default");
      GRAFT_ASSIGN_OR_RETURN(p.default_value, ParseLiteral(in));
    }
    schema.params.push_back(p);
  }
  return schema;
}

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
  int either = 0;    // cases where torch's meta and CPU kernels disagree
  int stricter = 0;  // cases graft refuses on purpose
};

// The result types graft infers for the case's graph, as torch's are
// written ("f32[2, 3]", joined by ", "), or "error: <message>".
std::string GraftResult(absl::string_view graph, OpRegistry& ops) {
  auto parsed = ParseGraph(graph, ops);
  if (!parsed.ok()) return absl::StrCat("error: ", parsed.status().message());
  const Graph& g = **parsed;
  std::vector<std::string> types;
  for (size_t i = 0; i < g.num_outputs(); ++i) types.push_back(g.output(i)->type().ToString());
  return absl::StrJoin(types, ", ");
}

int Run(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << path << ": cannot read\n";
    return 2;
  }
  std::map<std::string, Tally> by_family;
  // Ops the table does not have yet, by the schema the case gives.
  std::map<std::string, std::unique_ptr<OpRegistry>> own;
  std::deque<std::string> param_names;
  std::string line;
  int line_no = 0, mismatches = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.size() != 5) {
      std::cerr << path << ":" << line_no << ": expected 5 tab-separated fields, got "
                << f.size() << "\n";
      return 2;
    }
    absl::string_view family = f[0], op = f[1], schema = f[2], graph = f[3], torch = f[4];
    Tally& tally = by_family[std::string(family)];
    OpRegistry* ops = &Ops();
    const OpDef* def = Ops().Find(op);
    if (!def || !def->schema() || !def->schema()->shape_fn) {
      if (schema == "-") {
        ++tally.skipped;
        continue;
      }
      std::unique_ptr<OpRegistry>& registry = own[std::string(schema)];
      if (!registry) registry = std::make_unique<OpRegistry>();
      ops = registry.get();
      if (!ops->Find(op)) {
        auto s = ReadSchema(schema, param_names);
        ShapeFn fn = FamilyFunction(family);
        if (!s.ok() || !fn) {
          std::cerr << path << ":" << line_no << ": "
                    << (fn ? s.status().ToString() : "unknown family") << "\n";
          return 2;
        }
        s->shape_fn = fn;
        ops->Register(op, *std::move(s));
      }
    }
    std::string graft = GraftResult(graph, *ops);
    // "either: A | B": torch's meta and CPU kernels disagree; each is torch.
    std::vector<absl::string_view> answers = {torch};
    if (absl::ConsumePrefix(&torch, "either: ")) {
      answers = absl::StrSplit(torch, " | ");
      ++tally.either;
    } else if (absl::ConsumePrefix(&torch, "stricter: ")) {
      // A refusal the family documents (meta_cases.py's STRICTER).
      answers = {"error:"};
      ++tally.stricter;
    }
    bool agrees = false;
    for (absl::string_view answer : answers) {
      // Refusals match whatever the messages say: they are written for
      // different readers.
      agrees = agrees || (absl::StartsWith(answer, "error:")
                              ? absl::StartsWith(graft, "error:")
                              : graft == answer);
    }
    if (agrees) {
      ++tally.passed;
      continue;
    }
    ++tally.failed;
    ++mismatches;
    std::cout << "MISMATCH " << family << " " << graph << "\n  torch: " << torch
              << "\n  graft: " << graft << "\n";
  }
  std::cout << "family: passed/checked [meta and CPU disagree] {graft refuses on purpose} "
               "(skipped: a list parameter the table does not declare yet)\n";
  for (const auto& [family, t] : by_family)
    std::cout << "  " << family << ": " << t.passed << "/" << t.passed + t.failed
              << (t.either ? absl::StrCat(" [", t.either, "]") : "")
              << (t.stricter ? absl::StrCat(" {", t.stricter, "}") : "")
              << (t.skipped ? absl::StrCat(" (", t.skipped, " skipped)") : "") << "\n";
  std::cout << mismatches << " mismatches\n";
  return mismatches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace graft

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: meta_checker cases.tsv\n";
    return 2;
  }
  return graft::Run(argv[1]);
}
