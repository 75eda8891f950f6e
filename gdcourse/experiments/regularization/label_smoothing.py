"""REG-02b: label smoothing, its optimal logit gap, and what it does to calibration (ECE) on digits.

Label smoothing (Szegedy et al. 2016) trains on the target ``q = (1 − ε) onehot(y) + ε/K`` instead of
``onehot(y)``. Its cross-entropy splits as

    H(q, p) = (1 − ε) H(onehot, p) + ε KL(u ‖ p) + ε log K,

cross-entropy plus ε times the divergence of the prediction from the uniform distribution ``u``. The
minimizer over ``p`` is ``p = q``, so the logit of the true class ends a finite gap above every other one,

    z_y − z_j = log(q_y / q_j) = log(1 + K (1 − ε)/ε),

instead of growing for ever as with hard labels. Calibration is measured by the expected calibration
error (Guo et al. 2017): bin the test predictions by confidence, ``ECE = Σ_b (n_b/n) |acc_b − conf_b|``.
Müller, Kornblith & Hinton (2019) report that smoothing improves it on ImageNet-scale networks; here the
effect is measured, with its sign, on a small digits network over seeds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse.data import batch_indices
from gdcourse.experiments.regularization.shared import digits, mlp
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int, check_unit_interval

__all__ = ["smoothed_targets", "smoothed_cross_entropy", "smoothing_decomposition", "optimal_logit_gap",
           "expected_calibration_error", "train_smoothed_mlps", "SmoothingStudy", "smoothing_study"]


def smoothed_targets(y, num_classes: int, eps: float) -> np.ndarray:
    """``(N, K)`` targets ``(1 − ε) onehot(y) + ε/K`` for integer labels ``y (N,)``."""
    eps = check_unit_interval(eps, "eps")
    num_classes = check_positive_int(num_classes, "num_classes")
    return (1.0 - eps) * np.eye(num_classes)[np.asarray(y)] + eps / num_classes


def smoothed_cross_entropy(logits, y, eps: float) -> float:
    """Mean cross-entropy ``H(q, softmax(z))`` of ``logits (N, K)`` against the smoothed targets of ``y``."""
    logits = check_array(logits, "logits", ndim=2, finite=True)
    q = smoothed_targets(y, logits.shape[1], eps)
    return float(-(q * F.log_softmax(logits, axis=1)).sum(axis=1).mean())


def smoothing_decomposition(logits, y, eps: float) -> dict:
    """The three terms of ``H(q, p) = (1 − ε) CE + ε KL(u ‖ p) + ε log K``, each a mean over rows."""
    logits = check_array(logits, "logits", ndim=2, finite=True)
    K = logits.shape[1]
    log_p = F.log_softmax(logits, axis=1)
    ce = -log_p[np.arange(len(log_p)), np.asarray(y)].mean()
    kl_uniform = (np.log(1.0 / K) - log_p).mean(axis=1).mean()      # Σ_k (1/K) log((1/K) / p_k)
    return {"ce": float(ce), "kl_uniform": float(kl_uniform), "constant": float(np.log(K))}


def optimal_logit_gap(eps: float, num_classes: int) -> float:
    """``log(1 + K (1 − ε)/ε)``: true-class logit minus any other at the minimum of the smoothed loss."""
    eps = check_positive(eps, "eps")
    if eps >= 1.0:
        raise ValueError(f"eps: expected 0 < eps < 1 for a finite gap, got {eps}")
    return float(np.log1p(check_positive_int(num_classes, "num_classes") * (1.0 - eps) / eps))


def expected_calibration_error(probs, y, bins: int = 15) -> float:
    """ECE of predictions ``probs (N, K)`` for labels ``y (N,)`` with ``bins`` equal-width confidence bins.

    ``Σ_b (n_b / N) |accuracy_b − mean confidence_b|`` (Guo et al. 2017); 0 is perfectly calibrated.
    """
    probs = check_array(probs, "probs", ndim=2, finite=True)
    bins = check_positive_int(bins, "bins")
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    correct = (pred == np.asarray(y)).astype(float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.bincount(which, correct - conf, minlength=bins)          # Σ (correct − conf) per bin
    return float(np.abs(gap).sum() / len(conf)) if counts.sum() else 0.0


def train_smoothed_mlps(X, y, eps: float, seeds, hidden: int = 32, epochs: int = 40, lr: float = 0.05,
                        batch_size: int = 64) -> list[np.ndarray]:
    """``[W1 (S, d, h), b1, W2 (S, h, 10), b2]``: one ``d-h-10`` ReLU net per seed, trained at once.

    Each seed's network is built by the package's :func:`mlp` from that seed, which then draws the batch
    order; SGD with momentum 0.9 (``b ← 0.9 b + g``, ``θ ← θ − lr b``) on the smoothed cross-entropy, whose
    gradient with respect to the logits is ``(softmax(z) − q) / B``.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    hidden, epochs = check_positive_int(hidden, "hidden"), check_positive_int(epochs, "epochs")
    lr = check_positive(lr, "lr")
    rngs = [as_rng(int(s)) for s in seeds]
    nets = [mlp((X.shape[1], hidden, 10), rng=r) for r in rngs]
    params = [np.stack([m.parameters()[k].value for m in nets]) for k in range(4)]
    buffers = [np.zeros_like(p) for p in params]
    targets = smoothed_targets(y, 10, eps)
    for _ in range(epochs):
        batches = [batch_indices(len(X), batch_size, rng=r) for r in rngs]
        for k in range(len(batches[0])):
            idx = np.stack([b[k] for b in batches])                     # (S, B)
            W1, b1, W2, b2 = params
            xb = X[idx]
            h = np.maximum(xb @ W1 + b1[:, None], 0.0)
            grad = (F.softmax(h @ W2 + b2[:, None], axis=2) - targets[idx]) / idx.shape[1]
            dh = grad @ W2.transpose(0, 2, 1) * (h > 0)
            grads = [xb.transpose(0, 2, 1) @ dh, dh.sum(1), h.transpose(0, 2, 1) @ grad, grad.sum(1)]
            for p, g, b in zip(params, grads, buffers, strict=True):
                b *= 0.9
                b += g
                p -= lr * b
    return params


