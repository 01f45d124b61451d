"""exir JSON/zip reading and writing on programs exported by this test:
graft-opt reads what executorch.exir.save writes and writes what
executorch.exir.load reads, unchanged when no rule fires, rewritten and
numerically equal when the catalogue fires.

usage: exir_roundtrip_test.py GRAFT_OPT  (Bazel passes the binary)
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

import torch
from executorch.exir import load, save, to_edge

GRAFT_OPT = None


class TiedLogits(torch.nn.Module):
    """Whisper's logits in miniature: embedding, a layer, x @ W.T on the tied
    embedding weight (rank 3, so matmul folds to view_copy / mm / view_copy)."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.proj = torch.nn.Linear(8, 8)
        self.ln = torch.nn.LayerNorm(8)

    def forward(self, tokens):
        x = self.ln(self.proj(self.emb(tokens)))
        return x @ torch.transpose(self.emb.weight, 0, 1)


class Mixed(torch.nn.Module):
    """Parameters, persistent and non-persistent buffers, a lifted constant,
    tensor lists (cat), list outputs (split), multi-output ops (layer_norm,
    max.dim), a -inf literal and a dtype argument."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(8, 4))
        self.register_buffer("b", torch.ones(8))
        self.register_buffer("nb", torch.full((8,), 0.5), persistent=False)
        self.C = torch.full((8,), 2.0)

    def forward(self, x, y):
        a = x @ self.W.T + self.b + self.nb
        c = torch.cat([a, a * self.C], dim=-1)
        s = torch.split(c, 4, dim=-1)
        m = torch.nn.functional.layer_norm(s[0], (4,))
        z = torch.full((3, 4), float("-inf"))
        t = x.to(torch.float16).float()
        return m + s[1] + torch.maximum(z, y), c.max(dim=-1)[0], t.sum()


class Dynamic(torch.nn.Module):
    """A dynamic batch: symbolic sizes in tensor metadata, sym_size nodes and
    view_copy with SymInt lists (opaque to graft), and an mm graft rewrites."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(8, 4))
        self.V = torch.nn.Parameter(torch.randn(6, 8))

    def forward(self, x, z):
        h = z @ self.W.T  # rank 2: mm(z, permute_copy(W))
        return x @ self.W.T, torch.relu(h) @ self.V.T


def cases():
    torch.manual_seed(0)
    batch = torch.export.Dim("batch", min=2, max=64)
    return {
        "tied_logits": (TiedLogits().eval(), (torch.randint(0, 50, (2, 5)),), None),
        "mixed": (Mixed().eval(), (torch.randn(2, 3, 4), torch.randn(2, 3, 4)), None),
        "dynamic": (
            Dynamic().eval(),
            (torch.randn(3, 5, 4), torch.randn(3, 4)),
            {"x": {0: batch}, "z": {0: batch}},
        ),
    }


