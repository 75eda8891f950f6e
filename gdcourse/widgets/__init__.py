"""Interactive explorers for the notebooks.

An explorer wires ipywidgets controls to two functions: ``compute(**values)``, a
pure function from :mod:`gdcourse` (unit-tested on its own) that returns the
data to show, and ``draw(fig, data, **values)``, which plots that data. On every
change it recomputes, redraws and renders the figure to PNG in an
``ipywidgets.Image``, so it works with any matplotlib backend and the picture is
replaced in place. ``explorer.data`` holds what is on screen, so tests (and
curious learners) can check that a control changed it.

Explorers for each notebook live in sub-modules (``gdcourse.widgets.gd`` …).
"""

from __future__ import annotations

import io

import ipywidgets as W
from matplotlib.figure import Figure

__all__ = ["Explorer", "slider", "log_slider", "dropdown"]


class Explorer:
    """Controls → ``compute`` → ``draw`` → PNG image, re-run on every change.

    Parameters
    ----------
    controls : dict name → ipywidgets value widget
        Their values are passed to ``compute`` and ``draw`` as keyword arguments.
    compute : callable(**values) -> data
    draw : callable(fig, data, **values) -> None
    figsize : (width, height) in inches; 100 dpi, so 9×3.5 fits a laptop notebook.
    title : optional heading shown above the controls.
    """

    def __init__(self, controls, compute, draw, figsize=(9, 3.5), title=None, dpi=100):
        self.controls = dict(controls)
        self.compute = compute
        self.draw = draw
        self.figsize = figsize
        self.dpi = dpi
        self.data = None
        self.image = W.Image(format="png", layout=W.Layout(width=f"{figsize[0] * dpi}px", max_width="100%"))
        self.status = W.HTML()
        heading = [W.HTML(f"<b>{title}</b>")] if title else []
        control_box = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([*heading, control_box, self.image, self.status])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

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
        self.update()

    def update(self):
        """Recompute and redraw from the current control values."""
        values = self.values()
        try:
            self.data = self.compute(**values)
        except ValueError as err:  # e.g. an impossible combination of settings
            self.status.value = f"<span style='color:#cf222e'>{err}</span>"
            return
        fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
        self.draw(fig, self.data, **values)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        self.status.value = ""
        self.figure = fig

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def slider(value, low, high, step, description, readout_format=".3g", width="320px"):
    """A float slider that updates on release (not while dragging), so plots keep up.

    ``width`` covers label, track and readout; a long label widens the slider rather
    than squeezing its track (see :func:`_slider_layout`).
    """
    return W.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, readout_format=readout_format,
                         style={"description_width": "initial"}, layout=_slider_layout(width, description))


def log_slider(value, low_exp, high_exp, description, step=0.05, width="320px"):
    """A slider over ``10**low_exp … 10**high_exp`` for rates and strengths."""
    return W.FloatLogSlider(value=value, base=10, min=low_exp, max=high_exp, step=step, description=description,
                            continuous_update=False, readout_format=".3g",
                            style={"description_width": "initial"}, layout=_slider_layout(width, description))


def _slider_layout(width, description):
    # The label takes the width of its text and the track gets what is left of `width`:
    # "lr (GD, momentum, Nesterov)" left it about 30 px. The floor keeps ipywidgets' usual
    # track (148 px) beside the label (about 1ch a character), the readout (72 px) and margins.
    return W.Layout(width=width, min_width=f"calc({len(description)}ch + 244px)")


def dropdown(options, value, description, width="260px"):
    return W.Dropdown(options=options, value=value, description=description,
                      style={"description_width": "initial"}, layout=W.Layout(width=width))
