"""Figures of notebook 06 (normalization), shared by its static plots and explorers.

Each function draws on the figure or axes it is given and returns what it drew, so tests can assert on
the plotted data rather than on pixels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from gdcourse.plots import color

__all__ = ["MAX_ROWS_SHOWN", "heatmap", "axis_stat_panel", "sample_output_strip", "draw_norm_axes",
           "draw_batch_size_view", "gradient_norm_profile"]

MAX_ROWS_SHOWN = 16
"""Heatmaps and per-sample panels show at most this many rows of the batch."""

_PANELS = ("input", "batch norm", "layer norm")


def heatmap(fig, ax, values, title):
    """``values (N, D)`` as a heatmap (rows = samples, columns = features) with its own colorbar."""
    image = ax.imshow(values, aspect="auto", cmap="RdBu_r", interpolation="nearest",
                      vmin=-np.abs(values).max(), vmax=np.abs(values).max())
    ax.set(title=title, xlabel="feature", ylabel="sample", xticks=range(values.shape[1]))
    ax.set_yticks(range(0, len(values), max(1, len(values) // 8)))
    fig.colorbar(image, ax=ax, fraction=0.08, pad=0.02)
    return image


def axis_stat_panel(ax, stats, axis):
    """Mean ± std per feature (``axis="feature"``) or per sample (``axis="sample"``), one series per panel.

    ``stats``: name -> ``AxisStatistics``. A symlog y-axis keeps inputs of scale 100 and normalized
    values of scale 1 readable together. Returns the errorbar containers in the order of ``stats``.
    """
    containers = []
    for i, (name, s) in enumerate(stats.items()):
        mean, std = (s.feature_mean, s.feature_std) if axis == "feature" else (s.sample_mean, s.sample_std)
        mean, std = mean[:MAX_ROWS_SHOWN], std[:MAX_ROWS_SHOWN]
        where = np.arange(len(mean)) + (i - 1) * 0.22
        containers.append(ax.errorbar(where, mean, yerr=std, fmt="o", ms=4, capsize=2, color=color(i),
                                      label=name))
    count = len(mean)
    ax.set_xticks(range(0, count, max(1, count // 8)))
    ax.set_yscale("symlog", linthresh=1.0)
    ax.axhline(0, color="0.6", lw=0.8)
    over = "the batch" if axis == "feature" else "the features"
    ax.set(xlabel=axis, ylabel="mean ± std", title=f"per {axis} (over {over})")
    ax.legend(fontsize=7, loc="best")
    return containers


def sample_output_strip(ax, view):
    """Batch norm's outputs for one fixed sample: one dot per random batch (training mode), the
    evaluation-mode output and layer norm's output. Returns ``(train dots, eval markers, LN markers)``."""
    trials, d = view.train_outputs.shape
    jitter = np.linspace(-0.25, 0.25, trials)
    features = np.arange(d)
    dots = ax.scatter((features[None, :] + jitter[:, None]).ravel(), view.train_outputs.ravel(), s=8,
                      color=color(0), alpha=0.45, label="BN train (a dot per batch)")
    (evals,) = ax.plot(features, view.eval_output, "D", color="k", ms=6, label="BN eval")
    (lns,) = ax.plot(features, view.ln_output, "x", color=color(2), ms=8, mew=2, label="LN")
    values = np.concatenate([view.train_outputs.ravel(), view.eval_output, view.ln_output])
    low, high = values.min(), values.max()
    ax.set(xlabel="feature", ylabel="normalized value", xticks=features,
           ylim=(low - 0.1, high + 0.9 * (high - low)),
           title=f"sample 0 in {trials} random batches of {view.batch_size}")
    ax.legend(fontsize=7, loc="upper left", handletextpad=0.2, borderaxespad=0.3)
    return dots, evals, lns


def draw_norm_axes(fig, view):
    """The normalization-axes explorer: heatmaps of the batch, BN and LN (top); statistics per feature and
    per sample and the fixed sample's outputs across batches (bottom). Returns the axes ``(2, 3)``."""
    axes = np.array(fig.subplots(2, 3))
    shown = slice(0, MAX_ROWS_SHOWN)
    for ax, name, values in zip(axes[0], _PANELS, (view.x, view.bn, view.ln), strict=True):
        rows = "" if len(values) <= MAX_ROWS_SHOWN else f", first {MAX_ROWS_SHOWN} rows"
        heatmap(fig, ax, values[shown], f"{name} (B = {view.batch_size}{rows})")
    axis_stat_panel(axes[1, 0], view.stats, "feature")
    axis_stat_panel(axes[1, 1], view.stats, "sample")
    sample_output_strip(axes[1, 2], view)
    return axes


def draw_batch_size_view(fig, view):
    """The batch-size explorer: coverage of the batch mean and spread of one sample's BN output vs batch
    size, the current batch size marked. Returns the two axes."""
    ax_cov, ax_spread = fig.subplots(1, 2)
    b = view.batch_size
    ax_cov.plot(view.batch_sizes, view.coverage, "-", color=color(0), lw=1.5,
                label=f"|batch mean − μ| ≤ {view.tolerance:g}σ")
    ax_cov.axhline(view.level, color=color(1), ls="--", lw=1, label=f"{view.level:.0%}")
    ax_cov.plot([b], [view.current_coverage], "o", color="k", ms=7, label=f"B = {b}")
    ax_cov.set(xlabel="batch size B", ylabel="share of random batches", ylim=(0, 1.02),
               title=f"B = {b}: {view.current_coverage:.1%} of batches within {view.tolerance:g}σ")
    ax_cov.legend(fontsize=8, loc="lower right")
    ax_spread.loglog(view.batch_sizes, view.spread, "-", color=color(2), lw=1.5,
                     label="std of sample 0's output")
    reference = view.spread[0] * np.sqrt(view.batch_sizes[0] / view.batch_sizes)
    ax_spread.loglog(view.batch_sizes, reference, ":", color="0.4", label="∝ 1/√B")
    ax_spread.plot([b], [view.current_spread], "o", color="k", ms=7)
    ticks = [t for t in (2, 4, 8, 16, 32, 64) if view.batch_sizes[0] <= t <= view.batch_sizes[-1]]
    ax_spread.set_xticks(ticks, [str(t) for t in ticks])
    ax_spread.xaxis.set_minor_formatter(NullFormatter())
    ax_spread.set(xlabel="batch size B", ylabel="std across batches",
                  title=f"one sample's BN output: std {view.current_spread:.3f} at B = {b}")
    ax_spread.legend(fontsize=8)
    return ax_cov, ax_spread


def gradient_norm_profile(ax, profiles):
    """Weight-gradient norm per linear layer (log scale), one line per model; ``profiles``: name -> (L,)."""
    lines = []
    for i, (name, norms) in enumerate(profiles.items()):
        (line,) = ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", color=color(i), ms=4, label=name)
        lines.append(line)
    ax.set(xlabel="linear layer (1 = input side)", ylabel="‖∂L/∂W‖", title="gradient norm per layer at init")
    ax.legend(fontsize=8)
    return lines
