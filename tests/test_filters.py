"""The blocked exponential moving average against the recursion it replaces, written out step by step."""

import numpy as np
import pytest

from gdcourse.filters import BLOCK, exponential_average


def recursion(x, beta):
    out, a = np.empty_like(x), np.zeros(x.shape[1:])
    for t in range(len(x)):
        a = beta * a + (1 - beta) * x[t]
        out[t] = a
    return out


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98, 0.999])
@pytest.mark.parametrize("shape", [(1,), (7,), (BLOCK,), (BLOCK + 1,), (3 * BLOCK + 5,), (200, 3), (130, 2, 2)])
def test_equals_the_step_by_step_recursion(beta, shape):
    x = np.random.default_rng(len(shape) * 100 + shape[0]).standard_normal(shape) * 10.0 ** np.arange(shape[-1])
    np.testing.assert_allclose(exponential_average(x, beta), recursion(x, beta), rtol=1e-12, atol=1e-12)


def test_a_constant_input_approaches_it_like_one_minus_beta_to_the_t():
    out = exponential_average(np.full(500, 3.0), 0.99)
    np.testing.assert_allclose(out, 3.0 * (1 - 0.99 ** np.arange(1, 501)), rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, -0.1, True])
def test_bad_beta_is_named(beta):
    with pytest.raises(ValueError, match="beta: expected a number in \\[0, 1\\)"):
        exponential_average(np.ones(3), beta)


def test_a_scalar_has_no_time_axis():
    with pytest.raises(ValueError, match="x: expected an array with a time axis"):
        exponential_average(2.0, 0.9)
