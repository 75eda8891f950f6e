"""Two-dimensional test functions for watching optimizers move, and a runner that records the path.

Every landscape has ``value(p)``, ``gradient(p)`` and ``hessian(p)`` for a point
``p = (x, y)`` of shape ``(2,)``. All three are vectorized over trailing axes: for
``p`` of shape ``(2, ...)`` they return shapes ``(...)``, ``(2, ...)`` and
``(2, 2, ...)``, so a contour plot or a quiver plot is one call (see :func:`grid`).
The derivatives are written out by hand; ``tests/test_landscapes.py`` checks them
against central differences.

Each landscape also knows its ``minima`` (the known minimizers), ``saddle_points``
(the saddles worth drawing), plot ``bounds`` and a default ``start``.

=============== ============================================ ==========================
landscape       what it teaches                              minimum
=============== ============================================ ==========================
``Quadratic``   conditioning; GD is stable only if lr < 2/L  (0, 0)
``Rosenbrock``  a curved narrow valley (Rosenbrock, 1960)    (a, a²)
``Beale``       plateaus and steep walls (Beale, 1958)       (3, 0.5)
``Himmelblau``  four minima: the start decides (1972)        four points, f = 0
``Saddle``      a saddle point, no minimum                   none
=============== ============================================ ==========================

:func:`run` drives any optimizer of :mod:`gdcourse.optim` over a landscape and
returns the :class:`Path` it took.
"""

from __future__ import annotations

import inspect
import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from gdcourse.nn.module import Parameter
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = [
    "Landscape", "Quadratic", "Rosenbrock", "Beale", "Himmelblau", "Saddle", "LANDSCAPES", "get_landscape",
    "Path", "run", "newton_factory", "grid", "contour_levels", "DIVERGENCE_RADIUS",
]

DIVERGENCE_RADIUS = 1e6
"""``run`` stops and flags ``diverged`` once ``|p|`` exceeds this."""


def _coords(p):
    """Split ``p`` of shape ``(2, ...)`` into float64 ``x`` and ``y`` of shape ``(...)``."""
    p = np.asarray(p)
    if p.dtype.kind not in "iuf":
        raise ValueError(f"p: expected a real-valued array, got dtype {p.dtype}")
    if p.ndim == 0 or p.shape[0] != 2:
        raise ValueError(f"p: expected shape (2,) or (2, ...), got shape {p.shape}")
    p = p.astype(np.float64, copy=False)
    return p[0], p[1]


def _broadcast_stack(*rows):
    """Stack scalars and arrays along a new first axis after broadcasting them together."""
    return np.stack(np.broadcast_arrays(*rows))


def _beyond_float64():
    """Overflow to ±inf (and inf − inf = NaN) is the documented answer far out, not a warning."""
    return np.errstate(over="ignore", invalid="ignore")


