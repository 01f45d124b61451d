// Operator names and schemas.
//
// An op is named `namespace::name.overload` as ATen names it (`aten::mm.default`,
// `aten::add.Tensor`); an op with no overload name gets `default`, as Python's
// OpOverload does, so TorchScript's `aten::mm` and the edge dialect's
// `aten.mm.default` are one op. Names are interned into OpDefs with dense ids:
// comparing ops is comparing pointers, and the driver indexes rules by id.
//
// An OpDef may carry an OpSchema (from the catalogue in graft/ops/): its
// parameters, commutativity and shape function. Ops without one are opaque:
// they round-trip with the types the input gave them, and nothing matches
// inside them by position unless a rule names them.
#ifndef GRAFT_IR_OP_H_
#define GRAFT_IR_OP_H_

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "graft/ir/arg.h"
#include "graft/ir/literal.h"
#include "graft/ir/status.h"
#include "graft/ir/tensor_type.h"

namespace graft {

class OpCall;  // graft/ir/op_call.h: the arguments a shape function sees

using TypeList = absl::InlinedVector<TensorType, 1>;
using ShapeFn = absl::StatusOr<TypeList> (*)(const OpCall&);

// What a schema parameter accepts.
enum class ParamKind : uint8_t {
  kTensor,
  kOptionalTensor,  // a tensor or None
  kTensorList,      // Tensor[]: a run of tensor operands (see OpSchema)
  kOptionalTensorList,  // Tensor?[]: a run of tensors and Nones
  kInt,     // int, SymInt
  kInts,    // int[], int[N], SymInt[]
  kFloat,
  kFloats,  // float[]
  kBool,
  kBools,   // bool[]
  kScalar,  // int or float
  kString,
  kDType,
  kAny,  // any literal (Layout, Device, MemoryFormat, Generator: carried, not inspected)
};

constexpr bool IsTensorParam(ParamKind k) {
  return k == ParamKind::kTensor || k == ParamKind::kOptionalTensor;
}
constexpr bool IsTensorListParam(ParamKind k) {
  return k == ParamKind::kTensorList || k == ParamKind::kOptionalTensorList;
}

struct Param {
  absl::string_view name;
  ParamKind kind;
  // The default value, or nullptr when the argument is required.
  const Literal* default_value = nullptr;
  // Accepts None besides its kind (`int?`, `ScalarType?`).
  bool optional = false;

  // What a call that leaves this parameter out passes: the default value,
  // None for an optional tensor, else a null Arg (the parameter is required).
  Arg DefaultArg() const {
    if (default_value) return default_value;
    if (kind == ParamKind::kOptionalTensor) return Literal::None();
    return Arg();
  }
  // Whether `a` is what a call leaving this parameter out would pass. Numbers
  // compare by value (`alpha=1.0` is add's default 1); None is the default of
  // any optional parameter.
  bool IsDefault(Arg a) const {
    const Literal* l = a.literal();
    if (!l) return false;
    if (default_value) {
      return l == default_value || (l->is_number() && default_value->is_number() &&
                                    l->as_number() == default_value->as_number());
    }
    return l->is_none() && (kind == ParamKind::kOptionalTensor || optional);
  }
};

// An op's signature. A tensor-list parameter (at most one per schema: the
// generator checks) is stored flattened, as a run of operands in its place;
// a node of such an op carries every parameter explicitly (importers and
// builders fill in defaults), so the run's length is the operand count
// minus the other parameters. Parameter indices and operand indices are
// then different things: ArgIndex and ListRun translate.
struct OpSchema {
  std::vector<Param> params;
  // Results; kListResults for a Tensor[] return (as many as the node has).
  int num_results = 1;
  static constexpr int kListResults = -1;
  // Operands 0 and 1 may be swapped when every other argument is at its
  // default (`add.Tensor` is commutative only with alpha == 1).
  bool commutative = false;
  // Writes to an argument (`resize_`): rules may not name it.
  bool mutates = false;
  // The tensor-list parameter's index, or -1. OpRegistry::Register sets it
  // from `params`.
  int list_param = -1;
  ShapeFn shape_fn = nullptr;

