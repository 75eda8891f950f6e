"""Bad input and extreme values at the public boundary of nn, losses, functional and init (issue 16).

Every case either raises a ValueError/TypeError whose message names the argument, the expected
and the actual value, or returns the right value (written out here by hand) with no warning.
Warnings are errors in every test of this file.
"""

import math
import warnings

import numpy as np
import pytest

from gdcourse import functional as F
from gdcourse import init, losses, nn

pytestmark = pytest.mark.filterwarnings("error")

INF, NAN = np.inf, np.nan
X = np.random.default_rng(0).standard_normal((5, 3))


@pytest.fixture(autouse=True)
def _strict_floating_point():
    """Overflow, invalid operations and division by zero raise instead of warning."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- backward checks dy against the output of forward ---------------------------------------

def _linear():
    layer = nn.Linear(3, 4, rng=0)
    layer(X)  # output (5, 4)
    return layer


@pytest.mark.parametrize(("dy", "got"), [
    (np.ones((5, 3)), r"got shape \(5, 3\)"),
    (np.ones((6, 4)), r"got shape \(6, 4\)"),
    (np.ones((1, 4)), r"got shape \(1, 4\)"),
    ([[1.0] * 4] * 5, r"got a list"),
    (np.ones((5, 4), dtype=int), r"got dtype int64"),
    (None, r"got a NoneType"),
], ids=["input shape", "more rows", "one row", "list", "int", "None"])
def test_linear_backward_names_the_shape_of_its_output(dy, got):
    want = r"Linear.backward: dy: expected a floating-point array of shape \(5, 4\) \(the shape of the output"
    with pytest.raises(ValueError, match=want + r".*" + got):
        _linear().backward(dy)


def test_sequential_backward_with_the_wrong_width_names_the_sequential():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    model(X)
    with pytest.raises(ValueError, match=r"Sequential.backward: dy: expected .* shape \(5, 2\) .*got shape \(5, 3\)"):
        model.backward(np.ones((5, 3)))


EVERY_LAYER = {
    "Linear": (lambda: nn.Linear(3, 4, rng=0), X),
    "WeightNormLinear": (lambda: nn.WeightNormLinear(3, 4, rng=0), X),
    "Identity": (nn.Identity, X), "Step": (nn.Step, X), "Sigmoid": (nn.Sigmoid, X), "Tanh": (nn.Tanh, X),
    "ReLU": (nn.ReLU, X), "LeakyReLU": (nn.LeakyReLU, X), "PReLU": (lambda: nn.PReLU(3), X),
    "ELU": (nn.ELU, X), "GELU": (nn.GELU, X), "SiLU": (nn.SiLU, X), "Softplus": (nn.Softplus, X),
    "Softmax": (nn.Softmax, X),
    "Dropout": (lambda: nn.Dropout(0.5, rng=0), X),
    "Dropout (eval)": (lambda: nn.Dropout(0.5, rng=0).eval(), X),
    "GaussianNoise": (lambda: nn.GaussianNoise(0.1, rng=0), X),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), X),
    "BatchNorm1d (eval)": (lambda: nn.BatchNorm1d(3).eval(), X),
    "LayerNorm": (lambda: nn.LayerNorm(3), X),
    "RNN": (lambda: nn.RNN(3, 4, rng=0), np.ones((2, 5, 3))),
    "Residual": (lambda: nn.Residual(nn.Linear(3, 3, rng=0)), X),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh()), X),
}


@pytest.mark.parametrize("name", EVERY_LAYER)
@pytest.mark.parametrize("bad", ["one more column", "one more row", "list", "int dtype"])
def test_every_layer_checks_dy_against_its_output(name, bad):
    make, x = EVERY_LAYER[name]
    layer = make()
    shape = layer.forward(x).shape
    dy = {
        "one more column": np.ones(shape[:-1] + (shape[-1] + 1,)),
        "one more row": np.ones((shape[0] + 1,) + shape[1:]),
        "list": np.ones(shape).tolist(),
        "int dtype": np.ones(shape, dtype=int),
    }[bad]
    kind = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{kind}.backward: dy: expected a floating-point array of shape "
                                         rf"{re_shape(shape)}"):
        layer.backward(dy)


@pytest.mark.parametrize("name", EVERY_LAYER)
def test_every_layer_accepts_dy_of_its_output_shape(name):
    make, x = EVERY_LAYER[name]
    layer = make()
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == np.shape(x)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_two_backward_passes_accumulate_as_documented():
    layer = nn.Linear(3, 4, rng=0)
    dy = np.random.default_rng(1).standard_normal((5, 4))
    layer(X)
    layer.backward(dy)
    layer(X)
    layer.backward(dy)
    np.testing.assert_allclose(layer.weight.grad, 2 * X.T @ dy, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, 2 * dy.sum(axis=0), rtol=1e-12)


# --- the data: finite values and at least one row ------------------------------------------------

def _with(value, at):
    x = X.copy()
    x[at] = value
    return x


@pytest.mark.parametrize(("model", "name"), [
    (lambda: nn.Linear(3, 4), "Linear"),
    (lambda: nn.WeightNormLinear(3, 4), "WeightNormLinear"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU()), "Sequential"),
    (lambda: nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "Sequential"),
    (lambda: nn.Residual(nn.Linear(3, 3)), "Residual"),
])
@pytest.mark.parametrize(("value", "shown"), [(NAN, "nan"), (-INF, "-inf"), (INF, "inf")])
def test_nan_or_inf_in_the_data_is_named_with_where_it_is(model, name, value, shown):
    with pytest.raises(ValueError, match=rf"{name}: x: expected finite values, got 1 NaN/inf entries "
                                         rf"\(first at index \(2, 1\): {shown}\)"):
        model()(_with(value, (2, 1)))


def test_the_data_check_also_runs_when_forward_is_called_directly():
    with pytest.raises(ValueError, match=r"Sequential: x: expected finite values"):
        nn.Sequential(nn.Linear(3, 2)).forward(_with(NAN, (0, 0)))


def test_rnn_checks_its_data_and_h0():
    with pytest.raises(ValueError, match=r"RNN: x: expected finite values, got 1 NaN/inf entries"):
        nn.RNN(3, 4)(np.where(np.arange(6).reshape(1, 2, 3) == 4, NAN, 1.0))
    with pytest.raises(ValueError, match=r"RNN: h0: expected finite values"):
        nn.RNN(3, 4)(np.ones((1, 2, 3)), h0=np.full((1, 4), INF))


def test_activations_inside_a_model_are_not_checked_so_divergence_reaches_the_loss():
    """Huge weights make the hidden activations inf; the model's input is finite, so no error:
    the loss is inf or NaN, which is how ``fit`` reports divergence."""
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    model[0].weight.value = np.full((3, 4), 1e300)
    with np.errstate(over="ignore", invalid="ignore"):
        out = model(np.ones((2, 3)))
        value = losses.MSELoss()(out, np.zeros((2, 1)))
    assert not math.isfinite(value)


@pytest.mark.parametrize(("model", "message"), [
    (lambda: nn.Linear(3, 4), r"Linear: x: expected at least one row, got shape \(0, 3\)"),
    (lambda: nn.WeightNormLinear(3, 4), r"WeightNormLinear: x: expected at least one row, got shape \(0, 3\)"),
    (lambda: nn.Sequential(nn.Linear(3, 4)), r"Sequential: x: expected at least one row, got shape \(0, 3\)"),
    (lambda: nn.BatchNorm1d(3).eval(), r"BatchNorm1d: x: expected at least one row, got shape \(0, 3\)"),
    (lambda: nn.LayerNorm(3), r"LayerNorm: x: expected at least one sample, got shape \(0, 3\)"),
])
def test_an_empty_batch_is_refused(model, message):
    with pytest.raises(ValueError, match=message):
        model()(np.ones((0, 3)))


@pytest.mark.parametrize(("x", "message"), [
    (np.ones((2, 3, 3), dtype=int), r"RNN: expected a floating-point input x, got dtype int64"),
    (np.ones((2, 0, 3)), r"RNN: x: expected at least one sequence of at least one step, got shape \(2, 0, 3\)"),
    (np.ones((0, 2, 3)), r"RNN: x: expected at least one sequence of at least one step, got shape \(0, 2, 3\)"),
])
def test_rnn_input(x, message):
    with pytest.raises(ValueError, match=message):
        nn.RNN(3, 4)(x)


def test_dropout_on_integer_input_scales_by_the_exact_factor():
    """Before: the scale 1/(1 − p) was cast to the input's int dtype (1/0.7 became 1)."""
    y = nn.Dropout(0.3, rng=0)(np.ones((50, 50), dtype=int))
    assert set(np.unique(y)) <= {0.0, 1 / 0.7}
    assert (y == 1 / 0.7).any()


