// The pattern DSL, in the style of LLVM's PatternMatch.h: small value types
// composed at compile time, one factory each, no virtual calls while
// matching.
//
//   namespace m = graft::match;
//   graft::Var x("x"), W("W");
//   auto pattern = m::mm(x, m::transpose(m::constant(W)));
//
// Every pattern P provides
//   bool P::Match(Arg a, MatchState& s) const   match `a`, binding variables;
//                                              on failure nothing stays bound
//   void P::Describe(std::string* out) const   the pattern as text
//   int  P::OpCount() const                    ops it covers (default benefit)
//   bool P::RootOps(std::vector<const OpDef*>*) the ops its root can be, false
//                                              for "any op" (driver indexing)
// and patterns that can also stand on a rule's right-hand side provide
//   absl::StatusOr<Arg> P::Build(Builder&, const MatchState&) const.
//
// The rule-file language (graft/rules/) composes these same templates at run
// time through DynP, the one type-erased pattern.
#ifndef GRAFT_MATCH_MATCHERS_H_
#define GRAFT_MATCH_MATCHERS_H_

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/match/state.h"
#include "graft/ops/catalogue.h"
#include "graft/ir/builder.h"

namespace graft {
namespace match {

// Base of every pattern type; enables `a | b` and implicit conversions.
struct PatternTag {};
template <typename T>
constexpr bool kIsPattern = std::is_base_of_v<PatternTag, std::decay_t<T>>;

// Short display name of an op: `mm` for aten::mm.default, else the full name.
inline std::string OpDisplayName(const OpDef* op) {
  if (op->ns() == "aten" && op->overload() == "default") return std::string(op->base_name());
  return op->name();
}

// ---------------------------------------------------------------------------
// Leaves.

// `_`: matches any argument, binds nothing.
struct AnyP : PatternTag {
  bool Match(Arg, MatchState&) const { return true; }
  void Describe(std::string* out) const { out->append("_"); }
  int OpCount() const { return 0; }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};

// A variable: binds on first sight, demands the same argument after.
struct VarP : PatternTag {
  uint32_t id;
  std::string name;
  explicit VarP(const Var& v) : id(v.id()), name(v.name()) {}

  bool Match(Arg a, MatchState& s) const {
    Arg bound = s.Lookup(id);
    if (bound.is_null()) {
      s.Bind(id, a);
      return true;
    }
    if (bound == a) return true;
    return s.Fail([&] {
      return absl::StrCat(name, " is already ", DescribeArg(s.graph(), bound), ", not ",
                          DescribeArg(s.graph(), a));
    });
  }
  absl::StatusOr<Arg> Build(Builder&, const MatchState& s) const {
    Arg a = s.Lookup(id);
    if (a.is_null()) return absl::InternalError(absl::StrCat("variable ", name, " is unbound"));
    return a;
  }
  void Describe(std::string* out) const { out->append(name); }
  int OpCount() const { return 0; }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};

// A literal argument, exactly (interned, so a pointer compare).
struct LitP : PatternTag {
  const Literal* lit;
  explicit LitP(const Literal* l) : lit(l) {}

  bool Match(Arg a, MatchState& s) const {
    if (a.literal() == lit) return true;
    return s.Fail([&] {
      return absl::StrCat("expected ", lit->ToString(), ", got ", DescribeArg(s.graph(), a));
    });
  }
  absl::StatusOr<Arg> Build(Builder&, const MatchState&) const { return Arg(lit); }
  void Describe(std::string* out) const { out->append(lit->ToString()); }
  int OpCount() const { return 0; }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};

// Lifts what a factory was given into a pattern: patterns stay, a Var
// becomes VarP, numbers and literals become LitP.
template <typename T>
auto AsPattern(T&& p) {
  using D = std::decay_t<T>;
  if constexpr (kIsPattern<D>) {
    return D(std::forward<T>(p));
  } else if constexpr (std::is_same_v<D, Var>) {
    return VarP(p);
  } else if constexpr (std::is_same_v<D, const Literal*> || std::is_same_v<D, Literal*>) {
    return LitP(p);
  } else if constexpr (std::is_same_v<D, bool>) {
    return LitP(Literal::Bool(p));
  } else if constexpr (std::is_integral_v<D>) {
    return LitP(Literal::Int(p));
  } else if constexpr (std::is_floating_point_v<D>) {
    return LitP(Literal::Float(p));
  } else if constexpr (std::is_same_v<D, DType>) {
    return LitP(Literal::OfDType(p));
  } else {
    static_assert(kIsPattern<D>, "not a pattern, Var, number, DType or Literal*");
  }
}
template <typename T>
using PatternOf = decltype(AsPattern(std::declval<T>()));

// ---------------------------------------------------------------------------
// Graph inputs by kind.

enum InputKindMask : uint8_t {
  kUserInputs = 1 << static_cast<int>(InputKind::kUserInput),
  kParameters = 1 << static_cast<int>(InputKind::kParameter),
  kBuffers = 1 << static_cast<int>(InputKind::kBuffer),
  kConstants = 1 << static_cast<int>(InputKind::kConstant),
  kAnyConstant = kParameters | kBuffers | kConstants,
};

// A graph input of one of the kinds in `mask`, matched further by `p`.
template <typename P>
struct InputP : PatternTag {
  uint8_t mask;
  absl::string_view label;
  P p;
  InputP(uint8_t m, absl::string_view l, P inner) : mask(m), label(l), p(std::move(inner)) {}

