"""Figures of notebook 05 (neurons and activations), shared by its static plots and its explorer.

Each function draws on the axes (or figure) it is given and returns what it drew, so
tests can assert on the plotted data.
"""

from __future__ import annotations

import numpy as np

from gdcourse.plots import color

__all__ = ["activation_panel", "activation_grid", "LOSS_RANGE", "draw_activation_fit", "activation_fit_frame",
           "jacobian_heatmaps", "decision_regions", "inactive_curves"]


def activation_panel(ax, curves, title=None, legend=True):
    """``f`` (solid) and ``f'`` (dashed) of one or more
    :class:`~gdcourse.experiments.activations.ActivationCurve`.

    Returns the lines, two per curve (function, derivative).
    """
    curves = curves if isinstance(curves, (list, tuple)) else [curves]
    lines = []
    for i, c in enumerate(curves):
        (f,) = ax.plot(c.x, c.y, color=color(2 * i), lw=1.8, label=c.label if len(curves) > 1 else "f(x)")
        (d,) = ax.plot(c.x, c.dy, color=color(2 * i + 1), lw=1.4, ls="--",
                       label=f"{c.label}: f′" if len(curves) > 1 else "f′(x)")
        lines += [f, d]
    ax.axhline(0, color="0.6", lw=0.6, zorder=0)
    ax.axvline(0, color="0.6", lw=0.6, zorder=0)
    ax.set(title=title or " vs ".join(c.label for c in curves), xlabel="x", ylim=(-1.3, 2.2))
    ax.grid(alpha=0.25)
    if legend:
        ax.legend(fontsize=7, loc="upper left")
    return lines


def activation_grid(fig, panels, ncols=4):
    """One :func:`activation_panel` per entry of ``panels`` (a curve or a list of curves drawn together)."""
    nrows = -(-len(panels) // ncols)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, curves in zip(axes, panels, strict=False):
        activation_panel(ax, curves, legend=ax is axes[0] or isinstance(curves, (list, tuple)))
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return axes


LOSS_RANGE = (1e-4, 2e1)
"""The explorer's loss axis: fixed, so a new setting redraws curves, not ticks (every final MSE is in it)."""


def draw_activation_fit(fig, fit):
    """The explorer's picture of an :class:`~gdcourse.experiments.activations.ActivationFit`:
    f and f' with the peak of f' marked; the fit of sin(2x); the training loss.

    Returns ``(ax_f, ax_fit, ax_loss)``; :func:`activation_fit_frame` also returns the updater.
    """
    return activation_fit_frame(fig, fit)[0]


def activation_fit_frame(fig, fit):
    """:func:`draw_activation_fit` and ``update(fit)``, which moves the drawn artists to another fit.

    Axes limits are fixed (f on [−1.3, 2.2], the fit on [−1.8, 1.8], the loss on :data:`LOSS_RANGE`), so an
    update changes data and titles only. A fit whose training is still running (``prediction`` None)
    leaves the previous fit and loss greyed out, titled "training…".
    """
    ax_f, ax_fit, ax_loss = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.1, 0.9]})
    f_line, d_line = activation_panel(ax_f, fit.curve, legend=False)
    (peak,) = ax_f.plot(fit.peak_x, fit.peak, "o", color=color(1), markeredgecolor="k", zorder=5,
                        label=_peak_label(fit))
    ax_f.set_xlim(-4.4, 4.4)
    legend = ax_f.legend(fontsize=7, loc="upper left")
    ax_fit.plot(fit.x_plot, np.sin(2 * fit.x_plot), color="0.6", lw=1.2, label="target sin(2x)")
    ax_fit.plot(fit.x_train, fit.y_train, "o", color="0.35", markersize=2.5)
    (prediction,) = ax_fit.plot(fit.x_plot, fit.prediction, color=color(0), lw=1.8, label="network")
    ax_fit.set(title="1-32-32-1 fit", xlabel="x", ylim=(-1.8, 1.8), xlim=(fit.x_plot[0], fit.x_plot[-1]))
    ax_fit.legend(fontsize=7, loc="lower left")
    steps = np.arange(1, len(fit.losses) + 1)
    (loss_line,) = ax_loss.plot(steps, fit.losses, color=color(0))
    ax_loss.set(yscale="log", xlabel="Adam step", ylabel="MSE", title=f"final MSE {fit.final_loss:.2g}",
                ylim=LOSS_RANGE, xlim=(0, len(steps) + 1))
    ax_loss.grid(alpha=0.25)

    shown = [fit]

    def update(fit, **_):
        if fit is shown[0]:          # the same data again (a refinement that had nothing to add)
            return None
        shown[0] = fit
        f_line.set_data(fit.curve.x, fit.curve.y)
        d_line.set_data(fit.curve.x, fit.curve.dy)
        ax_f.set_title(fit.curve.label)
        peak.set_data([fit.peak_x], [fit.peak])
        legend.get_texts()[-1].set_text(_peak_label(fit))
        training = fit.prediction is None
        for line in (prediction, loss_line):
            line.set_alpha(0.25 if training else 1.0)
        if training:
            ax_fit.set_title("1-32-32-1 fit: training…")
            ax_loss.set_title("training…")
            return
        prediction.set_data(fit.x_plot, fit.prediction)
        loss_line.set_data(np.arange(1, len(fit.losses) + 1), fit.losses)
        ax_fit.set_title("1-32-32-1 fit")
        ax_loss.set_title(f"final MSE {fit.final_loss:.2g}")

    return (ax_f, ax_fit, ax_loss), update


