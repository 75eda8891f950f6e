"""Batch-size effects: with small batches one sample's batch-norm output depends on which other samples
share its batch, and the batch mean is a noisy estimate of the population mean; the explorers' views."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from gdcourse import nn
from gdcourse.experiments import common
from gdcourse.experiments.normalization.axes import (
    _check_batch_size,
    _random_batches,
    axis_statistics,
    batch_and_layer_norm,
    feature_population,
)
from gdcourse.filters import exponential_average
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["EXERCISE_TOLERANCE", "EXERCISE_LEVEL", "MAX_BATCH",
           "sample_outputs_across_batches", "output_spread", "batch_mean_coverage", "gaussian_batch_mean_coverage",
           "smallest_batch_size",
           "NormAxesView", "norm_axes_view", "warmed_up_batch_norm", "BatchSizeView", "batch_size_view"]

EXERCISE_TOLERANCE = 0.3
"""The batch-size exercise: the batch mean must be within this many standard deviations of the truth..."""
EXERCISE_LEVEL = 0.95
"""... in at least this share of random batches."""
MAX_BATCH = 64
"""The largest batch size the batch-size explorer offers."""


def sample_outputs_across_batches(X, sample_index, batch_size, trials, rng=0, eps=1e-5):
    """Batch norm's training-mode output for sample ``X[i]`` in ``trials`` random batches.

    Each batch holds ``X[i]`` and ``batch_size − 1`` other rows drawn at random (distinct, never ``i``);
    the output is ``(X[i] − μ_B) / sqrt(σ²_B + eps)`` with the batch mean and biased variance
    (``γ = 1, β = 0``). Returns ``(trials, D)``: one row per batch.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    n = len(X)
    valid = isinstance(sample_index, numbers.Integral) and not isinstance(sample_index, bool)
    if not valid or not 0 <= sample_index < n:
        raise ValueError(f"sample_index: expected an integer in [0, {n}), got {sample_index!r}")
    batch_size = _check_batch_size(batch_size, high=n)
    trials = check_positive_int(trials, "trials")
    others = np.delete(np.arange(n), sample_index)
    chosen = others[_random_batches(n - 1, batch_size - 1, trials, as_rng(rng))]
    batches = np.concatenate([np.broadcast_to(X[sample_index], (trials, 1, X.shape[1])), X[chosen]], axis=1)
    mean, var = batches.mean(axis=1), batches.var(axis=1)
    return (X[sample_index] - mean) / np.sqrt(var + eps)


def output_spread(X, sample_index, batch_sizes, trials=200, rng=0):
    """For each batch size, the std over random batches of one sample's batch-norm output, mean over features.

    Zero would mean the output does not depend on the rest of the batch. Returns ``(len(batch_sizes),)``.
    """
    return np.array([sample_outputs_across_batches(X, sample_index, b, trials, rng).std(axis=0).mean()
                     for b in batch_sizes])


def batch_mean_coverage(x, batch_sizes, tolerance=EXERCISE_TOLERANCE, trials=4000, rng=0):
    """Share of random batches whose mean lies within ``tolerance · σ`` of the population mean ``μ``.

    ``x (N,)`` is one feature; ``μ`` and ``σ`` are its mean and std. Batches are i.i.d. draws (with
    replacement); the batch of size ``B`` is the first ``B`` draws of a row, so the curve over ``B``
    uses common random numbers and is smooth. For Gaussian data the coverage is
    ``2Φ(tolerance · √B) − 1``. Returns ``(len(batch_sizes),)``.
    """
    x = check_array(x, "x", ndim=1, finite=True)
    tolerance = check_positive(tolerance, "tolerance")
    sizes = np.array([_check_batch_size(b, low=1, name="batch_sizes") for b in np.atleast_1d(batch_sizes)])
    draws = x[as_rng(rng).integers(0, len(x), (check_positive_int(trials, "trials"), sizes.max()))]
    batch_means = np.cumsum(draws, axis=1)[:, sizes - 1] / sizes
    return np.mean(np.abs(batch_means - x.mean()) <= tolerance * x.std(), axis=0)


