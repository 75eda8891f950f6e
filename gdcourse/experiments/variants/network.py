"""A small network on digits: loss curves for rates that are too low, right and too high, and warmup."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, optim, schedules
from gdcourse.experiments import common
from gdcourse.memo import stored
from gdcourse.train import TrainingDiverged, fit
from gdcourse.validate import (
    as_rng,
    check_positive,
    check_positive_int,
)

__all__ = ["digits_subset", "LRCurves", "lr_loss_curves", "warmup_runs"]


def digits_subset(n_train: int = 600):
    """The first ``n_train`` images of the course's standardized digits training split (:func:`common.digits`).

    Returns ``X (n_train, 64)``, ``y (n_train,)``, read-only.
    """
    n_train = check_positive_int(n_train, "n_train")
    ds = common.digits(standardized=True)
    return ds.X_train[:n_train], ds.y_train[:n_train]


def _relu_mlp(depth, width, X, y, seed):
    """``common.mlp`` with ``depth`` Linear layers: ``64 → width → … → classes``, ReLU, He-normal."""
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    return common.mlp([X.shape[1]] + [width] * (depth - 1) + [int(y.max()) + 1], rng=seed)


@dataclass(frozen=True)
class LRCurves:
    """Per-step training losses of the same network trained with several rates.

    Attributes
    ----------
    lrs : tuple of float
    losses : ndarray (len(lrs), steps)
        Mini-batch losses; NaN after a run diverged.
    diverged : tuple of bool
    steps_per_epoch : int
    """

    lrs: tuple
    losses: np.ndarray
    diverged: tuple
    steps_per_epoch: int


def _train_losses(model, optimizer, X, y, epochs, batch_size, schedule, rng):
    """``fit`` without a progress bar; returns (step losses, diverged)."""
    try:
        with common.quiet():  # one BLAS thread (64-wide products); a rate too high overflows on purpose
            history = fit(model, losses.CrossEntropyLoss(), optimizer, (X, y), epochs=epochs,
                          batch_size=batch_size, schedule=schedule, progress=False, rng=rng)
        return history["step_loss"], False
    except TrainingDiverged as err:
        return np.asarray(err.history.step_loss), True


def lr_loss_curves(lrs, epochs: int = 8, batch_size: int = 32, depth: int = 3, width: int = 32,
                   data=None, rng=0) -> LRCurves:
    """Train the same MLP (same init, same batch order) on digits with plain SGD at each rate in ``lrs``.

    ``data`` is ``(X, y)`` (default :func:`digits_subset`). A rate whose loss
    becomes non-finite is marked diverged and its curve ends in NaN.
    """
    lrs = tuple(check_positive(lr, f"lrs[{i}]") for i, lr in enumerate(lrs))
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    X, y = digits_subset() if data is None else data
    steps = epochs * -(-len(X) // batch_size)
    seed = int(as_rng(rng).integers(2**31 - 1))
    curves = np.full((len(lrs), steps), np.nan)
    diverged = []
    for i, lr in enumerate(lrs):
        model = _relu_mlp(depth, width, X, y, seed)
        curve, bad = _train_losses(model, optim.SGD(model.parameters(), lr=lr), X, y, epochs, batch_size,
                                   None, seed)
        curves[i, :len(curve)] = np.where(np.isfinite(curve), curve, np.nan)
        diverged.append(bad)
    return LRCurves(lrs, curves, tuple(diverged), -(-len(X) // batch_size))


@stored
def warmup_runs(lr: float, warmup_steps: int, seeds=range(6), depth: int = 8, width: int = 64,
                epochs: int = 6, batch_size: int = 64, data=None) -> np.ndarray:
    """Adam (default betas) on a deep ReLU MLP, with a linear warmup of ``warmup_steps`` (0 = none).

    Returns the mini-batch losses, shape (seeds, steps). The same seed gives the
    same initialization and batch order with and without warmup.
    """
    lr = check_positive(lr, "lr")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", allow_zero=True)
    X, y = digits_subset() if data is None else data
    rows = []
    for seed in seeds:
        model = _relu_mlp(depth, width, X, y, seed)
        schedule = schedules.LinearWarmup(schedules.Constant(lr), warmup_steps) if warmup_steps else None
        curve, bad = _train_losses(model, optim.Adam(model.parameters(), lr=lr), X, y, epochs, batch_size,
                                   schedule, seed)
        if bad:
            raise ValueError(f"lr: Adam at lr={lr} diverged (seed {seed}); use a smaller rate")
        rows.append(curve)
    return np.asarray(rows)
