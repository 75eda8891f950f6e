"""When to stop gradient descent: the stopping rule, a loop that applies it, and early stopping on a
validation loss (on a regression built to overfit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.gd.descent import check_lr
from gdcourse.experiments.gd.regression import check_regression, mse, mse_gradient, mse_smoothness
from gdcourse.nn import Parameter
from gdcourse.regularization import EarlyStopping
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["STOP_REASONS", "relative_change", "stopping_reason", "GDRun", "gd_until",
           "make_overfitting_regression", "EarlyStoppedRun", "early_stopped_gd"]


STOP_REASONS = ("diverged", "gradient", "loss change", "budget")
"""What :func:`stopping_reason` can return (besides None), in the order it checks them."""


def relative_change(loss_prev, loss) -> float:
    """``|J_prev − J| / max(|J_prev|, |J|, 1)``: relative for large losses, absolute below 1.

    The floor 1 is SciPy's convention for L-BFGS-B's ``ftol``; without it the test
    never fires on a loss whose minimum is 0, where the relative change per step
    tends to a constant.
    """
    return abs(loss_prev - loss) / max(abs(loss_prev), abs(loss), 1.0)


def stopping_reason(step, loss_prev, loss, grad_norm, *, max_steps, grad_tol=0.0, rel_tol=0.0):
    """Why gradient descent should stop after ``step`` steps, or None to go on.

    Checked in this order:

    1. "diverged": ``loss`` is NaN or ±inf;
    2. "gradient": ``grad_norm <= grad_tol`` (first-order optimality);
    3. "loss change": ``relative_change(loss_prev, loss) <= rel_tol`` (skipped when
       ``loss_prev`` is None, at step 0);
    4. "budget": ``step >= max_steps``.
    """
    if not math.isfinite(loss):
        return "diverged"
    if grad_norm <= grad_tol:
        return "gradient"
    if loss_prev is not None and relative_change(loss_prev, loss) <= rel_tol:
        return "loss change"
    if step >= max_steps:
        return "budget"
    return None


@dataclass(frozen=True)
class GDRun:
    """``xs (k + 1, ...)``, ``losses (k + 1,)``, ``grad_norms (k + 1,)`` and why the run stopped."""

    xs: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    reason: str

    @property
    def steps(self) -> int:
        return len(self.losses) - 1


def gd_until(grad_fn, loss_fn, x0, lr, *, max_steps, grad_tol=0.0, rel_tol=0.0) -> GDRun:
    """Gradient descent that checks :func:`stopping_reason` before every step."""
    if not (callable(grad_fn) and callable(loss_fn)):
        raise TypeError("grad_fn and loss_fn: expected two callables")
    x = check_array(x0, "x0", ndim=(0, 1), float_only=False, finite=True).astype(np.float64)
    lr = check_lr(lr)
    max_steps = check_positive_int(max_steps, "max_steps", allow_zero=True)
    xs, losses, norms = [], [], []
    loss_prev = None
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(max_steps + 1):
            loss, g = float(loss_fn(x)), np.asarray(grad_fn(x), dtype=np.float64)
            xs.append(x)
            losses.append(loss)
            norms.append(float(np.linalg.norm(g)))
            reason = stopping_reason(step, loss_prev, loss, norms[-1], max_steps=max_steps,
                                     grad_tol=grad_tol, rel_tol=rel_tol)
            if reason is not None:
                break
            x, loss_prev = x - lr * g, loss
    return GDRun(np.array(xs), np.array(losses), np.array(norms), reason)


def make_overfitting_regression(n_train=40, n_val=400, d=36, noise=0.5, rng=2):
    """A linear regression where the exact least-squares fit overfits.

    Few samples for many features, with feature ``j`` scaled by ``1/√j`` so the
    curvatures of the MSE span orders of magnitude: gradient descent fits the large
    directions first and the small, noise-dominated ones last. ``y = X w + ε``,
    ``w ~ N(0, I)``, ``ε ~ N(0, noise²)``. Returns ``X_train (n_train, d)``,
    ``y_train``, ``X_val (n_val, d)``, ``y_val``.
    """
    n_train, n_val, d = (check_positive_int(v, name) for v, name in
                         ((n_train, "n_train"), (n_val, "n_val"), (d, "d")))
    noise = check_positive(noise, "noise", allow_zero=True)
    rng = as_rng(rng)
    w = rng.standard_normal(d)
    X = rng.standard_normal((n_train + n_val, d)) / np.sqrt(np.arange(1, d + 1))
    y = X @ w + noise * rng.standard_normal(n_train + n_val)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@dataclass(frozen=True)
class EarlyStoppedRun:
    """Curves at ``eval_steps (m,)``: ``train_loss``, ``val_loss``; best and stopping step; best ``w``."""

    eval_steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_step: int
    stop_step: int
    w: np.ndarray


def early_stopped_gd(X, y, X_val, y_val, *, max_steps, patience, eval_every=10, lr=None) -> EarlyStoppedRun:
    """GD on the training MSE, stopped by ``regularization.EarlyStopping`` on the validation MSE.

    Every ``eval_every`` steps both losses are recorded; training stops once the
    validation loss has not improved for ``patience`` evaluations in a row, and the
    weights of the best evaluation are restored. ``lr`` is ``1/L`` unless given.
    """
    _, X, y = check_regression(None, X, y)
    _, X_val, y_val = check_regression(None, X_val, y_val)
    max_steps = check_positive_int(max_steps, "max_steps")
    eval_every = check_positive_int(eval_every, "eval_every")
    lr = 1.0 / mse_smoothness(X) if lr is None else check_positive(lr, "lr")
    w = Parameter(np.zeros(X.shape[1]), name="w")
    stopper = EarlyStopping(patience=patience)
    steps, train, val = [], [], []
    for step in range(max_steps + 1):
        if step % eval_every == 0 or step == max_steps:
            steps.append(step)
            train.append(mse(w.value, X, y))
            val.append(mse(w.value, X_val, y_val))
            if stopper.step(val[-1], [w]) or step == max_steps:
                break
        w.value -= lr * mse_gradient(w.value, X, y)
    stopper.restore([w])
    return EarlyStoppedRun(np.array(steps), np.array(train), np.array(val),
                           steps[stopper.best_epoch], steps[-1], w.value.copy())
