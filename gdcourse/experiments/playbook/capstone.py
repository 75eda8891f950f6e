"""The capstone: everything from notebooks 01-08 in one MLP on the digits, with its diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import regularization as R
from gdcourse import schedules as S
from gdcourse.diagnostics import dead_units, gradient_norms
from gdcourse.experiments import common
from gdcourse.experiments.common import quiet
from gdcourse.experiments.playbook.base import digits
from gdcourse.memo import stored
from gdcourse.train import evaluate, fit, predict
from gdcourse.validate import as_rng

__all__ = ["CAPSTONE_CONFIG", "CapstoneResult", "capstone", "capstone_model", "confusion_matrix"]


@dataclass(frozen=True, eq=False)
class CapstoneResult:
    """The capstone run: model, history, test metrics and diagnostics.

    ``grad_norms (K, layers)``: weight-gradient norm of each ``Linear`` layer on a probe batch at
    the start and after every epoch (when early stopping fires, ``fit`` stops before the callbacks
    of that last epoch, so ``K`` is the number of epochs); ``dead``: ReLU layer index → dead units on the
    training set at the end; ``confusion (10, 10)``: rows true class, columns predicted.
    """

    model: nn.Sequential
    history: object
    test_accuracy: float
    test_loss: float
    grad_norms: np.ndarray
    dead: dict
    confusion: np.ndarray
    config: dict


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes,
                                                                                       num_classes)


CAPSTONE_CONFIG = {
    "hidden": 128, "norm": "batch", "dropout": 0.2, "lr": 0.05, "momentum": 0.9, "nesterov": True,
    "weight_decay": 5e-4, "warmup_steps": 30, "epochs": 40, "batch_size": 64, "clip_norm": 5.0,
    "patience": 8,
}
"""The capstone's settings; :func:`capstone` takes overrides of any of them (e.g. ``norm="layer"``)."""


def capstone_model(config, rng) -> nn.Sequential:
    """64-hidden-hidden-10: ``Linear → norm → ReLU → Dropout`` twice (He init), then ``Linear``."""
    hidden = config["hidden"]
    return common.mlp((64, hidden, hidden, 10), norm=config["norm"], bias=True, dropout=config["dropout"],
                      rng=rng)


@stored
def capstone(rng=0, **overrides) -> CapstoneResult:
    """Everything together on the digits: an MLP 64-128-128-10 reaching ≥ 97% test accuracy.

    He init, batch norm, ReLU, dropout 0.2; SGD with Nesterov momentum 0.9 and weight decay
    5e-4, peak rate 0.05; linear warmup (30 steps) into cosine decay over 40 epochs; clipping at norm
    5; early stopping on the validation loss (patience 8, best weights restored). ``overrides``
    change :data:`CAPSTONE_CONFIG` entries (e.g. ``norm="layer"``).
    """
    unknown = set(overrides) - set(CAPSTONE_CONFIG)
    if unknown:
        raise ValueError(f"overrides: unknown settings {sorted(unknown)}; known: {sorted(CAPSTONE_CONFIG)}")
    config = {**CAPSTONE_CONFIG, **overrides}
    data = digits()
    rng = as_rng(rng)
    model = capstone_model(config, rng)
    total = config["epochs"] * -(-len(data.X_train) // config["batch_size"])
    schedule = S.LinearWarmup(S.CosineDecay(config["lr"], total), config["warmup_steps"])
    optimizer = optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                          nesterov=config["nesterov"], weight_decay=config["weight_decay"])
    probe = (data.X_train[:256], data.y_train[:256])
    norms = []

    def record_gradients(epoch, history, model):
        layers = gradient_norms(model, L.CrossEntropyLoss(), *probe)
        norms.append([g for _, name, g in layers if name == "Linear"])

    with quiet():
        record_gradients(-1, None, model)
        history = fit(model, L.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train),
                      epochs=config["epochs"], batch_size=config["batch_size"], val=(data.X_val, data.y_val),
                      schedule=schedule, clip_norm=config["clip_norm"],
                      early_stopping=R.EarlyStopping(patience=config["patience"]),
                      callbacks=[record_gradients], progress=False, rng=rng)
        test = evaluate(model, L.CrossEntropyLoss(), data.X_test, data.y_test)
        predicted = predict(model, data.X_test).argmax(axis=1)
        model.eval()
        dead = dead_units(model, data.X_train)
        model.train()
    return CapstoneResult(model, history, test["accuracy"], test["loss"], np.array(norms), dead,
                          confusion_matrix(data.y_test, predicted, 10), config)
