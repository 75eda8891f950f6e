"""Activation layers. Each one is ``y = f(x)`` forward and ``dx = dy * f'(x)`` backward,
with ``f`` and ``f'`` from :mod:`gdcourse.functional`; ``Softmax`` is the one whose
Jacobian is not diagonal.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from gdcourse import functional as F
from gdcourse.nn.module import Module, Parameter
from gdcourse.validate import check_positive, check_positive_int

__all__ = [
    "Identity", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU",
    "ELU", "GELU", "SiLU", "Softplus", "Softmax",
]


class _Elementwise(Module):
    """``y = f(x)``, ``dx = dy ⊙ f'(x)``; subclasses set ``f`` and ``f_grad``."""

    def forward(self, x):
        return self._keep(x, self.f(x))

    def backward(self, dy, input_grad=True):
        return dy * self.f_grad(self._saved(dy))


class Identity(_Elementwise):
    """``y = x``."""

    def forward(self, x):
        x = np.asarray(x)
        return self._keep(x, x)

    def backward(self, dy, input_grad=True):
        self._saved(dy)
        return dy


class Step(_Elementwise):
    """Heaviside step; its derivative is 0 almost everywhere, so nothing flows back."""

    f, f_grad = staticmethod(F.step), staticmethod(F.step_grad)


class Sigmoid(_Elementwise):
    """``σ(x) = 1/(1 + e^{−x})``; derivative ``σ(1 − σ) ≤ 1/4``."""

    def forward(self, x):
        y = F.sigmoid(x)
        return self._keep(y, y)

    def backward(self, dy, input_grad=True):
        y = self._saved(dy)
        return dy * y * (1 - y)


class Tanh(_Elementwise):
    """``tanh(x)``; derivative ``1 − tanh² ≤ 1``."""

    def forward(self, x):
        y = np.tanh(x)
        return self._keep(y, y)

    def backward(self, dy, input_grad=True):
        y = self._saved(dy)
        return dy * (1 - y * y)


class ReLU(_Elementwise):
    """``max(0, x)``; derivative 1 for x > 0, 0 otherwise (0 at the kink, as PyTorch)."""

    def forward(self, x):
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        y = np.maximum(x, _zero(x.dtype))
        self._cache, self._y_shape = y, y.shape  # Module._keep, written out: the hot path
        return y

    def backward(self, dy, input_grad=True):
        y = self._saved(dy)
        return dy * np.greater(y, _zero(y.dtype))


_ZEROS = {}


def _zero(dtype):
    """A 0-d zero of ``dtype``: NumPy compares with it faster than with the Python int 0,
    which it must convert on every call (a third of the time of a small ReLU)."""
    zero = _ZEROS.get(dtype)
    if zero is None:
        zero = _ZEROS[dtype] = np.zeros((), dtype)
        zero.flags.writeable = False
    return zero


class LeakyReLU(_Elementwise):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Maas et al., 2013)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_positive(negative_slope, "negative_slope", allow_zero=True)

    def f(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def f_grad(self, x):
        return F.leaky_relu_grad(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU whose slope ``a`` is learned (He et al., 2015).

    ``y = max(0, x) + a min(0, x)``; ``num_parameters=1`` shares one slope, or one
    slope per feature (axis 1). ``da = Σ dy ⊙ min(0, x)`` over the shared axes.
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float64):
        super().__init__()
        self.num_parameters = check_positive_int(num_parameters, "num_parameters")
        if isinstance(init, bool) or not isinstance(init, numbers.Real) or not math.isfinite(init):
            raise ValueError(f"init: expected a finite real number (the initial slope), got {init!r}")
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype), "weight")

    def _slope(self, x):
        if self.num_parameters == 1:
            return self.weight.value[0]
        if x.ndim < 2 or x.shape[1] != self.num_parameters:
            raise ValueError(
                f"PReLU: expected input with {self.num_parameters} features on axis 1, got shape {x.shape}"
            )
        return self.weight.value.reshape((1, -1) + (1,) * (x.ndim - 2))

    def forward(self, x):
        x = np.asarray(x)
        a = self._slope(x)
        return self._keep(x, np.where(x > 0, x, a * x))

    def backward(self, dy, input_grad=True):
        x = self._saved(dy)
        negative_part = np.minimum(x, 0) * dy
        if self.num_parameters == 1:
            self.weight.grad += negative_part.sum()
        else:
            axes = (0,) + tuple(range(2, x.ndim))
            self.weight.grad += negative_part.sum(axis=axes)
        return np.where(x > 0, dy, self._slope(x) * dy)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(_Elementwise):
    """``x`` for x > 0, ``alpha (e^x − 1)`` otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_positive(alpha, "alpha", allow_zero=True)

    def f(self, x):
        return F.elu(x, self.alpha)

    def f_grad(self, x):
        return F.elu_grad(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(_Elementwise):
    """``x Φ(x)``; ``approximate="tanh"`` for the tanh approximation (as ``torch.nn.GELU``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def f(self, x):
        return F.gelu(x, self.approximate)

    def f_grad(self, x):
        return F.gelu_grad(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Elementwise):
    """``x σ(x)`` (also called swish)."""

    f, f_grad = staticmethod(F.silu), staticmethod(F.silu_grad)


class Softplus(_Elementwise):
    """``(1/β) log(1 + e^{βx})``, linear above ``βx > threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = check_positive(beta, "beta")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or math.isnan(threshold):
            raise ValueError(f"threshold: expected a real number, got {threshold!r}")
        self.threshold = float(threshold)

    def f(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def f_grad(self, x):
        return F.softplus_grad(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """``s = softmax(x)`` along ``axis``.

    The Jacobian is ``diag(s) − s sᵀ``; its product with ``dy`` is
    ``dx = s ⊙ (dy − Σ_j dy_j s_j)``, computed without forming the matrix.
    """

    def __init__(self, axis=-1):
        super().__init__()
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"axis: expected an int, got {axis!r}")
        self.axis = int(axis)

    def forward(self, x):
        s = F.softmax(x, axis=self.axis)
        return self._keep(s, s)

    def backward(self, dy, input_grad=True):
        s = self._saved(dy)
        return s * (dy - (dy * s).sum(axis=self.axis, keepdims=True))

    def extra_repr(self):
        return f"axis={self.axis}"
