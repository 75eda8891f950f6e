"""The "diagnose this run" widget: the symptoms of a case, a choice of causes, a check, the fixed run.

It wires ipywidgets to :func:`gdcourse.diagnose.generate` (the data) and
:func:`gdcourse.plots.playbook.draw_symptoms` (the figures); both are tested on their own.

It fits a laptop's notebook view (779 px high in JupyterLab on a 1366×900 screen): the
picture on the left, the question, the buttons and the feedback (scrolling) on the right,
in a box of :data:`HEIGHT` px. Checked, the picture shows the fixed run; two toggle
buttons switch between it and the run to diagnose.

Answers come without waiting where the learner gives the widget time: choosing a cause
starts drawing the fixed run, and a check starts training and drawing the next case, each
on the kernel's event loop after the current message (in a script, at once).
"""

from __future__ import annotations

import asyncio
import html
import io

import ipywidgets as W
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gdcourse import diagnose
from gdcourse.plots import playbook as P

__all__ = ["HEIGHT", "FIGSIZE", "MARGINS", "DiagnoseWidget", "diagnose_widget", "render_png"]

_GREEN, _RED = "#1a7f37", "#cf222e"

FIGSIZE = (7.8, 5.4)
"""Inches at 100 dpi: 780 × 540 px, beside a 390 px column of controls."""

TITLE_HEIGHT = 44
"""Pixels for the case's title (two lines)."""

HEIGHT = TITLE_HEIGHT + 560
"""The widget's declared height in pixels: title and body (picture or controls, whichever is taller)."""

_SIDE_WIDTH = 390


MARGINS = {"left": 0.085, "right": 0.88, "bottom": 0.085, "top": 0.895, "wspace": 0.34, "hspace": 0.42}
"""Subplot margins of the symptom figure at :data:`FIGSIZE`, fixed: solving a constrained layout for every
picture took 40 % of its rendering time; these leave room for every case's labels (checked by eye)."""


