"""Checks of notebook 03 (optimizers).

``momentum_step``: the learner's ``momentum_step(w, g, b, lr, momentum) -> (w, b)``
in PyTorch's form; ``adam_update``: ``adam_update(w, g, m, v, t, lr, betas, eps)
-> (w, m, v)``; ``clip_by_norm``: ``clip_by_norm(g, max_norm)``; ``best_momentum``:
the momentum found with the rate-map explorer. Each compares with
:mod:`gdcourse.experiments.optimizers` and, when the answer is wrong, names the
plausible mistake it matches.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_number, same_array, show
from gdcourse.experiments import optimizers as E

__all__ = ["momentum_step", "adam_update", "clip_by_norm", "best_momentum"]

TOLERANCE = {"rtol": 1e-6, "atol": 1e-12}  # of same_array: Adam's state can be ~1e-8, so the floor is tiny
SHOWN = {"precision": 5}  # of show: Adam's updates differ in the fifth digit

BEST_MOMENTUM_KAPPA = 100.0
"""The condition number of the rate-map exercise."""


def _outputs(got, count, names, describe):
    """The learner's tuple of ``count`` arrays, or a Mismatch naming what is wrong with it."""
    what = f"the tuple ({', '.join(names)})"
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: return {what}.")
    if not isinstance(got, (tuple, list)) or len(got) != count:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise Mismatch(f"on {describe} you returned {type(got).__name__}{length}: return {what}.")
    try:
        return [np.asarray(x, dtype=np.float64) for x in got]
    except (TypeError, ValueError):
        raise Mismatch(f"on {describe} your {what} does not hold numbers or arrays.") from None


def _diagnose(got, variants, describe, want, names):
    """Raise a Mismatch: the hint of the first variant the answer matches, else a plain comparison."""
    for outputs, hint in variants:
        if all(same_array(g, np.asarray(o, dtype=np.float64), **TOLERANCE) for g, o in zip(got, outputs, strict=True)):
            raise Mismatch(f"on {describe}: {hint}")
    for g, w, name in zip(got, want, names, strict=True):
        if g.shape != w.shape:
            raise Mismatch(f"on {describe} your {name} has shape {g.shape}, expected {w.shape}.")
        if not same_array(g, w, **TOLERANCE):
            raise Mismatch(f"on {describe} your {name} is {show(g, **SHOWN)}, expected {show(w, **SHOWN)}.")


# ---------------------------------------------------------------- momentum_step

def _momentum_cases():
    rng = np.random.default_rng(303)
    return [
        ("a 4-vector with a non-zero buffer b (lr=0.1, momentum=0.9)",
         rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4), 0.1, 0.9),
        ("the first step, b = 0 (lr=0.05, momentum=0.8)", rng.standard_normal(3), rng.standard_normal(3),
         np.zeros(3), 0.05, 0.8),
        ("a (2, 3) array (lr=0.3, momentum=0.5)", rng.standard_normal((2, 3)), rng.standard_normal((2, 3)),
         rng.standard_normal((2, 3)), 0.3, 0.5),
        ("momentum=0 (plain gradient descent)", rng.standard_normal(2), rng.standard_normal(2),
         rng.standard_normal(2), 0.2, 0.0),
    ]


def _momentum_variants(w, g, b, lr, mu):
    b_new = mu * b + g
    return [
        ((w + lr * b_new, b_new),
         "your w moved uphill (w + lr·b). The buffer points uphill like the gradient: subtract it, "
         "w ← w − lr·b."),
        ((w - lr * (mu * b - g), mu * b - g),
         "your buffer subtracts the gradient (b ← μb − g) and your step subtracts lr·b, so the two minus "
         "signs cancel and w moves uphill. In PyTorch's form b ← μ·b + g; the minus sign belongs to "
         "w ← w − lr·b."),
        ((w - lr * (b + g), b + g), "your buffer never decays (b ← b + g sums every gradient forever): "
                                    "multiply the old buffer by the momentum, b ← μ·b + g."),
        ((w - lr * g, g.copy()), "you ignored the old buffer (b ← g): that is plain gradient descent. "
                                 "Add μ times the previous buffer: b ← μ·b + g."),
        ((w - lr * (mu * b + (1 - mu) * g), mu * b + (1 - mu) * g),
         "you wrote the moving-average form b ← μb + (1 − μ)g. It is the same method once the learning rate "
         "is divided by (1 − μ), but this exercise asks for PyTorch's form b ← μ·b + g."),
        ((w - (mu * b + lr * g), mu * b + lr * g),
         "you put the learning rate inside the buffer (b ← μb + lr·g; w ← w − b), the velocity form. It "
         "matches PyTorch's form only while lr is constant; here return b ← μ·b + g and w ← w − lr·b."),
        ((w - lr * (b + mu * g), b + mu * g), "you multiplied the gradient by μ instead of the old buffer: "
                                              "b ← μ·b + g."),
        ((w - lr * g, b_new), "your buffer is right but you stepped with the gradient: the step uses the new "
                              "buffer, w ← w − lr·b."),
        ((w - lr * b, b_new), "you stepped with the old buffer: compute b ← μ·b + g first, then w ← w − lr·b "
                              "with the new b."),
        ((b_new, w - lr * b_new), "you returned (b, w): return (w_new, b_new) in that order."),
    ]


