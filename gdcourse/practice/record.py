"""One learner record: statistics over every mode, the misses that feed the flashcards, the export.

:class:`RecordQueries` is mixed into :class:`~gdcourse.practice.store.ProgressStore`; it
only reads (through the store's ``_read``), so ``--stats`` and ``--export`` work on a
read-only store.

What counts as a *pass* in each mode (the same rule for statistics, trend and misses):

- flashcards: a scheduled review graded 3 or more (SM-2's passing grade);
- mock interview: an answer covering at least 70 % of its key points;
- test, Learn: a right answer; Match: a term paired without a wrong try.

A *miss* (a wrong answer in a test, Learn or Match, or a mock answer below 70 %) since the
card's last scheduled flashcard review makes that card due in the flashcards at once.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gdcourse.practice.sm2 import PASSING_GRADE

__all__ = ["EXPORT_COLUMNS", "MOCK_PASS", "RecordQueries", "Stats", "write_private_umask"]

MOCK_PASS = 0.7
EXPORT_COLUMNS = (
    "at", "day", "mode", "session_id", "card_id", "topic", "question", "result", "out_of", "passed",
    "answer", "scheduled", "interval_days", "easiness", "due",
)

# Every answer of every mode as (at, day, mode, session_id, card_id, topic, result, out_of, passed,
# answer, scheduled, interval, easiness, due).
_ACTIVITY = f"""
SELECT at, day, 'flashcards' AS mode, session_id, card_id, topic, grade AS result, 5 AS out_of,
       grade >= {PASSING_GRADE} AS passed, coalesce(answer_text, '') AS answer, scheduled,
       interval AS interval_days, easiness, due FROM reviews
UNION ALL SELECT at, day, 'mock', session_id, card_id, topic, covered, total,
       (total > 0 AND covered >= {MOCK_PASS} * total), coalesce(answer_text, ''), 0, NULL, NULL, NULL
       FROM interview_answers
UNION ALL SELECT at, day, CASE WHEN kind LIKE 'learn%' THEN 'learn' WHEN kind = 'match' THEN 'match'
       ELSE 'test' END, session_id, card_id,
       topic, correct, 1, correct, chosen, 0, NULL, NULL, NULL FROM test_answers
