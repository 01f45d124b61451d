"""The layering of include/graft/ is a build fact: the real tree keeps the
table in layers.bzl, and the check reports what breaks it."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layering_check  # noqa: E402


def workspace():
    # Under `bazel test` the runfiles tree holds the workspace as `graft`.
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


LAYERS = {
    "ir": {"hdrs": ["ir/*.h"], "deps": []},
    "ops": {"hdrs": ["ops/*.h"], "deps": ["ir"]},
    "match": {"hdrs": ["match/*.h"], "deps": ["ops"]},
    "interop": {"hdrs": ["interop/*.h"], "deps": ["ops"]},
}
EXTERNAL = {"ir": {"@absl": ["absl/"]}, "interop": {"@torch": ["torch/"]}}


class RealTree(unittest.TestCase):
    def test_every_header_keeps_the_layering(self):
        root = workspace()
        layers, external = layering_check.load_layers(os.path.join(root, "layers.bzl"))
        self.assertIn("ir", layers)
        errors = layering_check.check(os.path.join(root, "include"), layers, external)
        self.assertEqual(errors, [], "\n" + "\n".join(errors))


class Synthetic(unittest.TestCase):
    def tree(self, files):
        d = tempfile.mkdtemp()
        for rel, text in files.items():
            path = os.path.join(d, "graft", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        return d

    def check(self, files, layers=LAYERS):
        return layering_check.check(self.tree(files), layers, EXTERNAL)

    def test_downward_and_transitive_includes_pass(self):
        self.assertEqual(self.check({
            "ir/graph.h": '#include <vector>\n#include "absl/types/span.h"\n',
            "ops/catalogue.h": '#include "graft/ir/graph.h"\n',
            "match/matchers.h": '#include "graft/ops/catalogue.h"\n#include "graft/ir/graph.h"\n',
        }), [])

    def test_backward_include_names_file_line_and_layers(self):
        errors = self.check({
            "ir/builder.h": '// builds\n#include "graft/ops/catalogue.h"\n',
            "ops/catalogue.h": "",
        })
        self.assertEqual(len(errors), 1)
        self.assertIn('include/graft/ir/builder.h:2: #include "graft/ops/catalogue.h"', errors[0])
        self.assertIn("layer ir may not include layer ops", errors[0])

    def test_sibling_layers_may_not_include_each_other(self):
        errors = self.check({
            "ir/graph.h": "",
            "ops/catalogue.h": "",
            "match/matchers.h": "",
            "interop/x.h": '#include "graft/match/matchers.h"\n',
        })
        self.assertEqual(len(errors), 1)
        self.assertIn("layer interop may not include layer match", errors[0])

    def test_external_library_only_where_its_layer_allows(self):
        errors = self.check({
            "ir/graph.h": '#include "absl/types/span.h"\n',
            "match/m.h": "#include <torch/script.h>\n",
            "interop/t.h": "#include <torch/script.h>\n#include <sys/stat.h>\n",
        })
        self.assertEqual(len(errors), 1)
        self.assertIn("include/graft/match/m.h:1", errors[0])
        self.assertIn("torch/script.h", errors[0])

    def test_header_outside_every_layer(self):
        errors = self.check({"misc/x.h": ""})
        self.assertEqual(len(errors), 1)
        self.assertIn("include/graft/misc/x.h: in no layer", errors[0])

    def test_missing_header(self):
        errors = self.check({"ir/a.h": '#include "graft/ir/gone.h"\n'})
        self.assertEqual(len(errors), 1)
        self.assertIn("no such header", errors[0])

    def test_cycle_in_the_table(self):
        layers = {"a": {"hdrs": ["a/*.h"], "deps": ["b"]}, "b": {"hdrs": ["b/*.h"], "deps": ["a"]}}
        errors = self.check({}, layers)
        self.assertTrue(errors)
        self.assertIn("depend on each other", errors[0])


if __name__ == "__main__":
    unittest.main()
