"""The mock interview: timed questions drawn with a seed, scored on key points, with follow-ups.

``n`` main questions are drawn with a seed, mixing topics and levels, with no
repeats; each has a timer, a hint (the first key point, which then no longer
counts towards the score) and a score from the key points the candidate says they
covered. An answer scoring at least 70 % earns the question's first follow-up.
The summary is stored and written as Markdown.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.bank import LEVELS, TOPICS
from gdcourse.practice.selection import (
    format_seconds,
    normalize_levels,
    normalize_topics,
    notebook_reference,
    select_entries,
    shuffled,
)
from gdcourse.practice.store import data_dir
from gdcourse.validate import as_rng, check_positive_int, is_seed

__all__ = ["FOLLOW_UP_THRESHOLD", "SUGGESTED_SECONDS", "WEAK_TOPICS_SHOWN", "InterviewQuestion",
           "InterviewSummary", "MockInterview", "draw_questions"]

SUGGESTED_SECONDS = {"easy": 60, "medium": 120, "hard": 240}
FOLLOW_UP_THRESHOLD = 0.7
WEAK_TOPICS_SHOWN = 3


def draw_questions(entries, n: int, rng=None) -> list:
    """Draw ``n`` distinct entries mixing topics and levels; warm-up order (easy first).

    Topics take turns (in a random order); within a topic, levels take turns, each
    level's entries shuffled. The draw is then sorted by level, easy first, keeping
    the draw order within a level. Same seed, same questions.
    """
    n = check_positive_int(n, "n")
    rng = as_rng(rng)
    if n > len(entries):
        raise ValueError(f"n: expected at most {len(entries)} questions (that many match), got {n}")
    by_topic = defaultdict(list)
    for entry in entries:
        by_topic[entry.topic].append(entry)
    streams = [deque(_mix_levels(by_topic[topic], rng)) for topic in shuffled(list(by_topic), rng)]
    drawn = []
    while len(drawn) < n:
        for stream in streams:
            if stream and len(drawn) < n:
                drawn.append(stream.popleft())
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(drawn, key=lambda entry: rank[entry.level])


def _mix_levels(entries, rng) -> list:
    by_level = defaultdict(list)
    for entry in entries:
        by_level[entry.level].append(entry)
    queues = [deque(shuffled(by_level[level], rng)) for level in shuffled(sorted(by_level), rng)]
    mixed = []
    while any(queues):
        for queue in queues:
            if queue:
                mixed.append(queue.popleft())
    return mixed


@dataclass
class InterviewQuestion:
    """One question of a mock interview and what happened to it."""

    entry: object
    follow_up_of: str | None = None
    suggested_seconds: int = 120
    started: float | None = None
    stopped: float | None = None
    hint_used: bool = False
    revealed: bool = False
    covered: tuple[int, ...] | None = None  # indices into entry.key_points; None until answered

    @property
    def answered(self) -> bool:
        return self.covered is not None

    @property
    def counted(self) -> tuple[int, ...]:
        """Covered key points that count: the first one does not if it was given as a hint."""
        return tuple(i for i in (self.covered or ()) if not (self.hint_used and i == 0))

    @property
    def score(self) -> float | None:
        if self.covered is None:
            return None
        return len(self.counted) / len(self.entry.key_points)

    @property
    def missed(self) -> list[str]:
        return [point for i, point in enumerate(self.entry.key_points) if i not in self.counted]


@dataclass
class InterviewSummary:
    """What the candidate sees (and finds in the saved report) at the end.

    ``by_topic`` maps topic -> (mean score, number of answers); ``weakest`` lists up to
    three topics scoring below the follow-up threshold, weakest first; ``review``
    lists every answer below it with the missed key points and the notebook section.
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

    def to_dict(self) -> dict:
        return {
            "answered": self.answered, "planned": self.planned, "score": self.score,
            "by_topic": {topic: list(value) for topic, value in self.by_topic.items()},
            "weakest": self.weakest, "review": self.review, "seconds": self.seconds, "status": self.status,
            "started": self.started, "seed": self.seed, "questions": self.questions,
        }

    def to_markdown(self) -> str:
        title = "Mock interview" + (" (interrupted)" if self.status != "finished" else "")
        lines = [f"# {title}: {self.started}", ""]
        overall = "no answers" if self.score is None else f"{self.score:.0%}"
        lines += [f"Answered {self.answered} question(s) of {self.planned} planned, overall score {overall}, "
                  f"time {format_seconds(self.seconds)}" + (f", seed {self.seed}." if self.seed is not None else "."),
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
        lines += ["## Questions", "", "| # | id | level | score | time | hint |", "|---|---|---|---|---|---|"]
        for number, q in enumerate(self.questions, start=1):
            label = q["id"] + (" (follow-up)" if q["follow_up"] else "")
            lines.append(f"| {number} | {label} | {q['level']} | {q['score']:.0%} | "
                         f"{format_seconds(q['seconds'])} / {format_seconds(q['suggested'])} | "
                         f"{'yes' if q['hint_used'] else 'no'} |")
        return "\n".join(lines).rstrip() + "\n"


class MockInterview:
    """A timed mock interview over ``n`` main questions plus the follow-ups earned.

    Parameters
    ----------
    bank : gdcourse.bank.Bank
    n : int
        Number of main questions (follow-ups come on top).
    topics, levels : iterable of str, optional
        Filters for the main questions.
    rng : int or numpy Generator, optional
        Seed of the draw; the same seed draws the same questions.
    store : ProgressStore, optional
        Where each answer is committed as it is given, and the summary at the end.
    clock : callable returning seconds, optional
        Timer source (default ``time.monotonic``).
    threshold : float
        Score at or above which the question's first follow-up is asked.
    report_dir : path, optional
        Where the Markdown summary goes (default ``<data dir>/interviews``).
    """

    def __init__(self, bank, *, n: int = 5, topics=None, levels=None, rng=None, store=None, clock=None,
                 threshold: float = FOLLOW_UP_THRESHOLD, report_dir=None, solutions_dir=None):
        self.bank, self.store = bank, store
        self.clock = clock or time.monotonic
        self.threshold = threshold
        self.seed = int(rng) if is_seed(rng) else None
        pool = select_entries(bank, topics, levels, follow_ups=False)
        if not pool:
            raise ValueError(f"topics/levels: no main question matches topics {normalize_topics(topics)} "
                             f"and levels {normalize_levels(levels)}")
        self.planned = check_positive_int(n, "n")
        drawn = draw_questions(pool, n, rng)
        self.questions = [self._question(entry) for entry in drawn]
        self._pending = deque(self.questions)
        self.asked: list[InterviewQuestion] = []
        self.report_dir = Path(report_dir) if report_dir is not None else None
        self.solutions_dir = solutions_dir
        self.session_id: int | None = None
        self.report_path: Path | None = None
        self.started_at = (store.now() if store is not None else _dt.datetime.now()).isoformat(timespec="seconds")
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "n": self.planned, "seed": self.seed}
        self._closed = False
        self._start_current()

    @staticmethod
    def _question(entry, follow_up_of=None) -> InterviewQuestion:
        return InterviewQuestion(entry, follow_up_of, SUGGESTED_SECONDS.get(entry.level, 120))

    # -- state
    @property
    def current(self) -> InterviewQuestion | None:
        return self._pending[0] if self._pending else None

    @property
    def finished(self) -> bool:
        return not self._pending

    @property
    def main_number(self) -> int:
        """1-based number of the current main question (a follow-up shares its parent's)."""
        return sum(1 for q in self.asked if q.follow_up_of is None) + (
            1 if self.current is not None and self.current.follow_up_of is None else 0)

    def elapsed(self) -> float:
        """Seconds spent on the current question (frozen once the answer is revealed)."""
        q = self.current
        if q is None or q.started is None:
            return 0.0
        end = q.stopped if q.stopped is not None else self.clock()
        return max(0.0, end - q.started)

    def time_left(self) -> float:
        """Suggested time minus elapsed time; negative when over time."""
        q = self.current
        return 0.0 if q is None else q.suggested_seconds - self.elapsed()

    def timer_text(self) -> str:
        """``'0:42 / 2:00'``, or ``'2:10 / 2:00 (over)'``."""
        q = self.current
        if q is None:
            return ""
        over = " (over)" if self.time_left() < 0 else ""
        return f"{format_seconds(self.elapsed())} / {format_seconds(q.suggested_seconds)}{over}"

    # -- actions
    def hint(self) -> str:
        """The first key point. Once shown, it no longer counts towards the score."""
        q = self._require_question()
        q.hint_used = True
        return q.entry.key_points[0]

    def reveal(self):
        """Stop the timer and return the entry (model answer and key points)."""
        q = self._require_question()
        if not q.revealed:
            q.revealed = True
            q.stopped = self.clock()
        return q.entry

    def submit(self, covered) -> InterviewQuestion:
        """Record which key points (0-based indices) the answer covered; move on.

        Stores the answer at once, queues the first follow-up not yet asked when the
        score reaches the threshold (main questions only), and returns the answered
        question (with its ``score``).
        """
        q = self._require_question()
        total = len(q.entry.key_points)
        indices = sorted({self._index(i, total) for i in covered})
        if not q.revealed:
            self.reveal()
        q.covered = tuple(indices)
        self._store_answer(q)
        self._pending.popleft()
        self.asked.append(q)
        follow_up = self._follow_up_for(q)
        if follow_up is not None:
            self._pending.appendleft(self._question(follow_up, q.entry.id))
        self._start_current()
        return q

    @staticmethod
    def _index(value, total: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < total:
            raise ValueError(f"covered: expected key-point indices from 0 to {total - 1}, got {value!r}")
        return value

    def _follow_up_for(self, q: InterviewQuestion):
        if q.follow_up_of is not None or q.score < self.threshold:
            return None
        seen = {item.entry.id for item in self.asked} | {item.entry.id for item in self._pending}
        for follow_id in q.entry.follow_ups:
            if follow_id in self.bank and follow_id not in seen:
                return self.bank.get(follow_id)
        return None

    def _start_current(self):
        if self.current is not None and self.current.started is None:
            self.current.started = self.clock()

    def _store_answer(self, q: InterviewQuestion):
        if self.store is None:
            return
        if self.session_id is None:
            self.session_id = self.store.start_session("mock", self.settings)
        self.store.record_interview_answer(
            self.session_id, q.entry.id, q.entry.topic, covered=len(q.counted), total=len(q.entry.key_points),
            seconds=q.stopped - q.started, hint_used=q.hint_used, follow_up=q.follow_up_of is not None)

    def _require_question(self) -> InterviewQuestion:
        if self.current is None:
            raise RuntimeError("the mock interview is finished: no current question")
        return self.current

    # -- the end
    def summary(self, status: str | None = None) -> InterviewSummary:
        answered = [q for q in self.asked if q.answered]
        scores = defaultdict(list)
        for q in answered:
            scores[q.entry.topic].append(q.score)
        by_topic = {topic: (sum(values) / len(values), len(values))
                    for topic, values in sorted(scores.items(), key=lambda item: list(TOPICS).index(item[0]))}
        weak = sorted((t for t, (score, _) in by_topic.items() if score < self.threshold),
                      key=lambda t: (by_topic[t][0], list(TOPICS).index(t)))
        review = [{"id": q.entry.id, "prompt": q.entry.prompt, "score": q.score, "missed": q.missed,
                   "notebook": notebook_reference(q.entry, self.solutions_dir)}
                  for q in answered if q.score < self.threshold]
        questions = [{"id": q.entry.id, "topic": q.entry.topic, "level": q.entry.level, "score": q.score,
                      "seconds": q.stopped - q.started, "suggested": q.suggested_seconds, "hint_used": q.hint_used,
                      "follow_up": q.follow_up_of is not None} for q in answered]
        return InterviewSummary(
            answered=len(answered), planned=self.planned,
            score=sum(q.score for q in answered) / len(answered) if answered else None,
            by_topic=by_topic, weakest=weak[:WEAK_TOPICS_SHOWN], review=review,
            seconds=sum(item["seconds"] for item in questions),
            status=status or ("finished" if self.finished else "interrupted"),
            started=self.started_at, seed=self.seed, questions=questions)

    def close(self, status: str | None = None) -> InterviewSummary:
        """Save the summary (store + Markdown report) once; return it.

        Nothing is written when no question was answered. The report goes to
        ``report_dir`` (default ``<data dir>/interviews/mock-<time>-<session>.md``).
        """
        summary = self.summary(status)
        if self._closed or self.session_id is None or self.store is None:
            return summary
        folder = self.report_dir or data_dir() / "interviews"
        stamp = self.store.now().strftime("%Y%m%d-%H%M%S")
        self.report_path = atomic_write(folder / f"mock-{stamp}-{self.session_id}.md", summary.to_markdown())
        self.store.finish_session(self.session_id, summary.to_dict(), status=summary.status,
                                  report_path=self.report_path)
        self._closed = True
        return summary
