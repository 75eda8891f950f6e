"""The textbook forms of momentum and of Nesterov's method, written out and run side by side.

Heavy-ball momentum (Polyak, 1964) has three common forms: PyTorch's ``b ← μb + g; θ ← θ − γb``
(:func:`momentum_step`, ``optim.SGD``), the velocity form of Sutskever et al. (2013)
(:func:`velocity_form`) and an exponential moving average (:func:`ema_form`). Nesterov's method takes
the gradient at the look-ahead point ``θ + μv`` (:func:`nesterov_step`).
"""

from __future__ import annotations

import numpy as np

from gdcourse import optim
from gdcourse.experiments.optimizers.running import descend, lr_sequence
from gdcourse.validate import check_array, check_positive, check_positive_int, check_unit_interval

__all__ = ["momentum_step", "velocity_form", "ema_form", "momentum_forms", "nesterov_step", "nesterov_forms"]


def momentum_step(w, g, b, lr, momentum):
    """One step of PyTorch's momentum, ``b ← μ b + g;  w ← w − γ b``. Returns new ``(w, b)``.

    ``w, g, b`` arrays of one shape (not modified); ``b`` starts at zeros, so the first buffer
    is g, as in torch.
    """
    b_new = momentum * b + g
    return w - lr * b_new, b_new


def velocity_form(gradient, x0, lrs, momentum) -> np.ndarray:
    """Momentum as a velocity (Sutskever et al., 2013): ``v ← μv − γ_t ∇f(θ);  θ ← θ + v``.

    One step per rate in ``lrs``, from ``x0 (d,)`` and ``v = 0``. Returns the points ``(len(lrs) + 1, d)``.
    """
    theta, v = np.array(x0, dtype=np.float64), np.zeros(len(x0))
    points = [theta]
    for lr in lrs:
        v = momentum * v - lr * gradient(theta)
        theta = theta + v
        points.append(theta)
    return np.array(points)


def ema_form(gradient, x0, lrs, momentum) -> np.ndarray:
    """Momentum as a moving average of gradients: ``v ← βv + (1 − β) ∇f(θ);  θ ← θ − α_t v``.

    One step per rate ``α_t`` in ``lrs``, from ``x0 (d,)`` and ``v = 0``. Returns the points ``(len(lrs) + 1, d)``.
    """
    theta, v = np.array(x0, dtype=np.float64), np.zeros(len(x0))
    points = [theta]
    for lr in lrs:
        v = momentum * v + (1.0 - momentum) * gradient(theta)
        theta = theta - lr * v
        points.append(theta)
    return np.array(points)


def momentum_forms(gradient, x0, lr, momentum, steps) -> dict:
    """The three textbook forms of heavy-ball momentum (Polyak, 1964), run side by side.

    ``"pytorch"`` (``optim.SGD``)::

        b ← μ b + g;   θ ← θ − γ b

    ``"velocity"`` (Sutskever et al., 2013; many tutorials, some with v's sign flipped)::

        v ← μ v − γ g;   θ ← θ + v

    ``"ema"`` (an exponential moving average; Ng's course, many answer keys), with ``α = γ / (1 − μ)``::

        v ← μ v + (1 − μ) g;   θ ← θ − α v

    (written out in :func:`momentum_step`, :func:`velocity_form`, :func:`ema_form`). All buffers start at
    zero. With a constant γ the three paths are the same (``v_velocity = −γ b`` and ``v_ema = (1 − μ) b``);
    with a schedule (``lr`` an array) they differ, because the velocity form keeps the old γ in its buffer.

    Parameters
    ----------
    gradient : callable ``x (d,) -> g (d,)``
    x0 : array-like (d,)
    lr : float or array (steps,)
        γ, PyTorch's learning rate (per step when an array).
    momentum : float in [0, 1)
    steps : int

    Returns
    -------
    dict form name -> ndarray (steps + 1, d)
    """
    mu = check_unit_interval(momentum, "momentum")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    gammas = lr_sequence(lr, steps)
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    pytorch = descend(lambda ps: optim.SGD(ps, lr=float(gammas[0]) if steps else 1.0, momentum=mu),
                      gradient, x0, steps, lrs=gammas)
    return {"pytorch": pytorch, "velocity": velocity_form(gradient, x0, gammas, mu),
            "ema": ema_form(gradient, x0, gammas / (1.0 - mu), mu)}


def nesterov_step(gradient, theta, v, lr, momentum):
    """One step of Nesterov momentum (Sutskever et al., 2013): the gradient at the look-ahead point ``θ + μv``.

    ``v ← μv − γ ∇f(θ + μv);  θ ← θ + v``. Returns the new ``(θ, v)``.
    """
    v = momentum * v - lr * gradient(theta + momentum * v)
    return theta + v, v


def nesterov_forms(gradient, x0, lr, momentum, steps) -> dict:
    """Nesterov momentum in Sutskever et al.'s (2013) form and in PyTorch's form.

    ``"sutskever"`` (:func:`nesterov_step`; the gradient is taken at the look-ahead point θ + μv)::

        v ← μ v − γ ∇f(θ + μ v);   θ ← θ + v

    ``"pytorch"`` (``optim.SGD(nesterov=True)``; the gradient at the current point)::

        b ← μ b + g;   θ ← θ − γ (g + μ b)

    PyTorch's iterate *is* Sutskever's look-ahead point: with ``φ = θ + μv`` the
    first form becomes the second, so ``"pytorch"`` equals ``"lookahead"``
    (``θ + μv`` of the first form) step for step.

    Returns
    -------
    dict ``"sutskever"``, ``"lookahead"``, ``"pytorch"`` -> ndarray (steps + 1, d)
    """
    mu = check_unit_interval(momentum, "momentum")
    gamma = check_positive(lr, "lr")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    if mu == 0:
        raise ValueError("momentum: expected a number in (0, 1) for Nesterov momentum, got 0")
    theta, v = x0, np.zeros_like(x0)
    thetas, lookaheads = [theta], [theta]
    for _ in range(steps):
        theta, v = nesterov_step(gradient, theta, v, gamma, mu)
        thetas.append(theta)
        lookaheads.append(theta + mu * v)
    pytorch = descend(lambda ps: optim.SGD(ps, lr=gamma, momentum=mu, nesterov=True), gradient, x0, steps)
    return {"sutskever": np.array(thetas), "lookahead": np.array(lookaheads), "pytorch": pytorch}
