"""Matplotlib figures shared by the notebooks and the explorers.

Every function draws on an ``Axes`` it is given and returns what it drew, so the
same code serves a static figure in a notebook, a frame of an explorer and a
test that asserts on the plotted data (``ax.lines[0].get_ydata()``) rather than
on pixels. Topic-specific figures live in sub-modules (``gdcourse.plots.gd`` …).
"""

from __future__ import annotations

import numpy as np
from matplotlib import colors as mcolors

from gdcourse import landscapes as LS

__all__ = ["in_frame", "COLORS", "color", "landscape_contour", "landscape_contour_sets", "landscape_axes", "draw_path",
           "draw_paths", "loss_curves", "decade_limits", "set_path", "remove"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def color(i: int) -> str:
    """The ``i``-th color of the course palette (cycles)."""
    return COLORS[i % len(COLORS)]


def in_frame(*artists):
    """Mark artists that an explorer's updates rarely change (contours, a color map, reference curves).

    An explorer draws them with their axes' frame, so they are not drawn again on
    every update (see :mod:`gdcourse.widgets._canvas`); elsewhere the mark does
    nothing. Returns the artists.
    """
    for artist in artists:
        artist._in_frame = True
    return artists


def landscape_contour(ax, landscape, n=200, levels=30):
    """Contours of a 2-D landscape (log-spaced levels from ``landscapes.contour_levels``), minima starred."""
    cs, _ = landscape_contour_sets(ax, landscape, n, levels)
    landscape_axes(ax, landscape)
    return cs


def landscape_axes(ax, landscape):
    """What :func:`landscape_contour` adds to its contours: the minima starred, the bounds, labels and title."""
    for m in landscape.minima:
        ax.plot(*m, marker="*", color="gold", markersize=14, markeredgecolor="k", zorder=5)
    (xmin, xmax), (ymin, ymax) = landscape.bounds
    ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="$w_1$", ylabel="$w_2$", title=landscape.name)


def landscape_contour_sets(ax, landscape, n=200, levels=30):
    """The filled contours and the contour lines of :func:`landscape_contour`, without stars, limits or labels.

    An explorer that changes the landscape removes both (:func:`remove`) and draws new ones.
    """
    X, Y, Z = LS.grid(landscape, n=n)
    level_values = LS.contour_levels(Z, num=levels)
    norm = mcolors.LogNorm() if level_values.min() > 0 else None
    filled = ax.contourf(X, Y, Z, levels=level_values, norm=norm, cmap="Greys_r", alpha=0.55, extend="both")
    lines = ax.contour(X, Y, Z, levels=level_values, norm=norm, colors="0.45", linewidths=0.4)
    return filled, lines


def remove(*artists):
    """Remove artists from their axes (``None`` is skipped), e.g. contour sets an explorer replaces."""
    for artist in artists:
        if artist is not None:
            artist.remove()


def decade_limits(*series, floor=1e-16, ceiling=1e300, current=None, slack=2):
    """Log-axis limits at whole decades around the finite values of ``series`` in ``[floor, ceiling]``.

    Whole decades give every log axis a labelled power of ten (no "2.36×10⁰" on a
    narrow range) and limits that move only when the data crosses a decade, so an
    explorer's axes (and their costly tick labels) stay put while a slider moves.
    With ``current`` (the axes' limits now), those are kept while they hold the
    data with at most ``slack`` spare decades at either end: a lowest loss that
    wanders between 1e-12 and 1e-13 does not redraw the axis on every step.
    """
    values = np.concatenate([np.ravel(np.asarray(s, dtype=np.float64)) for s in series])
    values = values[np.isfinite(values)]
    values = np.clip(values[values > 0], floor, ceiling)
    if values.size == 0:
        return floor, 1.0
    low, high = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    if high <= low:
        high = low + 1
    if current is not None and min(current) > 0:
        now_low, now_high = np.log10(min(current)), np.log10(max(current))
        if now_low - 1e-9 <= low <= now_low + slack and now_high - slack <= high <= now_high + 1e-9:
            return tuple(sorted(current))
    return 10.0**low, 10.0**high


def set_path(line, start, points):
    """Move the path ``line`` and its ``start`` marker (from :func:`draw_path`) to ``points (T, 2)``."""
    points = np.asarray(points)
    line.set_data(points[:, 0], points[:, 1])
    start.set_data([points[0, 0]], [points[0, 1]])


def draw_path(ax, points, label, i=0, marker="o"):
    """An optimizer's path ``points (T, 2)`` as a line with markers; the start is a larger dot, ``line.start``."""
    points = np.asarray(points)
    (line,) = ax.plot(points[:, 0], points[:, 1], marker=marker, markersize=2.5, lw=1.4, color=color(i), label=label)
    (line.start,) = ax.plot([points[0, 0]], [points[0, 1]], "o", color=color(i), markersize=6, markeredgecolor="k")
    return line


def draw_paths(ax, paths: dict):
    """Several named paths (``landscapes.Path`` or ``(T, 2)`` arrays) on one axes, with a legend."""
    lines = [draw_path(ax, getattr(p, "points", p), label, i) for i, (label, p) in enumerate(paths.items())]
    if lines:
        ax.legend(loc="best", fontsize=8)
    return lines


def loss_curves(ax, curves: dict, log=True, xlabel="step", ylabel="loss"):
    """Named 1-D series on one axes (log scale for losses by default)."""
    lines = []
    for i, (label, values) in enumerate(curves.items()):
        (line,) = ax.plot(np.arange(len(values)), values, color=color(i), label=label, lw=1.5)
        lines.append(line)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    if lines:
        ax.legend(loc="best", fontsize=8)
    return lines


from gdcourse.plots.inline import draw_figures_once  # noqa: E402  (figures drawn once in a notebook)

draw_figures_once()