# --- constructors and state -------------------------------------------------------------------

@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.PReLU(init=NAN), r"init: expected a finite real number \(the initial slope\), got nan"),
    (lambda: nn.Softplus(threshold=NAN), r"threshold: expected a real number, got nan"),
    (lambda: nn.Softplus(threshold="20"), r"threshold: expected a real number, got '20'"),
    (lambda: nn.Softmax(axis="1"), r"axis: expected an int, got '1'"),
    (lambda: nn.Linear(3, 4, dtype=int), r"dtype: expected a floating-point dtype such as np.float64, got"),
    (lambda: nn.Linear(3, 4, init=["he_normal"]), r"init: expected one of \[.*\] or a callable, got \['he_normal'\]"),
    (lambda: nn.Linear(3, 4, rng=True), r"rng: expected None, an int seed or a numpy.random.Generator, got True"),
    (lambda: nn.Linear(3, 4).train("no"), r"train: mode: expected True or False, got 'no'"),
    (lambda: nn.Parameter([1.0, NAN], "w"), r"Parameter 'w': expected finite values, got 1 NaN/inf entries"),
])
def test_constructor_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize("attribute", ["value", "grad"])
def test_parameter_assignment_needs_numbers(attribute):
    p = nn.Parameter(np.ones(3), "w")
    with pytest.raises(ValueError, match=rf"w.{attribute}: expected numbers, got dtype <U1"):
        setattr(p, attribute, ["a", "b", "c"])


