// Conversions between graft and libtorch: tensor types, tensors (and meta
// tensors standing for a type), constant values as literals, schema argument
// kinds, and identifiers.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_TYPES_H_
#define GRAFT_INTEROP_TORCHSCRIPT_TYPES_H_

#include <torch/script.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/ir/dtype.h"
#include "graft/ir/literal.h"
#include "graft/ir/tensor_type.h"

namespace graft {

// Tensors of a graph's parameter, buffer and constant inputs, by the inputs'
// original names (`token_embedding.weight`).
using TensorMap = std::map<std::string, at::Tensor>;

namespace torchscript_internal {

// The graft type of a TorchScript tensor type, with the facts it gives: a
// module saved and loaded says `Tensor` (nothing known) or `Float(*, *)`
// (dtype and rank); a traced graph may give every size. nullopt when `t` is
// no tensor type (`Optional[Tensor]`).
inline std::optional<TensorType> FromTorchType(const c10::TypePtr& t) {
  const auto* tt = t->castRaw<c10::TensorType>();
  if (!tt) return std::nullopt;
  std::optional<DType> dtype;
  if (auto st = tt->scalarType()) dtype = static_cast<DType>(*st);
  const auto& sizes = tt->sizes();
  if (!sizes.size()) return TensorType::Get(dtype, std::nullopt);
  Shape shape;
  for (size_t i = 0; i < *sizes.size(); ++i) {
    const auto& d = sizes[i];
    // A negative size is no size: unknown.
    shape.push_back(d && *d >= 0 ? Dim(*d) : Dim::Unknown());
  }
  return TensorType::Get(dtype, absl::MakeConstSpan(shape));
}

inline TensorType FromTensor(const at::Tensor& t) {
  Shape shape(t.sizes().begin(), t.sizes().end());
  return TensorType::Get(static_cast<DType>(t.scalar_type()), shape);
}

// The TorchScript type with `t`'s known facts (a size for a static dim,
// `*` for a symbolic or unknown one).
inline c10::TypePtr ToTorchType(TensorType t) {
  std::optional<c10::ScalarType> st;
  if (t.dtype()) st = static_cast<c10::ScalarType>(*t.dtype());
  if (!t.has_rank()) return c10::TensorType::get()->withScalarType(st);
  std::vector<std::optional<int64_t>> sizes;
  for (Dim d : *t.shape()) sizes.push_back(d.is_static() ? std::optional<int64_t>(d.size()) : std::nullopt);
  return c10::TensorType::create(st, c10::Device(c10::kCPU), c10::VaryingShape<int64_t>(sizes),
                                 c10::VaryingShape<int64_t>(*t.rank()), /*requires_grad=*/false);
}

// A meta tensor of type `t` (shape and dtype, no storage) for inferring
// result types by running an op.
inline absl::StatusOr<at::Tensor> MetaTensor(TensorType t) {
  if (!t.known() || !t.is_static())
    return absl::FailedPreconditionError(absl::StrCat("type ", t.ToString(), " is not static"));
  std::vector<int64_t> sizes;
  for (Dim d : *t.shape()) sizes.push_back(d.size());
  return at::empty(sizes, at::TensorOptions()
                              .dtype(static_cast<c10::ScalarType>(*t.dtype()))
                              .device(c10::kMeta));
}

inline bool IsScalarTypeArg(const c10::Argument& a) {
  const c10::TypePtr* t = &a.real_type();
  if (auto opt = (*t)->cast<c10::OptionalType>()) return opt->getElementType()->kind() == c10::TypeKind::ScalarTypeType;
  return (*t)->kind() == c10::TypeKind::ScalarTypeType;
}

inline bool IsDeviceArg(const c10::Argument& a) {
  c10::TypePtr t = a.type();
  if (auto opt = t->cast<c10::OptionalType>()) t = opt->getElementType();
  return t->kind() == c10::TypeKind::DeviceObjType;
}

inline bool IsTensorType(const c10::TypePtr& t) {
  return t->kind() == c10::TypeKind::TensorType;
}

inline bool IsTensorListType(const c10::TypePtr& t) {
  auto l = t->cast<c10::ListType>();
  if (!l) return false;
  c10::TypePtr e = l->getElementType();
  if (auto opt = e->cast<c10::OptionalType>()) e = opt->getElementType();
  return IsTensorType(e);
}

// A constant IValue as a literal, or nullptr when graft has no literal for it
// (float lists, tuples, objects).
inline const Literal* ToLiteral(const c10::IValue& v, bool scalar_type) {
  if (v.isNone()) return Literal::None();
  if (v.isBool()) return Literal::Bool(v.toBool());
  if (v.isInt()) {
    int64_t i = v.toInt();
    if (scalar_type && IsKnownDType(static_cast<int>(i))) return Literal::OfDType(static_cast<DType>(i));
    return Literal::Int(i);
  }
  if (v.isDouble()) return Literal::Float(v.toDouble());
  if (v.isString()) return Literal::String(v.toStringRef());
  if (v.isDevice()) return Literal::String(v.toDevice().str());
  if (v.isIntList()) return Literal::Ints(v.toIntVector());
  if (v.isList()) {
    // An empty generic list ([] typed e.g. Tensor[]) only reads as ints.
    auto l = v.toListRef();
    if (l.empty()) return Literal::Ints({});
  }
  return nullptr;
}

// `s` as an identifier (other characters become `_`), for value and class
// names made from dotted attribute paths.
inline std::string Sanitize(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  }
  return out;
}

}  // namespace torchscript_internal
}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_TYPES_H_
