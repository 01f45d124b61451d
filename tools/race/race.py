"""The race: `x @ W.T -> linear(x, W)` on parameter weights, done by

  (a) graft: TorchScript graph -> graft (import) -> rules -> written back into
      the TorchScript graph in place (tools/race/race.cc, C++);
  (b) torch::jit::SubgraphRewriter with the equivalent IR pattern and a filter
      that W is a parameter (same binary, same graphs);
  (c) torch.fx.subgraph_rewriter.replace_pattern_with_filters on the FX form
      (this script), filter: W is a get_attr.

on the whisper-tiny.en-shaped decoder (the make_fx GraphModule of
examples/fx, 41 GEMM sites) and on synthetic chains of N op nodes:
    t = t(W); y = matmul(h, t); r = relu(y); h = add(r, h)    (W a parameter;
    every 4th block W = relu(parameter), which must stay a matmul).
Times are CPU time of the rewriting thread (the machines are shared), best of
--repeat; every column checks it produced the same number of linear nodes.
fx at sizes above --fx-max-nodes is not run; its time there is extrapolated
(marked ~) as a * N^k through the two largest sizes it ran (k >= 1): its
matcher is superlinear in N.

    bazel build -c opt //tools/race:race
    python3 tools/race/race.py [--sizes 10000,100000,1000000] [--markdown]
"""

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.fx
from torch.fx.subgraph_rewriter import replace_pattern_with_filters

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "fx"))
sys.path.insert(0, os.path.join(ROOT, "examples", "whisper"))


def cpu_ms(f):
    t0 = time.thread_time()
    out = f()
    return (time.thread_time() - t0) * 1e3, out


# ---------------------------------------------------------------- fx side

