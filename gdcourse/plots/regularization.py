"""Figures of notebook 07 (regularization), shared by its static plots and its explorers.

Each function draws on the axes (or figure) it is given and returns what it drew,
so tests can assert on the plotted data.
"""

from __future__ import annotations

import numpy as np

from gdcourse.experiments import regularization as E
from gdcourse.plots import color

__all__ = [
    "capacity_panels", "decision_boundary", "overfit_curves", "draw_dropout_view", "dropout_view_frame",
    "coefficient_paths", "constraint_picture", "draw_penalty_run", "penalty_run_frame", "digit_row", "pruning_panel",
    "search_panels",
]


def capacity_panels(ax_fit, ax_err, sweep, show=(1, 3, 14)):
    """Left: the samples and the fits of degrees ``show``; right: train and validation MSE per degree."""
    ax_fit.plot(sweep.x_plot, np.sin(np.pi * sweep.x_plot), color="0.6", lw=1.2, ls="--", label="sin(πx)")
    ax_fit.plot(sweep.x_train, sweep.y_train, "o", color="k", markersize=4, label="training points")
    for i, d in enumerate(show):
        k = int(np.flatnonzero(sweep.degrees == d)[0])
        ax_fit.plot(sweep.x_plot, sweep.curves[k], color=color(i), lw=1.6, label=f"degree {d}")
    ax_fit.set(ylim=(-2.2, 2.2), xlabel="x", ylabel="y", title="fits of growing capacity")
    ax_fit.legend(fontsize=7, loc="lower right")
    (train_line,) = ax_err.semilogy(sweep.degrees, sweep.train_mse + 1e-12, "o-", color=color(0),
                                    label="training MSE")
    (val_line,) = ax_err.semilogy(sweep.degrees, sweep.val_mse, "s-", color=color(1), label="validation MSE")
    ax_err.axhline(sweep.noise**2, color="0.5", ls=":", lw=1, label="noise variance (the floor)")
    ax_err.axvline(sweep.best_degree, color=color(2), ls="--", lw=1, label=f"best degree {sweep.best_degree}")
    ax_err.set(xlabel="polynomial degree (capacity)", ylabel="MSE", title="underfit ← → overfit",
               ylim=(1e-4, 1e3))
    ax_err.legend(fontsize=7, loc="upper left")
    return train_line, val_line


def decision_boundary(ax, boundary, X, y, title=None):
    """Class-1 probability on :func:`~gdcourse.experiments.regularization.boundary_grid`, the 0.5
    contour, and the points ``X (N, 2)`` coloured by ``y``."""
    return _decision_boundary(ax, boundary, X, y, title)[0]


def _decision_boundary(ax, boundary, X, y, title=None):
    """:func:`decision_boundary`; returns its two contour layers (see :func:`_boundary_updater`)."""
    layers = list(_boundary_layers(ax, boundary))
    colors = np.where(y == 1, "#d62728", "#1f77b4")
    ax.scatter(X[:, 0], X[:, 1], c=colors, s=14, edgecolors="k", linewidths=0.4, zorder=3)
    xx, yy, _ = E.boundary_grid()
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=9)
    return layers


