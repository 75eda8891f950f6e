"""Two vector operations on the hot path of every training step, dispatched by size.

BLAS level-1 calls (``axpy``, ``dot``) make one pass over memory, but OpenBLAS
runs them on several threads above about 10,000 elements; on a busy machine the
thread hand-off then costs tens of microseconds to milliseconds per call, far
more than the arithmetic. Below ``BLAS_MIN_SIZE`` elements we therefore use plain
NumPy loops (single-threaded), above it BLAS, where its single pass pays off.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas

__all__ = ["BLAS_MIN_SIZE", "squared_norm", "subtract_scaled"]

BLAS_MIN_SIZE = 1 << 17  # 131,072 elements: measured crossover on a loaded 2-core machine

_AXPY = {"f": blas.saxpy, "d": blas.daxpy}


def squared_norm(x: np.ndarray) -> float:
    """``Σ x_i²`` of a 1-D array."""
    if x.size >= BLAS_MIN_SIZE:
        return float(np.vdot(x, x))
    return float(np.einsum("i,i->", x, x))


def subtract_scaled(w: np.ndarray, a: float, d: np.ndarray, scratch: np.ndarray) -> None:
    """``w ← w − a·d`` in place (``scratch`` is a buffer shaped like ``w``)."""
    if (w.size >= BLAS_MIN_SIZE and w.flags.c_contiguous and d.flags.c_contiguous
            and w.dtype == d.dtype and w.dtype.char in _AXPY):
        _AXPY[w.dtype.char](d.reshape(-1), w.reshape(-1), a=-a)
    else:
        np.multiply(d, a, out=scratch)
        w -= scratch
