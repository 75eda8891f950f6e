"""Figures of notebook 11 (training at scale); each draws on the axes it is given and returns what it drew."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from gdcourse.experiments import scale as E
from gdcourse.plots import color

__all__ = ["underflow_panel", "fine_tune_panel", "checkpoint_panel", "noise_scale_panel", "jump_panel",
           "draw_jump_explorer", "critical_batch_panel", "width_sweep_panel"]


def underflow_panel(ax, scales, fractions):
    """Share of float16 weight gradients flushed to zero, against the loss scale (log base 2)."""
    exponents = np.log2(scales)
    bars = ax.bar(exponents, 100 * fractions, color=color(0), width=0.8)
    ax.set(xlabel="loss scale S = 2^k: k", ylabel="gradients flushed to 0 (%)",
           title="float16 underflow of gradients ~1e-7·|x|")
    ax.set_xticks(exponents)
    return bars


def fine_tune_panel(ax, runs):
    """Distance to the solution after fine-tuning, as a fraction of the starting distance, one dot per seed."""
    artists = []
    for i, name in enumerate(("float32", "float16", "master")):
        share = getattr(runs, name) / runs.start
        jitter = np.linspace(-0.15, 0.15, len(share))
        artists.append(ax.scatter(np.full(len(share), i) + jitter, share, s=14, color=color(i)))
    ax.set_xticks([0, 1, 2], ["float32", "float16", "float16 +\nfloat32 master"])
    ax.set(ylabel="final / initial distance to w*", ylim=(0, 1.1),
           title=f"{len(runs.start)} least-squares problems, 1,000 SGD steps")
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
    return artists


def checkpoint_panel(ax, rows):
    """Peak stored activations (bars) and forward calls per step (dots, right axis) against the segments."""
    plain, checkpointed = rows[0], rows[1:]
    labels = [str(r.segments) for r in checkpointed]
    bars = ax.bar(labels, [r.peak_activations for r in checkpointed], color=color(0), label="peak stored")
    ax.axhline(plain.peak_activations, color=color(1), ls="--", lw=1, label="no recomputation")
    ax.set(xlabel="segments S", ylabel="peak activations (layers' worth)", ylim=(0, 1.45 * plain.peak_activations),
           title=f"{plain.layer_forwards} layers: memory S + L/S − 1")
    twin = ax.twinx()
    (dots,) = twin.plot(labels, [r.layer_forwards for r in checkpointed], "o", color=color(2),
                        label="layer forwards per step (right)")
    twin.set(ylabel="layer forwards per step", ylim=(0, 2.9 * plain.layer_forwards))
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles + [dots], names + [dots.get_label()], loc="upper center", ncol=2, fontsize=8, frameon=False)
    return bars


def noise_scale_panel(ax, check):
    """Two-batch estimates of B_noise (one dot per seed) against the exact value, at each training point."""
    for i, exact in enumerate(check.exact):
        estimates = check.estimates[i]
        jitter = np.linspace(-0.15, 0.15, len(estimates))
        ax.scatter(np.full(len(estimates), i) + jitter, estimates, s=14, color=color(i))
        ax.hlines(exact, i - 0.3, i + 0.3, color="k", lw=2)
    ax.set_xticks(range(len(check.steps)), [f"after {s} GD steps" for s in check.steps])
    ax.set(yscale="log", ylabel="B_noise", title="exact (bar) vs estimate from B = 8 and 512 (dots)")
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000) if 0.7 * min(check.exact) < t < 1.4 * max(check.exact)]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())


def jump_panel(ax, runs, window=(-20, 150)):
    """Adam's step/lr around a jump of the gradient scale, one curve per β₂, with the prediction dashed."""
    lines = []
    for i, run in enumerate(runs):
        k = np.arange(window[0], window[1])
        lines.append(ax.plot(k, run.step_ratio[run.jump_at + k], color=color(i),
                             label=f"β₂ = {run.betas[1]:g} (horizon {1 / (1 - run.betas[1]):.0f} steps)")[0])
        after = np.arange(1, window[1])
        ax.plot(after, E.predicted_ratio(after, run.betas), color=color(i), ls="--", lw=1)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set(xlabel="steps after the gradient scale jumps ×100", ylabel="|Δθ| / lr", ylim=(0, 7.5),
           title="Adam's step after a jump (dashed: (1 − β₁ᵏ)/√(1 − β₂ᵏ))")
    ax.legend(fontsize=8, frameon=False)
    return lines


