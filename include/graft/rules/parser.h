// Parser of the rule-file language (grammar in docs/rules.md):
//
//   alias transpose2(a) = permute_copy(a, [1, 0]) | t_copy(a)
//
//   rule addmm_transposed_weight_to_linear:
//     addmm(b, x, transpose(const W)) -> linear(x, W, b)
//     where rank(b) == 1
//     benefit 3
//
//   rule transpose_transpose: transpose(transpose(x)) -> x
//     for any types
//
// Syntax only: names, arities and kinds are checked by the compiler.
#ifndef GRAFT_RULES_PARSER_H_
#define GRAFT_RULES_PARSER_H_

#include <limits>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/lexer.h"
#include "graft/ir/limits.h"
#include "graft/ir/parser.h"
#include "graft/ir/status.h"
#include "graft/rules/ast.h"

namespace graft {
namespace rules {

namespace parser_internal {

inline bool IsKindPrefix(absl::string_view s) {
  return s == "const" || s == "param" || s == "buffer" || s == "input";
}
inline bool IsTopKeyword(const Token& t) {
  return t.kind == Token::kIdent &&
         (t.text == "rule" || t.text == "alias" || t.text == "include");
}

class RuleParser {
 public:
  RuleParser(absl::string_view text, absl::string_view file, int max_depth)
      : in_(text, file), file_(file), max_depth_(max_depth) {}

  absl::StatusOr<RuleFile> Parse() {
    RuleFile out;
    while (in_.tok().kind != Token::kEnd) {
      const Token& t = in_.tok();
      if (t.is("include")) {
        SourcePos pos = Pos(in_.Take());
        if (in_.tok().kind != Token::kString) return in_.Expected("a file name in quotes");
        out.includes.emplace_back(pos, in_.Take().str);
      } else if (t.is("alias")) {
        GRAFT_ASSIGN_OR_RETURN(AliasDef a, ParseAlias());
        out.aliases.push_back(std::move(a));
      } else if (t.is("rule")) {
        GRAFT_ASSIGN_OR_RETURN(RuleDef r, ParseRule());
        out.rules.push_back(std::move(r));
      } else {
        return in_.Expected("'rule', 'alias' or 'include'");
      }
    }
    return out;
  }

 private:
  SourcePos Pos(const Token& t) const { return {file_, t.line, t.col}; }

  // The parser recurses once per level of nesting, and the compiler and the
  // matchers walk the tree it builds: bounded, so a hostile file gets an
  // error rather than a stack overflow. Enter() counts a level (at the
  // current token) and ~Level gives it back.
  struct Level {
    int* depth;
    ~Level() { --*depth; }
  };
  absl::Status Enter() {
    if (++depth_ <= max_depth_) return absl::OkStatus();
    return WithErrorKind(
        in_.ErrorAt(in_.tok(), absl::StrCat("nested deeper than kMaxRuleNestingDepth (", max_depth_,
                                            " levels of calls, groups or operators)")),
        ErrorKind::kLimitExceeded);
  }

  absl::StatusOr<std::string> Name(absl::string_view what) {
    if (in_.tok().kind != Token::kIdent || in_.tok().text.find_first_of(":.") != absl::string_view::npos)
      return in_.Expected(what);
    return std::string(in_.Take().text);
  }

  absl::StatusOr<AliasDef> ParseAlias() {
    AliasDef a;
    a.pos = Pos(in_.Take());
    GRAFT_ASSIGN_OR_RETURN(a.name, Name("an alias name"));
    GRAFT_RETURN_IF_ERROR(in_.Expect("(", "after the alias name"));
    if (!in_.Accept(")")) {
      do {
        GRAFT_ASSIGN_OR_RETURN(std::string p, Name("a parameter name"));
        a.params.push_back(std::move(p));
      } while (in_.Accept(","));
      GRAFT_RETURN_IF_ERROR(in_.Expect(")", "to close the parameters"));
    }
    GRAFT_RETURN_IF_ERROR(in_.Expect("=", "before the alias body"));
    GRAFT_ASSIGN_OR_RETURN(a.body, ParsePattern());
    return a;
  }

