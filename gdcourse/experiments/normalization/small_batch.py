"""Group norm vs batch norm when the per-device batch is tiny (Wu & He, 2018, "Group normalization").

Batch norm estimates each feature's mean and variance from the batch; at 2 samples per device those
estimates are so noisy (and so different from the running averages used at evaluation) that accuracy
drops. Group norm normalizes each sample over groups of its own channels, so the batch size does not
enter. :func:`small_batch_accuracy` trains the same 64-64-64-10 ReLU network on digits with either
layer, the same SGD settings and seeds, so the two are compared with themselves under the batch size.
:func:`batch_vs_layer_study` does the same for batch norm and layer norm (NORM-02) at 2 and 64 samples.
"""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.experiments import common
from gdcourse.experiments.normalization.networks import deep_mlp, train_on_digits
from gdcourse.validate import check_positive_int

__all__ = ["small_batch_accuracy", "small_batch_study", "batch_vs_layer_accuracy", "batch_vs_layer_study"]

_NORM_LAYERS = {"batch": "batch", "group": lambda width: nn.GroupNorm(8, width)}


@common.cached(maxsize=128)
def small_batch_accuracy(norm: str, batch_size: int = 2, epochs: int = 1, rng=0) -> float:
    """Validation accuracy of ``Linear → norm → ReLU`` ×2 → ``Linear`` (width 64) after ``epochs`` on digits.

    ``norm``: "batch" (``BatchNorm1d``) or "group" (``GroupNorm(8, 64)``: 8 groups of 8 channels). SGD with
    momentum 0.9 and ``lr = 0.1 · batch_size / 64`` (linear scaling from 0.1 at 64), evaluation mode.
    """
    if norm not in _NORM_LAYERS:
        raise ValueError(f"norm: expected 'batch' or 'group', got {norm!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    model = common.mlp((64, 64, 64, 10), activation="relu", init="he_normal", out_init="xavier_normal",
                       norm=_NORM_LAYERS[norm], rng=rng)
    history = train_on_digits(model, common.digits(), batch_size=batch_size, epochs=epochs,
                              lr=0.1 * batch_size / 64, momentum=0.9, rng=rng)
    return float(history["val_accuracy"][-1])


def small_batch_study(seeds=range(20), batch_size: int = 2, epochs: int = 1) -> dict:
    """``{norm: (seeds,) validation accuracies}`` for batch norm and group norm."""
    return {norm: np.array([small_batch_accuracy(norm, batch_size, epochs, rng=int(s)) for s in seeds])
            for norm in ("batch", "group")}


@common.cached(maxsize=256)
def batch_vs_layer_accuracy(norm: str, batch_size: int, epochs: int = 3, rng=0) -> float:
    """Validation accuracy of ``deep_mlp(depth=2, width=64, activation="relu", norm=norm)`` after ``epochs``.

    ``norm``: "batch" or "layer". SGD with momentum 0.9 and ``lr = 0.1 · batch_size / 64`` (linear scaling),
    the int seed ``rng`` for both the initialization and the batch order; evaluation mode. Notebook 06's
    NORM-02 curves are the run with ``rng=0``.
    """
    if norm not in ("batch", "layer"):
        raise ValueError(f"norm: expected 'batch' or 'layer', got {norm!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    model = deep_mlp(depth=2, width=64, activation="relu", norm=norm, rng=rng)
    history = train_on_digits(model, common.digits(), batch_size=batch_size, epochs=epochs,
                              lr=0.1 * batch_size / 64, rng=rng)
    return float(history["val_accuracy"][-1])


def batch_vs_layer_study(seeds: int = 20, epochs: int = 3, batch_sizes=(2, 64)) -> dict:
    """``{(norm, batch_size): (seeds,) validation accuracies}`` for seeds ``0 … seeds − 1``.

    Measured at the defaults (20 seeds, 3 epochs; about 10 s): see notebook 06, NORM-02.
    """
    seeds = check_positive_int(seeds, "seeds")
    return {(norm, int(b)): np.array([batch_vs_layer_accuracy(norm, int(b), epochs, rng=s) for s in range(seeds)])
            for norm in ("batch", "layer") for b in batch_sizes}
