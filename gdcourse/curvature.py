"""Curvature without the Hessian: Hessian-vector products and the top eigenvalue by power iteration.

A network's Hessian has P² entries (P parameters), far too many to form, but
the product ``H v`` costs about two gradients: it is the directional
derivative of the gradient along ``v``,

    H v = d/dh ∇L(θ + h v) |ₕ₌₀ ≈ (∇L(θ + h v) − ∇L(θ − h v)) / (2h),

exact up to O(h²) (Pearlmutter, 1994, computes it exactly with one extra
forward/backward pass; the central difference is the version that needs only
a gradient). Power iteration on ``v ← H v / ‖H v‖`` then finds the eigenvalue
of largest magnitude, λmax when the Hessian is positive near a minimum: the
sharpness that decides whether gradient descent with rate η is stable
(η < 2/λmax on a quadratic; the edge of stability, Cohen et al. 2021).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["hessian_vector_product", "model_gradient", "power_iteration", "PowerIterationResult"]


def hessian_vector_product(grad, w, v, eps=1e-4) -> np.ndarray:
    """``H(w) v`` by central differences of ``grad``: ``(grad(w + h v) − grad(w − h v)) / (2h)``.

    Parameters
    ----------
    grad : callable, (P,) -> (P,), the gradient of the loss
    w, v : (P,) float arrays, the point and the direction
    eps : float; the step is ``h = eps · (1 + ‖w‖) / ‖v‖`` so it is relative to both sizes.

    Returns the (P,) product (zeros when ``v`` is zero).
    """
    w, v = np.asarray(w, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if w.shape != v.shape or w.ndim != 1:
        raise ValueError(f"w, v: expected two 1-D arrays of one shape, got {w.shape} and {v.shape}")
    eps = check_positive(eps, "eps")
    v_norm = np.linalg.norm(v)
    if v_norm == 0:
        return np.zeros_like(v)
    h = eps * (1.0 + np.linalg.norm(w)) / v_norm
    return (np.asarray(grad(w + h * v)) - np.asarray(grad(w - h * v))) / (2.0 * h)


def model_gradient(model, loss, X, y):
    """``(w0, grad)``: the model's parameters as one vector, and ``grad(w)`` → dL/dθ at ``w``.

    ``grad`` loads ``w`` into the model, runs forward and backward on ``(X, y)`` in
    the model's current mode, and returns a copy of the gradient (P,). Call
    ``load(w0)`` (the third element) to put the original parameters back.
    """
    params = model.parameters()
    shapes = [p.shape for p in params]
    sizes = [int(np.prod(s)) for s in shapes]

    def load(w):
        for p, piece, shape in zip(params, np.split(np.asarray(w), np.cumsum(sizes)[:-1]), shapes, strict=True):
            p.value[...] = piece.reshape(shape)

    def grad(w):
        load(w)
        model.zero_grad()
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)
        return np.concatenate([p.grad.ravel() for p in params])

    w0 = np.concatenate([p.value.ravel() for p in params]).astype(np.float64)
    return w0, grad, load


@dataclass(frozen=True)
class PowerIterationResult:
    """``eigenvalue`` (Rayleigh quotient vᵀHv), unit ``vector``, ``iterations`` used, ``converged``."""

    eigenvalue: float
    vector: np.ndarray
    iterations: int
    converged: bool


def power_iteration(matvec, dim, rng=None, iters=100, tol=1e-6) -> PowerIterationResult:
    """The eigenvalue of largest magnitude of a symmetric operator given only ``matvec(v)``.

    ``v ← A v / ‖A v‖`` from a random start; stops when the Rayleigh quotient
    ``vᵀ A v`` changes by less than ``tol`` relative. The error shrinks like
    ``|λ₂/λ₁|ᵏ``, so close top eigenvalues need many iterations. If the most
    negative eigenvalue is larger in magnitude than λmax (a saddle), that is the
    one found: the sign of ``eigenvalue`` tells.
    """
    dim = check_positive_int(dim, "dim")
    iters = check_positive_int(iters, "iters")
    tol = check_positive(tol, "tol")
    v = as_rng(rng).standard_normal(dim)
    v /= np.linalg.norm(v)
    eigenvalue = np.inf
    for k in range(1, iters + 1):
        av = np.asarray(matvec(v), dtype=np.float64)
        new = float(v @ av)
        norm = np.linalg.norm(av)
        if norm == 0:
            return PowerIterationResult(0.0, v, k, True)
        v = av / norm
        if abs(new - eigenvalue) <= tol * abs(new):
            return PowerIterationResult(new, v, k, True)
        eigenvalue = new
    return PowerIterationResult(eigenvalue, v, iters, False)
