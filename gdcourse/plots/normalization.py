"""Figures of notebook 06 (normalization), shared by its static plots and explorers.

Each function draws on the figure or axes it is given and returns what it drew, so tests can assert on
the plotted data rather than on pixels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from gdcourse.plots import color

__all__ = ["MAX_ROWS_SHOWN", "STRIP_RANGE", "NORMALIZED_LIMITS", "heatmap", "nice_limit", "axis_stat_panel",
           "sample_output_strip", "draw_norm_axes", "norm_axes_frame", "draw_batch_size_view", "batch_size_frame",
           "gradient_norm_profile"]

MAX_ROWS_SHOWN = 16
"""Heatmaps and per-sample panels show at most this many rows of the batch."""

_PANELS = ("input", "batch norm", "layer norm")


def heatmap(fig, ax, values, title, limit=None, rows=None):
    """``values (N, D)`` as a heatmap (rows = samples, columns = features) with its own colorbar.

    ``limit``: the colour scale is ``±limit`` (default: the largest ``|value|``). ``rows``: draw that many
    rows, those beyond ``N`` left empty (so heatmaps of batches of different sizes share their axes).
    """
    values = np.asarray(values, dtype=float)
    limit = float(np.abs(values).max()) if limit is None else limit
    image = ax.imshow(_padded(values, rows), aspect="auto", cmap="RdBu_r", interpolation="nearest",
                      vmin=-limit, vmax=limit)
    ax.set(title=title, xlabel="feature", ylabel="sample", xticks=range(values.shape[1]))
    shown = len(values) if rows is None else rows
    ax.set_yticks(range(0, shown, max(1, shown // 8)))
    fig.colorbar(image, ax=ax, fraction=0.08, pad=0.02)
    return image


def _padded(values, rows):
    """``values`` cut or padded with NaN (drawn empty) to ``rows`` rows; unchanged when ``rows`` is None."""
    if rows is None:
        return values
    out = np.full((rows, values.shape[1]), np.nan)
    out[:min(rows, len(values))] = values[:rows]
    return out


def nice_limit(value):
    """The smallest of 1, 2, 5 × 10^k that is ≥ ``value`` (> 0): axis and colour limits that rarely change."""
    value = max(float(value), 1e-12)
    decade = 10.0 ** np.floor(np.log10(value))
    return float(next(m * decade for m in (1, 2, 5, 10) if m * decade >= value * (1 - 1e-12)))


def _stat_arrays(s, axis):
    mean, std = (s.feature_mean, s.feature_std) if axis == "feature" else (s.sample_mean, s.sample_std)
    return mean[:MAX_ROWS_SHOWN], std[:MAX_ROWS_SHOWN]


def axis_stat_panel(ax, stats, axis, legend=True):
    """Mean ± std per feature (``axis="feature"``) or per sample (``axis="sample"``), one series per panel.

    ``stats``: name -> ``AxisStatistics``. A symlog y-axis keeps inputs of scale 100 and normalized
    values of scale 1 readable together. Returns the errorbar containers in the order of ``stats``.
    """
    containers = []
    for i, (name, s) in enumerate(stats.items()):
        mean, std = _stat_arrays(s, axis)
        where = np.arange(len(mean)) + (i - 1) * 0.22
        containers.append(ax.errorbar(where, mean, yerr=std, fmt="o", ms=4, capsize=2, color=color(i),
                                      label=name))
    count = len(mean)
    ax.set_xticks(range(0, count, max(1, count // 8)))
    ax.set_yscale("symlog", linthresh=1.0)
    ax.axhline(0, color="0.6", lw=0.8)
    over = "the batch" if axis == "feature" else "the features"
    ax.set(xlabel=axis, ylabel="mean ± std", title=f"per {axis} (over {over})")
    if legend:
        ax.legend(fontsize=7, loc="best")
    return containers


def _move_errorbar(container, x, mean, std):
    """Move an errorbar container (marker line, two caps, one bar collection) to new data."""
    line, caps, (bars,) = container.lines
    line.set_data(x, mean)
    caps[0].set_data(x, mean - std)
    caps[1].set_data(x, mean + std)
    bars.set_segments(np.stack([np.column_stack([x, mean - std]), np.column_stack([x, mean + std])], axis=1))


def _stat_limit(stats):
    return nice_limit(max(float(np.max(np.abs(m) + sd)) for s in stats.values()
                          for m, sd in (_stat_arrays(s, "feature"), _stat_arrays(s, "sample"))))


STRIP_RANGE = (-1.6, 3.2)
"""The y range of the sample strip: every normalized value of the explorer's settings lies in [−1.5, 1.75]
(layer norm of 4 features is at most √3); the top leaves room for the legend."""


def sample_output_strip(ax, view, ylim=None):
    """Batch norm's outputs for one fixed sample: one dot per random batch (training mode), the
    evaluation-mode output and layer norm's output. Returns ``(train dots, eval markers, LN markers)``.

    ``ylim``: fixed y limits (default: from the values, with room above for the legend).
    """
    trials, d = view.train_outputs.shape
    features = np.arange(d)
    dots = ax.scatter(*_strip_points(view), s=8, color=color(0), alpha=0.45, label="BN train (a dot per batch)")
    (evals,) = ax.plot(features, view.eval_output, "D", color="k", ms=6, label="BN eval")
    (lns,) = ax.plot(features, view.ln_output, "x", color=color(2), ms=8, mew=2, label="LN")
    if ylim is None:
        values = np.concatenate([view.train_outputs.ravel(), view.eval_output, view.ln_output])
        low, high = values.min(), values.max()
        ylim = (low - 0.1, high + 0.9 * (high - low))
    ax.set(xlabel="feature", ylabel="normalized value", xticks=features, ylim=ylim, title=_strip_title(view))
    ax.legend(fontsize=7, loc="upper left", handletextpad=0.2, borderaxespad=0.3)
    return dots, evals, lns


def _strip_points(view):
    trials, d = view.train_outputs.shape
    jitter = np.linspace(-0.25, 0.25, trials)
    return (np.arange(d)[None, :] + jitter[:, None]).ravel(), view.train_outputs.ravel()


def _strip_title(view):
    return f"sample 0 in {len(view.train_outputs)} random batches of {view.batch_size}"


def _heatmap_title(name, view):
    rows = "" if view.batch_size <= MAX_ROWS_SHOWN else f", first {MAX_ROWS_SHOWN} rows"
    return f"{name} (B = {view.batch_size}{rows})"


NORMALIZED_LIMITS = {"batch norm": 2.5, "layer norm": 1.75}
"""Colour limits of the normalized heatmaps: batch norm's values stay within ±2.5 for B ≤ 64 here, layer
norm's within ±√3 (4 features)."""


