// The graph IR: a Graph owns Nodes in an arena; a Value is a node result or a
// graph input; a node's arguments are Values or interned Literals, in schema
// order, as in an ATen call (`view_copy(%x, [128, 384])`).
//
// Layout, chosen for the rewrite driver's hot path:
// - a node, its result Values, its arguments and their use positions are
//   one arena block (104 bytes for a two-argument, one-result node); a
//   result finds its node by its index, so a Value stores no node pointer;
// - every Value keeps its uses (user node, argument index) in a vector whose
//   first element is inline, and every argument remembers its position in
//   that vector, so adding or removing a use is O(1) and "all users of a
//   value" is O(users);
// - nodes form a doubly linked list kept in topological order: insertion
//   before a node and erasure are O(1). Erased nodes stay in the arena until
//   the graph dies, their result Values intact, so a stale Value* that a
//   caller still holds is detected by the verifier instead of being a
//   use-after-free.
// Graph outputs are uses with a null user, so replace-all-uses-with and
// liveness see them like any other use.
#ifndef GRAFT_IR_GRAPH_H_
#define GRAFT_IR_GRAPH_H_

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "graft/ir/arg.h"
#include "graft/ir/literal.h"
#include "graft/ir/op.h"
#include "graft/ir/tensor_type.h"

namespace graft {

class Graph;
class Node;
class Value;

// How a graph input reaches the program, as in ExecuTorch's graph signature.
// A rule's `const W` accepts the last three.
enum class InputKind : uint8_t { kUserInput, kParameter, kBuffer, kConstant };

constexpr absl::string_view InputKindName(InputKind k) {
  switch (k) {
    case InputKind::kUserInput:
      return "input";
    case InputKind::kParameter:
      return "parameter";
    case InputKind::kBuffer:
      return "buffer";
    case InputKind::kConstant:
      return "constant";
  }
  return "?";
}

// A use of a value: argument `index` of `user`, or graph output `index` when
// `user` is null.
struct Use {
  Node* user;
  uint32_t index;
};

class Value {
 public:
  Value() : index_(0), input_(0) {}

  TensorType type() const { return type_; }
  void set_type(TensorType t) { type_ = t; }
  // The producing node, or nullptr for a graph input.
  inline Node* def() const;
  bool is_input() const { return input_; }
  // The result index in def(), or the input index.
  uint32_t index() const { return index_; }

  absl::Span<const Use> uses() const { return uses_; }
  size_t num_uses() const { return uses_.size(); }
  bool has_one_use() const { return uses_.size() == 1; }
  bool unused() const { return uses_.empty(); }

 private:
  friend class Graph;
  friend class Node;
  TensorType type_;
  uint32_t index_ : 31;
  uint32_t input_ : 1;  // a graph input (else result index_ of the node before it)
  uint32_t name_ = 0;   // index into the graph's name pool; 0 = unnamed
  static constexpr size_t kInlineUses = 1;
  absl::InlinedVector<Use, kInlineUses> uses_;
};

class Node {
 public:
  // Counts are stored in 16 bits; readers refuse larger nodes with an error
  // (a wrapped count would misplace the argument block).
  static constexpr size_t kMaxArgs = 0xFFFF;
  static constexpr size_t kMaxResults = 0xFFFF;

  const OpDef* op() const { return op_; }
  const OpSchema* schema() const { return op_->schema(); }
  bool is(const OpDef* op) const { return op_ == op; }

  int num_args() const { return num_args_; }
  Arg arg(int i) const { return args()[i]; }
  // Argument `i`, or its schema's default when the node leaves it out (a
  // null Arg past the schema, for a required parameter or an opaque op).
  Arg arg_or_default(int i) const {
    if (i < num_args_) return arg(i);
    const OpSchema* s = schema();
    return s ? s->ArgOrDefault(absl::MakeConstSpan(args(), num_args_), i) : Arg();
  }
  // Argument `i` as a value, or nullptr (a literal, or out of range).
  Value* operand(int i) const { return i < num_args_ ? arg(i).value() : nullptr; }
  // Argument `i` as a literal, or nullptr (a value, or out of range).
  const Literal* literal(int i) const { return i < num_args_ ? arg(i).literal() : nullptr; }

  int num_results() const { return num_results_; }
  Value* result(int i = 0) const { return const_cast<Value*>(results()) + i; }

  // Neighbours in the graph's topological order (nullptr at the ends).
  Node* prev() const { return prev_; }
  Node* next() const { return next_; }

