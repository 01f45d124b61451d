// graft/ir/parser.h (and the lexer under it): what the text means, the exact
// `file:line:col: message` of each error, and no crash on any input.
#include "graft/ir/parser.h"

#include <random>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graft/ir/printer.h"
#include "graft/ir/verifier.h"
#include "graft/ops/catalogue.h"
#include "tests/ir/graph_text.h"

namespace graft {
namespace {

using test_util::ReadFixture;

TensorType F32(std::initializer_list<Dim> shape) { return TensorType::Get(DType::kFloat32, shape); }

// The error message of parsing `text` as t.graft, or "OK".
std::string ErrorOf(absl::string_view text) {
  auto g = ParseGraph(text, Ops(), "t.graft");
  if (g.ok()) return "OK";
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(g.status().message());
}

// A one-node graph around `node` (line 2), input %x: f32[2].
std::string OneNode(absl::string_view node, absl::string_view ret = "%r") {
  return absl::StrCat("graph @g(%x: f32[2]) {\n  ", node, "\n  return ", ret, "\n}\n");
}

TEST(ParserTest, Fixture) {
  auto parsed = ParseGraph(ReadFixture("whisper_logits.graft"), Ops(), "whisper_logits.graft");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Graph& g = **parsed;
  EXPECT_EQ(g.name(), "whisper_logits");
  ASSERT_EQ(g.inputs().size(), 2u);
  const Value* x = g.inputs()[0];
  const Value* w = g.inputs()[1];
  EXPECT_EQ(g.name(x), "x");
  EXPECT_EQ(g.input_kind(x), InputKind::kUserInput);
  EXPECT_EQ(x->type(), F32({1, 128, 384}));
  EXPECT_EQ(g.name(w), "p_token_embedding_weight");
  EXPECT_EQ(g.input_kind(w), InputKind::kParameter);
  EXPECT_TRUE(g.is_constant(w));
  EXPECT_EQ(g.original_name(w), "token_embedding.weight");
  EXPECT_EQ(w->type(), F32({51864, 384}));
  ASSERT_EQ(g.num_nodes(), 4u);
  const Node* permute = g.first_node();
  const Node* view = permute->next();
  const Node* mm = view->next();
  const Node* out = mm->next();
  EXPECT_EQ(permute->op(), ops::permute_copy());
  EXPECT_EQ(permute->operand(0), w);
  EXPECT_EQ(permute->literal(1), Literal::Ints({1, 0}));
  EXPECT_EQ(view->op(), ops::view_copy());
  EXPECT_EQ(view->literal(1), Literal::Ints({128, 384}));
  EXPECT_EQ(mm->op(), ops::mm());
  EXPECT_EQ(mm->operand(0), view->result());
  EXPECT_EQ(mm->operand(1), permute->result());
  EXPECT_EQ(mm->result()->type(), F32({128, 51864}));
  EXPECT_EQ(out->result()->type(), F32({1, 128, 51864}));
  EXPECT_EQ(g.name(out->result()), "logits");
  ASSERT_EQ(g.num_outputs(), 1u);
  EXPECT_EQ(g.output(0), out->result());
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);
}

TEST(ParserTest, CatalogueResultTypesAreInferredWhenLeftOut) {
  auto g = ParseGraph(
      "graph @g(%x: f32[1, 128, 384], parameter %w: f32[51864, 384]) {\n"
      "  %t = aten.permute_copy.default(%w, [1, 0])\n"
      "  %v = view_copy(%x, [-1, 384])\n"
      "  %mm = aten::mm(%v, %t)\n"
      "  %a, %b, %c = native_layer_norm(%mm, [51864], None, None, 1e-5)\n"
      "  return %mm, %b\n"
      "}\n", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  const Node* mm = (*g)->first_node()->next()->next();
  EXPECT_EQ(mm->op(), ops::mm());
  EXPECT_EQ(mm->result()->type(), F32({128, 51864}));
  EXPECT_EQ((*g)->output(1)->type(), F32({128, 1}));
  // The printer always writes canonical names and types.
  EXPECT_THAT(Print(**g), ::testing::HasSubstr(
                              "  %mm = aten::mm.default(%v, %t) : f32[128, 51864]\n"));
}

TEST(ParserTest, SpellingsOfDTypesAndKinds) {
  auto g = ParseGraph(
      "graph @g(input %a: float32[2], parameter %b: torch.bfloat16[s0], buffer %c: long[], "
      "constant %d: half[1] \"c\") {\n"
      "  return %a, %b, %c, %d\n"
      "}\n", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->inputs()[0]->type(), F32({2}));
  EXPECT_EQ((*g)->inputs()[1]->type(), TensorType::Get(DType::kBFloat16, {Dim::Symbol("s0")}));
  EXPECT_EQ((*g)->inputs()[2]->type(), TensorType::Get(DType::kInt64, {}));
  EXPECT_EQ((*g)->input_kind((*g)->inputs()[0]), InputKind::kUserInput);
  EXPECT_EQ((*g)->input_kind((*g)->inputs()[2]), InputKind::kBuffer);
  EXPECT_EQ((*g)->original_name((*g)->inputs()[3]), "c");
}

TEST(ParserTest, LiteralSpellings) {
  auto g = ParseGraph(OneNode(
      "%r = test::lits.default(%x, true, false, 1e-5, 1E+2, -3, [], [-1], -nan, \"a\\tb\\q\")"
      " : f32[2]"), Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  const Node* n = (*g)->first_node();
  EXPECT_EQ(n->literal(1), Literal::Bool(true));
  EXPECT_EQ(n->literal(2), Literal::Bool(false));
  EXPECT_EQ(n->literal(3), Literal::Float(1e-05));
  EXPECT_EQ(n->literal(4), Literal::Float(100.0));
  EXPECT_EQ(n->literal(5), Literal::Int(-3));
  EXPECT_EQ(n->literal(6), Literal::Ints({}));
  EXPECT_EQ(n->literal(7), Literal::Ints({-1}));
  EXPECT_TRUE(std::isnan(n->literal(8)->as_float()));
  EXPECT_TRUE(std::signbit(n->literal(8)->as_float()));
  EXPECT_EQ(n->literal(9), Literal::String("a\tbq"));  // unknown escapes keep the char
}

TEST(ParserTest, CommentsAndWhitespaceAnywhere) {
  auto g = ParseGraph(
      "# leading\n\n"
      "graph @g( # inputs\n"
      "  %x: f32[2] # the input\n"
      ") {\t\n"
      "  %r = aten::relu.default(%x) # no type\n"
      "  return %r # done\n"
      "} # trailing\n", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->num_nodes(), 1u);
}

TEST(ParserTest, ParseTypeAlone) {
  TokenCursor in("f32[s0, 3] ? bf16[]", "types");
  auto a = ParseType(in);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ToString(), "f32[s0, 3]");
  auto b = ParseType(in);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->known());
  auto c = ParseType(in);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "bf16[]");
}

