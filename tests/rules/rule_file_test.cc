// The rule-file language: what it accepts, and the load-time errors it
// gives (each with file:line:column).
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "graft/driver/driver.h"
#include "graft/ir/limits.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/rules/loader.h"

namespace graft {
namespace {

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

// The error loading `text` gives, or "" when it loads.
std::string LoadError(const std::string& text) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(text, "t.rules");
  return rules.ok() ? "" : std::string(rules.status().message());
}

TEST(RuleFileTest, ParsesRulesAliasesConstraintsAndBenefits) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(R"(
# a comment
alias tr(a) = permute_copy(a, [1, 0]) | t_copy(a)

rule first:
  mm(x, tr(const W)) -> linear(x, W)

rule second:
  addmm(b, x, transpose(param W)) -> linear(x, W, b)
  where rank(b) == 1, dim(b, 0) == dim(W, 0) and dtype(x) == f32
  benefit 7
)",
                                                    "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].Describe(),
            "mm(x, permute_copy(const W, [1, 0]) | t_copy(const W)) -> linear(x, W)");
  EXPECT_EQ((*rules)[0].benefit(), 2);  // mm + one op of either alternative
  EXPECT_EQ((*rules)[0].origin(), "t.rules:5:1");
  EXPECT_EQ((*rules)[1].benefit(), 7);
  EXPECT_EQ((*rules)[1].Describe(),
            "addmm(b, x, transpose(parameter W)) -> linear(x, W, b)");
}

TEST(RuleFileTest, LoadTimeErrorsNameTheirLocation) {
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) => x\n"),
            "t.rules:2:12: expected '->' between the pattern and its replacement, got '='");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) x\n"),
            "t.rules:2:12: expected '->' between the pattern and its replacement, got 'x'");
  EXPECT_EQ(LoadError("rule r:\n  mmm(x, y) -> x\n"),
            "t.rules:2:3: unknown op 'mmm' (not in the catalogue; write a qualified name such as "
            "'aten::mmm.default' for an op outside it)");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y, z) -> x\n"),
            "t.rules:2:3: wrong arity: mm takes 2 argument(s), got 3");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> linear(x, z)\n"),
            "t.rules:2:25: variable z on the right-hand side is not bound by the pattern");
  EXPECT_EQ(LoadError("rule r:\n  mm(const x, input x) -> x\n"),
            "t.rules:2:15: variable x is bound with conflicting kinds ('input' here; see t.rules:2:6)");
  EXPECT_EQ(LoadError("alias a(x) = b(x)\nalias b(x) = a(x)\nrule r:\n  mm(a(x), y) -> y\n"),
            "t.rules:2:14: alias recursion: a -> b -> a");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> x\nrule r:\n  mm(x, y) -> y\n"),
            "t.rules:3:1: rule 'r' is already defined at t.rules:1:1");
  EXPECT_EQ(LoadError("rule r:\n  permute_copy(x, 0) -> x\n"),
            "t.rules:2:19: aten::permute_copy.default argument 1 (dims) expects int[], got 0");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, [1, 0]) -> x\n"),
            "t.rules:2:9: aten::mm.default argument 1 (mat2) expects Tensor, got [1, 0]");
  EXPECT_EQ(LoadError("rule r:\n  relu([1, 0]) -> relu([1, 0])\n"),
            "t.rules:2:8: aten::relu.default argument 0 (self) expects Tensor, got [1, 0]");
  EXPECT_EQ(LoadError("rule r:\n  view_copy(x, s) -> view_copy(s, x)\n"),
            "t.rules:2:32: variable s is used as a tensor here but as a literal at t.rules:2:16");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> mm(x, y) | mm(y, x)\n"),
            "t.rules:2:15: alternatives ('|') cannot be built: a replacement is one expression");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> mm(x, _)\n"),
            "t.rules:2:21: '_' cannot be built: a replacement needs a value or a literal");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) | gelu(y) -> x\n"),
            "t.rules:2:24: variable x is bound only in some alternatives of the pattern");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> x\n  where rank(z) == 2\n"),
            "t.rules:3:9: variable z in the constraint is not bound by the pattern");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> x\n  where dtype(x) < f32\n"),
            "t.rules:3:9: dtypes and shapes compare only with == and !=, not <");
  EXPECT_EQ(LoadError("rule r:\n  x -> x\n"),
            "t.rules:2:3: a rule's pattern must be rooted at an op, e.g. mm(x, y)");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, y) -> linear(const x, y)\n"),
            "t.rules:2:22: 'const' belongs on the pattern side, not in the replacement");
  EXPECT_EQ(LoadError("rule r:\n  mm(x, \"unterminated) -> x\n"),
            "t.rules:2:9: unterminated string");
  EXPECT_EQ(LoadError("alias mm(a) = relu(a)\n"),
            "t.rules:1:1: alias 'mm' would hide the catalogue op of that name");
  EXPECT_EQ(LoadError("rules r:\n"), "t.rules:1:1: expected 'rule', 'alias' or 'include', got 'rules'");
}

