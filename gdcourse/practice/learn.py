"""Learn mode: each card is asked in changing forms until it has been answered right twice.

A *round* holds up to ``n`` cards (topics interleaved, in a seeded order). Each card is asked
as one of the item kinds it has: ``recall`` (say the answer, reveal the key points, say
whether you had them) for every card, plus the test kinds its curated material allows
(``true_false``, ``wrong_statement``, ``number``, ``formula``, ``order``; see :mod:`~gdcourse.practice.quiz`).
The next time a card comes up it is asked in a kind it was not just asked in, when it has
another. A right answer counts one step towards ``GOAL`` = 2; a wrong answer resets nothing
but brings the card back after ``GAP`` other cards. The round ends when every card has two
right answers. Every answer is stored (mode ``learn``) and a wrong one makes the card due in
the flashcards (see :mod:`~gdcourse.practice.record`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from gdcourse.practice.items import load_material
from gdcourse.practice.plan import interleave
from gdcourse.practice.quiz import TestItem, item_makers
from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries, shuffled
from gdcourse.validate import as_rng, check_positive_int, is_seed

__all__ = ["GAP", "GOAL", "LearnSession", "LearnStep"]

GOAL = 2
GAP = 2


@dataclass(frozen=True)
class LearnStep:
    """What is on screen: the card's entry, and either a test item or ``None`` for a recall question."""

    entry: object
    item: TestItem | None

    @property
    def kind(self) -> str:
        return "recall" if self.item is None else self.item.kind


class LearnSession:
    """A seeded Learn round over up to ``n`` cards; see the module docstring for the rules."""

    def __init__(self, bank, *, n: int = 10, topics=None, levels=None, rng=None, store=None, material=None):
        self.rng = as_rng(rng)
        self.seed = int(rng) if is_seed(rng) else None
        self.material = material if material is not None else load_material(bank)
        entries = select_entries(bank, topics, levels)
        if not entries:
            raise ValueError("topics/levels: no question matches these filters")
        chosen = interleave(shuffled(entries, self.rng))[: check_positive_int(n, "n")]
        self.makers = item_makers(chosen, self.material)
        self.cards = chosen
        self.right = {entry.id: 0 for entry in chosen}
        self.last_kind: dict[str, str] = {}
        self.queue = deque(chosen)
        self.answers: list[tuple[str, str, bool]] = []  # (card id, kind, right)
        self.store = store
        self.session_id: int | None = None
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "n": n, "seed": self.seed}
        self.current = self._next_step()

    @property
    def finished(self) -> bool:
        return self.current is None

    @property
    def learned(self) -> int:
        """Cards answered right ``GOAL`` times."""
        return sum(count >= GOAL for count in self.right.values())

    def _next_step(self) -> LearnStep | None:
        if not self.queue:
            return None
        entry = self.queue[0]
        kinds = [("recall", None, None), *self.makers.get(entry.id, [])]
        fresh = [k for k in kinds if k[0] != self.last_kind.get(entry.id)] or kinds
        kind, maker, extra = fresh[int(self.rng.integers(len(fresh)))]
        item = None if kind == "recall" else maker(entry, self.material, self.rng, extra)
        return LearnStep(entry, item)

    def answer(self, reply) -> bool:
        """Answer the current step: for ``recall`` a bool (I had the key points), else as in the test mode.

        Stores the answer; returns whether it was right. Raises ValueError for an unreadable reply.
        """
        step = self.current
        if step is None:
            raise RuntimeError("the Learn round is finished: no current card")
        if step.item is None:
            if not isinstance(reply, bool):
                raise ValueError(f"reply: expected True or False for a recall card, got {reply!r}")
            right = reply
        else:
            right = step.item.check(reply)
        entry = self.queue.popleft()
        self.answers.append((entry.id, step.kind, right))
        self.last_kind[entry.id] = step.kind
        self.right[entry.id] += int(right)
        if self.right[entry.id] < GOAL:
            position = min(len(self.queue), GAP if not right else len(self.queue))
            self.queue.insert(position, entry)
        self._store(entry, step, reply, right)
        self.current = self._next_step()
        return right

    def _store(self, entry, step, reply, right) -> None:
        if self.store is None:
            return
        if self.session_id is None:
            self.session_id = self.store.start_session("learn", self.settings)
        if step.item is not None and step.kind in ("true_false", "wrong_statement"):  # the others are typed
            chosen = step.item.options[reply]
        else:
            chosen = str(reply)
        self.store.record_test_answer(self.session_id, entry.id, entry.topic, kind=f"learn:{step.kind}",
                                      chosen=chosen, correct=right)

    def summary(self) -> dict:
        wrong = sorted({card for card, _, right in self.answers if not right})
        return {"cards": len(self.cards), "learned": self.learned, "answers": len(self.answers),
                "right": sum(right for *_, right in self.answers), "missed_once": wrong, "seed": self.seed}

    def close(self, status: str | None = None) -> dict:
        summary = self.summary()
        if self.session_id is not None and self.store is not None:
            self.store.finish_session(self.session_id, summary,
                                      status=status or ("finished" if self.finished else "interrupted"))
            self.session_id = None
        return summary
