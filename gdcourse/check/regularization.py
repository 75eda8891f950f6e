"""Checks of notebook 07 (regularization).

``dropout_forward_backward``: the learner's inverted dropout, forward and backward;
``l2_penalty_grad``: the L2 penalty and its gradient on weights only;
``should_stop``: early stopping with patience; ``sparsest_l1_strength``: the
strength found with the L1/L2 explorer. Each compares with
:mod:`gdcourse.experiments.regularization` / :mod:`gdcourse.regularization` and
names the likely mistake.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse import nn
from gdcourse import regularization as R
from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_number, returned_array
from gdcourse.experiments import regularization as E

__all__ = ["dropout_forward_backward", "l2_penalty_grad", "should_stop", "sparsest_l1_strength"]


# ---------------------------------------------------------------- dropout

def _forward(fn, x, p, seed, training, describe):
    got = call(fn, x, p, np.random.default_rng(seed), training, describe=describe)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Mismatch(f"on {describe} dropout_forward should return a pair (out, mask); "
                       f"got {type(got).__name__}")
    out = returned_array(got[0], describe, "the output array")
    if out.shape != x.shape:
        raise Mismatch(f"on {describe} the output has shape {out.shape}, expected {x.shape} (the shape of x)")
    return out, got[1]


def _training_scale(out, x, describe):
    """The one factor the kept units are multiplied by, and the share of units dropped."""
    kept = out != 0
    ratio = out[kept] / x[kept]
    if ratio.size == 0:
        raise Mismatch(f"on {describe} every output is 0: you dropped all units. Keep a unit when "
                       "rng.random(...) >= p.")
    scale = float(np.median(ratio))
    if not np.allclose(ratio, scale, rtol=1e-9):
        raise Mismatch(f"on {describe} the kept units are not all multiplied by the same factor: each "
                       "output must be either 0 or x / (1 - p).")
    return scale, 1.0 - kept.mean()


def _unscaled_message(describe, scales_at_eval):
    if scales_at_eval:
        return (f"on {describe} the kept units are not scaled during training, and in evaluation mode you "
                "multiply by 1 - p: that is the original (non-inverted) dropout, scaling at test time. "
                "Inverted dropout divides by 1 - p during training and leaves evaluation untouched, so the "
                "deployed network needs no change.")
    return (f"on {describe} the kept units pass through unscaled: you forgot to divide by 1 - p. Without it "
            "the expected output is (1 - p)·x during training but x at evaluation.")


def _check_training_forward(fn, scales_at_eval):
    """The training pass on ``x = 1``: share dropped ≈ p, kept units scaled by exactly 1/(1 − p)."""
    x = np.ones((400, 250))
    p = 0.3
    describe = "x = ones((400, 250)), p = 0.3, training=True"
    out, _ = _forward(fn, x, p, 1, True, describe)
    scale, dropped = _training_scale(out, x, describe)
    if abs(dropped - (1 - p)) < 0.01:
        raise Mismatch(f"on {describe} you dropped {dropped:.1%} of the units: p is the probability to "
                       "DROP a unit (PyTorch's convention), not to keep it. Keep a unit when "
                       "rng.random(...) >= p.")
    expect(abs(dropped - p) < 0.01,
           f"on {describe} you dropped {dropped:.1%} of the units, expected about {p:.0%}. Draw one "
           "uniform number per entry (rng.random(x.shape)) and drop the entry when it is below p.")
    if math.isclose(scale, 1.0):
        raise Mismatch(_unscaled_message(describe, scales_at_eval))
    if math.isclose(scale, 1 / p):
        raise Mismatch(f"on {describe} the kept units are multiplied by {scale:.4g} = 1/p: divide by the "
                       f"KEEP probability 1 - p = {1 - p:g}, not by p.")
    expect(math.isclose(scale, 1 / (1 - p), rel_tol=1e-9),
           f"on {describe} the kept units are multiplied by {scale:.6g}, expected 1/(1 - p) = "
           f"{1 / (1 - p):.6g}.")
    expect(not scales_at_eval,
           "your training pass divides by 1 - p, and your evaluation pass also multiplies by 1 - p: with "
           "inverted dropout evaluation is the identity; return x unchanged when training=False.")


def _check_same_seed_same_mask(fn):
    x = np.arange(1.0, 61.0).reshape(6, 10)
    describe = "two calls with rng = default_rng(5) each"
    first, _ = _forward(fn, x, 0.5, 5, True, describe)
    second, _ = _forward(fn, x, 0.5, 5, True, describe)
    expect(np.array_equal(first, second),
           f"on {describe} the two outputs differ: draw the mask from the rng argument "
           "(rng.random(x.shape)), not from np.random, so that a seed reproduces the same mask.")


def _check_backward(fn_forward, fn_backward):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((50, 40)) + 3.0   # no zeros in x, so out == 0 marks exactly the dropped units
    describe = "x of shape (50, 40), p = 0.4, then dropout_backward with a random dout"
    out, mask = _forward(fn_forward, x, 0.4, 3, True, describe)
    factor = out / x                          # 0 or 1/(1 − p), per unit
    dout = rng.standard_normal(x.shape)
    dx = returned_array(call(fn_backward, dout, mask, describe=describe), describe, "the gradient dx")
    expect(dx.shape == x.shape, f"on {describe} dx has shape {dx.shape}, expected {x.shape}")
    if np.allclose(dx, dout * factor, rtol=1e-9, atol=1e-12):
        return
    if np.allclose(dx, dout):
        raise Mismatch(f"on {describe} dx equals dout: the backward pass ignored the mask. Dropped units "
                       "pass no gradient: dx = dout * mask.")
    if not np.array_equal(dx == 0, out == 0):
        raise Mismatch(f"on {describe} dx is zero at different positions than the forward output: the "
                       "backward pass must reuse the mask of the forward pass (the one returned as `mask`), "
                       "not draw a new one.")
    if np.allclose(dx, dout * (out != 0)):
        raise Mismatch(f"on {describe} dx has the right zeros but misses the 1/(1 - p) factor: the forward "
                       "pass multiplied by it, so the backward pass must too (store the scaled mask).")
    raise Mismatch(f"on {describe} dx is not dout times the forward factor (0 or 1/(1 - p) per unit). "
                   "Return dout * mask with the mask from the forward pass.")


def _check_eval(fn_forward, fn_backward) -> bool:
    """Evaluation mode must be the identity, forward and backward. Returns True for the
    "multiply by 1 − p at test time" variant, which the training check then explains."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20, 30))
    p = 0.3
    describe = "x of shape (20, 30), p = 0.3, training=False"
    out, mask = _forward(fn_forward, x, p, 2, False, describe)
    if np.allclose(out, (1 - p) * x, rtol=1e-9, atol=1e-12):
        return True
    if np.any((out == 0) & (x != 0)):
        raise Mismatch(f"on {describe} some outputs are 0: dropout is still active at evaluation. With "
                       "training=False return x unchanged.")
    expect(np.allclose(out, x, rtol=1e-12, atol=0),
           f"on {describe} the output differs from x: in evaluation mode inverted dropout is the identity "
           "(no mask, no scaling).")
    dout = rng.standard_normal(x.shape)
    dx = returned_array(call(fn_backward, dout, mask, describe=describe + ", then backward"), describe, "dx")
    expect(dx.shape == x.shape and np.allclose(dx, dout),
           f"on {describe} dropout_backward(dout, mask) should return dout unchanged: in evaluation mode "
           "dropout is the identity, and so is its gradient (handle the mask you returned, e.g. None).")
    return False


