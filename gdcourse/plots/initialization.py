"""Figures of notebook 08 (initialization), shared by its static plots and its explorer.

Each function draws on the axes (or figure) it is given and returns what it drew,
so tests can assert on the plotted data. Values that are exactly 0 (the zeros
scheme) cannot sit on a log axis: they are left out and the axes say so.
"""

from __future__ import annotations

import numpy as np

from gdcourse.plots import color

__all__ = ["per_layer_curves", "layer_histograms", "weight_heatmap", "draw_init_profile", "init_profile_frame"]

_QUANTITIES = {
    "stds": "activation std",
    "second_moments": "E[h²]",
    "backward_stds": "std of ∂L/∂h",
    "grad_norms": "‖∂L/∂W‖",
}


def _positive(values):
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def _span_decades(ax, values, decades=3.0):
    """Widen a log axis to at least ``decades`` decades, so a flat curve looks flat."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return
    low, high = np.log10(values.min()), np.log10(values.max())
    if high - low < decades:
        middle = (low + high) / 2
        ax.set_ylim(10 ** (middle - decades / 2), 10 ** (middle + decades / 2))


def per_layer_curves(ax, profiles, quantity="stds", reference=None):
    """One curve per :class:`~gdcourse.experiments.initialization.DepthProfile` of ``quantity`` against the layer.

    ``profiles``: label → profile. ``quantity``: "stds", "second_moments",
    "backward_stds" or "grad_norms" (which has one more entry, the head, drawn at
    ``depth + 1``). ``reference``: an optional horizontal line (value, label).
    Log y axis spanning at least 3 decades; exact zeros are omitted and named on
    the axes.
    """
    if quantity not in _QUANTITIES:
        raise ValueError(f"quantity: expected one of {list(_QUANTITIES)}, got {quantity!r}")
    lines, zero, shown = [], [], []
    for i, (label, profile) in enumerate(profiles.items()):
        values = np.asarray(getattr(profile, quantity), dtype=float)
        layers = np.arange(1, len(values) + 1)
        (line,) = ax.plot(layers, _positive(values), "-", marker="o", markersize=2.5, lw=1.5, color=color(i),
                          label=label)
        lines.append(line)
        shown.append(values)
        if np.all(values == 0):
            zero.append(label)
    if reference is not None:
        ax.axhline(reference[0], color="0.35", ls=":", lw=1, label=reference[1])
    ax.set(yscale="log", xlabel="layer", ylabel=_QUANTITIES[quantity], xlim=(0.5, max(map(len, shown)) + 0.5))
    _span_decades(ax, np.concatenate(shown))
    if zero:
        ax.text(0.5, 0.5, "exactly 0 (not drawn on a log axis):\n" + "\n".join(zero), transform=ax.transAxes,
                ha="center", va="center", fontsize=8, color="#cf222e")
    ax.legend(fontsize=7, loc="best")
    return lines


def layer_histograms(ax, counts, edges, layers, xlabel, zero_spike=False):
    """Histograms of a few layers on shared bins, stacked (layer 1 on top), each scaled to its own peak.

    A shared x range is the point: a layer whose values shrank to nothing is a
    single spike at 0, one that saturated piles up at the ends. With
    ``zero_spike`` (ReLU outputs, half of them exactly 0) each row is scaled to its
    highest bin *after* the first, and the first bin is cut at the top, so the
    shape of the positive part stays visible. Returns the lines.
    """
    return _histogram_rows(ax, counts, edges, layers, xlabel, zero_spike)[0]


def _row_heights(counts, zero_spike):
    heights = []
    for row in counts:
        rest = float(np.max(row[1:])) if zero_spike and len(row) > 1 else 0.0
        peak = rest or float(np.max(row)) or 1.0
        heights.append(np.minimum(row / peak, 1.0))
    return heights


def _histogram_rows(ax, counts, edges, layers, xlabel, zero_spike, inside=False):
    """:func:`layer_histograms` and ``update(counts, edges, layers, zero_spike)`` (same number of rows).

    ``inside``: name the rows with texts inside the axes instead of tick labels, so that another depth
    changes the axes' content, not its frame (an explorer redraws a frame only when its ticks change).
    """
    centers = (edges[:-1] + edges[1:]) / 2
    lines, fills, offsets = [], [], []
    for i, height in enumerate(_row_heights(counts, zero_spike)):
        offset = 1.2 * (len(layers) - 1 - i)
        (line,) = ax.step(centers, offset + height, where="mid", color=color(i), lw=1.3)
        fills.append(ax.fill_between(centers, offset, offset + height, step="mid", color=color(i), alpha=0.25))
        lines.append(line)
        offsets.append(offset)
    names = [f"layer {layer}" for layer in layers]
    if inside:
        ax.set_yticks([])
        place = ax.get_yaxis_transform()              # x in axes fraction, y in data
        texts = [ax.text(0.01, offset + 0.75, name, transform=place, fontsize=8, color=color(i),
                         bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1})
                 for i, (offset, name) in enumerate(zip(offsets, names, strict=True))]
    else:
        ax.set_yticks(offsets, names, fontsize=8)
        texts = []
    ax.set(xlabel=xlabel, xlim=_histogram_xlim(edges), ylim=(-0.1, 1.2 * len(layers)))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))

    def update(counts, edges, layers, zero_spike=zero_spike):
        centers = (edges[:-1] + edges[1:]) / 2
        for line, fill, offset, height in zip(lines, fills, offsets, _row_heights(counts, zero_spike), strict=True):
            line.set_data(centers, offset + height)
            fill.set_data(centers, offset, offset + height)
        for text, layer in zip(texts, layers, strict=True):
            text.set_text(f"layer {layer}")
        if ax.get_xlim() != _histogram_xlim(edges):
            ax.set_xlim(_histogram_xlim(edges))

    return lines, update


def _histogram_xlim(edges):
    """The bins' range, widened to ±(1, 2 or 5 × 10^k) unless it is [−1, 1] or [0, 1]: few tick changes."""
    low, high = float(edges[0]), float(edges[-1])
    if (low, high) in ((-1.0, 1.0), (0.0, 1.0)):
        return low, high
    reach = _nice(max(abs(low), abs(high)))
    return (0.0 if low >= 0 else -reach), reach


