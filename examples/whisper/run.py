"""The whisper-tiny.en decoder lowered to ExecuTorch/XNNPACK three ways (and a
fourth to tell graft's logits fix from its other rewrites):

  (a) as-is           x @ transpose(token_embedding.weight): the logits mm stays
                      on the portable CPU kernel (its weight operand is a
                      permute_copy node, not a parameter)
  (b) GraftPass       the same model, graft's rule catalogue run on the edge
                      program before partitioning (transform_passes=[GraftPass()])
  (c) tied nn.Linear  the hand-fixed model: F.linear(x, token_embedding.weight)
  (b') logits rule    (b) with one rule only, view_mm_view_to_linear: the
                      logits fix and nothing else, to compare with (c)

For each: the ops left outside the XNNPACK delegates, the share of matmul
FLOPs delegated, the .pte size, the median latency in ExecuTorch's runtime
(executorch.runtime, the programs timed in interleaved rounds), and
whether the outputs agree.

    python3 examples/whisper/run.py [--runs 30] [--save-dir DIR] [--json FILE]

Takes about four minutes on two cores.
"""

import argparse
import collections
import json
import operator
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch.fx.passes.infra.pass_base import PassResult  # noqa: E402

from decoder import N_STATE, N_VOCAB, example_inputs, make_decoder  # noqa: E402

MATMULS = ("aten.mm.default", "aten.bmm.default", "aten.linear.default", "aten.addmm.default")


def op_name(node) -> str:
    return getattr(node.target, "__name__", str(node.target))


def matmul_flops(node) -> int:
    """2*M*K*N (times batch) of a matmul node, from its meta values."""
    name = op_name(node)
    out = node.meta["val"]
    if name == "aten.linear.default":
        k = node.args[1].meta["val"].shape[1]
    elif name == "aten.addmm.default":
        k = node.args[1].meta["val"].shape[-1]
    else:  # mm, bmm
        k = node.args[0].meta["val"].shape[-1]
    return 2 * int(out.numel()) * int(k)


class MatmulCensus:
    """A GraphModule pass that modifies nothing: it records the matmuls of
    the edge program as the partitioner will see it (after GraftPass)."""

    def __init__(self):
        self.flops = 0
        self.count = collections.Counter()

    def __call__(self, gm):
        for n in gm.graph.nodes:
            if n.op == "call_function" and op_name(n) in MATMULS:
                self.flops += matmul_flops(n)
                self.count[op_name(n)] += 1
        return PassResult(gm, False)


def outside_delegates(gm):
    from executorch.exir.delegate import executorch_call_delegate

    return [
        n
        for n in gm.graph.nodes
        if n.op == "call_function"
        and n.target is not executorch_call_delegate
        and n.target is not operator.getitem
    ]


def tied_weight_copies_outside(ep) -> int:
    """Constants outside the delegates holding the token embedding (either
    orientation), i.e. what the non-delegated part of the program stores."""
    sig = ep.graph_signature
    consts = {**sig.inputs_to_parameters, **sig.inputs_to_buffers,
              **sig.inputs_to_lifted_tensor_constants}
    from executorch.exir.delegate import executorch_call_delegate

    copies = 0
    for n in ep.graph_module.graph.nodes:
        if n.op != "placeholder" or n.name not in consts:
            continue
        val = n.meta.get("val")
        if val is None or tuple(val.shape) not in ((N_VOCAB, N_STATE), (N_STATE, N_VOCAB)):
            continue
        if any(u.target is not executorch_call_delegate for u in n.users):
            copies += 1
    return copies


LOGITS_RULE = "view_mm_view_to_linear"


def lower(model, variant, graft, only=None):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    t0 = time.perf_counter()
    ep = torch.export.export(model, example_inputs())
    t_export = time.perf_counter() - t0
    census = MatmulCensus()
    passes = [census]
    graft_pass = None
    if graft:
        from graft.executorch import GraftPass

        graft_pass = GraftPass(only=only)
        passes.insert(0, graft_pass)
    t0 = time.perf_counter()
    lowered = to_edge_transform_and_lower(
        ep, transform_passes=passes, partitioner=[XnnpackPartitioner()]
    )
    t_lower = time.perf_counter() - t0
    program = lowered.exported_program()
    outside = outside_delegates(program.graph_module)
    flops_outside = sum(matmul_flops(n) for n in outside if op_name(n) in MATMULS)
    t0 = time.perf_counter()
    buffer = lowered.to_executorch().buffer
    t_pte = time.perf_counter() - t0
    hist = collections.Counter(op_name(n).replace("aten.", "").replace(".default", "") for n in outside)
    print(
        f"  {variant}: export {t_export:.1f}s, edge+transform+lower {t_lower:.1f}s, "
        f"to_executorch {t_pte:.1f}s" + (f"; {graft_pass.stats}" if graft_pass else ""),
        flush=True,
    )
    return {
        "variant": variant,
        "outside": dict(sorted(hist.items())),
        "matmul_outside": sum(1 for n in outside if op_name(n) in MATMULS),
        "matmuls": dict(census.count),
        "delegated_flops": 1.0 - flops_outside / census.flops if census.flops else 1.0,
        "pte_bytes": len(buffer),
        "tied_weight_copies_outside": tied_weight_copies_outside(program),
        "graft": str(graft_pass.stats) if graft_pass else "",
        "buffer": buffer,
    }