def _check_p_zero(fn_forward):
    x = np.random.default_rng(8).standard_normal((10, 10))
    describe = "p = 0 in training mode"
    out, _ = _forward(fn_forward, x, 0.0, 0, True, describe)
    expect(np.allclose(out, x),
           f"on {describe} the output should equal x (nothing dropped, scale 1/(1 - 0) = 1).")


@exercise("dropout_forward_backward",
          success="inverted scaling exact, p = drop probability, the mask reused in backward, identity at "
                  "evaluation, reproducible with a seed.")
def dropout_forward_backward(forward_fn, backward_fn):
    """Check ``forward_fn(x, p, rng, training) -> (out, mask)`` and ``backward_fn(dout, mask) -> dx``.

    The package's reference is :func:`gdcourse.experiments.regularization.dropout_forward`
    (the contract of ``nn.Dropout``). Masks are random, so the check tests the
    properties every correct implementation has rather than one particular mask.
    """
    scales_at_eval = _check_eval(forward_fn, backward_fn)
    _check_training_forward(forward_fn, scales_at_eval)
    _check_p_zero(forward_fn)
    _check_same_seed_same_mask(forward_fn)
    _check_backward(forward_fn, backward_fn)


# ---------------------------------------------------------------- L2 penalty

def _l2_cases():
    rng = np.random.default_rng(21)
    mlp_params = {"W1": rng.standard_normal((4, 5)), "b1": rng.standard_normal(5),
                  "W2": rng.standard_normal((5, 3)), "b2": rng.standard_normal(3)}
    only_weights = {"W": rng.standard_normal((3, 3))}
    return [
        ("a two-layer network {W1 (4, 5), b1 (5,), W2 (5, 3), b2 (3,)}, lam = 0.3", mlp_params, 0.3),
        ("one weight matrix W (3, 3), lam = 2.0", only_weights, 2.0),
        ("the two-layer network with lam = 0", mlp_params, 0.0),
    ]


