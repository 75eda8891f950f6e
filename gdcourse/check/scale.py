"""Checks of notebook 11 (training at scale).

``float16_spacing``: the learner's ``float16_spacing(w) -> float``, the gap to the next float16 away from 0;
``update_loss_scale``: their ``update_loss_scale(scale, found_inf, good_steps, growth_interval) ->
(scale, good_steps)``, one update of a dynamic loss scaler; ``combine_micro_batches``: their
``combine_micro_batches(grads, sizes) -> gradient`` of the whole batch; ``noise_scale``: their
``noise_scale(g_small_sq, g_big_sq, b_small, b_big) -> B_noise``. References: ``np.spacing`` on
``np.float16``, :class:`gdcourse.mixed_precision.DynamicLossScaler` and :mod:`gdcourse.experiments.scale`.
"""

from __future__ import annotations

import numpy as np

from gdcourse.check.core import Mismatch, call, exercise, expect, expect_close, is_number, returned_array
from gdcourse.experiments import scale as E
from gdcourse.mixed_precision import DynamicLossScaler

__all__ = ["float16_spacing", "update_loss_scale", "combine_micro_batches", "noise_scale"]


# ---------------------------------------------------------------- float16_spacing

SPACING_CASES = (1.0, 0.75, 3.0, 1000.0, 40000.0, -2.5, 0.1, 2.0**-14)


@exercise("float16_spacing", success="your spacing matches np.spacing(np.float16(w)) on every value tried.")
def float16_spacing(fn):
    """Check ``fn(w) -> float`` against ``|np.spacing(np.float16(w))|`` for normal float16 values."""
    for w in SPACING_CASES:
        describe = f"w = {w:g}"
        got = call(fn, w, describe=describe)
        expect(is_number(got), f"on {describe} you returned {got!r}; return one number")
        want = float(abs(np.spacing(np.float16(w))))
        if np.isclose(got, want / 2, rtol=1e-9):
            raise Mismatch(f"on {describe} you returned {got:g}, half the spacing ({want:g}): that is the largest "
                           "update that rounds away, not the gap between neighbours. The gap is 2^(⌊log₂|w|⌋ − 10).")
        if np.isclose(got, want * 2.0**-13, rtol=1e-9):
            raise Mismatch(f"on {describe} you returned {got:g}: that is float32's spacing (23 mantissa bits). "
                           "float16 keeps 10: 2^(⌊log₂|w|⌋ − 10).")
        if w < 0 and np.isclose(got, -want, rtol=1e-9):
            raise Mismatch(f"on {describe} you returned {got:g}: a gap is a distance, use |w|.")
        expect_close(got, want, describe, hint="The spacing is 2^(⌊log₂|w|⌋ − 10): 10 mantissa bits, so 2¹⁰ "
                                               "values between each power of two.", rtol=1e-9, atol=0)


# ---------------------------------------------------------------- update_loss_scale

def _scaler_trace(flags, growth_interval, init=1024.0):
    scaler = DynamicLossScaler(init_scale=init, growth_interval=growth_interval)
    states = []
    for found_inf in flags:
        scaler.update(not found_inf)
        states.append((scaler.scale, scaler.good_steps))
    return states


@exercise("update_loss_scale", success="your scaler halves on inf/NaN, doubles after every growth_interval good "
                                       "steps, and keeps its counter right.")