  bool Match(Arg a, MatchState& s) const {
    Value* v = a.value();
    if (!v || !v->is_input() || !(mask & (1 << static_cast<int>(s.graph().input_kind(v)))))
      return s.Fail([&] {
        return absl::StrCat("expected ", label == "input" ? "an " : "a ", label, ", got ",
                            DescribeArg(s.graph(), a));
      });
    return p.Match(a, s);
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const { return p.Build(rw, s); }
  void Describe(std::string* out) const {
    absl::StrAppend(out, label == "parameter, buffer or constant" ? "const" : label, " ");
    p.Describe(out);
  }
  int OpCount() const { return 0; }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};

// ---------------------------------------------------------------------------
// Ops.

// The index of `op`'s tensor-list parameter, or -1 (no list, or no schema).
// Op patterns look it up once, when built: matching a node then tells list
// ops from the rest by comparing an int, not by loading the node's schema
// for every operand of every node tried (nearly all ops have no list).
inline int ListParamOf(const OpDef* op) {
  const OpSchema* schema = op ? op->schema() : nullptr;
  return schema ? schema->list_param : -1;
}

// Argument of parameter `p` of a node of a list op, or its default (see
// OpSchema::ArgOrDefault: the list is stored as a run of operands).
ABSL_ATTRIBUTE_NOINLINE inline Arg ListOpParamArg(const Node* n, int p) {
  const OpSchema* schema = n->schema();
  int i = schema->ArgIndex(p, n->num_args());
  return p != schema->list_param && i < n->num_args() ? n->arg(i) : schema->params[p].DefaultArg();
}

// Checks that the parameters a pattern with `k` children leaves unnamed are
// at their defaults: `addmm(b, x, w)` must not match an addmm with beta=2.
inline bool TrailingArgsAreDefault(const Node* n, int k, MatchState& s) {
  const OpSchema* schema = n->schema();
  int num_params = schema ? static_cast<int>(schema->params.size()) : 0;
  auto fail = [&](int i, absl::string_view param) {
    return s.Fail([&, i, param] {
      return absl::StrCat(OpDisplayName(n->op()), " argument ", i,
                          param.empty() ? std::string() : absl::StrCat(" (", param, ")"), " is ",
                          DescribeArg(s.graph(), n->arg(i)),
                          ", which the pattern leaves at its default");
    });
  };
  if (schema && schema->has_list()) {
    for (int p = k; p < num_params; ++p) {
      int i = schema->ArgIndex(p, n->num_args());
      if (p != schema->list_param && i < n->num_args() && !schema->params[p].IsDefault(n->arg(i)))
        return fail(i, schema->params[p].name);
    }
    return true;
  }
  for (int i = k; i < n->num_args(); ++i) {
    if (i >= num_params) return fail(i, "");
    if (!schema->params[i].IsDefault(n->arg(i))) return fail(i, schema->params[i].name);
  }
  return true;
}

// Whether every argument of `n` but 0 and 1 is at its default, the condition
// under which a commutative op may swap its operands.
inline bool CanCommute(const Node* n) {
  const OpSchema* s = n->schema();
  if (!s || !s->commutative) return false;
  for (int i = 2; i < n->num_args(); ++i) {
    if (!s->params[i].IsDefault(n->arg(i))) return false;
  }
  return true;
}

// Matches parameter `src` of `n` (or its schema default) with `match(Arg)`;
// `list_param` is ListParamOf(n->op()).
template <typename MatchFn>
bool MatchOperand(const OpDef* op, int list_param, Node* n, int src, MatchState& s,
                  const MatchFn& match) {
  Arg a = ABSL_PREDICT_TRUE(list_param < 0) ? n->arg_or_default(src) : ListOpParamArg(n, src);
  if (a.is_null())
    return s.Fail([&] {
      return absl::StrCat(OpDisplayName(op), " has no argument ", src, " and no default");
    });
  s.Enter(src);
  bool ok = match(a);
  s.Leave();
  return ok;
}

// Shared by OpP and its run-time twin: matches node `n` against `op` (whose
// list parameter is `list_param`, see ListParamOf) with `k` argument
// patterns; `match_all(swap)` matches the children (through MatchParam),
// operands 0 and 1 swapped when `swap`. Tries operands in order, then
// (commutative ops) swapped.
// Always inlined: it is the body of every op pattern's match, and GCC -O2
// stopped inlining it once the list checks made it bigger; the call per
// node tried, and the children's matchers then not inlined into it, cost
// the driver benchmark's Mixed10 ~6% of its instructions (callgrind).
template <typename MatchAll>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool MatchOpNodeWith(const OpDef* op, int list_param, int k,
                                                         Node* n, MatchState& s,
                                                         const MatchAll& match_all) {
  if (n->op() != op)
    return s.Fail([&] {
      return absl::StrCat("expected ", OpDisplayName(op), ", got ", OpDisplayName(n->op()));
    });
  // A list op's parameters after the run are never "trailing" by count.
  if ((n->num_args() > k || list_param >= 0) && !TrailingArgsAreDefault(n, k, s)) return false;
  MatchState::Mark mark = s.mark();
  s.AddMatched(n);
  if (match_all(false)) return true;
  s.Rollback(mark);
  if (k >= 2 && CanCommute(n)) {
    s.AddMatched(n);
    if (match_all(true)) return true;
    s.Rollback(mark);
  }
  return false;
}

template <typename P>
bool MatchParam(const OpDef* op, int list_param, Node* n, int p, MatchState& s, const P& child);

// MatchOpNodeWith for children known at run time.
template <typename P>
bool MatchOpNode(const OpDef* op, Node* n, MatchState& s, const std::vector<P>& children) {
  int k = static_cast<int>(children.size());
  int list_param = ListParamOf(op);
  return MatchOpNodeWith(op, list_param, k, n, s, [&](bool swap) {
    for (int i = 0; i < k; ++i) {
      if (!MatchParam(op, list_param, n, swap && i < 2 ? 1 - i : i, s, children[i])) return false;
    }
    return true;
  });
}

// Tensor-list parameters. A pattern standing for a whole list (m::list,
// `[x, y]` in rule files) provides
//   bool MatchList(absl::Span<const Arg> run, MatchState&) const
//   absl::Status BuildList(Builder&, const MatchState&, std::vector<Arg>*) const
// and `_` matches any list.
template <typename P, typename = void>
struct HasMatchList : std::false_type {};
template <typename P>
struct HasMatchList<P, std::void_t<decltype(std::declval<const P&>().MatchList(
                           std::declval<absl::Span<const Arg>>(), std::declval<MatchState&>()))>>
    : std::true_type {};

// Matches the operands of `n`'s tensor-list parameter with `p`. Out of
// line: the rare case, kept out of the MatchParam code that every op
// pattern's matcher instantiates.
template <typename P>
ABSL_ATTRIBUTE_NOINLINE bool MatchListWith(const P& p, const OpDef* op, Node* n, MatchState& s) {
  if constexpr (std::is_same_v<P, AnyP>) {
    return true;
  } else if constexpr (HasMatchList<P>::value) {
    OpSchema::Run run = n->schema()->ListRun(n->num_args());
    absl::InlinedVector<Arg, 8> elems;
    for (int i = 0; i < run.count; ++i) elems.push_back(n->arg(run.first + i));
    s.Enter(run.first);
    bool ok = p.MatchList(elems, s);
    s.Leave();
    return ok;
  } else {
    return s.Fail([&] {
      return absl::StrCat(OpDisplayName(op), " parameter ",
                          n->schema()->params[n->schema()->list_param].name,
                          " is a tensor list: match it with a list pattern or _");
    });
  }
}

// Matches parameter `p` of `n` (a node of `op`, whose list parameter is
// `list_param`) with `child`: the run of operands for a tensor-list
// parameter, else one argument.
template <typename P>
bool MatchParam(const OpDef* op, int list_param, Node* n, int p, MatchState& s, const P& child) {
  if (p == list_param) return MatchListWith(child, op, n, s);
  return MatchOperand(op, list_param, n, p, s, [&](Arg a) { return child.Match(a, s); });
}

template <typename P, typename = void>
struct HasBuildOne : std::false_type {};
template <typename P>
struct HasBuildOne<P, std::void_t<decltype(std::declval<const P&>().Build(
                          std::declval<Builder&>(), std::declval<const MatchState&>()))>>
    : std::true_type {};

// Appends what `child` builds for parameter `p` of `op` (whose list
// parameter is `list_param`): the run of a list parameter, else one argument.
template <typename P>
absl::Status BuildParam(const P& child, const OpDef* op, int list_param, int p, Builder& rw,
                        const MatchState& s, absl::InlinedVector<Arg, 8>* args) {
  if (p == list_param) {
    if constexpr (HasMatchList<P>::value) {
      std::vector<Arg> run;
      GRAFT_RETURN_IF_ERROR(child.BuildList(rw, s, &run));
      args->insert(args->end(), run.begin(), run.end());
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        op->name(), " parameter ", p, " is a tensor list: build it with a list pattern"));
  }
  if constexpr (HasBuildOne<P>::value) {
    GRAFT_ASSIGN_OR_RETURN(Arg a, child.Build(rw, s));
    args->push_back(a);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(op->name(), " parameter ", p, " is not a tensor list"));
}

// Creates a node of `op` from `args` built for its first `k` parameters. A
// node of a list op carries every parameter explicitly: the ones the
// pattern left out get their defaults.
inline absl::StatusOr<Arg> CreateOpNode(Builder& rw, const OpDef* op, int k,
                                        absl::InlinedVector<Arg, 8>& args) {
  const OpSchema* schema = op->schema();
  if (schema && schema->has_list()) {
    for (int p = k; p < static_cast<int>(schema->params.size()); ++p) {
      Arg d = schema->params[p].DefaultArg();
      if (d.is_null())
        return absl::InvalidArgumentError(absl::StrCat(
            op->name(), ": parameter ", schema->params[p].name, " has no default"));
      args.push_back(d);
    }
  }
  GRAFT_ASSIGN_OR_RETURN(Node * n, rw.Create(op, args));
  return Arg(n->result(0));
}

// What a matcher expected, for explanations: text, or an op, named only
// when a failure is explained (not on every attempt).
inline absl::string_view ExpectedText(absl::string_view what) { return what; }
inline std::string ExpectedText(const OpDef* op) { return OpDisplayName(op); }

// Matches `a` as result 0 of a node, handing the node to `match_node`.
// `what` is text or an OpDef*.
template <typename What, typename MatchNode>
bool MatchDefiningNode(Arg a, MatchState& s, const What& what, const MatchNode& match_node) {
  Value* v = a.value();
  if (!v || v->is_input() || v->index() != 0)
    return s.Fail([&] {
      return absl::StrCat("expected ", ExpectedText(what), ", got ", DescribeArg(s.graph(), a));
    });
  return match_node(v->def());
}

// op(children...): a node of `op` whose arguments match the children.
template <typename... Ps>
struct OpP : PatternTag {
  const OpDef* op;
  int list_param;  // ListParamOf(op), looked up once
  std::tuple<Ps...> children;
  explicit OpP(const OpDef* o, Ps... ps)
      : op(o), list_param(ListParamOf(o)), children(std::move(ps)...) {}