# --- losses ---------------------------------------------------------------------------------------

P = np.array([[0.2], [0.7]])


@pytest.mark.parametrize("loss", [losses.BCELoss, losses.BCEWithLogitsLoss], ids=lambda c: c.__name__)
@pytest.mark.parametrize(("target", "got"), [
    ([[2.0], [0.0]], r"got values from 0.0 to 2.0"),
    ([[-1.0], [0.0]], r"got values from -1.0 to 0.0"),
])
def test_binary_cross_entropy_targets_must_be_probabilities(loss, target, got):
    with pytest.raises(ValueError, match=rf"{loss.__name__}: target: expected values in \[0, 1\].*{got}"):
        loss()(P, np.array(target))


@pytest.mark.parametrize("loss", [losses.MSELoss, losses.L1Loss, losses.HuberLoss, losses.BCELoss,
                                  losses.BCEWithLogitsLoss], ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [NAN, INF])
def test_a_nan_or_inf_target_is_named(loss, value):
    with pytest.raises(ValueError, match=rf"{loss.__name__}: target: expected finite values, got 1 NaN/inf "
                                         rf"entries \(first at index \(1, 0\): {value}\)"):
        loss()(P, np.array([[0.0], [value]]))


@pytest.mark.parametrize("loss", [losses.MSELoss, losses.L1Loss, losses.HuberLoss, losses.BCEWithLogitsLoss],
                         ids=lambda c: c.__name__)