  absl::StatusOr<RuleDef> ParseRule() {
    RuleDef r;
    r.pos = Pos(in_.Take());
    GRAFT_ASSIGN_OR_RETURN(r.name, Name("a rule name"));
    GRAFT_RETURN_IF_ERROR(in_.Expect(":", "after the rule name"));
    GRAFT_ASSIGN_OR_RETURN(r.lhs, ParsePattern());
    GRAFT_RETURN_IF_ERROR(in_.Expect("->", "between the pattern and its replacement"));
    GRAFT_ASSIGN_OR_RETURN(r.rhs, ParsePattern());
    while (in_.tok().kind != Token::kEnd && !IsTopKeyword(in_.tok())) {
      if (in_.Accept("where")) {
        do {
          GRAFT_ASSIGN_OR_RETURN(Constraint c, ParseConstraint());
          r.constraints.push_back(std::move(c));
        } while (in_.Accept(",") || in_.Accept("and"));
      } else if (in_.Accept("benefit")) {
        if (in_.tok().kind != Token::kInt) return in_.Expected("an integer benefit");
        Token b = in_.Take();
        // Stored as an int: a larger number must not wrap to another order.
        if (b.int_value > std::numeric_limits<int>::max())
          return in_.ErrorAt(b, absl::StrCat("benefit ", b.int_value, " is out of range (0 to ",
                                             std::numeric_limits<int>::max(), ")"));
        r.benefit = static_cast<int>(b.int_value);
      } else if (in_.Accept("allow_duplicate")) {
        r.allow_duplicate = true;
      } else if (in_.tok().is("for")) {
        Token clause = in_.Take();
        GRAFT_RETURN_IF_ERROR(in_.Expect("any", "after 'for' (the clause is 'for any types')"));
        GRAFT_RETURN_IF_ERROR(in_.Expect("types", "after 'for any'"));
        if (r.for_any_types) return in_.ErrorAt(clause, "'for any types' is given twice");
        r.for_any_types = true;
      } else {
        return in_.Expected("'where', 'benefit', 'allow_duplicate', 'for any types' or the next rule");
      }
    }
    return r;
  }

  // pattern := term {'|' term}
  absl::StatusOr<PatPtr> ParsePattern() {
    Level level{&depth_};
    GRAFT_RETURN_IF_ERROR(Enter());
    GRAFT_ASSIGN_OR_RETURN(PatPtr first, ParseTerm());
    if (!in_.tok().is("|")) return first;
    auto alt = std::make_shared<PatNode>();
    alt->kind = PatNode::kAlt;
    alt->pos = first->pos;
    alt->children.push_back(std::move(first));
    while (in_.Accept("|")) {
      GRAFT_ASSIGN_OR_RETURN(PatPtr next, ParseTerm());
      alt->children.push_back(std::move(next));
    }
    return alt;
  }

