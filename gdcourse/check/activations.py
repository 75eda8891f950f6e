"""Checks of notebook 05 (neurons and activations).

``leaky_relu_layer``: the learner's ``leaky_relu_forward(x, negative_slope)`` and
``leaky_relu_backward(dy, x, negative_slope)``; ``stable_softmax``: ``softmax(z, axis)``
with the max-shift; ``weakest_derivative``: the activation (and value) found with the
explorer; ``perceptron_update``: one step of the perceptron rule. Each compares with
:mod:`gdcourse.functional` / :mod:`gdcourse.experiments.activations` and names the
likely mistake.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gdcourse import functional as F
from gdcourse.check.core import (
    LearnerError,
    Mismatch,
    answer,
    call,
    exercise,
    expect,
    is_number,
    returned_array,
    same_array,
    show,
)
from gdcourse.experiments import activations as E

__all__ = ["leaky_relu_layer", "stable_softmax", "weakest_derivative", "perceptron_update"]

TOLERANCE = {"rtol": 1e-7, "atol": 1e-12}  # of same_array: these formulas are exact, so the match is tight


def _as_array(got, describe, what, shape):
    got = returned_array(got, describe, what)
    if got.shape != shape:
        raise Mismatch(f"on {describe} {what} has shape {got.shape}, expected {shape} "
                       "(the shape of the input)")
    return got


def _quietly(fn, *args, describe):
    """Call the learner's function with floating-point warnings silenced: overflow is judged on the result."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return call(fn, *args, describe=describe)


# ---------------------------------------------------------------- leaky_relu_layer

def _leaky_cases():
    rng = np.random.default_rng(5)
    return [
        ("x = [-2, -0.5, 0, 0.5, 3] (negative_slope=0.1)", np.array([-2.0, -0.5, 0.0, 0.5, 3.0]), 0.1,
         np.array([0.3, -1.2, 0.7, 2.0, -0.4])),
        ("a (4, 5) batch (negative_slope=0.2)", rng.standard_normal((4, 5)), 0.2,
         rng.standard_normal((4, 5))),
        ("a (3, 2) batch with zeros (negative_slope=0.01)", np.array([[0.0, -3.0], [1.5, 0.0], [-0.2, 4.0]]),
         0.01, rng.standard_normal((3, 2))),
    ]


def _forward_hint(got, x, slope):
    variants = [
        (F.relu(x), "you returned plain ReLU: negative inputs must be multiplied by negative_slope, "
                    "not zeroed."),
        (np.where(x > 0, x, slope), "for x ≤ 0 you returned the slope itself; return negative_slope * x."),
        (np.where(x > 0, slope * x, x), "the branches are swapped: x for x > 0, negative_slope * x "
                                        "otherwise."),
        (F.leaky_relu(x, 0.01), "you ignored the negative_slope argument (your output matches 0.01): use "
                                "the value passed in."),
        (np.where(x > 0, x, -slope * x), "the sign of the negative branch is wrong: negative_slope * x is "
                                         "negative for x < 0."),
    ]
    for want, hint in variants:
        if same_array(got, want, **TOLERANCE):
            return hint
    return "leaky ReLU is x where x > 0 and negative_slope * x elsewhere."


def _backward_hint(got, dy, x, slope):
    variants = [
        (F.leaky_relu_grad(x, slope), "you returned f'(x) without multiplying by dy: the chain rule gives "
                                      "dx = dy * f'(x)."),
        (dy * (x > 0), "you used ReLU's derivative: for x ≤ 0 the gradient is negative_slope * dy, not 0."),
        (dy * np.where(x > 0, slope, 1.0), "the branches are swapped: dy where x > 0, negative_slope * dy "
                                           "elsewhere."),
        (dy * np.where(x >= 0, 1.0, slope), "at x = 0 exactly you used slope 1. The package (like "
                                            "PyTorch) tests x > 0, so x = 0 gets negative_slope: use "
                                            "np.where(x > 0, ...)."),
        (F.leaky_relu(dy, slope), "you applied leaky ReLU to dy: which branch to take is decided by the "
                                  "input x, not by dy."),
        (dy * F.leaky_relu_grad(x, 0.01), "you ignored the negative_slope argument (your gradient matches "
                                          "0.01)."),
        (dy * F.leaky_relu(x, slope), "you multiplied dy by f(x); the backward pass needs the derivative "
                                      "f'(x)."),
    ]
    for want, hint in variants:
        if same_array(got, want, **TOLERANCE):
            return hint
    return "dx = dy where x > 0 and negative_slope * dy elsewhere."


