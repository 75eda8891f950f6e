"""Initialization schemes: the variance each one gives a weight matrix of shape ``(n_in, n_out)``.

For ``z = Σ_{i=1}^{n_in} w_i x_i`` with independent, zero-mean weights of variance ``Var(w)``,
``Var(z) = n_in · Var(w) · E[x²]`` (forward) and ``Var(∂L/∂x) = n_out · Var(w) · Var(∂L/∂z)``
(backward). LeCun (1998) picks ``Var(w) = 1/n_in``, Glorot & Bengio (2010) ``2/(n_in + n_out)``,
He et al. (2015) ``2/n_in`` for ReLU; see :mod:`gdcourse.init`.
"""

from __future__ import annotations

import functools

import numpy as np

from gdcourse import init as initializers
from gdcourse.experiments.common import one_blas_thread
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["SCHEMES", "EXPLORER_SCHEMES", "SMALL_STD", "LARGE_STD", "CONSTANT_VALUE",
           "weight_variance", "initializer", "orthogonal"]

SMALL_STD = 0.01
"""Standard deviation of the "small normal" scheme, N(0, 0.01²): a common too-small choice."""
LARGE_STD = 1.0
"""Standard deviation of the "large normal" scheme, N(0, 1): a popular article's recommendation, too large."""
CONSTANT_VALUE = 0.1
"""Every weight of the "constant" scheme."""

SCHEMES = ("zeros", "constant", "small normal", "large normal", "lecun", "xavier", "he")
"""Weight initializations compared in the notebook (biases always start at 0)."""
EXPLORER_SCHEMES = ("zeros", "small normal", "large normal", "lecun", "xavier", "he")


def _check_scheme(scheme, allowed=SCHEMES):
    if scheme not in allowed:
        raise ValueError(f"scheme: expected one of {list(allowed)}, got {scheme!r}")
    return scheme


def weight_variance(scheme, n_in, n_out, gain=1.0) -> float:
    """``Var(W)`` of a scheme for a weight of shape ``(n_in, n_out)``, times ``gain²``.

    zeros and constant have variance 0: every entry is the same.
    """
    _check_scheme(scheme)
    n_in, n_out = check_positive_int(n_in, "n_in"), check_positive_int(n_out, "n_out")
    variance = {"zeros": 0.0, "constant": 0.0,
                "small normal": SMALL_STD**2, "large normal": LARGE_STD**2,
                "lecun": 1 / n_in,                 # LeCun et al. (1998)
                "xavier": 2 / (n_in + n_out),      # Glorot & Bengio (2010)
                "he": 2 / n_in}[scheme]            # He et al. (2015)
    return check_positive(gain, "gain") ** 2 * variance


def _base_initializer(scheme, value):
    return {
        "zeros": initializers.zeros,
        "constant": functools.partial(initializers.constant, value=value),
        "small normal": functools.partial(initializers.normal, std=SMALL_STD),
        "large normal": functools.partial(initializers.normal, std=LARGE_STD),
        "lecun": initializers.lecun_normal,
        "xavier": initializers.xavier_normal,
        "he": initializers.he_normal,
    }[scheme]


def initializer(scheme, gain=1.0, value=CONSTANT_VALUE):
    """The :mod:`gdcourse.init` function of a scheme, as ``f(shape, rng=None, dtype=float64)``.

    With ``gain != 1`` the weights are the scheme's weights multiplied by ``gain``
    (the same random draws, so changing the gain rescales one fixed network).
    ``value`` is the entry of the "constant" scheme.
    """
    _check_scheme(scheme)
    gain = check_positive(gain, "gain")
    base = _base_initializer(scheme, float(value))
    if gain == 1.0:
        return base

    def scaled(shape, rng=None, dtype=np.float64):
        return (gain * base(shape, rng=rng, dtype=np.float64)).astype(dtype, copy=False)

    return scaled


@one_blas_thread
def orthogonal(shape, rng=None, gain=1.0, dtype=np.float64):
    """A random (semi-)orthogonal matrix of ``shape (n_in, n_out)`` (Saxe, McClelland & Ganguli, 2014).

    Orthonormal columns when ``n_in >= n_out``, orthonormal rows otherwise; every singular value is ``gain``.
    """
    n_in, n_out = initializers.fans(shape)
    q, r = np.linalg.qr(as_rng(rng).standard_normal((max(n_in, n_out), min(n_in, n_out))))
    q = q * np.sign(np.diag(r))       # R's signs folded in: uniformly distributed (Mezzadri, 2007)
    q = q if n_in >= n_out else q.T
    return (check_positive(gain, "gain") * q).astype(dtype, copy=False)
