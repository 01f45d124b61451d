// The quantized_decomposed reference kernels (reference_kernels.h) compute
// what torch/ao/quantization/fx/_decomposed.py computes, and graphs holding
// those ops export to TorchScript and run.
#include "graft/interop/torchscript/reference_kernels.h"

#include <ATen/ATen.h>

#include <vector>

#include "gtest/gtest.h"
#include "graft/interop/torchscript.h"
#include "graft/ir/parser.h"
#include "graft/ops/catalogue.h"

namespace graft {
namespace {

at::Tensor F32(std::vector<float> v) { return at::tensor(v, at::kFloat); }

TEST(ReferenceKernels, QuantizeRoundsAddsTheZeroPointAndClamps) {
  RegisterReferenceKernels();
  // clamp(round(x * 10) + 3, -128, 127): 0.1 -> 4, 0.26 -> 6, -1 -> -7,
  // 100 -> 1003 clamped to 127, -100 -> -997 clamped to -128; round is
  // half-to-even as torch.round (0.25 * 10 = 2.5 -> 2).
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow("quantized_decomposed::quantize_per_tensor", "")
                .typed<at::Tensor(const at::Tensor&, double, int64_t, int64_t, int64_t,
                                  at::ScalarType)>();
  at::Tensor q = op.call(F32({0.1f, 0.26f, -1.f, 100.f, -100.f, 0.25f}), 0.1, 3, -128, 127,
                         at::kChar);
  EXPECT_EQ(q.scalar_type(), at::kChar);
  std::vector<int8_t> want{4, 6, -7, 127, -128, 5};
  EXPECT_TRUE(at::equal(q, at::tensor(std::vector<int64_t>(want.begin(), want.end())).to(at::kChar)))
      << q;
}

TEST(ReferenceKernels, DequantizeSubtractsTheZeroPointAndScales) {
  RegisterReferenceKernels();
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow("quantized_decomposed::dequantize_per_tensor", "")
                .typed<at::Tensor(const at::Tensor&, double, int64_t, int64_t, int64_t,
                                  at::ScalarType, std::optional<at::ScalarType>)>();
  at::Tensor q = at::tensor(std::vector<int64_t>{4, -7, 127}).to(at::kChar);
  at::Tensor x = op.call(q, 0.5, 3, -128, 127, at::kChar, std::nullopt);
  EXPECT_EQ(x.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(x, F32({0.5f, -5.f, 62.f}))) << x;
  // The input must have the dtype the call names.
  EXPECT_THROW(op.call(q, 0.5, 3, -128, 127, at::kByte, std::nullopt), c10::Error);
}

TEST(ReferenceKernels, PerChannelParametersIndexTheAxis) {
  RegisterReferenceKernels();
  auto q = c10::Dispatcher::singleton()
               .findSchemaOrThrow("quantized_decomposed::quantize_per_channel", "")
               .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 int64_t, int64_t, int64_t, at::ScalarType)>();
  // Rows of x scaled by 1 and 0.5 along axis 1 (the columns).
  at::Tensor x = F32({1, 2, 3, 4}).view({2, 2});
  at::Tensor got = q.call(x, F32({1.f, 0.5f}), at::zeros({2}, at::kLong), 1, -128, 127, at::kChar);
  EXPECT_TRUE(at::equal(got, at::tensor(std::vector<int64_t>{1, 4, 3, 8}).view({2, 2}).to(at::kChar)))
      << got;
}

TEST(ReferenceKernels, AQuantizedGraphRunsInLibtorch) {
  auto g = ParseGraph(R"(
graph @g(%x: f32[2, 3]) {
  %q = quantized_decomposed::quantize_per_tensor.default(%x, 0.25, 0, -128, 127, int8)
  %y = quantized_decomposed::dequantize_per_tensor.default(%q, 0.25, 0, -128, 127, int8)
  return %y
}
)", Ops());
  ASSERT_TRUE(g.ok()) << g.status();
  at::Tensor x = F32({0.1f, 0.3f, -0.6f, 1.f, 2.26f, 100.f}).view({2, 3});
  auto out = RunGraph(**g, {x});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  // Rounded to multiples of 0.25, clamped to 127 * 0.25.
  EXPECT_TRUE(at::equal((*out)[0], F32({0.f, 0.25f, -0.5f, 1.f, 2.25f, 31.75f}).view({2, 3})))
      << (*out)[0];
}

}  // namespace
}  // namespace graft
