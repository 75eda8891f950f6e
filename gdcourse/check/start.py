"""Check of the tour exercise in notebook 00 (start here): one gradient-descent step."""

from __future__ import annotations

import numpy as np

from gdcourse.check.core import Mismatch, call, exercise, expect_close

__all__ = ["gd_update"]


def _cases():
    rng = np.random.default_rng(0)
    return [
        ("w = [1.0, -2.0], grad = [0.5, 4.0], lr = 0.1", np.array([1.0, -2.0]), np.array([0.5, 4.0]), 0.1),
        ("a random 3×2 weight matrix with lr = 0.01", rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), 0.01),
        ("lr = 0 (nothing should move)", rng.standard_normal(4), rng.standard_normal(4), 0.0),
    ]


@exercise("gd_update", success="correct: you took a step of size lr against the gradient on every case.")
def gd_update(fn):
    """The learner's ``gd_update(w, grad, lr)`` must return ``w − lr · grad`` without changing ``w``."""
    for describe, w, g, lr in _cases():
        got = call(fn, w, g, lr, describe=describe)
        if got is None:
            raise Mismatch(f"on {describe} your function returned None: return the new weights")
        got = np.asarray(got, dtype=float)
        if got.shape == w.shape and lr and np.allclose(got, w + lr * g):
            raise Mismatch(f"on {describe} you moved *up* the gradient (w + lr·grad): the minus sign is what "
                           "makes it descent")
        if got.shape == w.shape and lr and np.allclose(got, w - g):
            raise Mismatch(f"on {describe} your step ignores lr: multiply the gradient by the learning rate")
        expect_close(got, w - lr * g, describe, hint="The update is w − lr · grad.")