  // Where argument `i` (a value) sits in that value's uses(): the position
  // RemoveUse relies on, exposed so the verifier can check a use in O(1)
  // instead of scanning a use-list (quadratic in a value's fan-out).
  uint32_t use_position(int i) const { return use_index()[i]; }

  // Source location (an index into the graph's location table; 0 = none).
  uint32_t loc() const { return loc_; }
  void set_loc(uint32_t loc) { loc_ = loc; }
  bool is_dead() const { return dead_; }

  // A word for algorithms to mark nodes (the driver's worklist membership,
  // visit marks); graft itself sets it only inside the driver.
  uint32_t& scratch() { return scratch_; }

 private:
  friend class Graph;
  // The block: Node, results, arguments, then each argument's position in
  // its value's use list (use_index, for O(1) removal).
  static size_t BlockBytes(size_t num_results, size_t num_args) {
    return sizeof(Node) + num_results * sizeof(Value) +
           num_args * (sizeof(Arg) + sizeof(uint32_t));
  }
  const Value* results() const { return reinterpret_cast<const Value*>(this + 1); }
  Value* results() { return reinterpret_cast<Value*>(this + 1); }
  const Arg* args() const { return reinterpret_cast<const Arg*>(results() + num_results_); }
  Arg* args() { return reinterpret_cast<Arg*>(results() + num_results_); }
  uint32_t* use_index() { return reinterpret_cast<uint32_t*>(args() + num_args_); }
  const uint32_t* use_index() const {
    return reinterpret_cast<const uint32_t*>(args() + num_args_);
  }

