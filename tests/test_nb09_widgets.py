"""Notebook 09 figures and widget: the figure functions of gdcourse.plots.playbook draw the data they
are given (asserted on the plotted data, never on pixels), and the notebook's widget cells build.
The diagnose widget itself is driven programmatically in tests/test_diagnose.py."""

import dataclasses
import io
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import diagnose
from gdcourse.experiments import playbook as E
from gdcourse.plots import playbook as P
from gdcourse.train import RangeTestResult
from gdcourse.widgets import diagnose as W


def line_by_label(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


def vertical_lines_at(ax):
    return [line.get_xdata()[0] for line in ax.lines
            if len(line.get_xdata()) == 2 and len(set(line.get_xdata())) == 1]


# ---------------------------------------------------------------- the symptoms figure

def test_draw_symptoms_shows_the_runs_numbers():
    run = diagnose.generate(0, fault="vanishing_sigmoid").broken
    axes = P.draw_symptoms(Figure(), run, title="case 0")
    loss, accuracy, gradients, activations = axes.flat
    np.testing.assert_array_equal(line_by_label(loss, "train, per step").get_ydata(), run.step_loss)
    np.testing.assert_array_equal(line_by_label(loss, "validation").get_xdata(), run.checkpoint_steps[1:])
    np.testing.assert_array_equal(line_by_label(accuracy, "validation").get_ydata(), run.val_accuracy)
    assert line_by_label(accuracy, "validation, reshuffled").get_ydata()[0] == run.val_accuracy_reshuffled
    assert len(gradients.lines) == run.grad_norms.shape[1] and gradients.get_yscale() == "log"
    np.testing.assert_array_equal(gradients.lines[0].get_ydata(), run.grad_norms[:, 0])
    dead_start = [bar.get_height() for bar in activations.containers[0]]
    np.testing.assert_allclose(dead_start, [100 * s.dead for s in run.activations_start])


def test_draw_symptoms_handles_zero_gradients_and_divergence():
    dead = diagnose.generate(1, fault="dead_relu").broken
    axes = P.draw_symptoms(Figure(), dead)
    assert any("exactly 0" in text.get_text() for text in axes[1, 0].texts)
    exploding = diagnose.generate(1, fault="exploding_init").broken
    axes = P.draw_symptoms(Figure(), exploding)
    assert line_by_label(axes[0, 0], "NaN / inf").get_xdata()[0] == exploding.diverged_at
    assert any("diverged" in text.get_text() for text in axes[0, 1].texts)


def test_an_exploded_loss_is_drawn_without_overflow():
    run = diagnose.generate(1, fault="exploding_init").broken
    step_loss = run.step_loss.copy()
    step_loss[len(step_loss) // 2:-1] = 2e303                # a run that blew up to near the float64 maximum
    exploding = dataclasses.replace(run, step_loss=step_loss)
    fig = Figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # log ticks near 1e308 overflow float64
        axes = P.draw_symptoms(fig, exploding)
        fig.savefig(io.BytesIO(), format="png")
    assert axes[0, 0].get_yscale() == "log" and axes[0, 0].get_ylim()[1] <= 1e100


def test_render_png_gives_png_bytes():
    png = W.render_png(diagnose.generate(8).broken, "case 8")
    assert png[:4] == b"\x89PNG" and len(png) > 10_000


# ---------------------------------------------------------------- notebook figures

@pytest.fixture(scope="module")
def failures():
    return E.failure_runs(steps=60, seed=0)


def test_failure_curves_one_panel_per_run_with_its_losses(failures):
    axes = P.failure_curves(Figure(), failures)
    for ax, run in zip(axes.flat, failures.values(), strict=False):
        shown = line_by_label(ax, run.label).get_ydata()
        positive = run.losses[np.isfinite(run.losses) & (run.losses > 0)]
        np.testing.assert_array_equal(shown[np.isfinite(shown)], positive)
    numerics = list(failures).index("explodes: numerics")
    assert any(line.get_label() == "NaN at step 1" for line in axes.flat[numerics].lines)
    oscillating = list(failures).index("oscillates: misaligned labels")
    assert axes.flat[oscillating].get_yscale() == "linear"           # jagged near ln 10: a linear axis
    assert axes.flat[list(failures).index("explodes: rate 10")].get_yscale() == "log"


def test_range_test_vs_sweep_marks_the_suggestion_and_the_best_rate():
    rates = np.logspace(-4, 0, 100)
    smoothed = np.concatenate([np.linspace(3, 1, 70), np.linspace(1, 4, 30)])
    result = RangeTestResult(rates, smoothed, smoothed, True, 1e-4, 1.0)
    sweep_rates = np.array([1e-3, 1e-2, 1e-1, 1.0])
    sweep = np.array([2.0, 0.5, 0.3, math.inf])
    left, right = P.range_test_vs_sweep(Figure(), result, sweep_rates, sweep)
    assert vertical_lines_at(right) == pytest.approx([0.1, result.suggestion()])
    np.testing.assert_array_equal(right.lines[0].get_xdata(), sweep_rates[:3])
    assert any(line.get_label() == "diverged" for line in right.lines)
    np.testing.assert_array_equal(left.lines[1].get_ydata(), smoothed)


def test_checklist_grid_one_panel_per_fault():
    cases = [diagnose.generate(0, name) for name in ("lr_too_low", "dead_relu", "bn_train_mode_eval")]
    axes = P.checklist_grid(Figure(figsize=(9, 3)), cases)
    titles = [ax.get_title() for ax in axes.flat[:3]]
    assert titles == [case.fault.title for case in cases]
    broken_train = line_by_label(axes.flat[0], "broken: train").get_ydata()
    np.testing.assert_array_equal(broken_train, cases[0].broken.step_loss)
    np.testing.assert_array_equal(line_by_label(axes.flat[2], "broken: validation").get_ydata(),
                                  cases[2].broken.val_loss)
    assert not axes.flat[3].axison                                       # the unused panel holds the legend


def test_fluctuation_and_randomness_figures_draw_their_data():
    study = {"a": E.FluctuationRun("a", np.zeros((5, 2)), np.array([4.0, 3, 2, 1, 0.5])),
             "b": E.FluctuationRun("b", np.zeros((5, 2)), np.array([4.0, 2, 1, 0.5, 0.25]))}
    left, right = P.fluctuation(Figure(), study, last=3)
    np.testing.assert_array_equal(left.lines[1].get_ydata(), study["b"].distance)
    np.testing.assert_array_equal(right.lines[0].get_xdata(), [2, 3, 4])
    assert right.lines[1].get_label() == f"mean {np.mean([1, 0.5, 0.25]):.3f}"
    randomness = E.RandomnessStudy({"none": [0.9, 0.9], "initialization": [0.8, 0.85, 0.9]}, True, {})
    ax = P.randomness(Figure().subplots(), randomness)
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [80, 85, 90])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["varies:\nnone", "varies:\ninitialization"]


def test_capstone_diagnostics_shows_the_confusion_matrix_and_dead_units():
    result = E.capstone(rng=0, epochs=3)
    axes = P.capstone_diagnostics(Figure(figsize=(9, 6.5)), result)
    np.testing.assert_array_equal(axes[1, 1].images[0].get_array(), result.confusion)
    heights = [bar.get_height() for bar in axes[1, 0].patches]
    assert heights == [100 * len(units) / 128 for units in result.dead.values()]
    np.testing.assert_array_equal(axes[0, 0].lines[1].get_ydata(), result.history["val_loss"])
    assert len(axes[0, 1].lines) == result.grad_norms.shape[1]


# ---------------------------------------------------------------- the notebook's widget cells

def test_notebook_widget_cells_build():
    first, exercise = W.diagnose_widget(seed=0), W.diagnose_widget(seed=8)
    assert first.case.fault.name == diagnose.generate(0).fault.name
    assert exercise.case.fault.name == "bn_train_mode_eval"                 # the exercise's case
    assert exercise._repr_mimebundle_()                                     # displayable


def test_diagnose_widget_declares_a_height_that_fits_a_laptop_notebook_view():
    widget = W.diagnose_widget(seed=0)
    view = 779                                       # JupyterLab's notebook area on a 1366 × 900 screen
    assert widget.widget.layout.height == f"{W.HEIGHT}px" and W.HEIGHT <= view
    assert widget.widget.layout.overflow == "hidden"
    title, body = widget.widget.children
    assert int(title.layout.height[:-2]) + int(body.layout.height[:-2]) <= W.HEIGHT
    assert W.FIGSIZE[1] * 100 <= int(body.layout.height[:-2])            # the picture fits the body
    assert widget.image.layout.width == f"{W.FIGSIZE[0] * 100:.0f}px"


def test_diagnose_widget_prepares_while_the_learner_reads():
    jobs = []
    widget = W.DiagnoseWidget(seed=3, schedule=jobs.append)
    widget.choice.value = "lr_too_low"
    assert len(jobs) == 1
    jobs.pop()()                                      # the fixed run is drawn before "check"
    assert (3, "fixed") in widget._pictures
    widget.check()
    assert widget.fixed_image.layout.display == "" and widget.image.layout.display == "none"
    assert widget.fixed_image.value == widget._pictures[3, "fixed"]
    widget.view.value = "broken"                      # the toggle shows the run to diagnose again
    assert widget.image.layout.display == "" and widget.fixed_image.layout.display == "none"
    jobs.pop()()                                      # the next case, trained and drawn while reading
    assert (4, "broken") in widget._pictures
    widget.new_case()
    assert widget.seed == 4 and widget.image.value == widget._pictures[4, "broken"]
    assert widget.view.layout.display == "none" and widget.image.layout.display == ""
