"""graft rewrite rules as an ExecuTorch pass, run before partitioning.

    from graft.executorch import GraftPass
    lowered = to_edge_transform_and_lower(
        ep, transform_passes=[GraftPass()], partitioner=[XnnpackPartitioner()])

or, for programs lowered in two steps,

    edge = graft.executorch.rewrite(to_edge(ep))     # rules=[...] to choose
    lowered = edge.to_backend(XnnpackPartitioner())

The Python side is thin: it serializes the edge program with ExecuTorch's own
serializer (the JSON inside the zip executorch.exir.save writes, without the
weights), runs graft's C++ rewriter on it (the graft-opt tool, `--from exir
--to exir`), and applies the result to a copy of the program's graph.

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
signature states each input's kind; graft reads it from the serialized
signature (`parameter`, `buffer`, `tensor_constant`, `user_input`). The pass
also owns the signature, so it can name outputs that a rewrite replaced.

Finding graft-opt
-----------------
$GRAFT_OPT, else `bazel-bin/tools/graft_opt/graft-opt` in the graft checkout
this package lives in (`bazel build //tools/graft_opt:graft-opt`), else
`graft-opt` on $PATH.
"""

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from torch.export.graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    OutputSpec,
)

from executorch.exir.pass_base import ExportedProgramPassBase, ExportedProgramPassResult

__all__ = [
    "GraftPass",
    "GraftError",
    "RewriteStats",
    "edge_compile_config",
    "graft_opt_path",
    "rewrite",
    "rewrite_json",
]


class GraftError(RuntimeError):
    """graft-opt refused the program or the rules (the message says why)."""


@dataclasses.dataclass
class RewriteStats:
    """What one run of graft did, from graft-opt's --stats."""

    rewrites: int = 0
    converged: bool = True
    applied: Dict[str, int] = dataclasses.field(default_factory=dict)  # rule -> count
    report: str = ""  # graft-opt's table, for humans

    def __str__(self) -> str:
        fired = ", ".join(f"{r} x{n}" for r, n in self.applied.items() if n) or "nothing"
        return f"graft: {self.rewrites} rewrite(s) ({fired})"


def graft_opt_path() -> str:
    """The graft-opt binary this package runs (see the module docstring)."""
    env = os.environ.get("GRAFT_OPT")
    if env:
        if not os.access(env, os.X_OK):
            raise GraftError(f"GRAFT_OPT={env} is not an executable file")
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.path.dirname(os.path.dirname(here)), os.getcwd()):
        candidate = os.path.join(root, "bazel-bin", "tools", "graft_opt", "graft-opt")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("graft-opt")
    if found:
        return found
    raise GraftError(
        "graft-opt not found: build it with `bazel build //tools/graft_opt:graft-opt` in the "
        "graft checkout, or set GRAFT_OPT to the binary"
    )


_STATS_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s*$")
_REWRITES = re.compile(r"(\d+) rewrite\(s\)")


def _parse_stats(stderr: str) -> RewriteStats:
    stats = RewriteStats()
    lines = stderr.splitlines()
    if "// ---- stats" in lines:
        table = lines[lines.index("// ---- stats") + 1:]
        stats.report = "\n".join(table)
        for line in table:
            m = _STATS_ROW.match(line)
            if m and m.group(1) != "rule":
                stats.applied[m.group(1)] = int(m.group(4))
            m = _REWRITES.search(line)
            if m and "iteration" in line:
                stats.rewrites = int(m.group(1))
    stats.converged = "did not converge" not in stderr
    return stats


def rewrite_json(
    program_json: str,
    rules: Optional[Sequence[str]] = None,
    only: Optional[Iterable[str]] = None,
    disable: Optional[Iterable[str]] = None,
    verify_each: bool = False,
):
    """Rewrites a serialized_exported_program.json text with graft.

    `rules` are .rules files or directories (default: graft's built-in
    catalogue); `only` / `disable` select rules by name. Returns
    (new_json_text, RewriteStats).
    """
    exe = graft_opt_path()
    with tempfile.TemporaryDirectory(prefix="graft-") as d:
        src = os.path.join(d, "program.json")
        dst = os.path.join(d, "rewritten.json")
        with open(src, "w") as f:
            f.write(program_json)
        cmd = [exe, src, "--from", "exir", "--to", "exir", "-o", dst, "--stats"]
        for r in rules or ():
            cmd += ["--rules", os.fspath(r)]
        if only:
            cmd += ["--only", ",".join(only)]
        if disable:
            cmd += ["--disable", ",".join(disable)]
        if verify_each:
            cmd.append("--verify-each")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise GraftError(proc.stderr.strip() or f"graft-opt exited with {proc.returncode}")
        with open(dst) as f:
            out = f.read()
    return out, _parse_stats(proc.stderr)