class Landscape(ABC):
    """Base class: a function of two variables with its gradient and Hessian.

    Subclasses implement ``_value(x, y)``, ``_gradient(x, y) -> (fx, fy)`` and
    ``_hessian(x, y) -> (fxx, fxy, fyy)`` on arrays of equal shape.

    Attributes
    ----------
    name : str
        Key in :data:`LANDSCAPES`.
    description : str
        One line for a plot title or a widget.
    minima : list of ndarray (2,)
        Known minimizers (empty when there is none).
    saddle_points : list of ndarray (2,)
        Saddle points to mark on plots (those we know; not claimed to be all of them
        except where the class docstring says so).
    bounds : ((xmin, xmax), (ymin, ymax))
        A plotting window that shows the interesting part.
    start : ndarray (2,)
        A default starting point from which the landscape's lesson is visible.
    """

    name = ""
    description = ""

    def __init__(self, minima, bounds, start, saddle_points=()):
        self.minima = [np.array(m, dtype=np.float64) for m in minima]
        self.saddle_points = [np.array(s, dtype=np.float64) for s in saddle_points]
        self.bounds = tuple(tuple(float(v) for v in axis) for axis in bounds)
        self.start = np.array(start, dtype=np.float64)

    def value(self, p):
        """``f(p)``: p ``(2, ...)`` -> ``(...)``. See :meth:`gradient` for points far out."""
        x, y = _coords(p)
        with _beyond_float64():
            return self._value(x, y)

    def gradient(self, p):
        """``∇f(p)``: p ``(2, ...)`` -> ``(2, ...)``.

        Far from the origin (``|p| ~ 1e100`` for the quartic landscapes) the exact
        value, gradient or Hessian exceeds float64: the result is then ±inf, or NaN
        where two infinite terms cancel (inf − inf), without a NumPy warning, and a
        NaN or inf coordinate gives NaN or inf. :func:`run` reports such a point
        as ``diverged``.
        """
        x, y = _coords(p)
        with _beyond_float64():
            return _broadcast_stack(*self._gradient(x, y))

    def hessian(self, p):
        """``∇²f(p)``: p ``(2, ...)`` -> ``(2, 2, ...)`` (symmetric). See :meth:`gradient` for points far out."""
        x, y = _coords(p)
        with _beyond_float64():
            fxx, fxy, fyy = np.broadcast_arrays(*self._hessian(x, y), x)[:3]
        return np.stack([np.stack([fxx, fxy]), np.stack([fxy, fyy])])

    @abstractmethod
    def _value(self, x, y):
        """f(x, y), vectorized over arrays x and y."""

    @abstractmethod
    def _gradient(self, x, y):
        """(∂f/∂x, ∂f/∂y)."""

    @abstractmethod
    def _hessian(self, x, y):
        """(f_xx, f_xy, f_yy)."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class Quadratic(Landscape):
    """``f(p) = ½ pᵀ A p`` with ``A = R diag(1, κ) Rᵀ``, R a rotation by ``angle`` radians.

    The eigenvalues of A (the curvatures along its axes) are ``mu = 1`` and
    ``L = condition_number = κ``. Gradient descent ``p ← p − lr A p`` multiplies the
    component along an eigenvector of eigenvalue λ by ``1 − lr λ`` per step, so it
    converges for every start exactly when ``0 < lr < 2 / L``, and the slowest
    direction contracts by ``1 − lr mu``: the best fixed rate ``lr = 2 / (L + mu)``
    gives the factor ``(κ − 1) / (κ + 1)`` per step. Its only critical point is
    the minimum at the origin.
    """

    name = "quadratic"

    def __init__(self, condition_number=10.0, angle=0.0):
        kappa = check_positive(condition_number, "condition_number")
        if kappa < 1:
            raise ValueError(f"condition_number: expected a number >= 1, got {condition_number}")
        if isinstance(angle, bool) or not isinstance(angle, numbers.Real) or not math.isfinite(angle):
            raise ValueError(f"angle: expected a finite angle in radians, got {angle!r}")
        self.condition_number = kappa
        self.angle = float(angle)
        self.mu, self.L = 1.0, kappa
        c, s = math.cos(self.angle), math.sin(self.angle)
        # R diag(mu, L) R^T written out; at angle 0 it is exactly diag(1, kappa).
        self._a = self.mu * c * c + self.L * s * s
        self._b = (self.mu - self.L) * c * s
        self._c = self.mu * s * s + self.L * c * c
        super().__init__(minima=[(0.0, 0.0)], bounds=((-5, 5), (-5, 5)), start=(-4.0, 2.0))
        self.description = (
            f"Quadratic ½pᵀAp, curvatures 1 and {kappa:g}: gradient descent is stable only for lr < 2/L"
        )

    @property
    def A(self) -> np.ndarray:
        """The (2, 2) matrix of the quadratic form (a new array)."""
        return np.array([[self._a, self._b], [self._b, self._c]])

    def _value(self, x, y):
        return 0.5 * (self._a * x * x + 2.0 * self._b * x * y + self._c * y * y)

    def _gradient(self, x, y):
        return self._a * x + self._b * y, self._b * x + self._c * y

    def _hessian(self, x, y):
        return self._a, self._b, self._c

    def __repr__(self):
        return f"Quadratic(condition_number={self.condition_number:g}, angle={self.angle:g})"


class Rosenbrock(Landscape):
    """``f(x, y) = (a − x)² + b (y − x²)²`` (Rosenbrock, 1960).

    A parabolic valley ``y = x²`` with steep walls (curvature ~ ``b``) and a nearly
    flat floor; the only critical point is the minimum ``(a, a²)`` where ``f = 0``.
    The classic start is ``(−1.2, 1)`` (for ``a = 1``).
    """

    name = "rosenbrock"
    description = "Rosenbrock's banana: a narrow curved valley; the minimum is easy to reach, slow to finish"

    def __init__(self, a=1.0, b=100.0):
        if isinstance(a, bool) or not isinstance(a, numbers.Real) or not math.isfinite(a):
            raise ValueError(f"a: expected a finite real number, got {a!r}")
        self.a = float(a)
        self.b = check_positive(b, "b")
        super().__init__(
            minima=[(self.a, self.a**2)],
            bounds=((self.a - 3, self.a + 1), (self.a**2 - 2, self.a**2 + 2)),
            start=(self.a - 2.2, self.a**2),
        )

    def _value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _gradient(self, x, y):
        r = y - x * x
        return -2.0 * (self.a - x) - 4.0 * self.b * x * r, 2.0 * self.b * r

    def _hessian(self, x, y):
        return 2.0 - 4.0 * self.b * y + 12.0 * self.b * x * x, -4.0 * self.b * x, 2.0 * self.b

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Landscape):
    """``f(x, y) = Σᵢ (cᵢ − x + x yⁱ)²`` for i = 1, 2, 3, c = (1.5, 2.25, 2.625) (Beale, 1958).

    Minimum ``(3, 0.5)`` with ``f = 0``; flat plateaus and steep walls (gradient norms
    range over many orders of magnitude inside the plotting window). Saddle points
    at ``(0, 1)`` and near ``(0.1005, −2.6445)``.
    """

    name = "beale"
    description = "Beale's function: flat plateaus and steep walls, minimum at (3, 0.5)"
    _c = np.array([1.5, 2.25, 2.625])
    _i = np.array([1.0, 2.0, 3.0])

    def __init__(self):
        super().__init__(
            minima=[(3.0, 0.5)],
            saddle_points=[(0.0, 1.0), (0.10053793732415842, -2.6445135850231245)],
            bounds=((-4.5, 4.5), (-4.5, 4.5)),
            start=(1.0, 1.5),
        )

    def _terms(self, x, y):
        """The residuals tᵢ = cᵢ − x + x yⁱ and their derivatives, each of shape (3, ...)."""
        shape = (3,) + (1,) * np.ndim(x)
        c, i = self._c.reshape(shape), self._i.reshape(shape)
        y_pow = y ** (i - 1)  # y^(i-1); y^i = y_pow * y
        t = c - x + x * y_pow * y
        tx = y_pow * y - 1.0
        ty = i * x * y_pow
        txy = i * y_pow
        tyy = i * (i - 1) * x * y ** np.maximum(i - 2, 0)
        return t, tx, ty, txy, tyy

    def _value(self, x, y):
        t = self._terms(x, y)[0]
        return np.sum(t * t, axis=0)

    def _gradient(self, x, y):
        t, tx, ty, _, _ = self._terms(x, y)
        return 2.0 * np.sum(t * tx, axis=0), 2.0 * np.sum(t * ty, axis=0)

    def _hessian(self, x, y):
        t, tx, ty, txy, tyy = self._terms(x, y)
        fxx = 2.0 * np.sum(tx * tx, axis=0)  # t_xx = 0
        fxy = 2.0 * np.sum(tx * ty + t * txy, axis=0)
        fyy = 2.0 * np.sum(ty * ty + t * tyy, axis=0)
        return fxx, fxy, fyy


class Himmelblau(Landscape):
    """``f(x, y) = (x² + y − 11)² + (x + y² − 7)²`` (Himmelblau, 1972).

    Four global minima with ``f = 0``: ``(3, 2)`` exactly and three irrational ones;
    gradient descent ends in the one whose basin holds the start. Its other critical
    points are a local maximum near ``(−0.2708, −0.9230)`` and four saddle points,
    all listed here (to about 1e-15).
    """

    name = "himmelblau"
    description = "Himmelblau's function: four equal minima; which one you reach depends on the start"

    def __init__(self):
        super().__init__(
            minima=[
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.2831859912861696),
                (3.5844283403304917, -1.8481265269644034),
            ],
            saddle_points=[
                (-3.0730257507643897, -0.08135304428796751),
                (-0.12796134673068005, -1.9537149802445766),
                (0.08667750455539634, 2.884254701174776),
                (3.385154183607021, 0.07385187983774928),
            ],
            bounds=((-5, 5), (-5, 5)),
            start=(0.0, 0.0),
        )
        self.maxima = [np.array([-0.2708445906673476, -0.9230385564799813])]

    def _value(self, x, y):
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def _gradient(self, x, y):
        u, v = x * x + y - 11.0, x + y * y - 7.0
        return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v

    def _hessian(self, x, y):
        return 12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 12.0 * y * y + 4.0 * x - 26.0


class Saddle(Landscape):
    """``f(x, y) = x² − y²``: a saddle at the origin and no minimum (unbounded below).

    Gradient descent contracts x by ``1 − 2 lr`` and expands y by ``1 + 2 lr`` per
    step: from a start exactly on the x-axis it converges to the saddle, from any
    other start it slows down near the saddle and then escapes along y.
    """

    name = "saddle"
    description = "Saddle x² − y²: no minimum; gradient descent stalls near the origin, then escapes"

    def __init__(self):
        super().__init__(minima=[], saddle_points=[(0.0, 0.0)], bounds=((-2, 2), (-2, 2)), start=(-1.5, 0.01))

    def _value(self, x, y):
        return x * x - y * y

    def _gradient(self, x, y):
        return 2.0 * x, -2.0 * y

    def _hessian(self, x, y):
        return 2.0, 0.0, -2.0


LANDSCAPES = {
    "quadratic": Quadratic,
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "himmelblau": Himmelblau,
    "saddle": Saddle,
}
"""Name -> class (call it, with keyword arguments for ``Quadratic``/``Rosenbrock``)."""


def get_landscape(name: str, **kwargs) -> Landscape:
    """Build the landscape registered under ``name`` (see :data:`LANDSCAPES`)."""
    if name not in LANDSCAPES:
        raise ValueError(f"name: expected one of {sorted(LANDSCAPES)}, got {name!r}")
    return LANDSCAPES[name](**kwargs)


# ---------------------------------------------------------------- running an optimizer

@dataclass
class Path:
    """Where an optimizer went on a landscape.

    Attributes
    ----------
    points : ndarray (k + 1, 2)
        ``points[0]`` is the start, ``points[t]`` the position after t steps.
    values : ndarray (k + 1,)
        ``f(points[t])``.
    grad_norms : ndarray (k + 1,)
        ``|∇f(points[t])|``.
    lrs : ndarray (k,)
        The learning rate used for step t.
    diverged : bool
        True when the run stopped early because the point left ``|p| <= 1e6`` or a
        value became NaN/inf; then the last row is the first point outside.
    landscape : Landscape
    """

    points: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    lrs: np.ndarray
    diverged: bool
    landscape: Landscape = field(repr=False)

    @property
    def final(self) -> np.ndarray:
        """The last point, shape (2,)."""
        return self.points[-1]

    @property
    def steps_taken(self) -> int:
        return len(self.points) - 1

    def distance_to_nearest_minimum(self) -> float:
        """Euclidean distance from ``final`` to the closest known minimum (inf if there is none)."""
        if not self.landscape.minima:
            return math.inf
        gaps = np.stack(self.landscape.minima) - self.final
        return float(np.min(np.sqrt(np.sum(gaps * gaps, axis=1))))

    def converged(self, tol: float = 1e-6) -> bool:
        """Did the run end within ``tol`` of a known minimum without diverging?"""
        check_positive(tol, "tol")
        return not self.diverged and self.distance_to_nearest_minimum() <= tol


def run(optimizer_factory, landscape: Landscape, x0=None, steps: int = 100, schedule=None) -> Path:
    """Run an optimizer from ``x0`` for ``steps`` steps and record its path.

    A single float64 ``Parameter`` holds the point. Each step sets its ``grad`` to
    ``landscape.gradient(point)`` and calls ``optimizer.step()``, exactly as a
    training loop would after ``backward``.

    Parameters
    ----------
    optimizer_factory : callable
        ``factory(params)`` returns an optimizer over ``params`` (a list holding the
        one Parameter), e.g. ``lambda ps: SGD(ps, lr=0.01, momentum=0.9)``. A factory
        with two required positional parameters is called ``factory(params, landscape)``
        instead, for optimizers that need more than the gradient (see
        :func:`newton_factory`).
    landscape : Landscape
    x0 : array-like (2,), optional
        Start; ``landscape.start`` by default.
    steps : int
        Number of optimizer steps (>= 0).
    schedule : callable ``t -> lr``, optional
        Sets ``optimizer.lr`` before step t (t = 0, 1, ...), the contract of
        :func:`gdcourse.train.fit`.

    Returns
    -------
    Path
        Stops early with ``diverged=True`` when the point leaves ``|p| <= 1e6`` or
        the value or gradient is not finite; no floating-point warning is raised.
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    if not callable(optimizer_factory):
        raise TypeError(f"optimizer_factory: expected a callable, got {type(optimizer_factory).__name__}")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a callable t -> lr, got {type(schedule).__name__}")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    start = landscape.start if x0 is None else _check_start(x0)
    param = Parameter(start.copy(), name="p")
    optimizer = _build_optimizer(optimizer_factory, [param], landscape)
    return _record(optimizer, param, landscape, steps, schedule)


