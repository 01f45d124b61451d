"""graft.export.rewrite on the ATen program torch.export returns, before
quantization: the same rules and C++ engine as GraftPass, on ATen IR
(`matmul`, `t`, `transpose.int`), so that XNNPACKQuantizer sees a linear
where the model wrote `x @ W.T` and quantizes it; then lowered to XNNPACK and
run in executorch.runtime.

Runs the graft package installed in this Python (tools/setup.sh).
"""

import collections
import operator
import unittest

import torch
from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
    XnnpackDynamicallyQuantizedPartitioner,
    XnnpackPartitioner,
)
from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
    XNNPACKQuantizer,
    get_symmetric_quantization_config,
)
from executorch.exir import to_edge_transform_and_lower
from executorch.exir.delegate import executorch_call_delegate
from executorch.runtime import Runtime

import graft.export
from graft import _compat

GEMMS = ("aten.mm.default", "aten.bmm.default", "aten.addmm.default", "aten.linear.default",
         "aten.matmul.default")


def op_name(n):
    """`aten.mm.default` for ATen and edge ops alike."""
    return str(_compat.aten_of(n.target))


class TiedLM(torch.nn.Module):
    """An nn.Linear, and logits on the tied embedding weight written x @ W.T."""

    def __init__(self, vocab=300, width=32):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, width)
        self.mlp = torch.nn.Linear(width, width)
        self.ln = torch.nn.LayerNorm(width)

    def forward(self, tokens):
        x = self.emb(tokens)
        x = self.ln(x + torch.relu(self.mlp(x)))
        return x @ torch.transpose(self.emb.weight, 0, 1)


class Spellings(torch.nn.Module):
    """x @ W.T spelled as export's ATen IR keeps it: transpose.int both ways,
    t, and a scalar in a Tensor slot (mul.Tensor(x, 0.5)) on the way."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(12, 8))
        self.b = torch.nn.Parameter(torch.randn(12))

    def forward(self, x):
        a = x @ self.W.transpose(0, 1)
        b = torch.matmul(x * 0.5, self.W.t()) + self.b
        c = x @ self.W.transpose(1, 0)
        return a + b + c


def quantized(model, ep, inputs):
    """ep quantized for XNNPACK (dynamic int8 activations, per-channel int8
    weights: the configuration that lowers whole, see examples/whisper)."""
    quantizer = XNNPACKQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=True))
    prepared = prepare_pt2e(ep.module(), quantizer)
    prepared(*inputs)
    return convert_pt2e(prepared)


def gemm_weights(gm):
    """{GEMM node name: the op producing its weight operand}."""
    return {n.name: op_name(n.args[1]) for n in gm.graph.nodes
            if n.op == "call_function" and op_name(n) in GEMMS}


class PreQuantizationTest(unittest.TestCase):
    def test_rewrite_folds_the_aten_spellings_and_keeps_the_numbers(self):
        torch.manual_seed(0)
        model = Spellings().eval()
        x = torch.randn(2, 5, 8)
        ep = torch.export.export(model, (x,))
        before = collections.Counter(op_name(n) for n in ep.graph.nodes if n.op == "call_function")
        self.assertEqual(before["aten.matmul.default"], 3, before)

        rewritten, stats = graft.export.rewrite(ep)
        self.assertEqual(stats.applied.get("matmul_transposed_weight_to_linear"), 3, stats.report)
        after = collections.Counter(
            op_name(n) for n in rewritten.graph.nodes if n.op == "call_function")
        self.assertEqual(after["aten.matmul.default"], 0, after)
        self.assertEqual(after["aten.linear.default"], 3, after)
        self.assertEqual(after["aten.mul.Tensor"], 1, after)  # the scalar operand survives
        # The program given is left alone.
        self.assertEqual(collections.Counter(
            op_name(n) for n in ep.graph.nodes if n.op == "call_function"), before)
        with torch.no_grad():
            torch.testing.assert_close(rewritten.module()(x), model(x), atol=1e-5, rtol=1e-5)

    def test_nothing_to_rewrite_returns_the_program(self):
        ep = torch.export.export(torch.nn.ReLU(), (torch.randn(3),))
        rewritten, stats = graft.export.rewrite(ep)
        self.assertIs(rewritten, ep)
        self.assertEqual(stats.rewrites, 0)

    def test_quantizer_annotates_the_folded_linear(self):
        torch.manual_seed(0)
        model = TiedLM().eval()
        inputs = (torch.randint(0, 300, (1, 16)),)
        with torch.no_grad():
            expected = model(*inputs)
        ep = torch.export.export(model, inputs)

        as_is = quantized(model, ep, inputs)
        self.assertIn("aten.transpose.int", gemm_weights(as_is).values(),
                      "the premise: without graft the logits GEMM keeps an fp32 transposed weight")

        rewritten, stats = graft.export.rewrite(ep)
        self.assertEqual(stats.applied.get("matmul_transposed_weight_to_linear"), 1, stats.report)
        converted = quantized(model, rewritten, inputs)
        weights = gemm_weights(converted)
        self.assertEqual(len(weights), 2, weights)  # the MLP's linear and the logits
        self.assertEqual(set(weights.values()), {"quantized_decomposed.dequantize_per_channel.default"},
                         weights)
        for n in converted.graph.nodes:
            if n.name in weights:  # dynamically quantized activations feed it
                self.assertEqual(op_name(n.args[0]), "quantized_decomposed.dequantize_per_tensor.tensor")

        lowered = to_edge_transform_and_lower(
            torch.export.export(converted, inputs),
            partitioner=[XnnpackDynamicallyQuantizedPartitioner(), XnnpackPartitioner()])
        graph = lowered.exported_program().graph_module.graph
        left = [op_name(n) for n in graph.nodes if n.op == "call_function"
                and n.target not in (executorch_call_delegate, operator.getitem)]
        self.assertFalse([op for op in left if op in GEMMS], left)
        self.assertFalse([op for op in left if "quantize" in op], left)

        pte = lowered.to_executorch()
        program = Runtime.get().load_program(pte.buffer)
        out = program.load_method("forward").execute(list(inputs))[0]
        # int8 error, not a wrong program: a wrong one is off by the logits' own size.
        error = (out - expected).abs().max().item()
        self.assertLess(error, 0.02 * expected.abs().max().item(), error)

if __name__ == "__main__":
    unittest.main()
