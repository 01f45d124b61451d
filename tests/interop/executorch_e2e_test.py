"""End to end: a small model exported in the test -> edge -> graft (GraftPass,
or graft.executorch.rewrite) -> XNNPACK partitioner -> .pte run by
executorch.runtime. Checks what is delegated and that the numbers agree.

Runs the graft package installed in this Python (tools/setup.sh installs the
checkout's with pip), graft's C++ engine in-process.
"""

import collections
import operator
import os
import tempfile
import unittest

import torch
from torch.fx.passes.infra.pass_base import PassResult

from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge, to_edge_transform_and_lower
from executorch.exir.delegate import executorch_call_delegate
from executorch.runtime import Runtime

import graft
from graft import _compat
from graft.executorch import GraftError, GraftPass, rewrite

MATMULS = ("aten.mm.default", "aten.bmm.default", "aten.addmm.default", "aten.linear.default")


def op_name(n):
    return getattr(n.target, "__name__", str(n.target))


class TinyDecoder(torch.nn.Module):
    """Whisper's shape in miniature: embedding, an MLP of nn.Linear, layer
    norm, logits on the tied embedding weight written as x @ W.T."""

    def __init__(self, vocab=300, width=32):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, width)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(width, 4 * width), torch.nn.GELU(), torch.nn.Linear(4 * width, width))
        self.ln = torch.nn.LayerNorm(width)

    def forward(self, tokens):
        x = self.emb(tokens)
        x = self.ln(x + self.mlp(x))
        return x @ torch.transpose(self.emb.weight, 0, 1)


class TiedOnly(torch.nn.Module):
    """No nn.Linear at all: the partitioner does not preserve aten.linear."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(100, 16)

    def forward(self, tokens):
        return torch.relu(self.emb(tokens)) @ self.emb.weight.T


class TwoDimensional(torch.nn.Module):
    """The only GEMM is a 2-D x @ W.T."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(12, 8))

    def forward(self, x):
        return x @ self.W.T


class MatmulBias(torch.nn.Module):
    """torch.matmul(x, W.transpose(0, 1)) + b, on a rank-3 input."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(12, 8))
        self.b = torch.nn.Parameter(torch.randn(12))

    def forward(self, x):
        return torch.matmul(x, self.W.transpose(0, 1)) + self.b


class NothingToRewrite(torch.nn.Module):
    """No GEMM graft has a rule for."""

    def forward(self, x):
        return torch.tanh(x) * 2


class ParameterLookalike(torch.nn.Module):
    """A user input named like a parameter placeholder (`p_weight`) next to a
    real parameter: only the graph signature tells them apart."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(8, 4))

    def forward(self, x, p_weight):
        return x @ p_weight.T + x @ self.W.T


class Census:
    """A GraphModule pass recording the edge program's ops (after graft)."""

    def __init__(self):
        self.ops = collections.Counter()
        self.graph = None

    def __call__(self, gm):
        self.ops = collections.Counter(op_name(n) for n in gm.graph.nodes if n.op == "call_function")
        self.graph = gm.graph
        return PassResult(gm, False)


def outside(program):
    return collections.Counter(
        op_name(n)
        for n in program.graph_module.graph.nodes
        if n.op == "call_function"
        and n.target is not executorch_call_delegate
        and n.target is not operator.getitem
    )


def delegates(program):
    return sum(n.target is executorch_call_delegate for n in program.graph_module.graph.nodes)


