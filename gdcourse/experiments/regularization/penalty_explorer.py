"""The L1/L2 strength explorer of REG-03: a small network on moons trained with an L1 (proximal) or L2
penalty, one cached run per point of a log grid of strengths."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import optim
from gdcourse import regularization as R
from gdcourse.data import make_moons
from gdcourse.experiments.common import cached
from gdcourse.experiments.regularization.overfit import class1_probability
from gdcourse.experiments.regularization.shared import mlp, read_only, weight_matrices
from gdcourse.experiments.regularization.sparsity import soft_threshold, zero_fraction
from gdcourse.train import accuracy, predict
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["PENALTY_STRENGTHS", "snap_strength", "PenaltyRun", "penalty_run", "sparsity_threshold"]

PENALTY_STRENGTHS = read_only(10.0 ** (np.arange(-40, -9) / 10.0))
"""The strengths the explorer offers: 10^-4, 10^-3.9, …, 10^-1 (31 values)."""


def snap_strength(strength) -> float:
    """The grid value of :data:`PENALTY_STRENGTHS` nearest to ``strength`` in log scale.

    Raises if ``strength`` is more than half a grid step outside the grid.
    """
    strength = check_positive(strength, "strength")
    exponents = np.log10(PENALTY_STRENGTHS)
    e = math.log10(strength)
    if e < exponents[0] - 0.05 or e > exponents[-1] + 0.05:
        raise ValueError(f"strength: expected a value between 1e-4 and 1e-1 (the explorer's range), "
                         f"got {strength:g}")
    return float(PENALTY_STRENGTHS[int(np.argmin(np.abs(exponents - e)))])


@dataclass(frozen=True)
class PenaltyRun:
    """A 2-32-32-2 network trained on moons with an L1 or L2 penalty on its weight matrices.

    ``weights``: the three weight matrices; ``first_layer (2, 32)`` the first one
    (each column is one hidden unit's input weights); ``zero_fractions (3,)``
    exact-zero share per matrix; ``train_accuracy``, ``val_accuracy``;
    ``data_loss`` the final training cross-entropy; ``boundary (60, 60)`` the
    class-1 probability on :func:`~gdcourse.experiments.regularization.overfit.boundary_grid`;
    ``X, y`` the training points.
    """

    penalty: str
    strength: float
    weights: tuple
    zero_fractions: np.ndarray
    train_accuracy: float
    val_accuracy: float
    data_loss: float
    boundary: np.ndarray
    X: np.ndarray
    y: np.ndarray

    @property
    def first_layer(self) -> np.ndarray:
        return self.weights[0]

    @property
    def first_layer_zero_fraction(self) -> float:
        return float(self.zero_fractions[0])


@functools.lru_cache(maxsize=1)
def _penalty_data():
    X, y = make_moons(200, noise=0.2, rng=0)
    X_val, y_val = make_moons(300, noise=0.2, rng=5)
    return read_only(X, y, X_val, y_val)


def penalty_run(penalty="l1", strength=1e-3, steps=1000, lr=0.5, rng=0) -> PenaltyRun:
    """Train on moons with full-batch gradient descent and an L1 or L2 penalty (the explorer's ``compute``).

    L2: the gradient ``λW`` is added (with plain GD that is exactly weight decay).
    L1: a proximal step, ``W ← soft_threshold(W − η∇L, ηλ)`` after every update
    (ISTA), which produces exact zeros. ``strength`` is snapped to
    :data:`PENALTY_STRENGTHS`; results are cached per setting (read-only) for int seeds.
    """
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty: expected 'l1' or 'l2', got {penalty!r}")
    strength = snap_strength(strength)
    steps, lr = check_positive_int(steps, "steps"), check_positive(lr, "lr")
    return _penalty_run(penalty, strength, steps, lr, rng)


@cached(maxsize=128)
def _penalty_run(penalty, strength, steps, lr, rng):
    X, y, X_val, y_val = _penalty_data()
    model = mlp((2, 32, 32, 2), rng=rng)
    weights = weight_matrices(model)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)
        if penalty == "l2":
            R.add_l2_grad(weights, strength)
        opt.step()
        if penalty == "l1":
            for p in weights:
                p.value = soft_threshold(p.value, lr * strength)
    values = tuple(p.value.copy() for p in weights)
    return PenaltyRun(penalty, strength, values, np.array([zero_fraction(w) for w in values]),
                      accuracy(predict(model, X), y), accuracy(predict(model, X_val), y_val),
                      float(loss.forward(predict(model, X), y)), class1_probability(model), X, y)


def sparsity_threshold(fraction=0.5, rng=0) -> float:
    """The smallest grid strength at which at least ``fraction`` of the first-layer weights are exactly zero.

    Bisection over :data:`PENALTY_STRENGTHS` with the L1 penalty; it relies on the
    zero fraction growing with the strength, which ``tests/test_nb07_claims.py``
    checks over the whole grid for seed 0.
    """
    fraction = float(fraction)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction}")

    def sparse_enough(i):
        return penalty_run("l1", PENALTY_STRENGTHS[i], rng=rng).first_layer_zero_fraction >= fraction

    low, high = 0, len(PENALTY_STRENGTHS) - 1
    if not sparse_enough(high):
        raise ValueError(f"fraction: even the largest strength leaves fewer than {fraction:.0%} exact zeros")
    while low < high:
        mid = (low + high) // 2
        if sparse_enough(mid):
            high = mid
        else:
            low = mid + 1
    return float(PENALTY_STRENGTHS[low])
