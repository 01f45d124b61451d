// Compiles parsed rule files into Rules built from the same matchers as the
// C++ DSL (graft/match/matchers.h), composed at run time through DynP:
// an op call becomes DynOpP, `a | b` AltP, `const W` InputP over VarP,
// `transpose(p)` TransposeP, a literal LitP, `_` AnyP.
//
// Everything that can be wrong is found here, at load time, with
// file:line:column: unknown ops and aliases, wrong arity, a literal where a
// tensor goes (or the reverse), variables unbound on the right-hand side or
// in a constraint, variables whose kinds conflict (`const W` and `input W`)
// or that stand for a tensor in one place and a literal in another, alias
// recursion, duplicate rule or alias names, and replacements that cannot be
// built (alternatives, wildcards).
#ifndef GRAFT_RULES_COMPILER_H_
#define GRAFT_RULES_COMPILER_H_

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graft/ir/limits.h"
#include "graft/ir/op_call.h"
#include "graft/match/matchers.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rule.h"
#include "graft/rewrite/sym_int.h"
#include "graft/rules/ast.h"

namespace graft {
namespace rules {

namespace compiler_internal {

inline absl::Status ErrorAt(const SourcePos& pos, absl::string_view msg) {
  return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(pos.ToString(), ": ", msg)),
                       ErrorKind::kSyntax);
}

inline uint8_t MaskOf(absl::string_view prefix) {
  if (prefix == "const") return match::kAnyConstant;
  if (prefix == "param") return match::kParameters;
  if (prefix == "buffer") return match::kBuffers;
  if (prefix == "input") return match::kUserInputs;
  return 0xff;
}

// What an argument position holds.
enum class Slot { kUnknown, kTensor, kLiteral };

struct VarInfo {
  Var var;
  uint8_t mask = 0xff;
  SourcePos first;
  Slot slot = Slot::kUnknown;
  SourcePos slot_pos;
};

class RuleCompiler {
 public:
  RuleCompiler(const std::map<std::string, const AliasDef*>& aliases) : aliases_(aliases) {}

  absl::StatusOr<std::unique_ptr<Rule>> Compile(const RuleDef& def) {
    GRAFT_ASSIGN_OR_RETURN(PatPtr lhs, ExpandAliases(def.lhs));
    GRAFT_ASSIGN_OR_RETURN(PatPtr rhs, ExpandAliases(def.rhs));
    if (lhs->kind != PatNode::kCall && lhs->kind != PatNode::kAlt)
      return ErrorAt(def.lhs->pos, "a rule's pattern must be rooted at an op, e.g. mm(x, y)");
    GRAFT_RETURN_IF_ERROR(CollectVars(*lhs, Slot::kTensor, /*lhs=*/true));
    GRAFT_ASSIGN_OR_RETURN(std::set<std::string> bound, Bound(*lhs));
    GRAFT_RETURN_IF_ERROR(CheckRhs(*rhs, bound));
    GRAFT_RETURN_IF_ERROR(CollectVars(*rhs, Slot::kTensor, /*lhs=*/false));
    GRAFT_ASSIGN_OR_RETURN(match::DynP pattern, Build(*lhs));
    GRAFT_ASSIGN_OR_RETURN(match::DynP replacement, Build(*rhs));
    RuleBuilder rule =
        graft::rule(def.name, std::move(pattern), std::move(replacement)).Origin(def.pos.ToString());
    if (def.benefit) rule.Benefit(*def.benefit);
    if (def.allow_duplicate) rule.AllowDuplication();
    if (def.for_any_types) rule.ForAnyTypes();
    for (const Constraint& c : def.constraints) {
      GRAFT_ASSIGN_OR_RETURN(Rule::Predicate holds, CompileConstraint(c, bound));
      std::vector<Fact> reads;
      if (c.lhs) AddReads(*c.lhs, reads);
      if (c.rhs) AddReads(*c.rhs, reads);
      rule.Where(c.text, std::move(reads), std::move(holds));
    }
    return std::unique_ptr<Rule>(std::move(rule));
  }