  // term := [kind] NAME | NAME '(' args ')' | '[' patterns ']' | '_' | literal
  absl::StatusOr<PatPtr> ParseTerm() {
    auto n = std::make_shared<PatNode>();
    const Token& t = in_.tok();
    n->pos = Pos(t);
    if (t.kind == Token::kIdent && IsKindPrefix(t.text)) {
      n->kind_prefix = std::string(in_.Take().text);
      if (in_.tok().kind != Token::kIdent)
        return in_.Expected(absl::StrCat("a variable after '", n->kind_prefix, "'"));
      n->kind = PatNode::kVar;
      n->name = std::string(in_.Take().text);
      return n;
    }
    if (t.kind == Token::kIdent && t.text == "_") {
      in_.Take();
      n->kind = PatNode::kWildcard;
      return n;
    }
    if (t.kind == Token::kIdent && !IsLiteralWord(t.text)) {
      n->name = std::string(in_.Take().text);
      if (!in_.Accept("(")) {
        if (n->name.find_first_of(":.") != std::string::npos)
          return in_.ErrorAt(in_.tok(), absl::StrCat("expected '(' after op '", n->name, "'"));
        n->kind = PatNode::kVar;
        return n;
      }
      n->kind = PatNode::kCall;
      if (!in_.Accept(")")) {
        do {
          GRAFT_ASSIGN_OR_RETURN(PatPtr arg, ParsePattern());
          n->children.push_back(std::move(arg));
        } while (in_.Accept(","));
        GRAFT_RETURN_IF_ERROR(in_.Expect(")", "to close the arguments"));
      }
      return n;
    }
    if (t.is("[")) {  // [x, y]: a tensor list; [1, 0]: an int list literal
      in_.Take();
      n->kind = PatNode::kList;
      if (!in_.Accept("]")) {
        do {
          GRAFT_ASSIGN_OR_RETURN(PatPtr elem, ParsePattern());
          n->children.push_back(std::move(elem));
        } while (in_.Accept(","));
        GRAFT_RETURN_IF_ERROR(in_.Expect("]", "to close the list"));
      }
      std::vector<int64_t> ints;
      for (const PatPtr& c : n->children) {
        if (c->kind != PatNode::kLiteral || !c->literal->is_int()) return n;
        ints.push_back(c->literal->as_int());
      }
      n->kind = PatNode::kLiteral;
      n->literal = Literal::Ints(ints);
      n->children.clear();
      return n;
    }
    if (t.is("(")) {  // grouping: (a | b)
      in_.Take();
      GRAFT_ASSIGN_OR_RETURN(PatPtr inner, ParsePattern());
      GRAFT_RETURN_IF_ERROR(in_.Expect(")", "to close the group"));
      return inner;
    }
    auto lit = ParseLiteral(in_);
    if (!lit.ok()) return in_.Expected("a pattern: op(...), a variable, '_' or a literal");
    n->kind = PatNode::kLiteral;
    n->literal = *lit;
    return n;
  }

  static bool IsLiteralWord(absl::string_view s) {
    return s == "True" || s == "False" || s == "None" || s == "true" || s == "false" ||
           s == "inf" || s == "nan" || ParseDType(s).has_value();
  }

  // constraint := 'one_use' '(' NAME ')' | expr CMP expr
  absl::StatusOr<Constraint> ParseConstraint() {
    Constraint c;
    const Token& t = in_.tok();
    c.pos = Pos(t);
    if (t.is("one_use")) {
      in_.Take();
      GRAFT_RETURN_IF_ERROR(in_.Expect("("));
      GRAFT_ASSIGN_OR_RETURN(c.var, Name("a variable"));
      GRAFT_RETURN_IF_ERROR(in_.Expect(")"));
      c.cmp = "one_use";
      c.text = absl::StrCat("one_use(", c.var, ")");
      return c;
    }
    GRAFT_ASSIGN_OR_RETURN(c.lhs, ParseSum());
    static constexpr absl::string_view kCmps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (absl::string_view op : kCmps) {
      if (in_.tok().is(op)) c.cmp = std::string(op);
    }
    if (c.cmp.empty()) return in_.Expected("a comparison (==, !=, <, <=, >, >=)");
    in_.Take();
    GRAFT_ASSIGN_OR_RETURN(c.rhs, ParseSum());
    c.text = absl::StrCat(ToString(*c.lhs), " ", c.cmp, " ", ToString(*c.rhs));
    return c;
  }

