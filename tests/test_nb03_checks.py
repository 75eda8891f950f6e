"""The checks of notebook 03: each passes the reference, names the plausible mistakes, never raises."""

import math

import numpy as np
import pytest
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_passes,
    run,
    stub,
)

from gdcourse import check
from gdcourse.experiments import optimizers as E


def _raises_type_error(*args, **kwargs):
    raise TypeError("unsupported operand")


# ---------------------------------------------------------------- momentum_step

def test_momentum_step_reference_passes():
    assert_passes(check.momentum_step, E.momentum_step)


@pytest.mark.parametrize("wrong, fragments", [
    (lambda w, g, b, lr, mu: (w + lr * (mu * b + g), mu * b + g), ["moved uphill"]),
    (lambda w, g, b, lr, mu: (w - lr * (b + g), b + g), ["never decays", "b ← μ·b + g"]),
    (lambda w, g, b, lr, mu: (w - lr * g, g), ["plain gradient descent"]),
    (lambda w, g, b, lr, mu: (w - lr * (mu * b + (1 - mu) * g), mu * b + (1 - mu) * g),
     ["moving-average form"]),
    (lambda w, g, b, lr, mu: (w - (mu * b + lr * g), mu * b + lr * g), ["inside the buffer"]),
    (lambda w, g, b, lr, mu: (w - lr * (mu * b - g), mu * b - g), ["minus signs cancel"]),
    (lambda w, g, b, lr, mu: (w - lr * b, mu * b + g), ["old buffer"]),
    (lambda w, g, b, lr, mu: (mu * b + g, w - lr * (mu * b + g)), ["you returned (b, w)"]),
    (lambda w, g, b, lr, mu: w - lr * (mu * b + g), ["return the tuple (w_new, b_new)"]),
    (lambda w, g, b, lr, mu: None, ["returned None"]),
])
def test_momentum_step_wrong_answers_named(wrong, fragments):
    assert_fails_with(check.momentum_step, wrong, *fragments)


def test_momentum_step_wrong_message_names_the_case():
    uphill = lambda w, g, b, lr, mu: (w + lr * (mu * b + g), mu * b + g)
    assert_fails_with(check.momentum_step, uphill, "lr=0.1, momentum=0.9")


def test_momentum_step_stub_and_errors():
    assert_not_done(check.momentum_step, stub)
    assert_fails_with(check.momentum_step, _raises_type_error, "TypeError", "unsupported operand")


def test_momentum_step_inplace_learner_still_judged_on_values():
    def inplace(w, g, b, lr, mu):
        b *= mu
        b += g
        w -= lr * b
        return w, b
    assert_passes(check.momentum_step, inplace)


# ---------------------------------------------------------------- adam_update

def _adam(correct=(True, True), t_shift=0, square=True, eps_inside=False, return_hat=False):
    def adam_update(w, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        b1, b2 = betas
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g if square else g)
        tt = t + t_shift
        m_hat = m / (1 - b1**tt) if correct[0] else m
        v_hat = v / (1 - b2**tt) if correct[1] else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        w = w - lr * m_hat / denom
        return (w, m_hat, v_hat) if return_hat else (w, m, v)
    return adam_update


def test_adam_reference_and_learner_style_solution_pass():
    package = lambda w, g, m, v, t, lr, betas, eps: E.adam_update(w, g, m, v, t, lr, betas, eps)
    assert_passes(check.adam_update, package)
    assert_passes(check.adam_update, _adam())


@pytest.mark.parametrize("wrong, fragments", [
    (_adam(correct=(False, True)), ["at t=1 is 10× too small", "did you bias-correct m?"]),
    (_adam(correct=(True, False)), ["too large", "did you bias-correct v?"]),
    (_adam(correct=(False, False)), ["3.16× too large", "skipped both bias corrections"]),
    (_adam(t_shift=-1), ["1 − β⁰ = 0", "counted from t = 1"]),
    (_adam(t_shift=1), ["β**(t + 1)"]),
    (_adam(square=False), ["averages g instead of g²"]),
    (_adam(eps_inside=True), ["outside the square root", "tiny gradients"]),
    (_adam(return_hat=True), ["bias-corrected m̂"]),
    (lambda w, g, m, v, t, lr, betas, eps: _adam()(w, g, m, v, t, 1.0, betas, eps),
     ["ignores the learning rate"]),
    (lambda w, g, m, v, t, lr, betas, eps: (2 * w - _adam()(w, g, m, v, t, lr, betas, eps)[0],) +
     _adam()(w, g, m, v, t, lr, betas, eps)[1:], ["moved uphill"]),
    (lambda w, g, m, v, t, lr, betas, eps: _adam()(w, g, m, v, t, lr, betas, eps)[0], ["return the tuple"]),
])
def test_adam_wrong_answers_named(wrong, fragments):
    assert_fails_with(check.adam_update, wrong, *fragments)