  bool MatchNode(Node* n, MatchState& s) const {
    // Children unrolled at compile time: no loop, no dispatch on an index.
    return MatchOpNodeWith(op, list_param, sizeof...(Ps), n, s, [&](bool swap) {
      return MatchChildren(n, s, swap, std::index_sequence_for<Ps...>());
    });
  }
  bool Match(Arg a, MatchState& s) const {
    return MatchDefiningNode(a, s, op, [&](Node* n) { return MatchNode(n, s); });
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const {
    absl::InlinedVector<Arg, 8> args;  // no allocation per rewrite
    absl::Status status;
    int p = 0;
    std::apply(
        [&](const auto&... c) {
          ((status.ok() ? (void)(status = BuildParam(c, op, list_param, p++, rw, s, &args))
                        : (void)0),
           ...);
        },
        children);
    if (!status.ok()) return status;
    return CreateOpNode(rw, op, sizeof...(Ps), args);
  }
  void Describe(std::string* out) const {
    absl::StrAppend(out, OpDisplayName(op), "(");
    bool first = true;
    std::apply(
        [&](const auto&... c) {
          ((out->append(first ? "" : ", "), first = false, c.Describe(out)), ...);
        },
        children);
    out->append(")");
  }
  int OpCount() const {
    return 1 + std::apply([](const auto&... c) { return (0 + ... + c.OpCount()); }, children);
  }
  bool RootOps(std::vector<const OpDef*>* ops) const {
    ops->push_back(op);
    return true;
  }

 private:
  template <size_t... Is>
  bool MatchChildren(Node* n, MatchState& s, bool swap, std::index_sequence<Is...>) const {
    return (MatchParam(op, list_param, n,
                       swap && Is < 2 ? 1 - static_cast<int>(Is) : static_cast<int>(Is), s,
                       std::get<Is>(children)) &&
            ...);
  }
};

// The op named by its catalogue short name or qualified name. Aborts on a
// name that is not a valid op name: factories are called with constants.
inline const OpDef* OpNamed(absl::string_view name) {
  auto op = Ops().Resolve(name);
  if (!op.ok()) {
    fprintf(stderr, "graft: %s\n", std::string(op.status().message()).c_str());
    abort();
  }
  return *op;
}

// op(name, children...): any op by name, e.g. op("aten::gelu.default", x).
template <typename... Ts>
auto op(absl::string_view name, Ts&&... children) {
  return OpP<PatternOf<Ts>...>(OpNamed(name), AsPattern(std::forward<Ts>(children))...);
}
template <typename... Ts>
auto op(const OpDef* def, Ts&&... children) {
  return OpP<PatternOf<Ts>...>(def, AsPattern(std::forward<Ts>(children))...);
}

// ---------------------------------------------------------------------------
// Combinators.

// a | b: tries `a`, then `b`; a failed `a` leaves nothing bound.
template <typename A, typename B>
struct AltP : PatternTag {
  A a;
  B b;
  AltP(A x, B y) : a(std::move(x)), b(std::move(y)) {}

