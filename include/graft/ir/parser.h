// Reads the text form written by graft/ir/printer.h:
//
//   file  := graph*
//   graph := 'graph' '@'NAME '(' [input {',' input}] ')' '{' node* 'return' [%v {',' %v}] '}'
//   input := ['input'|'parameter'|'buffer'|'constant'] %NAME ':' type [STRING]
//   node  := [%r {',' %r} '='] OP '(' [arg {',' arg}] ')' [':' type {',' type}] ['loc' '(' STRING ')']
//   arg   := %v | literal
//   type  := (DTYPE | '?') '[' ('*' | [dim {',' dim}]) ']' | '?'
//   dim   := INT | SYMBOL | '?'          ('?': an unknown fact; '*': unknown rank)
//
// Result types may be left out for catalogue ops (they are inferred); when
// given they must equal what the op computes. Every error names
// file:line:column and what was expected, and a file with an error yields
// no graph.
#ifndef GRAFT_IR_PARSER_H_
#define GRAFT_IR_PARSER_H_

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/graph.h"
#include "graft/ir/lexer.h"
#include "graft/ir/literal.h"
#include "graft/ir/op.h"
#include "graft/ir/op_call.h"
#include "graft/ir/status.h"

namespace graft {

namespace parser_internal {

// An integer after a '-' already taken (`neg`) or not. The lexer reads the
// digits alone, and 9223372036854775808 is out of int64's range, yet
// -9223372036854775808 is INT64_MIN, which the printer writes.
inline std::optional<int64_t> TakeInt(TokenCursor& in, bool neg) {
  const Token& t = in.tok();
  if (t.kind == Token::kInt) {
    int64_t v = in.Take().int_value;
    return neg ? -v : v;
  }
  if (neg && t.kind == Token::kError && t.text == "9223372036854775808") {
    in.Take();
    return std::numeric_limits<int64_t>::min();
  }
  return std::nullopt;
}

}  // namespace parser_internal

// Parses a literal argument: `3`, `-1`, `1e-05`, `[1, 0]`, `True`, `None`,
// `"tanh"`, `f32`, `inf`.
inline absl::StatusOr<const Literal*> ParseLiteral(TokenCursor& in) {
  const Token& t = in.tok();
  bool neg = false;
  if (t.is("-")) {
    in.Take();
    neg = true;
  }
  if (auto i = parser_internal::TakeInt(in, neg)) return Literal::Int(*i);
  const Token& u = in.tok();
  if (u.kind == Token::kFloat) {
    double v = in.Take().float_value;
    return Literal::Float(neg ? -v : v);
  }
  if (u.kind == Token::kIdent && (u.text == "inf" || u.text == "nan")) {
    double v = u.text == "inf" ? std::numeric_limits<double>::infinity()
                               : std::numeric_limits<double>::quiet_NaN();
    in.Take();
    return Literal::Float(neg ? -v : v);
  }
  if (neg) return in.Expected("a number after '-'");
  if (u.is("[")) {
    in.Take();
    std::vector<int64_t> items;
    if (!in.Accept("]")) {
      do {
        bool item_neg = in.Accept("-");
        auto v = parser_internal::TakeInt(in, item_neg);
        if (!v) return in.Expected("an integer in the list");
        items.push_back(*v);
      } while (in.Accept(","));
      GRAFT_RETURN_IF_ERROR(in.Expect("]", "to close the list"));
    }
    return Literal::Ints(items);
  }
  if (u.kind == Token::kString) return Literal::String(in.Take().str);
  if (u.kind == Token::kIdent) {
    if (u.text == "True" || u.text == "true") return in.Take(), Literal::Bool(true);
    if (u.text == "False" || u.text == "false") return in.Take(), Literal::Bool(false);
    if (u.text == "None") return in.Take(), Literal::None();
    if (auto d = ParseDType(u.text)) return in.Take(), Literal::OfDType(*d);
  }
  return in.Expected("a literal (number, [list], True/False, None, string or dtype)");
}

// Parses `f32[1, s0, 384]`, or a partial type: `?` for an unknown dtype, dim
// or whole type, `*` for an unknown rank (`f32[?, 384]`, `?[2, 3]`,
// `f32[*]`, `?`).
inline absl::StatusOr<TensorType> ParseType(TokenCursor& in) {
  std::optional<DType> dtype;
  if (in.Accept("?")) {
    if (!in.tok().is("[")) return TensorType();
  } else {
    if (in.tok().kind != Token::kIdent) return in.Expected("a type such as f32[2, 3]");
    Token dt = in.Take();
    dtype = ParseDType(dt.text);
    if (!dtype) return in.ErrorAt(dt, absl::StrCat("unknown dtype '", dt.text, "'"));
  }
  GRAFT_RETURN_IF_ERROR(in.Expect("[", "after the dtype"));
  if (in.Accept("*")) {
    GRAFT_RETURN_IF_ERROR(in.Expect("]", "after '*' (an unknown rank has no dims)"));
    return TensorType::Get(dtype, std::nullopt);
  }
  Shape shape;
  if (!in.Accept("]")) {
    do {
      if (in.tok().kind == Token::kInt) {
        Token size = in.Take();
        absl::StatusOr<Dim> d = Dim::OfSize(size.int_value);
        if (!d.ok()) return in.ErrorAt(size, d.status().message());
        shape.push_back(*d);
      } else if (in.tok().kind == Token::kIdent) {
        shape.push_back(Dim::Symbol(in.Take().text));
      } else if (in.Accept("?")) {
        shape.push_back(Dim::Unknown());
      } else {
        return in.Expected("a dimension (integer, symbol or ?)");
      }
    } while (in.Accept(","));
    GRAFT_RETURN_IF_ERROR(in.Expect("]", "to close the shape"));
  }
  return TensorType::Get(dtype, absl::MakeConstSpan(shape));
}

namespace parser_internal {

class GraphParser {
 public:
  GraphParser(TokenCursor& in, OpRegistry& ops) : in_(in), ops_(ops) {}

