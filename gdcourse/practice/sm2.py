"""SM-2 spaced repetition (Wozniak, 1990): when to show a flashcard again.

After each review the candidate grades their recall ``q`` from 0 to 5:

===  ==========================================================
 5   perfect, immediate recall
 4   correct after some hesitation
 3   correct, but with serious difficulty
 2   wrong, but the answer felt familiar once seen
 1   wrong; the answer was remembered once seen
 0   complete blackout
===  ==========================================================

The card keeps three numbers: ``repetitions`` (successful reviews in a row),
``interval`` (days until the next review) and ``easiness`` (EF, starts at 2.5).

Rule, applied to every review::

    if q >= 3:   interval = 1              if repetitions == 0
                 interval = 6              if repetitions == 1
                 interval = round(interval * EF)   otherwise (EF before this review)
                 repetitions += 1
    else:        repetitions = 0; interval = 1      (the intervals restart)
    EF = max(1.3, EF + 0.1 - (5 - q) * (0.08 + (5 - q) * 0.02))

Choices where descriptions of SM-2 differ, stated so the schedule can be checked by hand:

- **EF on a failed card**: the EF update is applied on *every* review, failures
  included (q < 3 lowers EF by 0.32, 0.54 or 0.80), as in the original algorithm,
  whose step 5 updates EF after each repetition; the restart only resets
  ``repetitions`` and the interval, it does not reset EF to 2.5.
- **Which EF multiplies the interval**: the EF held *before* the review, then EF
  is updated (the order of the published pseudo-code).
- **Rounding**: half up (37.5 days -> 38), not Python's round-half-to-even.
- EF moves in steps of 0.01 (each update is a whole number of hundredths), so it is
  kept as an integer number of hundredths internally and no floating-point drift
  builds up over hundreds of reviews.
- The next review is due ``interval`` days after the day of the review.
- Intervals are capped at ``MAX_INTERVAL`` = 36,500 days (a century): without a
  cap a card passed often enough would be scheduled past the year 9999, which no
  date type can hold.

Source: P. A. Wozniak, "Optimization of learning", master's thesis, 1990
(the SuperMemo 2 algorithm).
"""

from __future__ import annotations

import datetime as _dt
import numbers
from dataclasses import dataclass, replace

__all__ = [
    "GRADE_MEANINGS",
    "INITIAL_EASINESS",
    "MAX_INTERVAL",
    "MIN_EASINESS",
    "PASSING_GRADE",
    "CardState",
    "check_grade",
    "easiness_after",
    "review",
]

INITIAL_EASINESS = 2.5
MIN_EASINESS = 1.3
PASSING_GRADE = 3
MAX_INTERVAL = 36_500
GRADE_MEANINGS = {
    0: "blackout",
    1: "wrong; remembered once seen",
    2: "wrong; felt familiar",
    3: "right, with serious difficulty",
    4: "right, after hesitation",
    5: "perfect",
}
_MIN_EF_HUNDREDTHS = 130


@dataclass(frozen=True)
class CardState:
    """Scheduling state of one card.

    ``due`` is the date of the next review, ``None`` for a card never reviewed
    (a *new* card). ``reviews`` and ``lapses`` count all scheduled reviews and the
    failed ones (q < 3).
    """

    repetitions: int = 0
    interval: int = 0
    easiness: float = INITIAL_EASINESS
    due: _dt.date | None = None
    last_review: _dt.date | None = None
    reviews: int = 0
    lapses: int = 0

    @property
    def is_new(self) -> bool:
        return self.last_review is None

    def is_due(self, today: _dt.date) -> bool:
        """True when the card has been reviewed before and its due date is today or past."""
        return self.due is not None and self.due <= today


def check_grade(grade) -> int:
    """Return ``grade`` as an int in 0..5, or raise ValueError naming it."""
    if isinstance(grade, bool) or not isinstance(grade, numbers.Integral) or not 0 <= grade <= 5:
        raise ValueError(f"grade: expected an int from 0 to 5, got {grade!r}")
    return int(grade)


def _hundredths(easiness: float) -> int:
    return int(round(easiness * 100))


def _easiness_delta_hundredths(grade: int) -> int:
    # 0.1 - (5-q)(0.08 + (5-q)0.02), times 100: +10, 0, -14, -32, -54, -80 for q = 5..0.
    miss = 5 - grade
    return 10 - miss * (8 + 2 * miss)


def easiness_after(easiness: float, grade: int) -> float:
    """EF' = max(1.3, EF + 0.1 − (5−q)(0.08 + (5−q)·0.02)), exact to the hundredth."""
    grade = check_grade(grade)
    new = max(_MIN_EF_HUNDREDTHS, _hundredths(easiness) + _easiness_delta_hundredths(grade))
    return new / 100


def review(state: CardState, grade: int, today: _dt.date) -> CardState:
    """Return the state of a card after a review graded ``grade`` on ``today``.

    The input state is not changed. See the module docstring for the full rule.
    """
    grade = check_grade(grade)
    if not isinstance(today, _dt.date):
        raise TypeError(f"today: expected a datetime.date, got {type(today).__name__}")
    if isinstance(today, _dt.datetime):
        today = today.date()
    ef_hundredths = _hundredths(state.easiness)
    if grade >= PASSING_GRADE:
        if state.repetitions == 0:
            interval = 1
        elif state.repetitions == 1:
            interval = 6
        else:
            # round half up of interval * EF, in integers: (I * EF100 + 50) // 100
            interval = min(MAX_INTERVAL, (state.interval * ef_hundredths + 50) // 100)
        repetitions = state.repetitions + 1
        lapses = state.lapses
    else:
        repetitions, interval, lapses = 0, 1, state.lapses + 1
    return replace(
        state,
        repetitions=repetitions,
        interval=interval,
        easiness=easiness_after(state.easiness, grade),
        due=today + _dt.timedelta(days=interval),
        last_review=today,
        reviews=state.reviews + 1,
        lapses=lapses,
    )
