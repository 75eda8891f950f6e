"""Explorers of notebook 06: which axis batch norm and layer norm normalize, and what the batch size does.

They only wire controls to :func:`gdcourse.experiments.normalization.norm_axes_view` /
:func:`~gdcourse.experiments.normalization.batch_size_view` (the data) and to
:mod:`gdcourse.plots.normalization` (the picture, drawn once and then updated in place).
"""

from __future__ import annotations

from gdcourse.experiments import normalization as E
from gdcourse.plots import normalization as P
from gdcourse.widgets import Explorer, int_slider, log_slider

__all__ = ["norm_axes_explorer", "bn_batch_size_explorer"]


def _batch_slider(value, low=2, high=E.MAX_BATCH):
    return int_slider(value, low, high, "batch size B")


def norm_axes_explorer(batch_size=8, feature_scale=10.0) -> Explorer:
    """A small batch of 4 features (stds from 1 to ``feature_scale``) before and after BN and LN.

    Controls: ``batch_size`` (2 … 64) and ``feature_scale`` (1 … 1000, log scale). Top: heatmaps of the
    batch, its batch norm and its layer norm. Bottom: mean ± std per feature and per sample for all three,
    and batch norm's output for one fixed sample in 40 random batches (training mode) against its
    evaluation-mode output and layer norm's. ``explorer.data`` is a
    :class:`~gdcourse.experiments.normalization.NormAxesView`.
    """
    controls = {
        "batch_size": _batch_slider(batch_size),
        "feature_scale": log_slider(feature_scale, 0, 3, "feature scale ratio", step=0.1),
    }
    return Explorer(
        controls,
        compute=lambda batch_size, feature_scale: E.norm_axes_view(batch_size, feature_scale),
        draw=lambda fig, view, **_: P.norm_axes_frame(fig, view)[1],
        figsize=(10, 6.2),
        title="Batch norm vs layer norm: which axis is normalized",
    )


def bn_batch_size_explorer(batch_size=8, tolerance=E.EXERCISE_TOLERANCE) -> Explorer:
    """How reliable batch statistics are for a batch size: the share of random batches whose mean is within
    ``tolerance`` standard deviations of the true mean, and the spread of one sample's BN output.

    Control: ``batch_size`` (2 … 64). ``explorer.data`` is a
    :class:`~gdcourse.experiments.normalization.BatchSizeView`.
    """
    return Explorer(
        {"batch_size": _batch_slider(batch_size)},
        compute=lambda batch_size: E.batch_size_view(batch_size, tolerance),
        draw=lambda fig, view, **_: P.batch_size_frame(fig, view)[1],
        figsize=(9, 3.5),
        title="Batch statistics vs batch size",
    )
