// The op catalogue: schemas of the edge-dialect ops graft reasons about, and
// the TorchScript spellings that differ from them, registered into the
// process-wide OpRegistry on first use of graft::Ops().
//
// Schemas follow ATen's native_functions.yaml: parameter order, defaults and
// kinds; keyword-only parameters are positional here, in schema order. Ops
// not listed stay representable as opaque ops.
#ifndef GRAFT_OPS_CATALOGUE_H_
#define GRAFT_OPS_CATALOGUE_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "graft/ir/op.h"
#include "graft/ir/status.h"
#include "graft/ops/shape_functions.h"

namespace graft {

namespace catalogue_internal {

struct Entry {
  absl::string_view name;        // canonical: aten::mm.default
  absl::string_view short_name;  // for rule files: mm ("" = none)
  std::vector<Param> params;
  ShapeFn shape_fn;
  int num_results = 1;
  bool commutative = false;
};

inline std::vector<Entry> Entries() {
  using K = ParamKind;
  const Literal* none = Literal::None();
  const Literal* one = Literal::Int(1);
  const Literal* no = Literal::Bool(false);
  Param self{"self", K::kTensor};
  auto tensor = [](absl::string_view n) { return Param{n, K::kTensor}; };
  auto opt_tensor = [](absl::string_view n) { return Param{n, K::kOptionalTensor}; };
  auto ints = [](absl::string_view n) { return Param{n, K::kInts}; };
  auto int_ = [](absl::string_view n) { return Param{n, K::kInt}; };
  auto opt_any = [none](absl::string_view n) { return Param{n, K::kAny, none, true}; };
  return {
      // Linear algebra.
      {"aten::mm.default", "mm", {self, tensor("mat2")}, shape::Mm},
      {"aten::bmm.default", "bmm", {self, tensor("mat2")}, shape::Bmm},
      {"aten::addmm.default", "addmm",
       {self, tensor("mat1"), tensor("mat2"), {"beta", K::kScalar, one},
        {"alpha", K::kScalar, one}},
       shape::Addmm},
      {"aten::linear.default", "linear",
       {{"input", K::kTensor}, tensor("weight"), opt_tensor("bias")},
       shape::Linear},
      {"aten::matmul.default", "matmul", {self, tensor("other")}, shape::Matmul},
      // Layout (edge dialect's *_copy forms).
      {"aten::permute_copy.default", "permute_copy", {self, ints("dims")}, shape::Permute},
      {"aten::t_copy.default", "t_copy", {self}, shape::T},
      {"aten::transpose_copy.int", "transpose_copy", {self, int_("dim0"), int_("dim1")},
       shape::Transpose},
      {"aten::view_copy.default", "view_copy", {self, ints("size")}, shape::View},
      {"aten::expand_copy.default", "expand_copy",
       {self, ints("size"), {"implicit", K::kBool, no}},
       shape::Expand},
      {"aten::clone.default", "clone", {self, opt_any("memory_format")}, shape::SameAsInput},
      {"aten::_to_copy.default", "_to_copy",
       {self, {"dtype", K::kDType, none, true}, opt_any("layout"), opt_any("device"),
        {"pin_memory", K::kBool, none, true}, {"non_blocking", K::kBool, no},
        opt_any("memory_format")},
       shape::ToCopy},
      // Elementwise.
      {"aten::add.Tensor", "add",
       {self, tensor("other"), {"alpha", K::kScalar, one}},
       shape::Elementwise, 1, /*commutative=*/true},
      {"aten::sub.Tensor", "sub",
       {self, tensor("other"), {"alpha", K::kScalar, one}},
       shape::Elementwise},
      {"aten::mul.Tensor", "mul", {self, tensor("other")}, shape::Elementwise, 1,
       /*commutative=*/true},
      {"aten::div.Tensor", "div", {self, tensor("other")}, shape::Divide},
      {"aten::relu.default", "relu", {self}, shape::SameAsInput},
      {"aten::gelu.default", "gelu",
       {self, {"approximate", K::kString, Literal::String("none")}},
       shape::SameAsInput},
      {"aten::_softmax.default", "_softmax",
       {self, int_("dim"), {"half_to_float", K::kBool}},
       shape::Softmax},
      // Normalization, lookup, convolution.
      {"aten::native_layer_norm.default", "native_layer_norm",
       {{"input", K::kTensor}, ints("normalized_shape"), opt_tensor("weight"),
        opt_tensor("bias"), {"eps", K::kFloat}},
       shape::NativeLayerNorm, 3},
      {"aten::embedding.default", "embedding",
       {tensor("weight"), tensor("indices"), {"padding_idx", K::kInt, Literal::Int(-1)},
        {"scale_grad_by_freq", K::kBool, no}, {"sparse", K::kBool, no}},
       shape::Embedding},
      {"aten::convolution.default", "convolution",
       {{"input", K::kTensor}, tensor("weight"), opt_tensor("bias"), ints("stride"),
        ints("padding"), ints("dilation"), {"transposed", K::kBool}, ints("output_padding"),
        int_("groups")},
       shape::Convolution},
      // TorchScript spellings (no _copy; they alias in TorchScript).
      {"aten::t.default", "t", {self}, shape::T},
      {"aten::transpose.int", "", {self, int_("dim0"), int_("dim1")}, shape::Transpose},
      {"aten::permute.default", "permute", {self, ints("dims")}, shape::Permute},
      {"aten::view.default", "view", {self, ints("size")}, shape::View},
      {"aten::reshape.default", "reshape", {self, ints("shape")}, shape::View},
      {"aten::expand.default", "expand", {self, ints("size"), {"implicit", K::kBool, no}},
       shape::Expand},
  };
}

struct Catalogue {
  OpRegistry registry;
  absl::flat_hash_map<std::string, const OpDef*> short_names;

