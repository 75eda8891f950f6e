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

__all__ = ["COLORS", "color", "landscape_contour", "draw_path", "draw_paths", "loss_curves"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def color(i: int) -> str:
    """The ``i``-th color of the course palette (cycles)."""
    return COLORS[i % len(COLORS)]


def landscape_contour(ax, landscape, n=200, levels=30):
    """Contours of a 2-D landscape (log-spaced levels from ``landscapes.contour_levels``), minima starred."""
    X, Y, Z = LS.grid(landscape, n=n)
    level_values = LS.contour_levels(Z, num=levels)
    norm = mcolors.LogNorm() if level_values.min() > 0 else None
    cs = ax.contourf(X, Y, Z, levels=level_values, norm=norm, cmap="Greys_r", alpha=0.55, extend="both")
    ax.contour(X, Y, Z, levels=level_values, norm=norm, colors="0.45", linewidths=0.4)
    for m in landscape.minima:
        ax.plot(*m, marker="*", color="gold", markersize=14, markeredgecolor="k", zorder=5)
    (xmin, xmax), (ymin, ymax) = landscape.bounds
    ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="$w_1$", ylabel="$w_2$", title=landscape.name)
    return cs


def draw_path(ax, points, label, i=0, marker="o"):
    """An optimizer's path ``points (T, 2)`` as a line with markers; the start is a larger dot."""
    points = np.asarray(points)
    (line,) = ax.plot(points[:, 0], points[:, 1], marker=marker, markersize=2.5, lw=1.4, color=color(i), label=label)
    ax.plot(*points[0], "o", color=color(i), markersize=6, markeredgecolor="k")
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
