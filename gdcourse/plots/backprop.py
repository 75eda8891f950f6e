"""Figures of notebook 04 (backpropagation and gradient flow), shared by its static plots and explorers.

Each function draws on the axes (or figure) it is given and returns what it drew,
so tests can assert on the plotted data.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from gdcourse import graph
from gdcourse.plots import color, decade_limits, in_frame

__all__ = ["draw_graph_view", "layer_norms", "mean_derivatives", "draw_depth_profile", "rnn_curve",
           "draw_rnn_gradient", "graph_view_frame", "depth_profile_frame", "rnn_gradient_frame", "hidden_error_bars",
           "difference_error_curves", "first_layer_bars"]

ERROR_COLOR = "#cf222e"


def draw_graph_view(fig, view):
    """The graph of a :class:`~gdcourse.experiments.backprop.GraphView`, or its error message."""
    return _graph_view(fig.add_subplot(), view)


def _graph_view(ax, view):
    if not view.ok:
        ax.text(0.5, 0.5, f"cannot build the graph:\n{view.error}", ha="center", va="center", wrap=True,
                color=ERROR_COLOR, fontsize=10, transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    graph.draw(view.root, ax)
    values = ", ".join(f"{k} = {v:g}" for k, v in view.values.items())
    ax.set_title(f"{view.expression}   ({values})   →   output {view.root.data:.4g}; "
                 "blue: inputs, orange: output, grad = d(output)/d(node)", fontsize=9)
    return ax


def layer_norms(ax, profile, threshold=None, label=None, i=0):
    """‖dL/dW‖ per layer (log axis), layer 1 = first; optionally the line ``threshold ×`` the last layer's."""
    layers = np.arange(1, len(profile.weight_norms) + 1)
    (line,) = ax.plot(layers, profile.weight_norms, "-o", color=color(i), markersize=3.5, lw=1.5,
                      label=label or profile.name)
    if threshold is not None:
        ax.axhline(threshold * profile.weight_norms[-1], color=ERROR_COLOR, ls="--", lw=1,
                   label=f"{threshold:g} × last layer")
    ax.set(yscale="log", xlabel="layer (1 = first, last = output)", ylabel="‖dL/dW‖")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return line


def mean_derivatives(ax, profile, i=0):
    """Mean f'(z) of each hidden layer, with the sigmoid bound 1/4 and 1 marked."""
    layers = np.arange(1, len(profile.mean_derivative) + 1)
    bars = ax.bar(layers, profile.mean_derivative, color=color(i), alpha=0.8)
    ax.axhline(0.25, color=ERROR_COLOR, ls="--", lw=1, label="1/4 = max of σ'")
    ax.axhline(1.0, color="0.4", ls=":", lw=1, label="1")
    top = max(1.1, 1.1 * float(np.max(profile.mean_derivative, initial=0)))
    ax.set(ylim=(0, top), xlabel="hidden layer", ylabel="mean f'(z)")
    ax.legend(loc="upper right", fontsize=7)
    return bars


def draw_depth_profile(fig, profile, threshold=1e-6):
    """Explorer frame: per-layer gradient norms (left), the activation's mean derivative per layer (right)."""
    left, right = fig.subplots(1, 2, width_ratios=[1.6, 1])
    layer_norms(left, profile, threshold)
    verdict = "below" if profile.ratio < threshold else "above"
    left.set_title(f"depth {profile.depth}: first/last = {profile.ratio:.2e} ({verdict} {threshold:g})",
                   fontsize=9)
    left.legend(loc="lower right", fontsize=7)
    mean_derivatives(right, profile)
    right.set_title("how much each layer's f' passes back", fontsize=9)
    return left, right


