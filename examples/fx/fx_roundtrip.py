"""torch.fx -> TorchScript -> graft -> TorchScript -> Python, on the whisper decoder.

Takes a torch.fx GraphModule of the whisper-tiny.en-shaped text decoder
(examples/whisper/decoder.py: random weights, vocab 51864, width 384, 6 heads,
4 layers), the ATen-level graph `make_fx` records (nn.Linear is `t` + `addmm`,
the tied logits projection `transpose` + `mm`, as the edge dialect has them
minus the `_copy` suffixes). torch.fx.symbolic_trace itself cannot trace this
model (it slices with a traced size), so make_fx is the FX front end here; any
GraphModule works the same way.

Then: torch.jit.trace -> model.pt (with its input types as the archive's
`graft_input_types` extra file) -> `graft-opt model.pt -o model.graft.pt`
(graft's rule catalogue) -> torch.jit.load -> the logits must agree; prints the
nodes that changed.

    bazel build //tools/graft_opt:graft-opt
    python3 examples/fx/fx_roundtrip.py [--graft-opt bazel-bin/tools/graft_opt/graft-opt]
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

import torch
from torch.fx.experimental.proxy_tensor import make_fx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "whisper"))
from decoder import example_inputs, make_decoder  # noqa: E402


def fx_graph_module(model, inputs):
    """An ATen-level torch.fx GraphModule of `model` whose get_attr nodes keep
    the model's parameter names (make_fx calls them _param_constantN)."""
    gm = make_fx(model)(*inputs)
    names = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        names.setdefault(id(t), name)
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            t = getattr(gm, node.target)
            if id(t) in names:
                node.target = names[id(t)]
    renamed = torch.fx.GraphModule(model, gm.graph, class_name="DecoderFx")
    renamed.graph.lint()
    return renamed


def type_list(tensors):
    short = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16",
             torch.int64: "i64", torch.int32: "i32", torch.bool: "b8"}
    return ", ".join(f"{short[t.dtype]}[{', '.join(map(str, t.shape))}]" for t in tensors)


def attr_path(value):
    """`blocks.0.attn.query.weight` for a value read by a prim::GetAttr chain."""
    parts = []
    node = value.node()
    while node.kind() == "prim::GetAttr":
        parts.append(node.s("name"))
        node = node.input().node()
    return ".".join(reversed(parts))


def op_counts(module):
    return collections.Counter(
        n.kind() for n in module.inlined_graph.nodes()
        if n.kind().startswith("aten::"))


def linear_sites(module):
    sites = []
    for n in module.inlined_graph.nodes():
        if n.kind() == "aten::linear":
            ins = list(n.inputs())
            bias = "" if ins[2].type().kind() == "NoneType" else ", bias " + attr_path(ins[2])
            sites.append(attr_path(ins[1]) + bias)
    return sites


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graft-opt", default=os.path.join(ROOT, "bazel-bin/tools/graft_opt/graft-opt"))
    ap.add_argument("--workdir", default=None, help="keep model.pt / model.graft.pt here")
    args = ap.parse_args()
    if not os.path.exists(args.graft_opt):
        sys.exit(f"{args.graft_opt} not found: bazel build //tools/graft_opt:graft-opt")

    torch.manual_seed(0)
    model = make_decoder()
    inputs = example_inputs()
    with torch.no_grad():
        want = model(*inputs)
        gm = fx_graph_module(model, inputs)
        fx_out = gm(*inputs)
        traced = torch.jit.trace(gm, inputs, check_trace=False)
    calls = collections.Counter(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
    print(f"fx GraphModule: {len(gm.graph.nodes)} nodes; "
          + ", ".join(f"{k} x{v}" for k, v in calls.most_common(6)) + ", ...")

    workdir = args.workdir or tempfile.mkdtemp(prefix="graft_fx_")
    os.makedirs(workdir, exist_ok=True)
    src = os.path.join(workdir, "model.pt")
    dst = os.path.join(workdir, "model.graft.pt")
    torch.jit.save(traced, src, _extra_files={"graft_input_types": type_list(inputs)})

    start = time.perf_counter()
    run = subprocess.run([args.graft_opt, src, "-o", dst, "--stats"],
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"graft-opt failed ({run.returncode}):\n{run.stderr}")
    print(f"graft-opt {os.path.basename(src)} -o {os.path.basename(dst)}: {seconds:.2f} s "
          "(process, including libtorch load/save)")
    for line in run.stderr.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[3].isdigit() and int(cols[3]) > 0:
            print(f"  rule {cols[0]}: applied {cols[3]} time(s)")

    rewritten = torch.jit.load(dst)
    with torch.no_grad():
        got = rewritten(*inputs)
    before, after = op_counts(traced), op_counts(rewritten)
    print("op counts (TorchScript, before -> after):")
    for kind in sorted(set(before) | set(after)):
        if before[kind] != after[kind]:
            print(f"  {kind:24} {before[kind]:4} -> {after[kind]:4}")
    sites = linear_sites(rewritten)
    print(f"{len(sites)} GEMMs now aten::linear on a parameter (the weight operand *is* the parameter):")
    for s in sites:
        print("  linear weight", s)

    diff_fx = (fx_out - want).abs().max().item()
    diff = (got - want).abs().max().item()
    scale = want.abs().max().item()
    print(f"logits {tuple(got.shape)} {got.dtype}: max |graft - eager| = {diff:.3g} "
          f"(|logits| <= {scale:.3g}); max |fx - eager| = {diff_fx:.3g}")
    ok = torch.allclose(got, want, rtol=1e-4, atol=1e-4) and got.shape == want.shape
    tied = [n for n, _ in rewritten.named_parameters()].count("token_embedding.weight")
    print(f"token_embedding.weight stored {tied} time(s) in the rewritten module")
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
