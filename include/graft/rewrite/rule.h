// Rules and rule sets.
//
//   namespace m = graft::match;
//   graft::Var b("b"), x("x"), W("W");
//   absl::Status added = rules.Add(
//       graft::rule("addmm_transposed_weight_to_linear",
//                   m::addmm(b, x, m::transpose(m::constant(W))), m::linear(x, W, b))
//           .Where("rank(b) == 1", [b](const MatchState& s) { return rank(s, b) == 1; })
//           .Benefit(3));
//
// A Rule is a pattern, constraints on its bindings (`Where`), and a
// replacement: a pattern that can build (declarative) or a C++ callback.
// Applying a matched rule is one protocol for every rule (Rule::Apply):
//   1. constraints hold;
//   2. legality: no node inside the match other than the root has a use
//      outside it (unless the rule may duplicate), so the rewrite removes
//      what it matched instead of copying it;
//   3. the replacement is built just before the root, where every captured
//      value is already defined, so topological order holds;
//   4. each replacement value must have exactly the type of the result it
//      replaces (types come from the catalogue's shape functions), both
//      known: an unknown fact on either side refuses, since equal partial
//      types are no proof of equal tensors. A rule declared ForAnyTypes (its
//      replacement equals its root whatever the types) needs only that no
//      known fact conflicts, and the replacement takes the facts of both.
//      Otherwise the new nodes are rolled back and the rule is refused with
//      the reason;
//   5. uses are replaced and the matched nodes that became dead are erased.
#ifndef GRAFT_REWRITE_RULE_H_
#define GRAFT_REWRITE_RULE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/ir/printer.h"
#include "graft/match/matchers.h"
#include "graft/match/state.h"
#include "graft/rewrite/rewriter.h"
#include "graft/rewrite/sym_int.h"

namespace graft {

// Built by rule() below; what follows the pattern and replacement (benefit,
// constraints, ...) is set through the RuleBuilder it returns.
class Rule {
 public:
  using Predicate = std::function<bool(const MatchState&)>;
  struct Constraint {
    std::string label;  // what explanations and refusals name
    Predicate holds;
    std::vector<Fact> reads;  // the type facts `holds` reads, to name an unknown one
  };

  virtual ~Rule() = default;

  const std::string& name() const { return name_; }
  int benefit() const { return benefit_; }
  // Where the rule was written (rule files: "linear.rules:12:1").
  const std::string& origin() const { return origin_; }

  // The constraints, in the order they are checked.
  const std::vector<Constraint>& constraints() const { return constraints_; }

  // The ops the pattern's root can be; empty with any_root() for "any op".
  const std::vector<const OpDef*>& root_ops() const { return root_ops_; }
  bool any_root() const { return any_root_; }

  // Matches the pattern at `root`, leaving bindings and covered nodes in `s`.
  virtual bool Match(Node* root, MatchState& s) const = 0;
  // "mm(x, transpose(const W)) -> linear(x, W)".
  virtual std::string Describe() const = 0;

  // Whether the rule holds whatever the types of its inputs (step 4 above).
  bool for_any_types() const { return for_any_types_; }

  // Why `c` fails at `s`: "constraint 'rank(b) == 1' fails", and which fact
  // it reads was unknown, if one was.
  static std::string Refusal(const Constraint& c, const MatchState& s) {
    std::string out = absl::StrCat("constraint '", c.label, "' fails");
    for (const Fact& f : c.reads) {
      if (std::string unknown = UnknownFact(s, f); !unknown.empty())
        return absl::StrCat(out, ": ", unknown);
    }
    return out;
  }

  // The first constraint that fails, or nullptr.
  const Constraint* FailedConstraint(const MatchState& s) const {
    for (const Constraint& c : constraints_) {
      if (!c.holds(s)) return &c;
    }
    return nullptr;
  }

