"""Practice in JupyterLab: flashcard, mock-interview and test widgets (ipywidgets).

The widgets only wire buttons to the engines of :mod:`gdcourse.practice.session`
and show their state; every rule is tested there. Each widget keeps its controls
as attributes (``reveal_button``, ``grade_buttons``, ``timer_label`` …) so a test,
or a curious learner, can drive it with ``button.click()`` and read the values.

The mock interview's clock is a :class:`LiveTimer`: a daemon thread that rewrites
a label once a second and is stopped (and joined) whenever the question changes
or its answer is revealed.
"""

from __future__ import annotations

import html
import re
import secrets
import threading

import ipywidgets as w

from gdcourse.practice.flashcards import FlashcardSession
from gdcourse.practice.interview import MockInterview
from gdcourse.practice.mathtext import latex_to_mathml, to_html
from gdcourse.practice.quiz import KIND_NAMES, TYPED, TestSession
from gdcourse.practice.selection import format_seconds
from gdcourse.practice.sm2 import GRADE_MEANINGS

__all__ = ["AnswerBox", "FlashcardWidget", "LiveTimer", "MockInterviewWidget", "TestWidget", "item_html",
           "markdown_to_html", "verdict_html"]


# ---------------------------------------------------------------------- helpers
def _prose(text: str) -> str:
    text = html.escape(text, quote=False)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


def _inline(text: str) -> str:
    """Escaped text with `code`, **bold** and ``$…$`` math as MathML (no raw LaTeX left to typeset)."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick stays as text
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return "".join(f"<code>{html.escape(part, quote=False)}</code>" if i % 2 else to_html(part, _prose)
                   for i, part in enumerate(parts))


def markdown_to_html(text: str) -> str:
    """A small Markdown subset to HTML: paragraphs, ``-``/``1.`` lists, fenced code, `code`, **bold**.

    All text is HTML-escaped; ``$...$`` math becomes MathML (:func:`~gdcourse.practice.mathtext.to_html`).
    """
    out, para, items, code, in_code = [], [], [], [], False

    def flush():
        nonlocal para, items
        if para:
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        para, items = [], []

    for line in text.strip().splitlines():
        if line.strip().startswith(("```", "~~~")):
            if in_code:
                out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
                code = []
            else:
                flush()
            in_code = not in_code
        elif in_code:
            code.append(line)
        elif not line.strip():
            flush()
        elif re.match(r"^\s*([-*+]|\d+[.)])\s+", line):
            if para:
                flush()
            items.append(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
    if in_code:
        out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
    flush()
    return "\n".join(out)


def _key_points_html(entry) -> str:
    html_text = "<b>Key points</b><ol>" + "".join(f"<li>{_inline(p)}</li>" for p in entry.key_points) + "</ol>"
    if entry.formula:
        html_text += f"<p><b>Formula</b>: {latex_to_mathml(entry.formula)}</p>"
    if entry.common_mistake:
        html_text += f"<p><b>Common mistake</b>: {_inline(entry.common_mistake)}</p>"
    return html_text


def _default_bank_and_store(bank, store):
    if bank is None:
        from gdcourse.bank import load

        bank = load()
    if store is None:
        from gdcourse.practice.store import ProgressStore

        store = ProgressStore()
    return bank, store


def _answer_area() -> w.Textarea:
    return w.Textarea(placeholder="Type your answer (optional): it is judged against the key points",
                      layout=w.Layout(width="100%", height="9em"))


def _judged_html(entry, verdict, points, hinted) -> str:
    """The typed answer beside the model answer, then the key points marked and the judge's proposal."""
    typed = html.escape(verdict.text).replace("\n", "<br>") or "<i>(nothing typed)</i>"
    columns = ('<div style="display:flex;gap:1.5em"><div style="flex:1;min-width:0"><b>Your answer</b><p>'
               f'{typed}</p></div><div style="flex:1;min-width:0"><b>Model answer</b>'
               f'{markdown_to_html(entry.answer)}</div></div>')
    covered = set(verdict.covered) if verdict.judged else set()
    marks = "".join(f"<li>{'✔' if i in covered else '✘'} {_inline(entry.key_points[i])}"
                    f"{' <i>(hint)</i>' if i in hinted else ''}</li>" for i in points)
    if not verdict.judged:
        proposal = f"<p><i>Not judged</i>: {html.escape(verdict.note)}.</p>"
    else:
        found, grade = [i for i in verdict.covered if i in points], verdict.grade_for(points)
        proposal = (f"<p>The judge found {len(found)} of {len(points)} key point(s): proposed grade "
                    f"<b>{grade}/5</b> ({'pass' if grade >= 4 else 'fail'}).</p>")
        missing = [entry.key_points[i] for i in points if i not in covered]
        proposal += f"<p><b>Missing</b>: {_inline('; '.join(missing))}</p>" if missing else ""
        proposal += "".join(f"<p><b>Said wrongly</b>: {_inline(m)}</p>" for m in verdict.misconceptions)
    return columns + f"<b>Key points</b><ul style='list-style:none'>{marks}</ul>" + proposal


