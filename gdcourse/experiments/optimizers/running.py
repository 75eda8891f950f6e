"""Running an update rule on any gradient, to compare rules point by point; what a rule keeps as state."""

from __future__ import annotations

import numbers

import numpy as np

from gdcourse.nn.module import Parameter
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = ["descend", "run_rule", "lr_sequence", "state_floats_per_entry"]


def descend(optimizer_factory, gradient, x0, steps, lrs=None, project=None) -> np.ndarray:
    """Run a :mod:`gdcourse.optim` rule on ``gradient`` and return the points it visits.

    Parameters
    ----------
    optimizer_factory : callable ``params -> optimizer``
    gradient : callable ``x (d,) -> g (d,)``
    x0 : array-like (d,)
    steps : int
    lrs : array-like (steps,), optional
        Sets ``optimizer.lr`` before each step (a schedule).
    project : callable ``x -> x``, optional
        Applied after each step (projected gradient descent, e.g. ``np.clip``).

    Returns
    -------
    ndarray (steps + 1, d)
        ``points[0] = x0`` and ``points[t]`` after t steps.
    """
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    lrs = _check_lrs(lrs, steps)
    param = Parameter(x0.copy(), name="x")
    optimizer = optimizer_factory([param])
    points = np.empty((steps + 1, x0.size))
    points[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run shows as inf/NaN rows
        for t in range(steps):
            if lrs is not None:
                optimizer.lr = float(lrs[t])
            param.grad = gradient(param.value.copy())
            optimizer.step()
            if project is not None:
                param.value = project(param.value.copy())
            points[t + 1] = param.value
    return points


def run_rule(step, gradient, x0, steps, **hyper) -> np.ndarray:
    """Iterate a functional rule ``step(w, g, state, **hyper) -> (w, state)`` (state starts at zeros).

    For the one-function rules of this module (:func:`rmsprop_step`,
    :func:`gradient_average_rmsprop_step`). Returns the points ``(steps + 1, d)``; NaN rows
    show where the rule broke down.
    """
    w = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    state = np.zeros_like(w)
    points = [w]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            w, state = step(w, gradient(w), state, **hyper)
            points.append(w)
    return np.array(points)


def _check_lrs(lrs, steps):
    if lrs is None:
        return None
    lrs = check_array(lrs, "lrs", ndim=1, float_only=False, finite=True)
    if lrs.shape != (steps,) or (lrs < 0).any():
        raise ValueError(f"lrs: expected {steps} non-negative learning rates (one per step), "
                         f"got shape {lrs.shape} with minimum {lrs.min() if lrs.size else None}")
    return lrs


def lr_sequence(lr, steps):
    """A float or a (steps,) array -> (steps,) float array."""
    if isinstance(lr, numbers.Real):
        return np.full(steps, check_positive(lr, "lr"))
    return _check_lrs(lr, steps)


_SCRATCH = ("scratch", "scratch2", "decayed_grad")


def state_floats_per_entry(optimizer_factory) -> int:
    """How many floats of state the rule keeps per parameter entry (moment buffers, not scratch space)."""
    param = Parameter(np.zeros(4), name="w")
    optimizer = optimizer_factory([param])
    param.grad = np.ones(4)
    optimizer.step()
    buffers = [v for state in optimizer.state for k, v in state.items()
               if k not in _SCRATCH and isinstance(v, np.ndarray)]
    return sum(b.size for b in buffers) // param.size
