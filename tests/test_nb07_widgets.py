"""Notebook 07 explorers and figures: building them, changing controls programmatically (``set`` and
assigning ``controls[name].value``), and checking that the displayed data and image change as they
should. Assertions are on data (``explorer.data``, plotted line data), never on pixels."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import regularization as E
from gdcourse.plots import regularization as P
from gdcourse.widgets import regularization as W

# ---------------------------------------------------------------- the L1/L2 explorer


def first_layer_points(explorer):
    """The (x, y) data of every marker series in the weight panel, concatenated."""
    ax = explorer.figure.axes[1]
    xs = np.concatenate([line.get_xdata() for line in ax.lines if line.get_marker() in ("o", "x")])
    ys = np.concatenate([line.get_ydata() for line in ax.lines if line.get_marker() in ("o", "x")])
    return xs, ys


def test_penalty_explorer_l1_strength_makes_the_first_layer_sparser():
    explorer = W.penalty_explorer(penalty="l1", strength=1e-3)
    first_image = explorer.image.value
    assert isinstance(explorer.data, E.PenaltyRun) and explorer.data.penalty == "l1"
    assert explorer.data.strength == pytest.approx(1e-3) and first_image[:4] == b"\x89PNG"
    sparse_before = explorer.data.first_layer_zero_fraction

    explorer.set(strength=10**-2.0)
    assert explorer.data.strength == pytest.approx(0.01)
    assert explorer.data.first_layer_zero_fraction > sparse_before + 0.3
    assert explorer.image.value != first_image

    xs, ys = first_layer_points(explorer)                 # the panel plots exactly the 64 first-layer weights
    assert sorted(zip(xs, ys, strict=True)) == sorted(zip(*explorer.data.first_layer, strict=True))
    bars = explorer.figure.axes[2].patches
    np.testing.assert_allclose([b.get_height() for b in bars], explorer.data.zero_fractions)


def test_penalty_explorer_l2_gives_no_exact_zeros():
    explorer = W.penalty_explorer(penalty="l1", strength=1e-2)
    shown = explorer.image.value
    explorer.controls["penalty"].value = "l2"            # direct assignment triggers an update too
    assert explorer.data.penalty == "l2" and np.all(explorer.data.zero_fractions == 0)
    assert explorer.image.value != shown
    explorer.controls["strength"].value = 10**-1.5        # strong L2 underfits instead of zeroing weights
    assert explorer.data.strength == pytest.approx(10**-1.5)
    assert np.all(explorer.data.zero_fractions == 0) and explorer.data.train_accuracy < 0.95


def test_penalty_explorer_snaps_its_start_value():
    explorer = W.penalty_explorer(strength=0.0021)
    assert explorer.data.strength == pytest.approx(10**-2.7)


# ---------------------------------------------------------------- the dropout explorer


def test_dropout_explorer_shows_the_run_beside_the_baseline():
    explorer = W.dropout_explorer(p=0.5)
    view = explorer.data
    assert isinstance(view, E.DropoutView) and view.run.dropout == 0.5 and view.baseline.dropout == 0.0
    curves = explorer.figure.axes[0]
    assert len(curves.lines) == 4                          # train and validation, with and without dropout
    np.testing.assert_array_equal(curves.lines[3].get_ydata(), view.run.val_loss)
    first_image = explorer.image.value

    explorer.set(p=0.0)
    assert explorer.data.run.dropout == 0.0 and sum(line.get_visible() for line in explorer.figure.axes[0].lines) == 2
    assert explorer.data.run.final_val_loss == explorer.data.baseline.final_val_loss
    assert explorer.image.value != first_image

    explorer.controls["p"].value = 0.8
    assert explorer.data.run.dropout == 0.8
    assert explorer.data.run.final_val_loss < 0.5 * explorer.data.baseline.final_val_loss
    assert explorer.data.run.final_train_loss > 10 * explorer.data.baseline.final_train_loss


# ---------------------------------------------------------------- static figures


def test_capacity_panels_plot_the_sweep():
    sweep = E.capacity_sweep()
    fig = Figure()
    ax_fit, ax_err = fig.subplots(1, 2)
    train_line, val_line = P.capacity_panels(ax_fit, ax_err, sweep)
    np.testing.assert_allclose(val_line.get_ydata(), sweep.val_mse)
    np.testing.assert_allclose(train_line.get_xdata(), sweep.degrees)


def test_coefficient_paths_draw_one_line_per_coefficient():
    X, y, w_true = E.sparse_regression()
    paths = E.regularization_paths(X, y, w_true)
    ax = Figure().subplots()
    lines = P.coefficient_paths(ax, paths, "l1")
    assert len(lines) == 12
    np.testing.assert_array_equal(lines[0].get_ydata(), paths.l1[:, 0])


def test_pruning_and_search_panels_plot_the_results():
    curve = E.pruning_curve()
    ax = Figure().subplots()
    finetuned, magnitude, random = P.pruning_panel(ax, curve)
    np.testing.assert_array_equal(finetuned.get_ydata(), curve.finetuned)
    np.testing.assert_array_equal(random.get_xdata(), 100 * curve.fractions)
    search = E.search_study()
    ax_points, ax_curve = Figure().subplots(1, 2)
    P.search_panels(ax_points, ax_curve, search, seed_index=2)
    np.testing.assert_array_equal(ax_points.lines[1].get_xdata(), search.random[2][:, 0])
    np.testing.assert_array_equal(ax_curve.lines[2].get_ydata(), search.random_scores[2])


# ---------------------------------------------------------------- one figure, staged updates

def browser_change(explorer, **values):
    for name, value in values.items():
        control = explorer.controls[name]
        control.unobserve(explorer._on_change, names="value")
        control.value = value
        control.observe(explorer._on_change, names="value")
    explorer.request()


def test_dropout_explorer_updates_its_figure_and_trains_after_showing_the_change():
    explorer = W.dropout_explorer(p=0.5)
    figure, curves = explorer.figure, explorer.figure.axes[0]
    jobs = []
    explorer.schedule = jobs.append
    browser_change(explorer, p=0.7)
    jobs.pop(0)()
    assert explorer.data.run is None and "training" in curves.get_title()
    while jobs:
        jobs.pop(0)()
    run = explorer.data.run
    assert run.dropout == 0.7 and explorer.figure is figure and explorer.updates["full"] == 1
    np.testing.assert_array_equal(curves.lines[3].get_ydata(), run.val_loss)
    assert "p = 0.7: validation" in [t.get_text() for t in curves.get_legend().get_texts()]


def test_penalty_explorer_moves_its_weights_and_bars():
    explorer = W.penalty_explorer(penalty="l1", strength=1e-3)
    bars = explorer.figure.axes[2].patches
    explorer.controls["strength"].value = 10 ** -1.5
    run = explorer.data
    assert explorer.updates["full"] == 1 and list(explorer.figure.axes[2].patches) == list(bars)
    np.testing.assert_allclose([bar.get_height() for bar in bars], run.zero_fractions)
    xs, ys = first_layer_points(explorer)
    assert sorted(xs) == sorted(run.first_layer[0]) and sorted(ys) == sorted(run.first_layer[1])