def _package_l2(params, lam):
    """The package's penalty and gradients (``gdcourse.regularization``, weights only)."""
    wrapped = {name: nn.Parameter(value, name) for name, value in params.items()}
    penalty = R.add_l2_grad(list(wrapped.values()), lam)
    return penalty, {name: p.grad.copy() for name, p in wrapped.items()}


def _check_l2_value(got, params, lam, describe):
    want, _ = _package_l2(params, lam)
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise Mismatch(f"on {describe} the penalty should be a number, got {type(got).__name__}") from None
    if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
        return
    everything = 0.5 * lam * sum(float(np.sum(v * v)) for v in params.values())
    squares = sum(float(np.sum(v * v)) for v in params.values() if np.ndim(v) >= 2)
    hints = [
        (2 * want, "your penalty is twice too big: it is (lam/2)·Σ w², with the ½."),
        (everything, "your penalty includes the biases: penalize the weight matrices only (the 2-D arrays)."),
        (lam * math.sqrt(squares), "you used the norm ‖W‖, not its square: the penalty is (lam/2)·Σ w²."),
        (0.5 * squares, "you forgot to multiply by lam."),
    ]
    for value, hint in hints:
        if math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12) and not math.isclose(value, want):
            raise Mismatch(f"on {describe}: {hint} (you returned {got:.6g}, expected {want:.6g})")
    raise Mismatch(f"on {describe} the penalty is {got:.6g}, expected (lam/2)·Σ w² over the weights = "
                   f"{want:.6g}")


_GRADIENT_HINTS = [
    (2.0, "your gradient is twice too big: the derivative of (lam/2)·w² is lam·w (the ½ cancels the 2)."),
    (0.5, "your gradient is half the right size: d/dw of (lam/2)·w² is lam·w, not (lam/2)·w."),
    (-1.0, "your gradient has the wrong sign: the penalty grows with |w|, its gradient is +lam·w."),
]


def _check_l2_grads(grads, params, lam, describe):
    _, want = _package_l2(params, lam)
    if not isinstance(grads, dict):
        raise Mismatch(f"on {describe} the gradients should be a dict with the same keys as params, got "
                       f"{type(grads).__name__}")
    missing = sorted(set(params) - set(grads))
    if missing:
        raise Mismatch(f"on {describe} the gradient dict has no entry for {missing}: return one for every "
                       "parameter (zeros for the biases).")
    for name, value in params.items():
        got = returned_array(grads[name], describe, f"the gradient of {name}")
        expect(got.shape == value.shape,
               f"on {describe} the gradient of {name} has shape {got.shape}, expected {value.shape}")
        if np.allclose(got, want[name], rtol=1e-9, atol=1e-12):
            continue
        if value.ndim < 2:
            raise Mismatch(f"on {describe} the gradient of the bias {name} is not zero: you penalized the "
                           "biases. The spec says weights only (biases shift the outputs, they do not scale "
                           "the inputs).")
        for factor, hint in _GRADIENT_HINTS:
            if np.allclose(got, factor * want[name], rtol=1e-9, atol=1e-12):
                raise Mismatch(f"on {describe} (gradient of {name}): {hint}")
        if lam and np.allclose(got, value):
            raise Mismatch(f"on {describe} the gradient of {name} equals {name} itself: multiply by lam.")
        raise Mismatch(f"on {describe} the gradient of {name} is wrong; it should be lam·{name}.")