# ---- Serialization with ExecuTorch's own serializer, without the weights.


def _serialize_graph(ep) -> str:
    from executorch.exir.serde import serialize as exir_serde

    light = copy.copy(ep)  # the serializer would torch.save the weights: not needed here
    light._state_dict = {}
    light._constants = {}
    light._example_inputs = None
    artifact = exir_serde.serialize(light)
    return artifact.exported_program.decode("utf-8")


def _deserialize_graph(ep, program_json: str):
    from executorch.exir.serde import export_serialize
    from executorch.exir.serde import serialize as exir_serde

    # Dicts pass through ExecuTorch's deserializer as they are: no copy of
    # the weights is made.
    artifact = export_serialize.SerializedArtifact(
        program_json.encode("utf-8"),
        dict(ep.state_dict),
        dict(ep.constants),
        ep.example_inputs if ep.example_inputs is not None else b"",
    )
    return exir_serde.deserialize(artifact)


# ---- Applying the rewritten graph to the program's own graph.
#
# Rather than replacing the program by the deserialized one, graft's result is
# applied as an edit of (a copy of) the original FX graph: nodes graft kept
# stay the same FX nodes with all their metadata (including what the
# serializer does not carry, such as source_fn_stack, which partitioners
# read); only new nodes come from the deserialized graph, with their
# meta["val"] recomputed in the program's own fake mode.


def _fake_mode(gm):
    from torch._guards import detect_fake_mode

    vals = [n.meta.get("val") for n in gm.graph.nodes if n.op == "placeholder"]
    return detect_fake_mode([v for v in vals if isinstance(v, torch.Tensor)])


def _same_target(a, b) -> bool:
    return a is b or a == b or str(a) == str(b)


def _schema_args(target):
    schema = getattr(target, "_schema", None)
    return list(schema.arguments) if schema is not None else None


def _by_name(target, args, kwargs):
    """{argument name (or position): value} for a call."""
    params = _schema_args(target)
    named = {}
    for i, a in enumerate(args):
        named[params[i].name if params and i < len(params) else i] = a
    named.update(kwargs)
    return named


def _rebind(old, new_args, new_kwargs):
    """old's arguments with the values of the rewritten call, argument by
    argument, keeping old's split between positional and keyword."""
    new = _by_name(old.target, new_args, new_kwargs)
    params = _schema_args(old.target)
    args = []
    for i, a in enumerate(old.args):
        key = params[i].name if params and i < len(params) else i
        args.append(new.get(key, a))
    kwargs = {k: new.get(k, v) for k, v in old.kwargs.items()}
    return tuple(args), kwargs


def _positional(target, args, kwargs):
    """A call spelled as torch.export spells it: every argument that may be
    positional is, up to the last one given (partitioners index node.args,
    e.g. XNNPACK reads a linear's bias as args[2]); keyword-only ones stay
    keywords."""
    params = _schema_args(target)
    if not params:
        return args, kwargs
    named = _by_name(target, args, kwargs)
    positional = [p for p in params if not p.kwarg_only]
    last = max((i for i, p in enumerate(positional) if p.name in named), default=-1)
    out_args = []
    for p in positional[: last + 1]:
        if p.name in named:
            out_args.append(named[p.name])
        elif p.has_default_value():
            out_args.append(p.default_value)
        else:
            return args, kwargs  # not expected from ExecuTorch's deserializer
    out_kwargs = {p.name: named[p.name] for p in params if p.kwarg_only and p.name in named}
    return tuple(out_args), out_kwargs