def _probabilities(params, X) -> np.ndarray:
    W1, b1, W2, b2 = params
    return F.softmax(np.maximum(X @ W1 + b1[:, None], 0.0) @ W2 + b2[:, None], axis=2)


@dataclass(frozen=True)
class SmoothingStudy:
    """Per seed ``(S,)`` for ε = 0 (``hard_*``) and ε = ``eps`` (``smooth_*``): test accuracy, ECE, mean confidence."""

    eps: float
    hard_accuracy: np.ndarray
    smooth_accuracy: np.ndarray
    hard_ece: np.ndarray
    smooth_ece: np.ndarray
    hard_confidence: np.ndarray
    smooth_confidence: np.ndarray


@functools.lru_cache(maxsize=8)
def smoothing_study(eps: float = 0.1, seeds: tuple = tuple(range(20)), hidden: int = 32,
                    epochs: int = 40) -> SmoothingStudy:
    """Digits (988 train, 450 test): the same seeds trained with hard labels and with smoothing ``eps``."""
    ds = digits()
    out = {}
    for name, e in (("hard", 0.0), ("smooth", eps)):
        probs = _probabilities(train_smoothed_mlps(ds.X_train, ds.y_train, e, tuple(seeds), hidden, epochs),
                               ds.X_test)
        out[f"{name}_accuracy"] = (probs.argmax(axis=2) == ds.y_test).mean(axis=1)
        out[f"{name}_ece"] = np.array([expected_calibration_error(p, ds.y_test) for p in probs])
        out[f"{name}_confidence"] = probs.max(axis=2).mean(axis=1)
    for v in out.values():
        v.flags.writeable = False
    return SmoothingStudy(eps=float(eps), **out)