  Catalogue() {
    for (Entry& e : Entries()) {
      OpSchema schema;
      schema.params = std::move(e.params);
      schema.num_results = e.num_results;
      schema.commutative = e.commutative;
      schema.shape_fn = e.shape_fn;
      const OpDef* op = registry.Register(e.name, std::move(schema));
      if (!e.short_name.empty()) short_names[std::string(e.short_name)] = op;
    }
  }
};

inline Catalogue& Get() {
  static auto* catalogue = new Catalogue;
  return *catalogue;
}

}  // namespace catalogue_internal

// The process-wide op registry, with the catalogue registered.
inline OpRegistry& Ops() { return catalogue_internal::Get().registry; }

// The op a rule file means by `name`: a short catalogue name (`mm`,
// `permute_copy`), or any qualified name (`aten::mm.default`,
// `aten.mm.default`, `aten::mm`). Unknown qualified names intern as opaque
// ops; an unknown short name is an error.
inline absl::StatusOr<const OpDef*> ResolveOp(absl::string_view name) {
  auto& c = catalogue_internal::Get();
  auto it = c.short_names.find(name);
  if (it != c.short_names.end()) return it->second;
  if (name.find("::") == absl::string_view::npos && name.find('.') == absl::string_view::npos)
    return WithErrorKind(absl::NotFoundError(absl::StrCat(
        "unknown op '", name, "' (not in the catalogue; write a qualified name such as 'aten::",
        name, ".default' for an op outside it)")), ErrorKind::kUnknownOp);
  return c.registry.Intern(name);
}

// The catalogue's ops by name, resolved once: `ops::Builtin().mm`.
namespace ops {
struct BuiltinOps {
  const OpDef *mm, *bmm, *addmm, *linear, *matmul, *permute_copy, *t_copy, *transpose_copy,
      *view_copy, *expand_copy, *clone, *to_copy, *add, *sub, *mul, *div, *relu, *gelu,
      *softmax, *native_layer_norm, *embedding, *convolution, *t, *transpose, *permute, *view,
      *reshape, *expand;
};
inline const BuiltinOps& Builtin() {
  static const BuiltinOps ops = [] {
    OpRegistry& r = Ops();
    auto get = [&r](absl::string_view n) { return r.Find(n); };
    return BuiltinOps{
        get("aten::mm.default"),         get("aten::bmm.default"),
        get("aten::addmm.default"),      get("aten::linear.default"),
        get("aten::matmul.default"),     get("aten::permute_copy.default"),
        get("aten::t_copy.default"),     get("aten::transpose_copy.int"),
        get("aten::view_copy.default"),  get("aten::expand_copy.default"),
        get("aten::clone.default"),      get("aten::_to_copy.default"),
        get("aten::add.Tensor"),         get("aten::sub.Tensor"),
        get("aten::mul.Tensor"),         get("aten::div.Tensor"),
        get("aten::relu.default"),       get("aten::gelu.default"),
        get("aten::_softmax.default"),   get("aten::native_layer_norm.default"),
        get("aten::embedding.default"),  get("aten::convolution.default"),
        get("aten::t.default"),          get("aten::transpose.int"),
        get("aten::permute.default"),    get("aten::view.default"),
        get("aten::reshape.default"),    get("aten::expand.default"),
    };
  }();
  return ops;
}
}  // namespace ops

}  // namespace graft

#endif  // GRAFT_OPS_CATALOGUE_H_
