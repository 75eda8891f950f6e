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

__all__ = ["predicted_ratio", "adam_step_ratios", "jump_gradients", "JumpRun", "gradient_jump"]


def predicted_ratio(k, betas=(0.9, 0.999)) -> np.ndarray:
    """``(1 − β₁ᵏ)/√(1 − β₂ᵏ)``: step/lr ``k`` steps after a jump to a much larger constant gradient."""
    beta1, beta2 = betas
    k = np.asarray(k, dtype=np.float64)
    return (1 - beta1**k) / np.sqrt(1 - beta2**k)


def adam_step_ratios(grads, betas=(0.9, 0.999), eps=1e-12) -> np.ndarray:
    """|Δθ|/lr of Adam at every step for one coordinate's gradient sequence (1-D), without a loop.

    The moments are first-order recursions, i.e. linear filters: ``m = lfilter([1 − β₁], [1, −β₁], g)``
    and ``v`` the same on ``g²``; then ``|m̂| / (√v̂ + ε)`` with Adam's bias corrections. Equal to running
    :class:`gdcourse.optim.Adam` step by step (the tests compare them).
    """
    from scipy.signal import lfilter  # here, not at the top: `from gdcourse import check` must stay light

    beta1, beta2 = betas
    g = np.asarray(grads, dtype=np.float64)
    t = np.arange(1, len(g) + 1)
    m = lfilter([1 - beta1], [1, -beta1], g)
    v = lfilter([1 - beta2], [1, -beta2], g * g)
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