  // Steps 1-5 above on a successful match. Returns OK when applied, or
  // FailedPrecondition with the reason the rule was refused at this site.
  // `constraints_checked`: the caller has found FailedConstraint(s) null.
  absl::Status Apply(Rewriter& rw, Node* root, const MatchState& s,
                     bool constraints_checked = false) const {
    if (const Constraint* c = constraints_checked ? nullptr : FailedConstraint(s))
      return absl::FailedPreconditionError(Refusal(*c, s));
    if (!may_duplicate_) GRAFT_RETURN_IF_ERROR(CheckNoOutsideUses(rw.graph(), s));
    rw.SetInsertionPoint(root);
    rw.SetLoc(root->loc());
    rw.Begin();
    absl::StatusOr<std::vector<Value*>> repl = BuildReplacement(rw, root, s);
    if (!repl.ok()) {
      rw.Rollback();
      return absl::FailedPreconditionError(repl.status().message());
    }
    if (absl::Status st = CheckNotSelfReferential(rw, root, *repl); !st.ok()) {
      rw.Rollback();
      return st;
    }
    if (absl::Status st = CheckTypes(root, *repl, for_any_types_); !st.ok()) {
      rw.Rollback();
      return st;
    }
    Graph& g = rw.graph();
    for (int i = 0; i < root->num_results(); ++i) {
      Value* to = (*repl)[i];
      if (g.name(to).empty()) g.set_name(to, g.name(root->result(i)));
      rw.ReplaceAllUsesWith(root->result(i), to);
    }
    // Erase what died; repeat because a node shared inside the match dies
    // only once all its matched users are gone.
    for (bool progress = true; progress;) {
      progress = false;
      for (Node* n : s.matched()) progress |= rw.EraseIfDead(n);
    }
    return absl::OkStatus();
  }

 protected:
  Rule(std::string name, int default_benefit) : name_(std::move(name)), benefit_(default_benefit) {}
  void SetRoots(bool restricted, std::vector<const OpDef*> ops) {
    any_root_ = !restricted;
    root_ops_ = restricted ? std::move(ops) : std::vector<const OpDef*>();
  }
  // The values replacing `root`'s results, in order.
  virtual absl::StatusOr<std::vector<Value*>> BuildReplacement(Rewriter& rw, Node* root,
                                                               const MatchState& s) const = 0;

  // A declarative replacement's value; for a multi-result root, all
  // results of the node it built.
  static absl::StatusOr<std::vector<Value*>> ResultsFor(Node* root, Arg built) {
    Value* v = built.value();
    if (!v) return absl::InvalidArgumentError("the replacement is a literal, not a value");
    if (root->num_results() == 1) return std::vector<Value*>{v};
    Node* n = v->def();
    if (!n || n->num_results() != root->num_results())
      return absl::InvalidArgumentError(absl::StrCat(
          "the replacement must produce ", root->num_results(), " results like ",
          root->op()->name()));
    std::vector<Value*> out;
    for (int i = 0; i < n->num_results(); ++i) out.push_back(n->result(i));
    return out;
  }

