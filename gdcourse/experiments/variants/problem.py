"""The test problem of notebook 02: least squares ``J(w) = 1/(2N) ‖Xw − y‖²``, and the record of a run.

Its per-example gradients ``g_i = x_i (x_iᵀw − y_i)`` are cheap and exact, its minimum is known in
closed form, and its Hessian ``H = XᵀX / N`` gives the stability limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdcourse.validate import (
    as_rng,
    check_array,
    check_positive,
    check_positive_int,
    check_same_length,
)

__all__ = ["DIVERGED", "LeastSquares", "regression_problem", "Trace", "Recorder"]

DIVERGED = 1e8
"""A run stops and is flagged ``diverged`` once a weight exceeds this in absolute value."""


@dataclass(frozen=True, eq=False)
class LeastSquares:
    """Linear least squares ``J(w) = 1/(2N) ‖Xw − y‖²``.

    Attributes
    ----------
    X : ndarray (N, d)
    y : ndarray (N,)

    The gradient of example i is ``g_i(w) = x_i (x_iᵀ w − y_i)``, the full
    gradient their mean, the Hessian ``XᵀX / N`` (constant).
    """

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        X = check_array(self.X, "X", ndim=2, finite=True)
        y = check_array(self.y, "y", ndim=1, finite=True)
        check_same_length(X, y, "X", "y")
        object.__setattr__(self, "X", X.astype(np.float64))
        object.__setattr__(self, "y", y.astype(np.float64))

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    def loss(self, w) -> np.ndarray | float:
        """``J(w)`` for ``w (d,)`` (a float) or for a stack of points ``w (..., d)`` (an array ``(...)``)."""
        w = self._check_w(w)
        with np.errstate(over="ignore", invalid="ignore"):
            residual = w @ self.X.T - self.y          # (..., N)
            value = 0.5 * np.mean(residual * residual, axis=-1)
        return float(value) if np.ndim(value) == 0 else value

    def gradient(self, w, idx=None) -> np.ndarray:
        """Mean gradient over the rows ``idx`` (all when None): ``X_Bᵀ (X_B w − y_B) / |B|``, shape (d,)."""
        w = self._check_w(w)
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        with np.errstate(over="ignore", invalid="ignore"):
            return X.T @ (X @ w - y) / len(y)

    def per_example_gradients(self, w) -> np.ndarray:
        """All ``g_i(w)``, shape (N, d)."""
        w = self._check_w(w)
        return self.X * (self.X @ w - self.y)[:, None]

    @property
    def hessian(self) -> np.ndarray:
        """``XᵀX / N``, shape (d, d)."""
        return self.X.T @ self.X / self.n

    @property
    def curvatures(self) -> np.ndarray:
        """Eigenvalues of the Hessian, ascending (μ first, L last)."""
        return np.linalg.eigvalsh(self.hessian)

    @property
    def minimizer(self) -> np.ndarray:
        """The least-squares solution (``numpy.linalg.lstsq``), shape (d,)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @property
    def min_loss(self) -> float:
        return self.loss(self.minimizer)

    def _check_w(self, w):
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0 or w.shape[-1] != self.dim:
            raise ValueError(f"w: expected shape (..., {self.dim}), got {w.shape}")
        return w


