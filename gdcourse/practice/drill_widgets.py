"""Learn and Match in JupyterLab (ipywidgets), over the engines of the terminal modes.

Like :mod:`~gdcourse.practice.widgets`, each widget keeps its controls as attributes
(``know_button``, ``term_buttons`` …) so a test can click them and read the values.
"""

from __future__ import annotations

import secrets
import threading

import ipywidgets as w

from gdcourse.practice.learn import GOAL, LearnSession
from gdcourse.practice.match import PENALTY_S, MatchRound
from gdcourse.practice.widgets import AnswerBox, _default_bank_and_store, _Displayable, _inline, item_html, verdict_html

__all__ = ["LearnWidget", "MatchWidget"]


class LearnWidget(_Displayable):
    """Each card asked in changing forms until it is answered right twice (:class:`LearnSession`)."""

    def __init__(self, bank=None, store=None, *, n: int = 8, topics=None, levels=None, rng=None, material=None):
        bank, store = _default_bank_and_store(bank, store)
        rng = secrets.randbelow(1_000_000) if rng is None else rng
        self.learn = LearnSession(bank, n=n, topics=topics, levels=levels, rng=rng, store=store, material=material)
        self.header = w.HTML()
        self.question = w.HTMLMath()
        self.reveal_button = w.Button(description="Show the key points")
        self.know_button = w.Button(description="I had them", button_style="success")
        self.miss_button = w.Button(description="Not yet", button_style="warning")
        self.reveal_button.on_click(lambda _: self.reveal())
        self.know_button.on_click(lambda _: self.answer(True))
        self.miss_button.on_click(lambda _: self.answer(False))
        self.answer_box = AnswerBox(self.answer)
        self.controls = w.VBox()
        self.feedback = w.HTMLMath()
        self.widget = w.VBox([self.header, self.question, self.controls, self.feedback])
        self._render()

    def reveal(self) -> None:
        step = self.learn.current
        if step is not None and step.item is None:
            points = "".join(f"<li>{_inline(point)}</li>" for point in step.entry.key_points)
            self.question.value = f"{_inline(step.entry.prompt)}<ol>{points}</ol>"
            self.controls.children = [w.HBox([self.know_button, self.miss_button])]

    def answer(self, reply) -> None:
        """Answer the current step: True/False for a recall card, else as in the test."""
        step = self.learn.current
        if step is None:
            return
        right = self.learn.answer(reply)
        if step.item is None:
            self.feedback.value = "<b>Right.</b>" if right else "<b>Not yet</b>: it comes back soon."
        else:
            self.feedback.value = verdict_html(step.item, right)
        self._render()

    def _render(self) -> None:
        learn = self.learn
        step = learn.current
        if step is None:
            summary = learn.close()
            self.header.value = (f"<b>Learn: done</b> · {summary['learned']}/{summary['cards']} cards in "
                                 f"{summary['answers']} answers · seed {summary['seed']}")
            self.question.value = ""
            self.controls.children = []
            return
        self.header.value = (f"<b>Learn</b> · {step.entry.id} · {step.kind.replace('_', ' ')} · "
                             f"{learn.learned}/{len(learn.cards)} learned (each card right {GOAL} times)")
        if step.item is None:
            self.question.value = _inline(step.entry.prompt) + "<p><i>Say your answer, then check it.</i></p>"
            self.controls.children = [self.reveal_button]
        else:
            self.question.value = item_html(step.item)
            self.answer_box.show(step.item)
            self.controls.children = [self.answer_box.box]


class MatchWidget(_Displayable):
    """Click a term, then its definition; the clock runs until every pair is matched (:class:`MatchRound`)."""

    def __init__(self, bank=None, store=None, *, size: int = 6, topics=None, levels=None, rng=None, clock=None):
        bank, store = _default_bank_and_store(bank, store)
        rng = secrets.randbelow(1_000_000) if rng is None else rng
        self.match = MatchRound(bank, size=size, topics=topics, levels=levels, rng=rng, store=store, clock=clock)
        self.selected: int | None = None
        self.term_buttons = [w.Button(description=term, tooltip=term, layout=w.Layout(width="auto"))
                             for term in self.match.terms]
        self.definition_buttons = [w.Button(description=text, tooltip=text, layout=w.Layout(width="auto"))
                                   for text in self.match.definitions]
        for index, button in enumerate(self.term_buttons):
            button.on_click(lambda _, index=index: self.pick_term(index))
        for index, button in enumerate(self.definition_buttons):
            button.on_click(lambda _, index=index: self.pick_definition(index))
        self.clock_label = w.Label()
        self.feedback = w.HTML(f"Click a term, then its definition. Each wrong pair adds {PENALTY_S:.0f} s.")
        self.widget = w.VBox([w.HTML(f"<b>Match</b> · seed {self.match.seed}"), self.clock_label,
                              w.HBox([w.VBox(self.term_buttons), w.VBox(self.definition_buttons)]), self.feedback])
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="gdcourse-match-clock", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        self.clock_label.value = f"{self.match.elapsed:.0f} s"
        while not self._stop.wait(1.0) and not self.match.finished:
            self.clock_label.value = f"{self.match.elapsed:.0f} s"

    def pick_term(self, index: int) -> None:
        self.selected = index
        for i, button in enumerate(self.term_buttons):
            button.button_style = "info" if i == index else ("success" if i in self.match.matched else "")

    def pick_definition(self, index: int) -> None:
        if self.selected is None:
            self.feedback.value = "Click a term first."
            return
        try:
            right = self.match.pair(self.selected, index)
        except ValueError as error:
            self.feedback.value = str(error)
            return
        if right:
            self.term_buttons[self.selected].disabled = self.definition_buttons[index].disabled = True
            self.term_buttons[self.selected].button_style = "success"
            self.feedback.value = "Right."
        else:
            self.feedback.value = f"No: +{PENALTY_S:.0f} s."
        self.selected = None
        if self.match.finished:
            self._stop.set()
            summary = self.match.summary()
            self.clock_label.value = f"{summary['seconds']:.1f} s"
            self.feedback.value = (f"<b>All {summary['pairs']} pairs in {summary['seconds']:.1f} s</b> "
                                   f"({summary['misses']} miss(es)). Saved.")

    def close(self) -> None:
        """Stop the clock thread."""
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join(timeout=5)
