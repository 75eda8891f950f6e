"""Judge a typed answer against a question's key points, offline and deterministic.

Each key point of the bank has a rubric (``gdcourse/bank/rubrics/<topic>.toml``,
format in that folder's ``README.md``): the concepts an answer must name, each
with its alternative phrasings, formulas in any notation and numbers with a
tolerance, and the statements that must *not* be made (a misconception voids the
point and fails the answer). Text is compared after :mod:`~gdcourse.practice.textnorm`
(case, Greek letters and LaTeX to names, light stemming); a phrase preceded by a
negation in the same sentence ("does *not* damp oscillation") does not count.

Use::

    judge = Judge.default()              # the bank's rubrics
    verdict = judge.score(entry, text)   # -> Verdict
    verdict.covered, verdict.proposed_grade, verdict.passed, verdict.missing

The proposed grade is on SM-2's 0-5 scale (:func:`propose_grade`); the candidate
may override it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gdcourse.practice.rubrics import Concept, PointRubric, Rubric, load_rubrics
from gdcourse.practice.textnorm import compact, numbers, to_ascii, words

__all__ = ["NEGATION_WINDOW", "PASS_FRACTION", "Judge", "PointVerdict", "Verdict", "propose_grade"]

PASS_FRACTION = 0.7  # share of key points an answer must cover to pass (the interview's follow-up threshold)
NEGATION_WINDOW = 3  # a negation this many words before a phrase, in the same sentence, cancels it


@dataclass(frozen=True)
class PointVerdict:
    """What the judge found for one key point."""

    index: int
    key_point: str
    covered: bool
    found: tuple[str, ...] = ()  # the phrasings that matched, one per concept found
    lacking: tuple[str, ...] = ()  # first phrasing of each concept not found
    misconception: str = ""  # the forbidden statement the answer made, if any


@dataclass(frozen=True)
class Verdict:
    """The judge's reading of one typed answer.

    ``judged`` is False when the question has no usable rubric (then nothing is
    marked covered and ``note`` says why; the candidate ticks the points).
    """

    question_id: str
    text: str
    points: tuple[PointVerdict, ...]
    judged: bool = True
    note: str = ""

    @property
    def covered(self) -> tuple[int, ...]:
        """0-based indices of the key points the answer covers."""
        return tuple(p.index for p in self.points if p.covered)

    @property
    def fraction(self) -> float:
        return len(self.covered) / len(self.points) if self.points else 0.0

    @property
    def misconceptions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.misconception for p in self.points if p.misconception))

    @property
    def missing(self) -> tuple[str, ...]:
        """Key points (their text) the answer does not cover."""
        return tuple(p.key_point for p in self.points if not p.covered)

    @property
    def proposed_grade(self) -> int:
        return propose_grade(self.text, self.fraction, bool(self.misconceptions))

    @property
    def passed(self) -> bool:
        return self.proposed_grade >= 4

    def grade_for(self, points) -> int:
        """The proposed grade counting only the key points ``points`` (0-based) that were asked.

        A probe asks again only for the points a weak answer missed: its typed
        answer is graded on those, not on all the question's points.
        """
        points = tuple(points)
        if not points:
            return self.proposed_grade
        fraction = sum(1 for i in self.covered if i in points) / len(points)
        return propose_grade(self.text, fraction, bool(self.misconceptions))


def propose_grade(text: str, fraction: float, misconception: bool) -> int:
    """SM-2 grade (0-5) from the share of key points covered.

    0: nothing typed; 1: text but no key point; 2: some; 3: at least half;
    4: at least :data:`PASS_FRACTION`; 5: all. A misconception caps the grade at
    2 (a fail), whatever else the answer covers.
    """
    if not text.strip():
        return 0
    grade = 5 if fraction >= 1 else 4 if fraction >= PASS_FRACTION else 3 if fraction >= 0.5 else \
        2 if fraction > 0 else 1
    return min(grade, 2) if misconception else grade


class _Answer:
    """An answer in the three forms the rubric compares against."""

    def __init__(self, text: str):
        self.tokens = words(text)
        self.plain = to_ascii(text).lower()
        self.compact = compact(text)
        self.numbers = numbers(text)


def _phrase_positions(tokens: list[str], phrase: tuple[str, ...], max_gap: int = 2):
    """Start indices where ``phrase``'s tokens appear in order, at most ``max_gap`` tokens apart, in one sentence."""
    for start, token in enumerate(tokens):
        if token != phrase[0]:
            continue
        position, ok = start, True
        for word in phrase[1:]:
            window = tokens[position + 1: position + 2 + max_gap]
            if word not in window or "." in window[: window.index(word)]:
                ok = False
                break
            position += 1 + window.index(word)
        if ok:
            yield start


def _negated(tokens: list[str], start: int) -> bool:
    before = tokens[max(0, start - NEGATION_WINDOW): start]
    if "." in before:
        before = before[len(before) - before[::-1].index("."):]
    return "not" in before


def _matches(alternative, answer: _Answer, max_gap: int = 2) -> bool:
    """Whether the answer says ``alternative``; phrases may have ``max_gap`` extra words between their words."""
    kind, value = alternative
    if kind == "number":
        target, tolerance = value
        return any(abs(x - target) <= tolerance for x in answer.numbers)
    if kind == "formula":
        return value in answer.compact
    if kind == "regex":
        return re.search(value, answer.plain) is not None
    positions = _phrase_positions(answer.tokens, value, max_gap)
    if value and value[0] == "not":  # the phrase itself is a negation ("not convex"): no negation check
        return any(True for _ in positions)
    return any(not _negated(answer.tokens, start) for start in positions)


