"""Checks of notebook 02 (GD variants).

``minibatch_indices``: the learner's ``minibatch_indices(n, batch_size, rng)``, one
epoch of mini-batches without replacement; ``inverse_time_lr``: the learner's
``inverse_time_lr(t, lr0, decay_rate)``; ``batch_size_for_noise``: the batch size
found with the batch-size explorer; ``staleness_limit``: the staleness found with
the async explorer. Each compares with the package and names the likely mistake.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse import schedules as S
from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_whole_number, show
from gdcourse.experiments import variants as E

__all__ = ["minibatch_indices", "inverse_time_lr", "batch_size_for_noise", "staleness_limit"]

SHOWN = {"threshold": 12, "as_float": False}  # of show: every step of a schedule, integers as integers

NOISE_THRESHOLD = 0.5
"""The gradient-noise std the batch-size exercise asks to get below."""

ASYNC_LR = 0.3
"""The learning rate of the staleness exercise."""


# ---------------------------------------------------------------- minibatch_indices

def _as_batches(got, describe):
    """The learner's result as a list of 1-D int arrays, or a Mismatch saying what is wrong with it."""
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: did you forget to return the list "
                       "of batches?")
    if isinstance(got, np.ndarray) and got.ndim == 1:
        raise Mismatch(f"on {describe} you returned one flat array of {got.size} indices; return a list with "
                       "one array of indices per batch.")
    try:
        batches = [np.asarray(b) for b in got]
    except TypeError:
        raise Mismatch(f"on {describe} you returned {type(got).__name__}; return a list of index "
                       "arrays") from None
    for k, b in enumerate(batches):
        if b.ndim != 1:
            raise Mismatch(f"on {describe} batch {k} has shape {b.shape}; each batch should be a 1-D "
                           "array of row indices.")
        if b.size == 0:
            raise Mismatch(f"on {describe} batch {k} is empty. This happens when the loop runs one step too "
                           "far (e.g. range(0, n + batch_size, batch_size)); stop when every index is used.")
        if b.dtype.kind not in "iu":
            raise Mismatch(f"on {describe} batch {k} holds {b.dtype} values; indices must be integers "
                           "(they are used as X[idx]).")
    return batches


def _check_coverage(batches, n, batch_size, describe):
    everything = np.concatenate(batches)
    if everything.min() < 0 or everything.max() >= n:
        bad = everything.max() if everything.max() >= n else everything.min()
        raise Mismatch(f"on {describe} you returned index {bad}, outside 0 … {n - 1}.")
    counts = np.bincount(everything, minlength=n)
    missing = np.flatnonzero(counts == 0)
    if np.any(counts > 1):
        twice = int(np.flatnonzero(counts > 1)[0])
        raise Mismatch(
            f"on {describe} index {twice} appears {counts[twice]} times and {missing.size} indices never "
            "appear: you are sampling with replacement (rng.integers or rng.choice with replace=True). "
            "An epoch uses every index exactly once: shuffle with rng.permutation(n) and cut the result "
            "into batches.")
    leftover = n % batch_size
    if missing.size and missing.size == leftover:
        raise Mismatch(
            f"on {describe} you dropped the last partial batch: the {leftover} leftover indices "
            f"(n mod batch_size = {n} mod {batch_size}) are never used in this epoch. Keep the last, smaller "
            f"batch of {leftover}.")
    if missing.size:
        raise Mismatch(f"on {describe} {missing.size} indices never appear (e.g. {int(missing[0])}); every "
                       f"index 0 … {n - 1} must be in exactly one batch.")


def _check_sizes(batches, n, batch_size, describe):
    sizes = [len(b) for b in batches]
    want = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if sizes == want:
        return
    if sorted(sizes) == sorted(want):
        raise Mismatch(f"on {describe} your batch sizes are {sizes}; the smaller batch should come last: "
                       f"expected {want}.")
    hint = (" np.array_split makes pieces of nearly equal size; slice order[i:i + batch_size] instead."
            if max(sizes) - min(sizes) <= 1 else "")
    raise Mismatch(f"on {describe} your batch sizes are {sizes}, expected {want}: every batch has batch_size "
                   f"rows except the last, which holds the n mod batch_size leftovers.{hint}")


