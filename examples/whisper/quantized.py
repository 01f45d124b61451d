"""The whisper-tiny.en decoder quantized for XNNPACK (PT2E, XNNPACKQuantizer:
dynamically quantized int8 activations, per-channel int8 weights), three ways:

  (q-a) quantized as-is      the logits GEMM, x @ W.T on the tied embedding,
                             is no linear, so the quantizer leaves it fp32,
                             and XNNPACK leaves it on the portable kernel
  (q-b) graft, then quantized  graft.export.rewrite on torch.export's ATen
                             program first: the logits GEMM is a linear the
                             quantizer annotates, delegated int8
  (q-c) quantized, then GraftPass  graft on the edge program, after
                             quantization (the order before graft.export):
                             delegated, but fp32

For each: GEMMs left outside the delegates, how the logits GEMM runs, the
.pte size, the median latency in executorch.runtime (interleaved rounds, one
run of this script) and the largest difference from the fp32 eager output.

    python3 examples/whisper/quantized.py [--runs 20] [--json FILE]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from decoder import N_VOCAB, example_inputs, make_decoder  # noqa: E402
from run import MATMULS, op_name, outside_delegates, time_programs  # noqa: E402

# What an int8 per-channel weight reads through after convert_pt2e.
QUANTIZED_WEIGHT = "dequantize_per_channel.default"


def quantize(ep):
    """ep's module through prepare_pt2e / convert_pt2e with XNNPACKQuantizer,
    dynamic per-channel: the configuration with which the decoder lowers whole
    (the static one fails calibrating the causal mask; see
    /work/shared/notes/executorch.md)."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=True))
    prepared = prepare_pt2e(ep.module(), quantizer)
    prepared(*example_inputs())
    return convert_pt2e(prepared)


def logits_weight(gm) -> str:
    """The op producing the logits GEMM's weight operand (the GEMM whose
    output has N_VOCAB columns), as the quantized program has it."""
    for n in gm.graph.nodes:
        if n.op != "call_function" or op_name(n) not in ("matmul.default", "linear.default"):
            continue
        val = n.meta.get("val")
        if val is not None and val.shape[-1] == N_VOCAB:
            return str(getattr(n.args[1].target, "__name__", n.args[1].target))
    return "none"


def lower(variant, graft_before, graft_after):
    import graft.export
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackDynamicallyQuantizedPartitioner,
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower
    from graft.executorch import GraftPass

    ep = torch.export.export(make_decoder(), example_inputs())
    stats = ""
    if graft_before:
        ep, rewrite_stats = graft.export.rewrite(ep)
        stats = str(rewrite_stats)
    converted = quantize(ep)
    weight = logits_weight(converted)
    passes = []
    if graft_after:
        passes.append(GraftPass())
    lowered = to_edge_transform_and_lower(
        torch.export.export(converted, example_inputs()), transform_passes=passes or None,
        partitioner=[XnnpackDynamicallyQuantizedPartitioner(), XnnpackPartitioner()])
    if graft_after:
        stats = str(passes[0].stats)
    outside = outside_delegates(lowered.exported_program().graph_module)
    gemms = [n for n in outside if op_name(n) in MATMULS]
    logits_outside = any(n.meta["val"].shape[-1] == N_VOCAB for n in gemms)
    int8 = weight == QUANTIZED_WEIGHT
    buffer = lowered.to_executorch().buffer
    print(f"  {variant}: {stats or 'no graft'}", flush=True)
    return {
        "variant": variant,
        "gemms_outside": len(gemms),
        "logits_gemm": ("portable kernel" if logits_outside else "XNNPACK")
        + (", int8" if int8 else ", fp32"),
        "logits_weight": weight,
        "pte_bytes": len(buffer),
        "buffer": buffer,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per program")
    parser.add_argument("--json", help="write the table as JSON here")
    args = parser.parse_args()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print("quantizing and lowering (export, PT2E XNNPACKQuantizer, to_edge_transform_and_lower):")
    results = [
        lower("(q-a) quantized as-is", graft_before=False, graft_after=False),
        lower("(q-b) graft, then quantized", graft_before=True, graft_after=False),
        lower("(q-c) quantized, then GraftPass", graft_before=False, graft_after=True),
    ]
    print(f"timing: {args.runs} interleaved rounds in executorch.runtime ...", flush=True)
    time_programs(results, args.runs)
    with torch.no_grad():
        eager = make_decoder()(*example_inputs())
    a, b, _ = results
    print()
    print(f"{'program':<32} {'GEMMs outside':>13} {'logits GEMM':<24} {'.pte MB':>8} "
          f"{'median ms':>9} {'vs (q-a)':>8} {'max |out - fp32 eager|':>22}")
    for r in results:
        r["max_abs_diff_vs_eager"] = (r["output"] - eager).abs().max().item()
        print(f"{r['variant']:<32} {r['gemms_outside']:>13} {r['logits_gemm']:<24} "
              f"{r['pte_bytes'] / 1e6:>8.1f} {r['latency_ms']:>9.1f} "
              f"{a['latency_ms'] / r['latency_ms']:>7.2f}x {r['max_abs_diff_vs_eager']:>22.3e}")
    checks = {
        "(q-b) delegates every GEMM": b["gemms_outside"] == 0,
        "(q-b) runs the logits GEMM int8 in XNNPACK": b["logits_gemm"] == "XNNPACK, int8",
        "(q-b) >= 1.5x faster than (q-a)": a["latency_ms"] >= 1.5 * b["latency_ms"],
    }
    print()
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": [{k: v for k, v in r.items() if k not in ("buffer", "output")}
                                   for r in results], "checks": checks, "runs": args.runs},
                      f, indent=1)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
