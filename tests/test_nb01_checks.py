"""Notebook 01 checks: each passes the reference solution, fails plausible wrong answers with the
intended message, reports a NotImplementedError stub as "not done", and reports other exceptions as
"failed" naming the error. A check never raises."""

import math

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
from gdcourse.check import gd as checks
from gdcourse.experiments import gd as E


def test_checks_are_re_exported():
    for name in ("gradient_descent", "largest_stable_lr", "mse_gradient", "stopping_reason"):
        assert getattr(check, name) is getattr(checks, name) and name in check.REGISTRY


# ---------------------------------------------------------------- gradient_descent

def gd_reference(grad_fn, w0, lr, steps):
    w = np.array(w0, dtype=float)
    path = [w]
    for _ in range(steps):
        w = w - lr * grad_fn(w)
        path.append(w)
    return np.array(path)


def gd_variant(update=lambda w, g, lr: w - lr * g, keep_start=True, alias=False, frozen=False,
               last_only=False):
    def gradient_descent(grad_fn, w0, lr, steps):
        w = np.array(w0, dtype=float)
        g0 = grad_fn(w)
        path = [w] if keep_start else []
        for _ in range(steps):
            g = g0 if frozen else grad_fn(w)
            if alias:
                w -= lr * g
            else:
                w = update(w, g, lr)
            path.append(w)
        return path[-1] if last_only else np.array(path)
    return gradient_descent


def test_gradient_descent_passes_the_reference_and_a_list_of_rows():
    assert_passes(check.gradient_descent, gd_reference)
    as_list = lambda *a: [list(row) for row in gd_reference(*a)]
    assert_passes(check.gradient_descent, as_list)


@pytest.mark.parametrize("wrong,fragments", [
    (gd_variant(update=lambda w, g, lr: w + lr * g), ["uphill", "w + lr * g"]),
    (gd_variant(update=lambda w, g, lr: w - g), ["ignore the learning rate"]),
    (gd_variant(frozen=True), ["gradient at w0 for every step"]),
    (gd_variant(alias=True), ["same array object", "w.copy()"]),
    (gd_variant(keep_start=False), ["missing w0"]),
    (gd_variant(last_only=True), ["only the last point"]),
    (gd_variant(update=lambda w, g, lr: w - 2 * lr * g), ["row 1 of your path"]),
    (lambda *a: None, ["returned None"]),
    (lambda *a: "path", ["not the path"]),
])
def test_gradient_descent_names_the_mistake(wrong, fragments):
    assert_fails_with(check.gradient_descent, wrong, *fragments)


def test_gradient_descent_stub_and_crash():
    assert_not_done(check.gradient_descent, stub)
    def crashes(grad_fn, w0, lr, steps):
        raise ValueError("shapes do not match")
    assert_fails_with(check.gradient_descent, crashes, "ValueError", "shapes do not match", "3-D quadratic")


def test_gradient_descent_cannot_corrupt_the_check_by_writing_into_w0():
    def writes_into_w0(grad_fn, w0, lr, steps):
        path = gd_reference(grad_fn, w0, lr, steps)
        w0 -= 100.0
        return path
    assert_passes(check.gradient_descent, writes_into_w0)


# ---------------------------------------------------------------- largest_stable_lr

def test_largest_stable_lr_accepts_values_just_below_two_over_L():
    assert "2/L = 0.08" in assert_passes(check.largest_stable_lr, 0.079).message
    assert "exactly 2/L" in assert_passes(check.largest_stable_lr, 0.08).message
    assert_passes(check.largest_stable_lr, 0.0785)
    assert_passes(check.largest_stable_lr, 0.0198, condition_number=100)


@pytest.mark.parametrize("value,fragments", [
    (0.09, ["too big, by 12.5%", "|1 − ηL| = 1.250 > 1", "diverges"]),
    (0.0801, ["too big"]),
    (0.05, ["not the largest", "60% higher"]),
    (0.0770, ["not the largest"]),
    ("0.08", ["as a number"]),
    (math.nan, ["as a number"]),
    (-0.01, ["must be > 0"]),
    (True, ["as a number"]),
])
def test_largest_stable_lr_explains_the_miss(value, fragments):
    assert_fails_with(check.largest_stable_lr, value, *fragments)


def test_largest_stable_lr_not_done_and_other_kappa():
    assert_not_done(check.largest_stable_lr, None)
    assert_verdict(run(check.largest_stable_lr, 0.079, condition_number=10), "failed", "not the largest")


# ---------------------------------------------------------------- mse_gradient

def mse_reference(w, X, y):
    return 2.0 / len(y) * X.T @ (X @ w - y)


