"""Statistics per axis: batch norm (Ioffe & Szegedy, 2015) normalizes each feature over the batch, layer
norm (Ba, Kiros & Hinton, 2016) each sample over its features; batch norm's running statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import nn
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["Population", "feature_population", "AxisStatistics", "axis_statistics", "batch_and_layer_norm",
           "RunningTrace", "running_statistics"]


def _check_batch_size(batch_size, low=2, high=None, name="batch_size"):
    value = check_positive_int(batch_size, name)
    if value < low or (high is not None and value > high):
        bound = f"{low} <= {name} <= {high}" if high is not None else f"{name} >= {low}"
        raise ValueError(f"{name}: expected {bound}, got {batch_size}")
    return value


def _random_batches(num_samples, batch_size, count, rng):
    """``(count, batch_size)`` indices, distinct within each row (a fresh random batch per row)."""
    keys = rng.random((count, num_samples))
    return np.argpartition(keys, batch_size - 1, axis=1)[:, :batch_size]


# ---------------------------------------------------------------- population and axis statistics

@dataclass(frozen=True)
class Population:
    """``X (N, D)``: feature ``j`` drawn from ``N(means[j], stds[j]²)``; ``stds`` 1 … ``feature_scale``."""

    X: np.ndarray
    means: np.ndarray
    stds: np.ndarray


def feature_population(num_samples=2000, num_features=4, feature_scale=10.0, rng=0) -> Population:
    """Gaussian features whose standard deviations grow geometrically from 1 to ``feature_scale``.

    ``stds = geomspace(1, feature_scale, D)``, ``means = linspace(-2, 3, D) · stds``, so features
    differ in scale by the factor ``feature_scale``. The standard-normal draws depend only on ``rng``,
    ``num_samples`` and ``num_features``: changing ``feature_scale`` rescales the same values.
    """
    n = check_positive_int(num_samples, "num_samples")
    d = check_positive_int(num_features, "num_features")
    if n < 2:
        raise ValueError(f"num_samples: expected at least 2, got {n}")
    scale = check_positive(feature_scale, "feature_scale")
    stds = np.geomspace(1.0, scale, d)
    means = np.linspace(-2.0, 3.0, d) * stds
    z = as_rng(rng).standard_normal((n, d))
    return Population(means + stds * z, means, stds)


@dataclass(frozen=True)
class AxisStatistics:
    """Means and (biased) standard deviations per feature (over axis 0) and per sample (over axis 1)."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    sample_mean: np.ndarray
    sample_std: np.ndarray


def axis_statistics(x) -> AxisStatistics:
    """Per-feature statistics ``(D,)`` over the batch and per-sample statistics ``(N,)`` over features.

    ``x (N, D)``. Standard deviations divide by the count (``ddof=0``), as both normalizations do.
    """
    x = check_array(x, "x", ndim=2, finite=True)
    return AxisStatistics(x.mean(axis=0), x.std(axis=0), x.mean(axis=1), x.std(axis=1))


def _check_batch(x):
    x = check_array(x, "x", ndim=2, finite=True)
    if len(x) < 2:
        raise ValueError(f"x: batch norm in training mode needs at least 2 samples, got shape {x.shape}")
    return x


def batch_and_layer_norm(x, eps=1e-5):
    """Batch norm and layer norm of ``x (N, D)``, training mode, ``γ = 1, β = 0``: two ``(N, D)`` arrays.

    Batch norm standardizes each feature (column) over the batch, axis 0; layer norm each sample (row)
    over its features, axis 1. Both divide by the biased variance, as ``nn.BatchNorm1d`` and ``nn.LayerNorm`` do.
    """
    x = _check_batch(x)
    batch = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    layer = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    return batch, layer


# ---------------------------------------------------------------- running statistics

@dataclass(frozen=True)
class RunningTrace:
    """A ``BatchNorm1d``'s running statistics after each of ``steps`` batches: ``mean, var (steps + 1, D)``.

    Row 0 is the initial state (mean 0, var 1). ``batch_mean``, ``batch_var_biased`` and
    ``batch_var_unbiased`` ``(steps, D)`` are the statistics of the batches themselves.
    """

    mean: np.ndarray
    var: np.ndarray
    batch_mean: np.ndarray
    batch_var_biased: np.ndarray
    batch_var_unbiased: np.ndarray


def running_statistics(X, batch_size, steps, momentum=0.1, rng=0) -> RunningTrace:
    """Feed ``steps`` random batches of ``X (N, D)`` to a fresh ``BatchNorm1d`` and record its running stats.

    Each step: ``r ← (1 − momentum) r + momentum · s`` with ``s`` the batch mean and the *unbiased* batch
    variance ``B/(B − 1) · σ²_B`` (``torch.nn.BatchNorm1d``'s convention).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    batch_size = _check_batch_size(batch_size, high=len(X))
    steps = check_positive_int(steps, "steps")
    layer = nn.BatchNorm1d(X.shape[1], momentum=momentum)
    index = _random_batches(len(X), batch_size, steps, as_rng(rng))
    mean, var = [layer.running_mean.copy()], [layer.running_var.copy()]
    for rows in index:  # one step per batch: the running average is sequential by nature
        layer(X[rows])
        mean.append(layer.running_mean.copy())
        var.append(layer.running_var.copy())
    batches = X[index]
    return RunningTrace(np.array(mean), np.array(var), batches.mean(axis=1), batches.var(axis=1),
                        batches.var(axis=1, ddof=1))