@exercise("momentum_step")
def momentum_step(fn):
    """``momentum_step(w, g, b, lr, momentum) -> (w_new, b_new)`` with ``b ← μb + g; w ← w − lr·b``."""
    for describe, w, g, b, lr, mu in _momentum_cases():
        got = _outputs(call(fn, w, g, b, lr, mu, describe=describe), 2, ("w_new", "b_new"), describe)
        want = E.momentum_step(w, g, b, lr, mu)
        if not all(same_array(x, y, **TOLERANCE) for x, y in zip(got, want, strict=True)):
            _diagnose(got, _momentum_variants(w, g, b, lr, mu), describe, want, ("w_new", "b_new"))
    return "b ← μ·b + g, then w ← w − lr·b, on every case (including b = 0 and momentum = 0)."


# ---------------------------------------------------------------- adam_update

def _adam_cases():
    rng = np.random.default_rng(707)
    g1 = rng.standard_normal(5)
    return [
        ("the first step, t=1 (m = v = 0, lr=0.1)", rng.standard_normal(5), g1, np.zeros(5), np.zeros(5), 1,
         0.1, (0.9, 0.999), 1e-8),
        ("step t=3 with non-zero m and v (lr=0.01)", rng.standard_normal(4), rng.standard_normal(4),
         0.1 * rng.standard_normal(4), 0.01 * rng.random(4), 3, 0.01, (0.9, 0.999), 1e-8),
        ("a (2, 3) array at t=10 with betas=(0.8, 0.99)", rng.standard_normal((2, 3)),
         rng.standard_normal((2, 3)), 0.1 * rng.standard_normal((2, 3)), 0.1 * rng.random((2, 3)), 10, 0.05,
         (0.8, 0.99), 1e-8),
        ("tiny gradients (|g| ≈ 1e-6) at t=1", np.ones(3), 1e-6 * np.array([1.0, -2.0, 0.5]), np.zeros(3),
         np.zeros(3), 1, 0.1, (0.9, 0.999), 1e-8),
        ("a zero gradient at t=1 (w must not move)", np.array([1.0, -2.0]), np.zeros(2), np.zeros(2),
         np.zeros(2), 1, 0.1, (0.9, 0.999), 1e-8),
    ]


def _adam_variant(w, g, m, v, t, lr, betas, eps, correct=(True, True), t_used=None, square=True,
                  eps_inside=False, sign=1.0):
    """Adam with one mistake switched on; returns ``(w, m, v)``."""
    beta1, beta2 = betas
    t_used = t if t_used is None else t_used
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * (g * g if square else g)
    with np.errstate(all="ignore"):
        m_hat = m_new / (1 - beta1**t_used) if correct[0] else m_new
        v_hat = v_new / (1 - beta2**t_used) if correct[1] else v_new
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return w - sign * lr * m_hat / denom, m_new, v_new


def _step_ratio(got_w, want_w, w):
    """How many times longer the learner's step is than the right one (median over entries)."""
    want_step, got_step = want_w - w, got_w - w
    mask = np.abs(want_step) > 0
    return float(np.median(np.abs(got_step[mask]) / np.abs(want_step[mask]))) if mask.any() else math.nan


