// Kernels for ops that ExecuTorch programs use and libtorch's C++ build does
// not have: PT2E quantization's `quantized_decomposed` ops are defined in
// Python (torch/ao/quantization/fx/_decomposed.py), so a graph holding them
// exports to TorchScript but does not run in a process without Python.
// RegisterReferenceKernels() defines them with the same schemas and the same
// arithmetic as the Python definitions, so that a quantized graph (a rule's
// case, a `--prove` instance) runs in libtorch with the numbers PyTorch's
// own reference would give. Where they are already registered (a process
// that imported torch.ao), nothing is replaced.
#ifndef GRAFT_INTEROP_TORCHSCRIPT_REFERENCE_KERNELS_H_
#define GRAFT_INTEROP_TORCHSCRIPT_REFERENCE_KERNELS_H_

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace graft {
namespace reference_kernels_internal {

// `input` viewed with dim `axis` first, and the permutation that undoes it.
inline std::pair<at::Tensor, std::vector<int64_t>> AxisFirst(const at::Tensor& input,
                                                             int64_t axis) {
  std::vector<int64_t> order{axis}, inverse(input.dim());
  for (int64_t d = 0; d < input.dim(); ++d)
    if (d != axis) order.push_back(d);
  for (int64_t i = 0; i < input.dim(); ++i) inverse[order[i]] = i;
  return {input.permute(order), inverse};
}

// quantize: clamp(round(x * (1 / scale)) + zero_point, quant_min, quant_max)
// in f32 (half-precision inputs are widened first), then cast to `dtype`.
inline at::Tensor Quantize(at::Tensor input, const at::Tensor& scale,
                           const at::Tensor& zero_point, int64_t quant_min, int64_t quant_max,
                           at::ScalarType dtype) {
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kHalf ||
                  input.scalar_type() == at::kBFloat16,
              "quantize: expected a float input, got ", input.scalar_type());
  input = input.to(at::kFloat);
  return at::clamp(at::round(input * (1.0 / scale)) + zero_point, quant_min, quant_max)
      .to(dtype);
}

// dequantize: (x - zero_point) * scale in `out_dtype` (f32 by default).
inline at::Tensor Dequantize(const at::Tensor& input, const at::Tensor& scale,
                             const std::optional<at::Tensor>& zero_point, at::ScalarType dtype,
                             std::optional<at::ScalarType> out_dtype) {
  TORCH_CHECK(input.scalar_type() == dtype, "dequantize: expected a ", dtype, " input, got ",
              input.scalar_type());
  at::Tensor x = input.to(out_dtype.value_or(at::kFloat));
  if (zero_point) x = x - *zero_point;
  return x * scale;
}

// Per channel: the parameters index dim `axis`.
inline at::Tensor QuantizePerChannel(const at::Tensor& input, const at::Tensor& scales,
                                     const at::Tensor& zero_points, int64_t axis,
                                     int64_t quant_min, int64_t quant_max, at::ScalarType dtype) {
  TORCH_CHECK(axis >= 0 && axis < input.dim(), "quantize_per_channel: axis ", axis,
              " out of range for rank ", input.dim());
  auto [x, inverse] = AxisFirst(input, axis);
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = scales.size(0);
  return Quantize(x, scales.view(shape), zero_points.view(shape), quant_min, quant_max, dtype)
      .permute(inverse);
}

inline at::Tensor DequantizePerChannel(const at::Tensor& input, const at::Tensor& scales,
                                       const std::optional<at::Tensor>& zero_points,
                                       int64_t axis, at::ScalarType dtype,
                                       std::optional<at::ScalarType> out_dtype) {
  TORCH_CHECK(axis >= 0 && axis < input.dim(), "dequantize_per_channel: axis ", axis,
              " out of range for rank ", input.dim());
  auto [x, inverse] = AxisFirst(input, axis);
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = scales.size(0);
  std::optional<at::Tensor> zp;
  if (zero_points) zp = zero_points->view(shape);
  return Dequantize(x, scales.view(shape), zp, dtype, out_dtype).permute(inverse);
}

inline at::Tensor Scalar(double v) { return at::scalar_tensor(v, at::kDouble); }

}  // namespace reference_kernels_internal

