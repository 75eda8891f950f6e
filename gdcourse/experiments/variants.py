"""Computations behind notebook 02 (batch, stochastic and mini-batch gradient descent; schedules).

Every function here is pure (random ones take ``rng``), so the notebook, the
explorers of :mod:`gdcourse.widgets.variants` and ``tests/test_nb02_claims.py``
run the same code.

The test problem is least squares, ``J(w) = 1/(2N) ‖Xw − y‖²``, whose per-example
gradients ``g_i = x_i (x_iᵀw − y_i)`` are cheap and exact, whose minimum is known
in closed form, and whose Hessian ``H = XᵀX / N`` gives the stability limits.
A mini-batch gradient ``g_B`` is the mean of ``B`` per-example gradients; it is
unbiased, ``E[g_B] = ∇J``, and its noise ``E‖g_B − ∇J‖² = tr(Σ)/B`` with
replacement, times the finite-population correction ``(N − B)/(N − 1)`` without
(``Σ`` the population covariance of the ``g_i``; Cochran, *Sampling Techniques*, 1977).

Sections: the problem; mini-batch SGD runs; gradient noise; constant vs decaying
rates; epochs vs sampling with replacement; batch size and learning-rate scaling;
schedules; learning-rate curves and warmup on a network; asynchronous SGD.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from gdcourse import losses, nn, optim
from gdcourse import schedules as S
from gdcourse.data import batch_indices, load_digits
from gdcourse.train import TrainingDiverged, fit
from gdcourse.validate import (
    as_rng,
    check_array,
    check_fraction,
    check_positive,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "LeastSquares", "regression_problem", "Trace", "run_sgd",
    "gradient_noise_variance", "NoiseMeasurement", "gradient_noise", "loglog_slope",
    "BatchSizeDemo", "batch_size_problem", "BATCH_SIZE_START", "batch_size_demo", "smallest_batch_for_noise",
    "noisy_quadratic_sgd", "stationary_variance",
    "unseen_fraction", "epoch_end_excess",
    "steps_to_target", "scaled_lr", "SCALING_RULES",
    "SCHEDULE_KINDS", "SCHEDULE_LABELS", "make_schedule", "schedule_curves",
    "mlp", "digits_subset", "LRCurves", "lr_loss_curves", "warmup_runs",
    "simulate_async_sgd", "simulate_sync_sgd", "stable_lr_limit", "smallest_unstable_staleness",
    "async_problem", "AsyncDemo", "async_demo", "straggler_slowdown",
]

DIVERGED = 1e8
"""A run stops and is flagged ``diverged`` once a weight exceeds this in absolute value."""


# ---------------------------------------------------------------- the problem

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


def _check_problem(problem):
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem: expected a LeastSquares, got {type(problem).__name__}")
    return problem


def _check_batch_size(batch_size, n):
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(f"batch_size: expected at most N={n}, got {batch_size}")
    return batch_size


def _lr_function(lr) -> Callable[[int], float]:
    """A float rate, or a schedule ``step -> lr``, as a function of the step."""
    if callable(lr):
        return lr
    lr = check_positive(lr, "lr")
    return lambda step: lr


def _start(problem, w0):
    if w0 is None:
        return np.zeros(problem.dim)
    w0 = check_array(w0, "w0", ndim=1, finite=True)
    if w0.shape != (problem.dim,):
        raise ValueError(f"w0: expected shape ({problem.dim},), got {w0.shape}")
    return w0.astype(np.float64)


# ---------------------------------------------------------------- mini-batch SGD

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


def _is_diverged(w) -> bool:
    return not np.all(np.isfinite(w)) or np.max(np.abs(w)) > DIVERGED


def _make_trace(problem, weights, examples, lrs, epoch_ends, diverged) -> Trace:
    weights = np.asarray(weights)
    return Trace(weights, np.atleast_1d(problem.loss(weights)), np.asarray(examples, dtype=np.int64),
                 np.asarray(lrs, dtype=np.float64), np.asarray(epoch_ends, dtype=np.int64), problem.n,
                 diverged)


def run_sgd(problem: LeastSquares, lr, batch_size: int, epochs: int, rng=None, w0=None,
            replacement: bool = False) -> Trace:
    """Mini-batch SGD for ``epochs`` epochs: ``w ← w − η_t g_B(w)``.

    Each epoch cuts a fresh permutation into ``ceil(N/B)`` batches (the last one
    may be smaller), or, with ``replacement=True``, draws the same number and
    sizes of batches uniformly with replacement (:func:`gdcourse.data.batch_indices`).
    ``batch_size = N`` without replacement is full-batch gradient descent and
    ``batch_size = 1`` is per-example SGD.

    Parameters
    ----------
    problem : LeastSquares
    lr : float or callable ``step -> lr``
        A constant rate or a schedule (e.g. from :mod:`gdcourse.schedules`), steps counted from 0.
    batch_size : int in [1, N]
    epochs : int >= 1
    rng : int or Generator
    w0 : array (d,), optional
        Start (zeros by default).
    replacement : bool

    Returns
    -------
    Trace
    """
    problem = _check_problem(problem)
    lr_at = _lr_function(lr)
    batch_size = _check_batch_size(batch_size, problem.n)
    epochs = check_positive_int(epochs, "epochs")
    rng = as_rng(rng)
    w = _start(problem, w0)
    X, y = problem.X, problem.y
    weights, examples, lrs, epoch_ends = [w.copy()], [0], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            for idx in batch_indices(problem.n, batch_size, replacement=replacement, rng=rng):
                rate = lr_at(len(lrs))
                Xb = X[idx]
                w = w - (rate / len(idx)) * (Xb.T @ (Xb @ w - y[idx]))
                weights.append(w)
                examples.append(examples[-1] + len(idx))
                lrs.append(rate)
                if not abs(w).max() <= DIVERGED:      # also catches NaN
                    return _make_trace(problem, weights, examples, lrs, epoch_ends, True)
            epoch_ends.append(len(lrs))
    return _make_trace(problem, weights, examples, lrs, epoch_ends, False)


# ---------------------------------------------------------------- gradient noise

def gradient_noise_variance(problem: LeastSquares, w, batch_size: int, replacement: bool = False) -> float:
    """Exact ``E‖g_B(w) − ∇J(w)‖²`` for a uniformly drawn batch of ``batch_size`` examples.

    With ``σ² = tr(Σ) = (1/N) Σ_i ‖g_i − ∇J‖²`` (the spread of the per-example
    gradients): ``σ²/B`` with replacement and ``σ²/B · (N − B)/(N − 1)`` without,
    which is 0 at ``B = N`` (the full gradient has no noise).
    """
    problem = _check_problem(problem)
    batch_size = _check_batch_size(batch_size, problem.n)
    G = problem.per_example_gradients(w)
    spread = float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))
    if replacement:
        return spread / batch_size
    if problem.n == 1:
        return 0.0
    return spread / batch_size * (problem.n - batch_size) / (problem.n - 1)


@dataclass(frozen=True)
class NoiseMeasurement:
    """Monte Carlo measurement of the mini-batch gradient's noise at one point, per batch size.

    Attributes
    ----------
    batch_sizes : ndarray (K,)
    variance : ndarray (K,)
        Measured mean of ``‖g_B − ∇J‖²`` over the draws.
    expected : ndarray (K,)
        The exact value (:func:`gradient_noise_variance`).
    bias : ndarray (K,)
        ``‖mean of the g_B − ∇J‖``: zero up to Monte Carlo error (the estimate is unbiased).
    bias_error : ndarray (K,)
        The Monte Carlo standard error of that mean's norm, ``sqrt(expected / draws)``.
    full_gradient_norm : float
    draws : int
    replacement : bool
    """

    batch_sizes: np.ndarray
    variance: np.ndarray
    expected: np.ndarray
    bias: np.ndarray
    bias_error: np.ndarray
    full_gradient_norm: float
    draws: int
    replacement: bool


def _draw_batches(n, batch_size, draws, replacement, rng) -> np.ndarray:
    """``draws`` independent batches, shape (draws, batch_size); no repeats in a row unless replacement."""
    if replacement or batch_size == 1:
        return rng.integers(0, n, size=(draws, batch_size))
    if batch_size == n:
        return np.broadcast_to(np.arange(n), (draws, n))
    # the positions of the batch_size smallest of n uniform keys: a uniform random subset
    return np.argpartition(rng.random((draws, n)), batch_size, axis=1)[:, :batch_size]


def gradient_noise(problem: LeastSquares, w, batch_sizes, draws: int = 2000, replacement: bool = False,
                   rng=None) -> NoiseMeasurement:
    """Measure how far mini-batch gradients fall from the full gradient at ``w``, for each batch size.

    For every ``B`` in ``batch_sizes``, draws ``draws`` batches (each without
    repeats unless ``replacement``), and records the mean squared distance of
    ``g_B`` from ``∇J(w)`` and the norm of their average's error (the bias).
    """
    problem = _check_problem(problem)
    sizes = np.asarray(batch_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu":
        raise ValueError(f"batch_sizes: expected a non-empty 1-D array of ints, got {batch_sizes!r}")
    for b in sizes:
        _check_batch_size(int(b), problem.n)
    draws = check_positive_int(draws, "draws")
    rng = as_rng(rng)
    G = problem.per_example_gradients(w)
    full = G.mean(axis=0)
    variance, bias, expected = [], [], []
    for b in sizes.tolist():
        estimates = G[_draw_batches(problem.n, b, draws, replacement, rng)].mean(axis=1)   # (draws, d)
        errors = estimates - full
        variance.append(np.mean(np.sum(errors**2, axis=1)))
        bias.append(np.linalg.norm(errors.mean(axis=0)))
        expected.append(gradient_noise_variance(problem, w, b, replacement))
    expected = np.asarray(expected)
    return NoiseMeasurement(sizes.copy(), np.asarray(variance), expected, np.asarray(bias),
                            np.sqrt(expected / draws), float(np.linalg.norm(full)), draws, bool(replacement))


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (−1 for ``y ∝ 1/x``)."""
    x = check_array(np.asarray(x, dtype=np.float64), "x", ndim=1, finite=True)
    y = check_array(np.asarray(y, dtype=np.float64), "y", ndim=1, finite=True)
    check_same_length(x, y, "x", "y")
    if len(x) < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x, y: expected at least 2 points with positive coordinates")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ---------------------------------------------------------------- the batch-size explorer