  bool Match(Arg arg, MatchState& s) const {
    MatchState::Mark mark = s.mark();
    if (a.Match(arg, s)) return true;
    s.Rollback(mark);
    if (b.Match(arg, s)) return true;
    s.Rollback(mark);
    return false;
  }
  void Describe(std::string* out) const {
    a.Describe(out);
    out->append(" | ");
    b.Describe(out);
  }
  int OpCount() const { return std::max(a.OpCount(), b.OpCount()); }
  bool RootOps(std::vector<const OpDef*>* ops) const { return a.RootOps(ops) && b.RootOps(ops); }
};

template <typename A, typename B,
          typename = std::enable_if_t<kIsPattern<A> || kIsPattern<B>>>
auto operator|(A&& a, B&& b) {
  return AltP<PatternOf<A>, PatternOf<B>>(AsPattern(std::forward<A>(a)),
                                          AsPattern(std::forward<B>(b)));
}

// `p` whose matched argument also satisfies `pred(Arg, const MatchState&)`.
template <typename P, typename Pred>
struct WhereP : PatternTag {
  P p;
  Pred pred;
  std::string label;
  WhereP(P inner, Pred f, std::string l) : p(std::move(inner)), pred(std::move(f)), label(std::move(l)) {}

  bool Match(Arg a, MatchState& s) const {
    MatchState::Mark mark = s.mark();
    if (!p.Match(a, s)) return false;
    if (pred(a, static_cast<const MatchState&>(s))) return true;
    s.Rollback(mark);
    return s.Fail([&] {
      return absl::StrCat(DescribeArg(s.graph(), a), " fails '", label, "'");
    });
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const { return p.Build(rw, s); }
  void Describe(std::string* out) const {
    p.Describe(out);
    absl::StrAppend(out, " where ", label);
  }
  int OpCount() const { return p.OpCount(); }
  bool RootOps(std::vector<const OpDef*>* ops) const { return p.RootOps(ops); }
};

// where(p, pred, label): a user predicate on what `p` matched.
template <typename P, typename Pred>
auto where(P&& p, Pred pred, std::string label = "predicate") {
  return WhereP<PatternOf<P>, Pred>(AsPattern(std::forward<P>(p)), std::move(pred),
                                    std::move(label));
}

// x@p: matches `p`, then binds x to what it matched (or checks that an
// already bound x is that same argument).
template <typename P>
struct BindP : PatternTag {
  VarP var;
  P p;
  BindP(VarP v, P inner) : var(std::move(v)), p(std::move(inner)) {}

