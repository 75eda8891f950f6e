"""Figures of notebook 01 (gradient descent basics), shared by its static plots and explorers.

Each function draws on the axes (or figure) it is given and returns what it drew,
so tests can assert on the plotted data.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from gdcourse.experiments import gd as E
from gdcourse.plots import (
    color,
    decade_limits,
    draw_path,
    in_frame,
    landscape_axes,
    landscape_contour,
    landscape_contour_sets,
    remove,
    set_path,
)

__all__ = ["function_path", "contraction_curves", "gap_curve", "draw_lr_run_1d", "draw_lr_run_quadratic",
           "lr_run_1d_frame", "lr_run_quadratic_frame", "basins", "gradient_field"]

GAP_FLOOR = 1e-16
"""Gaps below this are drawn at it, so an exact minimum (gap 0) stays on a log axis."""


def function_path(ax, function, xs, label=None, i=0, curve=True):
    """``f`` over its bounds (grey) and the iterates ``xs (k + 1,)`` on it, in order; minima starred."""
    if curve:
        grid = np.linspace(*function.bounds, 400)
        ax.plot(grid, function.value(grid), color="0.55", lw=1.2, zorder=1)
        for m in function.minima:
            ax.plot(m, function.value(m), marker="*", color="gold", markersize=13, markeredgecolor="k",
                    zorder=5)
        ax.set(xlabel="x", ylabel="f(x)", xlim=function.bounds, title=function.formula)
    shown = np.clip(xs, *function.bounds)  # a diverging run is drawn up to the edge of the window
    with np.errstate(over="ignore", invalid="ignore"):
        values = function.value(shown)
    (line,) = ax.plot(shown, values, "-o", color=color(i), markersize=3.5, lw=1, label=label, zorder=3)
    ax.plot(shown[0], values[0], "o", color=color(i), markersize=7, markeredgecolor="k", zorder=4)
    return line


def gap_curve(ax, gaps, label=None, i=0, ylabel="f(x_t) − f*"):
    """The gap to the minimum value per step on a log axis (gaps below 1e-16 drawn at 1e-16)."""
    shown = np.maximum(np.where(np.isfinite(gaps), gaps, np.nan), GAP_FLOOR)
    (line,) = ax.plot(np.arange(len(gaps)), shown, color=color(i), lw=1.5, label=label)
    ax.set(yscale="log", xlabel="step t", ylabel=ylabel)
    return line


def contraction_curves(ax, landscape, lr, lr_range=None, show_threshold=True, at=None):
    """``|1 − η λ|`` against η for each curvature λ (log η axis), the current ``lr`` dotted on the worst one.

    With ``show_threshold`` the divergence threshold ``2/λ_max`` (and, for two
    curvatures, the best fixed rate ``2/(λ_min + λ_max)``) are drawn as vertical lines.
    Returns the curve lines, in the order of :func:`gdcourse.experiments.gd.curvatures`.
    """
    lam = E.curvatures(landscape, at)
    threshold = E.divergence_threshold(landscape, at)
    low, high = lr_range if lr_range is not None else (threshold / 100, threshold * 3)
    lrs = np.geomspace(low, high, 300)
    factors = E.contraction_factors(landscape, lrs, at)
    names = ["λ"] if lam.size == 1 else ["μ", "L"]
    lines = []
    for k, (name, value) in enumerate(zip(names, lam, strict=True)):
        label = f"|1 − η{name}|, {name} = {value:.3g}"
        (line,) = ax.plot(lrs, factors[:, k], color=color(k + 2), lw=1.5, label=label)
        lines.append(line)
    ax.axhline(1.0, color="0.3", lw=0.8, ls=":")
    if show_threshold:
        ax.axvline(threshold, color="#cf222e", lw=1.2, ls="--", label=f"2/{names[-1]} = {threshold:.3g}")
        if lam.size == 2:
            best = E.optimal_lr(landscape, at)
            ax.axvline(best, color="#1a7f37", lw=1.0, ls="--", label=f"2/(μ + L) = {best:.3g}")
    current = float(E.contraction_factors(landscape, lr, at).max())
    ax.plot([lr], [min(current, 2.0)], "o", color="k", markersize=7,
            label=f"η = {lr:.3g}: factor {current:.3g}")
    ax.set(xscale="log", ylim=(0, 2), xlim=(low, high), xlabel="learning rate η",
           ylabel="error factor per step")
    ax.set_title("contraction per eigendirection", fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    return lines


def draw_lr_run_1d(fig, run, show_threshold=True):
    """Explorer frame for :class:`~gdcourse.experiments.gd.LRRun1D`: path on f, gap per step, contraction."""
    ax_path, ax_gap, ax_factor = fig.subplots(1, 3, width_ratios=[1.2, 1, 1.1])
    function_path(ax_path, run.function, run.xs, label=f"η = {run.lr:.3g}")
    ax_path.set_title(f"{run.function.formula}: {run.verdict}", fontsize=9)
    gap_curve(ax_gap, run.gaps, ylabel="f(x_t) − f(x*)")
    ax_gap.set_title(f"loss gap to the minimum x* = {run.minimum:.3g}", fontsize=9)
    span = (min(run.lr, run.threshold) / 30, max(run.lr, run.threshold) * 3)
    contraction_curves(ax_factor, run.function, run.lr, lr_range=span, show_threshold=show_threshold,
                       at=run.minimum)
    ax_factor.set_title(f"contraction near x* = {run.minimum:.3g}", fontsize=9)
    return ax_path, ax_gap, ax_factor


def draw_lr_run_quadratic(fig, run, show_threshold=True):
    """Explorer frame for :class:`~gdcourse.experiments.gd.LRRunQuadratic`: path, gap, contraction."""
    ax_path, ax_gap, ax_factor = fig.subplots(1, 3, width_ratios=[1, 1, 1.1])
    landscape_contour(ax_path, run.landscape, n=120, levels=20)
    draw_path(ax_path, run.path.points, label=f"η = {run.lr:.3g}")
    ax_path.set_title(f"κ = {run.landscape.condition_number:g}: {run.verdict}", fontsize=9)
    gap_curve(ax_gap, run.path.values, label="GD")
    steps = np.arange(len(run.path.values))
    with np.errstate(over="ignore", under="ignore"):
        envelope = run.path.values[0] * run.rate ** (2.0 * steps)
    ax_gap.plot(steps, np.clip(envelope, GAP_FLOOR, 1e300), color="0.4", ls=":", lw=1,
                label="f₀ · factor^(2t)")
    ax_gap.legend(fontsize=7, loc="lower left")
    ax_gap.set_title("loss gap (log)", fontsize=9)
    span = (min(run.lr, run.threshold) / 30, max(run.lr, run.threshold) * 3)
    contraction_curves(ax_factor, run.landscape, run.lr, lr_range=span, show_threshold=show_threshold)
    return ax_path, ax_gap, ax_factor


def basins(ax, landscape, X, Y, labels):
    """Colour each start by the minimum GD reached from it (white: none); minima starred."""
    count = len(landscape.minima)
    cmap = ListedColormap(["white"] + [color(k) for k in range(count)])
    mesh = ax.pcolormesh(X, Y, labels, cmap=cmap, vmin=-1.5, vmax=count - 0.5, shading="auto", alpha=0.55)
    for k, m in enumerate(landscape.minima):
        ax.plot(*m, marker="*", color=color(k), markersize=15, markeredgecolor="k",
                label=f"({m[0]:.2f}, {m[1]:.2f})")
    ax.set(xlabel="start $w_1$", ylabel="start $w_2$", title=f"{landscape.name}: which minimum GD reaches")
    ax.legend(fontsize=7, loc="upper left", title="minimum", title_fontsize=7)
    return mesh


def gradient_field(ax, landscape, n=15):
    """Unit arrows along ``∇f`` (uphill) on a grid, over the landscape's contours."""
    landscape_contour(ax, landscape, n=150, levels=20)
    (x0, x1), (y0, y1) = landscape.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    G = landscape.gradient(np.stack([X, Y]))
    norm = np.maximum(np.hypot(G[0], G[1]), 1e-12)
    return ax.quiver(X, Y, G[0] / norm, G[1] / norm, color="#cf222e", width=0.004, scale=25)


