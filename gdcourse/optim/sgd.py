"""Stochastic gradient descent with (Nesterov) momentum, PyTorch's form."""

from __future__ import annotations

from gdcourse.optim.base import Optimizer, _check_closed_unit, _check_flag
from gdcourse.validate import check_positive, check_unit_interval

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    With momentum μ, dampening τ, weight decay λ (PyTorch's form)::

        g ← g + λθ
        b ← g                      at the first step
        b ← μ b + (1 − τ) g        afterwards
        g ← g + μ b  (Nesterov)    or   g ← b
        θ ← θ − γ g

    This is the velocity form of Polyak (1964) and, for Nesterov, of Sutskever
    et al. (2013) with the learning rate taken out of the buffer; it is the same
    method as ``v ← μv − γg; θ ← θ + v`` when γ is constant.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = check_unit_interval(momentum, "momentum")
        self.dampening = _check_closed_unit(dampening, "dampening")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.nesterov = _check_flag(nesterov, "nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True: expected momentum > 0 and dampening == 0, "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )

    def _update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum  # b ← μ b + (1 − τ) g, in place
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g

    def _hyper(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}