def _check_moments(got, case):
    describe, w, g, m, v, t, lr, (beta1, beta2), eps = case
    m_want, v_want = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
    m_got, v_got = got[1], got[2]
    if not same_array(m_got, m_want, **TOLERANCE):
        hints = [(beta1 * m + g, "your m ← β₁m + g is missing the (1 − β₁) factor on g."),
                 (m_want / (1 - beta1**t), "you returned the bias-corrected m̂; return the raw average "
                                           "m ← β₁m + (1 − β₁)g (the correction only enters the step)."),
                 ((1 - beta1) * m + beta1 * g, "your m swaps β₁ and 1 − β₁: m ← β₁m + (1 − β₁)g.")]
        _first_hint(m_got, hints, describe, "m", m_want)
    if not same_array(v_got, v_want, **TOLERANCE):
        hints = [(beta2 * v + (1 - beta2) * g,
                  "your v averages g instead of g²: v ← β₂v + (1 − β₂)g². With g alone v can turn negative "
                  "and √v is NaN."),
                 (beta2 * v + g * g, "your v ← β₂v + g² is missing the (1 − β₂) factor."),
                 (v_want / (1 - beta2**t), "you returned the bias-corrected v̂; return the raw average "
                                           "v ← β₂v + (1 − β₂)g² (the correction only enters the step)."),
                 ((1 - beta2) * v + beta2 * g * g, "your v swaps β₂ and 1 − β₂: v ← β₂v + (1 − β₂)g².")]
        _first_hint(v_got, hints, describe, "v", v_want)


def _first_hint(got, hints, describe, name, want):
    for value, hint in hints:
        if same_array(got, value, **TOLERANCE):
            raise Mismatch(f"on {describe}: {hint}")
    raise Mismatch(f"on {describe} your {name} is {show(got, **SHOWN)}, expected {show(want, **SHOWN)}.")


def _check_weights(got_w, want_w, case):
    describe, w, g, m, v, t, lr, betas, eps = case
    args = (w, g, m, v, t, lr, betas, eps)
    if not np.isfinite(got_w).all():
        if not np.isfinite(_adam_variant(*args, t_used=t - 1)[0]).all() and t == 1:
            raise Mismatch(f"on {describe} your w has NaN or inf: at t = 1 you divided by 1 − β⁰ = 0. Steps "
                           "are counted from t = 1 (the check passes t = 1 on the first step), so the bias "
                           "correction is 1 − β**t, and a training loop must start t at 1, not 0.")
        raise Mismatch(f"on {describe} your w has NaN or inf: {show(got_w, **SHOWN)}. Check for a division by zero "
                       "or the square root of a negative number.")
    ratio = _step_ratio(got_w, want_w, w)
    size = _ratio_words(ratio)
    b1, b2 = betas
    variants = [
        ((False, True), {}, f"your update at t={t} is {size}: did you bias-correct m? m̂ = m / (1 − β₁ᵗ). At "
                            "t = 1 the raw m is only (1 − β₁)·g = 0.1·g, so without the correction the first "
                            "step is about 10× too small."),
        ((True, False), {}, f"your update at t={t} is {size}: did you bias-correct v? v̂ = v / (1 − β₂ᵗ). At "
                            "t = 1 the raw √v is only √(1 − β₂)·|g| ≈ 0.032·|g|."),
        ((False, False), {},
         f"your update at t={t} is {size}: you skipped both bias corrections. At t = 1 the raw m is 10× too "
         "small but the raw √v is 31.6× too small, so the first step is "
         f"(1 − β₁)/√(1 − β₂) = {(1 - b1) / math.sqrt(1 - b2):.3g}× too large. Divide m by (1 − β₁ᵗ) and v "
         "by (1 − β₂ᵗ)."),
        ((True, True), {"t_used": t + 1},
         "your bias correction uses β**(t + 1): the check passes t = 1 at the first step (steps are counted "
         "from 1, as in the paper and PyTorch), so use 1 − β**t."),
        ((True, True), {"t_used": t - 1},
         "your bias correction uses β**(t − 1): steps are counted from 1, so use 1 − β**t."),
        ((True, True), {"eps_inside": True},
         "ε belongs outside the square root, √v̂ + ε (Kingma & Ba, 2015; PyTorch). Inside, √(v̂ + ε) caps "
         "the step when gradients are tiny."),
        ((True, True), {"sign": -1.0}, "your w moved uphill: the update is w − lr·m̂ / (√v̂ + ε)."),
        ((True, True), {"lr": 1.0}, "your step ignores the learning rate: w − lr·m̂ / (√v̂ + ε)."),
    ]
    for correct, extra, hint in variants:
        kwargs = dict(zip(("w", "g", "m", "v", "t", "lr", "betas", "eps"), args, strict=True)) | extra
        if same_array(got_w, _adam_variant(**kwargs, correct=correct)[0], **TOLERANCE):
            raise Mismatch(f"on {describe}: {hint}")
    raise Mismatch(f"on {describe} your w is {show(got_w, **SHOWN)}, expected {show(want_w, **SHOWN)} "
                   f"(your update is {size}).")


