"""Gated linear units in the feed-forward block: SwiGLU and GEGLU (Shazeer, 2020, "GLU variants improve Transformer").

The Transformer's feed-forward block is ``FFN(x) = act(x W₁) W₂`` with a hidden width of ``4d``: two
matrices, ``8d²`` weights. A GLU variant gates one projection by another,

    FFN_GLU(x) = (act(x W) ⊙ x V) W₂,        act = SiLU (SwiGLU) or GELU (GEGLU),

which takes **three** matrices ``W, V (d, h)`` and ``W₂ (h, d)``, ``3dh`` weights. ``h = 8d/3`` keeps
``3dh = 8d²``, the parameter count of the 4d MLP (LLaMA rounds 8d/3 up to a multiple of 256). Dauphin et
al. (2017) introduced the gated linear unit ``σ(xW) ⊙ xV``; Shazeer (2020) found the SiLU and GELU gates
best in T5.
"""

from __future__ import annotations

import numpy as np

from gdcourse import functional as F
from gdcourse import nn
from gdcourse.nn.module import Module
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["GatedFeedForward", "glu_hidden_width", "feed_forward_parameters"]

_GATES = {"silu": (F.silu, F.silu_grad), "gelu": (F.gelu, F.gelu_grad), "sigmoid": (F.sigmoid, F.sigmoid_grad)}


class GatedFeedForward(Module):
    """``y = (act(x W) ⊙ (x V)) W₂``, no biases (as in LLaMA). ``x (N, d)`` → ``y (N, d)``, hidden ``(N, h)``.

    ``gate="silu"`` is SwiGLU, ``"gelu"`` GEGLU, ``"sigmoid"`` the original GLU (Dauphin et al., 2017).
    Backward, with ``a = xW``, ``b = xV``, ``u = dy W₂ᵀ``: ``da = u ⊙ b ⊙ act'(a)``, ``db = u ⊙ act(a)``,
    ``dx = da Wᵀ + db Vᵀ`` (the three weight gradients are those of the three linear layers).
    """

    def __init__(self, d: int, hidden: int, gate: str = "silu", rng=None, dtype=np.float64):
        super().__init__()
        if gate not in _GATES:
            raise ValueError(f"gate: expected one of {sorted(_GATES)}, got {gate!r}")
        d, hidden, rng = check_positive_int(d, "d"), check_positive_int(hidden, "hidden"), as_rng(rng)
        self.gate_name = gate
        self.gate = nn.Linear(d, hidden, bias=False, init="xavier_normal", rng=rng, dtype=dtype)
        self.up = nn.Linear(d, hidden, bias=False, init="xavier_normal", rng=rng, dtype=dtype)
        self.down = nn.Linear(hidden, d, bias=False, init="xavier_normal", rng=rng, dtype=dtype)

    def forward(self, x):
        a, b = self.gate.forward(x), self.up.forward(x)
        act = _GATES[self.gate_name][0](a)
        return self._keep((a, b, act), self.down.forward(act * b))

    def backward(self, dy, input_grad=True):
        a, b, act = self._saved(dy)
        u = self.down.backward(dy)
        da = u * b * _GATES[self.gate_name][1](a)
        dx_gate = self.gate.backward(da, input_grad=input_grad)
        dx_up = self.up.backward(u * act, input_grad=input_grad)
        return dx_gate + dx_up if input_grad else None

    def extra_repr(self):
        return f"d={self.gate.in_features}, hidden={self.gate.out_features}, gate={self.gate_name!r}"


def glu_hidden_width(d: int) -> int:
    """``8d/3`` rounded to the nearest integer: the GLU hidden width with the weights of a ``4d`` MLP."""
    return round(8 * check_positive_int(d, "d") / 3)


def feed_forward_parameters(d: int, hidden: int, gated: bool) -> int:
    """Weights of a bias-free feed-forward block: ``2dh`` (two matrices) or ``3dh`` (gated, three)."""
    return (3 if gated else 2) * check_positive_int(d, "d") * check_positive_int(hidden, "hidden")
