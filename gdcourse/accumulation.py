"""Gradient accumulation: one optimizer step from several micro-batches, for batches too large to fit at once.

The mean loss of a batch of ``n`` samples split into micro-batches of sizes
``n₁ … n_k`` is ``Σᵢ (nᵢ/n) · meanᵢ``, so backpropagating each micro-batch's
mean loss with weight ``nᵢ/n`` and *adding* the gradients gives exactly the
gradient of the whole batch, also for unequal micro-batches (weighting each by
``1/k`` instead is only right when they are equal). It stays exact for every
loss that is a mean over samples and every layer that treats samples
independently; it is *not* the same with batch normalization, whose statistics
come from each micro-batch (notebook 11 measures the difference).
"""

from __future__ import annotations

import numpy as np

from gdcourse.validate import check_positive_int

__all__ = ["split_batch", "accumulate_gradients"]


def split_batch(x, y, parts):
    """``parts`` consecutive micro-batches of ``(x, y)`` with sizes differing by at most one."""
    parts = check_positive_int(parts, "parts")
    if parts > len(x):
        raise ValueError(f"parts: expected at most the batch size {len(x)}, got {parts}")
    bounds = np.linspace(0, len(x), parts + 1).round().astype(int)
    return [(x[a:b], y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def accumulate_gradients(model, loss, x, y, parts, loss_value=None):
    """Forward and backward ``parts`` micro-batches, adding their weighted gradients into ``.grad``.

    Parameters
    ----------
    model, loss : as for :func:`gdcourse.train.fit`; the gradients are added to
        whatever ``.grad`` holds (call ``optimizer.zero_grad()`` first).
    x : (N, ...), y : (N, ...)
    parts : int, number of micro-batches
    loss_value : callable ``(loss, out, target) -> float``, optional
        How to evaluate the loss (``fit`` passes its divergence-aware version).

    Returns ``(value, out)``: the batch's mean loss and the (N, ...) outputs.
    """
    evaluate = loss_value or (lambda loss, out, target: loss.forward(out, target))
    n = len(x)
    value, outputs = 0.0, []
    for xb, yb in split_batch(x, y, parts):
        out = model.forward(xb)
        weight = len(xb) / n
        value += weight * evaluate(loss, out, yb)
        dy = loss.backward()
        model.backward(dy * np.asarray(weight, dtype=dy.dtype), input_grad=False)
        outputs.append(out)
    return value, np.concatenate(outputs)
