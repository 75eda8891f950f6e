"""The explorers of notebook 03: controls change the data (semantics) and the picture (PNG bytes)."""

import numpy as np
import pytest

from gdcourse import landscapes as LS
from gdcourse.experiments import optimizers as E
from gdcourse.widgets import optimizers as W


@pytest.fixture(scope="module")
def race():
    return W.race_explorer()


@pytest.fixture(scope="module")
def rate_map():
    return W.momentum_explorer(kappa=100, lr_times_L=1.0, momentum=0.5, show_optimum=False)


# ---------------------------------------------------------------- the race

def test_race_starts_with_the_quadratic_preset(race):
    assert isinstance(race.data, E.RaceData)
    assert isinstance(race.data.landscape, LS.Quadratic) and race.data.landscape.condition_number == 50
    assert set(race.data.paths) == {"GD", "momentum", "Nesterov", "RMSprop", "Adam"}
    assert race.controls["lr"].value == pytest.approx(E.RACE_PRESETS["quadratic"]["lr"], rel=0.05)
    assert all(p.steps_taken == E.RACE_PRESETS["quadratic"]["steps"] for p in race.data.paths.values())
    assert race.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_race_shows_every_optimizer_without_scrolling(race):
    """The list box is as tall as its options: a learner sees Adam and Newton without scrolling it."""
    box = race.controls["optimizers"]
    assert box.rows == len(box.options) == len(E.RACE_OPTIMIZERS) == 10


def test_race_set_optimizers_and_a_diverging_lr(race):
    before = race.image.value
    race.set(landscape="quadratic", optimizers=("GD", "Adam"), lr=0.02)
    assert set(race.data.paths) == {"GD", "Adam"} and not race.data.paths["GD"].diverged
    race.set(lr=0.05)  # above 2/L = 0.04 on the κ = 50 quadratic
    assert race.data.paths["GD"].diverged
    assert race.image.value != before
    legend = [t.get_text() for t in race.figure.axes[0].get_legend().get_texts()]
    assert "GD (diverged)" in legend


def test_race_controls_changed_directly(race):
    race.set(landscape="quadratic", optimizers=("GD", "momentum"), lr=0.02, momentum=0.9, steps=100)
    with_momentum = race.data.paths["momentum"].values[-1]
    image = race.image.value
    race.controls["momentum"].value = 0.0  # momentum 0 is plain GD
    np.testing.assert_allclose(race.data.paths["momentum"].points, race.data.paths["GD"].points)
    assert race.data.paths["momentum"].values[-1] > with_momentum
    assert race.image.value != image
    race.controls["steps"].value = 40
    assert race.data.paths["GD"].steps_taken == 40


def test_race_landscape_change_loads_its_preset(race):
    race.controls["landscape"].value = "rosenbrock"
    assert isinstance(race.data.landscape, LS.Rosenbrock)
    preset = E.RACE_PRESETS["rosenbrock"]
    assert race.controls["lr"].value == pytest.approx(preset["lr"], rel=0.05)
    assert race.controls["adaptive_lr"].value == pytest.approx(preset["adaptive_lr"], rel=0.05)
    assert race.controls["steps"].value == preset["steps"]
    assert all(p.steps_taken == preset["steps"] for p in race.data.paths.values())


def test_race_betas_reach_adam(race):
    race.set(landscape="beale", optimizers=("Adam",), beta1=0.9)
    first = race.data.paths["Adam"].points.copy()
    race.controls["beta1"].value = 0.5
    assert not np.allclose(race.data.paths["Adam"].points, first)
    race.controls["beta2"].value = 0.95
    assert race.controls["beta2"].value == pytest.approx(0.95)


def test_race_saddle_has_no_gap_axis(race):
    race.set(landscape="saddle", optimizers=("GD", "Newton"))
    assert race.figure.axes[1].get_ylabel() == "f(x_t)"
    np.testing.assert_allclose(race.data.paths["Newton"].final, [0.0, 0.0], atol=1e-12)


# ---------------------------------------------------------------- the rate map

def test_rate_map_initial_data(rate_map):
    data = rate_map.data
    assert isinstance(data, E.RateMapData) and data.kappa == pytest.approx(100)
    assert data.rates.shape == (201, 201)
    assert data.lr == pytest.approx(0.01) and data.momentum == 0.5
    assert data.rate == pytest.approx(E.momentum_rate(0.01, 0.5, [1.0, 100.0])[()])
    marker = [ln for ln in rate_map.figure.axes[0].lines if ln.get_label().startswith("chosen")]
    assert marker and marker[0].get_xdata()[0] == pytest.approx(1.0) and marker[0].get_ydata()[0] == 0.5
    assert not any(ln.get_label().startswith("optimum") and ln.get_visible() for ln in rate_map.figure.axes[0].lines)


def test_rate_map_optimal_setting_gives_the_optimal_rate(rate_map):
    alpha, beta, rate = E.optimal_momentum(100.0, 1.0)
    image = rate_map.image.value
    rate_map.set(lr_times_L=3.30, momentum=0.67)  # the slider grid next to (α*·L, β*) = (3.306, 0.669)
    assert rate_map.data.lr * 100 == pytest.approx(3.30) and alpha * 100 == pytest.approx(3.306, abs=1e-3)
    assert rate_map.data.rate == pytest.approx(rate, abs=2e-3)
    assert rate_map.data.path.values[-1] < 1e-8 * rate_map.data.path.values[0]
    assert rate_map.image.value != image


def test_rate_map_divergence_shown(rate_map):
    rate_map.controls["momentum"].value = 0.0
    rate_map.controls["lr_times_L"].value = 3.0  # GD above 2/L
    assert rate_map.data.rate > 1 and rate_map.data.path.diverged
    labels = [ln.get_label() for ln in rate_map.figure.axes[0].lines]
    assert any("diverges" in label for label in labels)


def test_rate_map_kappa_and_show_optimum(rate_map):
    rates_100 = rate_map.data.rates.copy()
    rate_map.controls["kappa"].value = 10.0
    assert rate_map.data.kappa == pytest.approx(10.0)
    assert not np.allclose(rate_map.data.rates, rates_100)
    assert rate_map.data.optimum[1] == pytest.approx(((10**0.5 - 1) / (10**0.5 + 1)) ** 2)
    image, optimum = rate_map.image.value, rate_map.data.optimum
    rate_map.controls["show_optimum"].value = True
    assert rate_map.data.optimum == optimum
    assert rate_map.image.value != image
    stars = [ln for ln in rate_map.figure.axes[0].lines if ln.get_label().startswith("optimum")]
    assert stars and stars[0].get_xdata()[0] == pytest.approx(optimum[0] * 10)
