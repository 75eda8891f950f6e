"""REG-01c: double descent with minimum-norm least squares on random features.

The classical U-curve (REG-01) is only the left half. Fit ``y ≈ φ(x)ᵀ w`` with ``p`` random ReLU features
``φ(x) = relu(Vᵀ x)/√p`` (``V (d, p)`` Gaussian, fixed) on ``n`` points by the minimum-norm least-squares
solution ``w = Φ⁺ y`` (what gradient descent from zero converges to, GD-07b). Below ``p = n`` it is ordinary
least squares; at ``p = n`` the system is square and barely invertible, its smallest singular value near 0, so
``‖w‖`` and the test error blow up (the interpolation threshold); past it many ``w`` interpolate and the
minimum-norm one gets smaller as ``p`` grows, and the test error descends a second time (Belkin et al. 2019,
Nakkiran et al. 2021; for random features Mei & Montanari 2022). A well-tuned ridge penalty removes the peak.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["random_feature_problem", "random_features", "min_norm_fit", "DoubleDescent", "double_descent"]


def random_feature_problem(n: int = 40, d: int = 10, noise: float = 0.5, n_test: int = 1000, rng=0):
    """``X (n, d), y (n,), X_test (n_test, d), y_test (n_test,)``: Gaussian inputs, ``y = xᵀβ/√d + noise``,
    ``β ~ N(0, I)`` drawn from ``rng``; the test targets are noisy too."""
    rng = as_rng(rng)
    n, d, n_test = check_positive_int(n, "n"), check_positive_int(d, "d"), check_positive_int(n_test, "n_test")
    beta = rng.standard_normal(d)
    X, X_test = rng.standard_normal((n, d)), rng.standard_normal((n_test, d))
    noise = check_positive(noise, "noise", allow_zero=True)
    y = X @ beta / np.sqrt(d) + noise * rng.standard_normal(n)
    y_test = X_test @ beta / np.sqrt(d) + noise * rng.standard_normal(n_test)
    return X, y, X_test, y_test


def random_features(X, V) -> np.ndarray:
    """``relu(X V)/√p`` for ``X (N, d)``, ``V (d, p)``: ``(N, p)``."""
    return np.maximum(X @ V, 0.0) / np.sqrt(V.shape[1])


def min_norm_fit(Phi, y, ridge: float = 0.0) -> np.ndarray:
    """``Φ⁺ y`` (``ridge = 0``: the minimum-norm least-squares solution) or ``(ΦᵀΦ + λI)⁻¹ Φᵀ y``."""
    if ridge == 0.0:
        return np.linalg.pinv(Phi, rcond=1e-12) @ y
    ridge = check_positive(ridge, "ridge")
    n, p = Phi.shape
    if p > n:                                            # the same solution through the n × n system
        return Phi.T @ np.linalg.solve(Phi @ Phi.T + ridge * np.eye(n), y)
    return np.linalg.solve(Phi.T @ Phi + ridge * np.eye(p), Phi.T @ y)


@dataclass(frozen=True)
class DoubleDescent:
    """``features (P,)`` and, per seed and feature count ``(S, P)``: ``test_mse``, ``train_mse``, ``weight_norm``
    of the minimum-norm fit and ``ridge_test_mse`` of the ridge fit with penalty ``ridge``; ``n`` training points."""

    n: int
    ridge: float
    features: np.ndarray
    test_mse: np.ndarray
    train_mse: np.ndarray
    weight_norm: np.ndarray
    ridge_test_mse: np.ndarray


@functools.lru_cache(maxsize=4)
@stored
def double_descent(seeds: tuple = tuple(range(20)), n: int = 40, d: int = 10, features: tuple | None = None,
                   ridge: float = 0.05) -> DoubleDescent:
    """Test error of min-norm random-feature regression against the number of features, one problem per seed.

    Each seed draws its own data (:func:`random_feature_problem`) and one ``V (d, max p)`` whose first ``p``
    columns give the ``p``-feature model, so the models of a seed are nested.
    """
    n = check_positive_int(n, "n")
    features = tuple(features) if features is not None else tuple(sorted({*range(4, 2 * n, 4), n - 2, n, n + 2,
                                                                           *range(2 * n, 10 * n + 1, 20)}))
    out = {k: np.empty((len(seeds), len(features))) for k in ("test", "train", "norm", "ridge")}
    for s, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        X, y, X_test, y_test = random_feature_problem(n, d, rng=rng)
        V = rng.standard_normal((d, max(features)))
        for k, p in enumerate(features):
            Phi, Phi_test = random_features(X, V[:, :p]), random_features(X_test, V[:, :p])
            w = min_norm_fit(Phi, y)
            out["test"][s, k] = np.mean((Phi_test @ w - y_test) ** 2)
            out["train"][s, k] = np.mean((Phi @ w - y) ** 2)
            out["norm"][s, k] = np.linalg.norm(w)
            out["ridge"][s, k] = np.mean((Phi_test @ min_norm_fit(Phi, y, ridge) - y_test) ** 2)
    arrays = {"features": np.array(features), "test_mse": out["test"], "train_mse": out["train"],
              "weight_norm": out["norm"], "ridge_test_mse": out["ridge"]}
    for a in arrays.values():
        a.flags.writeable = False
    return DoubleDescent(n=n, ridge=float(ridge), **arrays)
