"""INIT-03c: data-dependent initialization, LSUV (Mishkin & Matas 2016, "All you need is a good init").

Xavier and He derive the weight variance from a model of the activation (``c_φ`` = 1 for tanh near 0, ½
for ReLU). LSUV (layer-sequential unit-variance) measures instead of deriving:

1. pre-initialize every weight matrix with a random orthonormal one (Saxe et al. 2014);
2. for each ``Linear`` layer, input to output: run a batch through the network up to that layer and divide
   its weight by ``sqrt(Var(z))`` of its output ``z`` until ``|Var(z) − 1| < tol`` (at most ``max_iters``
   times; one pass is exact for a layer whose input does not depend on its own weight, the loop is there
   because the paper's layers may include nonlinear parts).

It works for any activation, including ones with no derived scheme, at the cost of one batch of forward
passes. Biases are left at 0. Here it is compared with Xavier and He on deep MLPs for digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim, train
from gdcourse.experiments import common
from gdcourse.experiments.initialization.networks import ACTIVATIONS, deep_mlp
from gdcourse.experiments.initialization.schemes import orthogonal
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = ["lsuv", "lsuv_mlp", "preactivation_variances", "LsuvRun", "train_with_init", "INIT_CHOICES"]

INIT_CHOICES = ("xavier", "he", "lsuv")
"""Initializations compared in INIT-03c."""


def lsuv(model, X, tol: float = 0.02, max_iters: int = 10) -> np.ndarray:
    """Rescale every ``Linear`` of ``model`` (in place), input to output, so its output variance on ``X`` is 1.

    ``X (N, d)``: the data batch. Returns the number of rescalings per layer ``(L,)``. The last ``Linear``
    (a classifier head) is rescaled too, as in the paper.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected a gdcourse.nn.Sequential, got {type(model).__name__}")
    X = check_array(X, "X", ndim=2, finite=True)
    tol, max_iters = check_positive(tol, "tol"), check_positive_int(max_iters, "max_iters")
    layers = list(model)
    h, counts = X, []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            n = 0
            z = layer.forward(h)
            while abs(z.var() - 1.0) >= tol and n < max_iters:
                layer.weight.value /= np.sqrt(z.var())
                z, n = layer.forward(h), n + 1
            counts.append(n)
            h = z
        else:
            h = layer.forward(h)
    return np.array(counts)


def lsuv_mlp(depth, width, activation, X, in_features=None, num_classes=None, rng=0, tol=0.02) -> nn.Sequential:
    """An MLP of ``depth`` hidden layers, orthonormal weights, then :func:`lsuv` on the batch ``X``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {list(ACTIVATIONS)}, got {activation!r}")
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    first = width if in_features is None else check_positive_int(in_features, "in_features")
    sizes = (first,) + (width,) * depth
    if num_classes is None:
        model = common.mlp(sizes, activation=ACTIVATIONS[activation], init=orthogonal, final_activation=True,
                           rng=rng)
    else:
        model = common.mlp(sizes + (check_positive_int(num_classes, "num_classes"),),
                           activation=ACTIVATIONS[activation], init=orthogonal, rng=rng)
    lsuv(model, X, tol=tol)
    return model


def preactivation_variances(model, X) -> np.ndarray:
    """``Var(z_l)`` of every ``Linear``'s output on ``X``, input to output: ``(L,)``."""
    h, out = check_array(X, "X", ndim=2, finite=True), []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for layer in model:
            h = layer.forward(h)
            if isinstance(layer, nn.Linear):
                out.append(float(h.var()))
    return np.array(out)


def _model(init, activation, depth, width, data, rng, batch):
    if init not in INIT_CHOICES:
        raise ValueError(f"init: expected one of {list(INIT_CHOICES)}, got {init!r}")
    if init == "lsuv":
        order = np.random.default_rng(rng).permutation(len(data.X_train))[:batch]
        return lsuv_mlp(depth, width, activation, data.X_train[order], in_features=data.num_features,
                        num_classes=data.num_classes, rng=rng)
    return deep_mlp(depth, width, activation, init, in_features=data.num_features,
                    num_classes=data.num_classes, rng=rng)


@dataclass(frozen=True)
class LsuvRun:
    """``init``/``activation``, ``variances`` (L,) on the validation images before training, and per epoch
    ``val_accuracy`` (shorter if training diverged)."""

    init: str
    activation: str
    variances: np.ndarray
    val_accuracy: np.ndarray


@common.cached(maxsize=256)
def train_with_init(init="lsuv", activation="relu", depth=10, width=64, epochs=10, lr=0.01, batch=256,
                    rng=0) -> LsuvRun:
    """Train a ``depth``-layer MLP on standardized digits with SGD (momentum 0.9, batch 64), as
    :func:`gdcourse.experiments.initialization.train_deep` does; only the initialization differs.

    LSUV uses ``batch`` training images drawn with the seed; the variances are measured on the 359
    validation images, which LSUV never saw.
    """
    data = common.digits(standardized=True)
    model = _model(init, activation, depth, width, data, rng, check_positive_int(batch, "batch"))
    variances = preactivation_variances(model, data.X_val)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        opt = optim.SGD(model.parameters(), lr=check_positive(lr, "lr"), momentum=0.9)
        try:
            history = train.fit(model, losses.CrossEntropyLoss(), opt, (data.X_train, data.y_train),
                                epochs=check_positive_int(epochs, "epochs"), batch_size=64,
                                val=(data.X_val, data.y_val), progress=False, rng=rng)
        except train.TrainingDiverged as err:
            history = err.history
    return LsuvRun(init, activation, variances, np.asarray(history.epochs.get("val_accuracy", [])))
