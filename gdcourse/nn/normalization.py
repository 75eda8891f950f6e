"""Batch, layer, RMS and group normalization, with ``torch.nn`` semantics."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module, Parameter
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["BatchNorm1d", "LayerNorm", "RMSNorm", "GroupNorm"]


def _normalize_backward(dxhat, xhat, inv_std, axis):
    """dL/dx of ``xhat = (x − mean) / sqrt(var + eps)`` with mean and biased var over ``axis``.

    ``dx = inv_std · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat))``
    """
    mean_dxhat = dxhat.mean(axis=axis, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axis, keepdims=True)
    return inv_std * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


def _check_features(x, num_features, layer):
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != num_features:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer}: expected input x of shape (N, {num_features}), got {shape}")
    if not x.shape[0]:
        raise ValueError(f"{layer}: x: expected at least one row, got shape {x.shape}")


def _check_momentum(momentum):
    """BatchNorm's running-statistics momentum is a weight in [0, 1] (1: keep only the last batch)."""
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum: expected a number in [0, 1] or None, got {momentum!r}")
    return float(momentum)


class BatchNorm1d(Module):
    """Batch normalization over the batch axis (Ioffe & Szegedy, 2015). ``x: (N, C)``.

    Training: ``y = gamma (x − μ_B)/sqrt(σ²_B + eps) + beta`` with the batch mean and
    the *biased* batch variance; the running statistics move by
    ``r ← (1 − momentum) r + momentum · stat``, the running variance using the
    *unbiased* batch variance (``N/(N−1)`` σ²_B). ``momentum=None`` keeps a
    cumulative average instead. Evaluation uses the running statistics, so the
    output of one sample does not depend on the rest of the batch.

    Buffers (saved by ``state_dict()``, not trained): ``running_mean``,
    ``running_var`` and ``num_batches_tracked``.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_positive(eps, "eps")
        self.momentum = None if momentum is None else _check_momentum(momentum)
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), "gamma")
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), "beta")
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
        self.register_buffer("num_batches_tracked", 0)

    def forward(self, x):
        _check_features(x, self.num_features, "BatchNorm1d")
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(
                    f"BatchNorm1d: expected a batch of at least 2 samples in training mode "
                    f"(the batch variance of one sample is 0), got {n}"
                )
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            self._update_running(mean, var * (n / (n - 1)))
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        return self._keep((xhat, inv_std, self.training), self.gamma.value * xhat + self.beta.value)

    def _update_running(self, mean, unbiased_var):
        self.num_batches_tracked += 1
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += m * unbiased_var

    def backward(self, dy, input_grad=True):
        xhat, inv_std, was_training = self._saved(dy)
        self.gamma.grad += (dy * xhat).sum(axis=0)
        self.beta.grad += dy.sum(axis=0)
        dxhat = dy * self.gamma.value
        if not was_training:  # mean and var are constants in eval mode
            return dxhat * inv_std
        return _normalize_backward(dxhat, xhat, inv_std, axis=0)

    def extra_repr(self):
        return f"num_features={self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    """Layer normalization over the last axis (Ba, Kiros & Hinton, 2016). ``x: (..., C)``.

    Each sample is normalized by its own mean and biased variance over its
    ``C`` features, so training and evaluation behave identically and the batch
    size does not matter.
    """

    def __init__(self, num_features, eps=1e-5, dtype=np.float64):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_positive(eps, "eps")
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), "gamma")
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), "beta")

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim < 1 or x.shape[-1] != self.num_features:
            shape = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"LayerNorm: expected input x of shape (..., {self.num_features}), got {shape}")
        if not x.size:
            raise ValueError(f"LayerNorm: x: expected at least one sample, got shape {x.shape}")
        mean = x.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)
        xhat = (x - mean) * inv_std
        return self._keep((xhat, inv_std), self.gamma.value * xhat + self.beta.value)

    def backward(self, dy, input_grad=True):
        xhat, inv_std = self._saved(dy)
        batch_axes = tuple(range(dy.ndim - 1))
        self.gamma.grad += (dy * xhat).sum(axis=batch_axes)
        self.beta.grad += dy.sum(axis=batch_axes)
        return _normalize_backward(dy * self.gamma.value, xhat, inv_std, axis=-1)

    def extra_repr(self):
        return f"num_features={self.num_features}, eps={self.eps}"


class RMSNorm(Module):
    """Root-mean-square normalization over the last axis (Zhang & Sennrich, 2019). ``x: (..., C)``.

    ``y = x / rms(x) · weight`` with ``rms(x) = sqrt(mean(x²) + eps)`` over the
    ``C`` features, ``weight`` initialised to ones (``torch.nn.RMSNorm``'s
    ``weight``; no bias). Unlike LayerNorm it does not subtract the mean: the
    output is invariant to re-scaling the input (``x → a·x``, ``a > 0``) but not
    to re-centering it (``x → x + c``), and it costs one reduction instead of two.

    Backward, with ``r = 1/rms(x)`` and ``u = dy · weight``:
    ``dx = r·u − r³ · x · mean(u·x)``.
    """

    def __init__(self, num_features, eps=1e-6, dtype=np.float64):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_positive(eps, "eps")
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype), "weight")

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim < 1 or x.shape[-1] != self.num_features:
            shape = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"RMSNorm: expected input x of shape (..., {self.num_features}), got {shape}")
        inv_rms = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.eps)
        xhat = x * inv_rms
        return self._keep((x, xhat, inv_rms), xhat * self.weight.value)

    def backward(self, dy, input_grad=True):
        x, xhat, inv_rms = self._saved(dy)
        self.weight.grad += (dy * xhat).reshape(-1, self.num_features).sum(axis=0)
        u = dy * self.weight.value
        return inv_rms * u - inv_rms**3 * x * (u * x).mean(axis=-1, keepdims=True)

    def extra_repr(self):
        return f"num_features={self.num_features}, eps={self.eps}"


class GroupNorm(Module):
    """Group normalization (Wu & He, 2018), ``torch.nn.GroupNorm`` semantics. ``x: (N, C, *)``.

    The ``C`` channels are split into ``num_groups`` groups of ``C/G``
    consecutive channels; each sample's group (its channels and every spatial
    position) is normalized by its own mean and biased variance, then each
    channel is scaled and shifted: ``y = weight[c] · x̂ + bias[c]``. Nothing
    depends on the batch, so it behaves the same at batch size 1 and in
    evaluation. ``num_groups = 1`` normalizes all channels together (LayerNorm
    over (C, *)); ``num_groups = C`` is instance normalization.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float64):
        super().__init__()
        self.num_groups = check_positive_int(num_groups, "num_groups")
        self.num_channels = check_positive_int(num_channels, "num_channels")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.eps = check_positive(eps, "eps")
        self.affine = bool(affine)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dtype), "weight")
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dtype), "bias")

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim < 2 or x.shape[1] != self.num_channels:
            shape = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"GroupNorm: expected input x of shape (N, {self.num_channels}, *), got {shape}")
        grouped = x.reshape(x.shape[0], self.num_groups, -1)
        mean = grouped.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(grouped.var(axis=-1, keepdims=True) + self.eps)
        xhat = ((grouped - mean) * inv_std).reshape(x.shape)
        if not self.affine:
            return self._keep((xhat, inv_std), xhat)
        channel = (1, -1) + (1,) * (x.ndim - 2)
        y = xhat * self.weight.value.reshape(channel) + self.bias.value.reshape(channel)
        return self._keep((xhat, inv_std), y)

    def backward(self, dy, input_grad=True):
        xhat, inv_std = self._saved(dy)
        dxhat = dy
        if self.affine:
            other_axes = (0,) + tuple(range(2, dy.ndim))
            self.weight.grad += (dy * xhat).sum(axis=other_axes)
            self.bias.grad += dy.sum(axis=other_axes)
            dxhat = dy * self.weight.value.reshape((1, -1) + (1,) * (dy.ndim - 2))
        n, g = dy.shape[0], self.num_groups
        dx = _normalize_backward(dxhat.reshape(n, g, -1), xhat.reshape(n, g, -1), inv_std, axis=-1)
        return dx.reshape(dy.shape)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
