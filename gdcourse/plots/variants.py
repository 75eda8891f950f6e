"""Figures of notebook 02 (GD variants), shared by the notebook and the explorers of
:mod:`gdcourse.widgets.variants`. Each function draws on the axes it is given and
returns what it drew, so tests can assert on the plotted data."""

from __future__ import annotations

import numpy as np

from gdcourse.experiments import variants as E
from gdcourse.plots import color, in_frame

__all__ = [
    "draw_curves", "draw_noise_scaling", "draw_least_squares_contour", "draw_batch_paths",
    "draw_gradient_cloud", "draw_schedules", "draw_lr_curve", "draw_async_curves", "draw_stability_map",
    "batch_size_frame", "schedule_frame", "lr_curves_frame", "async_frame",
]


def draw_curves(ax, curves: dict, xlabel: str, ylabel: str, logx=False, logy=True, styles=None):
    """Named series ``label -> (x, y)`` on one axes, with a legend. ``styles`` maps label -> plot kwargs."""
    lines = []
    for i, (label, (x, y)) in enumerate(curves.items()):
        kwargs = {"color": color(i), "lw": 1.4} | (styles or {}).get(label, {})
        (line,) = ax.plot(x, y, label=label, **kwargs)
        lines.append(line)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if lines:
        ax.legend(loc="best", fontsize=8)
    return lines


def draw_noise_scaling(ax, measurement: E.NoiseMeasurement, n: int):
    """Measured ``E‖g_B − ∇J‖²`` (dots), the exact value (line) and ``σ²/B`` (dashed), log-log."""
    B = measurement.batch_sizes
    keep = measurement.expected > 0              # B = N has no noise: nothing to draw on a log axis
    first = int(np.argmax(keep))
    spread = measurement.expected[first] * B[first] / _fpc(B[first], n, measurement.replacement)
    grid = np.unique(np.geomspace(B[keep].min(), B[keep].max(), 60).round().astype(int))
    exact = spread / grid * np.array([_fpc(b, n, measurement.replacement) for b in grid])
    lines = [
        ax.plot(grid, spread / grid, "--", color="0.5", lw=1, label=r"$\sigma^2/B$ (slope $-1$)")[0],
        ax.plot(grid, exact, "-", color=color(0), lw=1.5,
                label=r"exact: $\frac{\sigma^2}{B}\,\frac{N-B}{N-1}$" if not measurement.replacement
                else r"exact: $\sigma^2/B$")[0],
        ax.plot(B[keep], measurement.variance[keep], "o", color=color(1), ms=5,
                label=f"measured ({measurement.draws} batches each)")[0],
    ]
    ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel=r"$E\,\|g_B - \nabla J\|^2$")
    ax.legend(loc="lower left", fontsize=8)
    return lines


def _fpc(b, n, replacement):
    return 1.0 if replacement or n == 1 else (n - b) / (n - 1)