def _answers_table_html(questions) -> str:
    """One row per answer: id, kind, score, time against the suggested time, hints; typed answer below."""
    rows = "".join(
        f"<tr><td>{html.escape(q['id'])}</td><td>{q['kind']}</td><td>{q['score']:.0%}</td>"
        f"<td>{format_seconds(q['seconds'])} / {format_seconds(q['suggested'])}</td><td>{len(q['hints'])}</td>"
        f"<td><small>{html.escape(q['typed'][:300]) or '–'}</small></td></tr>" for q in questions)
    return ("<table><tr><th>id</th><th>kind</th><th>score</th><th>time</th><th>hints</th><th>your answer</th>"
            f"</tr>{rows}</table>")


class _Displayable:
    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class LiveTimer:
    """Set ``label.value = text()`` now and then every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, label: w.Label, text, interval: float = 1.0):
        self.label, self.text, self.interval = label, text, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gdcourse-widget-timer", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> LiveTimer:
        self.label.value = self.text()
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self.label.value = self.text()

    def stop(self) -> None:
        """Stop the thread (and wait for it), then show the final value."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.label.value = self.text()


# ---------------------------------------------------------------------- flashcards
class FlashcardWidget(_Displayable):
    """Flashcards in a notebook: type an answer (optional), Show answer, then grade 0-5; saved at once.

    A typed answer is judged: it is shown beside the model answer with the key
    points marked, and the proposed grade's button is highlighted.

    ``bank`` defaults to the course bank, ``store`` to the user's progress store
    (``GDCOURSE_HOME`` or the per-user data directory); ``until`` (a date) follows the
    exam-date plan (:mod:`~gdcourse.practice.plan`).
    """

    def __init__(self, bank=None, store=None, *, topics=None, levels=None, limit: int = 20, until=None,
                 judge=None):
        bank, store = _default_bank_and_store(bank, store)
        self.session = FlashcardSession(bank, store, topics=topics, levels=levels, limit=limit, until=until,
                                        judge=judge)
        self.header = w.HTML()
        self.prompt = w.HTMLMath()
        self.typed = _answer_area()
        self.answer = w.HTMLMath()
        self.reveal_button = w.Button(description="Show answer", button_style="primary",
                                      tooltip="judges what you typed, if anything, and shows the model answer")
        self.grade_buttons = [w.Button(description=str(grade), tooltip=meaning, layout=w.Layout(width="3.5em"))
                              for grade, meaning in GRADE_MEANINGS.items()]
        self.grade_help = w.HTML("<small>0 blackout · 1 wrong · 2 felt familiar · 3 hard · 4 hesitant · "
                                 "5 perfect</small>")
        self.status = w.Label()
        self.reveal_button.on_click(lambda _: self.reveal())
        for grade, button in enumerate(self.grade_buttons):
            button.on_click(lambda _, grade=grade: self.grade(grade))
        self.grade_box = w.VBox([w.HBox([w.Label("Grade:"), *self.grade_buttons]), self.grade_help])
        self.widget = w.VBox([self.header, self.prompt, self.typed, self.reveal_button, self.answer,
                              self.grade_box, self.status])
        self._render()

    def reveal(self) -> None:
        """Show the model answer; if an answer was typed, judge it and propose a grade."""
        if self.session.finished:
            return
        card = self.session.current
        if self.typed.value.strip():
            verdict = self.session.answer(self.typed.value)
            points = range(len(card.entry.key_points))
            self.answer.value = _judged_html(card.entry, verdict, points, ())
            for grade, button in enumerate(self.grade_buttons):
                button.button_style = "info" if verdict.judged and grade == verdict.proposed_grade else ""
        else:
            entry = self.session.reveal()
            self.answer.value = markdown_to_html(entry.answer) + _key_points_html(entry)
        self._render()

    def grade(self, grade: int) -> None:
        card = self.session.current
        if card is None or not self.session.revealed:
            return
        state = self.session.grade(grade)
        self.typed.value = ""
        for button in self.grade_buttons:
            button.button_style = ""
        note = " (repeat: schedule unchanged)" if card.reason == "repeat" else ""
        again = "; once more at the end of this session" if grade < 4 else ""
        self.status.value = (f"Saved {card.entry.id}: grade {grade}{note}; next review {state.due} "
                             f"(in {state.interval} d){again}.")
        self._render()

    def _render(self) -> None:
        session = self.session
        card = session.current
        if card is None:
            summary = session.summary()
            session.close("finished")
            later = f" Next review: {session.next_due}." if session.next_due and not session.graded else ""
            self.header.value = "<b>Flashcards: done</b>" if session.graded else "<b>Flashcards</b>"
            self.prompt.value = (f"{summary['cards']} card(s) graded, {summary['passed']} passed."
                                 if session.graded else f"Nothing to review for these filters.{later}")
            self.answer.value = ""
            self.reveal_button.layout.display = self.typed.layout.display = "none"
            self.grade_box.layout.display = "none"
            return
        entry = card.entry
        self.header.value = (f"<b>{html.escape(entry.id)}</b> · {entry.topic} · {entry.level} · {card.reason}"
                             f" · {session.remaining} left")
        self.prompt.value = f"<h3>{_inline(entry.prompt)}</h3>"
        if not session.revealed:
            self.answer.value = ""
        self.reveal_button.layout.display = "none" if session.revealed else None
        self.typed.disabled = session.revealed
        self.grade_box.layout.display = None if session.revealed else "none"


