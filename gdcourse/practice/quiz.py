"""The test mode: multiple-choice and true/false items made from the bank with a seed, scored at once.

Key-point items ask which option is a key point of a question's answer;
true/false items ask whether a common mistake belongs to a question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries, shuffled
from gdcourse.validate import as_rng, check_positive_int, is_seed

__all__ = ["TestItem", "TestSession", "count_test_items", "make_test_items"]


@dataclass(frozen=True)
class TestItem:
    """One automatically scored item.

    ``kind`` is ``"key_point"`` (which option is a key point of this question's
    answer?) or ``"mistake"`` (true or false: this common mistake is about this
    question?). ``correct`` indexes ``options``.
    """

    __test__ = False  # not a pytest class

    entry_id: str
    topic: str
    kind: str
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str


def _key_point_item(entry, bank, rng) -> TestItem | None:
    own = {point.casefold() for point in entry.key_points}
    same, other = [], []
    for candidate in bank:
        if candidate.id == entry.id or candidate.id == entry.parent or candidate.parent == entry.id:
            continue  # a parent's or follow-up's points may overlap in meaning
        target = same if candidate.topic == entry.topic else other
        target += [p for p in candidate.key_points if p.casefold() not in own]
    same = list(dict.fromkeys(same))
    other = [p for p in dict.fromkeys(other) if p not in same]
    distractors = shuffled(same, rng)[:3]
    distractors += shuffled(other, rng)[: 3 - len(distractors)]
    if not distractors:
        return None
    answer = entry.key_points[int(rng.integers(len(entry.key_points)))]
    options = shuffled([answer, *distractors], rng)
    return TestItem(entry.id, entry.topic, "key_point",
                    f"Which of these is a key point of a good answer to: {entry.prompt}",
                    tuple(options), options.index(answer),
                    f"{entry.id}'s key points: " + "; ".join(entry.key_points) + ".")


def _mistake_item(entry, bank, rng) -> TestItem | None:
    if not entry.common_mistake:
        return None
    others = [e for e in bank if e.topic == entry.topic and e.id != entry.id
              and e.parent != entry.id and e.id != entry.parent]
    truth = not others or bool(rng.integers(2))
    shown = entry if truth else others[int(rng.integers(len(others)))]
    mistake = " ".join(entry.common_mistake.split())  # the bank wraps long text over several lines
    question = f"True or false? This common mistake is about the question \"{shown.prompt}\":\n{mistake}"
    return TestItem(entry.id, entry.topic, "mistake", question, ("True", "False"), 0 if truth else 1,
                    f"It is about {entry.id}: {entry.prompt}")


def make_test_items(bank, n: int, topics=None, levels=None, rng=None) -> list[TestItem]:
    """``n`` seeded items, at most one per entry until every entry has one.

    Key-point items take their distractors from other entries of the same topic
    (from other topics only when the topic has too few); true/false items are made
    from entries with a ``common_mistake``, true or false with equal chance.
    Raises ValueError when fewer than ``n`` items can be made (see :func:`count_test_items`).
    """
    n = check_positive_int(n, "n")
    items = _build_items(bank, select_entries(bank, topics, levels), as_rng(rng), n)
    if len(items) < n:
        raise ValueError(f"n: expected at most {len(items)} test items (that many can be made from the "
                         f"selected questions), got {n}")
    return items


def count_test_items(bank, topics=None, levels=None) -> int:
    """How many distinct items :func:`make_test_items` can make for these filters."""
    return len(_build_items(bank, select_entries(bank, topics, levels), as_rng(0), None))


def _build_items(bank, pool, rng, n) -> list[TestItem]:
    makers = [(entry, maker) for entry in pool for maker in (_key_point_item, _mistake_item)
              if maker is _key_point_item or entry.common_mistake]
    first, second, seen = [], [], set()  # one item per entry first, then the second kinds
    for entry, maker in shuffled(makers, rng):
        (second if entry.id in seen else first).append((entry, maker))
        seen.add(entry.id)
    items = []
    for entry, maker in first + second:
        if n is not None and len(items) == n:
            break
        item = maker(entry, bank, rng)
        if item is not None:
            items.append(item)
    return items


class TestSession:
    """A seeded test of ``n`` items, scored as it goes and stored if a store is given."""

    __test__ = False

    def __init__(self, bank, *, n: int = 10, topics=None, levels=None, rng=None, store=None):
        self.items = make_test_items(bank, n, topics, levels, rng)
        self.store = store
        self.answers: list[tuple[int, bool]] = []  # (chosen option, correct)
        self.session_id: int | None = None
        self.seed = int(rng) if is_seed(rng) else None
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "n": n, "seed": self.seed}
        self._closed = False

    @property
    def current(self) -> TestItem | None:
        return self.items[len(self.answers)] if len(self.answers) < len(self.items) else None

    @property
    def finished(self) -> bool:
        return self.current is None

    @property
    def score(self) -> int:
        return sum(correct for _, correct in self.answers)

    def answer(self, option: int) -> bool:
        """Answer the current item with an option index; store it; return whether it was right."""
        item = self.current
        if item is None:
            raise RuntimeError("the test is finished: no current item")
        if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < len(item.options):
            raise ValueError(f"option: expected an int from 0 to {len(item.options) - 1}, got {option!r}")
        correct = option == item.correct
        self.answers.append((option, correct))
        if self.store is not None:
            if self.session_id is None:
                self.session_id = self.store.start_session("test", self.settings)
            self.store.record_test_answer(self.session_id, item.entry_id, item.topic, kind=item.kind,
                                          chosen=item.options[option], correct=correct)
        return correct

    def summary(self) -> dict:
        by_topic = defaultdict(lambda: [0, 0])
        for item, (_, correct) in zip(self.items, self.answers, strict=False):
            by_topic[item.topic][0] += int(correct)
            by_topic[item.topic][1] += 1
        wrong = [item.entry_id for item, (_, ok) in zip(self.items, self.answers, strict=False) if not ok]
        return {"score": self.score, "answered": len(self.answers), "items": len(self.items),
                "by_topic": {topic: tuple(value) for topic, value in by_topic.items()}, "wrong": wrong,
                "seed": self.seed}

    def close(self, status: str | None = None) -> dict:
        summary = self.summary()
        if not self._closed and self.session_id is not None and self.store is not None:
            self.store.finish_session(self.session_id, summary,
                                      status=status or ("finished" if self.finished else "interrupted"))
            self._closed = True
        return summary