def test_a_nan_prediction_gives_a_nan_loss_quietly(loss):
    """A diverged model's output: the NaN loss is what ``fit`` turns into its divergence message (as in
    PyTorch; ``BCELoss`` alone refuses NaN, since it takes only probabilities: see test_hardening_train)."""
    assert math.isnan(loss()(np.array([[NAN], [0.5]]), np.ones((2, 1))))


def test_bce_loss_names_pred_outside_0_1():
    with pytest.raises(ValueError, match=r"BCELoss: pred: expected probabilities in \[0, 1\], got values "
                                         r"from 0.5 to 1.5; pass logits to BCEWithLogitsLoss"):
        losses.BCELoss()(np.array([[1.5], [0.5]]), np.ones((2, 1)))


def test_loss_target_of_strings():
    with pytest.raises(ValueError, match=r"MSELoss: target: expected numbers, got dtype <U1"):
        losses.MSELoss()(P, np.array([["a"], ["b"]]))


LOGITS = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


@pytest.mark.parametrize(("target", "message"), [
    ([[1, 0, 0], [1, 1, 0], [0, 0, 1]],
     r"expected rows of probabilities summing to 1, got 1 row\(s\) that do not; the first, row 1, sums to 2"),
    ([[1, 0, 0], [0, 0, 1], [0.5, 0.2, 0.2]],
     r"expected rows of probabilities summing to 1, got 1 row\(s\) that do not; the first, row 2, sums to 0.9"),
    ([[1, 0, 0], [1.5, -0.5, 0], [0, 0, 1]],
     r"expected rows of non-negative probabilities summing to 1, got 1 negative entries, the first in row 1, "
     r"column 1: -0.5"),
    ([[1, 0, 0], [NAN, 0, 0], [0, 0, 1]], r"expected finite values, got 1 NaN/inf entries \(first at index \(1, 0\)"),
])
def test_cross_entropy_probability_rows_are_named(target, message):
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: target: " + message):
        losses.CrossEntropyLoss()(LOGITS, np.array(target, dtype=float))


@pytest.mark.parametrize(("target", "want_loss", "want_grad"), [
    (np.array([0]), 0.0, [[0.0, 0.0]]),                     # softmax [1, 0], right class: −log 1
    (np.array([[1.0, 0.0]]), 0.0, [[0.0, 0.0]]),            # the same as a one-hot row
    (np.array([1]), INF, [[1.0, -1.0]]),                    # the wrong class: −log 0
])
def test_cross_entropy_at_an_infinite_logit(target, want_loss, want_grad):
    loss = losses.CrossEntropyLoss()
    assert loss(np.array([[INF, 0.0]]), target) == want_loss
    np.testing.assert_array_equal(loss.backward(), want_grad)


def test_cross_entropy_with_a_nan_logit_is_nan_quietly():
    assert math.isnan(losses.CrossEntropyLoss()(np.array([[NAN, 0.0]]), np.array([1])))


@pytest.mark.parametrize(("labels", "got"), [([0, 3], "from 0 to 3"), ([0, -1], "from -1 to 0"),
                                             (np.array([0, -1], dtype=np.int8), "from -1 to 0")])
def test_labels_out_of_range(labels, got):
    with pytest.raises(ValueError, match=rf"target: expected labels in \[0, 2\] for 3 classes, got values {got}"):
        losses.CrossEntropyLoss()(LOGITS[:2], np.array(labels))


@pytest.mark.parametrize(("alpha", "message"), [(NAN, "alpha: expected a finite real number, got nan"),
                                                ("a", "alpha: expected a finite real number, got 'a'"),
                                                (1.5, r"alpha: expected a number in \[0, 1\], got 1.5")])