def _ratio_words(ratio):
    if not math.isfinite(ratio):
        return "not comparable"
    if ratio < 1:
        return f"{1 / ratio:.3g}× too small"
    return f"{ratio:.3g}× too large" if ratio > 1 else "the right length"


def _check_loop(fn):
    """Feed the learner's outputs back for 20 steps, t = 1 … 20, as a training loop would."""
    rng = np.random.default_rng(11)
    w_ref = w = rng.standard_normal(3)
    m_ref = v_ref = m = v = np.zeros(3)
    for t in range(1, 21):
        g = rng.standard_normal(3)
        describe = f"step t={t} of a 20-step run where your outputs are fed back"
        with np.errstate(all="ignore"):
            w, m, v = _outputs(call(fn, w, g, m, v, t, 0.05, (0.9, 0.999), 1e-8, describe=describe), 3,
                               ("w_new", "m_new", "v_new"), describe)
        w_ref, m_ref, v_ref = E.adam_update(w_ref, g, m_ref, v_ref, t, 0.05)
        same = all(same_array(a, b, **TOLERANCE) for a, b in ((w, w_ref), (m, m_ref), (v, v_ref)))
        expect(same, f"on {describe} your w is {show(w, **SHOWN)}, expected {show(w_ref, **SHOWN)}: the single "
               "steps were right, so look for state kept between calls (globals, default arguments) or inputs "
               "changed in place.")


@exercise("adam_update")
def adam_update(fn):
    """``adam_update(w, g, m, v, t, lr, betas, eps) -> (w_new, m_new, v_new)``, bias-corrected, t from 1."""
    runs = []
    for case in _adam_cases():
        describe, w, g, m, v, t, lr, betas, eps = case
        with np.errstate(all="ignore"):
            got = _outputs(call(fn, w, g, m, v, t, lr, betas, eps, describe=describe), 3,
                           ("w_new", "m_new", "v_new"), describe)
        want = E.adam_update(w, g, m, v, t, lr, betas, eps)
        for value, expected, name in zip(got, want, ("w_new", "m_new", "v_new"), strict=True):
            expect(value.shape == expected.shape,
                   f"on {describe} your {name} has shape {value.shape}, expected {expected.shape}.")
        runs.append((case, got, want))
    # Moments first, starting with the cases where m and v are non-zero: from zero at t = 1 some
    # slips give the same numbers (m̂ = β₁·0 + g), so the diagnosis would be ambiguous there.
    for case, got, _ in sorted(runs, key=lambda run: not np.any(run[0][3])):
        _check_moments(got, case)
    for case, got, want in runs:
        if not same_array(got[0], want[0], **TOLERANCE):
            _check_weights(got[0], want[0], case)
    _check_loop(fn)
    return ("moments, both bias corrections (t counted from 1) and ε outside the root are right; "
            "the first step has length ≈ lr whatever the gradient's scale.")


# ---------------------------------------------------------------- clip_by_norm

def _clip_cases():
    rng = np.random.default_rng(12)
    g2 = rng.standard_normal(6)
    return [
        ("g = [3, 4] (norm 5), max_norm=1", np.array([3.0, 4.0]), 1.0),
        ("a 6-vector of norm 10, max_norm=2", 10.0 * g2 / np.linalg.norm(g2), 2.0),
        ("a gradient already shorter than max_norm (norm 0.5, max_norm=1)", np.array([0.3, -0.4]), 1.0),
        ("a (3, 4) matrix, max_norm=1 (the norm is over all entries)", 3.0 * rng.standard_normal((3, 4)),
         1.0),
        ("the zero gradient, max_norm=1", np.zeros(3), 1.0),
        ("one huge entry among small ones, max_norm=1", np.array([100.0, 0.5, -0.2]), 1.0),
    ]


