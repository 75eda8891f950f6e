"""The Explorer machinery: one figure per explorer, updates in place, layered rendering, latest-wins requests,
and the widget benchmark's discovery and moves. No timings: what is checked is what is drawn and computed."""

import ipywidgets as W
import numpy as np
import pytest

from gdcourse import bench_widgets as B
from gdcourse.widgets import REDRAW, Explorer, slider
from gdcourse.widgets import backprop as WB
from gdcourse.widgets import gd as WG
from gdcourse.widgets import normalization as WN
from gdcourse.widgets import optimizers as WO
from gdcourse.widgets import variants as WV


def line_explorer(schedule=None, calls=None):
    """y = a·x on a fixed grid; the updater moves the line (and says REDRAW when asked through ``mode``)."""
    calls = [] if calls is None else calls
    x = np.linspace(0, 1, 50)

    def compute(a, mode):
        calls.append(a)
        return a * x

    def draw(fig, y, a, mode):
        ax = fig.subplots()
        (line,) = ax.plot(x, y, label=f"a = {a:g}")
        ax.set(xlim=(0, 1), ylim=(-1, 1), title=f"a = {a:g}")

        def update(y, a, mode):
            if mode == "new frame":
                return REDRAW
            line.set_ydata(y)
            ax.set_title(f"a = {a:g}")
            return None

        return update

    controls = {"a": slider(0.5, -1.0, 1.0, 0.1, "a"), "mode": W.Dropdown(options=["update", "new frame"])}
    return Explorer(controls, compute, draw, figsize=(4, 3), schedule=schedule), calls


# ---------------------------------------------------------------- updates in place

def test_a_control_change_updates_the_same_figure_in_place():
    explorer, _ = line_explorer()
    figure, line, image = explorer.figure, explorer.figure.axes[0].lines[0], explorer.image.value
    explorer.controls["a"].value = -0.8
    np.testing.assert_allclose(explorer.data, -0.8 * np.linspace(0, 1, 50))
    assert explorer.figure is figure and explorer.figure.axes[0].lines[0] is line
    np.testing.assert_allclose(line.get_ydata(), explorer.data)
    assert explorer.figure.axes[0].get_title() == "a = -0.8"
    assert explorer.image.value != image and explorer.image.value[:4] == b"\x89PNG"
    assert explorer.updates == {"full": 1, "partial": 1, "dropped": 0}


def test_an_updater_can_ask_for_a_new_frame():
    explorer, _ = line_explorer()
    line = explorer.figure.axes[0].lines[0]
    explorer.controls["mode"].value = "new frame"
    assert explorer.updates["full"] == 2
    assert explorer.figure.axes[0].lines[0] is not line                 # drawn again from scratch


def test_a_draw_without_updater_is_redrawn_every_time():
    explorer = Explorer({"a": slider(0.5, 0.0, 1.0, 0.1, "a")}, compute=lambda a: a,
                        draw=lambda fig, data, **_: fig.subplots().plot([0, 1], [0, data]), figsize=(3, 2))
    before = explorer.image.value
    explorer.controls["a"].value = 0.9
    assert explorer.updates["full"] == 2 and explorer.updates["partial"] == 0
    assert explorer.figure.axes[0].lines[0].get_ydata()[1] == 0.9 and explorer.image.value != before


def test_the_layout_is_solved_once_and_then_frozen():
    explorer, _ = line_explorer()
    position = explorer.figure.axes[0].get_position().bounds
    explorer.controls["a"].value = 0.1
    assert explorer.figure.get_layout_engine().__class__.__name__ == "PlaceHolderLayoutEngine"
    assert explorer.figure.axes[0].get_position().bounds == position
    assert explorer._layers.counts["layouts"] == 1


