"""Checks of notebook 01 (gradient descent basics).

``gradient_descent``: the learner's ``gradient_descent(grad_fn, w0, lr, steps)``
returning the path; ``largest_stable_lr``: the rate found with the quadratic
explorer; ``mse_gradient``: ``mse_gradient(w, X, y)`` of a linear model;
``stopping_reason``: the learner's stopping rule. Each compares with
:mod:`gdcourse.experiments.gd` and names the likely mistake.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse import landscapes as LS
from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_number, returned_array, same_array, show
from gdcourse.experiments import gd as E

__all__ = ["gradient_descent", "largest_stable_lr", "mse_gradient", "stopping_reason"]


# ---------------------------------------------------------------- gradient_descent

def _quadratic_gradient(rng, d):
    """``∇f`` of ``f(w) = ½ (w − b)ᵀA(w − b)`` with a random well-conditioned A (eigenvalues in [0.5, ~4])."""
    M = rng.standard_normal((d, d))
    A = M @ M.T / d + 0.5 * np.eye(d)
    b = rng.standard_normal(d)
    return lambda w: A @ (np.asarray(w, dtype=np.float64) - b)


def _path_cases():
    rng = np.random.default_rng(2024)
    return [
        ("a 3-D quadratic (lr=0.1, steps=5)", _quadratic_gradient(rng, 3), rng.standard_normal(3), 0.1, 5),
        ("f(w) = (w − 2)² from w0 = [5.0] (lr=0.25, steps=4)", lambda w: 2.0 * (np.asarray(w) - 2.0),
         np.array([5.0]), 0.25, 4),
        ("a 2-D quadratic (lr=0.3, steps=12)", _quadratic_gradient(rng, 2), rng.standard_normal(2), 0.3, 12),
        ("steps=0 (the path is just [w0])", _quadratic_gradient(rng, 2), rng.standard_normal(2), 0.1, 0),
    ]


def _path_variants(grad_fn, w0, lr, steps):
    """Paths of the usual mistakes, each with the hint that names it."""
    g0 = grad_fn(w0)
    frozen = w0 - lr * np.arange(steps + 1)[:, None] * g0
    return [
        (E.gd_path(lambda w: -grad_fn(w), w0, lr, steps),
         "your path goes uphill: you wrote w + lr * g. The gradient points uphill; subtract it: w - lr * g."),
        (E.gd_path(grad_fn, w0, 1.0, steps),
         "your steps ignore the learning rate (w - g). Multiply the gradient by lr: w - lr * g."),
        (frozen, "you used the gradient at w0 for every step. Evaluate grad_fn at the current point "
                 "each step."),
    ]


def _diagnose_path(got, want, case):
    describe, grad_fn, w0, lr, steps = case
    if got.shape == want.shape[1:] and np.allclose(got, want[-1]):
        raise Mismatch(f"on {describe} you returned only the last point {show(got)}. Return the whole path: "
                       f"an array of shape {want.shape} whose row t is w after t steps (row 0 is w0).")
    if got.shape == (steps,) + want.shape[1:] and steps > 0:
        if np.allclose(got, want[1:]):
            raise Mismatch(f"on {describe} your path has {steps} rows: it is missing w0. Start the list with "
                           f"w0 so that it has steps + 1 = {steps + 1} rows.")
        if np.allclose(got, want[:-1]):
            raise Mismatch(f"on {describe} your path has {steps} rows: it stops one step early. Take {steps} "
                           f"steps and keep w0 as well (steps + 1 = {steps + 1} rows).")
    if got.shape != want.shape:
        if got.size == want.size:
            return got.reshape(want.shape)
        raise Mismatch(f"on {describe} the path has shape {got.shape}, expected {want.shape} "
                       "(steps + 1 rows, one point per row, w0 first)")
    return got


def _explain_path_mismatch(got, want, case):
    describe, grad_fn, w0, lr, steps = case
    if steps > 0 and np.allclose(got, got[-1]) and np.allclose(got[-1], want[-1]):
        raise Mismatch(f"on {describe} every row of your path equals the last point: you stored the same "
                       "array object each time and then changed it in place (w -= ...). Store a copy "
                       "(w.copy()) or write w = w - lr * g, which makes a new array.")
    with np.errstate(over="ignore", invalid="ignore"):
        for variant, hint in _path_variants(grad_fn, w0, lr, steps):
            if same_array(got, variant):
                raise Mismatch(f"on {describe}: {hint}")
    t = int(np.argmax(~np.all(np.isclose(got, want, rtol=1e-6, atol=1e-9).reshape(len(got), -1), axis=1)))
    raise Mismatch(f"on {describe} row {t} of your path is {show(got[t])}, expected {show(want[t])} "
                   f"(row {t - 1} was {show(want[t - 1]) if t else 'the start'}). Each row should be the "
                   "previous one minus lr times the gradient at the previous one.")


@exercise("gradient_descent",
          success="your paths match gradient descent on every case tried (including steps=0).")
def gradient_descent(fn):
    """Check ``fn(grad_fn, w0, lr, steps) -> path (steps + 1, d)`` against :func:`gd_path`."""
    for case in _path_cases():
        describe, grad_fn, w0, lr, steps = case
        got = returned_array(call(fn, grad_fn, w0, lr, steps, describe=describe), describe, "the path")
        want = E.gd_path(grad_fn, w0, lr, steps)
        got = _diagnose_path(got, want, case)
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            _explain_path_mismatch(got, want, case)


# ---------------------------------------------------------------- largest_stable_lr

@exercise("largest_stable_lr")
def largest_stable_lr(value, condition_number=25.0, tolerance=0.03):
    """Is ``value`` the largest rate that converges on ``Quadratic(condition_number)`` (within ``tolerance``)?

    The truth is the package's ``divergence_threshold`` = ``2 / Quadratic(...).L``.
    Exactly ``2/L`` is accepted with a remark (there the error bounces forever).
    """
    value = answer(value)
    expect(is_number(value),
           f"enter your learning rate as a number, e.g. largest_lr = 0.05; got {value!r}")
    expect(value > 0, f"a learning rate must be > 0; got {value}")
    landscape = LS.Quadratic(condition_number)
    threshold = E.divergence_threshold(landscape)
    factor = abs(1.0 - value * landscape.L)  # the steep direction decides stability
    ratio = value / threshold
    if ratio > 1 + 1e-9:
        raise Mismatch(
            f"η = {value:g} is too big, by {ratio - 1:.1%}: along the steep direction "
            f"(curvature L = {landscape.L:g}) the error is multiplied by |1 − ηL| = {factor:.3f} > 1 "
            "every step, so GD diverges. Lower η until the loss curve stops growing.")
    if ratio < 1 - tolerance:
        raise Mismatch(
            f"η = {value:g} converges, but it is not the largest: a rate {1 / ratio - 1:.0%} higher still "
            f"converges (the steep direction still shrinks by |1 − ηL| = {factor:.3f} per step). "
            "Raise η until the loss curve is about to grow.")
    if ratio >= 1 - 1e-9:
        return (f"η = {value:g} is exactly 2/L = {threshold:g} (L = {landscape.L:g}): there |1 − ηL| = 1 "
                "and the steep direction bounces forever; any rate just below converges and any rate above "
                "diverges.")
    return (f"η = {value:g} is {1 - ratio:.1%} below the threshold 2/L = {threshold:g} "
            f"(L = {landscape.L:g}): the steep direction contracts by |1 − ηL| = {factor:.3f} per step. "
            "Above 2/L it would grow and diverge.")


# ---------------------------------------------------------------- mse_gradient

def _regression_cases():
    rng = np.random.default_rng(7)
    cases = []
    for n, d in ((5, 3), (8, 1), (1, 2), (7, 4)):
        X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
        cases.append((f"X of shape ({n}, {d}), y ({n},), w ({d},)", w, X, y))
    return cases


def _mse_hints(n):
    return [
        (0.5, "your gradient is half the right size: the derivative of r² is 2r, keep the factor 2."),
        (float(n), f"your gradient is n = {n} times too big: average over the samples (divide by n), "
                   "do not sum."),
        (2.0 * n, f"your gradient is 2n = {2 * n} times too big: divide the sum by n (and keep the "
                  "factor 2)."),
        (0.5 * n, "you summed over the samples instead of averaging and dropped the factor 2."),
        (-1.0, "your gradient has the wrong sign: the residual is Xw − y (prediction minus target)."),
        (-0.5, "wrong sign and missing factor 2: use (2/n) Xᵀ(Xw − y)."),
    ]


@exercise("mse_gradient", success="your gradient matches (2/n) Xᵀ(Xw − y) on every case tried.")
def mse_gradient(fn):
    """Check ``fn(w, X, y) -> (d,)`` against ``(2/n) Xᵀ(Xw − y)``."""
    for describe, w, X, y in _regression_cases():
        n, d = X.shape
        got = returned_array(call(fn, w, X, y, describe=describe), describe, "an array of shape (d,)")
        want = E.mse_gradient(w, X, y)
        if got.shape == (n,) and n != d:
            raise Mismatch(f"on {describe} you returned shape ({n},), one number per sample: that is the "
                           "gradient with respect to the predictions. Multiply by Xᵀ to get one number per "
                           "weight.")
        if got.shape != want.shape:
            expect(got.size == want.size,
                   f"on {describe} the gradient has shape {got.shape}, expected ({d},)")
            got = got.reshape(want.shape)
        if np.allclose(got, want, rtol=1e-6, atol=1e-10):
            continue
        for factor, hint in _mse_hints(n):
            if np.allclose(got, factor * want, rtol=1e-6, atol=1e-10):
                raise Mismatch(f"on {describe}: {hint}")
        raise Mismatch(f"on {describe} you returned {show(got)}, expected {show(want)}. "
                       "Compute the residuals r = Xw − y, then (2/n) Xᵀ r.")


# ---------------------------------------------------------------- stopping_reason

_STOP_CASES = [
    # describe, (step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol), expected, hint.
    # The expected reasons are the package's (tests/test_nb01_checks.py asserts it).
    ("a normal step (loss 10 → 9, gradient norm 3)", (5, 10.0, 9.0, 3.0, 100, 1e-6, 1e-8), None,
     "nothing should fire here: the loss still drops by 10 % per step and the gradient is large."),
    ("a NaN loss", (5, 10.0, math.nan, math.nan, 100, 1e-6, 1e-8), "diverged",
     "NaN compares False with everything, so it slips past every test: check math.isfinite(loss) first."),
    ("an inf loss at step = max_steps", (100, 1e3, math.inf, 1e5, 100, 1e-6, 1e-8), "diverged",
     "divergence must be reported before the budget: test the loss first."),
    ("a gradient norm of 1e-9 (grad_tol = 1e-6)", (5, 1.0, 0.9, 1e-9, 100, 1e-6, 1e-8), "gradient",
     "the gradient norm is below grad_tol: return 'gradient'."),
    ("step 0, where loss_prev is None", (0, None, 3.0, 2.0, 100, 1e-6, 1e-8), None,
     "at step 0 there is no previous loss: skip the loss-change test when loss_prev is None."),
    ("a huge loss that barely moves (1e6 → 1e6 − 1e-3)", (50, 1e6, 1e6 - 1e-3, 5.0, 1000, 1e-6, 1e-8),
     "loss change",
     "the absolute change 1e-3 is not small, but relative to a loss of 1e6 it is 1e-9: divide by "
     "max(|loss_prev|, |loss|, 1)."),
    ("a loss that went up (1.0 → 1.5)", (50, 1.0, 1.5, 5.0, 1000, 1e-6, 1e-8), None,
     "the loss rose by 0.5, which is not a small change: take the absolute value of the difference."),
    ("step = max_steps", (100, 10.0, 9.0, 3.0, 100, 1e-6, 1e-8), "budget",
     "the budget is used up when step >= max_steps."),
    ("step = max_steps − 1", (99, 10.0, 9.0, 3.0, 100, 1e-6, 1e-8), None,
     "off by one: at step 99 of max_steps = 100 one more step is allowed (stop when step >= max_steps)."),
    ("tiny losses (2e-10 → 1e-10)", (50, 2e-10, 1e-10, 5.0, 1000, 1e-6, 1e-8), "loss change",
     "below 1 the denominator is max(|loss_prev|, |loss|, 1) = 1, so the change 1e-10 counts as small; "
     "dividing by the loss itself gives 0.5 and never stops on a loss whose minimum is 0."),
    ("zero gradient and an unchanged loss", (10, 1.0, 1.0, 0.0, 100, 1e-6, 1e-8), "gradient",
     "both tests fire; the order is diverged, gradient, loss change, budget."),
]


@exercise("stopping_reason", success="your rule gives the right reason (or None) on every case tried.")
def stopping_reason(fn):
    """Check ``fn(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol)`` against the package."""
    for describe, (step, prev, loss, gnorm, max_steps, grad_tol, rel_tol), want, hint in _STOP_CASES:
        got = call(fn, step, prev, loss, gnorm, max_steps, grad_tol, rel_tol, describe=describe)
        if got is not None and got not in E.STOP_REASONS:
            raise Mismatch(f"on {describe} you returned {got!r}; return None or one of "
                           f"{list(E.STOP_REASONS)}")
        if got != want:
            raise Mismatch(f"on {describe} you returned {got!r}, expected {want!r}: {hint}")