def _boundary_layers(ax, boundary):
    """The filled probability and its 0.5 contour (two ContourSets, to be removed when the boundary moves)."""
    xx, yy, _ = E.boundary_grid()
    filled = ax.contourf(xx, yy, boundary, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    line = ax.contour(xx, yy, boundary, levels=[0.5], colors="k", linewidths=1.2)
    return filled, line


def _boundary_updater(ax, layers):
    """``move(boundary)``: replaces the contour ``layers`` of :func:`_decision_boundary` (points and limits stay)."""

    def move(boundary):
        for layer in layers:
            layer.remove()
        layers[:] = _boundary_layers(ax, boundary)

    return move


def overfit_curves(ax, run, label, i=0, style="-", train=True):
    """Per-epoch training (epoch mean) and validation loss of an
    :class:`~gdcourse.experiments.regularization.OverfitRun`. Returns the lines drawn."""
    epochs = np.arange(1, run.epochs_run + 1)
    lines = []
    if train:
        lines.append(ax.plot(epochs, run.train_loss, style, color=color(i), lw=1.0, alpha=0.6,
                             label=f"{label}: train")[0])
    lines.append(ax.plot(epochs, run.val_loss, style, color=color(i), lw=1.8,
                         label=f"{label}: validation")[0])
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    return lines


def draw_dropout_view(fig, view):
    """The dropout explorer: curves with dropout p beside those without, and the decision boundary."""
    return dropout_view_frame(fig, view)[0]


def _decades(*arrays):
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    return 10.0 ** np.floor(np.log10(values.min())), 10.0 ** np.ceil(np.log10(values.max()))


def dropout_view_frame(fig, view):
    """:func:`draw_dropout_view` and ``update(view)``, which moves its artists to another view.

    ``view.run`` None means the run is still training: the previous one stays, greyed out. At p = 0 the
    run is the baseline, so its lines are hidden. The loss axis spans whole decades.
    """
    ax_curves, ax_boundary = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    run = view.run
    overfit_curves(ax_curves, view.baseline, "p = 0", i=7, style="--")
    run_lines = overfit_curves(ax_curves, run, f"p = {run.dropout:g}", i=0)
    for line in run_lines:
        line.set_visible(run.dropout > 0)
    legend = ax_curves.legend(fontsize=7, loc="lower left", ncol=2)
    ax_curves.set(xlim=(0, run.epochs_run + 1), ylim=_decades(view.baseline.train_loss, view.baseline.val_loss,
                                                               run.train_loss, run.val_loss))
    X, y, _, _ = E.overfit_data()
    move_boundary = _boundary_updater(ax_boundary, _decision_boundary(ax_boundary, run.boundary, X, y))
    _dropout_titles(ax_curves, ax_boundary, run, view.baseline)

    shown = [view]

    def update(view, **_):
        if view is shown[0]:         # the same data again (a refinement that had nothing to add)
            return None
        shown[0] = view
        run = view.run
        if run is None:
            for line in run_lines:
                line.set_alpha(0.25)
            ax_curves.set_title("training…", fontsize=9)
            ax_boundary.set_title("training…", fontsize=9)
            return
        run_lines[0].set_data(np.arange(1, run.epochs_run + 1), run.train_loss)
        run_lines[1].set_data(np.arange(1, run.epochs_run + 1), run.val_loss)
        for line, alpha in zip(run_lines, (0.6, 1.0), strict=True):
            line.set_visible(run.dropout > 0)
            line.set_alpha(alpha)
        for text, which in zip(legend.get_texts()[2:], ("train", "validation"), strict=True):
            text.set_text(f"p = {run.dropout:g}: {which}")
        ylim = _decades(view.baseline.train_loss, view.baseline.val_loss, run.train_loss, run.val_loss)
        if ax_curves.get_ylim() != ylim:
            ax_curves.set_ylim(ylim)
        move_boundary(run.boundary)
        _dropout_titles(ax_curves, ax_boundary, run, view.baseline)

    return (ax_curves, ax_boundary), update


def _dropout_titles(ax_curves, ax_boundary, run, baseline):
    ax_curves.set_title(f"p = {run.dropout:g}: final validation loss {run.final_val_loss:.3f} "
                        f"(p = 0: {baseline.final_val_loss:.3f})", fontsize=9)
    ax_boundary.set_title(f"validation accuracy {run.final_val_accuracy:.1%}, training "
                          f"{run.final_train_accuracy:.0%}", fontsize=9)


def coefficient_paths(ax, paths, kind):
    """Coefficients against the strength λ (log scale), ``kind`` "l1" or "l2"; informative ones coloured."""
    W = paths.l1 if kind == "l1" else paths.l2
    lines = []
    for j in range(W.shape[1]):
        informative = paths.w_true[j] != 0
        lines.append(ax.semilogx(paths.lams, W[:, j], color=color(j) if informative else "0.6",
                                 lw=1.8 if informative else 1.0)[0])
    ax.axhline(0, color="k", lw=0.6)
    zeros = paths.l1_zero_fraction if kind == "l1" else paths.l2_zero_fraction
    name = "L1 (lasso, ISTA)" if kind == "l1" else "L2 (ridge)"
    ax.set(xlabel="strength λ", ylabel="coefficient")
    ax.set_title(f"{name}: {zeros[len(zeros) // 2]:.0%} exact zeros at the middle λ", fontsize=9)
    return lines


def constraint_picture(ax, geometry):
    """Loss contours, the L1 diamond and the L2 circle through the two solutions, and the solutions."""
    g = np.linspace(-1.2, 2.2, 200)
    ww = np.stack(np.meshgrid(g, g), axis=-1)
    levels = [geometry.loss(geometry.w_l1), geometry.loss(geometry.w_l2)]
    levels = sorted(set(levels) | {0.05, 0.3, 0.8, 1.5})
    ax.contour(ww[..., 0], ww[..., 1], geometry.loss(ww), levels=levels, colors="0.55", linewidths=0.8)
    r1, r2 = np.abs(geometry.w_l1).sum(), np.linalg.norm(geometry.w_l2)
    diamond = np.array([[r1, 0], [0, r1], [-r1, 0], [0, -r1], [r1, 0]])
    ax.plot(diamond[:, 0], diamond[:, 1], color=color(1), lw=1.8, label="‖w‖₁ = const (L1 ball)")
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(r2 * np.cos(t), r2 * np.sin(t), color=color(0), lw=1.8, label="‖w‖₂ = const (L2 ball)")
    ax.plot(*geometry.w_star, "*", color="gold", markersize=14, markeredgecolor="k",
            label="unregularized minimum")
    ax.plot(*geometry.w_l1, "o", color=color(1), markeredgecolor="k", markersize=8,
            label=f"L1 solution ({geometry.w_l1[0]:.2f}, {geometry.w_l1[1]:.2f})")
    ax.plot(*geometry.w_l2, "o", color=color(0), markeredgecolor="k", markersize=8,
            label=f"L2 solution ({geometry.w_l2[0]:.2f}, {geometry.w_l2[1]:.2f})")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(xlim=(-1.2, 2.2), ylim=(-1.2, 2.2), aspect="equal", xlabel="$w_1$", ylabel="$w_2$")
    ax.set_title("a loss contour meets the diamond at a corner", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")


def draw_penalty_run(fig, run):
    """The L1/L2 explorer: decision boundary, first-layer weight vectors, exact zeros per layer."""
    return penalty_run_frame(fig, run)[0]


def _weight_groups(W):
    """Columns of ``W (2, units)`` with no zero, one zero, both zero (the unit is cut off)."""
    both = np.all(W == 0, axis=0)
    one = np.any(W == 0, axis=0) & ~both
    return ~np.any(W == 0, axis=0), one, both


def _weight_limit(W):
    """±3 holds every first layer of the explorer's grid (the largest weight is about 2.4); more if needed."""
    return max(3.0, float(np.ceil(np.abs(W).max() * 1.1)))


def penalty_run_frame(fig, run):
    """:func:`draw_penalty_run` and ``update(run)``, which moves its artists to another run.

    A run still training (``run`` without ``weights``, e.g. the explorer's pending setting) leaves the
    previous picture, titled "training…". The weight panel keeps ±3 (see :func:`_weight_limit`).
    """
    ax_b, ax_w, ax_z = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1, 0.8]})
    move_boundary = _boundary_updater(ax_b, _decision_boundary(ax_b, run.boundary, run.X, run.y))
    W = run.first_layer
    styles = (("o", color(0), 5, "no zero"), ("o", color(3), 5, "one input weight = 0"),
              ("x", color(1), 8, "both = 0 (unit cut off)"))
    points = [ax_w.plot(W[0, group], W[1, group], marker, color=c, markersize=size, label=label, ls="none")[0]
              for group, (marker, c, size, label) in zip(_weight_groups(W), styles, strict=True)]
    limit = _weight_limit(W)
    ax_w.axhline(0, color="k", lw=0.5)
    ax_w.axvline(0, color="k", lw=0.5)
    ax_w.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xlabel="weight from $x_1$",
             ylabel="weight from $x_2$")
    ax_w.legend(fontsize=6, loc="upper left")
    bars = ax_z.bar(["layer 1\n2×32", "layer 2\n32×32", "layer 3\n32×2"], run.zero_fractions,
                    color=[color(i) for i in range(3)])
    ax_z.axhline(0.5, color="0.4", ls=":", lw=1)
    ax_z.set(ylim=(0, 1), ylabel="share of weights exactly 0", title="exact zeros per layer")
    ax_z.tick_params(axis="x", labelsize=7)
    _penalty_titles(ax_b, ax_w, run)

    shown = [run]

    def update(run, **_):
        if run is shown[0]:          # the same data again (a refinement that had nothing to add)
            return None
        shown[0] = run
        if not hasattr(run, "weights"):
            ax_b.set_title(f"{_penalty_name(run)}, λ = {run.strength:.3g}: training…", fontsize=9)
            ax_w.set_title("first layer: training…")
            return
        move_boundary(run.boundary)
        W = run.first_layer
        for line, group in zip(points, _weight_groups(W), strict=True):
            line.set_data(W[0, group], W[1, group])
        limit = _weight_limit(W)
        if ax_w.get_xlim() != (-limit, limit):
            ax_w.set(xlim=(-limit, limit), ylim=(-limit, limit))
        for bar, value in zip(bars, run.zero_fractions, strict=True):
            bar.set_height(value)
        _penalty_titles(ax_b, ax_w, run)

    return (ax_b, ax_w, bars), update


