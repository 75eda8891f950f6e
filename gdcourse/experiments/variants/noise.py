"""The noise of the mini-batch gradient, and the noise floor it leaves SGD on.

A mini-batch gradient ``g_B`` is the mean of ``B`` per-example gradients; it is unbiased,
``E[g_B] = ∇J``, and its noise ``E‖g_B − ∇J‖² = tr(Σ)/B`` with replacement, times the
finite-population correction ``(N − B)/(N − 1)`` without (``Σ`` the population covariance of the
``g_i``; Cochran, *Sampling Techniques*, 1977). Also the batch-size explorer's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.variants.problem import (
    LeastSquares,
    Trace,
    check_batch_size,
    check_problem,
    lr_function,
    regression_problem,
)
from gdcourse.experiments.variants.sgd import run_sgd
from gdcourse.validate import (
    as_rng,
    check_array,
    check_positive,
    check_positive_int,
    check_same_length,
)

__all__ = ["gradient_noise_variance", "minibatch_noise", "NoiseMeasurement", "gradient_noise", "loglog_slope",
           "BATCH_SIZE_START", "batch_size_problem", "BatchSizeDemo", "batch_size_demo",
           "smallest_batch_for_noise", "noisy_quadratic_sgd", "stationary_variance"]


def gradient_noise_variance(problem: LeastSquares, w, batch_size: int, replacement: bool = False) -> float:
    """Exact ``E‖g_B(w) − ∇J(w)‖²`` for a uniformly drawn batch of ``batch_size`` examples.

    With ``σ² = tr(Σ) = (1/N) Σ_i ‖g_i − ∇J‖²`` (the spread of the per-example
    gradients): ``σ²/B`` with replacement and ``σ²/B · (N − B)/(N − 1)`` without,
    which is 0 at ``B = N`` (the full gradient has no noise).
    """
    problem = check_problem(problem)
    batch_size = check_batch_size(batch_size, problem.n)
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


def draw_batches(n, batch_size, draws, replacement, rng) -> np.ndarray:
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
    problem = check_problem(problem)
    sizes = np.asarray(batch_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu":
        raise ValueError(f"batch_sizes: expected a non-empty 1-D array of ints, got {batch_sizes!r}")
    for b in sizes:
        check_batch_size(int(b), problem.n)
    draws = check_positive_int(draws, "draws")
    rng = as_rng(rng)
    G = problem.per_example_gradients(w)
    measured = [minibatch_noise(G, b, draws, rng, replacement) for b in sizes.tolist()]
    variance, bias = np.array(measured).T
    expected = np.array([gradient_noise_variance(problem, w, b, replacement) for b in sizes.tolist()])
    return NoiseMeasurement(sizes.copy(), variance, expected, bias, np.sqrt(expected / draws),
                            float(np.linalg.norm(G.mean(axis=0))), draws, bool(replacement))


def minibatch_noise(G, batch_size: int, draws: int, rng, replacement: bool = False) -> tuple[float, float]:
    """Monte Carlo ``(E‖g_B − ∇J‖², ‖E[g_B] − ∇J‖)`` from the per-example gradients ``G (N, d)``.

    ``g_B`` is the mean of ``batch_size`` rows of G drawn at random (``draws`` times), ``∇J`` the mean of all
    rows: the variance of the mini-batch gradient and its bias (zero up to Monte Carlo error).
    """
    batches = draw_batches(len(G), batch_size, draws, replacement, as_rng(rng))   # (draws, batch_size)
    errors = G[batches].mean(axis=1) - G.mean(axis=0)
    return float(np.mean(np.sum(errors**2, axis=1))), float(np.linalg.norm(errors.mean(axis=0)))


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
    problem = batch_size_problem() if problem is None else check_problem(problem)
    lr = check_positive(lr, "lr")
    if problem.dim != 2:
        raise ValueError(f"problem: expected a 2-D problem (d=2) to draw, got d={problem.dim}")
    batch_size = check_batch_size(batch_size, problem.n)
    rng = as_rng(rng)
    w0 = BATCH_SIZE_START
    sgd = run_sgd(problem, lr, batch_size, epochs, rng=rng, w0=w0)
    gd_steps = max(len(sgd.lrs), 1)
    gd = run_sgd(problem, lambda step: lr, problem.n, gd_steps, w0=w0)
    G = problem.per_example_gradients(w0)
    samples = G[draw_batches(problem.n, batch_size, draws, False, rng)].mean(axis=1)
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
    problem = batch_size_problem() if problem is None else check_problem(problem)
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
    lr_at = lr_function(lr)
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
