"""Notebook 04 checks: each passes the reference solution, fails plausible wrong answers with the
intended message, reports a NotImplementedError stub as "not done", and reports other exceptions as
"failed" naming the error. A check never raises."""

import numpy as np
import pytest
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_passes,
    assert_verdict,
    run,
    stub,
)

from gdcourse import check
from gdcourse.check import backprop as checks
from gdcourse.gradcheck import numerical_gradient, relative_error


def test_checks_are_re_exported():
    for name in ("two_layer_backward", "sigmoid_vanishing_depth", "relative_error"):
        assert getattr(check, name) is getattr(checks, name) and name in check.REGISTRY


# ---------------------------------------------------------------- two_layer_backward

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backward_variant(activation_grad="right", dh_transpose=True, dw_transpose=False, db="sum",
                     dw2_input="h", dx_transpose=True, returns=5):
    """The reference backward pass written out here, with one mistake switched on."""
    def two_layer_backward(x, W1, b1, W2, b2, dout):
        z1 = x @ W1 + b1
        h = sigmoid(z1)
        dh = dout @ (W2.T if dh_transpose else W2)
        local = {"right": h * (1 - h), "none": 1.0, "on z": z1 * (1 - z1), "h": h}[activation_grad]
        dz1 = dh * local
        dW2 = (z1 if dw2_input == "z1" else h).T @ dout
        dW1 = x.T @ dz1
        if dw_transpose:
            dW1, dW2 = dW1.T, dW2.T
        reduce = {"sum": lambda a: a.sum(axis=0), "mean": lambda a: a.mean(axis=0), "none": lambda a: a}[db]
        dx = dz1 @ (W1.T if dx_transpose else W1)
        out = (dx, dW1, reduce(dz1), dW2, reduce(dout))
        return out[:returns]
    return two_layer_backward


def test_reference_passes_and_reports_central_differences():
    assert_verdict(run(checks.two_layer_backward, backward_variant()), "passed", "central differences", "3 cases")


def test_the_package_version_passes():
    from gdcourse.experiments import backprop as E

    assert_passes(checks.two_layer_backward, E.two_layer_backward)


@pytest.mark.parametrize(("variant", "fragments"), [
    (dict(activation_grad="none"), ("dW1 is wrong", "forgot the activation's derivative")),
    (dict(activation_grad="on z"), ("dW1 is wrong", "z1 * (1 - z1)", "pre-activation")),
    (dict(activation_grad="h"), ("instead of σ'(z1) = h * (1 - h)",)),
    (dict(dw_transpose=True), ("dW2 has shape (2, 4), the transpose of (4, 2)", "dW2 = h.T @ dout")),
    (dict(db="none"), ("db2 has shape (5, 2), one row per sample", "dout.sum(axis=0)")),
    (dict(db="mean"), ("db2 is wrong", "N = 5 times too small")),
    (dict(dw2_input="z1"), ("dW2 is wrong", "not the pre-activation z1")),
    (dict(returns=4), ("return five arrays", "(dx, dW1, db1, dW2, db2)")),
])
def test_wrong_backward_passes_get_specific_hints(variant, fragments):
    assert_fails_with(checks.two_layer_backward, backward_variant(**variant), *fragments)


def test_untransposed_products_fail_naming_the_error():
    # On the first (non-square) case these products do not even multiply: the learner's error is reported.
    assert_fails_with(checks.two_layer_backward, backward_variant(dx_transpose=False), "raised ValueError",
                      "x (5, 3)")
    assert_fails_with(checks.two_layer_backward, backward_variant(dh_transpose=False), "raised ValueError")


def test_untransposed_dx_on_the_square_case_gets_its_hint():
    # Only the second case is square (D = H = C = 4); the check must still name the mistake there.
    base = backward_variant()
    wrong_dx = backward_variant(dx_transpose=False)

    def square_only_mistake(x, W1, b1, W2, b2, dout):
        f = wrong_dx if W1.shape[0] == W1.shape[1] else base
        return f(x, W1, b1, W2, b2, dout)

    assert_fails_with(checks.two_layer_backward, square_only_mistake, "x (6, 4)", "dx is wrong",
                      "dx = dz1 @ W1.T")


