"""Explorers of notebook 07: L1/L2 strength on moons, and the dropout rate on an overfitting problem.

They only wire controls to :func:`gdcourse.experiments.regularization.penalty_run` /
:func:`~gdcourse.experiments.regularization.dropout_view` (the data, cached per
setting) and to :mod:`gdcourse.plots.regularization` (the picture, drawn once and then
updated in place). Each new setting is a training run (0.2-0.5 s): a dragged slider
shows "training…" at once and the run when it is ready, for the latest setting only
(see :mod:`gdcourse.widgets.staged`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gdcourse.experiments import regularization as E
from gdcourse.plots import regularization as P
from gdcourse.widgets import Explorer, dropdown, log_slider, slider
from gdcourse.widgets.staged import two_stage

__all__ = ["penalty_explorer", "dropout_explorer"]


@dataclass(frozen=True)
class PendingPenaltyRun:
    """The setting of a penalty run still training (what the picture can say before it is ready)."""

    penalty: str
    strength: float


def penalty_explorer(penalty="l1", strength=1e-3) -> Explorer:
    """A 2-32-32-2 network on moons with an L1 or L2 penalty: boundary, first-layer weights, exact zeros.

    Controls: ``penalty`` ("l1": proximal steps that produce exact zeros, "l2")
    and ``strength`` λ (log scale, 10^-4 … 10^-1 in tenths of a decade, the grid
    :data:`~gdcourse.experiments.regularization.PENALTY_STRENGTHS`). Each new
    setting trains for about 0.2 s and is then cached. ``explorer.data`` is a
    :class:`~gdcourse.experiments.regularization.PenaltyRun` (a :class:`PendingPenaltyRun`
    while a setting chosen in the browser trains).
    """
    controls = {
        "penalty": dropdown([("L1 (proximal step)", "l1"), ("L2", "l2")], penalty, "penalty", width="220px"),
        "strength": log_slider(E.snap_strength(strength), -4, -1, "strength λ", step=0.1),
    }
    compute, refine = two_stage(
        quick=lambda penalty, strength: PendingPenaltyRun(penalty, E.snap_strength(strength)),
        slow=lambda penalty, strength: E.penalty_run(penalty, strength),
        combine=lambda pending, run: pending if run is None else run,
        key=lambda penalty, strength: (penalty, E.snap_strength(strength)))
    return Explorer(
        controls, compute=compute, refine=refine,
        draw=lambda fig, run, **_: P.penalty_run_frame(fig, run)[1], figsize=(10, 3.6),
        title="L1 vs L2 on moons: how strong, how sparse, what boundary")


def dropout_explorer(p=0.5) -> Explorer:
    """The overfitting problem (60 noisy moons, a 2-128-128-2 network) trained with dropout rate ``p``.

    Control: ``p`` (0 … 0.9 in steps of 0.1). Shows the training and validation
    loss per epoch beside the run without dropout, and the decision boundary.
    ``explorer.data`` is a :class:`~gdcourse.experiments.regularization.DropoutView`
    (with ``run`` None while a rate chosen in the browser trains).
    """
    control = slider(E.snap_dropout(p), 0.0, 0.9, 0.1, "dropout p", readout_format=".1f")
    compute, refine = two_stage(
        quick=lambda p: E.overfit_run(),
        slow=lambda p: E.dropout_view(p),
        combine=lambda baseline, view: E.DropoutView(None, baseline) if view is None else view,
        key=lambda p: E.snap_dropout(p))
    return Explorer(
        {"p": control}, compute=compute, refine=refine,
        draw=lambda fig, view, **_: P.dropout_view_frame(fig, view)[1], figsize=(10, 3.6),
        title="Dropout rate on an overfitting problem")
