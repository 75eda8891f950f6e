"""Logit drift and the z-loss (SCALE-06).

Cross-entropy depends on the logits only through their differences: adding a constant to a row changes
nothing, so nothing in the loss holds the row's level in place. As a network becomes confident the top
logit and with it ``log Z = log Σ_c e^{z_c}`` (the softmax normalizer) keep growing. PaLM (Chowdhery et al.,
2022) adds ``10⁻⁴ · (log Z)²`` to the loss (:func:`gdcourse.losses.z_loss`): it pins the level (``log Z``
near 0, so the top logit near 0) and leaves the differences, and so the predictions, to the cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import cached, digits
from gdcourse.experiments.scale.width import _backward, _forward, initial_weights
from gdcourse.losses import z_loss

__all__ = ["LogitDrift", "logit_drift"]


@dataclass(frozen=True)
class LogitDrift:
    """Logit statistics on the 988 training digits every ``every`` steps, per z-loss weight and seed.

    Arrays are ``(len(weights), checkpoints, seeds)``: ``log_z`` the mean ``log Z``, ``max_logit`` the mean
    of each image's largest logit, ``spread`` the mean of its largest minus smallest, ``loss`` the mean
    cross-entropy; ``val_accuracy (len(weights), seeds)`` at the end, on the 359 validation digits.
    """

    weights: tuple
    steps: np.ndarray        # (checkpoints,)
    log_z: np.ndarray
    max_logit: np.ndarray
    spread: np.ndarray
    loss: np.ndarray
    val_accuracy: np.ndarray


def _logit_stats(params, X, y):
    """(4, R): mean log Z, mean max logit, mean spread, mean cross-entropy of stacked runs on ``X``."""
    z = _forward(params, np.broadcast_to(X, (len(params[0]),) + X.shape), 1.0)[2]
    top = z.max(axis=-1)
    log_z = top + np.log(np.exp(z - top[..., None]).sum(axis=-1))
    ce = log_z - z[:, np.arange(len(y)), y]
    return np.array([log_z.mean(axis=1), top.mean(axis=1), (top - z.min(axis=-1)).mean(axis=1), ce.mean(axis=1)])


@cached
def logit_drift(rng=0, seeds=20, weights=(0.0, 1e-4, 1e-3), steps=3000, lr=3e-3, batch=32, width=32,
                every=100) -> LogitDrift:
    """Adam (β = 0.9, 0.999) on a ``64 → 32 → 32 → 10`` ReLU MLP (digits, standardized, batch 32) with
    cross-entropy plus ``weight · z_loss``, for every weight and seed ``rng … rng + seeds − 1`` (each seed's
    initialization and batch order shared by every weight). All runs are stacked and trained at once."""
    d = digits(standardized=True)
    X, y = d.X_train, d.y_train
    inits = [initial_weights(width, seed) for seed in range(rng, rng + seeds)]
    params = [np.stack([inits[s][k] for _ in weights for s in range(seeds)]) for k in range(6)]
    orders = np.stack([np.random.default_rng(seed).integers(0, len(X), (steps, batch))
                       for seed in range(rng, rng + seeds)])
    order = np.tile(orders, (len(weights), 1, 1))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(10)
    stats = []
    for t in range(1, steps + 1):
        xb = X[order[:, t - 1]]
        h1, h2, z = _forward(params, xb, 1.0)
        p = np.exp(z - z.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        dz = (p - onehot[y[order[:, t - 1]]]) / batch
        for i, weight in enumerate(weights):
            if weight:
                group = slice(i * seeds, (i + 1) * seeds)
                dz[group] += z_loss(z[group].reshape(-1, 10), weight)[1].reshape(seeds, batch, 10) * seeds
        grads = _backward(params, xb, h1, h2, dz, 1.0)
        for k, g in enumerate(grads):
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            params[k] -= lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)
        if t % every == 0:
            stats.append(_logit_stats(params, X, y))
    stats = np.array(stats).reshape(len(stats), 4, len(weights), seeds).transpose(1, 2, 0, 3)
    z_val = _forward(params, np.broadcast_to(d.X_val, (len(params[0]),) + d.X_val.shape), 1.0)[2]
    accuracy = (z_val.argmax(axis=-1) == d.y_val).mean(axis=1).reshape(len(weights), seeds)
    return LogitDrift(tuple(weights), np.arange(every, steps + 1, every), *stats, accuracy)
