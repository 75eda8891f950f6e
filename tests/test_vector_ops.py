"""Both branches (NumPy below BLAS_MIN_SIZE, BLAS above) compute the same thing."""

import numpy as np
import pytest

from gdcourse import _vector_ops as V


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [7, V.BLAS_MIN_SIZE + 3])
def test_squared_norm_on_both_sides_of_the_blas_threshold(size, dtype):
    x = np.random.default_rng(size).standard_normal(size).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert V.squared_norm(x) == pytest.approx(float(np.sum(x.astype(np.float64) ** 2)), rel=tol)
