"""The exponential moving average as a vectorized filter (the recursion Adam's moments and loss smoothing use).

``a_t = β a_{t−1} + (1 − β) x_t`` from ``a_{−1} = 0`` is a first-order linear filter. Written out,
``a_t = (1 − β) Σ_{s ≤ t} β^{t−s} x_s``: within a block of K steps that is one product with the
K×K lower-triangular matrix of powers ``β^{i−j}``, plus ``β^{i+1}`` times the value carried in from
the previous block. Every power is at most 1, so the sum is as accurate as the recursion, and a
loop over T/K blocks replaces a loop over T steps (``scipy.signal.lfilter`` computes the same, but
importing ``scipy.signal`` costs a notebook about a second).
"""

from __future__ import annotations

import numpy as np

from gdcourse.validate import check_unit_interval

__all__ = ["exponential_average"]

BLOCK = 64


def exponential_average(x, beta: float) -> np.ndarray:
    """``a_t = β a_{t−1} + (1 − β) x_t`` along axis 0, ``a_{−1} = 0``; ``x`` of shape ``(T, …)``, same shape out.

    Not bias-corrected: divide by ``1 − β^{t+1}`` for Adam's m̂ (Kingma & Ba 2015, Alg. 1).
    """
    beta = check_unit_interval(beta, "beta")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError(f"x: expected an array with a time axis (T, ...), got a scalar {x!r}")
    flat = x.reshape(len(x), -1)
    k = min(BLOCK, max(len(x), 1))
    exponent = np.subtract.outer(np.arange(k), np.arange(k))
    weights = np.where(exponent >= 0, (1.0 - beta) * beta ** np.maximum(exponent, 0), 0.0)   # (k, k)
    carry_powers = beta ** np.arange(1, k + 1)[:, None]                                       # (k, 1)
    out = np.empty_like(flat)
    carried = np.zeros(flat.shape[1])
    for start in range(0, len(flat), k):
        block = flat[start:start + k]
        n = len(block)
        out[start:start + n] = weights[:n, :n] @ block + carry_powers[:n] * carried
        carried = out[start + n - 1]
    return out.reshape(x.shape)