def test_mse_gradient_passes_the_reference_and_a_column_vector():
    assert_passes(check.mse_gradient, mse_reference)
    assert_passes(check.mse_gradient, lambda w, X, y: mse_reference(w, X, y)[:, None])


@pytest.mark.parametrize("wrong,fragments", [
    (lambda w, X, y: X.T @ (X @ w - y) / len(y), ["half the right size", "factor 2"]),
    (lambda w, X, y: 2 * X.T @ (X @ w - y), ["n = 5 times too big", "divide by n"]),
    (lambda w, X, y: 2 / len(y) * X.T @ (y - X @ w), ["wrong sign", "Xw − y"]),
    (lambda w, X, y: 1 / len(y) * X.T @ (y - X @ w), ["wrong sign and missing factor 2"]),
    (lambda w, X, y: 2 / len(y) * (X @ w - y), ["one number per sample", "Xᵀ"]),
    (lambda w, X, y: 2 / len(y) * X.T @ (X @ w), ["you returned", "expected", "r = Xw − y"]),
    (lambda w, X, y: np.zeros(4), ["shape (4,)"]),
])
def test_mse_gradient_names_the_mistake(wrong, fragments):
    assert_fails_with(check.mse_gradient, wrong, *fragments)


def test_mse_gradient_stub_and_crash():
    assert_not_done(check.mse_gradient, stub)
    assert_fails_with(check.mse_gradient, lambda w, X, y: X @ y, "ValueError", "X of shape (5, 3)")


# ---------------------------------------------------------------- stopping_reason

def stop_reference(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
    return E.stopping_reason(step, loss_prev, loss, grad_norm, max_steps=max_steps, grad_tol=grad_tol,
                             rel_tol=rel_tol)


def stop_variant(finite_check=True, relative=True, absolute=True, floor=True, budget_first=False,
                 off_by_one=False, order_gradient_first=True):
    def stopping_reason(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
        if budget_first and step >= max_steps:
            return "budget"
        if finite_check and not math.isfinite(loss):
            return "diverged"
        gradient = grad_norm <= grad_tol
        if gradient and order_gradient_first:
            return "gradient"
        if loss_prev is not None:
            change = (loss_prev - loss) if not absolute else abs(loss_prev - loss)
            if relative:
                change /= max(abs(loss_prev), abs(loss), 1.0) if floor else abs(loss_prev)
            if change <= rel_tol:
                return "loss change"
        if gradient:
            return "gradient"
        if (step > max_steps) if off_by_one else (step >= max_steps):
            return "budget"
        return None
    return stopping_reason


def test_stopping_reason_table_is_the_package_rule():
    for describe, (step, prev, loss, gnorm, max_steps, grad_tol, rel_tol), want, _ in checks._STOP_CASES:
        got = E.stopping_reason(step, prev, loss, gnorm, max_steps=max_steps, grad_tol=grad_tol,
                                rel_tol=rel_tol)
        assert got == want, describe


def test_stopping_reason_passes_the_reference():
    assert_passes(check.stopping_reason, stop_reference)
    assert_passes(check.stopping_reason, stop_variant())


@pytest.mark.parametrize("wrong,fragments", [
    (stop_variant(finite_check=False), ["a NaN loss", "isfinite"]),
    (stop_variant(relative=False), ["barely moves", "relative to a loss of 1e6"]),
    (stop_variant(absolute=False), ["went up", "absolute value"]),
    (stop_variant(floor=False), ["tiny losses", "max(|loss_prev|, |loss|, 1) = 1"]),
    (stop_variant(budget_first=True), ["inf loss at step = max_steps", "before the budget"]),
    (stop_variant(off_by_one=True), ["step = max_steps", "'budget'"]),
    (stop_variant(order_gradient_first=False), ["zero gradient and an unchanged loss", "order"]),
    (lambda *a: "stop", ["return None or one of"]),
    (lambda *a: None, ["a NaN loss", "expected 'diverged'"]),
])
def test_stopping_reason_names_the_mistake(wrong, fragments):
    assert_fails_with(check.stopping_reason, wrong, *fragments)


def test_stopping_reason_off_by_one_the_other_way():
    def stops_early(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
        return stop_reference(step + 1, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol)
    assert_fails_with(check.stopping_reason, stops_early, "off by one")


def test_stopping_reason_stub_and_crash_on_none():
    assert_not_done(check.stopping_reason, stub)
    def no_none(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
        if not math.isfinite(loss):
            return "diverged"
        if grad_norm <= grad_tol:
            return "gradient"
        if abs(loss_prev - loss) / max(abs(loss_prev), abs(loss), 1.0) <= rel_tol:
            return "loss change"
        return "budget" if step >= max_steps else None
    assert_fails_with(check.stopping_reason, no_none, "TypeError", "loss_prev is None")
