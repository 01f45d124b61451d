"""The delegation report: what a partitioner left outside its delegates, what
share of the work that is, why, and which graft rule would change it.

    from graft.report import delegation_report
    report = delegation_report(torch.export.load("model.pt2"))   # XNNPACK
    print(report)
    report.write_svg("model.svg")

or from a shell: python -m graft.report model.pt2 [--rules r.rules] [--svg out.svg]

How it is found:
1. The exported program is lowered (to_edge_transform_and_lower with the
   partitioner). The edge program the partitioner saw is kept, and the
   reasons it gave are collected as it runs (graft/_partitioner.py).
2. Every op left outside the delegates gets its cost from its shapes
   (graft/_cost.py): GEMMs and convolutions in FLOPs, every other op in
   elements written. The two are reported apart, as shares of the edge program's totals, since a
   FLOP and an element copied are not the same work.
3. graft's matchers run with explanations on the edge program
   (graft._graft.explain_program): a rule whose match covers an outside op
   is a fix for it; a rule rooted at the op that does not match says why.
4. Unless after=False, the program is lowered again with GraftPass(rules)
   and the delegated share measured the same way.
"""

import argparse
import dataclasses
import itertools
import operator
import os
import shutil
import subprocess
import sys
import zipfile
from typing import Dict, List, Optional, Sequence

import torch

from graft import CATALOGUE_DIR, GraftError, RewriteStats, Rules, rules_from
from graft import _compat  # first: checks the torch / executorch versions
from graft import _cost, _graft
from graft._partitioner import Refusals, unsupported_reason
from graft._program import Program
from graft.executorch import GraftPass, RuleSource

from executorch.exir import to_edge_transform_and_lower
from executorch.exir.delegate import executorch_call_delegate
from executorch.exir.pass_base import ExportedProgramPassBase, ExportedProgramPassResult

__all__ = ["DelegationReport", "Lowering", "OutsideOp", "delegation_report", "main"]

@dataclasses.dataclass
class Fix:
    """A rule whose match covers the op, rooted at `root`."""

    rule: str
    root: str
    rewrite: str  # the rule as text (Rules.describe)


@dataclasses.dataclass
class Miss:
    """A rule rooted at the op that does not apply there, and why."""

    rule: str
    where: str  # "operand 1 of root"
    reason: str


@dataclasses.dataclass
class OutsideOp:
    """One op the partitioner left outside its delegates."""

    node: str  # the FX node's name
    op: str  # "aten.mm.default"
    kind: str  # "gemm", "conv" or "other"
    cost: Optional[int]  # FLOPs (gemm, conv) or elements written; None: sizes unknown
    shapes: str  # "[128, 384] x [384, 51864] -> [128, 51864]"
    reasons: List[str] = dataclasses.field(default_factory=list)
    fixes: List[Fix] = dataclasses.field(default_factory=list)  # the driver's first choice first
    misses: List[Miss] = dataclasses.field(default_factory=list)

    @property
    def counts_flops(self) -> bool:
        return self.kind in ("gemm", "conv")


@dataclasses.dataclass
class Lowering:
    """One lowering: what stayed outside and what share was delegated."""

    edge: object  # the ExportedProgram the partitioner was given
    lowered: object  # the ExportedProgram after partitioning
    outside: List[OutsideOp]
    flops: int  # GEMM and convolution FLOPs of the edge program
    elements: int  # elements written by its other ops
    unknown: int  # its ops whose sizes are symbolic without a hint (not counted)
    stats: Optional[RewriteStats] = None  # GraftPass's, when it ran

    def delegated_flops(self) -> float:
        outside = sum(o.cost or 0 for o in self.outside if o.counts_flops)
        return 1.0 - outside / self.flops if self.flops else 1.0

    def delegated_elements(self) -> float:
        outside = sum(o.cost or 0 for o in self.outside if not o.counts_flops)
        return 1.0 - outside / self.elements if self.elements else 1.0