def _check_start(x0) -> np.ndarray:
    x0 = check_array(x0, "x0", float_only=False, finite=True)
    if x0.shape != (2,) or x0.dtype.kind not in "iuf":
        raise ValueError(f"x0: expected 2 real numbers (shape (2,)), got shape {x0.shape}, dtype {x0.dtype}")
    return x0.astype(np.float64)


def _build_optimizer(factory, params, landscape):
    optimizer = factory(params, landscape) if _wants_landscape(factory) else factory(params)
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "lr")):
        raise TypeError(
            "optimizer_factory: expected it to return an optimizer (with .step() and .lr), "
            f"got {type(optimizer).__name__}"
        )
    return optimizer


def _wants_landscape(factory) -> bool:
    """True when ``factory`` has two required positional parameters: (params, landscape)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in signature.parameters.values() if p.kind in positional and p.default is p.empty]
    return len(required) == 2


def _record(optimizer, param, landscape, steps, schedule) -> Path:
    points = np.empty((steps + 1, 2))
    values = np.empty(steps + 1)
    grad_norms = np.empty(steps + 1)
    lrs = np.empty(steps)
    diverged = False
    t = 0
    # A diverging run overflows on purpose; it is reported by ``diverged``, not by warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        grad = _observe(landscape, param.value, points, values, grad_norms, 0)
        while t < steps and not diverged:
            if schedule is not None:
                _set_lr(optimizer, schedule, t)
            lrs[t] = optimizer.lr
            param.grad = grad
            optimizer.step()
            t += 1
            grad = _observe(landscape, param.value, points, values, grad_norms, t)
            diverged = _left_safe_region(points[t], values[t], grad_norms[t])
    k = t + 1
    return Path(points[:k].copy(), values[:k].copy(), grad_norms[:k].copy(), lrs[:t].copy(), diverged, landscape)


def _set_lr(optimizer, schedule, t):
    lr = schedule(t)
    try:
        optimizer.lr = lr
    except (TypeError, ValueError):
        raise ValueError(f"schedule: expected a finite learning rate >= 0 at step {t}, got {lr!r}") from None


def _observe(landscape, p, points, values, grad_norms, t):
    """Store point, value and gradient norm of row t; return the gradient."""
    points[t] = p
    values[t] = landscape.value(p)
    grad = landscape.gradient(p)
    grad_norms[t] = np.hypot(grad[0], grad[1])
    return grad


def _left_safe_region(point, value, grad_norm) -> bool:
    return not (np.isfinite(point).all() and math.isfinite(value) and math.isfinite(grad_norm)
                and math.hypot(point[0], point[1]) <= DIVERGENCE_RADIUS)


def newton_factory(lr: float = 1.0, damping: float = 0.0):
    """A factory for :func:`run` that builds ``gdcourse.optim.Newton`` on the landscape's Hessian.

    Returns ``factory(params, landscape)``; the Newton optimizer calls
    ``landscape.hessian(point)`` at the current point on every step.
    """
    from gdcourse.optim import Newton  # optim imports nothing from here; kept local to stay light

    check_positive(lr, "lr", allow_zero=True)
    check_positive(damping, "damping", allow_zero=True)

    def factory(params, landscape):
        (point,) = params
        return Newton(params, hessian=lambda: landscape.hessian(point.value), lr=lr, damping=damping)

    return factory


# ---------------------------------------------------------------- plotting helpers

def grid(landscape: Landscape, n: int = 200, bounds=None):
    """Evaluate ``landscape`` on an ``n × n`` grid over ``bounds`` (its own by default).

    Returns ``X, Y, Z`` each of shape ``(n, n)`` (``meshgrid`` "xy" layout, so
    ``plt.contour(X, Y, Z)`` works as is), with ``Z = f(X, Y)`` in one vectorized call.
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n: expected an int >= 2 (points per axis), got {n}")
    (x0, x1), (y0, y1) = landscape.bounds if bounds is None else _check_bounds(bounds)
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return X, Y, landscape.value(np.stack([X, Y]))


