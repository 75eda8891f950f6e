"""Computations behind notebook 01 (gradient descent basics) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the
explorers of :mod:`gdcourse.widgets.gd` and ``tests/test_nb01_claims.py`` run the
same code.

Gradient descent (Cauchy, 1847) is ``x_{t+1} = x_t − η ∇f(x_t)``. On a quadratic
``f(x) = ½ xᵀAx`` the error along an eigenvector of ``A`` with eigenvalue λ is
multiplied by ``1 − ηλ`` at every step, so the run converges for every start
exactly when ``0 < η < 2/λ_max`` (the *divergence threshold* ``2/L``), and the
best fixed rate ``η = 2/(μ + L)`` contracts the error by ``(κ − 1)/(κ + 1)`` per
step, ``κ = L/μ``. Near a minimum of any smooth function the same holds with the
Hessian at the minimum, which is what :func:`curvatures` returns.

Sections: one-variable test functions; gradient descent paths; step-size theory;
the explorers' computations; what the gradient says; linear regression (MSE, the
normal equations and their cost); non-convex landscapes; stopping criteria.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes as LS
from gdcourse.data import make_xor
from gdcourse.functional import sigmoid
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = [
    "Function1D", "parabola", "double_well", "sigmoid_plateau", "cliff", "FUNCTIONS_1D", "get_function_1d",
    "gd_path", "sequential_coordinate_step",
    "curvatures", "divergence_threshold", "contraction_factors", "optimal_lr", "optimal_rate", "classify_lr",
    "final_gaps", "LRRun1D", "explore_lr_1d", "LRRunQuadratic", "explore_lr_quadratic",
    "slopes_along_directions",
    "mse", "mse_gradient", "mse_smoothness", "least_squares", "linear_regression_gd", "steps_to_reach",
    "direct_solve_flops", "gd_step_flops",
    "basins_of_attraction", "steps_to_escape", "positive_definite_fraction", "final_losses_by_width",
    "STOP_REASONS", "relative_change", "stopping_reason", "GDRun", "gd_until",
    "make_overfitting_regression", "EarlyStoppedRun", "early_stopped_gd",
]

DIVERGENCE_RADIUS = LS.DIVERGENCE_RADIUS


# ---------------------------------------------------------------- functions of one variable

@dataclass(frozen=True)
class Function1D:
    """A function of one variable with its first two derivatives, all vectorized over arrays.

    Attributes
    ----------
    name, formula : str
        Key in :data:`FUNCTIONS_1D`, and the formula for plot titles.
    value, derivative, second_derivative : callable, array (...) -> array (...)
    minima : tuple of float
        The local minimizers, lowest value first; empty when there is none.
    lowest : float
        The minimum value (the infimum when no minimizer exists).
    bounds : (xmin, xmax)
        A plotting window.
    start : float
        A start away from the minimum, from which the lesson is visible.
    """

    name: str
    formula: str
    value: Callable
    derivative: Callable
    second_derivative: Callable
    minima: tuple
    lowest: float
    bounds: tuple
    start: float

    def __repr__(self):
        return f"Function1D({self.name!r}: {self.formula})"


def _float_array(x):
    return np.asarray(x, dtype=np.float64)


def parabola() -> Function1D:
    """``f(x) = x² + 5``: ``f' = 2x``, ``f'' = 2``, minimum 5 at x = 0; GD: ``x_{t+1} = (1 − 2η) x_t``."""
    return Function1D(
        name="parabola", formula="x² + 5",
        value=lambda x: _float_array(x) ** 2 + 5.0,
        derivative=lambda x: 2.0 * _float_array(x),
        second_derivative=lambda x: np.full_like(_float_array(x), 2.0),
        minima=(0.0,), lowest=5.0, bounds=(-3.5, 3.5), start=3.0,
    )


