"""Notebook 02's exercise checks: the reference passes, plausible mistakes fail with the intended hint,
stubs are "not done", and other errors are reported, not raised."""

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
from gdcourse.check import variants as CV

# ---------------------------------------------------------------- minibatch_indices

def reference_batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def test_minibatch_reference_passes():
    assert_verdict(run(check.minibatch_indices, reference_batches), "passed", "every index exactly once")


def test_minibatch_accepts_a_generator_of_batches():
    def lazy(n, batch_size, rng):
        order = rng.permutation(n)
        return (order[i:i + batch_size] for i in range(0, n, batch_size))

    assert_passes(check.minibatch_indices, lazy)


def with_replacement(n, b, rng):
    return [rng.integers(0, n, size=min(b, n - i)) for i in range(0, n, b)]


def choice_with_replacement(n, b, rng):
    drawn = rng.choice(n, n)
    return [drawn[i:i + b] for i in range(0, n, b)]


def drops_last(n, b, rng):
    order = rng.permutation(n)
    return [order[i:i + b] for i in range(0, n - n % b, b)] or [order]


def no_shuffle(n, b, rng):
    return [np.arange(n)[i:i + b] for i in range(0, n, b)]


def global_generator(n, b, rng):
    order = np.random.permutation(n)
    return [order[i:i + b] for i in range(0, n, b)]


def fixed_seed(n, b, rng):
    order = np.random.default_rng(0).permutation(n)
    return [order[i:i + b] for i in range(0, n, b)]


def array_split(n, b, rng):
    return np.array_split(rng.permutation(n), math.ceil(n / b))


def empty_last(n, b, rng):
    order = rng.permutation(n)
    return [order[i:i + b] for i in range(0, n + b, b)]


def float_indices(n, b, rng):
    order = rng.permutation(n).astype(float)
    return [order[i:i + b] for i in range(0, n, b)]


@pytest.mark.parametrize(
    ("wrong", "fragments"),
    [
        (with_replacement, ["sampling with replacement", "rng.permutation"]),
        (choice_with_replacement, ["sampling with replacement"]),
        (drops_last, ["n=10, batch_size=3", "dropped the last partial batch", "1 leftover"]),
        (no_shuffle, ["do not shuffle", "rng.permutation"]),
        (global_generator, ["gave different orders", "np.random"]),
        (fixed_seed, ["gave the same order", "rng argument"]),
        (array_split, ["batch sizes are", "np.array_split"]),
        (empty_last, ["is empty", "one step too far"]),
        (lambda n, b, rng: rng.permutation(n), ["one flat array"]),
        (lambda n, b, rng: None, ["returned None"]),
        (float_indices, ["float64", "integers"]),
    ],
    ids=["integers", "choice", "drop-last", "no-shuffle", "global-rng", "fixed-seed", "array-split",
         "empty-last", "flat", "none", "floats"],
)
def test_minibatch_mistakes_get_specific_hints(wrong, fragments):
    assert_fails_with(check.minibatch_indices, wrong, *fragments)


def test_minibatch_stub_is_not_done_and_errors_are_reported():
    assert_verdict(run(check.minibatch_indices, stub), "not done", "not done yet")

    def reshaping(n, batch_size, rng):
        return list(rng.permutation(n).reshape(-1, batch_size))

    assert_fails_with(check.minibatch_indices, reshaping, "raised ValueError", "n=10, batch_size=3")


# ---------------------------------------------------------------- inverse_time_lr

def reference_lr(t, lr0, decay_rate):
    return lr0 / (1 + decay_rate * np.asarray(t, dtype=float))


def test_inverse_time_reference_and_plain_python_pass():
    assert_verdict(run(check.inverse_time_lr, reference_lr), "passed", "lr0 / (1 + decay_rate·t)")
    assert_passes(check.inverse_time_lr, lambda t, lr0, k: lr0 / (1 + k * t))   # works on arrays too


@pytest.mark.parametrize(
    ("wrong", "fragments"),
    [
        (lambda t, lr0, k: lr0 / (k * np.asarray(t)), ["infinite", "t = 0"]),
        (lambda t, lr0, k: lr0 / (1 + k) ** np.asarray(t), ["exponential decay"]),
        (lambda t, lr0, k: lr0 / (1 + k * (np.asarray(t) + 1)), ["shifted by one"]),
        (lambda t, lr0, k: lr0 / np.sqrt(1 + k * np.asarray(t)), ["1/√t"]),
        (lambda t, lr0, k: lr0 * (1 - k * np.asarray(t)), ["linear decay"]),
        (lambda t, lr0, k: lr0 / (1 + np.asarray(t)), ["ignores decay_rate"]),
        (lambda t, lr0, k: lr0 / (1 + k * np.asarray(t)) ** 2, ["expected", "lr0 / (1 + decay_rate·t)"]),
        (lambda t, lr0, k: float(np.mean(lr0 / (1 + k * np.asarray(t)))),
         ["has shape ()", "one rate per step"]),
        (lambda t, lr0, k: None, ["returned None"]),
    ],
    ids=["no-one", "exponential", "off-by-one", "sqrt", "linear", "no-k", "squared", "scalar", "none"],
)
def test_inverse_time_mistakes_get_specific_hints(wrong, fragments):
    assert_fails_with(check.inverse_time_lr, wrong, *fragments)


def test_inverse_time_stub_and_scalar_only_code():
    assert_not_done(check.inverse_time_lr, stub)
    scalar_only = lambda t, lr0, k: lr0 / (1 + k * math.floor(t))
    assert_fails_with(check.inverse_time_lr, scalar_only, "raised TypeError")


# ---------------------------------------------------------------- explorer exercises

def test_batch_size_for_noise():
    assert CV.NOISE_THRESHOLD == 0.5
    assert_verdict(run(check.batch_size_for_noise, 40), "passed", "B = 40", "0.497", "0.504")
    assert_passes(check.batch_size_for_noise, 40.0)
    assert_fails_with(check.batch_size_for_noise, 39, "still above 0.5", "increase B")
    assert_fails_with(check.batch_size_for_noise, 50, "σ/√B", "finite-population")
    assert_fails_with(check.batch_size_for_noise, 64, "not the smallest", "B = 40")
    assert_fails_with(check.batch_size_for_noise, 0, "between 1 and N = 200")
    assert_fails_with(check.batch_size_for_noise, "forty", "whole number")
    assert_fails_with(check.batch_size_for_noise, 40.5, "whole number")
    assert_not_done(check.batch_size_for_noise, None)


def test_staleness_limit():
    assert CV.ASYNC_LR == 0.3
    assert_verdict(run(check.staleness_limit, 6), "passed", "τ = 6", "0.285", "0.337")
    assert_fails_with(check.staleness_limit, 5, "still decreases", "try one more")
    assert_fails_with(check.staleness_limit, 2, "converges", "increase τ")
    assert_fails_with(check.staleness_limit, 9, "not the smallest", "τ = 6")
    assert_fails_with(check.staleness_limit, -1, ">= 0")
    assert_fails_with(check.staleness_limit, True, "whole number")
    assert_not_done(check.staleness_limit, None)


def test_checks_are_registered_and_never_raise():
    for name in ["minibatch_indices", "inverse_time_lr", "batch_size_for_noise", "staleness_limit"]:
        assert name in check.REGISTRY
    assert_fails_with(check.minibatch_indices, 42, "raised TypeError", "not callable")   # not even a function