def _clip_variants(g, max_norm):
    norm = float(np.sqrt(np.sum(g * g)))
    with np.errstate(all="ignore"):
        variants = [
            (np.clip(g, -max_norm, max_norm),
             "you clipped each entry to [−max_norm, max_norm] (clipping by value): that changes the "
             "gradient's direction. Scale the whole vector instead: g · max_norm / ‖g‖."),
            (g * max_norm / norm, "you rescaled a gradient that was already short enough: clip only when "
                                  "‖g‖ > max_norm, otherwise return g unchanged."),
            (g * norm / max_norm,
             "your scale is upside down: multiply by max_norm / ‖g‖, not ‖g‖ / max_norm."),
            (g * max_norm / norm**2, "you divided by ‖g‖² (the squared norm): the factor is max_norm / ‖g‖ "
                                     "with ‖g‖ = √(Σ g²)."),
            (g * min(1.0, max_norm / np.abs(g).sum()), "you used the L1 norm (sum of |g|): gradient clipping "
                                                       "uses the L2 norm √(Σ g²)."),
        ]
        if g.ndim == 2:
            rows = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
            variants.append((g * np.minimum(1.0, max_norm / rows), "you clipped each row separately: clip by "
                                                                   "the norm of all entries together (the "
                                                                   "global norm)."))
    return variants


@exercise("clip_by_norm")
def clip_by_norm(fn):
    """``clip_by_norm(g, max_norm)``: ``g · min(1, max_norm / ‖g‖)``, the direction kept."""
    for describe, g, max_norm in _clip_cases():
        with np.errstate(all="ignore"):
            got = call(fn, g, max_norm, describe=describe)
        expect(got is not None, f"on {describe} your function returned None: return the clipped array.")
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(f"on {describe} you returned {type(got).__name__}, not an array.") from None
        want = E.clip_by_norm(g, max_norm)
        if same_array(got, want, **TOLERANCE) or same_array(got, want, rtol=1e-5, atol=1e-9):
            continue
        if not np.isfinite(got).all() and not g.any():
            raise Mismatch(f"on {describe} you returned {show(got, **SHOWN)}: you divided by ‖g‖ = 0. Clip only "
                           "when ‖g‖ > max_norm, so the zero gradient comes back unchanged.")
        _diagnose([got], [([v], hint) for v, hint in _clip_variants(g, max_norm)], describe, [want],
                  ["clipped gradient"])
    return "the whole gradient is scaled to length max_norm when longer, else unchanged (direction kept)."


# ---------------------------------------------------------------- the rate-map exercise

@exercise("best_momentum")
def best_momentum(value, kappa=BEST_MOMENTUM_KAPPA, slack=0.15):
    """Is ``value`` a momentum whose best rate on ``Quadratic(kappa)`` is within ``slack`` of the optimum?

    The truth is the package's :func:`~gdcourse.experiments.optimizers.best_rate_for_momentum`
    (exact spectral radii) against ``optimal_momentum``: the answer passes when the
    number of steps it needs (at its own best learning rate) is at most
    ``(1 + slack)`` times the optimum's.
    """
    value = answer(value)
    expect(is_number(value),
           f"enter your momentum as a number, e.g. best_momentum = 0.5; got {value!r}")
    if 1 <= value <= 4:
        raise Mismatch(f"momentum must be in [0, 1); you entered {value:g}. Is that the learning rate × L? "
                       "Enter the momentum β (the vertical axis of the map).")
    expect(0 <= value < 1, f"momentum must be in [0, 1); you entered {value:g}.")
    eigenvalues = np.array([1.0, float(kappa)])
    alpha_star, beta_star, rate_star = E.optimal_momentum(kappa, 1.0)
    best_alpha, rate = E.best_rate_for_momentum(value, eigenvalues)
    steps, steps_star = E.steps_to_reduce(rate), E.steps_to_reduce(rate_star)
    summary = (f"β = {value:g} at its best learning rate (lr·L = {best_alpha * kappa:.2f}) has rate "
               f"ρ = {rate:.4f}: {steps:.0f} steps to shrink the error 10⁶×, against {steps_star:.0f} at the "
               "optimum")
    if steps <= (1 + slack) * steps_star:
        return (f"{summary} β* = ((√κ − 1)/(√κ + 1))² = {beta_star:.4f}, lr·L = {alpha_star * kappa:.2f} "
                f"(κ = {kappa:g}).")
    if value > beta_star:
        raise Mismatch(f"{summary}. Too much momentum: above the optimum every direction spirals with "
                       f"radius √β = {math.sqrt(value):.3f} whatever the learning rate. Lower β.")
    raise Mismatch(f"{summary}. Too little momentum: no learning rate damps both the flat direction (λ = 1) "
                   f"and the steep one (λ = {kappa:g}) well. Raise β.")