def _nice(value):
    value = max(float(value), 1e-300)
    decade = 10.0 ** np.floor(np.log10(value))
    return float(next(m * decade for m in (1, 2, 5, 10) if m * decade >= value * (1 - 1e-12)))


def weight_heatmap(ax, W, title, limit=None):
    """``W (n_in, units)`` as an image (inputs down, units across), on a symmetric colour scale."""
    W = np.asarray(W, dtype=float)
    limit = limit if limit is not None else (float(np.max(np.abs(W))) or 1.0)
    image = ax.imshow(W, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    ax.set(xlabel="hidden unit", ylabel="input", title=title)
    ax.title.set_fontsize(9)
    return image


def _decade_ylim(values, decades=3):
    """Whole decades around the positive finite ``values``, at least ``decades`` of them (None if none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return None
    low, high = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    missing = decades - (high - low)
    if missing > 0:
        low, high = low - np.ceil(missing / 2), high + np.floor(missing / 2)
    return 10.0 ** low, 10.0 ** high


def _layer_xlim(depth):
    """Layers 1 … ``depth`` (and the head at ``depth + 1``) on an axis that ends after the next multiple of
    10: the ticks change only when the depth crosses one."""
    return 0.5, 10 * -(-depth // 10) + 1.5


def draw_init_profile(fig, profile):
    """Explorer frame: activation histograms, std per layer, gradient histograms, weight-gradient norms."""
    return init_profile_frame(fig, profile)[0]


def _shape(profile):
    """What an update cannot change in place: the number of histogram rows, exact zeros."""
    return len(profile.hist_layers), bool(np.all(profile.stds == 0)), bool(np.all(profile.grad_norms == 0))


def _activation_label(profile):
    return "activation h" + (" (bar at 0 cut: half the outputs are 0)" if profile.activation == "relu" else "")


def init_profile_frame(fig, profile):
    """:func:`draw_init_profile` and ``update(profile)``, which moves its artists to another profile.

    The per-layer axes use whole decades (:func:`_decade_ylim`) and the histograms ranges of 1, 2, 5 × 10^k,
    so ticks change only when the values leave them. A profile of another shape (:func:`_shape`) asks for a
    new frame.
    """
    (ax_hist, ax_std), (ax_ghist, ax_gnorm) = fig.subplots(2, 2)
    _, update_acts = _histogram_rows(ax_hist, profile.act_counts, profile.act_edges, profile.hist_layers,
                                     _activation_label(profile), zero_spike=profile.activation == "relu", inside=True)
    reference = (profile.stds[0], "layer 1") if profile.stds[0] > 0 else None
    (std_line,) = per_layer_curves(ax_std, {"std of h": profile}, "stds", reference=reference)
    _, update_grads = _histogram_rows(ax_ghist, profile.grad_counts, profile.grad_edges, profile.hist_layers,
                                      "back-propagated gradient ∂L/∂h", zero_spike=False, inside=True)
    ax_ghist.set_title("gradients", fontsize=9)
    (norm_line,) = per_layer_curves(ax_gnorm, {"‖∂L/∂W‖ (last: head)": profile}, "grad_norms")
    reference_line = ax_std.lines[-1] if reference is not None else None
    shape = _shape(profile)

    def update(profile, **_):
        if _shape(profile) != shape:
            return "redraw"
        update_acts(profile.act_counts, profile.act_edges, profile.hist_layers, profile.activation == "relu")
        if ax_hist.get_xlabel() != _activation_label(profile):
            ax_hist.set_xlabel(_activation_label(profile))
        update_grads(profile.grad_counts, profile.grad_edges, profile.hist_layers)
        for ax, line, values in ((ax_std, std_line, profile.stds), (ax_gnorm, norm_line, profile.grad_norms)):
            line.set_data(np.arange(1, len(values) + 1), _positive(values))
            xlim = _layer_xlim(profile.depth)
            if ax.get_xlim() != xlim:
                ax.set_xlim(xlim)
            ylim = _decade_ylim(values)
            if ylim is not None and ax.get_ylim() != ylim:
                ax.set_ylim(ylim)
        if reference_line is not None:
            reference_line.set_ydata([profile.stds[0]] * 2)
        _titles(profile, ax_hist, ax_std, ax_gnorm)

    for ax, values in ((ax_std, profile.stds), (ax_gnorm, profile.grad_norms)):
        ax.set_xlim(_layer_xlim(profile.depth))
        ylim = _decade_ylim(values)
        if ylim is not None:
            ax.set_ylim(ylim)
    _titles(profile, ax_hist, ax_std, ax_gnorm)
    return (ax_hist, ax_std, ax_ghist, ax_gnorm), update


def _titles(profile, ax_hist, ax_std, ax_gnorm):
    name = f"{profile.activation}, {profile.scheme}" + (f" × {profile.gain:.3g}" if profile.gain != 1 else "")
    ax_hist.set_title(f"activations ({name})", fontsize=9)
    ax_std.set_title(f"layer {profile.depth}: std {profile.stds[-1]:.3g}; initial loss {profile.loss:.3g} "
                     "(ln 10 = 2.30)", fontsize=9)
    if profile.grad_norms[-2] > 0:
        ratio = profile.grad_norms[0] / profile.grad_norms[-2]
        ax_gnorm.set_title(f"weight gradients: layer 1 / layer {profile.depth} = {ratio:.3g}", fontsize=9)
    else:
        ax_gnorm.set_title("weight gradients", fontsize=9)
