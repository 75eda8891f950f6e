"""Activation recomputation and gradient accumulation, measured on the NumPy stack (SCALE-03, SCALE-04)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn
from gdcourse.accumulation import accumulate_gradients, split_batch
from gdcourse.experiments.common import cached, mlp
from gdcourse.validate import check_positive_int

__all__ = ["CheckpointRow", "checkpoint_table", "best_segments", "AccumulationGaps", "accumulation_gaps"]


@dataclass(frozen=True)
class CheckpointRow:
    segments: int
    peak_activations: float  # peak stored activation memory, in units of one layer's activation
    layer_forwards: int      # forward calls per training step (the model has `depth` layers)


def checkpoint_table(depth=16, segment_counts=(1, 2, 4, 8, 16), batch=32, width=64) -> list[CheckpointRow]:
    """Peak stored activations and forward calls of ``nn.Checkpoint`` around ``depth`` Linear layers.

    Also returns, as ``segments = 0``, the plain model (no recomputation) for comparison.
    """
    x = np.random.default_rng(0).standard_normal((batch, width))
    unit = batch * width * 8

    def layers():
        return nn.Sequential(*[nn.Linear(width, width, rng=i) for i in range(depth)])

    plain = layers()
    plain(x)
    rows = [CheckpointRow(0, nn.cached_bytes(plain) / unit, depth)]
    for segments in segment_counts:
        wrapped = nn.Checkpoint(layers(), segments)
        wrapped.backward(np.ones_like(wrapped(x)))
        rows.append(CheckpointRow(segments, wrapped.peak_bytes / unit, wrapped.layer_forwards))
    return rows


def best_segments(depth: int) -> int:
    """The number of segments S that minimizes the peak ``S + depth/S`` (the smallest S on a tie)."""
    depth = check_positive_int(depth, "depth")
    candidates = np.arange(1, depth + 1)
    return int(candidates[np.argmin(candidates + depth / candidates)])


@dataclass(frozen=True)
class AccumulationGaps:
    """Relative gradient differences ``‖g − g_full‖ / ‖g_full‖`` per seed, for 4 ways of splitting a batch."""

    weighted: np.ndarray        # micro-batches of 6, 7, 6, 7 samples, each weighted n_i / n: exact
    equal_weights: np.ndarray   # the same micro-batches, each weighted 1/4
    summed: np.ndarray          # the micro-batch gradients added without any weight (a 'sum' slip)
    batch_norm: np.ndarray      # exact weighting, but the network has batch normalization


def _gradient(model, loss, x, y, parts=1):
    """The gradient vector after ``zero_grad`` and one (``parts = 1``) or accumulated forward/backward."""
    model.zero_grad()
    accumulate_gradients(model, loss, x, y, parts)
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


def _gap(g, full):
    return float(np.linalg.norm(g - full) / np.linalg.norm(full))


@cached
def accumulation_gaps(rng=0, seeds=20, batch=26, parts=4) -> AccumulationGaps:
    """Full-batch gradient vs accumulated ones, per seed: random inputs (64 features), 10 classes,
    a 64-32-10 ReLU network, with and without batch normalization."""
    loss = losses.CrossEntropyLoss()
    rows = {name: [] for name in ("weighted", "equal_weights", "summed", "batch_norm")}
    for seed in range(rng, rng + seeds):
        data = np.random.default_rng(seed)
        x, y = data.standard_normal((batch, 64)), data.integers(0, 10, batch)
        model = mlp((64, 32, 10), rng=seed)
        full = _gradient(model, loss, x, y)
        rows["weighted"].append(_gap(_gradient(model, loss, x, y, parts), full))
        micro = [_gradient(model, loss, xb, yb) for xb, yb in split_batch(x, y, parts)]
        rows["equal_weights"].append(_gap(sum(micro) / parts, full))
        rows["summed"].append(_gap(sum(micro), full))
        normed = mlp((64, 32, 10), norm="batch", rng=seed)
        rows["batch_norm"].append(_gap(_gradient(normed, loss, x, y, parts), _gradient(normed, loss, x, y)))
    return AccumulationGaps(**{name: np.array(values) for name, values in rows.items()})