  bool Match(Arg a, MatchState& s) const {
    MatchState::Mark mark = s.mark();
    if (p.Match(a, s) && var.Match(a, s)) return true;
    s.Rollback(mark);
    return false;
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const { return var.Build(rw, s); }
  void Describe(std::string* out) const {
    absl::StrAppend(out, var.name, "@(");
    p.Describe(out);
    out->append(")");
  }
  int OpCount() const { return p.OpCount(); }
  bool RootOps(std::vector<const OpDef*>* ops) const { return p.RootOps(ops); }
};

template <typename P>
auto bind(const Var& x, P&& p) {
  return BindP<PatternOf<P>>(VarP(x), AsPattern(std::forward<P>(p)));
}

// ---------------------------------------------------------------------------
// Type predicates.

inline TensorType TypeOf(Arg a) {
  Value* v = a.value();
  return v ? v->type() : TensorType();
}

template <typename P>
auto has_rank(P&& p, int rank) {
  return where(std::forward<P>(p),
               [rank](Arg a, const MatchState&) {
                 TensorType t = TypeOf(a);
                 return t.rank() == rank;  // false when the rank is unknown
               },
               absl::StrCat("rank == ", rank));
}

template <typename P>
auto has_dtype(P&& p, DType dtype) {
  return where(std::forward<P>(p),
               [dtype](Arg a, const MatchState&) {
                 TensorType t = TypeOf(a);
                 return t.dtype() == dtype;  // false when the dtype is unknown
               },
               absl::StrCat("dtype == ", DTypeName(dtype)));
}

template <typename P>
auto has_shape(P&& p, std::vector<Dim> shape) {
  std::string label = absl::StrCat("shape == ", shape::ShapeString(shape));
  return where(std::forward<P>(p),
               [shape = std::move(shape)](Arg a, const MatchState&) {
                 TensorType t = TypeOf(a);
                 return t.known() && absl::MakeConstSpan(shape) == absl::MakeConstSpan(*t.shape());
               },
               std::move(label));
}

// The matched value has exactly one use.
template <typename P>
auto one_use(P&& p) {
  return where(std::forward<P>(p),
               [](Arg a, const MatchState&) { return a.value() && a.value()->has_one_use(); },
               "one use");
}

// ---------------------------------------------------------------------------
// Inputs by kind.

// A parameter, buffer or lifted constant: ExecuTorch's `is_param_node`.
template <typename P>
auto constant(P&& p) {
  return InputP<PatternOf<P>>(kAnyConstant, "parameter, buffer or constant",
                              AsPattern(std::forward<P>(p)));
}
template <typename P>
auto param(P&& p) {
  return InputP<PatternOf<P>>(kParameters, "parameter", AsPattern(std::forward<P>(p)));
}
template <typename P>
auto buffer(P&& p) {
  return InputP<PatternOf<P>>(kBuffers, "buffer", AsPattern(std::forward<P>(p)));
}
template <typename P>
auto input(P&& p) {
  return InputP<PatternOf<P>>(kUserInputs, "input", AsPattern(std::forward<P>(p)));
}

// ---------------------------------------------------------------------------
// Literals.

inline AnyP any() { return {}; }
inline const AnyP _;  // NOLINT: reads like the rule language's wildcard
inline LitP lit(const Literal* l) { return LitP(l); }
inline LitP i(int64_t v) { return LitP(Literal::Int(v)); }
inline LitP ints(std::initializer_list<int64_t> v) { return LitP(Literal::Ints(v)); }
inline LitP ints(absl::Span<const int64_t> v) { return LitP(Literal::Ints(v)); }
inline LitP f(double v) { return LitP(Literal::Float(v)); }
inline LitP none() { return LitP(Literal::None()); }

// A right-hand-side literal computed from the match, e.g. a shape taken from
// a capture: computed([x](const MatchState& s) { ... return Literal::Ints(..); }).
template <typename F>
struct ComputedP : PatternTag {
  F fn;
  std::string label;
  absl::StatusOr<Arg> Build(Builder&, const MatchState& s) const {
    absl::StatusOr<const Literal*> l = fn(s);
    if (!l.ok()) return l.status();
    return Arg(*l);
  }
  bool Match(Arg, MatchState& s) const {
    return s.Fail([] { return std::string("a computed literal only builds"); });
  }
  void Describe(std::string* out) const { out->append(label); }
  int OpCount() const { return 0; }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};
template <typename F>
auto computed(F fn, std::string label = "<computed>") {
  return ComputedP<F>{{}, std::move(fn), std::move(label)};
}

// ---------------------------------------------------------------------------
// Transposes.

// The 2-D transpose in every spelling the edge dialect, TorchScript and
// export's ATen use (Forms() below): permute with dims [1, 0] (or [-1, -2]),
// t, numpy_T, mT, the conjugating mH/adjoint/matrix_H on a real operand,
// transpose/swapaxes/swapdims of dims 0 and 1 and movedim/moveaxis between
// them in any order or sign, each on a rank-2 input. On a right-hand side
// it builds permute_copy(p, [1, 0]).
template <typename P>
struct TransposeP : PatternTag {
  P p;
  explicit TransposeP(P inner) : p(std::move(inner)) {}

