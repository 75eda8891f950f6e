"""The gradient descent rule itself, ``x_{t+1} = x_t − η ∇f(x_t)`` (Cauchy, 1847), and what the gradient says.

:func:`gd_path` is the loop the whole notebook runs (and shows); :func:`sequential_coordinate_step` is
the common mistake of updating one coordinate at a time; :func:`slopes_along_directions` measures that
the gradient is the direction of steepest ascent.
"""

from __future__ import annotations

import numpy as np

from gdcourse import landscapes
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = ["DIVERGENCE_RADIUS", "gd_path", "clip_to_norm", "sequential_coordinate_step", "slopes_along_directions"]

DIVERGENCE_RADIUS = landscapes.DIVERGENCE_RADIUS
"""A run that leaves ``|x| <= 1e6`` is stopped and counted as diverged."""


def check_lr(lr):
    """A learning rate: a real number >= 0."""
    return check_positive(lr, "lr", allow_zero=True)


def check_point(p, name):
    """A finite point of the plane as float64, shape (2,)."""
    p = check_array(p, name, float_only=False, finite=True)
    if p.shape != (2,) or p.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected 2 real numbers (shape (2,)), got shape {p.shape}, "
                         f"dtype {p.dtype}")
    return p.astype(np.float64)


def gd_path(grad_fn, x0, lr, steps, clip_norm=None) -> np.ndarray:
    """Gradient descent ``x_{t+1} = x_t − lr · g(x_t)`` from ``x0``: the points, ``(k + 1,) + np.shape(x0)``.

    ``g = grad_fn(x)``, clipped to length ``clip_norm`` if given (Pascanu et al., 2013). A run that
    leaves ``|x| <= 1e6`` stops there (``k < steps``): its last row is the first point outside.
    """
    x, lr, steps = _checked_run(grad_fn, x0, lr, steps, clip_norm)
    path = [x]
    with np.errstate(over="ignore", invalid="ignore"):  # a divergence shows as the early stop
        for _ in range(steps):
            g = _gradient(grad_fn, x)
            if clip_norm is not None:
                g = clip_to_norm(g, clip_norm)
            x = x - lr * g
            path.append(x)
            if not _inside(x):
                break
    return np.array(path)


def clip_to_norm(g, max_norm) -> np.ndarray:
    """``g · min(1, max_norm / ‖g‖)``: ``g`` shortened to length ``max_norm`` when it is longer."""
    return g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-300))


def _checked_run(grad_fn, x0, lr, steps, clip_norm):
    """``(x0 as float64, lr, steps)`` after checking every argument of :func:`gd_path`."""
    if not callable(grad_fn):
        raise TypeError(f"grad_fn: expected a callable x -> gradient, got {type(grad_fn).__name__}")
    x = check_array(x0, "x0", ndim=(0, 1), float_only=False, finite=True).astype(np.float64)
    if clip_norm is not None:
        check_positive(clip_norm, "clip_norm")
    return x, check_lr(lr), check_positive_int(steps, "steps", allow_zero=True)


def _gradient(grad_fn, x):
    g = np.asarray(grad_fn(x), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad_fn: expected a gradient of shape {x.shape}, got shape {g.shape}")
    return g


def _inside(x) -> bool:
    """Finite and within :data:`DIVERGENCE_RADIUS` of the origin."""
    return bool(np.all(np.isfinite(x)) and np.linalg.norm(x) <= DIVERGENCE_RADIUS)


def sequential_coordinate_step(grad_fn, w, lr) -> np.ndarray:
    """One sweep that updates coordinates one at a time, each from a fresh gradient (a common mistake).

    ``w_j ← w_j − lr · ∂f/∂w_j(w)`` for j = 1..d, where ``w`` already holds the new
    values of coordinates 1..j−1. This is coordinate descent, not gradient descent:
    gradient descent computes the whole gradient at the old point first. Returns
    the new ``w (d,)`` (the input is not modified).
    """
    w = check_array(w, "w", ndim=1, float_only=False, finite=True).astype(np.float64)
    lr = check_lr(lr)
    for j in range(w.size):  # the order of the sweep is the point of this function
        w[j] -= lr * np.asarray(grad_fn(w), dtype=np.float64)[j]
    return w


def slopes_along_directions(landscape, point, angles, h=1e-6) -> np.ndarray:
    """The slope of ``f`` along the unit direction ``u(θ) = (cos θ, sin θ)``, for each angle.

    Central differences of the *value* only, ``(f(p + h u) − f(p − h u)) / (2h)``, so
    the result does not rely on the landscape's gradient code. Calculus says it
    equals ``∇f(p) · u(θ)``: largest, equal to ``|∇f(p)|``, when u points along the
    gradient. Returns ``(m,)`` for ``angles (m,)``.
    """
    if not isinstance(landscape, landscapes.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    p = check_point(point, "point")
    angles = check_array(angles, "angles", ndim=1, float_only=False, finite=True).astype(np.float64)
    h = check_positive(h, "h")
    u = np.stack([np.cos(angles), np.sin(angles)])  # (2, m)
    return (landscape.value(p[:, None] + h * u) - landscape.value(p[:, None] - h * u)) / (2.0 * h)
