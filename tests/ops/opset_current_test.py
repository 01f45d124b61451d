"""Fails when include/graft/ops/opset.h differs from what
tools/opgen/gen_opset.py makes from the installed torch and executorch."""

import subprocess
import sys
import unittest

GENERATOR, TABLE = sys.argv[1], sys.argv[2]


class OpsetCurrentTest(unittest.TestCase):
    def test_table_matches_generator(self):
        run = subprocess.run([sys.executable, GENERATOR, "--check", TABLE],
                             capture_output=True, text=True)
        # A crash is not a stale table: show its own error.
        self.assertIn(run.returncode, (0, 1), run.stderr[-4000:])
        self.assertEqual(run.returncode, 0, run.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
