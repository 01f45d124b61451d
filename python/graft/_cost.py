"""What an op of an ExecuTorch program costs, from the shapes in its
node.meta["val"]: a GEMM or a convolution in FLOPs, any other op in elements
written (graft.report keeps the two apart)."""

from typing import Optional

import torch

from graft import _compat

from executorch.exir.delegate import executorch_call_delegate

# The operand whose last dim is the reduced one (K): a GEMM does
# 2 * numel(result) * K FLOPs.
_GEMM_LHS = {
    "aten.mm.default": 0,
    "aten.bmm.default": 0,
    "aten.matmul.default": 0,
    "aten.linear.default": 0,
    "aten.addmm.default": 1,
    "aten.baddbmm.default": 1,
}
_CONV = "aten.convolution.default"


def tensor_ops(gm):
    """The graph's tensor ops: not the delegates, tuple reads or SymInt math."""
    for node in gm.graph.nodes:
        if (node.op == "call_function" and node.target is not executorch_call_delegate
                and isinstance(node.target, (_compat.EdgeOpOverload, _compat.OpOverload))
                and _tensors(node.meta.get("val"))):
            yield node


def op_name(node) -> str:
    return str(_compat.aten_of(node.target))


def _tensors(val) -> list:
    if isinstance(val, torch.Tensor):
        return [val]
    if isinstance(val, (list, tuple)):
        return [v for v in val if isinstance(v, torch.Tensor)]
    return []


def _size(s) -> Optional[int]:
    """A dim as an int; a symbolic one at its example value (its hint)."""
    if isinstance(s, int):
        return s
    hint = getattr(getattr(s, "node", None), "hint", None)
    return int(hint) if hint is not None else None


def _numel(t: torch.Tensor) -> Optional[int]:
    n = 1
    for s in t.shape:
        s = _size(s)
        if s is None:
            return None
        n *= s
    return n


def cost(node):
    """(kind, cost): FLOPs of a GEMM or convolution, else elements written."""
    name = op_name(node)
    out = _tensors(node.meta.get("val"))
    if name in _GEMM_LHS or name == _CONV:
        ins = [a.meta.get("val") if isinstance(a, torch.fx.Node) else None for a in node.args]
        if name == _CONV:
            # Each output element (each input element, when transposed) is a
            # dot product over the weight's dims past the first.
            transposed = len(node.args) > 6 and bool(node.args[6])
            base, k = (ins[0] if transposed else out[0]), ins[1].shape[1:]
            kind = "conv"
        else:
            base, k = out[0], ins[_GEMM_LHS[name]].shape[-1:]
            kind = "gemm"
        n, ks = _numel(base), [_size(s) for s in k]
        if n is None or None in ks:
            return kind, None
        flops = 2 * n
        for s in ks:
            flops *= s
        return kind, flops
    counts = [_numel(t) for t in out]
    return "other", None if None in counts else sum(counts)


def shapes(node) -> str:
    def shape(v):
        return "[" + ", ".join(str(s) for s in v.shape) + "]"

    ins = [shape(a.meta["val"]) for a in node.args
           if isinstance(a, torch.fx.Node) and isinstance(a.meta.get("val"), torch.Tensor)]
    outs = [shape(t) for t in _tensors(node.meta.get("val"))]
    return f"{' x '.join(ins)} -> {', '.join(outs)}"