@exercise("l2_penalty_grad",
          success="penalty (lam/2)·Σ w² and gradient lam·W on the weights, zero on the biases, as in the "
                  "package.")
def l2_penalty_grad(fn):
    """Check ``fn(params, lam) -> (penalty, grads)`` against :func:`gdcourse.regularization.add_l2_grad`."""
    for describe, params, lam in _l2_cases():
        got = call(fn, {k: v.copy() for k, v in params.items()}, lam, describe=describe)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Mismatch(f"on {describe} return a pair (penalty, grads); got {type(got).__name__}")
        _check_l2_value(got[0], params, lam, describe)
        _check_l2_grads(got[1], params, lam, describe)


# ---------------------------------------------------------------- early stopping

_STOP_CASES = [
    # describe, (val_losses, patience), hint when the learner disagrees with the package
    ("a loss that keeps improving [1.0, 0.9, 0.8], patience 2", ([1.0, 0.9, 0.8], 2),
     "the last epoch is the best one: nothing to stop for."),
    ("[1.0, 0.8, 0.9, 0.95], patience 2", ([1.0, 0.8, 0.9, 0.95], 2),
     "the best loss (0.8) is 2 epochs old, which reaches the patience of 2: stop."),
    ("[1.0, 0.8, 0.9], patience 2", ([1.0, 0.8, 0.9], 2),
     "off by one: the best loss is only 1 epoch old, patience is 2 (stop when the epochs since the best "
     "reach the patience, >=)."),
    ("a loss that bounces without beating its best [1.0, 0.8, 0.9, 0.85, 0.88], patience 3",
     ([1.0, 0.8, 0.9, 0.85, 0.88], 3),
     "3 epochs have passed without beating 0.8. Patience counts epochs without improving on the BEST "
     "loss, not consecutive increases: a dip to 0.85 that does not beat 0.8 does not reset it."),
    ("[1.0, 0.5, 0.9, 0.8, 0.7], patience 3", ([1.0, 0.5, 0.9, 0.8, 0.7], 3),
     "0.9 → 0.8 → 0.7 improves on the previous epoch but never on the best, 0.5: an epoch counts as an "
     "improvement only if it beats the best so far."),
    ("a tie [1.0, 0.8, 0.8, 0.8], patience 2", ([1.0, 0.8, 0.8, 0.8], 2),
     "a loss equal to the best is not an improvement (it must be strictly lower), so the best is 2 "
     "epochs old."),
    ("an empty list (no epoch yet), patience 3", ([], 3),
     "with no epochs there is nothing to stop: return False."),
    ("a single epoch [0.5], patience 1", ([0.5], 1), "the only epoch is the best one: do not stop."),
    ("[0.5, 0.6], patience 1", ([0.5, 0.6], 1), "with patience 1, one epoch without improvement is enough."),
    ("the best first [0.3, 0.4, 0.5, 0.6], patience 3", ([0.3, 0.4, 0.5, 0.6], 3),
     "the best loss is the first one, 3 epochs ago: stop."),
    ("a late improvement [1.0, 0.9, 0.95, 0.97, 0.85], patience 2", ([1.0, 0.9, 0.95, 0.97, 0.85], 2),
     "the last epoch beat the best, which resets the count to 0."),
]


def _consecutive_increases(losses, patience):
    count = 0
    for prev, cur in zip(losses[:-1], losses[1:], strict=True):
        count = count + 1 if cur > prev else 0
    return count >= patience


def _versus_previous_epoch(losses, patience):
    count = 0
    for prev, cur in zip(losses[:-1], losses[1:], strict=True):
        count = 0 if cur < prev else count + 1
    return count >= patience


def _epochs_since_best(losses, last_occurrence=False):
    losses = np.asarray(losses, dtype=float)
    best = len(losses) - 1 - int(np.argmin(losses[::-1])) if last_occurrence else int(np.argmin(losses))
    return len(losses) - 1 - best