def test_adam_state_kept_between_calls_is_caught_by_the_loop():
    calls = {"n": 0}

    def drifting(w, g, m, v, t, lr, betas, eps):
        calls["n"] += 1                      # right on single calls, wrong once it has been called often
        return E.adam_update(w, g, m, v, t, lr * (1.01 if calls["n"] > 8 else 1.0), betas, eps)

    assert_fails_with(check.adam_update, drifting, "fed back", "state kept between calls")


def test_adam_stub_and_errors():
    assert_not_done(check.adam_update, stub)
    assert_fails_with(check.adam_update, _raises_type_error, "TypeError")


# ---------------------------------------------------------------- clip_by_norm

def _clip_value(g, max_norm):
    return np.clip(g, -max_norm, max_norm)


def _always_rescale(g, max_norm):
    return g * max_norm / np.linalg.norm(g)


def _nan_on_zero(g, max_norm):
    norm = np.sqrt(np.sum(g * g))
    return g / norm * min(norm, max_norm)  # 0 / 0 for the zero gradient


def _per_row(g, max_norm):
    if g.ndim == 1:
        return E.clip_by_norm(g, max_norm)
    rows = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
    return g * np.minimum(1.0, max_norm / rows)


def _upside_down(g, max_norm):
    norm = np.linalg.norm(g)
    return g * norm / max_norm if norm > max_norm else g


def test_clip_reference_and_torch_style_pass():
    assert_passes(check.clip_by_norm, E.clip_by_norm)
    torch_style = lambda g, c: g * min(1.0, c / (np.linalg.norm(g) + 1e-6))  # torch adds 1e-6 to the norm
    assert_passes(check.clip_by_norm, torch_style)


@pytest.mark.parametrize("wrong, fragments", [
    (_clip_value, ["clipping by value", "direction"]),
    (_always_rescale, ["already short enough"]),
    (_nan_on_zero, ["divided by ‖g‖ = 0"]),
    (_per_row, ["each row separately"]),
    (_upside_down, ["upside down"]),
    (lambda g, c: None, ["returned None"]),
])
def test_clip_wrong_answers_named(wrong, fragments):
    assert_fails_with(check.clip_by_norm, wrong, *fragments)


def test_clip_stub_and_errors():
    assert_not_done(check.clip_by_norm, stub)
    assert_fails_with(check.clip_by_norm, _raises_type_error, "TypeError")
    assert_fails_with(check.clip_by_norm, lambda g, c: "clipped", "not an array")


# ---------------------------------------------------------------- best_momentum (the explorer exercise)

def test_best_momentum_accepts_the_formula_and_nearby_values():
    beta_star = ((math.sqrt(100) - 1) / (math.sqrt(100) + 1)) ** 2   # Polyak: ((√κ − 1)/(√κ + 1))², κ = 100
    for value in (beta_star, 0.67, 0.69):
        assert "0.6694" in assert_passes(check.best_momentum, value).message


@pytest.mark.parametrize("value, fragments", [
    (0.9, ["Too much momentum", "√β = 0.949", "Lower β"]),
    (0.72, ["Too much momentum"]),
    (0.5, ["Too little momentum", "Raise β"]),
    (0.0, ["Too little momentum"]),
    (3.3, ["learning rate × L"]),
    (-0.1, ["must be in [0, 1)"]),
    ("0.67", ["enter your momentum as a number"]),
    (float("nan"), ["enter your momentum as a number"]),
])
def test_best_momentum_wrong_values_named(value, fragments):
    assert_fails_with(check.best_momentum, value, *fragments)


def test_best_momentum_not_done():
    assert_not_done(check.best_momentum, None)


def test_best_momentum_tolerance_is_fifteen_percent_of_steps():
    _, rate_star = E.best_rate_for_momentum(E.optimal_momentum(100.0, 1.0)[1], [1.0, 100.0])
    for beta in (0.62, 0.66, 0.70, 0.71, 0.73):
        _, rate = E.best_rate_for_momentum(beta, [1.0, 100.0])
        within = E.steps_to_reduce(rate) <= 1.15 * E.steps_to_reduce(rate_star)
        assert run(check.best_momentum, beta).passed == within


def test_checks_are_registered():
    for name in ("momentum_step", "adam_update", "clip_by_norm", "best_momentum"):
        assert name in check.REGISTRY
