"""The "diagnose this run" widget: the symptoms of a case, a choice of causes, a check, the fixed run.

It wires ipywidgets to :func:`gdcourse.diagnose.generate` (the data) and
:func:`gdcourse.plots.playbook.draw_symptoms` (the figures); both are tested on their own.
"""

from __future__ import annotations

import html
import io

import ipywidgets as W
from matplotlib.figure import Figure

from gdcourse import diagnose
from gdcourse.plots import playbook as P

__all__ = ["DiagnoseWidget", "diagnose_widget", "render_png"]

_GREEN, _RED = "#1a7f37", "#cf222e"


def render_png(run, title, figsize=(9, 5.6), dpi=100) -> bytes:
    """The symptom figure of ``run`` as PNG bytes."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    P.draw_symptoms(fig, run, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class DiagnoseWidget:
    """Symptoms of a case, a list of causes, "check", then the explanation and the fixed run; "new case".

    Attributes a test (or a curious learner) can use: ``case`` (the current
    :class:`gdcourse.diagnose.Case`), ``seed``, ``choice`` (the radio buttons; their value is a
    fault name), ``check_button``, ``new_button``, ``image`` (PNG of the symptoms),
    ``fixed_image`` (PNG of the fixed run, empty until checked), ``feedback`` (HTML), and
    ``verdict`` (None before a check, else whether the last answer was right).
    """

    def __init__(self, seed: int = 0, fault: str | None = None):
        self.fault = fault
        self.title = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width="900px", max_width="100%"))
        self.choice = W.RadioButtons(options=[(f.title, name) for name, f in diagnose.FAULTS.items()],
                                     value=None, layout=W.Layout(width="auto"))
        self.check_button = W.Button(description="check", button_style="primary", icon="check")
        self.new_button = W.Button(description="new case", icon="refresh")
        self.feedback = W.HTML()
        self.fixed_image = W.Image(format="png", layout=W.Layout(width="900px", max_width="100%",
                                                                  display="none"))
        self.check_button.on_click(lambda _: self.check())
        self.new_button.on_click(lambda _: self.new_case())
        question = W.HTML("<b>What is the most likely cause?</b>")
        self.widget = W.VBox([self.title, self.image, question, self.choice,
                              W.HBox([self.check_button, self.new_button]), self.feedback, self.fixed_image])
        self.load(seed)

    def load(self, seed: int) -> None:
        """Show the case of ``seed``: its symptoms, a cleared choice and no feedback."""
        self.case = diagnose.generate(seed, self.fault)
        self.seed = self.case.seed
        self.verdict = None
        self.title.value = (f"<b>Case {self.seed}</b>: what an engineer sees of this run "
                            f"({self.case.broken.num_steps} steps on {self.case.broken.setup.n_train} "
                            "digits). Validation accuracy, reshuffled: the same validation images "
                            "scored again in another order.")
        self.image.value = render_png(self.case.broken, f"case {self.seed}: the run to diagnose")
        self.choice.value = None
        self.feedback.value = ""
        self.fixed_image.value = b""
        self.fixed_image.layout.display = "none"

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
            f" Below: the same run with <code>{html.escape(changes)}</code>.")
        self.fixed_image.value = render_png(self.case.fixed, f"case {self.seed}, fixed")
        self.fixed_image.layout.display = ""
        return self.verdict

    def new_case(self) -> None:
        """Load the next seed's case (consecutive seeds visit every fault before one repeats)."""
        self.load(self.seed + 1)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def diagnose_widget(seed: int = 0, fault: str | None = None) -> DiagnoseWidget:
    """The diagnose widget starting at case ``seed`` (optionally only one ``fault``)."""
    return DiagnoseWidget(seed, fault)
