"""Figures of notebook 09 (the training playbook) and of the diagnose widget.

Each function draws on the axes or figure it is given and returns what it drew, so tests
assert on the plotted data rather than on pixels.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import cm
from matplotlib.ticker import FormatStrFormatter, FuncFormatter

from gdcourse.plots import color

__all__ = [
    "draw_symptoms", "failure_curves", "range_test_vs_sweep", "checklist_grid", "fluctuation",
    "randomness", "capstone_diagnostics",
]

_CHANCE = 0.1
_LOSS_CEILING = 1e100
"""Top of a log loss axis: an exploding run reaches 1e300, and matplotlib's log ticks and margins
overflow float64 near 1e308; above 1e100 a loss has exploded anyway."""


def _mark_divergence(ax, steps, values):
    """A red cross at the first non-finite value, drawn at the top of the curve (at most the ceiling)."""
    values = np.asarray(values, dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        top = np.nanmax(np.where(np.isfinite(values), values, np.nan)) if np.isfinite(values).any() else 1.0
        ax.plot(steps[bad[0]], min(top, _LOSS_CEILING), "x", color="#cf222e", markersize=9, mew=2,
                label="NaN / inf")


def _log_loss_axis(ax, *losses):
    """A log y axis from half the smallest positive loss to twice the largest, capped at the ceiling.

    Over less than two decades the tick labels are plain numbers ("2", "3", "4"), not "2×10⁰".
    """
    shown = _positive(np.concatenate([np.ravel(values) for values in losses]))
    low = high = None
    if np.isfinite(shown).any():
        low, high = np.nanmin(shown) / 2, min(np.nanmax(shown) * 2, _LOSS_CEILING)
        ax.set_ylim(low, high)
    ax.set_yscale("log")
    if low is not None and high / low < 100:
        plain_log_labels(ax.yaxis)


def plain_log_labels(axis):
    """Plain numbers on a log axis ("0.2", "1", "5"), minor ticks labelled only at 2 and 5 × 10ᵏ so that
    labels over one or two decades do not crowd."""
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(FuncFormatter(_label_2_and_5))


def _label_2_and_5(value, _position):
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value))
    return f"{value:g}" if np.isclose(mantissa, 2) or np.isclose(mantissa, 5) else ""


def _loss_panel(ax, run):
    steps = np.arange(run.num_steps)
    ax.plot(steps, run.step_loss, color="0.7", lw=0.8, label="train, per step")
    _mark_divergence(ax, steps, run.step_loss)
    steps_per_epoch = -(-run.setup.n_train // run.setup.batch_size)
    epoch_steps = steps_per_epoch * np.arange(1, len(run.train_loss) + 1)
    if len(run.train_loss):
        ax.plot(epoch_steps, run.train_loss, "o-", color=color(0), markersize=3, label="train, epoch mean")
    if len(run.val_loss):
        ax.plot(run.checkpoint_steps[1:], run.val_loss, "s-", color=color(1), markersize=3,
                label="validation")
    ax.axhline(math.log(10), color="0.4", ls=":", lw=1, label="ln 10")
    _log_loss_axis(ax, run.step_loss, run.train_loss, run.val_loss, math.log(10))
    ax.set(xlabel="step", ylabel="loss", title="loss")
    ax.legend(fontsize=7)


def _accuracy_panel(ax, run):
    epochs = np.arange(1, len(run.train_accuracy) + 1)
    ax.plot(epochs, run.train_accuracy, "o-", color=color(0), markersize=3, label="train")
    ax.plot(run.checkpoint_epochs[1:], run.val_accuracy, "s-", color=color(1), markersize=3,
            label="validation")
    if np.isfinite(run.val_accuracy_reshuffled) and len(epochs):
        ax.plot(epochs[-1], run.val_accuracy_reshuffled, "*", color=color(2), markersize=11,
                label="validation, reshuffled")
    ax.axhline(_CHANCE, color="0.4", ls=":", lw=1, label="chance")
    ax.set(ylim=(-0.02, 1.02), xlim=(0.5, run.setup.epochs + 0.5), xlabel="epoch", ylabel="accuracy",
           title="accuracy")
    if not len(epochs):
        ax.text(0.5, 0.5, "diverged before\nthe first epoch ended", ha="center", va="center",
                transform=ax.transAxes, color="#cf222e")
    ax.legend(fontsize=7)


def _gradient_panel(ax, run):
    norms = np.asarray(run.grad_norms, dtype=float)
    layers = norms.shape[1]
    shades = cm.viridis(np.linspace(0.0, 0.9, layers))
    for j in range(layers):
        shown = np.where(norms[:, j] > 0, norms[:, j], np.nan)  # a zero gradient cannot sit on a log axis
        label = (f"layer {j + 1} (input)" if j == 0 else f"layer {j + 1} (output)" if j == layers - 1
                 else None)
        ax.plot(run.checkpoint_steps[:len(norms)], shown, "o-", color=shades[j], markersize=3, label=label)
    if not np.any(norms > 0):
        ax.text(0.5, 0.5, "every weight gradient is exactly 0", ha="center", va="center",
                transform=ax.transAxes, color="#cf222e")
    ax.set(yscale="log", xlabel="step", ylabel="‖∂L/∂W‖", title="weight-gradient norm per layer",
           xlim=(-0.02 * run.num_steps, 1.02 * run.num_steps))
    ax.legend(fontsize=7)


def _activation_panel(ax, run):
    start, end = run.activations_start, run.activations_end
    index = np.arange(1, len(start) + 1)
    width = 0.27
    ax.bar(index - width, [100 * s.dead for s in start], width, color=color(4), label="dead %, start")
    if end:
        ax.bar(index, [100 * s.dead for s in end], width, color=color(1), label="dead %, end")
        ax.bar(index + width, [100 * s.saturated for s in end], width, color=color(3),
               label="saturated %, end")
    ax.set(ylim=(0, 105), xlabel=f"{start[0].layer if start else ''} layer", ylabel="% of units",
           title="activations", xticks=index)
    twin = ax.twinx()
    stds = _positive([s.std for s in start])      # a layer of dead units has std 0: not on a log axis
    twin.plot(index, stds, "k^--", markersize=4, lw=1, label="std at start (right)")
    if np.isfinite(stds).any():
        twin.set_ylim(np.nanmin(stds) / 3, np.nanmax(stds) * 3)  # at least a decade: no crowded tick labels
        twin.set_yscale("log")
        plain_log_labels(twin.yaxis)
    twin.set_ylabel("std of activations")
    handles = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left")
    return twin


def draw_symptoms(fig, run, title=None):
    """What an engineer sees of a :class:`gdcourse.diagnose.Run`: loss, accuracy, gradients, activations."""
    axes = fig.subplots(2, 2)
    _loss_panel(axes[0, 0], run)
    _accuracy_panel(axes[0, 1], run)
    _gradient_panel(axes[1, 0], run)
    _activation_panel(axes[1, 1], run)
    if title:
        fig.suptitle(title, fontsize=11)
    return axes


def _positive(values):
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def failure_curves(fig, runs, reference="healthy"):
    """One panel per small-batch run (:func:`~gdcourse.experiments.playbook.failure_runs`), log scale.

    Every panel repeats the ``reference`` run in grey, so each failure is seen against what a
    healthy curve looks like; a run that hit NaN ends in a red cross.
    """
    cols = 3
    axes = fig.subplots(-(-len(runs) // cols), cols, squeeze=False)
    healthy = runs[reference].losses
    for i, (ax, run) in enumerate(zip(axes.flat, runs.values(), strict=False)):
        if run.label != reference:
            ax.plot(_positive(healthy), color="0.7", lw=1, label=reference)
        ax.plot(_positive(run.losses), color=color(i), lw=1.6, marker="o" if len(run.losses) < 5 else None,
                label=run.label)
        if run.diverged:
            last = len(run.losses) - 1
            finite = _positive(run.losses)[:last]
            y = np.nanmax(finite) if np.isfinite(finite).any() else 1.0
            ax.plot(last, y, "x", color="#cf222e", markersize=10, mew=2, label=f"NaN at step {last}")
        ax.axhline(math.log(10), color="0.4", ls=":", lw=1)
        shown = _positive(run.losses)
        if not run.diverged and np.nanmax(shown) < 10 * np.nanmin(shown):  # flat or jagged: linear axis
            low, high = np.nanmin(shown), np.nanmax(shown)
            ax.set_ylim(low - 0.3 * (high - low) - 0.05, high + 0.3 * (high - low) + 0.05)
        else:
            ax.set_yscale("log")
        ax.set(xlabel="step", title=f"{run.label}\n({run.setup})")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=6, loc="best")
    for ax in list(axes.flat)[len(runs):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("loss on the batch")
    return axes


def range_test_vs_sweep(fig, result, rates, sweep_losses, sweep_label="validation loss after 2 epochs"):
    """Left: the range test and its suggestions. Right: a sweep of fixed rates, best and suggestion marked."""
    left, right = fig.subplots(1, 2)
    result.plot(left)
    finite = np.isfinite(sweep_losses)
    right.plot(np.asarray(rates)[finite], np.asarray(sweep_losses)[finite], "o-", color=color(0),
               label=sweep_label)
    if (~finite).any():
        right.plot(np.asarray(rates)[~finite], np.full((~finite).sum(), np.nanmax(sweep_losses[finite]) * 2),
                   "x", color="#cf222e", markersize=8, mew=2, label="diverged")
    best = rates[int(np.argmin(np.where(finite, sweep_losses, np.inf)))]
    right.axvline(best, color=color(0), ls=":", label=f"best fixed rate {best:.3g}")
    suggested = result.suggestion()
    right.axvline(suggested, color="#1a7f37", ls="--", label=f"range test: {suggested:.3g}")
    right.set(xscale="log", yscale="log", xlabel="fixed learning rate", ylabel="loss",
              title="a sweep of fixed rates (one run each)")
    right.legend(fontsize=7)
    return left, right


def checklist_grid(fig, cases):
    """One small panel per fault: training loss per step (solid) and validation loss per epoch (dashed),
    broken run in red and fixed run in green, log scale."""
    cols = 4
    axes = fig.subplots(-(-len(cases) // cols), cols, squeeze=False)
    for ax, case in zip(axes.flat, cases, strict=False):
        for run, label, c in ((case.broken, "broken", "#cf222e"), (case.fixed, "fixed", "#1a7f37")):
            ax.plot(_positive(run.step_loss), color=c, lw=0.9, alpha=0.8, label=f"{label}: train")
            ax.plot(run.checkpoint_steps[1:], _positive(run.val_loss), "--", color=c,
                    lw=1.4, label=f"{label}: validation")
            _mark_divergence(ax, np.arange(run.num_steps), run.step_loss)
        _log_loss_axis(ax, case.broken.step_loss, case.broken.val_loss, case.fixed.step_loss, case.fixed.val_loss)
        ax.set(title=case.fault.title, xticks=[])
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(cases):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(cases) < axes.size:
        axes.flat[-1].legend(handles, labels, loc="center", fontsize=8)
    fig.supxlabel("step", fontsize=8)
    fig.supylabel("loss (log)", fontsize=8)
    return axes


def fluctuation(fig, runs, last=300):
    """Left: distance of the weights to the minimizer per step. Right: the final stretch, zoomed."""
    left, right = fig.subplots(1, 2)
    for i, run in enumerate(runs.values()):
        left.plot(run.distance, color=color(i), lw=1, label=run.label)
        steps = np.arange(len(run.distance) - last, len(run.distance))
        tail = run.distance[-last:]
        right.plot(steps, tail, color=color(i), lw=1.2, label=f"mean {tail.mean():.3f}")
    left.set(yscale="log", xlabel="step", ylabel="‖w_t − w*‖", title="SGD on least squares: distance to w*")
    right.set(yscale="log", xlabel="step", ylabel="‖w_t − w*‖", title=f"the last {last} steps")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    return left, right


def randomness(ax, study):
    """Final validation accuracy per run, one column per source of randomness that varies."""
    for i, values in enumerate(study.accuracy.values()):
        values = np.asarray(values)
        ax.plot(np.full(len(values), i), 100 * values, "o", color=color(i), alpha=0.8, markersize=6)
        ax.plot([i - 0.25, i + 0.25], [100 * values.mean()] * 2, color=color(i), lw=2)
    ax.set(xticks=range(len(study.accuracy)), xticklabels=[f"varies:\n{s}" for s in study.accuracy],
           ylabel="validation accuracy (%)", title="one source of randomness at a time (others fixed)")
    ax.tick_params(axis="x", labelsize=8)
    return ax


def capstone_diagnostics(fig, result, class_names=None):
    """Loss curves, per-layer gradient norms, dead units and the confusion matrix of the capstone."""
    axes = fig.subplots(2, 2)
    history = result.history
    epochs = np.arange(1, history.num_epochs + 1)
    ax = axes[0, 0]
    ax.plot(epochs, history["train_loss"], "o-", markersize=3, color=color(0), label="train")
    ax.plot(epochs, history["val_loss"], "s-", markersize=3, color=color(1), label="validation")
    if history.best_epoch is not None:
        best = history.best_epoch + 1
        ax.axvline(best, color="0.4", ls=":", label=f"best epoch ({best}), restored")
    ax.set(yscale="log", xlabel="epoch", ylabel="loss",
           title=f"loss · test accuracy {result.test_accuracy:.1%}")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for j in range(result.grad_norms.shape[1]):
        ax.plot(np.arange(len(result.grad_norms)), result.grad_norms[:, j], "o-", markersize=3,
                color=color(j), label=f"Linear {j + 1}")
    ax.set(yscale="log", xlabel="epoch (0 = initialization)", ylabel="‖∂L/∂W‖",
           title="gradient norm per layer")
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    names = [f"ReLU (layer {i})" for i in result.dead]
    dead = [100 * len(units) / result.config["hidden"] for units in result.dead.values()]
    ax.bar(range(len(dead)), dead, color=color(4))
    ax.set(xticks=range(len(dead)), xticklabels=names, ylim=(0, 100), ylabel="% dead units",
           title="dead units on the training set (end)")
    for k, value in enumerate(dead):
        ax.text(k, value + 2, f"{value:.0f}%", ha="center", fontsize=8)
    ax = axes[1, 1]
    image = ax.imshow(result.confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(result.confusion):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=6,
                    color="white" if count > result.confusion.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix (test)", xticks=range(10),
           yticks=range(10))
    fig.colorbar(image, ax=ax, shrink=0.8)
    return axes
