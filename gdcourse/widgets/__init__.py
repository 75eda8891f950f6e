"""Interactive explorers for the notebooks.

An explorer wires ipywidgets controls to two functions: ``compute(**values)``, a
pure function from :mod:`gdcourse` (unit-tested on its own) that returns the
data to show, and ``draw(fig, data, **values)``, which plots that data. The
picture is rendered to PNG in an ``ipywidgets.Image``, so it works with any
matplotlib backend and is replaced in place. ``explorer.data`` holds what is on
screen, so tests (and curious learners) can check that a control changed it.

Contract for plot authors (how an explorer answers a control change in < 100 ms)
--------------------------------------------------------------------------------
Building a figure and solving its constrained layout costs 0.2-1 s; updating the
data of existing artists costs milliseconds. So an explorer keeps ONE figure:

* ``draw(fig, data, **values)`` builds the frame once, on an empty constrained-
  layout figure. The explorer renders it, and from then on the layout is frozen
  (``fig.set_layout_engine("none")``): axes keep their positions.
* If ``draw`` returns a callable ``update(data, **values)``, later changes call it
  instead of rebuilding: it changes the artists' data (``set_data``, ``set_ydata``,
  ``set_offsets``, ``set_array``, ``set_text``, limits). It may return
  :data:`REDRAW` when the change needs a new frame (e.g. another landscape, another
  number of curves): the figure is then cleared, drawn and laid out again.
  A ``draw`` that returns anything else (``None``, a tuple of axes) gets a full
  redraw on every change, as before.
* Only what changed is re-rendered. Artists the updater changes on every move
  (a marker, a path, a legend whose labels carry numbers) should be created with
  ``animated=True`` (or ``artist.set_animated(True)``): they are drawn over a cached
  background. Any other change (limits, ticks, a non-animated line) marks its axes
  stale (matplotlib's ``ax.stale``); the explorer re-renders just those axes, in the
  region their tick labels and titles occupy, then the animated artists on top.
* Frozen layout: labels must fit the space solved at the first draw. Keep tick-label
  widths stable (fixed formats, limits that do not jump between decades of digits)
  or return :data:`REDRAW` when they must change.

Follow the hand: sliders update while dragging (``continuous_update=True``). A change
from the browser is not computed at once but *requested*: the latest values win and
at most one update is waiting, so a drag never builds a queue of stale frames. The
status line shows "computing…" until the picture is current. Programmatic changes
(``explorer.set(...)``, ``control.value = ...`` in a cell or a test) update at once.

Explorers for each notebook live in sub-modules (``gdcourse.widgets.gd`` …).
"""

from __future__ import annotations

import asyncio
import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.transforms import Bbox

__all__ = ["Explorer", "REDRAW", "slider", "int_slider", "log_slider", "dropdown"]

REDRAW = "redraw"
"""Returned by an updater to ask for a new frame (cleared figure, draw, new layout)."""

PNG_COMPRESS_LEVEL = 1
"""zlib level 1: a 1,000×400 frame encodes in ~10-25 ms instead of ~40 ms (level 6), ~10 % larger."""

COMPUTING = "<span style='color:#57606a'>computing…</span>"