def _peak_label(fit):
    return f"max f′ = {fit.peak:.3g} at x = {fit.peak_x:.2g}"


def jacobian_heatmaps(fig, checks):
    """The analytic Jacobians of :class:`~gdcourse.experiments.activations.JacobianCheck` s as heat maps."""
    axes = fig.subplots(1, len(checks), squeeze=False).ravel()
    images = []
    for ax, check in zip(axes, checks, strict=True):
        limit = np.abs(check.analytic).max()
        images.append(ax.imshow(check.analytic, cmap="RdBu_r", vmin=-limit, vmax=limit))
        for (i, j), value in np.ndenumerate(check.analytic):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set(title=f"Jacobian of {check.name} (max rel. error {check.jacobian_error:.0e})",
               xlabel="input i", ylabel="output k")
        fig.colorbar(images[-1], ax=ax, shrink=0.8)
    return images


def decision_regions(ax, predict, X, y, bounds=None, n=200, title=None):
    """Shade where ``predict (m, 2) -> scores (m,)`` is > 0 and scatter ``X`` coloured by ``y``.

    Returns the grid of scores ``(n, n)``.
    """
    if bounds is None:
        pad = 0.5
        bounds = (X[:, 0].min() - pad, X[:, 0].max() + pad, X[:, 1].min() - pad, X[:, 1].max() + pad)
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    scores = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(n, n)
    ax.contourf(gx, gy, scores > 0, levels=[-0.5, 0.5, 1.5], colors=[color(0), color(1)], alpha=0.18)
    ax.contour(gx, gy, scores, levels=[0.0], colors="k", linewidths=1.0)
    for label in (0, 1):
        ax.scatter(*X[y == label].T, s=14, color=color(label), edgecolor="k", linewidth=0.3,
                   label=f"class {label}")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$", title=title)
    return scores


def inactive_curves(ax, runs, layer=1, labels=None, legend=True):
    """Share of units in hidden ``layer`` (0 or 1) that are ≤ 0 on every training point, per epoch.

    Earlier runs are drawn thicker, so a run hidden under a later one with the same values stays visible.
    """
    lines = []
    markers = "osD^v<>"
    for i, run in enumerate(runs):
        label = labels[i] if labels else f"{run.activation}, lr {run.lr:g}, bias {run.bias_init:g}"
        width = max(3.6 - 0.6 * i, 1.0)
        (line,) = ax.plot(np.arange(len(run.inactive)), run.inactive[:, layer], lw=width, alpha=0.9,
                          marker=markers[i % len(markers)], markersize=width + 1, color=color(i), label=label)
        lines.append(line)
    ax.set(xlabel="epoch", ylabel=f"share of layer-{layer + 1} units ≤ 0 on all data", ylim=(-0.05, 1.05))
    ax.grid(alpha=0.25)
    if legend:
        ax.legend(fontsize=7)
    return lines
