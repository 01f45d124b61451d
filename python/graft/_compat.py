"""Everything graft reaches for inside torch.export and ExecuTorch that is not
their public API, in one place, behind a version check.

graft is tested with the versions in SUPPORTED; outside that range a private
attribute below may have moved, so importing graft.executorch fails at once
with a message naming the range instead of failing later inside a pass.
"""

import importlib.metadata

import torch

from graft._graft import GraftError

# distribution -> (lowest supported version, first unsupported version).
SUPPORTED = {
    "torch": ((2, 13), (2, 14)),
    "executorch": ((1, 5), (1, 6)),
}


def _version(dist: str):
    text = importlib.metadata.version(dist)
    parts = []
    for piece in text.split("+")[0].split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts), text


def supported_range() -> str:
    return ", ".join(
        f"{d} >= {'.'.join(map(str, lo))}, < {'.'.join(map(str, hi))}"
        for d, (lo, hi) in SUPPORTED.items()
    )


def check_versions() -> None:
    for dist, (lo, hi) in SUPPORTED.items():
        try:
            have, text = _version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise GraftError(f"graft.executorch needs {dist} ({supported_range()})") from None
        if not lo <= have < hi:
            raise GraftError(
                f"graft.executorch supports {supported_range()}; {dist} {text} is installed"
            )


check_versions()

from executorch.exir.dialects._ops import ops as _exir_ops  # noqa: E402
from executorch.exir.dialects.edge._ops import EdgeOpOverload  # noqa: E402
# ExecuTorch's own serde numbering (exir/serde/schema.py: UINT16 = 14, ...),
# which graft's exir reader speaks; torch.export's serde numbers the newer
# dtypes differently (UINT16 = 28).
from executorch.exir.serde.export_serialize import _TORCH_TO_SERIALIZE_DTYPE  # noqa: E402

# ExecuTorch's serialized ScalarType numbers, both ways.
DTYPE_TO_SERIAL = {dtype: st.value for dtype, st in _TORCH_TO_SERIALIZE_DTYPE.items()}
SERIAL_TO_DTYPE = {v: d for d, v in DTYPE_TO_SERIAL.items()}


OpOverload = torch._ops.OpOverload


def schema(op):
    """The FunctionSchema of an op overload (edge or ATen), or None."""
    return getattr(op, "_schema", None)


def edge_op(qualified: str):
    """The edge dialect op `aten.linear.default` (ExecuTorch's exir_ops)."""
    ns, name, overload = qualified.split(".")
    return getattr(getattr(getattr(_exir_ops.edge, ns), name), overload)


def aten_op(qualified: str):
    """The ATen op `aten.linear.default` (torch.ops)."""
    ns, name, overload = qualified.split(".")
    return getattr(getattr(getattr(torch.ops, ns), name), overload)


def aten_of(op):
    """The ATen OpOverload an EdgeOpOverload wraps (op itself otherwise: an
    ATen OpOverload's own `_op` is its C++ function, not an overload)."""
    return op._op if isinstance(op, EdgeOpOverload) else op


def with_graph(ep, graph_module, signature):
    """A shallow copy of ExportedProgram `ep` with another graph module and
    signature (weights and constants shared), without re-running
    ExportedProgram's constructor, which would re-verify and copy."""
    import copy

    result = copy.copy(ep)
    result._graph_module = graph_module
    result._graph_signature = signature
    return result


def graph_module(root, graph):
    """A GraphModule of `graph` with root's attributes. Lazy: its Python code
    is generated when first needed (torch.compile's own choice), not by the
    pass, which would spend most of its time there."""
    from torch.fx._lazy_graph_module import _make_graph_module, _use_lazy_graph_module

    with _use_lazy_graph_module(True):
        gm = _make_graph_module(root, graph, class_name=type(root).__name__)
    gm.meta.update(root.meta)
    return gm


def set_verifiers(ep, verifiers) -> None:
    ep._verifiers = verifiers


def compile_config_of(ep):
    """The EdgeCompileConfig edge program `ep` was made under, or None.

    to_edge and to_edge_transform_and_lower give the program an edge verifier
    built from their EdgeCompileConfig, and keep that same object as the
    EdgeProgramManager's compile_config, with which EdgeProgramManager.transform
    verifies the program after the transform passes. ExecuTorch keeps no
    public reference from the program to it: only the verifier class's
    closure (exir/verification/verifier.py, EXIREdgeDialectVerifier) holds it.
    """
    import inspect

    for verifier in ep.verifiers:
        if getattr(verifier, "dialect", None) != "EDGE":
            continue
        config = inspect.getclosurevars(verifier.__init__).nonlocals.get("edge_compile_config")
        if config is not None:
            return config
    return None


def accept_ops(config, ops) -> None:
    """Adds ATen overloads `ops` to EdgeCompileConfig `config`'s list of ops
    its verifier accepts beyond core ATen (as to_edge_transform_and_lower
    adds a partitioner's preserved ops to it)."""
    have = list(getattr(config, "_core_aten_ops_exception_list", []) or [])
    config._core_aten_ops_exception_list = have + [op for op in ops if op not in have]


def edge_verifier_accepting(verifier, ops):
    """`verifier` (an EXIR edge verifier class) also accepting `ops` (ATen
    overloads), or `verifier` itself when it is not an edge verifier."""
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
        core_aten_ops_exception_list=list(v._core_aten_ops_exception_list) + list(ops),
        preserve_ops=list(v._preserve_ops),
    )


def rejecting_verifiers(ep, ops) -> list:
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


def fake_mode(gm):
    """The fake mode of a GraphModule's placeholder values."""
    from torch._guards import detect_fake_mode

    vals = [n.meta.get("val") for n in gm.graph.nodes if n.op == "placeholder"]
    return detect_fake_mode([v for v in vals if isinstance(v, torch.Tensor)])