def test_distillation_alpha(alpha, message):
    with pytest.raises(ValueError, match=message):
        losses.distillation_loss(LOGITS, LOGITS, np.array([0, 1, 2]), alpha=alpha)


# --- init -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda: init.uniform((2, 2), low=-INF, high=INF), r"low: expected a finite real number, got -inf"),
    (lambda: init.uniform((2, 2), low=NAN), r"low: expected a finite real number, got nan"),
    (lambda: init.uniform((2, 2), low=-1e308, high=1e308), r"low, high: expected a finite width high − low"),
    (lambda: init.uniform((2, 2), low=-1e5, high=1e5, dtype=np.float16),
     r"low, high: expected values that fit in float16 \(\|w\| <= 6.55e\+04\), got a range reaching 1e\+05"),
    (lambda: init.he_normal((True, 3)), r"shape: expected a non-empty tuple of positive ints, got \(True, 3\)"),
    (lambda: init.he_normal("3"), r"shape: expected a non-empty tuple of positive ints, got '3'"),
    (lambda: init.he_normal(None), r"shape: expected a non-empty tuple of positive ints, got None"),
    (lambda: init.constant((2, 2), value=NAN), r"value: expected a finite real number, got nan"),
    (lambda: init.constant((2, 2), value=True), r"value: expected a finite real number, got True"),
    (lambda: init.constant((2, 2), value=1e39, dtype=np.float32), r"value: expected values that fit in float32"),
    (lambda: init.normal((2, 2), std=NAN), r"std: expected a finite real number, got nan"),
    (lambda: init.normal((2, 2), mean=INF), r"mean: expected a finite real number, got inf"),
    (lambda: init.normal((2, 2), std=1e308), r"mean, std: expected values that fit in float64"),
    (lambda: init.xavier_normal((2, 2), gain=0), r"gain: expected a number > 0, got 0"),
    (lambda: init.xavier_uniform((2, 2), gain=-1), r"gain: expected a number > 0, got -1"),
    (lambda: init.xavier_uniform((2, 2), gain=NAN), r"gain: expected a finite real number, got nan"),
    (lambda: init.zeros((2, 2), dtype=int), r"dtype: expected a floating-point dtype such as np.float64, got"),
    (lambda: init.zeros((2, 2), dtype="bogus"), r"dtype: expected a floating-point dtype .*, got 'bogus'"),
    (lambda: init.he_normal((2, 2), rng=True), r"rng: expected None, an int seed or a numpy.random.Generator"),
    (lambda: init.get(3), r"init: expected one of \[.*\] or a callable, got 3"),
])
def test_initializer_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_initializer_shapes_may_be_numpy_ints_or_a_single_int():
    assert init.he_normal((np.int64(2), 3), rng=0).shape == (2, 3)
    assert init.zeros(4).shape == (4,)
    assert init.zeros((2, 2), dtype="float32").dtype == np.float32


# --- functional at ±inf and NaN -----------------------------------------------------------------

EXTREMES = np.array([-INF, -1e4, 1e4, INF, NAN])
LIMITS = {  # f at −inf, −1e4, 1e4, inf, nan, from the definitions
    "identity": [-INF, -1e4, 1e4, INF, NAN], "identity_grad": [1, 1, 1, 1, 1],
    "step": [0, 0, 1, 1, 0], "step_grad": [0, 0, 0, 0, 0],
    "sigmoid": [0, 0, 1, 1, NAN], "sigmoid_grad": [0, 0, 0, 0, NAN],
    "tanh": [-1, -1, 1, 1, NAN], "tanh_grad": [0, 0, 0, 0, NAN],
    "relu": [0, 0, 1e4, INF, NAN], "relu_grad": [0, 0, 1, 1, 0],
    "leaky_relu": [-INF, -100, 1e4, INF, NAN], "leaky_relu_grad": [0.01, 0.01, 1, 1, 0.01],
    "elu": [-1, -1, 1e4, INF, NAN], "elu_grad": [0, 0, 1, 1, NAN],
    "gelu": [0, 0, 1e4, INF, NAN], "gelu_grad": [0, 0, 1, 1, NAN],
    "silu": [0, 0, 1e4, INF, NAN], "silu_grad": [0, 0, 1, 1, NAN],
    "softplus": [0, 0, 1e4, INF, NAN], "softplus_grad": [0, 0, 1, 1, NAN],
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LIMITS)
def test_functions_and_derivatives_at_infinity_and_nan(name, dtype):
    y = getattr(F, name)(EXTREMES.astype(dtype))
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, np.array(LIMITS[name], dtype=dtype))


