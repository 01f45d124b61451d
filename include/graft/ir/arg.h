// Arg: one argument of a node, a Value or an interned Literal in one tagged
// word. Its own header because op schemas (graft/ir/op.h) speak of
// arguments and defaults before the graph (graft/ir/graph.h) exists.
#ifndef GRAFT_IR_ARG_H_
#define GRAFT_IR_ARG_H_

#include <cstdint>
#include <utility>

#include "graft/ir/literal.h"

namespace graft {

class Value;  // graft/ir/graph.h

// One argument: a Value or a Literal, in one tagged word.
class Arg {
 public:
  Arg() = default;
  Arg(Value* v) : bits_(reinterpret_cast<uintptr_t>(v)) {}  // NOLINT
  Arg(const Literal* l) : bits_(reinterpret_cast<uintptr_t>(l) | 1) {}  // NOLINT

  bool is_null() const { return bits_ == 0; }
  bool is_value() const { return bits_ != 0 && !(bits_ & 1); }
  bool is_literal() const { return bits_ & 1; }
  // The value, or nullptr for a literal.
  Value* value() const { return is_value() ? reinterpret_cast<Value*>(bits_) : nullptr; }
  // The literal, or nullptr for a value.
  const Literal* literal() const {
    return is_literal() ? reinterpret_cast<const Literal*>(bits_ & ~uintptr_t{1}) : nullptr;
  }
  friend bool operator==(Arg a, Arg b) { return a.bits_ == b.bits_; }
  friend bool operator!=(Arg a, Arg b) { return a.bits_ != b.bits_; }
  template <typename H>
  friend H AbslHashValue(H h, Arg a) {
    return H::combine(std::move(h), a.bits_);
  }

 private:
  uintptr_t bits_ = 0;
};

}  // namespace graft

#endif  // GRAFT_IR_ARG_H_