 private:
  static absl::Status CheckNoOutsideUses(const Graph& g, const MatchState& s) {
    absl::Span<Node* const> matched = s.matched();
    for (size_t k = 1; k < matched.size(); ++k) {
      Node* n = matched[k];
      for (int r = 0; r < n->num_results(); ++r) {
        for (const Use& u : n->result(r)->uses()) {
          bool inside = false;
          for (Node* m : matched) inside |= u.user == m;
          if (!inside)
            return absl::FailedPreconditionError(absl::StrCat(
                "%", g.name(n->result(r)), " (", n->op()->name(), ") inside the match is also used ",
                u.user ? absl::StrCat("by ", NodeLabel(g, u.user)) : std::string("as a graph output")));
        }
      }
    }
    return absl::OkStatus();
  }
  // The replacement is built before the root, so it cannot use the root's
  // results (replacing their uses would also rewire the replacement into a
  // cycle), nor be one of them (a rewrite that changes nothing).
  static absl::Status CheckNotSelfReferential(const Rewriter& rw, Node* root,
                                              const std::vector<Value*>& repl) {
    auto fail = [&](Value* v) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the replacement depends on %", rw.graph().name(v), ", a result of the ",
          root->op()->name(), " it replaces"));
    };
    for (Value* v : repl) {
      if (v && v->def() == root) return fail(v);
    }
    for (Node* n : rw.created()) {
      for (int i = 0; i < n->num_args(); ++i) {
        if (Value* v = n->operand(i); v && v->def() == root) return fail(v);
      }
    }
    return absl::OkStatus();
  }
  // Step 4. The common case, both types known and equal, is one pointer
  // compare and one load.
  static absl::Status CheckTypes(Node* root, const std::vector<Value*>& repl, bool any_types) {
    if (static_cast<int>(repl.size()) != root->num_results())
      return absl::FailedPreconditionError(absl::StrCat(
          "the replacement has ", repl.size(), " results, ", root->op()->name(), " has ",
          root->num_results()));
    for (size_t i = 0; i < repl.size(); ++i) {
      if (!repl[i])
        return absl::FailedPreconditionError(
            absl::StrCat("the replacement gives no value for result ", i));
    }
    // All checked before any type is refined: a refusal changes nothing.
    std::vector<std::pair<Value*, TensorType>> refined;
    for (size_t i = 0; i < repl.size(); ++i) {
      TensorType want = root->result(static_cast<int>(i))->type(), got = repl[i]->type();
      if (want == got && want.known()) continue;
      if (!any_types)
        return TypeRefusal(root->op(), want, got,
                           want.known() && got.known() ? kConflict : kUnknownFact);
      std::optional<TensorType> merged = MergeTypes(want, got);
      if (!merged) return TypeRefusal(root->op(), want, got, kConflict);
      if (*merged != got) refined.emplace_back(repl[i], *merged);
    }
    // The uses replaced take the facts of both sides.
    for (auto& [v, t] : refined) v->set_type(t);
    return absl::OkStatus();
  }
  // Ops and types are interned and immortal, so the reason for a (root op,
  // wanted, computed) triple never changes: it is spelled once per thread,
  // not at every refused site (formatting two types dominated the cost of
  // a refusal).
  enum RefusalKind { kConflict, kUnknownFact };
  static absl::Status TypeRefusal(const OpDef* op, TensorType want, TensorType got,
                                  RefusalKind kind) {
    thread_local absl::flat_hash_map<std::tuple<const OpDef*, TensorType, TensorType, RefusalKind>,
                                     std::string>
        reasons;
    auto [it, inserted] = reasons.try_emplace(std::make_tuple(op, want, got, kind));
    if (inserted) {
      it->second = absl::StrCat("the replacement computes ", got.ToString(), " where ",
                                op->name(), " produced ", want.ToString());
      if (kind == kUnknownFact)
        absl::StrAppend(&it->second, ": the type check needs the ",
                        want.known() ? got.FirstUnknownFact() : want.FirstUnknownFact(), " of ",
                        want.known() ? "the replacement" : absl::StrCat(op->name(), "'s result"),
                        ", which is unknown (the rule does not hold for any types)");
    }
    return absl::FailedPreconditionError(it->second);
  }

  friend class RuleBuilder;  // sets what follows the pattern and replacement

  std::string name_;
  int benefit_;
  std::vector<Constraint> constraints_;
  bool may_duplicate_ = false;
  bool for_any_types_ = false;
  std::string origin_;
  bool any_root_ = true;
  std::vector<const OpDef*> root_ops_;
};

// What every rule with a compile-time pattern shares: matching at the root
// node's first result, root-op indexing, and the pattern's description.
template <typename P>
class MatchingRule : public Rule {
 public:
  bool Match(Node* root, MatchState& s) const override {
    if (root->num_results() == 0) return false;
    return pattern_.Match(Arg(root->result(0)), s);
  }

 protected:
  MatchingRule(std::string name, P pattern)
      : Rule(std::move(name), pattern.OpCount()), pattern_(std::move(pattern)) {
    std::vector<const OpDef*> ops;
    bool restricted = pattern_.RootOps(&ops);
    SetRoots(restricted, std::move(ops));
  }
  std::string DescribeAs(absl::string_view replacement) const {
    std::string out;
    pattern_.Describe(&out);
    absl::StrAppend(&out, " -> ", replacement);
    return out;
  }

  P pattern_;
};

