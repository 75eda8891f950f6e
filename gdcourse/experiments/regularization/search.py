"""REG-13: hyperparameter search. Grid vs random search with the same budget, over 20 seeds, on softmax
regression whose models all train at once as one batched computation."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse.experiments.regularization.augmentation import stratified_subset
from gdcourse.experiments.regularization.shared import digits, one_blas_thread, read_only
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_labels, check_positive_int

__all__ = ["SEARCH_RANGES", "GOOD_SCORE", "softmax_regression_scores", "grid_points", "random_points",
           "search_data", "SearchStudy", "search_study"]

SEARCH_RANGES = {"lr": (-2.0, 1.5), "weight_decay": (-6.0, -3.0)}
"""log10 ranges searched in REG-13: the learning rate matters a lot, the (tiny) weight decay hardly."""


def softmax_regression_scores(lrs, weight_decays, X, y, X_val, y_val, steps=60):
    """Validation cross-entropy of softmax regression trained by full-batch GD, one model per pair.

    All ``K = len(lrs)`` models train at once (a batch of ``(K, d, C)`` weights):
    ``W ← W − η_k (Xᵀ(P − Y)/N + λ_k W)``, ``b ← b − η_k mean(P − Y)``, from zeros.
    A diverged model scores ``inf``. Returns ``(K,)``.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_labels(y, "y", 10)
    lrs = np.asarray(lrs, dtype=float)[:, None, None]
    wds = np.asarray(weight_decays, dtype=float)[:, None, None]
    if lrs.shape != wds.shape:
        raise ValueError(f"weight_decays: expected {len(lrs)} values like lrs, got {len(wds)}")
    K, (N, d) = len(lrs), X.shape
    Y = np.eye(10)[y][:, None, :]                                       # (N, 1, 10)
    W, b = np.zeros((d, K, 10)), np.zeros((K, 10))                      # model k is W[:, k, :]
    lrs, wds = lrs[:, 0], wds[:, 0]                                     # (K, 1): broadcast over classes
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(check_positive_int(steps, "steps")):
            # one (N, d) x (d, K·10) product serves all K models
            G = (F.softmax((X @ W.reshape(d, -1)).reshape(N, K, 10) + b, axis=2) - Y) / N
            W -= lrs * ((X.T @ G.reshape(N, -1)).reshape(d, K, 10) + wds * W)
            b -= lrs * G.sum(axis=0)
        logits = (X_val @ W.reshape(d, -1)).reshape(len(X_val), K, 10) + b
        log_p = F.log_softmax(logits, axis=2)
        scores = -log_p[np.arange(len(y_val)), :, y_val].mean(axis=0)
    return np.where(np.isfinite(scores), scores, np.inf)


def grid_points(budget=9, ranges=None, offset=0.5, endpoints=False):
    """A ``k × k`` grid (``k = √budget``) over the log10 ranges: ``(budget, 2)`` log10 values.

    By default cell-centred: each range is cut into ``k`` equal cells and the grid takes the point
    ``offset`` of the way through each cell (0.5: the centres), so no value sits on a range's edge.
    ``offset`` may be a pair (lr, weight decay). ``endpoints=True`` gives ``np.linspace`` over the
    closed range instead (both edges included), a placement that wastes two of three values on edges.
    """
    ranges = SEARCH_RANGES if ranges is None else ranges
    k = math.isqrt(check_positive_int(budget, "budget"))
    if k * k != budget:
        raise ValueError(f"budget: expected a perfect square for a square grid, got {budget}")
    offsets = np.broadcast_to(np.asarray(offset, dtype=float), (2,))
    if np.any((offsets < 0) | (offsets >= 1)):
        raise ValueError(f"offset: expected fractions of a cell in [0, 1), got {offset!r}")
    axes = []
    for name, frac in zip(("lr", "weight_decay"), offsets, strict=True):
        low, high = ranges[name]
        axes.append(np.linspace(low, high, k) if endpoints else low + (np.arange(k) + frac) * (high - low) / k)
    a, b = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([a.ravel(), b.ravel()])


def random_points(budget=9, ranges=None, rng=0):
    """``budget`` points drawn uniformly in log10 space: ``(budget, 2)``."""
    ranges = SEARCH_RANGES if ranges is None else ranges
    rng = as_rng(rng)
    lows = np.array([ranges["lr"][0], ranges["weight_decay"][0]])
    highs = np.array([ranges["lr"][1], ranges["weight_decay"][1]])
    return lows + (highs - lows) * rng.random((check_positive_int(budget, "budget"), 2))


