// Reading and writing ExecuTorch's serialized ExportedProgram
// (`serialized_exported_program.json`, the JSON that `executorch.exir.save`
// puts in its zip and `executorch.exir.load` reads back) as a graft Graph.
//
//   GRAFT_ASSIGN_OR_RETURN(exir::Program p, exir::Program::Parse(json_text));
//   GRAFT_ASSIGN_OR_RETURN(DriverResult r, ApplyRules(p.graph(), rules));
//   GRAFT_ASSIGN_OR_RETURN(std::string out, p.Write());
//
// The Program keeps the whole original document and writes it back patched,
// so everything graft does not model (metadata, range constraints, the module
// call graph, signature entries, sym-int values, names) survives unchanged:
// - nodes graft kept are copied from the document, with their tensor
//   arguments renamed when a rewrite redirected them; nodes graft created get
//   fresh unique names and the metadata (stack trace, debug handle, module
//   stack, ...) of the node they replaced, found through their location,
//   which the importer sets to `<node name> @ <file>:<line>` and the rewriter
//   copies from the matched root (graft/interop/provenance.h);
// - tensor_values loses the entries of erased values and gains the new ones;
// - graph outputs, output specs and the module call graph follow renamed
//   outputs.
//
// Mapping to the IR:
// - Graph inputs that are tensors become graft inputs, with the kind and
//   original name from signature.input_specs (parameter -> kParameter,
//   buffer -> kBuffer, tensor_constant -> kConstant, user_input ->
//   kUserInput). ExecuTorch lifts its own scalar constants as *buffers*
//   named `_lifted_tensor_constantN`; they are kBuffer here, which `const`
//   accepts all the same.
// - A node with several outputs (`native_layer_norm`, `max.dim`) is written
//   without getitem nodes: it becomes one graft node with several results.
//   Tensor-list outputs (`split_with_sizes_copy`) are flattened.
// - Catalogue ops get their arguments in schema order, matched by argument
//   name; arguments the JSON leaves out take the schema default.
// - Ops outside the catalogue stay opaque, arguments in the JSON's order
//   (tensor lists flattened into values).
// - A node graft cannot represent faithfully (symbolic ints or lists of
//   floats among its arguments, non-tensor outputs such as `sym_size`,
//   higher-order ops) becomes an opaque op named `exir_opaque::<target>.default`
//   whose arguments are only its tensor operands, so that no rule matches it
//   while use-lists still see every tensor it reads. It is written back
//   verbatim.
// - dtypes are converted between ExecuTorch's serde numbering (FLOAT = 7) and
//   c10's (graft's kFloat32 = 6).
//
// Python writes NaN and +-Infinity as bare tokens (`"as_float": -Infinity`),
// which strict JSON parsers refuse; they are read and written back as such.
//
// Everything a malformed or unsupported file can cause is an absl::Status
// naming the place in the document.
#ifndef GRAFT_INTEROP_EXIR_JSON_H_
#define GRAFT_INTEROP_EXIR_JSON_H_

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "graft/interop/provenance.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/graph.h"
#include "graft/ir/limits.h"
#include "graft/ir/op_call.h"
#include "graft/ir/status.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace exir {

// Insertion-ordered, so a document written back keeps its key order.
using Json = nlohmann::ordered_json;

// ---- dtypes: ExecuTorch's serde ScalarType (exir/serde/schema.py) <-> c10.

inline std::optional<DType> DTypeFromExir(int64_t v) {
  switch (v) {
    case 1: return DType::kUInt8;
    case 2: return DType::kInt8;
    case 3: return DType::kInt16;
    case 4: return DType::kInt32;
    case 5: return DType::kInt64;
    case 6: return DType::kFloat16;
    case 7: return DType::kFloat32;
    case 8: return DType::kFloat64;
    case 9: return DType::kComplex32;
    case 10: return DType::kComplex64;
    case 11: return DType::kComplex128;
    case 12: return DType::kBool;
    case 13: return DType::kBFloat16;
    case 14: return DType::kUInt16;
    case 15: return DType::kFloat8E5M2;
    case 16: return DType::kFloat8E4M3FN;
    default: return std::nullopt;
  }
}

inline std::optional<int> DTypeToExir(DType d) {
  for (int v = 1; v <= 16; ++v) {
    if (DTypeFromExir(v) == d) return v;
  }
  return std::nullopt;
}

namespace exir_internal {

// Markers standing in for Python's bare NaN / Infinity tokens while the
// document is in nlohmann's hands. The NUL makes them impossible in real
// program text.
inline const std::string& NanMarker() {
  static const std::string* s = new std::string(std::string(1, '\0') + "graft:NaN");
  return *s;
}
inline const std::string& InfMarker() {
  static const std::string* s = new std::string(std::string(1, '\0') + "graft:Infinity");
  return *s;
}
inline const std::string& NegInfMarker() {
  static const std::string* s = new std::string(std::string(1, '\0') + "graft:-Infinity");
  return *s;
}

// Replaces the bare tokens NaN, Infinity and -Infinity outside strings with
// quoted markers.
inline std::string QuoteNonFinite(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool in_string = false;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < in.size()) {
        out.push_back(in[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      continue;
    }
    auto token = [&](absl::string_view t) { return in.substr(i, t.size()) == t; };
    if (token("NaN")) {
      out += "\"\\u0000graft:NaN\"";
      i += 2;
    } else if (token("Infinity")) {
      out += "\"\\u0000graft:Infinity\"";
      i += 7;
    } else if (token("-Infinity")) {
      out += "\"\\u0000graft:-Infinity\"";
      i += 8;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// What nlohmann-json cannot be trusted with, found before it parses:
// nesting deeper than `max_depth` (its copies, dumps and comparisons
// recurse per level, so a deep document overflows the stack later) and
// numbers outside double's range (it throws out_of_range, without a
// position). One pass over the text, strings skipped; errors say
// file:line:column.
inline absl::Status CheckJsonText(absl::string_view in, absl::string_view filename,
                                  int max_depth = kMaxJsonNestingDepth) {
  int depth = 0;
  int64_t line = 1;
  size_t line_start = 0;
  auto at = [&](size_t i, absl::string_view what) {
    return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(filename, ":", line, ":",
                                                                 i - line_start + 1, ": ", what)),
                         ErrorKind::kMalformedInput);
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '"') {
      for (++i; i < in.size() && in[i] != '"'; ++i) {
        if (in[i] == '\\') ++i;
        // A raw newline in a string is a parse error; count it anyway.
        if (i < in.size() && in[i] == '\n') ++line, line_start = i + 1;
      }
      continue;
    }
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return WithErrorKind(at(i, absl::StrCat("JSON nested deeper than kMaxJsonNestingDepth (",
                                                max_depth, " levels of [ and {)")),
                             ErrorKind::kLimitExceeded);
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced: nlohmann reports it
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i + 1;
      while (end < in.size() && (std::isdigit(static_cast<unsigned char>(in[end])) ||
                                 in[end] == '.' || in[end] == 'e' || in[end] == 'E' ||
                                 in[end] == '+' || in[end] == '-'))
        ++end;
      std::string number(in.substr(i, end - i));
      char* stop = nullptr;
      double v = std::strtod(number.c_str(), &stop);
      // Integers too: nlohmann reads one beyond uint64 as a double.
      if (stop == number.c_str() + number.size() && number != "-" && std::isinf(v))
        return at(i, absl::StrCat("number ", number.size() > 40 ? number.substr(0, 40) + "..." : number,
                                  " is outside the range of a double"));
      i = end - 1;
    }
  }
  return absl::OkStatus();
}