def test_tick_labels_that_would_be_cut_off_get_a_new_layout():
    explorer, _ = line_explorer()
    ax = explorer.figure.axes[0]
    ax.set_ylim(-1e9, 1e9)                                               # as an updater might
    ax.yaxis.get_major_formatter().set_scientific(False)                  # long labels: "-1000000000"
    explorer._layers.render()
    assert explorer._layers.counts["layouts"] == 2
    renderer = explorer._layers.canvas.get_renderer()
    box, figure = ax.get_tightbbox(renderer), explorer.figure.bbox
    assert box.x0 >= figure.x0 - 1 and box.x1 <= figure.x1 + 1


def shown_vs_full_render(explorer):
    """(the image the explorer shows, the same figure drawn by matplotlib in one ordinary pass)."""
    layers = explorer._layers
    shown = np.asarray(layers.canvas.buffer_rgba()).astype(int).copy()
    for ax in explorer.figure.axes:
        for artist in ax.get_children():
            artist.set_animated(False)
    layers.canvas.draw()
    return shown, np.asarray(layers.canvas.buffer_rgba()).astype(int)


@pytest.mark.parametrize("make, moves", [
    (lambda: WO.momentum_explorer(), {"momentum": 0.8, "kappa": 10.0, "lr_times_L": 2.0}),
    (lambda: WG.lr_explorer_1d(function="parabola", x0=2.0), {"lr": 0.9, "show_threshold": False}),
    (lambda: WB.depth_explorer(depth=5), {"depth": 12, "activation": "relu"}),
    (lambda: WN.norm_axes_explorer(), {"feature_scale": 100.0, "batch_size": 16}),
])
def test_layered_updates_show_what_a_full_draw_of_the_same_figure_shows(make, moves):
    """Frames cached, content redrawn where it changed: the result must be the picture matplotlib draws."""
    explorer = make()
    for name, value in moves.items():
        explorer.controls[name].value = value
    assert explorer.updates["partial"] >= len(moves) - 1                # (a threshold change may redraw)
    shown, full = shown_vs_full_render(explorer)
    differs = np.abs(shown - full).max(axis=2) > 8                       # anti-aliasing can differ by a shade
    assert differs.mean() < 0.002, f"{differs.sum()} pixels differ"


def test_an_axes_whose_limits_do_not_change_keeps_its_frame():
    explorer = WV.async_explorer()                                       # the stability map's axes are fixed
    frames = explorer._layers.counts["frames"]
    explorer.controls["staleness"].value = 3
    explorer.controls["staleness"].value = 4
    assert explorer._layers.counts["frames"] == frames                   # no tick label was redrawn
    marker = explorer.figure.axes[1].lines[-1]
    assert marker.get_xdata()[0] == 4 and marker.get_ydata()[0] == pytest.approx(explorer.data.lr)


# ---------------------------------------------------------------- latest wins

def test_browser_changes_are_coalesced_and_the_latest_wins():
    jobs = []
    explorer, calls = line_explorer(schedule=jobs.append)
    assert calls == [0.5]
    for value in (0.6, 0.7, 0.8):
        explorer.controls["a"].set_state({"value": value})              # what a message from the browser does
    assert len(jobs) == 1 and calls == [0.5]                             # nothing computed yet, one job waiting
    assert "computing" in explorer.status.value and explorer.updates["dropped"] == 2
    jobs.pop()()
    assert calls == [0.5, 0.8]                                           # the stale 0.6 and 0.7 never computed
    np.testing.assert_allclose(explorer.figure.axes[0].lines[0].get_ydata(), 0.8 * np.linspace(0, 1, 50))
    assert explorer.status.value == ""

    explorer.controls["a"].set_state({"value": 0.1})                     # the next drag starts a new request
    assert len(jobs) == 1
    jobs.pop()()
    assert calls[-1] == pytest.approx(0.1)


def test_changes_from_code_update_at_once_even_with_a_scheduler():
    jobs = []
    explorer, calls = line_explorer(schedule=jobs.append)
    explorer.controls["a"].value = 0.3
    explorer.set(a=0.2)
    assert jobs == [] and calls == [0.5, 0.3, 0.2]


