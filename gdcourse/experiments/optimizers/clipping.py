"""Gradient clipping by norm and by value, on an array and inside an optimizer.

For a model's parameters the package's clipping is :func:`gdcourse.regularization.clip_grad_norm`
(one global norm, as ``torch.nn.utils.clip_grad_norm_``); :class:`Clipped` applies it before each step.
"""

from __future__ import annotations

import numpy as np

from gdcourse import regularization
from gdcourse.validate import check_positive

__all__ = ["clip_by_norm", "clip_by_value", "cosine", "Clipped"]


def clip_by_norm(g, max_norm) -> np.ndarray:
    """``g · min(1, max_norm / ‖g‖)``: the whole vector shrunk to length ``max_norm`` if longer (a copy)."""
    g = np.asarray(g, dtype=np.float64)
    max_norm = check_positive(max_norm, "max_norm")
    norm = float(np.sqrt(np.vdot(g, g)))
    return g * (max_norm / norm) if norm > max_norm else g.copy()


def clip_by_value(g, clip_value) -> np.ndarray:
    """Each entry clipped to ``[−clip_value, clip_value]`` (a new array)."""
    clip_value = check_positive(clip_value, "clip_value")
    return np.clip(np.asarray(g, dtype=np.float64), -clip_value, clip_value)


def cosine(a, b) -> float:
    """``a·b / (‖a‖ ‖b‖)`` of two arrays of the same shape (1 = same direction)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class Clipped:
    """An optimizer that clips the gradients before each step (as ``fit(clip_norm=...)`` does).

    ``Clipped(optimizer, max_norm=...)`` uses ``regularization.clip_grad_norm`` (the
    direction is kept); ``Clipped(optimizer, clip_value=...)`` clips each entry.
    ``norms`` records the gradient norm before clipping at each step.
    """

    def __init__(self, optimizer, max_norm=None, clip_value=None):
        if (max_norm is None) == (clip_value is None):
            raise ValueError("Clipped: expected exactly one of max_norm and clip_value, "
                             f"got max_norm={max_norm}, clip_value={clip_value}")
        self.optimizer = optimizer
        self.max_norm = None if max_norm is None else check_positive(max_norm, "max_norm")
        self.clip_value = None if clip_value is None else check_positive(clip_value, "clip_value")
        self.norms = []

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self):
        params = self.optimizer.params
        self.norms.append(regularization.global_grad_norm(params))
        if self.max_norm is not None:
            regularization.clip_grad_norm(params, self.max_norm)
        else:
            regularization.clip_grad_value(params, self.clip_value)
        self.optimizer.step()
