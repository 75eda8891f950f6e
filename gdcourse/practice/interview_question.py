"""One question of a mock interview and what happened to it; the hint ladder's texts.

A key point a hint pointed at and the answer then covered is credited "with
hint" (:data:`WITH_HINT_CREDIT` of a point) and never listed as missed. The
ladder has :data:`HINT_RUNGS` rungs per key point: a nudge, the key words, the
point itself (:func:`hint_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdcourse.practice.judge import Judge, Verdict

__all__ = ["HINT_RUNGS", "WITH_HINT_CREDIT", "InterviewQuestion", "hint_text"]

HINT_RUNGS = 3  # per key point: 1 a nudge, 2 the key words, 3 the point itself
WITH_HINT_CREDIT = 0.5


def hint_text(judge: Judge, entry, point: int, rung: int, asked: tuple[int, ...]) -> str:
    """The hint of ``rung`` (1-3) for key point ``point``; rungs 1 and 2 do not state the point.

    1: which point is missing and the rubric's cue (a question that points at it);
    2: the key words the judge looks for; 3: the key point itself.
    """
    position = f"key point {asked.index(point) + 1} of {len(asked)}"
    if rung == 1:
        return f"Your answer still misses {position}. {judge.cue(entry, point)}"
    if rung == 2:
        words = judge.key_words(entry, point)
        if words:
            return f"Key words for {position}: {', '.join(words)}."
        first = " ".join(entry.key_points[point].split()[:2])
        return f"{position.capitalize()} starts with: {first} ..."
    return f"Key point: {entry.key_points[point]}"


@dataclass
class InterviewQuestion:
    """One question of a mock interview and what happened to it.

    ``kind`` is ``"main"``, ``"follow-up"`` (the bank's follow-up, after a good
    answer) or ``"probe"`` (the same question again, asking only for the key
    points a weak answer missed). ``points`` are the key points asked (0-based;
    all of them except for a probe). A key point a hint pointed at and the answer
    then covered is credited "with hint" (:data:`WITH_HINT_CREDIT`), never listed as missed.
    """

    entry: object
    follow_up_of: str | None = None
    suggested_seconds: int = 120
    started: float | None = None
    stopped: float | None = None
    revealed: bool = False
    covered: tuple[int, ...] | None = None  # indices into entry.key_points; None until answered
    kind: str = "main"
    points: tuple[int, ...] = ()
    prompt: str = ""
    typed: str = ""
    verdict: Verdict | None = None
    hints: list[dict] = field(default_factory=list)  # {"rung", "point", "text"} in the order shown
    overridden: bool = False

    def __post_init__(self):
        self.points = tuple(self.points) or tuple(range(len(self.entry.key_points)))
        self.prompt = self.prompt or self.entry.prompt

    @property
    def answered(self) -> bool:
        return self.covered is not None

    @property
    def hint_used(self) -> bool:
        return bool(self.hints)

    @property
    def hinted(self) -> tuple[int, ...]:
        """Key points a hint pointed at."""
        return tuple(sorted({hint["point"] for hint in self.hints}))

    @property
    def counted(self) -> tuple[int, ...]:
        """Covered key points that count in full (no hint pointed at them)."""
        return tuple(i for i in (self.covered or ()) if i not in self.hinted)

    @property
    def with_hint(self) -> tuple[int, ...]:
        """Covered key points a hint pointed at."""
        return tuple(i for i in (self.covered or ()) if i in self.hinted)

    @property
    def score(self) -> float | None:
        """(full points + :data:`WITH_HINT_CREDIT` x points with hint) / points asked."""
        if self.covered is None:
            return None
        return (len(self.counted) + WITH_HINT_CREDIT * len(self.with_hint)) / len(self.points)

    @property
    def seconds(self) -> float:
        if self.started is None or self.stopped is None:
            return 0.0
        return self.stopped - self.started

    @property
    def missed(self) -> list[str]:
        """Key points asked and not covered (a point covered with a hint is not missed)."""
        return [self.entry.key_points[i] for i in self.points if i not in (self.covered or ())]

    def record(self) -> dict:
        """This answer as the summary and the saved report hold it."""
        points, verdict = self.entry.key_points, self.verdict
        return {"id": self.entry.id, "topic": self.entry.topic, "level": self.entry.level, "kind": self.kind,
                "prompt": self.prompt, "score": self.score, "seconds": self.seconds,
                "suggested": self.suggested_seconds, "hint_used": self.hint_used, "hints": list(self.hints),
                "follow_up": self.kind != "main", "typed": self.typed,
                "covered_points": [points[i] for i in self.counted],
                "hinted_points": [points[i] for i in self.with_hint], "missed": self.missed,
                "misconceptions": list(verdict.misconceptions) if verdict else [],
                "proposed_grade": verdict.grade_for(self.points) if verdict and verdict.judged else None,
                "overridden": self.overridden}