@exercise("leaky_relu_layer", success="forward and backward match the package on every case tried "
                                      "(including x = 0).")
def leaky_relu_layer(forward, backward):
    """Check ``forward(x, negative_slope)`` and ``backward(dy, x, negative_slope)`` against
    :func:`gdcourse.functional.leaky_relu` and ``dy * leaky_relu_grad(x)``."""
    cases = _leaky_cases()
    for describe, x, slope, _ in cases:
        got = _as_array(call(forward, x, slope, describe=describe), describe, "the forward output", x.shape)
        want = F.leaky_relu(x, slope)
        if not same_array(got, want, **TOLERANCE):
            raise Mismatch(f"forward on {describe}: you returned {show(got)}, expected {show(want)}. "
                           f"{_forward_hint(got, x, slope)}")
    for describe, x, slope, dy in cases:
        got = _as_array(call(backward, dy, x, slope, describe=describe), describe, "dx", x.shape)
        want = dy * F.leaky_relu_grad(x, slope)
        if not same_array(got, want, **TOLERANCE):
            raise Mismatch(f"backward on {describe} with a random dy: you returned {show(got)}, expected "
                           f"{show(want)}. {_backward_hint(got, dy, x, slope)}")


# ---------------------------------------------------------------- stable_softmax

def _softmax_cases():
    rng = np.random.default_rng(11)
    return [
        ("z = [1, 2, 3]", np.array([1.0, 2.0, 3.0]), -1),
        ("a (4, 5) batch of logits, axis=-1", 3 * rng.standard_normal((4, 5)), -1),
        ("a (3, 4) array with axis=0 (each column is a distribution)", rng.standard_normal((3, 4)), 0),
        ("z = [1000, 1001, 1002]", np.array([1000.0, 1001.0, 1002.0]), -1),
        ("z = [-1000, -999, -998]", np.array([-1000.0, -999.0, -998.0]), -1),
        ("rows [0, 1, 2] and [1000, 1001, 1002] in one (2, 3) batch",
         np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]]), -1),
        ("a (3, 3) batch, axis=-1", rng.standard_normal((3, 3)) + np.array([[0.0], [5.0], [-5.0]]), -1),
    ]


def _softmax_hint(got, z, axis):
    if not np.all(np.isfinite(got)):
        if np.abs(z).max() < 500:
            return "your output is not finite on moderate logits; check the division."
        per_row = z - z.max(axis=axis, keepdims=True)
        if z.ndim > 1 and np.ptp(z.max(axis=axis)) > 500 and np.abs(per_row).max() < 500:
            return ("you subtracted one global maximum: rows far below it underflow to 0/0. Subtract each "
                    "slice's own max: z.max(axis=axis, keepdims=True).")
        return ("exp overflows (e^1000 = inf) or underflows to 0/0. Softmax does not change when you "
                "subtract a constant, so compute exp(z - z.max(axis=axis, keepdims=True)).")
    if z.ndim > 1 and axis != -1 and axis != z.ndim - 1 and same_array(got, F.softmax(z, axis=-1), **TOLERANCE):
        return f"you normalized along the last axis, but axis={axis} was asked: pass axis to max and sum."
    sums = got.sum(axis=axis)
    if not np.allclose(sums, 1.0):
        if np.allclose(got.sum(axis=-1 if axis == 0 else 0), 1.0):
            return "your outputs sum to 1 along the wrong axis: use the axis argument for both max and sum."
        if z.ndim > 1:
            return (f"your outputs do not sum to 1 along axis={axis} (sums {show(sums)}). With a batch, "
                    "keep the reduced axis (keepdims=True) so the max and the sum broadcast along the right "
                    "axis.")
        return f"your outputs sum to {float(np.sum(got)):.4g}, not 1: divide exp(z − max) by its sum."
    return "softmax(z)_i = exp(z_i − m) / Σ_j exp(z_j − m), with m the max along axis."


