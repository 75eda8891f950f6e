"""Group norm vs batch norm when the per-device batch is tiny (Wu & He, 2018, "Group normalization").

Batch norm estimates each feature's mean and variance from the batch; at 2 samples per device those
estimates are so noisy (and so different from the running averages used at evaluation) that accuracy
drops. Group norm normalizes each sample over groups of its own channels, so the batch size does not
enter. :func:`small_batch_accuracy` trains the same 64-64-64-10 ReLU network on digits with either
layer, the same SGD settings and seeds, so the two are compared with themselves under the batch size.
"""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.experiments import common
from gdcourse.experiments.normalization.networks import train_on_digits
from gdcourse.validate import check_positive_int

__all__ = ["small_batch_accuracy", "small_batch_study"]

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