// A rule whose replacement is a buildable pattern.
template <typename P, typename R>
class PatternRule final : public MatchingRule<P> {
 public:
  PatternRule(std::string name, P pattern, R replacement)
      : MatchingRule<P>(std::move(name), std::move(pattern)), replacement_(std::move(replacement)) {}
  std::string Describe() const override {
    std::string r;
    replacement_.Describe(&r);
    return this->DescribeAs(r);
  }

 protected:
  absl::StatusOr<std::vector<Value*>> BuildReplacement(Rewriter& rw, Node* root,
                                                       const MatchState& s) const override {
    GRAFT_ASSIGN_OR_RETURN(Arg built, replacement_.Build(rw, s));
    return Rule::ResultsFor(root, built);
  }

 private:
  R replacement_;
};

// A rule whose replacement is C++: `fn(Rewriter&, Node* root, const
// MatchState&)` returning absl::StatusOr<Value*> (single-result roots) or
// absl::StatusOr<std::vector<Value*>>. An error refuses the rule here.
template <typename P, typename F>
class CallbackRule final : public MatchingRule<P> {
 public:
  CallbackRule(std::string name, P pattern, F fn)
      : MatchingRule<P>(std::move(name), std::move(pattern)), fn_(std::move(fn)) {}
  std::string Describe() const override { return this->DescribeAs("<C++>"); }

 protected:
  absl::StatusOr<std::vector<Value*>> BuildReplacement(Rewriter& rw, Node* root,
                                                       const MatchState& s) const override {
    auto r = fn_(rw, root, s);
    if (!r.ok()) return r.status();
    if constexpr (std::is_same_v<std::decay_t<decltype(*r)>, Value*>) {
      return std::vector<Value*>{*r};
    } else {
      return std::vector<Value*>(std::move(*r));
    }
  }

 private:
  F fn_;
};

// What follows a rule's pattern and replacement, as one expression:
//
//   rules.Add(rule("name", lhs, rhs).Where("dim(x, -1) == dim(W, 1)", pred).Benefit(2))
//
// Each setter has an lvalue form, for a rule configured step by step, and
// an rvalue form that keeps a chain on a temporary movable into RuleSet::Add
// (as absl::StatusBuilder). The builder owns the rule until it is converted
// to std::unique_ptr<Rule>.
class RuleBuilder {
 public:
  explicit RuleBuilder(std::unique_ptr<Rule> rule) : rule_(std::move(rule)) {}

  // Adds a constraint on the bindings. `label` is what --explain and
  // refusal reasons print ("constraint 'rank(b) == 1' fails"), so it says
  // what `holds` checks; the rule-file spelling reads best. Constraints are
  // checked in order, after the pattern matched.
  RuleBuilder& Where(std::string label, Rule::Predicate holds) & {
    return Where(std::move(label), {}, std::move(holds));
  }
  RuleBuilder&& Where(std::string label, Rule::Predicate holds) && {
    return std::move(Where(std::move(label), std::move(holds)));
  }
  // As above, declaring the type facts `holds` reads, so that a refusal
  // names the one that was unknown ("the rank of %b is unknown").
  RuleBuilder& Where(std::string label, std::vector<Fact> reads, Rule::Predicate holds) & {
    rule_->constraints_.push_back({std::move(label), std::move(holds), std::move(reads)});
    return *this;
  }
  RuleBuilder&& Where(std::string label, std::vector<Fact> reads, Rule::Predicate holds) && {
    return std::move(Where(std::move(label), std::move(reads), std::move(holds)));
  }
  // Declares that the replacement computes what the pattern's root does
  // whatever the dtypes and shapes of the inputs (a transpose of a
  // transpose, a GEMM through a transposed weight), so the rule applies
  // where types are partial: the type check then refuses only a known fact
  // that conflicts (step 4). Do not declare it for a rule whose truth the
  // type check guards (`add(x, 0) -> x` is wrong when the add promotes).
  RuleBuilder& ForAnyTypes() & {
    rule_->for_any_types_ = true;
    return *this;
  }
  RuleBuilder&& ForAnyTypes() && { return std::move(ForAnyTypes()); }
  // Replaces the default benefit, the number of ops the pattern matches.
  RuleBuilder& Benefit(int benefit) & {
    rule_->benefit_ = benefit;
    return *this;
  }
  RuleBuilder&& Benefit(int benefit) && { return std::move(Benefit(benefit)); }
  // Allows matched interior nodes to keep uses outside the match (they are
  // then kept, and the rewrite duplicates their work).
  RuleBuilder& AllowDuplication() & {
    rule_->may_duplicate_ = true;
    return *this;
  }
  RuleBuilder&& AllowDuplication() && { return std::move(AllowDuplication()); }
  // Where the rule was written, for messages naming it.
  RuleBuilder& Origin(std::string origin) & {
    rule_->origin_ = std::move(origin);
    return *this;
  }
  RuleBuilder&& Origin(std::string origin) && { return std::move(Origin(std::move(origin))); }

