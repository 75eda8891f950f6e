"""The squared norm of the gradient, computed at every step of ``fit`` (and by clipping).

``dot`` is multi-threaded by OpenBLAS above about 10,000 elements, and on a busy
machine that thread hand-off costs far more than the arithmetic, so below
``BLAS_MIN_SIZE`` elements the squared norm uses a single-threaded NumPy loop.
(It stays on NumPy's BLAS: ``scipy.linalg.blas`` runs on SciPy's separate OpenBLAS
thread pool, whose spinning workers then compete with NumPy's for the cores.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLAS_MIN_SIZE", "squared_norm"]

BLAS_MIN_SIZE = 1 << 17  # 131,072 elements: measured crossover on a loaded 2-core machine


def squared_norm(x: np.ndarray) -> float:
    """``Σ x_i²`` of a 1-D array."""
    if x.size >= BLAS_MIN_SIZE:
        return float(np.vdot(x, x))
    return float(np.einsum("i,i->", x, x))
