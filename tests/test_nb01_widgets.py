"""Notebook 01 explorers and figures: building them, changing controls programmatically (``set`` and
assigning ``controls[name].value``), and checking that the displayed data and image change as they
should. Assertions are on data (``explorer.data``, plotted line data), never on pixels."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import landscapes as LS
from gdcourse.experiments import gd as E
from gdcourse.plots import gd as P
from gdcourse.widgets import gd as W


def vertical_lines_at(ax):
    """x positions of the axes' visible vertical lines (axvline draws a line with constant x data)."""
    return [line.get_xdata()[0] for line in ax.lines
            if line.get_visible() and len(line.get_xdata()) == 2 and len(set(line.get_xdata())) == 1]


# ---------------------------------------------------------------- the 1-D explorer

def test_lr_explorer_1d_reacts_to_every_control():
    explorer = W.lr_explorer_1d(function="double well", lr=0.05, x0=1.8)
    first_image = explorer.image.value
    assert isinstance(explorer.data, E.LRRun1D) and explorer.data.verdict == "converges to the local minimum"
    assert len(first_image) > 1000 and first_image[:4] == b"\x89PNG"

    explorer.set(lr=0.3)                                    # above 2/f''(x*) at both minima
    assert explorer.data.lr == pytest.approx(0.3) and explorer.data.verdict == "diverges"
    assert explorer.image.value != first_image

    explorer.controls["x0"].value = -1.8                    # direct assignment triggers an update too
    explorer.controls["lr"].value = 0.02
    assert explorer.data.xs[0] == pytest.approx(-1.8) and explorer.data.verdict == "converges"
    assert explorer.data.minimum == pytest.approx(E.double_well().minima[0])

    explorer.controls["function"].value = "parabola"
    assert explorer.data.function.name == "parabola" and explorer.data.threshold == pytest.approx(1.0)


def test_lr_explorer_1d_marks_the_threshold_only_when_asked():
    explorer = W.lr_explorer_1d(function="parabola", lr=0.1, x0=3.0)
    factor_axes = explorer.figure.axes[2]
    assert any(x == pytest.approx(1.0) for x in vertical_lines_at(factor_axes))      # 2/f'' = 2/2
    shown = explorer.image.value
    explorer.controls["show_threshold"].value = False
    assert not any(x == pytest.approx(1.0) for x in vertical_lines_at(explorer.figure.axes[2]))
    assert explorer.image.value != shown and explorer.data.threshold == pytest.approx(1.0)


def test_lr_explorer_1d_path_panel_shows_the_iterates():
    explorer = W.lr_explorer_1d(function="parabola", lr=0.1, x0=3.0)
    path_line = [line for line in explorer.figure.axes[0].lines if line.get_label() == "η = 0.1"][0]
    np.testing.assert_allclose(path_line.get_xdata(), 3 * 0.8 ** np.arange(31))


# ---------------------------------------------------------------- the quadratic explorer

def test_lr_explorer_quadratic_diverges_above_two_over_L():
    explorer = W.lr_explorer_quadratic(condition_number=10, lr=0.1)
    assert isinstance(explorer.data, E.LRRunQuadratic) and explorer.data.threshold == pytest.approx(0.2)
    before = explorer.image.value

    explorer.set(lr=0.21)
    values = explorer.data.path.values
    assert explorer.data.verdict == "diverges" and values[-1] > 1e3 * values[0]
    assert explorer.image.value != before

    explorer.controls["lr"].value = 0.19
    assert explorer.data.verdict == "converges, oscillating" and explorer.data.path.values[-1] < values[0]


def test_lr_explorer_quadratic_condition_number_moves_the_threshold():
    explorer = W.lr_explorer_quadratic(condition_number=10, lr=0.05)
    explorer.controls["condition_number"].value = 25
    assert explorer.data.landscape.L == 25 and explorer.data.threshold == pytest.approx(0.08)
    assert any(x == pytest.approx(0.08) for x in vertical_lines_at(explorer.figure.axes[2]))
    explorer.set(condition_number=50, lr=0.05)                 # 0.05 > 2/50: now it diverges
    assert explorer.data.verdict == "diverges"


def test_lr_slider_is_fine_enough_for_the_exercise():
    """Exercise 2 asks for 2/L within 3 %: the log slider's step must be finer than that."""
    slider = W.lr_explorer_quadratic().controls["lr"]
    assert 10**slider.step - 1 < 0.03


# ---------------------------------------------------------------- figures

def test_contraction_curves_plot_the_factors():
    fig = Figure()
    ax = fig.subplots()
    q = LS.Quadratic(condition_number=10)
    lines = P.contraction_curves(ax, q, 0.1)
    for line, lam in zip(lines, (1.0, 10.0), strict=True):
        np.testing.assert_allclose(line.get_ydata(), np.abs(1 - line.get_xdata() * lam))
    xs = vertical_lines_at(ax)
    assert any(x == pytest.approx(0.2) for x in xs) and any(x == pytest.approx(2 / 11) for x in xs)


def test_gap_curve_floors_zero_and_hides_non_finite():
    fig = Figure()
    line = P.gap_curve(fig.subplots(), np.array([1.0, 0.0, np.inf]))
    y = line.get_ydata()
    assert y[0] == 1.0 and y[1] == P.GAP_FLOOR and math.isnan(y[2])


def test_basins_and_gradient_field_draw_what_they_are_given():
    h = LS.Himmelblau()
    X, Y, labels = E.basins_of_attraction(h, lr=0.005, steps=200, n=20)
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    mesh = P.basins(ax1, h, X, Y, labels)
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(20, 20), labels)
    q = LS.Quadratic(condition_number=4, angle=0.5)
    arrows = P.gradient_field(ax2, q, n=6)                      # an even grid misses the minimum
    g = q.gradient(np.stack([arrows.X, arrows.Y]))
    np.testing.assert_allclose(arrows.U, g[0] / np.hypot(*g), atol=1e-9)