def _apply(ep, new_ep):
    """Returns a GraphModule: ep's graph edited to match new_ep's."""
    import operator

    old_gm = ep.graph_module
    graph = copy.deepcopy(old_gm.graph)  # node meta dicts copied, values shared
    gm = torch.fx.GraphModule(old_gm, graph)
    gm.meta.update(old_gm.meta)
    by_name = {n.name: n for n in graph.nodes}
    fake_mode = _fake_mode(gm)

    env = {}  # node of the rewritten graph -> node of `graph`
    kept = set()
    created = []
    cursor = None
    new_graph = new_ep.graph_module.graph

    def arg(a):
        return torch.fx.node.map_arg(a, lambda n: env[n])

    def val(x):
        return x.meta.get("val") if isinstance(x, torch.fx.Node) else x

    for n in new_graph.nodes:
        if n.op == "output":
            continue
        old = by_name.get(n.name)
        if n.op == "placeholder":
            if old is None or old.op != "placeholder":
                raise GraftError(f"graft changed the program's inputs ({n.name})")
            env[n] = old
            kept.add(old)
            cursor = old
            continue
        if old is not None and old not in kept and old.op == n.op and _same_target(old.target, n.target):
            # Kept: only its operands may have changed. Keep its own spelling
            # of the arguments (positional or keyword), which partitioners
            # index into; the deserializer spells them differently.
            old.args, old.kwargs = _rebind(old, arg(n.args), arg(n.kwargs))
            node = old
            kept.add(old)
        else:
            where = (graph.inserting_after(cursor) if cursor is not None
                     else graph.inserting_before(next(iter(graph.nodes))))
            args, kwargs = _positional(n.target, arg(n.args), arg(n.kwargs))
            with where:
                node = graph.create_node(n.op, n.target, args, kwargs, name=n.name)
            node.meta = dict(n.meta)
            created.append(node)
            # The value in the program's own fake mode (symbols included).
            try:
                if n.target is operator.getitem:
                    node.meta["val"] = node.args[0].meta["val"][node.args[1]]
                elif fake_mode is not None:
                    with fake_mode:
                        args = torch.fx.node.map_aggregate(node.args, val)
                        kwargs = torch.fx.node.map_aggregate(node.kwargs, val)
                        node.meta["val"] = node.target(*args, **kwargs)
            except Exception:  # noqa: BLE001 - keep the deserialized value
                pass
        # graft's order, which is topological.
        if cursor is None:
            first = next(iter(graph.nodes))
            if first is not node:
                first.prepend(node)
        elif cursor.next is not node:
            cursor.append(node)
        cursor = node
        env[n] = node

    out_old = graph.output_node()
    out_new = new_graph.output_node()
    out_old.args = arg(out_new.args)

    # Getitems the deserializer made for unused outputs; then what graft erased.
    for node in reversed(created):
        if node.target is operator.getitem and not node.users:
            graph.erase_node(node)
    for node in reversed(list(graph.nodes)):
        if node.op in ("placeholder", "output") or node in kept or node in created:
            continue
        if node.users:
            raise GraftError(f"internal error: {node.name} was erased by graft but is still used")
        graph.erase_node(node)
    graph.lint()
    gm.recompile()
    return gm


def _updated_signature(sig: ExportGraphSignature, gm) -> ExportGraphSignature:
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


class GraftPass(ExportedProgramPassBase):
    """Runs graft's rules on an edge program, before partitioning.

    rules: .rules files or directories; default graft's built-in catalogue.
    only / disable: rule names to run / skip.
    After a run, `stats` holds a RewriteStats (rewrites per rule).
    The program passed in is not modified: the result is a copy with a new
    graph module and signature (weights and constants are shared).
    """

    def __init__(
        self,
        rules: Optional[Sequence[str]] = None,
        only: Optional[Iterable[str]] = None,
        disable: Optional[Iterable[str]] = None,
        verify_each: bool = False,
    ):
        super().__init__()
        self.rules = [os.fspath(r) for r in rules] if rules else None
        self.only = list(only) if only else None
        self.disable = list(disable) if disable else None
        self.verify_each = verify_each
        self.stats: Optional[RewriteStats] = None
        # Edge ops the last run put into the graph (for verifier exceptions).
        self.created_ops: List = []

    def call(self, exported_program) -> ExportedProgramPassResult:
        text = _serialize_graph(exported_program)
        out, self.stats = rewrite_json(
            text, self.rules, self.only, self.disable, self.verify_each
        )
        if self.stats.rewrites == 0 and out == text:
            self.created_ops = []
            return ExportedProgramPassResult(exported_program, False)
        new_ep = _deserialize_graph(exported_program, out)
        before = {n.name: n.target for n in exported_program.graph_module.graph.nodes}
        gm = _apply(exported_program, new_ep)
        self.created_ops = sorted(
            {
                n.target
                for n in gm.graph.nodes
                if n.op == "call_function"
                and not (n.name in before and _same_target(before[n.name], n.target))
            },
            key=str,
        )
        result = copy.copy(exported_program)
        result._graph_module = gm
        result._graph_signature = _updated_signature(exported_program.graph_signature, gm)
        rejected = _rejected_ops(exported_program, self.created_ops)
        if rejected:
            if not self._extend_verifiers:
                names = ", ".join(str(getattr(op, "_op", op)) for op in rejected)
                raise GraftError(
                    f"graft's rules introduced {names}, which this program's edge verifier does not "
                    "accept (to_edge_transform_and_lower accepts aten.linear only when the "
                    "partitioner preserves it, i.e. when the model already has an nn.Linear). Pass "
                    "compile_config=graft.executorch.edge_compile_config() to "
                    "to_edge_transform_and_lower, or use graft.executorch.rewrite(to_edge(ep))."
                )
            result._verifiers = [_extended_verifier(v, rejected) for v in exported_program.verifiers]
        return ExportedProgramPassResult(result, True)

    _extend_verifiers = False  # set by rewrite(), which also extends the manager's config


