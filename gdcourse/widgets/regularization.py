"""Explorers of notebook 07: L1/L2 strength on moons, and the dropout rate on an overfitting problem.

They only wire controls to :func:`gdcourse.experiments.regularization.penalty_run` /
:func:`~gdcourse.experiments.regularization.dropout_view` (the data, cached per
setting) and to :mod:`gdcourse.plots.regularization` (the picture).
"""

from __future__ import annotations

import ipywidgets as W

from gdcourse.experiments import regularization as E
from gdcourse.plots import regularization as P
from gdcourse.widgets import Explorer, dropdown, log_slider

__all__ = ["penalty_explorer", "dropout_explorer"]


def penalty_explorer(penalty="l1", strength=1e-3) -> Explorer:
    """A 2-32-32-2 network on moons with an L1 or L2 penalty: boundary, first-layer weights, exact zeros.

    Controls: ``penalty`` ("l1": proximal steps that produce exact zeros, "l2")
    and ``strength`` λ (log scale, 10^-4 … 10^-1 in tenths of a decade, the grid
    :data:`~gdcourse.experiments.regularization.PENALTY_STRENGTHS`). Each new
    setting trains for about 0.2 s and is then cached. ``explorer.data`` is a
    :class:`~gdcourse.experiments.regularization.PenaltyRun`.
    """
    controls = {
        "penalty": dropdown([("L1 (proximal step)", "l1"), ("L2", "l2")], penalty, "penalty", width="220px"),
        "strength": log_slider(E.snap_strength(strength), -4, -1, "strength λ", step=0.1),
    }
    return Explorer(controls, compute=lambda penalty, strength: E.penalty_run(penalty, strength),
                    draw=lambda fig, run, **_: P.draw_penalty_run(fig, run), figsize=(10, 3.6),
                    title="L1 vs L2 on moons: how strong, how sparse, what boundary")


def dropout_explorer(p=0.5) -> Explorer:
    """The overfitting problem (60 noisy moons, a 2-128-128-2 network) trained with dropout rate ``p``.

    Control: ``p`` (0 … 0.9 in steps of 0.1). Shows the training and validation
    loss per epoch beside the run without dropout, and the decision boundary.
    ``explorer.data`` is a :class:`~gdcourse.experiments.regularization.DropoutView`.
    """
    control = W.FloatSlider(value=E.snap_dropout(p), min=0.0, max=0.9, step=0.1, description="dropout p",
                            continuous_update=False, readout_format=".1f",
                            style={"description_width": "initial"}, layout=W.Layout(width="320px"))
    return Explorer({"p": control}, compute=lambda p: E.dropout_view(p),
                    draw=lambda fig, view, **_: P.draw_dropout_view(fig, view), figsize=(10, 3.6),
                    title="Dropout rate on an overfitting problem")