BATCH_SIZE_START = np.array([-2.5, 2.0])
"""Where the explorer's runs start and where its gradient cloud is measured."""


def batch_size_problem() -> LeastSquares:
    """The explorer's 2-D problem: N = 200, curvatures about 1 and 0.2, noise 0.5, seed 2."""
    return regression_problem(n=200, d=2, noise=0.5, scales=np.array([1.0, 0.45]), rng=2)


@dataclass(frozen=True)
class BatchSizeDemo:
    """What the batch-size explorer shows.

    Attributes
    ----------
    problem : LeastSquares
    batch_size : int
    sgd : Trace
        Mini-batch SGD from :data:`BATCH_SIZE_START` for ``epochs`` epochs.
    gd : Trace
        Full-batch gradient descent with the same rate and the same number of updates.
    samples : ndarray (draws, 2)
        Mini-batch gradients at the start.
    full_gradient : ndarray (2,)
    noise_std : float
        Exact ``sqrt(E‖g_B − ∇J‖²)`` at the start (without replacement).
    measured_std : float
        The same measured from ``samples``.
    """

    problem: LeastSquares
    batch_size: int
    sgd: Trace
    gd: Trace
    samples: np.ndarray
    full_gradient: np.ndarray
    noise_std: float
    measured_std: float


