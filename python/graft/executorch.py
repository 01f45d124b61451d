"""graft rewrite rules as an ExecuTorch pass, run before partitioning.

    from graft.executorch import GraftPass
    lowered = to_edge_transform_and_lower(
        ep, transform_passes=[GraftPass()], partitioner=[XnnpackPartitioner()])

or, for programs lowered in two steps,

    edge = graft.executorch.rewrite(to_edge(ep))     # rules=[...] to choose
    lowered = edge.to_backend(XnnpackPartitioner())

graft's C++ engine runs in this process (graft._graft): the program's FX
graph goes to it as one compact structure (graft/_program.py), the rules run
there, and the rewritten graph comes back as Python objects that are applied
to a copy of the program's graph. `rules` are .rules files or directories,
or a graft.Rules (graft.parse_rules("rule ...")); by default graft's
built-in catalogue, compiled once per process.

Why an ExportedProgramPassBase and not a GraphModule pass
----------------------------------------------------------
A rule such as `mm(x, transpose(const W)) -> linear(x, W)` must know which
graph inputs are parameters, buffers or lifted constants. A transform pass
that is a plain callable receives only the GraphModule, where that is not
reliably visible: placeholder names (`p_...`, `b_...`, `c_...`) are a naming
convention a user input can imitate (an input named `p_weight`), and the AOT
descriptors in `meta["desc"]` call torch.export's lifted tensor constants
buffers and are absent on ExecuTorch's own `_lifted_tensor_constantN`. An
ExportedProgramPassBase is called with the ExportedProgram, whose graph
signature states each input's kind; graft reads it from the graph
signature (parameter, buffer, constant tensor, user input). The pass
also owns the signature, so it can name outputs that a rewrite replaced.
"""

import copy
import os
from typing import Iterable, List, Optional, Sequence, Union

from graft import GraftError, RewriteStats, Rules, rules_from
from graft import _compat  # first: checks the torch / executorch versions
from graft import _graft
from graft.export import rewrite_program

from executorch.exir.pass_base import ExportedProgramPassBase, ExportedProgramPassResult

__all__ = [
    "GraftPass",
    "GraftError",
    "RewriteStats",
    "rewrite",
    "rewrite_json",
]

RuleSource = Union[None, Rules, Sequence[Union[str, os.PathLike]]]


def rewrite_json(
    program_json: str,
    rules: RuleSource = None,
    only: Optional[Iterable[str]] = None,
    disable: Optional[Iterable[str]] = None,
    verify_each: bool = False,
):
    """Rewrites a serialized_exported_program.json text with graft.

    `rules` are .rules files or directories, or a graft.Rules (default:
    graft's built-in catalogue); `only` / `disable` select rules by name.
    Returns (new_json_text, RewriteStats).
    """
    out, stats = _graft.rewrite_program_json(
        program_json, rules_from(rules), list(only or ()), list(disable or ()), verify_each)
    return out, RewriteStats.from_driver(stats)


class GraftPass(ExportedProgramPassBase):
    """Runs graft's rules on an edge program, before partitioning.

    rules: .rules files or directories, or a graft.Rules; default graft's
    built-in catalogue.
    only / disable: rule names to run / skip.
    After a run, `stats` holds a RewriteStats (per rule: tried, matched,
    applied, refused and why).
    The program passed in is not modified: the result is a copy with a new
    graph module and signature (weights and constants are shared).
    No configuration: the non-core ops graft introduces (aten.linear, in a
    model without nn.Linear) are added to the EdgeCompileConfig the program
    was made under, which the manager verifies it with after the passes.
    """

    def __init__(
        self,
        rules: RuleSource = None,
        only: Optional[Iterable[str]] = None,
        disable: Optional[Iterable[str]] = None,
        verify_each: bool = False,
    ):
        super().__init__()
        self.rules = rules_from(rules)  # compiled now: a bad rule file fails here
        self.only = list(only) if only else []
        self.disable = list(disable) if disable else []
        self.verify_each = verify_each
        self.stats: Optional[RewriteStats] = None
        # Edge ops the last run put into the graph (for verifier exceptions).
        self.created_ops: List = []
        # The EdgeCompileConfig to extend with them when the caller owns it
        # (rewrite()); otherwise the one the program was made under.
        self._compile_config = None

    def call(self, exported_program) -> ExportedProgramPassResult:
        result, self.stats, self.created_ops = rewrite_program(
            exported_program, self.rules, self.only, self.disable, self.verify_each)
        if result is exported_program:
            return ExportedProgramPassResult(exported_program, False)
        rejected = _compat.rejecting_verifiers(exported_program, self.created_ops)
        if rejected:
            self._accept(exported_program, result, _edge_exceptions(rejected))
        return ExportedProgramPassResult(result, True)

    def _accept(self, before, after, ops) -> None:
        """Makes the rewritten program's verifiers, and the EdgeCompileConfig
        its manager verifies it with after the transform passes, accept `ops`:
        the non-core ATen ops graft introduced (aten.linear, in a program
        whose partitioner preserved none because the model has no nn.Linear).
        to_edge_transform_and_lower does the same for the ops a partitioner
        preserves; without it the manager refuses the rewritten program."""
        config = self._compile_config or _compat.compile_config_of(before)
        if config is None:
            raise GraftError(
                f"graft's rules introduced {', '.join(map(str, ops))}, which this program's "
                "verifier does not accept, and the program carries no EdgeCompileConfig to extend "
                "(it was not made by to_edge or to_edge_transform_and_lower); give its manager "
                "EdgeCompileConfig(_core_aten_ops_exception_list=[...]) with those ops")
        _compat.accept_ops(config, ops)
        _compat.set_verifiers(after, [_compat.edge_verifier_accepting(v, ops) for v in before.verifiers])


def _edge_exceptions(ops) -> List:
    """ATen overloads of edge ops, for EdgeCompileConfig's exception list."""
    out = []
    for op in ops:
        aten = _compat.aten_of(op)
        if isinstance(aten, _compat.OpOverload):
            out.append(aten)
    return out


def rewrite(edge_program_manager, rules: RuleSource = None, **kwargs):
    """Applies graft to every method of an EdgeProgramManager (from to_edge).

    Returns a new EdgeProgramManager; call .to_backend(partitioner) on it.
    The manager passed in is left as it was: the new one verifies with a copy
    of its EdgeCompileConfig, extended with the non-core ATen ops the rules
    introduce (aten.linear). kwargs go to GraftPass.
    """
    graft_pass = GraftPass(rules, **kwargs)
    graft_pass._compile_config = copy.deepcopy(edge_program_manager.compile_config)
    return edge_program_manager.transform([graft_pass], compile_config=graft_pass._compile_config)