# ---------------------------------------------------------------- explorer frames (draw once, then update)

def _lr_span(lr_range, threshold):
    """The η axis of a contraction panel: the slider's range, widened to show 2/λ with room on both sides."""
    low, high = lr_range
    return min(low, threshold / 30), max(high, threshold * 3)


class _Contraction:
    """The handles of a :func:`contraction_curves` panel, and how to move them to another rate or landscape."""

    def __init__(self, ax, landscape, lr, lr_range, show_threshold, at=None):
        self.ax, self.at = ax, at
        self.curves = contraction_curves(ax, landscape, lr, lr_range=lr_range, show_threshold=True, at=at)
        by_label = {line.get_label(): line for line in ax.lines}
        self.threshold = next(v for k, v in by_label.items() if k.startswith("2/") and "+" not in k)
        self.best = next((v for k, v in by_label.items() if k.startswith("2/(")), None)
        self.dot = next(v for k, v in by_label.items() if k.startswith("η ="))
        self.update(landscape, lr, show_threshold)

    def update(self, landscape, lr, show_threshold):
        lam = E.curvatures(landscape, self.at)
        lrs = self.curves[0].get_xdata()
        factors = E.contraction_factors(landscape, lrs, self.at)
        names = ["λ"] if lam.size == 1 else ["μ", "L"]
        for k, (line, name, value) in enumerate(zip(self.curves, names, lam, strict=True)):
            line.set_ydata(factors[:, k])
            line.set_label(f"|1 − η{name}|, {name} = {value:.3g}")
        threshold = E.divergence_threshold(landscape, self.at)
        self.threshold.set_xdata([threshold, threshold])
        self.threshold.set_label(f"2/{names[-1]} = {threshold:.3g}")
        marks = [self.threshold]
        if self.best is not None:
            best = E.optimal_lr(landscape, self.at)
            self.best.set_xdata([best, best])
            self.best.set_label(f"2/(μ + L) = {best:.3g}")
            marks.append(self.best)
        for line in marks:
            line.set_visible(show_threshold)
        current = float(E.contraction_factors(landscape, lr, self.at).max())
        self.dot.set_data([lr], [min(current, 2.0)])
        self.dot.set_label(f"η = {lr:.3g}: factor {current:.3g}")
        shown = [line for line in self.ax.lines if line.get_visible() and not line.get_label().startswith("_")]
        self.ax.legend(handles=shown, loc="upper left", fontsize=7)


