"""REG-03: L1 vs L2. The soft threshold (L1's proximal step) makes exact zeros; L2 and subgradients do not.

Also the two-weight picture (diamond vs disc) and REG-03b: robustness to outliers belongs to the L1
*loss*, not to an L1 *penalty*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.experiments.regularization.shared import one_blas_thread
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int, check_same_length

__all__ = ["soft_threshold", "one_dim_l1", "one_dim_l2", "sparse_regression", "lasso_ista", "ridge",
           "l1_subgradient", "zero_fraction", "RegPaths", "regularization_paths", "ConstraintGeometry",
           "constraint_geometry", "OutlierFits", "outlier_fits", "lad_line"]


def soft_threshold(w, threshold):
    """The proximal operator of ``t‖w‖₁``: ``sign(w) · max(|w| − t, 0)`` (elementwise).

    Every entry with ``|w| ≤ t`` lands exactly on 0; the others move ``t`` towards 0.
    """
    threshold = np.asarray(threshold, dtype=float)
    if np.any(threshold < 0):
        raise ValueError(f"threshold: expected values >= 0, got {threshold}")
    w = np.asarray(w, dtype=float)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def one_dim_l1(a, lam):
    """``argmin_w ½(w − a)² + λ|w|`` = ``soft_threshold(a, λ)``: exactly 0 whenever ``|a| ≤ λ``."""
    return soft_threshold(a, check_positive(lam, "lam", allow_zero=True))


def one_dim_l2(a, lam):
    """``argmin_w ½(w − a)² + (λ/2)w²`` = ``a / (1 + λ)``: shrunk, zero only if ``a = 0``."""
    return np.asarray(a, dtype=float) / (1.0 + check_positive(lam, "lam", allow_zero=True))


def sparse_regression(n=60, d=12, informative=3, noise=0.5, rng=0):
    """``y = X w* + ε`` with only ``informative`` non-zero entries of ``w*`` (the first ones).

    ``X ~ N(0, I)``, non-zero weights ``±(1 … 2)``, ``ε ~ N(0, noise²)``. Returns
    ``X (n, d)``, ``y (n,)``, ``w_true (d,)``.
    """
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    informative = check_positive_int(informative, "informative")
    if informative > d:
        raise ValueError(f"informative: expected at most d={d}, got {informative}")
    rng = as_rng(rng)
    w_true = np.zeros(d)
    w_true[:informative] = rng.choice([-1.0, 1.0], informative) * rng.uniform(1.0, 2.0, informative)
    X = rng.standard_normal((n, d))
    y = X @ w_true + check_positive(noise, "noise", allow_zero=True) * rng.standard_normal(n)
    return X, y, w_true


def _least_squares_parts(X, y):
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    check_same_length(X, y, "X", "y")
    n = len(X)
    H = X.T @ X / n
    return X, y, H, X.T @ y / n, float(np.linalg.eigvalsh(H)[-1])


def _strengths(lams):
    lams_arr = np.atleast_1d(np.asarray(lams, dtype=float))
    if np.any(lams_arr < 0):
        raise ValueError(f"lams: expected values >= 0, got {lams}")
    return lams_arr


def lasso_ista(X, y, lams, steps=3000):
    """Minimize ``(1/2N)‖Xw − y‖² + λ‖w‖₁`` by ISTA, for every λ in ``lams`` at once.

    ISTA (proximal gradient; Daubechies et al., 2004; Beck & Teboulle, 2009) takes a
    gradient step on the smooth part with step ``1/L`` (``L`` the largest eigenvalue
    of ``XᵀX/N``), then applies :func:`soft_threshold` with ``λ/L``. The threshold
    sets small coordinates to exactly 0.0, which a (sub)gradient step never does.

    ``lams`` scalar or ``(K,)``; returns ``W (K, d)`` (or ``(d,)`` for a scalar).
    """
    X, y, H, Xty, L_max = _least_squares_parts(X, y)
    lams_arr = _strengths(lams)
    step = 1.0 / L_max
    W = np.zeros((len(lams_arr), X.shape[1]))
    for _ in range(check_positive_int(steps, "steps")):
        W = soft_threshold(W - step * (W @ H - Xty), step * lams_arr[:, None])
    return W[0] if np.ndim(lams) == 0 else W


def ridge(X, y, lams):
    """Minimize ``(1/2N)‖Xw − y‖² + (λ/2)‖w‖²``: the linear system ``(XᵀX/N + λI) w = Xᵀy/N``.

    ``lams`` scalar or ``(K,)``; returns ``W (K, d)`` (or ``(d,)``).
    """
    X, y, H, Xty, _ = _least_squares_parts(X, y)
    W = np.array([np.linalg.solve(H + lam * np.eye(len(H)), Xty) for lam in _strengths(lams)])
    return W[0] if np.ndim(lams) == 0 else W


def l1_subgradient(X, y, lam, steps=3000, lr=None):
    """Plain subgradient descent on ``(1/2N)‖Xw − y‖² + λ‖w‖₁`` (step ``lr``, default ``1/L``).

    The step ``−lr·λ·sign(w)`` overshoots zero, so coordinates that should be zero
    flip sign and jitter in ``[−lr·λ, lr·λ]`` instead of landing on 0.0.
    Returns ``w (d,)``.
    """
    X, y, H, Xty, L_max = _least_squares_parts(X, y)
    lam = check_positive(lam, "lam", allow_zero=True)
    lr = 1.0 / L_max if lr is None else check_positive(lr, "lr")
    w = np.zeros(X.shape[1])
    for _ in range(check_positive_int(steps, "steps")):
        w = w - lr * (H @ w - Xty + lam * np.sign(w))
    return w


def zero_fraction(w) -> float:
    """Share of entries that are exactly 0.0 (not merely small)."""
    w = np.asarray(w)
    return float(np.mean(w == 0.0)) if w.size else 0.0


@dataclass(frozen=True)
class RegPaths:
    """Coefficients along a path of strengths: ``lams (K,)``, ``l1 (K, d)`` (ISTA), ``l2 (K, d)`` (ridge)."""

    lams: np.ndarray
    l1: np.ndarray
    l2: np.ndarray
    w_true: np.ndarray

    @property
    def l1_zero_fraction(self) -> np.ndarray:
        return np.mean(self.l1 == 0.0, axis=1)

    @property
    def l2_zero_fraction(self) -> np.ndarray:
        return np.mean(self.l2 == 0.0, axis=1)


@stored
def regularization_paths(X, y, w_true=None, num=30, steps=3000) -> RegPaths:
    """L1 and L2 solutions for ``num`` strengths log-spaced up to ``λ_max = ‖Xᵀy/N‖_∞``.

    ``λ_max`` is the smallest λ for which the lasso solution is all zeros (the
    subgradient condition at w = 0).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    lam_max = float(np.max(np.abs(X.T @ y / len(X))))
    lams = np.geomspace(lam_max * 1e-3, lam_max * 1.05, check_positive_int(num, "num"))
    w_true = np.zeros(X.shape[1]) if w_true is None else np.asarray(w_true, dtype=float)
    return RegPaths(lams, lasso_ista(X, y, lams, steps), ridge(X, y, lams), w_true)


