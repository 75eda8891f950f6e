"""The mock interview's summary: scores by topic, what to review, hints used, time and typed answers.

:class:`InterviewSummary` is what the candidate sees at the end and what is saved
(as a dict in the progress store and as a Markdown report). Kept apart from the
engine (:mod:`gdcourse.practice.interview`) so the report format can change
without touching the interview's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdcourse.bank import TOPICS
from gdcourse.practice.selection import format_seconds

__all__ = ["InterviewSummary"]


@dataclass
class InterviewSummary:
    """What the candidate sees (and finds in the saved report) at the end.

    ``by_topic`` maps topic -> (mean score, number of answers); ``weakest`` lists up to
    three topics scoring below the follow-up threshold, weakest first; ``review``
    lists every answer below it with the missed key points and the notebook section.
    ``questions`` holds one dict per answer: id, kind (main, follow-up, probe),
    score, seconds, hints used (each with its text), the points credited with a
    hint, and the typed answer.
    """

    answered: int
    planned: int
    score: float | None
    by_topic: dict[str, tuple[float, int]]
    weakest: list[str]
    review: list[dict]
    seconds: float
    status: str = "finished"
    started: str = ""
    seed: int | None = None
    questions: list[dict] = field(default_factory=list)

    @property
    def hints_used(self) -> int:
        """Hints shown over the whole interview."""
        return sum(len(q.get("hints", ())) for q in self.questions)

    def to_dict(self) -> dict:
        return {
            "answered": self.answered, "planned": self.planned, "score": self.score,
            "by_topic": {topic: list(value) for topic, value in self.by_topic.items()},
            "weakest": self.weakest, "review": self.review, "seconds": self.seconds, "status": self.status,
            "started": self.started, "seed": self.seed, "questions": self.questions, "hints_used": self.hints_used,
        }

    def to_markdown(self) -> str:
        title = "Mock interview" + (" (interrupted)" if self.status != "finished" else "")
        lines = [f"# {title}: {self.started}", ""]
        overall = "no answers" if self.score is None else f"{self.score:.0%}"
        lines += [f"Answered {self.answered} question(s) of {self.planned} planned, overall score {overall}, "
                  f"time {format_seconds(self.seconds)}, {self.hints_used} hint(s) used"
                  + (f", seed {self.seed}." if self.seed is not None else "."),
                  "", "## Score by topic", "", "| topic | score | answers |", "|---|---|---|"]
        lines += [f"| {topic} {TOPICS.get(topic, '')} | {score:.0%} | {count} |"
                  for topic, (score, count) in self.by_topic.items()]
        lines += ["", "## Weakest topics", ""]
        lines += [f"- {topic}: {TOPICS.get(topic, topic)}" for topic in self.weakest] or ["- none below 70 %"]
        lines += ["", "## What to review", ""]
        if not self.review:
            lines.append("Nothing: every answer covered at least 70 % of its key points.")
        for item in self.review:
            where = item["notebook"] or "question bank only (reread the model answer)"
            lines += [f"### {item['id']} ({item['score']:.0%}): {item['prompt']}", "",
                      f"- see: {where}", "- missed key points:"]
            lines += [f"  - {point}" for point in item["missed"]]
            lines.append("")
        lines += ["## Questions", "", "| # | id | level | score | time | hints |", "|---|---|---|---|---|---|"]
        for number, q in enumerate(self.questions, start=1):
            lines.append(f"| {number} | {_label(q)} | {q['level']} | {q['score']:.0%} | "
                         f"{format_seconds(q['seconds'])} / {format_seconds(q['suggested'])} | "
                         f"{len(q.get('hints', ()))} |")
        lines += ["", "## Your answers", ""]
        for number, q in enumerate(self.questions, start=1):
            lines += _answer_section(number, q)
        return "\n".join(lines).rstrip() + "\n"


def _label(q: dict) -> str:
    kind = q.get("kind", "follow-up" if q.get("follow_up") else "main")
    return q["id"] + ("" if kind == "main" else f" ({kind})")


def _answer_section(number: int, q: dict) -> list[str]:
    lines = [f"### {number}. {_label(q)}: {q.get('prompt', '')}", ""]
    typed = q.get("typed", "").strip()
    lines += [f"> {line}" if line else ">" for line in typed.splitlines()] if typed else \
        ["(answered without typing; key points ticked by the candidate)"]
    lines.append("")
    for number, hint in enumerate(q.get("hints", ()), start=1):
        lines.append(f"- hint {number} on point {hint['point'] + 1} (rung {hint['rung']}): {hint['text']}")
    for label, key in (("covered", "covered_points"), ("with hint", "hinted_points"), ("missed", "missed")):
        points = q.get(key) or []
        if points:
            lines.append(f"- {label}: " + "; ".join(points))
    if q.get("misconceptions"):
        lines.append("- said wrongly: " + "; ".join(q["misconceptions"]))
    if q.get("proposed_grade") is not None:
        lines.append(f"- proposed grade {q['proposed_grade']}/5" + (" (overridden)" if q.get("overridden") else ""))
    return lines + [""]
