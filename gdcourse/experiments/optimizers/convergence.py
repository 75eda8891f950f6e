"""How fast momentum converges on a quadratic (Polyak, 1964; Goh, "Why Momentum Really Works", Distill 2017):
the rate of a setting, the rate map over (learning rate, momentum), the optimum and the stability limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes, optim
from gdcourse.validate import check_array, check_positive, check_positive_int, check_unit_interval

__all__ = ["momentum_rate", "rate_map", "optimal_momentum", "heavy_ball_lr_limit", "nesterov_lr_limit",
           "best_rate_for_momentum", "steps_to_reduce", "RateMapData", "rate_map_data"]


def momentum_rate(alpha, beta, eigenvalues, nesterov=False) -> np.ndarray:
    """The convergence rate of momentum on a quadratic: ``max_λ ρ(T_λ)``.

    On ``f(x) = ½ xᵀAx`` heavy-ball momentum (PyTorch's SGD with lr α and
    momentum β) acts on each eigen-direction of A (eigenvalue λ) as
    ``(x_{k+1}, x_k) = T_λ (x_k, x_{k-1})`` with::

        heavy ball:  T_λ = [[1 + β − αλ, −β], [1, 0]]
        Nesterov:    T_λ = [[(1 + β)(1 − αλ), −β(1 − αλ)], [1, 0]]

    The error shrinks like ``ρ^k`` where ρ is the largest spectral radius over the
    eigenvalues (Polyak, 1964; Goh, 2017). The eigenvalues of the 2 × 2 matrix are
    the roots of ``z² − tr z + det``, computed exactly (complex square root).
    ρ ≥ 1 means the run does not converge.

    Parameters
    ----------
    alpha, beta : float or arrays that broadcast together, shape (...)
    eigenvalues : array-like (k,) of positive curvatures
    nesterov : bool

    Returns
    -------
    ndarray (...) of rates ρ.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    lam = check_array(eigenvalues, "eigenvalues", ndim=1, float_only=False, finite=True).astype(np.float64)
    if (lam <= 0).any():
        raise ValueError(f"eigenvalues: expected positive curvatures, got {lam}")
    if (alpha < 0).any() or not np.isfinite(alpha).all():
        raise ValueError("alpha: expected finite learning rates >= 0")
    if (beta < 0).any() or (beta >= 1).any():
        raise ValueError("beta: expected momentum values in [0, 1)")
    a, b = alpha[..., None], beta[..., None]
    if nesterov:
        shrink = 1.0 - a * lam
        trace, det = (1.0 + b) * shrink, b * shrink
    else:
        trace, det = 1.0 + b - a * lam, b + 0.0 * lam
    root = np.sqrt((trace * trace - 4.0 * det).astype(np.complex128))
    radius = np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2.0
    return radius.max(axis=-1)


def rate_map(eigenvalues, alphas, betas, nesterov=False) -> np.ndarray:
    """:func:`momentum_rate` on the grid ``alphas (n,) × betas (m,)``; returns shape ``(m, n)`` (rows = β)."""
    alphas = check_array(alphas, "alphas", ndim=1, float_only=False)
    betas = check_array(betas, "betas", ndim=1, float_only=False)
    return momentum_rate(alphas[None, :], betas[:, None], eigenvalues, nesterov)


def optimal_momentum(L, mu) -> tuple[float, float, float]:
    """The best heavy-ball setting on a quadratic with curvatures in ``[mu, L]`` (Polyak, 1964).

    ``α* = (2 / (√L + √μ))²``, ``β* = ((√κ − 1) / (√κ + 1))²`` with ``κ = L / μ``,
    and the rate is ``ρ* = √β* = (√κ − 1) / (√κ + 1)`` (against ``(κ − 1)/(κ + 1)``
    for gradient descent with its best learning rate).

    Returns ``(alpha, beta, rate)``.
    """
    L, mu = check_positive(L, "L"), check_positive(mu, "mu")
    if mu > L:
        raise ValueError(f"mu: expected the smallest curvature, at most L = {L}, got {mu}")
    alpha = (2.0 / (math.sqrt(L) + math.sqrt(mu))) ** 2
    root_kappa = math.sqrt(L / mu)
    rate = (root_kappa - 1.0) / (root_kappa + 1.0)
    return alpha, rate * rate, rate


