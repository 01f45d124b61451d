"""GraftPass's cost on the whisper-tiny.en decoder's edge program, next to
to_edge_transform_and_lower's own time in the same run (BENCHMARKS.md).

    python3 tools/bench/graft_pass_overhead.py [--runs 20]

Lowers the decoder once with GraftPass and XNNPACK (timing the whole call and
the pass inside it), then runs the pass again `--runs` times on the edge
program it was given, timing its three phases: the FX graph written for graft
(graft/_program.py), graft's C++ (import, rules, export; graft._graft), and
the answer applied to a copy of the FX graph; and the whole pass, in wall
time and in this process's CPU time (which a loaded machine inflates less).
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "whisper"))

import torch  # noqa: E402

from decoder import example_inputs, make_decoder  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from graft import _graft
    from graft._program import Program
    from graft.executorch import GraftPass

    class TimedGraftPass(GraftPass):
        seconds = 0.0
        program = None

        def call(self, ep):
            TimedGraftPass.program = ep
            t0 = time.perf_counter()
            result = super().call(ep)
            TimedGraftPass.seconds += time.perf_counter() - t0
            return result

    ep = torch.export.export(make_decoder(), example_inputs())
    graft_pass = TimedGraftPass()  # the catalogue compiles here, once per process
    t0 = time.perf_counter()
    to_edge_transform_and_lower(ep, transform_passes=[graft_pass],
                                partitioner=[XnnpackPartitioner()])
    lower = time.perf_counter() - t0
    edge = TimedGraftPass.program
    nodes = sum(1 for _ in edge.graph_module.graph.nodes)
    print(f"whisper decoder edge program: {nodes} FX nodes; {graft_pass.stats}")
    own = TimedGraftPass.seconds
    print(f"to_edge_transform_and_lower: {lower * 1e3:.0f} ms, of which GraftPass "
          f"{own * 1e3:.1f} ms ({100 * own / lower:.2f}%; its first run) and the rest "
          f"{(lower - own) * 1e3:.0f} ms")

    phases = {"write": [], "graft": [], "apply": [], "total": [], "total CPU": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        program = Program(edge)
        text = program.text()
        t1 = time.perf_counter()
        edits, _ = _graft.rewrite_program(text, graft_pass.rules)
        t2 = time.perf_counter()
        program.apply(edits)
        t3 = time.perf_counter()
        c3 = time.process_time()
        graft_pass.call(edge)
        phases["total CPU"].append(time.process_time() - c3)
        t4 = time.perf_counter()
        for k, v in (("write", t1 - t0), ("graft", t2 - t1), ("apply", t3 - t2), ("total", t4 - t3)):
            phases[k].append(v)
    for name, stat in (("median", statistics.median), ("minimum", min)):
        print(f"GraftPass.call, {name} of {args.runs}: " + ", ".join(
            f"{k} {stat(v) * 1e3:.1f} ms" for k, v in phases.items()))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

if __name__ == "__main__":
    main()
