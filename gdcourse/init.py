"""Weight initializers.

Each takes a ``shape`` and an ``rng`` (an int seed or a ``numpy.random.Generator``)
and returns a new array. For a weight of shape ``(fan_in, fan_out)`` (the layout of
:class:`gdcourse.nn.Linear`: ``y = x @ W``), ``fan_in = shape[0]`` and
``fan_out = shape[1]``. For 1-D shapes both fans are ``shape[0]``.

Variance of each scheme (n_in = fan-in, n_out = fan-out):

============== ==================== ======================================
scheme         Var(W)               source
============== ==================== ======================================
LeCun          1 / n_in             LeCun et al., "Efficient BackProp", 1998
Xavier/Glorot  2 / (n_in + n_out)   Glorot & Bengio, AISTATS 2010
He/Kaiming     2 / n_in             He et al., ICCV 2015 (for ReLU)
============== ==================== ======================================

A uniform distribution on ``[-a, a]`` has variance ``a**2 / 3``, so the uniform
variants use ``a = sqrt(3 * Var)``. LeCun and Xavier are different schemes; they
agree only when ``n_in == n_out``.

Arguments are checked: a shape is a positive int or a non-empty tuple of them (not
bools), ``dtype`` a floating-point type, and every number (``value``, ``mean``,
``std``, ``low``, ``high``, ``gain``) a finite real whose draws fit in ``dtype``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from gdcourse.validate import as_rng, check_positive

__all__ = [
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "lecun_uniform",
    "fans",
    "get",
]


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape ``(fan_in, fan_out, ...)``."""
    shape = _check_shape(shape)
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _is_int(n) -> bool:
    return isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_))


def _check_shape(shape):
    if _is_int(shape):
        shape = (shape,)
    elif hasattr(shape, "__iter__") and not isinstance(shape, (str, bytes)):
        shape = tuple(shape)
    else:
        raise ValueError(f"shape: expected a non-empty tuple of positive ints, got {shape!r}")
    if not shape or any(not _is_int(n) or n <= 0 for n in shape):
        raise ValueError(f"shape: expected a non-empty tuple of positive ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise ValueError(f"dtype: expected a floating-point dtype such as np.float64, got {dtype!r}")
    return dt


def _check_real(value, name) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite real number, got {value!r}")
    return float(value)


def _check_fits(bound, dtype, names):
    """Raise unless values up to ``bound`` in magnitude are finite in ``dtype``."""
    largest = float(np.finfo(dtype).max)
    if bound > largest:
        raise ValueError(f"{names}: expected values that fit in {dtype} (|w| <= {largest:.3g}), "
                         f"got a range reaching {bound:.3g}")


def zeros(shape, rng=None, dtype=np.float64):
    """All zeros. Fine for biases; for weights it leaves every unit identical (symmetry)."""
    return np.zeros(_check_shape(shape), dtype=_check_dtype(dtype))


def constant(shape, value=0.0, rng=None, dtype=np.float64):
    """Every entry equal to ``value`` (a finite real)."""
    shape, dtype = _check_shape(shape), _check_dtype(dtype)
    value = _check_real(value, "value")
    _check_fits(abs(value), dtype, "value")
    return np.full(shape, value, dtype=dtype)


def normal(shape, rng=None, std=0.01, mean=0.0, dtype=np.float64):
    """``N(mean, std**2)``; ``std >= 0`` and ``mean`` finite."""
    shape, dtype = _check_shape(shape), _check_dtype(dtype)
    std = check_positive(std, "std", allow_zero=True)
    mean = _check_real(mean, "mean")
    _check_fits(abs(mean) + 10 * std, dtype, "mean, std")  # a draw beyond 10 std has probability 1e-23
    return as_rng(rng).normal(mean, std, size=shape).astype(dtype, copy=False)


def uniform(shape, rng=None, low=-0.05, high=0.05, dtype=np.float64):
    """``U(low, high)``; finite ``low < high``."""
    shape, dtype = _check_shape(shape), _check_dtype(dtype)
    low, high = _check_real(low, "low"), _check_real(high, "high")
    if not low < high:
        raise ValueError(f"low, high: expected low < high, got low={low}, high={high}")
    if not math.isfinite(high - low):
        raise ValueError(f"low, high: expected a finite width high − low, got low={low}, high={high}")
    _check_fits(max(abs(low), abs(high)), dtype, "low, high")
    return as_rng(rng).uniform(low, high, size=shape).astype(dtype, copy=False)


def _normal_with_variance(shape, variance, rng, gain, dtype):
    return normal(shape, rng, std=gain * math.sqrt(variance), dtype=dtype)


def _uniform_with_variance(shape, variance, rng, gain, dtype):
    a = gain * math.sqrt(3.0 * variance)
    return uniform(shape, rng, low=-a, high=a, dtype=dtype)


def xavier_normal(shape, rng=None, gain=1.0, dtype=np.float64):
    """Glorot & Bengio (2010): ``N(0, gain**2 * 2 / (n_in + n_out))``; ``gain > 0``."""
    gain = check_positive(gain, "gain")
    n_in, n_out = fans(shape)
    return _normal_with_variance(shape, 2.0 / (n_in + n_out), rng, gain, dtype)


def xavier_uniform(shape, rng=None, gain=1.0, dtype=np.float64):
    """Glorot & Bengio (2010): ``U(-a, a)`` with ``a = gain * sqrt(6 / (n_in + n_out))``; ``gain > 0``."""
    gain = check_positive(gain, "gain")
    n_in, n_out = fans(shape)
    return _uniform_with_variance(shape, 2.0 / (n_in + n_out), rng, gain, dtype)


def he_normal(shape, rng=None, dtype=np.float64):
    """He et al. (2015): ``N(0, 2 / n_in)``, keeps the activation variance constant through ReLUs."""
    return _normal_with_variance(shape, 2.0 / fans(shape)[0], rng, 1.0, dtype)


def he_uniform(shape, rng=None, dtype=np.float64):
    """He et al. (2015): ``U(-a, a)`` with ``a = sqrt(6 / n_in)``."""
    return _uniform_with_variance(shape, 2.0 / fans(shape)[0], rng, 1.0, dtype)


def lecun_normal(shape, rng=None, dtype=np.float64):
    """LeCun et al. (1998): ``N(0, 1 / n_in)``, for tanh/SELU-like units."""
    return _normal_with_variance(shape, 1.0 / fans(shape)[0], rng, 1.0, dtype)


def lecun_uniform(shape, rng=None, dtype=np.float64):
    """LeCun et al. (1998): ``U(-a, a)`` with ``a = sqrt(3 / n_in)``."""
    return _uniform_with_variance(shape, 1.0 / fans(shape)[0], rng, 1.0, dtype)


_BY_NAME = {name: globals()[name] for name in __all__ if name not in ("fans", "get")}


def get(init):
    """An initializer from its name (``"he_normal"``) or a callable ``f(shape, rng, dtype=...)``."""
    if callable(init):
        return init
    if not isinstance(init, str) or init not in _BY_NAME:
        raise ValueError(f"init: expected one of {sorted(_BY_NAME)} or a callable, got {init!r}")
    return _BY_NAME[init]