def gaussian_batch_mean_coverage(batch_sizes, tolerance=EXERCISE_TOLERANCE):
    """Exact share of batches of ``B`` i.i.d. Gaussian draws whose mean is within ``tolerance · σ`` of ``μ``.

    The batch mean is ``N(μ, σ²/B)``, so the share is ``P(|Z| ≤ tolerance √B) = 2Φ(tolerance √B) − 1
    = erf(tolerance √(B/2))``, with no Monte Carlo noise (for non-Gaussian data it is the central-limit
    approximation). At ``tolerance = 0.3``: 94.81% at B = 42, 95.08% at B = 43. Returns
    ``(len(batch_sizes),)``.
    """
    tolerance = check_positive(tolerance, "tolerance")
    sizes = np.array([_check_batch_size(b, low=1, name="batch_sizes") for b in np.atleast_1d(batch_sizes)])
    return np.array([math.erf(tolerance * math.sqrt(b / 2.0)) for b in sizes])


def smallest_batch_size(tolerance=EXERCISE_TOLERANCE, level=EXERCISE_LEVEL, max_batch=MAX_BATCH):
    """The smallest batch size (from 2) whose exact coverage (:func:`gaussian_batch_mean_coverage`)
    reaches ``level``: 43 for the exercise's 0.3σ and 95% (``(1.96 / 0.3)² ≈ 42.7``, rounded up).

    The batch-size explorer draws the same curve. ``None`` when no batch size up to ``max_batch`` is enough.
    """
    sizes = np.arange(2, _check_batch_size(max_batch, name="max_batch") + 1)
    reached = np.flatnonzero(gaussian_batch_mean_coverage(sizes, tolerance) >= level)
    return int(sizes[reached[0]]) if reached.size else None


# ---------------------------------------------------------------- the explorers' views

@dataclass(frozen=True)
class NormAxesView:
    """What the normalization-axes explorer shows.

    ``x (B, D)`` the batch, ``bn`` and ``ln`` its normalizations, ``stats`` name -> :class:`AxisStatistics`
    for "input", "batch norm", "layer norm". ``train_outputs (trials, D)``: batch norm's training-mode
    output for the fixed sample (row 0 of ``x``) in random batches of the same size; ``eval_output (D,)``
    its evaluation-mode output with the running statistics of ``warmup`` training batches;
    ``ln_output (D,)`` layer norm's output for it (the same in every batch); ``population`` the
    per-feature mean and std of the whole population (``(2, D)``).
    """

    batch_size: int
    feature_scale: float
    x: np.ndarray
    bn: np.ndarray
    ln: np.ndarray
    stats: dict
    train_outputs: np.ndarray
    eval_output: np.ndarray
    ln_output: np.ndarray
    population: np.ndarray


def warmed_up_batch_norm(X, batches, momentum=0.1) -> nn.BatchNorm1d:
    """A ``nn.BatchNorm1d`` as after training-mode passes over ``X[batches[k]]``, k = 0 … K−1 (``batches (K, B)``).

    Its running statistics at once instead of K layer calls (about 16 ms for K = 200, which an
    explorer would pay on every change): the layer's update ``r ← (1 − m) r + m s_k`` is an
    exponential average with β = 1 − m, so ``r_K = β^K r_0 + exponential_average(s, β)[K − 1]`` with
    ``s_k`` the batch mean or the unbiased batch variance. ``tests/test_nb06_claims.py`` checks it
    against the calls.
    """
    layer = nn.BatchNorm1d(X.shape[1], momentum=momentum)
    values = np.asarray(X)[np.asarray(batches)]                        # (K, B, D)
    beta = 1.0 - momentum
    keep = beta ** len(values)
    layer.running_mean[...] = keep * layer.running_mean + exponential_average(values.mean(axis=1), beta)[-1]
    layer.running_var[...] = keep * layer.running_var + exponential_average(values.var(axis=1, ddof=1), beta)[-1]
    layer.num_batches_tracked = len(values)
    return layer