@dataclasses.dataclass
class DelegationReport:
    name: str  # what was lowered (a file name, "program")
    partitioners: List[str]
    rules: Rules
    rules_name: str
    before: Lowering
    after: Optional[Lowering]  # lowered again with GraftPass(rules); None if not asked

    def __str__(self) -> str:
        return _text(self)

    def to_dot(self) -> str:
        """The lowered program as a Graphviz graph: delegates, the ops left
        outside them (red; orange when a rule fixes them), user inputs."""
        return _dot(self)

    def write_svg(self, path: str) -> None:
        dot = shutil.which("dot")
        if dot is None:
            raise GraftError("--svg needs Graphviz's `dot` on PATH (apt-get install graphviz)")
        run = subprocess.run([dot, "-Tsvg", "-o", path], input=self.to_dot(), text=True,
                             capture_output=True)
        if run.returncode != 0:
            raise GraftError(f"dot failed writing {path}: {run.stderr.strip()}")


def delegation_report(
    exported_program,
    partitioner=None,
    rules: RuleSource = None,
    after: bool = True,
    name: str = "program",
) -> DelegationReport:
    """Lowers `exported_program` (an ATen-dialect torch.export ExportedProgram)
    with `partitioner` (a Partitioner or a list of them; default
    XnnpackPartitioner()) and reports what stayed outside the delegates.

    rules: the rules to look for fixes in: .rules files or directories, or a
    graft.Rules; default graft's catalogue.
    after: also lower with GraftPass(rules) and report the result (a second
    lowering, as long as the first).
    """
    rule_set = rules_from(rules)  # first: a bad rule file fails before any lowering
    partitioners = _partitioners(partitioner)
    before = _lower(exported_program, partitioners, [])
    _explain(before, rule_set)
    later = None
    if after:
        graft_pass = GraftPass(rule_set)
        later = _lower(exported_program, partitioners, [graft_pass])
        later.stats = graft_pass.stats
    return DelegationReport(
        name=name,
        partitioners=[type(p).__name__ for p in partitioners],
        rules=rule_set,
        rules_name=_rules_name(rules, rule_set),
        before=before,
        after=later,
    )


def _partitioners(partitioner) -> list:
    if partitioner is None:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

        return [XnnpackPartitioner()]
    return list(partitioner) if isinstance(partitioner, (list, tuple)) else [partitioner]


def _rules_name(source: RuleSource, rules: Rules) -> str:
    if source is None:
        what = "graft's catalogue"
    elif isinstance(source, Rules):
        what = "the rules given"
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else source
        what = ", ".join(os.fspath(p) for p in paths)
    return f"{what} ({len(rules)} rule{'s' if len(rules) != 1 else ''})"


# ---- Lowering.


class _Snapshot(ExportedProgramPassBase):
    """The last transform pass: keeps the program the partitioner is given."""

    program = None

    def call(self, ep) -> ExportedProgramPassResult:
        self.program = ep
        return ExportedProgramPassResult(ep, False)


def _lower(ep, partitioners, passes) -> Lowering:
    snapshot = _Snapshot()
    with Refusals() as refusals:
        manager = to_edge_transform_and_lower(
            ep, transform_passes=passes + [snapshot], partitioner=partitioners)
    lowered = manager.exported_program()
    flops = elements = unknown = 0
    for node in _cost.tensor_ops(snapshot.program.graph_module):
        kind, cost = _cost.cost(node)
        if cost is None:
            unknown += 1
        elif kind == "other":
            elements += cost
        else:
            flops += cost
    outside = []
    for node in _cost.tensor_ops(lowered.graph_module):
        kind, cost = _cost.cost(node)
        op = OutsideOp(node=node.name, op=_cost.op_name(node), kind=kind, cost=cost,
                       shapes=_cost.shapes(node))
        op.reasons = list(refusals.reasons.get(node.name, ()))
        if not op.reasons:
            op.reasons = [r for r in (unsupported_reason(p, node) for p in partitioners) if r][:1]
        outside.append(op)
    return Lowering(edge=snapshot.program, lowered=lowered, outside=outside, flops=flops,
                    elements=elements, unknown=unknown)


# ---- graft's explanations.


def _explain(lowering: Lowering, rules: Rules) -> None:
    """Fills each outside op's fixes and misses from graft's matchers run
    with explanations on the edge program the partitioner saw."""
    lines = _graft.explain_program(Program(lowering.edge).text(), rules)
    # The driver visits users before their operands: of two rules covering
    # an op, the one rooted further down the graph fires first.
    position = {n.name: i for i, n in enumerate(lowering.edge.graph_module.graph.nodes)}
    by_node: Dict[str, OutsideOp] = {o.node: o for o in lowering.outside}
    for line in sorted(lines, key=lambda l: -position.get(l["root"], -1)):
        complete = line["matched"] and line["reason"] == "matches"
        for name in line["covered"] if complete else ():
            if name in by_node and line["rule"] not in (f.rule for f in by_node[name].fixes):
                by_node[name].fixes.append(
                    Fix(line["rule"], line["root"], rules.describe(line["rule"])))
        if not complete and line["root"] in by_node:
            by_node[line["root"]].misses.append(Miss(line["rule"], line["where"], line["reason"]))


