"""The activation explorer of notebook 05, driven programmatically, and the figures it draws."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import activations as E
from gdcourse.plots import activations as P
from gdcourse.widgets import COMPUTING
from gdcourse.widgets.activations import activation_explorer


@pytest.fixture(scope="module")
def explorer():
    return activation_explorer()


def test_explorer_starts_on_relu(explorer):
    fit = explorer.data
    assert fit.curve.name == "relu" and fit.peak == 1.0
    np.testing.assert_array_equal(fit.curve.dy, (fit.curve.x > 0).astype(float))
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert fit.final_loss < 0.05


def test_set_changes_the_activation_and_the_picture(explorer):
    before_png, before = explorer.image.value, explorer.data
    explorer.set(name="sigmoid")
    fit = explorer.data
    assert fit is not before and fit.curve.name == "sigmoid"
    assert fit.peak == 0.25 and fit.peak_x == 0.0
    assert explorer.image.value != before_png
    np.testing.assert_allclose(fit.curve.y, 1 / (1 + np.exp(-fit.curve.x)), rtol=1e-12)


def test_step_passes_no_gradient_so_the_fit_fails(explorer):
    explorer.controls["name"].value = "step"  # as a learner would, through the widget
    step = explorer.data
    assert step.curve.name == "step" and np.all(step.curve.dy == 0) and step.peak == 0.0
    explorer.controls["name"].value = "relu"
    relu = explorer.data
    assert step.final_loss > 0.4 > 0.05 > relu.final_loss


def test_negative_slope_control_changes_leaky_relu(explorer):
    explorer.set(name="leaky_relu", negative_slope=0.1)
    png, curve = explorer.image.value, explorer.data.curve
    negative = curve.x < 0
    np.testing.assert_allclose(curve.dy[negative], 0.1)
    explorer.controls["negative_slope"].value = 0.3
    curve = explorer.data.curve
    np.testing.assert_allclose(curve.dy[negative], 0.3)
    np.testing.assert_allclose(curve.y[negative], 0.3 * curve.x[negative])
    assert explorer.image.value != png
    assert "0.3" in curve.label


def test_alpha_control_changes_elu(explorer):
    explorer.set(name="elu", alpha=1.0)
    smooth = explorer.data.curve
    explorer.controls["alpha"].value = 0.5
    kinked = explorer.data.curve
    just_below = np.argmax(kinked.x >= 0) - 1
    assert abs(smooth.dy[just_below] - 1.0) < 0.01          # α = 1: f' continuous at 0
    assert abs(kinked.dy[just_below] - 0.5) < 0.01          # α = 0.5: f' jumps from 0.5 to 1
    np.testing.assert_allclose(kinked.y[:10], 0.5 * np.expm1(kinked.x[:10]))


def test_gelu_approximation_control(explorer):
    explorer.set(name="gelu", approximate="none")
    exact = explorer.data
    png = explorer.image.value
    explorer.controls["approximate"].value = "tanh"
    approx = explorer.data
    assert approx is not exact and "tanh" in approx.curve.label
    gap = np.abs(approx.curve.y - exact.curve.y).max()
    assert 0 < gap < 1e-3
    assert approx.peak == pytest.approx(1.129, abs=2e-3)
    assert explorer.image.value != png


def test_parameters_of_other_activations_are_ignored_and_cached():
    a = E.explore_activation("relu", negative_slope=0.05, alpha=0.3)
    b = E.explore_activation("relu", negative_slope=0.4, alpha=1.7, approximate="tanh")
    assert a is b  # the same cached result: those controls do not belong to ReLU
    c = E.explore_activation("leaky_relu", negative_slope=0.05)
    assert c is not E.explore_activation("leaky_relu", negative_slope=0.4)
    assert not a.prediction.flags.writeable


def test_explore_activation_with_a_generator_is_not_cached():
    a = E.explore_activation("tanh", steps=50, rng=np.random.default_rng(1))
    b = E.explore_activation("tanh", steps=50, rng=np.random.default_rng(1))
    assert a is not b
    np.testing.assert_array_equal(a.prediction, b.prediction)
    assert len(a.losses) == 50


def test_prelu_fit_uses_the_initial_slope():
    fit = E.explore_activation("prelu", negative_slope=0.2)
    np.testing.assert_allclose(fit.curve.dy[fit.curve.x < 0], 0.2)


def test_fit_and_target_are_drawn():
    fit = E.explore_activation("tanh")
    fig = Figure()
    ax_f, ax_fit, ax_loss = P.draw_activation_fit(fig, fit)
    np.testing.assert_array_equal(ax_f.lines[0].get_ydata(), fit.curve.y)
    np.testing.assert_array_equal(ax_f.lines[1].get_ydata(), fit.curve.dy)
    np.testing.assert_array_equal(ax_fit.lines[-1].get_ydata(), fit.prediction)
    np.testing.assert_array_equal(ax_loss.lines[0].get_ydata(), fit.losses)
    assert "max f′ = 1" in ax_f.get_legend().get_texts()[-1].get_text()


def test_static_figures_draw_their_data():
    curves = [E.activation_curve(n) for n in ("sigmoid", "tanh")]
    fig = Figure()
    axes = P.activation_grid(fig, [curves[0], curves, curves[1]], ncols=2)
    assert len(axes) == 4 and not axes[3].get_visible()
    np.testing.assert_array_equal(axes[1].lines[2].get_ydata(), curves[1].y)
    checks = [E.check_jacobian("sigmoid", np.arange(3.0)), E.check_jacobian("softmax", np.arange(3.0))]
    images = P.jacobian_heatmaps(Figure(), checks)
    np.testing.assert_array_equal(images[1].get_array(), checks[1].analytic)
    ax = Figure().subplots()
    scores = P.decision_regions(ax, lambda pts: pts[:, 0] - 0.5, E.XOR_X, E.XOR_Y, bounds=(0, 1, 0, 1), n=11)
    np.testing.assert_allclose(scores[0], np.linspace(0, 1, 11) - 0.5)
    runs = [E.dying_relu_run(bias_init=-3.0, epochs=2)]
    lines = P.inactive_curves(Figure().subplots(), runs)
    np.testing.assert_array_equal(lines[0].get_ydata(), runs[0].inactive[:, 1])


# ---------------------------------------------------------------- controls that apply, one figure, staged updates

@pytest.mark.parametrize("name", E.EXPLORER_NAMES)
def test_only_the_chosen_activations_parameters_are_enabled(explorer, name):
    explorer.controls["name"].value = name
    enabled = {p for p in ("negative_slope", "alpha", "approximate") if not explorer.controls[p].disabled}
    expected = {"leaky_relu": {"negative_slope"}, "prelu": {"negative_slope"}, "elu": {"alpha"},
                "gelu": {"approximate"}}.get(name, set())
    assert enabled == expected


def test_a_change_updates_the_same_figure():
    explorer = activation_explorer(name="leaky_relu", negative_slope=0.1)
    figure, lines = explorer.figure, list(explorer.figure.axes[0].lines)
    explorer.controls["negative_slope"].value = 0.4
    assert explorer.figure is figure and list(explorer.figure.axes[0].lines) == lines  # moved, not rebuilt
    np.testing.assert_allclose(lines[1].get_ydata()[explorer.data.curve.x < 0], 0.4)  # f' on screen
    np.testing.assert_array_equal(explorer.figure.axes[1].lines[-1].get_ydata(), explorer.data.prediction)
    assert explorer.updates["full"] == 1 and explorer.updates["partial"] >= 1


def browser_change(explorer, **values):
    """Change controls as the browser does: the value arrives, then the explorer is asked for an update."""
    for name, value in values.items():
        control = explorer.controls[name]
        control.unobserve(explorer._on_change, names="value")
        control.value = value
        control.observe(explorer._on_change, names="value")
    explorer.request()


def test_a_dragged_slider_shows_the_curve_at_once_and_the_fit_when_trained():
    explorer = activation_explorer(name="leaky_relu", negative_slope=0.1)
    jobs = []
    explorer.schedule = jobs.append
    browser_change(explorer, negative_slope=0.57)
    jobs.pop(0)()                                             # the update: the cheap part
    cheap = explorer.data
    np.testing.assert_allclose(cheap.curve.dy[cheap.curve.x < 0], 0.57)
    assert cheap.prediction is None and explorer.status.value == COMPUTING
    assert "training" in explorer.figure.axes[2].get_title()
    jobs.pop(0)()                                             # the training run, then the full picture
    full = explorer.data
    assert full.prediction is not None and explorer.status.value == ""
    assert full is E.explore_activation("leaky_relu", negative_slope=0.57)
    np.testing.assert_array_equal(explorer.figure.axes[1].lines[-1].get_ydata(), full.prediction)


def test_only_the_latest_setting_is_trained():
    explorer = activation_explorer(name="elu", alpha=1.0)
    jobs = []
    explorer.schedule = jobs.append
    browser_change(explorer, alpha=0.35)
    jobs.pop(0)()                                             # shows α = 0.35's curve, queues its training
    browser_change(explorer, alpha=1.45)                      # the learner moved on before it ran
    train_035 = jobs.pop(0)
    train_035()                                               # skipped: 0.35 is no longer on screen
    assert explorer.data.prediction is None and explorer.updates["dropped"] >= 1
    assert ("elu", 0.01, 0.35, "none") not in explorer.refine.trained
    while jobs:
        jobs.pop(0)()
    assert explorer.data.curve.label == "ELU (α = 1.45)" and explorer.data.prediction is not None
