// The integers constraints compute with, shared by C++ rules (`Where`
// predicates) and rule files (`where` clauses), so both spellings of a rule
// decide alike:
//
//   rule(...).Where("dim(x, -1) == dim(W, 1)",
//                   [=](const MatchState& s) { return dim(s, x, -1) == dim(s, W, 1); })
//
// A SymInt is a number, a symbolic dim (`s0`), or unknown: the rank or a dim
// of a tensor whose type does not say it, a dim index out of range, arithmetic on a
// symbol, or arithmetic that overflows int64 (checked, never wrapped). A
// comparison with an unknown operand is false, so a constraint that cannot
// be decided does not hold and the rule does not fire at that site.
#ifndef GRAFT_REWRITE_SYM_INT_H_
#define GRAFT_REWRITE_SYM_INT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "graft/ir/checked_math.h"
#include "graft/ir/tensor_type.h"
#include "graft/match/state.h"

namespace graft {

class SymInt {
 public:
  SymInt(int64_t n) : kind_(kNumber), n_(n) {}  // NOLINT: `rank(s, x) == 2` reads naturally
  static SymInt Unknown() { return SymInt(kUnknown, 0, Dim()); }
  // A static dim is its size, a symbolic one its symbol; the invalid dim
  // (neither) is unknown.
  static SymInt Of(Dim d) {
    if (d.is_static()) return SymInt(d.size());
    return d.is_symbolic() ? SymInt(kSymbol, 0, d) : Unknown();
  }
  static SymInt Of(std::optional<int64_t> n) { return n ? SymInt(*n) : Unknown(); }

  bool is_unknown() const { return kind_ == kUnknown; }
  // The number, or nullopt for a symbol or unknown.
  std::optional<int64_t> number() const {
    return kind_ == kNumber ? std::optional<int64_t>(n_) : std::nullopt;
  }

  // Arithmetic is on numbers only (a symbol's value is not known), checked;
  // `/` truncates toward zero, as C++. Overflow and division by zero are
  // unknown.
  friend SymInt operator+(SymInt a, SymInt b) { return Of(CheckedAdd(a.number(), b.number())); }
  friend SymInt operator-(SymInt a, SymInt b) { return Of(CheckedSub(a.number(), b.number())); }
  friend SymInt operator*(SymInt a, SymInt b) { return Of(CheckedMul(a.number(), b.number())); }
  friend SymInt operator/(SymInt a, SymInt b) { return Of(CheckedDiv(a.number(), b.number())); }

  // Every comparison with an unknown operand is false, as with NaN: `a != b`
  // is not `!(a == b)`, so write the comparison that must hold. A symbol
  // equals only itself and is no number (`s0 != 4` holds); symbols have no
  // order.
  friend bool operator==(SymInt a, SymInt b) { return a.Equal(b).value_or(false); }
  friend bool operator!=(SymInt a, SymInt b) {
    std::optional<bool> eq = a.Equal(b);
    return eq && !*eq;
  }
  friend bool operator<(SymInt a, SymInt b) { return a.number() && b.number() && a.n_ < b.n_; }
  friend bool operator<=(SymInt a, SymInt b) { return a.number() && b.number() && a.n_ <= b.n_; }
  friend bool operator>(SymInt a, SymInt b) { return b < a; }
  friend bool operator>=(SymInt a, SymInt b) { return b <= a; }

 private:
  enum Kind : uint8_t { kNumber, kSymbol, kUnknown };
  SymInt(Kind kind, int64_t n, Dim symbol) : kind_(kind), n_(n), symbol_(symbol) {}

  // Whether a and b are equal, or nullopt when that is unknown.
  std::optional<bool> Equal(SymInt b) const {
    if (is_unknown() || b.is_unknown()) return std::nullopt;
    if (kind_ != b.kind_) return false;
    return kind_ == kNumber ? n_ == b.n_ : symbol_ == b.symbol_;
  }

  Kind kind_;
  int64_t n_;   // kNumber
  Dim symbol_;  // kSymbol
};

// The rank of the tensor bound to `x`; unknown when its type's rank is.
inline SymInt rank(const MatchState& s, const Var& x) {
  std::optional<int> r = s.type(x).rank();
  return r ? SymInt(*r) : SymInt::Unknown();
}

// Dim `i` of the tensor bound to `x` (negative `i` counts from the back, as
// in Python); unknown when the rank or that dim is, or `i` is out of range.
inline SymInt dim(const MatchState& s, const Var& x, int64_t i) {
  std::optional<int> r = s.type(x).rank();
  if (!r || i < -*r || i >= *r) return SymInt::Unknown();
  return SymInt::Of(s.type(x).dim(static_cast<int>(i)));
}

// The element count of the tensor bound to `x`; unknown when a dim is not a
// known size or the count overflows int64.
inline SymInt numel(const MatchState& s, const Var& x) { return SymInt::Of(s.type(x).numel()); }

// A fact of a bound tensor that a constraint reads (`rank(b)`, `dim(x, -1)`,
// `dtype(y)`, `shape(z)`, `numel(w)`), declared beside the constraint so that
// when it fails, a refusal can say which fact was unknown rather than only
// that the constraint was false (rule files declare them for you).
struct Fact {
  enum Kind { kRank, kDim, kNumel, kDType, kShape };
  Kind kind;
  Var var;
  int64_t index = 0;  // kDim

  static Fact RankOf(const Var& x) { return {kRank, x}; }
  static Fact DimOf(const Var& x, int64_t i) { return {kDim, x, i}; }
  static Fact NumelOf(const Var& x) { return {kNumel, x}; }
  static Fact DTypeOf(const Var& x) { return {kDType, x}; }
  static Fact ShapeOf(const Var& x) { return {kShape, x}; }
};

// "the rank of %b is unknown" when `f` is not known for the tensor bound to
// its variable, or "" when it is (or the variable is bound to no tensor).
inline std::string UnknownFact(const MatchState& s, const Fact& f) {
  const Value* v = s.value(f.var);
  if (!v) return "";
  TensorType t = v->type();
  std::string name = std::string(s.graph().name(v));
  std::string of = absl::StrCat(" of %", name.empty() ? f.var.name() : name, " is unknown");
  switch (f.kind) {
    case Fact::kDType:
      return t.has_dtype() ? "" : absl::StrCat("the dtype", of);
    case Fact::kRank:
      return t.has_rank() ? "" : absl::StrCat("the rank", of);
    case Fact::kDim:
      if (!t.has_rank()) return absl::StrCat("the rank", of);
      return t.dim(static_cast<int>(f.index)).is_unknown() && f.index < *t.rank() &&
                     f.index >= -*t.rank()
                 ? absl::StrCat("dim ", f.index, of)
                 : "";
    case Fact::kNumel:
    case Fact::kShape:
      if (!t.has_rank()) return absl::StrCat("the rank", of);
      for (int i = 0; i < *t.rank(); ++i)
        if (t.dim(i).is_unknown()) return absl::StrCat("dim ", i, of);
      return "";
  }
  return "";
}

}  // namespace graft

#endif  // GRAFT_REWRITE_SYM_INT_H_
