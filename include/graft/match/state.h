// The state of one match attempt: variable bindings, the nodes the pattern
// has covered, and (only when explaining) where it failed.
//
// Bindings are transactional: a matcher takes a Mark() before trying a
// branch and Rollback()s to it when the branch fails, so a failed
// alternative or commuted attempt leaves nothing bound. (XLA matches twice,
// once without capturing; a rollback stack gives the same guarantee with one
// pass.) Bindings live in a small vector: patterns bind a handful of
// variables, so a linear lookup beats any map.
#ifndef GRAFT_MATCH_STATE_H_
#define GRAFT_MATCH_STATE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graft/ir/graph.h"

namespace graft {

// A pattern variable. The same Var used twice in a pattern means the same
// value (`add(x, x)`); on the right-hand side of a rule it stands for what
// it matched. Vars are cheap handles; copies denote the same variable.
class Var {
 public:
  Var() : id_(NextId()) {}
  explicit Var(absl::string_view name) : id_(NextId()), name_(name) {}

  uint32_t id() const { return id_; }
  std::string name() const { return name_.empty() ? absl::StrCat("v", id_) : name_; }

 private:
  static uint32_t NextId() {
    static std::atomic<uint32_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
  uint32_t id_;
  std::string name_;
};

// Receives the deepest failure of a match attempt when explaining.
struct Explanation {
  int depth = -1;
  std::string where;    // "operand 1 of operand 0"
  std::string message;  // "expected aten::permute_copy.default, got aten::clone.default"
};

namespace match_internal {

// A stack whose truncation (the matcher's rollback) is one store: a buffer
// that only grows, and a size. Allocates once per MatchState in practice.
template <typename T>
class Stack {
 public:
  void push_back(const T& v) {
    if (ABSL_PREDICT_FALSE(size_ == buf_.size())) Grow();
    buf_[size_++] = v;
  }
  void truncate(uint32_t n) { size_ = n < size_ ? n : size_; }
  void clear() { size_ = 0; }
  uint32_t size() const { return size_; }
  const T* begin() const { return buf_.data(); }
  const T* end() const { return buf_.data() + size_; }
  absl::Span<const T> span() const { return absl::MakeConstSpan(buf_.data(), size_); }

 private:
  ABSL_ATTRIBUTE_NOINLINE void Grow() { buf_.resize(buf_.size() * 2 + 8); }

  std::vector<T> buf_;
  uint32_t size_ = 0;
};

}  // namespace match_internal

class MatchState {
 public:
  explicit MatchState(const Graph& g) : graph_(&g) {}

  const Graph& graph() const { return *graph_; }

  // ---- Bindings.
  // The argument bound to `v`, or a null Arg.
  Arg Lookup(uint32_t var) const {
    for (const auto& b : bindings_) {
      if (b.first == var) return b.second;
    }
    return Arg();
  }
  Arg operator[](const Var& v) const { return Lookup(v.id()); }
  Value* value(const Var& v) const { return Lookup(v.id()).value(); }
  const Literal* literal(const Var& v) const { return Lookup(v.id()).literal(); }
  TensorType type(const Var& v) const {
    Value* x = value(v);
    return x ? x->type() : TensorType();
  }
  void Bind(uint32_t var, Arg a) { bindings_.push_back({var, a}); }
  absl::Span<const std::pair<uint32_t, Arg>> bindings() const { return bindings_.span(); }

  // ---- Nodes the pattern covered, root first.
  void AddMatched(Node* n) { matched_.push_back(n); }
  absl::Span<Node* const> matched() const { return matched_.span(); }

  // ---- Transactions.
  struct Mark {
    uint32_t bindings, matched;
  };
  Mark mark() const {
    return {bindings_.size(), matched_.size()};
  }
  void Rollback(Mark m) {
    bindings_.truncate(m.bindings);
    matched_.truncate(m.matched);
  }
  void Reset() {
    bindings_.clear();
    matched_.clear();
    path_.clear();
  }

  // ---- Explaining (all no-ops unless an Explanation is attached).
  void set_explanation(Explanation* e) { explain_ = e; }
  bool explaining() const { return explain_ != nullptr; }
  void Enter(int arg_index) {
    if (explain_) path_.push_back(arg_index);
  }
  void Leave() {
    if (explain_) path_.pop_back();
  }
  // Records a failure at the current depth; `msg` is only called when
  // explaining. Returns false so matchers can `return s.Fail(...)`.
  template <typename MsgFn>
  bool Fail(MsgFn&& msg) {
    if (ABSL_PREDICT_FALSE(explain_ != nullptr)) Explain(msg);
    return false;
  }

 private:
  // Out of line and cold, so matchers' failure paths stay a test and a
  // return when not explaining.
  template <typename MsgFn>
  ABSL_ATTRIBUTE_NOINLINE void Explain(MsgFn& msg) {
    if (static_cast<int>(path_.size()) > explain_->depth) {
      explain_->depth = static_cast<int>(path_.size());
      explain_->where.clear();
      for (size_t i = path_.size(); i-- > 0;)
        absl::StrAppend(&explain_->where, explain_->where.empty() ? "" : " of ", "operand ",
                        path_[i]);
      if (explain_->where.empty()) explain_->where = "root";
      explain_->message = msg();
    }
  }

  const Graph* graph_;
  match_internal::Stack<std::pair<uint32_t, Arg>> bindings_;
  match_internal::Stack<Node*> matched_;
  Explanation* explain_ = nullptr;
  std::vector<int> path_;
};

// Describes an argument for explanations: "%x (input)", "[1, 0]",
// "aten::clone.default".
inline std::string DescribeArg(const Graph& g, Arg a) {
  if (a.is_null()) return "nothing";
  if (const Literal* l = a.literal()) return absl::StrCat("literal ", l->ToString());
  Value* v = a.value();
  std::string name(g.name(v));
  if (v->is_input())
    return absl::StrCat("%", name, " (", InputKindName(g.input_kind(v)), ")");
  return absl::StrCat("%", name, " = ", v->def()->op()->name());
}

}  // namespace graft

#endif  // GRAFT_MATCH_STATE_H_
