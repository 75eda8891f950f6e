"""PRAC-01: overfit one small batch, then break the setup one way at a time and watch the loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import optim
from gdcourse.diagnose import SignFlippedCrossEntropy
from gdcourse.experiments.common import quiet
from gdcourse.experiments.playbook.base import mlp, small_batch
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["NaiveCrossEntropy", "SignFlippedCrossEntropy", "train_steps", "SmallBatchRun", "failure_runs",
           "expected_initial_loss"]


class NaiveCrossEntropy(L.Loss):
    """Softmax cross-entropy written straight from the formula: ``p = e^z / Σ e^z``, ``L = −mean log p_y``.

    Without subtracting ``max(z)`` first, ``e^z`` overflows to ``inf`` for ``z > 709`` (float64)
    and ``inf / inf`` is NaN; a probability that underflows to 0 gives ``log 0 = −inf``. The
    package's :class:`~gdcourse.losses.CrossEntropyLoss` uses ``log_softmax`` and has neither problem.
    """

    def forward(self, pred, target):
        e = np.exp(pred)
        p = e / e.sum(axis=1, keepdims=True)
        self._cache = (p, np.asarray(target))
        return float(-np.mean(np.log(p[np.arange(len(p)), target])))

    def backward(self):
        p, y = self._saved()
        grad = p.copy()
        grad[np.arange(len(p)), y] -= 1.0
        return grad / len(p)


def train_steps(model, loss, optimizer, X, y, steps: int, shuffle_labels_rng=None) -> np.ndarray:
    """Full-batch training on ``(X, y)``: the loss before each of ``steps`` updates.

    ``shuffle_labels_rng`` (a seed or Generator) injects a loader bug: at every step the labels
    are paired with the images through a fresh random permutation. Training stops at the
    first non-finite loss, which is kept as the last entry.
    """
    steps = check_positive_int(steps, "steps")
    relabel = None if shuffle_labels_rng is None else as_rng(shuffle_labels_rng)
    values = []
    with quiet():
        for _ in range(steps):
            targets = y if relabel is None else y[relabel.permutation(len(y))]
            optimizer.zero_grad()
            value = loss.forward(model.forward(X), targets)
            values.append(value)
            if not math.isfinite(value):
                break
            model.backward(loss.backward(), input_grad=False)
            optimizer.step()
    return np.array(values)


@dataclass(frozen=True)
class SmallBatchRun:
    """One attempt to overfit the small batch: what was done, and the loss at every step."""

    label: str
    setup: str
    losses: np.ndarray

    @property
    def diverged(self) -> bool:
        return not np.isfinite(self.losses[-1])


def _failure_setups():
    """Label → (setup text, loss, learning rate, input scale, labels re-paired every step)."""
    return {
        "healthy": ("SGD lr 0.1, momentum 0.9", L.CrossEntropyLoss(), 0.1, 1.0, False),
        "goes up: sign flip": ("backward returns −dL/dz", SignFlippedCrossEntropy(), 0.1, 1.0, False),
        "explodes: rate 10": ("SGD lr 10 instead of 0.1", L.CrossEntropyLoss(), 10.0, 1.0, False),
        "explodes: numerics": ("naive softmax (no max subtracted), pixels 0-255", NaiveCrossEntropy(), 0.1,
                               255.0, False),
        "oscillates: misaligned labels": ("loader re-pairs labels and images every step",
                                          L.CrossEntropyLoss(), 0.1, 1.0, True),
        "plateaus: rate 1e-5": ("SGD lr 1e-5 instead of 0.1", L.CrossEntropyLoss(), 1e-5, 1.0, False),
    }


@stored
def failure_runs(steps: int = 120, n: int = 32, seed: int = 0) -> dict[str, SmallBatchRun]:
    """Overfit ``n`` digits with a healthy setup and with each deliberately broken one.

    Every run starts from the same initialization, ``mlp(rng=seed)`` (64-64-10), uses SGD with
    momentum 0.9 and trains full-batch for ``steps`` steps; each broken run changes one thing.
    The healthy run reaches a loss near 0; the others show the failure named in their label
    (tests/test_nb09_claims.py asserts each).
    """
    X, y = small_batch(n)
    seed = check_positive_int(seed, "seed", allow_zero=True)
    runs = {}
    for label, (setup, loss, lr, scale, misaligned) in _failure_setups().items():
        model = mlp(rng=seed)
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        losses = train_steps(model, loss, optimizer, X * scale, y, steps,
                             shuffle_labels_rng=seed if misaligned else None)
        runs[label] = SmallBatchRun(label, setup, losses)
    return runs


def expected_initial_loss(num_classes: int) -> float:
    """``ln K``: the cross-entropy of uniform predictions over ``K`` classes."""
    return math.log(check_positive_int(num_classes, "num_classes"))