TEST(ParserTest, PartialTypesRoundTrip) {
  for (const char* text : {"?", "f32[*]", "?[2, 3]", "?[]", "f32[?, 384]", "?[?, s0, 4]"}) {
    TokenCursor in(text, "types");
    auto t = ParseType(in);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(t->ToString(), text);
    EXPECT_FALSE(t->known()) << text;
  }
  // `?[*]` says nothing: it is the unknown type, printed `?`.
  TokenCursor in("?[*]", "types");
  EXPECT_EQ(*ParseType(in), TensorType());
}

TEST(ParserTest, PartialOperandsGivePartialResults) {
  auto g = ParseGraph(
      "graph @g(%x: f32[?, 3], %w: ?[3, 4], %y: f32[2, 3]) {\n"
      "  %a = aten::mm.default(%x, %w)\n"
      "  %b = aten::relu.default(%x) : f32[?, 3]\n"
      "  %c = aten::relu.default(%y)\n"
      "  return %a, %b, %c\n}\n",
      Ops(), "t.graft");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(Verify(**g).ok()) << Verify(**g);
  EXPECT_EQ((*g)->output(0)->type(), TensorType());
  EXPECT_EQ((*g)->output(1)->type().ToString(), "f32[?, 3]");  // declared: kept
  EXPECT_EQ((*g)->output(2)->type().ToString(), "f32[2, 3]");
  EXPECT_EQ(Print(**g), Print(**ParseGraph(Print(**g), Ops(), "again")));
}

