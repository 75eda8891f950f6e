"""Tests of gdcourse.gradcheck: the tool every layer test relies on must itself be right."""

import numpy as np
import pytest

from gdcourse import nn
from gdcourse.gradcheck import (
    GradCheckReport,
    check_module,
    numerical_gradient,
    numerical_input_gradient,
    relative_error,
)
from gdcourse.nn.module import Module, Parameter

# Tolerances: with the default eps = 1e-5 the central difference is off by about 1e-11 in absolute
# terms (round-off u|f|/eps and truncation eps²|f'''|/6 alike, for |f|, |f'''| ~ 1), so entries of
# size ~1e-4 can show relative errors near 1e-7; 1e-7 is the CS231n bar.
TOL = 1e-7


def rng(seed=0):
    return np.random.default_rng(seed)


# --- numerical_gradient -------------------------------------------------------------

@pytest.mark.parametrize(
    "f, grad",
    [
        (lambda x: np.sum(x**3), lambda x: 3 * x**2),
        (lambda x: np.sum(np.sin(x)), np.cos),
        (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.exp(x).sum()),
    ],
    ids=["cube", "sin", "logsumexp"],
)
def test_numerical_gradient_of_known_functions(f, grad):
    x = rng().standard_normal((3, 4))
    assert relative_error(numerical_gradient(f, x), grad(x)) < TOL


def test_numerical_gradient_of_quadratic_form():
    g = rng(1)
    a = g.standard_normal((5, 5))
    x = g.standard_normal(5)
    # d(xᵀAx)/dx = (A + Aᵀ)x; a quadratic has no third derivative, so only round-off remains.
    numeric = numerical_gradient(lambda v: v @ a @ v, x)
    assert relative_error(numeric, (a + a.T) @ x) < TOL


def test_numerical_gradient_restores_x_exactly():
    x = rng().standard_normal((4, 3))
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    assert np.array_equal(x, before)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(ValueError, match="float32"):
        numerical_gradient(np.sum, np.ones(3, dtype=np.float32))


def test_numerical_gradient_needs_a_scalar_function():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.ones(3))


def test_numerical_input_gradient_is_the_vector_jacobian_product():
    g = rng(2)
    a = g.standard_normal((4, 3))
    x = g.standard_normal(3)
    dy = g.standard_normal(4)
    assert relative_error(numerical_input_gradient(lambda v: a @ v, x, dy), a.T @ dy) < TOL


def test_numerical_input_gradient_copes_with_f_returning_x_itself():
    # the identity returns the very array being perturbed; both outputs must be copied
    dy = rng(3).standard_normal((2, 3))
    numeric = numerical_input_gradient(lambda v: v, rng(4).standard_normal((2, 3)), dy)
    np.testing.assert_allclose(numeric, dy, rtol=1e-9)


def test_numerical_input_gradient_checks_dy_shape():
    with pytest.raises(ValueError, match=r"dy: expected the shape of f\(x\), \(3,\), got \(2,\)"):
        numerical_input_gradient(lambda v: v * 2, np.ones(3), np.ones(2))


# --- relative_error -----------------------------------------------------------------

