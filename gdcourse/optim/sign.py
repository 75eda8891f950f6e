"""Sign-based rules: signSGD / Signum (Bernstein et al., 2018) and Lion (Chen et al., 2023).

Every coordinate moves by exactly ±γ (plus decay), whatever the gradient's
size: the sign throws away the magnitude, which makes the step immune to badly
scaled coordinates (like Adam's division by √v̂, without storing v) and bounds
each update's size. Lion keeps one buffer per parameter (Adam keeps two).
"""

from __future__ import annotations

import numpy as np

from gdcourse.optim.base import Optimizer, _buffer, _check_betas
from gdcourse.validate import check_positive, check_unit_interval

__all__ = ["SignSGD", "Lion"]


class SignSGD(Optimizer):
    """signSGD, and with momentum β its Signum form (Bernstein, Wang, Azizzadenesheli & Anandkumar, 2018).

    With momentum β and decoupled weight decay λ::

        m ← β m + (1 − β) g        (m = g when β = 0)
        θ ← θ − γ (sign(m) + λθ)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = check_unit_interval(momentum, "momentum")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, w, g, state):
        direction = g
        if self.momentum:
            m = _buffer(state, "momentum_buffer", w)
            m *= self.momentum
            m += (1 - self.momentum) * g
            direction = m
        if self.weight_decay:
            w *= 1.0 - self.lr * self.weight_decay
        w -= self.lr * np.sign(direction)

    def _hyper(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Lion(Optimizer):
    """Lion, "EvoLved Sign Momentum" (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    With betas (β₁, β₂) and decoupled weight decay λ::

        c ← β₁ m + (1 − β₁) g          the direction: interpolate, then take the sign
        θ ← θ − γ (sign(c) + λθ)
        m ← β₂ m + (1 − β₂) g          the memory: a slower average, updated after the step

    The sign makes every step ±γ per coordinate, so the paper's advice is a
    learning rate 3-10× smaller than AdamW's and λ 3-10× larger (γλ the same).
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, w, g, state):
        beta1, beta2 = self.betas
        m = _buffer(state, "exp_avg", w)
        c = beta1 * m + (1 - beta1) * g
        if self.weight_decay:
            w *= 1.0 - self.lr * self.weight_decay
        w -= self.lr * np.sign(c)
        m *= beta2
        m += (1 - beta2) * g

    def _hyper(self):
        return {"lr": self.lr, "betas": self.betas, "weight_decay": self.weight_decay}