def _penalty_name(run):
    return "L1 (proximal)" if run.penalty == "l1" else "L2"


def _penalty_titles(ax_b, ax_w, run):
    ax_b.set_title(f"{_penalty_name(run)}, λ = {run.strength:.3g}: train {run.train_accuracy:.0%}, "
                   f"val {run.val_accuracy:.0%}", fontsize=9)
    ax_w.set_title(f"first layer: {run.first_layer_zero_fraction:.0%} exact zeros")


def digit_row(axes, images, titles, image_shape=(8, 8)):
    """Show ``images (K, 64)`` as grey 8×8 pictures with ``titles``."""
    for ax, image, title in zip(axes, images, titles, strict=True):
        ax.imshow(np.asarray(image).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
        ax.set(xticks=[], yticks=[])


def pruning_panel(ax, curve):
    """Validation accuracy against the fraction of weights pruned (magnitude, fine-tuned, random)."""
    f = 100 * curve.fractions
    lines = [
        ax.plot(f, curve.finetuned, "o-", color=color(2), label=f"magnitude + {curve.finetune_epochs} epochs "
                                                                 "fine-tuning")[0],
        ax.plot(f, curve.magnitude, "s-", color=color(0), label="magnitude, no retraining")[0],
        ax.plot(f, curve.random, "^-", color=color(1), label="random, no retraining")[0],
    ]
    ax.axhline(curve.dense, color="0.5", ls=":", label=f"dense network {curve.dense:.1%}")
    ax.set(xlabel="weights removed (%)", ylabel="validation accuracy", ylim=(0, 1.02),
           title="magnitude pruning of a 64-128-10 digits network")
    ax.legend(fontsize=7, loc="lower left")
    return lines


def search_panels(ax_points, ax_curve, study, seed_index=0):
    """Left: grid vs random trial locations (log10 lr × log10 weight decay); right: the score against
    lr with each trial's lr marked (the projection that matters)."""
    grid, rand = study.grid, study.random[seed_index]
    ax_points.plot(grid[:, 0], grid[:, 1], "s", color=color(0), markersize=8, label="grid (3 × 3)")
    ax_points.plot(rand[:, 0], rand[:, 1], "o", color=color(1), markersize=7, label="random (9)")
    ax_points.set(xlabel="log10 learning rate (matters)", ylabel="log10 weight decay (hardly matters)",
                  title="the same budget: 9 trials")
    ax_points.legend(fontsize=7, loc="upper left")
    ax_curve.plot(study.curve_lr, study.curve, color="0.4", lw=1.2, label="validation loss vs lr")
    ax_curve.plot(grid[:, 0], study.grid_scores, "s", color=color(0), markersize=8, alpha=0.7,
                  label=f"grid: best {study.grid_best:.3f}")
    ax_curve.plot(rand[:, 0], study.random_scores[seed_index], "o", color=color(1), markersize=6,
                  label=f"random: best {study.random_best[seed_index]:.3f}")
    ax_curve.set(xlabel="log10 learning rate", ylabel="validation cross-entropy", ylim=(0, 2.5),
                 title="grid tests 3 learning rates, random tests 9")
    ax_curve.legend(fontsize=7, loc="upper right")