TEST(RuleFileTest, AFileWithAnErrorLoadsNothing) {
  // The first rule is fine, the second is not: no rule set at all.
  absl::StatusOr<RuleSet> rules =
      rules::ParseRules("rule ok:\n  mm(x, y) -> x\nrule bad:\n  mm(x) -> x\n", "t.rules");
  EXPECT_FALSE(rules.ok());
}

TEST(RuleFileTest, QualifiedOpNamesAndOpaqueOps) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(R"(
rule drop_custom:
  aten::relu.default(my_ns::identity.default(x)) -> aten::relu.default(x)
)",
                                                    "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto g = ParseGraph(R"(graph @g(%x: f32[3]) {
  %i = my_ns::identity.default(%x) : f32[3]
  %y = aten::relu.default(%i)
  return %y
})", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  auto result = ApplyRules(**g, *rules);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->rewrites, 1);
  // Matched nodes are consumed by the rewrite, opaque ones too.
  EXPECT_EQ(Print(**g, {true}),
            "graph @g(\n    %x: f32[3]) {\n  %0 = aten::relu.default(%x) : f32[3]\n  return %0\n}\n");
}

TEST(RuleFileTest, ConstraintsDecideWhetherARuleApplies) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(R"(
rule wide_relu_only:
  relu(x) -> gelu(x)
  where dim(x, -1) * 2 >= 16, numel(x) != 7, shape(x) != [8, 8]
)",
                                                    "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto run = [&](const std::string& shape) {
    auto g = ParseGraph("graph @g(%x: f32" + shape + ") {\n  %y = aten::relu.default(%x)\n  return %y\n}", Ops());
    EXPECT_TRUE(g.ok()) << g.status();
    return ApplyRules(**g, *rules)->rewrites;
  };
  EXPECT_EQ(run("[2, 8]"), 1);
  EXPECT_EQ(run("[2, 7]"), 0);   // 14 < 16
  EXPECT_EQ(run("[8, 8]"), 0);   // excluded shape
  EXPECT_EQ(run("[1, s0]"), 0);  // symbolic: cannot prove, so no rewrite
}

// How many times `constraint` lets relu(x) -> gelu(x) fire on one relu of
// an input typed `type`.
int64_t RewritesWhere(const std::string& constraint, const std::string& type) {
  absl::StatusOr<RuleSet> rules =
      rules::ParseRules("rule r:\n  relu(x) -> gelu(x)\n  where " + constraint + "\n", "t.rules");
  EXPECT_TRUE(rules.ok()) << rules.status();
  if (!rules.ok()) return -1;
  auto g = ParseGraph("graph @g(%x: " + type + ") {\n  %y = aten::relu.default(%x)\n  return %y\n}", Ops());
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return -1;
  auto result = ApplyRules(**g, *rules);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->rewrites : -1;
}

// `for any types`: the clause, its errors, and what it changes.
TEST(RuleFileTest, ForAnyTypesClause) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(
      "rule any:\n  relu(x) -> gelu(x)\n  for any types\nrule typed:\n  relu(x) -> gelu(x)\n",
      "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_TRUE(rules->Find("any")->for_any_types());
  EXPECT_FALSE(rules->Find("typed")->for_any_types());
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  for all types\n"),
            "t.rules:3:7: expected 'any' after 'for' (the clause is 'for any types'), got 'all'");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  for any\n"),
            "t.rules:4:1: expected 'types' after 'for any', got end of input");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  for any types for any types\n"),
            "t.rules:3:17: 'for any types' is given twice");
}