  absl::StatusOr<std::unique_ptr<Graph>> Parse() {
    if (!in_.tok().is("graph")) return in_.Expected("'graph'");
    in_.Take();
    if (in_.tok().kind != Token::kGraphName) return in_.Expected("a graph name such as @main");
    g_ = std::make_unique<Graph>(std::string(in_.Take().text));
    GRAFT_RETURN_IF_ERROR(in_.Expect("(", "to open the input list"));
    if (!in_.Accept(")")) {
      do {
        GRAFT_RETURN_IF_ERROR(ParseInput());
      } while (in_.Accept(","));
      GRAFT_RETURN_IF_ERROR(in_.Expect(")", "to close the input list"));
    }
    GRAFT_RETURN_IF_ERROR(in_.Expect("{", "to open the graph body"));
    while (!in_.tok().is("return")) {
      if (in_.tok().kind == Token::kEnd || in_.tok().is("}"))
        return in_.Expected("a node or 'return'");
      GRAFT_RETURN_IF_ERROR(ParseNode());
    }
    in_.Take();
    if (in_.tok().kind == Token::kValueName) {
      do {
        GRAFT_ASSIGN_OR_RETURN(Value * v, UseValue());
        g_->AddOutput(v);
      } while (in_.Accept(","));
    }
    GRAFT_RETURN_IF_ERROR(in_.Expect("}", "to close the graph"));
    return std::move(g_);
  }

 private:
  absl::Status Define(const Token& t, Value* v) {
    if (!values_.try_emplace(t.text, v).second)
      return in_.ErrorAt(t, absl::StrCat("%", t.text, " is defined twice"));
    return absl::OkStatus();
  }

  absl::StatusOr<Value*> UseValue() {
    Token t = in_.Take();
    auto it = values_.find(t.text);
    if (it == values_.end())
      return in_.ErrorAt(t, absl::StrCat("%", t.text, " is used before it is defined"));
    return it->second;
  }

