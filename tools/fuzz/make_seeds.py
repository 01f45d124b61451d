#!/usr/bin/env python3
"""Regenerates tools/fuzz/seeds/ (the fuzz targets' seed corpora) from the
repo's fixtures and patterns/, and small programs made with torch and
executorch. Run from anywhere: python3 tools/fuzz/make_seeds.py. The seeds
are committed; this script only says where they came from."""
import os
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tools/fuzz/seeds"


def put(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def cases_graphs(text):
    """The graph blocks of a .cases file (each `graph @... { ... }`)."""
    return re.findall(r"^graph @.*?^}\n", text, flags=re.S | re.M)


# Ops the fixtures do not use (shape functions with arithmetic on literals).
HAND_GRAPHS = {
    "conv.graft": """graph @conv(%x: f32[1, 4, 8, 8], parameter %w: f32[8, 2, 3, 3], parameter %b: f32[8]) {
  %y = aten::convolution.default(%x, %w, %b, [2, 2], [1, 1], [1, 1], False, [0, 0], 2)
  %z = aten::relu.default(%y)
  %v = aten::view_copy.default(%z, [1, -1])
  return %v
}
""",
    "norm_embed.graft": """graph @block(%ids: i64[1, 16], parameter %emb: f32[100, 32], parameter %g: f32[32], parameter %bt: f32[32]) {
  %e = aten::embedding.default(%emb, %ids)
  %n, %mean, %rstd = aten::native_layer_norm.default(%e, [32], %g, %bt, 1e-05)
  %s = aten::_softmax.default(%n, -1, False)
  %h = aten::gelu.default(%s, "tanh")
  %x = aten::expand_copy.default(%h, [2, 16, 32])
  %c = aten::_to_copy.default(%x, f16)
  %a = aten::add.Tensor(%c, %c)
  return %a
}
""",
    # Partial types (a TorchScript module saved without shapes): unknown
    # type, rank, dtype and dims, under rules with and without `for any types`.
    "partial_types.graft": """graph @partial(%x: ?, %y: f32[*], %z: ?[2, ?], parameter %w: f32[3, 4], parameter %b: f32[3]) {
  %t = aten::permute_copy.default(%w, [1, 0])
  %mm = aten::mm.default(%x, %t)
  %a = aten::add.Tensor(%mm, %b)
  %r = aten::relu.default(%y) : f32[?, 4]
  %s = aten::mul.Tensor(%z, %z)
  return %a, %r, %s
}
""",
}


def text_graph():
    put("text_graph", "whisper_logits.graft", (ROOT / "tests/fixtures/whisper_logits.graft").read_text())
    for name, text in HAND_GRAPHS.items():
        put("text_graph", name, text)
    for f in sorted((ROOT / "patterns").glob("*.cases")):
        graphs = cases_graphs(f.read_text())
        for i, g in enumerate(graphs):
            put("text_graph", f"{f.stem}_{i:02d}.graft", g)
        put("text_graph", f"{f.stem}_all.graft", "".join(graphs[:4]))


def rules():
    for f in sorted((ROOT / "patterns").glob("*.rules")):
        put("rules", f.name, f.read_text())
    put("rules", "include_lib.rules", 'include "lib.rules"\n'
        "rule main_add_zero: add(x, y) -> x\n  where rank(x) == rank(y)\n")
    put("rules", "include_deep.rules", 'include "sub/deep.rules"\ninclude "lib.rules"\n'
        "rule main_mm: mm(x, tr(const W)) -> linear(x, W)\n")
    put("rules", "three_parts.rules", 'include "lib.rules"\n---\n'
        'include "sub/deep.rules"\nalias tr(a) = permute_copy(a, [1, 0]) | t_copy(a)\n---\n'
        "rule d: relu(relu(x)) -> relu(x)\n")
    put("rules", "cycle.rules", 'include "lib.rules"\n---\ninclude "main.rules"\n')


def exir(zip_path):
    import zipfile
    put("exir_json", "tiny_edge_program.json", (ROOT / "examples/whisper/tiny_edge_program.json").read_text())
    if zip_path:
        data = pathlib.Path(zip_path).read_bytes()
        put("exir_zip", "linear_relu.zip", data)
        with zipfile.ZipFile(zip_path) as z:
            put("exir_json", "linear_relu.json", z.read("serialized_exported_program.json"))


def make_exir_zip():
    """A small program through torch.export and executorch (None if absent)."""
    try:
        import torch
        import executorch.exir as exir
        from torch.export import export
    except ImportError as e:
        print(f"make_seeds: no executorch ({e}); exir_zip seed kept as is", file=sys.stderr)
        return None

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(6, 4))

        def forward(self, x):
            return torch.relu(x @ self.w.t())

    torch.manual_seed(0)
    ep = exir.to_edge(export(M(), (torch.randn(2, 4),))).exported_program()
    path = "/tmp/graft_fuzz_seed.zip"
    exir.save(ep, path)
    return path


