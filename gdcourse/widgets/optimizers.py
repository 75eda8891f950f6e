"""Explorers of notebook 03: the optimizer race, and momentum's convergence-rate map.

They only wire controls to :func:`gdcourse.experiments.optimizers.race_data` /
:func:`~gdcourse.experiments.optimizers.rate_map_data` (the data) and to
:mod:`gdcourse.plots.optimizers` (the picture).
"""

from __future__ import annotations

import ipywidgets as W

from gdcourse.experiments import optimizers as E
from gdcourse.plots import optimizers as P
from gdcourse.widgets import Explorer, dropdown, int_slider, log_slider, slider

__all__ = ["race_explorer", "momentum_explorer"]


def race_explorer(landscape="quadratic", optimizers=("GD", "momentum", "Nesterov", "RMSprop", "Adam"),
                  momentum=0.9, beta1=0.9, beta2=0.999) -> Explorer:
    """Optimizers racing on a 2-D landscape: paths on the contour plot and loss per step.

    Controls: ``landscape``, ``optimizers`` (several can be selected), ``lr`` (GD,
    momentum, Nesterov), ``adaptive_lr`` (Adagrad, RMSprop, the Adam family),
    ``momentum``, ``beta1``, ``beta2`` (also RMSprop's α) and ``steps``. Choosing a
    landscape loads its preset learning rates and step count
    (:data:`~gdcourse.experiments.optimizers.RACE_PRESETS`).
    ``explorer.data`` is a :class:`~gdcourse.experiments.optimizers.RaceData`.
    """
    preset = E.RACE_PRESETS[landscape]
    controls = {
        "landscape": dropdown(list(E.RACE_LANDSCAPES), landscape, "landscape", width="220px"),
        "optimizers": W.SelectMultiple(options=list(E.RACE_OPTIMIZERS), value=tuple(optimizers),
                                       rows=len(E.RACE_OPTIMIZERS),  # all shown: no hidden scroll to Adam
                                       description="optimizers", layout=W.Layout(width="220px")),
        "lr": log_slider(preset["lr"], -4, 0, "lr (GD, momentum, Nesterov)", step=0.02),
        "adaptive_lr": log_slider(preset["adaptive_lr"], -3, 0.5, "lr (adaptive)", step=0.02),
        "momentum": slider(momentum, 0.0, 0.99, 0.01, "momentum μ"),
        "beta1": slider(beta1, 0.0, 0.99, 0.01, "β₁"),
        "beta2": slider(beta2, 0.9, 0.9999, 0.0001, "β₂ (RMSprop α)", readout_format=".4f"),
        "steps": int_slider(preset["steps"], 10, 500, "steps", step=10, width="260px"),
    }
    explorer = Explorer(controls, compute=E.race_data, draw=lambda fig, data, **_: P.race_frame(fig, data),
                        figsize=(10, 3.8), title="Optimizer race")
    controls["landscape"].observe(lambda change: explorer.set(**E.RACE_PRESETS[change["new"]]), names="value")
    return explorer


def momentum_explorer(kappa=100.0, lr_times_L=1.0, momentum=0.5, show_optimum=True, steps=100) -> Explorer:
    """Heavy-ball momentum on ``Quadratic(kappa)``: rate map over (lr, momentum), path, convergence.

    Controls: ``kappa`` (condition number 1 … 1000, log scale), ``lr_times_L``
    (the learning rate in units of 1/L, 0 … 4), ``momentum`` β and ``show_optimum``
    (mark α*, β* of :func:`~gdcourse.experiments.optimizers.optimal_momentum`).
    ``explorer.data`` is a :class:`~gdcourse.experiments.optimizers.RateMapData`.
    """
    controls = {
        "kappa": log_slider(kappa, 0, 3, "condition number κ", step=0.05),
        "lr_times_L": slider(lr_times_L, 0.02, 4.0, 0.02, "learning rate × L"),
        "momentum": slider(momentum, 0.0, 0.99, 0.01, "momentum β"),
        "show_optimum": W.Checkbox(value=show_optimum, description="show optimum", indent=False,
                                   layout=W.Layout(width="130px")),
    }
    return Explorer(
        controls,
        compute=lambda kappa, lr_times_L, momentum, show_optimum: E.rate_map_data(kappa, lr_times_L, momentum,
                                                                                   steps),
        draw=lambda fig, data, show_optimum, **_: P.rate_explorer_frame(fig, data, show_optimum),
        figsize=(10.5, 3.5), title="Why momentum works: the rate map",
    )
