"""Figures of notebook 03 (optimizers), shared by its static plots and explorers.

Each function draws on the axes (or figure) it is given and returns what it drew,
so tests can assert on the plotted data.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib import colors as mcolors

from gdcourse.plots import (
    color,
    decade_limits,
    draw_path,
    draw_paths,
    in_frame,
    landscape_axes,
    landscape_contour,
    landscape_contour_sets,
    remove,
    set_path,
)

__all__ = ["FAMILY_TREE", "family_tree", "draw_rate_map", "draw_rate_explorer", "rate_explorer_frame", "draw_race",
           "race_frame", "gap_curves"]

GAP_FLOOR = 1e-16
"""Gaps below this are drawn at it, so an exact minimum stays on a log axis."""

FAMILY_TREE = {
    # node: (x, y, what it changes)
    "gradient descent": (0.42, 0.93, "θ ← θ − γ∇f"),
    "SGD / mini-batch": (0.09, 0.70, "gradient from a batch"),
    "momentum": (0.33, 0.70, "+ velocity of past gradients"),
    "Nesterov": (0.13, 0.46, "gradient at the look-ahead"),
    "Adagrad": (0.60, 0.70, "÷ √(Σ g²) per coordinate"),
    "RMSprop": (0.52, 0.46, "÷ √(moving avg of g²)"),
    "Adadelta": (0.74, 0.46, "× RMS(Δθ): no γ"),
    "Adam": (0.42, 0.22, "momentum + RMSprop + bias corr."),
    "AdamW / AMSGrad / NAdam": (0.42, 0.01, "decoupled decay / max v / Nesterov"),
    "Newton": (0.89, 0.70, "÷ Hessian: curvature"),
    "L-BFGS": (0.89, 0.22, "Hessian from gradient history"),
}
"""Where each family member sits in :func:`family_tree` and what it changes."""

_EDGES = [("gradient descent", "SGD / mini-batch"), ("gradient descent", "momentum"),
          ("gradient descent", "Adagrad"), ("gradient descent", "Newton"), ("momentum", "Nesterov"),
          ("Adagrad", "RMSprop"), ("Adagrad", "Adadelta"), ("RMSprop", "Adam"), ("momentum", "Adam"),
          ("Adam", "AdamW / AMSGrad / NAdam"), ("Newton", "L-BFGS")]


def family_tree(ax):
    """The gradient-descent family as a tree: each box names a method and what it changes. Returns edges."""
    for parent, child in _EDGES:
        (x0, y0, _), (x1, y1, _) = FAMILY_TREE[parent], FAMILY_TREE[child]
        ax.annotate("", xy=(x1, y1 + 0.05), xytext=(x0, y0 - 0.05),
                    arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 1.1})
    groups = {"SGD / mini-batch": 0, "momentum": 1, "Nesterov": 1, "Adagrad": 2, "RMSprop": 2, "Adadelta": 2,
              "Adam": 3, "AdamW / AMSGrad / NAdam": 3, "Newton": 4, "L-BFGS": 4}
    for name, (x, y, change) in FAMILY_TREE.items():
        edge = color(groups[name]) if name in groups else "0.2"
        ax.text(x, y, f"{name}\n{change}", ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": edge, "lw": 1.6})
    ax.set(xlim=(0, 1), ylim=(-0.05, 1.0))
    ax.axis("off")
    return list(_EDGES)


def draw_rate_map(ax, data, show_optimum=True, colorbar=True):
    """Heavy-ball convergence over (α, β): steps to shrink the error 10⁶-fold, ``ln 10⁻⁶ / ln ρ`` (log color).

    Settings that do not converge (ρ ≥ 1) are dark red. ``data`` is a
    :class:`gdcourse.experiments.optimizers.RateMapData`; the map is drawn against
    ``α · L`` so its scale does not depend on κ. Marks the chosen point and, with
    ``show_optimum``, (α*, β*). Returns the mesh.
    """
    cmap = colormaps["viridis_r"].with_extremes(over="#7f0000")
    with np.errstate(divide="ignore"):
        steps = np.where(data.rates < 1, np.log(1e-6) / np.log(np.minimum(data.rates, 1 - 1e-16)), np.inf)
    norm = mcolors.LogNorm(vmin=max(1.0, float(steps.min())), vmax=1e4)
    L = float(np.max(data.eigenvalues))
    # Slow runs get the top color; only rates >= 1 get the "over" color that means "diverges".
    shown = np.where(data.rates < 1, np.minimum(steps, 1e4), 1e300)
    mesh = ax.pcolormesh(data.alphas * L, data.betas, shown, cmap=cmap, norm=norm, shading="auto")
    ax.contour(data.alphas * L, data.betas, steps, levels=[100, 1000], colors="w", linewidths=0.6)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="steps to shrink the error 10⁶×", extend="max")
    if show_optimum:
        alpha, beta, _ = data.optimum
        ax.plot(alpha * L, beta, "*", color="gold", markersize=15, markeredgecolor="k",
                label=f"optimum α·L={alpha * L:.2f}, β={beta:.3f}")
    if data.rate >= 1:
        chosen = "diverges"
    else:
        chosen = f"ρ={data.rate:.3f}, {np.log(1e-6) / np.log(data.rate):.0f} steps"
    ax.plot(data.lr * L, data.momentum, "o", color="w", markersize=8, markeredgecolor="k",
            label=f"chosen: {chosen}")
    ax.set(xlabel="learning rate × L", ylabel="momentum β",
           title=f"heavy-ball rate map, κ = {data.kappa:.3g}")
    ax.legend(loc="lower left", fontsize=7)
    return mesh


def gap_curves(ax, gaps: dict, ylabel="f(x_t) − f*"):
    """Several named gap series on a log axis (gaps below 1e-16 at 1e-16). Returns the lines."""
    lines = []
    for i, (label, values) in enumerate(gaps.items()):
        values = np.asarray(values, dtype=np.float64)
        shown = np.maximum(np.where(np.isfinite(values), values, np.nan), GAP_FLOOR)
        (line,) = ax.plot(np.arange(len(values)), shown, color=color(i), lw=1.5, label=label)
        lines.append(line)
    ax.set(yscale="log", xlabel="step t", ylabel=ylabel)
    if lines:
        ax.legend(fontsize=8)
    return lines


def draw_rate_explorer(fig, data, show_optimum=True):
    """The momentum explorer: rate map | chosen path on the quadratic | distance to the minimum vs ρᵗ."""
    ax_map, ax_path, ax_gap = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.25, 1, 1]})
    draw_rate_map(ax_map, data, show_optimum, colorbar=True)
    landscape_contour(ax_path, data.path.landscape, n=120, levels=20)
    draw_paths(ax_path, {f"γ={data.lr:.3g}, β={data.momentum:.2f}": data.path})
    ax_path.set_title("its path")
    distance = np.hypot(*data.path.points.T)
    steps = np.arange(len(distance))
    curves = {"|x_t| (run)": distance}
    if data.rate < 1:
        curves[f"ρᵗ·|x₀|, ρ={data.rate:.3f}"] = distance[0] * data.rate**steps
    lines = gap_curves(ax_gap, curves, ylabel="distance to minimum")
    if len(lines) > 1:
        lines[1].set(linestyle="--", color="k")
        ax_gap.legend(fontsize=8)
    ax_gap.set_title("convergence")
    return ax_map, ax_path, ax_gap


def draw_race(fig, data):
    """The optimizer race: paths on the contour plot | loss gap (or loss on the saddle) per step."""
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
    landscape = data.landscape
    landscape_contour(ax_path, landscape, n=150, levels=25)
    flag = " (diverged)" if landscape.minima else " (escaped)"
    labelled = {f"{name}{flag if path.diverged else ''}": path for name, path in data.paths.items()}
    draw_paths(ax_path, labelled)
    (xmin, xmax), (ymin, ymax) = landscape.bounds
    ax_path.set(xlim=(xmin, xmax), ylim=(ymin, ymax), title=landscape.name)
    if landscape.minima:
        f_min = float(landscape.value(landscape.minima[0]))
        gap_curves(ax_loss, {name: path.values - f_min for name, path in data.paths.items()})
    else:
        for i, (name, path) in enumerate(data.paths.items()):
            ax_loss.plot(path.values, color=color(i), label=name, lw=1.5)
        ax_loss.set(xlabel="step t", ylabel="f(x_t)", ylim=(-4.5, 4.5))
        ax_loss.legend(fontsize=8)
    ax_loss.set_title("loss per step")
    return ax_path, ax_loss


# ---------------------------------------------------------------- explorer frames (draw once, then update)

def _steps_to_shrink(rates):
    """``ln 10⁻⁶ / ln ρ`` where ρ < 1, else inf: the color of :func:`draw_rate_map`."""
    with np.errstate(divide="ignore"):
        return np.where(rates < 1, np.log(1e-6) / np.log(np.minimum(rates, 1 - 1e-16)), np.inf)


def _chosen_label(data):
    if data.rate >= 1:
        return "chosen: diverges"
    return f"chosen: ρ={data.rate:.3f}, {np.log(1e-6) / np.log(data.rate):.0f} steps"


def rate_explorer_frame(fig, data, show_optimum=True):
    """The momentum explorer as a frame that updates in place; returns ``update(data, show_optimum)``.

    Same panels as :func:`draw_rate_explorer`: the rate map (κ only changes its
    colors: it is drawn against α·L), the path on ``Quadratic(κ)`` and the distance
    to the minimum against ``ρᵗ·|x₀|`` on a log axis with whole-decade limits.
    """
    ax_map, ax_path, ax_gap = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.25, 1, 1]})
    mesh = draw_rate_map(ax_map, data, show_optimum=True, colorbar=True)
    lines = {line.get_label().split(" ")[0]: line for line in ax_map.lines}
    star, chosen = lines["optimum"], lines["chosen:"]
    levels = [c for c in ax_map.collections if c is not mesh]
    filled, contour_lines = landscape_contour_sets(ax_path, data.path.landscape, n=120, levels=20)
    in_frame(mesh, *levels, filled, contour_lines)
    landscape_axes(ax_path, data.path.landscape)
    ax_path.set_title("its path")
    path = draw_path(ax_path, data.path.points, label="")
    run, = ax_gap.plot([], [], color=color(0), lw=1.5, label="|x_t| (run)")
    bound, = ax_gap.plot([], [], color="k", lw=1.5, ls="--")
    ax_gap.set(yscale="log", xlabel="step t", ylabel="distance to minimum", title="convergence")
    state = {"kappa": data.kappa, "levels": levels, "contours": (filled, contour_lines)}

    def update(data, show_optimum=True, **_):
        L = float(np.max(data.eigenvalues))
        if data.kappa != state["kappa"]:
            steps = _steps_to_shrink(data.rates)
            mesh.set_array(np.where(data.rates < 1, np.minimum(steps, 1e4), 1e300))
            mesh.norm.vmin = max(1.0, float(steps.min()))
            remove(*state["levels"], *state["contours"])
            state["levels"] = in_frame(ax_map.contour(data.alphas * L, data.betas, steps, levels=[100, 1000],
                                                      colors="w", linewidths=0.6))
            state["contours"] = in_frame(*landscape_contour_sets(ax_path, data.path.landscape, n=120, levels=20))
            state["kappa"] = data.kappa
        alpha, beta, _ = data.optimum
        star.set_data([alpha * L], [beta])
        star.set_label(f"optimum α·L={alpha * L:.2f}, β={beta:.3f}")
        star.set_visible(show_optimum)
        chosen.set_data([data.lr * L], [data.momentum])
        chosen.set_label(_chosen_label(data))
        ax_map.set_title(f"heavy-ball rate map, κ = {data.kappa:.3g}")
        ax_map.legend(handles=[h for h in (star, chosen) if h.get_visible()], loc="lower left", fontsize=7)
        set_path(path, path.start, data.path.points)
        path.set_label(f"γ={data.lr:.3g}, β={data.momentum:.2f}")
        ax_path.legend(handles=[path], loc="best", fontsize=8)
        distance = np.hypot(*data.path.points.T)
        steps = np.arange(len(distance))
        shown = np.maximum(np.where(np.isfinite(distance), distance, np.nan), GAP_FLOOR)
        run.set_data(steps, shown)
        converging = data.rate < 1
        reference = distance[0] * data.rate**steps if converging else np.array([])
        bound.set_data(steps[:len(reference)], reference)
        bound.set_visible(converging)
        bound.set_label(f"ρᵗ·|x₀|, ρ={data.rate:.3f}")
        last = max(len(distance) - 1, 1)
        ax_gap.set_xlim(-0.05 * last, 1.05 * last)         # matplotlib's default margins
        ax_gap.set_ylim(*decade_limits(shown, reference, current=ax_gap.get_ylim()))
        ax_gap.legend(handles=[h for h in (run, bound) if h.get_visible()], fontsize=8)

    update(data, show_optimum)
    return update


def race_frame(fig, data):
    """The optimizer race as a frame that updates in place; returns ``update(data)``.

    Same panels as :func:`draw_race`. Another landscape or another set of
    optimizers asks for a new frame (``"redraw"``); other settings move the paths
    and the loss curves (log axis with whole-decade limits).
    """
    ax_path, ax_loss = draw_race(fig, data)
    in_frame(*ax_path.collections)                        # the landscape's contours
    landscape, names = data.landscape, tuple(data.paths)
    paths = [line for line in ax_path.lines if hasattr(line, "start")]
    curves = list(ax_loss.lines)
    flag = " (diverged)" if landscape.minima else " (escaped)"

    def update(data, **_):
        if data.landscape.name != landscape.name or tuple(data.paths) != names:
            return "redraw"
        for line, curve, (name, path) in zip(paths, curves, data.paths.items(), strict=True):
            set_path(line, line.start, path.points)
            line.set_label(f"{name}{flag if path.diverged else ''}")
            values = np.asarray(path.values, dtype=np.float64)
            if landscape.minima:
                values = np.maximum(np.where(np.isfinite(values), values - _f_min(landscape), np.nan), GAP_FLOOR)
            curve.set_data(np.arange(len(values)), values)
        ax_path.legend(handles=paths, loc="best", fontsize=8)
        _fit_loss_axes(ax_loss, curves, landscape)
        return None

    _fit_loss_axes(ax_loss, curves, landscape)
    return update


def _f_min(landscape):
    return float(landscape.value(landscape.minima[0]))


def _fit_loss_axes(ax, curves, landscape):
    last = max(max(len(c.get_xdata()) for c in curves) - 1, 1)
    ax.set_xlim(-0.05 * last, 1.05 * last)                # matplotlib's default margins
    if landscape.minima:
        ax.set_ylim(*decade_limits(*(c.get_ydata() for c in curves), current=ax.get_ylim()))