def double_well(tilt: float = 0.3) -> Function1D:
    """``f(x) = (x² − 1)² + tilt·x``: two minima near ±1; for tilt > 0 the left one is lower (global).

    ``f' = 4x(x² − 1) + tilt``, ``f'' = 12x² − 4``. The minimizers are the roots of
    ``f'`` with ``f'' > 0``; two exist while ``|tilt| < 8 / (3√3) ≈ 1.54``.
    """
    if isinstance(tilt, bool) or not isinstance(tilt, numbers.Real) or not abs(tilt) < 8 / (3 * math.sqrt(3)):
        raise ValueError(f"tilt: expected a real number with |tilt| < 1.5396 (two minima), got {tilt!r}")
    tilt = float(tilt)

    def value(x):
        x = _float_array(x)
        return (x * x - 1.0) ** 2 + tilt * x

    roots = np.roots([4.0, 0.0, -4.0, tilt])
    real = roots[np.abs(roots.imag) < 1e-9].real
    minima = sorted((float(r) for r in real if 12 * r * r - 4 > 0), key=lambda r: float(value(r)))
    return Function1D(
        name="double well", formula=f"(x² − 1)² + {tilt:g}x",
        value=value,
        derivative=lambda x: 4.0 * _float_array(x) * (_float_array(x) ** 2 - 1.0) + tilt,
        second_derivative=lambda x: 12.0 * _float_array(x) ** 2 - 4.0,
        minima=tuple(minima), lowest=float(value(minima[0])), bounds=(-2.0, 2.0), start=1.8,
    )


def sigmoid_plateau() -> Function1D:
    """``f(w) = (1 − σ(w))²``: one sigmoid unit that should output 1, started saturated at w = −6.

    ``f' = −2σ(1 − σ)²`` is about ``−2e^{w}`` for very negative w: a plateau where the
    loss stays near 1 for many steps, then drops. No minimizer; the infimum is 0
    (as w → ∞).
    """

    def derivative(w):
        s = sigmoid(_float_array(w))
        return -2.0 * s * (1.0 - s) ** 2

    def second_derivative(w):
        s = sigmoid(_float_array(w))
        return -2.0 * s * (1.0 - s) ** 2 * (1.0 - 3.0 * s)

    return Function1D(
        name="plateau", formula="(1 − σ(w))²",
        value=lambda w: (1.0 - sigmoid(_float_array(w))) ** 2,
        derivative=derivative, second_derivative=second_derivative,
        minima=(), lowest=0.0, bounds=(-8.0, 6.0), start=-6.0,
    )


def cliff(height: float = 10.0, steepness: float = 20.0) -> Function1D:
    """``f(w) = 0.05 (w − 4)² + height · σ(−steepness (w − 2))``: a gentle bowl behind a cliff at w = 2.

    On the cliff face the slope is about ``height · steepness / 4`` (50 by default),
    so one gradient step from there throws ``w`` far past the minimum near 4 (the
    wall adds less than 1e-14 to that minimizer). Steep walls like this appear in
    recurrent networks (Pascanu et al., 2013); gradient clipping tames them.
    """
    height = check_positive(height, "height")
    steepness = check_positive(steepness, "steepness")

    def derivative(w):
        w = _float_array(w)
        s = sigmoid(-steepness * (w - 2.0))
        return 0.1 * (w - 4.0) - height * steepness * s * (1.0 - s)

    def second_derivative(w):
        s = sigmoid(-steepness * (_float_array(w) - 2.0))
        return 0.1 + height * steepness**2 * s * (1.0 - s) * (1.0 - 2.0 * s)

    def value(w):
        w = _float_array(w)
        return 0.05 * (w - 4.0) ** 2 + height * sigmoid(-steepness * (w - 2.0))

    return Function1D(
        name="cliff", formula=f"0.05(w − 4)² + {height:g}σ(−{steepness:g}(w − 2))",
        value=value, derivative=derivative, second_derivative=second_derivative,
        minima=(4.0,), lowest=float(value(4.0)), bounds=(-1.0, 20.0), start=-1.0,
    )