def torchscript():
    import torch

    def ir(graph):
        # Without the source comments (`  # /path/file.py:12:3`).
        return re.sub(r" # [^\n]*", "", str(graph))

    # Traced: complete types.
    def lin(x, w):
        return torch.relu(torch.matmul(x, w.t()))
    put("torchscript", "traced_matmul_t.ir", "# kinds: up\n" +
        ir(torch.jit.trace(lin, (torch.randn(4, 8), torch.randn(6, 8))).graph))

    def conv(x, w):
        return torch.nn.functional.conv2d(x, w, stride=2, padding=1).flatten(1)
    put("torchscript", "traced_conv.ir", "# kinds: up\n" +
        ir(torch.jit.trace(conv, (torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3))).graph))

    def view_mm(x, w):
        return (x.view(-1, x.size(-1)) @ w.permute(1, 0)).view(x.size(0), x.size(1), -1)
    put("torchscript", "traced_view_mm.ir", "# kinds: up\n" +
        ir(torch.jit.trace(view_mm, (torch.randn(2, 3, 8), torch.randn(5, 8))).graph))

    # Scripted: incomplete types, given by a # types line.
    @torch.jit.script
    def scripted(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
        y = torch.addmm(b, x, w.t())
        if y.dim() == 2:
            y = y.sigmoid()
        return y.transpose(0, 1).contiguous()
    put("torchscript", "scripted_addmm.ir",
        "# kinds: upp\n# types: f32[4, 8], f32[6, 8], f32[6]\n" + ir(scripted.graph))

    @torch.jit.script
    def cat_split(x: torch.Tensor, y: torch.Tensor):
        z = torch.cat([x, y], 1)
        a, b = torch.split(z, 3, 1)
        return a * b + 1.0
    put("torchscript", "scripted_cat_split.ir",
        "# types: f32[2, 3], f32[2, 3]\n" + ir(cat_split.graph))

    # Hand-written, as the tests write them (tensor constants included).
    put("torchscript", "hand_size_view.ir", """# kinds: up
graph(%x : Float(4, 8), %w : Float(6, 8)):
  %wt : Float(8, 6) = aten::t(%w)
  %y : Float(4, 6) = aten::matmul(%x, %wt)
  %one : int = prim::Constant[value=1]()
  %n : int = aten::size(%wt, %one)
  %m1 : int = prim::Constant[value=-1]()
  %s : int[] = prim::ListConstruct(%m1, %n)
  %z : Tensor = aten::view(%y, %s)
  return (%z)
""")
    put("torchscript", "hand_tensor_constant.ir", """graph(%x : Float(2, 3)):
  %c : Float(3, 2, strides=[2, 1], requires_grad=0, device=cpu) = prim::Constant[value={1}]()
  %y : Float(2, 2) = aten::mm(%x, %c)
  %t : bool = prim::Constant[value=1]()
  %z : Float(2, 2) = prim::If(%t)
    block0():
      %r : Float(2, 2) = aten::relu(%y)
      -> (%r)
    block1():
      -> (%y)
  return (%z)
""")


def main():
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    text_graph()
    rules()
    exir(make_exir_zip())
    torchscript()
    for d in sorted(SEEDS.iterdir()):
        n = len(list(d.iterdir()))
        size = sum(f.stat().st_size for f in d.iterdir())
        print(f"make_seeds: {d.name}: {n} seeds, {size} bytes")


if __name__ == "__main__":
    main()