# ---- Text.


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _amount(n: int, unit: str) -> str:
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {prefix}{unit}"
    return f"{n} {unit}"


def _delegated(low: Lowering) -> List[str]:
    lines = [f"delegated: {_pct(low.delegated_flops())} of GEMM/convolution FLOPs "
             f"({_amount(low.flops, 'FLOP')} in all), {_pct(low.delegated_elements())} of the "
             f"other ops' elements written ({_amount(low.elements, 'elements')})"]
    if low.unknown:
        lines.append(f"not counted: {low.unknown} op(s) whose sizes are symbolic without an example")
    return lines


def _op_lines(ops: List[OutsideOp], total: int, grouped: bool) -> List[str]:
    """Rows by share of `total`; `grouped`: one row per (op, reasons, fixes)."""
    out = []

    def key(o):
        return (o.op, tuple(o.reasons), tuple(f.rule for f in o.fixes))

    groups = [list(g) for _, g in itertools.groupby(sorted(ops, key=key), key=key)]
    if not grouped:
        groups = [[o] for g in groups for o in g]
    groups.sort(key=lambda g: -sum(o.cost or 0 for o in g))
    for g in groups:
        o, cost = g[0], sum(o.cost or 0 for o in g)
        share = _pct(cost / total) if total else "-"
        if len(g) == 1:
            out.append(f"  {share:>6}  {o.op}  {o.node}  {o.shapes}")
        else:
            names = ", ".join(x.node for x in g[:3]) + (", ..." if len(g) > 3 else "")
            out.append(f"  {share:>6}  {o.op} x{len(g)}  ({names})")
        indent = " " * 10
        out.append(f"{indent}why: {'; '.join(o.reasons) if o.reasons else 'the partitioner gave no reason'}")
        if o.fixes:
            first = o.fixes[0]
            at = f" (rooted at {first.root})" if len(g) == 1 else ""
            out.append(f"{indent}fix: {first.rule}{at}: {first.rewrite}")
            if len(o.fixes) > 1:
                out.append(f"{indent}also: {', '.join(f.rule for f in o.fixes[1:])}")
        else:
            out.append(f"{indent}fix: none of the rules covers it")
            seen = set()
            for m in (m for x in g for m in x.misses):
                if (m.rule, m.reason) not in seen and len(seen) < 3:
                    seen.add((m.rule, m.reason))
                    out.append(f"{indent}  {m.rule}: {m.where}: {m.reason}")
    return out


