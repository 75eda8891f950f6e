"""Fully connected layers: ``Linear`` and its weight-normalized variant."""

from __future__ import annotations

import numpy as np

from gdcourse import init as initializers
from gdcourse.nn.module import _NESTING, Module, Parameter
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["Linear", "WeightNormLinear"]


def _raise_bad_input(x, in_features, layer):
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != in_features:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer}: expected input x of shape (N, {in_features}), got {shape}")
    if not x.shape[0]:
        raise ValueError(f"{layer}: x: expected at least one row, got shape {x.shape}")
    raise ValueError(
        f"{layer}: expected a floating-point input x, got dtype {x.dtype}; "
        "convert (and scale) the data first, e.g. X.astype(np.float64) / 16"
    )


class Linear(Module):
    """Affine layer ``y = x @ W + b``.

    Shapes: ``x (N, in_features)``, ``W (in_features, out_features)``,
    ``b (out_features,)``, ``y (N, out_features)``.

    Backward, for upstream ``dy (N, out_features)``::

        dW = xᵀ dy        db = Σ_n dy        dx = dy Wᵀ

    ``x`` must be a float array with at least one row; called on its own (not inside
    a ``Sequential``, which checks its input once) it must also be finite.
    ``dW`` and ``db`` are *added* to ``.grad`` (deliberately: two backward passes
    accumulate until ``zero_grad()``).
    """

    def __init__(self, in_features, out_features, bias=True, init="he_normal", rng=None, dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        w = initializers.get(init)((self.in_features, self.out_features), rng=as_rng(rng), dtype=dtype)
        self.weight = Parameter(w, "weight")
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype), "bias") if bias else None

    def forward(self, x):
        if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == self.in_features and x.dtype.kind == "f"
                and x.shape[0]):
            _raise_bad_input(x, self.in_features, "Linear")
        if not _NESTING.inside:  # inside a container the container checked the data
            self._check_data(x)
        y = np.dot(x, self.weight.value)
        if self.bias is not None:
            y += self.bias.value
        self._cache, self._y_shape = x, y.shape  # Module._keep, written out: the hot path
        return y

    def backward(self, dy, input_grad=True):
        x = self._saved(dy)
        self.weight.accumulate_matmul(x.T, dy)
        if self.bias is not None:
            self.bias.accumulate_sum(dy)
        return np.dot(dy, self.weight.value.T) if input_grad else None

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class WeightNormLinear(Module):
    """Linear layer with weight normalization (Salimans & Kingma, 2016).

    Each output unit's weight column is ``w_j = g_j v_j / ‖v_j‖``: the length
    ``g_j`` and the direction ``v_j/‖v_j‖`` are learned separately. ``g`` starts
    at ``‖v_j‖`` so the initial function equals a plain ``Linear``.

    Backward, with ``ŵ_j = v_j/‖v_j‖`` and ``dW = xᵀ dy``::

        dg_j = ŵ_j · dW_j        dv_j = (g_j / ‖v_j‖) (dW_j − ŵ_j dg_j)
    """

    def __init__(self, in_features, out_features, bias=True, init="he_normal", rng=None, dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        v = initializers.get(init)((self.in_features, self.out_features), rng=as_rng(rng), dtype=dtype)
        self.v = Parameter(v, "v")
        self.g = Parameter(np.linalg.norm(v, axis=0), "g")
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype), "bias") if bias else None

    @property
    def weight(self):
        """The effective weight ``g v / ‖v‖``, shape ``(in_features, out_features)``."""
        return self.g.value * self.v.value / np.linalg.norm(self.v.value, axis=0)

    def forward(self, x):
        if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == self.in_features and x.dtype.kind == "f"
                and x.shape[0]):
            _raise_bad_input(x, self.in_features, "WeightNormLinear")
        if not _NESTING.inside:
            self._check_data(x)
        norm = np.linalg.norm(self.v.value, axis=0)
        direction = self.v.value / norm
        w = self.g.value * direction
        y = x @ w
        if self.bias is not None:
            y += self.bias.value
        return self._keep((x, norm, direction, w), y)

    def backward(self, dy, input_grad=True):
        x, norm, direction, w = self._saved(dy)
        dw = x.T @ dy
        dg = np.einsum("io,io->o", direction, dw)
        self.g.grad += dg
        self.v.grad += (self.g.value / norm) * (dw - direction * dg)
        if self.bias is not None:
            self.bias.grad += dy.sum(axis=0)
        return dy @ w.T if input_grad else None

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
