"""Inverted dropout (Srivastava et al., 2014)."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module
from gdcourse.validate import as_rng, check_unit_interval

__all__ = ["Dropout"]


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