FUNCTIONS_1D = {"parabola": parabola, "double well": double_well, "plateau": sigmoid_plateau, "cliff": cliff}
"""Name -> factory of a :class:`Function1D`."""


def get_function_1d(function) -> Function1D:
    """A :class:`Function1D` from itself or from its name in :data:`FUNCTIONS_1D`."""
    if isinstance(function, Function1D):
        return function
    if function not in FUNCTIONS_1D:
        raise ValueError(f"function: expected one of {sorted(FUNCTIONS_1D)} or a Function1D, "
                         f"got {function!r}")
    return FUNCTIONS_1D[function]()


# ---------------------------------------------------------------- gradient descent paths

def _check_lr(lr):
    return check_positive(lr, "lr", allow_zero=True)


def _check_point(p, name):
    """A finite point of the plane as float64, shape (2,)."""
    p = check_array(p, name, float_only=False, finite=True)
    if p.shape != (2,) or p.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected 2 real numbers (shape (2,)), got shape {p.shape}, "
                         f"dtype {p.dtype}")
    return p.astype(np.float64)


def gd_path(grad_fn, x0, lr, steps, clip_norm=None) -> np.ndarray:
    """The iterates of gradient descent ``x_{t+1} = x_t − lr · g(x_t)``.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(x)`` returns the gradient at ``x``, with the shape of ``x``.
    x0 : float or array (d,)
        The start.
    lr : float >= 0
    steps : int >= 0
    clip_norm : float > 0, optional
        Clip by norm (Pascanu et al., 2013): rescale ``g`` to length ``clip_norm``
        when it is longer, so no step moves further than ``lr · clip_norm``.

    Returns
    -------
    ndarray ``(k + 1,) + np.shape(x0)``, float64
        ``path[0] = x0`` and ``path[t]`` is the point after t steps. ``k = steps``
        unless the run left ``|x| <= 1e6`` or became non-finite; it then stops and
        the last row is the first point outside.
    """
    if not callable(grad_fn):
        raise TypeError(f"grad_fn: expected a callable x -> gradient, got {type(grad_fn).__name__}")
    x = check_array(x0, "x0", ndim=(0, 1), float_only=False, finite=True).astype(np.float64)
    lr = _check_lr(lr)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    if clip_norm is not None:
        clip_norm = check_positive(clip_norm, "clip_norm")
    path = np.empty((steps + 1,) + x.shape)
    path[0] = x
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the early stop
        for t in range(steps):
            g = np.asarray(grad_fn(x), dtype=np.float64)
            if g.shape != x.shape:
                raise ValueError(f"grad_fn: expected a gradient of shape {x.shape}, got shape {g.shape}")
            if clip_norm is not None:
                g = g * min(1.0, clip_norm / max(float(np.linalg.norm(g)), 1e-300))
            x = x - lr * g
            path[t + 1] = x
            if not (np.all(np.isfinite(x)) and np.linalg.norm(x) <= DIVERGENCE_RADIUS):
                return path[: t + 2].copy()
    return path


def sequential_coordinate_step(grad_fn, w, lr) -> np.ndarray:
    """One sweep that updates coordinates one at a time, each from a fresh gradient (a common mistake).

    ``w_j ← w_j − lr · ∂f/∂w_j(w)`` for j = 1..d, where ``w`` already holds the new
    values of coordinates 1..j−1. This is coordinate descent, not gradient descent:
    gradient descent computes the whole gradient at the old point first. Returns
    the new ``w (d,)`` (the input is not modified).
    """
    w = check_array(w, "w", ndim=1, float_only=False, finite=True).astype(np.float64)
    lr = _check_lr(lr)
    for j in range(w.size):  # the order of the sweep is the point of this function
        w[j] -= lr * np.asarray(grad_fn(w), dtype=np.float64)[j]
    return w


