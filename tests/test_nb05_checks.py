"""The checks of notebook 05 pass the reference solutions and reject plausible mistakes with the
intended message; unsolved exercises are "not done", crashing ones are "failed" with the error named."""

import numpy as np
import pytest
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_pair_fails_with,
    assert_passes,
    assert_verdict,
    run,
    stub,
)

from gdcourse import check

# ---------------------------------------------------------------- leaky_relu_layer


def leaky_forward(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def leaky_backward(dy, x, negative_slope=0.01):
    return dy * np.where(x > 0, 1.0, negative_slope)


def test_leaky_relu_reference_passes():
    assert_verdict(run(check.leaky_relu_layer, leaky_forward, leaky_backward), "passed", "x = 0")


def test_leaky_relu_max_form_passes():
    assert_passes(check.leaky_relu_layer, lambda x, s=0.01: np.maximum(x, s * x), leaky_backward)


@pytest.mark.parametrize("forward, message", [
    (lambda x, s=0.01: np.maximum(x, 0), "you returned plain ReLU"),
    (lambda x, s=0.01: np.where(x > 0, x, s), "you returned the slope itself"),
    (lambda x, s=0.01: np.where(x > 0, s * x, x), "the branches are swapped"),
    (lambda x, s=0.01: np.where(x > 0, x, 0.01 * x), "you ignored the negative_slope argument"),
    (lambda x, s=0.01: np.where(x > 0, x, -s * x), "the sign of the negative branch is wrong"),
    (lambda x, s=0.01: None, "returned None"),
    (lambda x, s=0.01: np.where(x > 0, x, s * x).ravel(), "has shape"),
])
def test_leaky_relu_forward_mistakes(forward, message):
    assert_pair_fails_with(check.leaky_relu_layer, forward, leaky_backward, message, "forward")


@pytest.mark.parametrize("backward, message", [
    (lambda dy, x, s=0.01: np.where(x > 0, 1.0, s), "without multiplying by dy"),
    (lambda dy, x, s=0.01: dy * (x > 0), "you used ReLU's derivative"),
    (lambda dy, x, s=0.01: dy * np.where(x > 0, s, 1.0), "the branches are swapped"),
    (lambda dy, x, s=0.01: dy * np.where(x >= 0, 1.0, s), "at x = 0 exactly you used slope 1"),
    (lambda dy, x, s=0.01: np.where(dy > 0, dy, s * dy), "you applied leaky ReLU to dy"),
    (lambda dy, x, s=0.01: dy * np.where(x > 0, 1.0, 0.01), "you ignored the negative_slope argument"),
    (lambda dy, x, s=0.01: dy * np.where(x > 0, x, s * x), "needs the derivative f'(x)"),
])
def test_leaky_relu_backward_mistakes(backward, message):
    assert_pair_fails_with(check.leaky_relu_layer, leaky_forward, backward, message, "backward on", "random dy")


def test_leaky_relu_not_done_and_errors():
    assert_not_done(check.leaky_relu_layer, stub, leaky_backward)
    assert_not_done(check.leaky_relu_layer, leaky_forward, stub)

    def broken(dy, x, s=0.01):
        return dy * undefined_name  # noqa: F821

    assert_pair_fails_with(check.leaky_relu_layer, leaky_forward, broken, "NameError")


# ---------------------------------------------------------------- stable_softmax


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_reference_passes():
    assert_passes(check.stable_softmax, softmax)


def naive(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def global_max(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def last_axis_only(z, axis=-1):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def no_keepdims(z, axis=-1):
    if z.ndim == 1:
        return softmax(z, axis)
    e = np.exp(z - z.max(axis=axis)[None, :])  # the reduced max broadcast along the wrong axis
    return e / e.sum(axis=axis)[None, :]


def unnormalized(z, axis=-1):
    return np.exp(z - z.max(axis=axis, keepdims=True))


def wrong_sum_axis(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    other = 0 if axis != 0 else -1
    return e / e.sum(axis=other, keepdims=True) if z.ndim > 1 else e / e.sum()


@pytest.mark.parametrize("fn, message", [
    (naive, "exp overflows (e^1000 = inf)"),
    (global_max, "you subtracted one global maximum"),
    (last_axis_only, "axis=0 was asked"),
    (no_keepdims, "keepdims=True"),
    (unnormalized, "not 1: divide exp(z − max) by its sum"),
    (wrong_sum_axis, "along the wrong axis"),
])
def test_softmax_mistakes(fn, message):
    assert_fails_with(check.stable_softmax, fn, message)


def test_naive_softmax_fails_on_the_large_logits_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_fails_with(check.stable_softmax, naive, "z = [1000, 1001, 1002]")


def test_softmax_not_done_and_errors():
    assert_not_done(check.stable_softmax, stub)
    assert_fails_with(check.stable_softmax, lambda z, axis=-1: z.nonexistent(), "AttributeError")


# ---------------------------------------------------------------- weakest_derivative


def test_weakest_derivative_accepts_sigmoid_and_a_quarter():
    for name, peak in (("sigmoid", 0.25), ("Sigmoid", 0.251), ("logistic", 0.25)):
        assert_passes(check.weakest_derivative, name, peak)
    assert "1/4" in assert_passes(check.weakest_derivative, "sigmoid", 0.25).message


@pytest.mark.parametrize("name, peak, message", [
    ("tanh", 1.0, "four times the sigmoid's peak"),
    ("relu", 1.0, "ReLU's derivative reaches 1"),
    ("gelu", 1.13, "GELU's derivative reaches 1.13"),
    ("step", 0.0, "passes no gradient at all"),
    ("sigmoid", 0.5, "0.5 is σ(0)"),
    ("sigmoid", 1.0, "peaks at 0.25, not 1"),
    ("softmax", 0.25, "is not one of the explorer's activations"),
    ("sigmoid", "0.25", "as a number"),
    (0.25, 0.25, "as a string"),
])
def test_weakest_derivative_mistakes(name, peak, message):
    assert_verdict(run(check.weakest_derivative, name, peak), "failed", message)


def test_weakest_derivative_not_done():
    assert_not_done(check.weakest_derivative, None, None)
    assert_not_done(check.weakest_derivative, "sigmoid", None)


# ---------------------------------------------------------------- perceptron_update


def update(w, b, x, y, lr=1.0):
    if y * (np.dot(w, x) + b) <= 0:
        return w + lr * y * x, b + lr * y
    return w, b


def test_perceptron_reference_passes():
    assert_passes(check.perceptron_update, update)


def always(w, b, x, y, lr=1.0):
    return w + lr * y * x, b + lr * y


def strict(w, b, x, y, lr=1.0):
    if y * (np.dot(w, x) + b) < 0:
        return w + lr * y * x, b + lr * y
    return w, b


def wrong_sign(w, b, x, y, lr=1.0):
    if y * (np.dot(w, x) + b) <= 0:
        return w - lr * y * x, b - lr * y
    return w, b


def no_bias(w, b, x, y, lr=1.0):
    if y * (np.dot(w, x) + b) <= 0:
        return w + lr * y * x, b
    return w, b


def no_lr(w, b, x, y, lr=1.0):
    if y * (np.dot(w, x) + b) <= 0:
        return w + y * x, b + y
    return w, b


def only_w(w, b, x, y, lr=1.0):
    return update(w, b, x, y, lr)[0]


@pytest.mark.parametrize("fn, message", [
    (always, "the perceptron only updates on mistakes"),
    (strict, "test y (w·x + b) <= 0, not < 0"),
    (wrong_sign, "you moved w away from the example"),
    (no_bias, "b did not change"),
    (no_lr, "you forgot the learning rate"),
    (only_w, "return the pair (w_new, b_new)"),
])
def test_perceptron_mistakes(fn, message):
    assert_fails_with(check.perceptron_update, fn, message)


def test_perceptron_does_not_see_its_own_in_place_changes():
    def in_place(w, b, x, y, lr=1.0):
        if y * (np.dot(w, x) + b) <= 0:
            w += lr * y * x
            b += lr * y
        return w, b

    assert_passes(check.perceptron_update, in_place)


def test_perceptron_not_done_and_errors():
    assert_not_done(check.perceptron_update, stub)
    assert_fails_with(check.perceptron_update, lambda w, b, x, y, lr=1.0: 1 / 0, "ZeroDivisionError")
