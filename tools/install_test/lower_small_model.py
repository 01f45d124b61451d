"""Lowers a small model with GraftPass through to_edge_transform_and_lower
and XNNPACK, with the graft installed in the virtual environment given
(tools/install_test/venv_lower.sh runs it from outside the checkout).

usage: lower_small_model.py VENV
"""

import os
import sys

import torch
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower

import graft
from graft.executorch import GraftPass


class Logits(torch.nn.Module):
    """x @ W.T: an mm whose weight is a permute_copy until graft's rule."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(16, 8))

    def forward(self, x):
        return torch.relu(x) @ self.W.T


def main():
    venv = os.path.realpath(sys.argv[1])
    where = os.path.realpath(graft.__file__)
    if not where.startswith(venv + os.sep):
        sys.exit(f"graft was imported from {where}, not from the virtual environment {venv}")
    model = Logits().eval()
    inputs = (torch.randn(4, 8),)
    graft_pass = GraftPass()
    lowered = to_edge_transform_and_lower(
        torch.export.export(model, inputs), transform_passes=[graft_pass],
        partitioner=[XnnpackPartitioner()])
    applied = graft_pass.stats.applied.get("mm_transposed_weight_to_linear")
    if applied != 1:
        sys.exit(f"expected one mm_transposed_weight_to_linear rewrite, got {graft_pass.stats}")
    left = [str(n.target) for n in lowered.exported_program().graph.nodes
            if n.op == "call_function" and "mm" in str(n.target)]
    if left:
        sys.exit(f"matmuls left outside the XNNPACK delegate: {left}")
    print(f"venv install: graft from {os.path.dirname(where)}; {graft_pass.stats}; lowered: OK")


if __name__ == "__main__":
    main()
