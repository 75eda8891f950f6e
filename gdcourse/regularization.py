"""Weight penalties, gradient clipping and early stopping.

Conventions (stated once, used by ``train.fit``):

* L2 penalty ``(λ/2) Σ w²`` with gradient ``λ w``. With plain SGD this is exactly
  weight decay ``w ← (1 − η λ) w − η g``; with adaptive optimizers it is not (see
  ``optim.AdamW``).
* L1 penalty ``λ Σ |w|`` with (sub)gradient ``λ sign(w)`` (0 at w = 0).
* Penalties apply to weights only (parameters with 2 or more dimensions), not to
  biases or normalization scales, unless ``weights_only=False``.
"""

from __future__ import annotations

import copy

import numpy as np

from gdcourse._vector_ops import squared_norm
from gdcourse.nn.module import grad_vector
from gdcourse.validate import check_positive, check_positive_int

__all__ = [
    "l1_penalty", "l2_penalty", "add_l1_grad", "add_l2_grad",
    "clip_grad_norm", "clip_grad_value", "global_grad_norm", "EarlyStopping",
]


def _penalized(params, weights_only):
    return [p for p in params if p.value.ndim >= 2 or not weights_only]


def l1_penalty(params, strength, weights_only=True) -> float:
    """``λ Σ |w|`` over the (weight) parameters."""
    strength = check_positive(strength, "strength", allow_zero=True)
    return strength * float(sum(np.abs(p.value).sum() for p in _penalized(params, weights_only)))


def l2_penalty(params, strength, weights_only=True) -> float:
    """``(λ/2) Σ w²`` over the (weight) parameters."""
    strength = check_positive(strength, "strength", allow_zero=True)
    return 0.5 * strength * float(sum(np.vdot(p.value, p.value) for p in _penalized(params, weights_only)))


def add_l1_grad(params, strength, weights_only=True) -> float:
    """Add ``λ sign(w)`` to each weight's gradient; return the penalty value."""
    value = l1_penalty(params, strength, weights_only)
    for p in _penalized(params, weights_only):
        p.grad += strength * np.sign(p.value)
    return value


def add_l2_grad(params, strength, weights_only=True) -> float:
    """Add ``λ w`` to each weight's gradient; return the penalty value."""
    value = l2_penalty(params, strength, weights_only)
    for p in _penalized(params, weights_only):
        p.grad += strength * p.value
    return value


def global_grad_norm(params) -> float:
    """``sqrt(Σ_p ‖∇p‖²)`` over all parameters, the norm clipping and diagnostics use."""
    return float(np.sqrt(squared_norm(grad_vector(params))))


def clip_grad_norm(params, max_norm) -> float:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    ``g ← g · min(1, max_norm / (‖g‖ + 1e-6))`` (as ``torch.nn.utils.clip_grad_norm_``):
    the direction of the full gradient is kept, only its length is capped.
    Returns the norm *before* clipping.
    """
    max_norm = check_positive(max_norm, "max_norm")
    params = list(params)
    total = global_grad_norm(params)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad *= scale
    return total


def clip_grad_value(params, clip_value) -> None:
    """Clip every gradient entry to ``[−clip_value, clip_value]``.

    Unlike clipping by norm this changes the *direction* of the gradient whenever
    some entries are clipped and others are not.
    """
    clip_value = check_positive(clip_value, "clip_value")
    for p in params:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


class EarlyStopping:
    """Stop once a monitored metric has gone ``patience`` epochs in a row without improving.

    An epoch improves on the best so far when ``metric < best − min_delta``
    (``mode="min"``) or ``metric > best + min_delta`` (``mode="max"``). With
    ``restore_best=True`` the parameter values of the best epoch are kept and
    :meth:`restore` puts them back (``fit`` does this when it stops).
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best=True):
        self.patience = check_positive_int(patience, "patience", allow_zero=True)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.restore_best = restore_best
        self.reset()

    def reset(self):
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_epoch = -1
        self.bad_epochs = 0
        self.epoch = -1
        self.best_values = None
        self.stopped = False

    def _improved(self, metric):
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, params=()) -> bool:
        """Record one epoch's metric; return True when training should stop."""
        self.epoch += 1
        metric = float(metric)
        if self._improved(metric):
            self.best, self.best_epoch, self.bad_epochs = metric, self.epoch, 0
            if self.restore_best:
                self.best_values = [copy.copy(p.value) for p in params]
        else:
            self.bad_epochs += 1
        self.stopped = self.bad_epochs > 0 and self.bad_epochs >= self.patience
        return self.stopped

    def restore(self, params) -> None:
        """Put back the parameter values of the best epoch (if they were kept)."""
        if self.best_values is None:
            return
        for p, value in zip(params, self.best_values, strict=True):
            p.value = value

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r})"
