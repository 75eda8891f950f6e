"""A demonstration layer for the internal-covariate-shift experiment: noise that shifts the distribution of
the next layer's inputs at every training step on purpose."""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["InjectedNoise"]


class InjectedNoise(nn.Module):
    """Random per-unit scale and shift, redrawn at every training step (Santurkar et al., 2018, "noisy BN").

    Training: ``y = s ⊙ x + m`` with ``s = exp(scale_std · z₁)``, ``m = shift_std · z₂`` and fresh
    ``z₁, z₂ ~ N(0, I)`` of shape ``(D,)`` on every forward: the distribution of the next layer's inputs
    changes at every step on purpose. Evaluation: the identity. ``dx = s ⊙ dy``.
    """

    def __init__(self, num_features, scale_std=0.3, shift_std=0.5, rng=None):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.scale_std = check_positive(scale_std, "scale_std", allow_zero=True)
        self.shift_std = check_positive(shift_std, "shift_std", allow_zero=True)
        self.rng = as_rng(rng)

    def forward(self, x):
        if not self.training:
            self._cache = np.ones(self.num_features)
            return x
        scale = np.exp(self.scale_std * self.rng.standard_normal(self.num_features))
        self._cache = scale
        return x * scale + self.shift_std * self.rng.standard_normal(self.num_features)

    def backward(self, dy, input_grad=True):
        return dy * self._saved()

    def extra_repr(self):
        return f"num_features={self.num_features}, scale_std={self.scale_std}, shift_std={self.shift_std}"