GOOD_SCORE = 0.23
"""A search "finds the good band" when its best validation loss is below this (the best lr reaches 0.208)."""


@dataclass(frozen=True)
class SearchStudy:
    """Grid vs random search with the same budget, over seeds.

    ``grid (B, 2)`` and ``grid_scores (B,)``: the cell-centred grid; ``endpoint_grid``,
    ``endpoint_scores``: the ``linspace`` grid with both edges. Per seed ``s``: ``random[s] (B, 2)``,
    ``random_scores[s] (B,)``, and ``shifted[s] (B, 2)``, ``shifted_scores[s] (B,)``: a grid with the
    same spacing placed at a random offset (so grid and random search are both judged over random
    placements). ``curve_lr (P,)``, ``curve (P,)``: the score against log10 lr at the middle weight
    decay; ``wd_effect``: the largest change of the score across the weight-decay range at the best lr.
    """

    grid: np.ndarray
    grid_scores: np.ndarray
    random: tuple
    random_scores: tuple
    curve_lr: np.ndarray
    curve: np.ndarray
    wd_effect: float
    endpoint_grid: np.ndarray
    endpoint_scores: np.ndarray
    shifted: tuple
    shifted_scores: tuple

    @property
    def grid_best(self) -> float:
        return float(np.min(self.grid_scores))

    @property
    def endpoint_best(self) -> float:
        return float(np.min(self.endpoint_scores))

    @property
    def random_best(self) -> np.ndarray:
        return np.array([np.min(s) for s in self.random_scores])

    @property
    def shifted_best(self) -> np.ndarray:
        return np.array([np.min(s) for s in self.shifted_scores])

    def hit_rate(self, which: str) -> float:
        """Share of seeds whose best trial is below :data:`GOOD_SCORE`: ``"random"`` or ``"shifted"``."""
        best = {"random": self.random_best, "shifted": self.shifted_best}[which]
        return float(np.mean(best < GOOD_SCORE))


@functools.lru_cache(maxsize=1)
def search_data():
    """``(X, y, X_val, y_val)``: 300 training digits (30 per class, seed 0) and the validation digits."""
    ds = digits()
    X, y = stratified_subset(ds.X_train, ds.y_train, 30, rng=0)
    return read_only(X, y, ds.X_val, ds.y_val)


def search_study(budget=9, seeds=tuple(range(20)), steps=60) -> SearchStudy:
    """Score the cell-centred and the endpoint ``√B × √B`` grids, and per seed ``B`` random trials and a
    randomly shifted grid (softmax regression, 300 digits; all models of the study train at once). Cached."""
    return _search_study(check_positive_int(budget, "budget"), tuple(int(s) for s in seeds),
                         check_positive_int(steps, "steps"))


@functools.lru_cache(maxsize=2)
@stored
@one_blas_thread
def _search_study(budget, seeds, steps):
    data = search_data()
    grid, endpoint = grid_points(budget), grid_points(budget, endpoints=True)
    randoms = tuple(random_points(budget, rng=s) for s in seeds)
    # the shifted grid's offset comes from its own stream, so the random trials above stay as they were
    shifted = tuple(grid_points(budget, offset=np.random.default_rng([s, 1]).random(2)) for s in seeds)
    curve_lr = np.linspace(*SEARCH_RANGES["lr"], 36)
    mid_wd = np.mean(SEARCH_RANGES["weight_decay"])
    curve_points = np.column_stack([curve_lr, np.full_like(curve_lr, mid_wd)])
    blocks = [grid, endpoint, *randoms, *shifted, curve_points]
    scores = _score(np.concatenate(blocks), data, steps)
    parts = np.split(scores, np.cumsum([len(b) for b in blocks])[:-1])
    n = len(seeds)
    curve = parts[-1]
    best_lr = curve_lr[np.argmin(curve)]
    wds = np.linspace(*SEARCH_RANGES["weight_decay"], 7)
    across_wd = _score(np.column_stack([np.full_like(wds, best_lr), wds]), data, steps)
    return read_only(SearchStudy(grid, parts[0], randoms, tuple(parts[2:2 + n]), curve_lr, curve,
                                 float(across_wd.max() - across_wd.min()), endpoint, parts[1], shifted,
                                 tuple(parts[2 + n:2 + 2 * n])))


def _score(points, data, steps):
    return softmax_regression_scores(10.0 ** points[:, 0], 10.0 ** points[:, 1], *data, steps=steps)
