"""A whisper-tiny.en-shaped text decoder in plain PyTorch, random weights.

The seed example for graft: the final projection is written exactly as
openai/whisper writes it, `x @ W.T` on the tied token embedding, which the
ExecuTorch XNNPACK partitioner refuses to delegate. `tied_linear=True` builds
the hand-fixed model (`F.linear(x, W)`, same tied weight, no copy) that a graft
rule should make the first one equivalent to.

    from decoder import make_decoder, example_inputs
    model = make_decoder()               # as upstream
    fixed = make_decoder(tied_linear=True)
    logits = model(*example_inputs())    # f32 [1, 128, 51864]
"""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

N_VOCAB = 51864
N_CTX = 448
N_STATE = 384
N_HEAD = 6
N_LAYER = 4
N_AUDIO_CTX = 1500
N_TOKENS = 128
SEED = 0


class MultiHeadAttention(nn.Module):
    def __init__(self, n_state, n_head):
        super().__init__()
        self.n_head = n_head
        self.scale = (n_state // n_head) ** -0.25
        self.query = nn.Linear(n_state, n_state)
        self.key = nn.Linear(n_state, n_state, bias=False)
        self.value = nn.Linear(n_state, n_state)
        self.out = nn.Linear(n_state, n_state)

    def _heads(self, a: torch.Tensor) -> torch.Tensor:
        b, t, c = a.shape
        return a.view(b, t, self.n_head, c // self.n_head).permute(0, 2, 1, 3)

    def forward(
        self,
        x: torch.Tensor,
        xa: Optional[torch.Tensor] = None,
        mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        q = self.query(x)
        kv_in = x if xa is None else xa
        k, v = self.key(kv_in), self.value(kv_in)
        t = q.shape[1]
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        qk = (q * self.scale) @ (k * self.scale).transpose(-1, -2)
        if mask is not None:
            qk = qk + mask[:t, :t]
        w = F.softmax(qk.float(), dim=-1).to(q.dtype)
        return self.out((w @ v).permute(0, 2, 1, 3).flatten(start_dim=2))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, n_state, n_head):
        super().__init__()
        self.attn = MultiHeadAttention(n_state, n_head)
        self.attn_ln = nn.LayerNorm(n_state)
        self.cross_attn = MultiHeadAttention(n_state, n_head)
        self.cross_attn_ln = nn.LayerNorm(n_state)
        n_mlp = n_state * 4
        self.mlp = nn.Sequential(
            nn.Linear(n_state, n_mlp), nn.GELU(), nn.Linear(n_mlp, n_state)
        )
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(self, x, xa, mask):
        x = x + self.attn(self.attn_ln(x), mask=mask)
        x = x + self.cross_attn(self.cross_attn_ln(x), xa)
        return x + self.mlp(self.mlp_ln(x))


class TextDecoder(nn.Module):
    tied_linear: torch.jit.Final[bool]  # lets torch.jit.script fold the branch

    def __init__(self, tied_linear=False):
        super().__init__()
        self.tied_linear = tied_linear
        self.token_embedding = nn.Embedding(N_VOCAB, N_STATE)
        self.positional_embedding = nn.Parameter(torch.empty(N_CTX, N_STATE))
        self.blocks = nn.ModuleList(
            ResidualAttentionBlock(N_STATE, N_HEAD) for _ in range(N_LAYER)
        )
        self.ln = nn.LayerNorm(N_STATE)
        mask = torch.empty(N_CTX, N_CTX).fill_(-float("inf")).triu_(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens, audio_features):
        n = tokens.shape[-1]
        x = self.token_embedding(tokens) + self.positional_embedding[:n]
        x = x.to(audio_features.dtype)
        for block in self.blocks:
            x = block(x, audio_features, self.mask)
        x = self.ln(x)
        if self.tied_linear:
            # The hand fix: same tied weight, no transposed copy.
            return F.linear(x, self.token_embedding.weight).float()
        # Exactly as openai/whisper's TextDecoder.forward.
        logits = (
            x @ torch.transpose(self.token_embedding.weight.to(x.dtype), 0, 1)
        ).float()
        return logits


def make_decoder(tied_linear=False):
    """Deterministic random weights: both variants get identical parameters."""
    torch.manual_seed(SEED)
    model = TextDecoder(tied_linear=tied_linear)
    with torch.no_grad():
        nn.init.normal_(model.positional_embedding, std=0.02)
        nn.init.normal_(model.token_embedding.weight, std=0.02)
    return model.eval()


def example_inputs():
    """(tokens int64 [1, 128], audio_features f32 [1, 1500, 384])."""
    g = torch.Generator().manual_seed(SEED + 1)
    tokens = torch.randint(0, N_VOCAB, (1, N_TOKENS), generator=g)
    audio = torch.randn(1, N_AUDIO_CTX, N_STATE, generator=g)
    return tokens, audio


if __name__ == "__main__":
    inputs = example_inputs()
    a = make_decoder()(*inputs)
    b = make_decoder(tied_linear=True)(*inputs)
    print(tuple(a.shape), a.dtype, "max |as-is - tied_linear| =",
          (a - b).abs().max().item())
