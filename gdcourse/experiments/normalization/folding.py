"""Folding batch norm into the linear layer before it: in evaluation mode batch norm is a fixed affine map
per feature, so ``Linear → BatchNorm1d`` is one ``Linear``."""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.validate import check_array

__all__ = ["fold_batchnorm", "folded_linear"]


def _check_fold(weight, vectors):
    weight = check_array(weight, "weight", ndim=2, finite=True)
    out = weight.shape[1]
    for name, value in vectors.items():
        check_array(value, name, ndim=1, finite=True)
        if len(value) != out:
            raise ValueError(f"{name}: expected shape ({out},) to match weight {weight.shape}, "
                             f"got {np.shape(value)}")
    return weight


def fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5):
    """Weights ``(W' (in, out), b' (out,))`` of one linear layer equal to ``Linear(W, b)`` then batch norm in
    evaluation mode: ``W' = W diag(s)``, ``b' = (b − running_mean) s + β`` with ``s = γ / sqrt(running_var + eps)``.
    """
    weight = _check_fold(weight, {"bias": bias, "gamma": gamma, "beta": beta, "running_mean": running_mean,
                         "running_var": running_var})
    scale = gamma / np.sqrt(running_var + eps)        # one factor per output feature = per column of W
    return weight * scale, (bias - running_mean) * scale + beta


def folded_linear(linear, batchnorm) -> nn.Linear:
    """A new ``nn.Linear`` that computes ``batchnorm(linear(x))`` in evaluation mode, in one affine map."""
    if not isinstance(linear, nn.Linear) or not isinstance(batchnorm, nn.BatchNorm1d):
        raise TypeError(f"expected (nn.Linear, nn.BatchNorm1d), got ({type(linear).__name__}, "
                        f"{type(batchnorm).__name__})")
    bias = linear.bias.value if linear.bias is not None else np.zeros(linear.out_features)
    w, b = fold_batchnorm(linear.weight.value, bias, batchnorm.gamma.value, batchnorm.beta.value,
                          batchnorm.running_mean, batchnorm.running_var, batchnorm.eps)
    folded = nn.Linear(linear.in_features, linear.out_features, init="zeros")
    folded.weight.value, folded.bias.value = w, b
    return folded