def batch_size_demo(batch_size: int, lr: float = 0.3, epochs: int = 3, draws: int = 300, rng=0,
                    problem: LeastSquares | None = None) -> BatchSizeDemo:
    """The batch-size explorer's data: the gradient cloud at the start and the SGD path for ``batch_size``."""
    problem = batch_size_problem() if problem is None else _check_problem(problem)
    lr = check_positive(lr, "lr")
    if problem.dim != 2:
        raise ValueError(f"problem: expected a 2-D problem (d=2) to draw, got d={problem.dim}")
    batch_size = _check_batch_size(batch_size, problem.n)
    rng = as_rng(rng)
    w0 = BATCH_SIZE_START
    sgd = run_sgd(problem, lr, batch_size, epochs, rng=rng, w0=w0)
    gd_steps = max(len(sgd.lrs), 1)
    gd = run_sgd(problem, lambda step: lr, problem.n, gd_steps, w0=w0)
    G = problem.per_example_gradients(w0)
    samples = G[_draw_batches(problem.n, batch_size, draws, False, rng)].mean(axis=1)
    full = G.mean(axis=0)
    measured = float(np.sqrt(np.mean(np.sum((samples - full) ** 2, axis=1))))
    exact = math.sqrt(gradient_noise_variance(problem, w0, batch_size))
    return BatchSizeDemo(problem, batch_size, sgd, gd, samples, full, exact, measured)


