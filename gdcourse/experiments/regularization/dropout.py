"""REG-06: inverted dropout, forward and backward, and what it preserves (the mean, not the variance)."""

from __future__ import annotations

import numpy as np

from gdcourse.validate import as_rng, check_positive_int, check_unit_interval

__all__ = ["dropout_forward", "dropout_backward", "dropout_moments"]


def dropout_forward(x, p, rng, training=True):
    """Inverted dropout (Srivastava et al., 2014): returns ``(out, mask)``.

    Training: ``mask = (u ≥ p) / (1 − p)`` with ``u ~ U[0, 1)`` drawn by
    ``rng.random(x.shape)`` (the draw ``nn.Dropout`` makes), ``out = x · mask``;
    ``E[out] = x``. Evaluation (or ``p = 0``): ``out = x``, ``mask = None``.
    """
    p = check_unit_interval(p, "p")
    x = np.asarray(x, dtype=float)
    if not training or p == 0:
        return x, None
    mask = (as_rng(rng).random(x.shape) >= p) / (1.0 - p)   # keep with probability 1 − p, scale the survivors
    return x * mask, mask


def dropout_backward(dout, mask):
    """``dx = dout · mask``: the same mask (and scale) as the forward pass; identity when ``mask`` is None."""
    dout = np.asarray(dout, dtype=float)
    return dout if mask is None else dout * mask


def dropout_moments(x, p, samples=20000, rng=0):
    """Mean and variance over ``samples`` dropout masks of ``dropout_forward(x)``, per entry.

    Theory: mean ``x`` (inverted scaling) and variance ``x² p / (1 − p)``.
    Returns ``(mean, var)``, each shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)
    p = check_unit_interval(p, "p")
    keep = as_rng(rng).random((check_positive_int(samples, "samples"),) + x.shape) >= p
    outs = keep * (x / (1.0 - p))
    return outs.mean(axis=0), outs.var(axis=0)
