"""Notebook 04 explorers and figures: building them, changing controls programmatically (``set`` and
assigning ``controls[name].value``), and checking that the displayed data and image change as they
should. Assertions are on data (``explorer.data``, plotted line data), never on pixels."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import backprop as E
from gdcourse.plots import backprop as P
from gdcourse.widgets import backprop as W


def is_png(data):
    return len(data) > 1000 and data[:4] == b"\x89PNG"


# ---------------------------------------------------------------- the graph viewer

def test_graph_explorer_shows_values_and_gradients():
    explorer = W.graph_explorer(expression="sigmoid(w * x + b)", values="w=0.5, x=2, b=-1")
    first = explorer.image.value
    assert is_png(first) and explorer.data.ok and explorer.data.root.data == pytest.approx(0.5)

    explorer.set(expression="x * x", values="x=3")
    grads = {name: grad for name, _, _, grad in explorer.data.rows}
    assert explorer.data.root.data == 9.0 and grads["x"] == 6.0
    assert explorer.image.value != first
    assert len(explorer.figure.axes[0].texts) == 2                  # one box per node: x and x*x


def test_graph_explorer_shows_the_parse_error_instead_of_raising():
    explorer = W.graph_explorer(expression="x * x", values="x=3")
    good = explorer.image.value
    explorer.controls["expression"].value = "x ^ 2"                  # direct assignment updates too
    assert not explorer.data.ok and "not allowed" in explorer.data.error
    assert explorer.image.value != good and is_png(explorer.image.value)
    assert "not allowed" in explorer.figure.axes[0].texts[0].get_text()

    explorer.controls["expression"].value = "x * 2"
    explorer.controls["values"].value = "x=oops"
    assert "values: x must be a number" in explorer.data.error
    explorer.controls["values"].value = "x=4"
    assert explorer.data.ok and explorer.data.root.data == 8.0


# ---------------------------------------------------------------- the depth explorer

def test_depth_explorer_reacts_to_depth_activation_and_init():
    explorer = W.depth_explorer(activation="sigmoid", init="xavier", depth=3)
    first = explorer.image.value
    assert isinstance(explorer.data, E.GradientProfile) and len(explorer.data.weight_norms) == 4
    assert explorer.data.ratio > 1e-6

    explorer.controls["depth"].value = 20
    assert len(explorer.data.weight_norms) == 21 and explorer.data.ratio < 1e-6
    assert explorer.image.value != first
    left = explorer.figure.axes[0]
    np.testing.assert_allclose(left.lines[0].get_ydata(), explorer.data.weight_norms)
    assert "below 1e-06" in left.get_title()

    explorer.set(activation="relu", init="he")
    assert explorer.data.activation == "relu" and explorer.data.init == "he" and explorer.data.ratio > 1e-2


def test_depth_explorer_shows_the_same_numbers_as_the_check():
    explorer = W.depth_explorer(depth=E.vanishing_depth())
    assert explorer.data.ratio == E.depth_gradient_profile("sigmoid", "xavier", E.vanishing_depth()).ratio
    assert "below" in explorer.figure.axes[0].get_title()
    explorer.set(depth=E.vanishing_depth() - 1)
    assert "above" in explorer.figure.axes[0].get_title()


def test_depth_explorer_residual_and_batch_norm_keep_the_first_layer_alive():
    explorer = W.depth_explorer(depth=30)
    plain = explorer.data.weight_norms[0]
    explorer.controls["residual"].value = True
    assert explorer.data.residual and explorer.data.weight_norms[0] > 1e10 * plain
    explorer.set(residual=False, batch_norm=True)
    assert explorer.data.norm == "batch" and explorer.data.weight_norms[0] > 1e10 * plain
    assert explorer.data.name == "sigmoid, xavier init + batch norm"


# ---------------------------------------------------------------- the RNN explorer

def test_rnn_explorer_scale_and_truncation():
    explorer = W.rnn_explorer(scale=0.5)
    first = explorer.image.value
    run = explorer.data
    assert isinstance(run, E.RNNGradient) and run.norms[-1] / run.norms[0] < 1e-10

    explorer.controls["scale"].value = 2.0
    assert explorer.data.scale == 2.0 and explorer.data.norms[-1] / explorer.data.norms[0] > 10
    assert explorer.image.value != first

    explorer.set(bptt_steps=10)
    assert explorer.data.bptt_steps == 10 and np.all(explorer.data.norms[10:] == 0)
    assert np.all(explorer.data.norms[:10] > 0)
    explorer.controls["bptt_steps"].value = 0                        # 0 means full BPTT
    assert explorer.data.bptt_steps is None and np.all(explorer.data.norms > 0)


def test_rnn_explorer_draws_the_chosen_run_and_the_references():
    explorer = W.rnn_explorer(scale=1.5)
    ax = explorer.figure.axes[0]
    shown = [line for line in ax.lines if line.get_visible()]
    assert len(shown) == 3 + 2                                       # 3 references, the run and its bound
    np.testing.assert_allclose(ax.lines[3].get_ydata(), explorer.data.norms)


# ---------------------------------------------------------------- static figures

def test_static_figures_plot_the_data_they_are_given():
    fig = Figure()
    ax = fig.add_subplot()
    curves = {"a": np.array([1e-3, 1e-5]), "b": np.array([1e-2, np.nan])}
    lines = P.difference_error_curves(ax, [1e-6, 1e-5], curves)
    np.testing.assert_allclose(lines[0].get_ydata(), curves["a"])

    ax = Figure().add_subplot()
    terms = {s: E.hidden_error_terms(s) for s in E.HIDDEN_ERROR_SCENARIOS}
    groups = P.hidden_error_bars(ax, terms, unit=2)
    assert [b.get_height() for b in groups[1]] == pytest.approx(list(terms["large outgoing weights"]))
    assert groups[0][2].get_linewidth() == 1.5

    ax = Figure().add_subplot()
    bars = P.first_layer_bars(ax, {"base": 1e-19, "relu": 1.0}, baseline="base")
    assert [b.get_width() for b in bars] == [1e-19, 1.0]
    assert bars[0].get_facecolor() != bars[1].get_facecolor()
