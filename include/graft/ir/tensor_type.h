// Tensor types: a dtype and a shape whose dims are integers or named symbols
// (`s0`, as torch.export names unbacked and dynamic sizes).
//
// Types are interned (as in MLIR): a TensorType is one pointer, equality is a
// pointer compare, and a node stores 8 bytes for its type however many dims it
// has. The intern tables are process-wide, thread-safe and immortal; a program
// sees few distinct types, so they stay small.
#ifndef GRAFT_IR_TENSOR_TYPE_H_
#define GRAFT_IR_TENSOR_TYPE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graft/ir/dtype.h"

namespace graft {

// One dimension: a static size (>= 0), a symbol, or unknown. Symbols are
// interned by name; the same name is the same symbol everywhere, and only
// Dim::Symbol makes one. An unknown dim (a TorchScript `Float(*, *)` input)
// is not a symbol: two unknown dims are never provably equal, so nothing that
// compares sizes (SymInt, constraints, shape functions) may treat them as one.
//
// Sizes a user controls (a parsed file, a literal argument, a shape formula)
// go through Dim::OfSize, which refuses negatives with an error. The int64
// constructor is for sizes the code knows are sizes; given a negative number
// (a bug) it makes the invalid dim, which is neither a size nor a symbol and
// is compatible with no size, rather than a symbol id read out of bounds.
class Dim {
 public:
  constexpr Dim() = default;
  constexpr Dim(int64_t size)  // NOLINT: sizes read naturally
      : v_(size >= 0 ? size : kInvalid) {}

  // The size `size`, or an error when it is negative.
  static absl::StatusOr<Dim> OfSize(int64_t size) {
    if (size < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("size ", size, " is negative (a dimension is a size >= 0 or a symbol)"));
    return Dim(size);
  }
  static Dim Symbol(absl::string_view name);
  static constexpr Dim Unknown() {
    Dim d;
    d.v_ = kUnknown;
    return d;
  }

  constexpr bool is_static() const { return v_ >= 0; }
  constexpr bool is_symbolic() const { return v_ < 0 && v_ != kInvalid && v_ != kUnknown; }
  constexpr bool is_unknown() const { return v_ == kUnknown; }
  // False only for the invalid dim (see above).
  constexpr bool is_valid() const { return v_ != kInvalid; }
  // The static size; only meaningful when is_static().
  constexpr int64_t size() const { return v_; }
  // The symbol's name; empty for a size, "?" for the unknown dim, "<invalid>"
  // for the invalid dim.
  absl::string_view symbol_name() const;

  constexpr int64_t raw() const { return v_; }
  // The same spelling (size, symbol, unknown), not provable equality: see
  // above for unknown dims.
  friend constexpr bool operator==(Dim a, Dim b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Dim a, Dim b) { return a.v_ != b.v_; }
  template <typename H>
  friend H AbslHashValue(H h, Dim d) {
    return H::combine(std::move(h), d.v_);
  }

  std::string ToString() const {
    return is_static() ? absl::StrCat(v_) : std::string(symbol_name());
  }

