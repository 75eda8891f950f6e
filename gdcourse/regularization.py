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
import numbers

import numpy as np

from gdcourse._vector_ops import squared_norm
from gdcourse.nn.module import Module, grad_vector
from gdcourse.nn.parameter import Parameter
from gdcourse.validate import check_positive, check_positive_int

__all__ = [
    "l1_penalty", "l2_penalty", "add_l1_grad", "add_l2_grad",
    "clip_grad_norm", "clip_grad_value", "global_grad_norm", "EarlyStopping",
]


def _parameters(params) -> list:
    """``params`` as a list of Parameters, or a TypeError naming what was given instead."""
    if isinstance(params, (Parameter, Module)):
        what = "a single Parameter; pass [param]" if isinstance(params, Parameter) else \
            f"a {type(params).__name__}; pass model.parameters()"
        raise TypeError(f"params: expected an iterable of Parameter, got {what}")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params: expected an iterable of Parameter, got {type(params).__name__}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params[{i}]: expected a gdcourse.nn.Parameter, got {type(p).__name__}")
    return params


def _penalized(params, weights_only):
    return [p for p in _parameters(params) if p.value.ndim >= 2 or not weights_only]


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
    params = _penalized(params, weights_only)
    value = l1_penalty(params, strength, weights_only=False)
    for p in params:
        p.grad += strength * np.sign(p.value)
    return value


def add_l2_grad(params, strength, weights_only=True) -> float:
    """Add ``λ w`` to each weight's gradient; return the penalty value."""
    params = _penalized(params, weights_only)
    value = l2_penalty(params, strength, weights_only=False)
    for p in params:
        p.grad += strength * p.value
    return value


def global_grad_norm(params) -> float:
    """``sqrt(Σ_p ‖∇p‖²)`` over all parameters, the norm clipping and diagnostics use."""
    return float(np.sqrt(squared_norm(grad_vector(_parameters(params)))))


def clip_grad_norm(params, max_norm, error_if_nonfinite=False) -> float:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    ``g ← g · min(1, max_norm / (‖g‖ + 1e-6))`` (as ``torch.nn.utils.clip_grad_norm_``):
    the direction of the full gradient is kept, only its length is capped.
    Returns the norm *before* clipping.

    A NaN or inf gradient entry makes the norm NaN or inf. Then, as in PyTorch, the
    scale is ``max_norm / inf = 0`` (or NaN): finite entries become 0 and the
    others NaN, without a warning, and the returned norm says so; with
    ``error_if_nonfinite=True`` a ``ValueError`` is raised instead and the
    gradients are left as they were.
    """
    max_norm = check_positive(max_norm, "max_norm")
    _check_flag(error_if_nonfinite, "error_if_nonfinite")
    params = _parameters(params)
    total = global_grad_norm(params)
    if error_if_nonfinite and not np.isfinite(total):
        _raise_non_finite(params, total)
    scale = max_norm / (total + 1e-6)
    if not scale >= 1:  # NaN too
        with np.errstate(invalid="ignore"):  # inf · 0, as documented
            for p in params:
                p.grad *= scale
    return total


def clip_grad_value(params, clip_value, error_if_nonfinite=False) -> None:
    """Clip every gradient entry to ``[−clip_value, clip_value]``.

    Unlike clipping by norm this changes the *direction* of the gradient whenever
    some entries are clipped and others are not. As with ``torch.clamp``, ±inf
    entries become ±``clip_value`` and NaN entries stay NaN (no warning); with
    ``error_if_nonfinite=True`` any NaN or inf entry raises a ``ValueError`` instead,
    before anything is changed.
    """
    clip_value = check_positive(clip_value, "clip_value")
    _check_flag(error_if_nonfinite, "error_if_nonfinite")
    params = _parameters(params)
    if error_if_nonfinite:
        total = global_grad_norm(params)
        if not np.isfinite(total):
            _raise_non_finite(params, total)
    for p in params:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def _check_flag(value, name) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _raise_non_finite(params, total):
    """The error of ``error_if_nonfinite=True``, naming the first parameter with a NaN or inf gradient."""
    i, p = next((i, p) for i, p in enumerate(params) if not np.isfinite(p.grad).all())
    count = sum(int((~np.isfinite(q.grad)).sum()) for q in params)
    name = f" ({p.name!r})" if p.name else ""
    raise ValueError(
        f"params: expected finite gradients (error_if_nonfinite=True), got a total norm of {total}: "
        f"{count} NaN/inf entries, the first in params[{i}]{name}"
    )


class EarlyStopping:
    """Stop once a monitored metric has gone ``patience`` epochs in a row without improving.

    An epoch improves on the best so far when ``metric < best − min_delta``
    (``mode="min"``) or ``metric > best + min_delta`` (``mode="max"``). With
    ``restore_best=True`` the parameter values of the best epoch are kept and
    :meth:`restore` puts them back (``fit`` does this when it stops).
    ``patience=0`` stops at the first epoch that does not improve, like
    ``patience=1``. A NaN metric is never an improvement: it counts as an epoch
    without improvement (so a run whose loss turned NaN stops after ``patience``
    epochs and, with ``restore_best``, gets its last finite best back).
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best=True):
        self.patience = check_positive_int(patience, "patience", allow_zero=True)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.restore_best = _check_flag(restore_best, "restore_best")
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
        """Record one epoch's metric (a real number); return True when training should stop."""
        if isinstance(metric, np.ndarray) and metric.ndim == 0:
            metric = metric.item()
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            raise TypeError(f"metric: expected a real number, got {metric!r} ({type(metric).__name__})")
        self.epoch += 1
        metric = float(metric)
        if self._improved(metric):
            self.best, self.best_epoch, self.bad_epochs = metric, self.epoch, 0
            if self.restore_best:
                self.best_values = [copy.copy(p.value) for p in _parameters(params)]
        else:
            self.bad_epochs += 1
        self.stopped = self.bad_epochs > 0 and self.bad_epochs >= self.patience
        return self.stopped

    def restore(self, params) -> None:
        """Put back the parameter values of the best epoch (if they were kept) into the same ``params``."""
        if self.best_values is None:
            return
        params = _parameters(params)
        if [p.shape for p in params] != [v.shape for v in self.best_values]:
            raise ValueError(
                f"params: expected the {len(self.best_values)} parameters given to step(), with shapes "
                f"{[v.shape for v in self.best_values]}, got {len(params)} with shapes {[p.shape for p in params]}"
            )
        for p, value in zip(params, self.best_values, strict=True):
            p.value = value

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r})"