def lr_run_1d_frame(fig, run, show_threshold=True, lr_range=(1e-3, 10**0.5)):
    """The 1-D learning-rate explorer as a frame that updates in place; returns ``update(run, show_threshold)``.

    Panels as :func:`draw_lr_run_1d`; the η axis of the contraction panel spans
    ``lr_range`` (the slider's), so moving η moves only the dot. Another function,
    or a run heading for another minimum, asks for a new frame.
    """
    ax_path, ax_gap, ax_factor = fig.subplots(1, 3, width_ratios=[1.2, 1, 1.1])
    path = function_path(ax_path, run.function, run.xs, label=f"η = {run.lr:.3g}")
    start = ax_path.lines[-1]
    in_frame(ax_path.lines[0])                            # the curve of f
    gap = gap_curve(ax_gap, run.gaps, ylabel="f(x_t) − f(x*)")
    ax_gap.set_title(f"loss gap to the minimum x* = {run.minimum:.3g}", fontsize=9)
    contraction = _Contraction(ax_factor, run.function, run.lr, _lr_span(lr_range, run.threshold), show_threshold,
                               at=run.minimum)
    ax_factor.set_title(f"contraction near x* = {run.minimum:.3g}", fontsize=9)
    frame = (run.function.name, run.minimum)

    def update(run, show_threshold=True, **_):
        if (run.function.name, run.minimum) != frame:
            return "redraw"
        shown = np.clip(run.xs, *run.function.bounds)
        with np.errstate(over="ignore", invalid="ignore"):
            values = run.function.value(shown)
        path.set_data(shown, values)
        path.set_label(f"η = {run.lr:.3g}")
        start.set_data([shown[0]], [values[0]])
        ax_path.set_title(f"{run.function.formula}: {run.verdict}", fontsize=9)
        gaps = np.maximum(np.where(np.isfinite(run.gaps), run.gaps, np.nan), GAP_FLOOR)
        gap.set_data(np.arange(len(gaps)), gaps)
        ax_gap.set_ylim(*decade_limits(gaps, current=ax_gap.get_ylim()))
        contraction.update(run.function, run.lr, show_threshold)
        return None

    update(run, show_threshold)
    return update


def lr_run_quadratic_frame(fig, run, show_threshold=True, lr_range=(6e-4, 6.0)):
    """The quadratic learning-rate explorer as a frame that updates in place; returns ``update(run, ...)``.

    Panels as :func:`draw_lr_run_quadratic`; the η axis spans ``lr_range``, wide
    enough for every κ and η of the sliders, so a change of κ redraws only the
    contours, the curves and the threshold marks.
    """
    ax_path, ax_gap, ax_factor = fig.subplots(1, 3, width_ratios=[1, 1, 1.1])
    contours = in_frame(*landscape_contour_sets(ax_path, run.landscape, n=120, levels=20))
    landscape_axes(ax_path, run.landscape)
    path = draw_path(ax_path, run.path.points, label=f"η = {run.lr:.3g}")
    gap = gap_curve(ax_gap, run.path.values, label="GD")
    (envelope,) = ax_gap.plot([], [], color="0.4", ls=":", lw=1, label="f₀ · factor^(2t)")
    ax_gap.legend(fontsize=7, loc="lower left")
    ax_gap.set_title("loss gap (log)", fontsize=9)
    contraction = _Contraction(ax_factor, run.landscape, run.lr, lr_range, show_threshold)
    state = {"kappa": run.landscape.condition_number, "contours": contours}

    def update(run, show_threshold=True, **_):
        if run.landscape.condition_number != state["kappa"]:
            remove(*state["contours"])
            state["contours"] = in_frame(*landscape_contour_sets(ax_path, run.landscape, n=120, levels=20))
            state["kappa"] = run.landscape.condition_number
        set_path(path, path.start, run.path.points)
        path.set_label(f"η = {run.lr:.3g}")
        ax_path.set_title(f"κ = {run.landscape.condition_number:g}: {run.verdict}", fontsize=9)
        values = run.path.values
        gaps = np.maximum(np.where(np.isfinite(values), values, np.nan), GAP_FLOOR)
        steps = np.arange(len(values))
        gap.set_data(steps, gaps)
        with np.errstate(over="ignore", under="ignore"):
            bound = np.clip(values[0] * run.rate ** (2.0 * steps), GAP_FLOOR, 1e300)
        envelope.set_data(steps, bound)
        ax_gap.set_ylim(*decade_limits(gaps, bound, current=ax_gap.get_ylim()))
        contraction.update(run.landscape, run.lr, show_threshold)
        return None

    update(run, show_threshold)
    return update
