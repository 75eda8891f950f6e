"""Quasi-Newton per-step cost: the dense BFGS inverse update and L-BFGS's two-loop recursion.

BFGS keeps a dense d×d inverse-Hessian estimate H and updates it with each step ``s = w₊ − w`` and
gradient change ``y = g₊ − g`` (ρ = 1/yᵀs), a rank-2 correction costing O(d²) time and memory:

    H₊ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ.

L-BFGS never forms H: it keeps the last m pairs and applies the same product to a vector by the
two-loop recursion (Nocedal 1980; Nocedal & Wright, *Numerical Optimization*, Algorithm 7.4) in O(m d).
With m ≥ the number of pairs, and the same initial H₀ = γI, both give the same direction.
"""

from __future__ import annotations

import numpy as np

from gdcourse.validate import check_positive

__all__ = ["bfgs_inverse_update", "lbfgs_two_loop", "quasi_newton_costs"]


def bfgs_inverse_update(H, s, y) -> np.ndarray:
    """One BFGS update of the inverse-Hessian estimate ``H (d, d)`` from ``s, y (d,)``; needs ``yᵀs > 0``."""
    H, s, y = (np.asarray(a, dtype=np.float64) for a in (H, s, y))
    sy = float(s @ y)
    if sy <= 0:
        raise ValueError(f"s, y: expected the curvature condition yᵀs > 0, got {sy}")
    rho = 1.0 / sy
    left = np.eye(len(s)) - rho * np.outer(s, y)
    return left @ H @ left.T + rho * np.outer(s, s)


def lbfgs_two_loop(g, s_list, y_list, gamma=None) -> np.ndarray:
    """``H g`` for the L-BFGS inverse-Hessian estimate built from the pairs ``(s_i, y_i)``, oldest first.

    ``gamma``: the initial ``H₀ = γ I``; default ``sᵀy / yᵀy`` of the newest pair (Nocedal & Wright
    eq. 7.20), 1 when there are no pairs. Cost: 4·m·d multiply-adds plus d, memory 2·m·d. The search
    direction is ``−lbfgs_two_loop(g, …)``.
    """
    q = np.array(g, dtype=np.float64)
    if len(s_list) != len(y_list):
        raise ValueError(f"s_list, y_list: expected equal lengths, got {len(s_list)} and {len(y_list)}")
    rhos = [1.0 / float(np.dot(s, y)) for s, y in zip(s_list, y_list, strict=True)]
    alphas = []
    for s, y, rho in reversed(list(zip(s_list, y_list, rhos, strict=True))):     # newest pair first
        alpha = rho * float(s @ q)
        q -= alpha * np.asarray(y)
        alphas.append(alpha)
    if gamma is None:
        gamma = (float(np.dot(s_list[-1], y_list[-1]) / np.dot(y_list[-1], y_list[-1]))
                 if s_list else 1.0)
    r = check_positive(gamma, "gamma") * q
    for s, y, rho, alpha in zip(s_list, y_list, rhos, reversed(alphas), strict=True):   # oldest first
        beta = rho * float(np.dot(y, r))
        r += (alpha - beta) * np.asarray(s)
    return r


def quasi_newton_costs(d: int, m: int) -> dict:
    """Leading per-step costs (multiply-adds, floats stored) of Newton, BFGS and L-BFGS in ``d`` dimensions."""
    return {"Newton": {"time": d ** 3 / 3 + d ** 2, "memory": d ** 2},
            "BFGS": {"time": 3 * d ** 2, "memory": d ** 2},
            "L-BFGS": {"time": 4 * m * d, "memory": 2 * m * d}}