def test_relative_error_formula():
    assert relative_error(np.array([2.0]), np.array([2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(2 / 4)
    # symmetric, and never above 1
    assert relative_error(np.array([3.0]), np.array([1.0])) == pytest.approx(0.5)
    assert relative_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)


def test_relative_error_is_the_worst_element_not_an_average():
    # a large correct entry must not hide a bad small one
    a = np.array([1000.0, 1e-3])
    b = np.array([1000.0, 2e-3])
    assert relative_error(a, b, scale_floor=0) == pytest.approx(1e-3 / 3e-3)
    # with the default scale-aware floor it is measured on the gradient's scale, and still flagged (> 1e-5)
    assert relative_error(a, b) == pytest.approx(1e-3 / (1e-3 * 2000))


def test_relative_error_floor():
    # both exactly zero: 0, not NaN
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # below the floor the absolute difference is divided by the floor
    assert relative_error(np.array([0.0]), np.array([1e-13])) == pytest.approx(1e-13 / 1e-12)
    # above the floor the plain formula applies: |0 - b| / (0 + |b|) = 1
    assert relative_error(np.array([0.0]), np.array([1e-11])) == pytest.approx(1.0)
    # a larger floor tolerates larger absolute noise near zero
    assert relative_error(np.array([0.0]), np.array([1e-9]), floor=1e-3) == pytest.approx(1e-6)


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        relative_error(np.zeros(3), np.zeros(4))


# --- check_module -------------------------------------------------------------------

class Square(Module):
    """``y = w x²`` elementwise with a scalar parameter ``w``; ``bug`` breaks one gradient."""

    def __init__(self, bug=None):
        super().__init__()
        self.w = Parameter(np.array([1.5]), "w")
        self.bug = bug

    def forward(self, x):
        self._cache = x
        return self.w.value[0] * x * x

    def backward(self, dy, input_grad=True):
        x = self._saved()
        dw = np.sum(dy * x * x)
        self.w.grad += 2 * dw if self.bug == "param" else dw
        factor = 1.0 if self.bug == "input" else 2.0  # the true derivative is 2 w x
        return dy * factor * self.w.value[0] * x


def test_check_module_passes_a_correct_module():
    report = check_module(Square(), rng().standard_normal((3, 4)), rng=0)
    assert report.worst < TOL


def test_check_module_detects_a_wrong_input_gradient():
    report = check_module(Square(bug="input"), rng().standard_normal((3, 4)), rng=0)
    assert report.input_error > 0.3  # |w x - 2 w x| / (|w x| + |2 w x|) = 1/3
    assert report.param_errors["w"] < TOL
    assert report.worst == report.input_error


def test_check_module_detects_a_wrong_parameter_gradient():
    report = check_module(Square(bug="param"), rng().standard_normal((3, 4)), rng=0)
    assert report.param_errors["w"] == pytest.approx(1 / 3, rel=1e-6)  # |2g - g| / (2|g| + |g|)
    assert report.input_error < TOL


def test_check_module_refuses_float32_input():
    with pytest.raises(ValueError, match="float32"):
        check_module(Square(), np.ones((2, 2), dtype=np.float32))


def test_check_module_refuses_float32_parameters():
    layer = nn.Linear(3, 2, rng=0, dtype=np.float32)
    with pytest.raises(ValueError, match="weight.*float32"):
        check_module(layer, np.ones((2, 3)))


def test_check_module_rejects_wrong_dy_shape():
    with pytest.raises(ValueError, match=r"dy: expected the output shape \(2, 2\)"):
        check_module(Square(), np.ones((2, 2)), dy=np.ones(3))


def test_check_module_restores_parameters_and_leaves_the_analytic_gradient():
    layer = nn.Linear(3, 2, rng=0)
    g = rng(3)
    layer.bias.value = g.standard_normal(2)
    weight, bias = layer.weight.value.copy(), layer.bias.value.copy()
    layer.weight.grad = np.full((3, 2), 99.0)  # stale gradient: must be zeroed first
    x = g.standard_normal((4, 3))
    dy = g.standard_normal((4, 2))
    report = check_module(layer, x, dy=dy)
    assert report.worst < 1e-7
    assert np.array_equal(layer.weight.value, weight) and np.array_equal(layer.bias.value, bias)
    np.testing.assert_allclose(layer.weight.grad, x.T @ dy, rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, dy.sum(axis=0), rtol=1e-13)


def test_check_module_does_not_touch_the_callers_x():
    x = rng().standard_normal((3, 4))
    before = x.copy()
    check_module(Square(), x, rng=0)
    assert np.array_equal(x, before)


def test_check_module_names_nested_parameters_by_path():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Residual(nn.Linear(4, 4, rng=1)))
    report = check_module(model, rng().standard_normal((5, 3)), rng=0)
    assert list(report.param_errors) == [
        "0.weight", "0.bias", "2.block.weight", "2.block.bias",
    ]  # the paths of model.named_parameters(), as PyTorch names them


def test_check_module_reuses_the_dropout_mask_and_draws_only_once():
    layer = nn.Dropout(0.5, rng=3)
    x = rng().standard_normal((6, 5))
    report = check_module(layer, x, rng=0)
    assert report.worst < TOL  # a fresh mask per numerical pass would give errors near 1
    # afterwards the generator has advanced by exactly one forward, as after a plain call
    twin = nn.Dropout(0.5, rng=3)
    twin(x)
    assert np.array_equal(layer(x), twin(x))


def test_check_module_leaves_batchnorm_running_stats_as_after_one_forward():
    layer = nn.BatchNorm1d(3)
    twin = nn.BatchNorm1d(3)
    x = rng().standard_normal((5, 3))
    check_module(layer, x, rng=0)
    twin(x)
    np.testing.assert_array_equal(layer.running_mean, twin.running_mean)
    np.testing.assert_array_equal(layer.running_var, twin.running_var)
    assert layer.num_batches_tracked == twin.num_batches_tracked == 1


def test_report_str_and_worst():
    report = GradCheckReport("Linear", 1e-9, {"weight": 3e-8, "bias": 2e-10})
    assert report.worst == 3e-8
    text = str(report)
    assert "Linear" in text and "weight" in text and "3.00e-08" in text and "input" in text
