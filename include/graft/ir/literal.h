// Literal arguments of a node: the non-tensor arguments of an ATen schema
// (`int[] dims`, `float eps`, `ScalarType? dtype`, `str approximate`, None).
//
// Literals are interned like types: a `const Literal*` is a handle, equal
// literals are the same pointer, so matching `[1, 0]` against a node's argument
// is a pointer compare. Floats compare by bit pattern (so NaN == NaN and
// 0.0 != -0.0, which is what "the same literal" should mean).
#ifndef GRAFT_IR_LITERAL_H_
#define GRAFT_IR_LITERAL_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include "absl/strings/string_view.h"
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "graft/ir/dtype.h"

namespace graft {

class Literal {
 public:
  enum class Kind : uint8_t { kNone, kInt, kInts, kFloat, kBool, kString, kDType };

  static const Literal* None() { return Intern(Literal(Storage())); }
  static const Literal* Int(int64_t v) { return Intern(Literal(Storage(v))); }
  static const Literal* Ints(absl::Span<const int64_t> v) {
    return Intern(Literal(Storage(std::vector<int64_t>(v.begin(), v.end()))));
  }
  static const Literal* Ints(std::initializer_list<int64_t> v) {
    return Ints(absl::MakeConstSpan(v.begin(), v.size()));
  }
  static const Literal* Float(double v) { return Intern(Literal(Storage(v))); }
  static const Literal* Bool(bool v) { return Intern(Literal(Storage(v))); }
  static const Literal* String(absl::string_view v) {
    return Intern(Literal(Storage(std::string(v))));
  }
  static const Literal* OfDType(DType v) { return Intern(Literal(Storage(v))); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_ints() const { return kind() == Kind::kInts; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_dtype() const { return kind() == Kind::kDType; }
  // An int or a float: ATen's `Scalar`.
  bool is_number() const { return is_int() || is_float(); }

  int64_t as_int() const { return std::get<int64_t>(v_); }
  absl::Span<const int64_t> as_ints() const {
    return std::get<std::vector<int64_t>>(v_);
  }
  double as_float() const { return std::get<double>(v_); }
  // An int or float as double (Scalar arguments such as `alpha`).
  double as_number() const {
    return is_int() ? static_cast<double>(as_int()) : as_float();
  }
  bool as_bool() const { return std::get<bool>(v_); }
  absl::string_view as_string() const { return std::get<std::string>(v_); }
  DType as_dtype() const { return std::get<DType>(v_); }

  // The text form: `None`, `3`, `[1, 0]`, `1e-05`, `True`, `"tanh"`, `f32`.
  // Floats always carry a `.` or exponent so they read back as floats.
  std::string ToString() const {
    switch (kind()) {
      case Kind::kNone:
        return "None";
      case Kind::kInt:
        return absl::StrCat(as_int());
      case Kind::kInts:
        return absl::StrCat("[", absl::StrJoin(as_ints(), ", "), "]");
      case Kind::kFloat:
        return FloatToString(as_float());
      case Kind::kBool:
        return as_bool() ? "True" : "False";
      case Kind::kString: {
        std::string out = "\"";
        for (char c : as_string()) {
          if (c == '"' || c == '\\') out.push_back('\\');
          if (c == '\n') {
            out += "\\n";
            continue;
          }
          out.push_back(c);
        }
        return out + "\"";
      }
      case Kind::kDType:
        return std::string(DTypeName(as_dtype()));
    }
    return "?";
  }

  // Shortest text that reads back as the same double.
  // A NaN keeps its sign (`-nan`); its payload is not kept.
  static std::string FloatToString(double v) {
    if (v != v) return std::signbit(v) ? "-nan" : "nan";
    if (v == 1.0 / 0.0) return "inf";
    if (v == -1.0 / 0.0) return "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    std::string s(buf, res.ptr);
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }

 private:
  using Storage = std::variant<std::monostate, int64_t, std::vector<int64_t>,
                               double, bool, std::string, DType>;
  explicit Literal(Storage v) : v_(std::move(v)) {}

  struct Key {
    const Storage* v;
    friend bool operator==(const Key& a, const Key& b) {
      if (a.v->index() != b.v->index()) return false;
      if (const double* x = std::get_if<double>(a.v)) {
        return std::memcmp(x, &std::get<double>(*b.v), sizeof(double)) == 0;
      }
      return *a.v == *b.v;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      h = H::combine(std::move(h), k.v->index());
      return std::visit(
          [&h](const auto& x) -> H {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return std::move(h);
            } else if constexpr (std::is_same_v<T, double>) {
              uint64_t bits;
              std::memcpy(&bits, &x, sizeof bits);
              return H::combine(std::move(h), bits);
            } else {
              return H::combine(std::move(h), x);
            }
          },
          *k.v);
    }
  };
  struct Table {
    std::mutex mu;
    absl::flat_hash_map<Key, std::unique_ptr<Literal>> literals;
  };

  static const Literal* Intern(Literal lit) {
    static auto* table = new Table;
    std::lock_guard<std::mutex> lock(table->mu);
    auto it = table->literals.find(Key{&lit.v_});
    if (it != table->literals.end()) return it->second.get();
    auto owned = std::unique_ptr<Literal>(new Literal(std::move(lit)));
    const Literal* raw = owned.get();
    table->literals.emplace(Key{&raw->v_}, std::move(owned));
    return raw;
  }

  Storage v_;
};

}  // namespace graft

#endif  // GRAFT_IR_LITERAL_H_