 private:
  // No symbol has these numbers: ids count up from 0 and never reach 2^63 - 2.
  static constexpr int64_t kInvalid = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kUnknown = kInvalid + 1;
  int64_t v_ = 0;  // >= 0: size; kInvalid; kUnknown; else symbol number -(v_ + 1)
};

using Shape = absl::InlinedVector<Dim, 4>;

namespace type_internal {

struct SymbolTable {
  std::mutex mu;
  absl::flat_hash_map<std::string, int64_t> ids;
  std::vector<std::unique_ptr<std::string>> names;
};
inline SymbolTable& Symbols() {
  static auto* table = new SymbolTable;
  return *table;
}

struct TypeStorage {
  std::optional<DType> dtype;  // nullopt: unknown
  bool has_rank;               // false: rank unknown, `shape` empty
  Shape shape;                 // dims may be Dim::Unknown()
  bool complete;               // dtype, rank and every dim known (cached: hot)
};

// The dtype (or none) and whether the rank is known, as one small integer:
// hashing and comparing it costs what the dtype alone did, and Get is on
// every shape function's path.
inline int16_t TypeTag(std::optional<DType> dtype, bool has_rank) {
  return static_cast<int16_t>((dtype ? static_cast<int16_t>(*dtype) & 0xff : 0xff) |
                              (has_rank ? 0 : 0x100));
}

struct TypeKey {
  int16_t tag;  // TypeTag
  absl::Span<const Dim> shape;
  friend bool operator==(const TypeKey& a, const TypeKey& b) {
    return a.tag == b.tag && a.shape == b.shape;
  }
  template <typename H>
  friend H AbslHashValue(H h, const TypeKey& k) {
    return H::combine(std::move(h), k.tag, k.shape);
  }
};

struct TypeTable {
  std::mutex mu;
  // Keys view the storage they map to, so they never dangle.
  absl::flat_hash_map<TypeKey, std::unique_ptr<TypeStorage>> types;
};
inline TypeTable& Types() {
  static auto* table = new TypeTable;
  return *table;
}

}  // namespace type_internal

inline Dim Dim::Symbol(absl::string_view name) {
  auto& table = type_internal::Symbols();
  std::lock_guard<std::mutex> lock(table.mu);
  auto [it, inserted] =
      table.ids.try_emplace(name, static_cast<int64_t>(table.names.size()));
  if (inserted) table.names.push_back(std::make_unique<std::string>(name));
  Dim d;
  d.v_ = -(it->second + 1);
  return d;
}

inline absl::string_view Dim::symbol_name() const {
  if (is_static()) return {};
  if (is_unknown()) return "?";
  // Bounds-checked: a number that is no interned symbol names nothing.
  uint64_t id = static_cast<uint64_t>(-(v_ + 1));  // v_ < 0: no overflow
  auto& table = type_internal::Symbols();
  std::lock_guard<std::mutex> lock(table.mu);
  if (!is_valid() || id >= table.names.size()) return "<invalid>";
  return *table.names[id];
}

// A tensor type whose facts may each be unknown: the dtype; the rank; and,
// when the rank is known, each dim (a size, a symbol or unknown). The fully
// unknown type (`TensorType()`, for opaque ops nobody typed) and the complete
// types are the two ends; a TorchScript `Float(*, *)` input (dtype and rank,
// no sizes) lies between. Cheap to copy and compare: equality is a pointer
// compare and means the same partial type, not two provably equal tensors
// (two `f32[?]` values may differ in size).
//
// Every accessor is total: one that reads a fact returns it as an optional
// (or Dim::Unknown()), so a caller cannot read an unknown fact by mistake.
class TensorType {
 public:
  TensorType() = default;  // fully unknown

  // The type with the facts given; nullopt leaves that fact unknown.
  static TensorType Get(std::optional<DType> dtype,
                        std::optional<absl::Span<const Dim>> shape) {
    if (!dtype && !shape) return TensorType();  // one spelling of "nothing known"
    return Intern(dtype, shape.has_value(), shape ? *shape : absl::Span<const Dim>());
  }
  static TensorType Get(DType dtype, absl::Span<const Dim> shape) {
    return Intern(dtype, /*has_rank=*/true, shape);
  }
  static TensorType Get(DType dtype, std::initializer_list<Dim> shape) {
    return Get(dtype, absl::MakeConstSpan(shape.begin(), shape.size()));
  }
  // A known dtype, an unknown rank.
  static TensorType OfDType(DType dtype) { return Get(dtype, std::nullopt); }

  // Every fact known: dtype, rank and each dim (a size or a symbol).
  bool known() const { return s_ && s_->complete; }
  // No fact known.
  bool is_unknown() const { return s_ == nullptr; }
  bool has_dtype() const { return s_ && s_->dtype; }
  bool has_rank() const { return s_ && s_->has_rank; }

  std::optional<DType> dtype() const { return s_ ? s_->dtype : std::nullopt; }
  std::optional<int> rank() const {
    if (!has_rank()) return std::nullopt;
    return static_cast<int>(s_->shape.size());
  }
  // The dims when the rank is known (each may still be unknown), else null.
  // A pointer into the interned type, valid forever: `for (Dim d :
  // *t.shape())` is safe where an optional returned by value would dangle.
  const Shape* shape() const { return has_rank() ? &s_->shape : nullptr; }
  // Dim `i`, negative `i` counting from the back as in Python; unknown when
  // the rank is, or `i` is out of range.
  Dim dim(int i) const {
    if (!has_rank()) return Dim::Unknown();
    int r = static_cast<int>(s_->shape.size());
    if (i < 0) i += r;
    if (i < 0 || i >= r) return Dim::Unknown();
    return s_->shape[i];
  }
  // Every dim a known size.
  bool is_static() const {
    if (!has_rank()) return false;
    for (Dim d : s_->shape) {
      if (!d.is_static()) return false;
    }
    return true;
  }
  // Number of elements, or nullopt when a dim is not a known size or the
  // count does not fit int64 (a parsed file may claim any sizes; overflow
  // would be UB).
  std::optional<int64_t> numel() const {
    if (!has_rank()) return std::nullopt;
    int64_t n = 1;
    bool overflow = false, zero = false;
    for (Dim d : s_->shape) {
      if (!d.is_static()) return std::nullopt;
      zero |= d.size() == 0;
      if (d.size() != 0 && n > std::numeric_limits<int64_t>::max() / d.size()) overflow = true;
      if (!overflow) n *= d.size();
    }
    if (zero) return 0;
    if (overflow) return std::nullopt;
    return n;
  }
  TensorType WithShape(absl::Span<const Dim> shape) const { return Get(dtype(), shape); }
  TensorType WithDType(DType d) const {
    if (!has_rank()) return OfDType(d);
    return Get(d, absl::MakeConstSpan(*shape()));
  }