def graft_opt(*args):
    proc = subprocess.run([GRAFT_OPT, *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def program_json(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("serialized_exported_program.json"))


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


class RoundTripTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="exir_roundtrip_")
        cls.programs = {}
        for name, (model, inputs, dynamic) in cases().items():
            ep = torch.export.export(model, inputs, dynamic_shapes=dynamic)
            edge = to_edge(ep).exported_program()
            path = os.path.join(cls.tmp, f"{name}.zip")
            save(edge, path)
            with torch.no_grad():
                expected = as_tuple(model(*inputs))
            cls.programs[name] = (path, inputs, expected, edge)
        cls.empty_rules = os.path.join(cls.tmp, "none.rules")
        with open(cls.empty_rules, "w") as f:
            f.write("# no rules: read and write only\n")

    def check_runs(self, path, inputs, expected, atol=1e-5):
        ep = load(path)
        with torch.no_grad():
            got = as_tuple(ep.module()(*inputs))
        self.assertEqual(len(got), len(expected))
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e, atol=atol, rtol=1e-5)
        return ep

    def test_identity_round_trip_keeps_the_document(self):
        for name, (path, inputs, expected, _) in self.programs.items():
            with self.subTest(name):
                out = os.path.join(self.tmp, f"{name}.same.zip")
                rc, _, err = graft_opt(path, "--rules", self.empty_rules, "-o", out)
                self.assertEqual(rc, 0, err)
                self.assertEqual(program_json(out), program_json(path))
                # Every other entry is copied byte for byte.
                with zipfile.ZipFile(path) as a, zipfile.ZipFile(out) as b:
                    self.assertEqual(a.namelist(), b.namelist())
                    for n in a.namelist():
                        if n != "serialized_exported_program.json":
                            self.assertEqual(a.read(n), b.read(n), n)
                self.check_runs(out, inputs, expected)

    def test_json_output(self):
        path = self.programs["mixed"][0]
        out = os.path.join(self.tmp, "mixed.json")
        rc, _, err = graft_opt(path, "--to", "exir", "--rules", self.empty_rules, "-o", out)
        self.assertEqual(rc, 0, err)
        with open(out) as f:
            text = f.read()
        self.assertIn("-Infinity", text)  # Python's spelling, kept
        self.assertEqual(json.loads(text), program_json(path))

    def test_catalogue_rewrites_and_loads_back(self):
        # tied_logits: the projection (addmm between views) and the logits;
        # mixed: x @ W.T (the bias add stays); dynamic: all three mms, the
        # rank-3 one between view_copys of symbolic size (opaque nodes, kept
        # as they are) by the rank-2 rule.
        expect_linear = {"tied_logits": 2, "mixed": 1, "dynamic": 3}
        for name, (path, inputs, expected, edge) in self.programs.items():
            with self.subTest(name):
                out = os.path.join(self.tmp, f"{name}.graft.zip")
                rc, _, err = graft_opt(path, "-o", out, "--stats", "--verify-each")
                self.assertEqual(rc, 0, err)
                ep = self.check_runs(out, inputs, expected)
                targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
                linear = sum("aten.linear.default" in t for t in targets)
                self.assertEqual(linear, expect_linear[name], err)
                if name != "mixed":
                    self.assertFalse(any("aten.mm.default" in t for t in targets), targets)
                # Signature: same inputs, outputs named after graph outputs.
                self.assertEqual(ep.graph_signature.input_specs, edge.graph_signature.input_specs)
                outs = [a.name for a in ep.graph.output_node().args[0]]
                self.assertEqual([s.arg.name for s in ep.graph_signature.output_specs], outs)

    def test_rewritten_nodes_carry_the_replaced_nodes_metadata(self):
        path = self.programs["tied_logits"][0]
        out = os.path.join(self.tmp, "tied.meta.zip")
        rc, _, err = graft_opt(path, "-o", out)
        self.assertEqual(rc, 0, err)
        before = {n["name"]: n for n in program_json(path)["graph_module"]["graph"]["nodes"]}
        nodes = program_json(out)["graph_module"]["graph"]["nodes"]
        def is_new(n):
            return n["name"] not in before or before[n["name"]]["target"] != n["target"]

        logits = [n for n in nodes if n["target"].endswith("aten.linear.default") and is_new(n)
                  and n["outputs"][0]["as_tensor"]["name"] == program_json(path)["graph_module"]
                  ["graph"]["outputs"][0]["as_tensor"]["name"]]
        self.assertEqual(len(logits), 1, [n["name"] for n in nodes])
        new = logits[0]
        # It replaced the outer view_copy (the rule's root) and took its name
        # and metadata; the graph output keeps its name.
        root = before[new["name"]]
        self.assertTrue(root["target"].endswith("aten.view_copy.default"))
        self.assertEqual(new["metadata"]["debug_handle"], root["metadata"]["debug_handle"])
        self.assertEqual(new["metadata"]["stack_trace"], root["metadata"]["stack_trace"])

    def test_bad_input_is_a_clear_error(self):
        path = self.programs["tied_logits"][0]
        broken = os.path.join(self.tmp, "broken.json")
        text = json.dumps(program_json(path)).replace('"tensor_values": {', '"tensor_values": {"x": 1, ', 1)
        text = text.replace('"target": "executorch.exir.dialects.edge.ops.aten.mm.default"', '"target": 3', 1)
        with open(broken, "w") as f:
            f.write(text)
        rc, out, err = graft_opt(broken, "-o", os.path.join(self.tmp, "never.json"))
        self.assertEqual(rc, 1)
        self.assertIn("broken.json", err)
        self.assertIn('"target" should be a JSON string', err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never.json")))

        not_exir = os.path.join(self.tmp, "other.zip")
        with zipfile.ZipFile(not_exir, "w") as z:
            z.writestr("hello.txt", "hi")
        rc, _, err = graft_opt(not_exir, "-o", os.path.join(self.tmp, "never.zip"))
        self.assertEqual(rc, 1)
        self.assertIn("no serialized_exported_program.json", err)

        deflated = os.path.join(self.tmp, "deflated.zip")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as z:
            for n in src.namelist():
                z.writestr(n, src.read(n))
        rc, _, err = graft_opt(deflated, "-o", os.path.join(self.tmp, "never2.zip"))
        self.assertEqual(rc, 1)
        self.assertIn("compressed", err)

        rc, _, err = graft_opt(path, "--to", "exir-zip", "--rules", self.empty_rules,
                               "-o", os.path.join(self.tmp, "fine.zip"))
        self.assertEqual(rc, 0, err)
        json_in = os.path.join(self.tmp, "tied.json")
        graft_opt(path, "--to", "exir", "-o", json_in)
        rc, _, err = graft_opt(json_in, "--to", "exir-zip", "-o", os.path.join(self.tmp, "no.zip"))
        self.assertEqual(rc, 1)
        self.assertIn("write --to exir instead", err)


if __name__ == "__main__":
    GRAFT_OPT = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.environ["GRAFT_OPT"]
    unittest.main()
