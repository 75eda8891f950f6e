"""Notebook figures drawn once: IPython's inline backend without ``bbox_inches="tight"`` where it is not needed.

The inline backend saves every figure with ``bbox_inches="tight"``, which draws it twice
(once to measure, once to save). A figure with a constrained (or tight) layout already fits
its labels inside the figure, so for it the measuring draw only costs time: about 30 % of the
rendering time of a notebook (notebook 07: 3.3 s → 2.3 s of CPU). :func:`draw_figures_once`
makes the running IPython kernel save such figures as they are laid out, and keeps "tight"
for a figure without a layout engine (its labels may stick out). :mod:`gdcourse.plots` calls
it when imported, which every chapter notebook does in its first cell. Outside IPython, or
when PNG is not one of the inline figure formats, it does nothing.

The same formatter thins the unlabelled minor ticks of wide log axes (:class:`ThinLogMinorLocator`).
Matplotlib puts a minor tick at 2, 3, ..., 9 times every power of ten, and each tick costs about
2 ms to lay out and draw: a two-panel log-log figure spanning six decades took 590 ms with them and
170 ms without. Over more than two decades those ticks carry no labels (matplotlib labels minor
ticks only while at most one power of ten is in view, which needs a span under two decades), so
keeping the ones at 2 and 5 up to five decades, and none beyond, loses no label, while axes of two
decades or less keep every minor tick and its label.
"""

from __future__ import annotations

import functools
import math
import sys

import numpy as np
from matplotlib.ticker import Locator

__all__ = ["draw_figures_once", "needs_tight_bbox", "ThinLogMinorLocator", "thin_log_minor_ticks"]

ALL_MINOR_UP_TO = 2.0      # decades: up to this span every minor tick (and any minor label) stays
SOME_MINOR_UP_TO = 5.0     # decades: up to this span the ticks at 2 and 5 stay; beyond it, none


class ThinLogMinorLocator(Locator):
    """Minor ticks of a log axis: those of ``inner`` on short spans, fewer on wide ones.

    The span is the view's width in decades, ``log10(vmax / vmin)``: up to ``ALL_MINOR_UP_TO`` the
    ticks of ``inner`` (matplotlib's 2, ..., 9 per decade), up to ``SOME_MINOR_UP_TO`` only those
    at 2 and 5 times a power of ten, beyond it none.
    """

    def __init__(self, inner: Locator):
        self.inner = inner

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin, vmax):
        low, high = sorted((vmin, vmax))
        if low <= 0 and self.axis is not None:
            low = self.axis.get_minpos()
        decades = math.log10(high / low) if 0 < low < high and math.isfinite(high) else 0.0
        if decades > SOME_MINOR_UP_TO:
            return np.array([])
        ticks = np.asarray(self.inner.tick_values(vmin, vmax), dtype=float)
        if decades <= ALL_MINOR_UP_TO:
            return ticks
        positive = ticks[ticks > 0]
        mantissa = positive / 10.0 ** np.floor(np.log10(positive) + 1e-12)
        return positive[np.isclose(mantissa, 2.0) | np.isclose(mantissa, 5.0)]


def thin_log_minor_ticks(fig) -> None:
    """Wrap the minor locator of every log axis of ``fig`` in :class:`ThinLogMinorLocator` (once)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_minor_locator()
            if axis.get_scale() == "log" and not isinstance(locator, ThinLogMinorLocator):
                axis.set_minor_locator(ThinLogMinorLocator(locator))


def needs_tight_bbox(fig) -> bool:
    """Whether ``fig`` has no layout engine that keeps its labels inside it (constrained or tight)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    return not isinstance(fig.get_layout_engine(), (ConstrainedLayoutEngine, TightLayoutEngine))


def _png(fig, **kwargs):
    from IPython.core.pylabtools import print_figure

    thin_log_minor_ticks(fig)
    return print_figure(fig, "png", base64=True, bbox_inches="tight" if needs_tight_bbox(fig) else None, **kwargs)


def draw_figures_once() -> bool:
    """Register a PNG formatter for figures that measures them only when they have no layout engine.

    Returns whether it did (a running IPython shell with PNG among the inline figure formats).
    """
    if "IPython" not in sys.modules:     # not in IPython: nothing to configure, and nothing to import
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    try:
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return False
    from matplotlib.figure import Figure

    config = InlineBackend.instance(parent=shell)
    if "png" not in config.figure_formats:
        return False
    kwargs = {k: v for k, v in config.print_figure_kwargs.items() if k != "bbox_inches"}
    shell.display_formatter.formatters["image/png"].for_type(Figure, functools.partial(_png, **kwargs))
    return True