def norm_axes_view(batch_size=8, feature_scale=10.0, num_features=4, trials=40, warmup=200,
                   rng=0) -> NormAxesView:
    """Compute the normalization-axes explorer's data: a batch of ``feature_population`` rows, normalized.

    The batch is the first ``batch_size`` rows of the population (the same sample 0 for every batch size).
    """
    population = feature_population(feature_scale=feature_scale, num_features=num_features, rng=rng)
    X = population.X
    batch_size = _check_batch_size(batch_size, high=len(X))
    x = X[:batch_size]
    bn, ln = batch_and_layer_norm(x)
    stats = {name: axis_statistics(values) for name, values in (("input", x), ("batch norm", bn),
                                                                  ("layer norm", ln))}
    layer = warmed_up_batch_norm(X, _random_batches(len(X), batch_size, warmup, as_rng(rng)))
    eval_output = layer.eval()(x[:1])[0]
    train_outputs = sample_outputs_across_batches(X, 0, batch_size, trials, rng=rng)
    return NormAxesView(batch_size, float(feature_scale), x, bn, ln, stats, train_outputs, eval_output,
                        ln[0], np.array([X.mean(axis=0), X.std(axis=0)]))


@dataclass(frozen=True)
class BatchSizeView:
    """What the batch-size explorer shows: ``coverage`` and ``spread`` over ``batch_sizes`` (2 … 64).

    ``coverage``: exact share of Gaussian batches whose mean is within ``tolerance`` standard deviations
    of the population mean (:func:`gaussian_batch_mean_coverage`); ``spread``: std of sample 0's
    batch-norm output across batches. ``answer``: the smallest batch size whose coverage reaches ``level``
    (what the exercise asks for).
    """

    batch_size: int
    tolerance: float
    level: float
    batch_sizes: np.ndarray
    coverage: np.ndarray
    spread: np.ndarray
    answer: int | None

    @property
    def current_coverage(self) -> float:
        return float(self.coverage[self.batch_size - self.batch_sizes[0]])

    @property
    def current_spread(self) -> float:
        return float(self.spread[self.batch_size - self.batch_sizes[0]])


@common.cached(maxsize=8)
def _batch_size_curves(tolerance, trials, rng):
    """``(sizes, coverage, spread)`` over batch sizes 2 … MAX_BATCH: the exact Gaussian coverage, and the
    spread of sample 0's output (feature_population's Gaussian features) across random batches."""
    X = feature_population(rng=rng).X
    sizes = np.arange(2, MAX_BATCH + 1)
    return (sizes, gaussian_batch_mean_coverage(sizes, tolerance),
            output_spread(X, 0, sizes, trials=trials, rng=rng))


def batch_size_view(batch_size=8, tolerance=EXERCISE_TOLERANCE, level=EXERCISE_LEVEL, trials=100, rng=0):
    """Compute the batch-size explorer's data (see :class:`BatchSizeView`).

    The curves do not depend on ``batch_size``; for an int seed they are computed once and reused, so
    moving the slider only moves the marker.
    """
    batch_size = _check_batch_size(batch_size, high=MAX_BATCH)
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a share in (0, 1), got {level!r}")
    tolerance = check_positive(tolerance, "tolerance")
    trials = check_positive_int(trials, "trials")
    sizes, coverage, spread = _batch_size_curves(tolerance, trials, rng)
    reached = np.flatnonzero(coverage >= level)
    answer = int(sizes[reached[0]]) if reached.size else None
    return BatchSizeView(batch_size, float(tolerance), float(level), sizes, coverage, spread, answer)
