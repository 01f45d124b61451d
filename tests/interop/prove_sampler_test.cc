// graft-opt --prove's instances (graft/prove/sampler.h): they cover every
// alternative and transpose spelling, follow the pattern's input kinds and
// literal variables, satisfy the constraints, are rewritten by the rule, and
// are the same for the same seed. No libtorch here: the sampler is C++17.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "graft/ir/printer.h"
#include "graft/prove/sampler.h"
#include "graft/rules/loader.h"

namespace graft {
namespace {

struct Drawn {
  std::vector<prove::Instance> instances;
  std::vector<prove::Rejection> rejections;
};

// Up to `n` instances of the only rule in `text`, drawn as --prove does.
Drawn Draw(const std::string& text, int n, uint64_t seed = 1) {
  rules::RuleLoader loader;
  absl::Status added = loader.AddText(text, "t.rules");
  EXPECT_TRUE(added.ok()) << added;
  absl::StatusOr<RuleSet> set = loader.Finish();
  EXPECT_TRUE(set.ok()) << set.status();
  Drawn out;
  if (!set.ok()) return out;
  const rules::RuleDef& def = loader.files()[0]->rules[0];
  absl::StatusOr<rules::PatPtr> lhs = rules::ExpandedLhs(def, loader.files());
  EXPECT_TRUE(lhs.ok()) << lhs.status();
  prove::Sampler sampler(*set->Find(def.name), *lhs, prove::HintsOf(def), seed);
  bool retry = false;
  for (int tries = 0; tries < 20000 && static_cast<int>(out.instances.size()) < n; ++tries) {
    prove::Rejection why{prove::Rejection::kIllTyped, ""};
    absl::StatusOr<prove::Instance> inst =
        sampler.Next(static_cast<int64_t>(out.instances.size()), retry, &why);
    retry = !inst.ok();
    if (inst.ok()) {
      out.instances.push_back(*std::move(inst));
    } else {
      out.rejections.push_back(why);
      if (why.kind == prove::Rejection::kNoBuild) break;
    }
  }
  return out;
}

// The ops of `g`'s nodes, by name.
std::set<std::string> Ops(const Graph& g) {
  std::set<std::string> out;
  for (const Node* n : g.nodes()) out.insert(std::string(n->op()->name()));
  return out;
}

TEST(ProveSampler, DrawsEveryTransposeSpelling) {
  Drawn d = Draw("rule r:\n  relu(transpose(x)) -> transpose(relu(x))\n", 40);
  ASSERT_EQ(d.instances.size(), 40u);
  std::set<std::string> drawn, all;
  for (const auto& inst : d.instances)
    for (const std::string& op : Ops(*inst.before)) drawn.insert(op);
  for (const auto& f : match::TransposeP<match::AnyP>::Forms())
    all.insert(std::string(f.op->name()));
  for (const std::string& op : all) EXPECT_TRUE(drawn.count(op)) << op << " never drawn";
}

TEST(ProveSampler, DrawsEveryAlternative) {
  Drawn d = Draw("rule r:\n  clamp(x, 0) | clamp(x, 0.0) | clamp(x, 0, 6) -> relu(x)\n", 12);
  std::set<std::string> bounds;
  for (const auto& inst : d.instances) {
    for (const Node* n : inst.before->nodes()) {
      std::string args;
      for (int i = 1; i < n->num_args(); ++i) args += n->literal(i)->ToString() + " ";
      bounds.insert(args);
    }
  }
  // The third alternative's clamp to 6 is not relu: it matches, and the
  // type check lets it through; that it is wrong is --prove's to find.
  EXPECT_EQ(bounds, (std::set<std::string>{"0 ", "0.0 ", "0 6 "}));
}

TEST(ProveSampler, InputKindsFollowThePattern) {
  Drawn d = Draw("rule r:\n  addmm(param b, input x, transpose(const W)) -> linear(x, W, b)\n"
                 "  where rank(b) == 1, dim(b, 0) == dim(W, 0)\n", 20);
  ASSERT_EQ(d.instances.size(), 20u);
  std::set<InputKind> w_kinds;
  for (const auto& inst : d.instances) {
    const Graph& g = *inst.before;
    for (Value* in : g.inputs()) {
      if (g.name(in) == "b") {
        EXPECT_EQ(g.input_kind(in), InputKind::kParameter);
      } else if (g.name(in) == "x") {
        EXPECT_EQ(g.input_kind(in), InputKind::kUserInput);
      } else if (g.name(in) == "W") {
        w_kinds.insert(g.input_kind(in));
      }
    }
  }
  EXPECT_EQ(w_kinds, (std::set<InputKind>{InputKind::kParameter, InputKind::kBuffer,
                                          InputKind::kConstant}));
}

TEST(ProveSampler, InstancesMeetTheConstraintsAndAreRewritten) {
  Drawn d = Draw("rule r:\n  add(linear(x, W), const b) -> linear(x, W, b)\n"
                 "  where rank(b) == 1, dim(b, 0) == dim(W, 0)\n", 20);
  ASSERT_EQ(d.instances.size(), 20u);
  std::set<DType> dtypes;
  for (const auto& inst : d.instances) {
    dtypes.insert(inst.dtype);
    EXPECT_EQ(Ops(*inst.before),
              (std::set<std::string>{"aten::add.Tensor", "aten::linear.default"}));
    EXPECT_EQ(Ops(*inst.after), (std::set<std::string>{"aten::linear.default"}));
    const Node* linear = inst.after->output(0)->def();
    ASSERT_EQ(linear->num_args(), 3);
    TensorType b = linear->operand(2)->type(), W = linear->operand(1)->type();
    EXPECT_EQ(b.rank(), 1);
    EXPECT_EQ(b.dim(0), W.dim(0));
  }
  EXPECT_EQ(dtypes, (std::set<DType>{DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  bool refused_by_constraint = false;
  for (const auto& r : d.rejections)
    refused_by_constraint |= r.kind == prove::Rejection::kConstraint;
  EXPECT_TRUE(refused_by_constraint) << "the sampler drew only what the constraints allow";
}

TEST(ProveSampler, ALiteralVariableKeepsItsValue) {
  Drawn d = Draw("rule r:\n  squeeze_copy_dim(unsqueeze_copy(x, d), d) -> x\n", 20);
  ASSERT_EQ(d.instances.size(), 20u);
  std::set<int64_t> dims;
  for (const auto& inst : d.instances) {
    const Node* squeeze = inst.before->output(0)->def();
    const Node* unsqueeze = squeeze->operand(0)->def();
    EXPECT_EQ(squeeze->literal(1), unsqueeze->literal(1)) << Print(*inst.before);
    dims.insert(squeeze->literal(1)->as_int());
  }
  EXPECT_GT(dims.size(), 2u) << "dims drawn within the rank, of either sign";
}

TEST(ProveSampler, LiteralsMeetTheConstraintsNumbers) {
  // select's index is drawn from small numbers; 7 only from the constraint.
  Drawn d = Draw("rule r:\n  select(x, 0, i) -> select(x, 0, i)\n  where i == 7\n", 5);
  ASSERT_EQ(d.instances.size(), 5u);
  for (const auto& inst : d.instances)
    EXPECT_EQ(inst.before->output(0)->def()->literal(2)->as_int(), 7);
}

TEST(ProveSampler, AnOptionalTensorWildcardIsSometimesAbsent) {
  Drawn d = Draw("rule r:\n  relu(linear(x, W, _)) -> relu(linear(x, W))\n", 20);
  ASSERT_EQ(d.instances.size(), 20u);
  int none = 0, bias = 0;
  for (const auto& inst : d.instances) {
    const Node* linear = inst.before->output(0)->def()->operand(0)->def();
    (linear->operand(2) ? bias : none)++;
  }
  EXPECT_GT(none, 0);
  EXPECT_GT(bias, 0);
}

TEST(ProveSampler, InstancesStaySmall) {
  // 300 x 300 is past kMaxElements: whatever x is drawn, no instance.
  Drawn d = Draw("rule r:\n  relu(expand_copy(x, [300, 300])) -> relu(x)\n", 1);
  EXPECT_TRUE(d.instances.empty());
  int too_large = 0;
  for (const auto& r : d.rejections) {
    too_large += r.kind == prove::Rejection::kTooLarge;
    EXPECT_TRUE(r.kind == prove::Rejection::kTooLarge || r.kind == prove::Rejection::kIllTyped)
        << r.reason;
  }
  EXPECT_GT(too_large, 0);
}

TEST(ProveSampler, TheSameSeedDrawsTheSameInstances) {
  const std::string rule = "rule r:\n  mm(x, transpose(const W)) -> linear(x, W)\n";
  auto texts = [&](uint64_t seed) {
    std::vector<std::string> out;
    for (const auto& inst : Draw(rule, 5, seed).instances) out.push_back(Print(*inst.before));
    return out;
  };
  EXPECT_EQ(texts(3), texts(3));
  EXPECT_NE(texts(3), texts(4));
}

TEST(ProveSampler, AnOpWithoutAShapeFunctionCannotBeBuilt) {
  Drawn d = Draw("rule r:\n  cumsum(x, 0) -> x\n", 1);
  EXPECT_TRUE(d.instances.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].kind, prove::Rejection::kNoBuild);
  EXPECT_EQ(d.rejections[0].reason, "graft has no shape function for aten::cumsum.default");
}

}  // namespace
}  // namespace graft