@dataclass(frozen=True)
class ConstraintGeometry:
    """The two-weight picture of L1 vs L2 for ``f(w) = ½(w − w*)ᵀH(w − w*)``.

    ``w_l1`` minimizes ``f + λ‖w‖₁`` (ISTA), ``w_l2`` minimizes ``f + (λ/2)‖w‖²``; as
    constrained problems they are the points of the diamond ``‖w‖₁ ≤ ‖w_l1‖₁`` and of
    the disc ``‖w‖₂ ≤ ‖w_l2‖₂`` with the lowest loss.
    """

    H: np.ndarray
    w_star: np.ndarray
    w_l1: np.ndarray
    w_l2: np.ndarray
    lam: float

    def loss(self, w):
        """``f`` at points ``w (..., 2)``."""
        d = np.asarray(w, dtype=float) - self.w_star
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d)


def constraint_geometry(lam=0.8, w_star=(1.5, 0.6), H=((1.0, -0.3), (-0.3, 1.5)),
                        steps=2000) -> ConstraintGeometry:
    """Solve the 2-D L1 and L2 problems of :class:`ConstraintGeometry` (the L1 one lands on an axis)."""
    H, w_star = np.array(H, dtype=float), np.array(w_star, dtype=float)
    lam = check_positive(lam, "lam")
    step = 1.0 / np.linalg.eigvalsh(H)[-1]
    w = np.zeros(2)
    for _ in range(check_positive_int(steps, "steps")):
        w = soft_threshold(w - step * H @ (w - w_star), step * lam)
    w_l2 = np.linalg.solve(H + lam * np.eye(2), H @ w_star)
    return ConstraintGeometry(H, w_star, w, w_l2, lam)