def smallest_batch_for_noise(threshold: float, problem: LeastSquares | None = None, w=None) -> int:
    """The smallest ``B`` whose exact gradient-noise std at ``w`` is below ``threshold`` (no replacement).

    Defaults: the explorer's problem and start. The std falls monotonically with
    ``B`` and reaches 0 at ``B = N``, so an answer always exists.
    """
    threshold = check_positive(threshold, "threshold")
    problem = batch_size_problem() if problem is None else _check_problem(problem)
    w = BATCH_SIZE_START if w is None else w
    G = problem.per_example_gradients(w)
    spread = float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))
    B = np.arange(1, problem.n + 1)
    std = np.sqrt(spread / B * (problem.n - B) / max(problem.n - 1, 1))
    return int(B[np.argmax(std < threshold)])


# ---------------------------------------------------------------- constant vs decaying rates

def noisy_quadratic_sgd(curvature: float, noise_std: float, lr, steps: int, walkers: int = 1000,
                        x0: float = 0.0, rng=None) -> np.ndarray:
    """SGD on ``f(x) = ½ λ x²`` with additive gradient noise: ``x ← x − η_t (λ x + σ ξ)``, ``ξ ~ N(0, 1)``.

    ``walkers`` independent runs side by side. With a constant rate the spread
    settles at :func:`stationary_variance`; with a rate that decays like 1/t it
    keeps shrinking. Returns ``x`` of shape ``(steps + 1, walkers)``.
    """
    curvature = check_positive(curvature, "curvature")
    noise_std = check_positive(noise_std, "noise_std", allow_zero=True)
    lr_at = _lr_function(lr)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    walkers = check_positive_int(walkers, "walkers")
    rng = as_rng(rng)
    x = np.empty((steps + 1, walkers))
    x[0] = x0
    kicks = rng.standard_normal((steps, walkers))
    for t in range(steps):
        x[t + 1] = x[t] - lr_at(t) * (curvature * x[t] + noise_std * kicks[t])
    return x


def stationary_variance(curvature: float, noise_std: float, lr: float) -> float:
    """``Var[x_∞] = η σ² / (λ (2 − ηλ))`` for constant-rate SGD on ``½ λ x²`` with gradient noise of std σ.

    From ``x' = (1 − ηλ) x − ησξ``: ``v = (1 − ηλ)² v + η²σ²``. Finite only for ``ηλ < 2``.
    """
    curvature = check_positive(curvature, "curvature")
    noise_std = check_positive(noise_std, "noise_std", allow_zero=True)
    lr = check_positive(lr, "lr")
    if lr * curvature >= 2:
        return math.inf
    return lr * noise_std**2 / (curvature * (2 - lr * curvature))


# ---------------------------------------------------------------- epochs vs sampling with replacement

def unseen_fraction(n: int, trials: int = 200, rng=None) -> np.ndarray:
    """Fraction of the ``n`` examples never drawn in one "epoch" of ``n`` draws with replacement, per trial.

    Uses :func:`gdcourse.data.batch_indices` with ``replacement=True``. The
    expected value is ``(1 − 1/n)^n``, which tends to ``1/e ≈ 0.368``.
    Returns shape ``(trials,)``.
    """
    n = check_positive_int(n, "n")
    trials = check_positive_int(trials, "trials")
    rng = as_rng(rng)
    drawn = np.stack([np.concatenate(batch_indices(n, n, replacement=True, rng=rng)) for _ in range(trials)])
    seen = np.zeros((trials, n), dtype=bool)
    seen[np.arange(trials)[:, None], drawn] = True
    return 1.0 - seen.mean(axis=1)


