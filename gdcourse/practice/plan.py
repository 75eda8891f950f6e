"""Which flashcards today, and an exam-date plan: fit due and new cards into the days left.

The queue of one flashcard session (:func:`todays_queue`) is built by these rules, in order:

1. **Again today**: cards whose last grade today was below 4 (``REPEAT_BELOW``), e.g. after
   Ctrl-C in an earlier session today; they come first, as same-day repeats.
2. **Missed elsewhere**: cards answered wrongly in a test, or below 70 % in a mock interview,
   since their last flashcard review (or never reviewed): due now, whatever SM-2 said.
3. **Due**: cards whose SM-2 due date is today or past, oldest first.
4. **Review ahead** (only with an interview date): cards whose next review falls on or after the
   interview day are reviewed on the last day before it (once: not again if already reviewed that
   day), so every card is seen once more in time.
5. **New** cards, topics interleaved (one card of each topic in turn, bank order within a topic);
   with an interview date, the new cards are spread evenly over the days left, all before the
   last day when there are two days or more, so each new card gets a second look.

:func:`make_plan` lays the same rules over every day until the interview, for
``gdcourse practice --until DATE --stats`` and notebook 10.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["DayPlan", "Plan", "REPEAT_BELOW", "interleave", "make_plan", "todays_queue", "study_days"]

REPEAT_BELOW = 4  # a grade below this brings the card back the same day (see flashcards)


@dataclass(frozen=True)
class DayPlan:
    """One day of the plan: cards to review (``reviews``) and to learn (``new``), by id."""

    day: _dt.date
    reviews: tuple[str, ...] = ()
    new: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.reviews) + len(self.new)


@dataclass(frozen=True)
class Plan:
    """Days from today to the day before the interview; ``ahead``: cards reviewed ahead of SM-2."""

    today: _dt.date
    until: _dt.date
    days: tuple[DayPlan, ...]
    ahead: tuple[str, ...] = field(default=())

    @property
    def days_left(self) -> int:
        return len(self.days)


def interleave(entries) -> list:
    """Entries with topics taken in turn: GD, VAR, OPT, … GD, VAR, … (bank order within a topic)."""
    by_topic = defaultdict(list)
    for entry in entries:
        by_topic[entry.topic].append(entry)
    queues = list(by_topic.values())
    out = []
    for rank in range(max((len(q) for q in queues), default=0)):
        out += [queue[rank] for queue in queues if rank < len(queue)]
    return out


def study_days(today: _dt.date, until: _dt.date) -> list[_dt.date]:
    """Today up to the day before the interview (just today when the interview is today or tomorrow)."""
    if not isinstance(until, _dt.date):
        raise TypeError(f"until: expected a datetime.date, got {type(until).__name__}")
    if until < today:
        raise ValueError(f"until: expected today ({today}) or a later date, got {until}")
    count = max(1, (until - today).days)
    return [today + _dt.timedelta(days=k) for k in range(count)]


def make_plan(entries, states: dict, today: _dt.date, until: _dt.date, *, again=(), missed=()) -> Plan:
    """Lay every selected card on a study day before ``until`` (rules in the module docstring).

    ``states``: card id -> :class:`~gdcourse.practice.sm2.CardState` (reviewed cards);
    ``again``: ids failed earlier today; ``missed``: ids missed in a test or mock interview.
    """
    days = study_days(today, until)
    last = days[-1]
    reviews = defaultdict(list)
    ahead = []
    new_entries = []
    forced = set(again) | set(missed)
    for entry in entries:
        state = states.get(entry.id)
        if entry.id in forced:
            reviews[today].append(entry.id)
        elif state is None:
            new_entries.append(entry)
        elif state.due is not None and state.due <= today:
            reviews[today].append(entry.id)
        elif state.due is not None and state.due > last:
            if state.last_review is None or state.last_review < last:  # not yet seen on the last day
                reviews[last].append(entry.id)
                ahead.append(entry.id)
        elif state.due is not None:
            reviews[state.due].append(entry.id)
    new_order = interleave(new_entries)
    learning_days = days[:-1] if len(days) > 1 else days
    per_day = math.ceil(len(new_order) / len(learning_days)) if new_order else 0
    new = defaultdict(list)
    for rank, entry in enumerate(new_order):
        day = learning_days[rank // per_day]
        new[day].append(entry.id)
        following = day + _dt.timedelta(days=1)  # SM-2's first interval after a pass is 1 day
        if following <= last:
            reviews[following].append(entry.id)
    plan_days = tuple(DayPlan(day, tuple(reviews[day]), tuple(new[day])) for day in days)
    return Plan(today, until, plan_days, tuple(ahead))


def todays_queue(entries, states: dict, today: _dt.date, limit: int, *, until=None, again=(),
                 missed=()) -> list[tuple[object, str]]:
    """The cards of today's session as (entry, reason) pairs, at most ``limit`` distinct cards.

    ``reason`` is ``"again"`` (failed earlier today), ``"missed"`` (missed in a test or mock
    interview), ``"due"``, ``"ahead"`` (reviewed before its SM-2 date because the interview
    comes first) or ``"new"``.
    """
    order = {entry.id: rank for rank, entry in enumerate(entries)}
    by_id = {entry.id: entry for entry in entries}
    again_ids = [i for i in again if i in by_id]
    missed_ids = [i for i in missed if i in by_id and i not in again_ids]
    taken = set(again_ids) | set(missed_ids)
    due = sorted((e for e in entries if e.id not in taken and e.id in states and states[e.id].is_due(today)),
                 key=lambda e: (states[e.id].due, order[e.id]))
    queue = [(by_id[i], "again") for i in again_ids] + [(by_id[i], "missed") for i in missed_ids]
    queue += [(e, "due") for e in due]
    if until is None:
        queue += [(e, "new") for e in interleave([e for e in entries if e.id not in states and e.id not in taken])]
    else:
        plan = make_plan(entries, states, today, until, again=again_ids, missed=missed_ids)
        first = plan.days[0]
        listed = {entry.id for entry, _ in queue}
        queue += [(by_id[i], "ahead") for i in first.reviews if i not in listed and i in plan.ahead]
        queue += [(by_id[i], "new") for i in first.new]
    return queue[:limit]