TEST(ParserErrorTest, PartialTypeSyntax) {
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[*, 2]) {\n  return %x\n}\n"),
            "t.graft:1:19: expected ']' after '*' (an unknown rank has no dims), got ','");
  EXPECT_EQ(ErrorOf("graph @g(%x: ?[) {\n  return %x\n}\n"),
            "t.graft:1:16: expected a dimension (integer, symbol or ?), got ')'");
}

TEST(ParserTest, ParseGraphsReadsZeroOrMore) {
  auto none = ParseGraphs("# nothing here\n", Ops());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto two = ParseGraphs("graph @a() { return }\ngraph @b() { return }\n", Ops());
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1]->name(), "b");
  // One bad graph fails the whole file.
  auto bad = ParseGraphs("graph @a() { return }\ngraph @b() { return\n", Ops(), "f.graft");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "f.graft:3:1: expected '}' to close the graph, got end of input");
}

// ---- Errors: file:line:col and a sentence.

TEST(ParserErrorTest, UnknownDType) {
  EXPECT_EQ(ErrorOf("graph @g(%x: f33[2]) {\n  return %x\n}\n"),
            "t.graft:1:14: unknown dtype 'f33'");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : float31[2]")),
            "t.graft:2:33: unknown dtype 'float31'");
}

TEST(ParserErrorTest, MissingCloseParen) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x : f32[2]")),
            "t.graft:2:30: expected ')' to close the arguments, got ':'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2] {\n  return %x\n}\n"),
            "t.graft:1:21: expected ')' to close the input list, got '{'");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : f32[2] loc(\"a\"")),
            "t.graft:3:3: expected ')', got 'return'");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, [1, 2) : f32[2]")),
            "t.graft:2:25: expected ']' to close the list, got ')'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2) {\n  return %x\n}\n"),
            "t.graft:1:19: expected ']' to close the shape, got ')'");
}

TEST(ParserErrorTest, UndefinedValue) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%y) : f32[2]")),
            "t.graft:2:27: %y is used before it is defined");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : f32[2]", "%q")),
            "t.graft:3:10: %q is used before it is defined");
  // A node cannot use its own result.
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%r) : f32[2]")),
            "t.graft:2:27: %r is used before it is defined");
}

TEST(ParserErrorTest, ValueDefinedTwice) {
  EXPECT_EQ(ErrorOf(OneNode("%x = aten::relu.default(%x) : f32[2]", "%x")),
            "t.graft:2:3: %x is defined twice");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2], %x: f32[2]) {\n  return %x\n}\n"),
            "t.graft:1:22: %x is defined twice");
  EXPECT_EQ(ErrorOf(OneNode("%a, %a = test::two(%x) : f32[2], f32[2]", "%a")),
            "t.graft:2:7: %a is defined twice");
}

TEST(ParserErrorTest, WrongResultTypeVersusShapeFunction) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : f32[3]")),
            "t.graft:2:8: declared result type f32[3] does not match what aten::relu.default "
            "computes: f32[2]");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : f16[2]")),
            "t.graft:2:8: declared result type f16[2] does not match what aten::relu.default "
            "computes: f32[2]");
  EXPECT_EQ(
      ErrorOf(OneNode("%a, %b, %c = aten::native_layer_norm.default(%x, [2], None, None, 1e-05) "
                      ": f32[2], f32[2], f32[1]",
                      "%a")),
      "t.graft:2:16: declared result type f32[2], f32[2], f32[1] does not match what "
      "aten::native_layer_norm.default computes: f32[2], f32[1], f32[1]");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) : f32[2], f32[2]")),
            "t.graft:2:8: declared result type f32[2], f32[2] does not match what "
            "aten::relu.default computes: f32[2]");
}

TEST(ParserErrorTest, ShapeAndSchemaErrorsPointAtTheOp) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::mm(%x, %x)")),
            "t.graft:2:8: mm: self must have rank 2, got f32[2]");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::mm.default(%x)")),
            "t.graft:2:8: aten::mm.default takes 2 arguments, got 1");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::view_copy.default(%x, 2)")),
            "t.graft:2:8: aten::view_copy.default argument 1 (size) expects int[], got 2");
  // An operand of unknown type is no error: the result's type is unknown.
  EXPECT_EQ(ErrorOf("graph @g(%x: ?) {\n  %r = aten::relu.default(%x)\n  return %r\n}\n"), "OK");
  EXPECT_EQ(ErrorOf(OneNode("%a, %b = aten::relu.default(%x)", "%a")),
            "t.graft:2:12: aten::relu.default has 1 results but 2 names");
}