  bool has_list() const { return list_param >= 0; }

  // The run of operands holding the list parameter in a call of `num_args`
  // operands: [first, first + count).
  struct Run {
    int first = 0, count = 0;
  };
  // (A call with fewer operands than the other parameters, which CheckArgs
  // refuses, has an empty run rather than a negative one.)
  Run ListRun(int num_args) const {
    return {list_param, std::max(0, num_args - (static_cast<int>(params.size()) - 1))};
  }
  // The operand index of parameter `p` (not the list) in a call of
  // `num_args` operands.
  int ArgIndex(int p, int num_args) const {
    if (!has_list() || p < list_param) return p;
    return p - 1 + ListRun(num_args).count;
  }

  // Parameter `p` of a call passing `args`, or its default when the call
  // left it out (a null Arg past the schema, for a required one, or for the
  // list parameter, which has no single Arg).
  Arg ArgOrDefault(absl::Span<const Arg> args, int p) const {
    if (p == list_param) return Arg();
    int i = ArgIndex(p, static_cast<int>(args.size()));
    if (i < static_cast<int>(args.size())) return args[i];
    return p < static_cast<int>(params.size()) ? params[p].DefaultArg() : Arg();
  }

  // Parameters a call (or a pattern) must give; the list is required.
  int num_required() const {
    int n = 0;
    for (int i = 0; i < static_cast<int>(params.size()); ++i) {
      if (!params[i].default_value && params[i].kind != ParamKind::kOptionalTensor)
        n = i + 1;
    }
    return n;
  }
};

class OpDef {
 public:
  uint32_t id() const { return id_; }
  // `aten::mm.default`
  const std::string& name() const { return name_; }
  absl::string_view ns() const { return absl::string_view(name_).substr(0, ns_len_); }
  // `mm`
  absl::string_view base_name() const {
    return absl::string_view(name_).substr(ns_len_ + 2, base_len_);
  }
  // `default`
  absl::string_view overload() const {
    return absl::string_view(name_).substr(ns_len_ + 2 + base_len_ + 1);
  }
  // The schema, or nullptr for an opaque op.
  const OpSchema* schema() const { return schema_.get(); }

 private:
  friend class OpRegistry;
  uint32_t id_ = 0;
  std::string name_;
  size_t ns_len_ = 0, base_len_ = 0;
  std::unique_ptr<const OpSchema> schema_;
};

// Interns op names and holds their schemas: the context that gives op names
// a meaning, as MLIR's MLIRContext does with its registered dialects. The IR
// is independent of which ops exist; code that parses or builds graphs by
// name takes a registry. graft::Ops() (graft/ops/catalogue.h) is the
// process-wide one with graft's catalogue registered.
class OpRegistry {
 public:
  // Canonical spelling of an op name: `aten.mm.default` and `aten::mm` become
  // `aten::mm.default`; returns an error for a name that is not
  // `namespace::name[.overload]`.
  static absl::StatusOr<std::string> Canonicalize(absl::string_view name) {
    std::string s(name);
    size_t sep = s.find("::");
    if (sep == std::string::npos) {
      // Python's dotted form `aten.mm.default`.
      size_t dot = s.find('.');
      if (dot == std::string::npos)
        return absl::InvalidArgumentError(
            absl::StrCat("op name '", name, "' has no namespace (expected 'aten::", name, "')"));
      s = s.substr(0, dot) + "::" + s.substr(dot + 1);
      sep = dot;
    }
    absl::string_view rest = absl::string_view(s).substr(sep + 2);
    // A second `::` would end up inside the base name (`aten::mm::x.default`).
    if (sep == 0 || rest.empty() || rest.front() == '.' ||
        rest.find("::") != absl::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat("malformed op name '", name, "'"));
    size_t dot = rest.find('.');
    if (dot != absl::string_view::npos &&
        (dot + 1 == rest.size() || rest.find('.', dot + 1) != absl::string_view::npos))
      return absl::InvalidArgumentError(absl::StrCat("malformed op name '", name, "'"));
    // Each part an identifier, as the text form's lexer reads them: a name
    // from a file (`aten.permute_copy).default` in exir JSON) must not print
    // as a graph that does not parse.
    auto identifier = [](absl::string_view part) {
      if (part.empty() || !(std::isalpha(static_cast<unsigned char>(part[0])) || part[0] == '_'))
        return false;
      for (char c : part)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
      return true;
    };
    if (!identifier(absl::string_view(s).substr(0, sep)) || !identifier(rest.substr(0, dot)) ||
        (dot != absl::string_view::npos && !identifier(rest.substr(dot + 1))))
      return absl::InvalidArgumentError(absl::StrCat("malformed op name '", name, "'"));
    if (dot == absl::string_view::npos) return s + ".default";
    return s;
  }