def rnn_curve(ax, run, i=0, bound=False, label=None):
    """‖dL/dx_{T−k}‖ against k steps back (log axis; zeros, beyond a truncation, are not drawn)."""
    k = np.arange(len(run.norms))
    shown = np.where(run.norms > 0, run.norms, np.nan)
    (line,) = ax.plot(k, shown, color=color(i), lw=1.6, label=label or f"scale {run.scale:g}")
    if bound:
        ax.plot(k, run.bound, color=color(i), lw=1, ls="--", label=f"scale^k bound ({run.scale:g}^k)")
    ax.set(yscale="log", xlabel="time steps back k", ylabel="‖dL/dx_{T−k}‖")
    return line


def draw_rnn_gradient(fig, run, references=()):
    """Explorer frame: the chosen run with its bound, faint reference runs, and the truncation point."""
    ax = fig.add_subplot()
    for ref in references:
        ax.plot(np.arange(len(ref.norms)), ref.norms, color="0.75", lw=1)
        ax.text(len(ref.norms) - 1, ref.norms[-1], f" {ref.scale:g}", color="0.5", fontsize=7, va="center",
                clip_on=True)
    line = rnn_curve(ax, run, bound=True, label=f"W_hh scale {run.scale:g}")
    if run.bptt_steps is not None and run.bptt_steps < len(run.norms):
        ax.axvline(run.bptt_steps - 0.5, color=ERROR_COLOR, ls=":", lw=1.2,
                   label=f"truncated BPTT: nothing beyond k = {run.bptt_steps - 1}")
    shown = np.concatenate([run.norms, *(ref.norms for ref in references)])
    shown = shown[shown > 0]
    ax.set_ylim(max(1e-18, shown.min() / 10), shown.max() * 100)  # the bound may run off the top
    ax.set_xlim(-1, len(run.norms) + 2)
    ax.set_title("gradient of the last output reaching earlier inputs (grey: scales 0.5, 1, 2)", fontsize=9)
    ax.legend(loc="lower left", fontsize=7)
    return line


def hidden_error_bars(ax, terms: dict, unit):
    """Grouped bars: mean |δ_j| per hidden unit for each scenario; the unit ``unit`` outlined."""
    names = list(terms)
    units = np.arange(len(next(iter(terms.values()))))
    width = 0.8 / len(names)
    groups = []
    for i, name in enumerate(names):
        offset = (i - (len(names) - 1) / 2) * width
        bars = ax.bar(units + offset, terms[name], width, color=color(i), label=name)
        bars[unit].set_edgecolor("k")
        bars[unit].set_linewidth(1.5)
        groups.append(bars)
    ax.set(yscale="log", xticks=units, xlabel="hidden unit j", ylabel="mean |δ_j| = mean |dL/dz_j|")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return groups


def difference_error_curves(ax, hs, curves: dict):
    """Relative error of finite-difference gradients against the step h (log-log)."""
    lines = []
    for i, (label, errors) in enumerate(curves.items()):
        (line,) = ax.plot(hs, errors, "-o", markersize=3, color=color(i), label=label)
        lines.append(line)
    ax.set(xscale="log", yscale="log", xlabel="step h", ylabel="relative error vs backprop")
    ax.legend(fontsize=7)
    return lines


def first_layer_bars(ax, values: dict, baseline=None):
    """Horizontal bars of the first layer's gradient norm for named network variants (log axis)."""
    names = list(values)
    colors = [ERROR_COLOR if n == baseline else color(i + 2) for i, n in enumerate(names)]
    bars = ax.barh(names, [values[n] for n in names], color=colors)
    ax.invert_yaxis()
    ax.set(xscale="log", xlabel="‖dL/dW₁‖ (first layer)")
    return bars


# ---------------------------------------------------------------- explorer frames (draw once, then update)

def _margins(n):
    """Matplotlib's default 5 % margins around ``1 … n`` (layers are numbered from 1)."""
    pad = 0.05 * max(n - 1, 1)
    return 1 - pad, n + pad


def _room_for(n, every=5):
    """``n`` rounded up to a multiple of ``every``: the axis (and its tick labels) stays while depth moves by one."""
    return max(every, every * int(np.ceil(n / every)))