  // The first unknown fact, as a reason names it ("dtype", "rank", "dim 1"),
  // or "" when the type is known.
  std::string FirstUnknownFact() const {
    if (!has_dtype()) return "dtype";
    if (!has_rank()) return "rank";
    for (size_t i = 0; i < s_->shape.size(); ++i)
      if (s_->shape[i].is_unknown()) return absl::StrCat("dim ", i);
    return "";
  }

  // The text form: `f32[1, 128, s0]`; an unknown fact is `?`: `f32[?, 384]`
  // (unknown dim), `?[2, 3]` (unknown dtype), `f32[*]` (unknown rank), and
  // `?` alone when nothing is known.
  std::string ToString() const {
    if (is_unknown()) return "?";
    std::string out = has_dtype() ? std::string(DTypeName(*dtype())) : "?";
    if (!has_rank()) return absl::StrCat(out, "[*]");
    return absl::StrCat(out, "[",
                        absl::StrJoin(s_->shape, ", ",
                                      [](std::string* o, Dim d) { o->append(d.ToString()); }),
                        "]");
  }

  friend bool operator==(TensorType a, TensorType b) { return a.s_ == b.s_; }
  friend bool operator!=(TensorType a, TensorType b) { return a.s_ != b.s_; }
  template <typename H>
  friend H AbslHashValue(H h, TensorType t) {
    return H::combine(std::move(h), t.s_);
  }

 private:
  explicit TensorType(const type_internal::TypeStorage* s) : s_(s) {}

  static TensorType Intern(std::optional<DType> dtype, bool has_rank,
                           absl::Span<const Dim> dims) {
    int16_t tag = type_internal::TypeTag(dtype, has_rank);
    auto& table = type_internal::Types();
    std::lock_guard<std::mutex> lock(table.mu);
    auto it = table.types.find(type_internal::TypeKey{tag, dims});
    if (it != table.types.end()) return TensorType(it->second.get());
    bool complete = dtype && has_rank;
    for (Dim d : dims) complete &= !d.is_unknown();
    auto storage = std::make_unique<type_internal::TypeStorage>(type_internal::TypeStorage{
        dtype, has_rank, Shape(dims.begin(), dims.end()), complete});
    const type_internal::TypeStorage* raw = storage.get();
    table.types.emplace(type_internal::TypeKey{tag, raw->shape}, std::move(storage));
    return TensorType(raw);
  }

  const type_internal::TypeStorage* s_ = nullptr;
};

// The type with every fact known on either side, or nullopt when a fact is
// known on both sides and differs (a dtype, a rank, or a dim spelled
// differently: a size and a symbol are not provably equal, so they conflict).
// For a rewrite that holds for any types (rewrite/rule.h): the value replacing
// another may take the facts of both.
inline std::optional<TensorType> MergeTypes(TensorType a, TensorType b) {
  if (a == b) return a;
  std::optional<DType> dtype = a.dtype() ? a.dtype() : b.dtype();
  if (a.dtype() && b.dtype() && *a.dtype() != *b.dtype()) return std::nullopt;
  if (!a.has_rank() || !b.has_rank()) {
    TensorType ranked = a.has_rank() ? a : b;
    if (!ranked.has_rank()) return TensorType::Get(dtype, std::nullopt);
    return TensorType::Get(dtype, absl::MakeConstSpan(*ranked.shape()));
  }
  if (*a.rank() != *b.rank()) return std::nullopt;
  Shape dims;
  for (int i = 0; i < *a.rank(); ++i) {
    Dim da = a.dim(i), db = b.dim(i);
    if (!da.is_unknown() && !db.is_unknown() && da != db) return std::nullopt;
    dims.push_back(da.is_unknown() ? db : da);
  }
  return TensorType::Get(dtype, absl::MakeConstSpan(dims));
}

}  // namespace graft

#endif  // GRAFT_IR_TENSOR_TYPE_H_