# ---------------------------------------------------------------------- mock interview
class MockInterviewWidget(_Displayable):
    """A timed mock interview: type an answer, Hint (a ladder), Reveal, check the key points, Submit.

    On Reveal a typed answer is judged: it is shown beside the model answer, the
    key points it covers come ticked (untick or tick to override), and the
    proposed grade and what is missing are shown. Parameters are those of
    :class:`~gdcourse.practice.session.MockInterview` (``n``, ``topics``,
    ``levels``, ``rng``, ``clock``, ``judge``) plus ``tick`` (seconds between clock updates).
    """

    def __init__(self, bank=None, store=None, *, n: int = 5, topics=None, levels=None, rng=None, clock=None,
                 tick: float = 1.0, report_dir=None, judge=None):
        bank, store = _default_bank_and_store(bank, store)
        rng = secrets.randbelow(1_000_000) if rng is None else rng  # a seed, so the summary can name it
        if report_dir is None:
            report_dir = store.path.parent / "interviews"
        self.interview = MockInterview(bank, n=n, topics=topics, levels=levels, rng=rng, store=store,
                                       clock=clock, report_dir=report_dir, judge=judge)
        self.tick = tick
        self.header = w.HTML()
        self.timer_label = w.Label()
        self.prompt = w.HTMLMath()
        self.typed = _answer_area()
        self.hint_button = w.Button(description="Hint", tooltip="a nudge first, then key words, then the point "
                                                                "(a point covered after a hint counts half)")
        self.reveal_button = w.Button(description="Reveal", button_style="primary")
        self.hint_label = w.HTMLMath()
        self.answer = w.HTMLMath()
        self.checkboxes: list[w.Checkbox] = []
        self.checkbox_box = w.VBox()
        self.submit_button = w.Button(description="Submit", button_style="success")
        self.status = w.HTML()
        self.summary = w.HTMLMath()
        self.hint_button.on_click(lambda _: self.show_hint())
        self.reveal_button.on_click(lambda _: self.reveal())
        self.submit_button.on_click(lambda _: self.submit())
        self.timer: LiveTimer | None = None
        self.widget = w.VBox([
            w.HBox([self.header, self.timer_label]), self.prompt, self.typed,
            w.HBox([self.hint_button, self.reveal_button]), self.hint_label, self.answer, self.checkbox_box,
            self.submit_button, self.status, self.summary])
        self._show_question()

    # -- actions (the buttons call these)
    def show_hint(self) -> None:
        if self.interview.finished:
            return
        self.interview.hint(self.typed.value)
        self.hint_label.value = "<br>".join(f"<i>Hint {n}</i>: {_inline(hint['text'])}"
                                            for n, hint in enumerate(self.interview.current.hints, start=1))

    def reveal(self) -> None:
        if self.interview.finished:
            return
        q = self.interview.current
        if self.typed.value.strip():
            verdict = self.interview.answer(self.typed.value)
            self.answer.value = _judged_html(q.entry, verdict, q.points, q.hinted)
            ticked = set(self.interview.proposed())
        else:
            self.interview.reveal()
            self.answer.value = markdown_to_html(q.entry.answer)
            ticked = set()
        self._stop_timer()
        self.typed.disabled = True
        self.checkboxes = [w.Checkbox(value=i in ticked, indent=False, layout=w.Layout(width="auto"),
                                      description=q.entry.key_points[i] + (" (hint)" if i in q.hinted else ""))
                           for i in q.points]
        self.checkbox_box.children = [w.HTML("<b>Which key points did you cover?</b> (tick or untick to "
                                             "correct the judge)"), *self.checkboxes]
        self._show_controls(revealed=True)

    def submit(self) -> None:
        if self.interview.finished:
            return
        if not self.interview.current.revealed:
            self.reveal()
        points = self.interview.current.points
        covered = [i for i, box in zip(points, self.checkboxes, strict=True) if box.value]
        q = self.interview.submit(covered)
        hinted = f", {len(q.with_hint)} with hint" if q.with_hint else ""
        text = (f"{q.entry.id}: {len(q.covered)}/{len(q.points)} key points{hinted} ({q.score:.0%}) in "
                f"{format_seconds(q.seconds)}.")
        current = self.interview.current
        if current is not None and current.follow_up_of == q.entry.id:
            text += (" Good answer: a follow-up question." if current.kind == "follow-up"
                     else " Some key points are missing: one more question on them.")
        self.status.value = text
        self._show_question()

    def close(self) -> None:
        """Stop the clock and save what was answered (also called at the end)."""
        self._stop_timer()
        self.interview.close()

    # -- display
    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.stop()

    def _show_question(self) -> None:
        self._stop_timer()
        self.hint_label.value = self.answer.value = self.typed.value = ""
        self.typed.disabled = False
        self.checkboxes, self.checkbox_box.children = [], []
        q = self.interview.current
        if q is None:
            self._show_summary()
            return
        kind = q.kind if q.kind != "main" else f"question {self.interview.main_number} of {self.interview.planned}"
        seed = f" · seed {self.interview.seed}" if self.interview.seed is not None else ""
        self.header.value = f"<b>{kind}</b> · {q.entry.id} · {q.entry.topic} · {q.entry.level}{seed} ·&nbsp;"
        self.prompt.value = f"<h3>{_inline(q.prompt)}</h3>"
        self._show_controls(revealed=False)
        self.timer = LiveTimer(self.timer_label, self.interview.timer_text, self.tick).start()

    def _show_controls(self, revealed: bool) -> None:
        self.hint_button.layout.display = "none" if revealed else None
        self.reveal_button.layout.display = "none" if revealed else None
        self.submit_button.layout.display = None if revealed else "none"

    def _show_summary(self) -> None:
        summary = self.interview.close("finished")
        for control in (self.hint_button, self.reveal_button, self.submit_button, self.typed):
            control.layout.display = "none"
        self.header.value, self.prompt.value, self.timer_label.value = "<b>Mock interview: summary</b>", "", ""
        rows = "".join(f"<tr><td>{t}</td><td>{s:.0%}</td><td>{c}</td></tr>" for t, (s, c) in summary.by_topic.items())
        review = "".join(
            f"<li><b>{html.escape(item['id'])}</b> ({item['score']:.0%}) {_inline(item['prompt'])}"
            + (f"<br><small>see {html.escape(item['notebook'])}</small>" if item["notebook"] else "")
            + "<br><small>missed: " + _inline("; ".join(item["missed"])) + "</small></li>"
            for item in summary.review)
        overall = "–" if summary.score is None else f"{summary.score:.0%}"
        saved = self.interview.report_path
        self.summary.value = (
            f"<p>Overall {overall} over {summary.answered} answer(s), time {format_seconds(summary.seconds)}, "
            f"{summary.hints_used} hint(s) used.</p>"
            f"<table><tr><th>topic</th><th>score</th><th>answers</th></tr>{rows}</table>"
            + _answers_table_html(summary.questions)
            + (f"<p>Weakest: {', '.join(summary.weakest)}</p>" if summary.weakest else "")
            + (f"<p><b>What to review</b></p><ul>{review}</ul>" if review else "<p>Nothing to review.</p>")
            + (f"<p><small>Saved to {html.escape(str(saved))}</small></p>" if saved else ""))