  const OpDef* op_ = nullptr;
  Node* prev_ = nullptr;
  Node* next_ = nullptr;
  uint16_t num_args_ = 0;
  uint16_t num_results_ = 0;
  uint32_t loc_ = 0;
  uint32_t scratch_ = 0;
  bool dead_ = false;
};

// A node's results follow it in its arena block, in index order.
inline Node* Value::def() const {
  if (input_) return nullptr;
  return const_cast<Node*>(reinterpret_cast<const Node*>(this - index_) - 1);
}

class Graph {
 public:
  explicit Graph(std::string name = "") : name_(std::move(name)) {
    names_.emplace_back();
    locs_.emplace_back();
  }
  ~Graph() {
    // Only the Values own memory (spilled use vectors). Use-lists are not
    // unlinked here: an operand's Value may already be destroyed.
    for (Node* n = head_; n; n = n->next_) DestroyResults(n);
    for (Node* n : erased_) DestroyResults(n);
    for (Block& b : blocks_) std::free(b.data);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // ---- Inputs and outputs.

  Value* AddInput(TensorType type, absl::string_view name = "",
                  InputKind kind = InputKind::kUserInput,
                  absl::string_view original_name = "") {
    auto& in = inputs_.emplace_back();
    in.value = std::make_unique<Value>();
    in.value->type_ = type;
    in.value->index_ = static_cast<uint32_t>(inputs_.size() - 1);
    in.value->input_ = 1;
    in.kind = kind;
    in.original_name = std::string(original_name);
    input_values_.push_back(in.value.get());
    set_name(in.value.get(), name);
    return in.value.get();
  }
  absl::Span<Value* const> inputs() const { return input_values_; }
  InputKind input_kind(const Value* input) const { return inputs_[input->index_].kind; }
  // The name in the source program (`token_embedding.weight`), or "".
  absl::string_view original_name(const Value* input) const {
    return inputs_[input->index_].original_name;
  }
  // True for parameters, buffers and lifted constants: what `const` matches.
  bool is_constant(const Value* v) const {
    return v->is_input() && input_kind(v) != InputKind::kUserInput;
  }

  void AddOutput(Value* v) {
    outputs_.push_back({v, AddUse(v, nullptr, static_cast<uint32_t>(outputs_.size()))});
  }
  void SetOutput(size_t i, Value* v) {
    RemoveUse(outputs_[i].value, outputs_[i].use_index);
    outputs_[i] = {v, AddUse(v, nullptr, static_cast<uint32_t>(i))};
  }
  size_t num_outputs() const { return outputs_.size(); }
  Value* output(size_t i) const { return outputs_[i].value; }
  // Where output `i` sits in output(i)->uses() (see Node::use_position).
  uint32_t output_use_position(size_t i) const { return outputs_[i].use_index; }

  // ---- Nodes.

  // Creates a node before `before` (at the end when null). Argument values
  // must belong to this graph; types are taken as given (see graft/ir/builder.h
  // for creation with shape inference).
  Node* CreateNode(const OpDef* op, absl::Span<const Arg> args,
                   absl::Span<const TensorType> result_types,
                   Node* before = nullptr, uint32_t loc = 0) {
    // The last line of defence, for a caller that forgot the limits: a
    // deterministic stop, not a corrupted arena.
    if (args.size() > Node::kMaxArgs || result_types.size() > Node::kMaxResults) {
      std::fprintf(stderr,
                   "graft: a node with %zu arguments and %zu results exceeds "
                   "Node::kMaxArgs / kMaxResults (65535)\n",
                   args.size(), result_types.size());
      std::abort();
    }
    Node* n = new (Allocate(Node::BlockBytes(result_types.size(), args.size()))) Node;
    n->op_ = op;
    n->num_results_ = static_cast<uint16_t>(result_types.size());
    n->num_args_ = static_cast<uint16_t>(args.size());
    n->loc_ = loc;
    for (size_t i = 0; i < result_types.size(); ++i) {
      Value* v = new (n->results() + i) Value;
      v->type_ = result_types[i];
      v->index_ = static_cast<uint32_t>(i);
    }
    Arg* a = n->args();
    uint32_t* use_index = n->use_index();
    for (size_t i = 0; i < args.size(); ++i) {
      a[i] = args[i];
      use_index[i] = 0;
      if (Value* v = args[i].value()) use_index[i] = AddUse(v, n, static_cast<uint32_t>(i));
    }
    Link(n, before);
    ++num_nodes_;
    return n;
  }

  // Erases a node whose results are unused.
  void Erase(Node* n) {
    for (int i = 0; i < n->num_results(); ++i) assert(n->result(i)->unused());
    Unlink(n);
    DestroyNode(n);
    erased_.push_back(n);
    --num_nodes_;
  }

  // Replaces argument `i` of `n`.
  void SetArg(Node* n, int i, Arg a) {
    Arg& arg = n->args()[i];
    uint32_t& use_index = n->use_index()[i];
    if (Value* old = arg.value()) RemoveUse(old, use_index);
    arg = a;
    if (Value* v = a.value()) use_index = AddUse(v, n, static_cast<uint32_t>(i));
  }

  // Makes every use of `from` (node arguments and graph outputs) use `to`.
  void ReplaceAllUsesWith(Value* from, Value* to) {
    if (from == to) return;
    while (!from->uses_.empty()) {
      Use u = from->uses_.back();
      if (u.user) {
        SetArg(u.user, static_cast<int>(u.index), to);
      } else {
        SetOutput(u.index, to);
      }
    }
  }

  // Moves `n` to just before `before` (to the end when null).
  void MoveBefore(Node* n, Node* before) {
    if (n == before) return;  // already there; Link(n, n) would lose n
    Unlink(n);
    Link(n, before);
  }

  // Erases nodes none of whose results is used, transitively. Returns how
  // many were erased. Every catalogue op is pure; opaque ops might have
  // effects, so they are kept unless `erase_opaque`.
  int EraseDeadNodes(bool erase_opaque = false) {
    int erased = 0;
    for (Node* n = tail_; n;) {
      Node* prev = n->prev_;
      bool dead = erase_opaque || n->schema() != nullptr;
      for (int i = 0; dead && i < n->num_results(); ++i) dead = n->result(i)->unused();
      if (dead) {
        // Walking backwards sees every user before its operands, so one pass
        // also erases what becomes dead by this erasure.
        Erase(n);
        ++erased;
      }
      n = prev;
    }
    return erased;
  }

  Node* first_node() const { return head_; }
  Node* last_node() const { return tail_; }
  size_t num_nodes() const { return num_nodes_; }

  // Iteration in topological order; erasing the current node is allowed
  // (the iterator has already read its successor).
  class NodeIterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Node*;
    using difference_type = std::ptrdiff_t;
    using pointer = Node**;
    using reference = Node*;
    explicit NodeIterator(Node* n) : n_(n), next_(n ? n->next() : nullptr) {}
    Node* operator*() const { return n_; }
    NodeIterator& operator++() {
      n_ = next_;
      next_ = n_ ? n_->next() : nullptr;
      return *this;
    }
    bool operator!=(const NodeIterator& o) const { return n_ != o.n_; }
    bool operator==(const NodeIterator& o) const { return n_ == o.n_; }

   private:
    Node* n_;
    Node* next_;
  };
  struct NodeRange {
    Node* first;
    NodeIterator begin() const { return NodeIterator(first); }
    NodeIterator end() const { return NodeIterator(nullptr); }
  };
  NodeRange nodes() const { return {head_}; }