  absl::Status ParseInput() {
    InputKind kind = InputKind::kUserInput;
    if (in_.tok().kind == Token::kIdent) {
      static constexpr InputKind kKinds[] = {InputKind::kUserInput, InputKind::kParameter,
                                             InputKind::kBuffer, InputKind::kConstant};
      bool found = false;
      for (InputKind k : kKinds) {
        if (in_.tok().text == InputKindName(k)) kind = k, found = true;
      }
      if (!found) return in_.Expected("an input kind (input, parameter, buffer, constant) or %name");
      in_.Take();
    }
    if (in_.tok().kind != Token::kValueName) return in_.Expected("an input name such as %x");
    Token name = in_.Take();
    GRAFT_RETURN_IF_ERROR(in_.Expect(":", "before the input's type"));
    GRAFT_ASSIGN_OR_RETURN(TensorType type, ParseType(in_));
    std::string original;
    if (in_.tok().kind == Token::kString) original = in_.Take().str;
    return Define(name, g_->AddInput(type, name.text, kind, original));
  }

  absl::Status ParseNode() {
    std::vector<Token> results;
    if (in_.tok().kind == Token::kValueName) {
      do {
        if (in_.tok().kind != Token::kValueName) return in_.Expected("a result name");
        results.push_back(in_.Take());
      } while (in_.Accept(","));
      GRAFT_RETURN_IF_ERROR(in_.Expect("=", "after the result names"));
    }
    if (in_.tok().kind != Token::kIdent) return in_.Expected("an op name such as aten::mm.default");
    Token op_tok = in_.Take();
    auto op = ops_.Resolve(op_tok.text);
    if (!op.ok())
      return WithErrorKind(in_.ErrorAt(op_tok, op.status().message()), ErrorKind::kUnknownOp);
    GRAFT_RETURN_IF_ERROR(in_.Expect("(", "after the op name"));
    std::vector<Arg> args;
    if (!in_.Accept(")")) {
      do {
        if (in_.tok().kind == Token::kValueName) {
          GRAFT_ASSIGN_OR_RETURN(Value * v, UseValue());
          args.push_back(v);
        } else {
          GRAFT_ASSIGN_OR_RETURN(const Literal* l, ParseLiteral(in_));
          args.push_back(l);
        }
      } while (in_.Accept(","));
      GRAFT_RETURN_IF_ERROR(in_.Expect(")", "to close the arguments"));
    }
    // A node stores its counts in 16 bits.
    if (args.size() > Node::kMaxArgs)
      return WithErrorKind(in_.ErrorAt(op_tok, absl::StrCat(op_tok.text, " has ", args.size(),
                                                            " arguments; a node holds at most ",
                                                            Node::kMaxArgs)),
                           ErrorKind::kLimitExceeded);
    if (results.size() > Node::kMaxResults)
      return WithErrorKind(in_.ErrorAt(op_tok, absl::StrCat(op_tok.text, " has ", results.size(),
                                                            " results; a node holds at most ",
                                                            Node::kMaxResults)),
                           ErrorKind::kLimitExceeded);
    TypeList types;
    bool typed = in_.Accept(":");
    if (typed) {
      do {
        GRAFT_ASSIGN_OR_RETURN(TensorType t, ParseType(in_));
        types.push_back(t);
      } while (in_.Accept(","));
    }
    uint32_t loc = 0;
    if (in_.tok().is("loc")) {
      in_.Take();
      GRAFT_RETURN_IF_ERROR(in_.Expect("("));
      if (in_.tok().kind != Token::kString) return in_.Expected("a location string");
      loc = g_->InternLoc(in_.Take().str);
      GRAFT_RETURN_IF_ERROR(in_.Expect(")"));
    }
    const OpDef* def = *op;
    if (def->schema() && !def->schema()->shape_fn) {
      if (absl::Status s = CheckArgs(def, args); !s.ok()) return in_.ErrorAt(op_tok, s.message());
      if (!typed && !results.empty())
        return in_.ErrorAt(op_tok, absl::StrCat("graft has no shape function for ", def->name(),
                                                ": give its result types"));
    } else if (def->schema()) {
      if (absl::Status s = CheckArgs(def, args); !s.ok()) return in_.ErrorAt(op_tok, s.message());
      auto inferred = InferCheckedTypes(def, args);
      if (!inferred.ok()) return in_.ErrorAt(op_tok, inferred.status().message());
      if (!typed) {
        types = *inferred;
      } else if (!Refines(types, *inferred)) {
        auto join = [](const TypeList& ts) {
          std::string out;
          for (size_t i = 0; i < ts.size(); ++i) absl::StrAppend(&out, i ? ", " : "", ts[i].ToString());
          return out;
        };
        return in_.ErrorAt(op_tok, absl::StrCat("declared result type ", join(types),
                                                " does not match what ", def->name(),
                                                " computes: ", join(*inferred)));
      }
    } else if (!typed && !results.empty()) {
      return in_.ErrorAt(op_tok, absl::StrCat(def->name(),
                                              " is not in the catalogue: give its result types"));
    }
    if (types.size() != results.size())
      return in_.ErrorAt(op_tok, absl::StrCat(def->name(), " has ", types.size(),
                                              " results but ", results.size(), " names"));
    Node* n = g_->CreateNode(def, args, types, nullptr, loc);
    for (size_t i = 0; i < results.size(); ++i) {
      g_->set_name(n->result(static_cast<int>(i)), results[i].text);
      GRAFT_RETURN_IF_ERROR(Define(results[i], n->result(static_cast<int>(i))));
    }
    return absl::OkStatus();
  }