# ---------------------------------------------------------------------- test
def item_html(item) -> str:
    """A test item's question (and, for an ordering, its numbered steps) as HTML."""
    text = "<br>".join(_inline(part) for part in item.question.split("\n"))
    if item.kind == "order":
        text += "<ol>" + "".join(f"<li>{_inline(step)}</li>" for step in item.options) + "</ol>"
    return text


def verdict_html(item, right: bool) -> str:
    if right:
        return "<b>Right.</b>"
    answer = item.right_answer() if item.kind in TYPED else item.options[item.correct]
    return f"<b>Wrong</b>: the answer is “{_inline(answer)}”. {_inline(item.explanation)}"


class AnswerBox:
    """Buttons for a choice item, or a text box and a button for a typed number or order."""

    def __init__(self, on_answer):
        self.on_answer = on_answer
        self.buttons: list[w.Button] = []
        self.text = w.Text(placeholder="your answer", layout=w.Layout(width="16em"))
        self.submit_button = w.Button(description="Submit", button_style="primary")
        self.submit_button.on_click(lambda _: self.submit())
        self.message = w.Label()
        self.box = w.VBox()

    def show(self, item) -> None:
        self.message.value = ""
        if item is None:
            self.buttons, self.box.children = [], []
            return
        if item.kind in TYPED:
            self.buttons = []
            self.text.value = ""
            self.text.placeholder = {"number": "a number, e.g. 0.25", "formula": "a formula, e.g. 2/(n + 1)",
                                     "order": "e.g. 3 1 2 4"}[item.kind]
            self.box.children = [w.HBox([self.text, self.submit_button]), self.message]
            return
        self.buttons = [w.Button(description=option, tooltip=option, layout=w.Layout(width="auto"))
                        for option in item.options]
        for index, button in enumerate(self.buttons):
            button.on_click(lambda _, index=index: self.on_answer(index))
        self.box.children = self.buttons

    def submit(self) -> None:
        try:
            self.on_answer(self.text.value)
        except ValueError as error:
            self.message.value = str(error).split(": ", 1)[-1]