def epoch_end_excess(problem: LeastSquares, lr, batch_size: int, epochs: int, replacement: bool,
                     seeds=range(5), w0=None) -> np.ndarray:
    """``J(w) − J(w*)`` at the start and at the end of every epoch, one row per seed: (seeds, epochs + 1)."""
    problem = _check_problem(problem)
    rows = []
    for seed in seeds:
        trace = run_sgd(problem, lr, batch_size, epochs, rng=seed, w0=w0, replacement=replacement)
        if trace.diverged:
            raise ValueError(f"lr: the run with seed {seed} diverged; use a smaller rate")
        rows.append(trace.excess(problem)[np.concatenate([[0], trace.epoch_ends])])
    return np.asarray(rows)


# ---------------------------------------------------------------- batch size and learning-rate scaling

SCALING_RULES = ("linear", "sqrt", "none")


def scaled_lr(lr0: float, batch0: int, batch: int, rule: str) -> float:
    """The rate for batch size ``batch`` given ``lr0`` tuned at ``batch0``.

    * ``"linear"``: ``lr0 · batch / batch0`` (Goyal et al., 2017: SGD, with warmup);
    * ``"sqrt"``: ``lr0 · sqrt(batch / batch0)`` (keeps the update variance ``η²σ²/B``; Krizhevsky, 2014;
      Malladi et al., 2022 for Adam);
    * ``"none"``: ``lr0``.
    """
    lr0 = check_positive(lr0, "lr0")
    batch0 = check_positive_int(batch0, "batch0")
    batch = check_positive_int(batch, "batch")
    if rule not in SCALING_RULES:
        raise ValueError(f"rule: expected one of {SCALING_RULES}, got {rule!r}")
    ratio = batch / batch0
    return lr0 * {"linear": ratio, "sqrt": math.sqrt(ratio), "none": 1.0}[rule]


def steps_to_target(problem: LeastSquares, batch_sizes, lr_for_batch: Callable[[int], float], target: float,
                    max_steps: int, seeds=range(3), w0=None) -> np.ndarray:
    """Updates needed until ``J − J* <= target``, per batch size and seed: shape (len(batch_sizes), seeds).

    Each run is mini-batch SGD (without replacement) with rate
    ``lr_for_batch(B)``; a run that has not reached the target after
    ``max_steps`` updates (or diverged) counts as ``inf``. Multiply by ``B``
    for the examples processed.
    """
    problem = _check_problem(problem)
    target = check_positive(target, "target")
    max_steps = check_positive_int(max_steps, "max_steps")
    out = np.full((len(batch_sizes), len(seeds)), np.inf)
    for i, b in enumerate(batch_sizes):
        b = _check_batch_size(int(b), problem.n)
        epochs = -(-max_steps * b // problem.n)        # enough epochs for max_steps updates
        for j, seed in enumerate(seeds):
            trace = run_sgd(problem, lr_for_batch(b), b, epochs, rng=seed, w0=w0)
            excess = trace.excess(problem)[:max_steps + 1]
            hit = np.flatnonzero(excess <= target)
            if hit.size:
                out[i, j] = hit[0]
    return out


# ---------------------------------------------------------------- schedules

SCHEDULE_KINDS = ("constant", "step", "exponential", "inverse_time", "cosine")
SCHEDULE_LABELS = {"constant": "constant", "step": "step", "exponential": "exponential",
                   "inverse_time": "1/t (inverse time)", "cosine": "cosine"}


def make_schedule(kind: str, lr0: float, total_steps: int, *, step_size: int = 100, gamma: float = 0.5,
                  decay_rate: float = 0.01, lr_min: float = 0.0, warmup_steps: int = 0) -> S.Schedule:
    """One of :data:`SCHEDULE_KINDS` from :mod:`gdcourse.schedules`, optionally behind a linear warmup.

    * ``constant``: ``lr0``;
    * ``step``: ``lr0 · gamma^⌊t / step_size⌋``;
    * ``exponential``: ``lr0 · gamma^(t / step_size)`` (the same decay per ``step_size`` steps, smoothly);
    * ``inverse_time``: ``lr0 / (1 + decay_rate · t)``;
    * ``cosine``: ``lr_min + ½ (lr0 − lr_min)(1 + cos(π t / total_steps))``.

    ``warmup_steps > 0`` multiplies by a ramp from 0 to 1 over those steps.
    """
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"kind: expected one of {SCHEDULE_KINDS}, got {kind!r}")
    total_steps = check_positive_int(total_steps, "total_steps")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", allow_zero=True)
    step_size = check_positive_int(step_size, "step_size")
    if kind == "constant":
        schedule = S.Constant(check_positive(lr0, "lr0"))
    elif kind == "step":
        schedule = S.StepDecay(lr0, step_size, gamma)
    elif kind == "exponential":
        schedule = S.ExponentialDecay(lr0, check_fraction(gamma, "gamma") ** (1.0 / step_size))
    elif kind == "inverse_time":
        schedule = S.InverseTimeDecay(lr0, decay_rate)
    else:
        schedule = S.CosineDecay(lr0, total_steps, lr_min=lr_min)
    return S.LinearWarmup(schedule, warmup_steps) if warmup_steps else schedule


