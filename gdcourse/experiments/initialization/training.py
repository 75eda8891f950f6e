"""Before and during training (INIT-04b): what the diagnostics show at initialization, and deep networks
trained on digits from each initialization."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import diagnostics, losses, optim, train
from gdcourse.experiments.common import one_blas_thread
from gdcourse.experiments.initialization.networks import deep_mlp
from gdcourse.memo import stored

__all__ = ["InitReport", "init_report", "DeepRun", "train_deep"]


@dataclass(frozen=True)
class InitReport:
    """What to look at before training (INIT-04b), from :mod:`gdcourse.diagnostics` on one batch.

    Per activation layer ``(L,)``: ``stds``, ``saturated`` (share of tanh/sigmoid
    outputs whose derivative is below 1 % of its maximum) and ``dead`` (share of
    ReLU units that output 0 for the whole batch). ``grad_norms (L + 1,)``: the
    weight-gradient norm of every ``Linear``, input to output. ``loss``: the initial
    cross-entropy (``ln C`` for ``C`` classes is healthy).
    """

    stds: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    grad_norms: np.ndarray
    loss: float


@one_blas_thread
def init_report(model, X, y) -> InitReport:
    """:func:`gdcourse.diagnostics.activation_stats` and ``gradient_norms`` of a classifier on ``X``, ``y``."""
    loss = losses.CrossEntropyLoss()
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        stats = diagnostics.activation_stats(model, X)
        norms = diagnostics.gradient_norms(model, loss, X, y)
        value = loss.forward(train.predict(model, X), y)
    return InitReport(np.array([s.std for s in stats]), np.array([s.saturated for s in stats]),
                      np.array([s.dead for s in stats]), np.array([norm for _, _, norm in norms]), float(value))


@dataclass(frozen=True)
class DeepRun:
    """A deep network trained on digits: ``initial_loss`` (before training; ``ln 10 ≈ 2.30`` is healthy),
    per-epoch ``train_loss`` and ``val_accuracy`` (shorter if it diverged), and ``diverged_at``
    (the optimizer step at which the loss became NaN/inf, else None)."""

    activation: str
    scheme: str
    initial_loss: float
    train_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged_at: int | None

    def epochs_to(self, accuracy) -> int | None:
        """The first epoch (1-based) whose validation accuracy reaches ``accuracy``, or None."""
        hits = np.flatnonzero(self.val_accuracy >= accuracy)
        return int(hits[0]) + 1 if hits.size else None


@stored
@one_blas_thread
def train_deep(activation, scheme, data, depth=10, width=64, epochs=10, batch_size=64, lr=0.01, momentum=0.9,
               rng=0) -> DeepRun:
    """Train :func:`deep_mlp` (``depth`` hidden layers, softmax head) on ``data`` with SGD + momentum.

    ``data``: a :class:`gdcourse.data.Dataset` with a validation part (the standardized
    :func:`gdcourse.experiments.common.digits`), evaluated after every epoch. Only the
    initialization differs between runs with the same arguments.
    """
    if len(data.X_val) == 0:
        raise ValueError("data: expected a Dataset with a validation part (common.digits()), got 0 rows")
    model = deep_mlp(depth, width, activation, scheme, in_features=data.num_features,
                     num_classes=data.num_classes, rng=rng)
    loss = losses.CrossEntropyLoss()
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        initial = loss.forward(train.predict(model, data.X_train), data.y_train)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        try:
            history = train.fit(model, loss, opt, (data.X_train, data.y_train), epochs=epochs,
                                batch_size=batch_size, val=(data.X_val, data.y_val), progress=False, rng=rng)
            diverged_at = None
        except train.TrainingDiverged as err:
            history, diverged_at = err.history, len(err.history.step_loss)
    return DeepRun(activation, scheme, float(initial), np.asarray(history.epochs.get("train_loss", [])),
                   np.asarray(history.epochs.get("val_accuracy", [])), diverged_at)
