"""``GaussianNoise``: additive noise injection, a regularizer (notebook 07)."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module
from gdcourse.validate import as_rng, check_positive

__all__ = ["GaussianNoise"]


class GaussianNoise(Module):
    """Noise injection: ``x + σ ε``, ``ε ~ N(0, I)``, in training mode; the identity in eval mode.

    Input noise is a form of data augmentation; for small σ it acts like a
    Tikhonov (L2-type) penalty on the model's input gradient (Bishop, 1995).
    Backward passes ``dy`` through unchanged.
    """

    def __init__(self, std, rng=None):
        super().__init__()
        self.std = check_positive(std, "std", allow_zero=True)
        self.rng = as_rng(rng)

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.std == 0:
            return self._keep(True, x)
        return self._keep(True, x + self.std * self.rng.standard_normal(x.shape))

    def backward(self, dy, input_grad=True):
        self._saved(dy)
        return dy

    def extra_repr(self):
        return f"std={self.std}"
