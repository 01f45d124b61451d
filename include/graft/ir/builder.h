// Builder: creates nodes at an insertion point, inferring result types with
// the catalogue's shape functions, so code that builds graphs (tests,
// importers, rule replacements) never writes a type by hand.
#ifndef GRAFT_IR_BUILDER_H_
#define GRAFT_IR_BUILDER_H_

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "graft/ir/graph.h"
#include "graft/ir/status.h"
#include "graft/ops/catalogue.h"
#include "graft/ops/infer.h"

namespace graft {

class Builder {
 public:
  explicit Builder(Graph& graph) : graph_(graph) {}

  Graph& graph() const { return graph_; }
  // New nodes go before `before`; at the end of the graph when null.
  void SetInsertionPoint(Node* before) { before_ = before; }
  void SetInsertionPointToEnd() { before_ = nullptr; }
  Node* insertion_point() const { return before_; }
  // Location given to the nodes created from now on.
  void SetLoc(uint32_t loc) { loc_ = loc; }

  // Creates `op(args)` with inferred result types.
  absl::StatusOr<Node*> Create(const OpDef* op, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(TypeList types, InferTypes(op, args));
    return graph_.CreateNode(op, args, types, before_, loc_);
  }
  absl::StatusOr<Node*> Create(absl::string_view op_name, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, ResolveOp(op_name));
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
    return graph_.CreateNode(op, args, types, before_, loc_);
  }

 private:
  Graph& graph_;
  Node* before_ = nullptr;
  uint32_t loc_ = 0;
};

}  // namespace graft

#endif  // GRAFT_IR_BUILDER_H_
