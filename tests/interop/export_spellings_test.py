"""Every way a user writes `x @ W.T` is rewritten on the program paths that
do not go through TorchScript: torch.export's ATen program
(graft.export.rewrite, where the spellings arrive as themselves: `t`,
`numpy_T`, `mT`, `mH`, `matrix_H`, `adjoint`, `transpose.int`, `swapaxes`,
`swapdims`, `permute`, `movedim.int`, `moveaxis.int`) and the edge dialect
(graft.executorch.rewrite after to_edge, where they are decomposed into
`permute_copy` / `t_copy`). Each real module ends with one linear on the
parameter and no GEMM against a transpose, and computes what it computed.
A batched permute of a rank-3 weight and a transpose of a computed weight
stay GEMMs.

Runs the graft package installed in this Python (tools/setup.sh).
"""

import unittest

import torch
from executorch.exir import to_edge

import graft.executorch
import graft.export
from graft import _compat
from tests.spellings.transpose_spellings import SPELLINGS, ComputedWeight, Logits, Rank3Weight

GEMMS = {"aten.mm.default", "aten.bmm.default", "aten.matmul.default", "aten.addmm.default"}


def ops(graph_module):
    """The ATen names of a graph's calls, ATen and edge ops alike."""
    return [str(_compat.aten_of(n.target)) for n in graph_module.graph.nodes
            if n.op == "call_function"]


def through_export(model, x):
    """graft.export.rewrite on the ATen program: (its ops, its module)."""
    ep, _ = graft.export.rewrite(torch.export.export(model, (x,)))
    return ops(ep.graph_module), ep.module()


def through_edge(model, x):
    """graft.executorch.rewrite on the edge program: (its ops, its module)."""
    edge = graft.executorch.rewrite(to_edge(torch.export.export(model, (x,))))
    ep = edge.exported_program()
    return ops(ep.graph_module), ep.module()


PATHS = {"export": through_export, "edge": through_edge}


class ExportSpellings(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)

    def test_every_spelling_becomes_one_linear(self):
        x = torch.randn(4, 8)
        for spelling, transpose in SPELLINGS.items():
            model = Logits(transpose).eval()
            want = model(x)
            for path, rewrite in PATHS.items():
                with self.subTest(spelling=spelling, path=path):
                    got_ops, module = rewrite(model, x)
                    self.assertEqual(got_ops, ["aten.linear.default"],
                                     f"{spelling} on the {path} path")
                    torch.testing.assert_close(module(x), want, rtol=1e-5, atol=1e-5)

    def test_batched_input(self):
        x = torch.randn(2, 3, 8)
        model = Logits(lambda W: W.T).eval()
        for path, rewrite in PATHS.items():
            with self.subTest(path=path):
                got_ops, module = rewrite(model, x)
                self.assertIn("aten.linear.default", got_ops)
                self.assertFalse(GEMMS & set(got_ops), got_ops)
                torch.testing.assert_close(module(x), model(x), rtol=1e-5, atol=1e-5)

    def test_non_transposes_stay_gemms(self):
        cases = {"computed weight": (ComputedWeight(), torch.randn(4, 8)),
                 "rank-3 permute": (Rank3Weight(), torch.randn(2, 4, 8))}
        for name, (model, x) in cases.items():
            for path, rewrite in PATHS.items():
                with self.subTest(case=name, path=path):
                    got_ops, module = rewrite(model.eval(), x)
                    self.assertNotIn("aten.linear.default", got_ops)
                    self.assertTrue(GEMMS & set(got_ops), got_ops)
                    torch.testing.assert_close(module(x), model(x), rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
    unittest.main()