def test_transposed_weight_gradient_on_the_square_case_gets_its_hint():
    base = backward_variant()
    transposed = backward_variant(dw_transpose=True)

    def square_only_mistake(x, W1, b1, W2, b2, dout):
        f = transposed if W1.shape[0] == W1.shape[1] else base
        return f(x, W1, b1, W2, b2, dout)

    assert_fails_with(checks.two_layer_backward, square_only_mistake, "dW2 is wrong", "transposed")


def test_none_stub_and_errors():
    assert_fails_with(checks.two_layer_backward, lambda *a: None, "returned None")
    assert_not_done(checks.two_layer_backward, stub)

    def broken(*args):
        return 1 / 0

    assert_fails_with(checks.two_layer_backward, broken, "raised ZeroDivisionError")


def test_inputs_are_copied_so_in_place_changes_do_not_fool_the_check():
    reference = backward_variant()

    def mutating(x, W1, b1, W2, b2, dout):
        out = reference(x, W1, b1, W2, b2, dout)
        dout *= 0
        W1 *= 0
        return out

    assert_passes(checks.two_layer_backward, mutating)


# ---------------------------------------------------------------- sigmoid_vanishing_depth

def test_depth_exercise():
    assert_verdict(run(checks.sigmoid_vanishing_depth, 10), "passed", "below 1e-06")
    assert_passes(checks.sigmoid_vanishing_depth, 10.0)
    assert_fails_with(checks.sigmoid_vanishing_depth, 9, "at 9 hidden layers", "add layers")
    assert_fails_with(checks.sigmoid_vanishing_depth, 12, "shallower network already gets there")
    assert_fails_with(checks.sigmoid_vanishing_depth, 0, "from 1 to 50")
    assert_fails_with(checks.sigmoid_vanishing_depth, "ten", "whole number")
    assert_fails_with(checks.sigmoid_vanishing_depth, 9.5, "whole number")
    assert_fails_with(checks.sigmoid_vanishing_depth, True, "whole number")
    assert_not_done(checks.sigmoid_vanishing_depth, None)


# ---------------------------------------------------------------- relative_error

def relerr_reference(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    magnitude = np.abs(a) + np.abs(b)
    return float(np.max(np.abs(a - b) / np.maximum(magnitude, max(1e-3 * magnitude.max(), 1e-12))))


def test_the_exercise_case_near_zero_is_a_false_alarm_without_the_scale_floor():
    # BP-12: a correct gradient of f = w0² + w1² + 100 at w = (1, 1e-9), h = 1e-5 (the case the check uses)
    w = np.array([1.0, 1e-9])
    numeric = numerical_gradient(lambda v: float(v[0] ** 2 + v[1] ** 2 + 100), w.copy(), eps=1e-5)
    assert 0.01 < relative_error(2 * w, numeric, scale_floor=0) < 0.1          # "0.032": a false alarm
    assert relative_error(2 * w, numeric) < 1e-7                               # scale-aware: a pass
    assert relerr_reference(2 * w, numeric) == pytest.approx(relative_error(2 * w, numeric))


def test_relative_error_reference_passes():
    assert_passes(checks.relative_error, relerr_reference)


@pytest.mark.parametrize(("fn", "fragments"), [
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))),
     ("a = b = [0, 0, 0]", "without a floor")),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)), ("dividing by |a| alone",)),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)), ("dividing by |b| alone",)),
    (lambda a, b: np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)), ("averaged",)),
    (lambda a, b: np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12),
     ("norm-wise", "standard measure too", "worst entry")),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)),
     ("2.13e-9", "only the absolute floor", "scale-aware")),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)),
     ("max(|a|, |b|)",)),
    (lambda a, b: np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12), ("array of shape (3,)",)),
    (lambda a, b: None, ("returned None",)),
    (lambda a, b: "small", ("not a number",)),
])
def test_relative_error_mistakes(fn, fragments):
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_fails_with(checks.relative_error, fn, *fragments)


def test_relative_error_stub_and_errors():
    assert_not_done(checks.relative_error, stub)
    assert_fails_with(checks.relative_error, lambda a, b: a.nope, "raised AttributeError")
