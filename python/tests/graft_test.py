"""graft's Python module without torch: rule sets, the driver on text
graphs, statistics as objects, errors as graft.GraftError with graft's
file:line:col. Runs the installed package (tools/setup.sh).

usage: graft_test.py WHISPER_LOGITS_GRAFT  (Bazel passes the fixture)
"""

import os
import sys
import tempfile
import unittest

import graft

FIXTURE = None  # tests/fixtures/whisper_logits.graft


class GraftModuleTest(unittest.TestCase):
    def test_catalogue_rewrites_the_whisper_logits(self):
        with open(FIXTURE) as f:
            text, stats = graft.rewrite_text(f.read(), filename=FIXTURE)
        self.assertIn("aten::linear.default(%x, %p_token_embedding_weight)", text)
        self.assertNotIn("aten::mm", text)
        self.assertEqual(stats.rewrites, 1)
        self.assertTrue(stats.converged)
        rule = stats.rules["view_mm_view_to_linear"]
        self.assertEqual((rule.tried, rule.matched, rule.applied, rule.refused), (1, 1, 1, 0))
        self.assertEqual(stats.applied["view_mm_view_to_linear"], 1)
        self.assertIn("view_mm_view_to_linear", stats.report)
        self.assertIs(graft.catalogue(), graft.catalogue())  # compiled once

    def test_refusals_carry_their_reason(self):
        with open(FIXTURE) as f:
            source = f.read()
        # x's last dim is 384: the rule matches and its constraint refuses it.
        rules = graft.parse_rules(
            "rule picky:\n"
            "  view_copy(mm(view_copy(x, _), transpose(const W)), _) -> linear(x, W)\n"
            "  where dim(x, -1) == 7\n", "picky.rules")
        text, stats = graft.rewrite_text(source, rules)
        self.assertIn("aten::mm", text)
        picky = stats.rules["picky"]
        self.assertEqual((picky.matched, picky.applied, picky.refused), (1, 0, 1))
        self.assertEqual(len(picky.refusals), 1)
        self.assertIn("dim(x, -1) == 7", next(iter(picky.refusals)))

    def test_rule_files_and_selection(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mine.rules")
            with open(path, "w") as f:
                f.write("rule a:\n  relu(relu(x)) -> relu(x)\n"
                        "rule b:\n  mm(x, transpose(const W)) -> linear(x, W)\n")
            rules = graft.load_rules([path])
            self.assertEqual(rules.names, ["a", "b"])
            self.assertEqual(len(rules), 2)
            self.assertIn("relu", rules.describe("a"))
            source = "graph @g(%x: f32[2, 3]) {\n  %a = relu(%x)\n  %b = relu(%a)\n  return %b\n}\n"
            _, stats = graft.rewrite_text(source, [path], disable=["a"])
            self.assertEqual(stats.rewrites, 0)
            text, stats = graft.rewrite_text(source, [path], only=["a"])
            self.assertEqual(stats.applied, {"a": 1})  # the rules that ran
            self.assertEqual(text.count("relu"), 1)
            with self.assertRaisesRegex(graft.GraftError, "no rule named 'c'"):
                graft.rewrite_text(source, rules, only=["c"])

    def test_errors_are_graft_errors_with_locations(self):
        with self.assertRaises(graft.GraftError) as ctx:
            graft.parse_rules("rule r:\n  mm(x, y) -> nosuchop(x, y)\n", "mine.rules")
        self.assertRegex(str(ctx.exception), r"^mine\.rules:2:\d+: ")
        self.assertTrue(issubclass(graft.GraftError, RuntimeError))
        with self.assertRaisesRegex(graft.GraftError, r"^model\.graft:2:\d+: "):
            graft.rewrite_text("graph @g(%x: f32[2]) {\n  %y = = relu(%x)\n  return %y\n}\n",
                               filename="model.graft")
        with self.assertRaisesRegex(graft.GraftError, "no-such-dir"):
            graft.load_rules(["no-such-dir/x.rules"])
        with self.assertRaisesRegex(graft.GraftError, "malformed|JSON"):
            from graft import _graft
            _graft.rewrite_program("{not json", graft.catalogue())


if __name__ == "__main__":
    FIXTURE = os.path.abspath(sys.argv.pop(1))
    unittest.main()
