// libtorch from the pip wheel: headers (C++20), linking, rpath, and the JIT IR
// parser that interop/torchscript.h builds on.
#include <memory>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

static_assert(__cplusplus >= 202002L, "libtorch targets need -std=c++20");

namespace {

TEST(LibtorchSmoke, ParseIrGraph) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(R"IR(
    graph(%x : Tensor, %w : Tensor):
      %wt : Tensor = aten::t(%w)
      %y : Tensor = aten::mm(%x, %wt)
      return (%y))IR",
                      graph.get());
  int mm = 0;
  for (torch::jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("aten::mm")) ++mm;
  }
  EXPECT_EQ(mm, 1);
  EXPECT_EQ(graph->inputs().size(), 2u);
}

TEST(LibtorchSmoke, MatMul) {
  torch::Tensor a = torch::arange(6, torch::kFloat).reshape({2, 3});
  torch::Tensor b = torch::ones({3, 2});
  torch::Tensor c = torch::mm(a, b);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_FLOAT_EQ(c[1][0].item<float>(), 12.0f);  // 3 + 4 + 5
}

}  // namespace