class Explorer:
    """Controls → ``compute`` → ``draw`` (once) / ``update`` (later) → PNG image.

    Parameters
    ----------
    controls : dict name → ipywidgets value widget
        Their values are passed to ``compute``, ``draw`` and the updater as keyword arguments.
    compute : callable(**values) -> data
    draw : callable(fig, data, **values) -> optional updater ``update(data, **values)``
        See the module docstring for the contract.
    figsize : (width, height) in inches; 100 dpi, so 9×3.5 fits a laptop notebook.
    title : optional heading shown above the controls.
    schedule : callable(job) -> None, optional
        How a change requested from the browser is deferred: the default runs ``job``
        on the kernel's event loop after ``delay`` seconds (at once when there is no
        running loop, as in a script). Tests pass ``jobs.append`` and run the jobs.
    delay : seconds a browser change waits, so messages already sent by a drag arrive first.
    """

    def __init__(self, controls, compute, draw, figsize=(9, 3.5), title=None, dpi=100, schedule=None,
                 delay=0.01):
        self.controls = dict(controls)
        self.compute = compute
        self.draw = draw
        self.figsize = figsize
        self.dpi = dpi
        self.delay = delay
        self.schedule = schedule or self._schedule_on_loop
        self.data = None
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.updates = {"full": 0, "partial": 0, "dropped": 0}
        self._updater = None
        self._background = None
        self._regions = {}
        self._waiting = False
        self._requests = 0
        self.image = W.Image(format="png", layout=W.Layout(width=f"{figsize[0] * dpi}px", max_width="100%"))
        self.status = W.HTML()
        heading = [W.HTML(f"<b>{title}</b>")] if title else []
        control_box = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([*heading, control_box, self.image, self.status])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    # ------------------------------------------------------------------ values and changes

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values):
        """Change several controls, then update once (used by tests and presets)."""
        for name, value in values.items():
            control = self.controls[name]
            control.unobserve(self._on_change, names="value")
            try:
                control.value = value
            finally:
                control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change):
        # ipywidgets locks a property while it applies a value sent by the browser:
        # that is a drag or a click, to be coalesced; anything else is a cell or a test.
        if change["name"] in getattr(change["owner"], "_property_lock", {}):
            self.request()
        else:
            self.update()

    def request(self):
        """Ask for an update from the current values, run later by ``schedule``; the latest values win.

        While one request waits, further requests only count as dropped: the job
        reads the control values when it runs, so it shows the newest setting.
        """
        self._requests += 1
        if self._waiting:
            self.updates["dropped"] += 1
            return
        self._waiting = True
        self.status.value = COMPUTING
        self.schedule(self._run_request)

    def _run_request(self):
        self._waiting = False
        self.update()

    def _schedule_on_loop(self, job):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): nothing can arrive meanwhile
            job()
            return
        loop.call_later(self.delay, job)

    # ------------------------------------------------------------------ rendering

    def update(self):
        """Recompute and redraw from the current control values."""
        values = self.values()
        try:
            self.data = self.compute(**values)
        except ValueError as err:  # e.g. an impossible combination of settings
            self.status.value = f"<span style='color:#cf222e'>{err}</span>"
            return
        if self._updater is None or self._updater(self.data, **values) == REDRAW:
            self._draw_frame(values)
        else:
            self._render_changes()
        self.image.value = self._encode()
        self.status.value = ""

    def _draw_frame(self, values):
        """A new frame: clear, draw, solve the constrained layout once, then freeze it."""
        fig = self.figure
        fig.clear()
        fig.set_layout_engine("constrained")
        result = self.draw(fig, self.data, **values)
        self._updater = result if callable(result) else None
        self.canvas.draw()                      # lays out and renders all but animated artists
        fig.set_layout_engine("none")
        self._background = self._pixels().copy()
        renderer = self.canvas.get_renderer()
        self._regions = {ax: _pixel_box(ax.get_tightbbox(renderer), fig) for ax in fig.axes}
        self._draw_animated()
        self.updates["full"] += 1

    def _render_changes(self):
        """Re-render the stale axes over the cached background, then every animated artist."""
        fig = self.figure
        renderer = self.canvas.get_renderer()
        pixels = self._pixels()
        pixels[...] = self._background
        stale = [ax for ax in fig.axes if ax.stale]
        if stale:
            new = {ax: _pixel_box(ax.get_tightbbox(renderer), fig) for ax in stale}
            stale = _overlapping(stale, {**self._regions, **new}, fig.axes)
            face = (np.asarray(fig.get_facecolor()) * 255).round().astype(np.uint8)
            for ax in stale:
                region = _union(self._regions[ax], new.get(ax, self._regions[ax]))
                x0, y0, x1, y1 = region
                pixels[y0:y1, x0:x1] = face
                self._regions[ax] = new.get(ax, self._regions[ax])
            for ax in fig.axes:                  # in drawing order
                if ax in stale:
                    ax.draw(renderer)
            self._background = pixels.copy()
        self._draw_animated()
        self.updates["partial"] += 1

    def _draw_animated(self):
        renderer = self.canvas.get_renderer()
        for ax in self.figure.axes:
            for artist in sorted(_animated(ax), key=lambda a: a.get_zorder()):
                if artist.get_visible():
                    artist.draw(renderer)

    def _pixels(self):
        """The Agg buffer as a writable (height, width, 4) uint8 array; row 0 is the top."""
        return np.asarray(self.canvas.buffer_rgba())

    def _encode(self) -> bytes:
        from PIL import Image

        width, height = self.canvas.get_width_height()
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
        return buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _animated(ax):
    """The artists of ``ax`` drawn over the cached background (images never are: Axes.draw draws them)."""
    return [a for a in ax.get_children() if a.get_animated() and not isinstance(a, AxesImage)]


