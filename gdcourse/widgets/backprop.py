"""Explorers of notebook 04: a computational-graph viewer, gradient norms across depth, and an RNN's gradient
over time.

They only wire controls to :mod:`gdcourse.experiments.backprop` (the data:
:func:`~gdcourse.experiments.backprop.graph_view`,
:func:`~gdcourse.experiments.backprop.depth_gradient_profile`,
:func:`~gdcourse.experiments.backprop.rnn_gradient_vs_steps`) and to
:mod:`gdcourse.plots.backprop` (the picture).
"""

from __future__ import annotations

import ipywidgets as W

from gdcourse.experiments import backprop as E
from gdcourse.plots import backprop as P
from gdcourse.widgets import Explorer, dropdown, int_slider, slider

__all__ = ["graph_explorer", "depth_explorer", "rnn_explorer", "INIT_LABELS"]

INIT_LABELS = [("Xavier/Glorot: 2/(n_in+n_out)", "xavier"), ("He: 2/n_in", "he"), ("LeCun: 1/n_in", "lecun"),
               ("small normal: σ = 0.01", "small normal"), ("unit normal: σ = 1", "unit normal")]
"""Dropdown labels of the initializations in :data:`gdcourse.experiments.backprop.INITS`."""


def _text(value, description, width):
    return W.Text(value=value, description=description, continuous_update=False,
                  style={"description_width": "initial"}, layout=W.Layout(width=width))


def _checkbox(value, description):
    return W.Checkbox(value=value, description=description, indent=False, layout=W.Layout(width="120px"))


def _int_slider(value, low, high, description, width="300px"):
    return int_slider(value, low, high, description, width=width)


def graph_explorer(expression="tanh(w * x + b)", values="w=0.5, x=2, b=-1") -> Explorer:
    """Type an expression and its input values; see the graph with every node's value and gradient.

    Allowed: numbers, the variables named in ``values``, ``+ - * /``, ``**`` with a
    constant exponent, unary minus, and ``exp, log, tanh, sigmoid, relu``. A bad
    expression shows the parser's message instead of the graph. The expression
    updates when you press Enter or leave the box.
    ``explorer.data`` is a :class:`~gdcourse.experiments.backprop.GraphView`.
    """
    controls = {"expression": _text(expression, "expression", "420px"),
                "values": _text(values, "values", "300px")}
    return Explorer(controls, compute=E.graph_view, draw=lambda fig, view, **_: P.graph_view_frame(fig, view),
                    figsize=(10, 4.2), title="Computational graph: forward values and gradients")


def depth_explorer(activation="sigmoid", init="xavier", depth=10, batch_norm=False, residual=False, width=64,
                   rng=0) -> Explorer:
    """Per-layer gradient norms of a deep MLP (one random regression batch) as depth grows.

    Controls: ``activation``, ``init`` (see :data:`INIT_LABELS`), ``depth`` (hidden
    layers, 1 … 50), ``batch_norm`` (BatchNorm1d before each activation) and
    ``residual`` (each block wrapped in a skip connection). The title gives the
    first layer's gradient norm over the output layer's.
    ``explorer.data`` is a :class:`~gdcourse.experiments.backprop.GradientProfile`.
    """
    controls = {
        "activation": dropdown(list(E.ACTIVATIONS), activation, "activation", width="200px"),
        "init": dropdown(INIT_LABELS, init, "init", width="280px"),
        "depth": _int_slider(depth, 1, 50, "hidden layers"),
        "batch_norm": _checkbox(batch_norm, "batch norm"),
        "residual": _checkbox(residual, "residual"),
    }

    def compute(activation, init, depth, batch_norm, residual):
        norm = "batch" if batch_norm else None
        return E.depth_gradient_profile(activation, init, depth, width, rng, norm=norm, residual=residual)

    return Explorer(controls, compute=compute,
                    draw=lambda fig, profile, **_: P.depth_profile_frame(fig, profile),
                    figsize=(9.5, 3.6), title="Gradient norm per layer vs depth")


def rnn_explorer(scale=1.0, bptt_steps=0, steps=50, rng=0) -> Explorer:
    """Gradient of a tanh RNN's last output reaching each earlier input, for a recurrent weight scale.

    Controls: ``scale`` (every singular value of ``W_hh``, 0.3 … 2.5) and
    ``bptt_steps`` (truncated backpropagation through time; 0 = full). Grey curves
    show scales 0.5, 1 and 2 for reference.
    ``explorer.data`` is a :class:`~gdcourse.experiments.backprop.RNNGradient`.
    """
    references = [E.rnn_gradient_vs_steps(s, steps, rng=rng) for s in (0.5, 1.0, 2.0)]
    controls = {"scale": slider(scale, 0.3, 2.5, 0.05, "W_hh scale (singular values)"),
                "bptt_steps": _int_slider(bptt_steps, 0, steps, "truncate BPTT at k (0 = full)")}

    def compute(scale, bptt_steps):
        return E.rnn_gradient_vs_steps(scale, steps, rng=rng, bptt_steps=bptt_steps or None)

    return Explorer(controls, compute=compute,
                    draw=lambda fig, run, **_: P.rnn_gradient_frame(fig, run, references),
                    figsize=(9, 3.6), title="RNN: gradient norm vs time steps back")