def draw_norm_axes(fig, view):
    """The normalization-axes explorer: heatmaps of the batch, BN and LN (top); statistics per feature and
    per sample and the fixed sample's outputs across batches (bottom). Returns the axes ``(2, 3)``."""
    return norm_axes_frame(fig, view)[0]


def norm_axes_frame(fig, view):
    """:func:`draw_norm_axes` and ``update(view)``, which moves its artists to another view.

    Every heatmap has :data:`MAX_ROWS_SHOWN` rows (those beyond the batch empty) and a colour scale
    that changes only in steps of 1, 2, 5 × 10^k (the input) or not at all (:data:`NORMALIZED_LIMITS`);
    the statistics share a symlog range in the same steps; one legend below them serves both.
    """
    axes = np.array(fig.subplots(2, 3))
    images = []
    for ax, name, values in zip(axes[0], _PANELS, (view.x, view.bn, view.ln), strict=True):
        limit = NORMALIZED_LIMITS.get(name) or nice_limit(np.abs(values[:MAX_ROWS_SHOWN]).max())
        images.append(heatmap(fig, ax, values[:MAX_ROWS_SHOWN], _heatmap_title(name, view), limit=limit,
                              rows=MAX_ROWS_SHOWN))
    feature = axis_stat_panel(axes[1, 0], view.stats, "feature", legend=False)
    sample = axis_stat_panel(axes[1, 1], view.stats, "sample", legend=False)
    axes[1, 1].set_xlim(-0.6, MAX_ROWS_SHOWN - 0.4)
    axes[1, 1].set_xticks(range(0, MAX_ROWS_SHOWN, 2))
    axes[1, 0].set_xlim(-0.6, view.x.shape[1] - 0.4)
    for ax in axes[1, :2]:
        ax.set_ylim(-_stat_limit(view.stats), _stat_limit(view.stats))
    fig.legend(feature, list(view.stats), loc="outside lower center", ncol=3, fontsize=8)
    dots, evals, lns = sample_output_strip(axes[1, 2], view, ylim=STRIP_RANGE)

    def update(view, **_):
        for ax, image, name, values in zip(axes[0], images, _PANELS, (view.x, view.bn, view.ln), strict=True):
            image.set_data(_padded(values[:MAX_ROWS_SHOWN], MAX_ROWS_SHOWN))
            if name not in NORMALIZED_LIMITS:
                limit = nice_limit(np.abs(values[:MAX_ROWS_SHOWN]).max())
                image.set_clim(-limit, limit)
            ax.set_title(_heatmap_title(name, view))
        for containers, axis in ((feature, "feature"), (sample, "sample")):
            for i, (container, s) in enumerate(zip(containers, view.stats.values(), strict=True)):
                mean, std = _stat_arrays(s, axis)
                _move_errorbar(container, np.arange(len(mean)) + (i - 1) * 0.22, mean, std)
        limit = _stat_limit(view.stats)
        for ax in axes[1, :2]:
            if ax.get_ylim()[1] != limit:
                ax.set_ylim(-limit, limit)
        dots.set_offsets(np.column_stack(_strip_points(view)))
        evals.set_ydata(view.eval_output)
        lns.set_ydata(view.ln_output)
        axes[1, 2].set_title(_strip_title(view))

    return axes, update


