"""REG-09: validation loss below training loss. Dropout, and the epoch average of a moving model,
account for the whole "gap" once both losses are measured the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import optim
from gdcourse.experiments.regularization.shared import digits, mlp, one_blas_thread
from gdcourse.memo import stored
from gdcourse.train import evaluate, fit
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["LossGapRun", "loss_gap_run"]


@dataclass(frozen=True)
class LossGapRun:
    """Per epoch: ``reported`` (History's train_loss: mean of step losses, dropout on),
    ``train_mode`` (the whole training set at the end of the epoch, dropout still on),
    ``train_eval`` (the same in evaluation mode) and ``val`` (validation loss at the end
    of the epoch). ``step_loss`` per step; ``steps_per_epoch``.

    ``reported − train_mode`` is the lag of averaging over the epoch,
    ``train_mode − train_eval`` the cost of dropout, ``val − train_eval`` the true
    generalization gap."""

    dropout: float
    reported: np.ndarray
    train_mode: np.ndarray
    train_eval: np.ndarray
    val: np.ndarray
    step_loss: np.ndarray
    steps_per_epoch: int


@stored
@one_blas_thread
def loss_gap_run(dropout=0.5, epochs=8, hidden=256, lr=0.01, rng=0) -> LossGapRun:
    """Train a 64-hidden-10 network on all 988 training digits and log the three losses per epoch."""
    ds = digits()
    rng = as_rng(rng)
    model = mlp((64, check_positive_int(hidden, "hidden"), 10), dropout=dropout, rng=rng)
    loss = L.CrossEntropyLoss()
    train_mode, train_eval = [], []

    def log_train_losses(epoch, history, model):
        train_mode.append(loss.forward(model.forward(ds.X_train), ds.y_train))   # fit keeps train() mode
        train_eval.append(evaluate(model, loss, ds.X_train, ds.y_train)["loss"])

    history = fit(model, loss, optim.SGD(model.parameters(), lr=lr, momentum=0.9), (ds.X_train, ds.y_train),
                  epochs=epochs, batch_size=32, val=(ds.X_val, ds.y_val), callbacks=[log_train_losses],
                  progress=False, rng=rng)
    return LossGapRun(dropout, history["train_loss"], np.array(train_mode), np.array(train_eval),
                      history["val_loss"], history["step_loss"], len(history.step_loss) // history.num_epochs)