def _epoch(fn, n, batch_size, seed):
    describe = f"n={n}, batch_size={batch_size}, rng=np.random.default_rng({seed})"
    got = call(fn, n, batch_size, np.random.default_rng(seed), describe=describe)
    batches = _as_batches(got, describe)
    _check_coverage(batches, n, batch_size, describe)
    _check_sizes(batches, n, batch_size, describe)
    return np.concatenate(batches), describe


@exercise("minibatch_indices", success="every index exactly once, batch sizes right (last one smaller), "
                                       "shuffled with the given rng.")
def minibatch_indices(fn):
    """Check ``fn(n, batch_size, rng) -> list of index arrays`` (one epoch without replacement)."""
    for n, batch_size, seed in [(10, 3, 0), (12, 4, 1), (7, 10, 2), (5, 1, 3), (100, 32, 4)]:
        _epoch(fn, n, batch_size, seed)
    order, describe = _epoch(fn, 100, 32, 5)
    expect(not np.array_equal(order, np.arange(100)),
           f"on {describe} the indices come out in order 0, 1, 2, …: you do not shuffle. Draw a fresh order "
           "with rng.permutation(n) for every epoch.")
    again, _ = _epoch(fn, 100, 32, 5)
    expect(np.array_equal(order, again),
           f"two calls with {describe} gave different orders: draw the order from the rng argument "
           "(rng.permutation), not from np.random.* (the global generator), so a seed reproduces the epoch.")
    other, _ = _epoch(fn, 100, 32, 6)
    expect(not np.array_equal(order, other),
           "np.random.default_rng(5) and np.random.default_rng(6) gave the same order: the order must come "
           "from the rng argument (did you create your own generator with a fixed seed inside?).")


# ---------------------------------------------------------------- inverse_time_lr

def _lr_variants(t, lr0, k):
    """The usual mistakes and their hints, as functions of an int array ``t``."""
    t = t.astype(float)
    with np.errstate(divide="ignore"):
        return [
            (lr0 / (k * t), "at t = 0 your rate is infinite: the denominator is 1 + decay_rate·t, so the "
                            "first step (t = 0) uses lr0."),
            (lr0 / (1 + k) ** t, "that is exponential decay, lr0/(1 + k)^t; the 1/t schedule divides by "
                                 "1 + k·t, which grows linearly in t."),
            (lr0 / (1 + k * (t + 1)), "your steps are shifted by one: at t = 0 you return lr0/(1 + k) "
                                      "instead of lr0. Steps count from 0 and the first update uses lr0."),
            (lr0 / np.sqrt(1 + k * t), "that is a 1/√t decay; the 1/t schedule is lr0 / (1 + k·t), without "
                                       "the square root."),
            (lr0 * (1 - k * t), "that is a linear decay lr0·(1 − k·t) (it even turns negative); the 1/t "
                                "schedule divides: lr0 / (1 + k·t)."),
            (lr0 / (1 + t), "your rate ignores decay_rate: the denominator is 1 + decay_rate·t."),
            (lr0 / (1 + k) * np.ones_like(t), "your rate does not change with t: multiply decay_rate by t."),
        ]


def _expected_lr(t, lr0, k):
    schedule = S.InverseTimeDecay(lr0, k)
    return schedule.values(np.asarray(t)) if np.ndim(t) else schedule(int(t))


@exercise("inverse_time_lr", success="lr0 / (1 + decay_rate·t) at every step tried, for ints and arrays.")
def inverse_time_lr(fn):
    """Check ``fn(t, lr0, decay_rate)`` against :class:`gdcourse.schedules.InverseTimeDecay`."""
    cases = [(np.arange(0, 50, 7), 0.5, 0.1), (np.arange(6), 1.0, 0.5), (0, 0.1, 0.01), (1, 0.1, 0.01),
             (1000, 0.1, 0.01), (np.array([0, 10, 450]), 0.2, 0.02)]
    for t, lr0, k in cases:
        describe = f"t={show(t, **SHOWN)}, lr0={lr0}, decay_rate={k}"
        with np.errstate(divide="ignore", invalid="ignore"):
            got = call(fn, t, lr0, k, describe=describe)
        if got is None:
            raise Mismatch(f"on {describe} your function returned None: did you forget to return the rate?")
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            raise Mismatch(f"on {describe} you returned {type(got).__name__}, not a number or "
                           "array") from None
        want = np.asarray(_expected_lr(t, lr0, k))
        if got.shape != want.shape:
            raise Mismatch(f"on {describe} the result has shape {got.shape}, expected {want.shape}: return "
                           "one rate per step (use NumPy operations so an array of steps works too).")
        if np.allclose(got, want, rtol=1e-9, atol=1e-15):
            continue
        for variant, hint in _lr_variants(np.atleast_1d(t), lr0, k):
            if np.allclose(got.reshape(-1), variant, rtol=1e-9, atol=1e-15, equal_nan=True):
                raise Mismatch(f"on {describe}: {hint}")
        raise Mismatch(f"on {describe} you returned {show(got, **SHOWN)}, expected {show(want, **SHOWN)}: "
                       "lr0 / (1 + decay_rate·t).")


