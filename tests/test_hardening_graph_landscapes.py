"""The scalar graph, the landscapes and the diagnostics at their extremes: a clear error naming the
argument or the operation, or the documented inf/NaN without a NumPy warning."""

import re

import numpy as np
import pytest

from gdcourse import diagnostics, losses, nn, optim
from gdcourse import landscapes as LS
from gdcourse.graph import Value, parse

pytestmark = pytest.mark.filterwarnings("error")


# ------------------------------------------------------------------ graph

@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: Value(float("nan")), ValueError, "Value: expected a finite number, got nan"),
    (lambda: Value(float("-inf")), ValueError, "Value: expected a finite number, got -inf"),
    (lambda: Value(10**400), ValueError, "Value: expected a number in float64's range, got an int of 401 digits"),
    (lambda: Value("a"), TypeError, "Value: expected a real number, got 'a' (str)"),
    (lambda: Value(1000.0).exp(), OverflowError, "exp: e**1000 overflows float64 (the largest is about e**709.78)"),
    (lambda: Value(1e200) ** 2, OverflowError, "Value ** k: 1e+200**2 overflows float64"),
    (lambda: Value(1e200) * 1e200, OverflowError, "Value *: the result of * on 1e+200, 1e+200 overflows float64 (inf)"),
    (lambda: Value(1e308) + Value(1e308), OverflowError, "Value +: the result of + on 1e+308, 1e+308 overflows"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "Value division: the divisor"),
    (lambda: Value(-1.0).log(), ValueError, "log: expected a positive argument, got -1.0"),
    (lambda: parse("1e400"), ValueError, "expression: the constant '1e400' is beyond float64's range"),
    (lambda: parse("exp(1000)"), OverflowError, "exp: e**1000 overflows float64"),
    (lambda: parse("x", x=float("nan")), ValueError, "x: expected a finite number, got nan"),
    (lambda: parse("x", x="a"), TypeError, "x: expected a real number, got 'a' (str)"),
    (lambda: parse("x / 0", x=1.0), ZeroDivisionError, "Value division: the divisor"),
    (lambda: parse("log(x)", x=-1.0), ValueError, "log: expected a positive argument, got -1.0"),
    (lambda: parse("1 +"), ValueError, "expression: not a valid expression (invalid syntax): '1 +'"),
])
def test_graph_rejects_non_finite_values_and_names_the_overflowing_operation(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_a_gradient_beyond_float64_raises_instead_of_dividing_by_zero():
    a, b = Value(1.0, "a"), Value(1e-300, "b")
    y = a / b  # 1e300 is finite, dy/db = −a/b² = −1e600 is not
    with pytest.raises(OverflowError, match=r"backward: the gradient of b \(data 1e-300\) overflows float64 \(-inf\)"):
        y.backward()


def test_division_gradient_is_exact_where_b_squared_underflows():
    a, b = Value(1e-200, "a"), Value(1e-200, "b")
    y = a / b  # b² = 1e-400 underflows to 0, yet d(a/b)/db = −a/b² = −1e200 is a float64
    y.backward()
    assert a.grad == pytest.approx(1e200, rel=1e-12)
    assert b.grad == pytest.approx(-1e200, rel=1e-12)


# ------------------------------------------------------------------ landscapes

@pytest.mark.parametrize("name", sorted(LS.LANDSCAPES))
@pytest.mark.parametrize("point", [[1e200, 1e200], [-1e200, 1e200], [1e300, -1e300], [np.inf, 1.0]])
def test_landscapes_far_out_give_inf_or_nan_without_a_warning(name, point):
    landscape = LS.get_landscape(name)
    p = np.array(point)
    value, gradient, hessian = landscape.value(p), landscape.gradient(p), landscape.hessian(p)
    assert np.shape(value) == () and gradient.shape == (2,) and hessian.shape == (2, 2)
    assert not np.all(np.isfinite(np.r_[value, gradient, hessian.ravel()]))


def test_rosenbrock_value_far_out_is_inf():
    assert LS.get_landscape("rosenbrock").value(np.array([1e200, 1e200])) == np.inf


@pytest.mark.parametrize(("call", "message"), [
    (lambda: LS.grid(LS.get_landscape("saddle"), 5, ((0, np.inf), (0, 1))),
     "bounds: expected finite real numbers, got ((0, inf), (0, 1))"),
    (lambda: LS.grid(LS.get_landscape("saddle"), 5, ((0, np.nan), (0, 1))), "bounds: expected finite real numbers"),
    (lambda: LS.run(lambda p: optim.SGD(p, lr=0.1), LS.get_landscape("saddle"), steps=3,
                    schedule=lambda t: float("nan")),
     "schedule: expected a finite learning rate >= 0 at step 0, got nan"),
    (lambda: LS.get_landscape("saddle").value(np.ones(3)), "p: expected shape (2,) or (2, ...), got shape (3,)"),
])
def test_landscape_functions_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# ------------------------------------------------------------------ diagnostics

def test_gradient_norms_names_y():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 3, rng=1))
    X = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match="X and y: expected the same number of samples, got 20 and 4"):
        diagnostics.gradient_norms(model, losses.CrossEntropyLoss(), X, np.zeros(4, int))
    with pytest.raises(ValueError, match=re.escape("y: expected labels in [0, 2] for a model with 3 outputs, "
                                                   "got values up to 3")):
        diagnostics.gradient_norms(model, losses.CrossEntropyLoss(), X, np.full(20, 3))
