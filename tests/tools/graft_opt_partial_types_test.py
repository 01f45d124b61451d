"""graft-opt on TorchScript modules saved without shapes, as they usually
travel (torch.jit.script or torch.jit.trace, then torch.jit.save), and no
--input-types: a rule that holds for any types (matmul(x, t(W)) ->
linear(x, W)) rewrites them; one whose type check needs a fact the module
does not give (folding the bias needs the add's dtype and shape) does not,
and --explain names the fact. The output loads and computes the original's
numbers on inputs of shapes never given to graft.

usage: graft_opt_partial_types_test.py GRAFT_OPT  (Bazel passes the binary)
"""

import os
import subprocess
import sys
import tempfile
import unittest

import torch

GRAFT_OPT = None


class BiasedLogits(torch.nn.Module):
    """relu(x @ W.T + b): matmul(x, t(W)) then add in TorchScript."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(16, 8))
        self.b = torch.nn.Parameter(torch.randn(16))

    def forward(self, x):
        return torch.relu(x @ self.W.t() + self.b)


def graft_opt(*args):
    run = subprocess.run([GRAFT_OPT, *args], capture_output=True, text=True, timeout=300)
    return run.returncode, run.stdout, run.stderr


def kinds(module):
    return [n.kind() for n in module.graph.nodes()]


class ModulesWithoutShapes(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tmp = tempfile.mkdtemp()
        self.model = BiasedLogits().eval()

    def saved(self, how):
        path = os.path.join(self.tmp, how + ".pt")
        if how == "scripted":
            module = torch.jit.script(self.model)
        else:
            module = torch.jit.trace(self.model, torch.randn(4, 8))
        torch.jit.save(module, path)
        return path

    def check_rewritten(self, how):
        original = self.saved(how)
        out = os.path.join(self.tmp, how + ".out.pt")
        rc, _, err = graft_opt(original, "-o", out, "--stats")
        self.assertEqual(rc, 0, err)
        self.assertIn("matmul_transposed_weight_to_linear", err)
        rewritten = torch.jit.load(out)
        self.assertIn("aten::linear", kinds(rewritten))
        self.assertNotIn("aten::matmul", kinds(rewritten))
        reference = torch.jit.load(original)
        # Shapes were never fixed: two batch shapes, neither traced.
        for shape in [(3, 8), (2, 5, 8)]:
            x = torch.randn(*shape)
            torch.testing.assert_close(rewritten(x), reference(x))
            torch.testing.assert_close(rewritten(x), self.model(x))
        return original

    def test_scripted_module_is_rewritten(self):
        original = self.check_rewritten("scripted")
        # Folding the bias into the linear needs the add's type, which a
        # module without shapes does not give: refused, and --explain says
        # which fact was unknown.
        rc, _, err = graft_opt(original, "--explain", "add_linear_bias_to_linear",
                               "-o", os.path.join(self.tmp, "explained.pt"))
        self.assertEqual(rc, 0, err)
        self.assertIn("the type check needs the dtype of aten::add.Tensor's result, "
                      "which is unknown", err)
        # With the shapes given, it folds.
        rc, _, err = graft_opt(original, "--input-types", "f32[4, 8]", "--stats",
                               "-o", os.path.join(self.tmp, "typed.pt"))
        self.assertEqual(rc, 0, err)
        self.assertIn("add_linear_bias_to_linear", err)
        self.assertNotIn("aten::add", kinds(torch.jit.load(os.path.join(self.tmp, "typed.pt"))))

    def test_traced_module_is_rewritten(self):
        self.check_rewritten("traced")

    def test_text_shows_the_partial_types(self):
        rc, text, err = graft_opt(self.saved("scripted"), "--to", "text")
        self.assertEqual(rc, 0, err)
        self.assertIn(": ?", text)          # the input: `Tensor`, nothing known
        self.assertIn("f32[16, 8]", text)   # the parameter: its tensor's type


if __name__ == "__main__":
    GRAFT_OPT = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.environ["GRAFT_OPT"]
    unittest.main()