def test_without_an_event_loop_a_request_runs_at_once():
    explorer, calls = line_explorer()
    explorer.controls["a"].set_state({"value": 0.9})
    assert calls[-1] == pytest.approx(0.9) and explorer.status.value == ""


# ---------------------------------------------------------------- follow the hand

@pytest.mark.parametrize("make", [WG.lr_explorer_1d, WG.lr_explorer_quadratic, WV.batch_size_explorer,
                                  WV.schedule_plotter, WV.lr_curves_explorer, WV.async_explorer,
                                  WO.momentum_explorer, WO.race_explorer, WB.depth_explorer, WB.rnn_explorer])
def test_sliders_of_notebooks_01_to_04_follow_the_drag(make):
    explorer = make()
    sliders = [c for c in explorer.controls.values() if hasattr(c, "continuous_update") and hasattr(c, "step")]
    assert sliders and all(c.continuous_update for c in sliders)


def test_int_sliders_keep_their_track_beside_a_long_label():
    control = WV.schedule_plotter().controls["step_size"]                # "step size (step, exp.)"
    assert control.layout.min_width == f"calc({len(control.description)}ch + 244px)"


# ---------------------------------------------------------------- the benchmark's moves

def test_discover_finds_every_explorer_factory():
    found = B.discover()
    for name in ("gd.lr_explorer_1d", "variants.async_explorer", "optimizers.race_explorer",
                 "backprop.graph_explorer", "activations.activation_explorer", "regularization.dropout_explorer"):
        assert name in found
    assert not any(name.split(".")[1].startswith("_") for name in found)


def test_moves_stay_in_range_and_come_back():
    explorer = WO.momentum_explorer()
    for name, control in explorer.controls.items():
        values = B.moves(control)
        assert values and values[-1] == control.value, name
        if hasattr(control, "max") and not isinstance(control.value, bool):
            low = control.min if not hasattr(control, "base") else control.base ** control.min
            high = control.max if not hasattr(control, "base") else control.base ** control.max
            assert all(low - 1e-12 <= v <= high * (1 + 1e-12) for v in values), name


def test_time_explorer_counts_every_timed_move():
    explorer, calls = line_explorer()
    result = B.time_explorer(explorer, rounds=2, steps=2)
    per_round = len(B.moves(explorer.controls["a"], 2)) + len(B.moves(explorer.controls["mode"], 2))
    assert result["updates"] == 2 * per_round
    assert set(result["per_control_median_ms"]) == {"a", "mode"}
    assert len(calls) == 1 + 3 * per_round                               # warm-up round included, not timed


def test_a_slow_refinement_follows_the_cheap_part_and_is_dropped_when_stale():
    jobs, refined = [], []

    def refine(data, a, mode):
        refined.append(a)
        return data + 1.0                                                # "the slow part": a shifted line

    explorer, calls = line_explorer(schedule=jobs.append)
    explorer.refine = refine
    explorer.set(a=0.2)                                                  # from code: refined at once
    np.testing.assert_allclose(explorer.data, 0.2 * np.linspace(0, 1, 50) + 1.0)
    assert refined == [0.2] and jobs == []

    explorer.controls["a"].set_state({"value": 0.4})                     # from the browser
    jobs.pop()()                                                         # the request: cheap part shown ...
    np.testing.assert_allclose(explorer.figure.axes[0].lines[0].get_ydata(), 0.4 * np.linspace(0, 1, 50))
    assert "computing" in explorer.status.value and len(jobs) == 1       # ... refinement waiting
    explorer.controls["a"].set_state({"value": 0.6})                     # the hand moves on
    stale_refinement, request = jobs
    jobs.clear()
    stale_refinement()
    assert refined == [0.2] and explorer.updates["dropped"] == 1         # 0.4 is never refined
    request()
    jobs.pop()()
    assert refined == [0.2, 0.6] and explorer.status.value == ""
    np.testing.assert_allclose(explorer.data, 0.6 * np.linspace(0, 1, 50) + 1.0)