def render_png(run, title, figsize=FIGSIZE, dpi=100) -> bytes:
    """The symptom figure of ``run`` as PNG bytes (zlib level 1: a quarter of the encoding time of level 6).

    At the default ``figsize`` the margins are :data:`MARGINS`; another size gets a constrained layout.
    """
    fixed = tuple(figsize) == FIGSIZE
    fig = Figure(figsize=figsize, dpi=dpi, layout=None if fixed else "constrained")
    FigureCanvasAgg(fig)
    P.draw_symptoms(fig, run, title=title)
    if fixed:
        fig.subplots_adjust(**MARGINS)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _run_soon(job):
    """Run ``job`` on the kernel's event loop after the current message; at once without a running loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        job()
        return
    loop.call_soon(job)


class DiagnoseWidget:
    """Symptoms of a case, a list of causes, "check", then the explanation and the fixed run; "new case".

    Attributes a test (or a curious learner) can use: ``case`` (the current
    :class:`gdcourse.diagnose.Case`), ``seed``, ``choice`` (the radio buttons; their value is a
    fault name), ``check_button``, ``new_button``, ``image`` (PNG of the symptoms),
    ``fixed_image`` (PNG of the fixed run, empty until checked), ``view`` (toggle between the two
    pictures, shown once checked), ``feedback`` (HTML), and ``verdict`` (None before a check, else
    whether the last answer was right). ``schedule(job)`` defers preparation work (default: the
    kernel's event loop); tests pass ``list.append`` and run the jobs themselves.
    """

    def __init__(self, seed: int = 0, fault: str | None = None, schedule=None):
        self.fault = fault
        self.schedule = schedule or _run_soon
        self._cases, self._pictures = {}, {}
        self.title = W.HTML(layout=W.Layout(height=f"{TITLE_HEIGHT}px", overflow="hidden"))
        width = f"{FIGSIZE[0] * 100:.0f}px"
        self.image = W.Image(format="png", layout=W.Layout(width=width, max_width="100%"))
        self.fixed_image = W.Image(format="png", layout=W.Layout(width=width, max_width="100%", display="none"))
        fixed = {"flex": "0 0 auto"}   # in the side column only the feedback shrinks (and scrolls)
        self.view = W.ToggleButtons(options=[("the run", "broken"), ("fixed", "fixed")], value="broken",
                                    style={"button_width": "120px"}, layout=W.Layout(display="none", **fixed))
        self.choice = W.RadioButtons(options=[(f.title, name) for name, f in diagnose.FAULTS.items()],
                                     value=None, layout=W.Layout(width="auto", **fixed))
        self.check_button = W.Button(description="check", button_style="primary", icon="check")
        self.new_button = W.Button(description="new case", icon="refresh")
        self.feedback = W.HTML(layout=W.Layout(flex="1 1 0px", min_height="0", overflow="auto"))
        self.check_button.on_click(lambda _: self.check())
        self.new_button.on_click(lambda _: self.new_case())
        self.choice.observe(lambda _: self.schedule(self._prepare_fixed), names="value")
        self.view.observe(lambda change: self._show(change["new"]), names="value")
        side = W.VBox([W.HTML("<b>What is the most likely cause?</b>", layout=W.Layout(**fixed)), self.choice,
                       W.HBox([self.check_button, self.new_button], layout=W.Layout(**fixed)), self.view,
                       self.feedback],
                      layout=W.Layout(width=f"{_SIDE_WIDTH}px", height=f"{HEIGHT - TITLE_HEIGHT}px",
                                      overflow="hidden"))
        body = W.HBox([W.Box([self.image, self.fixed_image]), side],
                      layout=W.Layout(height=f"{HEIGHT - TITLE_HEIGHT}px", align_items="flex-start"))
        self.widget = W.VBox([self.title, body], layout=W.Layout(height=f"{HEIGHT}px", overflow="hidden"))
        self.load(seed)

    # ------------------------------------------------------------------ cases and pictures

    def _case(self, seed):
        if seed not in self._cases:
            self._cases[seed] = diagnose.generate(seed, self.fault)
        return self._cases[seed]

    def _picture(self, seed, which):
        """PNG of the case's broken or fixed run, drawn once."""
        if (seed, which) not in self._pictures:
            case = self._case(seed)
            run, title = ((case.broken, f"case {seed}: the run to diagnose") if which == "broken"
                          else (case.fixed, f"case {seed}, fixed"))
            self._pictures[seed, which] = render_png(run, title)
        return self._pictures[seed, which]

    def _prepare_fixed(self):
        self._picture(self.seed, "fixed")

    def _prepare_next(self):
        self._picture(self.seed + 1, "broken")

    # ------------------------------------------------------------------ actions

    def load(self, seed: int) -> None:
        """Show the case of ``seed``: its symptoms, a cleared choice and no feedback."""
        if (seed, "broken") not in self._pictures:
            self.title.value = f"<b>Case {seed}</b>: training the run…"
        self.case = self._case(seed)
        self.seed = self.case.seed
        self.verdict = None
        self.image.value = self._picture(self.seed, "broken")
        self.title.value = (f"<b>Case {self.seed}</b>: what an engineer sees of this run "
                            f"({self.case.broken.num_steps} steps on {self.case.broken.setup.n_train} "
                            "digits). Validation accuracy, reshuffled: the same validation images "
                            "scored again in another order.")
        self.choice.value = None
        self.feedback.value = ""
        self.fixed_image.value = b""
        self.view.layout.display = "none"
        self.view.value = "broken"
        self._show("broken")

    def check(self) -> bool | None:
        """Judge the selected cause; show the explanation and the fixed run. None if nothing is selected."""
        if self.choice.value is None:
            self.feedback.value = "<i>Choose a cause first.</i>"
            return None
        fault, chosen = self.case.fault, diagnose.FAULTS[self.choice.value]
        self.verdict = chosen.name == fault.name
        if self.verdict:
            head = f"<b style='color:{_GREEN}'>Right: {html.escape(fault.title)}.</b>"
        else:
            head = (f"<b style='color:{_RED}'>Not this time: it was {html.escape(fault.title)}.</b> "
                    f"{html.escape(chosen.title.capitalize())} would show {html.escape(chosen.tell)}.")
        changes = "; ".join(self.case.fixed.setup.changes_from(self.case.broken.setup))
        self.feedback.value = (
            f"{head}<br><b>What was wrong:</b> {html.escape(fault.what_was_wrong)}"
            f"<br><b>What to notice:</b> {html.escape(fault.symptoms)}"
            f"<br><b>Why:</b> {html.escape(fault.explanation)}"
            f"<br><b>Fix:</b> {html.escape(fault.fix)}"
            f" The picture now shows the same run with <code>{html.escape(changes)}</code>.")
        self.fixed_image.value = self._picture(self.seed, "fixed")
        self.view.layout.display = ""
        self.view.value = "fixed"
        self._show("fixed")
        self.schedule(self._prepare_next)
        return self.verdict

    def _show(self, which):
        self.fixed_image.layout.display = "" if which == "fixed" else "none"
        self.image.layout.display = "none" if which == "fixed" else ""

    def new_case(self) -> None:
        """Load the next seed's case (consecutive seeds visit every fault before one repeats)."""
        self.load(self.seed + 1)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def diagnose_widget(seed: int = 0, fault: str | None = None) -> DiagnoseWidget:
    """The diagnose widget starting at case ``seed`` (optionally only one ``fault``)."""
    return DiagnoseWidget(seed, fault)