def _concept_found(concept: Concept, answer: _Answer, max_gap: int = 2) -> str:
    """The first phrasing of ``concept`` the answer uses, or ''."""
    for label, alternative in zip(concept.labels, concept.alternatives, strict=True):
        if _matches(alternative, answer, max_gap):
            return label
    return ""


def judge_point(index: int, key_point: str, rubric: PointRubric, answer: _Answer) -> PointVerdict:
    """Covered when at least ``rubric.need_count`` concepts are found and no forbidden statement is."""
    found, lacking = [], []
    for concept in rubric.need:
        label = _concept_found(concept, answer)
        (found if label else lacking).append(label or concept.labels[0])
    # a forbidden statement must be said as written (no extra words inside it), or it would catch right answers
    wrong = next((c.labels[0] for c in rubric.forbid if _concept_found(c, answer, max_gap=0)), "")
    covered = len(found) >= rubric.need_count and not wrong
    return PointVerdict(index, key_point, covered, tuple(found), tuple(lacking), wrong)


class Judge:
    """Scores typed answers with a table of rubrics (question id -> :class:`Rubric`)."""

    def __init__(self, rubrics: dict[str, Rubric]):
        if not isinstance(rubrics, dict):
            raise TypeError(f"rubrics: expected a dict of question id -> Rubric, got {type(rubrics).__name__}")
        self.rubrics = rubrics
        self._fits: dict[tuple[str, str], bool] = {}

    @classmethod
    def default(cls) -> Judge:
        """The judge over the bank's rubric files (``gdcourse/bank/rubrics``), loaded once."""
        global _DEFAULT
        if _DEFAULT is None:
            _DEFAULT = cls(load_rubrics())
        return _DEFAULT

    def rubric_for(self, entry) -> tuple[Rubric | None, str]:
        """The entry's rubric and '' when usable; else None and the reason, for the candidate.

        Usable means: one rubric point per key point, and the entry's own model
        answer covers every point (so a rubric that no longer fits an edited
        answer, or belongs to another bank's question of the same id, is not used).
        """
        rubric = self.rubrics.get(entry.id)
        if rubric is None:
            return None, f"no rubric for {entry.id}: tick the key points you covered yourself"
        if len(rubric.points) != len(entry.key_points):
            return None, (f"the rubric of {entry.id} has {len(rubric.points)} point(s) but the question has "
                          f"{len(entry.key_points)}: tick the key points you covered yourself")
        key = (entry.id, entry.answer)
        if key not in self._fits:
            model = _Answer(entry.answer)
            self._fits[key] = all(judge_point(i, "", rule, model).covered for i, rule in enumerate(rubric.points))
        if not self._fits[key]:
            return None, (f"the rubric of {entry.id} does not fit its model answer: tick the key points you "
                          f"covered yourself")
        return rubric, ""

    def score(self, entry, text: str) -> Verdict:
        """Judge ``text`` (the candidate's typed answer) against ``entry``'s key points."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected the typed answer as str, got {type(text).__name__}")
        rubric, note = self.rubric_for(entry)
        if rubric is None:
            points = tuple(PointVerdict(i, point, False) for i, point in enumerate(entry.key_points))
            return Verdict(entry.id, text, points, judged=False, note=note)
        answer = _Answer(text)
        points = tuple(judge_point(i, point, rule, answer)
                       for i, (point, rule) in enumerate(zip(entry.key_points, rubric.points, strict=True)))
        wrong = next((c.labels[0] for c in rubric.wrong if _concept_found(c, answer, max_gap=0)), "")
        if wrong:  # a question-level misconception fails the answer; it is shown on the first point
            first = points[0]
            points = (PointVerdict(first.index, first.key_point, False, first.found, first.lacking, wrong),
                      *points[1:])
        return Verdict(entry.id, text, points)

    def cue(self, entry, index: int) -> str:
        """A nudge towards key point ``index`` that does not state it.

        The rubric's ``cue`` when it has one; else the point's own heading when it
        is a short label ("Too small: ..." -> "Think about: too small."); else the
        first of the several words the point needs; else a pointer to the part of
        the question not answered yet.
        """
        rubric, _ = self.rubric_for(entry)
        if rubric is not None and rubric.points[index].cue:
            return rubric.points[index].cue
        label, colon, _ = entry.key_points[index].partition(":")
        if colon and len(label.split()) <= 3:
            return f"Think about: {label.strip()}."
        words = self.key_words(entry, index)
        if rubric is not None and len(rubric.points[index].need) >= 2 and words:
            return f"Think about: {words[0]}."  # one of several things the point needs, not the point
        return "Reread the question: one of the things it asks for is not in your answer yet."

    def key_words(self, entry, index: int) -> tuple[str, ...]:
        """The words the judge looks for in key point ``index`` (first phrasing of each concept)."""
        rubric, _ = self.rubric_for(entry)
        if rubric is None:
            return ()
        # phrases only (a formula or number would often be the key point itself), at most three
        labels = [concept.labels[0] for concept in rubric.points[index].need if concept.alternatives[0][0] == "phrase"]
        text = f"{entry.key_points[index]} {entry.answer}"
        return tuple(dict.fromkeys(_complete(label, text) for label in labels))[:3]


def _complete(label: str, text: str) -> str:
    """A rubric label as a reader expects it: a stem written for matching ("saturat") completed
    from the question's own text ("saturation"); unchanged when the text has no such word."""
    head, _, last = label.rpartition(" ")
    match = re.search(rf"\b{re.escape(last)}\w*", text, flags=re.IGNORECASE)
    word = match.group(0) if match else last
    return f"{head} {word}".strip()


_DEFAULT: Judge | None = None
