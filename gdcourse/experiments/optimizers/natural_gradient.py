"""The natural gradient, the Fisher matrix, and Adam's v as a diagonal *empirical* Fisher.

For a model p(y | x, w) the Fisher matrix ``F = E_x E_{y~p(·|x,w)}[∇log p ∇log pᵀ]`` measures how much
the predicted distribution changes (KL divergence) per step; the natural gradient ``F⁻¹∇L`` is steepest
descent in that geometry (Amari 1998), invariant to how the weights are parameterized. For logistic
regression ``F = mean(p(1 − p) x xᵀ)``, which is also its Hessian, so a natural-gradient step is a Newton
step. K-FAC (Martens & Grosse 2015) makes F affordable in a network by approximating each layer's block
as a Kronecker product ``E[a aᵀ] ⊗ E[δ δᵀ]`` of input-activation and output-gradient covariances.

The *empirical* Fisher uses the observed labels instead of sampling y: ``mean(g_i g_iᵀ)`` with per-example
gradients ``g_i``. Adam's second moment v is a running average of squared mini-batch gradients: with batch
size 1 it tracks the diagonal of the empirical Fisher, with batch size B it tracks ``E[g_B²]`` ≈ ĝ² +
Var/B instead; and Adam divides by ``√v``, not by v: it is not a natural-gradient step.
"""

from __future__ import annotations

import numpy as np

from gdcourse.functional import sigmoid
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["logistic_problem", "logistic_loss", "logistic_gradient", "per_example_gradients", "fisher",
           "empirical_fisher_diagonal", "adam_second_moment", "steps_to_loss"]


def logistic_problem(n: int = 500, scales=(1.0, 10.0), rng=0):
    """``(X (n, d), y (n,) in {0, 1})``: features with the given scales, labels from a noisy linear rule."""
    rng = as_rng(rng)
    scales = np.asarray(scales, dtype=np.float64)
    X = rng.standard_normal((check_positive_int(n, "n"), len(scales))) * scales
    logits = X @ (np.ones(len(scales)) / scales)
    return X, (rng.random(n) < sigmoid(logits)).astype(np.float64)


def logistic_loss(w, X, y) -> float:
    """Mean cross-entropy of ``sigmoid(X w)`` against ``y``."""
    z = X @ w
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def logistic_gradient(w, X, y) -> np.ndarray:
    """``(d,)``: mean of ``(σ(xᵀw) − y) x``."""
    return X.T @ (sigmoid(X @ w) - y) / len(y)


def per_example_gradients(w, X, y) -> np.ndarray:
    """``(n, d)``: row i is ``(σ(x_iᵀw) − y_i) x_i``."""
    return (sigmoid(X @ w) - y)[:, None] * X


def fisher(w, X) -> np.ndarray:
    """``(d, d)`` Fisher matrix of logistic regression: ``mean(p(1 − p) x xᵀ)`` (labels sampled from the model)."""
    p = sigmoid(X @ w)
    return (X * (p * (1 - p))[:, None]).T @ X / len(X)


def empirical_fisher_diagonal(w, X, y) -> np.ndarray:
    """``(d,)`` diagonal of the empirical Fisher ``mean(g_i g_iᵀ)`` (observed labels)."""
    return np.mean(per_example_gradients(w, X, y) ** 2, axis=0)


def adam_second_moment(w, X, y, batch_size: int, steps: int = 5000, beta2: float = 0.999, rng=None):
    """Adam's bias-corrected v after ``steps`` mini-batches at a *fixed* ``w`` (the weights do not move,
    so v is a pure average of ``g_B²``): ``(d,)``."""
    rng, batch_size = as_rng(rng), check_positive_int(batch_size, "batch_size")
    steps = check_positive_int(steps, "steps")
    G = per_example_gradients(w, X, y)
    v = np.zeros(X.shape[1])
    for _ in range(steps):
        g = G[rng.choice(len(y), batch_size, replace=False)].mean(axis=0)
        v = beta2 * v + (1 - beta2) * g * g
    return v / (1 - beta2 ** steps)


def steps_to_loss(step, w0, X, y, target: float, max_steps: int = 2000) -> int:
    """Steps of ``w ← step(w)`` until ``logistic_loss ≤ target`` (``max_steps + 1`` if never, or diverged)."""
    check_positive(max_steps, "max_steps")
    w = np.asarray(w0, dtype=np.float64)
    for t in range(max_steps + 1):
        loss = logistic_loss(w, X, y)
        if loss <= target:
            return t
        if not np.isfinite(loss):
            break
        w = step(w)
    return max_steps + 1