// On a partial type a constraint holds only when the facts it reads are
// known (the rules hold for any types, so the type check does not decide).
TEST(RuleFileTest, ConstraintsOnPartialTypesNeedTheFactsTheyRead) {
  auto fires = [](const std::string& constraint, const std::string& type) {
    return RewritesWhere(constraint + "\n  for any types", type);
  };
  EXPECT_EQ(fires("rank(x) == 2", "?[?, 3]"), 1);
  EXPECT_EQ(fires("rank(x) == 2", "f32[*]"), 0);
  EXPECT_EQ(fires("dim(x, 1) == 3", "f32[?, 3]"), 1);
  EXPECT_EQ(fires("dim(x, 0) == 3", "f32[?, 3]"), 0);
  EXPECT_EQ(fires("dim(x, 0) != 3", "f32[?, 3]"), 0);
  EXPECT_EQ(fires("dtype(x) == f32", "f32[*]"), 1);
  EXPECT_EQ(fires("dtype(x) == f32", "?[2]"), 0);
  EXPECT_EQ(fires("dtype(x) != f32", "?[2]"), 0);
  EXPECT_EQ(fires("shape(x) == [2, 3]", "f32[2, 3]"), 1);
  EXPECT_EQ(fires("shape(x) != [2, 4]", "f32[2, ?]"), 0);
  EXPECT_EQ(fires("numel(x) > 0", "f32[2, ?]"), 0);
}

// --explain and the refusal say which fact was unknown.
TEST(RuleFileTest, AFailedConstraintNamesTheUnknownFact) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(
      "rule r:\n  add(x, b) -> x\n  where dim(x, 0) == 2, rank(b) == 1, dtype(x) == f32\n",
      "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto reason = [&](const std::string& tx, const std::string& tb) {
    auto g = ParseGraph("graph @g(%x: " + tx + ", %bias: " + tb +
                            ") {\n  %y = aten::add.Tensor(%x, %bias)\n  return %y\n}",
                        Ops());
    EXPECT_TRUE(g.ok()) << g.status();
    std::vector<ExplainLine> lines = Explain(**g, (*rules)[0]);
    EXPECT_EQ(lines.size(), 1u);
    return lines.empty() ? "" : lines[0].reason;
  };
  EXPECT_EQ(reason("f32[*]", "f32[3]"),
            "matches, but constraint 'dim(x, 0) == 2' fails: the rank of %x is unknown");
  EXPECT_EQ(reason("f32[?, 3]", "f32[3]"),
            "matches, but constraint 'dim(x, 0) == 2' fails: dim 0 of %x is unknown");
  EXPECT_EQ(reason("f32[2, 3]", "?"),
            "matches, but constraint 'rank(b) == 1' fails: the rank of %bias is unknown");
  EXPECT_EQ(reason("?[2, 3]", "f32[3]"),
            "matches, but constraint 'dtype(x) == f32' fails: the dtype of %x is unknown");
  // A fact that is known and false is no unknown fact.
  EXPECT_EQ(reason("f32[5, 3]", "f32[3]"), "matches, but constraint 'dim(x, 0) == 2' fails");
}

