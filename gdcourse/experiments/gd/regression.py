"""Linear regression by gradient descent: the MSE, its gradient and curvature, the normal equations, costs.

``J(w) = (1/n) Σᵢ (xᵢ·w − yᵢ)²`` for ``X (n, d)``, ``y (n,)``, ``w (d,)`` (a bias is a column of ones).
"""

from __future__ import annotations

import numpy as np

from gdcourse.experiments.gd.descent import check_lr, gd_path
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = ["mse", "mse_gradient", "mse_smoothness", "least_squares", "linear_regression_gd", "steps_to_reach",
           "direct_solve_flops", "gd_step_flops", "SEPARABLE_X", "separable_logistic_gradient"]

SEPARABLE_X = np.array([-2.0, -1.0, 1.0, 2.0])
"""Four 1-D inputs with labels ``sign(x)``: linearly separable, so the logistic loss has no minimizer."""


def check_regression(w, X, y):
    X = check_array(X, "X", ndim=2, float_only=False, finite=True).astype(np.float64)
    y = check_array(y, "y", ndim=1, float_only=False, finite=True).astype(np.float64)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y: expected the same number (>= 1) of samples, got {len(X)} and {len(y)}")
    if w is not None:
        w = check_array(w, "w", ndim=1, float_only=False, finite=True).astype(np.float64)
        if w.shape != (X.shape[1],):
            raise ValueError(f"w: expected shape ({X.shape[1]},) to match X {X.shape}, got {w.shape}")
    return w, X, y


def mse(w, X, y) -> float:
    """``J(w) = (1/n) Σᵢ (xᵢ·w − yᵢ)²`` for ``X (n, d)``, ``y (n,)``, ``w (d,)`` (bias: a column of ones)."""
    w, X, y = check_regression(w, X, y)
    r = X @ w - y
    return float(r @ r) / len(y)


def mse_gradient(w, X, y) -> np.ndarray:
    """``∇J(w) = (2/n) Xᵀ(Xw − y)``, shape ``(d,)``: residuals weighted by their inputs, averaged, × 2."""
    w, X, y = check_regression(w, X, y)
    return (2.0 / len(y)) * (X.T @ (X @ w - y))


def mse_smoothness(X) -> float:
    """``L = λ_max((2/n) XᵀX) = 2 σ_max(X)² / n``: the largest curvature of the MSE of a linear model."""
    _, X, _ = check_regression(None, X, np.zeros(len(np.asarray(X))))
    return 2.0 * float(np.linalg.norm(X, 2)) ** 2 / len(X)


def least_squares(X, y) -> np.ndarray:
    """The minimizer of the MSE, the solution of the normal equations ``XᵀX w = Xᵀy``, shape ``(d,)``.

    Solved with ``np.linalg.lstsq`` (SVD), which is accurate when ``XᵀX`` is
    ill-conditioned and also handles rank-deficient X (minimum-norm solution);
    never form ``inv(XᵀX)``.
    """
    _, X, y = check_regression(None, X, y)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def linear_regression_gd(X, y, steps, lr=None, w0=None):
    """Full-batch gradient descent on the MSE of a linear model.

    Returns ``(W, losses, lr)``: ``W (steps + 1, d)`` the iterates from ``w0``
    (zeros by default), ``losses (steps + 1,)`` ``J(W[t])`` and the rate used,
    ``1 / L`` (:func:`mse_smoothness`) unless given.
    """
    _, X, y = check_regression(None, X, y)
    lr = 1.0 / mse_smoothness(X) if lr is None else check_lr(lr)
    w0 = np.zeros(X.shape[1]) if w0 is None else check_regression(w0, X, y)[0]
    W = gd_path(lambda w: (2.0 / len(y)) * (X.T @ (X @ w - y)), w0, lr, steps)
    residuals = W @ X.T - y  # (k + 1, n)
    return W, np.mean(residuals * residuals, axis=1), lr


def separable_logistic_gradient(w) -> np.ndarray:
    """``∇J(w)`` for ``J(w) = mean log(1 + exp(−yᵢ xᵢ w))`` on :data:`SEPARABLE_X`, ``yᵢ = sign(xᵢ)``; shape (1,).

    Every margin ``yᵢxᵢw`` is positive for ``w > 0`` and grows with w, so ``J`` keeps falling towards
    its infimum 0 and ``J'(w) = −mean(|xᵢ| σ(−|xᵢ|w)) < 0`` everywhere: no stationary point. Gradient
    descent drives ``|∇J| → 0`` while ``w`` grows like ``log t`` (Soudry et al., 2018), a run whose
    gradient vanishes without approaching any stationary point.
    """
    w = check_array(w, "w", ndim=1, float_only=False, finite=True).astype(np.float64)
    if w.shape != (1,):
        raise ValueError(f"w: expected shape (1,), got {w.shape}")
    margins = np.abs(SEPARABLE_X) * w[0]                 # yᵢ xᵢ w, with yᵢ = sign(xᵢ)
    return np.array([-np.mean(np.abs(SEPARABLE_X) / (1.0 + np.exp(margins)))])


def steps_to_reach(gaps, rel_tol):
    """The first step t with ``gaps[t] <= rel_tol · gaps[0]`` (gaps: ``f(x_t) − f*``), or None if never."""
    gaps = check_array(gaps, "gaps", ndim=1, float_only=False)
    rel_tol = check_positive(rel_tol, "rel_tol")
    hit = np.nonzero(gaps <= rel_tol * gaps[0])[0]
    return int(hit[0]) if hit.size else None


def direct_solve_flops(n, d) -> float:
    """Leading floating-point operations of the normal equations: ``2nd²`` for XᵀX, ``d³/3`` for Cholesky."""
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    return 2.0 * n * d * d + d**3 / 3.0


def gd_step_flops(n, d) -> float:
    """Leading floating-point operations of one full-batch GD step: ``4nd`` (the products Xw and Xᵀr)."""
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    return 4.0 * n * d
