"""Stateless activation and loss functions with their derivatives.

Every activation ``f`` comes with ``f_grad(x)``, the elementwise derivative
``f'(x)`` evaluated at the *input*. ``nn`` builds its layers from these pairs and
the notebooks plot them. All functions are stable at the extremes and keep the
input's dtype: inputs of ±1e4 give finite values, ±inf give the limits
(``gelu(−inf) = silu(−inf) = 0``, ``softmax([inf, 0]) = [1, 0]``), and NaN in gives
NaN out (except where a function only compares x with 0: ``step``, ``relu_grad`` and
``leaky_relu_grad`` give their value for x ≤ 0); none of them raises a
floating-point warning. Only the exact GELU needs SciPy (for Φ); it is imported when
first called, so importing ``gdcourse.nn`` does not load SciPy.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "identity", "identity_grad",
    "step", "step_grad",
    "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad",
    "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad",
    "elu", "elu_grad",
    "gelu", "gelu_grad",
    "silu", "silu_grad",
    "softplus", "softplus_grad",
    "softmax", "log_softmax", "softmax_jacobian", "sigmoid_jacobian",
    "mse", "bce_with_logits", "cross_entropy", "xlogp",
    "ACTIVATIONS",
]


# --- activations -----------------------------------------------------------------

def identity(x):
    """``f(x) = x``."""
    return np.asarray(x)


def identity_grad(x):
    """``f'(x) = 1``."""
    return np.ones_like(x)


def step(x):
    """Heaviside step ``f(x) = 1 if x > 0 else 0`` (the perceptron's activation)."""
    x = np.asarray(x)
    return (x > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def step_grad(x):
    """``f'(x) = 0`` wherever it exists (everywhere but 0): no gradient flows through a step."""
    return np.zeros_like(x, dtype=np.result_type(x, np.float32))


def sigmoid(x):
    """``σ(x) = 1 / (1 + e^{-x})``, written with ``e = e^{-|x|} ≤ 1`` so nothing overflows:
    ``1 / (1 + e)`` for x ≥ 0 and ``e / (1 + e)`` (the same value) for x < 0."""
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_grad(x):
    """``σ'(x) = σ(x)(1 − σ(x)) ≤ 1/4``, the maximum at x = 0."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """``tanh(x) = 2σ(2x) − 1``."""
    return np.tanh(x)


def tanh_grad(x):
    """``tanh'(x) = 1 − tanh²(x) ≤ 1``, the maximum at x = 0."""
    t = np.tanh(x)
    return 1 - t * t


def relu(x):
    """``max(0, x)``."""
    return np.maximum(x, 0)


def relu_grad(x):
    """1 for x > 0, else 0; at the kink x = 0 we use the subgradient 0 (as PyTorch does)."""
    x = np.asarray(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    _check_coefficient(negative_slope, "negative_slope")
    if negative_slope == 0:  # plain ReLU; 0 · (−inf) would be NaN
        return np.maximum(x, 0)
    return np.where(x > 0, x, negative_slope * np.asarray(x))


def leaky_relu_grad(x, negative_slope=0.01):
    """1 for x > 0, ``negative_slope`` otherwise."""
    _check_coefficient(negative_slope, "negative_slope")
    x = np.asarray(x)
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha=1.0):
    """``x`` for x > 0, ``alpha (e^x − 1)`` otherwise (Clevert et al., 2016)."""
    _check_coefficient(alpha, "alpha")
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_grad(x, alpha=1.0):
    """1 for x > 0, ``alpha e^x`` otherwise."""
    _check_coefficient(alpha, "alpha")
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x Φ(x)`` (Hendrycks & Gimpel, 2016).

    ``approximate="tanh"`` uses ``0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))``.
    """
    x = np.asarray(x)
    # Φ(x) and the sigmoid below are exactly 0 well before x = −1e3, so x is floored there
    # for the product: −inf · 0 would be NaN, the limit is 0
    if approximate == "none":
        return np.maximum(x, -1e3) * _normal_cdf(x)
    if approximate == "tanh":
        xc = np.clip(x, -1e3, 1e3)  # x³ overflows float32 near 1e13; tanh is flat far earlier
        # 0.5 (1 + tanh u) = σ(2u), which keeps its precision where tanh u is close to −1
        return np.maximum(x, -1e3) * sigmoid(2 * _SQRT_2_OVER_PI * (xc + _GELU_C * xc * xc * xc))
    raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")


def gelu_grad(x, approximate="none"):
    """``Φ(x) + x φ(x)`` (exact), or the derivative of the tanh approximation."""
    x = np.asarray(x)
    xc = np.clip(x, -1e3, 1e3)  # φ(x) and 1 − tanh² are exactly 0 beyond ±1e3: ±inf · 0 would be NaN
    if approximate == "none":
        pdf = np.exp(-0.5 * xc * xc) / math.sqrt(2 * math.pi)
        return _normal_cdf(x) + xc * pdf
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (xc + _GELU_C * xc * xc * xc))
        dinner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * xc * xc)
        return 0.5 * (1 + t) + 0.5 * xc * (1 - t * t) * dinner
    raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")


def _normal_cdf(x):
    """Φ(x), the standard normal CDF, with SciPy's ``ndtr`` (accurate in both tails)."""
    from scipy.special import ndtr  # here, not at the top: only the exact GELU needs SciPy

    return ndtr(x)


