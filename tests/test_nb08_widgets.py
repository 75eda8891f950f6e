"""Notebook 08 explorer and figures: building the init explorer, changing controls programmatically
(``set`` and assigning ``controls[name].value``), and checking that the displayed data and image change
as they should. Assertions are on data (``explorer.data``, plotted line data), never on pixels."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import initialization as E
from gdcourse.plots import initialization as P
from gdcourse.widgets import initialization as W


@pytest.fixture(scope="module")
def explorer():
    return W.init_explorer(scheme="xavier", activation="tanh", depth=30)


def std_line(explorer):
    """The plotted std-per-layer curve of the explorer's top-right panel."""
    ax = explorer.figure.axes[1]
    return [line for line in ax.lines if line.get_label() == "std of h"][0]


def test_explorer_starts_with_the_requested_network(explorer):
    data = explorer.data
    assert isinstance(data, E.DepthProfile)
    assert (data.scheme, data.activation, data.depth, data.gain) == ("xavier", "tanh", 30, 1.0)
    assert data.width == E.EXPLORER_WIDTH and data.hist_layers == (1, 10, 20, 30)
    assert explorer.image.value[:4] == b"\x89PNG" and len(explorer.image.value) > 10_000
    np.testing.assert_allclose(std_line(explorer).get_ydata(), data.stds)
    assert explorer.status.value == ""


def test_relu_xavier_gain_makes_the_std_line_flat(explorer):
    explorer.set(activation="relu", scheme="xavier", depth=30, gain=1.0)
    falling = explorer.data
    assert falling.stds[-1] / falling.stds[0] < 1e-3                   # halves E[h²] per layer
    before = explorer.image.value
    gain = E.flat_gain("relu", "xavier", 30, width=E.EXPLORER_WIDTH, batch=E.EXPLORER_BATCH, rng=E.EXPLORER_SEED)
    explorer.controls["gain"].value = gain                              # direct assignment updates too
    flat = explorer.data
    assert flat.gain == pytest.approx(gain) and flat.stds[-1] / flat.stds[0] == pytest.approx(1.0, rel=1e-6)
    assert explorer.image.value != before
    explorer.controls["gain"].value = 1.6
    assert explorer.data.stds[-1] > 10 * explorer.data.stds[0]          # a larger gain makes it rise
    explorer.controls["scheme"].value = "he"
    explorer.controls["gain"].value = 1.0
    he = explorer.data
    np.testing.assert_allclose(he.stds, falling.stds * math.sqrt(2) ** np.arange(1, 31), rtol=1e-9)


def test_depth_and_activation_controls(explorer):
    explorer.set(scheme="small normal", activation="tanh", depth=12, gain=1.0)
    data = explorer.data
    assert data.depth == 12 and len(data.stds) == 12 and len(data.grad_norms) == 13
    assert data.hist_layers == (1, 4, 8, 12)
    assert data.stds[-1] < 1e-8 and data.stds[0] > 0.1                 # ×0.16 per layer: 0.16¹² ≈ 3e-10
    assert len(std_line(explorer).get_xdata()) == 12
    explorer.controls["activation"].value = "sigmoid"
    explorer.controls["scheme"].value = "xavier"
    sig = explorer.data
    assert sig.activation == "sigmoid" and sig.grad_norms[0] < 1e-5 * sig.grad_norms[-2]


def test_large_weights_saturate_tanh_and_explode_relu(explorer):
    explorer.set(scheme="large normal", activation="tanh", depth=20, gain=1.0)
    tanh = explorer.data
    assert tanh.saturated.min() > 0.85 and tanh.grad_norms[0] > 1e8 * tanh.grad_norms[-2]
    ends = tanh.act_counts[:, [0, -1]].sum(axis=1)
    assert np.all(ends > 0.8)                                           # histograms piled at ±1
    explorer.controls["activation"].value = "relu"
    relu = explorer.data
    assert np.all(np.diff(np.log(relu.stds)) > 0) and relu.loss > 1e10