def _pixel_box(bbox, fig):
    """A display-space Bbox → (x0, y0, x1, y1) integer rows/columns of the buffer (row 0 at the top)."""
    width, height = fig.canvas.get_width_height()
    bbox = Bbox.intersection(bbox, fig.bbox) or Bbox([[0, 0], [0, 0]])
    x0, x1 = int(np.floor(bbox.x0)) - 1, int(np.ceil(bbox.x1)) + 1
    top, bottom = height - int(np.ceil(bbox.y1)) - 1, height - int(np.floor(bbox.y0)) + 1
    return max(x0, 0), max(top, 0), min(x1, width), min(bottom, height)


def _union(a, b):
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _intersects(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlapping(stale, regions, all_axes):
    """The stale axes plus every axes whose region meets theirs (transitively): clearing one erases part of it."""
    chosen = list(stale)
    grown = True
    while grown:
        grown = False
        for ax in all_axes:
            if ax not in chosen and any(_intersects(regions[ax], regions[c]) for c in chosen):
                chosen.append(ax)
                grown = True
    return chosen


# ---------------------------------------------------------------------- controls

def slider(value, low, high, step, description, readout_format=".3g", width="320px", continuous_update=True):
    """A float slider that updates while it is dragged (the explorer coalesces the updates).

    ``width`` covers label, track and readout; a long label widens the slider rather
    than squeezing its track (see :func:`_slider_layout`). Pass
    ``continuous_update=False`` for a control whose update is slow.
    """
    return W.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=continuous_update, readout_format=readout_format,
                         style={"description_width": "initial"}, layout=_slider_layout(width, description))


def int_slider(value, low, high, description, step=1, width="320px", continuous_update=True):
    """An integer slider laid out like :func:`slider`."""
    return W.IntSlider(value=value, min=low, max=high, step=step, description=description,
                       continuous_update=continuous_update, style={"description_width": "initial"},
                       layout=_slider_layout(width, description))


def log_slider(value, low_exp, high_exp, description, step=0.05, width="320px", continuous_update=True):
    """A slider over ``10**low_exp … 10**high_exp`` for rates and strengths."""
    return W.FloatLogSlider(value=value, base=10, min=low_exp, max=high_exp, step=step, description=description,
                            continuous_update=continuous_update, readout_format=".3g",
                            style={"description_width": "initial"}, layout=_slider_layout(width, description))


def _slider_layout(width, description):
    # The label takes the width of its text and the track gets what is left of `width`:
    # "lr (GD, momentum, Nesterov)" left it about 30 px. The floor keeps ipywidgets' usual
    # track (148 px) beside the label (about 1ch a character), the readout (72 px) and margins.
    return W.Layout(width=width, min_width=f"calc({len(description)}ch + 244px)")


def dropdown(options, value, description, width="260px"):
    return W.Dropdown(options=options, value=value, description=description,
                      style={"description_width": "initial"}, layout=W.Layout(width=width))
