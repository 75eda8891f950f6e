"""Internal covariate shift (Santurkar et al., 2018): batch norm still trains with noise injected after it,
smooths the loss along the gradient, and makes a layer invariant to the scale of its weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim
from gdcourse.experiments.normalization.axes import _check_batch_size, _random_batches
from gdcourse.experiments.normalization.injected_noise import InjectedNoise
from gdcourse.experiments.normalization.networks import _mode_and_running_stats
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["InjectedNoise", "loss_along_gradient", "SmoothnessTrace", "smoothness_during_training",
           "ScaleInvariance", "scale_invariance"]


def _loss_and_gradient(model, loss, X, y):
    model.zero_grad()
    value = loss.forward(model(X), y)
    model.backward(loss.backward(), input_grad=False)
    return value, [p.grad.copy() for p in model.parameters()]


def loss_along_gradient(model, X, y, lr, multipliers=(0.25, 0.5, 1.0, 2.0, 4.0)):
    """Loss and gradient at ``θ − k·lr·g`` for each ``k`` in ``multipliers``, ``g`` the gradient at ``θ``.

    Santurkar et al. (2018) measure how smooth the landscape is along the step: the spread of these losses
    ("loss landscape") and ``‖∇L(θ − k lr g) − ∇L(θ)‖ / ‖k lr g‖`` ("β-smoothness"). The batch ``(X, y)``
    is fixed; the model is left exactly as it was (values, gradients, running statistics, mode).
    Returns ``(losses (K,), gradient_change (K,))``.
    """
    params = model.parameters()
    start = [p.value.copy() for p in params]
    saved_grads = [p.grad.copy() for p in params]
    ce = losses.CrossEntropyLoss()
    out_losses, changes = [], []
    with _mode_and_running_stats(model, model.training):
        _, grads = _loss_and_gradient(model, ce, X, y)
        step_norm = np.sqrt(sum(np.sum(g * g) for g in grads)) * lr
        for k in multipliers:
            for p, w, g in zip(params, start, grads, strict=True):
                p.value = w - k * lr * g
            value, moved = _loss_and_gradient(model, ce, X, y)
            out_losses.append(value)
            changes.append(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(moved, grads, strict=True)))
                           / (k * step_norm))
        for p, w, g in zip(params, start, saved_grads, strict=True):
            p.value, p.grad = w, g
    return np.array(out_losses), np.array(changes)


@dataclass(frozen=True)
class SmoothnessTrace:
    """Training with probes: ``step_loss (T,)``; at each probe step ``steps (C,)``, ``loss_range (C,)`` (max −
    min of the losses along the gradient) and ``beta (C,)`` (the largest gradient change per unit move)."""

    step_loss: np.ndarray
    steps: np.ndarray
    loss_range: np.ndarray
    beta: np.ndarray


def smoothness_during_training(model, X, y, *, lr=0.1, steps=60, every=5, batch_size=64, rng=0):
    """Plain SGD on random batches of ``batch_size`` rows of ``(X, y)``; every ``every`` steps, probe the
    landscape along the current gradient with :func:`loss_along_gradient` (same batch).

    Returns a :class:`SmoothnessTrace`.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    steps, every = check_positive_int(steps, "steps"), check_positive_int(every, "every")
    batch_size = _check_batch_size(batch_size, high=len(X))
    ce, opt = losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    index = _random_batches(len(X), batch_size, steps, as_rng(rng))
    step_loss, probes, ranges, betas = [], [], [], []
    for t, rows in enumerate(index):
        if t % every == 0:
            along, change = loss_along_gradient(model, X[rows], y[rows], lr)
            probes.append(t)
            ranges.append(along.max() - along.min())
            betas.append(change.max())
        value, _ = _loss_and_gradient(model, ce, X[rows], y[rows])
        step_loss.append(value)
        opt.step()
    return SmoothnessTrace(np.array(step_loss), np.array(probes), np.array(ranges), np.array(betas))


@dataclass(frozen=True)
class ScaleInvariance:
    """``Linear(no bias) → BatchNorm1d``: output change when ``W`` is scaled by ``c``, ``⟨∇_W L, W⟩`` per
    output unit, and ``‖∇L(cW)‖ / ‖∇L(W)‖`` (``1/c`` in theory)."""

    output_change: float
    grad_dot_weight: np.ndarray
    grad_ratio: float


def scale_invariance(c=3.0, n=32, d_in=5, d_out=4, rng=0) -> ScaleInvariance:
    """Check the three consequences of ``BN(c W x) = BN(W x)`` on a random batch and upstream gradient."""
    c = check_positive(c, "c")
    rng = as_rng(rng)
    x, dy = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    outputs, grads = [], []
    for factor in (1.0, c):
        linear = nn.Linear(d_in, d_out, bias=False, rng=0)
        linear.weight.value = linear.weight.value * factor
        model = nn.Sequential(linear, nn.BatchNorm1d(d_out))
        outputs.append(model(x))
        model.zero_grad()
        model.backward(dy)
        grads.append(linear.weight.grad.copy())
        weight = linear.weight.value.copy()
    return ScaleInvariance(float(np.abs(outputs[1] - outputs[0]).max()), np.sum(grads[1] * weight, axis=0),
                           float(np.linalg.norm(grads[1]) / np.linalg.norm(grads[0])))
