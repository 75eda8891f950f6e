"""Two vector operations on the hot path of every training step.

Both stay on NumPy's own BLAS and loops. ``scipy.linalg.blas`` would make the
update one pass (``axpy``), but it runs on SciPy's separate OpenBLAS thread pool,
whose spinning workers then compete with NumPy's for the cores (measured: a
784-256-256-10 step went from about 2 ms to 12 ms on an idle 2-core machine).
``dot`` is multi-threaded by OpenBLAS above about 10,000 elements, and on a busy
machine that thread hand-off costs far more than the arithmetic, so below
``BLAS_MIN_SIZE`` elements the squared norm uses a single-threaded NumPy loop.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLAS_MIN_SIZE", "squared_norm", "subtract_scaled"]

BLAS_MIN_SIZE = 1 << 17  # 131,072 elements: measured crossover on a loaded 2-core machine


def squared_norm(x: np.ndarray) -> float:
    """``Σ x_i²`` of a 1-D array."""
    if x.size >= BLAS_MIN_SIZE:
        return float(np.vdot(x, x))
    return float(np.einsum("i,i->", x, x))


def subtract_scaled(w: np.ndarray, a: float, d: np.ndarray, scratch: np.ndarray) -> None:
    """``w ← w − a·d`` in place (``scratch`` is a buffer shaped like ``w``, so nothing is allocated)."""
    np.multiply(d, a, out=scratch)
    w -= scratch
