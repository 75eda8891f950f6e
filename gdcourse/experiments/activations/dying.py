"""Dying ReLU: units that output 0 for every input get no gradient and stay dead."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import diagnostics as D
from gdcourse import losses as L
from gdcourse import optim
from gdcourse.experiments import common
from gdcourse.experiments.activations.curves import activation_layer
from gdcourse.experiments.activations.gradients import moons
from gdcourse.memo import stored
from gdcourse.train import TrainingDiverged, fit
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["DyingReLURun", "dying_relu_run", "DYING_SETTINGS", "dying_relu_seeds"]


@dataclass(frozen=True)
class DyingReLURun:
    """One training run of a 2-32-32-1 network on the moons, watched for dead units.

    ``inactive (epochs_run + 1, 2)``: per hidden layer, the share of units whose output
    is ≤ 0 for every training point (``diagnostics.activation_stats``), before training
    and after each epoch. For ReLU these units are dead: no gradient reaches them.
    ``dead_start``/``dead_end``: ``diagnostics.dead_units`` (ReLU only; layer index →
    unit indices). ``frozen``: layer index → units whose incoming weights and bias are
    bit-identical to their initial values at the end. ``diverged_at``: the step at
    which the loss became NaN/inf, else None.
    """

    activation: str
    lr: float
    bias_init: float
    inactive: np.ndarray
    dead_start: dict
    dead_end: dict
    frozen: dict
    accuracy: float
    loss: float
    diverged_at: int | None


def _dying_model(activation, negative_slope, bias_init, width, rng):
    return common.mlp((2, width, width, 1), activation=lambda: activation_layer(activation, negative_slope),
                      init="he_normal", hidden_bias=float(bias_init), rng=rng)


@stored
def dying_relu_run(activation="relu", lr=0.5, bias_init=0.0, epochs=20, negative_slope=0.1, width=32,
                   rng=0) -> DyingReLURun:
    """Train ``Linear-act-Linear-act-Linear`` (He init, hidden biases ``bias_init``) with SGD.

    400 standardized moons points, batches of 32, binary cross-entropy on the logit.
    A too-large ``lr`` or a very negative ``bias_init`` kills ReLU units; see
    :class:`DyingReLURun` for what is recorded.
    """
    check_positive(lr, "lr")
    X, y = moons()
    target = y[:, None].astype(np.float64)
    model = _dying_model(activation, negative_slope, bias_init, width, rng)
    linears = [model[0], model[2]]
    start = [(layer.weight.value.copy(), layer.bias.value.copy()) for layer in linears]
    inactive = [[s.dead for s in D.activation_stats(model, X)]]
    dead_start = D.dead_units(model, X)

    def watch(epoch, history, m):
        inactive.append([s.dead for s in D.activation_stats(m, X)])

    loss = L.BCEWithLogitsLoss()
    diverged_at = None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by fit, not by warnings
            fit(model, loss, optim.SGD(model.parameters(), lr=lr), (X, target), epochs=epochs, batch_size=32,
                callbacks=[watch], progress=False, rng=rng)
    except TrainingDiverged as err:
        diverged_at = len(err.history.step_loss)
    frozen = {}
    for k, (layer, (w0, b0)) in enumerate(zip(linears, start, strict=True)):
        same = np.all(layer.weight.value == w0, axis=0) & (layer.bias.value == b0)
        frozen[2 * k + 1] = np.flatnonzero(same)
    if diverged_at is None:
        out = model.forward(X)
        accuracy, final_loss = float(np.mean((out[:, 0] > 0) == (y == 1))), loss.forward(out, target)
        dead_end = D.dead_units(model, X)
    else:
        accuracy, final_loss, dead_end = float("nan"), float("nan"), {}
    return DyingReLURun(activation, float(lr), float(bias_init), np.array(inactive), dead_start, dead_end,
                        frozen, accuracy, final_loss, diverged_at)


DYING_SETTINGS = {
    "ReLU, lr 0.5, bias 0 (healthy)": dict(activation="relu", lr=0.5),
    "ReLU, lr 4 (too large)": dict(activation="relu", lr=4.0),
    "ReLU, bias −3": dict(activation="relu", bias_init=-3.0),
    "leaky ReLU 0.1, bias −3": dict(activation="leaky_relu", bias_init=-3.0),
    "ELU, bias −3": dict(activation="elu", bias_init=-3.0),
    "leaky ReLU 0.1, lr 4": dict(activation="leaky_relu", lr=4.0),
}
"""The six runs of ACT-08, by name (the notebook shows seed 0 of each)."""


def dying_relu_seeds(seeds=20) -> dict:
    """Each setting of :data:`DYING_SETTINGS` from seeds ``0 … seeds − 1``.

    Returns name -> dict of ``(seeds,)`` arrays: ``accuracy`` (NaN where the run diverged), ``diverged``
    (bool), ``dead_layer1``/``dead_layer2`` (share of units ≤ 0 on all data at the end).
    """
    seeds = check_positive_int(seeds, "seeds")
    summary = {}
    for name, settings in DYING_SETTINGS.items():
        runs = [dying_relu_run(rng=s, **settings) for s in range(seeds)]
        summary[name] = {
            "accuracy": np.array([np.nan if r.diverged_at is not None else r.accuracy for r in runs]),
            "diverged": np.array([r.diverged_at is not None for r in runs]),
            "dead_layer1": np.array([r.inactive[-1][0] for r in runs]),
            "dead_layer2": np.array([r.inactive[-1][1] for r in runs]),
        }
    return summary