// Constraint arithmetic is checked: overflow and division by zero are
// unknown, so the constraint is false and the rule does not fire. `+ - *`
// used to wrap (making these true) and INT64_MIN / -1 raised SIGFPE.
TEST(RuleFileTest, ConstraintOverflowIsUnknownAndDoesNotFire) {
  // The same shapes of constraint, in range, do fire.
  EXPECT_EQ(RewritesWhere("numel(x) * 4 == 16", "f32[4]"), 1);
  EXPECT_EQ(RewritesWhere("dim(x, 0) + 9223372036854775803 > 0", "f32[4]"), 1);
  EXPECT_EQ(RewritesWhere("(0 - 9223372036854775807 - 1) / 1 < 0", "f32[4]"), 1);
  // 4 * 2^62 wraps to 0.
  EXPECT_EQ(RewritesWhere("numel(x) * 4611686018427387904 == 0", "f32[4]"), 0);
  EXPECT_EQ(RewritesWhere("numel(x) * 4611686018427387904 != 1", "f32[4]"), 0);
  // INT64_MAX + 4 wraps negative; INT64_MIN - 2 wraps positive.
  EXPECT_EQ(RewritesWhere("dim(x, 0) + 9223372036854775807 < 0", "f32[4]"), 0);
  EXPECT_EQ(RewritesWhere("0 - 9223372036854775807 - 3 > 0", "f32[4]"), 0);
  EXPECT_EQ(RewritesWhere("-9223372036854775808 - rank(x) > 0", "f32[4]"), 0);
  // INT64_MIN / -1 traps on x86; x / 0 is undefined.
  EXPECT_EQ(RewritesWhere("-9223372036854775808 / -1 != 0", "f32[4]"), 0);
  EXPECT_EQ(RewritesWhere("(0 - 9223372036854775807 - rank(x)) / (0 - rank(x)) != 0", "f32[4]"),
            0);
  EXPECT_EQ(RewritesWhere("numel(x) / (rank(x) - 1) == 0", "f32[4]"), 0);
  // numel() of a shape whose element count overflows int64 is unknown.
  EXPECT_EQ(RewritesWhere("numel(x) > 0", "f32[4611686018427387904, 4]"), 0);
  EXPECT_EQ(RewritesWhere("numel(x) != 0", "f32[4611686018427387904, 4]"), 0);
  EXPECT_EQ(RewritesWhere("numel(x) > 0", "f32[4611686018427387904, 1]"), 1);
}

// A negative number in a constraint used to become a Dim, that is a symbol
// id: `dim(x, 0) == -N` and `shape(x) == [-N]` held for the symbol whose id
// is N - 1.
TEST(RuleFileTest, NegativeNumbersInConstraintsAreNotSymbols) {
  Dim sym = Dim::Symbol("rule_file_test_sym");
  std::string n = absl::StrCat(sym.raw());  // the symbol's encoding
  ASSERT_EQ(n[0], '-');
  std::string type = "f32[rule_file_test_sym]";
  EXPECT_EQ(RewritesWhere("dim(x, 0) == " + n, type), 0);
  EXPECT_EQ(RewritesWhere("dim(x, 0) != " + n, type), 1);  // a symbol is no number
  EXPECT_EQ(RewritesWhere("shape(x) == [" + n + "]", type), 0);
  EXPECT_EQ(RewritesWhere("shape(x) != [" + n + "]", type), 1);
  EXPECT_EQ(RewritesWhere("dim(x, 0) == dim(x, -1)", type), 1);
  EXPECT_EQ(RewritesWhere("shape(x) == shape(x)", type), 1);
  // Lists with negative entries still compare as lists, and with shapes.
  EXPECT_EQ(RewritesWhere("[-1, 4] == [-1, 4]", type), 1);
  EXPECT_EQ(RewritesWhere("[-1, 4] != [-2, 4]", type), 1);
  EXPECT_EQ(RewritesWhere("shape(x) == [2, 3]", "f32[2, 3]"), 1);
  EXPECT_EQ(RewritesWhere("shape(x) == [2, -1]", "f32[2, 3]"), 0);
  EXPECT_EQ(RewritesWhere("shape(x) != [2, -1]", "f32[2, 3]"), 1);
}

// Numbers bound from the graph (an int argument, an int list) are numbers
// too, not symbols.
TEST(RuleFileTest, BoundNegativeNumbersAreNotSymbols) {
  Dim sym = Dim::Symbol("rule_file_test_sym2");
  std::string n = absl::StrCat(sym.raw());
  auto run = [&](const std::string& rule, const std::string& graph) {
    absl::StatusOr<RuleSet> rules = rules::ParseRules(rule, "t.rules");
    EXPECT_TRUE(rules.ok()) << rules.status();
    auto g = ParseGraph(graph, Ops());
    EXPECT_TRUE(g.ok()) << g.status();
    if (!rules.ok() || !g.ok()) return int64_t{-1};
    auto result = ApplyRules(**g, *rules);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->rewrites : int64_t{-1};
  };
  // embedding's padding_idx is any int.
  std::string embedding =
      "rule r:\n  embedding(w, i, p) -> embedding(w, i, 0)\n  where dim(w, 0) == p\n";
  EXPECT_EQ(run(embedding, "graph @g(%w: f32[rule_file_test_sym2, 4], %i: i64[3]) {\n"
                           "  %y = aten::embedding.default(%w, %i, " + n + ")\n  return %y\n}"),
            0);
  EXPECT_EQ(run(embedding, "graph @g(%w: f32[5, 4], %i: i64[3]) {\n"
                           "  %y = aten::embedding.default(%w, %i, 5)\n  return %y\n}"),
            1);
  // A non-transposed convolution's output_padding is any int list.
  std::string conv =
      "rule r:\n  convolution(x, w, b, s, p, d, t, o, g) -> convolution(x, w, b, s, p, d, t, [0], "
      "g)\n  where o == shape(b)\n";
  auto conv_graph = [](const std::string& bias, const std::string& out_pad) {
    return "graph @g(%x: f32[1, 4, 5], %w: f32[4, 4, 3], %b: f32[" + bias +
           "]) {\n  %y = aten::convolution.default(%x, %w, %b, [1], [0], [1], False, [" +
           out_pad + "], 1)\n  return %y\n}";
  };
  EXPECT_EQ(run(conv, conv_graph("rule_file_test_sym2", n)), 0);
  EXPECT_EQ(run(conv, conv_graph("4", "4")), 1);
}