def run_pte(manager, inputs):
    program = Runtime.get().load_program(manager.to_executorch().buffer)
    return program.load_method("forward").execute(list(inputs))[0]


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.model = TinyDecoder().eval()
        cls.inputs = (torch.randint(0, 300, (1, 16)),)
        with torch.no_grad():
            cls.expected = cls.model(*cls.inputs)
        cls.ep = torch.export.export(cls.model, cls.inputs)

    def test_graft_pass_gets_every_matmul_delegated(self):
        baseline = to_edge_transform_and_lower(self.ep, partitioner=[XnnpackPartitioner()])
        self.assertIn("aten.mm.default", outside(baseline.exported_program()),
                      "the premise: x @ W.T is not delegated without graft")

        graft_pass, census = GraftPass(), Census()
        lowered = to_edge_transform_and_lower(
            self.ep, transform_passes=[graft_pass, census], partitioner=[XnnpackPartitioner()])
        self.assertGreaterEqual(graft_pass.stats.rewrites, 1, graft_pass.stats.report)
        self.assertEqual(graft_pass.stats.applied.get("view_mm_view_to_linear"), 1)
        self.assertEqual(census.ops["aten.mm.default"], 0)
        self.assertEqual(census.ops["aten.linear.default"], 3)  # two nn.Linear + logits
        program = lowered.exported_program()
        left = outside(program)
        self.assertFalse([op for op in left if op in MATMULS], left)
        self.assertGreaterEqual(delegates(program), 1)
        # The tied weight: used outside the delegate by the embedding only.
        sig = program.graph_signature
        weight = [n for n in program.graph_module.graph.nodes
                  if n.op == "placeholder" and sig.inputs_to_parameters.get(n.name) == "emb.weight"]
        self.assertEqual(len(weight), 1)
        self.assertEqual([op_name(u) for u in weight[0].users], ["aten.embedding.default"])

        out = run_pte(lowered, self.inputs)
        torch.testing.assert_close(out, self.expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(out, run_pte(baseline, self.inputs), atol=1e-4, rtol=1e-4)

    def test_rewrite_for_to_edge_then_to_backend(self):
        edge = to_edge(self.ep)
        rewritten = rewrite(edge)
        ops = collections.Counter(op_name(n) for n in rewritten.exported_program().graph.nodes)
        self.assertEqual(ops["aten.mm.default"], 0)
        self.assertGreaterEqual(ops["aten.linear.default"], 1)
        # The manager rewritten from is left as it was.
        before = collections.Counter(op_name(n) for n in edge.exported_program().graph.nodes)
        self.assertEqual(before["aten.linear.default"], 0)
        self.assertGreaterEqual(before["aten.mm.default"], 1)

        lowered = rewritten.to_backend(XnnpackPartitioner())
        left = outside(lowered.exported_program())
        self.assertFalse([op for op in left if op in MATMULS], left)
        torch.testing.assert_close(run_pte(lowered, self.inputs), self.expected, atol=1e-4, rtol=1e-4)

    def check_lowers_without_configuration(self, model, inputs, rewrites, dynamic_shapes=None,
                                           runs=()):
        """GraftPass with no arguments in to_edge_transform_and_lower, and
        rewrite(to_edge(ep)): some rewrites or none (`rewrites`; how many
        depends on the catalogue), every GEMM delegated to XNNPACK, the .pte
        equal to eager on `inputs` and on each of `runs`."""
        ep = torch.export.export(model, inputs, dynamic_shapes=dynamic_shapes)
        graft_pass = GraftPass()
        two_step = rewrite(to_edge(ep)).to_backend(XnnpackPartitioner())
        for lowered in (to_edge_transform_and_lower(
                ep, transform_passes=[graft_pass], partitioner=[XnnpackPartitioner()]), two_step):
            left = outside(lowered.exported_program())
            self.assertFalse([op for op in left if op in MATMULS], left)
            program = Runtime.get().load_program(lowered.to_executorch().buffer)
            for args in (inputs,) + tuple(runs):
                with torch.no_grad():
                    expected = model(*args)
                out = program.load_method("forward").execute(list(args))[0]
                torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
        self.assertEqual(graft_pass.stats.rewrites > 0, rewrites, graft_pass.stats.report)

    def test_no_configuration_2d_matmul_with_transposed_weight(self):
        self.check_lowers_without_configuration(TwoDimensional().eval(), (torch.randn(5, 8),), True)

    def test_no_configuration_matmul_transpose_plus_bias(self):
        self.check_lowers_without_configuration(MatmulBias().eval(), (torch.randn(2, 5, 8),), True)

    def test_no_configuration_tied_embedding_head(self):
        self.check_lowers_without_configuration(
            TiedOnly().eval(), (torch.randint(0, 100, (1, 8)),), True)

    def test_no_configuration_nothing_to_rewrite(self):
        self.check_lowers_without_configuration(NothingToRewrite(), (torch.randn(3, 4),), False)

    def test_no_configuration_dynamic_sequence_length(self):
        seq = torch.export.Dim("seq", min=2, max=64)
        self.check_lowers_without_configuration(
            TinyDecoder().eval(), (torch.randint(0, 300, (1, 16)),), True,
            dynamic_shapes=({1: seq},), runs=[(torch.randint(0, 300, (1, 40)),)])

    def test_user_config_is_extended_not_replaced(self):
        """A compile_config the user passes keeps what it had and gains linear."""
        from executorch.exir import EdgeCompileConfig

        config = EdgeCompileConfig(_core_aten_ops_exception_list=[torch.ops.aten.gelu.default])
        to_edge_transform_and_lower(torch.export.export(TiedOnly().eval(), (torch.randint(0, 100, (1, 8)),)),
                                    transform_passes=[GraftPass()],
                                    partitioner=[XnnpackPartitioner()], compile_config=config)
        self.assertIn(torch.ops.aten.gelu.default, config._core_aten_ops_exception_list)
        self.assertIn(torch.ops.aten.linear.default, config._core_aten_ops_exception_list)

    def test_rewrite_leaves_the_managers_config_alone(self):
        edge = to_edge(torch.export.export(TwoDimensional().eval(), (torch.randn(5, 8),)))
        before = list(edge.compile_config._core_aten_ops_exception_list)
        rewritten = rewrite(edge)
        self.assertEqual(edge.compile_config._core_aten_ops_exception_list, before)
        self.assertIn(torch.ops.aten.linear.default,
                      rewritten.compile_config._core_aten_ops_exception_list)

    def test_program_without_a_compile_config_is_refused_clearly(self):
        """An edge program whose verifier holds no EdgeCompileConfig (made
        outside to_edge): graft cannot make its manager accept linear, and
        says so instead of leaving a program the manager will refuse."""
        from executorch.exir.verification.verifier import EXIREdgeDialectVerifier

        edge = to_edge(torch.export.export(TiedOnly().eval(),
                                           (torch.randint(0, 100, (1, 8)),))).exported_program()
        _compat.set_verifiers(edge, [EXIREdgeDialectVerifier(class_only=True)])
        with self.assertRaisesRegex(GraftError, "introduced aten.linear.default.*no EdgeCompileConfig"):
            GraftPass()(edge)

    def test_user_input_named_like_a_parameter_is_not_rewritten(self):
        model = ParameterLookalike().eval()
        inputs = (torch.randn(5, 4), torch.randn(8, 4))
        ep = torch.export.export(model, inputs)
        user = [s.arg.name for s in ep.graph_signature.input_specs if s.kind.name == "USER_INPUT"]
        self.assertTrue(any(name.startswith("p_weight") for name in user), user)

        graft_pass, census = GraftPass(), Census()
        lowered = to_edge_transform_and_lower(
            ep, transform_passes=[graft_pass, census], partitioner=[XnnpackPartitioner()])
        self.assertEqual(graft_pass.stats.applied.get("mm_transposed_weight_to_linear"), 1)
        linear = [n for n in census.graph.nodes if op_name(n) == "aten.linear.default"]
        self.assertEqual(len(linear), 1)
        weight = linear[0].args[1]
        self.assertEqual(weight.op, "placeholder")
        self.assertEqual(ep.graph_signature.inputs_to_parameters.get(weight.name), "W")
        self.assertEqual(census.ops["aten.mm.default"], 1)  # x @ p_weight.T stays an mm
        with torch.no_grad():
            expected = model(*inputs)
        torch.testing.assert_close(run_pte(lowered, inputs), expected, atol=1e-4, rtol=1e-4)

    def test_pass_leaves_its_input_program_alone_and_takes_rule_files(self):
        edge = to_edge(self.ep).exported_program()
        before = [(n.name, str(n.target)) for n in edge.graph.nodes]
        with tempfile.TemporaryDirectory() as d:
            rules = os.path.join(d, "mine.rules")
            with open(rules, "w") as f:
                f.write("alias transpose(a) = permute_copy(a, [1, 0])\n"
                        "rule only_mm:\n  mm(x, transpose(const W)) -> linear(x, W)\n")
            graft_pass = GraftPass(rules=[rules])
            result = graft_pass(edge)
            self.assertTrue(result.modified)
            self.assertEqual(set(graft_pass.stats.applied), {"only_mm"})
            self.assertEqual([(n.name, str(n.target)) for n in edge.graph.nodes], before)
            ops = collections.Counter(op_name(n) for n in result.exported_program.graph.nodes)
            self.assertEqual(ops["aten.mm.default"], 0)
            with torch.no_grad():
                torch.testing.assert_close(result.exported_program.module()(*self.inputs),
                                           self.expected, atol=1e-5, rtol=1e-5)

            with open(rules, "w") as f:
                f.write("rule broken:\n  mm(x, y) -> nosuchop(x, y)\n")
            with self.assertRaises(GraftError) as ctx:
                GraftPass(rules=[rules])(edge)
            self.assertIn("mine.rules:2:", str(ctx.exception))

    def test_rules_as_text_and_per_rule_stats(self):
        edge = to_edge(self.ep).exported_program()
        rules = graft.parse_rules(
            "rule logits:\n  view_copy(mm(view_copy(x, _), transpose(const W)), _) -> linear(x, W)\n"
            "rule never:\n  relu(relu(x)) -> relu(x)\n", "inline.rules")
        graft_pass = GraftPass(rules=rules)
        result = graft_pass(edge)
        self.assertTrue(result.modified)
        stats = graft_pass.stats
        self.assertEqual((stats.rules["logits"].matched, stats.rules["logits"].applied), (1, 1))
        self.assertEqual(stats.rules["never"].applied, 0)
        self.assertTrue(stats.converged)
        self.assertEqual([str(_compat.aten_of(op)) for op in graft_pass.created_ops],
                         ["aten.linear.default"])
        with torch.no_grad():
            torch.testing.assert_close(result.exported_program.module()(*self.inputs),
                                       self.expected, atol=1e-5, rtol=1e-5)

    def test_unsupported_versions_are_named(self):
        saved = dict(_compat.SUPPORTED)
        try:
            _compat.SUPPORTED["torch"] = ((1, 0), (1, 1))
            with self.assertRaisesRegex(GraftError, r"supports torch >= 1\.0, < 1\.1.*; torch 2\."):
                _compat.check_versions()
        finally:
            _compat.SUPPORTED.update(saved)


if __name__ == "__main__":
    unittest.main()
