"""DropConnect (Wan et al., 2013): a linear layer that drops individual weights during training."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.linear import Linear, _raise_bad_input
from gdcourse.nn.module import _NESTING
from gdcourse.validate import as_rng, check_unit_interval

__all__ = ["DropConnectLinear", "DROPCONNECT_MASKS"]

DROPCONNECT_MASKS = ("sample", "batch")


class DropConnectLinear(Linear):
    """Affine layer whose *weights* are dropped with probability ``p`` in training (DropConnect).

    Shapes as :class:`Linear`: ``x (N, in)``, ``W (in, out)``, ``b (out,)``, ``y (N, out)``. Training, with
    masks ``M ~ Bernoulli(1 − p)`` of the weight's shape, scaled ("inverted") so that ``E[y] = xW + b``::

        mask="sample":  y_n = x_n (M_n ⊙ W) / (1 − p) + b    one mask per sample, M (N, in, out)
        mask="batch":   y   = x   (M   ⊙ W) / (1 − p) + b    one mask shared by the mini-batch, M (in, out)

    Wan et al. (2013, "Regularization of neural networks using DropConnect") draw a mask per sample; the
    per-batch mask is the cheap variant (one matrix product). The bias is not dropped. Backward, with
    ``W̃ = M ⊙ W/(1 − p)`` (per sample ``W̃_n``)::

        dW = Σ_n (x_nᵀ dy_n) ⊙ M_n/(1 − p)     db = Σ_n dy_n     dx_n = dy_n W̃_nᵀ

    Evaluation (``eval()``) uses the mean weights ``W``: the plain ``Linear``. That is the same
    mean-field approximation as dropout's; the paper instead matches the first two moments of each
    pre-activation, ``u ~ N(xW, p/(1−p) (x²)(W²))`` in this scaling, and averages the nonlinearity over
    samples of ``u``. Dropout zeroes an input unit for all outputs at once; DropConnect zeroes each
    input-output connection on its own.
    """

    def __init__(self, in_features, out_features, p=0.5, mask="sample", bias=True, init="he_normal", rng=None,
                 dtype=np.float64):
        self.p = check_unit_interval(p, "p")
        if mask not in DROPCONNECT_MASKS:
            raise ValueError(f"mask: expected one of {DROPCONNECT_MASKS}, got {mask!r}")
        rng = as_rng(rng)
        super().__init__(in_features, out_features, bias=bias, init=init, rng=rng, dtype=dtype)
        self.mask = mask
        self.rng = rng

    def forward(self, x):
        if not self.training or self.p == 0:
            y = super().forward(x)
            self._cache = (x, None)
            return y
        if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == self.in_features and x.dtype.kind == "f"
                and x.shape[0]):
            _raise_bad_input(x, self.in_features, "DropConnectLinear")
        if not _NESTING.inside:
            self._check_data(x)
        w = self.weight.value
        shape = (x.shape[0],) + w.shape if self.mask == "sample" else w.shape
        kept = (self.rng.random(shape) >= self.p).astype(w.dtype) * np.asarray(1.0 / (1.0 - self.p), dtype=w.dtype)
        if self.mask == "sample":
            y = np.einsum("ni,nio->no", x, kept * w)
        else:
            y = x @ (kept * w)
        if self.bias is not None:
            y += self.bias.value
        return self._keep((x, kept), y)

    def backward(self, dy, input_grad=True):
        x, kept = self._saved(dy)
        w = self.weight.value
        if kept is None:
            self.weight.accumulate_matmul(x.T, dy)
            dx = np.dot(dy, w.T) if input_grad else None
        elif self.mask == "batch":
            self.weight.grad += (x.T @ dy) * kept
            dx = dy @ (kept * w).T if input_grad else None
        else:
            self.weight.grad += np.einsum("ni,no,nio->io", x, dy, kept, optimize=True)
            dx = np.einsum("no,nio->ni", dy, kept * w) if input_grad else None
        if self.bias is not None:
            self.bias.accumulate_sum(dy)
        return dx

    def extra_repr(self):
        return f"{super().extra_repr()}, p={self.p}, mask={self.mask!r}"
