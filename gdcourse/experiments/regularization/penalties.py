"""REG-04 and REG-05: what a penalty does to an update, and weight decay vs an L2 penalty.

The update lines themselves are short public functions (:func:`penalty_step`, :func:`sgd_l2_step`,
:func:`sgd_decay_step`, :func:`adam_l2_step`, :func:`adamw_step`) that the notebook shows side by side;
the experiments run them and compare them with the package's optimizers.
"""

from __future__ import annotations

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import regularization as R
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["PENALTY_KINDS", "penalty_gradient", "penalty_step", "penalty_descent",
           "sgd_l2_step", "sgd_decay_step", "adam_l2_step", "adamw_step",
           "decay_problem", "weight_decay_comparison", "decay_effect"]


# ---------------------------------------------------------------- REG-04: squared vs plain L2 norm

PENALTY_KINDS = ("squared", "norm", "norm-prox")
"""``λ‖w‖²`` by gradient steps, ``λ‖w‖`` by gradient steps, ``λ‖w‖`` by its proximal step."""


def penalty_gradient(w, lam, kind):
    """Gradient of ``λ‖w‖²`` (``kind="squared"``: ``2λw``) or of ``λ‖w‖`` (``"norm"``: ``λ w/‖w‖``).

    The norm's gradient is undefined at ``w = 0`` (a cone's tip): a ValueError.
    """
    w = np.asarray(w, dtype=float)
    lam = check_positive(lam, "lam", allow_zero=True)
    if kind == "squared":
        return 2.0 * lam * w
    if kind == "norm":
        norm = np.linalg.norm(w)
        if norm == 0:
            raise ValueError("w: the gradient of λ‖w‖ is undefined at w = 0 (the norm has a kink there)")
        return lam * w / norm
    raise ValueError(f"kind: expected 'squared' or 'norm', got {kind!r}")


def penalty_step(w, lam, lr, kind):
    """One step of size ``lr`` on the penalty alone, from the vector ``w``; ``kind`` one of :data:`PENALTY_KINDS`.

    At ``w = 0`` the two norm steps leave ``w`` where it is (the gradient of ``‖w‖`` is undefined there).
    """
    if kind not in PENALTY_KINDS:
        raise ValueError(f"kind: expected one of {PENALTY_KINDS}, got {kind!r}")
    norm = np.linalg.norm(w)
    if kind == "squared":
        return (1.0 - 2.0 * lr * lam) * w          # w − η·2λw: the pull fades with w, never reaches 0
    if norm == 0:
        return w
    if kind == "norm":
        return w - lr * lam * w / norm             # a pull of length ηλ however small w is: overshoots 0
    return w * max(0.0, 1.0 - lr * lam / norm)     # proximal step (group lasso): lands exactly on 0


def penalty_descent(w0, lam, lr, steps, kind):
    """``‖w_t‖`` for t = 0 … steps when descending a penalty alone from ``w0`` with :func:`penalty_step`.

    ``"squared"``: ``w ← (1 − 2ηλ) w``, a geometric decay that never reaches 0;
    ``"norm"``: ``w ← w − ηλ w/‖w‖``, a constant pull that overshoots 0 and then
    bounces within ``ηλ`` of it; ``"norm-prox"``: the proximal step of ``λ‖w‖``
    (block soft-thresholding, as in the group lasso), ``w ← w · max(0, 1 − ηλ/‖w‖)``,
    which lands exactly on 0. Returns ``(steps + 1,)``.
    """
    w = np.array(w0, dtype=float)
    lam, lr = check_positive(lam, "lam"), check_positive(lr, "lr")
    if kind not in PENALTY_KINDS:
        raise ValueError(f"kind: expected one of {PENALTY_KINDS}, got {kind!r}")
    norms = [np.linalg.norm(w)]
    for _ in range(check_positive_int(steps, "steps", allow_zero=True)):
        w = penalty_step(w, lam, lr, kind)
        norms.append(np.linalg.norm(w))
    return np.array(norms)


# ---------------------------------------------------------------- REG-05: weight decay vs L2, the update lines

def sgd_l2_step(w, grad, lr, lam):
    """SGD on the loss plus ``(λ/2)‖w‖²``: the penalty's gradient ``λw`` joins the loss gradient ``grad``.

    ``w``, ``grad``: arrays of one shape; returns the new ``w``.
    """
    return w - lr * (grad + lam * w)


def sgd_decay_step(w, grad, lr, lam):
    """SGD with weight decay: shrink ``w`` by the factor ``1 − ηλ``, then step. The same as :func:`sgd_l2_step`.

    ``w``, ``grad``: arrays of one shape; returns the new ``w``.
    """
    return (1.0 - lr * lam) * w - lr * grad


def adam_l2_step(w, grad, m, v, t, lr, lam, betas=(0.9, 0.999), eps=1e-8):
    """Adam (Kingma & Ba, 2015) on the loss plus ``(λ/2)‖w‖²``, step ``t`` = 1, 2, …: returns ``(w, m, v)``.

    ``w``, ``grad`` and the moments ``m``, ``v`` (zeros before step 1): arrays of one shape. The penalty's
    gradient ``λw`` joins the loss gradient, so it is divided by ``√v̂`` like the rest.
    """
    b1, b2 = betas
    g = grad + lam * w                                 # L2: part of the gradient
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_step(w, grad, m, v, t, lr, lam, betas=(0.9, 0.999), eps=1e-8):
    """AdamW (Loshchilov & Hutter, 2019), step ``t`` = 1, 2, …: returns ``(w, m, v)``; shapes as :func:`adam_l2_step`.

    The decay is decoupled: ``w`` shrinks by ``1 − ηλ`` outside the adaptive step; the moments see only
    the loss gradient.
    """
    b1, b2 = betas
    w = (1 - lr * lam) * w                             # decay: not divided by √v̂
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# ---------------------------------------------------------------- REG-05: the experiments

