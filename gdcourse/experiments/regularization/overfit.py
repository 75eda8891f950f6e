"""REG-02, REG-06, REG-08: one overfitting problem, and each regularizer of the toolbox on it.

60 noisy moons and a 2-128-128-2 ReLU network that memorizes them: the problem on which the notebook
compares weight decay, dropout, input noise and early stopping, and which the dropout explorer trains.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse import losses as L
from gdcourse import optim
from gdcourse import regularization as R
from gdcourse.data import make_moons
from gdcourse.experiments.common import cached
from gdcourse.experiments.regularization.shared import mlp, read_only
from gdcourse.memo import stored
from gdcourse.train import evaluate, fit, predict
from gdcourse.validate import as_rng, check_positive, check_positive_int, check_unit_interval

__all__ = ["OVERFIT", "overfit_data", "boundary_grid", "class1_probability", "OverfitRun", "overfit_run",
           "snap_dropout", "TOOLBOX", "toolbox_runs", "DropoutView", "dropout_view"]

OVERFIT = {"n_train": 60, "n_val": 200, "noise": 0.3, "width": 128, "epochs": 150, "batch_size": 20,
           "lr": 0.005}
"""The overfitting problem of notebook 07: 60 noisy moons, a 2-128-128-2 ReLU network, AdamW (lr 0.005),
batches of 20, 150 epochs, validated on 200 fresh points."""


@functools.lru_cache(maxsize=1)
def overfit_data():
    """``X (60, 2), y (60,), X_val (200, 2), y_val (200,)``: moons with noise 0.3 (seeds 1 and 2)."""
    X, y = make_moons(OVERFIT["n_train"], noise=OVERFIT["noise"], rng=1)
    X_val, y_val = make_moons(OVERFIT["n_val"], noise=OVERFIT["noise"], rng=2)
    return read_only(X, y, X_val, y_val)


@functools.lru_cache(maxsize=1)
def boundary_grid(n=60):
    """``(xx, yy, points)``: an ``n × n`` grid over the moons plane and its points ``(n², 2)``."""
    xs, ys = np.linspace(-1.8, 2.8, n), np.linspace(-1.4, 1.9, n)
    xx, yy = np.meshgrid(xs, ys)
    return read_only(xx, yy, np.column_stack([xx.ravel(), yy.ravel()]))


def class1_probability(model) -> np.ndarray:
    """The model's probability of class 1 on :func:`boundary_grid`, shaped like the grid ``(60, 60)``."""
    xx, _, points = boundary_grid()
    return F.softmax(predict(model, points), axis=1)[:, 1].reshape(xx.shape)


@dataclass(frozen=True)
class OverfitRun:
    """One training run on the overfitting problem.

    Per epoch (arrays of length ``epochs_run``): ``train_loss`` (mean of the epoch's
    step losses, with dropout/noise active), ``val_loss``, ``val_accuracy``. For the
    final model (the restored best one under early stopping): ``final_train_loss``,
    ``final_train_accuracy`` (evaluation mode), ``final_val_loss``,
    ``final_val_accuracy``. ``best_epoch`` is 1-based (argmin of ``val_loss``);
    ``boundary (60, 60)`` the class-1 probability on :func:`boundary_grid`.
    """

    dropout: float
    weight_decay: float
    input_noise: float
    patience: int | None
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    final_train_loss: float
    final_train_accuracy: float
    final_val_loss: float
    final_val_accuracy: float
    stopped_early: bool
    boundary: np.ndarray

    @property
    def epochs_run(self) -> int:
        return len(self.val_loss)

    @property
    def best_epoch(self) -> int:
        return int(np.argmin(self.val_loss)) + 1

    @property
    def gap(self) -> float:
        """Final validation loss minus final (evaluation-mode) training loss."""
        return self.final_val_loss - self.final_train_loss


def snap_dropout(p) -> float:
    """Round a dropout rate to the explorer's grid 0, 0.1, …, 0.9 (so settings share the cache)."""
    p = check_unit_interval(p, "dropout")
    return min(round(p * 10) / 10, 0.9)


def overfit_run(dropout=0.0, weight_decay=0.0, input_noise=0.0, patience=None, epochs=None,
                rng=0) -> OverfitRun:
    """Train the :data:`OVERFIT` network with the given regularizers and record the curves.

    ``weight_decay`` is AdamW's decoupled decay (per step ``w ← w − lr·λ·w``);
    ``patience`` turns on :class:`gdcourse.regularization.EarlyStopping` (restoring
    the best weights). With an int ``rng`` the result is cached per setting and read-only.
    """
    dropout = check_unit_interval(dropout, "dropout")
    weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
    input_noise = check_positive(input_noise, "input_noise", allow_zero=True)
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    epochs = OVERFIT["epochs"] if epochs is None else check_positive_int(epochs, "epochs")
    return _overfit_run(dropout, weight_decay, input_noise, patience, epochs, rng)


@cached(maxsize=64)
def _overfit_run(dropout, weight_decay, input_noise, patience, epochs, rng):
    X, y, X_val, y_val = overfit_data()
    rng = as_rng(rng)
    width = OVERFIT["width"]
    model = mlp((2, width, width, 2), dropout=dropout, input_noise=input_noise, rng=rng)
    loss = L.CrossEntropyLoss()
    opt = optim.AdamW(model.parameters(), lr=OVERFIT["lr"], weight_decay=weight_decay)
    stopper = R.EarlyStopping(patience) if patience else None
    history = fit(model, loss, opt, (X, y), epochs=epochs, batch_size=OVERFIT["batch_size"],
                  val=(X_val, y_val), early_stopping=stopper, progress=False, rng=rng)
    on_train, on_val = evaluate(model, loss, X, y), evaluate(model, loss, X_val, y_val)
    return OverfitRun(dropout, weight_decay, input_noise, patience,
                      history["train_loss"], history["val_loss"], history["val_accuracy"],
                      on_train["loss"], on_train["accuracy"], on_val["loss"], on_val["accuracy"],
                      history.stopped_early, class1_probability(model))


TOOLBOX = {
    "no regularization": {},
    "weight decay (AdamW, λ = 2)": {"weight_decay": 2.0},
    "dropout p = 0.5": {"dropout": 0.5},
    "input noise σ = 0.2": {"input_noise": 0.2},
    "early stopping (patience 10)": {"patience": 10},
}
"""The regularizers compared in REG-02, each alone, on the overfitting problem."""


@stored
def toolbox_runs(rng=0) -> dict:
    """``{name: OverfitRun}`` for every entry of :data:`TOOLBOX` (same seed for all)."""
    return {name: overfit_run(**settings, rng=rng) for name, settings in TOOLBOX.items()}


@dataclass(frozen=True)
class DropoutView:
    """What the dropout explorer shows: the run with dropout ``p`` and the run without dropout."""

    run: OverfitRun
    baseline: OverfitRun


def dropout_view(p=0.5, rng=0) -> DropoutView:
    """:func:`overfit_run` with dropout ``p`` (snapped to 0, 0.1, …, 0.9) beside the unregularized run."""
    return DropoutView(overfit_run(dropout=snap_dropout(p), rng=rng), overfit_run(rng=rng))