  // The op named `name` (canonical or not), created opaque when unknown.
  absl::StatusOr<const OpDef*> Intern(absl::string_view name) {
    auto canonical = Canonicalize(name);
    if (!canonical.ok()) return canonical.status();
    std::lock_guard<std::mutex> lock(mu_);
    return InternLocked(*canonical, nullptr);
  }

  // Gives `op` a short name (`mm` for aten::mm.default), the spelling rule
  // files and Resolve() accept without a namespace.
  void AddAlias(absl::string_view alias, const OpDef* op) {
    std::lock_guard<std::mutex> lock(mu_);
    aliases_[std::string(alias)] = op;
  }

  // The op `name` means: a short name given by AddAlias (`mm`), or any
  // qualified name (`aten::mm.default`, `aten.mm.default`, `aten::mm`),
  // which interns as an opaque op when no schema is registered. An unknown
  // short name is an error of kind kUnknownOp.
  absl::StatusOr<const OpDef*> Resolve(absl::string_view name) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = aliases_.find(name);
      if (it != aliases_.end()) return it->second;
    }
    if (name.find("::") == absl::string_view::npos && name.find('.') == absl::string_view::npos)
      return WithErrorKind(
          absl::NotFoundError(absl::StrCat(
              "unknown op '", name,
              "' (not in the catalogue; write a qualified name such as 'aten::", name,
              ".default' for an op outside it)")),
          ErrorKind::kUnknownOp);
    return Intern(name);
  }

  // The op named `name` if it has been registered or interned, else nullptr.
  const OpDef* Find(absl::string_view name) {
    auto canonical = Canonicalize(name);
    if (!canonical.ok()) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(*canonical);
    return it == by_name_.end() ? nullptr : it->second.get();
  }

  // Registers a schema for `name` (canonical spelling required). An op that
  // was interned opaque before keeps its id and gains the schema.
  const OpDef* Register(absl::string_view name, OpSchema schema) {
    schema.list_param = -1;
    for (int i = 0; i < static_cast<int>(schema.params.size()); ++i)
      if (IsTensorListParam(schema.params[i].kind)) schema.list_param = i;
    std::lock_guard<std::mutex> lock(mu_);
    return InternLocked(std::string(name),
                        std::make_unique<const OpSchema>(std::move(schema)));
  }

  const OpDef* ById(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_id_[id];
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return by_id_.size();
  }

 private:
  const OpDef* InternLocked(const std::string& name,
                            std::unique_ptr<const OpSchema> schema) {
    auto& slot = by_name_[name];
    if (!slot) {
      slot.reset(new OpDef);
      slot->id_ = static_cast<uint32_t>(by_id_.size());
      slot->name_ = name;
      slot->ns_len_ = name.find("::");
      slot->base_len_ = name.find('.', slot->ns_len_ + 2) - slot->ns_len_ - 2;
      by_id_.push_back(slot.get());
    }
    if (schema) slot->schema_ = std::move(schema);
    return slot.get();
  }

  std::mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<OpDef>> by_name_;
  absl::flat_hash_map<std::string, const OpDef*> aliases_;
  std::vector<const OpDef*> by_id_;
};

}  // namespace graft

#endif  // GRAFT_IR_OP_H_
