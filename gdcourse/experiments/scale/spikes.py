"""Why Adam's steps jump when the gradient scale jumps: the second moment lags (SCALE-06).

Adam divides the first moment ``m`` (horizon about ``1/(1−β₁)`` = 10 steps) by the root of the second
moment ``v`` (horizon ``1/(1−β₂)`` = 1,000 steps at β₂ = 0.999). After a long stretch of small gradients
``v`` is small; when the gradient scale jumps by a large factor, ``m`` follows within a few steps while
``v`` needs hundreds, so for a while the step is several times the usual ``lr`` per coordinate. Starting
from ``m ≈ v ≈ 0`` relative to the new scale ``G``, after ``k`` steps of gradient ``G``::

    m ≈ (1 − β₁ᵏ) G,   v ≈ (1 − β₂ᵏ) G²,   step / lr ≈ (1 − β₁ᵏ) / √(1 − β₂ᵏ)

which peaks at about 6.6 (twelve steps after the jump) for (0.9, 0.999), 2.1 for (0.9, 0.99) and 1.1 for
(0.9, 0.95).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import cached, digits
from gdcourse.experiments.scale.width import _backprop, _forward, initial_weights
from gdcourse.filters import exponential_average

__all__ = ["predicted_ratio", "adam_step_ratios", "jump_gradients", "JumpRun", "gradient_jump",
           "SPIKE_VARIANTS", "OnsetSpikes", "onset_spikes"]


def predicted_ratio(k, betas=(0.9, 0.999)) -> np.ndarray:
    """``(1 − β₁ᵏ)/√(1 − β₂ᵏ)``: step/lr ``k`` steps after a jump to a much larger constant gradient."""
    beta1, beta2 = betas
    k = np.asarray(k, dtype=np.float64)
    return (1 - beta1**k) / np.sqrt(1 - beta2**k)


def adam_step_ratios(grads, betas=(0.9, 0.999), eps=1e-12) -> np.ndarray:
    """|Δθ|/lr of Adam at every step for one coordinate's gradient sequence (1-D), without a loop.

    The moments are first-order recursions, i.e. linear filters (:func:`gdcourse.filters.exponential_average`):
    ``m`` of ``g`` with β₁ and ``v`` of ``g²`` with β₂; then ``|m̂| / (√v̂ + ε)`` with Adam's bias corrections.
    Equal to running :class:`gdcourse.optim.Adam` step by step (the tests compare them).
    """
    beta1, beta2 = betas
    g = np.asarray(grads, dtype=np.float64)
    t = np.arange(1, len(g) + 1)
    m = exponential_average(g, beta1)
    v = exponential_average(g * g, beta2)
    return np.abs(m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)


def jump_gradients(factor=100.0, before=2000, after=300, rng=0) -> np.ndarray:
    """Gradients of size 1 ± 10 % for ``before`` steps, then ``factor`` times larger for ``after`` steps."""
    noise = np.random.default_rng(rng).uniform(0.9, 1.1, before + after)
    return noise * np.where(np.arange(before + after) < before, 1.0, factor)


@dataclass(frozen=True)
class JumpRun:
    step_ratio: np.ndarray   # |Δθ| / lr at every step
    jump_at: int
    betas: tuple


def gradient_jump(beta2=0.999, factor=100.0, before=2000, after=300, beta1=0.9, rng=0) -> JumpRun:
    """Adam's step size relative to lr around a jump of the gradient scale by ``factor`` (one coordinate;
    Adam is elementwise, so every coordinate behaves like this one)."""
    grads = jump_gradients(factor, before, after, rng)
    return JumpRun(adam_step_ratios(grads, (beta1, beta2)), before, (beta1, beta2))


# ---------------------------------------------------------------- the same mechanism in a real network

SPIKE_VARIANTS = {
    "beta2=0.999": (0.999, "none"),
    "beta2=0.95": (0.95, "none"),
    "grad clip": (0.999, "grad clip"),
    "update clip": (0.999, "update clip"),
    "no onset": (0.999, "no onset"),
}
"""Name → (β₂, change): the cause, the three remedies on the same setting, and a control whose inputs stay off."""


@dataclass(frozen=True)
class OnsetSpikes:
    """Loss around the step at which 32 of the 64 inputs switch on, for every rate × variant × seed.

    ``height`` is the peak loss in the ``after`` steps past the onset over the loss at the onset; ``curves``
    the loss at every step from the onset on; ``norm_before`` / ``norm_after`` the median global gradient
    norm of the β₂ = 0.999 runs over the 100 steps before the onset and the 5 steps after it.
    """

    lrs: tuple
    variants: tuple
    onset: int
    height: np.ndarray       # (lrs, variants, seeds)
    before: np.ndarray       # (lrs, variants, seeds) loss at the onset: what the variant reached before it
    final: np.ndarray        # (lrs, variants, seeds) loss ``after`` steps past the onset
    peak_step: np.ndarray    # (lrs, variants, seeds) steps from the onset to the peak
    curves: np.ndarray       # (lrs, variants, after + 1, seeds)
    norm_before: np.ndarray  # (lrs, seeds)
    norm_after: np.ndarray   # (lrs, seeds)


def _adam_update(m, v, g, t, beta2, change, max_rms):
    """Adam's bias-corrected direction ``m̂/(√v̂ + ε)`` for stacked runs; ``beta2 (R,)``; with ``change`` ==
    "update clip" (Adafactor, Shazeer & Stern 2018) divided by ``max(1, RMS/max_rms)`` per tensor and run."""
    shape = (-1,) + (1,) * (g.ndim - 1)
    b2 = beta2.reshape(shape)
    m[...] = 0.9 * m + 0.1 * g
    v[...] = b2 * v + (1 - b2) * g * g
    u = (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)
    rms = np.sqrt((u.reshape(len(u), -1) ** 2).mean(axis=1))
    return u * np.where(change == "update clip", 1 / np.maximum(1.0, rms / max_rms), 1.0).reshape(shape)


@cached
def onset_spikes(rng=0, seeds=20, lrs=(2e-3, 3e-3, 5e-3), width=32, onset=1000, after=100, batch=32,
                 max_norm=1.0, max_rms=1.0, eval_size=300) -> OnsetSpikes:
    """Adam on a ``64 → 32 → 32 → 10`` ReLU MLP (digits, standardized, batch 32) whose inputs 32-63 (the
    bottom half of each image) are 0 for the first ``onset`` steps and real afterwards.

    Their first-layer weights start at 0, so switching them on changes nothing at first: whatever the loss
    does next is the optimizer's doing. Those weights have had exactly zero gradient, so their ``v`` is 0;
    their first steps are ``(1 − β₁)/√(1 − β₂)`` times ``lr`` (× the bias corrections at step ``onset``),
    then up to ``(1 − β₁ᵏ)/√(1 − β₂ᵏ)`` ≈ 6.6 at β₂ = 0.999, all in the gradient's direction. Variants
    (:data:`SPIKE_VARIANTS`) share each seed's initialization and batch order: global-norm gradient clipping
    at ``max_norm``, Adafactor's update clipping at RMS ``max_rms``, β₂ = 0.95, and inputs that never switch
    on. Loss: mean cross-entropy on a fixed subset of ``eval_size`` training images (all 64 inputs).
    """
    d = digits(standardized=True)
    X, y = d.X_train, d.y_train
    late = np.arange(32, 64)
    inits = [initial_weights(width, seed) for seed in range(rng, rng + seeds)]
    runs = [(lr, name, s) for lr in lrs for name in SPIKE_VARIANTS for s in range(seeds)]
    params = [np.stack([inits[s][k] for _, _, s in runs]) for k in range(6)]
    params[0][:, late, :] = 0.0
    orders = [np.random.default_rng(seed).integers(0, len(X), (onset + after, batch))
              for seed in range(rng, rng + seeds)]
    order = np.stack([orders[s] for _, _, s in runs])
    beta2 = np.array([SPIKE_VARIANTS[name][0] for _, name, _ in runs])
    change = np.array([SPIKE_VARIANTS[name][1] for _, name, _ in runs])
    lr = np.array([r[0] for r in runs])
    keep = np.ones((len(runs), 1, 64))
    ev = np.random.default_rng(rng + 10_000).choice(len(X), eval_size, replace=False)
    X_eval = np.broadcast_to(X[ev], (len(runs), eval_size, 64))  # "no onset" runs: their late weights stay 0
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    norms, curves = [], []
    for t in range(1, onset + after + 1):
        keep[:, 0, late] = 0.0 if t <= onset else (change != "no onset")[:, None]
        grads = _backprop(params, X[order[:, t - 1]] * keep, np.eye(10)[y[order[:, t - 1]]], 1.0)
        norm = np.sqrt(sum((g.reshape(len(runs), -1) ** 2).sum(axis=1) for g in grads))
        norms.append(norm)
        factor = np.where(change == "grad clip", np.minimum(1.0, max_norm / norm), 1.0)
        for p, g, (m, v) in zip(params, grads, moments, strict=True):
            g = g * factor.reshape((-1,) + (1,) * (g.ndim - 1))
            p -= lr.reshape((-1,) + (1,) * (p.ndim - 1)) * _adam_update(m, v, g, t, beta2, change, max_rms)
        if t >= onset:
            curves.append(_cross_entropy(_forward(params, X_eval, 1.0)[2], y[ev]))
    shape = (len(lrs), len(SPIKE_VARIANTS), seeds)
    curves = np.array(curves).T.reshape(shape + (after + 1,)).transpose(0, 1, 3, 2)
    norms = np.array(norms).T.reshape(shape + (onset + after,))[:, 0]
    return OnsetSpikes(tuple(lrs), tuple(SPIKE_VARIANTS), onset, curves[:, :, 1:].max(axis=2) / curves[:, :, 0],
                       curves[:, :, 0], curves[:, :, -1], curves[:, :, 1:].argmax(axis=2) + 1, curves,
                       np.median(norms[:, :, onset - 100:onset], axis=2),
                       np.median(norms[:, :, onset:onset + 5], axis=2))


def _cross_entropy(z, y) -> np.ndarray:
    """(R,) mean cross-entropy of stacked logits ``z (R, n, 10)`` against labels ``y (n,)``."""
    top = z.max(axis=-1, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))
    return -log_p[:, np.arange(len(y)), y].mean(axis=1)