TEST(ParserErrorTest, OpaqueOpWithoutTypes) {
  EXPECT_EQ(ErrorOf(OneNode("%r = foo::bar(%x)")),
            "t.graft:2:8: foo::bar.default is not in the catalogue: give its result types");
  EXPECT_EQ(ErrorOf(OneNode("%r = foo::bar(%x) : f32[2], f32[2]")),
            "t.graft:2:8: foo::bar.default has 2 results but 1 names");
  // No results, no types: fine (an op run for its effect).
  EXPECT_EQ(ErrorOf(OneNode("foo::bar(%x)", "%x")), "OK");
}

TEST(ParserErrorTest, UnknownOp) {
  EXPECT_EQ(ErrorOf(OneNode("%r = frob(%x)")),
            "t.graft:2:8: unknown op 'frob' (not in the catalogue; write a qualified name such "
            "as 'aten::frob.default' for an op outside it)");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::mm.a.b(%x) : f32[2]")),
            "t.graft:2:8: malformed op name 'aten::mm.a.b'");
  EXPECT_EQ(ErrorOf(OneNode("%r = (%x)")),
            "t.graft:2:8: expected an op name such as aten::mm.default, got '('");
}

TEST(ParserErrorTest, UnterminatedString) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::gelu.default(%x, \"tanh) : f32[2]")),
            "t.graft:2:31: unterminated string");
  EXPECT_EQ(ErrorOf("graph @g(parameter %w: f32[2] \"token_embedding.weight"),
            "t.graft:1:31: unterminated string");
  EXPECT_EQ(ErrorOf("graph @g(parameter %w: f32[2] \"ends in a backslash\\"),
            "t.graft:1:31: unterminated string");
}

TEST(ParserErrorTest, UnknownInputKind) {
  EXPECT_EQ(ErrorOf("graph @g(weird %x: f32[2]) {\n  return %x\n}\n"),
            "t.graft:1:10: expected an input kind (input, parameter, buffer, constant) or "
            "%name, got 'weird'");
  EXPECT_EQ(ErrorOf("graph @g(Parameter %x: f32[2]) {\n  return %x\n}\n"),
            "t.graft:1:10: expected an input kind (input, parameter, buffer, constant) or "
            "%name, got 'Parameter'");
  EXPECT_EQ(ErrorOf("graph @g(parameter x: f32[2]) {\n  return %x\n}\n"),
            "t.graft:1:20: expected an input name such as %x, got 'x'");
}

TEST(ParserErrorTest, GarbageCharacters) {
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default(%x) $ : f32[2]")),
            "t.graft:2:31: unexpected character '$'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2]) {\n  return %x;\n}\n"),
            "t.graft:2:12: unexpected character ';'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2]) {\n  ~\n}\n"),
            "t.graft:2:3: unexpected character '~'");
  EXPECT_EQ(ErrorOf("graph @g(% : f32[2]) {\n}\n"),
            "t.graft:1:10: expected a name after '%'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[2]) {\n  return %x\n}\n trailing"),
            "t.graft:4:2: expected end of input after the graph, got 'trailing'");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, 99999999999999999999) : f32[2]")),
            "t.graft:2:20: integer 99999999999999999999 is out of range");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, -9223372036854775809) : f32[2]")),
            "t.graft:2:21: integer 9223372036854775809 is out of range");
  // 2^63 is only an int with its minus sign.
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, 9223372036854775808) : f32[2]")),
            "t.graft:2:20: integer 9223372036854775808 is out of range");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, [1, 9223372036854775808]) : f32[2]")),
            "t.graft:2:24: integer 9223372036854775808 is out of range");
  // SimpleAtod reads an overflowing float as inf; that is an error too.
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, 1e400) : f32[2]")),
            "t.graft:2:20: number 1e400 is out of range of a double (write inf)");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, [1], -2.5e308) : f32[2]")),
            "t.graft:2:26: number 2.5e308 is out of range of a double (write inf)");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, 1e308, -inf, 1e-400) : f32[2]")), "OK");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, -) : f32[2]")),
            "t.graft:2:21: expected a number after '-', got ')'");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, [1, -]) : f32[2]")),
            "t.graft:2:25: expected an integer in the list, got ']'");
  EXPECT_EQ(ErrorOf(OneNode("%r = test::t(%x, maybe) : f32[2]")),
            "t.graft:2:20: expected a literal (number, [list], True/False, None, string or "
            "dtype), got 'maybe'");
  EXPECT_EQ(ErrorOf("graph @g(%x: f32[-1]) {\n  return %x\n}\n"),
            "t.graft:1:18: expected a dimension (integer, symbol or ?), got '-'");
}

