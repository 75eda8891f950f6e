"""Flashcards: spaced repetition (SM-2) over the bank, one grade at a time.

Cards due today come first (oldest due date first), then new cards in bank order;
each grade is stored and scheduled by SM-2 at once. Cards graded below 4 come back
at the end of the session until they score 4 or more (SM-2's step 7); those
same-day repeats are logged but do not move the schedule again.

The candidate may type an answer before revealing (:meth:`FlashcardSession.answer`):
the judge (:mod:`gdcourse.practice.judge`) marks the key points it covers and
proposes a grade, which the candidate confirms or overrides in ``grade``.
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from dataclasses import dataclass

from gdcourse.practice.judge import Judge, Verdict
from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries
from gdcourse.practice.sm2 import CardState, check_grade
from gdcourse.practice.store import ProgressStore
from gdcourse.validate import check_positive_int

__all__ = ["REPEAT_BELOW", "Card", "FlashcardSession"]

REPEAT_BELOW = 4


@dataclass(frozen=True)
class Card:
    """The card on screen: the entry, its schedule before this review, and why it is shown."""

    entry: object
    state: CardState
    reason: str  # "due", "new" or "repeat"


class FlashcardSession:
    """Review cards: due first, then new ones, at most ``limit`` distinct cards.

    Parameters
    ----------
    bank : gdcourse.bank.Bank
    store : ProgressStore
        Every grade is committed to it before :meth:`grade` returns. Dates come from
        ``store.now`` (inject a clock there).
    topics, levels : iterable of str, optional
        Filters (default: everything).
    limit : int
        Maximum number of distinct cards this session (default 20).
    judge : Judge, optional
        Scores typed answers (default: the bank's rubrics, :meth:`Judge.default`).
    """

    def __init__(self, bank, store: ProgressStore, *, topics=None, levels=None, limit: int = 20, judge=None):
        self.bank, self.store = bank, store
        self._judge = judge  # the bank's rubrics are loaded on first use (Judge.default)
        self.verdict: Verdict | None = None  # the current card's judged typed answer, if one was typed
        self.answers: list[dict] = []  # one per grade: id, typed answer, proposed grade, grade given
        self.limit = check_positive_int(limit, "limit")
        self.today = store.today()
        entries = select_entries(bank, topics, levels)
        states = store.card_states()
        order = {entry.id: rank for rank, entry in enumerate(entries)}
        due = sorted((e for e in entries if e.id in states and states[e.id].is_due(self.today)),
                     key=lambda e: (states[e.id].due, order[e.id]))
        new = [e for e in entries if e.id not in states]
        chosen = (due + new)[: self.limit]
        self.due_count = sum(1 for e in chosen if e.id in states)
        self.new_count = len(chosen) - self.due_count
        self._queue = deque(Card(e, states.get(e.id, CardState()), "due" if e.id in states else "new")
                            for e in chosen)
        later = [states[e.id].due for e in entries if e.id in states and not states[e.id].is_due(self.today)]
        self.next_due: _dt.date | None = min(later) if later else None
        self.revealed = False
        self.graded: list[tuple[str, int, CardState]] = []  # (card id, grade, state after) in order
        self.session_id: int | None = None
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "limit": self.limit}

    @property
    def judge(self) -> Judge:
        """The judge of typed answers (given, or the bank's rubrics loaded on first use)."""
        if self._judge is None:
            self._judge = Judge.default()
        return self._judge

    @property
    def current(self) -> Card | None:
        return self._queue[0] if self._queue else None

    @property
    def finished(self) -> bool:
        return not self._queue

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def reveal(self):
        """Show the answer of the current card; returns its entry."""
        card = self._require_card()
        self.revealed = True
        return card.entry

    def answer(self, text: str) -> Verdict:
        """Keep the typed answer to the current card, reveal it and judge the answer.

        The verdict marks the key points covered and proposes a grade
        (``verdict.proposed_grade``); :meth:`grade` records the grade the candidate
        confirms or chooses instead.
        """
        if not isinstance(text, str):
            raise TypeError(f"text: expected the typed answer as str, got {type(text).__name__}")
        card = self._require_card()
        self.verdict = self.judge.score(card.entry, text.strip())
        self.reveal()
        return self.verdict

    def grade(self, grade: int) -> CardState:
        """Grade the current card 0-5, store it, schedule it, move to the next card.

        Returns the card's schedule after the grade (for a same-day repeat: the
        schedule set by today's first grade, unchanged).
        """
        grade = check_grade(grade)
        card = self._require_card()
        if not self.revealed:
            raise RuntimeError("grade: reveal the answer before grading the card")
        if self.session_id is None:
            self.session_id = self.store.start_session("flashcards", self.settings)
        state = self.store.record_review(card.entry.id, card.entry.topic, grade,
                                         scheduled=card.reason != "repeat", session_id=self.session_id)
        self.graded.append((card.entry.id, grade, state))
        verdict = self.verdict
        self.answers.append({"id": card.entry.id, "typed": verdict.text if verdict else "",
                             "proposed": verdict.proposed_grade if verdict and verdict.judged else None,
                             "grade": grade, "covered": list(verdict.covered) if verdict else []})
        self.verdict = None
        self._queue.popleft()
        if grade < REPEAT_BELOW:
            self._queue.append(Card(card.entry, state, "repeat"))
        self.revealed = False
        return state

    def summary(self) -> dict:
        scheduled = [(card_id, grade) for card_id, grade, _ in self.graded]
        first = {}
        for card_id, grade in scheduled:
            first.setdefault(card_id, grade)
        passed = sum(1 for grade in first.values() if grade >= 3)
        return {"cards": len(first), "passed": passed, "grades": len(self.graded), "left": self.remaining}

    def close(self, status: str = "finished") -> None:
        """Record the end of the session (only if something was graded)."""
        if self.session_id is not None:
            self.store.finish_session(self.session_id, self.summary(), status=status)

    def _require_card(self) -> Card:
        if not self._queue:
            raise RuntimeError("the flashcard session is finished: no current card")
        return self._queue[0]
