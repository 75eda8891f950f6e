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

from gdcourse.validate import check_positive

__all__ = ["unit_norms", "adaptive_clip", "unit_ratios"]


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
