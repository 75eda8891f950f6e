"""Inverted dropout (Srivastava et al., 2014) and its per-sample form, DropPath (stochastic depth)."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module
from gdcourse.validate import as_rng, check_unit_interval

__all__ = ["Dropout", "DropPath"]


class Dropout(Module):
    """Zero each input with probability ``p`` during training and scale the rest by ``1/(1−p)``.

    Because of the scaling ("inverted" dropout) the expected output equals the
    input, so evaluation needs no rescaling: in ``eval()`` mode the layer is the
    identity. Backward multiplies by the same mask: ``dx = dy ⊙ m / (1−p)``.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_unit_interval(p, "p")
        self.rng = as_rng(rng)

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.p == 0:
            return self._keep(1.0, x)
        scale = np.asarray(1.0 / (1.0 - self.p), dtype=x.dtype if x.dtype.kind == "f" else np.float64)
        mask = (self.rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= self.p) * scale
        return self._keep(mask, x * mask)

    def backward(self, dy, input_grad=True):
        mask = self._saved(dy)
        return dy * mask

    def extra_repr(self):
        return f"p={self.p}"


class DropPath(Module):
    """Stochastic depth (Huang et al., 2016) as a layer: drop a whole sample's input with probability ``p``.

    Training: ``y[i] = x[i] · mᵢ / (1 − p)`` with one ``mᵢ ~ Bernoulli(1 − p)`` per
    sample ``i`` (the first axis), so the expected output is the input; eval:
    the identity. Put it at the end of a residual branch,
    ``Residual(Sequential(block, DropPath(p)))``: a dropped sample skips the
    block (``y = x``) for this step. Dropout zeroes single units, DropConnect
    single weights; DropPath removes a whole branch per sample.
    """

    def __init__(self, p=0.1, rng=None):
        super().__init__()
        self.p = check_unit_interval(p, "p")
        self.rng = as_rng(rng)

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.p == 0:
            return self._keep(1.0, x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        keep = self.rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= self.p
        mask = keep.astype(dtype) * np.asarray(1.0 / (1.0 - self.p), dtype=dtype)
        return self._keep(mask, x * mask)

    def backward(self, dy, input_grad=True):
        return dy * self._saved(dy)

    def extra_repr(self):
        return f"p={self.p}"