// Integer literals out of range, and numbers that do not fit where they go,
// are located errors.
TEST(RuleFileTest, OutOfRangeIntegersAreLocatedErrors) {
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  where numel(x) == 99999999999999999999\n"),
            "t.rules:3:21: integer 99999999999999999999 is out of range");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  where numel(x) == -9223372036854775809\n"),
            "t.rules:3:22: integer 9223372036854775809 is out of range");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  where dim(x, 99999999999999999999) == 1\n"),
            "t.rules:3:16: integer 99999999999999999999 is out of range");
  EXPECT_EQ(LoadError("rule r:\n  view_copy(x, [1, 99999999999999999999]) -> x\n"),
            "t.rules:2:20: integer 99999999999999999999 is out of range");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  benefit 99999999999999999999\n"),
            "t.rules:3:11: integer 99999999999999999999 is out of range");
  // A benefit is an int: 2^32 + 1 used to wrap to 1.
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  benefit 4294967297\n"),
            "t.rules:3:11: benefit 4294967297 is out of range (0 to 2147483647)");
  absl::StatusOr<RuleSet> max =
      rules::ParseRules("rule r:\n  relu(x) -> x\n  benefit 2147483647\n", "t.rules");
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ((*max)[0].benefit(), 2147483647);
  // INT64_MIN is written with its sign and is in range.
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  where numel(x) != -9223372036854775808\n"), "");
}

// An opaque op has no schema to bound its arity; a node holds 65535
// arguments (16 bits), so a longer call is a load-time error.
TEST(RuleFileTest, OpaqueOpArityIsBounded) {
  std::string args = "x";
  for (int i = 1; i < 65536; ++i) args += ", x";
  // A pattern this large is refused by the pattern-size limit before a node
  // could be asked to hold more than Node::kMaxArgs operands.
  for (const std::string& text : {"rule r:\n  relu(x) -> my_ns::op.default(" + args + ")\n",
                                  "rule r:\n  my_ns::op.default(" + args + ") -> x\n"}) {
    std::string error = LoadError(text);
    EXPECT_NE(error.find("t.rules:2:"), std::string::npos) << error;
    EXPECT_NE(error.find("more than kMaxExpandedPatternNodes (10000) pattern nodes"), std::string::npos)
        << error;
  }
}