// An integer member as int64, or nullopt when it is not an integer or does
// not fit (nlohmann keeps integers above INT64_MAX as uint64, which get<int64_t>
// would wrap).
inline std::optional<int64_t> JsonInt(const Json& j) {
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

// The inverse, on text nlohmann wrote (which escapes NUL as \u0000).
inline std::string UnquoteNonFinite(std::string text) {
  if (text.find("\\u0000graft:") == std::string::npos) return text;
  return absl::StrReplaceAll(text, {{"\"\\u0000graft:NaN\"", "NaN"},
                                    {"\"\\u0000graft:Infinity\"", "Infinity"},
                                    {"\"\\u0000graft:-Infinity\"", "-Infinity"}});
}

inline Json FloatToJson(double v) {
  if (std::isnan(v)) return NanMarker();
  if (std::isinf(v)) return v > 0 ? InfMarker() : NegInfMarker();
  return v;
}

inline std::optional<double> JsonToFloat(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == NanMarker()) return std::numeric_limits<double>::quiet_NaN();
    if (s == InfMarker()) return std::numeric_limits<double>::infinity();
    if (s == NegInfMarker()) return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

// A one-key object `{"as_tensor": {...}}`: its key, or "" when `j` is not one.
inline std::string UnionKind(const Json& j) {
  if (!j.is_object() || j.size() != 1) return "";
  return j.begin().key();
}

// Target prefixes ExecuTorch's serializer writes.
constexpr absl::string_view kEdgePrefix = "executorch.exir.dialects.edge.ops.";
constexpr absl::string_view kBackendPrefix = "executorch.exir.dialects.backend.ops.";
constexpr absl::string_view kTorchPrefix = "torch.ops.";

// `aten::mm.default` for `executorch.exir.dialects.edge.ops.aten.mm.default`,
// or nullopt for a target that is not an op overload (`_operator.mul`,
// higher-order ops, delegate calls).
inline std::optional<std::string> OpNameOfTarget(absl::string_view target) {
  absl::string_view rest;
  for (absl::string_view p : {kEdgePrefix, kBackendPrefix, kTorchPrefix}) {
    if (absl::StartsWith(target, p)) {
      rest = target.substr(p.size());
      break;
    }
  }
  if (rest.empty()) return std::nullopt;
  // `ns.name.overload`: exactly two dots.
  size_t first = rest.find('.');
  if (first == absl::string_view::npos) return std::nullopt;
  size_t second = rest.find('.', first + 1);
  if (second == absl::string_view::npos || rest.find('.', second + 1) != absl::string_view::npos)
    return std::nullopt;
  if (rest.substr(0, first) == "higher_order") return std::nullopt;
  auto canonical = OpRegistry::Canonicalize(rest);
  if (!canonical.ok()) return std::nullopt;
  return *canonical;
}

inline std::string Sanitize(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(0, "_");
  return out;
}

// The opaque op standing for a node graft cannot represent.
inline const OpDef* OpaqueOp(absl::string_view target) {
  absl::string_view rest = target;
  for (absl::string_view p : {kEdgePrefix, kBackendPrefix, kTorchPrefix}) {
    if (absl::StartsWith(target, p)) {
      rest = target.substr(p.size());
      break;
    }
  }
  auto op = Ops().Intern(absl::StrCat("exir_opaque::", Sanitize(rest), ".default"));
  return *op;  // the name is well formed by construction
}

inline bool IsIdentifier(absl::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// The innermost frame of a torch stack trace: file `decoder.py`, line 107.
inline Provenance StackTraceSource(absl::string_view stack_trace) {
  Provenance source;
  size_t file = stack_trace.rfind("File \"");
  if (file == absl::string_view::npos) return source;
  size_t start = file + 6;
  size_t end = stack_trace.find('"', start);
  if (end == absl::string_view::npos) return source;
  source.file = Provenance::BaseName(stack_trace.substr(start, end - start));
  size_t line = stack_trace.find(", line ", end);
  if (line != absl::string_view::npos && line == end + 1) {
    size_t p = line + 7, q = p;
    while (q < stack_trace.size() && std::isdigit(static_cast<unsigned char>(stack_trace[q]))) ++q;
    if (!absl::SimpleAtoi(stack_trace.substr(p, q - p), &source.line)) source.line = 0;
  }
  return source;
}

// memory_format / layout values as torch names them, carried as strings.
inline const std::vector<std::pair<int, absl::string_view>>& MemoryFormats() {
  static const auto* v = new std::vector<std::pair<int, absl::string_view>>{
      {1, "torch.contiguous_format"},
      {2, "torch.channels_last"},
      {3, "torch.channels_last_3d"},
      {4, "torch.preserve_format"}};
  return *v;
}
inline const std::vector<std::pair<int, absl::string_view>>& Layouts() {
  static const auto* v = new std::vector<std::pair<int, absl::string_view>>{
      {1, "torch.sparse_coo"}, {2, "torch.sparse_csr"}, {3, "torch.sparse_csc"},
      {4, "torch.sparse_bsr"}, {5, "torch.sparse_bsc"}, {6, "torch._mkldnn"},
      {7, "torch.strided"}};
  return *v;
}

}  // namespace exir_internal

// A serialized edge program and the graft Graph read from it. Rewrite
// graph() in place, then Write() the document back.
class Program {
 public:
  // Parses the text of serialized_exported_program.json. `filename` prefixes
  // error messages.
  static absl::StatusOr<Program> Parse(absl::string_view json_text,
                                       absl::string_view filename = "<exir>") {
    Program p;
    p.filename_ = std::string(filename);
    GRAFT_RETURN_IF_ERROR(exir_internal::CheckJsonText(json_text, filename));
    try {
      p.doc_ = Json::parse(exir_internal::QuoteNonFinite(json_text));
    } catch (const Json::parse_error& e) {
      return WithErrorKind(
          absl::InvalidArgumentError(absl::StrCat(filename, ": not valid JSON: ", e.what())),
          ErrorKind::kMalformedInput);
    } catch (const Json::exception& e) {
      // CheckJsonText finds the numbers nlohmann refuses; this is a last
      // line of defence (out_of_range and whatever a later version throws).
      return WithErrorKind(
          absl::InvalidArgumentError(absl::StrCat(filename, ": cannot read this JSON: ", e.what())),
          ErrorKind::kMalformedInput);
    }
    absl::Status s;
    try {
      s = p.Import();
    } catch (const Json::exception& e) {
      // Accessors below check types first; this is a last line of defence.
      s = WithErrorKind(
          absl::InvalidArgumentError(absl::StrCat(p.filename_, ": malformed program: ", e.what())),
          ErrorKind::kMalformedInput);
    }
    if (!s.ok()) return s;
    return p;
  }

  Program(Program&&) = default;
  Program& operator=(Program&&) = default;

  Graph& graph() { return *graph_; }
  const Graph& graph() const { return *graph_; }
  // The original document (as read).
  const Json& document() const { return doc_; }

  // The document with the graph's current state written into it. Fails when
  // the graph holds something the format cannot express (a new node of an
  // op outside the catalogue, a new graph input).
  absl::StatusOr<std::string> Write() const {
    try {
      GRAFT_ASSIGN_OR_RETURN(Json out, Export());
      return exir_internal::UnquoteNonFinite(
          out.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace));
    } catch (const Json::exception& e) {
      return absl::InternalError(absl::StrCat(filename_, ": cannot write the program: ", e.what()));
    }
  }

  // How many nodes were read as exir_opaque (not representable).
  int num_opaque_nodes() const { return num_opaque_; }

 private:
  Program() : graph_(std::make_unique<Graph>("forward")) {}

  // Where a value argument of an imported node sits in its JSON inputs:
  // inputs[input].arg, element `element` of a list (-1: not a list).
  struct Slot {
    int input;
    int element;
  };
  struct Imported {
    size_t json_index;
    std::vector<Slot> slots;  // per graft argument; {-1, -1} for literals
  };

  absl::Status Error(absl::string_view where, absl::string_view what) const {
    return WithErrorKind(
        absl::InvalidArgumentError(absl::StrCat(filename_, ": ", where, ": ", what)),
        ErrorKind::kMalformedInput);
  }

  static const Json* Find(const Json& obj, absl::string_view key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(std::string(key));
    return it == obj.end() ? nullptr : &*it;
  }

  // A required member of a given JSON type.
  absl::StatusOr<const Json*> Member(const Json& obj, absl::string_view key, Json::value_t type,
                                     absl::string_view where) const {
    const Json* j = Find(obj, key);
    if (!j) return Error(where, absl::StrCat("missing \"", key, "\""));
    if (j->type() != type && !(type == Json::value_t::number_integer && j->is_number_integer()))
      return Error(where, absl::StrCat("\"", key, "\" should be a JSON ", TypeName(type),
                                       ", found ", j->type_name()));
    return j;
  }
  static absl::string_view TypeName(Json::value_t t) {
    switch (t) {
      case Json::value_t::object: return "object";
      case Json::value_t::array: return "array";
      case Json::value_t::string: return "string";
      case Json::value_t::boolean: return "boolean";
      case Json::value_t::number_integer: return "integer";
      default: return "value";
    }
  }

  // ---- Reading.

  absl::StatusOr<TensorType> TypeOf(const std::string& name, absl::string_view where) const {
    auto it = tensor_meta_.find(name);
    if (it == tensor_meta_.end())
      return Error(where, absl::StrCat("tensor '", name, "' has no entry in graph.tensor_values"));
    const Json& meta = *it->second;
    std::string here = absl::StrCat("graph.tensor_values['", name, "']");
    GRAFT_ASSIGN_OR_RETURN(const Json* dtype, Member(meta, "dtype", Json::value_t::number_integer, here));
    std::optional<int64_t> dtype_number = exir_internal::JsonInt(*dtype);
    auto d = dtype_number ? DTypeFromExir(*dtype_number) : std::nullopt;
    if (!d)
      return Error(here, absl::StrCat("dtype ", dtype->dump(),
                                      " is not an ExecuTorch ScalarType graft knows (1..16)"));
    GRAFT_ASSIGN_OR_RETURN(const Json* sizes, Member(meta, "sizes", Json::value_t::array, here));
    Shape shape;
    for (const Json& s : *sizes) {
      std::string kind = exir_internal::UnionKind(s);
      if (kind == "as_int" && s.begin()->is_number_integer()) {
        std::optional<int64_t> v = exir_internal::JsonInt(*s.begin());
        if (!v) return Error(here, absl::StrCat("size ", s.begin()->dump(), " does not fit in int64"));
        if (*v < 0) return Error(here, absl::StrCat("negative size ", *v));
        shape.push_back(Dim(*v));
      } else if (kind == "as_expr" && s.begin()->is_object()) {
        const Json* expr = Find(*s.begin(), "expr_str");
        if (!expr || !expr->is_string()) return Error(here, "a symbolic size has no expr_str");
        shape.push_back(Dim::Symbol(expr->get<std::string>()));
      } else {
        return Error(here, absl::StrCat("unrecognised size ", s.dump()));
      }
    }
    return TensorType::Get(*d, shape);
  }

  absl::StatusOr<Value*> Lookup(const Json& tensor_arg, absl::string_view where) const {
    const Json* name = Find(tensor_arg, "name");
    if (!name || !name->is_string()) return Error(where, "a tensor argument has no name");
    auto it = values_.find(name->get_ref<const std::string&>());
    if (it == values_.end())
      return Error(where, absl::StrCat("refers to '", name->get<std::string>(),
                                       "', which is not defined before this node"));
    return it->second;
  }

  // A non-tensor argument as a graft literal, or nullptr when graft has no
  // literal for it. `kind` is the union key.
  static const Literal* ToLiteral(const std::string& kind, const Json& v) {
    using exir_internal::JsonInt;
    using exir_internal::JsonToFloat;
    if (kind == "as_none") return Literal::None();
    // Integers beyond int64 have no graft literal: the node stays opaque.
    if (kind == "as_int") {
      std::optional<int64_t> i = JsonInt(v);
      return i ? Literal::Int(*i) : nullptr;
    }
    if (kind == "as_ints" && v.is_array()) {
      std::vector<int64_t> items;
      for (const Json& e : v) {
        std::optional<int64_t> i = JsonInt(e);
        if (!i) return nullptr;
        items.push_back(*i);
      }
      return Literal::Ints(items);
    }
    if (kind == "as_float") {
      auto f = JsonToFloat(v);
      return f ? Literal::Float(*f) : nullptr;
    }
    if (kind == "as_bool" && v.is_boolean()) return Literal::Bool(v.get<bool>());
    if (kind == "as_string" && v.is_string()) return Literal::String(v.get<std::string>());
    if (kind == "as_scalar_type" && JsonInt(v)) {
      auto d = DTypeFromExir(*JsonInt(v));
      return d ? Literal::OfDType(*d) : nullptr;
    }
    if ((kind == "as_memory_format" || kind == "as_layout") && JsonInt(v)) {
      const auto& table =
          kind == "as_layout" ? exir_internal::Layouts() : exir_internal::MemoryFormats();
      for (const auto& [n, s] : table) {
        if (n == *JsonInt(v)) return Literal::String(s);
      }
      return nullptr;
    }
    if (kind == "as_device" && v.is_object()) {
      const Json* type = Find(v, "type");
      const Json* index = Find(v, "index");
      if (!type || !type->is_string()) return nullptr;
      std::string s = type->get<std::string>();
      if (index && JsonInt(*index)) absl::StrAppend(&s, ":", *JsonInt(*index));
      return Literal::String(s);
    }
    // A SymInt argument that is a plain int, or a list of them.
    if (kind == "as_sym_int" && v.is_object() && exir_internal::UnionKind(v) == "as_int")
      return ToLiteral("as_int", *v.begin());
    if (kind == "as_sym_ints" && v.is_array()) {
      std::vector<int64_t> items;
      for (const Json& e : v) {
        if (exir_internal::UnionKind(e) != "as_int" || !JsonInt(*e.begin())) return nullptr;
        items.push_back(*JsonInt(*e.begin()));
      }
      return Literal::Ints(items);
    }
    return nullptr;  // as_floats, as_bools, as_strings, symbolic values, graphs, ...
  }

  // One JSON argument as graft arguments: a value, a literal, the values of
  // a tensor list; `ok` turns false when graft has no literal for it.
  absl::Status ConvertArg(const Json& arg, int input_index, absl::string_view where,
                          std::vector<Arg>* args, std::vector<Slot>* slots, bool* ok) const {
    std::string kind = exir_internal::UnionKind(arg);
    if (kind.empty()) return Error(where, absl::StrCat("malformed argument ", arg.dump()));
    const Json& v = *arg.begin();
    if (kind == "as_tensor") {
      GRAFT_ASSIGN_OR_RETURN(Value * val, Lookup(v, where));
      args->push_back(val);
      slots->push_back({input_index, -1});
      return absl::OkStatus();
    }
    if (kind == "as_tensors" || kind == "as_optional_tensors") {
      if (!v.is_array()) return Error(where, absl::StrCat(kind, " should be a list"));
      for (int e = 0; e < static_cast<int>(v.size()); ++e) {
        const Json& item = v[e];
        if (kind == "as_optional_tensors") {
          std::string k = exir_internal::UnionKind(item);
          if (k == "as_none") {
            args->push_back(Literal::None());
            slots->push_back({-1, -1});
            continue;
          }
          if (k != "as_tensor") return Error(where, absl::StrCat("malformed list item ", item.dump()));
          GRAFT_ASSIGN_OR_RETURN(Value * val, Lookup(*item.begin(), where));
          args->push_back(val);
        } else {
          GRAFT_ASSIGN_OR_RETURN(Value * val, Lookup(item, where));
          args->push_back(val);
        }
        slots->push_back({input_index, e});
      }
      return absl::OkStatus();
    }
    const Literal* lit = ToLiteral(kind, v);
    if (!lit) {
      *ok = false;
      return absl::OkStatus();
    }
    args->push_back(lit);
    slots->push_back({-1, -1});
    return absl::OkStatus();
  }

  // Every tensor a JSON argument reads, wherever it sits.
  absl::Status CollectTensors(const Json& arg, int input_index, absl::string_view where,
                              std::vector<Arg>* args, std::vector<Slot>* slots) const {
    std::string kind = exir_internal::UnionKind(arg);
    if (kind == "as_tensor" || kind == "as_tensors" || kind == "as_optional_tensors") {
      std::vector<Arg> a;
      std::vector<Slot> s;
      bool ok = true;
      GRAFT_RETURN_IF_ERROR(ConvertArg(arg, input_index, where, &a, &s, &ok));
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].is_value()) {
          args->push_back(a[i]);
          slots->push_back(s[i]);
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status Import() {
    using exir_internal::UnionKind;
    if (!doc_.is_object()) return Error("document", "should be a JSON object");
    GRAFT_ASSIGN_OR_RETURN(const Json* gm, Member(doc_, "graph_module", Json::value_t::object, "document"));
    GRAFT_ASSIGN_OR_RETURN(const Json* g, Member(*gm, "graph", Json::value_t::object, "graph_module"));
    GRAFT_ASSIGN_OR_RETURN(const Json* sig, Member(*gm, "signature", Json::value_t::object, "graph_module"));
    GRAFT_ASSIGN_OR_RETURN(const Json* tensor_values, Member(*g, "tensor_values", Json::value_t::object, "graph"));
    GRAFT_ASSIGN_OR_RETURN(const Json* inputs, Member(*g, "inputs", Json::value_t::array, "graph"));
    GRAFT_ASSIGN_OR_RETURN(const Json* outputs, Member(*g, "outputs", Json::value_t::array, "graph"));
    GRAFT_ASSIGN_OR_RETURN(const Json* nodes, Member(*g, "nodes", Json::value_t::array, "graph"));
    GRAFT_ASSIGN_OR_RETURN(const Json* specs, Member(*sig, "input_specs", Json::value_t::array, "signature"));

    // Every name in the document, so generated names never reuse one.
    for (auto it = tensor_values->begin(); it != tensor_values->end(); ++it) {
      taken_.insert(it.key());
      tensor_meta_[it.key()] = &*it;
    }
    for (const char* table : {"sym_int_values", "sym_bool_values", "custom_obj_values"}) {
      if (const Json* t = Find(*g, table); t && t->is_object())
        for (auto it = t->begin(); it != t->end(); ++it) taken_.insert(it.key());
    }

    // Input kinds by placeholder name.
    struct Spec {
      InputKind kind;
      std::string original;
    };
    absl::flat_hash_map<std::string, Spec> spec_of;
    for (size_t i = 0; i < specs->size(); ++i) {
      const Json& s = (*specs)[i];
      std::string where = absl::StrCat("signature.input_specs[", i, "]");
      std::string kind = UnionKind(s);
      if (kind.empty()) return Error(where, "should be a one-key object such as {\"parameter\": ...}");
      const Json& body = *s.begin();
      const Json* arg = Find(body, "arg");
      if (!arg) return Error(where, "has no \"arg\"");
      const Json* name = nullptr;
      if (kind == "user_input") {
        if (UnionKind(*arg) == "as_tensor") name = Find(*arg->begin(), "name");
      } else {
        name = Find(*arg, "name");
      }
      if (!name || !name->is_string()) continue;  // non-tensor inputs: not graft inputs
      Spec spec{InputKind::kUserInput, ""};
      auto original = [&](const char* key) -> std::string {
        const Json* o = Find(body, key);
        return o && o->is_string() ? o->get<std::string>() : "";
      };
      if (kind == "parameter") {
        spec = {InputKind::kParameter, original("parameter_name")};
      } else if (kind == "buffer") {
        spec = {InputKind::kBuffer, original("buffer_name")};
      } else if (kind == "tensor_constant") {
        spec = {InputKind::kConstant, original("tensor_constant_name")};
      } else if (kind != "user_input") {
        continue;  // custom objects, tokens, constant inputs
      }
      spec_of[name->get<std::string>()] = spec;
    }

    for (size_t i = 0; i < inputs->size(); ++i) {
      const Json& in = (*inputs)[i];
      std::string where = absl::StrCat("graph.inputs[", i, "]");
      std::string kind = UnionKind(in);
      if (kind.empty()) return Error(where, "should be a one-key object such as {\"as_tensor\": ...}");
      if (kind != "as_tensor") {
        // A SymInt, custom object or constant input: not a tensor, not a
        // graft input; its name stays reserved.
        if (const Json* n = Find(*in.begin(), "name"); n && n->is_string()) taken_.insert(n->get<std::string>());
        if (const Json* n = Find(*in.begin(), "as_name"); n && n->is_string()) taken_.insert(n->get<std::string>());
        continue;
      }
      const Json* name = Find(*in.begin(), "name");
      if (!name || !name->is_string()) return Error(where, "has no name");
      std::string n = name->get<std::string>();
      GRAFT_ASSIGN_OR_RETURN(TensorType t, TypeOf(n, where));
      auto spec = spec_of.find(n);
      if (spec == spec_of.end())
        return Error(where, absl::StrCat("input '", n, "' has no entry in signature.input_specs"));
      if (values_.contains(n)) return Error(where, absl::StrCat("'", n, "' is defined twice"));
      Value* v = graph_->AddInput(t, n, spec->second.kind, spec->second.original);
      values_[n] = v;
      taken_.insert(n);
      input_json_index_.push_back(static_cast<int>(i));
    }

    for (size_t k = 0; k < nodes->size(); ++k) GRAFT_RETURN_IF_ERROR(ImportNode((*nodes)[k], k));

    for (size_t i = 0; i < outputs->size(); ++i) {
      const Json& out = (*outputs)[i];
      std::string where = absl::StrCat("graph.outputs[", i, "]");
      std::string kind = UnionKind(out);
      if (kind.empty()) return Error(where, "should be a one-key object such as {\"as_tensor\": ...}");
      if (kind != "as_tensor") continue;  // ints, None, SymInts: carried as they are
      GRAFT_ASSIGN_OR_RETURN(Value * v, Lookup(*out.begin(), where));
      graph_->AddOutput(v);
      output_json_index_.push_back(static_cast<int>(i));
    }
    for (const Json& n : *nodes) taken_.insert(n["name"].get<std::string>());
    return absl::OkStatus();
  }

  absl::Status ImportNode(const Json& jn, size_t index) {
    using exir_internal::UnionKind;
    std::string where = absl::StrCat("graph.nodes[", index, "]");
    if (!jn.is_object()) return Error(where, "should be an object");
    GRAFT_ASSIGN_OR_RETURN(const Json* jname, Member(jn, "name", Json::value_t::string, where));
    where = absl::StrCat(where, " (", jname->get<std::string>(), ")");
    GRAFT_ASSIGN_OR_RETURN(const Json* jtarget, Member(jn, "target", Json::value_t::string, where));
    GRAFT_ASSIGN_OR_RETURN(const Json* jinputs, Member(jn, "inputs", Json::value_t::array, where));
    GRAFT_ASSIGN_OR_RETURN(const Json* joutputs, Member(jn, "outputs", Json::value_t::array, where));
    const std::string& target = jtarget->get_ref<const std::string&>();

    // Results: tensors (lists flattened); anything else makes the node opaque.
    bool representable = true;
    std::vector<std::pair<std::string, TensorType>> results;
    for (size_t o = 0; o < joutputs->size(); ++o) {
      const Json& out = (*joutputs)[o];
      std::string kind = UnionKind(out);
      if (kind.empty()) return Error(where, absl::StrCat("malformed output ", out.dump()));
      auto add = [&](const Json& t) -> absl::Status {
        const Json* n = Find(t, "name");
        if (!n || !n->is_string()) return Error(where, "an output tensor has no name");
        GRAFT_ASSIGN_OR_RETURN(TensorType type, TypeOf(n->get<std::string>(), where));
        results.emplace_back(n->get<std::string>(), type);
        return absl::OkStatus();
      };
      if (kind == "as_tensor") {
        GRAFT_RETURN_IF_ERROR(add(*out.begin()));
      } else if (kind == "as_tensors" && out.begin()->is_array()) {
        for (const Json& t : *out.begin()) GRAFT_RETURN_IF_ERROR(add(t));
        representable = false;  // graft ops have no list results
      } else {
        representable = false;  // SymInt / SymBool / None outputs
      }
    }

    // Validate every argument first: malformed arguments and dangling
    // references are errors whatever graft makes of the node.
    for (size_t i = 0; i < jinputs->size(); ++i) {
      const Json* arg = Find((*jinputs)[i], "arg");
      if (!arg || UnionKind(*arg).empty())
        return Error(where, absl::StrCat("inputs[", i, "] should be {\"name\": ..., \"arg\": {one key}}"));
      std::vector<Arg> a;
      std::vector<Slot> s;
      GRAFT_RETURN_IF_ERROR(CollectTensors(*arg, static_cast<int>(i), where, &a, &s));
    }

    std::vector<Arg> args;
    std::vector<Slot> slots;
    const OpDef* op = nullptr;
    std::optional<std::string> op_name = exir_internal::OpNameOfTarget(target);
    if (!op_name) representable = false;
    if (representable) {
      GRAFT_ASSIGN_OR_RETURN(op, Ops().Intern(*op_name));
      if (const OpSchema* schema = op->schema()) {
        GRAFT_RETURN_IF_ERROR(ConvertBySchema(*schema, *jinputs, where, &args, &slots, &representable));
        if (representable && (!CheckArgs(op, args).ok() ||
                              static_cast<int>(results.size()) != schema->num_results))
          representable = false;
      } else {
        for (size_t i = 0; i < jinputs->size() && representable; ++i) {
          GRAFT_RETURN_IF_ERROR(ConvertArg(*Find((*jinputs)[i], "arg"), static_cast<int>(i), where,
                                           &args, &slots, &representable));
        }
      }
    }
    if (!representable) {
      op = exir_internal::OpaqueOp(target);
      args.clear();
      slots.clear();
      for (size_t i = 0; i < jinputs->size(); ++i)
        GRAFT_RETURN_IF_ERROR(
            CollectTensors(*Find((*jinputs)[i], "arg"), static_cast<int>(i), where, &args, &slots));
      ++num_opaque_;
    }

    Provenance provenance;
    if (const Json* md = Find(jn, "metadata"); md && md->is_object()) {
      if (const Json* st = Find(*md, "stack_trace"); st && st->is_string())
        provenance = exir_internal::StackTraceSource(st->get_ref<const std::string&>());
    }
    provenance.node = jname->get<std::string>();
    uint32_t loc_id = graph_->InternLoc(provenance.ToString());

    TypeList types;
    for (const auto& r : results) types.push_back(r.second);
    if (args.size() > Node::kMaxArgs || types.size() > Node::kMaxResults)
      return WithErrorKind(
          Error(where, absl::StrCat("has ", args.size(), " arguments and ", types.size(),
                                    " results; a graft node holds at most ", Node::kMaxArgs)),
          ErrorKind::kLimitExceeded);
    Node* n = graph_->CreateNode(op, args, types, nullptr, loc_id);
    for (size_t r = 0; r < results.size(); ++r) {
      if (values_.contains(results[r].first))
        return Error(where, absl::StrCat("'", results[r].first, "' is defined twice"));
      graph_->set_name(n->result(static_cast<int>(r)), results[r].first);
      values_[results[r].first] = n->result(static_cast<int>(r));
    }
    origins_.Record(n, Imported{index, std::move(slots)});
    return absl::OkStatus();
  }

  // Arguments of a catalogue op, in schema order, matched by name. Sets
  // `ok` false when the JSON does not fit the schema.
  absl::Status ConvertBySchema(const OpSchema& schema, const Json& jinputs, absl::string_view where,
                               std::vector<Arg>* args, std::vector<Slot>* slots, bool* ok) const {
    std::vector<int> at(schema.params.size(), -1);
    for (size_t i = 0; i < jinputs.size(); ++i) {
      const Json* name = Find(jinputs[i], "name");
      if (!name || !name->is_string() || !Find(jinputs[i], "arg")) {
        *ok = false;
        return absl::OkStatus();
      }
      bool found = false;
      for (size_t p = 0; p < schema.params.size(); ++p) {
        if (schema.params[p].name == name->get_ref<const std::string&>()) {
          at[p] = static_cast<int>(i);
          found = true;
        }
      }
      if (!found) {
        *ok = false;  // an argument the catalogue's schema does not have
        return absl::OkStatus();
      }
    }
    int last = -1;
    for (size_t p = 0; p < at.size(); ++p) {
      if (at[p] >= 0) last = static_cast<int>(p);
    }
    // A node of a list op carries every parameter (OpSchema).
    if (schema.has_list()) last = static_cast<int>(at.size()) - 1;
    for (int p = 0; p <= last; ++p) {
      const Param& param = schema.params[p];
      if (at[p] < 0) {
        Arg d = param.DefaultArg();
        if (d.is_null()) {
          *ok = false;  // a required argument is missing
          return absl::OkStatus();
        }
        args->push_back(d);
        slots->push_back({-1, -1});
        continue;
      }
      size_t before = args->size();
      const Json& arg = *Find(jinputs[at[p]], "arg");
      std::string kind = exir_internal::UnionKind(arg);
      bool list = kind == "as_tensors" || kind == "as_optional_tensors";
      if (list != (p == schema.list_param)) {
        *ok = false;
        return absl::OkStatus();
      }
      GRAFT_RETURN_IF_ERROR(ConvertArg(arg, at[p], where, args, slots, ok));
      if (!*ok) return absl::OkStatus();
      if (!list && args->size() != before + 1) {
        *ok = false;
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  // ---- Writing.

  // `{"as_tensor": {"name": n}}` etc. for argument `a` of a new node.
  absl::StatusOr<Json> ArgToJson(const Param* param, Arg a,
                                 const absl::flat_hash_map<const Value*, std::string>& names,
                                 absl::string_view where) const {
    if (Value* v = a.value()) return Json{{"as_tensor", {{"name", names.at(v)}}}};
    const Literal& l = *a.literal();
    switch (l.kind()) {
      case Literal::Kind::kNone:
        return Json{{"as_none", Json::array()}};
      case Literal::Kind::kInt:
        if (param && param->kind == ParamKind::kFloat)
          return Json{{"as_float", static_cast<double>(l.as_int())}};
        return Json{{"as_int", l.as_int()}};
      case Literal::Kind::kInts: {
        Json items = Json::array();
        for (int64_t v : l.as_ints()) items.push_back(v);
        return Json{{"as_ints", items}};
      }
      case Literal::Kind::kFloat:
        return Json{{"as_float", exir_internal::FloatToJson(l.as_float())}};
      case Literal::Kind::kBool:
        return Json{{"as_bool", l.as_bool()}};
      case Literal::Kind::kString: {
        if (param && param->kind == ParamKind::kAny) {
          for (const auto& [n, s] : exir_internal::MemoryFormats())
            if (s == l.as_string()) return Json{{"as_memory_format", n}};
          for (const auto& [n, s] : exir_internal::Layouts())
            if (s == l.as_string()) return Json{{"as_layout", n}};
          std::string dev(l.as_string());
          size_t colon = dev.find(':');
          Json d = {{"type", dev.substr(0, colon)}};
          int64_t index = 0;
          if (colon != std::string::npos && absl::SimpleAtoi(dev.substr(colon + 1), &index))
            d["index"] = index;
          return Json{{"as_device", d}};
        }
        return Json{{"as_string", std::string(l.as_string())}};
      }
      case Literal::Kind::kDType: {
        auto d = DTypeToExir(l.as_dtype());
        if (!d)
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": dtype ", DTypeName(l.as_dtype()), " has no ExecuTorch ScalarType"));
        return Json{{"as_scalar_type", *d}};
      }
    }
    return absl::InternalError("unknown literal kind");
  }

  // Tensor metadata for a value graft created, based on `like` (the
  // replaced value's entry) for device, layout and requires_grad.
  absl::StatusOr<Json> TensorMeta(TensorType t, const Json* like, absl::string_view where) const {
    if (!t.known())
      return absl::InvalidArgumentError(absl::StrCat(where, ": a new value has an unknown type"));
    auto d = DTypeToExir(*t.dtype());
    if (!d)
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": dtype ", DTypeName(*t.dtype()), " has no ExecuTorch ScalarType"));
    Json sizes = Json::array(), strides = Json::array();
    auto sym = [](const std::string& e) { return Json{{"as_expr", {{"expr_str", e}}}}; };
    for (Dim dim : *t.shape())
      sizes.push_back(dim.is_static() ? Json{{"as_int", dim.size()}} : sym(std::string(dim.symbol_name())));
    // Contiguous strides, symbolic where a later dim is.
    std::vector<Json> rev;
    int64_t stat = 1;
    std::string expr;
    for (int i = *t.rank() - 1; i >= 0; --i) {
      if (expr.empty()) {
        rev.push_back(Json{{"as_int", stat}});
      } else {
        rev.push_back(sym(stat == 1 ? expr : absl::StrCat(stat, "*", expr)));
      }
      Dim dim = t.dim(i);
      if (i == 0) break;  // the product of every dim is no stride
      if (dim.is_static()) {
        std::optional<int64_t> next = CheckedMul(stat, dim.size());
        if (!next)
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": the strides of a new ", t.ToString(), " value do not fit in int64"));
        stat = *next;
      } else {
        expr = expr.empty() ? std::string(dim.symbol_name())
                            : absl::StrCat(expr, "*", dim.symbol_name());
      }
    }
    for (auto it = rev.rbegin(); it != rev.rend(); ++it) strides.push_back(*it);
    Json meta;
    meta["dtype"] = *d;
    meta["sizes"] = sizes;
    meta["requires_grad"] = like && Find(*like, "requires_grad") ? (*like)["requires_grad"] : Json(false);
    meta["device"] = like && Find(*like, "device") ? (*like)["device"] : Json{{"type", "cpu"}};
    meta["strides"] = strides;
    meta["storage_offset"] = Json{{"as_int", 0}};
    meta["layout"] = like && Find(*like, "layout") ? (*like)["layout"] : Json(7);
    return meta;
  }

  absl::StatusOr<Json> Export() const {
    const Json& orig_graph = doc_["graph_module"]["graph"];
    const Json& orig_nodes = orig_graph["nodes"];
    if (graph_->inputs().size() != input_json_index_.size())
      return absl::FailedPreconditionError(absl::StrCat(
          filename_, ": the graph gained or lost inputs; the exir writer cannot add graph inputs"));
    if (graph_->num_outputs() != output_json_index_.size())
      return absl::FailedPreconditionError(
          absl::StrCat(filename_, ": the graph's number of outputs changed"));

    // Names: inputs and every output of the nodes that survived keep theirs.
    absl::flat_hash_map<const Value*, std::string> names;
    absl::flat_hash_set<std::string> live;
    for (Value* in : graph_->inputs()) {
      names[in] = std::string(graph_->name(in));
      live.insert(names[in]);
    }
    absl::flat_hash_set<std::string> original_live;  // names of surviving JSON values
    for (const Node* n : graph_->nodes()) {
      const Imported* imported = origins_.Of(n);
      if (!imported) continue;
      const Json& jn = orig_nodes[imported->json_index];
      live.insert(jn["name"].get<std::string>());
      for (int r = 0; r < n->num_results(); ++r) names[n->result(r)] = std::string(graph_->name(n->result(r)));
      CollectOutputNames(jn["outputs"], &live);
    }
    original_live = live;
    // New values: the name graft gave them (a replacement inherits the
    // replaced root's), when free; otherwise one derived from the op.
    absl::flat_hash_map<const Node*, std::string> node_names;
    for (const Node* n : graph_->nodes()) {
      if (origins_.contains(n)) continue;
      if (n->op()->ns() == "exir_opaque" || !n->schema())
        return absl::FailedPreconditionError(absl::StrCat(
            filename_, ": a rewrite created a node of ", n->op()->name(),
            ", which is not in graft's catalogue; its argument names are unknown, so it cannot be "
            "written as an ExecuTorch node"));
      std::string base = absl::StrCat(exir_internal::Sanitize(n->op()->ns()), "_",
                                      exir_internal::Sanitize(n->op()->base_name()), "_",
                                      exir_internal::Sanitize(n->op()->overload()));
      for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (int r = 0; r < n->num_results(); ++r) {
        std::string want(graph_->name(n->result(r)));
        if (!exir_internal::IsIdentifier(want) || live.contains(want)) want = Fresh(base, live);
        live.insert(want);
        names[n->result(r)] = want;
      }
      if (n->num_results() == 1) {
        node_names[n] = names[n->result(0)];
      } else {
        node_names[n] = Fresh(base, live);
        live.insert(node_names[n]);
      }
    }

    const std::string prefix = target_prefix();
    Json out = doc_;
    Json& graph = out["graph_module"]["graph"];
    Json nodes = Json::array();
    Json& tensor_values = graph["tensor_values"];
    for (const Node* n : graph_->nodes()) {
      if (const Imported* imported = origins_.Of(n)) {
        Json jn = orig_nodes[imported->json_index];
        const auto& slots = imported->slots;
        for (int i = 0; i < n->num_args() && i < static_cast<int>(slots.size()); ++i) {
          Value* v = n->operand(i);
          if (!v || slots[i].input < 0) continue;
          Json& arg = jn["inputs"][slots[i].input]["arg"];
          Json& holder = *arg.begin();
          Json& t = slots[i].element < 0 ? holder : holder[slots[i].element];
          Json& named = exir_internal::UnionKind(t) == "as_tensor" ? *t.begin() : t;
          named["name"] = names.at(v);
        }
        nodes.push_back(std::move(jn));
        continue;
      }
      // A node graft created.
      std::string where = absl::StrCat("new node ", node_names[n], " (", n->op()->name(), ")");
      Json jn;
      jn["name"] = node_names[n];
      jn["target"] = absl::StrCat(prefix, n->op()->ns(), ".", n->op()->base_name(), ".",
                                  n->op()->overload());
      Json inputs = Json::array();
      const OpSchema& schema = *n->schema();
      for (int pi = 0; pi < static_cast<int>(schema.params.size()); ++pi) {
        const Param& p = schema.params[pi];
        if (pi == schema.list_param) {
          OpSchema::Run run = schema.ListRun(n->num_args());
          Json items = Json::array();
          bool optional = p.kind == ParamKind::kOptionalTensorList;
          for (int i = run.first; i < run.first + run.count; ++i) {
            GRAFT_ASSIGN_OR_RETURN(Json item, ArgToJson(&p, n->arg(i), names, where));
            // as_tensors holds bare {"name": ...}; as_optional_tensors tagged items.
            items.push_back(optional ? item : item["as_tensor"]);
          }
          inputs.push_back(Json{{"name", std::string(p.name)},
                                {"arg", {{optional ? "as_optional_tensors" : "as_tensors", items}}}});
          continue;
        }
        int i = schema.ArgIndex(pi, n->num_args());
        if (i >= n->num_args()) break;
        Arg a = n->arg(i);
        if (p.IsDefault(a)) continue;  // the reader puts the default back
        GRAFT_ASSIGN_OR_RETURN(Json arg, ArgToJson(&p, a, names, where));
        inputs.push_back(Json{{"name", std::string(p.name)}, {"arg", std::move(arg)}});
      }
      jn["inputs"] = std::move(inputs);
      Json outs = Json::array();
      for (int r = 0; r < n->num_results(); ++r) outs.push_back(Json{{"as_tensor", {{"name", names[n->result(r)]}}}});
      jn["outputs"] = std::move(outs);
      // Metadata of the node it replaced.
      const Json* like = nullptr;
      if (const Imported* root = origins_.Inherited(n)) {
        const Json& jroot = orig_nodes[root->json_index];
        jn["metadata"] = Find(jroot, "metadata") ? jroot["metadata"] : Json::object();
        const Json& routs = jroot["outputs"];
        if (!routs.empty() && exir_internal::UnionKind(routs[0]) == "as_tensor") {
          auto tv = tensor_meta_.find((*routs[0].begin())["name"].get<std::string>());
          if (tv != tensor_meta_.end()) like = tv->second;
        }
      } else {
        jn["metadata"] = Json::object();
      }
      for (int r = 0; r < n->num_results(); ++r) {
        const std::string& name = names[n->result(r)];
        // A replacement that inherits a name keeps the original entry when
        // its type is the same (it is, for a rule's root).
        auto orig = tensor_meta_.find(name);
        if (orig != tensor_meta_.end() && !original_live.contains(name)) {
          auto t = TypeOf(name, where);
          if (t.ok() && *t == n->result(r)->type()) {
            tensor_values[name] = *orig->second;
            continue;
          }
        }
        GRAFT_ASSIGN_OR_RETURN(Json meta, TensorMeta(n->result(r)->type(), like, where));
        tensor_values[name] = std::move(meta);
      }
      nodes.push_back(std::move(jn));
    }
    graph["nodes"] = std::move(nodes);

    // Drop the entries of values that no longer exist.
    absl::flat_hash_set<std::string> keep = live;
    std::vector<std::string> drop;
    for (auto it = tensor_values.begin(); it != tensor_values.end(); ++it)
      if (!keep.contains(it.key())) drop.push_back(it.key());
    for (const std::string& d : drop) tensor_values.erase(d);

    // Outputs, and everything that names them.
    absl::flat_hash_map<std::string, std::string> renamed;
    Json& outputs = graph["outputs"];
    for (size_t i = 0; i < graph_->num_outputs(); ++i) {
      Json& o = (*outputs[output_json_index_[i]].begin());
      std::string before = o["name"].get<std::string>();
      std::string after = names.at(graph_->output(i));
      if (before != after) renamed[before] = after;
      o["name"] = after;
    }
    if (!renamed.empty()) {
      Json& specs = out["graph_module"]["signature"]["output_specs"];
      bool positional = specs.is_array() && specs.size() == outputs.size();
      for (size_t j = 0; specs.is_array() && j < specs.size(); ++j) {
        if (exir_internal::UnionKind(specs[j]).empty()) continue;
        Json& body = *specs[j].begin();
        if (!body.is_object() || !Find(body, "arg")) continue;
        Json& arg = body["arg"];
        Json* named = exir_internal::UnionKind(arg) == "as_tensor" ? &*arg.begin() : &arg;
        if (!named->is_object() || !Find(*named, "name") || !(*named)["name"].is_string()) continue;
        std::string cur = (*named)["name"].get<std::string>();
        if (positional && exir_internal::UnionKind(outputs[j]) == "as_tensor") {
          (*named)["name"] = (*outputs[j].begin())["name"];
        } else if (auto r = renamed.find(cur); r != renamed.end()) {
          (*named)["name"] = r->second;
        }
      }
      if (Json* mcg = FindMutable(out["graph_module"], "module_call_graph"); mcg && mcg->is_array()) {
        for (Json& entry : *mcg) {
          Json* sig = FindMutable(entry, "signature");
          if (!sig || !sig->is_object()) continue;
          Json* outs = FindMutable(*sig, "outputs");
          if (!outs || !outs->is_array()) continue;
          for (Json& a : *outs) {
            if (exir_internal::UnionKind(a) != "as_tensor") continue;
            Json& t = *a.begin();
            if (!Find(t, "name") || !t["name"].is_string()) continue;
            if (auto r = renamed.find(t["name"].get<std::string>()); r != renamed.end()) t["name"] = r->second;
          }
        }
      }
    }
    return out;
  }

  static Json* FindMutable(Json& obj, absl::string_view key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(std::string(key));
    return it == obj.end() ? nullptr : &*it;
  }

  static void CollectOutputNames(const Json& outputs, absl::flat_hash_set<std::string>* names) {
    for (const Json& o : outputs) {
      std::string kind = exir_internal::UnionKind(o);
      if (kind.empty()) continue;
      const Json& v = *o.begin();
      if (v.is_array()) {
        for (const Json& t : v)
          if (const Json* n = Find(t, "name"); n && n->is_string()) names->insert(n->get<std::string>());
      } else if (v.is_object()) {
        for (const char* key : {"name", "as_name"})
          if (const Json* n = Find(v, key); n && n->is_string()) names->insert(n->get<std::string>());
      }
    }
  }

  std::string Fresh(const std::string& base, const absl::flat_hash_set<std::string>& live) const {
    if (!live.contains(base) && !taken_.contains(base)) return base;
    for (int k = 1;; ++k) {
      std::string s = absl::StrCat(base, "_", k);
      if (!live.contains(s) && !taken_.contains(s)) return s;
    }
  }

  // The prefix the document's op targets use.
  std::string target_prefix() const {
    for (const Json& n : doc_["graph_module"]["graph"]["nodes"]) {
      const std::string& t = n["target"].get_ref<const std::string&>();
      if (absl::StartsWith(t, exir_internal::kEdgePrefix)) return std::string(exir_internal::kEdgePrefix);
    }
    for (const Json& n : doc_["graph_module"]["graph"]["nodes"]) {
      const std::string& t = n["target"].get_ref<const std::string&>();
      if (absl::StartsWith(t, exir_internal::kTorchPrefix)) return std::string(exir_internal::kTorchPrefix);
    }
    return std::string(exir_internal::kEdgePrefix);
  }

  std::string filename_;
  Json doc_;
  std::unique_ptr<Graph> graph_;
  // tensor_values entries of doc_ by name (doc_ is never modified, and its
  // nodes stay where they are when the Program moves).
  absl::flat_hash_map<std::string, const Json*> tensor_meta_;
  absl::flat_hash_map<std::string, Value*> values_;
  absl::flat_hash_set<std::string> taken_;
  Origins<Imported> origins_;
  std::vector<int> input_json_index_;
  std::vector<int> output_json_index_;
  int num_opaque_ = 0;
};

}  // namespace exir
}  // namespace graft

#endif  // GRAFT_INTEROP_EXIR_JSON_H_