TEST(ParserErrorTest, StructuralErrors) {
  EXPECT_EQ(ErrorOf(""), "t.graft:1:1: expected 'graph', got end of input");
  EXPECT_EQ(ErrorOf("graph"), "t.graft:1:6: expected a graph name such as @main, got end of input");
  EXPECT_EQ(ErrorOf("grph @g() {}"), "t.graft:1:1: expected 'graph', got 'grph'");
  EXPECT_EQ(ErrorOf("graph @g() {\n}\n"), "t.graft:2:1: expected a node or 'return', got '}'");
  EXPECT_EQ(ErrorOf("graph @g() {\n  return\n"),
            "t.graft:3:1: expected '}' to close the graph, got end of input");
  EXPECT_EQ(ErrorOf("graph @g() {\n  return 3\n}"),
            "t.graft:2:10: expected '}' to close the graph, got '3'");
  EXPECT_EQ(ErrorOf("graph @g(%x f32[2]) {\n  return %x\n}\n"),
            "t.graft:1:13: expected ':' before the input's type, got 'f32'");
  EXPECT_EQ(ErrorOf(OneNode("%r aten::relu.default(%x)")),
            "t.graft:2:6: expected '=' after the result names, got 'aten::relu.default'");
  EXPECT_EQ(ErrorOf(OneNode("%r = aten::relu.default %x")),
            "t.graft:2:27: expected '(' after the op name, got '%x'");
}

// ---- Never a crash, always file:line:col.

void ExpectCleanError(absl::string_view text) {
  auto g = ParseGraph(text, Ops(), "t.graft");
  if (g.ok()) return;
  static const std::regex kWhere("^t\\.graft:[0-9]+:[0-9]+: .+");
  EXPECT_TRUE(std::regex_search(std::string(g.status().message()), kWhere))
      << g.status() << "\nfor input:\n" << text;
}

TEST(ParserRobustnessTest, EveryPrefixOfTheFixtureIsAnError) {
  std::string text = ReadFixture("whisper_logits.graft");
  size_t end = text.rfind('}') + 1;  // what follows is whitespace
  for (size_t n = 0; n < end; ++n) {
    absl::string_view prefix = absl::string_view(text).substr(0, n);
    auto g = ParseGraph(prefix, Ops(), "t.graft");
    ASSERT_FALSE(g.ok()) << "prefix of " << n << " bytes parsed:\n" << prefix;
    ExpectCleanError(prefix);
  }
  for (size_t n = end; n <= text.size(); ++n) {
    EXPECT_TRUE(ParseGraph(absl::string_view(text).substr(0, n), Ops()).ok()) << n;
  }
}

TEST(ParserRobustnessTest, EveryPrefixOfARicherGraph) {
  const std::string text =
      "graph @g(%x: f32[s0, 4], parameter %w: f32[4] \"w.weight\", constant %c: i64[]) {\n"
      "  %a, %b, %c2 = aten::native_layer_norm.default(%x, [4], %w, None, 1e-05) : "
      "f32[s0, 4], f32[s0, 1], f32[s0, 1] loc(\"m.py:1\")\n"
      "  %o = vendor::op.v1(%a, \"s\\\"\\n\", [-1, 2], -0.5, -inf, nan, True, None, bf16) : ?\n"
      "  %m = aten::mul.Tensor(%b, %c)\n"
      "  return %o, %m\n"
      "}\n";
  ASSERT_TRUE(ParseGraph(text, Ops()).ok()) << ParseGraph(text, Ops()).status();
  for (size_t n = 0; n + 1 < text.size(); ++n) {
    absl::string_view prefix = absl::string_view(text).substr(0, n);
    EXPECT_FALSE(ParseGraph(prefix, Ops(), "t.graft").ok()) << prefix;
    ExpectCleanError(prefix);
  }
}