def _text(r: DelegationReport) -> str:
    b = r.before
    lines = [f"graft delegation report: {r.name}",
             f"partitioner: {', '.join(r.partitioners)}; rules: {r.rules_name}", ""]
    gemm = [o for o in b.outside if o.counts_flops]
    other = [o for o in b.outside if not o.counts_flops]
    lines += _delegated(b)
    lines.append(f"outside the delegates: {len(gemm)} GEMM/convolution op(s), {len(other)} other op(s)")
    if gemm:
        lines += ["", "GEMMs and convolutions outside the delegates (share of GEMM/convolution FLOPs):"]
        lines += _op_lines(gemm, b.flops, grouped=False)
    if other:
        lines += ["", "other ops outside the delegates (share of elements written):"]
        lines += _op_lines(other, b.elements, grouped=True)
    if r.after is not None:
        a = r.after
        applied = ", ".join(f"{name} x{s.applied}" for name, s in a.stats.rules.items()
                            if s.applied) if a.stats else ""
        lines += ["", f"after graft's rules (GraftPass: {applied or 'no rewrite'}):"]
        lines += ["  " + l for l in _delegated(a)]
        counts: Dict[str, int] = {}
        for o in a.outside:
            counts[o.op] = counts.get(o.op, 0) + 1
        lines.append("  outside the delegates: " + (", ".join(
            f"{op} x{n}" for op, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            or "nothing"))
    return "\n".join(lines) + "\n"


# ---- Graphviz.


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(r: DelegationReport) -> str:
    low = r.before
    gm = low.lowered.graph_module
    user_inputs = set(low.lowered.graph_signature.user_inputs)
    outside = {o.node: o for o in low.outside}
    lines = ["digraph delegation {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    drawn = set()

    def source(n):  # a tuple read is drawn as an edge from its producer
        return source(n.args[0]) if n.op == "call_function" and n.target is operator.getitem else n

    delegates = 0
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            if n.name not in user_inputs:
                continue
            attrs = {"shape": "ellipse", "label": n.name}
        elif n.op == "output":
            attrs = {"shape": "ellipse", "label": "output"}
        elif n.op == "call_function" and n.target is executorch_call_delegate:
            delegates += 1
            lowered_module = getattr(gm, n.args[0].target)
            count = sum(1 for _ in _cost.tensor_ops(lowered_module.original_module.graph_module))
            attrs = {"shape": "box3d", "style": "filled", "fillcolor": "#d9ead3",
                     "label": f"{lowered_module.backend_id} delegate {delegates}\n"
                              f"{count} op{'s' if count != 1 else ''}"}
        elif n.name in outside:
            o = outside[n.name]
            total = low.flops if o.counts_flops else low.elements
            share = f"{_pct((o.cost or 0) / total)} of {'FLOPs' if o.counts_flops else 'elements'}" \
                if total else ""
            label = f"{o.op}\n{o.node}\n{share}"
            if o.fixes:
                label += f"\nfix: {o.fixes[0].rule}"
            attrs = {"shape": "box", "style": "filled",
                     "fillcolor": "#f9cb9c" if o.fixes else "#f4cccc",
                     "label": label, "tooltip": "; ".join(o.reasons) or "no reason given"}
        else:
            continue
        drawn.add(n)
        lines.append(f"  {_quote(n.name)} [" + ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())
                     + "];")
    for n in gm.graph.nodes:
        if n in drawn:
            inputs = {source(a) for a in n.all_input_nodes} & drawn
            lines += [f"  {_quote(a.name)} -> {_quote(n.name)};"
                      for a in sorted(inputs, key=lambda a: a.name)]
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- Command line.

# Partitioners by name, for --partitioner; each entry builds a fresh one.
def _xnnpack():
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

    return XnnpackPartitioner()


PARTITIONERS = {"xnnpack": _xnnpack}


def _load(path: str):
    if not os.path.isfile(path):
        raise GraftError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):  # checked here: torch logs a traceback before raising
        raise GraftError(f"{path}: not a program saved by torch.export.save (not a zip archive)")
    try:
        return torch.export.load(path)
    except Exception as e:  # torch raises a variety of errors for a file it cannot read
        raise GraftError(f"{path}: not a program saved by torch.export.save ({type(e).__name__}: {e})") from e


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graft.report",
        description="Lowers a saved exported program and reports the ops left outside the "
                    "delegates: their share of the work, the partitioner's reason, and the graft "
                    "rule that would change it; then lowers again with those rules.")
    parser.add_argument("program", help="a program saved by torch.export.save (.pt2)")
    parser.add_argument("--rules", action="append", metavar="PATH",
                        help="a .rules file or directory to look for fixes in, instead of graft's "
                             "catalogue (repeatable)")
    parser.add_argument("--catalogue", action="store_true",
                        help="with --rules: look in graft's catalogue too")
    parser.add_argument("--partitioner", choices=sorted(PARTITIONERS), default="xnnpack",
                        help="the backend's partitioner (default: %(default)s)")
    parser.add_argument("--svg", metavar="FILE",
                        help="also draw the lowered graph, the ops outside the delegates marked")
    parser.add_argument("--no-after", action="store_true",
                        help="skip the second lowering, with graft's rules")
    args = parser.parse_args(argv)
    if args.catalogue and not args.rules:
        parser.error("--catalogue adds graft's catalogue to --rules (without --rules it is the default)")
    rules = args.rules + [CATALOGUE_DIR] if args.catalogue else args.rules
    try:
        report = delegation_report(_load(args.program), PARTITIONERS[args.partitioner](),
                                   rules, after=not args.no_after, name=args.program)
        sys.stdout.write(str(report))
        if args.svg:
            report.write_svg(args.svg)
            print(f"graph: {args.svg}")
    except GraftError as e:
        print(f"graft.report: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
