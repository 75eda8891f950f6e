"""Flashcards: spaced repetition (SM-2) over the bank, one grade at a time.

Which cards and in which order: :func:`gdcourse.practice.plan.todays_queue` (cards failed
earlier today, cards missed in a test or mock interview, due cards oldest first, then new
cards with topics interleaved; with an interview date, the plan's share for today).
Each grade is stored and scheduled by SM-2 at once. Cards graded below 4 come back
at the end of the session until they score 4 or more (SM-2's step 7), and in the next
session the same day if this one is stopped first; those same-day repeats are logged
but do not move the schedule again.

The candidate may type an answer before revealing (:meth:`FlashcardSession.answer`):
the judge (:mod:`gdcourse.practice.judge`) marks the key points it covers and
proposes a grade, which the candidate confirms or overrides in ``grade``; the typed
answer is stored with the grade (exported with ``--export``).
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from dataclasses import dataclass

from gdcourse.practice.judge import Judge, Verdict
from gdcourse.practice.plan import REPEAT_BELOW, todays_queue
from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries
from gdcourse.practice.sm2 import CardState, check_grade
from gdcourse.practice.store import ProgressStore
from gdcourse.validate import check_positive_int

__all__ = ["REPEAT_BELOW", "Card", "FlashcardSession"]



@dataclass(frozen=True)
class Card:
    """The card on screen: the entry, its schedule before this review, and why it is shown."""

    entry: object
    state: CardState
    reason: str  # "due", "new", "repeat", "missed" (in a test or mock) or "ahead" (before an interview)


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
    until : datetime.date, optional
        The interview date: today's share of the plan (:func:`gdcourse.practice.plan.make_plan`).
    judge : Judge, optional
        Scores typed answers (default: the bank's rubrics, :meth:`Judge.default`).
    """

    def __init__(self, bank, store: ProgressStore, *, topics=None, levels=None, limit: int = 20, until=None,
                 judge=None):
        self.bank, self.store = bank, store
        self._judge = judge  # the bank's rubrics are loaded on first use (Judge.default)
        self.verdict: Verdict | None = None  # the current card's judged typed answer, if one was typed
        self.answers: list[dict] = []  # one per grade: id, typed answer, proposed grade, grade given
        self.limit = check_positive_int(limit, "limit")
        self.today = store.today()
        entries = select_entries(bank, topics, levels)
        states = store.card_states()
        queue = todays_queue(entries, states, self.today, self.limit, until=until,
                             again=store.failed_today(self.today), missed=store.missed_since_review())
        self.due_count = sum(1 for _, reason in queue if reason != "new")
        self.new_count = len(queue) - self.due_count
        self._queue = deque(Card(e, states.get(e.id, CardState()), "repeat" if reason == "again" else reason)
                            for e, reason in queue)
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
        verdict = self.verdict
        state = self.store.record_review(card.entry.id, card.entry.topic, grade,
                                         scheduled=card.reason != "repeat", session_id=self.session_id,
                                         answer_text=verdict.text if verdict and verdict.text else None)
        self.graded.append((card.entry.id, grade, state))
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