def test_zeros_are_shown_as_exact_zeros(explorer):
    explorer.set(scheme="zeros", activation="relu", depth=10, gain=1.0)
    data = explorer.data
    assert np.all(data.stds == 0) and np.all(data.grad_norms == 0)
    texts = [t.get_text() for t in explorer.figure.axes[1].texts]
    assert any("exactly 0" in t for t in texts)
    assert np.all(np.isnan(std_line(explorer).get_ydata()))


def test_the_explorer_can_be_built_at_every_setting_without_overflow():
    extreme = W.init_explorer(scheme="large normal", activation="relu", depth=50, gain=10.0)
    assert np.all(np.isfinite(extreme.data.stds)) and np.all(np.isfinite(extreme.data.grad_norms))
    assert extreme.status.value == ""
    tiny = W.init_explorer(scheme="small normal", activation="tanh", depth=50, gain=0.1)
    assert tiny.data.stds[-1] > 0 and np.all(np.isfinite(tiny.data.stds))


# ---------------------------------------------------------------- figure functions

def test_per_layer_curves_plot_the_data_and_widen_flat_axes():
    p = E.depth_profile("he", "relu", depth=6, width=32, batch=16)
    ax = Figure().subplots()
    (line,) = P.per_layer_curves(ax, {"He": p}, "grad_norms")
    np.testing.assert_allclose(line.get_ydata(), p.grad_norms)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 8))
    low, high = ax.get_ylim()
    assert math.log10(high / low) >= 3 - 1e-9 and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="quantity"):
        P.per_layer_curves(ax, {"He": p}, "means")


def test_layer_histograms_and_heatmap():
    p = E.depth_profile("xavier", "tanh", depth=9, width=32, batch=16, bins=20)
    ax = Figure().subplots()
    lines = P.layer_histograms(ax, p.act_counts, p.act_edges, p.hist_layers, "h")
    assert len(lines) == 4 and [t.get_text() for t in ax.get_yticklabels()] == [
        "layer 1", "layer 3", "layer 6", "layer 9"]
    top = lines[0].get_ydata()                                          # layer 1, scaled to its peak, on top
    assert top.max() == pytest.approx(1.2 * 3 + 1.0)
    image = P.weight_heatmap(Figure().subplots(), np.array([[1.0, -3.0], [2.0, 0.5]]), "W")
    assert image.get_clim() == (-3.0, 3.0)


def test_relu_histograms_cut_the_bar_at_zero():
    ax = Figure().subplots()
    counts = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]])
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    spread, vanished = P.layer_histograms(ax, counts, edges, (1, 2), "h", zero_spike=True)
    np.testing.assert_allclose(spread.get_ydata(), 1.2 + np.array([1.0, 1.0, 0.2 / 0.3]))   # scaled to bin 2
    np.testing.assert_allclose(vanished.get_ydata(), [1.0, 0.0, 0.0])                        # all at 0: a spike


# ---------------------------------------------------------------- one figure, updated in place

def test_gain_and_activation_changes_keep_the_figure():
    explorer = W.init_explorer(scheme="xavier", activation="tanh", depth=30)
    figure, line = explorer.figure, std_line(explorer)
    explorer.controls["gain"].value = 1.25
    explorer.controls["activation"].value = "relu"
    assert explorer.figure is figure and std_line(explorer) is line and explorer.updates["full"] == 1
    np.testing.assert_allclose(line.get_ydata(), explorer.data.stds)
    assert "bar at 0 cut" in figure.axes[0].get_xlabel()
    low, high = figure.axes[1].get_ylim()                                 # whole decades, at least three
    assert math.log10(high / low) >= 3 and float(math.log10(low)).is_integer()


def test_depth_change_moves_the_histogram_rows():
    explorer = W.init_explorer(scheme="he", activation="relu", depth=30)
    explorer.controls["depth"].value = 12
    data = explorer.data
    labels = [t.get_text() for t in explorer.figure.axes[0].texts]
    assert labels == [f"layer {layer}" for layer in data.hist_layers]
    assert explorer.figure.axes[1].get_xlim() == (0.5, 21.5) and explorer.updates["full"] == 1
    np.testing.assert_array_equal(explorer.figure.axes[1].lines[0].get_xdata(), np.arange(1, 13))