def draw_jump_explorer(fig, run, **_):
    """The explorer's frame: step/lr after the jump (left), and the same on a log time axis (right)."""
    left, right = fig.subplots(1, 2)
    k = np.arange(-20, 300)
    after = np.arange(1, 300)
    (measured,) = left.plot(k, run.step_ratio[run.jump_at + k], color=color(0), label="Adam (measured)")
    (predicted,) = left.plot(after, E.predicted_ratio(after, run.betas), color=color(1), ls="--", lw=1,
                             label="(1 − β₁ᵏ)/√(1 − β₂ᵏ)")
    left.axhline(1.0, color="0.6", lw=0.8, ls=":")
    left.set(xlabel="steps after the jump", ylabel="|Δθ| / lr", ylim=(0, 12), xlim=(-20, 300))
    left.legend(fontsize=8, frameon=False, loc="upper right")
    (log_line,) = right.semilogx(after, run.step_ratio[run.jump_at + after], color=color(0))
    horizon = right.axvline(1 / (1 - run.betas[1]), color=color(2), lw=1)
    right.set(xlabel="steps after the jump (log)", ylabel="|Δθ| / lr", ylim=(0, 12), xlim=(1, 300),
              title="green: the averaging horizon 1/(1 − β₂)")
    peak = left.set_title("")

    def update(run, **_):
        measured.set_ydata(run.step_ratio[run.jump_at + k])
        predicted.set_ydata(E.predicted_ratio(after, run.betas))
        log_line.set_ydata(run.step_ratio[run.jump_at + after])
        horizon.set_xdata([1 / (1 - run.betas[1])] * 2)
        peak.set_text(f"peak step {run.step_ratio[run.jump_at:].max():.2f} × lr")

    update(run)
    return update


def critical_batch_panel(ax, result, s_min, b_crit):
    """Median steps to the target (best rate per batch size, quartiles as bars) with the fitted
    ``S_min (1 + B_crit/B)`` and the ``1/B`` line through the smallest batch."""
    batches, median = result.batches, result.median_steps
    low, high = np.percentile(result.best_steps, [25, 75], axis=1)
    points = ax.errorbar(batches, median, yerr=[median - low, high - median], fmt="o", color=color(0), ms=4,
                         capsize=2, label="measured (median, quartiles)")
    fine = np.geomspace(batches[0], batches[-1], 200)
    ax.plot(fine, s_min * (1 + b_crit / fine), color=color(1), lw=1,
            label=f"S_min(1 + B_crit/B), B_crit = {b_crit:.0f}")
    ax.plot(fine, median[0] / fine, color="0.6", ls=":", lw=1, label="∝ 1/B")
    ax.axvline(result.noise_start, color=color(2), lw=0.8, ls="--",
               label=f"B_noise at start ({result.noise_start:.0f})")
    ax.axvline(np.median(result.noise_target[:5]), color=color(3), lw=0.8, ls="--",
               label=f"B_noise at the target (~{np.median(result.noise_target[:5]):.0f})")
    ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="SGD steps to the target",
           ylim=(0.5 * s_min, 2 * median[0]), title="steps to reach the target loss (best rate for each B)")
    ax.legend(fontsize=7, frameon=False)
    return points


def width_sweep_panel(axes, sweep):
    """Final training loss against the rate, one curve per width (mean over seeds, spread shaded); SP left,
    μP right; the best rate of each width marked."""
    for ax, name in zip(axes, ("SP", "muP"), strict=True):
        table = sweep.loss[name]
        for i, width in enumerate(sweep.widths):
            mean, spread = table[i].mean(axis=1), table[i].std(axis=1)
            ax.plot(sweep.lrs, mean, "-", color=color(i), label=f"width {width}")
            ax.fill_between(sweep.lrs, mean - spread, mean + spread, color=color(i), alpha=0.15)
            best = int(np.nanargmin(mean))
            ax.plot(sweep.lrs[best], mean[best], "*", color=color(i), ms=10)
        ax.set(xscale="log", yscale="log", ylim=(0.04, 3), xlabel="Adam learning rate",
               title={"SP": "standard parameterization", "muP": "μP (output ×1/m, hidden rate /m)"}[name])
    axes[0].set_ylabel("training loss after 60 steps")
    axes[0].legend(fontsize=7, frameon=False)