def decay_problem(rng=0):
    """The regression problem of :func:`weight_decay_comparison`: ``X (32, 4)``, ``Y (32, 3)``, ``w0 (4, 3)``."""
    rng = as_rng(rng)
    X, Y = rng.standard_normal((32, 4)), rng.standard_normal((32, 3))
    w0 = rng.standard_normal((4, 3))
    return X, Y, w0


def _by_hand(X, Y, w0, steps, lr, lam, adaptive_step):
    """``steps`` full-batch steps of ``adaptive_step`` (:func:`adam_l2_step` or :func:`adamw_step`) on the MSE."""
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t in range(1, steps + 1):
        grad = X.T @ (2.0 * (X @ w - Y) / Y.size)      # MSELoss averages over all N·3 entries
        w, m, v = adaptive_step(w, grad, m, v, t, lr, lam)
    return w


def weight_decay_comparison(steps=10, lr=0.05, lam=0.1, rng=0) -> dict:
    """Final weights of a bias-free ``Linear(4, 3)`` (MSE, full batch) after ``steps`` steps, per variant.

    Variants (all from the same start and data, :func:`decay_problem`):

    * ``"SGD(weight_decay)"``: the package's SGD with ``weight_decay=λ``;
    * ``"SGD + L2 in the loss"``: SGD without decay on the loss plus ``(λ/2)‖W‖²``;
    * ``"SGD, decay by hand"``: :func:`sgd_decay_step`, ``W ← (1 − ηλ)W − η∇L``;
    * ``"Adam(weight_decay)"``: Adam with ``weight_decay=λ`` (an L2 term inside the gradient);
    * ``"Adam + L2 in the loss"``: Adam without decay on the loss plus ``(λ/2)‖W‖²``;
    * ``"Adam + L2, by hand"``: :func:`adam_l2_step`;
    * ``"AdamW(weight_decay)"``: decoupled decay (Loshchilov & Hutter, 2019);
    * ``"AdamW, by hand"``: :func:`adamw_step`.
    """
    X, Y, w0 = decay_problem(rng)
    steps, lr, lam = check_positive_int(steps, "steps"), check_positive(lr, "lr"), check_positive(lam, "lam")
    variants = {
        "SGD(weight_decay)": (lambda p: optim.SGD(p, lr=lr, weight_decay=lam), False),
        "SGD + L2 in the loss": (lambda p: optim.SGD(p, lr=lr), True),
        "Adam(weight_decay)": (lambda p: optim.Adam(p, lr=lr, weight_decay=lam), False),
        "Adam + L2 in the loss": (lambda p: optim.Adam(p, lr=lr), True),
        "AdamW(weight_decay)": (lambda p: optim.AdamW(p, lr=lr, weight_decay=lam), False),
    }
    out = {}
    for name, (make_opt, l2_in_loss) in variants.items():
        layer = nn.Linear(4, 3, bias=False)
        layer.weight.value = w0
        opt, loss = make_opt(layer.parameters()), L.MSELoss()
        for _ in range(steps):
            opt.zero_grad()
            loss.forward(layer.forward(X), Y)
            layer.backward(loss.backward(), input_grad=False)
            if l2_in_loss:
                R.add_l2_grad(layer.parameters(), lam)
            opt.step()
        out[name] = layer.weight.value.copy()
    w = w0.copy()
    for _ in range(steps):
        w = sgd_decay_step(w, X.T @ (2.0 * (X @ w - Y) / Y.size), lr, lam)
    out["SGD, decay by hand"] = w
    out["Adam + L2, by hand"] = _by_hand(X, Y, w0, steps, lr, lam, adam_l2_step)
    out["AdamW, by hand"] = _by_hand(X, Y, w0, steps, lr, lam, adamw_step)
    return out


def decay_effect(optimizer, lam=0.1, lr=0.01, steps=100, grad_scales=(10.0, 0.0), rng=0) -> np.ndarray:
    """How much each weight shrank because of the decay term, after ``steps`` steps.

    Weights start at 1. Weight i receives a random data gradient ``grad_scales[i] · ε_t``
    (``ε_t ~ N(0, 1)``, the same draws in both runs); the run is repeated with
    ``λ = 0`` and the result is ``w_i(λ = 0) − w_i(λ)``. ``optimizer`` is
    ``"sgd"`` (weight_decay = L2), ``"adam+l2"`` (Adam's weight_decay, inside the
    adaptive scaling) or ``"adamw"``. Returns ``(len(grad_scales),)``.
    """
    makers = {
        "sgd": lambda p, wd: optim.SGD(p, lr=lr, weight_decay=wd),
        "adam+l2": lambda p, wd: optim.Adam(p, lr=lr, weight_decay=wd),
        "adamw": lambda p, wd: optim.AdamW(p, lr=lr, weight_decay=wd),
    }
    if optimizer not in makers:
        raise ValueError(f"optimizer: expected one of {sorted(makers)}, got {optimizer!r}")
    scales = np.asarray(grad_scales, dtype=float)
    noise = as_rng(rng).standard_normal((check_positive_int(steps, "steps"), len(scales)))
    finals = []
    for wd in (0.0, check_positive(lam, "lam")):
        p = nn.Parameter(np.ones(len(scales)), "w")
        opt = makers[optimizer]([p], wd)
        for eps in noise:
            opt.zero_grad()
            p.grad = scales * eps
            opt.step()
        finals.append(p.value.copy())
    return finals[0] - finals[1]