# ---------------------------------------------------------------- REG-03b: outliers

@dataclass(frozen=True)
class OutlierFits:
    """Straight-line fits ``y = a x + b`` to the same data, clean and with one outlier.

    ``fits[name] = (slope, intercept)`` for "MSE, clean data", "MSE", "MSE + L1 penalty",
    "L1 loss"; ``x, y`` the data with the outlier at index ``outlier``; ``true`` the
    line that generated them.
    """

    x: np.ndarray
    y: np.ndarray
    outlier: int
    true: tuple
    fits: dict
    penalty: float


def _mse_line(x, y):
    A = np.column_stack([x, np.ones_like(x)])
    slope, intercept = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(slope), float(intercept)


def _mse_l1_line(x, y, lam, steps=20000):
    """Slope penalized by ``λ|a|``, intercept free: ISTA on ``(1/2N)‖a x + b − y‖² + λ|a|``."""
    A = np.column_stack([x, np.ones_like(x)])
    H, Aty = A.T @ A / len(x), A.T @ y / len(x)
    step = 1.0 / np.linalg.eigvalsh(H)[-1]
    w = np.zeros(2)
    for _ in range(steps):
        w = w - step * (H @ w - Aty)
        w[0] = soft_threshold(w[0], step * lam)
    return float(w[0]), float(w[1])


@one_blas_thread
def lad_line(x, y, steps=4000, lr=0.05, rng=0):
    """Least absolute deviations: a ``Linear(1, 1)`` trained on :class:`gdcourse.losses.L1Loss`.

    Full-batch gradient descent with a step ``lr/√(1 + t/100)`` (subgradient
    descent needs a decaying step to settle). Returns ``(slope, intercept)``.
    """
    x = check_array(x, "x", ndim=1, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    check_same_length(x, y, "x", "y")
    model = nn.Linear(1, 1, init="zeros", rng=rng)
    loss, opt = L.L1Loss(), optim.SGD(model.parameters(), lr=lr)
    X, Y = x[:, None], y[:, None]
    for t in range(check_positive_int(steps, "steps")):
        opt.lr = lr / math.sqrt(1.0 + t / 100.0)
        opt.zero_grad()
        loss.forward(model.forward(X), Y)
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    return float(model.weight.value[0, 0]), float(model.bias.value[0])


@stored
def outlier_fits(n=20, outlier_shift=12.0, penalty=0.05, rng=0) -> OutlierFits:
    """REG-03b: one outlier drags the MSE line and the MSE + L1-penalty line, not the L1-loss line.

    Data ``y = 2x + 1 + N(0, 0.2²)`` on ``x ∈ [0, 1]``; the point with the largest x
    gets ``+outlier_shift``.
    """
    rng = as_rng(rng)
    n = check_positive_int(n, "n")
    x = np.sort(rng.uniform(0, 1, n))
    clean = 2.0 * x + 1.0 + 0.2 * rng.standard_normal(n)
    y = clean.copy()
    y[-1] += check_positive(outlier_shift, "outlier_shift")
    fits = {
        "MSE, clean data": _mse_line(x, clean),
        "MSE": _mse_line(x, y),
        "MSE + L1 penalty": _mse_l1_line(x, y, check_positive(penalty, "penalty")),
        "L1 loss": lad_line(x, y),
    }
    return OutlierFits(x, y, n - 1, (2.0, 1.0), fits, penalty)
