// The Rewriter: the one handle through which rules change a graph. A Builder
// (it creates nodes with inferred types at an insertion point) that also
// replaces uses and erases nodes, telling a RewriteListener (the driver)
// about each change so the worklist and statistics stay consistent; MLIR's
// RewriterBase on OpBuilder is the model. Nodes created since Begin() can be
// rolled back when a rule refuses to finish (a replacement whose type would
// differ from what it replaces).
#ifndef GRAFT_REWRITE_REWRITER_H_
#define GRAFT_REWRITE_REWRITER_H_

#include <vector>

#include "absl/types/span.h"
#include "graft/ir/builder.h"
#include "graft/ir/graph.h"
#include "graft/ir/op.h"

namespace graft {

class RewriteListener : public Builder::Listener {
 public:
  virtual void NodeErasing(Node*) {}
  // Every use of `from` is about to move to `to`: called before the move,
  // while from->uses() still lists exactly the users that change (the
  // driver re-queues those, not every user of `to`).
  virtual void UsesReplacing(Value* /*from*/, Value* /*to*/) {}
  // Every use of `from` has moved to `to`.
  virtual void UsesReplaced(Value* /*from*/, Value* /*to*/) {}
};

class Rewriter : public Builder, private Builder::Listener {
 public:
  Rewriter(Graph& g, OpRegistry& ops, RewriteListener* listener = nullptr)
      : Builder(g, ops, this), listener_(listener) {}

  void ReplaceAllUsesWith(Value* from, Value* to) {
    if (listener_ && from != to) listener_->UsesReplacing(from, to);
    graph().ReplaceAllUsesWith(from, to);
    if (listener_) listener_->UsesReplaced(from, to);
  }

  // Erases `n`, whose results must be unused.
  void Erase(Node* n) {
    if (listener_) listener_->NodeErasing(n);
    graph().Erase(n);
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
      if (!created_[i]->is_dead()) graph().Erase(created_[i]);
    }
    created_.clear();
  }

 private:
  // Builder::Listener: every node the builder side creates.
  void NodeCreated(Node* n) override {
    created_.push_back(n);
    if (listener_) listener_->NodeCreated(n);
  }

  RewriteListener* listener_;
  std::vector<Node*> created_;
};

}  // namespace graft

#endif  // GRAFT_REWRITE_REWRITER_H_
