"""Second-order methods against first-order ones: Newton, BFGS and L-BFGS on a landscape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes, optim

__all__ = ["SecondOrderRun", "second_order_race"]


@dataclass
class SecondOrderRun:
    """Iterations, gradient evaluations, the final ``point (2,)`` and its ``distance`` to a minimum."""

    iterations: int
    gradient_evaluations: int
    point: np.ndarray
    distance: float


def second_order_race(landscape=None, x0=None, tol=1e-6, max_steps=5000) -> dict:
    """Iterations each method needs to reach ``tol`` of the minimum of a landscape (Rosenbrock by default).

    Methods: gradient descent with momentum (lr 1e-3, μ 0.9), Adam (lr 0.02), Newton
    (the exact Hessian, step 1), and L-BFGS and BFGS from ``scipy.optimize.minimize``
    (quasi-Newton: a curvature model built from gradient differences, no Hessian).
    Returns dict name -> :class:`SecondOrderRun`.
    """
    landscape = landscapes.Rosenbrock() if landscape is None else landscape
    x0 = landscape.start if x0 is None else np.asarray(x0, dtype=np.float64)
    runs = {
        "GD + momentum": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
        "Adam": lambda ps: optim.Adam(ps, lr=0.02),
        "Newton": landscapes.newton_factory(),
    }
    from scipy.optimize import minimize  # here, not at the top: scipy.optimize adds 0.3 s to every kernel's start

    out = {name: _first_order_run(factory, landscape, x0, tol, max_steps) for name, factory in runs.items()}
    for method in ("L-BFGS-B", "BFGS"):
        res = minimize(landscape.value, x0, jac=landscape.gradient, method=method,
                       options={"gtol": 1e-10, "maxiter": max_steps})
        out[method.removesuffix("-B")] = SecondOrderRun(int(res.nit), int(res.njev), res.x,
                                                       _distance(landscape, res.x))
    return out


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