def graph_view_frame(fig, view):
    """The graph viewer as a frame that keeps its axes (and layout); returns ``update(view)``.

    A graph has no data to move: each update clears the axes and draws the new
    graph there, which skips the new figure and its layout.
    """
    ax = draw_graph_view(fig, view)

    def update(view, **_):
        ax.clear()
        _graph_view(ax, view)

    return update


def depth_profile_frame(fig, profile, threshold=1e-6):
    """The depth explorer as a frame that updates in place; returns ``update(profile)``.

    Panels as :func:`draw_depth_profile`: the norms line and the threshold move,
    the bars are replaced (their number follows the depth); the log axis keeps
    whole-decade limits while the data stays within them.
    """
    left, right = draw_depth_profile(fig, profile, threshold)
    norms, bound = left.lines[0], left.lines[1]
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    state = {"bars": list(right.containers)}

    def update(profile, **_):
        layers = np.arange(1, len(profile.weight_norms) + 1)
        norms.set_data(layers, profile.weight_norms)
        norms.set_label(profile.name)
        level = threshold * profile.weight_norms[-1]
        bound.set_ydata([level, level])
        left.set_xlim(*_margins(_room_for(len(layers))))
        left.set_ylim(*decade_limits(profile.weight_norms, level, floor=1e-300, current=left.get_ylim()))
        verdict = "below" if profile.ratio < threshold else "above"
        left.set_title(f"depth {profile.depth}: first/last = {profile.ratio:.2e} ({verdict} {threshold:g})",
                       fontsize=9)
        left.legend(loc="lower right", fontsize=7)
        for bars in state["bars"]:
            bars.remove()
        hidden = np.arange(1, len(profile.mean_derivative) + 1)
        state["bars"] = [right.bar(hidden, profile.mean_derivative, color=color(0), alpha=0.8)]
        room = _room_for(len(hidden))
        span = room - 0.2                                # bars of width 0.8 from 0.6 to n + 0.4
        right.set_xlim(0.6 - 0.05 * span, room + 0.6)   # no tick beyond the room
        right.set_ylim(0, max(1.1, 1.1 * float(np.max(profile.mean_derivative, initial=0))))

    update(profile)
    return update


def rnn_gradient_frame(fig, run, references=()):
    """The RNN explorer as a frame that updates in place; returns ``update(run)``.

    As :func:`draw_rnn_gradient` (the references stay), with whole-decade limits
    on the log axis that stay while the curves fit them.
    """
    line = draw_rnn_gradient(fig, run, references)
    ax = line.axes
    bound = ax.lines[len(references) + 1]
    for mark in ax.lines[len(references) + 2:]:       # a truncation mark: ours below replaces it
        mark.remove()
    cut = ax.axvline(0, color=ERROR_COLOR, ls=":", lw=1.2, visible=False)
    in_frame(*ax.lines[:len(references)], *ax.texts[:len(references)])   # the grey references stay
    reference_norms = [ref.norms for ref in references]

    def update(run, **_):
        k = np.arange(len(run.norms))
        line.set_data(k, np.where(run.norms > 0, run.norms, np.nan))
        line.set_label(f"W_hh scale {run.scale:g}")
        bound.set_data(k, run.bound)
        bound.set_label(f"scale^k bound ({run.scale:g}^k)")
        truncated = run.bptt_steps is not None and run.bptt_steps < len(run.norms)
        cut.set_visible(truncated)
        if truncated:
            cut.set_xdata([run.bptt_steps - 0.5] * 2)
            cut.set_label(f"truncated BPTT: nothing beyond k = {run.bptt_steps - 1}")
        shown = np.concatenate([run.norms, *reference_norms])
        shown = shown[shown > 0]
        ax.set_ylim(*decade_limits(shown.min() / 10, shown.max() * 100, floor=1e-18, current=ax.get_ylim()))
        ax.legend(handles=[h for h in (line, bound, cut) if h.get_visible()], loc="lower left", fontsize=7)

    update(run)
    return update