  // `pattern` with every alias substituted: the tree the compiled matcher
  // matches, for tools that walk a rule's pattern (graft-opt --prove).
  absl::StatusOr<PatPtr> ExpandedPattern(const PatPtr& pattern) { return ExpandAliases(pattern); }

 private:
  // An expanded pattern with its tree size and depth. Expansion shares a
  // parameter's pattern between its uses, but every later pass (and the
  // matcher) walks the tree, so a shared node counts at each use.
  struct Expanded {
    PatPtr node;
    int64_t size = 1;
    int depth = 1;
  };
  using Env = std::map<std::string, Expanded>;

  // Substitutes aliases (and alias parameters) until only ops, the builtin
  // transpose, variables, literals and alternatives remain. Aliases that use
  // a parameter or another alias twice grow 2^n with n lines, and nested
  // aliases recurse here, so the work, the result's size and its depth are
  // bounded (kMaxExpandedPatternNodes, kMaxRuleNestingDepth); both sides of
  // a rule share the node budget.
  absl::StatusOr<PatPtr> ExpandAliases(const PatPtr& n) {
    stack_.clear();
    outer_use_ = nullptr;
    GRAFT_ASSIGN_OR_RETURN(Expanded e, Expand(n, {}, 1));
    return e.node;
  }

  // The error for a pattern that expands past a limit, at the alias use in
  // the rule that started the expansion (the line the user wrote).
  absl::Status TooLarge(const PatPtr& at, absl::string_view what) const {
    const PatNode& use = outer_use_ ? *outer_use_ : *at;
    return WithErrorKind(
        ErrorAt(use.pos, outer_use_ ? absl::StrCat("alias '", use.name, "' expands to ", what)
                                    : absl::StrCat("the pattern has ", what)),
        ErrorKind::kLimitExceeded);
  }
  absl::Status TooManyNodes(const PatPtr& at) const {
    return TooLarge(at, absl::StrCat("more than kMaxExpandedPatternNodes (",
                                     kMaxExpandedPatternNodes,
                                     ") pattern nodes in this rule; an alias that uses a "
                                     "parameter or another alias twice doubles at each level"));
  }
  absl::Status CheckExpanded(const PatPtr& at, const Expanded& e) const {
    if (e.size > kMaxExpandedPatternNodes) return TooManyNodes(at);
    if (e.depth > kMaxRuleNestingDepth)
      return TooLarge(at, absl::StrCat("a pattern nested deeper than kMaxRuleNestingDepth (",
                                       kMaxRuleNestingDepth, " levels)"));
    return absl::OkStatus();
  }