# Non-core-ATen ops graft's catalogue can introduce.
def _graft_ops() -> List:
    return [torch.ops.aten.linear.default]


def edge_compile_config(base=None):
    """An EdgeCompileConfig whose verifier accepts the ops graft's rules
    introduce (aten.linear), for to_edge / to_edge_transform_and_lower."""
    from executorch.exir import EdgeCompileConfig

    config = copy.copy(base) if base is not None else EdgeCompileConfig()
    ops = list(getattr(config, "_core_aten_ops_exception_list", []) or [])
    config._core_aten_ops_exception_list = ops + [op for op in _graft_ops() if op not in ops]
    return config


def _rejected_ops(ep, ops) -> List:
    """The ops among `ops` one of ep's verifiers refuses."""
    from torch._export.verifier import SpecViolationError

    rejected = []
    for op in ops:
        for verifier in ep.verifiers:
            check = getattr(verifier(), "check_valid_op", None)
            if check is None:
                continue
            try:
                check(op)
            except SpecViolationError:
                rejected.append(op)
                break
    return rejected


def _extended_verifier(verifier, ops):
    """`verifier` (an EXIR edge verifier class) also accepting `ops`."""
    from executorch.exir import EdgeCompileConfig
    from executorch.exir.verification.verifier import EXIREdgeDialectVerifier

    v = verifier()
    if getattr(v, "dialect", None) != "EDGE" or not hasattr(v, "_core_aten_ops_exception_list"):
        return verifier
    return EXIREdgeDialectVerifier(
        edge_compile_config=EdgeCompileConfig(
            _check_ir_validity=v.enable, _skip_dim_order=not v.use_dim_order
        ),
        class_only=True,
        core_aten_ops_exception_list=list(v._core_aten_ops_exception_list) + _edge_exceptions(ops),
        preserve_ops=list(v._preserve_ops),
    )


def _edge_exceptions(ops) -> List:
    """ATen overloads of edge ops, for EdgeCompileConfig's exception list."""
    out = []
    for op in ops:
        aten = getattr(op, "_op", op)  # EdgeOpOverload wraps the ATen OpOverload
        if isinstance(aten, torch._ops.OpOverload):
            out.append(aten)
    return out


def rewrite(edge_program_manager, rules: Optional[Sequence[str]] = None, **kwargs):
    """Applies graft to every method of an EdgeProgramManager (from to_edge).

    Returns a new EdgeProgramManager; call .to_backend(partitioner) on it.
    Ops the rules introduce that are not core ATen (aten.linear) are added to
    the manager's EdgeCompileConfig exception list, so the edge verifier
    accepts them, as to_edge_transform_and_lower does for a partitioner's
    preserved ops. kwargs go to GraftPass.
    """
    graft_pass = GraftPass(rules, **kwargs)
    graft_pass._extend_verifiers = True
    config = copy.copy(edge_program_manager.compile_config)
    # The list is read when the verifier runs, after the pass: extend it then.
    exceptions = list(getattr(config, "_core_aten_ops_exception_list", []) or [])
    config._core_aten_ops_exception_list = exceptions

    class _Recording(ExportedProgramPassBase):
        def call(self, ep):
            res = graft_pass.call(ep)
            for op in _edge_exceptions(graft_pass.created_ops):
                if op not in exceptions:
                    exceptions.append(op)
            return res

    return edge_program_manager.transform([_Recording()], compile_config=config)
