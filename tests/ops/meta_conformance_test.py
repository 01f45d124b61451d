"""graft's shape functions against torch's meta kernels: generates the cases
(meta_cases.py), runs meta_checker on them, and fails on any mismatch.

Usage: meta_conformance_test.py path/to/meta_checker
"""

import os
import subprocess
import sys
import tempfile
import unittest

import meta_cases

CHECKER = None


class MetaConformanceTest(unittest.TestCase):

    def test_graft_agrees_with_torch(self):
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False,
                                         dir=os.environ.get("TEST_TMPDIR")) as f:
            for case in meta_cases.cases(seed=12):
                f.write("\t".join(case) + "\n")
        run = subprocess.run([CHECKER, f.name], capture_output=True, text=True)
        print(run.stdout)
        self.assertEqual(run.returncode, 0, run.stdout[-20000:] + run.stderr)
        # Every family checked something: none passes by skipping its cases.
        checked = {}
        for line in run.stdout.splitlines():
            if line.startswith("  ") and "/" in line:
                family, counts = line.strip().split(": ")
                checked[family] = int(counts.split("/")[1].split()[0])
        for family in meta_cases.FAMILIES:
            self.assertGreater(checked.get(family, 0), 0, family + " checked no case")


if __name__ == "__main__":
    CHECKER = os.path.abspath(sys.argv.pop(1))
    unittest.main()