  // `level` counts this recursion (alias bodies within alias bodies).
  absl::StatusOr<Expanded> Expand(const PatPtr& n, const Env& env, int level) {
    if (level > kMaxRuleNestingDepth)
      return TooLarge(n, absl::StrCat("aliases nested deeper than kMaxRuleNestingDepth (",
                                      kMaxRuleNestingDepth, " levels)"));
    // Counts the work too: an alias may drop its parameter, so the result
    // stays small while expanding it doubles per level.
    if (++work_ > kMaxExpandedPatternNodes) return TooManyNodes(n);
    if (n->kind == PatNode::kVar && n->kind_prefix.empty()) {
      auto it = env.find(n->name);
      if (it != env.end()) return it->second;
      return Expanded{n};
    }
    if (n->kind == PatNode::kVar) {
      auto it = env.find(n->name);
      if (it != env.end()) {
        if (it->second.node->kind != PatNode::kVar)
          return ErrorAt(n->pos, absl::StrCat("'", n->kind_prefix, " ", n->name,
                                              "' needs a variable, but the alias was given a pattern"));
        auto copy = std::make_shared<PatNode>(*it->second.node);
        copy->kind_prefix = n->kind_prefix;
        return Expanded{PatPtr(copy)};
      }
      return Expanded{n};
    }
    if (n->kind != PatNode::kCall && n->kind != PatNode::kAlt && n->kind != PatNode::kList)
      return Expanded{n};
    auto out = std::make_shared<PatNode>(*n);
    out->children.clear();
    Expanded result{out};
    std::vector<Expanded> args;
    for (const PatPtr& c : n->children) {
      GRAFT_ASSIGN_OR_RETURN(Expanded e, Expand(c, env, level + 1));
      out->children.push_back(e.node);
      result.size += e.size;
      result.depth = std::max(result.depth, e.depth + 1);
      GRAFT_RETURN_IF_ERROR(CheckExpanded(n, result));
      args.push_back(std::move(e));
    }
    if (n->kind != PatNode::kCall) return result;
    auto alias = aliases_.find(n->name);
    if (alias == aliases_.end()) return result;
    const AliasDef& a = *alias->second;
    for (const std::string& s : stack_) {
      if (s == a.name)
        return ErrorAt(n->pos, absl::StrCat("alias recursion: ", absl::StrJoin(stack_, " -> "),
                                            " -> ", a.name));
    }
    if (args.size() != a.params.size())
      return ErrorAt(n->pos, absl::StrCat("alias '", a.name, "' takes ", a.params.size(),
                                          " argument(s), got ", args.size()));
    Env inner;
    for (size_t i = 0; i < a.params.size(); ++i) inner[a.params[i]] = std::move(args[i]);
    bool outermost = stack_.empty();
    if (outermost) outer_use_ = n.get();
    stack_.push_back(a.name);
    GRAFT_ASSIGN_OR_RETURN(Expanded body, Expand(a.body, inner, level + 1));
    stack_.pop_back();
    GRAFT_RETURN_IF_ERROR(CheckExpanded(n, body));
    if (outermost) outer_use_ = nullptr;
    return body;
  }