  operator std::unique_ptr<Rule>() && { return std::move(rule_); }  // NOLINT: reads as a rule

 private:
  std::unique_ptr<Rule> rule_;
};

// rule(name, pattern, replacement): a declarative rule when `replacement`
// is a pattern (or Var), a callback rule when it is callable.
template <typename P, typename R>
RuleBuilder rule(std::string name, P&& pattern, R&& replacement) {
  auto p = match::AsPattern(std::forward<P>(pattern));
  using D = std::decay_t<R>;
  if constexpr (match::kIsPattern<D> || std::is_same_v<D, Var>) {
    auto r = match::AsPattern(std::forward<R>(replacement));
    return RuleBuilder(std::make_unique<PatternRule<decltype(p), decltype(r)>>(
        std::move(name), std::move(p), std::move(r)));
  } else {
    return RuleBuilder(std::make_unique<CallbackRule<decltype(p), D>>(
        std::move(name), std::move(p), std::forward<R>(replacement)));
  }
}

// An ordered set of uniquely named rules. Order breaks ties in benefit.
class RuleSet {
 public:
  RuleSet() = default;
  RuleSet(RuleSet&&) = default;
  RuleSet& operator=(RuleSet&&) = default;

  // Adds `r`; refuses a rule without a name, a constraint without a label
  // or a predicate, and a name already taken.
  absl::Status Add(std::unique_ptr<Rule> r) {
    if (r->name().empty()) return absl::InvalidArgumentError("a rule needs a name");
    for (size_t i = 0; i < r->constraints().size(); ++i) {
      const Rule::Constraint& c = r->constraints()[i];
      if (c.label.empty() || !c.holds)
        return absl::InvalidArgumentError(absl::StrCat(
            "rule '", r->name(), "': constraint ", i + 1, " has no ",
            c.label.empty() ? "label (what --explain and refusals print)" : "predicate"));
    }
    if (Find(r->name()))
      return absl::AlreadyExistsError(absl::StrCat("a rule named '", r->name(), "' already exists",
                                                   Find(r->name())->origin().empty()
                                                       ? std::string()
                                                       : absl::StrCat(" (", Find(r->name())->origin(), ")")));
    rules_.push_back(std::move(r));
    return absl::OkStatus();
  }
  // Moves every rule of `other` in; fails without change on a duplicate name.
  absl::Status Merge(RuleSet other) {
    for (const auto& r : other.rules_) {
      if (Find(r->name()))
        return absl::AlreadyExistsError(absl::StrCat("a rule named '", r->name(), "' is defined twice"));
    }
    for (auto& r : other.rules_) rules_.push_back(std::move(r));
    return absl::OkStatus();
  }
  const Rule* Find(absl::string_view name) const {
    for (const auto& r : rules_) {
      if (r->name() == name) return r.get();
    }
    return nullptr;
  }
  size_t size() const { return rules_.size(); }
  const Rule& operator[](size_t i) const { return *rules_[i]; }
  auto begin() const { return rules_.begin(); }
  auto end() const { return rules_.end(); }

 private:
  std::vector<std::unique_ptr<Rule>> rules_;
};

}  // namespace graft

#endif  // GRAFT_REWRITE_RULE_H_
