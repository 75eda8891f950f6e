"""How the best Adam learning rate moves with width: standard parameterization vs μP (SCALE-07).

Under the *standard parameterization* (SP: He init, one Adam rate for every tensor) a wider network's
output moves more per step at the same rate: Adam moves every weight by about ``lr``, and a unit sums
``fan_in`` such moves that, after a few steps, point the same way, so the change of a pre-activation grows
like ``lr · fan_in``. The best rate therefore falls as the width grows. The *maximal update
parameterization* (μP, Yang & Hu 2021; Yang et al. 2022, "Tensor Programs V") rescales so that every
layer's change per step stays of order one at any width; for Adam, in the form of the ``mup`` package,
with ``m = width / base_width``:

* the output layer's result is multiplied by ``1/m`` (its rate is unchanged),
* hidden weight matrices (fan-in and fan-out both grow with width) get the rate ``lr / m``,
* the input layer and the biases keep ``lr``; the initialization is He's in both.

At the base width the two are the same network. The sweep trains a ``64 → w → w → 10`` ReLU network
on the digits (Adam, batch 32) for every (rate, seed) at once: the weights of all runs are stacked along
a leading axis and one batched matrix product serves them all, which is what makes the sweep cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import cached, digits, mlp

__all__ = ["PARAMETERIZATIONS", "initial_weights", "train_stack", "stacked_loss", "WidthSweep", "width_sweep"]

PARAMETERIZATIONS = ("SP", "muP")


def initial_weights(width, seed, dtype=np.float64) -> list[np.ndarray]:
    """``[W1 (64, w), b1 (w,), W2 (w, w), b2 (w,), W3 (w, 10), b3 (10,)]`` of ``mlp((64, w, w, 10), rng=seed)``."""
    model = mlp((64, width, width, 10), rng=seed)
    return [p.value.astype(dtype) for p in model.parameters()]


def _multipliers(width, base_width, parameterization):
    """(per-tensor rate multipliers, output multiplier) for the six tensors of :func:`initial_weights`."""
    if parameterization == "SP":
        return np.ones(6), 1.0
    if parameterization == "muP":
        m = width / base_width
        return np.array([1.0, 1.0, 1.0 / m, 1.0, 1.0, 1.0]), 1.0 / m
    raise ValueError(f"parameterization: expected one of {PARAMETERIZATIONS}, got {parameterization!r}")


def train_stack(params, lrs, X, y, order, parameterization="SP", base_width=32, betas=(0.9, 0.999),
                eps=1e-8) -> list[np.ndarray]:
    """Adam on ``R`` stacked copies of the network; returns the trained stacked parameters.

    ``params``: the six tensors with a leading run axis ``(R, …)``; ``lrs (R,)`` each run's rate;
    ``order (R, steps, batch)`` the sample indices of every step. Mean cross-entropy per run; the same
    updates as :class:`gdcourse.optim.Adam` on the unstacked network (the tests compare them).
    """
    width = params[0].shape[-1]
    rate_mult, out_mult = _multipliers(width, base_width, parameterization)
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    runs, steps, batch = order.shape
    dtype = params[0].dtype
    onehot = np.eye(10, dtype=dtype)
    beta1, beta2 = betas
    lrs = np.asarray(lrs, dtype=np.float64)
    for t in range(1, steps + 1):
        xb, yb = X[order[:, t - 1]], onehot[y[order[:, t - 1]]]          # (R, B, 64), (R, B, 10)
        grads = _backprop(params, xb, yb, out_mult)
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            step = (lrs * rate_mult[i]).reshape((-1,) + (1,) * (p.ndim - 1)).astype(dtype)
            p -= step * (m[i] / c1) / (np.sqrt(v[i] / c2) + eps)
    return params


def _forward(params, x, out_mult):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.maximum(x @ W1 + b1[:, None, :], 0)
    h2 = np.maximum(h1 @ W2 + b2[:, None, :], 0)
    return h1, h2, out_mult * (h2 @ W3) + b3[:, None, :]


def _backprop(params, x, y_onehot, out_mult):
    """Gradients of the mean cross-entropy of every run, stacked like ``params``."""
    h1, h2, z = _forward(params, x, out_mult)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return _backward(params, x, h1, h2, (p - y_onehot) / x.shape[1], out_mult)


def _backward(params, x, h1, h2, dz, out_mult):
    """Stacked gradients of the six tensors from the forward values and ``dz = dL/dz (R, B, 10)``."""
    _, _, W2, _, W3, _ = params
    dW3 = out_mult * h2.transpose(0, 2, 1) @ dz
    dh2 = (out_mult * dz @ W3.transpose(0, 2, 1)) * (h2 > 0)
    dW2 = h1.transpose(0, 2, 1) @ dh2
    dh1 = (dh2 @ W2.transpose(0, 2, 1)) * (h1 > 0)
    dW1 = x.transpose(0, 2, 1) @ dh1
    return [dW1, dh1.sum(axis=1), dW2, dh2.sum(axis=1), dW3, dz.sum(axis=1)]


def stacked_loss(params, X, y, parameterization="SP", base_width=32) -> np.ndarray:
    """(R,) mean cross-entropy of every stacked run on the whole of ``X``."""
    _, out_mult = _multipliers(params[0].shape[-1], base_width, parameterization)
    _, _, z = _forward(params, np.broadcast_to(X, (len(params[0]),) + X.shape), out_mult)
    z = z.astype(np.float64)
    top = z.max(axis=-1, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))
    return -log_p[:, np.arange(len(y)), y].mean(axis=1)


@dataclass(frozen=True)
class WidthSweep:
    """Training loss after a short Adam run, for every width × rate × seed, under SP and μP."""

    widths: tuple
    lrs: np.ndarray           # (L,)
    loss: dict                # parameterization → (len(widths), L, seeds) final training loss

    def best_lr(self, parameterization) -> np.ndarray:
        """(len(widths),) the rate with the lowest seed-averaged loss at each width."""
        return self.lrs[np.argmin(np.nan_to_num(self.loss[parameterization].mean(axis=2), nan=np.inf), axis=1)]


RATES = tuple(float(r) for r in 2.0 ** np.arange(-11, -2))
"""Adam rates of the sweep: 2⁻¹¹ … 2⁻³, factors of 2."""


@cached
def width_sweep(rng=0, seeds=3, widths=(16, 32, 64, 128, 256), lrs=RATES,
                steps=60, batch=32) -> WidthSweep:
    """The lr × width sweep: ``steps`` Adam steps (about 2 epochs) per run, seeds ``rng … rng + seeds − 1``
    (each seed: its own initialization and batch order, shared by every rate and both parameterizations).
    Computed in float32; the loss is the mean cross-entropy on the 988 training digits."""
    d = digits(standardized=True)
    X, y = d.X_train.astype(np.float32), d.y_train
    lrs = np.asarray(lrs, dtype=np.float64)
    seed_ids = list(range(rng, rng + seeds))
    orders = np.stack([np.random.default_rng(seed).integers(0, len(X), (steps, batch)) for seed in seed_ids])
    loss = {}
    for name in PARAMETERIZATIONS:
        table = np.empty((len(widths), len(lrs), seeds))
        for i, width in enumerate(widths):
            inits = [initial_weights(width, seed, np.float32) for seed in seed_ids]
            stacked = [np.stack([inits[s][k] for _ in lrs for s in range(seeds)]) for k in range(6)]
            run_lrs = np.repeat(lrs, seeds)
            order = np.tile(orders, (len(lrs), 1, 1))
            with np.errstate(all="ignore"):
                trained = train_stack(stacked, run_lrs, X, y, order, name, base_width=widths[0])
                table[i] = stacked_loss(trained, X, y, name, base_width=widths[0]).reshape(len(lrs), seeds)
        loss[name] = table
    return WidthSweep(tuple(widths), lrs, loss)