  // Records every variable with its kind prefix and slot, checking conflicts.
  absl::Status CollectVars(const PatNode& n, Slot slot, bool lhs) {
    switch (n.kind) {
      case PatNode::kVar: {
        auto [it, fresh] = vars_.try_emplace(n.name, VarInfo{Var(n.name), 0xff, n.pos});
        VarInfo& v = it->second;
        if (!n.kind_prefix.empty()) {
          if (!lhs)
            return ErrorAt(n.pos, absl::StrCat("'", n.kind_prefix,
                                               "' belongs on the pattern side, not in the replacement"));
          uint8_t m = v.mask & MaskOf(n.kind_prefix);
          if (m == 0)
            return ErrorAt(n.pos, absl::StrCat("variable ", n.name, " is bound with conflicting kinds ('",
                                               n.kind_prefix, "' here; see ", v.first.ToString(), ")"));
          v.mask = m;
          if (slot == Slot::kLiteral)
            return ErrorAt(n.pos, absl::StrCat("'", n.kind_prefix, " ", n.name,
                                               "' stands in a literal argument position"));
        }
        if (slot != Slot::kUnknown) {
          if (v.slot != Slot::kUnknown && v.slot != slot)
            return ErrorAt(n.pos, absl::StrCat("variable ", n.name, " is used as a ",
                                               slot == Slot::kTensor ? "tensor" : "literal",
                                               " here but as a ",
                                               v.slot == Slot::kTensor ? "tensor" : "literal",
                                               " at ", v.slot_pos.ToString()));
          v.slot = slot;
          v.slot_pos = n.pos;
        }
        return absl::OkStatus();
      }
      case PatNode::kWildcard:
        return absl::OkStatus();
      case PatNode::kLiteral:
        if (slot == Slot::kTensor)
          return ErrorAt(n.pos, absl::StrCat("literal ", n.literal->ToString(),
                                             " stands where a tensor is expected"));
        return absl::OkStatus();
      case PatNode::kAlt:
        for (const PatPtr& c : n.children) GRAFT_RETURN_IF_ERROR(CollectVars(*c, slot, lhs));
        return absl::OkStatus();
      case PatNode::kList:
        return ErrorAt(n.pos, "a list of patterns stands only for a tensor-list argument (cat([x, y], 0))");
      case PatNode::kCall: {
        if (slot == Slot::kLiteral)
          return ErrorAt(n.pos, absl::StrCat(n.name, "(...) stands where a literal is expected"));
        if (n.name == "transpose") {
          if (n.children.size() != 1)
            return ErrorAt(n.pos, absl::StrCat("transpose takes 1 argument, got ", n.children.size()));
          return CollectVars(*n.children[0], Slot::kTensor, lhs);
        }
        auto op = Ops().Resolve(n.name);
        if (!op.ok())
          return WithErrorKind(ErrorAt(n.pos, op.status().message()), ErrorKind::kUnknownOp);
        // An opaque op has no schema to bound its arity; a node stores 16 bits.
        if (n.children.size() > Node::kMaxArgs)
          return WithErrorKind(
              ErrorAt(n.pos, absl::StrCat(n.name, " has ", n.children.size(),
                                          " arguments; a node holds at most ", Node::kMaxArgs)),
              ErrorKind::kLimitExceeded);
        const OpSchema* schema = (*op)->schema();
        if (schema && schema->mutates)
          return ErrorAt(n.pos, absl::StrCat((*op)->name(),
                                             " writes to its arguments; rules cannot name ops that mutate"));
        if (schema) {
          int k = static_cast<int>(n.children.size());
          int max = static_cast<int>(schema->params.size());
          // A pattern may leave trailing defaults out; a replacement too.
          if (k > max || k < schema->num_required())
            return ErrorAt(n.pos, absl::StrCat("wrong arity: ", n.name, " takes ",
                                               schema->num_required() == max
                                                   ? absl::StrCat(max)
                                                   : absl::StrCat(schema->num_required(), " to ", max),
                                               " argument(s), got ", k));
        }
        // Arity and kinds first: they are the likelier mistake.
        if (!lhs && schema && !schema->shape_fn)
          return ErrorAt(n.pos, absl::StrCat("cannot build ", (*op)->name(),
                                             ": graft has no shape function for it"));
        for (size_t i = 0; i < n.children.size(); ++i) {
          const PatNode& c = *n.children[i];
          Slot child_slot = Slot::kUnknown;
          if (schema && static_cast<int>(i) == schema->list_param) {
            GRAFT_RETURN_IF_ERROR(CollectList(**op, static_cast<int>(i), c, lhs));
            continue;
          }
          if (schema) {
            const Param& p = schema->params[i];
            child_slot = IsTensorParam(p.kind) ? Slot::kTensor : Slot::kLiteral;
            if (c.kind == PatNode::kLiteral && !ArgFits(p, c.literal))
              return ErrorAt(c.pos, absl::StrCat((*op)->name(), " argument ", i, " (", p.name,
                                                 ") expects ", ParamKindName(p.kind), ", got ",
                                                 c.literal->ToString()));
            if (c.kind == PatNode::kLiteral && p.kind == ParamKind::kOptionalTensor)
              child_slot = Slot::kUnknown;  // `None` for an absent bias
          }
          GRAFT_RETURN_IF_ERROR(CollectVars(c, child_slot, lhs));
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  // The argument of tensor-list parameter `i` of `op`: `[x, y]` (tensors,
  // or None too for a Tensor?[]), `[]`, or `_` on a pattern.
  absl::Status CollectList(const OpDef& op, int i, const PatNode& c, bool lhs) {
    const Param& p = op.schema()->params[i];
    if (c.kind == PatNode::kWildcard || IsEmptyList(c)) return absl::OkStatus();
    if (c.kind != PatNode::kList)
      return ErrorAt(c.pos, absl::StrCat(op.name(), " argument ", i, " (", p.name, ") is a ",
                                         ParamKindName(p.kind), ": write a list such as [x, y]",
                                         lhs ? " or _" : ""));
    Slot elem = p.kind == ParamKind::kOptionalTensorList ? Slot::kUnknown : Slot::kTensor;
    for (const PatPtr& e : c.children) {
      if (e->kind == PatNode::kLiteral && !ArgFits(p, e->literal))
        return ErrorAt(e->pos, absl::StrCat(op.name(), " argument ", i, " (", p.name,
                                            ") holds tensors, got ", e->literal->ToString()));
      GRAFT_RETURN_IF_ERROR(CollectVars(*e, elem, lhs));
    }
    return absl::OkStatus();
  }
  // `[]` parses as an empty int list; at a list parameter it is an empty list.
  static bool IsEmptyList(const PatNode& n) {
    return n.kind == PatNode::kLiteral && n.literal->is_ints() && n.literal->as_ints().empty();
  }

  // Variables certainly bound after matching `n` (alternatives bind only
  // what all branches bind).
  absl::StatusOr<std::set<std::string>> Bound(const PatNode& n) {
    std::set<std::string> out;
    if (n.kind == PatNode::kVar) out.insert(n.name);
    if (n.kind == PatNode::kCall || n.kind == PatNode::kList) {
      for (const PatPtr& c : n.children) {
        GRAFT_ASSIGN_OR_RETURN(auto b, Bound(*c));
        out.insert(b.begin(), b.end());
      }
    }
    if (n.kind == PatNode::kAlt) {
      bool first = true;
      for (const PatPtr& c : n.children) {
        GRAFT_ASSIGN_OR_RETURN(auto b, Bound(*c));
        if (first) {
          out = b;
          first = false;
        } else {
          std::set<std::string> both;
          for (const auto& v : out)
            if (b.count(v)) both.insert(v);
          out = both;
        }
      }
    }
    return out;
  }

  absl::Status CheckRhs(const PatNode& n, const std::set<std::string>& bound) {
    switch (n.kind) {
      case PatNode::kVar:
        if (!bound.count(n.name))
          return ErrorAt(n.pos, vars_.count(n.name)
                                    ? absl::StrCat("variable ", n.name,
                                                   " is bound only in some alternatives of the pattern")
                                    : absl::StrCat("variable ", n.name,
                                                   " on the right-hand side is not bound by the pattern"));
        return absl::OkStatus();
      case PatNode::kWildcard:
        return ErrorAt(n.pos, "'_' cannot be built: a replacement needs a value or a literal");
      case PatNode::kAlt:
        return ErrorAt(n.pos, "alternatives ('|') cannot be built: a replacement is one expression");
      case PatNode::kLiteral:
        return absl::OkStatus();
      case PatNode::kCall:
      case PatNode::kList:
        for (const PatPtr& c : n.children) GRAFT_RETURN_IF_ERROR(CheckRhs(*c, bound));
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<match::DynP> Build(const PatNode& n) {
    switch (n.kind) {
      case PatNode::kWildcard:
        return match::DynP(match::AnyP());
      case PatNode::kLiteral:
        return match::DynP(match::LitP(n.literal));
      case PatNode::kVar: {
        const VarInfo& v = vars_.at(n.name);
        match::VarP var(v.var);
        if (n.kind_prefix.empty()) return match::DynP(var);
        uint8_t mask = MaskOf(n.kind_prefix);
        absl::string_view label = n.kind_prefix == "const" ? "parameter, buffer or constant"
                                  : n.kind_prefix == "param" ? "parameter"
                                  : n.kind_prefix == "buffer" ? "buffer"
                                                              : "input";
        return match::DynP(match::InputP<match::VarP>(mask, label, var));
      }
      case PatNode::kAlt: {
        GRAFT_ASSIGN_OR_RETURN(match::DynP acc, Build(*n.children[0]));
        for (size_t i = 1; i < n.children.size(); ++i) {
          GRAFT_ASSIGN_OR_RETURN(match::DynP next, Build(*n.children[i]));
          acc = match::DynP(match::AltP<match::DynP, match::DynP>(std::move(acc), std::move(next)));
        }
        return acc;
      }
      case PatNode::kCall: {
        if (n.name == "transpose" && !aliases_.count("transpose")) {
          GRAFT_ASSIGN_OR_RETURN(match::DynP inner, Build(*n.children[0]));
          return match::DynP(match::TransposeP<match::DynP>(std::move(inner)));
        }
        match::DynOpP op;
        GRAFT_ASSIGN_OR_RETURN(op.op, Ops().Resolve(n.name));
        const OpSchema* schema = op.op->schema();
        for (size_t i = 0; i < n.children.size(); ++i) {
          // `[]` at a list parameter: the empty list, not an int list.
          bool empty_list = schema && static_cast<int>(i) == schema->list_param &&
                            IsEmptyList(*n.children[i]);
          GRAFT_ASSIGN_OR_RETURN(match::DynP child, empty_list ? match::DynP(match::DynListP())
                                                               : Build(*n.children[i]));
          op.children.push_back(std::move(child));
        }
        return match::DynP(std::move(op));
      }
      case PatNode::kList: {
        match::DynListP list;
        for (const PatPtr& c : n.children) {
          GRAFT_ASSIGN_OR_RETURN(match::DynP elem, Build(*c));
          list.elems.push_back(std::move(elem));
        }
        return match::DynP(std::move(list));
      }
    }
    return absl::InternalError("unreachable");
  }

  // ---- Constraints.

  // A where-clause value: an integer (a SymInt, as C++ constraints compute:
  // a number, a symbolic dim, or unknown), a dtype, a tensor's shape or a
  // literal int list; nullopt members mean "not this kind". An int list
  // stays ints: `[-1, 384]` is a view size, not a shape (a negative number
  // is never a Dim).
  struct Val {
    std::optional<SymInt> num;
    std::optional<DType> dtype;
    std::optional<std::vector<Dim>> shape;
    std::optional<std::vector<int64_t>> ints;
    bool unknown = false;  // e.g. the dtype of a tensor whose type does not say it
  };

  // Whether a shape or int list equals another; an int list equals a shape
  // when each int is that static size (a symbol is no number).
  static bool SameShape(const Val& a, const Val& b) {
    if (a.ints && b.ints) return *a.ints == *b.ints;
    if (a.shape && b.shape) return *a.shape == *b.shape;
    const std::vector<Dim>& shape = a.shape ? *a.shape : *b.shape;
    const std::vector<int64_t>& ints = a.ints ? *a.ints : *b.ints;
    if (shape.size() != ints.size()) return false;
    for (size_t i = 0; i < shape.size(); ++i)
      if (!shape[i].is_static() || shape[i].size() != ints[i]) return false;
    return true;
  }
  using Eval = std::function<Val(const MatchState&)>;

  absl::StatusOr<Eval> CompileExpr(const Expr& e, const std::set<std::string>& bound) {
    switch (e.kind) {
      case Expr::kInt: {
        SymInt v(e.value);
        return Eval([v](const MatchState&) { return Val{v}; });
      }
      case Expr::kLiteral: {
        const Literal* l = e.literal;
        if (l->is_dtype())
          return Eval([d = l->as_dtype()](const MatchState&) {
            Val out;
            out.dtype = d;
            return out;
          });
        if (l->is_ints())
          return Eval([l](const MatchState&) {
            Val out;
            out.ints = std::vector<int64_t>(l->as_ints().begin(), l->as_ints().end());
            return out;
          });
        return ErrorAt(e.pos, absl::StrCat("literal ", l->ToString(), " cannot appear in a constraint"));
      }
      case Expr::kVar: {
        // A variable bound to a literal argument: its int, int list or dtype.
        auto it = vars_.find(e.var);
        if (it == vars_.end() || !bound.count(e.var))
          return ErrorAt(e.pos, absl::StrCat("variable ", e.var, " in the constraint is not bound by the pattern"));
        if (it->second.slot != Slot::kLiteral)
          return ErrorAt(e.pos, absl::StrCat(e.var, " stands for a tensor; use rank(", e.var, "), dim(",
                                             e.var, ", i), shape(", e.var, ") or dtype(", e.var, ")"));
        Var var = it->second.var;
        return Eval([var](const MatchState& s) {
          Val out;
          const Literal* l = s.literal(var);
          if (l && l->is_int()) {
            out.num = SymInt(l->as_int());
          } else if (l && l->is_ints()) {
            out.ints = std::vector<int64_t>(l->as_ints().begin(), l->as_ints().end());
          } else if (l && l->is_dtype()) {
            out.dtype = l->as_dtype();
          } else {
            out.unknown = true;
          }
          return out;
        });
      }
      case Expr::kFunc: {
        auto it = vars_.find(e.var);
        if (it == vars_.end() || !bound.count(e.var))
          return ErrorAt(e.pos, absl::StrCat("variable ", e.var, " in the constraint is not bound by the pattern"));
        if (it->second.slot == Slot::kLiteral)
          return ErrorAt(e.pos, absl::StrCat(e.func, "(", e.var, ") needs a tensor, but ", e.var,
                                             " is a literal"));
        Var var = it->second.var;
        // The integer queries are the C++ helpers (rewrite/sym_int.h).
        if (e.func == "rank") return Eval([var](const MatchState& s) { return Val{rank(s, var)}; });
        if (e.func == "numel") return Eval([var](const MatchState& s) { return Val{numel(s, var)}; });
        if (e.func == "dim")
          return Eval([var, i = e.index](const MatchState& s) { return Val{dim(s, var, i)}; });
        bool want_dtype = e.func == "dtype";  // else shape
        return Eval([var, want_dtype](const MatchState& s) {
          Val out;
          TensorType t = s.type(var);
          if (want_dtype) {
            out.dtype = t.dtype();
            out.unknown = !out.dtype;
          } else if (t.known()) {
            out.shape = std::vector<Dim>(t.shape()->begin(), t.shape()->end());
          } else {
            out.unknown = true;  // a shape with an unknown dim equals nothing provably
          }
          return out;
        });
      }
      case Expr::kBinary: {
        GRAFT_ASSIGN_OR_RETURN(Eval l, CompileExpr(*e.lhs, bound));
        GRAFT_ASSIGN_OR_RETURN(Eval r, CompileExpr(*e.rhs, bound));
        char op = e.op;
        return Eval([l, r, op](const MatchState& s) {
          Val a = l(s), b = r(s);
          // Arithmetic on a dtype, shape or list is unknown too.
          if (!a.num || !b.num) return Val{SymInt::Unknown()};
          return Val{Arithmetic(*a.num, op, *b.num)};
        });
      }
    }
    return absl::InternalError("unreachable");
  }

  // The type facts `e` reads (CompileExpr has checked its variables).
  void AddReads(const Expr& e, std::vector<Fact>& reads) const {
    if (e.kind == Expr::kBinary) {
      AddReads(*e.lhs, reads);
      AddReads(*e.rhs, reads);
    } else if (e.kind == Expr::kFunc) {
      const Var& x = vars_.at(e.var).var;
      reads.push_back(e.func == "rank"    ? Fact::RankOf(x)
                      : e.func == "dim"   ? Fact::DimOf(x, e.index)
                      : e.func == "numel" ? Fact::NumelOf(x)
                      : e.func == "dtype" ? Fact::DTypeOf(x)
                                          : Fact::ShapeOf(x));
    }
  }

  // SymInt's arithmetic is checked: a wrapped sum could make a false
  // constraint true (`numel(x) * 2^62 == 0`), and INT64_MIN / -1 traps.
  static SymInt Arithmetic(SymInt a, char op, SymInt b) {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      default:
        return a / b;
    }
  }

  // `a cmp b` on integers, with SymInt's meaning: false when either side is
  // unknown, symbols equal only themselves and have no order.
  static bool Compare(SymInt a, absl::string_view cmp, SymInt b) {
    if (cmp == "==") return a == b;
    if (cmp == "!=") return a != b;
    if (cmp == "<") return a < b;
    if (cmp == "<=") return a <= b;
    if (cmp == ">") return a > b;
    return a >= b;
  }

  absl::StatusOr<Rule::Predicate> CompileConstraint(const Constraint& c,
                                                    const std::set<std::string>& bound) {
    if (c.cmp == "one_use") {
      auto it = vars_.find(c.var);
      if (it == vars_.end() || !bound.count(c.var))
        return ErrorAt(c.pos, absl::StrCat("variable ", c.var, " in the constraint is not bound by the pattern"));
      Var var = it->second.var;
      return Rule::Predicate(
          [var](const MatchState& s) { return s.value(var) && s.value(var)->has_one_use(); });
    }
    GRAFT_ASSIGN_OR_RETURN(Eval l, CompileExpr(*c.lhs, bound));
    GRAFT_ASSIGN_OR_RETURN(Eval r, CompileExpr(*c.rhs, bound));
    std::string cmp = c.cmp;
    bool ordering = cmp != "==" && cmp != "!=";
    bool is_dtype = c.lhs->func == "dtype" || c.rhs->func == "dtype" ||
                    (c.lhs->literal && c.lhs->literal->is_dtype()) ||
                    (c.rhs->literal && c.rhs->literal->is_dtype());
    bool is_shape = c.lhs->func == "shape" || c.rhs->func == "shape" ||
                    (c.lhs->literal && c.lhs->literal->is_ints()) ||
                    (c.rhs->literal && c.rhs->literal->is_ints());
    if ((is_dtype || is_shape) && ordering)
      return ErrorAt(c.pos, absl::StrCat("dtypes and shapes compare only with == and !=, not ", cmp));
    return Rule::Predicate([l, r, cmp](const MatchState& s) {
      Val a = l(s), b = r(s);
      if (a.unknown || b.unknown) return false;  // cannot prove it: do not rewrite
      std::optional<bool> eq;
      if (a.dtype && b.dtype) eq = *a.dtype == *b.dtype;
      if ((a.shape || a.ints) && (b.shape || b.ints)) eq = SameShape(a, b);
      if (eq) return cmp == "==" ? *eq : cmp == "!=" ? !*eq : false;
      if (a.num && b.num) return Compare(*a.num, cmp, *b.num);
      return false;  // mismatched kinds
    });
  }

  const std::map<std::string, const AliasDef*>& aliases_;
  std::map<std::string, VarInfo> vars_;
  // Alias expansion: the aliases being expanded (innermost last), the alias
  // use in the rule that started it, and the nodes visited so far.
  std::vector<std::string> stack_;
  const PatNode* outer_use_ = nullptr;
  int64_t work_ = 0;
};

}  // namespace compiler_internal

// Compiles parsed rule files (in order) into one RuleSet. Aliases are
// shared across the files; names must be unique. All or nothing.
inline absl::StatusOr<RuleSet> Compile(const std::vector<const RuleFile*>& files) {
  std::map<std::string, const AliasDef*> aliases;
  for (const RuleFile* f : files) {
    for (const AliasDef& a : f->aliases) {
      auto [it, fresh] = aliases.emplace(a.name, &a);
      if (!fresh)
        return compiler_internal::ErrorAt(a.pos, absl::StrCat("alias '", a.name, "' is already defined at ",
                                                              it->second->pos.ToString()));
      if (Ops().Resolve(a.name).ok() && a.name != "transpose")
        return compiler_internal::ErrorAt(
            a.pos, absl::StrCat("alias '", a.name, "' would hide the catalogue op of that name"));
    }
  }
  RuleSet set;
  std::map<std::string, SourcePos> seen;
  for (const RuleFile* f : files) {
    for (const RuleDef& def : f->rules) {
      auto [it, fresh] = seen.emplace(def.name, def.pos);
      if (!fresh)
        return compiler_internal::ErrorAt(def.pos, absl::StrCat("rule '", def.name,
                                                                "' is already defined at ",
                                                                it->second.ToString()));
      GRAFT_ASSIGN_OR_RETURN(auto rule, compiler_internal::RuleCompiler(aliases).Compile(def));
      GRAFT_RETURN_IF_ERROR(set.Add(std::move(rule)));
    }
  }
  return set;
}

// The left-hand side of `def` (one of `files`, which compile) with the
// files' aliases substituted, as ExpandedPattern above.
inline absl::StatusOr<PatPtr> ExpandedLhs(const RuleDef& def,
                                         const std::vector<const RuleFile*>& files) {
  std::map<std::string, const AliasDef*> aliases;
  for (const RuleFile* f : files)
    for (const AliasDef& a : f->aliases) aliases.emplace(a.name, &a);
  return compiler_internal::RuleCompiler(aliases).ExpandedPattern(def.lhs);
}

}  // namespace rules
}  // namespace graft

#endif  // GRAFT_RULES_COMPILER_H_