def draw_batch_size_view(fig, view):
    """The batch-size explorer: coverage of the batch mean and spread of one sample's BN output vs batch
    size, the current batch size marked. Returns the two axes."""
    return batch_size_frame(fig, view)[0]


def batch_size_frame(fig, view):
    """:func:`draw_batch_size_view` and ``update(view)``: the curves stay, the markers, labels and titles move."""
    ax_cov, ax_spread = fig.subplots(1, 2)
    b = view.batch_size
    ax_cov.plot(view.batch_sizes, view.coverage, "-", color=color(0), lw=1.5,
                label=f"|batch mean − μ| ≤ {view.tolerance:g}σ")
    ax_cov.axhline(view.level, color=color(1), ls="--", lw=1, label=f"{view.level:.0%}")
    (cov_marker,) = ax_cov.plot([b], [view.current_coverage], "o", color="k", ms=7, label=f"B = {b}")
    ax_cov.set(xlabel="batch size B", ylabel="share of random batches", ylim=(0, 1.02),
               title=_coverage_title(view))
    cov_legend = ax_cov.legend(fontsize=8, loc="lower right")
    ax_spread.loglog(view.batch_sizes, view.spread, "-", color=color(2), lw=1.5,
                     label="std of sample 0's output")
    reference = view.spread[0] * np.sqrt(view.batch_sizes[0] / view.batch_sizes)
    ax_spread.loglog(view.batch_sizes, reference, ":", color="0.4", label="∝ 1/√B")
    (spread_marker,) = ax_spread.plot([b], [view.current_spread], "o", color="k", ms=7)
    ticks = [t for t in (2, 4, 8, 16, 32, 64) if view.batch_sizes[0] <= t <= view.batch_sizes[-1]]
    ax_spread.set_xticks(ticks, [str(t) for t in ticks])
    ax_spread.xaxis.set_minor_formatter(NullFormatter())
    ax_spread.set(xlabel="batch size B", ylabel="std across batches", title=_spread_title(view))
    ax_spread.legend(fontsize=8)

    def update(view, **_):
        cov_marker.set_data([view.batch_size], [view.current_coverage])
        cov_legend.get_texts()[-1].set_text(f"B = {view.batch_size}")
        ax_cov.set_title(_coverage_title(view))
        spread_marker.set_data([view.batch_size], [view.current_spread])
        ax_spread.set_title(_spread_title(view))

    return (ax_cov, ax_spread), update


def _coverage_title(view):
    return (f"B = {view.batch_size}: {view.current_coverage:.1%} of batches within {view.tolerance:g}σ")


def _spread_title(view):
    return f"one sample's BN output: std {view.current_spread:.3f} at B = {view.batch_size}"


def gradient_norm_profile(ax, profiles):
    """Weight-gradient norm per linear layer (log scale), one line per model; ``profiles``: name -> (L,)."""
    lines = []
    for i, (name, norms) in enumerate(profiles.items()):
        (line,) = ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", color=color(i), ms=4, label=name)
        lines.append(line)
    ax.set(xlabel="linear layer (1 = input side)", ylabel="‖∂L/∂W‖", title="gradient norm per layer at init")
    ax.legend(fontsize=8)
    return lines