  // sum := product {('+'|'-') product}; product := factor {('*'|'/') factor}
  absl::StatusOr<std::unique_ptr<Expr>> ParseSum() { return ParseBinary("+-"); }
  absl::StatusOr<std::unique_ptr<Expr>> ParseBinary(absl::string_view ops) {
    auto operand = [&]() { return ops == "+-" ? ParseBinary("*/") : ParseFactor(); };
    // `a + b + c` builds a left-deep tree: each operator is a level, as a
    // group is.
    int entry_depth = depth_;
    struct Restore {
      int* depth;
      int value;
      ~Restore() { *depth = value; }
    } restore{&depth_, entry_depth};
    GRAFT_ASSIGN_OR_RETURN(auto lhs, operand());
    while (in_.tok().kind == Token::kPunct && in_.tok().text.size() == 1 &&
           ops.find(in_.tok().text[0]) != absl::string_view::npos) {
      GRAFT_RETURN_IF_ERROR(Enter());
      auto e = std::make_unique<Expr>();
      e->kind = Expr::kBinary;
      e->pos = Pos(in_.tok());
      e->op = in_.Take().text[0];
      e->lhs = std::move(lhs);
      GRAFT_ASSIGN_OR_RETURN(e->rhs, operand());
      lhs = std::move(e);
    }
    return lhs;
  }
  // factor := INT | '-' INT | FUNC '(' NAME [',' INT] ')' | DTYPE | '[' ints ']' | '(' sum ')'
  absl::StatusOr<std::unique_ptr<Expr>> ParseFactor() {
    auto e = std::make_unique<Expr>();
    const Token& t = in_.tok();
    e->pos = Pos(t);
    if (t.is("(")) {
      Level level{&depth_};
      GRAFT_RETURN_IF_ERROR(Enter());
      in_.Take();
      GRAFT_ASSIGN_OR_RETURN(e, ParseSum());
      GRAFT_RETURN_IF_ERROR(in_.Expect(")"));
      return e;
    }
    if (t.kind == Token::kInt || t.is("-") || t.is("[") ||
        (t.kind == Token::kIdent && ParseDType(t.text))) {
      GRAFT_ASSIGN_OR_RETURN(const Literal* l, ParseLiteral(in_));
      if (l->is_int()) {
        e->kind = Expr::kInt;
        e->value = l->as_int();
      } else {
        e->kind = Expr::kLiteral;
        e->literal = l;
      }
      return e;
    }
    static constexpr absl::string_view kFuncs[] = {"rank", "dim", "numel", "dtype", "shape"};
    for (absl::string_view f : kFuncs) {
      if (!t.is(f)) continue;
      e->kind = Expr::kFunc;
      e->func = std::string(in_.Take().text);
      GRAFT_RETURN_IF_ERROR(in_.Expect("(", absl::StrCat("after '", f, "'")));
      GRAFT_ASSIGN_OR_RETURN(e->var, Name("a variable"));
      if (e->func == "dim") {
        GRAFT_RETURN_IF_ERROR(in_.Expect(",", "and a dim index in dim(x, i)"));
        bool neg = in_.Accept("-");
        if (in_.tok().kind != Token::kInt) return in_.Expected("a dim index");
        e->index = neg ? -in_.Take().int_value : in_.Take().int_value;
      }
      GRAFT_RETURN_IF_ERROR(in_.Expect(")"));
      return e;
    }
    if (t.kind == Token::kIdent && t.text.find_first_of(":.") == absl::string_view::npos) {
      e->kind = Expr::kVar;
      e->var = std::string(in_.Take().text);
      return e;
    }
    return in_.Expected("rank(x), dim(x, i), numel(x), dtype(x), shape(x), a variable, an integer, a dtype or [list]");
  }

  TokenCursor in_;
  std::string file_;
  int max_depth_;
  int depth_ = 0;
};

}  // namespace parser_internal

// `max_depth` lowers kMaxRuleNestingDepth (tests).
inline absl::StatusOr<RuleFile> ParseRuleFile(absl::string_view text, absl::string_view file,
                                             int max_depth = kMaxRuleNestingDepth) {
  return parser_internal::RuleParser(text, file, max_depth).Parse();
}

}  // namespace rules
}  // namespace graft

#endif  // GRAFT_RULES_PARSER_H_