"""


@dataclass(frozen=True)
class Stats:
    """What ``gdcourse practice --stats`` shows.

    ``retention`` maps topic -> (passed, total) over scheduled flashcard reviews (graded >= 3).
    ``by_mode`` maps mode -> (passed, total) and ``by_topic`` maps topic -> mode -> (passed,
    total), with the pass rule of each mode (module docstring). ``trend`` lists
    (day, passed, total) over every mode, oldest first. ``streak`` is the number of
    consecutive days with any practice that ends today, or yesterday when nothing was done
    yet today. ``missed``: cards missed in a test or mock since their last flashcard review.
    """

    today: _dt.date
    due: tuple[str, ...]
    new: tuple[str, ...]
    scheduled_later: int
    next_due: _dt.date | None
    reviews: int
    retention: dict[str, tuple[int, int]] = field(default_factory=dict)
    streak: int = 0
    last_active: _dt.date | None = None
    interviews: int = 0
    tests: int = 0
    by_mode: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_topic: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    trend: tuple[tuple[_dt.date, int, int], ...] = ()
    missed: tuple[str, ...] = ()


class RecordQueries:
    """Read-only queries over the store's tables (mixed into ``ProgressStore``)."""

    def active_days(self) -> list[_dt.date]:
        """Days with any practice, oldest first."""
        rows = self._read("SELECT day FROM reviews UNION SELECT day FROM interview_answers "
                          "UNION SELECT day FROM test_answers ORDER BY day")
        return [_dt.date.fromisoformat(row[0]) for row in rows]

    def streak(self, today: _dt.date | None = None) -> int:
        """Consecutive practice days ending today (or yesterday, if not yet practised today)."""
        today = today or self.today()
        days = set(self.active_days())
        day = today if today in days else today - _dt.timedelta(days=1)
        count = 0
        while day in days:
            count += 1
            day -= _dt.timedelta(days=1)
        return count

    def retention_by_topic(self) -> dict[str, tuple[int, int]]:
        """topic -> (scheduled reviews graded >= 3, scheduled reviews)."""
        rows = self._read("SELECT topic, sum(grade >= ?), count(*) FROM reviews WHERE scheduled = 1 "
                          "GROUP BY topic", (PASSING_GRADE,))
        return {topic: (int(passed), int(total)) for topic, passed, total in rows}

    def results_by_topic_and_mode(self) -> dict[str, dict[str, tuple[int, int]]]:
        """topic -> mode -> (passed, total), flashcards counting scheduled reviews only."""
        rows = self._read(f"SELECT topic, mode, sum(passed), count(*) FROM ({_ACTIVITY}) "
                          "WHERE mode != 'flashcards' OR scheduled = 1 GROUP BY topic, mode")
        out: dict[str, dict[str, tuple[int, int]]] = {}
        for topic, mode, passed, total in rows:
            out.setdefault(topic, {})[mode] = (int(passed), int(total))
        return out

    def trend(self) -> list[tuple[_dt.date, int, int]]:
        """(day, passed, total) over every mode, oldest first."""
        rows = self._read(f"SELECT day, sum(passed), count(*) FROM ({_ACTIVITY}) "
                          "WHERE mode != 'flashcards' OR scheduled = 1 GROUP BY day ORDER BY day")
        return [(_dt.date.fromisoformat(day), int(passed), int(total)) for day, passed, total in rows]

    def failed_today(self, today: _dt.date | None = None) -> list[str]:
        """Cards whose last flashcard grade today is below 4: due again today (oldest failure first)."""
        day = (today or self.today()).isoformat()
        rows = self._read(
            "SELECT card_id, grade, id FROM reviews r WHERE day = ? AND id = "
            "(SELECT max(id) FROM reviews WHERE card_id = r.card_id AND day = ?) ORDER BY id", (day, day))
        return [card_id for card_id, grade, _ in rows if grade < 4]

    def missed_since_review(self) -> list[str]:
        """Cards missed in a test, Learn, Match or mock interview after their last scheduled flashcard review."""
        rows = self._read(
            f"SELECT a.card_id, min(a.at) FROM ({_ACTIVITY}) a WHERE a.mode != 'flashcards' "
            "AND a.passed = 0 AND a.at >= coalesce((SELECT max(r.at) FROM reviews r WHERE r.card_id = a.card_id "
            "AND r.scheduled = 1), '') GROUP BY a.card_id ORDER BY 2")
        return [row[0] for row in rows]

    def stats(self, card_ids=None, today: _dt.date | None = None) -> Stats:
        """Due, new and later cards among ``card_ids`` (default: every reviewed card), and every mode's results."""
        today = today or self.today()
        states = self.card_states()
        ids = list(states) if card_ids is None else list(card_ids)
        due = tuple(sorted((i for i in ids if i in states and states[i].is_due(today)),
                           key=lambda i: (states[i].due, i)))
        later = [states[i].due for i in ids if i in states and not states[i].is_due(today)]
        days = self.active_days()
        counts = self._read(
            "SELECT (SELECT count(*) FROM reviews WHERE scheduled = 1), "
            "(SELECT count(*) FROM sessions WHERE mode = 'mock' AND status != 'open'), "
            "(SELECT count(*) FROM sessions WHERE mode = 'test' AND status != 'open')")[0]
        by_topic = self.results_by_topic_and_mode()
        by_mode: dict[str, list[int]] = {}
        for modes in by_topic.values():
            for mode, (passed, total) in modes.items():
                by_mode.setdefault(mode, [0, 0])
                by_mode[mode][0] += passed
                by_mode[mode][1] += total
        chosen = set(ids)
        return Stats(
            today=today, due=due, new=tuple(i for i in ids if i not in states), scheduled_later=len(later),
            next_due=min(later) if later else None, reviews=int(counts[0]), retention=self.retention_by_topic(),
            streak=self.streak(today), last_active=days[-1] if days else None, interviews=int(counts[1]),
            tests=int(counts[2]), by_mode={mode: tuple(v) for mode, v in by_mode.items()}, by_topic=by_topic,
            trend=tuple(self.trend()),
            missed=tuple(i for i in self.missed_since_review() if card_ids is None or i in chosen))

    # ------------------------------------------------------------------ export
    def activity(self, topics=None) -> list[dict]:
        """Every answer of every mode as rows (``EXPORT_COLUMNS`` but ``question``), oldest first."""
        rows = self._read(f"SELECT * FROM ({_ACTIVITY}) ORDER BY at")
        keys = [c for c in EXPORT_COLUMNS if c != "question"]
        out = [dict(zip(keys, row, strict=True)) for row in rows]
        if topics:
            out = [row for row in out if row["topic"] in set(topics)]
        return out

    def export_csv(self, path, *, bank=None, topics=None) -> int:
        """Write the activity (only ``topics`` if given) to ``path`` as CSV; return the number of rows.

        The question text comes from ``bank`` when given. The file is replaced atomically and
        gets the user's umask, as any file they create. Raises ``FileNotFoundError`` when the
        parent directory is missing (it is not created) and ``IsADirectoryError`` when ``path``
        is a directory.
        """
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; give a file name such as {path / 'progress.csv'}")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"the directory {path.parent} does not exist; create it first")
        rows = self.activity(topics)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            question = bank.get(row["card_id"]).prompt if bank is not None and row["card_id"] in bank else ""
            row = {**row, "question": question}
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
        write_private_umask(path, buffer.getvalue())
        return len(rows)


def write_private_umask(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; the file gets mode 0666 minus the user's umask."""
    mask = os.umask(0)
    os.umask(mask)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