@pytest.mark.parametrize("name", ["gelu", "gelu_grad"])
def test_tanh_gelu_at_infinity(name):
    np.testing.assert_array_equal(getattr(F, name)(EXTREMES, "tanh"), LIMITS[name])


@pytest.mark.parametrize(("z", "softmax", "log_softmax"), [
    ([INF, 0.0], [1, 0], [0, -INF]),
    ([0.0, -INF], [1, 0], [0, -INF]),
    ([INF, INF, 0.0], [0.5, 0.5, 0], [-math.log(2), -math.log(2), -INF]),
    ([-INF, -INF], [0.5, 0.5], [-math.log(2), -math.log(2)]),    # a row of equal entries is uniform
    ([NAN, 0.0], [NAN, NAN], [NAN, NAN]),
])
def test_softmax_rows_that_are_not_finite(z, softmax, log_softmax):
    np.testing.assert_allclose(F.softmax(np.array(z)), softmax, rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(np.array(z)), log_softmax, rtol=1e-15)


def test_softmax_non_finite_rows_along_either_axis():
    z = np.array([[INF, 0.0], [1.0, 1.0], [-INF, -INF]])
    want = [[1, 0], [0.5, 0.5], [0.5, 0.5]]
    np.testing.assert_allclose(F.softmax(z, axis=1), want)
    np.testing.assert_allclose(F.softmax(z.T, axis=0), np.transpose(want))


def test_softmax_of_an_empty_array_is_empty():
    assert F.softmax(np.zeros((0, 3))).shape == (0, 3)


@pytest.mark.parametrize(("z", "y", "loss", "grad"), [
    (INF, 1.0, 0.0, 0.0), (INF, 0.0, INF, 1.0), (-INF, 0.0, 0.0, 0.0), (-INF, 1.0, INF, -1.0),
    (1e4, 1.0, 0.0, 0.0), (-1e4, 1.0, 1e4, -1.0),
])
def test_bce_with_logits_at_the_extremes(z, y, loss, grad):
    value, g = F.bce_with_logits(np.array([z]), np.array([y]))
    assert value == loss
    np.testing.assert_array_equal(g, [grad])


def test_cross_entropy_and_xlogp_drop_terms_of_probability_zero():
    value, grad = F.cross_entropy(np.array([[INF, 0.0]]), np.array([[1.0, 0.0]]))
    assert value == 0.0
    np.testing.assert_array_equal(grad, [[0.0, 0.0]])
    np.testing.assert_array_equal(F.xlogp(np.array([0.0, 0.5]), np.array([-INF, -2.0])), [0.0, -1.0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: F.softplus(np.ones(2), beta=0), r"beta: expected a finite number > 0, got 0"),
    (lambda: F.softplus(np.ones(2), threshold=NAN), r"threshold: expected a number, got nan"),
    (lambda: F.leaky_relu(np.ones(2), -1), r"negative_slope: expected a number >= 0, got -1"),
    (lambda: F.elu(np.ones(2), NAN), r"alpha: expected a number >= 0, got nan"),
])
def test_functional_coefficients(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_leaky_relu_with_slope_zero_is_relu_at_minus_infinity():
    np.testing.assert_array_equal(F.leaky_relu(np.array([-INF, NAN, 2.0]), 0.0), [0.0, NAN, 2.0])
