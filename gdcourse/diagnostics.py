"""What an engineer looks at when training misbehaves: per-layer gradient norms,
activation statistics, saturation and dead units.

All functions take a ``Sequential`` model and a batch and leave the model's
parameters and gradients as they found them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from gdcourse import nn
from gdcourse._fit_inputs import check_pair, check_targets, check_targets_fit_output
from gdcourse.validate import check_array

__all__ = ["LayerStats", "gradient_norms", "activation_stats", "dead_units"]

_SATURATING = (nn.Sigmoid, nn.Tanh)
_RECTIFIERS = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus)


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one activation layer's output over a batch.

    ``saturated``: share of outputs where the local derivative is below 1% of its
    maximum (sigmoid/tanh near ±1, i.e. no gradient flows). ``dead``: share of
    units (columns) whose output is ≤ 0 for every sample in the batch (ReLU-like
    layers), so their incoming weights receive no gradient.
    """

    index: int
    layer: str
    mean: float
    std: float
    saturated: float
    dead: float


@contextmanager
def _keeping_buffers(model):
    """Forward passes in training mode update buffers (BatchNorm's running statistics); undo that."""
    buffers = {name for name, _ in model.named_buffers(remove_duplicate=False)}
    saved = {key: value for key, value in model.state_dict().items() if key in buffers}
    try:
        yield
    finally:
        model.load_state_dict(saved, strict=False)


def _layers(model):
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected a gdcourse.nn.Sequential, got {type(model).__name__}")
    return list(model)


def gradient_norms(model, loss, X, y) -> list[tuple[int, str, float]]:
    """L2 norm of each layer's weight gradient on one batch, from input to output.

    Runs one forward/backward pass (in the model's current mode) and restores the
    gradients that were there before. Returns ``(layer index, layer name, norm)``
    for every layer that has parameters; the weight (the first parameter) is used,
    as is usual for "gradient norm per layer" plots. ``X`` and ``y`` are checked as
    ``train.evaluate`` checks them.
    """
    X, y = check_pair((X, y), "X, y", "X", "y")
    check_targets(loss, y, "y")
    layers = _layers(model)
    saved = [p.grad.copy() for p in model.parameters()]
    try:
        with _keeping_buffers(model):
            model.zero_grad()
            out = model.forward(X)
            check_targets_fit_output(loss, y, "y", out)
            loss.forward(out, y)
            model.backward(loss.backward(), input_grad=False)
            return [
                (i, type(layer).__name__, float(np.linalg.norm(layer.parameters()[0].grad)))
                for i, layer in enumerate(layers) if layer.parameters()
            ]
    finally:
        for p, g in zip(model.parameters(), saved, strict=True):
            p.grad = g


def _layer_outputs(model, X):
    """``(index, layer, output)`` for every layer, running statistics left untouched."""
    outputs, layers = [], _layers(model)
    with _keeping_buffers(model):
        h = X
        for i, layer in enumerate(layers):
            h = layer.forward(h)
            outputs.append((i, layer, h))
    return outputs


def _saturation(layer, y):
    if isinstance(layer, nn.Sigmoid):
        return float(np.mean(y * (1 - y) < 0.01 * 0.25))
    if isinstance(layer, nn.Tanh):
        return float(np.mean(1 - y * y < 0.01))
    return 0.0


def activation_stats(model, X) -> list[LayerStats]:
    """Mean, std, saturation and dead-unit share of every activation layer's output on ``X``."""
    X = check_array(X, "X", finite=True)
    stats = []
    for i, layer, h in _layer_outputs(model, X):
        if isinstance(layer, _SATURATING + _RECTIFIERS):
            dead = float(np.mean(np.all(h <= 0, axis=0))) if isinstance(layer, _RECTIFIERS) else 0.0
            stats.append(LayerStats(i, type(layer).__name__, float(h.mean()), float(h.std()),
                                    _saturation(layer, h), dead))
    return stats


def dead_units(model, X) -> dict[int, np.ndarray]:
    """For each ReLU layer, the indices of units that output 0 for every sample of ``X``.

    A unit that is dead on a large, representative batch is dead for good with
    plain ReLU: its gradient is 0, so no update can revive it.
    """
    X = check_array(X, "X", finite=True)
    dead = {}
    for i, layer, h in _layer_outputs(model, X):
        if isinstance(layer, nn.ReLU):
            dead[i] = np.flatnonzero(np.all(h <= 0, axis=0))
    return dead
