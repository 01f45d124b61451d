"""graft-opt on TorchScript files, as a user runs it: the input shapes a
loaded module's graph has lost come from --input-types or from the
archive's graft_input_types extra file; the rewritten module loads back in
Python and computes the same numbers; bad type lists and missing shapes get
a clear error and no output file.

usage: graft_opt_torchscript_test.py GRAFT_OPT  (Bazel passes the binary)
"""

import os
import pty
import select
import subprocess
import sys
import tempfile
import unittest
from typing import Optional

import torch

GRAFT_OPT = None


class Logits(torch.nn.Module):
    """x @ W.T on a parameter: matmul(x, t(W)) in TorchScript."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(16, 8))

    def forward(self, x):
        return torch.relu(x) @ self.W.t()


def graft_opt(*args):
    run = subprocess.run([GRAFT_OPT, *args], capture_output=True, text=True, timeout=300)
    return run.returncode, run.stdout, run.stderr


def kinds(module):
    return [n.kind() for n in module.graph.nodes()]


class TorchScriptFiles(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tmp = tempfile.mkdtemp()
        self.model = Logits().eval()
        self.x = torch.randn(4, 8)
        self.expected = self.model(self.x)
        self.bare = os.path.join(self.tmp, "bare.pt")  # no recorded shapes
        torch.jit.save(torch.jit.script(self.model), self.bare)

    def load(self, path):
        files = {"graft_input_types": ""}
        m = torch.jit.load(path, _extra_files=files)
        return m, files["graft_input_types"].decode()

    def test_input_types_flag(self):
        out = os.path.join(self.tmp, "out.pt")
        rc, _, err = graft_opt(self.bare, "--input-types", "f32[4, 8]", "-o", out, "--stats")
        self.assertEqual(rc, 0, err)
        self.assertIn("matmul_transposed_weight_to_linear", err)
        m, recorded = self.load(out)
        self.assertIn("aten::linear", kinds(m))
        self.assertNotIn("aten::matmul", kinds(m))
        torch.testing.assert_close(m(self.x), self.expected)
        # The types used travel with the output, so the next run needs none.
        self.assertEqual(recorded.replace(" ", ""), "f32[4,8]")
        rc, _, err = graft_opt(out, "--check")
        self.assertEqual(rc, 0, err)

    def test_flag_wins_over_the_extra_file(self):
        stale = os.path.join(self.tmp, "stale.pt")
        torch.jit.save(torch.jit.script(self.model), stale,
                       _extra_files={"graft_input_types": "f32[2, 8]"})
        out = os.path.join(self.tmp, "out.pt")
        rc, _, err = graft_opt(stale, "--input-types=f32[4, 8]", "-o", out)
        self.assertEqual(rc, 0, err)
        m, recorded = self.load(out)
        self.assertEqual(recorded.replace(" ", ""), "f32[4,8]")
        torch.testing.assert_close(m(self.x), self.expected)
        # Without the flag, the extra file's shapes are used.
        rc, text, err = graft_opt(stale, "--to", "text")
        self.assertEqual(rc, 0, err)
        self.assertIn("f32[2, 16]", text)

    def test_missing_shapes_say_how_to_give_them(self):
        # A module without shapes imports (graft_opt_partial_types_test.py);
        # one whose input may be None needs its types.
        class MaybeNone(torch.nn.Module):
            def forward(self, x: Optional[torch.Tensor]):
                return torch.zeros(1) if x is None else torch.relu(x)

        maybe = os.path.join(self.tmp, "maybe.pt")
        torch.jit.save(torch.jit.script(MaybeNone()), maybe)
        out = os.path.join(self.tmp, "never.pt")
        rc, _, err = graft_opt(maybe, "-o", out)
        self.assertEqual(rc, 1)
        self.assertIn("which may be None", err)
        self.assertIn("--input-types", err)
        self.assertFalse(os.path.exists(out))

    def test_bad_type_lists(self):
        out = os.path.join(self.tmp, "never.pt")
        for types, message in [("f32[4, 8", "--input-types:1:"),
                               ("q32[4, 8]", "--input-types:1:1"),
                               ("f32[4, 8], f32[4, 8]", "given 2 input types for a graph with 1")]:
            with self.subTest(types=types):
                rc, _, err = graft_opt(self.bare, "--input-types", types, "-o", out)
                self.assertEqual(rc, 1, err)
                self.assertIn(message, err)
                self.assertFalse(os.path.exists(out))

    def test_flag_refused_for_formats_with_types(self):
        text = os.path.join(self.tmp, "g.graft")
        with open(text, "w") as f:
            f.write("graph main(%x: f32[2, 2]) {\n  return %x\n}\n")
        rc, _, err = graft_opt(text, "--input-types", "f32[2, 2]")
        self.assertEqual(rc, 2)
        self.assertIn("text graphs carry their types", err)
        rc, _, err = graft_opt(self.bare, "--input-types")
        self.assertEqual(rc, 2)
        self.assertIn("--input-types needs a value", err)

    def test_an_archive_goes_to_a_terminal_only_on_request(self):
        """Without -o the output goes to standard output; a TorchScript
        archive is not written to a terminal unless `-o -` says so."""
        primary, secondary = pty.openpty()
        try:
            run = subprocess.run([GRAFT_OPT, self.bare], stdout=secondary,
                                 stderr=subprocess.PIPE, text=True, timeout=300)
            self.assertEqual(run.returncode, 2, run.stderr)
            self.assertIn("the torchscript output is an archive, not text; give -o FILE", run.stderr)
            # Read while it writes: an archive larger than the terminal's
            # buffer would otherwise block the writer.
            proc = subprocess.Popen([GRAFT_OPT, self.bare, "-o", "-"], stdout=secondary,
                                    stderr=subprocess.DEVNULL)
            written = b""
            while proc.poll() is None or select.select([primary], [], [], 0.5)[0]:
                if select.select([primary], [], [], 0.5)[0]:
                    written += os.read(primary, 1 << 16)
            self.assertEqual(proc.returncode, 0)
            self.assertTrue(written.startswith(b"PK"), written[:16])  # a zip
        finally:
            os.close(primary)
            os.close(secondary)
        # Not a terminal: written as before.
        rc = subprocess.run([GRAFT_OPT, self.bare], capture_output=True, timeout=300)
        self.assertEqual(rc.returncode, 0, rc.stderr)
        self.assertTrue(rc.stdout.startswith(b"PK"))


if __name__ == "__main__":
    GRAFT_OPT = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.environ["GRAFT_OPT"]
    unittest.main()