// Single-byte corruptions of the fixture: any result but a crash, and every
// error carries its position.
TEST(ParserRobustnessTest, CorruptedBytes) {
  std::string text = ReadFixture("whisper_logits.graft");
  const char kBytes[] = "%@()[]{},:=\"\\#-+.0123456789eExf \n\t\xff\x00";
  std::mt19937 rng(20240601);
  for (int i = 0; i < 3000; ++i) {
    std::string t = text;
    size_t pos = rng() % t.size();
    switch (rng() % 3) {
      case 0:
        t[pos] = kBytes[rng() % (sizeof(kBytes) - 1)];
        break;
      case 1:
        t.erase(pos, 1 + rng() % 8);
        break;
      case 2:
        t.insert(pos, 1, kBytes[rng() % (sizeof(kBytes) - 1)]);
        break;
    }
    ExpectCleanError(t);
  }
}

// Shape functions see whatever a file says; bad parameters are errors, not
// arithmetic faults.
TEST(ParserRobustnessTest, HostileShapeArguments) {
  const char* nodes[] = {
      "%r = aten::expand_copy.default(%x, [-5])",
      "%r = aten::expand_copy.default(%x, [-5, -1])",
      "%r = aten::view_copy.default(%x, [9223372036854775807, 9223372036854775807])",
      "%r = aten::native_layer_norm.default(%x, [-2], None, None, 0.1)",
      "%r = aten::permute_copy.default(%x, [-9223372036854775808])",
      "%r = aten::transpose_copy.int(%x, 9223372036854775807, 0)",
      "%r = aten::_softmax.default(%x, -9223372036854775808, False)",
  };
  for (const char* node : nodes) {
    std::string text = OneNode(node);
    auto g = ParseGraph(text, Ops(), "t.graft");
    EXPECT_FALSE(g.ok()) << node;
    ExpectCleanError(text);
  }
  const char* convs[] = {
      "[0], [0], [1], False, [0], 1",   "[1], [0], [0], False, [0], 1",
      "[1], [-3], [1], False, [0], 1",  "[1], [0], [1], True, [1, 2, 3], 1",
      "[], [], [], False, [], 1",       "[1], [0], [1], False, [0], 0",
      "[2], [0], [1], True, [-1], 1",   "[1, 1, 1], [0], [1], False, [0], 1",
  };
  for (const char* params : convs) {
    std::string text = absl::StrCat(
        "graph @g(%x: f32[1, 4, 5], %w: f32[4, 4, 3]) {\n  %r = aten::convolution.default(%x, "
        "%w, None, ",
        params, ")\n  return %r\n}\n");
    auto g = ParseGraph(text, Ops(), "t.graft");
    EXPECT_FALSE(g.ok()) << params;
    ExpectCleanError(text);
  }
  // Shapes whose element count overflows int64.
  std::string big = "graph @g(%x: f32[9223372036854775807, 4]) {\n"
                    "  %r = aten::view_copy.default(%x, [-1])\n  return %r\n}\n";
  EXPECT_FALSE(ParseGraph(big, Ops()).ok());
  ExpectCleanError(big);
}

// Convolution parameters whose size formulas overflow int64: a located
// error naming the quantity. A transposed convolution with a huge `groups`
// used to wrap its channel count negative, a Dim read as a symbol id out of
// bounds (a crash).
TEST(ParserRobustnessTest, ConvolutionOverflowIsALocatedError) {
  auto conv = [](const std::string& x, const std::string& w, const std::string& params) {
    return absl::StrCat("graph @g(%x: ", x, ", %w: ", w,
                        ") {\n  %r = aten::convolution.default(%x, %w, None, ", params,
                        ")\n  return %r\n}\n");
  };
  EXPECT_EQ(ErrorOf(conv("f32[1, 4, 5]", "f32[4, 3, 3]",
                         "[1], [0], [1], True, [], 4611686018427387904")),
            "t.graft:2:8: convolution: the output channel count (weight f32[4, 3, 3] dim 1 x "
            "groups 4611686018427387904) overflows int64");
  EXPECT_EQ(ErrorOf(conv("f32[1, 4, 5]", "f32[4, 4, 3]",
                         "[1], [4611686018427387904], [1], False, [0], 1")),
            "t.graft:2:8: convolution: the output size of spatial dim 0 (input 5, kernel 3, "
            "stride 1, padding 4611686018427387904, dilation 1) overflows int64");
  const char* hostile[] = {
      "[1], [0], [9223372036854775807], False, [0], 1",
      "[9223372036854775807], [9223372036854775807], [1], True, [], 1",
      "[1], [0], [1], True, [], 9223372036854775807",
      "[1], [0], [1], False, [0], 9223372036854775807",
  };
  for (const char* params : hostile) {
    std::string text = conv("f32[1, 4, 5]", "f32[4, 3, 3]", params);
    EXPECT_FALSE(ParseGraph(text, Ops(), "t.graft").ok()) << params;
    ExpectCleanError(text);
  }
}