def time_programs(results, runs):
    """Median latency of each program, timed in interleaved rounds so that
    machine noise falls on all of them alike; returns their outputs too."""
    from executorch.runtime import Runtime

    inputs = list(example_inputs())
    runtime = Runtime.get()
    programs, methods = {}, {}
    for r in results:
        programs[r["variant"]] = runtime.load_program(r["buffer"])  # the Method needs it alive
        methods[r["variant"]] = programs[r["variant"]].load_method("forward")
        for _ in range(2):  # warm-up: XNNPACK packs its weights on the first run
            methods[r["variant"]].execute(inputs)
    times = {r["variant"]: [] for r in results}
    for _ in range(runs):
        for r in results:
            t0 = time.perf_counter()
            methods[r["variant"]].execute(inputs)
            times[r["variant"]].append((time.perf_counter() - t0) * 1e3)
    for r in results:
        r["latency_ms"] = statistics.median(times[r["variant"]])
        r["latency_min_ms"] = min(times[r["variant"]])
        r["output"] = methods[r["variant"]].execute(inputs)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per program")
    parser.add_argument("--save-dir", help="also write the .pte files here")
    parser.add_argument("--json", help="write the table as JSON here")
    args = parser.parse_args()

    import graft

    print(f"graft: {os.path.dirname(graft.__file__)}")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print("lowering (export, to_edge_transform_and_lower with XnnpackPartitioner, to_executorch):")
    results = [
        lower(make_decoder(), "(a) as-is", graft=False),
        lower(make_decoder(), "(b) GraftPass", graft=True),
        lower(make_decoder(tied_linear=True), "(c) tied nn.Linear", graft=False),
        lower(make_decoder(), "(b') logits rule", graft=True, only=[LOGITS_RULE]),
    ]
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        for r, name in zip(results, ("as_is", "graft", "tied_linear", "graft_logits_rule")):
            with open(os.path.join(args.save_dir, f"whisper_decoder_{name}.pte"), "wb") as f:
                f.write(r["buffer"])
    print(f"timing: {args.runs} interleaved rounds in executorch.runtime ...", flush=True)
    time_programs(results, args.runs)
    with torch.no_grad():
        eager = make_decoder()(*example_inputs())

    a, b, c, b1 = results
    print()
    print(f"{'program':<20} {'ops outside delegates':<48} {'matmul FLOPs':>12} "
          f"{'.pte MB':>8} {'W outside':>9} {'median ms':>9} {'vs (a)':>7}")
    for r in results:
        outside = ", ".join(f"{k} x{v}" for k, v in r["outside"].items()) or "none"
        print(f"{r['variant']:<20} {outside:<48} {r['delegated_flops']:>11.1%} "
              f"{r['pte_bytes'] / 1e6:>8.1f} {r['tied_weight_copies_outside']:>9} "
              f"{r['latency_ms']:>9.1f} {a['latency_ms'] / r['latency_ms']:>6.2f}x")
    print()
    for r in results:
        r["max_abs_diff_vs_eager"] = (r["output"] - eager).abs().max().item()
    agree = all(torch.allclose(r["output"], eager, atol=1e-3, rtol=1e-3) for r in results)
    print("max |output - eager|: " + ", ".join(
        f"{r['variant'].split(' ')[0]} {r['max_abs_diff_vs_eager']:.2e}" for r in results)
        + f"; agree within 1e-3: {'yes' if agree else 'NO'}")
    checks = {
        "(b) delegates every mm/linear": b["matmul_outside"] == 0,
        "(b) within 5% of (c)": b["latency_ms"] <= 1.05 * c["latency_ms"],
        "(b') (the logits fix alone) within 5% of (c), either way":
            abs(b1["latency_ms"] - c["latency_ms"]) <= 0.05 * c["latency_ms"],
        "(b) >= 1.7x faster than (a)": a["latency_ms"] >= 1.7 * b["latency_ms"],
        "(b) stores the tied weight once outside the delegate":
            b["tied_weight_copies_outside"] <= 1,
        "outputs agree": agree,
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"results": [{k: v for k, v in r.items() if k not in ("buffer", "output")}
                             for r in results],
                 "checks": checks, "runs": args.runs},
                f, indent=1)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