def synthetic_fx(nodes):
    """The synthetic chain as an fx GraphModule; weights are get_attr of one
    shared [16, 16] tensor (memory stays small at 1M nodes)."""
    blocks = max(1, nodes * 4 // 17)
    g = torch.fx.Graph()
    h = g.placeholder("x")
    root = torch.nn.Module()
    w_tensor = torch.randn(16, 16)
    for i in range(blocks):
        name = f"w{i}"
        setattr(root, name, w_tensor)
        w = g.get_attr(name)
        if i % 4 == 3:
            w = g.call_function(torch.relu, (w,))
        t = g.call_function(torch.t, (w,))
        y = g.call_function(torch.matmul, (h, t))
        r = g.call_function(torch.relu, (y,))
        h = g.call_function(torch.add, (r, h))
    g.output(h)
    return torch.fx.GraphModule(root, g), blocks


def count_fx(gm, target):
    return sum(1 for n in gm.graph.nodes if n.op == "call_function" and n.target == target)


def w_is_get_attr(match, original_graph, pattern_graph):
    return match.placeholder_nodes[-1].op == "get_attr"


def race_fx_synthetic(nodes, repeat):
    def pattern(x, w):
        return torch.matmul(x, torch.t(w))

    def replacement(x, w):
        return torch.nn.functional.linear(x, w)

    best = None
    linear = 0
    for _ in range(repeat):
        gm, _ = synthetic_fx(nodes)
        gc.collect()
        ms, _ = cpu_ms(lambda: replace_pattern_with_filters(gm, pattern, replacement, [w_is_get_attr]))
        best = ms if best is None else min(best, ms)
        linear = count_fx(gm, torch.nn.functional.linear)
        del gm
    return best, linear


def race_fx_decoder(gm_factory, repeat):
    aten = torch.ops.aten

    def mm_t(x, w):
        return aten.mm.default(x, aten.t.default(w))

    def mm_transpose(x, w):
        return aten.mm.default(x, aten.transpose.int(w, 0, 1))

    def addmm_t(b, x, w):
        return aten.addmm.default(b, x, aten.t.default(w))

    def linear(x, w):
        return aten.linear.default(x, w)

    def linear_b(b, x, w):
        return aten.linear.default(x, w, b)

    best = None
    n_linear = 0
    for _ in range(repeat):
        gm = gm_factory()

        def run():
            for p, r in [(mm_t, linear), (mm_transpose, linear), (addmm_t, linear_b)]:
                replace_pattern_with_filters(gm, p, r, [w_is_get_attr])

        ms, _ = cpu_ms(run)
        best = ms if best is None else min(best, ms)
        n_linear = count_fx(gm, aten.linear.default)
    return best, n_linear


# ---------------------------------------------------------------- C++ side

def run_cpp(binary, args):
    env = dict(os.environ, GRAFT_PATTERNS=os.path.join(ROOT, "patterns"))
    out = subprocess.run([binary] + args, capture_output=True, text=True, env=env)
    if out.returncode not in (0,):
        sys.exit(f"{binary} {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def decoder_files(workdir):
    from decoder import example_inputs, make_decoder
    from fx_roundtrip import fx_graph_module, type_list

    model = make_decoder()
    inputs = example_inputs()
    with torch.no_grad():
        gm = fx_graph_module(model, inputs)
        traced = torch.jit.trace(gm, inputs, check_trace=False)
    path = os.path.join(workdir, "decoder.pt")
    torch.jit.save(traced, path)
    return path, type_list(inputs), lambda: fx_graph_module(model, inputs)


def extrapolate(runs, nodes):
    """t = a * N^k through the last two sizes fx ran (k >= 1), else linear."""
    if not runs:
        return float("nan")
    if len(runs) == 1:
        return runs[-1][1] * nodes / runs[-1][0]
    (n0, t0), (n1, t1) = runs[-2], runs[-1]
    k = max(1.0, math.log(t1 / t0) / math.log(n1 / n0))
    return t1 * (nodes / n1) ** k


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--race", default=os.path.join(ROOT, "bazel-bin/tools/race/race"))
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fx-max-nodes", type=int, default=100000,
                    help="largest synthetic size fx runs at; above, extrapolated")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.race):
        sys.exit(f"{args.race} not found: bazel build -c opt //tools/race:race")

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        path, types, gm_factory = decoder_files(workdir)
        cpp = run_cpp(args.race, ["decoder", path, types, "--repeat", str(args.repeat)])
        fx_ms, fx_linear = race_fx_decoder(gm_factory, args.repeat)
        cpp.update(fx_ms=fx_ms, fx_linear=fx_linear, fx_extrapolated=False)
        rows.append(cpp)
        print(json.dumps(cpp), flush=True)
    fx_runs = []  # (nodes, ms)
    for n in [int(s) for s in args.sizes.split(",")]:
        rep = args.repeat if n < 100000 else 1
        cpp = run_cpp(args.race, ["synthetic", str(n), "--repeat", str(rep)])
        if n <= args.fx_max_nodes:
            fx_ms, fx_linear = race_fx_synthetic(n, rep)
            cpp.update(fx_ms=fx_ms, fx_linear=fx_linear, fx_extrapolated=False)
            fx_runs.append((cpp["nodes"], fx_ms))
        else:
            cpp.update(fx_ms=extrapolate(fx_runs, cpp["nodes"]), fx_linear=None, fx_extrapolated=True)
        rows.append(cpp)
        print(json.dumps(cpp), flush=True)

    print()
    print(table(rows) if args.markdown else table(rows))


def table(rows):
    out = ["| graph | op nodes | rewrites | graft import | graft rules | graft write-back | "
           "graft total | SubgraphRewriter | fx replace_pattern | SR / graft total | "
           "SR / graft rules | fx / graft total | same result |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        fx = f"{'~' if r['fx_extrapolated'] else ''}{r['fx_ms']:.1f} ms"
        same = (r["graft_linear"] == r["subgraph_rewriter_linear"] and
                (r["fx_linear"] is None or r["fx_linear"] == r["graft_linear"]))
        same_text = ("yes" if same else "NO") + (
            ", identical graph" if r.get("same_graph") else "") + (
            " (fx not run)" if r["fx_linear"] is None else "")
        out.append(
            f"| {r['graph']} | {r['nodes']} | {r['graft_rewrites']} | {r['graft_import_ms']:.1f} ms | "
            f"{r['graft_rewrite_ms']:.2f} ms | {r['graft_writeback_ms']:.1f} ms | "
            f"{r['graft_total_ms']:.1f} ms | {r['subgraph_rewriter_ms']:.1f} ms | {fx} | "
            f"{r['subgraph_rewriter_ms'] / r['graft_total_ms']:.2f}x | "
            f"{r['subgraph_rewriter_ms'] / r['graft_rewrite_ms']:.0f}x | "
            f"{'~' if r['fx_extrapolated'] else ''}{r['fx_ms'] / r['graft_total_ms']:.0f}x | {same_text} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