TEST(RuleFileTest, IncludesResolveRelativeToTheIncludingFile) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "includes";
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "main.rules") << "include \"sub/t.rules\"\nrule r:\n  mm(x, tr(y)) -> x\n";
  std::ofstream(dir / "sub" / "t.rules") << "alias tr(a) = t_copy(a)\n";
  absl::StatusOr<RuleSet> rules = rules::LoadRules({(dir / "main.rules").string()});
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->size(), 1u);

  std::ofstream(dir / "a.rules") << "include \"b.rules\"\n";
  std::ofstream(dir / "b.rules") << "include \"a.rules\"\n";
  absl::StatusOr<RuleSet> cycle = rules::LoadRules({(dir / "a.rules").string()});
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("include cycle"), absl::string_view::npos) << cycle.status();

  absl::StatusOr<RuleSet> missing = rules::LoadRules({(dir / "nope.rules").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot open file"), absl::string_view::npos);
}

// ---- Bounded resources (docs/robustness.md).

TEST(RuleFileTest, NestingIsBoundedNotAStackOverflow) {
  // Deep enough to overflow the parser's stack without the bound.
  int deep = 100000;
  std::string text = "rule r:\n  " + Repeat("relu(", deep) + "x" + Repeat(")", deep) + " -> x\n";
  // Refused at the 257th 'relu', line 2 column 3 + 5 * 256.
  EXPECT_EQ(LoadError(text),
            absl::StrCat("t.rules:2:", 3 + 5 * kMaxRuleNestingDepth,
                         ": nested deeper than kMaxRuleNestingDepth (256 levels of calls, groups or "
                         "operators)"));
  // At the limit it loads.
  int ok = kMaxRuleNestingDepth - 1;
  EXPECT_EQ(LoadError("rule r:\n  " + Repeat("relu(", ok) + "x" + Repeat(")", ok) + " -> x\n"), "");
  // Groups count, in patterns and in constraints.
  EXPECT_NE(LoadError("rule r:\n  " + Repeat("(", deep) + "relu(x)" + Repeat(")", deep) + " -> x\n")
                .find("kMaxRuleNestingDepth"),
            std::string::npos);
  EXPECT_NE(LoadError("rule r:\n  relu(x) -> x\n  where " + Repeat("(", deep) + "rank(x)" +
                      Repeat(")", deep) + " == 1\n")
                .find("kMaxRuleNestingDepth"),
            std::string::npos);
  // So does a long chain of operators, which builds a tree as deep.
  EXPECT_NE(LoadError("rule r:\n  relu(x) -> x\n  where rank(x)" + Repeat(" + 1", deep) + " > 0\n")
                .find("kMaxRuleNestingDepth"),
            std::string::npos);
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> x\n  where rank(x)" + Repeat(" + 1", 100) + " > 0\n"), "");
  // Tests and embedders can lower the bound.
  auto shallow = rules::ParseRuleFile("rule r:\n  relu(relu(x)) -> x\n", "t.rules", 2);
  ASSERT_FALSE(shallow.ok());
  EXPECT_EQ(shallow.status().message(),
            "t.rules:2:13: nested deeper than kMaxRuleNestingDepth (2 levels of calls, groups or "
            "operators)");
}

// a1(x) = add(x, x); aK(x) = add(aK-1(x), aK-1(x)): each line doubles.
std::string DoublingAliases(int n) {
  std::string text = "alias a1(x) = add(x, x)\n";
  for (int k = 2; k <= n; ++k)
    absl::StrAppend(&text, "alias a", k, "(x) = add(a", k - 1, "(x), a", k - 1, "(x))\n");
  return text;
}

TEST(RuleFileTest, AliasExpansionIsBounded) {
  // 2^14 adds: past kMaxExpandedPatternNodes, reported where the rule uses
  // the alias.
  std::string big = DoublingAliases(14) + "rule r:\n  relu(a14(y)) -> y\n";
  EXPECT_EQ(LoadError(big),
            "t.rules:16:8: alias 'a14' expands to more than kMaxExpandedPatternNodes (10000) "
            "pattern nodes in this rule; an alias that uses a parameter or another alias twice "
            "doubles at each level");
  // 60 lines would be 2^60 nodes: refused as soon as the budget is spent.
  EXPECT_NE(LoadError(DoublingAliases(60) + "rule r:\n  relu(a60(y)) -> y\n")
                .find("kMaxExpandedPatternNodes"),
            std::string::npos);
  // 2^10 nodes are fine.
  EXPECT_EQ(LoadError(DoublingAliases(10) + "rule r:\n  relu(a10(y)) -> y\n"), "");

  // An alias that drops its parameter keeps the result small, but
  // expanding it still doubles per line: the work is bounded too.
  std::string dropping = "alias d1(x) = relu(z)\n";
  for (int k = 2; k <= 30; ++k) absl::StrAppend(&dropping, "alias d", k, "(x) = d", k - 1, "(d", k - 1, "(x))\n");
  EXPECT_NE(LoadError(dropping + "rule r:\n  add(d30(y), z) -> z\n").find("kMaxExpandedPatternNodes"),
            std::string::npos);

  // aK(x) = aK-1(aK-1(x)) nests 2^K deep: past kMaxRuleNestingDepth.
  std::string nest = "alias n0(x) = relu(x)\n";
  for (int k = 1; k <= 9; ++k) absl::StrAppend(&nest, "alias n", k, "(x) = n", k - 1, "(n", k - 1, "(x))\n");
  EXPECT_EQ(LoadError(nest + "rule r:\n  n9(y) -> y\n"),
            "t.rules:12:3: alias 'n9' expands to a pattern nested deeper than "
            "kMaxRuleNestingDepth (256 levels)");

  // A long chain of aliases each calling the next recurses once per alias.
  // (Not c1, c2...: c32, c64 and c128 are dtypes.)
  std::string chain = "alias ch0(x) = relu(x)\n";
  for (int k = 1; k <= 300; ++k) absl::StrAppend(&chain, "alias ch", k, "(x) = ch", k - 1, "(x)\n");
  EXPECT_EQ(LoadError(chain + "rule r:\n  ch300(y) -> y\n"),
            "t.rules:303:3: alias 'ch300' expands to aliases nested deeper than "
            "kMaxRuleNestingDepth (256 levels)");
  EXPECT_EQ(LoadError(chain + "rule r:\n  ch200(y) -> y\n"), "");
}

TEST(RuleFileTest, RuleFilesAreBoundedRegularFiles) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "bounded";
  std::filesystem::create_directories(dir);
  // A device: /dev/null reads as empty, /dev/zero never ends.
  std::ofstream(dir / "dev.rules") << "include \"/dev/null\"\n";
  absl::StatusOr<RuleSet> dev = rules::LoadRules({(dir / "dev.rules").string()});
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().message(),
            (dir / "dev.rules").string() +
                ":1:1: in include \"/dev/null\": /dev/null: not a regular file (a character "
                "device); graft reads only regular files");
  // A FIFO: refused without waiting for a writer.
  std::filesystem::path fifo = dir / "fifo.rules";
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<RuleSet> f = rules::LoadRules({fifo.string()});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            fifo.string() + ": not a regular file (a FIFO); graft reads only regular files");
  // Too large: refused by its size, before reading (the file is sparse).
  std::filesystem::path big = dir / "big.rules";
  std::ofstream(big).close();
  std::filesystem::resize_file(big, kMaxRuleFileBytes + 1);
  absl::StatusOr<RuleSet> b = rules::LoadRules({big.string()});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), absl::StrCat(big.string(), ": ", kMaxRuleFileBytes + 1,
                                               " bytes, larger than kMaxRuleFileBytes (",
                                               kMaxRuleFileBytes, " bytes)"));
  // A chain of includes deeper than kMaxIncludeDepth (the loader recurses
  // per level).
  for (int i = 0; i <= kMaxIncludeDepth; ++i)
    std::ofstream(dir / absl::StrCat("inc", i, ".rules")) << "include \"inc" << i + 1 << ".rules\"\n";
  std::ofstream(dir / absl::StrCat("inc", kMaxIncludeDepth + 1, ".rules")) << "";
  absl::StatusOr<RuleSet> chain = rules::LoadRules({(dir / "inc0.rules").string()});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find(absl::StrCat("inc64.rules: includes nested deeper than "
                                                       "kMaxIncludeDepth (64)")),
            absl::string_view::npos)
      << chain.status();
  EXPECT_TRUE(rules::LoadRules({(dir / "inc2.rules").string()}).ok());
  // The bound is inclusive.
  std::ofstream(dir / "ten") << "0123456789";
  EXPECT_TRUE(rules::ReadFile((dir / "ten").string(), 10).ok());
  EXPECT_FALSE(rules::ReadFile((dir / "ten").string(), 9).ok());
}