def heavy_ball_lr_limit(L, beta) -> float:
    """Heavy ball converges on a quadratic exactly when ``0 < α < 2(1 + β)/L``."""
    return 2.0 * (1.0 + check_unit_interval(beta, "beta")) / check_positive(L, "L")


def nesterov_lr_limit(L, beta) -> float:
    """Nesterov converges on a quadratic exactly when ``0 < α < 2(1 + β) / ((1 + 2β) L)``."""
    beta = check_unit_interval(beta, "beta")
    return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * check_positive(L, "L"))


def best_rate_for_momentum(beta, eigenvalues):
    """``min over α`` of the heavy-ball rate for a fixed momentum β: ``(best_alpha, rate)``.

    Along one eigen-direction the spectral radius, as a function of ``h = αλ``,
    falls while ``h < (1 − √β)²``, equals ``√β`` up to ``h = (1 + √β)²`` and rises
    after, so the worst direction is the flattest (μ) or the steepest (L) one and
    the best α is where their two radii meet; found by bisection to machine precision.

    ``beta`` is a float (returns two floats) or an array ``(...)`` (returns two arrays ``(...)``).
    """
    betas = np.asarray(beta, dtype=np.float64)
    if not np.isfinite(betas).all() or (betas < 0).any() or (betas >= 1).any():
        raise ValueError(f"beta: expected momentum values in [0, 1), got {beta!r}")
    lam = check_array(eigenvalues, "eigenvalues", ndim=1, float_only=False, finite=True)
    flat, steep = float(np.min(lam)), float(np.max(lam))
    low, high = np.zeros_like(betas), 2.0 * (1.0 + betas) / steep
    for _ in range(64):  # r(α, μ) − r(α, L) falls with α: bisect for its zero
        mid = 0.5 * (low + high)
        right = momentum_rate(mid, betas, [flat]) > momentum_rate(mid, betas, [steep])
        low, high = np.where(right, mid, low), np.where(right, high, mid)
    alpha = 0.5 * (low + high)
    rate = momentum_rate(alpha, betas, [flat, steep])
    if np.ndim(beta) == 0:
        return float(alpha), float(rate)
    return alpha, rate


def steps_to_reduce(rate, factor=1e-6) -> float:
    """Steps for an error shrinking like ``rate^k`` to fall by ``factor``: ``log(factor) / log(rate)``."""
    rate = check_positive(rate, "rate")
    factor = check_positive(factor, "factor")
    if rate >= 1:
        return math.inf
    return math.log(factor) / math.log(rate)


@dataclass
class RateMapData:
    """What the momentum explorer shows.

    ``alphas (n,)``, ``betas (m,)`` and ``rates (m, n)`` are the map for curvatures
    ``eigenvalues = (1, kappa)``; ``optimum = (α*, β*, ρ*)``; ``lr``, ``momentum`` and
    ``rate`` are the chosen setting; ``path`` is its run on ``Quadratic(kappa)``.
    """

    kappa: float
    eigenvalues: np.ndarray
    alphas: np.ndarray
    betas: np.ndarray
    rates: np.ndarray
    optimum: tuple
    lr: float
    momentum: float
    rate: float
    path: landscapes.Path


def rate_map_data(kappa=100.0, lr_times_L=1.0, momentum=0.5, steps=100, n=201) -> RateMapData:
    """The rate map over ``α ∈ (0, 4/L]`` × ``β ∈ [0, 1)`` and the chosen point's path on the quadratic.

    The quadratic is ``landscapes.Quadratic(kappa)`` (curvatures μ = 1, L = κ); the
    chosen learning rate is ``lr_times_L / L``.
    """
    landscape = landscapes.Quadratic(condition_number=kappa)
    lr_times_L = check_positive(lr_times_L, "lr_times_L")
    beta = check_unit_interval(momentum, "momentum")
    n = check_positive_int(n, "n")
    eigenvalues = np.array([landscape.mu, landscape.L])
    alphas = np.linspace(4.0 / landscape.L / n, 4.0 / landscape.L, n)
    betas = np.linspace(0.0, 0.995, n)
    lr = lr_times_L / landscape.L
    path = landscapes.run(lambda ps: optim.SGD(ps, lr=lr, momentum=beta), landscape, steps=steps)
    rates = rate_map(eigenvalues, alphas, betas)
    return RateMapData(landscape.condition_number, eigenvalues, alphas, betas, rates,
                       optimal_momentum(landscape.L, landscape.mu), lr, beta,
                       float(momentum_rate(lr, beta, eigenvalues)), path)