  // How an op spells a 2-D transpose of its operand 0.
  enum class Spelling {
    kAlways,     // t, numpy_T (.T), mT: any rank-2 operand
    kRealOnly,   // mH, adjoint, matrix_H (.H): conjugating, so only for real dtypes
    kDimsPair,   // transpose, swapaxes, swapdims (dim0, dim1) of dims {0, 1}
    kMoveDim,    // movedim / moveaxis (source, destination) of dims {0, 1}
    kPermuteDims // permute (dims) == [1, 0]
  };
  struct Form {
    const OpDef* op;
    Spelling spelling;
  };
  // Every spelling PyTorch writes a transpose in: the edge dialect's copies,
  // TorchScript's and export's ATen (what tracing records for `.t()`, `.T`,
  // `.mT`, `.mH`, `.H`, `.adjoint()`, `.transpose`, `.swapaxes`,
  // `.swapdims`, `.permute`, `.movedim`, `torch.moveaxis`).
  static const std::vector<Form>& Forms() {
    static const std::vector<Form>* forms = new std::vector<Form>{
        {ops::permute_copy(), Spelling::kPermuteDims}, {ops::permute(), Spelling::kPermuteDims},
        {ops::t_copy(), Spelling::kAlways},            {ops::t(), Spelling::kAlways},
        {ops::numpy_T(), Spelling::kAlways},           {ops::mT(), Spelling::kAlways},
        {ops::mH(), Spelling::kRealOnly},              {ops::adjoint(), Spelling::kRealOnly},
        {ops::matrix_H(), Spelling::kRealOnly},
        {ops::transpose_copy(), Spelling::kDimsPair},  {ops::transpose_int(), Spelling::kDimsPair},
        {ops::swapaxes(), Spelling::kDimsPair},        {ops::swapdims(), Spelling::kDimsPair},
        {ops::movedim(), Spelling::kMoveDim},          {ops::moveaxis(), Spelling::kMoveDim},
    };
    return *forms;
  }

  // Whether `n` is a 2-D transpose of its operand 0. An operand fact the
  // spelling needs but its type does not give is no match: `t`, `.T`,
  // `transpose(0, 1)` and `movedim` are transposes only of a rank-2 operand
  // (`t` of a vector is the vector), so they need its rank; a conjugating
  // spelling needs a real dtype too. `permute` with a 2-element dims list
  // says the rank itself.
  static bool IsTranspose2D(const Node* n) {
    Value* in = n->operand(0);
    if (!in) return false;
    std::optional<int> rank = in->type().rank();
    if (rank && *rank != 2) return false;  // the common miss, before the forms
    const Form* form = nullptr;
    for (const Form& f : Forms())
      if (n->is(f.op)) form = &f;
    if (!form || (!rank && form->spelling != Spelling::kPermuteDims)) return false;
    auto norm = [](int64_t d) { return d < 0 ? d + 2 : d; };
    switch (form->spelling) {
      case Spelling::kAlways:
        return true;
      case Spelling::kRealOnly:
        return in->type().has_dtype() && !IsComplex(*in->type().dtype());
      case Spelling::kPermuteDims: {
        const Literal* dims = n->literal(1);
        return dims && dims->is_ints() && dims->as_ints().size() == 2 &&
               norm(dims->as_ints()[0]) == 1 && norm(dims->as_ints()[1]) == 0;
      }
      case Spelling::kDimsPair:
      case Spelling::kMoveDim: {
        // (0, 1) or (1, 0): swapping dims 0 and 1 and moving dim 0 to 1 (or
        // 1 to 0) are both the transpose on a rank-2 operand.
        const Literal *d0 = n->literal(1), *d1 = n->literal(2);
        if (!d0 || !d1 || !d0->is_int() || !d1->is_int()) return false;
        // Compared, not summed: a node built without its shape function (an
        // imported model) may carry any ints; (-3, 2) summed to 1 and
        // (2^63 - 1, 2^63 - 1) overflowed.
        int64_t a = norm(d0->as_int()), c = norm(d1->as_int());
        return (a == 0 && c == 1) || (a == 1 && c == 0);
      }
    }
    return false;
  }

