"""Large batches: the gradient noise scale and the critical batch size (SCALE-05).

The gradient of a batch of ``B`` samples drawn with replacement has expected squared norm
``E‖G_B‖² = ‖G‖² + tr(Σ)/B`` (Σ: the covariance of one sample's gradient). Its *noise scale*
``B_noise = tr(Σ)/‖G‖²`` (McCandlish et al., 2018) is the batch size at which noise and signal
are equal: below it, doubling the batch halves the noise and about halves the steps needed;
far above it the gradient is nearly exact and more samples per step buy almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import cached, digits
from gdcourse.validate import as_rng

__all__ = ["softmax_per_sample_gradients", "NoiseScale", "exact_noise_scale", "estimate_noise_scale",
           "noise_scale_from_two_batches", "NoiseScaleCheck", "noise_scale_check"]


def softmax_per_sample_gradients(W, X, y) -> np.ndarray:
    """(N, D·K) gradients of each sample's cross-entropy for softmax regression ``p = softmax(X W)``.

    One sample's gradient is the outer product ``x_i (p_i − e_{y_i})ᵀ``, flattened.
    """
    logits = X @ W
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return (X[:, :, None] * p[:, None, :]).reshape(len(X), -1)


@dataclass(frozen=True)
class NoiseScale:
    grad_sq: float   # ‖G‖²
    trace: float     # tr(Σ)

    @property
    def b_noise(self) -> float:
        return self.trace / self.grad_sq


def exact_noise_scale(per_sample) -> NoiseScale:
    """‖G‖² and tr(Σ) from every sample's gradient (rows of ``per_sample``)."""
    mean = per_sample.mean(axis=0)
    return NoiseScale(float(mean @ mean), float(((per_sample - mean) ** 2).sum(axis=1).mean()))


def noise_scale_from_two_batches(g_small_sq, g_big_sq, b_small, b_big) -> NoiseScale:
    """Solve ``E‖G_B‖² = ‖G‖² + tr(Σ)/B`` from its value at two batch sizes."""
    grad_sq = (b_big * g_big_sq - b_small * g_small_sq) / (b_big - b_small)
    trace = (g_small_sq - g_big_sq) / (1.0 / b_small - 1.0 / b_big)
    return NoiseScale(float(grad_sq), float(trace))


def estimate_noise_scale(per_sample, b_small, b_big, batches, rng=None) -> NoiseScale:
    """The two-batch estimate, with ``batches`` batches of each size drawn with replacement."""
    rng = as_rng(rng)
    n = len(per_sample)

    def mean_sq(b):
        counts = np.zeros((batches, n))  # how often each sample is in each batch
        np.add.at(counts, (np.repeat(np.arange(batches), b), rng.integers(0, n, size=batches * b)), 1.0)
        g = counts @ per_sample / b
        return float((g**2).sum(axis=1).mean())

    return noise_scale_from_two_batches(mean_sq(b_small), mean_sq(b_big), b_small, b_big)


def _softmax_fit(X, y, steps, lr=0.5):
    """Full-batch gradient descent on softmax regression from W = 0: ``W ← W − lr · Xᵀ(P − Y)/N``."""
    W, Y = np.zeros((X.shape[1], 10)), np.eye(10)[y]
    for _ in range(steps):
        logits = X @ W
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        W -= lr * X.T @ (P - Y) / len(X)
    return W


@dataclass(frozen=True)
class NoiseScaleCheck:
    """Exact B_noise of softmax regression on the digits at two points of training, and per-seed estimates."""

    steps: tuple          # full-batch GD steps taken before measuring
    exact: tuple          # exact B_noise at each point
    estimates: np.ndarray  # (len(steps), seeds) two-batch estimates (B = 8 and 512, `batches` batches each)


@cached
def noise_scale_check(rng=0, seeds=20, steps=(0, 10), batches=150) -> NoiseScaleCheck:
    d = digits(standardized=True)
    X, y = d.X_train, d.y_train
    exact, estimates = [], []
    for n_steps in steps:
        per_sample = softmax_per_sample_gradients(_softmax_fit(X, y, n_steps), X, y)
        exact.append(exact_noise_scale(per_sample).b_noise)
        estimates.append([estimate_noise_scale(per_sample, 8, 512, batches, rng=seed).b_noise
                          for seed in range(rng, rng + seeds)])
    return NoiseScaleCheck(tuple(steps), tuple(exact), np.array(estimates))
