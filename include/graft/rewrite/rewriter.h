// The Rewriter: the one handle through which rules change a graph. It
// creates nodes (with inferred types) at an insertion point, replaces uses,
// erases nodes, and tells a listener (the driver) about each change so the
// worklist and statistics stay consistent. Nodes created since Begin() can
// be rolled back when a rule refuses to finish (a replacement whose type
// would differ from what it replaces).
#ifndef GRAFT_REWRITE_REWRITER_H_
#define GRAFT_REWRITE_REWRITER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "graft/ir/graph.h"
#include "graft/ir/status.h"
#include "graft/ops/catalogue.h"
#include "graft/ops/infer.h"

namespace graft {

class RewriteListener {
 public:
  virtual ~RewriteListener() = default;
  virtual void NodeCreated(Node*) {}
  virtual void NodeErasing(Node*) {}
  // Every use of `from` is about to move to `to`: called before the move,
  // while from->uses() still lists exactly the users that change (the
  // driver re-queues those, not every user of `to`).
  virtual void UsesReplacing(Value* /*from*/, Value* /*to*/) {}
  // Every use of `from` has moved to `to`.
  virtual void UsesReplaced(Value* /*from*/, Value* /*to*/) {}
};

class Rewriter {
 public:
  explicit Rewriter(Graph& g, RewriteListener* listener = nullptr)
      : graph_(g), listener_(listener) {}

  Graph& graph() const { return graph_; }
  void SetInsertionPoint(Node* before) { before_ = before; }
  Node* insertion_point() const { return before_; }
  void SetLoc(uint32_t loc) { loc_ = loc; }

  // Creates op(args) before the insertion point, with inferred types.
  absl::StatusOr<Node*> Create(const OpDef* op, absl::Span<const Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(TypeList types, InferTypes(op, args));
    return CreateWithTypes(op, args, types);
  }
  absl::StatusOr<Value*> Op(absl::string_view op_name, std::initializer_list<Arg> args) {
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, ResolveOp(op_name));
    GRAFT_ASSIGN_OR_RETURN(Node* n, Create(op, absl::MakeConstSpan(args.begin(), args.size())));
    return n->result(0);
  }
  Node* CreateWithTypes(const OpDef* op, absl::Span<const Arg> args,
                        absl::Span<const TensorType> types) {
    Node* n = graph_.CreateNode(op, args, types, before_, loc_);
    created_.push_back(n);
    if (listener_) listener_->NodeCreated(n);
    return n;
  }

  void ReplaceAllUsesWith(Value* from, Value* to) {
    if (listener_ && from != to) listener_->UsesReplacing(from, to);
    graph_.ReplaceAllUsesWith(from, to);
    if (listener_) listener_->UsesReplaced(from, to);
  }

  // Erases `n`, whose results must be unused.
  void Erase(Node* n) {
    if (listener_) listener_->NodeErasing(n);
    graph_.Erase(n);
  }
  // Erases `n` if none of its results is used; returns whether it did.
  bool EraseIfDead(Node* n) {
    if (n->is_dead()) return false;
    for (int i = 0; i < n->num_results(); ++i) {
      if (!n->result(i)->unused()) return false;
    }
    Erase(n);
    return true;
  }

  // ---- Transactions over node creation.
  void Begin() { created_.clear(); }
  absl::Span<Node* const> created() const { return created_; }
  // Erases the nodes created since Begin(), newest first, without telling
  // the listener: the graph is as it was, so nothing needs a new visit (the
  // driver re-queuing a rolled-back node's operands would retry a root its
  // refused replacement used, forever).
  void Rollback() {
    for (size_t i = created_.size(); i-- > 0;) {
      if (!created_[i]->is_dead()) graph_.Erase(created_[i]);
    }
    created_.clear();
  }

 private:
  Graph& graph_;
  RewriteListener* listener_;
  Node* before_ = nullptr;
  uint32_t loc_ = 0;
  std::vector<Node*> created_;
};

}  // namespace graft

#endif  // GRAFT_REWRITE_REWRITER_H_