def silu(x):
    """Sigmoid-weighted linear unit (swish) ``x σ(x)``."""
    x = np.asarray(x)
    # σ(x) is exactly 0 below x = −1e3, so x is floored there: −inf · 0 would be NaN, the limit is 0
    return np.maximum(x, -1e3) * sigmoid(x)


def silu_grad(x):
    """``σ(x) + x σ(x)(1 − σ(x))``."""
    x = np.asarray(x)
    s = sigmoid(x)
    return s + np.clip(x, -1e3, 1e3) * s * (1 - s)  # σ(1 − σ) is exactly 0 beyond ±1e3


def softplus(x, beta=1.0, threshold=20.0):
    """``(1/β) log(1 + e^{βx})``, linear above ``βx > threshold`` (as ``torch.nn.Softplus``).

    Computed as ``(max(βx, 0) + log(1 + e^{−|βx|})) / β``, which never overflows.
    """
    _check_softplus(beta, threshold)
    x = np.asarray(x)
    bx = beta * x
    return np.where(bx > threshold, x, (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta)


def softplus_grad(x, beta=1.0, threshold=20.0):
    """``σ(βx)``, or 1 above the threshold."""
    _check_softplus(beta, threshold)
    x = np.asarray(x)
    bx = beta * x
    return np.where(bx > threshold, 1.0, sigmoid(bx)).astype(np.result_type(x, np.float32))


def _check_coefficient(value, name):
    if not value >= 0:  # also catches NaN
        raise ValueError(f"{name}: expected a number >= 0, got {value!r}")


def _check_softplus(beta, threshold):
    if not beta > 0 or not math.isfinite(beta):
        raise ValueError(f"beta: expected a finite number > 0, got {beta!r}")
    if math.isnan(threshold):
        raise ValueError(f"threshold: expected a number, got {threshold!r}")


# --- softmax family --------------------------------------------------------------

def softmax(z, axis=-1):
    """``exp(z_i) / Σ_j exp(z_j)`` along ``axis``, shifted by the max so it never overflows.

    Rows that are not finite: the +inf entries of a row share its mass equally
    (``softmax([inf, 0]) = [1, 0]``, the limit); a row of only −inf is uniform (the
    value of any row of equal entries); a row with NaN is NaN.
    """
    e = np.exp(_shift_by_max(z, axis))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """``z_i − log Σ_j exp(z_j)``, computed without forming the (underflowing) softmax.

    Non-finite rows as in :func:`softmax`: ``log_softmax([inf, 0]) = [0, −inf]``.
    """
    shifted = _shift_by_max(z, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _shift_by_max(z, axis):
    """``z − max(z)`` along ``axis`` (≤ 0, with a 0 at the max), extended to rows whose max is
    not finite: +inf entries become 0 and the rest −inf; a row of only −inf becomes all 0;
    a row with NaN stays NaN."""
    z = np.asarray(z)
    if z.size == 0:  # nothing to normalize (max has no identity)
        return z.astype(np.result_type(z, np.float32))
    top = z.max(axis=axis, keepdims=True)
    finite = np.isfinite(top)
    if finite.all():
        return z - top
    shifted = z - np.where(finite, top, 0)  # subtracting ±inf would give inf − inf = NaN
    return np.where(finite, shifted, np.where(z == top, 0, np.where(np.isnan(top), np.nan, -np.inf)))


def softmax_jacobian(z):
    """Jacobian of softmax for one vector ``z`` of shape ``(K,)``: ``diag(s) − s sᵀ``, shape ``(K, K)``."""
    s = softmax(np.asarray(z, dtype=np.float64).reshape(-1))
    return np.diag(s) - np.outer(s, s)


def sigmoid_jacobian(z):
    """Jacobian of the elementwise sigmoid for a vector ``z``: diagonal ``diag(σ(z)(1 − σ(z)))``."""
    return np.diag(sigmoid_grad(np.asarray(z, dtype=np.float64).reshape(-1)))


# --- losses (value and gradient w.r.t. the prediction) ---------------------------

def mse(pred, target):
    """Mean squared error ``mean((pred − target)²)`` and its gradient ``2 (pred − target) / n``.

    Where ``pred`` and ``target`` are the same infinity the difference is NaN (undefined), quietly.
    """
    with np.errstate(invalid="ignore"):
        diff = np.subtract(pred, target)
    return float(np.mean(diff * diff)), diff * (2.0 / diff.size)


def bce_with_logits(logits, target):
    """Binary cross-entropy on logits ``z`` with targets ``y ∈ [0, 1]``.

    ``loss = mean(softplus(z) − y z) = mean(max(z, 0) − y z + log(1 + e^{−|z|}))`` is the
    stable form of ``−[y log σ(z) + (1 − y) log(1 − σ(z))]``; its gradient is
    ``(σ(z) − y) / n``. Infinite logits give the limits: 0 where ``σ(z) = y`` exactly
    (``z = +inf, y = 1``), else +inf.
    """
    z, y = np.asarray(logits), np.asarray(target)
    if np.isfinite(z).all():
        loss = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    else:  # −y log σ(z) − (1 − y) log σ(−z), log σ(z) = −softplus(−z), with 0 · log 0 = 0
        loss = -xlogp(y, -_softplus0(-z)) - xlogp(1 - y, -_softplus0(z))
    return float(np.mean(loss)), (sigmoid(z) - y) / z.size


def _softplus0(x):
    """``log(1 + e^x)`` without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def xlogp(x, logp):
    """``x · logp`` elementwise with the convention ``0 · log 0 = 0``: a term of weight 0 is
    absent even where its log-probability is −inf (as ``scipy.special.xlogy``)."""
    x, logp = np.broadcast_arrays(x, logp)
    return np.multiply(x, logp, out=np.zeros(logp.shape, np.result_type(x, logp)), where=x != 0)


def cross_entropy(logits, target_probs):
    """Softmax cross-entropy for logits ``(N, C)`` and target distributions ``(N, C)``.

    ``loss = −mean_i Σ_c p_ic log softmax(z_i)_c``; gradient ``(softmax(z) − p) / N``.
    A class of probability 0 adds nothing, even where its log-probability is −inf.
    """
    logp = log_softmax(logits, axis=1)
    n = logits.shape[0]
    return float(-xlogp(target_probs, logp).sum() / n), (np.exp(logp) - target_probs) / n


ACTIVATIONS = {
    "identity": (identity, identity_grad),
    "step": (step, step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
    "silu": (silu, silu_grad),
    "softplus": (softplus, softplus_grad),
}
"""Name → (function, derivative), for plots and widgets."""
