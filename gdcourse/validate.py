"""Checks at the public boundary of the package.

Every function raises ``ValueError`` (or ``TypeError`` for a wrong kind of object)
with a message that names the argument, what was expected and what was given, so a
learner can fix the call without reading the source.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "all_finite",
    "as_rng",
    "check_array",
    "check_finite",
    "check_fraction",
    "check_labels",
    "check_positive",
    "check_positive_int",
    "check_same_length",
    "check_unit_interval",
]


def as_rng(rng=None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``None``, an int seed or a Generator.

    ``None`` gives a fresh, unseeded generator; an int gives ``default_rng(seed)``,
    so the same seed always gives the same stream.
    """
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"rng: expected None, an int seed or a numpy.random.Generator, got {rng!r}")
    if rng is None or isinstance(rng, numbers.Integral):
        if rng is not None and rng < 0:
            raise ValueError(f"rng: expected a non-negative int seed, got {rng}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"rng: expected None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )


def check_array(x, name: str, *, ndim=None, float_only=True, finite=False, allow_empty=False):
    """Return ``x`` as an ndarray after checking its rank, dtype and contents.

    Parameters
    ----------
    ndim : int or tuple of int, optional
        Accepted number of dimensions.
    float_only : bool
        Require a floating dtype (integer input to a layer is almost always a bug:
        unscaled pixel values, or labels passed as features).
    finite : bool
        Reject NaN and inf.
    """
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name}: expected a {want}-D array, got shape {x.shape} ({x.ndim}-D)")
    if float_only and x.dtype.kind != "f":
        raise ValueError(
            f"{name}: expected a floating-point array, got dtype {x.dtype}; "
            f"convert with .astype(np.float64) (and scale it) first"
        )
    if not allow_empty and x.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {x.shape}")
    if finite:
        check_finite(x, name)
    return x


def all_finite(x: np.ndarray) -> bool:
    """Whether the float array ``x`` holds no NaN or inf, in one pass and without a temporary.

    ``x · x`` is finite unless ``x`` holds NaN or inf, or the sum overflows (entries
    beyond ~1e154 in float64, ~1e19 in float32); only then is each entry tested. A BLAS
    dot product is quieter (no overflow warning) and faster than ``np.isfinite(x).all()``.
    """
    return math.isfinite(np.vdot(x, x)) or bool(np.isfinite(x).all())


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise if ``x`` holds NaN or inf, saying how many and where the first one is."""
    if x.dtype.kind in "fc" and not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: expected finite values, got {int(bad.sum())} NaN/inf entries "
            f"(first at index {first}: {x[first]})"
        )


def check_labels(y, name: str, num_classes: int) -> np.ndarray:
    """Integer class labels in ``[0, num_classes)``, shape ``(N,)``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integer class labels, got dtype {y.dtype}")
    # one pass instead of min and max: seen as unsigned, a negative label is a huge one
    unsigned = y.view(y.dtype.str.replace("i", "u")) if y.dtype.kind == "i" else y
    if y.size and unsigned.max() >= num_classes:
        raise ValueError(
            f"{name}: expected labels in [0, {num_classes - 1}] for {num_classes} classes, "
            f"got values from {y.min()} to {y.max()}"
        )
    return y


def check_same_length(a, b, name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have the same first dimension."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b}: expected the same number of samples, "
            f"got {len(a)} and {len(b)}"
        )


def check_positive(value, name: str, *, allow_zero=False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite real number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value}")
    return float(value)


def check_positive_int(value, name: str, *, allow_zero=False) -> int:
    """An int > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an int, got {value!r} ({type(value).__name__})")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"{name}: expected an int {bound}, got {value}")
    return int(value)


def check_unit_interval(value, name: str) -> float:
    """A number in ``[0, 1)``: momentum, betas, dropout probability, decay rates."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")
    return float(value)


def check_fraction(value, name: str) -> float:
    """A number in ``(0, 1]``: a fraction of the data, a decay factor."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ValueError(f"{name}: expected a number in (0, 1], got {value!r}")
    return float(value)


def is_seed(rng) -> bool:
    """Whether ``rng`` is an int seed (not a bool, not a Generator): the runs that can be cached."""
    return isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0


def whole_number(text: str) -> int:
    """An argparse ``type`` for seeds and counts: an int >= 0, else a message naming what was given."""
    import argparse  # only the command line needs it

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value