@exercise("stable_softmax", success="your softmax is right on every case tried, including logits of ±1000 "
                                    "and axis=0.")
def stable_softmax(fn):
    """Check ``fn(z, axis)`` against :func:`gdcourse.functional.softmax` (finite at ±1000, any axis)."""
    for describe, z, axis in _softmax_cases():
        try:
            got = _quietly(fn, z, axis, describe=describe)
        except LearnerError as err:
            if "broadcast" not in str(err):
                raise
            raise Mismatch(f"{str(err).rstrip()}. With a batch, keep the reduced axis "
                           "(z.max(axis=axis, keepdims=True), and the same for the sum) so it broadcasts "
                           "against z.") from None
        got = _as_array(got, describe, "the softmax", z.shape)
        want = F.softmax(z, axis=axis)
        if not same_array(got, want, **TOLERANCE):
            raise Mismatch(f"on {describe} you returned {show(got)}, expected {show(want)}. "
                           f"{_softmax_hint(got, z, axis)}")


# ---------------------------------------------------------------- weakest_derivative

_ALIASES = {"logistic": "sigmoid", "sigmoid": "sigmoid", "σ": "sigmoid", "leaky relu": "leaky_relu",
            "leaky_relu": "leaky_relu", "relu": "relu", "tanh": "tanh", "step": "step", "elu": "elu",
            "gelu": "gelu", "silu": "silu", "swish": "silu", "softplus": "softplus", "prelu": "prelu",
            "identity": "identity"}


@exercise("weakest_derivative")
def weakest_derivative(name, peak, tolerance=0.01):
    """Is ``name`` the activation (other than the step) whose derivative peaks lowest, and ``peak`` that peak?

    The truth is computed with :func:`gdcourse.experiments.activations.derivative_peak`
    for every activation of the explorer except the step (whose derivative is 0).
    """
    name, peak = answer(name), answer(peak)
    expect(isinstance(name, str), f"enter the activation's name as a string, e.g. 'relu'; got {name!r}")
    expect(is_number(peak),
           f"enter the peak of the derivative as a number, e.g. 0.5; got {peak!r}")
    key = _ALIASES.get(name.strip().lower().replace("-", " "))
    expect(key is not None, f"{name!r} is not one of the explorer's activations: {list(E.EXPLORER_NAMES)}")
    peaks = {n: E.derivative_peak(n) for n in E.EXPLORER_NAMES if n != "step"}
    best = min(peaks, key=lambda n: peaks[n][1])
    best_x, best_peak = peaks[best]
    if key == "step":
        raise Mismatch("the step's derivative is 0 wherever it exists: it passes no gradient at all, which "
                       "is why the exercise leaves it out. Among the others, look for the lowest peak of f′.")
    if key != best:
        x, value = peaks[key]
        extra = " That is four times the sigmoid's peak." if key == "tanh" else ""
        raise Mismatch(f"{E.LABELS[key]}'s derivative reaches {value:.3g} (at x = {x:.2g}).{extra} Select "
                       "each activation in the explorer and compare the marked maxima of f′.")
    if abs(peak - 0.5) < tolerance:
        raise Mismatch("right activation, but 0.5 is σ(0), the value of the function at 0. The question asks "
                       "for the largest value of its derivative σ′ = σ(1 − σ).")
    if abs(peak - best_peak) > tolerance:
        raise Mismatch(f"right activation, but its derivative peaks at {best_peak:.3g}, not {peak:g}: "
                       f"σ′(0) = σ(0)(1 − σ(0)) = 0.5 · 0.5.")
    return (f"{E.LABELS[best]}: σ′ ≤ {best_peak:.3g}, reached at x = {best_x:.2g}. Every sigmoid layer "
            "multiplies the backward signal by at most 1/4 (before the weights), which is why deep sigmoid "
            "networks suffer from vanishing gradients.")


