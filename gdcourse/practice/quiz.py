"""The test mode: items that need knowledge, made from the bank and curated material with a seed.

Five kinds, each built so that matching words between the item and its options does not
find the answer (``tests/test_practice_quiz.py`` runs word-overlap guessers over many seeds):

- ``wrong_statement``: which of four statements about a question is wrong? Three are key
  points of that question, one is a curated false statement written in the same words
  (:mod:`~gdcourse.practice.items`); so every distractor is true and the answer is false by
  construction.
- ``true_false``: one claim about a question, a key point or a curated false statement
  (equal chance): is it true?
- ``number``: type a number; right within the stated tolerance.
- ``formula``: type a formula in the given variables; right when it is the same function
  as the answer, in any notation (:mod:`~gdcourse.practice.formula`).
- ``order``: put shuffled steps back in order (type their numbers).

A test takes at most one item per question, so no question, statement or mistake is
repeated within it. The seed is shown so the same test can be replayed with ``--seed``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from gdcourse.practice.formula import same_formula
from gdcourse.practice.items import load_material
from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries, shuffled
from gdcourse.validate import as_rng, check_positive_int, is_seed

__all__ = ["KINDS", "KIND_NAMES", "TYPED", "TestItem", "TestSession", "count_test_items", "item_makers",
           "make_test_items", "parse_order"]

KINDS = ("wrong_statement", "true_false", "number", "formula", "order")
KIND_NAMES = {"wrong_statement": "which is wrong?", "true_false": "true or false?", "number": "type a number",
              "formula": "type a formula", "order": "put in order"}
TYPED = ("number", "formula", "order")


@dataclass(frozen=True)
class TestItem:
    """One automatically scored item.

    ``options`` are the choices (``wrong_statement``, ``true_false``) or the shuffled steps
    (``order``); ``correct`` is the right option's index, or for ``order`` the option indices
    in the right order; ``answer``/``tolerance`` are set for ``number``.
    """

    __test__ = False  # not a pytest class

    entry_id: str
    topic: str
    kind: str
    question: str
    options: tuple[str, ...]
    correct: int | tuple[int, ...]
    explanation: str
    answer: float | None = None
    tolerance: float = 0.0
    formula: str = ""
    variables: tuple[str, ...] = ()

    @property
    def chance(self) -> float:
        """Probability of a blind guess being right (0 for a typed number)."""
        if self.kind in ("number", "formula"):
            return 0.0
        if self.kind == "order":
            count = 1
            for k in range(2, len(self.options) + 1):
                count *= k
            return 1 / count
        return 1 / len(self.options)

    def check(self, reply) -> bool:
        """Is ``reply`` right? An option index, a number (``number``) or an order (``order``).

        Raises ValueError naming the expected form when ``reply`` cannot be read.
        """
        if self.kind == "number":
            value = _number(reply)
            return abs(value - self.answer) <= self.tolerance + 1e-12 * abs(self.answer)
        if self.kind == "formula":
            return same_formula(str(reply), self.formula, self.variables)
        if self.kind == "order":
            return tuple(parse_order(reply, len(self.options))) == self.correct
        if isinstance(reply, bool) or not isinstance(reply, int) or not 0 <= reply < len(self.options):
            raise ValueError(f"option: expected an int from 0 to {len(self.options) - 1}, got {reply!r}")
        return reply == self.correct

    def right_answer(self) -> str:
        """The right answer as text."""
        if self.kind == "number":
            return f"{self.answer:g}"
        if self.kind == "formula":
            return self.formula
        if self.kind == "order":
            return " ".join(str(i + 1) for i in self.correct)
        return self.options[self.correct]


def _number(reply) -> float:
    if isinstance(reply, (int, float)) and not isinstance(reply, bool):
        return float(reply)
    text = str(reply).strip().replace(",", "").replace("_", "").rstrip("%")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"answer: expected a number such as 0.25 or 1e-3, got {reply!r}") from None


def parse_order(reply, count: int) -> list[int]:
    """``"3 1 2"``, ``"3,1,2"``, ``"312"`` or a sequence -> 0-based indices, a permutation of ``count``."""
    if isinstance(reply, str):
        parts = re.split(r"[\s,]+", reply.strip()) if re.search(r"[\s,]", reply.strip()) else list(reply.strip())
    else:
        parts = [str(int(x) + 1) for x in reply]
    if not all(p.isdigit() for p in parts) or sorted(int(p) for p in parts) != list(range(1, count + 1)):
        raise ValueError(f"order: expected the numbers 1 to {count}, each once (e.g. "
                         f"{' '.join(str(i) for i in range(count, 0, -1))}), got {reply!r}")
    return [int(p) - 1 for p in parts]


# ---------------------------------------------------------------------- item makers
def _wrong_statement(entry, material, rng, number=None) -> TestItem | None:
    false = material.false.get(entry.id, ())
    if not false or len(entry.key_points) < 4:
        return None
    wrong = false[int(rng.integers(len(false)))]
    # A false statement is a key point with a small change: never show it beside that key point,
    # where the near-duplicate pair would give it away.
    twin = max(entry.key_points, key=lambda point: _shared_words(point, wrong))
    true = shuffled([point for point in entry.key_points if point != twin], rng)[:3]
    options = shuffled([*true, wrong], rng)
    return TestItem(entry.id, entry.topic, "wrong_statement",
                    f"Which statement about this question is WRONG?\n{entry.prompt}", tuple(options),
                    options.index(wrong), f"{entry.id}'s key points: " + "; ".join(entry.key_points) + ".")


def _shared_words(a: str, b: str) -> float:
    """Jaccard similarity of the word sets of ``a`` and ``b``."""
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(1, len(wa | wb))


def _true_false(entry, material, rng, number=None) -> TestItem | None:
    false = material.false.get(entry.id, ())
    if not false:
        return None
    truth = bool(rng.integers(2))
    claim = entry.key_points[int(rng.integers(len(entry.key_points)))] if truth else \
        false[int(rng.integers(len(false)))]
    verdict = "true: it is one of the key points" if truth else "false"
    return TestItem(entry.id, entry.topic, "true_false",
                    f"True or false? About the question \"{entry.prompt}\":\n{claim}", ("True", "False"),
                    0 if truth else 1, f"The claim is {verdict}. {entry.id}'s key points: "
                    + "; ".join(entry.key_points) + ".")


def _number_item(entry, material, rng, number) -> TestItem:
    return TestItem(entry.id, entry.topic, "number", number.prompt, (), -1, number.explanation,
                    answer=number.answer, tolerance=number.tolerance)


def _formula_item(entry, material, rng, formula) -> TestItem:
    question = f"{formula.prompt}\n(Type it with {', '.join(formula.variables)}; e.g. 2/(a + 1), a^2, s(1 - s).)"
    return TestItem(entry.id, entry.topic, "formula", question, (), -1, formula.explanation,
                    formula=formula.answer, variables=formula.variables)


def _order_item(entry, material, rng, order) -> TestItem:
    positions = [int(i) for i in rng.permutation(len(order.steps))]
    if positions == sorted(positions):  # never show the steps already in order
        positions = positions[1:] + positions[:1]
    options = tuple(order.steps[i] for i in positions)
    correct = tuple(positions.index(i) for i in range(len(order.steps)))
    return TestItem(entry.id, entry.topic, "order", order.prompt, options, correct,
                    "Right order: " + " -> ".join(order.steps))


def item_makers(pool, material) -> dict[str, list]:
    """entry id -> the (kind, maker, extra) triples that can make an item for it.

    ``maker(entry, material, rng, extra)`` returns a :class:`TestItem` of that kind.
    """
    ids = {entry.id for entry in pool}
    makers = defaultdict(list)
    for entry in pool:
        if material.false.get(entry.id):
            makers[entry.id].append(("true_false", _true_false, None))
            if len(entry.key_points) >= 4:
                makers[entry.id].append(("wrong_statement", _wrong_statement, None))
    for number in material.numbers:
        if number.entry_id in ids:
            makers[number.entry_id].append(("number", _number_item, number))
    for order in material.orders:
        if order.entry_id in ids:
            makers[order.entry_id].append(("order", _order_item, order))
    for formula in material.formulas:
        if formula.entry_id in ids:
            makers[formula.entry_id].append(("formula", _formula_item, formula))
    return makers


def _build_items(bank, pool, material, rng, n) -> list[TestItem]:
    """At most one item per question: questions in random order, a random kind for each."""
    makers = item_makers(pool, material)
    entries = [entry for entry in pool if entry.id in makers]
    items = []
    for entry in shuffled(entries, rng):
        if n is not None and len(items) == n:
            break
        choices = makers[entry.id]
        _, maker, extra = choices[int(rng.integers(len(choices)))]
        items.append(maker(entry, material, rng, extra))
    return items


def make_test_items(bank, n: int, topics=None, levels=None, rng=None, material=None) -> list[TestItem]:
    """``n`` seeded items, at most one per question (see the module docstring for the kinds).

    ``material`` defaults to :func:`~gdcourse.practice.items.load_material` of ``bank``.
    Raises ValueError when fewer than ``n`` items can be made (see :func:`count_test_items`).
    """
    n = check_positive_int(n, "n")
    material = material if material is not None else load_material(bank)
    items = _build_items(bank, select_entries(bank, topics, levels), material, as_rng(rng), n)
    if len(items) < n:
        raise ValueError(f"n: expected at most {len(items)} test items (that many can be made from the "
                         f"selected questions), got {n}")
    return items


def count_test_items(bank, topics=None, levels=None, material=None) -> int:
    """How many items :func:`make_test_items` can make for these filters (one per question)."""
    material = material if material is not None else load_material(bank)
    return len(item_makers(select_entries(bank, topics, levels), material))


class TestSession:
    """A seeded test of ``n`` items, scored as it goes and stored if a store is given."""

    __test__ = False

    def __init__(self, bank, *, n: int = 10, topics=None, levels=None, rng=None, store=None, material=None):
        self.items = make_test_items(bank, n, topics, levels, rng, material)
        self.store = store
        self.answers: list[tuple[object, bool]] = []  # (reply, correct)
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

    def answer(self, reply) -> bool:
        """Answer the current item (option index, number or order); store it; return whether it was right.

        A reply that cannot be read raises ValueError and is not recorded.
        """
        item = self.current
        if item is None:
            raise RuntimeError("the test is finished: no current item")
        correct = item.check(reply)
        self.answers.append((reply, correct))
        if self.store is not None:
            if self.session_id is None:
                self.session_id = self.store.start_session("test", self.settings)
            chosen = item.options[reply] if item.kind not in TYPED else str(reply)
            self.store.record_test_answer(self.session_id, item.entry_id, item.topic, kind=item.kind,
                                          chosen=chosen, correct=correct)
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