# ---------------------------------------------------------------- explorer exercises

def _check_int_answer(value, what):
    value = answer(value)
    expect(is_whole_number(value), f"enter {what} as a whole number, e.g. 12; got {value!r}")
    return int(value)


@exercise("batch_size_for_noise")
def batch_size_for_noise(value, threshold=NOISE_THRESHOLD):
    """Is ``value`` the smallest batch size whose exact gradient-noise std is below ``threshold``?

    On the batch-size explorer's problem, at its start point, batches drawn without replacement.
    """
    B = _check_int_answer(value, "the batch size")
    problem = E.batch_size_problem()
    expect(1 <= B <= problem.n, f"a batch size is between 1 and N = {problem.n}; got {B}")
    truth = E.smallest_batch_for_noise(threshold)

    def std(b, replacement=False):
        return math.sqrt(E.gradient_noise_variance(problem, E.BATCH_SIZE_START, b, replacement))

    naive = int(np.argmax([std(b, True) < threshold for b in range(1, problem.n + 1)])) + 1
    if B == truth:
        return (f"B = {B}: the noise std is {std(B):.3f} < {threshold}, while B = {B - 1} still gives "
                f"{std(B - 1):.3f}.")
    if B < truth:
        raise Mismatch(f"at B = {B} the noise std is {std(B):.3f}, still above {threshold}: increase B.")
    if B == naive:
        raise Mismatch(
            f"B = {B} is what σ/√B predicts, but the explorer draws each batch without replacement, and "
            f"the finite-population factor (N − B)/(N − 1) lowers the noise further: a smaller batch "
            f"already gets below {threshold}. Read the exact std in the title of the left panel.")
    raise Mismatch(f"B = {B} gets below {threshold} (std {std(B):.3f}), but it is not the smallest: "
                   f"B = {truth} already gives {std(truth):.3f}. Move the slider down until the std rises "
                   f"above {threshold}.")


@exercise("staleness_limit")
def staleness_limit(value, lr=ASYNC_LR):
    """Is ``value`` the smallest staleness at which async SGD diverges at ``lr``?

    On the async explorer's problem with exact gradients; the truth is the closed-form stability limit.
    """
    tau = _check_int_answer(value, "the staleness")
    expect(tau >= 0, f"a staleness counts updates, so it is >= 0; got {tau}")
    L = float(E.async_problem().curvatures[-1])
    truth = E.smallest_unstable_staleness(lr, L)
    limit = E.stable_lr_limit(L, tau)
    if tau == truth:
        return (f"τ = {tau}: the stable limit is {limit:.3g} < lr = {lr}, while at τ = {tau - 1} it is "
                f"{E.stable_lr_limit(L, tau - 1):.3g}. The usable rate falls roughly like 1/τ.")
    if tau == truth - 1:
        raise Mismatch(f"at τ = {tau} the loss still decreases, slowly and with large oscillations: its "
                       f"stable limit {limit:.3g} is just above lr = {lr}. Look at the end of the stale "
                       "curve and try one more.")
    if tau < truth:
        raise Mismatch(f"at τ = {tau} the run converges (stable limit {limit:.3g} > lr = {lr}): "
                       "increase τ.")
    raise Mismatch(f"τ = {tau} diverges, but it is not the smallest: τ = {truth} already does "
                   f"(limit {E.stable_lr_limit(L, truth):.3g} < lr = {lr}).")
