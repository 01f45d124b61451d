// Builder: creates nodes at an insertion point, with result types inferred
// by each op's shape function, so code that builds graphs (tests, importers,
// rule replacements) never writes a type by hand. Names resolve through the
// OpRegistry the builder is given (graft::Ops() for graft's catalogue). A
// Listener hears of every node created; the Rewriter (graft/rewrite/), a
// Builder that also replaces and erases, is one.
#ifndef GRAFT_IR_BUILDER_H_
#define GRAFT_IR_BUILDER_H_

#include <initializer_list>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graft/ir/graph.h"
#include "graft/ir/op.h"
#include "graft/ir/op_call.h"
#include "graft/ir/status.h"

namespace graft {

class Builder {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void NodeCreated(Node*) {}
  };

  Builder(Graph& graph, OpRegistry& ops, Listener* listener = nullptr)
      : graph_(graph), ops_(ops), listener_(listener) {}

  Graph& graph() const { return graph_; }
  OpRegistry& ops() const { return ops_; }
  // New nodes go before `before`; at the end of the graph when null.
  void SetInsertionPoint(Node* before) { before_ = before; }
  void SetInsertionPointToEnd() { before_ = nullptr; }
  Node* insertion_point() const { return before_; }
  // Location given to the nodes created from now on.
  void SetLoc(uint32_t loc) { loc_ = loc; }

  // Creates `op(args)` with inferred result types.
  absl::StatusOr<Node*> Create(const OpDef* op, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(TypeList types, InferTypes(op, args));
    return CreateWithTypes(op, args, types);
  }
  absl::StatusOr<Node*> Create(absl::string_view op_name, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, ops_.Resolve(op_name));
    return Create(op, args);
  }
  // The single result of `op(args)`.
  absl::StatusOr<Value*> Op(absl::string_view op_name, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(Node* n, Create(op_name, args));
    return n->result(0);
  }
  absl::StatusOr<Value*> Op(absl::string_view op_name, std::initializer_list<Arg> args) {
    return Op(op_name, absl::MakeConstSpan(args.begin(), args.size()));
  }

  // Creates a node with the types given (opaque ops, importers).
  Node* CreateWithTypes(const OpDef* op, absl::Span<const Arg> args,
                        absl::Span<const TensorType> types) {
    Node* n = graph_.CreateNode(op, args, types, before_, loc_);
    if (listener_) listener_->NodeCreated(n);
    return n;
  }

 private:
  Graph& graph_;
  OpRegistry& ops_;
  Listener* listener_;
  Node* before_ = nullptr;
  uint32_t loc_ = 0;
};

}  // namespace graft

#endif  // GRAFT_IR_BUILDER_H_