def draw_least_squares_contour(ax, problem: E.LeastSquares, center, radius, levels=18, n=120):
    """Log-spaced contours of a 2-D least-squares loss around ``center``; the minimizer as a star."""
    cx, cy = center
    xs = np.linspace(cx - radius, cx + radius, n)
    ys = np.linspace(cy - radius, cy + radius, n)
    X, Y = np.meshgrid(xs, ys)
    Z = problem.loss(np.stack([X, Y], axis=-1)) - problem.min_loss
    level_values = np.geomspace(max(Z.min(), 1e-4), Z.max(), levels)
    cs = ax.contour(X, Y, Z, levels=level_values, colors="0.6", linewidths=0.6)
    ax.plot(*problem.minimizer, marker="*", color="gold", ms=14, markeredgecolor="k", zorder=5)
    ax.set(xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
    return cs


def draw_batch_paths(ax, demo: E.BatchSizeDemo):
    """Full-batch GD and mini-batch SGD paths from the same start, on the loss contours."""
    start, opt = demo.sgd.weights[0], demo.problem.minimizer
    radius = 1.15 * np.max(np.abs(start - opt))
    draw_least_squares_contour(ax, demo.problem, opt, radius)
    gd, sgd = demo.gd.weights, demo.sgd.weights
    lines = [
        ax.plot(gd[:, 0], gd[:, 1], "-", color="k", lw=1.6, label="full batch (same rate and updates)")[0],
        ax.plot(sgd[:, 0], sgd[:, 1], "-", color=color(1), lw=0.8, alpha=0.85,
                label=f"mini-batch B={demo.batch_size}")[0],
    ]
    ax.plot(*start, "o", color="k", ms=6)
    ax.set_title(f"paths, {len(demo.sgd.lrs)} updates; final excess loss "
                 f"{demo.sgd.excess(demo.problem)[-1]:.2g}", fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    return lines


def draw_gradient_cloud(ax, demo: E.BatchSizeDemo, limit=None):
    """Mini-batch gradients at the start (dots), their mean, the full gradient and the noise-std circle."""
    g, s = demo.full_gradient, demo.samples
    points = ax.plot(s[:, 0], s[:, 1], ".", color=color(1), ms=3, alpha=0.5,
                     label=f"mini-batch gradients, B={demo.batch_size}")[0]
    ax.plot(*s.mean(axis=0), "x", color=color(1), ms=9, mew=2, label="their mean")
    ax.plot(*g, "*", color="k", ms=12, label=r"full gradient $\nabla J$")
    angle = np.linspace(0, 2 * np.pi, 100)
    ax.plot(g[0] + demo.noise_std * np.cos(angle), g[1] + demo.noise_std * np.sin(angle), "-",
            color=color(0), lw=1.2, label="radius = noise std")
    limit = limit or 1.05 * (np.linalg.norm(g) + max(np.abs(s - g).max(), 1e-9))
    ax.set(xlim=(g[0] - limit, g[0] + limit), ylim=(g[1] - limit, g[1] + limit), aspect="equal",
           xlabel=r"$\partial J/\partial w_1$", ylabel=r"$\partial J/\partial w_2$")
    ax.set_title(f"gradient noise std = {demo.noise_std:.3f} (exact), {demo.measured_std:.3f} (measured)",
                 fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    return points


def draw_schedules(ax, curves: dict, selected=None):
    """Learning-rate curves ``label -> values``; ``selected`` drawn bold, the others faint."""
    lines = []
    for i, (label, values) in enumerate(curves.items()):
        bold = selected is None or label == selected
        (line,) = ax.plot(np.arange(len(values)), values, color=color(i), lw=2.2 if bold else 1.0,
                          alpha=1.0 if bold else 0.35, label=label)
        lines.append(line)
    ax.set(xlabel="step t", ylabel="learning rate")
    ax.legend(loc="upper right", fontsize=8)
    return lines


def draw_lr_curve(ax, losses, steps_per_epoch, label, i=0, ylim=None):
    """One run's per-step losses (thin) and per-epoch means (dots); marks a divergence."""
    steps = np.arange(len(losses))
    ax.plot(steps, losses, color=color(i), lw=0.7, alpha=0.5)
    full = len(losses) // steps_per_epoch * steps_per_epoch
    means = np.nanmean(losses[:full].reshape(-1, steps_per_epoch), axis=1) if full else np.array([])
    centers = (np.arange(len(means)) + 0.5) * steps_per_epoch
    (line,) = ax.plot(centers, means, "o-", color=color(i), lw=1.8, ms=4, label="epoch mean")
    finite = losses[np.isfinite(losses)]
    if len(finite) < len(losses):
        ax.axvline(len(finite), color="k", ls=":", lw=1)
        ax.text(len(finite), 0.5, " diverged", transform=ax.get_xaxis_transform(), fontsize=8)
    ax.set(xlabel="step", ylabel="training loss", title=label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="upper right", fontsize=8)
    return line


def draw_async_curves(ax, demo: E.AsyncDemo, problem: E.LeastSquares):
    """Excess loss per update with fresh gradients and with the chosen staleness."""
    curves = {
        "fresh gradients (τ = 0)": (demo.fresh.updates, demo.fresh.excess(problem)),
        f"stale gradients (τ = {demo.staleness})": (demo.stale.updates, demo.stale.excess(problem)),
    }
    lines = draw_curves(ax, curves, "update", r"$J(w) - J(w^*)$")
    ax.set_ylim(1e-8, 1e4)
    return lines


def draw_stability_map(ax, curvature: float, max_staleness: int = 20, current=None):
    """The largest stable ``lr`` against the staleness (closed form), the unstable side shaded."""
    taus = np.arange(max_staleness + 1)
    limits = np.array([E.stable_lr_limit(curvature, int(t)) for t in taus])
    (line,) = ax.plot(taus, limits, "o-", color=color(0), ms=3, label=r"limit $2\sin(\pi/(4\tau+2))/L$")
    ax.fill_between(taus, limits, limits.max() * 3, color=color(1), alpha=0.12, label="diverges")
    if current is not None:
        tau, lr = current
        ax.plot([tau], [lr], "X", color="k", ms=10, label="your setting")
    ax.set(yscale="log", xlabel="staleness τ (updates)", ylabel="learning rate", ylim=(limits.min() / 3,
           limits.max() * 3), title=f"stable rates, L = {curvature:.3g}")
    ax.legend(loc="upper right", fontsize=8)
    return line


# ---------------------------------------------------------------- explorer frames (draw once, then update)

def _circle(center, radius, n=100):
    angle = np.linspace(0, 2 * np.pi, n)
    return center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle)


def batch_size_frame(fig, demo: E.BatchSizeDemo, limit=4.5):
    """The batch-size explorer as a frame that updates in place; returns ``update(demo)``.

    Left :func:`draw_gradient_cloud`, right :func:`draw_batch_paths`; the start,
    the problem and the axes stay, the gradients and paths move.
    """
    left, right = fig.subplots(1, 2)
    points = draw_gradient_cloud(left, demo, limit=limit)
    mean, _, circle = left.lines[1:4]
    gd, sgd = draw_batch_paths(right, demo)
    in_frame(*right.collections)                          # the loss contours

    def update(demo, **_):
        s, g = demo.samples, demo.full_gradient
        points.set_data(s[:, 0], s[:, 1])
        points.set_label(f"mini-batch gradients, B={demo.batch_size}")
        mean.set_data(*([v] for v in s.mean(axis=0)))
        circle.set_data(*_circle(g, demo.noise_std))
        left.set_title(f"gradient noise std = {demo.noise_std:.3f} (exact), {demo.measured_std:.3f} (measured)",
                       fontsize=9)
        left.legend(loc="upper right", fontsize=7)
        gd.set_data(demo.gd.weights[:, 0], demo.gd.weights[:, 1])
        sgd.set_data(demo.sgd.weights[:, 0], demo.sgd.weights[:, 1])
        sgd.set_label(f"mini-batch B={demo.batch_size}")
        right.set_title(f"paths, {len(demo.sgd.lrs)} updates; final excess loss "
                        f"{demo.sgd.excess(demo.problem)[-1]:.2g}", fontsize=9)
        right.legend(loc="upper right", fontsize=7)

    return update


def schedule_frame(fig, curves: dict, selected, warmup_steps=0, title=""):
    """The schedule plotter as a frame that updates in place; returns ``update(curves, selected, warmup_steps, title)``.

    ``curves`` maps a label to its learning rates; ``selected`` is drawn bold and
    the warmup shaded. The y axis follows the largest rate (so a change of lr0
    redraws the ticks); the x axis follows the number of steps.
    """
    ax = fig.subplots()
    lines = draw_schedules(ax, curves, selected=selected)
    span = ax.axvspan(0, max(warmup_steps, 0), color="0.9", zorder=0)

    def update(curves, selected, warmup_steps=0, title=""):
        top = 0.0
        for line, (label, values) in zip(lines, curves.items(), strict=True):
            bold = label == selected
            line.set_data(np.arange(len(values)), values)
            line.set(linewidth=2.2 if bold else 1.0, alpha=1.0 if bold else 0.35)
            top = max(top, float(np.nanmax(values, initial=0.0)))
        span.set_width(warmup_steps)
        span.set_visible(warmup_steps > 0)
        steps = max(len(v) for v in curves.values())
        ax.set_xlim(-0.05 * steps, 1.05 * steps)        # matplotlib's default margins
        ax.set_ylim(-0.05 * top, 1.05 * top)
        ax.set_title(title)
        ax.legend(loc="upper right", fontsize=8)         # its handles copy the line widths

    update(curves, selected, warmup_steps, title)
    return update


def lr_curves_frame(fig, curves, names=("too low?", "good?", "too high?"), ylim=(0, 4)):
    """The three-learning-rate explorer as a frame that updates in place; returns ``update(curves)``.

    One panel per rate (:func:`draw_lr_curve`): per-step losses, epoch means and,
    when a run diverged, a dotted line where it did.
    """
    axes = fig.subplots(1, len(curves.lrs), sharey=True)
    panels = []
    for i, (ax, name, lr, losses) in enumerate(zip(axes, names, curves.lrs, curves.losses, strict=True)):
        means = draw_lr_curve(ax, losses, curves.steps_per_epoch, f"{name} lr = {lr:.3g}", i=i, ylim=ylim)
        steps = ax.lines[0]
        mark = ax.axvline(0, color="k", ls=":", lw=1, visible=False)
        note = ax.text(0, 0.5, " diverged", transform=ax.get_xaxis_transform(), fontsize=8, visible=False)
        for artist in ax.lines[2:-1] + ax.texts[:-1]:       # draw_lr_curve's own marks: ours replace them
            artist.remove()
        panels.append((ax, name, steps, means, mark, note))
    for ax in axes[1:]:
        ax.set_ylabel("")

    def update(curves, **_):
        spe = curves.steps_per_epoch
        for (ax, name, steps, means, mark, note), lr, losses in zip(panels, curves.lrs, curves.losses, strict=True):
            steps.set_data(np.arange(len(losses)), losses)
            full = len(losses) // spe * spe
            epoch_means = np.nanmean(losses[:full].reshape(-1, spe), axis=1) if full else np.array([])
            means.set_data((np.arange(len(epoch_means)) + 0.5) * spe, epoch_means)
            finite = int(np.isfinite(losses).sum())
            diverged = finite < len(losses)
            mark.set_xdata([finite, finite])
            note.set_x(finite)
            mark.set_visible(diverged)
            note.set_visible(diverged)
            ax.set_title(f"{name} lr = {lr:.3g}")

    update(curves)
    return update


def async_frame(fig, demo: E.AsyncDemo, problem: E.LeastSquares):
    """The asynchronous-SGD explorer as a frame that updates in place; returns ``update(demo)``.

    Left :func:`draw_async_curves` (fixed log axis 1e-8 … 1e4), right
    :func:`draw_stability_map` (the curvature is the problem's: only the marker moves).
    """
    left, right = fig.subplots(1, 2)
    fresh, stale = draw_async_curves(left, demo, problem)
    draw_stability_map(right, demo.curvature, current=(demo.staleness, demo.lr))
    marker = right.lines[-1]
    in_frame(*right.collections, *right.lines[:-1])       # the limit and the shaded region stay

    def update(demo, **_):
        fresh.set_data(demo.fresh.updates, demo.fresh.excess(problem))
        stale.set_data(demo.stale.updates, demo.stale.excess(problem))
        stale.set_label(f"stale gradients (τ = {demo.staleness})")
        left.legend(loc="best", fontsize=8)
        updates = max(len(demo.fresh.updates), 1)
        left.set_xlim(-0.05 * updates, 1.05 * updates)
        verdict = "diverges" if demo.diverges else "converges"
        left.set_title(f"lr = {demo.lr:.3g}, τ = {demo.staleness}: {verdict} (limit {demo.limit:.3g})", fontsize=9)
        marker.set_data([demo.staleness], [demo.lr])

    update(demo)
    return update