// A node stores its argument and result counts in 16 bits: a larger count
// used to wrap and misplace the node's argument block (heap corruption).
TEST(ParserRobustnessTest, NodeCountsAreBounded) {
  auto args = [](size_t n) {
    std::string out = "%x";
    for (size_t i = 1; i < n; ++i) out += ", %x";
    return out;
  };
  EXPECT_EQ(ErrorOf(OneNode(absl::StrCat("%r = test::t(", args(65536), ") : f32[2]"))),
            "t.graft:2:8: test::t has 65536 arguments; a node holds at most 65535");
  EXPECT_EQ(ErrorOf(OneNode(absl::StrCat("%r = test::t(", args(65535), ") : f32[2]"))), "OK");
  std::string names = "%r0";
  for (int i = 1; i < 65536; ++i) absl::StrAppend(&names, ", %r", i);
  std::string text = OneNode(absl::StrCat(names, " = test::t(%x) : f32[2]"), "%r0");
  EXPECT_EQ(ErrorOf(text),
            absl::StrCat("t.graft:2:", 3 + names.size() + 3,
                         ": test::t has 65536 results; a node holds at most 65535"));
}

TEST(LexerTest, TokensAndPositions) {
  Lexer lex("graph @g(%x.1: f32) -> == # c\n  aten::mm.default 1.5e-3 \"s\\n\" 42", "f");
  struct Want {
    Token::Kind kind;
    const char* text;
    int line, col;
  };
  const Want want[] = {
      {Token::kIdent, "graph", 1, 1},  {Token::kGraphName, "g", 1, 7},
      {Token::kPunct, "(", 1, 9},      {Token::kValueName, "x.1", 1, 10},
      {Token::kPunct, ":", 1, 14},     {Token::kIdent, "f32", 1, 16},
      {Token::kPunct, ")", 1, 19},     {Token::kPunct, "->", 1, 21},
      {Token::kPunct, "==", 1, 24},    {Token::kIdent, "aten::mm.default", 2, 3},
      {Token::kFloat, "1.5e-3", 2, 20}, {Token::kString, "\"s\\n\"", 2, 27},
      {Token::kInt, "42", 2, 33},      {Token::kEnd, "", 2, 35},
  };
  for (const Want& w : want) {
    Token t = lex.Next();
    EXPECT_EQ(t.kind, w.kind) << w.text;
    EXPECT_EQ(t.text, w.text);
    EXPECT_EQ(t.line, w.line) << w.text;
    EXPECT_EQ(t.col, w.col) << w.text;
  }
  Lexer again("1.5e-3 \"s\\n\" 42", "f");
  EXPECT_EQ(again.Next().float_value, 1.5e-3);
  EXPECT_EQ(again.Next().str, "s\n");
  EXPECT_EQ(again.Next().int_value, 42);
}

TEST(LexerTest, NumbersThatAreNot) {
  Lexer lex("1. 2e 3e+ 4.5", "f");
  Token t = lex.Next();
  EXPECT_EQ(t.kind, Token::kInt);
  EXPECT_EQ(t.int_value, 1);
  EXPECT_EQ(lex.Next().kind, Token::kError);  // '.'
  t = lex.Next();
  EXPECT_EQ(t.kind, Token::kInt);  // "2", then identifier "e"
  EXPECT_EQ(lex.Next().text, "e");
  EXPECT_EQ(lex.Next().kind, Token::kInt);  // "3"
  EXPECT_EQ(lex.Next().text, "e");
  EXPECT_EQ(lex.Next().text, "+");
  t = lex.Next();
  EXPECT_EQ(t.kind, Token::kFloat);
  EXPECT_EQ(t.float_value, 4.5);
}

}  // namespace
}  // namespace graft
