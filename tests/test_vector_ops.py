"""Both branches (NumPy below BLAS_MIN_SIZE, BLAS above) compute the same thing."""

import numpy as np
import pytest

from gdcourse import _vector_ops as V


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [7, V.BLAS_MIN_SIZE + 3])
def test_squared_norm_and_subtract_scaled(size, dtype):
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(dtype)
    d = rng.standard_normal(size).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert V.squared_norm(x) == pytest.approx(float(np.sum(x.astype(np.float64) ** 2)), rel=tol)
    w = x.copy()
    V.subtract_scaled(w, 0.3, d, np.empty_like(w))
    np.testing.assert_allclose(w, x - dtype(0.3) * d, rtol=tol, atol=tol)
    assert w.dtype == dtype


def test_subtract_scaled_on_a_non_contiguous_view():
    w = np.arange(2 * V.BLAS_MIN_SIZE, dtype=np.float64)[::2]
    d = np.ones_like(w)
    expected = w - 2.0
    V.subtract_scaled(w, 2.0, d, np.empty_like(w))
    np.testing.assert_array_equal(w, expected)
