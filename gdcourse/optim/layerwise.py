"""Layer-wise trust ratios for large batches: LARS (You, Gitman & Ginsburg, 2017) and LAMB (You et al., 2020).

Both scale each parameter tensor's step by a *trust ratio* ‖θ‖ / ‖update‖, so
every layer moves by about the same fraction of its own norm per step, however
its gradient is scaled. That lets the global learning rate grow with the batch
size without one layer (often the last, or a normalization scale) diverging
first. The norms are per tensor, so these rules step parameter by parameter
rather than over a model's flat buffer.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse.optim.base import Optimizer, _buffer, _check_betas, _update_moments
from gdcourse.validate import check_positive, check_unit_interval

__all__ = ["LARS", "LAMB", "trust_ratio"]


def trust_ratio(weight_norm: float, update_norm: float) -> float:
    """‖θ‖ / ‖u‖, or 1 when either norm is 0 (a fresh zero bias, or a zero update)."""
    if weight_norm > 0 and update_norm > 0:
        return weight_norm / update_norm
    return 1.0


class _Layerwise(Optimizer):
    """Steps each Parameter on its own (its ``value`` and ``grad`` views), one state dict each."""

    def __init__(self, params, lr):
        super().__init__(params, lr)
        self.state = [{} for _ in self.params]

    def step(self) -> None:
        self._check_storage()
        self.t += 1
        for p, state in zip(self.params, self.state, strict=True):
            self._update(p.value, p.grad, state)


class LARS(_Layerwise):
    """LARS: SGD with momentum whose per-layer rate is η‖θ‖ / (‖g‖ + λ‖θ‖).

    With trust coefficient η, momentum μ and weight decay λ, per tensor::

        γₗ ← γ · η ‖θ‖ / (‖g‖ + λ‖θ‖)      (γ when ‖θ‖ or ‖g‖ is 0)
        b  ← μ b + γₗ (g + λθ)
        θ  ← θ − b
    """

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0.0, trust_coefficient=1e-3):
        super().__init__(params, lr)
        self.momentum = check_unit_interval(momentum, "momentum")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.trust_coefficient = check_positive(trust_coefficient, "trust_coefficient")

    def _update(self, w, g, state):
        w_norm, g_norm = float(np.linalg.norm(w)), float(np.linalg.norm(g))
        ratio = 1.0
        if w_norm > 0 and g_norm > 0:
            ratio = self.trust_coefficient * w_norm / (g_norm + self.weight_decay * w_norm)
        b = _buffer(state, "momentum_buffer", w)
        b *= self.momentum
        b += (self.lr * ratio) * (g + self.weight_decay * w)
        state["trust_ratio"] = ratio
        w -= b

    def _hyper(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "trust_coefficient": self.trust_coefficient}


class LAMB(_Layerwise):
    """LAMB: AdamW's direction, rescaled per tensor to a trust ratio ‖θ‖ / ‖r‖.

    With betas (β₁, β₂) and decoupled weight decay λ, per tensor::

        m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
        r ← m̂ / (√v̂ + ε) + λθ           (m̂, v̂ bias-corrected as in Adam)
        θ ← θ − γ · (‖θ‖ / ‖r‖) · r      (ratio 1 when either norm is 0)

    The step of every tensor is γ‖θ‖ long: γ is a *relative* step size.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, w, g, state):
        beta1, beta2 = self.betas
        m, v = _update_moments(g, w, state, beta1, beta2)
        m_hat = m / (1.0 - beta1**self.t)
        r = m_hat / (np.sqrt(v) / math.sqrt(1.0 - beta2**self.t) + self.eps)
        if self.weight_decay:
            r += self.weight_decay * w
        ratio = trust_ratio(float(np.linalg.norm(w)), float(np.linalg.norm(r)))
        state["trust_ratio"] = ratio
        w -= (self.lr * ratio) * r

    def _hyper(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}
