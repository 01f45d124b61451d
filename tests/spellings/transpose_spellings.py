"""Every way a user writes a 2-D transpose of a weight, and small modules that
compute `x @ transpose(W)` with it; shared by the tests that check each
spelling reaches graft as its builtin `transpose`, whichever way the module
travels (traced TorchScript, torch.export's ATen program, the edge dialect).
"""

import torch

# Each spelling of a 2-D transpose of W, as a user writes it.
SPELLINGS = {
    "W.t()": lambda W: W.t(),
    "W.T": lambda W: W.T,
    "W.mT": lambda W: W.mT,
    "W.mH": lambda W: W.mH,
    "W.H": lambda W: W.H,
    "W.adjoint()": lambda W: W.adjoint(),
    "W.transpose(0, 1)": lambda W: W.transpose(0, 1),
    "W.transpose(1, 0)": lambda W: W.transpose(1, 0),
    "W.transpose(-1, -2)": lambda W: W.transpose(-1, -2),
    "W.swapaxes(0, 1)": lambda W: W.swapaxes(0, 1),
    "W.swapdims(1, 0)": lambda W: W.swapdims(1, 0),
    "W.permute(1, 0)": lambda W: W.permute(1, 0),
    "W.permute(-1, -2)": lambda W: W.permute(-1, -2),
    "W.movedim(0, 1)": lambda W: W.movedim(0, 1),
    "torch.moveaxis(W, 1, 0)": lambda W: torch.moveaxis(W, 1, 0),
}


class Logits(torch.nn.Module):
    def __init__(self, transpose, weight_shape=(16, 8)):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(*weight_shape))
        self.transpose = transpose

    def forward(self, x):
        return x @ self.transpose(self.W)


class ComputedWeight(torch.nn.Module):
    """The transposed operand is computed, not a parameter."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(16, 8))

    def forward(self, x):
        return x @ torch.relu(self.W).T


class Rank3Weight(torch.nn.Module):
    """permute(0, 2, 1) of a rank-3 parameter is a batched transpose."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(2, 16, 8))

    def forward(self, x):
        return x @ self.W.permute(0, 2, 1)