class TestWidget(_Displayable):
    """A seeded test (see :mod:`~gdcourse.practice.quiz`): click or type an answer, see whether it was right."""

    __test__ = False

    def __init__(self, bank=None, store=None, *, n: int = 5, topics=None, levels=None, rng=None, material=None):
        bank, store = _default_bank_and_store(bank, store)
        rng = secrets.randbelow(1_000_000) if rng is None else rng
        self.test = TestSession(bank, n=n, topics=topics, levels=levels, rng=rng, store=store, material=material)
        self.header = w.HTML()
        self.question = w.HTMLMath()
        self.answer_box = AnswerBox(self.choose)
        self.feedback = w.HTMLMath()
        self.score_label = w.Label()
        self.widget = w.VBox([self.header, self.question, self.answer_box.box, self.feedback, self.score_label])
        self._render()

    @property
    def option_buttons(self) -> list[w.Button]:
        return self.answer_box.buttons

    def choose(self, reply) -> None:
        """Answer the current item: an option index, or the typed text of a number or an order."""
        item = self.test.current
        if item is None:
            return
        self.feedback.value = verdict_html(item, self.test.answer(reply))
        self._render()

    def _render(self) -> None:
        test = self.test
        self.score_label.value = f"Score {test.score}/{len(test.answers)}"
        item = test.current
        self.answer_box.show(item)
        if item is None:
            summary = test.close()
            self.header.value = f"<b>Test: done</b> · seed {summary['seed']}"
            self.question.value = (f"Score {summary['score']}/{summary['items']}."
                                   + (f" Review: {', '.join(summary['wrong'])} (now due in your flashcards)."
                                      if summary["wrong"] else ""))
            return
        number = len(test.answers) + 1
        self.header.value = (f"<b>Item {number} of {len(test.items)}</b> · {item.topic} · "
                             f"{KIND_NAMES[item.kind]} · seed {test.seed}")
        self.question.value = item_html(item)
