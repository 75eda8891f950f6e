"""The implicit bias of gradient descent: on an under-determined least-squares problem it picks the
minimum-norm interpolant, but only when it starts at zero.

With more weights than examples (d > n), ``X w = y`` has infinitely many solutions. Every gradient
``Xᵀ(X w − y)`` lies in the row space of X, so GD never changes the component of w in the null space:
from ``w₀ = 0`` it ends at the one solution with no null-space part, the minimum-norm solution
``X⁺ y`` (the pseudo-inverse); from ``w₀ ≠ 0`` it ends at ``X⁺ y + (I − X⁺X) w₀`` instead.
(Gunasekar et al. 2018, "Characterizing implicit bias in terms of optimization geometry".)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.validate import as_rng, check_positive_int

__all__ = ["ImplicitBiasRun", "underdetermined_gd"]


@dataclass(frozen=True)
class ImplicitBiasRun:
    """One GD run: final ``w`` (d,), the ``pinv`` solution (d,), ``residual`` ‖Xw − y‖, ``distance`` to pinv,
    ``null_part`` ‖(I − X⁺X) w₀‖ of the start, and the norms of both solutions."""

    w: np.ndarray
    pinv: np.ndarray
    residual: float
    distance: float
    null_part: float

    @property
    def norm_ratio(self) -> float:
        """‖w_GD‖ / ‖X⁺y‖ (1 for the minimum-norm solution, > 1 for any other interpolant)."""
        return float(np.linalg.norm(self.w) / np.linalg.norm(self.pinv))


def underdetermined_gd(n: int = 20, d: int = 50, steps: int = 3000, start_scale: float = 0.0,
                       rng=None) -> ImplicitBiasRun:
    """GD with rate 1/L on ``½‖X w − y‖²/n`` with Gaussian ``X (n, d)``, ``y (n,)``, ``d > n``.

    ``start_scale``: w₀ = 0 (0.0) or w₀ ~ start_scale · N(0, I). L = λmax(XᵀX/n). The pinv solution is
    computed separately by ``np.linalg.pinv`` for comparison only.
    """
    n, d, steps = check_positive_int(n, "n"), check_positive_int(d, "d"), check_positive_int(steps, "steps")
    if d <= n:
        raise ValueError(f"d: expected more weights than examples (d > n = {n}), got {d}")
    rng = as_rng(rng)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    w0 = float(start_scale) * rng.standard_normal(d)
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X / n)[-1]
    w = w0.copy()
    for _ in range(steps):
        w -= lr * X.T @ (X @ w - y) / n
    w_pinv = np.linalg.pinv(X) @ y
    null_part = w0 - np.linalg.pinv(X) @ (X @ w0)
    return ImplicitBiasRun(w, w_pinv, float(np.linalg.norm(X @ w - y)), float(np.linalg.norm(w - w_pinv)),
                           float(np.linalg.norm(null_part)))
