"""graft's rules on a torch.export ExportedProgram, before ExecuTorch.

    ep = torch.export.export(model, inputs)
    ep, stats = graft.export.rewrite(ep)        # x @ W.T is linear(x, W) now
    prepared = prepare_pt2e(ep.module(), XNNPACKQuantizer().set_global(...))

The program torch.export returns is ATen IR, not yet decomposed
(`matmul`, `t`, `transpose.int`, `linear`): graft's rules for that spelling
(patterns/torchscript.rules: `matmul(x, transpose(const W)) -> linear(x, W)`)
fire here, and the ops graft creates are ATen ops. Rewriting at this stage
is what a quantizer needs: XNNPACKQuantizer annotates linear ops, so a GEMM
written `x @ W.T` is quantized only if it is a linear before prepare_pt2e.
graft.executorch.GraftPass runs the same code on edge programs.

Named after the stage whose programs it takes, as graft.executorch is:
`graft.export.rewrite(ep)` next to `graft.executorch.rewrite(to_edge(ep))`.
"""

import operator
from typing import Iterable, Optional

import torch
from torch.export.graph_signature import ConstantArgument, ExportGraphSignature, OutputSpec

from graft import GraftError, RewriteStats, Rules, rules_from
from graft import _compat  # first: checks the torch / executorch versions
from graft import _graft
from graft._program import Program

__all__ = ["rewrite"]


def rewrite(
    exported_program,
    rules=None,
    only: Optional[Iterable[str]] = None,
    disable: Optional[Iterable[str]] = None,
    verify_each: bool = False,
):
    """Rewrites an ExportedProgram (torch.export.export's, or any stage's)
    with graft's rules; returns (ExportedProgram, RewriteStats).

    `rules` are .rules files or directories, or a graft.Rules (default:
    graft's built-in catalogue); `only` / `disable` select rules by name.
    The program passed in is not modified: the result is a copy with a new
    graph module and signature (weights and constants shared), or the program
    itself when no rule applied.
    """
    result, stats, _ = rewrite_program(
        exported_program, rules_from(rules), list(only or ()), list(disable or ()), verify_each)
    return result, stats


def rewrite_program(ep, rules: Rules, only, disable, verify_each):
    """(The rewritten program, RewriteStats, the ops graft created); the
    program is `ep` itself when nothing was rewritten."""
    program = Program(ep)
    edits, driver_stats = _graft.rewrite_program(program.text(), rules, only, disable, verify_each)
    stats = RewriteStats.from_driver(driver_stats)
    if stats.rewrites == 0:
        return ep, stats, []
    gm, created = program.apply(edits)
    ops = sorted({n.target for n in created if n.target is not operator.getitem}, key=str)
    return _compat.with_graph(ep, gm, _updated_signature(ep.graph_signature, gm)), stats, ops


def _updated_signature(sig: ExportGraphSignature, gm) -> ExportGraphSignature:
    """sig with its outputs renamed to the nodes graft left in the output."""
    outputs = gm.graph.output_node().args[0]
    if len(outputs) != len(sig.output_specs):
        raise GraftError("graft changed the number of outputs")
    specs = []
    for spec, node in zip(sig.output_specs, outputs):
        arg = spec.arg
        if not isinstance(arg, ConstantArgument) and isinstance(node, torch.fx.Node):
            arg = type(arg)(name=node.name)
        specs.append(OutputSpec(kind=spec.kind, arg=arg, target=spec.target))
    return ExportGraphSignature(input_specs=list(sig.input_specs), output_specs=specs)
