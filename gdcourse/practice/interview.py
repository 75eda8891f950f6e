"""The mock interview: timed questions drawn with a seed, typed answers judged on key points, follow-ups.

``n`` main questions are drawn with a seed, mixing topics and levels, with no
repeats. For each one the candidate may type an answer (:meth:`MockInterview.answer`):
the judge (:mod:`gdcourse.practice.judge`) marks the key points it covers and
proposes a grade, which the candidate may override in :meth:`MockInterview.submit`;
without typing, the candidate ticks the points. Hints come as a ladder per key
point (:meth:`MockInterview.hint`): a nudge first, then the key words, and only
then the point itself; a point a hint pointed at and the answer then covered is
credited "with hint" (half a point) and never listed as missed. An answer scoring
at least 70 % earns the question's first follow-up; a weaker main answer gets a
probe asking for what it missed. The summary (with the typed answers, the hints
used and the time per answer) is stored and written as Markdown.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import defaultdict, deque
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.bank import LEVELS, TOPICS
from gdcourse.practice.interview_question import (
    HINT_RUNGS,
    WITH_HINT_CREDIT,
    InterviewQuestion,
    hint_text,
)
from gdcourse.practice.interview_report import InterviewSummary
from gdcourse.practice.judge import Judge, Verdict
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

__all__ = ["FOLLOW_UP_THRESHOLD", "HINT_RUNGS", "PROBE_SECONDS", "SUGGESTED_SECONDS", "WEAK_TOPICS_SHOWN",
           "WITH_HINT_CREDIT", "InterviewQuestion", "InterviewSummary", "MockInterview", "draw_questions",
           "hint_text"]

SUGGESTED_SECONDS = {"easy": 60, "medium": 120, "hard": 240}
PROBE_SECONDS = 60
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


class MockInterview:
    """A timed mock interview over ``n`` main questions plus the follow-ups and probes earned.

    Parameters
    ----------
    bank : gdcourse.bank.Bank
    n : int
        Number of main questions (follow-ups and probes come on top).
    topics, levels : iterable of str, optional
        Filters for the main questions.
    rng : int or numpy Generator, optional
        Seed of the draw; the same seed draws the same questions.
    store : ProgressStore, optional
        Where each answer is committed as it is given, and the summary at the end.
    clock : callable returning seconds, optional
        Timer source (default ``time.monotonic``).
    threshold : float
        Score at or above which the question's first follow-up is asked; below it
        a main answer gets a probe on what it missed.
    report_dir : path, optional
        Where the Markdown summary goes (default ``<data dir>/interviews``).
    judge : Judge, optional
        Scores typed answers (default: the bank's rubrics, :meth:`Judge.default`).
    probes : bool
        Whether weak main answers get a probe (default True).
    """

    def __init__(self, bank, *, n: int = 5, topics=None, levels=None, rng=None, store=None, clock=None,
                 threshold: float = FOLLOW_UP_THRESHOLD, report_dir=None, solutions_dir=None, judge=None,
                 probes: bool = True):
        self.bank, self.store = bank, store
        self.clock = clock or time.monotonic
        self.threshold = threshold
        self._judge = judge  # the bank's rubrics are loaded on first use (Judge.default)
        self.probes = bool(probes)
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
        kind = "main" if follow_up_of is None else "follow-up"
        return InterviewQuestion(entry, follow_up_of, SUGGESTED_SECONDS.get(entry.level, 120), kind=kind)

    # -- state
    @property
    def judge(self) -> Judge:
        """The judge of typed answers (given, or the bank's rubrics loaded on first use)."""
        if self._judge is None:
            self._judge = Judge.default()
        return self._judge

    @property
    def current(self) -> InterviewQuestion | None:
        return self._pending[0] if self._pending else None

    @property
    def finished(self) -> bool:
        return not self._pending

    @property
    def main_number(self) -> int:
        """1-based number of the current main question (a follow-up or probe shares its parent's)."""
        return sum(1 for q in self.asked if q.kind == "main") + (
            1 if self.current is not None and self.current.kind == "main" else 0)

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
    def hint(self, text: str = "") -> str:
        """The next hint of the ladder, for the first asked key point not yet covered.

        ``text`` is what the candidate has typed so far (points it already covers
        are skipped). Each key point gets up to :data:`HINT_RUNGS` hints: a nudge,
        the key words, the point itself. Every hint shown is recorded and counted;
        when no point is left to hint at, a message says so and nothing is counted.
        """
        q = self._require_question()
        covered = set(self.judge.score(q.entry, text).covered) if text.strip() else set()
        rungs = defaultdict(int)
        for hint in q.hints:
            rungs[hint["point"]] = max(rungs[hint["point"]], hint["rung"])
        target = next((i for i in q.points if i not in covered and rungs[i] < HINT_RUNGS), None)
        if target is None:
            return "No more hints: every key point has been covered or shown."
        rung = rungs[target] + 1
        shown = hint_text(self.judge, q.entry, target, rung, q.points)
        q.hints.append({"rung": rung, "point": target, "text": shown})
        return shown

    def reveal(self):
        """Stop the timer and return the entry (model answer and key points)."""
        q = self._require_question()
        if not q.revealed:
            q.revealed = True
            q.stopped = self.clock()
        return q.entry

    def answer(self, text: str) -> Verdict:
        """Keep the typed answer, stop the timer and judge it; the verdict proposes the covered points.

        Call :meth:`submit` next: with no argument it accepts the judge's points,
        with a list of indices it overrides them.
        """
        if not isinstance(text, str):
            raise TypeError(f"text: expected the typed answer as str, got {type(text).__name__}")
        q = self._require_question()
        self.reveal()
        q.typed = text.strip()
        q.verdict = self.judge.score(q.entry, q.typed)
        return q.verdict

    def proposed(self) -> tuple[int, ...]:
        """The key points the judge found in the current typed answer, among those asked."""
        q = self._require_question()
        if q.verdict is None or not q.verdict.judged:
            return ()
        return tuple(i for i in q.verdict.covered if i in q.points)

    def submit(self, covered=None) -> InterviewQuestion:
        """Record which key points (0-based indices) the answer covered; move on.

        ``covered=None`` accepts the judge's proposal (none without a typed answer).
        Stores the answer at once; after a main answer at or above the threshold
        queues the first follow-up not yet asked, below it a probe on the missed
        points. Returns the answered question (with its ``score``).
        """
        q = self._require_question()
        proposal = self.proposed()
        if covered is None:
            indices = list(proposal)
        else:
            indices = sorted({self._index(i, q.points) for i in covered})
            q.overridden = q.verdict is not None and q.verdict.judged and tuple(indices) != proposal
        if not q.revealed:
            self.reveal()
        q.covered = tuple(indices)
        self._store_answer(q)
        self._pending.popleft()
        self.asked.append(q)
        nxt = self._next_for(q)
        if nxt is not None:
            self._pending.appendleft(nxt)
        self._start_current()
        return q

    @staticmethod
    def _index(value, points: tuple[int, ...]) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in points:
            allowed = f"from 0 to {points[-1]}" if points == tuple(range(len(points))) else f"among {list(points)}"
            raise ValueError(f"covered: expected key-point indices {allowed}, got {value!r}")
        return value

    def _next_for(self, q: InterviewQuestion) -> InterviewQuestion | None:
        if q.kind != "main":
            return None
        if q.score >= self.threshold:
            seen = {item.entry.id for item in self.asked} | {item.entry.id for item in self._pending}
            for follow_id in q.entry.follow_ups:
                if follow_id in self.bank and follow_id not in seen:
                    return self._question(self.bank.get(follow_id), q.entry.id)
            return None
        missed = tuple(i for i in q.points if i not in q.covered)
        if not self.probes or not missed:
            return None
        nudge = self.judge.cue(q.entry, missed[0])
        prompt = (f"Follow-up on {q.entry.id}: your answer left out {len(missed)} of its {len(q.points)} key "
                  f"points. {nudge} Add what is missing.")
        return InterviewQuestion(q.entry, q.entry.id, PROBE_SECONDS, kind="probe", points=missed, prompt=prompt)

    def _start_current(self):
        if self.current is not None and self.current.started is None:
            self.current.started = self.clock()

    def _store_answer(self, q: InterviewQuestion):
        if self.store is None:
            return
        if self.session_id is None:
            self.session_id = self.store.start_session("mock", self.settings)
        # A point covered only after a hint is not stored as covered, so the learner record
        # (record.MOCK_PASS) sends an answer that needed hints back to the flashcard queue.
        self.store.record_interview_answer(
            self.session_id, q.entry.id, q.entry.topic, covered=len(q.counted), total=len(q.points),
            seconds=q.seconds, hint_used=q.hint_used, follow_up=q.kind != "main", answer_text=q.typed or None)

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
        review = [{"id": q.entry.id, "prompt": q.prompt, "score": q.score, "missed": q.missed,
                   "notebook": notebook_reference(q.entry, self.solutions_dir)}
                  for q in answered if q.score < self.threshold]
        questions = [q.record() for q in answered]
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