def schedule_curves(lr0: float, total_steps: int, **settings) -> dict:
    """The rate at steps ``0 … total_steps − 1`` of every kind in :data:`SCHEDULE_KINDS`, same settings.

    ``settings`` are the keyword arguments of :func:`make_schedule` (step_size,
    gamma, decay_rate, lr_min, warmup_steps). Returns ``kind -> ndarray (total_steps,)``.
    """
    return {kind: make_schedule(kind, lr0, total_steps, **settings).values(total_steps)
            for kind in SCHEDULE_KINDS}


# ---------------------------------------------------------------- a network: loss curves and warmup

def digits_subset(n_train: int = 600, rng=0):
    """The first ``n_train`` standardized training digits: ``X (n, 64)``, ``y (n,)`` (scikit-learn's)."""
    n_train = check_positive_int(n_train, "n_train")
    ds = load_digits(rng=rng).standardized()
    return ds.X_train[:n_train], ds.y_train[:n_train]


def mlp(depth: int, width: int = 64, in_features: int = 64, classes: int = 10, rng=None):
    """A ReLU MLP with ``depth`` Linear layers (He-normal init), ``in → width → … → classes``."""
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    rng = as_rng(rng)
    sizes = [in_features] + [width] * (depth - 1) + [classes]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out, rng=rng), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


@dataclass(frozen=True)
class LRCurves:
    """Per-step training losses of the same network trained with several rates.

    Attributes
    ----------
    lrs : tuple of float
    losses : ndarray (len(lrs), steps)
        Mini-batch losses; NaN after a run diverged.
    diverged : tuple of bool
    steps_per_epoch : int
    """

    lrs: tuple
    losses: np.ndarray
    diverged: tuple
    steps_per_epoch: int


def _train_losses(model, optimizer, X, y, epochs, batch_size, schedule, rng):
    """``fit`` without a progress bar; returns (step losses, diverged)."""
    # These matrix products (64 wide, batches of 32-64) are too small to gain from BLAS threads;
    # on a busy 2-core machine the threads wait on each other and training ran 8x slower.
    try:
        with np.errstate(over="ignore", invalid="ignore"), threadpool_limits(limits=1, user_api="blas"):
            history = fit(model, losses.CrossEntropyLoss(), optimizer, (X, y), epochs=epochs,
                          batch_size=batch_size, schedule=schedule, progress=False, rng=rng)
        return history["step_loss"], False
    except TrainingDiverged as err:
        return np.asarray(err.history.step_loss), True


