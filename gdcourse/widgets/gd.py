"""Explorers of notebook 01: the learning rate on a function of one variable and on a 2-D quadratic.

They only wire controls to :func:`gdcourse.experiments.gd.explore_lr_1d` /
:func:`~gdcourse.experiments.gd.explore_lr_quadratic` (the data) and to
:mod:`gdcourse.plots.gd` (the picture).
"""

from __future__ import annotations

import ipywidgets as W

from gdcourse.experiments import gd as E
from gdcourse.plots import gd as P
from gdcourse.widgets import Explorer, dropdown, log_slider, slider

__all__ = ["lr_explorer_1d", "lr_explorer_quadratic"]


LR_RANGE_1D = (1e-3, 10**0.5)
"""The 1-D explorer's learning-rate slider range: the η axis of its contraction panel."""

LR_RANGE_QUADRATIC = (2 / 100 / 30, 2 / 1 * 3)
"""η axis of the quadratic explorer's contraction panel: 2/L ÷ 30 … 2/L × 3 for every κ of the slider (1 … 100),
which also holds the slider's 0.001 … 2."""


def _threshold_box(value):
    return W.Checkbox(value=value, description="show 2/L", indent=False, layout=W.Layout(width="110px"))


def lr_explorer_1d(function="double well", lr=0.05, x0=None, steps=30, show_threshold=True) -> Explorer:
    """Gradient descent on ``x² + 5`` or a tilted double well: path on f, loss gap, contraction factor.

    Controls: ``function``, ``lr`` (log scale 0.001 … 3), ``x0`` (the start) and
    ``show_threshold`` (mark ``2/f''(x*)`` at the minimum the run heads for).
    ``explorer.data`` is an :class:`~gdcourse.experiments.gd.LRRun1D`.
    """
    start = E.get_function_1d(function).start if x0 is None else x0
    controls = {
        "function": dropdown(["parabola", "double well"], function, "function"),
        "lr": log_slider(lr, -3, 0.5, "learning rate η", step=0.01),
        "x0": slider(start, -3.0, 3.0, 0.05, "start x₀", width="260px"),
        "show_threshold": _threshold_box(show_threshold),
    }
    return Explorer(
        controls,
        compute=lambda function, lr, x0, show_threshold: E.explore_lr_1d(function, lr, x0, steps),
        draw=lambda fig, run, show_threshold, **_: P.lr_run_1d_frame(fig, run, show_threshold, LR_RANGE_1D),
        title="Learning rate on a function of one variable",
    )


def lr_explorer_quadratic(condition_number=10.0, lr=0.1, steps=60, show_threshold=True) -> Explorer:
    """Gradient descent on ``Quadratic(condition_number)`` (curvatures 1 and κ): path, loss gap, contraction.

    Controls: ``condition_number`` κ = L/μ (1 … 100), ``lr`` (log scale 0.001 … 2,
    fine steps so the threshold can be found to about 2 %) and ``show_threshold``.
    ``explorer.data`` is an :class:`~gdcourse.experiments.gd.LRRunQuadratic`.
    """
    controls = {
        "condition_number": slider(condition_number, 1.0, 100.0, 1.0, "condition number κ",
                                   readout_format=".0f", width="300px"),
        "lr": log_slider(lr, -3, 0.3, "learning rate η", step=0.005),
        "show_threshold": _threshold_box(show_threshold),
    }
    return Explorer(
        controls,
        compute=lambda condition_number, lr, show_threshold: E.explore_lr_quadratic(condition_number, lr,
                                                                                    steps),
        draw=lambda fig, run, show_threshold, **_: P.lr_run_quadratic_frame(fig, run, show_threshold,
                                                                             LR_RANGE_QUADRATIC),
        title="Learning rate on an ill-conditioned quadratic",
    )
