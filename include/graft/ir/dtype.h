// Element types. graft uses ATen's ScalarType numbering (c10/core/ScalarType.h)
// so a dtype crosses the libtorch boundary by a cast, and names them two ways:
// the short form used in graft's text (`f32`, `bf16`, `i64`) and torch's own
// spelling (`float32`, `bfloat16`, `int64`), both accepted on input.
#ifndef GRAFT_IR_DTYPE_H_
#define GRAFT_IR_DTYPE_H_

#include <cstdint>
#include <optional>
#include "absl/strings/string_view.h"

namespace graft {

enum class DType : int8_t {
  kUInt8 = 0,
  kInt8 = 1,
  kInt16 = 2,
  kInt32 = 3,
  kInt64 = 4,
  kFloat16 = 5,
  kFloat32 = 6,
  kFloat64 = 7,
  kComplex32 = 8,
  kComplex64 = 9,
  kComplex128 = 10,
  kBool = 11,
  kQInt8 = 12,
  kQUInt8 = 13,
  kQInt32 = 14,
  kBFloat16 = 15,
  kFloat8E5M2 = 23,
  kFloat8E4M3FN = 24,
  kUInt16 = 27,
  kUInt32 = 28,
  kUInt64 = 29,
};

namespace dtype_internal {
struct DTypeInfo {
  DType dtype;
  absl::string_view short_name;  // graft's text form
  absl::string_view torch_name;  // as `torch.<name>` prints
  int8_t bytes;
  int8_t category;  // 0 bool, 1 integer, 2 floating, 3 complex, 4 quantized
};
inline constexpr DTypeInfo kDTypes[] = {
    {DType::kUInt8, "u8", "uint8", 1, 1},
    {DType::kInt8, "i8", "int8", 1, 1},
    {DType::kInt16, "i16", "int16", 2, 1},
    {DType::kInt32, "i32", "int32", 4, 1},
    {DType::kInt64, "i64", "int64", 8, 1},
    {DType::kFloat16, "f16", "float16", 2, 2},
    {DType::kFloat32, "f32", "float32", 4, 2},
    {DType::kFloat64, "f64", "float64", 8, 2},
    {DType::kComplex32, "c32", "complex32", 4, 3},
    {DType::kComplex64, "c64", "complex64", 8, 3},
    {DType::kComplex128, "c128", "complex128", 16, 3},
    {DType::kBool, "b8", "bool", 1, 0},
    {DType::kQInt8, "qi8", "qint8", 1, 4},
    {DType::kQUInt8, "qu8", "quint8", 1, 4},
    {DType::kQInt32, "qi32", "qint32", 4, 4},
    {DType::kBFloat16, "bf16", "bfloat16", 2, 2},
    {DType::kFloat8E5M2, "f8e5m2", "float8_e5m2", 1, 2},
    {DType::kFloat8E4M3FN, "f8e4m3fn", "float8_e4m3fn", 1, 2},
    {DType::kUInt16, "u16", "uint16", 2, 1},
    {DType::kUInt32, "u32", "uint32", 4, 1},
    {DType::kUInt64, "u64", "uint64", 8, 1},
};

// The table index of `d`, or -1. An index rather than a pointer: GCC's
// -fsanitize=null instruments a pointer's null check, which then is no
// longer a constant expression, and these functions are used as constants.
constexpr int Find(DType d) {
  for (int i = 0; i < static_cast<int>(sizeof(kDTypes) / sizeof(kDTypes[0])); ++i) {
    if (kDTypes[i].dtype == d) return i;
  }
  return -1;
}
}  // namespace dtype_internal

// The short name (`f32`), or "?" for a value outside the table.
constexpr absl::string_view DTypeName(DType d) {
  int i = dtype_internal::Find(d);
  return i >= 0 ? dtype_internal::kDTypes[i].short_name : "?";
}

// torch's name (`float32`), as in `torch.float32`.
constexpr absl::string_view DTypeTorchName(DType d) {
  int i = dtype_internal::Find(d);
  return i >= 0 ? dtype_internal::kDTypes[i].torch_name : "?";
}

// Bytes per element; 0 for an unknown dtype.
constexpr int ElementSize(DType d) {
  int i = dtype_internal::Find(d);
  return i >= 0 ? dtype_internal::kDTypes[i].bytes : 0;
}

constexpr bool IsFloatingPoint(DType d) {
  int i = dtype_internal::Find(d);
  return i >= 0 && dtype_internal::kDTypes[i].category == 2;
}

constexpr bool IsIntegral(DType d, bool include_bool = false) {
  int i = dtype_internal::Find(d);
  return i >= 0 && (dtype_internal::kDTypes[i].category == 1 ||
                    (include_bool && dtype_internal::kDTypes[i].category == 0));
}

constexpr bool IsComplex(DType d) {
  int i = dtype_internal::Find(d);
  return i >= 0 && dtype_internal::kDTypes[i].category == 3;
}

// Accepts `f32`, `float32`, `torch.float32` and torch's aliases `float`,
// `half`, `double`, `long`, `int`.
inline std::optional<DType> ParseDType(absl::string_view s) {
  if (s.substr(0, 6) == "torch.") s.remove_prefix(6);
  for (const auto& info : dtype_internal::kDTypes) {
    if (s == info.short_name || s == info.torch_name) return info.dtype;
  }
  if (s == "float") return DType::kFloat32;
  if (s == "half") return DType::kFloat16;
  if (s == "double") return DType::kFloat64;
  if (s == "long") return DType::kInt64;
  if (s == "int") return DType::kInt32;
  return std::nullopt;
}

// True when `v` is a ScalarType number graft knows.
constexpr bool IsKnownDType(int v) {
  for (const auto& info : dtype_internal::kDTypes) {
    if (static_cast<int>(info.dtype) == v) return true;
  }
  return false;
}

// torch.promote_types for the dtypes graft reasons about: the higher category
// wins (a float with a complex widens the complex to hold the float); within
// floating point, f16 with bf16 gives f32; otherwise the wider.
inline DType PromoteTypes(DType a, DType b) {
  if (a == b) return a;
  int fa = dtype_internal::Find(a), fb = dtype_internal::Find(b);
  if (fa < 0 || fb < 0) return a;
  const auto* ia = &dtype_internal::kDTypes[fa];
  const auto* ib = &dtype_internal::kDTypes[fb];
  if ((ia->category == 2 && ib->category == 3) || (ia->category == 3 && ib->category == 2)) {
    // The complex type whose components hold both: f64 with c64 is c128,
    // bf16 with c32 (f16 halves) is c64.
    DType f = ia->category == 2 ? a : b, c = ia->category == 2 ? b : a;
    DType part = PromoteTypes(f, c == DType::kComplex32   ? DType::kFloat16
                                 : c == DType::kComplex64 ? DType::kFloat32
                                                          : DType::kFloat64);
    return part == DType::kFloat64   ? DType::kComplex128
           : part == DType::kFloat32 ? DType::kComplex64
                                     : DType::kComplex32;
  }
  if (ia->category != ib->category) return ia->category > ib->category ? a : b;
  if (ia->category == 2) {
    if (ia->bytes == ib->bytes) return DType::kFloat32;  // f16 vs bf16
    return ia->bytes > ib->bytes ? a : b;
  }
  if (ia->category == 1) {
    bool a_unsigned = a == DType::kUInt8 || a == DType::kUInt16 ||
                      a == DType::kUInt32 || a == DType::kUInt64;
    bool b_unsigned = b == DType::kUInt8 || b == DType::kUInt16 ||
                      b == DType::kUInt32 || b == DType::kUInt64;
    if (a_unsigned != b_unsigned) {
      // u8 with a signed type of the same width needs the next signed width.
      const auto& u = a_unsigned ? *ia : *ib;
      const auto& s = a_unsigned ? *ib : *ia;
      if (s.bytes > u.bytes) return s.dtype;
      return u.bytes == 1 ? DType::kInt16
             : u.bytes == 2 ? DType::kInt32
                            : DType::kInt64;
    }
  }
  return ia->bytes >= ib->bytes ? a : b;
}

}  // namespace graft

#endif  // GRAFT_IR_DTYPE_H_