def lr_loss_curves(lrs, epochs: int = 8, batch_size: int = 32, depth: int = 3, width: int = 32,
                   data=None, rng=0) -> LRCurves:
    """Train the same MLP (same init, same batch order) on digits with plain SGD at each rate in ``lrs``.

    ``data`` is ``(X, y)`` (default :func:`digits_subset`). A rate whose loss
    becomes non-finite is marked diverged and its curve ends in NaN.
    """
    lrs = tuple(check_positive(lr, f"lrs[{i}]") for i, lr in enumerate(lrs))
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    X, y = digits_subset() if data is None else data
    steps = epochs * -(-len(X) // batch_size)
    seed = int(as_rng(rng).integers(2**31 - 1))
    curves = np.full((len(lrs), steps), np.nan)
    diverged = []
    for i, lr in enumerate(lrs):
        model = mlp(depth, width, X.shape[1], int(y.max()) + 1, rng=seed)
        curve, bad = _train_losses(model, optim.SGD(model.parameters(), lr=lr), X, y, epochs, batch_size,
                                   None, seed)
        curves[i, :len(curve)] = np.where(np.isfinite(curve), curve, np.nan)
        diverged.append(bad)
    return LRCurves(lrs, curves, tuple(diverged), -(-len(X) // batch_size))


def warmup_runs(lr: float, warmup_steps: int, seeds=range(6), depth: int = 8, width: int = 64,
                epochs: int = 6, batch_size: int = 64, data=None) -> np.ndarray:
    """Adam (default betas) on a deep ReLU MLP, with a linear warmup of ``warmup_steps`` (0 = none).

    Returns the mini-batch losses, shape (seeds, steps). The same seed gives the
    same initialization and batch order with and without warmup.
    """
    lr = check_positive(lr, "lr")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", allow_zero=True)
    X, y = digits_subset() if data is None else data
    rows = []
    for seed in seeds:
        model = mlp(depth, width, X.shape[1], int(y.max()) + 1, rng=seed)
        schedule = S.LinearWarmup(S.Constant(lr), warmup_steps) if warmup_steps else None
        curve, bad = _train_losses(model, optim.Adam(model.parameters(), lr=lr), X, y, epochs, batch_size,
                                   schedule, seed)
        if bad:
            raise ValueError(f"lr: Adam at lr={lr} diverged (seed {seed}); use a smaller rate")
        rows.append(curve)
    return np.asarray(rows)


# ---------------------------------------------------------------- synchronous vs asynchronous SGD

def simulate_async_sgd(problem: LeastSquares, lr, staleness: int, steps: int, batch_size: int | None = None,
                       rng=None, w0=None) -> Trace:
    """Asynchronous SGD with a fixed delay: ``w_{t+1} = w_t − η g(w_{t−τ})``.

    Every update applies a gradient computed at the weights of ``τ = staleness``
    updates ago (``w_0`` before that), on a fresh random batch of
    ``batch_size`` examples (the exact gradient when None). With K equally fast
    workers served round-robin, ``τ = K − 1``. ``staleness=0`` is plain SGD.
    """
    problem = _check_problem(problem)
    lr_at = _lr_function(lr)
    staleness = check_positive_int(staleness, "staleness", allow_zero=True)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    if batch_size is not None:
        batch_size = _check_batch_size(batch_size, problem.n)
    rng = as_rng(rng)
    w = _start(problem, w0)
    X, y = problem.X, problem.y
    weights, lrs = [w.copy()], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            read = weights[max(t - staleness, 0)]
            if batch_size is None:
                grad = X.T @ (X @ read - y) / problem.n
            else:
                idx = rng.choice(problem.n, batch_size, replace=False)
                grad = X[idx].T @ (X[idx] @ read - y[idx]) / batch_size
            rate = lr_at(t)
            w = w - rate * grad
            weights.append(w)
            lrs.append(rate)
            if _is_diverged(w):
                break
    per_step = problem.n if batch_size is None else batch_size
    return _make_trace(problem, weights, np.arange(len(weights)) * per_step, lrs, [], _is_diverged(w))


def simulate_sync_sgd(problem: LeastSquares, lr, workers: int, steps: int, batch_size: int, rng=None,
                      w0=None) -> Trace:
    """Synchronous data-parallel SGD: each step, ``workers`` workers each compute the gradient of their own
    ``batch_size`` examples at the same weights; the mean of those gradients is applied once.

    The workers' batches are disjoint, so this is mini-batch SGD with batch
    ``workers · batch_size`` drawn without replacement.
    """
    problem = _check_problem(problem)
    lr_at = _lr_function(lr)
    workers = check_positive_int(workers, "workers")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    _check_batch_size(workers * batch_size, problem.n)
    rng = as_rng(rng)
    w = _start(problem, w0)
    weights, lrs = [w.copy()], []
    for t in range(steps):
        shards = rng.choice(problem.n, workers * batch_size, replace=False).reshape(workers, batch_size)
        Xs = problem.X[shards]                                            # (workers, B, d)
        residuals = Xs @ w - problem.y[shards]                            # (workers, B)
        worker_grads = np.einsum("kbd,kb->kd", Xs, residuals) / batch_size
        rate = lr_at(t)
        w = w - rate * worker_grads.mean(axis=0)
        weights.append(w)
        lrs.append(rate)
        if _is_diverged(w):
            break
    return _make_trace(problem, weights, np.arange(len(weights)) * workers * batch_size, lrs, [],
                       _is_diverged(w))


def stable_lr_limit(curvature: float, staleness: int) -> float:
    """Largest stable rate of delayed gradient descent on ``½ λ x²``: ``2 sin(π / (4τ + 2)) / λ``.

    ``x_{t+1} = x_t − ηλ x_{t−τ}`` converges for every start exactly when
    ``0 < ηλ < 2 sin(π/(4τ + 2))`` (the classical stability region of this
    linear recurrence; Levin & May, 1976). ``τ = 0`` gives ``2/λ``; for large
    ``τ`` it is about ``π / (2τλ)``: the usable rate falls like 1/staleness.
    """
    curvature = check_positive(curvature, "curvature")
    staleness = check_positive_int(staleness, "staleness", allow_zero=True)
    return 2.0 * math.sin(math.pi / (4 * staleness + 2)) / curvature


def smallest_unstable_staleness(lr: float, curvature: float) -> int:
    """The smallest staleness τ at which delayed gradient descent at rate ``lr`` diverges (ηλ >= limit)."""
    lr = check_positive(lr, "lr")
    curvature = check_positive(curvature, "curvature")
    if lr * curvature >= 2:
        return 0
    tau = 0
    while lr < stable_lr_limit(curvature, tau):
        tau += 1
    return tau


def async_problem() -> LeastSquares:
    """The async explorer's problem: N = 200, d = 5, curvatures from about 0.1 to 1, noise 0.3, seed 3."""
    return regression_problem(n=200, d=5, noise=0.3, scales=np.geomspace(1.0, 0.3, 5), rng=3)


@dataclass(frozen=True)
class AsyncDemo:
    """What the async explorer shows.

    Attributes
    ----------
    fresh, stale : Trace
        Runs with staleness 0 and ``staleness``, same rate, same number of updates.
    lr, staleness : the settings
    curvature : float
        ``L``, the largest Hessian eigenvalue.
    limit : float
        :func:`stable_lr_limit` at ``(L, staleness)``.
    diverges : bool
        ``lr >= limit`` (with exact gradients the run then diverges).
    """

    fresh: Trace
    stale: Trace
    lr: float
    staleness: int
    curvature: float
    limit: float
    diverges: bool


def async_demo(lr: float, staleness: int, steps: int = 150, batch_size: int | None = None, rng=0,
               problem: LeastSquares | None = None) -> AsyncDemo:
    """The async explorer's data: fresh vs stale gradients at the same rate, and the stability limit."""
    problem = async_problem() if problem is None else _check_problem(problem)
    lr = check_positive(lr, "lr")
    seed = int(as_rng(rng).integers(2**31 - 1))
    fresh = simulate_async_sgd(problem, lr, 0, steps, batch_size, rng=seed)
    stale = simulate_async_sgd(problem, lr, staleness, steps, batch_size, rng=seed)
    L = float(problem.curvatures[-1])
    limit = stable_lr_limit(L, staleness)
    return AsyncDemo(fresh, stale, lr, staleness, L, limit, lr >= limit)


def straggler_slowdown(workers: int, rounds: int = 10_000, rng=None) -> float:
    """Mean time of a synchronous round over the mean time of one gradient, with Exp(1) compute times.

    A synchronous step waits for the slowest of ``workers`` workers,
    ``E[max] = H_K = 1 + 1/2 + … + 1/K``; asynchronous workers never wait,
    so this ratio is the throughput that synchronous training loses to stragglers.
    """
    workers = check_positive_int(workers, "workers")
    rounds = check_positive_int(rounds, "rounds")
    times = as_rng(rng).exponential(1.0, size=(rounds, workers))
    return float(times.max(axis=1).mean() / times.mean())
