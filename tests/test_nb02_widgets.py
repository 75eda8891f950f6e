"""Notebook 02's explorers: controls changed programmatically change the data shown and the image."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse.experiments import variants as E
from gdcourse.plots import variants as P
from gdcourse.widgets import variants as W


def _changed_image(explorer, before):
    return explorer.image.value != before and len(explorer.image.value) > 1000


def test_batch_size_explorer():
    explorer = W.batch_size_explorer()
    demo, image = explorer.data, explorer.image.value
    assert demo.batch_size == 1 and len(demo.sgd.lrs) == 3 * 200
    exact = E.gradient_noise_variance(demo.problem, E.BATCH_SIZE_START, 1)
    assert demo.noise_std == pytest.approx(np.sqrt(exact))

    explorer.set(batch_size=40)
    assert explorer.data.batch_size == 40 and len(explorer.data.sgd.lrs) == 3 * 5
    assert explorer.data.noise_std < 0.5 < demo.noise_std
    assert _changed_image(explorer, image)

    image = explorer.image.value
    explorer.controls["batch_size"].value = 200        # the full batch: no noise, SGD is GD
    full = explorer.data
    assert full.noise_std == 0 and np.allclose(full.samples, full.full_gradient)
    np.testing.assert_allclose(full.sgd.weights, full.gd.weights[:len(full.sgd.weights)])
    assert _changed_image(explorer, image)

    image, first_step = explorer.image.value, full.sgd.weights[1] - full.sgd.weights[0]
    explorer.controls["lr"].value = 0.6
    np.testing.assert_allclose(explorer.data.sgd.weights[1] - explorer.data.sgd.weights[0], 2 * first_step)
    assert _changed_image(explorer, image)
    left, right = explorer.figure.axes[:2]
    assert "noise std = 0.000" in left.get_title()
    assert len(right.lines[1].get_xdata()) == len(explorer.data.sgd.weights)


def test_schedule_plotter():
    explorer = W.schedule_plotter()
    curves, image = explorer.data, explorer.image.value
    assert set(curves) == set(E.SCHEDULE_KINDS) and curves["cosine"][0] == pytest.approx(0.1)

    explorer.set(lr0=0.5, warmup_steps=100)
    assert explorer.data["constant"][0] == 0 and explorer.data["constant"][100] == pytest.approx(0.5)
    assert _changed_image(explorer, image)

    image = explorer.image.value
    explorer.controls["total_steps"].value = 2000
    assert all(len(v) == 2000 for v in explorer.data.values())
    explorer.controls["kind"].value = "inverse_time"
    ax = explorer.figure.axes[0]
    bold = [line.get_label() for line in ax.lines if line.get_linewidth() > 2]
    assert bold == ["1/t (inverse time)"] and "1/t" in ax.get_title()
    explorer.controls["decay_rate"].value = 0.1
    k_values = explorer.data["inverse_time"]
    t = np.arange(2000)
    np.testing.assert_allclose(k_values, 0.5 / (1 + 0.1 * t) * np.minimum(t / 100, 1), rtol=1e-6)
    assert _changed_image(explorer, image)


def test_lr_curves_explorer():
    explorer = W.lr_curves_explorer()
    curves, image = explorer.data, explorer.image.value
    spe = curves.steps_per_epoch
    final = np.nanmean(curves.losses[:, -spe:], axis=1)
    assert curves.lrs == pytest.approx((0.003, 0.3, 1.5)) and final[1] < final[0] and final[1] < final[2]

    explorer.set(low=0.1)
    improved = np.nanmean(explorer.data.losses[0, -spe:])
    assert improved < final[0]
    assert _changed_image(explorer, image)

    image = explorer.image.value
    explorer.controls["high"].value = 1e-4                # no longer too high: now barely moves
    assert np.nanmean(explorer.data.losses[2, -spe:]) > 2.0
    assert _changed_image(explorer, image)
    assert len(explorer.figure.axes) == 3 and "lr = 0.0001" in explorer.figure.axes[2].get_title()


def test_async_explorer():
    explorer = W.async_explorer()
    demo, image = explorer.data, explorer.image.value
    assert demo.staleness == 0 and not demo.diverges and demo.lr == pytest.approx(0.3)
    problem = E.async_problem()
    assert demo.stale.excess(problem)[-1] < 1e-6

    explorer.set(staleness=6)
    stale = explorer.data
    assert stale.diverges and stale.stale.excess(problem)[-1] > stale.stale.excess(problem)[0]
    assert stale.fresh.excess(problem)[-1] < 1e-6
    assert _changed_image(explorer, image)
    assert "diverges" in explorer.figure.axes[0].get_title()

    image = explorer.image.value
    explorer.controls["staleness"].value = 5
    assert not explorer.data.diverges and explorer.data.limit > 0.3
    explorer.controls["gradient"].value = "mini-batch of 10"
    assert explorer.data.stale.examples[1] == 10                  # one mini-batch per update
    assert _changed_image(explorer, image)

    image = explorer.image.value
    explorer.controls["lr"].value = 0.05
    assert not explorer.data.diverges and explorer.data.lr == pytest.approx(0.05, rel=0.03)
    marker = explorer.figure.axes[1].lines[-1]
    assert marker.get_xdata()[0] == 5 and marker.get_ydata()[0] == pytest.approx(explorer.data.lr)
    assert _changed_image(explorer, image)


def test_noise_scaling_figure_plots_the_measurement_and_the_formulas():
    p = E.regression_problem(n=50, d=3, rng=0)
    w = np.zeros(3)
    measurement = E.gradient_noise(p, w, [50, 1, 5, 25], draws=200, rng=0)
    ax = Figure().subplots()
    reference, exact, measured = P.draw_noise_scaling(ax, measurement, p.n)
    np.testing.assert_allclose(measured.get_ydata(), measurement.variance[1:])          # B = N is left out
    sigma2 = measurement.expected[1]                                                 # B = 1: σ²·(N−1)/(N−1)
    B = reference.get_xdata()
    np.testing.assert_allclose(reference.get_ydata(), sigma2 / B)
    np.testing.assert_allclose(exact.get_ydata(), sigma2 / B * (50 - B) / 49)


@pytest.mark.parametrize("kind", E.SCHEDULE_KINDS)
def test_schedule_plotter_accepts_every_slider_extreme(kind):
    # the longest warmup on the shortest schedule: a warmup as long as the schedule is an error in schedules
    explorer = W.schedule_plotter(kind)
    total, warmup = explorer.controls["total_steps"], explorer.controls["warmup_steps"]
    explorer.set(total_steps=total.min, warmup_steps=warmup.max)
    assert warmup.max < total.min
    assert explorer.status.value == "" and len(explorer.data[kind]) == total.min
