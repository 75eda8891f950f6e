"""The activation explorer: f, f' and a small network's fit of ``sin(2x)`` for one activation setting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import optim
from gdcourse.experiments import common
from gdcourse.experiments.activations.curves import (
    ACTIVATION_NAMES,
    ActivationCurve,
    _check_name,
    _default_init,
    activation_curve,
    activation_layer,
    derivative_peak,
)
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["EXPLORER_NAMES", "ActivationFit", "explore_activation"]


EXPLORER_NAMES = ACTIVATION_NAMES
"""The activations the explorer offers."""


@dataclass(frozen=True)
class ActivationFit:
    """What the activation explorer shows for one setting.

    ``curve``: f and f' on [−4, 4]; ``peak_x``, ``peak``: where f' is largest and its
    value; ``x_train, y_train (64,)``: the target ``sin(2x)`` on [−3, 3]; ``x_plot,
    prediction (200,)``: the trained network's fit; ``losses (steps,)``: training MSE.
    """

    curve: ActivationCurve
    peak_x: float
    peak: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_plot: np.ndarray
    prediction: np.ndarray
    losses: np.ndarray

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def _relevant(name, negative_slope, alpha, approximate):
    """The parameters that matter for ``name`` (others reset), so equal settings share a cache entry."""
    return (name,
            float(negative_slope) if name in ("leaky_relu", "prelu") else 0.01,
            float(alpha) if name == "elu" else 1.0,
            approximate if name == "gelu" else "none")


def explore_activation(name="relu", negative_slope=0.01, alpha=1.0, approximate="none", steps=600,
                       rng=0) -> ActivationFit:
    """f, f' and a 1-D regression fit with activation ``name`` (the explorer's ``compute``).

    The network is ``1-32-32-1`` (He init for the ReLU family, GELU, SiLU; Xavier for
    the others), trained with Adam (lr 0.01) for ``steps`` full-batch steps on
    ``sin(2x)``, 64 points on [−3, 3]. Results are cached per setting (about 0.1 s each).
    """
    _check_name(name)
    check_positive(negative_slope, "negative_slope", allow_zero=True)
    check_positive(alpha, "alpha", allow_zero=True)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
    steps = check_positive_int(steps, "steps")
    return _explore(*_relevant(name, negative_slope, alpha, approximate), steps, rng)


@common.cached(maxsize=256)
def _explore(name, negative_slope, alpha, approximate, steps, rng):
    params = {"negative_slope": negative_slope, "alpha": alpha, "approximate": approximate}
    curve = activation_curve(name, **params)
    peak_x, peak = derivative_peak(name, low=-4.0, high=4.0, num=8001, **params)
    model = common.mlp((1, 32, 32, 1), activation=lambda: activation_layer(name, **params), init=_default_init(name),
                       out_init="xavier_normal", rng=rng)
    x = np.linspace(-3.0, 3.0, 64)[:, None]
    y = np.sin(2 * x)
    loss, opt = L.MSELoss(), optim.Adam(model.parameters(), lr=0.01)
    losses = np.empty(steps)
    for t in range(steps):
        opt.zero_grad()
        losses[t] = loss.forward(model.forward(x), y)
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    x_plot = np.linspace(-3.5, 3.5, 200)
    prediction = model.forward(x_plot[:, None])[:, 0]
    return ActivationFit(curve, peak_x, peak, x[:, 0], y[:, 0], x_plot, prediction, losses)
