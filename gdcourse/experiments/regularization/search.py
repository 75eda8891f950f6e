"""REG-13: hyperparameter search. Grid vs random search with the same budget, on softmax regression
whose models of one search all train at once."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse.experiments.regularization.augmentation import stratified_subset
from gdcourse.experiments.regularization.shared import digits, one_blas_thread, read_only
from gdcourse.validate import as_rng, check_array, check_labels, check_positive_int

__all__ = ["SEARCH_RANGES", "softmax_regression_scores", "grid_points", "random_points", "search_data",
           "SearchStudy", "search_study"]

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
    Y = np.eye(10)[y]
    W, b = np.zeros((len(lrs), X.shape[1], 10)), np.zeros((len(lrs), 1, 10))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(check_positive_int(steps, "steps")):
            G = (F.softmax(X @ W + b, axis=2) - Y) / len(X)
            W -= lrs * (np.matmul(X.T, G) + wds * W)
            b -= lrs * G.sum(axis=1, keepdims=True)
        log_p = F.log_softmax(X_val @ W + b, axis=2)
        scores = -log_p[:, np.arange(len(y_val)), y_val].mean(axis=1)
    return np.where(np.isfinite(scores), scores, np.inf)


def grid_points(budget=9, ranges=None):
    """A ``k × k`` grid (``k = √budget``) over the log10 ranges: ``(budget, 2)`` log10 values."""
    ranges = SEARCH_RANGES if ranges is None else ranges
    k = math.isqrt(check_positive_int(budget, "budget"))
    if k * k != budget:
        raise ValueError(f"budget: expected a perfect square for a square grid, got {budget}")
    axes = [np.linspace(*ranges[name], k) for name in ("lr", "weight_decay")]
    a, b = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([a.ravel(), b.ravel()])


def random_points(budget=9, ranges=None, rng=0):
    """``budget`` points drawn uniformly in log10 space: ``(budget, 2)``."""
    ranges = SEARCH_RANGES if ranges is None else ranges
    rng = as_rng(rng)
    lows = np.array([ranges["lr"][0], ranges["weight_decay"][0]])
    highs = np.array([ranges["lr"][1], ranges["weight_decay"][1]])
    return lows + (highs - lows) * rng.random((check_positive_int(budget, "budget"), 2))


@dataclass(frozen=True)
class SearchStudy:
    """Grid vs random search with the same budget.

    ``grid (B, 2)`` and ``grid_scores (B,)``; ``random[s] (B, 2)`` and
    ``random_scores[s] (B,)`` for each seed ``s``; ``curve_lr (P,)``, ``curve (P,)``:
    the score against log10 lr at the middle weight decay (how much lr matters), and
    ``wd_effect``: the largest change of the score across the weight-decay range at
    the best lr (how little it matters).
    """

    grid: np.ndarray
    grid_scores: np.ndarray
    random: tuple
    random_scores: tuple
    curve_lr: np.ndarray
    curve: np.ndarray
    wd_effect: float

    @property
    def grid_best(self) -> float:
        return float(np.min(self.grid_scores))

    @property
    def random_best(self) -> np.ndarray:
        return np.array([np.min(s) for s in self.random_scores])


@functools.lru_cache(maxsize=1)
def search_data():
    """``(X, y, X_val, y_val)``: 300 training digits (30 per class, seed 0) and the validation digits."""
    ds = digits()
    X, y = stratified_subset(ds.X_train, ds.y_train, 30, rng=0)
    return read_only(X, y, ds.X_val, ds.y_val)


def search_study(budget=9, seeds=(0, 1, 2, 3, 4), steps=60) -> SearchStudy:
    """Score a ``√B × √B`` grid and ``B`` random trials per seed (softmax regression, 300 digits). Cached."""
    return _search_study(check_positive_int(budget, "budget"), tuple(int(s) for s in seeds),
                         check_positive_int(steps, "steps"))


@functools.lru_cache(maxsize=2)
@one_blas_thread
def _search_study(budget, seeds, steps):
    data = search_data()

    def score(points):
        lrs, wds = 10.0 ** points[:, 0], 10.0 ** points[:, 1]
        return softmax_regression_scores(lrs, wds, *data, steps=steps)

    grid = grid_points(budget)
    randoms = tuple(random_points(budget, rng=s) for s in seeds)
    curve_lr = np.linspace(*SEARCH_RANGES["lr"], 36)
    mid_wd = np.mean(SEARCH_RANGES["weight_decay"])
    curve = score(np.column_stack([curve_lr, np.full_like(curve_lr, mid_wd)]))
    best_lr = curve_lr[np.argmin(curve)]
    wds = np.linspace(*SEARCH_RANGES["weight_decay"], 7)
    across_wd = score(np.column_stack([np.full_like(wds, best_lr), wds]))
    return read_only(SearchStudy(grid, score(grid), randoms, tuple(score(p) for p in randoms), curve_lr, curve,
                                 float(across_wd.max() - across_wd.min())))
