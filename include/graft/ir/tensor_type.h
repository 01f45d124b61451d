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

// One dimension: a static size (>= 0) or a symbol. Symbols are interned by
// name; the same name is the same symbol everywhere, and only Dim::Symbol
// makes one.
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

  constexpr bool is_static() const { return v_ >= 0; }
  constexpr bool is_symbolic() const { return v_ < 0 && v_ != kInvalid; }
  // False only for the invalid dim (see above).
  constexpr bool is_valid() const { return v_ != kInvalid; }
  // The static size; only meaningful when is_static().
  constexpr int64_t size() const { return v_; }
  // The symbol's name; empty for a size, "<invalid>" for the invalid dim.
  absl::string_view symbol_name() const;

  constexpr int64_t raw() const { return v_; }
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
  // No symbol has this number: ids count up from 0 and never reach 2^63 - 1.
  static constexpr int64_t kInvalid = std::numeric_limits<int64_t>::min();
  int64_t v_ = 0;  // >= 0: size; kInvalid; else symbol number -(v_ + 1)
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
  DType dtype;
  Shape shape;
};

struct TypeKey {
  DType dtype;
  absl::Span<const Dim> shape;
  friend bool operator==(const TypeKey& a, const TypeKey& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
  template <typename H>
  friend H AbslHashValue(H h, const TypeKey& k) {
    return H::combine(std::move(h), k.dtype, k.shape);
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
  // Bounds-checked: a number that is no interned symbol names nothing.
  uint64_t id = static_cast<uint64_t>(-(v_ + 1));  // v_ < 0: no overflow
  auto& table = type_internal::Symbols();
  std::lock_guard<std::mutex> lock(table.mu);
  if (!is_valid() || id >= table.names.size()) return "<invalid>";
  return *table.names[id];
}

// A dtype and shape, or the unknown type (for opaque ops whose result type
// nobody told us). Cheap to copy and compare.
class TensorType {
 public:
  TensorType() = default;  // unknown

  static TensorType Get(DType dtype, absl::Span<const Dim> shape) {
    auto& table = type_internal::Types();
    std::lock_guard<std::mutex> lock(table.mu);
    auto it = table.types.find(type_internal::TypeKey{dtype, shape});
    if (it != table.types.end()) return TensorType(it->second.get());
    auto storage = std::make_unique<type_internal::TypeStorage>(
        type_internal::TypeStorage{dtype, Shape(shape.begin(), shape.end())});
    const type_internal::TypeStorage* raw = storage.get();
    table.types.emplace(type_internal::TypeKey{dtype, raw->shape},
                        std::move(storage));
    return TensorType(raw);
  }
  static TensorType Get(DType dtype, std::initializer_list<Dim> shape) {
    return Get(dtype, absl::MakeConstSpan(shape.begin(), shape.size()));
  }

  bool known() const { return s_ != nullptr; }
  DType dtype() const { return s_->dtype; }
  absl::Span<const Dim> shape() const { return s_->shape; }
  int rank() const { return static_cast<int>(s_->shape.size()); }
  // Dim `i`; negative `i` counts from the back as in Python.
  Dim dim(int i) const { return s_->shape[i < 0 ? i + rank() : i]; }
  bool is_static() const {
    for (Dim d : s_->shape) {
      if (!d.is_static()) return false;
    }
    return true;
  }
  // Number of elements, or nullopt when a dim is symbolic or the count does
  // not fit int64 (a parsed file may claim any sizes; overflow would be UB).
  std::optional<int64_t> numel() const {
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
  TensorType WithShape(absl::Span<const Dim> shape) const {
    return Get(dtype(), shape);
  }
  TensorType WithDType(DType d) const { return Get(d, shape()); }

  // `f32[1, 128, s0]`, or `?` when unknown.
  std::string ToString() const {
    if (!known()) return "?";
    return absl::StrCat(DTypeName(dtype()), "[",
                        absl::StrJoin(shape(), ", ",
                                      [](std::string* out, Dim d) {
                                        out->append(d.ToString());
                                      }),
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
  const type_internal::TypeStorage* s_ = nullptr;
};

}  // namespace graft

#endif  // GRAFT_IR_TENSOR_TYPE_H_