  // ---- Names and locations (kept out of Value and Node to keep them small).

  absl::string_view name(const Value* v) const { return names_[v->name_]; }
  void set_name(Value* v, absl::string_view name) {
    if (name.empty()) {
      v->name_ = 0;
      return;
    }
    v->name_ = static_cast<uint32_t>(names_.size());
    names_.emplace_back(name);
  }
  // Interns a source location string; 0 stands for "none".
  uint32_t InternLoc(absl::string_view loc) {
    if (loc.empty()) return 0;
    auto [it, inserted] = loc_ids_.try_emplace(std::string(loc), static_cast<uint32_t>(locs_.size()));
    if (inserted) locs_.emplace_back(loc);
    return it->second;
  }
  absl::string_view loc(uint32_t id) const { return locs_[id]; }

  // Bytes the arena holds for nodes, results and argument slots (including
  // erased nodes), plus use vectors that spilled to the heap.
  size_t arena_bytes() const { return arena_bytes_; }

 private:
  struct InputInfo {
    std::unique_ptr<Value> value;
    InputKind kind;
    std::string original_name;
  };
  struct OutputSlot {
    Value* value;
    uint32_t use_index;
  };
  struct Block {
    char* data;
    size_t size;
  };

  void* Allocate(size_t bytes) {
    bytes = (bytes + 7) & ~size_t{7};
    if (blocks_.empty() || cursor_ + bytes > blocks_.back().size) {
      size_t size = std::max<size_t>(kBlockSize, bytes);
      blocks_.push_back({static_cast<char*>(std::malloc(size)), size});
      if (!blocks_.back().data) throw std::bad_alloc();
      cursor_ = 0;
    }
    void* p = blocks_.back().data + cursor_;
    cursor_ += bytes;
    arena_bytes_ += bytes;
    return p;
  }

  uint32_t AddUse(Value* v, Node* user, uint32_t index) {
    size_t capacity = v->uses_.capacity();
    v->uses_.push_back({user, index});
    if (v->uses_.capacity() != capacity) {
      // Spilled or grew on the heap; the inline slot is part of the Value.
      arena_bytes_ += (v->uses_.capacity() -
                       (capacity > Value::kInlineUses ? capacity : 0)) * sizeof(Use);
    }
    return static_cast<uint32_t>(v->uses_.size() - 1);
  }
  // Swap-removes use `pos` of `v` and repoints the moved use's slot.
  void RemoveUse(Value* v, uint32_t pos) {
    Use last = v->uses_.back();
    v->uses_[pos] = last;
    v->uses_.pop_back();
    if (pos == v->uses_.size()) return;
    if (last.user) {
      last.user->use_index()[last.index] = pos;
    } else {
      outputs_[last.index].use_index = pos;
    }
  }

  void Link(Node* n, Node* before) {
    n->next_ = before;
    n->prev_ = before ? before->prev_ : tail_;
    (n->prev_ ? n->prev_->next_ : head_) = n;
    (before ? before->prev_ : tail_) = n;
  }
  void Unlink(Node* n) {
    (n->prev_ ? n->prev_->next_ : head_) = n->next_;
    (n->next_ ? n->next_->prev_ : tail_) = n->prev_;
    n->prev_ = n->next_ = nullptr;
  }
  // Drops `n`'s uses of its operands and marks it dead. Its results stay
  // valid until the graph dies (DestroyResults), so a stale pointer to one is
  // an error the verifier reports rather than a dangling pointer.
  void DestroyNode(Node* n) {
    const Arg* args = n->args();
    const uint32_t* use_index = n->use_index();
    for (int i = 0; i < n->num_args_; ++i) {
      if (Value* v = args[i].value()) RemoveUse(v, use_index[i]);
    }
    n->dead_ = true;
  }
  static void DestroyResults(Node* n) {
    for (int i = 0; i < n->num_results_; ++i) n->results()[i].~Value();
  }

  static constexpr size_t kBlockSize = 256 * 1024;

  std::string name_;
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  size_t num_nodes_ = 0;
  std::vector<InputInfo> inputs_;
  std::vector<Value*> input_values_;
  std::vector<OutputSlot> outputs_;
  std::vector<std::string> names_;
  std::vector<std::string> locs_;
  absl::flat_hash_map<std::string, uint32_t> loc_ids_;
  std::vector<Block> blocks_;
  std::vector<Node*> erased_;  // their results are destroyed with the graph
  size_t cursor_ = 0;
  size_t arena_bytes_ = 0;
};

}  // namespace graft

#endif  // GRAFT_IR_GRAPH_H_