// Defines the `quantized_decomposed` ops graft's catalogue rules build or
// match (per tensor, with scalar or tensor parameters, and per channel)
// unless the process already has them. Safe to call from any thread, any
// number of times.
inline void RegisterReferenceKernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (c10::Dispatcher::singleton()
            .findSchema({"quantized_decomposed::quantize_per_tensor", ""})
            .has_value())
      return;
    namespace r = reference_kernels_internal;
    // Lives as long as the process: the registrations end with it.
    auto* lib = new torch::Library(torch::Library::DEF, "quantized_decomposed", std::nullopt,
                                   __FILE__, __LINE__);
    lib->def(
        "quantize_per_tensor(Tensor input, float scale, int zero_point, int quant_min, "
        "int quant_max, ScalarType dtype) -> Tensor",
        [](const at::Tensor& in, double scale, int64_t zp, int64_t lo, int64_t hi,
           at::ScalarType dtype) {
          return r::Quantize(in, r::Scalar(scale), r::Scalar(zp), lo, hi, dtype);
        });
    lib->def(
        "quantize_per_tensor.tensor(Tensor input, Tensor scale, Tensor zero_point, "
        "int quant_min, int quant_max, ScalarType dtype) -> Tensor",
        [](const at::Tensor& in, const at::Tensor& scale, const at::Tensor& zp, int64_t lo,
           int64_t hi, at::ScalarType dtype) {
          TORCH_CHECK(scale.numel() == 1 && zp.numel() == 1,
                      "quantize_per_tensor.tensor: scale and zero_point must have one element");
          return r::Quantize(in, r::Scalar(scale.item<double>()),
                             r::Scalar(zp.item<int64_t>()), lo, hi, dtype);
        });
    lib->def(
        "dequantize_per_tensor(Tensor input, float scale, int zero_point, int quant_min, "
        "int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None) -> Tensor",
        [](const at::Tensor& in, double scale, int64_t zp, int64_t, int64_t,
           at::ScalarType dtype, std::optional<at::ScalarType> out_dtype) {
          return r::Dequantize(in, r::Scalar(scale), r::Scalar(zp), dtype, out_dtype);
        });
    lib->def(
        "dequantize_per_tensor.tensor(Tensor input, Tensor scale, Tensor zero_point, "
        "int quant_min, int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None) "
        "-> Tensor",
        [](const at::Tensor& in, const at::Tensor& scale, const at::Tensor& zp, int64_t,
           int64_t, at::ScalarType dtype, std::optional<at::ScalarType> out_dtype) {
          TORCH_CHECK(scale.numel() == 1 && zp.numel() == 1,
                      "dequantize_per_tensor.tensor: scale and zero_point must have one element");
          return r::Dequantize(in, r::Scalar(scale.item<double>()),
                               r::Scalar(zp.item<int64_t>()), dtype, out_dtype);
        });
    lib->def(
        "quantize_per_channel(Tensor input, Tensor scales, Tensor zero_points, int axis, "
        "int quant_min, int quant_max, ScalarType dtype) -> Tensor",
        &r::QuantizePerChannel);
    lib->def(
        "dequantize_per_channel(Tensor input, Tensor scales, Tensor? zero_points, int axis, "
        "int quant_min, int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None) "
        "-> Tensor",
        [](const at::Tensor& in, const at::Tensor& scales, const std::optional<at::Tensor>& zp,
           int64_t axis, int64_t, int64_t, at::ScalarType dtype,
           std::optional<at::ScalarType> out_dtype) {
          return r::DequantizePerChannel(in, scales, zp, axis, dtype, out_dtype);
        });
  });
}

}  // namespace graft

#endif  // GRAFT_INTEROP_TORCHSCRIPT_REFERENCE_KERNELS_H_