_STOP_VARIANTS = [
    (_consecutive_increases,
     "you count consecutive increases (a common definition of patience). Patience counts epochs without "
     "improving on the BEST loss: a dip that does not beat the best does not reset it."),
    (_versus_previous_epoch,
     "you compare each epoch with the previous one. An epoch counts as an improvement only if it beats the "
     "best loss so far."),
    (lambda losses, patience: bool(losses) and _epochs_since_best(losses) > patience,
     "off by one: stop as soon as the epochs since the best reach the patience (>=, not >)."),
    (lambda losses, patience: bool(losses) and _epochs_since_best(losses, last_occurrence=True) >= patience,
     "you treat a loss equal to the best as an improvement; it must be strictly lower (np.argmin returns "
     "the first occurrence)."),
]


def _stop_answers(fn, learner=True):
    answers = []
    for describe, (losses, patience), _ in _STOP_CASES:
        got = call(fn, list(losses), patience, describe=describe) if learner else fn(list(losses), patience)
        if not isinstance(got, (bool, np.bool_)):
            raise Mismatch(f"on {describe} you returned {got!r}; return True or False.")
        answers.append(bool(got))
    return answers


@exercise("should_stop", success="your rule agrees with EarlyStopping on every case tried.")
def should_stop(fn):
    """Check ``fn(val_losses, patience) -> bool`` against
    :func:`gdcourse.experiments.regularization.should_stop`; a wrong answer is compared with the
    known wrong rules (consecutive increases, previous epoch, off by one, ties) to name the mistake."""
    got = _stop_answers(fn)
    want = [E.should_stop(losses, patience) for _, (losses, patience), _ in _STOP_CASES]
    if got == want:
        return None
    first = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    describe, _, case_hint = _STOP_CASES[first]
    known = (h for variant, h in _STOP_VARIANTS if _stop_answers(variant, learner=False) == got)
    hint = next(known, case_hint)
    raise Mismatch(f"on {describe} you returned {got[first]}, expected {want[first]}: {hint}")


# ---------------------------------------------------------------- the L1 explorer

def _check_strength(value):
    expect(is_number(value)
           and value > 0, f"enter the strength as a positive number, e.g. l1_strength = 0.001; got {value!r}")
    grid = E.PENALTY_STRENGTHS
    expect(grid[0] / 1.13 <= value <= grid[-1] * 1.13,
           f"λ = {value:g} is outside the explorer's range {grid[0]:g} … {grid[-1]:g}.")
    snapped = E.snap_strength(value)
    expect(abs(value / snapped - 1) < 0.03,
           f"λ = {value:g} is not one of the explorer's settings (the nearest is {snapped:.3g}): copy the "
           "value the slider shows.")
    return snapped


@exercise("sparsest_l1_strength")
def sparsest_l1_strength(value, fraction=0.4):
    """Is ``value`` the smallest explorer strength with ≥ ``fraction`` exact zeros in the first layer (L1)?

    The truth is computed with :func:`gdcourse.experiments.regularization.penalty_run`
    at the learner's strength and at the grid value just below it.
    """
    snapped = _check_strength(answer(value))
    grid = E.PENALTY_STRENGTHS
    run = E.penalty_run("l1", snapped)
    zeros, size = run.first_layer_zero_fraction, run.first_layer.size
    if zeros < fraction:
        raise Mismatch(f"at λ = {snapped:.3g} only {zeros:.0%} of the {size} first-layer weights are exactly "
                       f"0 (below {fraction:.0%}): increase the strength.")
    i = int(np.flatnonzero(grid == snapped)[0])
    if i == 0:
        return f"at λ = {snapped:.3g}, the smallest setting, {zeros:.0%} of the first-layer weights are 0."
    below = E.penalty_run("l1", grid[i - 1]).first_layer_zero_fraction
    if below >= fraction:
        raise Mismatch(f"λ = {snapped:.3g} gives {zeros:.0%} zeros, but a smaller setting, "
                       f"λ = {grid[i - 1]:.3g}, already gives {below:.0%}: lower the strength until the "
                       f"share drops below {fraction:.0%}.")
    return (f"at λ = {snapped:.3g}, {zeros:.0%} of the {size} first-layer weights are exactly 0; one step "
            f"lower (λ = {grid[i - 1]:.3g}) only {below:.0%}.")
