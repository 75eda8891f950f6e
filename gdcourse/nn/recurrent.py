"""A vanilla (Elman) recurrent layer with backpropagation through time."""

from __future__ import annotations

import numpy as np

from gdcourse import init as initializers
from gdcourse.nn.module import Module, Parameter
from gdcourse.validate import as_rng, check_finite, check_positive_int

__all__ = ["RNN"]


class RNN(Module):
    """``h_t = tanh(x_t W_xh + h_{t−1} W_hh + b)``, batch first.

    Shapes: ``x (N, T, input_size)``, ``h0 (N, hidden_size)`` (zeros by default),
    output ``h (N, T, hidden_size)``, ``W_xh (input_size, hidden_size)``,
    ``W_hh (hidden_size, hidden_size)``, ``b (hidden_size,)``.

    ``backward(dh)`` takes dL/dh_t for every step and runs backpropagation
    through time. The gradient reaching step ``s`` from step ``t`` is multiplied
    by ``Π diag(1 − h²) W_hhᵀ`` over the ``t − s`` steps in between, which is why
    it vanishes (or explodes) geometrically. With ``bptt_steps=k`` the gradient
    of each output ``h_t`` is followed back through at most ``k`` steps
    (``t − s < k``), the truncated BPTT of Williams & Peng (1990); ``None`` is
    full BPTT. The gradient with respect to ``h0`` is left in ``self.dh0``.
    """

    def __init__(self, input_size, hidden_size, bias=True, init="xavier_normal", bptt_steps=None,
                 rng=None, dtype=np.float64):
        super().__init__()
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.bptt_steps = None if bptt_steps is None else check_positive_int(bptt_steps, "bptt_steps")
        rng = as_rng(rng)
        make = initializers.get(init)
        self.W_xh = Parameter(make((self.input_size, self.hidden_size), rng=rng, dtype=dtype), "W_xh")
        self.W_hh = Parameter(make((self.hidden_size, self.hidden_size), rng=rng, dtype=dtype), "W_hh")
        self.b = Parameter(np.zeros(self.hidden_size, dtype=dtype), "b") if bias else None
        self.dh0 = None

    def forward(self, x, h0=None):
        if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[2] != self.input_size:
            shape = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"RNN: expected input x of shape (N, T, {self.input_size}), got {shape}")
        if x.dtype.kind != "f":
            raise ValueError(f"RNN: expected a floating-point input x, got dtype {x.dtype}; "
                             "convert it with x.astype(np.float64) first")
        if not (x.shape[0] and x.shape[1]):
            raise ValueError(f"RNN: x: expected at least one sequence of at least one step, got shape {x.shape}")
        self._check_data(x)
        n, steps, _ = x.shape
        h = np.zeros((n, steps + 1, self.hidden_size), dtype=x.dtype)  # h[:, 0] is h0
        if h0 is not None:
            if np.shape(h0) != (n, self.hidden_size):
                raise ValueError(f"RNN: expected h0 of shape ({n}, {self.hidden_size}), got {np.shape(h0)}")
            check_finite(np.asarray(h0, dtype=x.dtype), "RNN: h0")
            h[:, 0] = h0
        pre = x @ self.W_xh.value  # input part of every step at once: (N, T, H)
        if self.b is not None:
            pre += self.b.value
        w_hh = self.W_hh.value
        for t in range(steps):
            h[:, t + 1] = np.tanh(pre[:, t] + h[:, t] @ w_hh)
        return self._keep((x, h), h[:, 1:].copy())

    def backward(self, dh, input_grad=True):
        x, h = self._saved(dh)
        steps = x.shape[1]
        k = self.bptt_steps
        if k is None or k >= steps:
            da, self.dh0 = self._bptt_full(dh, h)
        else:
            da, self.dh0 = self._bptt_truncated(dh, h, k)
        # Parameter gradients for all steps at once, from the pre-activation gradients da.
        hidden = self.hidden_size
        self.W_xh.grad += x.reshape(-1, self.input_size).T @ da.reshape(-1, hidden)
        self.W_hh.grad += h[:, :-1].reshape(-1, hidden).T @ da.reshape(-1, hidden)
        if self.b is not None:
            self.b.grad += da.sum(axis=(0, 1))
        return da @ self.W_xh.value.T if input_grad else None

    def _bptt_full(self, dh, h):
        """da_t = (dh_t + da_{t+1} W_hhᵀ) ⊙ (1 − h_t²), from the last step back to the first."""
        w_hh_t = self.W_hh.value.T
        da = np.empty_like(dh)
        carry = np.zeros_like(dh[:, 0])
        for t in range(dh.shape[1] - 1, -1, -1):
            da[:, t] = (dh[:, t] + carry) * (1 - h[:, t + 1] ** 2)
            carry = da[:, t] @ w_hh_t
        return da, carry

    def _bptt_truncated(self, dh, h, k):
        """Follow each output's gradient back through at most ``k`` steps."""
        w_hh_t = self.W_hh.value.T
        da = np.zeros_like(dh)
        dh0 = np.zeros_like(dh[:, 0])
        for t in range(dh.shape[1]):
            g = dh[:, t]
            for s in range(t, max(t - k, -1), -1):
                a = g * (1 - h[:, s + 1] ** 2)
                da[:, s] += a
                g = a @ w_hh_t
            if t - k < 0:  # this output's chain reached the initial state
                dh0 += g
        return da, dh0

    def extra_repr(self):
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, bptt_steps={self.bptt_steps}"