  bool Match(Arg a, MatchState& s) const {
    return MatchDefiningNode(a, s, "a 2-D transpose", [&](Node* n) {
      if (!IsTranspose2D(n))
        return s.Fail([&] {
          Value* in = n->operand(0);
          return absl::StrCat("expected a 2-D transpose, got ", DescribeArg(s.graph(), a),
                              in && !in->type().has_rank()
                                  ? absl::StrCat(" (the rank of %", s.graph().name(in),
                                                 " is unknown)")
                                  : "");
        });
      MatchState::Mark mark = s.mark();
      s.AddMatched(n);
      s.Enter(0);
      bool ok = p.Match(n->arg(0), s);
      s.Leave();
      if (!ok) s.Rollback(mark);
      return ok;
    });
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const {
    GRAFT_ASSIGN_OR_RETURN(Arg in, p.Build(rw, s));
    Arg args[] = {in, Literal::Ints({1, 0})};
    GRAFT_ASSIGN_OR_RETURN(Node * n, rw.Create(ops::permute_copy(), args));
    return Arg(n->result(0));
  }
  void Describe(std::string* out) const {
    out->append("transpose(");
    p.Describe(out);
    out->append(")");
  }
  int OpCount() const { return 1 + p.OpCount(); }
  bool RootOps(std::vector<const OpDef*>* ops) const {
    for (const Form& f : Forms()) ops->push_back(f.op);
    return true;
  }
};

template <typename P>
auto transpose(P&& p) {
  return TransposeP<PatternOf<P>>(AsPattern(std::forward<P>(p)));
}

// ---------------------------------------------------------------------------
// Tensor lists.

// list(p...): the run of operands of a tensor-list parameter, exactly: one
// element per pattern, in order. `m::cat(m::list(x), 0)` is a cat of one
// tensor; on a right-hand side it builds the run.
template <typename... Ps>
struct ListP : PatternTag {
  std::tuple<Ps...> elems;
  explicit ListP(Ps... ps) : elems(std::move(ps)...) {}

  bool MatchList(absl::Span<const Arg> run, MatchState& s) const {
    if (run.size() != sizeof...(Ps))
      return s.Fail([&] {
        return absl::StrCat("expected a list of ", sizeof...(Ps), ", got ", run.size(),
                            run.size() == 1 ? " tensor" : " tensors");
      });
    return MatchElems(run, s, std::index_sequence_for<Ps...>());
  }
  absl::Status BuildList(Builder& rw, const MatchState& s, std::vector<Arg>* out) const {
    absl::Status status;
    std::apply(
        [&](const auto&... e) {
          (
              [&] {
                if (!status.ok()) return;
                auto a = e.Build(rw, s);
                if (a.ok()) {
                  out->push_back(*a);
                } else {
                  status = a.status();
                }
              }(),
              ...);
        },
        elems);
    return status;
  }
  bool Match(Arg, MatchState& s) const {
    return s.Fail([] { return std::string("a list pattern stands only for a tensor-list parameter"); });
  }
  void Describe(std::string* out) const {
    out->append("[");
    bool first = true;
    std::apply(
        [&](const auto&... e) {
          ((out->append(first ? "" : ", "), first = false, e.Describe(out)), ...);
        },
        elems);
    out->append("]");
  }
  int OpCount() const {
    return std::apply([](const auto&... e) { return (0 + ... + e.OpCount()); }, elems);
  }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }

 private:
  template <size_t... Is>
  bool MatchElems(absl::Span<const Arg> run, MatchState& s, std::index_sequence<Is...>) const {
    auto one = [&](size_t i, const auto& e) {
      s.Enter(static_cast<int>(i));
      bool ok = e.Match(run[i], s);
      s.Leave();
      return ok;
    };
    return (one(Is, std::get<Is>(elems)) && ...);
  }
};

template <typename... Ts>
auto list(Ts&&... elems) {
  return ListP<PatternOf<Ts>...>(AsPattern(std::forward<Ts>(elems))...);
}

// ---------------------------------------------------------------------------
// One factory per op of the table (graft/ops/opset.h), named by its short
// name: m::mm(a, b), m::view_copy(x, _), m::_softmax(x, -1, false), ...

#define GRAFT_OP_FACTORY(short_name, name, shape_fn, num_results, flags, params) \
  template <typename... Ts>                                                     \
  auto short_name(Ts&&... children) {                                           \
    return OpP<PatternOf<Ts>...>(ops::short_name(),                             \
                                 AsPattern(std::forward<Ts>(children))...);     \
  }
GRAFT_OPSET(GRAFT_OP_FACTORY)
#undef GRAFT_OP_FACTORY

// ---------------------------------------------------------------------------
// DynP: a pattern whose structure is known only at run time (rule files).
// It wraps any pattern above behind one virtual call per node visited.

class DynP : public PatternTag {
 public:
  DynP() = default;
  template <typename P, typename = std::enable_if_t<kIsPattern<P> && !std::is_same_v<P, DynP>>>
  explicit DynP(P p) : impl_(std::make_shared<Impl<P>>(std::move(p))) {}