# ---------------------------------------------------------------- step-size theory

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
    if isinstance(landscape, LS.Quadratic):
        return np.array([landscape.mu, landscape.L])
    if isinstance(landscape, Function1D):
        x = _default_point(landscape, at)
        return np.array([float(landscape.second_derivative(x))])
    if isinstance(landscape, LS.Landscape):
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
    lr = _check_lr(lr)
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
    if not isinstance(landscape, LS.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    lrs = check_array(lrs, "lrs", ndim=1, float_only=False, finite=True).astype(np.float64)
    if np.any(lrs < 0):
        raise ValueError(f"lrs: expected learning rates >= 0, got min {lrs.min()}")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    start = landscape.start if x0 is None else _check_point(x0, "x0")
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

    landscape: LS.Quadratic
    lr: float
    path: LS.Path
    curvatures: np.ndarray
    threshold: float
    best_lr: float
    factors: np.ndarray
    rate: float
    verdict: str


def explore_lr_quadratic(condition_number=10.0, lr=0.1, steps=60, angle=0.0, x0=None) -> LRRunQuadratic:
    """Run plain GD (``optim.SGD``, momentum 0) on ``Quadratic(condition_number, angle)`` and describe it."""
    from gdcourse.optim import SGD  # optim does not import this module; kept local to stay light

    landscape = LS.Quadratic(condition_number, angle)
    lr = _check_lr(lr)
    path = LS.run(lambda params: SGD(params, lr=lr), landscape, x0, steps)
    factors = contraction_factors(landscape, lr)
    return LRRunQuadratic(landscape, lr, path, curvatures(landscape), divergence_threshold(landscape),
                          optimal_lr(landscape), factors, float(factors.max()), classify_lr(landscape, lr))


# ---------------------------------------------------------------- what the gradient says

def slopes_along_directions(landscape, point, angles, h=1e-6) -> np.ndarray:
    """The slope of ``f`` along the unit direction ``u(θ) = (cos θ, sin θ)``, for each angle.

    Central differences of the *value* only, ``(f(p + h u) − f(p − h u)) / (2h)``, so
    the result does not rely on the landscape's gradient code. Calculus says it
    equals ``∇f(p) · u(θ)``: largest, equal to ``|∇f(p)|``, when u points along the
    gradient. Returns ``(m,)`` for ``angles (m,)``.
    """
    if not isinstance(landscape, LS.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    p = _check_point(point, "point")
    angles = check_array(angles, "angles", ndim=1, float_only=False, finite=True).astype(np.float64)
    h = check_positive(h, "h")
    u = np.stack([np.cos(angles), np.sin(angles)])  # (2, m)
    return (landscape.value(p[:, None] + h * u) - landscape.value(p[:, None] - h * u)) / (2.0 * h)


# ---------------------------------------------------------------- linear regression

def _check_regression(w, X, y):
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
    w, X, y = _check_regression(w, X, y)
    r = X @ w - y
    return float(r @ r) / len(y)


def mse_gradient(w, X, y) -> np.ndarray:
    """``∇J(w) = (2/n) Xᵀ(Xw − y)``, shape ``(d,)``: residuals weighted by their inputs, averaged, × 2."""
    w, X, y = _check_regression(w, X, y)
    return (2.0 / len(y)) * (X.T @ (X @ w - y))


def mse_smoothness(X) -> float:
    """``L = λ_max((2/n) XᵀX) = 2 σ_max(X)² / n``: the largest curvature of the MSE of a linear model."""
    _, X, _ = _check_regression(None, X, np.zeros(len(np.asarray(X))))
    return 2.0 * float(np.linalg.norm(X, 2)) ** 2 / len(X)


def least_squares(X, y) -> np.ndarray:
    """The minimizer of the MSE, the solution of the normal equations ``XᵀX w = Xᵀy``, shape ``(d,)``.

    Solved with ``np.linalg.lstsq`` (SVD), which is accurate when ``XᵀX`` is
    ill-conditioned and also handles rank-deficient X (minimum-norm solution);
    never form ``inv(XᵀX)``.
    """
    _, X, y = _check_regression(None, X, y)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def linear_regression_gd(X, y, steps, lr=None, w0=None):
    """Full-batch gradient descent on the MSE of a linear model.

    Returns ``(W, losses, lr)``: ``W (steps + 1, d)`` the iterates from ``w0``
    (zeros by default), ``losses (steps + 1,)`` ``J(W[t])`` and the rate used,
    ``1 / L`` (:func:`mse_smoothness`) unless given.
    """
    _, X, y = _check_regression(None, X, y)
    lr = 1.0 / mse_smoothness(X) if lr is None else _check_lr(lr)
    w0 = np.zeros(X.shape[1]) if w0 is None else _check_regression(w0, X, y)[0]
    W = gd_path(lambda w: (2.0 / len(y)) * (X.T @ (X @ w - y)), w0, lr, steps)
    residuals = W @ X.T - y  # (k + 1, n)
    return W, np.mean(residuals * residuals, axis=1), lr


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


# ---------------------------------------------------------------- non-convex landscapes

def basins_of_attraction(landscape, lr, steps, n=100, tol=1e-3):
    """Run GD from every start on an ``n × n`` grid at once and label the minimum each run reaches.

    Returns
    -------
    X, Y : ndarray (n, n)
        The starts (``meshgrid`` layout over ``landscape.bounds``).
    labels : ndarray (n, n) of int
        Index into ``landscape.minima`` of the minimum within ``tol`` of the final
        point, or −1 when the run ended near none (not converged, or diverged).
    """
    if not isinstance(landscape, LS.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    if not landscape.minima:
        raise ValueError(f"landscape: {landscape!r} has no minima to reach")
    lr = _check_lr(lr)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    n = check_positive_int(n, "n")
    tol = check_positive(tol, "tol")
    (x0, x1), (y0, y1) = landscape.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    points = np.stack([X, Y])
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            points = points - lr * landscape.gradient(points)
    minima = np.stack(landscape.minima)  # (q, 2)
    distances = np.hypot(points[0][None] - minima[:, 0, None, None],
                         points[1][None] - minima[:, 1, None, None])  # (q, n, n)
    distances = np.where(np.isfinite(distances), distances, np.inf)
    nearest = np.argmin(distances, axis=0)
    labels = np.where(np.min(distances, axis=0) <= tol, nearest, -1)
    return X, Y, labels


def steps_to_escape(path, radius=1.0):
    """After its closest approach to a saddle point, the first step at which ``path`` is ``radius`` away.

    ``path`` is a ``landscapes.Path`` on a landscape with ``saddle_points``. Returns
    an int, or None when the run never gets that far again (it stayed stuck).
    """
    if not isinstance(path, LS.Path) or not path.landscape.saddle_points:
        raise ValueError("path: expected a landscapes.Path on a landscape with saddle points")
    radius = check_positive(radius, "radius")
    saddles = np.stack(path.landscape.saddle_points)  # (q, 2)
    gaps = path.points[:, None, :] - saddles[None]
    distance = np.min(np.sqrt(np.sum(gaps * gaps, axis=2)), axis=1)  # (k + 1,)
    closest = int(np.argmin(distance))
    later = np.nonzero(distance[closest:] >= radius)[0]
    return int(closest + later[0]) if later.size else None


def positive_definite_fraction(d, samples=20000, rng=0) -> float:
    """The fraction of random symmetric ``d × d`` matrices whose eigenvalues are all positive.

    The matrices are ``(A + Aᵀ)/2`` with ``A`` standard normal (the Gaussian
    orthogonal ensemble). A caricature of the Hessian at a random critical point:
    the fraction that would be minima falls faster than ``2^{-d}`` (Bray & Dean,
    2007; Dauphin et al., 2014). For d = 1 it is 1/2, for d = 2 ``(2 − √2)/4``.
    """
    d = check_positive_int(d, "d")
    samples = check_positive_int(samples, "samples")
    A = as_rng(rng).standard_normal((samples, d, d))
    eigenvalues = np.linalg.eigvalsh((A + np.swapaxes(A, 1, 2)) / 2.0)
    return float(np.mean(np.all(eigenvalues > 0, axis=1)))


def final_losses_by_width(widths=(2, 32), seeds=10, epochs=200, lr=0.5, n=100, rng=0) -> dict:
    """Final training loss of a tanh MLP ``2 → width → 1`` on XOR for several initial seeds.

    Full-batch gradient descent (``optim.SGD``, batch = all ``n`` points) on the
    binary cross-entropy, ``epochs`` steps. Returns ``{width: ndarray (seeds,)}``:
    how much the outcome depends on the start, for each width.
    """
    from gdcourse import losses, nn, optim
    from gdcourse.train import fit

    seeds = check_positive_int(seeds, "seeds")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_positive(lr, "lr")
    X, y = make_xor(n=n, noise=0.25, rng=rng)
    targets = y[:, None].astype(np.float64)
    result = {}
    for width in widths:
        width = check_positive_int(width, "width")
        finals = []
        for seed in range(seeds):
            model = nn.Sequential(nn.Linear(2, width, rng=seed), nn.Tanh(),
                                  nn.Linear(width, 1, rng=seed + 1000))
            optimizer = optim.SGD(model.parameters(), lr=lr)
            history = fit(model, losses.BCEWithLogitsLoss(), optimizer, (X, targets), epochs=epochs,
                          batch_size=len(X), progress=False, rng=seed)
            finals.append(history["train_loss"][-1])
        result[width] = np.array(finals)
    return result


# ---------------------------------------------------------------- stopping criteria

STOP_REASONS = ("diverged", "gradient", "loss change", "budget")
"""What :func:`stopping_reason` can return (besides None), in the order it checks them."""


def relative_change(loss_prev, loss) -> float:
    """``|J_prev − J| / max(|J_prev|, |J|, 1)``: relative for large losses, absolute below 1.

    The floor 1 is SciPy's convention for L-BFGS-B's ``ftol``; without it the test
    never fires on a loss whose minimum is 0, where the relative change per step
    tends to a constant.
    """
    return abs(loss_prev - loss) / max(abs(loss_prev), abs(loss), 1.0)


def stopping_reason(step, loss_prev, loss, grad_norm, *, max_steps, grad_tol=0.0, rel_tol=0.0):
    """Why gradient descent should stop after ``step`` steps, or None to go on.

    Checked in this order:

    1. "diverged": ``loss`` is NaN or ±inf;
    2. "gradient": ``grad_norm <= grad_tol`` (first-order optimality);
    3. "loss change": ``relative_change(loss_prev, loss) <= rel_tol`` (skipped when
       ``loss_prev`` is None, at step 0);
    4. "budget": ``step >= max_steps``.
    """
    if not math.isfinite(loss):
        return "diverged"
    if grad_norm <= grad_tol:
        return "gradient"
    if loss_prev is not None and relative_change(loss_prev, loss) <= rel_tol:
        return "loss change"
    if step >= max_steps:
        return "budget"
    return None


@dataclass(frozen=True)
class GDRun:
    """``xs (k + 1, ...)``, ``losses (k + 1,)``, ``grad_norms (k + 1,)`` and why the run stopped."""

    xs: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    reason: str

    @property
    def steps(self) -> int:
        return len(self.losses) - 1


def gd_until(grad_fn, loss_fn, x0, lr, *, max_steps, grad_tol=0.0, rel_tol=0.0) -> GDRun:
    """Gradient descent that checks :func:`stopping_reason` before every step."""
    if not (callable(grad_fn) and callable(loss_fn)):
        raise TypeError("grad_fn and loss_fn: expected two callables")
    x = check_array(x0, "x0", ndim=(0, 1), float_only=False, finite=True).astype(np.float64)
    lr = _check_lr(lr)
    max_steps = check_positive_int(max_steps, "max_steps", allow_zero=True)
    xs, losses, norms = [], [], []
    loss_prev = None
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(max_steps + 1):
            loss, g = float(loss_fn(x)), np.asarray(grad_fn(x), dtype=np.float64)
            xs.append(x)
            losses.append(loss)
            norms.append(float(np.linalg.norm(g)))
            reason = stopping_reason(step, loss_prev, loss, norms[-1], max_steps=max_steps,
                                     grad_tol=grad_tol, rel_tol=rel_tol)
            if reason is not None:
                break
            x, loss_prev = x - lr * g, loss
    return GDRun(np.array(xs), np.array(losses), np.array(norms), reason)


def make_overfitting_regression(n_train=40, n_val=400, d=36, noise=0.5, rng=2):
    """A linear regression where the exact least-squares fit overfits.

    Few samples for many features, with feature ``j`` scaled by ``1/√j`` so the
    curvatures of the MSE span orders of magnitude: gradient descent fits the large
    directions first and the small, noise-dominated ones last. ``y = X w + ε``,
    ``w ~ N(0, I)``, ``ε ~ N(0, noise²)``. Returns ``X_train (n_train, d)``,
    ``y_train``, ``X_val (n_val, d)``, ``y_val``.
    """
    n_train, n_val, d = (check_positive_int(v, name) for v, name in
                         ((n_train, "n_train"), (n_val, "n_val"), (d, "d")))
    noise = check_positive(noise, "noise", allow_zero=True)
    rng = as_rng(rng)
    w = rng.standard_normal(d)
    X = rng.standard_normal((n_train + n_val, d)) / np.sqrt(np.arange(1, d + 1))
    y = X @ w + noise * rng.standard_normal(n_train + n_val)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@dataclass(frozen=True)
class EarlyStoppedRun:
    """Curves at ``eval_steps (m,)``: ``train_loss``, ``val_loss``; best and stopping step; best ``w``."""

    eval_steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_step: int
    stop_step: int
    w: np.ndarray


def early_stopped_gd(X, y, X_val, y_val, *, max_steps, patience, eval_every=10, lr=None) -> EarlyStoppedRun:
    """GD on the training MSE, stopped by ``regularization.EarlyStopping`` on the validation MSE.

    Every ``eval_every`` steps both losses are recorded; training stops once the
    validation loss has not improved for ``patience`` evaluations in a row, and the
    weights of the best evaluation are restored. ``lr`` is ``1/L`` unless given.
    """
    from gdcourse.nn import Parameter
    from gdcourse.regularization import EarlyStopping

    _, X, y = _check_regression(None, X, y)
    _, X_val, y_val = _check_regression(None, X_val, y_val)
    max_steps = check_positive_int(max_steps, "max_steps")
    eval_every = check_positive_int(eval_every, "eval_every")
    lr = 1.0 / mse_smoothness(X) if lr is None else check_positive(lr, "lr")
    w = Parameter(np.zeros(X.shape[1]), name="w")
    stopper = EarlyStopping(patience=patience)
    steps, train, val = [], [], []
    for step in range(max_steps + 1):
        if step % eval_every == 0 or step == max_steps:
            steps.append(step)
            train.append(mse(w.value, X, y))
            val.append(mse(w.value, X_val, y_val))
            if stopper.step(val[-1], [w]) or step == max_steps:
                break
        w.value -= lr * mse_gradient(w.value, X, y)
    stopper.restore([w])
    return EarlyStoppedRun(np.array(steps), np.array(train), np.array(val),
                           steps[stopper.best_epoch], steps[-1], w.value.copy())
