"""Second-order methods against first-order ones: Newton, BFGS and L-BFGS on a landscape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes, optim
from gdcourse.memo import stored

__all__ = ["SecondOrderRun", "second_order_race"]


@dataclass
class SecondOrderRun:
    """Iterations, gradient evaluations, the final ``point (2,)`` and its ``distance`` to a minimum."""

    iterations: int
    gradient_evaluations: int
    point: np.ndarray
    distance: float


@stored
def second_order_race(landscape=None, x0=None, tol=1e-6, max_steps=5000) -> dict:
    """Iterations each method needs to reach ``tol`` of the minimum of a landscape (Rosenbrock by default).

    Methods: gradient descent with momentum (lr 1e-3, μ 0.9), Adam (lr 0.02), Newton
    (the exact Hessian, step 1), and L-BFGS and BFGS from ``scipy.optimize.minimize``
    (quasi-Newton: a curvature model built from gradient differences, no Hessian).
    One stopping rule for all: a method's count is that of its first iterate within ``tol`` of the
    minimum (for SciPy's methods, the iterate its callback reports after each iteration).
    Returns dict name -> :class:`SecondOrderRun`.
    """
    landscape = landscapes.Rosenbrock() if landscape is None else landscape
    x0 = landscape.start if x0 is None else np.asarray(x0, dtype=np.float64)
    runs = {
        "GD + momentum": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
        "Adam": lambda ps: optim.Adam(ps, lr=0.02),
        "Newton": landscapes.newton_factory(),
    }
    out = {name: _first_order_run(factory, landscape, x0, tol, max_steps) for name, factory in runs.items()}
    for method in ("L-BFGS-B", "BFGS"):
        out[method.removesuffix("-B")] = _quasi_newton_run(method, landscape, x0, tol, max_steps)
    return out


def _quasi_newton_run(method, landscape, x0, tol, max_steps):
    """SciPy's ``method`` stopped by the same rule as the others: the first iterate within ``tol``.

    SciPy's own stopping rules (L-BFGS-B's relative loss change, BFGS's gradient norm) are set far
    below what the race needs, and every iterate is recorded with the gradient evaluations spent so far,
    so no method is credited with a looser or stricter test than another.
    """
    from scipy.optimize import minimize  # here, not at the top: scipy.optimize adds 0.3 s to every kernel's start

    evaluations, iterates = [0], []

    def gradient(x):
        evaluations[0] += 1
        return landscape.gradient(x)

    def record(xk, *_):
        iterates.append((np.array(xk, dtype=np.float64), evaluations[0]))

    record(x0)
    res = minimize(landscape.value, x0, jac=gradient, method=method, callback=record,
                   options={"gtol": 1e-14, "ftol": 1e-20, "maxiter": max_steps} if method == "L-BFGS-B"
                   else {"gtol": 1e-14, "maxiter": max_steps})
    for k, (point, used) in enumerate(iterates):
        distance = _distance(landscape, point)
        if distance <= tol:
            return SecondOrderRun(k, used, point, distance)
    return SecondOrderRun(int(res.nit), evaluations[0], res.x, _distance(landscape, res.x))


def _first_order_run(factory, landscape, x0, tol, max_steps):
    path = landscapes.run(factory, landscape, x0, max_steps)
    gaps = _distances(landscape, path.points)
    inside = np.nonzero(gaps <= tol)[0]
    k = int(inside[0]) if inside.size else path.steps_taken
    return SecondOrderRun(k, k, path.points[k], float(gaps[k]))


def _distances(landscape, points):
    """Distance of each of ``points (k, 2)`` to the nearest known minimum, shape ``(k,)``."""
    gaps = np.asarray(points)[:, None, :] - np.stack(landscape.minima)[None]
    return np.sqrt((gaps * gaps).sum(axis=-1)).min(axis=1)


def _distance(landscape, p):
    return float(_distances(landscape, np.asarray(p)[None])[0])