def update_loss_scale(fn):
    """Run the learner's update along fixed sequences of overflow flags; compare every state."""
    sequences = [
        ("three good steps with growth_interval = 3", [False] * 3, 3),
        ("an overflow, then two good steps (growth_interval = 2)", [True, False, False], 2),
        ("good, good, overflow, good, good, good (growth_interval = 3)", [False, False, True, False, False, False], 3),
        ("two overflows in a row", [True, True], 5),
    ]
    for describe, flags, interval in sequences:
        scale, good = 1024.0, 0
        for step, (found_inf, (want_scale, want_good)) in enumerate(
                zip(flags, _scaler_trace(flags, interval), strict=True), start=1):
            got = call(fn, scale, found_inf, good, interval, describe=describe)
            expect(isinstance(got, tuple) and len(got) == 2,
                   f"on {describe} return a pair (scale, good_steps); got {got!r}")
            scale, good = got
            where = f"{describe}, after step {step} (found_inf={found_inf})"
            if found_inf and scale == 2 * want_scale * 2:
                raise Mismatch(f"on {where} the scale grew: an overflow means the scale is too large; halve it.")
            if found_inf and want_good == 0 and good != 0:
                raise Mismatch(f"on {where} good_steps is {good}: an overflow restarts the count at 0.")
            expect_close(scale, want_scale, where, hint="Halve on inf/NaN; double only when good_steps reaches "
                                                        "growth_interval.")
            expect(good == want_good, f"on {where} good_steps is {good!r}, expected {want_good} (count the good "
                                      "steps since the last change of scale; reset it when the scale doubles).")


# ---------------------------------------------------------------- combine_micro_batches

@exercise("combine_micro_batches", success="your combination equals the full-batch gradient for equal and unequal "
                                           "micro-batches.")
def combine_micro_batches(fn):
    """``fn(grads, sizes)``: ``grads`` a list of mean gradients of micro-batches, ``sizes`` their sample counts."""
    rng = np.random.default_rng(11)
    for sizes in ([8, 8, 8, 8], [6, 7, 6, 7], [30, 2], [5]):
        per_sample = rng.standard_normal((sum(sizes), 4))
        bounds = np.cumsum([0, *sizes])
        grads = [per_sample[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        want = per_sample.mean(axis=0)
        describe = f"micro-batches of sizes {sizes}"
        got = returned_array(call(fn, [g.copy() for g in grads], list(sizes), describe=describe), describe,
                             "the batch gradient")
        if len(set(sizes)) > 1 and np.allclose(got, np.mean(grads, axis=0)):
            raise Mismatch(f"on {describe} you averaged the micro-batch gradients with equal weights: a batch of "
                           f"{max(sizes)} samples then counts as much as one of {min(sizes)}. Weight each by its "
                           "size: Σ nᵢ gᵢ / Σ nᵢ.")
        if np.allclose(got, np.sum(grads, axis=0)) and len(sizes) > 1:
            raise Mismatch(f"on {describe} you added the gradients: {len(sizes)} micro-batches give a step "
                           f"{len(sizes)} times too large. Divide by the total number of samples after weighting.")
        expect_close(got, want, describe, hint="The mean over all samples is Σ nᵢ gᵢ / Σ nᵢ.")


# ---------------------------------------------------------------- noise_scale

@exercise("noise_scale", success="your estimate solves E‖G_B‖² = ‖G‖² + tr(Σ)/B at both batch sizes.")
def noise_scale(fn):
    """``fn(g_small_sq, g_big_sq, b_small, b_big) -> B_noise``; the truth is ``noise_scale_from_two_batches``."""
    for grad_sq, trace, b_small, b_big in ((2.0, 60.0, 8, 512), (0.5, 400.0, 16, 256), (1e-3, 2.0, 4, 1024)):
        g_small, g_big = grad_sq + trace / b_small, grad_sq + trace / b_big
        describe = f"‖G_B‖² = {g_small:g} at B = {b_small} and {g_big:g} at B = {b_big}"
        got = call(fn, g_small, g_big, b_small, b_big, describe=describe)
        expect(is_number(got), f"on {describe} you returned {got!r}; return one number")
        want = E.noise_scale_from_two_batches(g_small, g_big, b_small, b_big).b_noise
        if np.isclose(got, 1 / want, rtol=1e-6):
            raise Mismatch(f"on {describe} you returned ‖G‖²/tr(Σ) = {got:g}; B_noise is tr(Σ)/‖G‖².")
        expect_close(got, want, describe, hint="Two equations, two unknowns: ‖G‖² = (B_big‖G_big‖² − "
                                               "B_small‖G_small‖²)/(B_big − B_small), tr(Σ) = (‖G_small‖² − "
                                               "‖G_big‖²)/(1/B_small − 1/B_big).", rtol=1e-6)
