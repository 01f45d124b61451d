"""Every way PyTorch writes `x @ W.T` reaches graft as a 2-D transpose.

Real modules, written each way a user writes a transpose, are traced to
TorchScript and saved (as models travel); graft-opt rewrites each one's
matmul against the transposed parameter into aten::linear, and the result
computes what the module computes. Non-transposes (a permute of a rank-3
weight, a transpose of a computed weight) are left alone.

usage: transpose_spellings_test.py GRAFT_OPT  (Bazel passes the binary)
"""

import os
import subprocess
import sys
import tempfile
import unittest

import torch

from tests.spellings.transpose_spellings import SPELLINGS, ComputedWeight, Logits, Rank3Weight

GRAFT_OPT = None


class TransposeSpellings(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tmp = tempfile.mkdtemp()

    def rewrite(self, model, x, name):
        """Traces and saves `model`, runs graft-opt on it; returns the
        loaded result, graft-opt's stderr and the rewritten graph's ops."""
        src = os.path.join(self.tmp, name + ".pt")
        out = os.path.join(self.tmp, name + ".out.pt")
        torch.jit.save(torch.jit.trace(model.eval(), x), src)
        types = "f32[" + ", ".join(str(d) for d in x.shape) + "]"
        run = subprocess.run(
            [GRAFT_OPT, src, "--input-types", types, "-o", out, "--stats"],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr)
        got = torch.jit.load(out)
        return got, run.stderr, [n.kind() for n in got.graph.nodes()]

    def test_every_spelling_becomes_linear(self):
        x = torch.randn(4, 8)
        for spelling, transpose in SPELLINGS.items():
            with self.subTest(spelling=spelling):
                model = Logits(transpose)
                got, _, ops = self.rewrite(model, x, "m")
                self.assertIn("aten::linear", ops, f"{spelling} was not rewritten: {ops}")
                self.assertNotIn("aten::matmul", ops)
                torch.testing.assert_close(got(x), model(x), rtol=1e-5, atol=1e-5)

    def test_batched_input(self):
        x = torch.randn(2, 3, 8)
        model = Logits(lambda W: W.T)
        got, _, ops = self.rewrite(model, x, "batched")
        self.assertIn("aten::linear", ops)
        torch.testing.assert_close(got(x), model(x), rtol=1e-5, atol=1e-5)

    def test_a_computed_weight_is_not_rewritten(self):
        x = torch.randn(4, 8)
        _, _, ops = self.rewrite(ComputedWeight(), x, "computed")
        self.assertNotIn("aten::linear", ops)
        self.assertIn("aten::matmul", ops)

    def test_a_rank3_permute_is_not_a_transpose(self):
        x = torch.randn(2, 4, 8)
        _, _, ops = self.rewrite(Rank3Weight(), x, "rank3")
        self.assertNotIn("aten::linear", ops)
        self.assertIn("aten::matmul", ops)


if __name__ == "__main__":
    GRAFT_OPT = os.path.abspath(sys.argv.pop(1))
    unittest.main()