# ---------------------------------------------------------------- perceptron_update

def _perceptron_cases():
    rng = np.random.default_rng(3)
    cases = [
        ("w = [0, 0], b = 0, x = [1, 2], y = +1 (score 0)", np.zeros(2), 0.0, np.array([1.0, 2.0]), 1.0, 1.0),
        ("w = [1, -1], b = 0.5, x = [2, 1], y = +1 (correct)", np.array([1.0, -1.0]), 0.5,
         np.array([2.0, 1.0]), 1.0, 1.0),
        ("w = [1, -1], b = 0.5, x = [2, 1], y = -1, lr = 0.5 (a mistake)", np.array([1.0, -1.0]), 0.5,
         np.array([2.0, 1.0]), -1.0, 0.5),
    ]
    for k in range(4):
        w, x = rng.standard_normal(5), rng.standard_normal(5)
        b, y, lr = float(rng.standard_normal()), float(rng.choice([-1.0, 1.0])), float(rng.uniform(0.1, 2))
        cases.append((f"random case {k + 1} (5 features, y = {y:+g}, lr = {lr:.3g})", w, b, x, y, lr))
    return cases


def _perceptron_hint(got_w, got_b, w, b, x, y, lr):
    mistake = y * (w @ x + b) <= 0
    moved = not (np.allclose(got_w, w) and math.isclose(got_b, b))
    if not mistake and moved:
        return ("this example is already classified correctly (y (w·x + b) > 0): the perceptron only updates "
                "on mistakes.")
    if mistake and not moved:
        if y * (w @ x + b) == 0:
            return "a score of exactly 0 counts as a mistake: test y (w·x + b) <= 0, not < 0."
        return "this example is misclassified, so w and b must change."
    if np.allclose(got_w, w - lr * y * x):
        return "you moved w away from the example: the update is w + lr * y * x."
    if np.allclose(got_w, w + y * x) and lr != 1:
        return "you forgot the learning rate: w + lr * y * x."
    if np.allclose(got_w, w + lr * y * x) and math.isclose(got_b, b):
        return "w is right but b did not change: the bias is updated too, b + lr * y."
    if np.allclose(got_w, w + lr * y * x) and math.isclose(got_b, b - lr * y):
        return "w is right but the bias moved the wrong way: b + lr * y."
    return "on a mistake: w + lr * y * x and b + lr * y; otherwise return w and b unchanged."


@exercise("perceptron_update", success="your update matches Rosenblatt's rule on every case tried.")
def perceptron_update(fn):
    """Check ``fn(w, b, x, y, lr) -> (w_new, b_new)`` against :func:`E.perceptron_update`."""
    for describe, w, b, x, y, lr in _perceptron_cases():
        got = call(fn, w, b, x, y, lr, describe=describe)
        expect(isinstance(got, (tuple, list)) and len(got) == 2,
               f"on {describe} you returned {type(got).__name__}; return the pair (w_new, b_new).")
        got_w = _as_array(got[0], describe, "w_new", w.shape)
        try:
            got_b = float(got[1])
        except (TypeError, ValueError):
            raise Mismatch(f"on {describe} b_new is {got[1]!r}, not a number") from None
        want_w, want_b = E.perceptron_update(w, b, x, y, lr)
        same_w = np.allclose(got_w, want_w, rtol=1e-9, atol=1e-12)
        if not (same_w and math.isclose(got_b, want_b, abs_tol=1e-12)):
            hint = _perceptron_hint(got_w, got_b, w, b, x, y, lr)
            raise Mismatch(f"on {describe} you returned w = {show(got_w)}, b = {got_b:.4g}; expected "
                           f"w = {show(want_w)}, b = {want_b:.4g}: {hint}")
