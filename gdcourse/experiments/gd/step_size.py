"""How large a step gradient descent can take: curvatures, the threshold ``2/L``, contraction factors.

On a quadratic ``f(x) = ½ xᵀAx`` the error along an eigenvector of ``A`` with eigenvalue λ is
multiplied by ``1 − ηλ`` at every step, so the run converges for every start exactly when
``0 < η < 2/λ_max`` (the *divergence threshold* ``2/L``), and the best fixed rate ``η = 2/(μ + L)``
contracts the error by ``(κ − 1)/(κ + 1)`` per step, ``κ = L/μ``. Near a minimum of any smooth function
the same holds with the Hessian at the minimum, which is what :func:`curvatures` returns. Also the
computations of the two learning-rate explorers (:mod:`gdcourse.widgets.gd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes, optim
from gdcourse.experiments.gd.descent import DIVERGENCE_RADIUS, check_lr, check_point, gd_path
from gdcourse.experiments.gd.functions import Function1D, get_function_1d
from gdcourse.validate import check_array, check_positive_int

__all__ = ["curvatures", "divergence_threshold", "contraction_factors", "optimal_lr", "optimal_rate",
           "classify_lr", "final_gaps", "LRRun1D", "explore_lr_1d", "LRRunQuadratic", "explore_lr_quadratic"]


def _default_point(landscape, at):
    if at is not None:
        return at
    if not landscape.minima:
        raise ValueError(f"at: {landscape!r} has no minimum; pass the point whose curvature you want")
    return landscape.minima[0]


def curvatures(landscape, at=None) -> np.ndarray:
    """The curvatures that limit the step size: Hessian eigenvalues at ``at``, ascending.

    Parameters
    ----------
    landscape : Landscape or Function1D
        For ``Quadratic`` the Hessian is the same everywhere: ``(mu, L)`` exactly.
        For a :class:`Function1D`, ``(f''(at),)``.
    at : point, optional
        Where to take the Hessian; the lowest known minimum by default.

    Returns
    -------
    ndarray (2,) for a landscape, (1,) for a function of one variable.
    """
    if isinstance(landscape, landscapes.Quadratic):
        return np.array([landscape.mu, landscape.L])
    if isinstance(landscape, Function1D):
        x = _default_point(landscape, at)
        return np.array([float(landscape.second_derivative(x))])
    if isinstance(landscape, landscapes.Landscape):
        point = np.asarray(_default_point(landscape, at), dtype=np.float64)
        return np.linalg.eigvalsh(landscape.hessian(point))
    raise TypeError(f"landscape: expected a Landscape or a Function1D, got {type(landscape).__name__}")


def _largest_positive_curvature(landscape, at):
    lam = curvatures(landscape, at)
    if lam[-1] <= 0:
        raise ValueError(f"at: no positive curvature there ({lam}); gradient descent is unstable "
                         "for every lr")
    return lam


def divergence_threshold(landscape, at=None) -> float:
    """``2 / λ_max``: the largest stable learning rate at a minimum (on a quadratic, ``2 / L`` exactly).

    GD multiplies the error along the steepest direction by ``|1 − lr λ_max|``,
    which is below 1 exactly when ``lr < 2 / λ_max``.
    """
    return 2.0 / float(_largest_positive_curvature(landscape, at)[-1])


def contraction_factors(landscape, lr, at=None) -> np.ndarray:
    """``|1 − lr λ_i|`` per curvature λ_i: the factor by which each eigendirection's error changes per step.

    ``lr`` may be a number or an array; the result has shape ``np.shape(lr) + (k,)``
    with k = 2 for a landscape and 1 for a function of one variable.
    """
    lr = check_array(lr, "lr", float_only=False, finite=True).astype(np.float64)
    if np.any(lr < 0):
        raise ValueError(f"lr: expected learning rates >= 0, got min {lr.min()}")
    return np.abs(1.0 - lr[..., None] * curvatures(landscape, at))


def optimal_lr(landscape, at=None) -> float:
    """``2 / (λ_min + λ_max)``: the fixed rate whose slowest direction contracts fastest."""
    lam = _largest_positive_curvature(landscape, at)
    if lam[0] <= 0:
        raise ValueError(f"at: the curvatures {lam} are not all positive; there is no optimal fixed rate")
    return 2.0 / float(lam[0] + lam[-1])


def optimal_rate(landscape, at=None) -> float:
    """``(κ − 1) / (κ + 1)`` with ``κ = λ_max / λ_min``: the per-step error factor at :func:`optimal_lr`."""
    lam = _largest_positive_curvature(landscape, at)
    if lam[0] <= 0:
        raise ValueError(f"at: the curvatures {lam} are not all positive; there is no linear rate")
    kappa = float(lam[-1] / lam[0])
    return (kappa - 1.0) / (kappa + 1.0)


def classify_lr(landscape, lr, at=None) -> str:
    """What fixed-rate GD does near the minimum, from ``lr`` against ``1/λ_max`` and ``2/λ_max``.

    One of "does not move", "converges", "converges, oscillating" (the steepest
    direction flips sign every step), "bounces forever" (``lr = 2/λ_max``: factor 1)
    and "diverges".
    """
    lr = check_lr(lr)
    threshold = divergence_threshold(landscape, at)
    if lr == 0:
        return "does not move"
    if lr > threshold * (1 + 1e-9):
        return "diverges"
    if lr >= threshold * (1 - 1e-9):
        return "bounces forever"
    return "converges, oscillating" if lr > threshold / 2 * (1 + 1e-9) else "converges"


def _lowest(landscape) -> float:
    if isinstance(landscape, Function1D):
        return landscape.lowest
    if not landscape.minima:
        raise ValueError(f"landscape: {landscape!r} has no minimum to measure the gap to")
    return float(min(landscape.value(m) for m in landscape.minima))


def final_gaps(landscape, lrs, steps, x0=None) -> np.ndarray:
    """``f(x_T) − f*`` after ``steps`` GD steps from ``x0``, one run per learning rate, all at once.

    Parameters
    ----------
    landscape : Landscape with known minima
    lrs : array (m,) of learning rates >= 0
    steps : int >= 0
    x0 : (2,), optional; ``landscape.start`` by default.

    Returns
    -------
    ndarray (m,): the gap, ``inf`` where the run diverged (left ``|x| <= 1e6`` or overflowed).
    """
    if not isinstance(landscape, landscapes.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    lrs = check_array(lrs, "lrs", ndim=1, float_only=False, finite=True).astype(np.float64)
    if np.any(lrs < 0):
        raise ValueError(f"lrs: expected learning rates >= 0, got min {lrs.min()}")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    start = landscape.start if x0 is None else check_point(x0, "x0")
    points = np.repeat(start[:, None], lrs.size, axis=1)  # (2, m): one column per run
    escaped = np.zeros(lrs.size, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            points = points - lrs * landscape.gradient(points)
            escaped |= ~(np.hypot(points[0], points[1]) <= DIVERGENCE_RADIUS)
            points[:, escaped] = 0.0  # frozen: their verdict is already known
        gaps = landscape.value(points) - _lowest(landscape)
    gaps[escaped | ~np.isfinite(gaps)] = np.inf
    return gaps


# ---------------------------------------------------------------- the explorers' computations

@dataclass(frozen=True)
class LRRun1D:
    """One run of the one-variable learning-rate explorer.

    ``xs (k + 1,)`` the iterates; ``minimum`` the minimizer the run is judged
    against (the one nearest the end of the run, or the lowest if the run
    diverged); ``gaps (k + 1,)`` ``f(x_t) − f(minimum)``; ``curvature`` ``f''`` at
    the minimum; ``threshold`` ``2 / curvature``; ``factor`` ``|1 − lr · curvature|``;
    ``above_lowest`` how much higher that minimum is than the lowest one (0 for the
    global minimum); ``diverged`` True when the run left ``|x| <= 1e6``; ``verdict``
    in words.
    """

    function: Function1D
    lr: float
    xs: np.ndarray
    gaps: np.ndarray
    minimum: float
    curvature: float
    threshold: float
    factor: float
    above_lowest: float
    diverged: bool
    verdict: str


def explore_lr_1d(function="double well", lr=0.05, x0=None, steps=30) -> LRRun1D:
    """Run GD on a function of one variable and describe it against the local threshold ``2 / f''(x*)``."""
    function = get_function_1d(function)
    if not function.minima:
        raise ValueError(f"function: {function.name!r} has no minimum, so it has no threshold to explore")
    x0 = function.start if x0 is None else x0
    xs = gd_path(function.derivative, x0, lr, steps)
    diverged = len(xs) < steps + 1
    minimum = function.minima[0] if diverged else min(function.minima, key=lambda m: abs(m - xs[-1]))
    with np.errstate(over="ignore", invalid="ignore"):
        gaps = function.value(xs) - function.value(minimum)
    curvature = float(function.second_derivative(minimum))
    above_lowest = float(function.value(minimum)) - function.lowest
    verdict = "diverges" if diverged else classify_lr(function, lr, at=minimum)
    if not diverged and above_lowest > 0 and verdict.startswith("converges"):
        verdict += " to the local minimum"
    return LRRun1D(function, float(lr), xs, gaps, float(minimum), curvature, 2.0 / curvature,
                   abs(1.0 - lr * curvature), above_lowest, bool(diverged), verdict)


@dataclass(frozen=True)
class LRRunQuadratic:
    """One run of the quadratic learning-rate explorer.

    ``path`` (a ``landscapes.Path``: points, values = ``f − f*``, ...) of
    ``optim.SGD`` with momentum 0 on the full gradient; ``curvatures (mu, L)``;
    ``threshold = 2/L``; ``best_lr = 2/(L + mu)``; ``factors`` ``|1 − lr mu|``,
    ``|1 − lr L|``; ``rate`` their maximum, the per-step factor of the error;
    ``verdict`` from :func:`classify_lr`.
    """

    landscape: landscapes.Quadratic
    lr: float
    path: landscapes.Path
    curvatures: np.ndarray
    threshold: float
    best_lr: float
    factors: np.ndarray
    rate: float
    verdict: str


def explore_lr_quadratic(condition_number=10.0, lr=0.1, steps=60, angle=0.0, x0=None) -> LRRunQuadratic:
    """Run plain GD (``optim.SGD``, momentum 0) on ``Quadratic(condition_number, angle)`` and describe it."""
    landscape = landscapes.Quadratic(condition_number, angle)
    lr = check_lr(lr)
    path = landscapes.run(lambda params: optim.SGD(params, lr=lr), landscape, x0, steps)
    factors = contraction_factors(landscape, lr)
    return LRRunQuadratic(landscape, lr, path, curvatures(landscape), divergence_threshold(landscape),
                          optimal_lr(landscape), factors, float(factors.max()), classify_lr(landscape, lr))
