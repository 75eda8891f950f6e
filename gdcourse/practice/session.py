"""The practice engines: flashcards, mock interview and test, with no user interface.

The terminal (:mod:`gdcourse.practice.terminal`) and the notebook widgets
(:mod:`gdcourse.practice.widgets`) only show what these objects hold and call
their methods, so every rule lives here and is tested here.

- :class:`FlashcardSession`: cards due today first (oldest due date first), then
  new cards in bank order; each grade is stored and scheduled by SM-2 at once.
  Cards graded below 4 come back at the end of the session until they score 4 or
  more (SM-2's step 7); those same-day repeats are logged but do not move the
  schedule again.
- :class:`MockInterview`: N main questions drawn with a seed, mixing topics and
  levels, with no repeats; a timer per question; a hint (the first key point,
  which then no longer counts towards the score); a score from the key points the
  candidate says they covered; a follow-up when the answer scores at least 70 %;
  a summary that is stored and written as Markdown.
- :class:`TestSession`: multiple-choice and true/false items generated from the
  bank's key points and common mistakes with a seed, scored automatically.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.bank import LEVELS, SOLUTIONS_DIR, TOPICS
from gdcourse.practice.sm2 import CardState, check_grade
from gdcourse.practice.store import ProgressStore, data_dir
from gdcourse.validate import as_rng, check_positive_int

__all__ = [
    "FOLLOW_UP_THRESHOLD",
    "SUGGESTED_SECONDS",
    "Card",
    "FlashcardSession",
    "InterviewQuestion",
    "InterviewSummary",
    "MockInterview",
    "TestItem",
    "TestSession",
    "draw_questions",
    "format_seconds",
    "count_test_items",
    "make_test_items",
    "normalize_levels",
    "normalize_topics",
    "notebook_reference",
    "select_entries",
]

SUGGESTED_SECONDS = {"easy": 60, "medium": 120, "hard": 240}
FOLLOW_UP_THRESHOLD = 0.7
REPEAT_BELOW = 4
WEAK_TOPICS_SHOWN = 3


# ---------------------------------------------------------------------- selection
def normalize_topics(topics) -> tuple[str, ...]:
    """Topic codes in upper case, checked against ``TOPICS``; empty or None means all."""
    if not topics:
        return tuple(TOPICS)
    if isinstance(topics, str):
        topics = [topics]
    codes = []
    for topic in topics:
        code = str(topic).strip().upper()
        if code not in TOPICS:
            raise ValueError(f"topic: expected one of {', '.join(TOPICS)}, got {topic!r}")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def normalize_levels(levels) -> tuple[str, ...]:
    """Levels in lower case, checked against ``LEVELS``; empty or None means all."""
    if not levels:
        return tuple(LEVELS)
    if isinstance(levels, str):
        levels = [levels]
    names = []
    for level in levels:
        name = str(level).strip().lower()
        if name not in LEVELS:
            raise ValueError(f"level: expected one of {', '.join(LEVELS)}, got {level!r}")
        if name not in names:
            names.append(name)
    return tuple(names)


def select_entries(bank, topics=None, levels=None, *, follow_ups=True) -> list:
    """Entries of the given topics and levels, in bank order."""
    topics, levels = normalize_topics(topics), normalize_levels(levels)
    return [entry for entry in bank
            if entry.topic in topics and entry.level in levels and (follow_ups or not entry.is_follow_up)]


def notebook_reference(entry, solutions_dir=None) -> str:
    """Where the answer is demonstrated: ``solutions/01_gd_basics.ipynb, section GD-03``, or ''."""
    if not entry.notebook:
        return ""
    name, _, section = entry.notebook.partition("#")
    folder = Path(solutions_dir) if solutions_dir is not None else SOLUTIONS_DIR
    return f"{folder.name}/{name}, section {section}"


def format_seconds(seconds: float) -> str:
    """``75.4`` -> ``'1:15'``; negative values get a minus sign."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    return f"{sign}{whole // 60}:{whole % 60:02d}"


# ---------------------------------------------------------------------- flashcards
@dataclass(frozen=True)
class Card:
    """The card on screen: the entry, its schedule before this review, and why it is shown."""

    entry: object
    state: CardState
    reason: str  # "due", "new" or "repeat"


class FlashcardSession:
    """Review cards: due first, then new ones, at most ``limit`` distinct cards.

    Parameters
    ----------
    bank : gdcourse.bank.Bank
    store : ProgressStore
        Every grade is committed to it before :meth:`grade` returns. Dates come from
        ``store.now`` (inject a clock there).
    topics, levels : iterable of str, optional
        Filters (default: everything).
    limit : int
        Maximum number of distinct cards this session (default 20).
    """

    def __init__(self, bank, store: ProgressStore, *, topics=None, levels=None, limit: int = 20):
        self.bank, self.store = bank, store
        self.limit = check_positive_int(limit, "limit")
        self.today = store.today()
        entries = select_entries(bank, topics, levels)
        states = store.card_states()
        order = {entry.id: rank for rank, entry in enumerate(entries)}
        due = sorted((e for e in entries if e.id in states and states[e.id].is_due(self.today)),
                     key=lambda e: (states[e.id].due, order[e.id]))
        new = [e for e in entries if e.id not in states]
        chosen = (due + new)[: self.limit]
        self.due_count = sum(1 for e in chosen if e.id in states)
        self.new_count = len(chosen) - self.due_count
        self._queue = deque(Card(e, states.get(e.id, CardState()), "due" if e.id in states else "new")
                            for e in chosen)
        later = [states[e.id].due for e in entries if e.id in states and not states[e.id].is_due(self.today)]
        self.next_due: _dt.date | None = min(later) if later else None
        self.revealed = False
        self.graded: list[tuple[str, int, CardState]] = []  # (card id, grade, state after) in order
        self.session_id: int | None = None
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "limit": self.limit}

    @property
    def current(self) -> Card | None:
        return self._queue[0] if self._queue else None

    @property
    def finished(self) -> bool:
        return not self._queue

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def reveal(self):
        """Show the answer of the current card; returns its entry."""
        card = self._require_card()
        self.revealed = True
        return card.entry

    def grade(self, grade: int) -> CardState:
        """Grade the current card 0-5, store it, schedule it, move to the next card.

        Returns the card's schedule after the grade (for a same-day repeat: the
        schedule set by today's first grade, unchanged).
        """
        grade = check_grade(grade)
        card = self._require_card()
        if not self.revealed:
            raise RuntimeError("grade: reveal the answer before grading the card")
        if self.session_id is None:
            self.session_id = self.store.start_session("flashcards", self.settings)
        state = self.store.record_review(card.entry.id, card.entry.topic, grade,
                                         scheduled=card.reason != "repeat", session_id=self.session_id)
        self.graded.append((card.entry.id, grade, state))
        self._queue.popleft()
        if grade < REPEAT_BELOW:
            self._queue.append(Card(card.entry, state, "repeat"))
        self.revealed = False
        return state

    def summary(self) -> dict:
        scheduled = [(card_id, grade) for card_id, grade, _ in self.graded]
        first = {}
        for card_id, grade in scheduled:
            first.setdefault(card_id, grade)
        passed = sum(1 for grade in first.values() if grade >= 3)
        return {"cards": len(first), "passed": passed, "grades": len(self.graded), "left": self.remaining}

    def close(self, status: str = "finished") -> None:
        """Record the end of the session (only if something was graded)."""
        if self.session_id is not None:
            self.store.finish_session(self.session_id, self.summary(), status=status)

    def _require_card(self) -> Card:
        if not self._queue:
            raise RuntimeError("the flashcard session is finished: no current card")
        return self._queue[0]


# ---------------------------------------------------------------------- mock interview
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
    streams = [deque(_mix_levels(by_topic[topic], rng)) for topic in _shuffled(list(by_topic), rng)]
    drawn = []
    while len(drawn) < n:
        for stream in streams:
            if stream and len(drawn) < n:
                drawn.append(stream.popleft())
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(drawn, key=lambda entry: rank[entry.level])


def _shuffled(items, rng) -> list:
    return [items[i] for i in rng.permutation(len(items))]


def _mix_levels(entries, rng) -> list:
    by_level = defaultdict(list)
    for entry in entries:
        by_level[entry.level].append(entry)
    queues = [deque(_shuffled(by_level[level], rng)) for level in _shuffled(sorted(by_level), rng)]
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
        self.seed = rng if isinstance(rng, int) else None
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


# ---------------------------------------------------------------------- test mode
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
    distractors = _shuffled(same, rng)[:3]
    distractors += _shuffled(other, rng)[: 3 - len(distractors)]
    if not distractors:
        return None
    answer = entry.key_points[int(rng.integers(len(entry.key_points)))]
    options = _shuffled([answer, *distractors], rng)
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
    for entry, maker in _shuffled(makers, rng):
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
        self.seed = rng if isinstance(rng, int) else None
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
