"""Hessian-vector products without the Hessian, checked against the exact Hessian of logistic regression.

``H v`` is the directional derivative of the gradient along ``v``. Pearlmutter (1994, "Fast exact
multiplication by the Hessian") computes it exactly with one extra forward and backward pass (the
R-operator, or "double backprop": differentiate ``∇L · v`` once more); :mod:`gdcourse.curvature` uses the
central difference ``(∇L(w + hv) − ∇L(w − hv)) / 2h`` of two ordinary gradients, exact up to ``O(h²)``
plus round-off ``~u/h``. For logistic regression (mean binary cross-entropy on logits ``Xw``) the Hessian
is known in closed form, ``H = Xᵀ diag(p(1 − p)) X / n``, so the products can be checked against it.

Uses: the top eigenvalue by power iteration (the sharpness, GD-03c), and Hessian-free optimization (Martens,
2010): solve the Newton system ``H s = −g`` by conjugate gradients, which needs only products ``H v``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn
from gdcourse.curvature import hessian_vector_product, model_gradient
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["LogisticProblem", "logistic_problem", "logistic_hessian", "hvp_errors", "CGResult",
           "conjugate_gradient"]


@dataclass(frozen=True)
class LogisticProblem:
    """``X`` (n, d), labels ``y`` (n, 1) in {0, 1}, a point ``w`` (d,), and ``grad(w)`` → (d,) by backprop."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    grad: object


def logistic_problem(n: int = 200, d: int = 10, rng=0) -> LogisticProblem:
    """A random logistic regression, ``nn.Linear(d, 1, bias=False)`` with ``BCEWithLogitsLoss``, at a random point."""
    n, d, rng = check_positive_int(n, "n"), check_positive_int(d, "d"), as_rng(rng)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(float)[:, None]
    model = nn.Linear(d, 1, bias=False, rng=rng)
    w, grad, _ = model_gradient(model, losses.BCEWithLogitsLoss(), X, y)
    return LogisticProblem(X, y, w, grad)


def logistic_hessian(X, w) -> np.ndarray:
    """(d, d) exact Hessian of the mean binary cross-entropy: ``Xᵀ diag(p(1 − p)) X / n``, ``p = σ(Xw)``."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return (X * (p * (1 - p))[:, None]).T @ X / len(X)


def hvp_errors(eps_grid, problem: LogisticProblem, rng=0) -> np.ndarray:
    """Relative error ``‖Hv_fd − Hv‖ / ‖Hv‖`` of the central-difference product for each ``eps`` (random unit v)."""
    v = as_rng(rng).standard_normal(problem.w.size)
    v /= np.linalg.norm(v)
    exact = logistic_hessian(problem.X, problem.w) @ v
    return np.array([np.linalg.norm(hessian_vector_product(problem.grad, problem.w, v, eps=e) - exact)
                     / np.linalg.norm(exact) for e in eps_grid])


@dataclass(frozen=True)
class CGResult:
    """``solution`` (d,), ``products`` (number of ``matvec`` calls), ``residuals`` (‖b − A x‖ per iteration)."""

    solution: np.ndarray
    products: int
    residuals: np.ndarray


def conjugate_gradient(matvec, b, tol: float = 1e-10, max_iter: int | None = None) -> CGResult:
    """Solve ``A x = b`` for symmetric positive definite ``A`` given only ``matvec(v) = A v`` (Hestenes–Stiefel, 1952).

    In exact arithmetic it finishes in at most ``d`` products; stops when ``‖r‖ ≤ tol ‖b‖``.
    """
    b = np.asarray(b, dtype=np.float64)
    tol = check_positive(tol, "tol")
    max_iter = b.size if max_iter is None else check_positive_int(max_iter, "max_iter")
    x, r = np.zeros_like(b), b.copy()
    p, rr, residuals, products = r.copy(), float(r @ r), [float(np.linalg.norm(r))], 0
    for _ in range(max_iter):
        if np.sqrt(rr) <= tol * np.linalg.norm(b):
            break
        ap = np.asarray(matvec(p), dtype=np.float64)
        products += 1
        alpha = rr / float(p @ ap)
        x, r = x + alpha * p, r - alpha * ap
        rr_new = float(r @ r)
        p, rr = r + (rr_new / rr) * p, rr_new
        residuals.append(float(np.sqrt(rr)))
    return CGResult(x, products, np.array(residuals))
