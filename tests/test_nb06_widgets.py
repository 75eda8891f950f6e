"""Notebook 06 explorers and figures: building them, changing controls programmatically (``set`` and
assigning ``controls[name].value``), and checking that the displayed data and image change as they
should. Assertions are on data (``explorer.data``, plotted arrays), never on pixels."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import normalization as E
from gdcourse.plots import normalization as P
from gdcourse.widgets import normalization as W


def image_array(ax):
    return ax.images[0].get_array()


# ---------------------------------------------------------------- the normalization-axes explorer

def test_norm_axes_explorer_reacts_to_the_batch_size():
    explorer = W.norm_axes_explorer(batch_size=8, feature_scale=10.0)
    view, first_image = explorer.data, explorer.image.value
    assert isinstance(view, E.NormAxesView) and view.x.shape == (8, 4)
    assert first_image[:4] == b"\x89PNG" and len(first_image) > 1000
    spread_8 = view.train_outputs.std(axis=0).mean()

    explorer.set(batch_size=2)
    view = explorer.data
    assert view.x.shape == (2, 4) and explorer.image.value != first_image
    np.testing.assert_allclose(np.abs(view.bn), 1.0, atol=1e-3)                 # a pair normalizes to ±1
    assert np.median(np.abs(view.train_outputs)) > 0.999
    assert view.train_outputs.std(axis=0).mean() > 1.5 * spread_8                # noisier with B = 2

    explorer.controls["batch_size"].value = 64                      # direct assignment updates too
    assert explorer.data.x.shape == (64, 4)
    assert explorer.data.train_outputs.std(axis=0).mean() < 0.5 * spread_8


def test_norm_axes_explorer_reacts_to_the_feature_scale():
    explorer = W.norm_axes_explorer(batch_size=8, feature_scale=10.0)
    before_image = explorer.image.value
    stds = explorer.data.stats["input"].feature_std
    explorer.controls["feature_scale"].value = 100.0
    after = explorer.data
    assert after.feature_scale == pytest.approx(100.0) and explorer.image.value != before_image
    # the same draws rescaled: feature j's batch std grows by (100/10)^(j/3)
    np.testing.assert_allclose(after.stats["input"].feature_std / stds, 10.0 ** (np.arange(4) / 3), rtol=1e-9)
    # batch norm does not care about feature scales; layer norm's rows are dominated by the largest feature
    np.testing.assert_allclose(after.stats["batch norm"].feature_std, 1.0, atol=1e-4)
    np.testing.assert_allclose(after.bn, explorer.data.bn)
    assert np.all(np.abs(after.ln[:, -1]) > 1.5)


def test_norm_axes_figure_shows_the_view():
    view = E.norm_axes_view(batch_size=20, feature_scale=10.0)
    fig = Figure(figsize=(10, 6))
    axes = P.draw_norm_axes(fig, view)
    assert axes.shape == (2, 3)
    shown = P.MAX_ROWS_SHOWN
    np.testing.assert_array_equal(image_array(axes[0, 0]), view.x[:shown])
    np.testing.assert_array_equal(image_array(axes[0, 1]), view.bn[:shown])
    np.testing.assert_array_equal(image_array(axes[0, 2]), view.ln[:shown])
    feature_panel = axes[1, 0].containers
    np.testing.assert_allclose(feature_panel[1].lines[0].get_ydata(), view.stats["batch norm"].feature_mean)
    sample_panel = axes[1, 1].containers
    np.testing.assert_allclose(sample_panel[2].lines[0].get_ydata(),
                               view.stats["layer norm"].sample_mean[:shown])
    dots = axes[1, 2].collections[0].get_offsets()
    np.testing.assert_allclose(np.sort(dots[:, 1]), np.sort(view.train_outputs.ravel()))
    assert "first 16 rows" in axes[0, 0].get_title()


# ---------------------------------------------------------------- the batch-size explorer

def test_bn_batch_size_explorer_finds_the_exercise_answer():
    explorer = W.bn_batch_size_explorer(batch_size=8)
    view, first_image = explorer.data, explorer.image.value
    assert isinstance(view, E.BatchSizeView) and view.answer == E.smallest_batch_size()
    assert view.current_coverage < 0.95
    answer = view.answer

    explorer.set(batch_size=answer)
    assert explorer.data.current_coverage >= 0.95 and explorer.image.value != first_image
    explorer.controls["batch_size"].value = answer - 1
    assert explorer.data.current_coverage < 0.95
    assert explorer.data.current_spread > E.batch_size_view(answer).current_spread


def test_bn_batch_size_figure_marks_the_current_batch_size():
    explorer = W.bn_batch_size_explorer(batch_size=20)
    ax_cov, ax_spread = explorer.figure.axes[:2]
    curve, level, marker = ax_cov.lines[:3]
    np.testing.assert_array_equal(curve.get_xdata(), np.arange(2, 65))
    np.testing.assert_allclose(curve.get_ydata(), explorer.data.coverage)
    assert level.get_ydata()[0] == pytest.approx(0.95)
    assert marker.get_xdata()[0] == 20
    assert marker.get_ydata()[0] == pytest.approx(explorer.data.current_coverage)
    assert f"{explorer.data.current_coverage:.1%}" in ax_cov.get_title()
    np.testing.assert_allclose(ax_spread.lines[0].get_ydata(), explorer.data.spread)
    explorer.set(batch_size=30)
    assert explorer.figure.axes[0].lines[2].get_xdata()[0] == 30


def test_gradient_norm_profile_plots_one_line_per_model():
    fig = Figure()
    ax = fig.subplots()
    lines = P.gradient_norm_profile(ax, {"a": np.array([1e-6, 1e-3, 1.0]), "b": np.ones(3)})
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"


# ---------------------------------------------------------------- one figure, updated in place

def test_norm_axes_explorer_updates_its_figure_in_place():
    explorer = W.norm_axes_explorer(batch_size=8, feature_scale=10.0)
    figure, image, png = explorer.figure, explorer.figure.axes[0].images[0], explorer.image.value
    explorer.controls["batch_size"].value = 5
    assert explorer.figure is figure and explorer.figure.axes[0].images[0] is image
    assert explorer.updates["full"] == 1 and explorer.image.value != png
    shown = image.get_array()
    assert shown.shape == (P.MAX_ROWS_SHOWN, 4)                        # the rows beyond the batch are empty
    np.testing.assert_array_equal(shown[:5], explorer.data.x)
    assert np.ma.getmaskarray(shown)[5:].all() or np.isnan(np.ma.filled(shown[5:], np.nan)).all()
    strip = [ax for ax in figure.axes if ax.get_title().startswith("sample 0")][0]
    np.testing.assert_allclose(np.sort(strip.collections[0].get_offsets()[:, 1]),
                               np.sort(explorer.data.train_outputs.ravel()))


def test_one_legend_below_the_statistics_covers_no_points():
    explorer = W.norm_axes_explorer(batch_size=9, feature_scale=10.0)
    feature_axes, sample_axes = explorer.figure.axes[3], explorer.figure.axes[4]
    assert feature_axes.get_legend() is None and sample_axes.get_legend() is None
    (legend,) = explorer.figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["input", "batch norm", "layer norm"]
    explorer.figure.canvas.draw()
    below = legend.get_window_extent()
    for ax in (feature_axes, sample_axes):
        assert below.y1 <= ax.get_window_extent().y0                    # under the axes, not over the points


def test_bn_batch_size_explorer_moves_only_its_markers():
    explorer = W.bn_batch_size_explorer(batch_size=8)
    coverage_axes = explorer.figure.axes[0]
    curve = coverage_axes.lines[0]
    explorer.controls["batch_size"].value = 20
    assert coverage_axes.lines[0] is curve and explorer.updates["full"] == 1
    marker = coverage_axes.lines[2]
    assert list(marker.get_xdata()) == [20] and list(marker.get_ydata()) == [explorer.data.current_coverage]
    assert coverage_axes.get_legend().get_texts()[-1].get_text() == "B = 20"
