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
* Only what changed is re-rendered (:mod:`gdcourse.widgets._canvas`): each axes'
  *frame* (ticks, tick labels, axis labels) is cached and drawn again only when its
  view changes (limits, scales, labels); its *content* (lines, collections, texts,
  titles, legends) is drawn again when one of its artists changed. Ticks are the
  expensive part, so an updater should change limits only when the data leaves
  them (e.g. snap a log axis to whole decades) and reuse artists rather than add
  new ones.
* Frozen layout: labels must fit the space solved at the first draw. Keep tick-label
  widths stable (fixed formats, limits that do not jump between decades of digits)
  or return :data:`REDRAW` when they must change. Figure-level artists
  (``fig.suptitle``, ``fig.text``) are drawn with the first frame only.

Follow the hand: sliders update while dragging (``continuous_update=True``). A change
from the browser is not computed at once but *requested*: the latest values win and
at most one update is waiting, so a drag never builds a queue of stale frames. The
status line shows "computing…" until the picture is current. Programmatic changes
(``explorer.set(...)``, ``control.value = ...`` in a cell or a test) update at once.
An inherently slow computation is split in two: ``compute`` returns the cheap part
(drawn at once) and ``refine(data, **values)`` the rest, run as a scheduled job whose
result is drawn when ready, unless the controls moved meanwhile (see ``Explorer``):
the updater then receives both kinds of data, so it must draw either.

Explorers for each notebook live in sub-modules (``gdcourse.widgets.gd`` …).
"""

from __future__ import annotations

import asyncio

import ipywidgets as W

from gdcourse.widgets._canvas import LayeredFigure

__all__ = ["Explorer", "REDRAW", "slider", "int_slider", "log_slider", "dropdown"]

REDRAW = "redraw"
"""Returned by an updater to ask for a new frame (cleared figure, draw, new layout)."""

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
    refine : callable(data, **values) -> data, optional
        The slow rest of a computation (a training run, a finer grid). Then ``compute``
        gives the cheap part, shown at once with "computing…"; ``refine`` runs as a
        scheduled job whose result replaces it, unless the controls moved meanwhile
        (then the newer request does its own cheap part and refinement). Changes from
        code refine at once, so ``explorer.data`` is final after ``set``.
    """

    def __init__(self, controls, compute, draw, figsize=(9, 3.5), title=None, dpi=100, schedule=None,
                 delay=0.01, refine=None):
        self.controls = dict(controls)
        self.compute = compute
        self.refine = refine
        self.draw = draw
        self.figsize = figsize
        self.dpi = dpi
        self.delay = delay
        self.schedule = schedule or self._schedule_on_loop
        self.data = None
        self._layers = LayeredFigure(figsize, dpi)
        self.updates = {"full": 0, "partial": 0, "dropped": 0}
        self._updater = None
        self._waiting = False
        self._generation = 0
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
        self._generation += 1               # a refinement still waiting is now stale
        if self._waiting:
            self.updates["dropped"] += 1
            return
        self._waiting = True
        self.status.value = COMPUTING
        self.schedule(self._run_request)

    def _run_request(self):
        self._waiting = False
        self.update(refine_now=False)

    def _schedule_on_loop(self, job):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): nothing can arrive meanwhile
            job()
            return
        loop.call_later(self.delay, job)

    # ------------------------------------------------------------------ rendering

    def update(self, refine_now=True):
        """Recompute from the current control values; update the frame (or draw a new one) and the image.

        With a ``refine`` step, ``refine_now=False`` shows the cheap part and schedules the rest.
        """
        self._generation += 1
        values = self.values()
        try:
            self._show(self.compute(**values), values)
        except ValueError as err:  # e.g. an impossible combination of settings
            self.status.value = f"<span style='color:#cf222e'>{err}</span>"
            return
        if self.refine is None:
            return
        if refine_now:
            self._refine(self._generation, values)
            return
        self.status.value = COMPUTING
        generation = self._generation
        self.schedule(lambda: self._refine(generation, values))

    def _refine(self, generation, values):
        if generation != self._generation:  # the controls moved since: that request refines its own
            self.updates["dropped"] += 1
            return
        try:
            self._show(self.refine(self.data, **values), values)
        except ValueError as err:
            self.status.value = f"<span style='color:#cf222e'>{err}</span>"

    def _show(self, data, values):
        self.data = data
        if self._updater is None or self._updater(self.data, **values) == REDRAW:
            result = self.draw(self._layers.new_frame(), self.data, **values)
            self._updater = result if callable(result) else None
            self._layers.freeze()
            self.updates["full"] += 1
        else:
            self._layers.render()
            self.updates["partial"] += 1
        self.image.value = self._layers.png()
        self.status.value = ""

    @property
    def figure(self):
        """The explorer's one matplotlib Figure (the same object across updates that keep the frame)."""
        return self._layers.fig

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


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