  TokenCursor& in_;
  OpRegistry& ops_;
  std::unique_ptr<Graph> g_;
  absl::flat_hash_map<absl::string_view, Value*> values_;
};

}  // namespace parser_internal

// Parses every graph in `text`, its op names resolved through `ops`
// (graft::Ops() for graft's catalogue).
inline absl::StatusOr<std::vector<std::unique_ptr<Graph>>> ParseGraphs(
    absl::string_view text, OpRegistry& ops, absl::string_view filename = "<input>") {
  TokenCursor in(text, filename);
  std::vector<std::unique_ptr<Graph>> graphs;
  while (in.tok().kind != Token::kEnd) {
    GRAFT_ASSIGN_OR_RETURN(auto g, parser_internal::GraphParser(in, ops).Parse());
    graphs.push_back(std::move(g));
  }
  return graphs;
}

// Parses exactly one graph.
inline absl::StatusOr<std::unique_ptr<Graph>> ParseGraph(absl::string_view text, OpRegistry& ops,
                                                         absl::string_view filename = "<input>") {
  TokenCursor in(text, filename);
  GRAFT_ASSIGN_OR_RETURN(auto g, parser_internal::GraphParser(in, ops).Parse());
  if (in.tok().kind != Token::kEnd) return in.Expected("end of input after the graph");
  return g;
}

// Parses a comma-separated list of tensor types, `i64[1, 128], f32[1, 1500,
// 384]` (how tools take a graph's input types on a command line or in a
// file), with errors located in `where`.
inline absl::StatusOr<std::vector<TensorType>> ParseTypeList(absl::string_view text,
                                                             absl::string_view where = "<types>") {
  TokenCursor in(text, where);
  std::vector<TensorType> types;
  while (in.tok().kind != Token::kEnd) {
    GRAFT_ASSIGN_OR_RETURN(TensorType t, ParseType(in));
    if (!t.known()) return in.Expected("a tensor type such as f32[1, 128]");
    types.push_back(t);
    if (!in.Accept(",")) break;
  }
  if (in.tok().kind != Token::kEnd) return in.Expected("',' or the end of the type list");
  return types;
}

}  // namespace graft

#endif  // GRAFT_IR_PARSER_H_
