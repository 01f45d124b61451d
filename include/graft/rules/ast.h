// The rule-file language's syntax tree, as the parser (rules/parser.h)
// produces it and the compiler (rules/compiler.h) consumes it. Every node
// keeps the source position it came from, for load-time errors.
#ifndef GRAFT_RULES_AST_H_
#define GRAFT_RULES_AST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graft/ir/literal.h"

namespace graft {
namespace rules {

struct SourcePos {
  std::string file;
  int line = 0, col = 0;
  std::string ToString() const { return absl::StrCat(file, ":", line, ":", col); }
};

// A pattern or replacement expression.
struct PatNode {
  enum Kind { kVar, kWildcard, kLiteral, kCall, kAlt, kList };
  Kind kind = kWildcard;
  SourcePos pos;
  std::string name;            // kVar: variable; kCall: op or alias
  std::string kind_prefix;     // kVar: "const", "param", "buffer", "input" or ""
  const Literal* literal = nullptr;                // kLiteral
  // kCall: arguments; kAlt: branches; kList: the elements of a tensor list
  // (`cat([x, y], 0)`; a list of integers is a kLiteral)
  std::vector<std::shared_ptr<PatNode>> children;
};
using PatPtr = std::shared_ptr<PatNode>;

// An integer-, dim-, dtype- or shape-valued expression in a `where` clause.
struct Expr {
  enum Kind { kInt, kFunc, kBinary, kLiteral, kVar };
  Kind kind = kInt;
  SourcePos pos;
  int64_t value = 0;             // kInt
  std::string func;              // kFunc: rank, dim, numel, dtype, shape
  std::string var;               // kFunc: its variable; kVar: a literal-bound variable
  int64_t index = 0;             // kFunc dim: the dim index
  char op = 0;                   // kBinary: + - * /
  std::unique_ptr<Expr> lhs, rhs;
  const Literal* literal = nullptr;  // kLiteral: a dtype or int list
};

inline std::string ToString(const Expr& e) {
  switch (e.kind) {
    case Expr::kInt:
      return absl::StrCat(e.value);
    case Expr::kLiteral:
      return e.literal->ToString();
    case Expr::kFunc:
      return e.func == "dim" ? absl::StrCat("dim(", e.var, ", ", e.index, ")")
                             : absl::StrCat(e.func, "(", e.var, ")");
    case Expr::kVar:
      return e.var;
    case Expr::kBinary:
      return absl::StrCat("(", ToString(*e.lhs), " ", std::string(1, e.op), " ",
                          ToString(*e.rhs), ")");
  }
  return "?";
}

struct Constraint {
  SourcePos pos;
  std::string text;  // as written, for explanations
  std::string cmp;   // == != < <= > >=, or "one_use"
  std::unique_ptr<Expr> lhs, rhs;
  std::string var;   // one_use
};

struct AliasDef {
  SourcePos pos;
  std::string name;
  std::vector<std::string> params;
  PatPtr body;
};

struct RuleDef {
  SourcePos pos;
  std::string name;
  PatPtr lhs, rhs;
  std::vector<Constraint> constraints;
  std::optional<int> benefit;  // unset: the number of matched ops
  bool allow_duplicate = false;
  bool for_any_types = false;  // `for any types`: see RuleBuilder::ForAnyTypes
};

struct RuleFile {
  std::vector<AliasDef> aliases;
  std::vector<RuleDef> rules;
  std::vector<std::pair<SourcePos, std::string>> includes;
};

}  // namespace rules
}  // namespace graft

#endif  // GRAFT_RULES_AST_H_