def regression_problem(n: int = 200, d: int = 2, noise: float = 0.5, scales=None, rng=0) -> LeastSquares:
    """A random least-squares problem: ``x ~ N(0, diag(scales²))``, ``y = xᵀw* + ε``.

    ``w* ~ N(0, I)`` and ``ε ~ N(0, noise²)``.

    ``scales`` (d,) sets the curvature of each direction (the Hessian is about
    ``diag(scales²)``); ones by default. ``noise > 0`` leaves a residual at the
    minimum, so the per-example gradients do not vanish there: the source of
    SGD's noise floor.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    noise = check_positive(noise, "noise", allow_zero=True)
    scales = np.ones(d) if scales is None else check_array(scales, "scales", ndim=1, finite=True)
    if scales.shape != (d,) or np.any(scales <= 0):
        raise ValueError(f"scales: expected {d} positive numbers, got {scales}")
    rng = as_rng(rng)
    true_w = rng.standard_normal(d)
    X = rng.standard_normal((n, d)) * scales
    y = X @ true_w + noise * rng.standard_normal(n)
    return LeastSquares(X, y)


def check_problem(problem):
    """``problem`` if it is a :class:`LeastSquares`, else a TypeError."""
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem: expected a LeastSquares, got {type(problem).__name__}")
    return problem


def check_batch_size(batch_size, n):
    """An int batch size in ``[1, n]``."""
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(f"batch_size: expected at most N={n}, got {batch_size}")
    return batch_size


def lr_function(lr) -> Callable[[int], float]:
    """A float rate, or a schedule ``step -> lr``, as a function of the step."""
    if callable(lr):
        return lr
    lr = check_positive(lr, "lr")
    return lambda step: lr


def start_point(problem, w0):
    """The start as float64 ``(d,)``: zeros when ``w0`` is None."""
    if w0 is None:
        return np.zeros(problem.dim)
    w0 = check_array(w0, "w0", ndim=1, finite=True)
    if w0.shape != (problem.dim,):
        raise ValueError(f"w0: expected shape ({problem.dim},), got {w0.shape}")
    return w0.astype(np.float64)


@dataclass(frozen=True)
class Trace:
    """A run of (mini-batch) SGD on a :class:`LeastSquares` problem.

    Attributes
    ----------
    weights : ndarray (T + 1, d)
        ``weights[t]`` after t updates (``weights[0]`` is the start).
    loss : ndarray (T + 1,)
        Full training loss ``J`` at each of them.
    examples : ndarray (T + 1,)
        Per-example gradients computed so far (the work done).
    lrs : ndarray (T,)
        The rate of each update.
    epoch_ends : ndarray of int
        Update counts at which an epoch ended (only for :func:`run_sgd`).
    n : int
        Training-set size, so ``examples / n`` counts epochs.
    diverged : bool
        The run stopped early because a weight left ``|w| <= 1e8`` or became NaN.
    """

    weights: np.ndarray
    loss: np.ndarray
    examples: np.ndarray
    lrs: np.ndarray
    epoch_ends: np.ndarray
    n: int
    diverged: bool

    @property
    def updates(self) -> np.ndarray:
        """``0, 1, …, T``: the x-axis "updates" (one gradient estimate each)."""
        return np.arange(len(self.loss))

    @property
    def epochs(self) -> np.ndarray:
        """Passes over the data, ``examples / N``."""
        return self.examples / self.n

    def excess(self, problem: LeastSquares) -> np.ndarray:
        """``J(w_t) − J(w*)``, the distance to the optimum in loss."""
        return self.loss - problem.min_loss


def is_diverged(w) -> bool:
    """A weight is NaN, infinite, or larger than :data:`DIVERGED` in absolute value."""
    return not np.all(np.isfinite(w)) or np.max(np.abs(w)) > DIVERGED


def make_trace(problem, weights, examples, lrs, epoch_ends, diverged) -> Trace:
    """A :class:`Trace` from lists of the weights, examples so far, rates and epoch ends."""
    weights = np.asarray(weights)
    return Trace(weights, np.atleast_1d(problem.loss(weights)), np.asarray(examples, dtype=np.int64),
                 np.asarray(lrs, dtype=np.float64), np.asarray(epoch_ends, dtype=np.int64), problem.n,
                 diverged)


class Recorder:
    """Collects a run step by step (weights, examples seen, rates, epoch ends) into a :class:`Trace`."""

    def __init__(self, problem: LeastSquares, w):
        self.problem = problem
        self.weights, self.examples, self.lrs, self.epoch_ends = [w.copy()], [0], [], []
        self.diverged = False

    @property
    def updates(self) -> int:
        """Updates so far (the step number of the next one, counted from 0)."""
        return len(self.lrs)

    def step(self, w, batch_size: int, lr: float):
        """Record one update to ``w`` on a batch of ``batch_size`` examples at rate ``lr``."""
        self.weights.append(w)
        self.examples.append(self.examples[-1] + batch_size)
        self.lrs.append(lr)
        self.diverged = not np.abs(w).max() <= DIVERGED  # also catches NaN

    def end_epoch(self):
        self.epoch_ends.append(len(self.lrs))

    def trace(self) -> Trace:
        return make_trace(self.problem, self.weights, self.examples, self.lrs, self.epoch_ends, self.diverged)