// Every op of the generated table can be named; these were "unknown op"
// before the table.
TEST(RuleFileOpsetTest, RulesNameOpsFromTheWholeTable) {
  absl::StatusOr<RuleSet> rules = rules::ParseRules(R"(
rule hardtanh_0_6_is_relu6:
  hardtanh(x, 0, 6) -> relu6(x)
rule silu_spelled_out:
  mul(x, sigmoid(x)) -> silu(x)
rule clamp_at_zero:
  clamp(x, 0) -> relu(x)
rule quantize_of_dequantize:
  quantize_per_tensor(dequantize_per_tensor(q, s, z, lo, hi, dt), s, z, lo, hi, dt) -> q
)",
                                                    "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].Describe(), "hardtanh(x, 0, 6) -> relu6(x)");
}

TEST(RuleFileOpsetTest, ArityAndKindErrorsForTableOpsAreLocated) {
  EXPECT_EQ(LoadError("rule r:\n  hardtanh(x, 0, 6, 1) -> x\n"),
            "t.rules:2:3: wrong arity: hardtanh takes 1 to 3 argument(s), got 4");
  EXPECT_EQ(LoadError("rule r:\n  sigmoid(x) -> clamp(x, \"lo\")\n"),
            "t.rules:2:26: aten::clamp.default argument 1 (min) expects Scalar, got \"lo\"");
  EXPECT_EQ(LoadError("rule r:\n  quantize_per_tensor(x, 0.5, 0, -128, 127, 3) -> x\n"),
            "t.rules:2:45: quantized_decomposed::quantize_per_tensor.default argument 5 (dtype) "
            "expects ScalarType, got 3");
}

