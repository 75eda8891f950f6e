"""Networks on digits: deep MLPs with and without normalization, training them, and the classic bug of
predicting in training mode (a prediction then depends on the rest of its batch)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from gdcourse import diagnostics, losses, nn, optim
from gdcourse.experiments import common
from gdcourse.experiments.normalization.injected_noise import InjectedNoise
from gdcourse.memo import stored
from gdcourse.train import fit
from gdcourse.validate import as_rng, check_array, check_positive_int

__all__ = ["deep_mlp", "train_on_digits", "linear_gradient_norms", "batched_predictions", "sigmoid_rescue_runs",
           "norm_comparison_seeds", "noisy_batch_norm_seeds"]


_ACTIVATIONS = {"sigmoid": (nn.Sigmoid, "xavier_normal"), "tanh": (nn.Tanh, "xavier_normal"),
                "relu": (nn.ReLU, "he_normal")}
_NORMS = (None, "batch", "layer")


def deep_mlp(depth=10, width=24, activation="sigmoid", norm=None, noise=None, in_features=64, classes=10,
             weight_gain=1.0, rng=0) -> nn.Sequential:
    """``depth`` blocks ``Linear → [norm] → [noise] → activation``, then ``Linear(width, classes)``.

    Built by :func:`gdcourse.experiments.common.mlp`. ``norm``: None, "batch" or "layer"; the linear
    layer before a normalization has no bias (the norm's β replaces it). ``noise``:
    ``(scale_std, shift_std)`` adds :class:`InjectedNoise` after the norm. Xavier-normal weights for
    sigmoid/tanh, He-normal for ReLU; Xavier-normal for the output layer. ``weight_gain`` multiplies the
    initial hidden weights.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm: expected None, 'batch' or 'layer', got {norm!r}")
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    sizes = (check_positive_int(in_features, "in_features"),) + (width,) * depth + (
        check_positive_int(classes, "classes"),)
    act, init = _ACTIVATIONS[activation]
    rng = as_rng(rng)
    after_norm = None if noise is None else (lambda n: InjectedNoise(n, *noise, rng=rng))
    return common.mlp(sizes, activation=act, init=init, out_init="xavier_normal", norm=norm,
                      after_norm=after_norm, weight_gain=weight_gain, rng=rng)


def train_on_digits(model, data, *, batch_size=64, epochs=10, lr=0.02, momentum=0.9, rng=0):
    """``fit`` with ``SGD(lr, momentum)`` and cross-entropy on ``data`` (:func:`gdcourse.experiments.common.digits`).

    The training rows are cut to a multiple of ``batch_size`` (the last ``N mod batch_size`` are left out)
    so every batch is full: a batch of one row is an error for batch norm and a tiny one a very noisy
    estimate. The validation part is evaluated in evaluation mode after every epoch.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if len(data.X_val) == 0:
        raise ValueError("data: expected a Dataset with a validation part (common.digits()), got 0 rows")
    n = len(data.X_train) - len(data.X_train) % batch_size
    return fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=momentum),
               (data.X_train[:n], data.y_train[:n]), val=(data.X_val, data.y_val), epochs=epochs,
               batch_size=batch_size, progress=False, rng=rng)


RESCUE_SETTINGS = {"Xavier": dict(), "Xavier × 10": dict(weight_gain=10.0), "batch norm": dict(norm="batch")}
"""The three ways NORM-01 trains the 10-layer sigmoid network: plain, with 10× larger weights, with batch norm."""


@stored
def sigmoid_rescue_runs(data, seeds=20, epochs=10) -> dict:
    """Validation accuracy after ``epochs`` of the 10-layer, width-24 sigmoid network, per setting and seed.

    Settings :data:`RESCUE_SETTINGS`; each is trained with :func:`train_on_digits` (SGD 0.02, momentum
    0.9) from seeds ``0 … seeds − 1`` (the seed sets the initialization and the batch order). Returns
    name -> ``(seeds,)`` accuracies.
    """
    seeds = check_positive_int(seeds, "seeds")
    return {name: np.array([train_on_digits(deep_mlp(rng=s, **kw), data, epochs=epochs, rng=s)["val_accuracy"][-1]
                            for s in range(seeds)])
            for name, kw in RESCUE_SETTINGS.items()}


def norm_comparison_seeds(data, activation="tanh", seeds=20, epochs=10) -> dict:
    """The 10-layer, width-24 network without normalization, with batch norm and with layer norm, per seed.

    Trained like NORM-01's runs (:func:`train_on_digits`, SGD 0.02, momentum 0.9) from seeds
    ``0 … seeds − 1``. Returns norm (None, "batch", "layer") -> ``(validation accuracy (seeds,), final
    training loss (seeds,))``.
    """
    seeds = check_positive_int(seeds, "seeds")
    result = {}
    for norm in _NORMS:
        runs = [train_on_digits(deep_mlp(activation=activation, norm=norm, rng=s), data, epochs=epochs, rng=s)
                for s in range(seeds)]
        result[norm] = (np.array([r["val_accuracy"][-1] for r in runs]), np.array([r["train_loss"][-1] for r in runs]))
    return result


def noisy_batch_norm_seeds(data, seeds=20, epochs=10, noise=(0.3, 0.5)) -> np.ndarray:
    """Validation accuracy of NORM-03's 10-layer sigmoid network with batch norm *and* injected noise, per seed.

    :class:`InjectedNoise` ``noise = (scale_std, shift_std)`` after every batch norm; trained like NORM-01's
    runs from seeds ``0 … seeds − 1``. Returns ``(seeds,)``.
    """
    seeds = check_positive_int(seeds, "seeds")
    return np.array([train_on_digits(deep_mlp(norm="batch", noise=noise, rng=s), data, epochs=epochs,
                                     rng=s)["val_accuracy"][-1] for s in range(seeds)])


def linear_gradient_norms(model, X, y):
    """The weight-gradient norm of every ``Linear`` layer of ``model`` on ``(X, y)``, input to output.

    Cross-entropy loss, one forward/backward in the model's current mode (``diagnostics.gradient_norms``,
    which leaves parameters, gradients and running statistics as they were). Returns ``(L,)``.
    """
    norms = diagnostics.gradient_norms(model, losses.CrossEntropyLoss(), X, y)
    return np.array([value for _, name, value in norms if name == "Linear"])


@contextmanager
def _mode_and_running_stats(model, training):
    """Run ``model`` in the given mode, then restore its mode and every BatchNorm1d's running statistics."""
    norms = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    saved = [(m.running_mean.copy(), m.running_var.copy(), m.num_batches_tracked) for m in norms]
    was_training = model.training
    model.train(training)
    try:
        yield model
    finally:
        model.train(was_training)
        for m, (mean, var, count) in zip(norms, saved, strict=True):
            m.running_mean[...], m.running_var[...], m.num_batches_tracked = mean, var, count


def batched_predictions(model, X, batch_size, *, train_mode, order=None):
    """Predicted classes for ``X (N, D)`` computed batch by batch, in training or evaluation mode.

    The rows are visited in ``order`` (default: as given) in ``N // batch_size`` consecutive batches of
    about ``batch_size`` rows (``np.array_split``, so no batch is a lone row) and the predictions are
    returned in the original row order, ``(N,)``. In training mode batch norm uses each
    batch's own statistics, so a prediction depends on which other rows share its batch: the classic bug of
    forgetting ``model.eval()``. The model's mode and running statistics are left unchanged.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    order = np.arange(len(X)) if order is None else np.asarray(order)
    if order.shape != (len(X),) or not np.array_equal(np.sort(order), np.arange(len(X))):
        raise ValueError(f"order: expected a permutation of range({len(X)}), got shape {order.shape}")
    with _mode_and_running_stats(model, train_mode):
        parts = np.array_split(order, max(1, len(X) // batch_size))
        logits = np.concatenate([model(X[rows]) for rows in parts])
    predictions = np.empty(len(X), dtype=np.int64)
    predictions[order] = logits.argmax(axis=1)
    return predictions
