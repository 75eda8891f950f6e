"""How notebook figures are rendered (gdcourse.plots.inline): drawn once, and thin minor ticks on wide log axes."""

from __future__ import annotations

import base64
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import LogLocator  # noqa: E402

from gdcourse.plots import inline  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def visible_minor(ax, which="x"):
    """The minor tick positions inside the view, after a draw."""
    ax.figure.canvas.draw()
    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = sorted(axis.get_view_interval())
    return [float(v) for v in axis.get_minorticklocs() if low <= v <= high]


def log_axes(low, high):
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    return fig, ax


def test_short_log_axes_keep_every_minor_tick_and_label():
    fig, ax = log_axes(2.0, 90.0)              # 1.65 decades, one power of ten in view: minor labels shown
    before = visible_minor(ax)
    labels_before = [t.get_text() for t in ax.xaxis.get_minorticklabels()]
    inline.thin_log_minor_ticks(fig)
    assert visible_minor(ax) == before == [2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90]
    assert [t.get_text() for t in ax.xaxis.get_minorticklabels()] == labels_before
    assert any(labels_before), "this span must be one where matplotlib labels minor ticks"


def test_medium_log_axes_keep_the_ticks_at_2_and_5():
    fig, ax = log_axes(1.0, 1000.0)           # 3 decades
    assert len(visible_minor(ax)) == 24
    inline.thin_log_minor_ticks(fig)
    assert visible_minor(ax) == pytest.approx([2, 5, 20, 50, 200, 500])


def test_wide_log_axes_have_no_minor_ticks_but_keep_their_major_ticks():
    fig, ax = log_axes(1e-3, 1e3)              # 6 decades
    fig.canvas.draw()
    majors = list(ax.get_xticks())
    inline.thin_log_minor_ticks(fig)
    assert visible_minor(ax) == []
    assert list(ax.get_xticks()) == majors


def test_an_axis_with_nonpositive_lower_view_uses_the_smallest_positive_datum():
    fig, ax = plt.subplots()
    ax.plot([0.0, 1e-4, 1.0], [1, 2, 3])
    ax.set_xscale("log")
    inline.thin_log_minor_ticks(fig)
    locator = ax.xaxis.get_minor_locator()
    ticks = locator.tick_values(-1.0, 1.0)         # span from minpos 1e-4: 4 decades, so 2 and 5 only
    mantissas = {round(t / 10 ** np.floor(np.log10(t)), 6) for t in ticks}
    assert ticks.size and mantissas <= {2.0, 5.0}


def test_only_log_axes_are_wrapped_and_only_once():
    fig, (lin, log) = plt.subplots(1, 2)
    log.set_yscale("log")
    original = log.yaxis.get_minor_locator()
    linear_locator = lin.yaxis.get_minor_locator()
    inline.thin_log_minor_ticks(fig)
    inline.thin_log_minor_ticks(fig)
    wrapped = log.yaxis.get_minor_locator()
    assert isinstance(wrapped, inline.ThinLogMinorLocator) and wrapped.inner is original
    assert isinstance(original, LogLocator)
    assert lin.yaxis.get_minor_locator() is linear_locator


def png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


@pytest.mark.parametrize("layout", ["constrained", "tight"])
def test_a_laid_out_figure_is_saved_at_its_own_size(layout):
    fig, ax = plt.subplots(figsize=(4, 3), dpi=50, layout=layout)
    ax.plot([1, 2], [3, 4])
    assert not inline.needs_tight_bbox(fig)
    assert png_size(inline._png(fig)) == (200, 150)


def test_a_figure_without_layout_is_cropped_to_what_it_draws():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.plot([1, 2], [3, 4])
    ax.set_position([0.4, 0.4, 0.2, 0.2])         # a small axes in a big empty figure: "tight" crops it
    assert inline.needs_tight_bbox(fig)
    width, height = png_size(inline._png(fig))
    assert width < 200 and height < 150


def test_the_png_formatter_thins_wide_log_axes():
    fig, ax = log_axes(1e-3, 1e3)
    inline._png(fig)
    assert isinstance(ax.xaxis.get_minor_locator(), inline.ThinLogMinorLocator)
    assert visible_minor(ax) == []
