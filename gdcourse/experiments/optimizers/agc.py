"""Adaptive gradient clipping (AGC): clip each unit's gradient relative to the size of its weights.

Brock et al. 2021 ("High-performance large-scale image recognition without normalization", NFNets)
clip unit-wise: for each output unit i (a column of a ``Linear`` weight ``(in, out)``, the fan-in),

    g_i ← λ · max(‖w_i‖, ε) / ‖g_i‖ · g_i    if ‖g_i‖ / max(‖w_i‖, ε) > λ,

so no step can change a unit's weights by more than ``η λ`` of their norm, whatever the scale of the
layer, while global-norm clipping caps one number for the whole network (a large layer's norm decides
for a small one). ε keeps units that start at zero (biases) from being frozen. Typical λ: 0.01-0.16.
"""

from __future__ import annotations

import numpy as np

from gdcourse import losses
from gdcourse.experiments.common import digits, mlp
from gdcourse.memo import stored
from gdcourse.regularization import clip_grad_norm
from gdcourse.validate import check_positive

__all__ = ["unit_norms", "adaptive_clip", "unit_ratios", "spike_demo"]


def unit_norms(a) -> np.ndarray:
    """Norm of each output unit: over axis 0 of a ``(in, out)`` weight → ``(out,)``; ``|a|`` for a 1-D bias."""
    a = np.asarray(a, dtype=np.float64)
    return np.abs(a) if a.ndim == 1 else np.sqrt(np.sum(a * a, axis=tuple(range(a.ndim - 1))))


def unit_ratios(w, g, eps: float = 1e-3) -> np.ndarray:
    """``‖g_i‖ / max(‖w_i‖, ε)`` per output unit."""
    return unit_norms(g) / np.maximum(unit_norms(w), check_positive(eps, "eps"))


def adaptive_clip(w, g, clipping: float = 0.01, eps: float = 1e-3) -> np.ndarray:
    """The clipped gradient (a new array of ``g``'s shape): each unit with ratio > ``clipping`` is rescaled
    to ratio exactly ``clipping``; the others are unchanged."""
    w, g = np.asarray(w, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if w.shape != g.shape:
        raise ValueError(f"g: expected the shape of w {w.shape}, got {g.shape}")
    clipping = check_positive(clipping, "clipping")
    ratio = unit_ratios(w, g, eps)
    scale = np.where(ratio > clipping, clipping / np.maximum(ratio, 1e-300), 1.0)
    return g * scale


@stored
def spike_demo(spike: float = 50.0, clipping: float = 1.0, max_norm: float = 5.0, rng=0) -> dict:
    """Illustration: the per-layer largest unit ratio ``‖g_i‖/‖w_i‖`` of a 64-64-10 ReLU MLP's gradient on
    32 digits, for a normal batch and for the same batch with its first 4 images multiplied by ``spike``,
    raw, after global-norm clipping to ``max_norm`` and after AGC with ``clipping``.

    Returns ``{batch: {method: [(max ratio, fraction of units changed) per weight matrix]}}``.
    """
    ds = digits(standardized=True)
    X, y = np.array(ds.X_train[:32], dtype=np.float64), ds.y_train[:32]
    result = {}
    for name, factor in (("normal batch", 1.0), ("spiked batch", spike)):
        model = mlp((64, 64, 10), rng=rng)
        Xb = X.copy()
        Xb[:4] *= factor
        loss = losses.CrossEntropyLoss()
        model.zero_grad()
        loss.forward(model.forward(Xb), y)
        model.backward(loss.backward())
        weights = [p for p in model.parameters() if p.value.ndim == 2]
        raw = [p.grad.copy() for p in weights]
        clip_grad_norm(model.parameters(), max_norm)
        clipped = [p.grad.copy() for p in weights]
        agc = [adaptive_clip(p.value, g, clipping) for p, g in zip(weights, raw, strict=True)]
        result[name] = {method: [(float(unit_ratios(p.value, g).max()),
                                  float(np.mean(~np.isclose(unit_norms(g), unit_norms(r)))))
                                 for p, g, r in zip(weights, grads, raw, strict=True)]
                        for method, grads in (("raw", raw), ("global norm", clipped), ("AGC", agc))}
    return result