TEST(RuleFileOpsetTest, ARightHandSideOpWithoutAShapeFunctionIsRefused) {
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> nonzero(x)\n"),
            "t.rules:2:14: cannot build aten::nonzero.default: graft has no shape function for it");
  // On the left it matches.
  EXPECT_EQ(LoadError("rule r:\n  relu(nonzero(x)) -> nonzero(x)\n"),
            "t.rules:2:23: cannot build aten::nonzero.default: graft has no shape function for it");
  EXPECT_EQ(LoadError("rule r:\n  clone(nonzero(x)) -> relu(x)\n"), "");
}

TEST(RuleFileOpsetTest, OpsThatMutateAreRefusedOnEitherSide) {
  EXPECT_EQ(LoadError("rule r:\n  resize_(x, [4]) -> x\n"),
            "t.rules:2:3: aten::resize_.default writes to its arguments; rules cannot name ops "
            "that mutate");
  EXPECT_EQ(LoadError("rule r:\n  relu(x) -> relu(resize_(x, [4]))\n"),
            "t.rules:2:19: aten::resize_.default writes to its arguments; rules cannot name ops "
            "that mutate");
}

TEST(RuleFileOpsetTest, TensorListArguments) {
  EXPECT_EQ(LoadError("rule r:\n  cat(x, 0) -> x\n"),
            "t.rules:2:7: aten::cat.default argument 0 (tensors) is a Tensor[]: write a list "
            "such as [x, y] or _");
  EXPECT_EQ(LoadError("rule r:\n  relu([x, y]) -> x\n"),
            "t.rules:2:8: a list of patterns stands only for a tensor-list argument (cat([x, y], 0))");
  EXPECT_EQ(LoadError("rule r:\n  cat([x, 1], 0) -> x\n"),
            "t.rules:2:11: aten::cat.default argument 0 (tensors) holds tensors, got 1");
  EXPECT_EQ(LoadError("rule r:\n  cat([x, _], 0) -> cat([x, _], 0)\n"),
            "t.rules:2:29: '_' cannot be built: a replacement needs a value or a literal");
  EXPECT_EQ(LoadError("rule r:\n  cat(_, 0) -> x\n"),
            "t.rules:2:16: variable x on the right-hand side is not bound by the pattern");
  EXPECT_EQ(LoadError("rule r:\n  index(x, [None, i]) -> x\n"), "");
}

TEST(RuleFileOpsetTest, CatOfOneTensorIsThatTensor) {
  absl::StatusOr<RuleSet> rules =
      rules::ParseRules("rule cat_of_one:\n  cat([x], d) -> x\n", "t.rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ((*rules)[0].Describe(), "cat([x], d) -> x");
  auto g = ParseGraph(R"(graph @g(%a: f32[2, 3], %b: f32[2, 3]) {
  %one = aten::cat.default(%a, 1) : f32[2, 3]
  %two = aten::cat.default(%one, %b, 0) : f32[4, 3]
  return %two
})",
                      Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  auto result = ApplyRules(**g, *rules);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rewrites, 1);  // the cat of two stays
  EXPECT_EQ(Print(**g, {true}),
            "graph @g(\n    %a: f32[2, 3],\n    %b: f32[2, 3]) {\n"
            "  %0 = aten::cat.default(%a, %b, 0) : f32[4, 3]\n  return %0\n}\n");
}

}  // namespace
}  // namespace graft
