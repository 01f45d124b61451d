"""Compares two builds of a Google Benchmark binary on a noisy machine: runs
them in turn, round after round (A, B, A, B, ...), so both see the same
minutes of load, and prints each benchmark's CPU time for both (median and
minimum over every repetition) and their ratio B / A.

    # the previous build, from a worktree of the commit to compare with
    git worktree add /tmp/base <commit> && (cd /tmp/base &&
        bazel build -c opt //tools/bench:driver_bench)
    cp /tmp/base/bazel-bin/tools/bench/driver_bench /tmp/driver_bench.base
    bazel build -c opt //tools/bench:driver_bench
    python3 tools/bench/ab.py /tmp/driver_bench.base bazel-bin/tools/bench/driver_bench \\
        --filter 'BM_(VisitNoMatch|Rewrite|Mixed10)/100000$' --rounds 4 --repetitions 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(binary, flt, repetitions):
    """CPU times by benchmark name from one run of `binary`."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([binary, "--benchmark_filter=" + flt,
                        "--benchmark_repetitions=%d" % repetitions,
                        "--benchmark_format=json", "--benchmark_out=" + out],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            data = json.load(f)
    finally:
        os.unlink(out)
    times = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        times.setdefault(b["name"], []).append((b["cpu_time"], b["time_unit"]))
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="the baseline binary")
    ap.add_argument("b", help="the binary compared with it")
    ap.add_argument("--filter", default=".", help="--benchmark_filter for both")
    ap.add_argument("--rounds", type=int, default=4, help="A-then-B rounds")
    ap.add_argument("--repetitions", type=int, default=3, help="repetitions per run")
    args = ap.parse_args()
    for binary in (args.a, args.b):
        if not os.access(binary, os.X_OK):
            sys.exit("%s: not an executable benchmark binary" % binary)
    samples = {"a": {}, "b": {}}
    for r in range(args.rounds):
        for side, binary in (("a", args.a), ("b", args.b)):
            for name, ts in run(binary, args.filter, args.repetitions).items():
                samples[side].setdefault(name, []).extend(ts)
        print("round %d of %d done" % (r + 1, args.rounds), file=sys.stderr)
    names = [n for n in samples["a"] if n in samples["b"]]
    if not names:
        sys.exit("no benchmark ran in both binaries (filter %r)" % args.filter)
    print("| benchmark | A median | B median | B/A median | A min | B min | B/A min | n |")
    print("|---|---|---|---|---|---|---|---|")
    for n in names:
        a = [t for t, _ in samples["a"][n]]
        b = [t for t, _ in samples["b"][n]]
        unit = samples["a"][n][0][1]
        print("| %s | %.4g %s | %.4g %s | %.3f | %.4g | %.4g | %.3f | %d |" % (
            n, statistics.median(a), unit, statistics.median(b), unit,
            statistics.median(b) / statistics.median(a), min(a), min(b), min(b) / min(a), len(a)))


if __name__ == "__main__":
    main()