def _check_bounds(bounds):
    try:
        (x0, x1), (y0, y1) = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds: expected ((xmin, xmax), (ymin, ymax)), got {bounds!r}") from None
    if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in (x0, x1, y0, y1)):
        raise ValueError(f"bounds: expected finite real numbers, got {bounds!r}")
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"bounds: expected xmin < xmax and ymin < ymax, got {bounds!r}")
    return (float(x0), float(x1)), (float(y0), float(y1))


def contour_levels(Z, num: int = 30, dynamic_range: float = 1e4) -> np.ndarray:
    """Contour levels spaced geometrically above ``Z.min()``, shape ``(num,)``.

    Valleys such as Rosenbrock's span several orders of magnitude, so evenly spaced
    levels would leave the floor of the valley blank. The levels are
    ``Z.min() + span * geomspace(1 / dynamic_range, 1, num)`` with
    ``span = Z.max() - Z.min()``; they work for negative values too (Saddle).
    """
    Z = check_array(Z, "Z", finite=True)
    num = check_positive_int(num, "num")
    dynamic_range = check_positive(dynamic_range, "dynamic_range")
    if dynamic_range <= 1:
        raise ValueError(f"dynamic_range: expected a number > 1, got {dynamic_range}")
    low, span = float(Z.min()), float(Z.max() - Z.min())
    if span == 0:
        raise ValueError(f"Z: expected values that vary, got a constant array ({low})")
    return low + span * np.geomspace(1.0 / dynamic_range, 1.0, num)
