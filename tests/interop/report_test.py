"""graft.report, the delegation report: a small model (fast) through the
Python API and the command line, and the whisper decoder (two lowerings,
about two minutes on two cores) through the command line.

Runs the graft package installed in this Python (tools/setup.sh installs the
checkout's with pip); examples/whisper/decoder.py comes as data.
"""

import contextlib
import io
import logging
import os
import subprocess
import sys
import tempfile
import unittest

import torch

from executorch.exir.backend.utils import WhyNoPartition

from graft._partitioner import Refusals
from graft.report import delegation_report, main

LOGITS_RULE = "view_mm_view_to_linear"


class Small(torch.nn.Module):
    """Three ops XNNPACK leaves out, one reason each:
    h  x @ w.T on a rank-3 x: its mm's weight operand is a permute_copy (a
       catalogue rule makes it a linear);
    z  a GEMM whose weight is a user input (no rule can help);
    c  cumsum, which XNNPACK has no config for;
    and a convolution XNNPACK delegates (its FLOPs count in the total)."""

    B, T, D, N = 2, 8, 16, 32
    C, K = 4, 3  # the convolution's output channels and kernel (input channels: T)

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(self.N, self.D))
        self.conv = torch.nn.Conv1d(self.T, self.C, self.K)

    def forward(self, x, y):
        h = x @ self.w.t()
        z = x[0] @ y
        return torch.cumsum(h, dim=-1), z, self.conv(x)

    @classmethod
    def inputs(cls):
        return torch.randn(cls.B, cls.T, cls.D), torch.randn(cls.D, cls.T)

    @classmethod
    def flops(cls):
        """h's, z's, the convolution's: 2 x output elements x (T x K)."""
        conv_out = cls.B * cls.C * (cls.D - cls.K + 1)
        return (2 * cls.B * cls.T * cls.N * cls.D, 2 * cls.T * cls.T * cls.D,
                2 * conv_out * cls.T * cls.K)


def export_small():
    return torch.export.export(Small(), Small.inputs())


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "graft.report", *args],
                          capture_output=True, text=True)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records = []

    def emit(self, record):
        self.records.append(record)


class RefusalsTest(unittest.TestCase):
    """The partitioner's reasons are collected; the user's logging output is
    what it would have been without the report."""

    def log_refusal(self, logger):
        graph = torch.fx.Graph()
        node = graph.placeholder("x")
        seen = _Records()
        logger.addHandler(seen)
        self.addCleanup(logger.removeHandler, seen)
        with Refusals() as refusals:
            WhyNoPartition(logger)(node, "no kernel for x")
        return refusals.reasons, [r for r in seen.records if isinstance(r.msg, WhyNoPartition)]

    def test_collected_and_not_printed(self):
        logger = logging.getLogger("executorch.report_test.quiet")
        reasons, printed = self.log_refusal(logger)
        self.assertEqual(reasons, {"x": ["no kernel for x"]})
        self.assertEqual(printed, [])
        self.assertEqual(logger.level, logging.NOTSET)  # restored

    def test_printed_when_the_user_asked_for_debug(self):
        logger = logging.getLogger("executorch.report_test.verbose")
        logger.setLevel(logging.DEBUG)
        reasons, printed = self.log_refusal(logger)
        self.assertEqual(reasons, {"x": ["no kernel for x"]})
        self.assertEqual(len(printed), 1)
        self.assertEqual(logger.level, logging.DEBUG)


class SmallModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # What the user's logging sees while the report captures the
        # partitioner's reasons: nothing it would not have seen anyway.
        cls.seen = _Records()
        logger = logging.getLogger("executorch")
        cls.level = logger.level
        logger.addHandler(cls.seen)
        try:
            cls.report = delegation_report(export_small(), name="small")
        finally:
            logger.removeHandler(cls.seen)
        cls.by_op = {}
        for o in cls.report.before.outside:
            cls.by_op.setdefault(o.op, []).append(o)

    def test_logging_is_left_as_it_was(self):
        self.assertEqual(logging.getLogger("executorch").level, self.level)
        self.assertFalse([r for r in self.seen.records if isinstance(r.msg, WhyNoPartition)])

    def test_costs_and_shares(self):
        h, z, conv = Small.flops()
        before = self.report.before
        self.assertEqual(before.flops, h + z + conv)
        self.assertNotIn("aten.convolution.default", self.by_op)  # delegated
        mms = sorted(self.by_op["aten.mm.default"], key=lambda o: -o.cost)
        self.assertEqual([o.cost for o in mms], [h, z])
        self.assertAlmostEqual(before.delegated_flops(), conv / (h + z + conv))
        self.assertEqual(self.by_op["aten.cumsum.default"][0].cost, Small.B * Small.T * Small.N)
        self.assertAlmostEqual(self.report.after.delegated_flops(), (h + conv) / (h + z + conv))

    def test_reasons(self):
        for mm in self.by_op["aten.mm.default"]:
            self.assertEqual(mm.reasons, ["Expected weight to be a static param"])
        self.assertEqual(self.by_op["aten.cumsum.default"][0].reasons,
                         ["XnnpackPartitioner has no config for cumsum.default"])

    def test_fixes_and_misses(self):
        h, z = sorted(self.by_op["aten.mm.default"], key=lambda o: -o.cost)
        # The rule rooted at the outer view_copy fires first in the driver.
        self.assertEqual([f.rule for f in h.fixes], [LOGITS_RULE, "mm_transposed_weight_to_linear"])
        self.assertEqual(h.fixes[0].rewrite, self.report.rules.describe(LOGITS_RULE))
        self.assertEqual(z.fixes, [])
        miss = {m.rule: m for m in z.misses}["mm_transposed_weight_to_linear"]
        self.assertEqual(miss.where, "operand 1")
        self.assertIn("expected a 2-D transpose", miss.reason)
        self.assertEqual(self.by_op["aten.cumsum.default"][0].fixes, [])

    def test_after(self):
        after = self.report.after
        self.assertEqual(after.stats.rules[LOGITS_RULE].applied, 1)
        # What stays out is what was out, less the mm the rule made a linear.
        before = sorted(o.op for o in self.report.before.outside)
        before.remove("aten.mm.default")
        self.assertEqual(sorted(o.op for o in after.outside), before)
        self.assertEqual([o.cost for o in after.outside if o.counts_flops], [Small.flops()[1]])

    def test_text(self):
        text = str(self.report)
        h, z, conv = Small.flops()
        total = h + z + conv
        self.assertIn(f"{100 * h / total:.1f}%  aten.mm.default", text)
        self.assertIn(f"fix: {LOGITS_RULE} (rooted at ", text)
        self.assertIn("why: Expected weight to be a static param", text)
        self.assertIn("fix: none of the rules covers it", text)
        self.assertIn(f"after graft's rules (GraftPass: {LOGITS_RULE} x1)", text)
        self.assertIn(f"delegated: {100 * conv / total:.1f}% of GEMM/convolution FLOPs", text)
        self.assertIn(f"delegated: {100 * (h + conv) / total:.1f}% of GEMM/convolution FLOPs", text)

    def test_dot(self):
        dot = self.report.to_dot()
        for o in self.report.before.outside:
            self.assertIn(f'"{o.node}" [', dot)
        self.assertIn(f"fix: {LOGITS_RULE}", dot)
        self.assertIn("XnnpackBackend delegate", dot)


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_user_rules_and_svg(self):
        pt2, rules, svg = self.path("small.pt2"), self.path("mine.rules"), self.path("small.svg")
        torch.export.save(export_small(), pt2)
        with open(rules, "w") as f:
            f.write("rule mine:\n  mm(x, transpose(const W)) -> linear(x, W)\n")
        run = run_cli(pt2, "--rules", rules, "--svg", svg, "--no-after")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(f"rules: {rules} (1 rule)", run.stdout)
        self.assertIn("fix: mine (rooted at ", run.stdout)
        self.assertNotIn("after graft's rules", run.stdout)
        with open(svg) as f:
            self.assertIn("<svg", f.read())

    def main(self, *args):
        """graft.report's main in this process (a subprocess costs a torch
        import): (exit status, stderr)."""
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                status = main(list(args))
            except SystemExit as e:  # argparse's usage errors
                status = e.code
        return status, err.getvalue()

    def test_errors(self):
        status, err = self.main(self.path("missing.pt2"))
        self.assertEqual(status, 1)
        self.assertIn("missing.pt2: no such file", err)

        bad = self.path("bad.pt2")
        with open(bad, "w") as f:
            f.write("not a zip")
        status, err = self.main(bad)
        self.assertEqual(status, 1)
        self.assertIn("not a program saved by torch.export.save", err)

        pt2, rules = self.path("small.pt2"), self.path("broken.rules")
        torch.export.save(export_small(), pt2)
        with open(rules, "w") as f:
            f.write("rule broken:\n  mm(x -> x\n")
        status, err = self.main(pt2, "--rules", rules)
        self.assertEqual(status, 1)
        self.assertIn(f"{rules}:2:", err)

        status, err = self.main(pt2, "--catalogue")
        self.assertEqual(status, 2)
        self.assertIn("--catalogue adds graft's catalogue to --rules", err)


def whisper_decoder_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "examples", "whisper")


class WhisperTest(unittest.TestCase):
    """The report graft was born from: the logits mm, ~42% of the decoder's
    matmul FLOPs, refused for its permute_copy weight, fixed by
    view_mm_view_to_linear; with graft's rules every GEMM is delegated."""

    def test_logits(self):
        sys.path.insert(0, whisper_decoder_dir())
        from decoder import N_STATE, N_TOKENS, N_VOCAB, example_inputs, make_decoder

        with tempfile.TemporaryDirectory() as d:
            pt2 = os.path.join(d, "whisper_decoder.pt2")
            torch.export.save(torch.export.export(make_decoder(), example_inputs()), pt2)
            run = run_cli(pt2)
        self.assertEqual(run.returncode, 0, run.stderr)
        out = run.stdout
        gemms = out.split("GEMMs and convolutions outside")[1].split("other ops outside")[0]
        rows = [l for l in gemms.splitlines() if "aten." in l]
        self.assertEqual(len(rows), 1, gemms)  # the logits mm, and only it
        logits = rows[0]
        self.assertIn("aten.mm.default", logits)
        self.assertIn(f"[{N_TOKENS}, {N_STATE}] x [{N_STATE}, {N_VOCAB}] -> [{N_TOKENS}, {N_VOCAB}]",
                      logits)
        share = float(logits.split("%")[0])
        self.assertGreater(share, 40.0)
        self.assertLess(share, 44.0)
        self.assertIn("why: Expected weight to be a static param", gemms)
        self.assertIn(f"fix: {LOGITS_RULE} (rooted at ", gemms)
        after = out.split("after graft's rules")[1]
        self.assertIn("delegated: 100.0% of GEMM/convolution FLOPs", after)
        self.assertIn(f"{LOGITS_RULE} x1", after)


if __name__ == "__main__":
    unittest.main()
