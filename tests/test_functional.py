"""Tests of gdcourse.functional: values at the extremes, derivatives, the softmax Jacobian.

Expected values are written out by hand or computed from the definitions here, never by the
code under test.
"""

import math
import warnings

import numpy as np
import pytest

from gdcourse import functional as F
from gdcourse import nn


def test_sigmoid_equals_its_definition_to_a_few_ulp():
    """``F.sigmoid`` (NumPy, from e^{-|x|}) against ``1 / (1 + e^{-x})`` in Python floats."""
    x = np.linspace(-700.0, 700.0, 14001)
    expected = np.array([1.0 / (1.0 + math.exp(-v)) for v in x])  # e^700 is still finite
    np.testing.assert_allclose(F.sigmoid(x), expected, rtol=4e-16 * 4, atol=0)
    assert F.sigmoid(np.float32(-100.0)).dtype == np.float32


# --- numerics at the extremes ----------------------------------------------------------

EXTREME_FUNCTIONS = {
    "sigmoid": (F.sigmoid, [0.0, 0.5, 1.0]),
    "sigmoid_grad": (F.sigmoid_grad, [0.0, 0.25, 0.0]),
    "tanh": (F.tanh, [-1.0, 0.0, 1.0]),
    "tanh_grad": (F.tanh_grad, [0.0, 1.0, 0.0]),
    "softplus": (F.softplus, [0.0, np.log(2.0), 1e4]),
    "softplus_grad": (F.softplus_grad, [0.0, 0.5, 1.0]),
    "gelu": (F.gelu, [0.0, 0.0, 1e4]),
    "gelu_grad": (F.gelu_grad, [0.0, 0.5, 1.0]),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), [0.0, 0.0, 1e4]),
    "gelu_tanh_grad": (lambda x: F.gelu_grad(x, "tanh"), [0.0, 0.5, 1.0]),
    "silu": (F.silu, [0.0, 0.0, 1e4]),
    "silu_grad": (F.silu_grad, [0.0, 0.5, 1.0]),
    "elu": (F.elu, [-1.0, 0.0, 1e4]),
    "elu_grad": (F.elu_grad, [0.0, 1.0, 1.0]),
}


def _strict():
    """Floating-point overflow/invalid/divide raise, and any warning is an error."""
    return np.errstate(over="raise", invalid="raise", divide="raise")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXTREME_FUNCTIONS))
def test_activations_are_finite_at_plus_minus_1e4(name, dtype):
    f, expected = EXTREME_FUNCTIONS[name]
    x = np.array([-1e4, 0.0, 1e4], dtype=dtype)
    with _strict(), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = f(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_finite_at_plus_minus_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    with _strict(), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = F.softmax(z)
        log_s = F.log_softmax(z)
    assert s.dtype == log_s.dtype == dtype
    np.testing.assert_allclose(s, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(log_s, [[0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.GELU(), nn.GELU("tanh"),
                                   nn.SiLU(), nn.ELU(), nn.Softmax()], ids=repr)
def test_activation_layers_forward_and_backward_at_the_extremes(layer, dtype):
    x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype=dtype)
    with _strict(), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer(x)
        dx = layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


# --- derivatives: against central differences, and their bounds -----------------------

@pytest.mark.parametrize("name", list(F.ACTIVATIONS))
def test_functional_derivatives_match_central_differences(name):
    f, f_grad = F.ACTIVATIONS[name]
    g = np.random.default_rng(26)
    x = g.uniform(0.1, 6.0, 200) * g.choice([-1.0, 1.0], 200)  # |x| >= 0.1: no difference straddles a kink
    h = 1e-5  # about u^(1/3): truncation and round-off errors balance
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    # compared in absolute terms: the step's derivative is exactly 0, where relative error is meaningless
    np.testing.assert_allclose(f_grad(x), numeric, rtol=1e-7, atol=1e-9)


def test_sigmoid_and_tanh_derivative_bounds():
    grid = np.append(np.linspace(-20, 20, 400_001), 0.0)
    sig, tanh = F.sigmoid_grad(grid), F.tanh_grad(grid)
    assert sig.max() <= 0.25 and F.sigmoid_grad(np.array(0.0)) == 0.25
    assert tanh.max() <= 1.0 and F.tanh_grad(np.array(0.0)) == 1.0
    assert grid[np.argmax(sig)] == 0.0 and grid[np.argmax(tanh)] == 0.0
    # the bounds are what makes deep sigmoid nets vanish: ten layers shrink a gradient by ≥ 4^10
    assert np.prod(np.full(10, sig.max())) <= 0.25**10


def test_softmax_jacobian_against_the_layer():
    z = np.random.default_rng(27).standard_normal(5)
    dy = np.random.default_rng(28).standard_normal(5)
    layer = nn.Softmax()
    layer(z[None, :])
    jacobian = F.softmax_jacobian(z)
    np.testing.assert_allclose(layer.backward(dy[None, :])[0], jacobian.T @ dy, rtol=1e-12)
    s = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(jacobian, np.diag(s) - np.outer(s, s), rtol=1e-12)