  bool Match(Arg a, MatchState& s) const { return impl_->Match(a, s); }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const { return impl_->Build(rw, s); }
  void Describe(std::string* out) const { impl_->Describe(out); }
  int OpCount() const { return impl_->OpCount(); }
  bool RootOps(std::vector<const OpDef*>* ops) const { return impl_->RootOps(ops); }
  bool CanBuild() const { return impl_->CanBuild(); }
  // As a tensor-list parameter's pattern (a list pattern, or `_`).
  bool MatchList(absl::Span<const Arg> run, MatchState& s) const { return impl_->MatchList(run, s); }
  absl::Status BuildList(Builder& rw, const MatchState& s, std::vector<Arg>* out) const {
    return impl_->BuildList(rw, s, out);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual bool Match(Arg, MatchState&) const = 0;
    virtual absl::StatusOr<Arg> Build(Builder&, const MatchState&) const = 0;
    virtual void Describe(std::string*) const = 0;
    virtual int OpCount() const = 0;
    virtual bool RootOps(std::vector<const OpDef*>*) const = 0;
    virtual bool CanBuild() const = 0;
    virtual bool MatchList(absl::Span<const Arg>, MatchState&) const = 0;
    virtual absl::Status BuildList(Builder&, const MatchState&, std::vector<Arg>*) const = 0;
  };
  template <typename P, typename = void>
  struct Buildable : std::false_type {};
  template <typename P>
  struct Buildable<P, std::void_t<decltype(std::declval<const P&>().Build(
                          std::declval<Builder&>(), std::declval<const MatchState&>()))>>
      : std::true_type {};

  template <typename P>
  struct Impl final : Base {
    P p;
    explicit Impl(P x) : p(std::move(x)) {}
    bool Match(Arg a, MatchState& s) const override { return p.Match(a, s); }
    absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const override {
      if constexpr (Buildable<P>::value) {
        return p.Build(rw, s);
      } else {
        std::string d;
        p.Describe(&d);
        return absl::InvalidArgumentError(absl::StrCat("'", d, "' cannot be built"));
      }
    }
    void Describe(std::string* out) const override { p.Describe(out); }
    int OpCount() const override { return p.OpCount(); }
    bool RootOps(std::vector<const OpDef*>* ops) const override { return p.RootOps(ops); }
    bool CanBuild() const override { return Buildable<P>::value; }
    bool MatchList(absl::Span<const Arg> run, MatchState& s) const override {
      if constexpr (HasMatchList<P>::value) {
        return p.MatchList(run, s);
      } else if constexpr (std::is_same_v<P, AnyP>) {
        return true;
      } else {
        return s.Fail([] { return std::string("a tensor-list parameter needs a list pattern or _"); });
      }
    }
    absl::Status BuildList(Builder& rw, const MatchState& s, std::vector<Arg>* out) const override {
      if constexpr (HasMatchList<P>::value) {
        return p.BuildList(rw, s, out);
      } else {
        return absl::InvalidArgumentError("a tensor-list parameter needs a list pattern");
      }
    }
  };

  std::shared_ptr<const Base> impl_;
};

// An op pattern with children known at run time; same matching code as OpP.
struct DynOpP : PatternTag {
  const OpDef* op;
  std::vector<DynP> children;

  bool MatchNode(Node* n, MatchState& s) const {
    return MatchOpNode(op, n, s, children);
  }
  bool Match(Arg a, MatchState& s) const {
    return MatchDefiningNode(a, s, op, [&](Node* n) { return MatchNode(n, s); });
  }
  absl::StatusOr<Arg> Build(Builder& rw, const MatchState& s) const {
    absl::InlinedVector<Arg, 8> args;
    int list_param = ListParamOf(op);
    for (size_t p = 0; p < children.size(); ++p)
      GRAFT_RETURN_IF_ERROR(
          BuildParam(children[p], op, list_param, static_cast<int>(p), rw, s, &args));
    return CreateOpNode(rw, op, static_cast<int>(children.size()), args);
  }
  void Describe(std::string* out) const {
    absl::StrAppend(out, OpDisplayName(op), "(");
    for (size_t i = 0; i < children.size(); ++i) {
      if (i) out->append(", ");
      children[i].Describe(out);
    }
    out->append(")");
  }
  int OpCount() const {
    int n = 1;
    for (const DynP& c : children) n += c.OpCount();
    return n;
  }
  bool RootOps(std::vector<const OpDef*>* ops) const {
    ops->push_back(op);
    return true;
  }
};

// A list pattern with elements known at run time (`[x, y]` in rule files).
struct DynListP : PatternTag {
  std::vector<DynP> elems;

  bool MatchList(absl::Span<const Arg> run, MatchState& s) const {
    if (run.size() != elems.size())
      return s.Fail([&] {
        return absl::StrCat("expected a list of ", elems.size(), ", got ", run.size(),
                            run.size() == 1 ? " tensor" : " tensors");
      });
    for (size_t i = 0; i < elems.size(); ++i) {
      s.Enter(static_cast<int>(i));
      bool ok = elems[i].Match(run[i], s);
      s.Leave();
      if (!ok) return false;
    }
    return true;
  }
  absl::Status BuildList(Builder& rw, const MatchState& s, std::vector<Arg>* out) const {
    for (const DynP& e : elems) {
      GRAFT_ASSIGN_OR_RETURN(Arg a, e.Build(rw, s));
      out->push_back(a);
    }
    return absl::OkStatus();
  }
  bool Match(Arg, MatchState& s) const {
    return s.Fail([] { return std::string("a list pattern stands only for a tensor-list parameter"); });
  }
  void Describe(std::string* out) const {
    out->append("[");
    for (size_t i = 0; i < elems.size(); ++i) {
      if (i) out->append(", ");
      elems[i].Describe(out);
    }
    out->append("]");
  }
  int OpCount() const {
    int n = 0;
    for (const DynP& e : elems) n += e.OpCount();
    return n;
  }
  bool RootOps(std::vector<const OpDef*>*) const { return false; }
};

}  // namespace match
}  // namespace graft

#endif  // GRAFT_MATCH_MATCHERS_H_
