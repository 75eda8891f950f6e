"""Grading results: the SQLite gradebook, ``grades.csv``, ``summary.json`` and the feedback files.

Only the grader's main process writes here. ``gradebook.sqlite`` is the record:
each submission's rows are written in one transaction (``BEGIN IMMEDIATE``, an
UPSERT per row keyed by student, notebook and grade id), so a run stopped at
any point keeps every submission graded so far, and two runs on one results
folder (at the same time or not) each add their students and lose none of the
other's. A file lock (``gradebook.lock``) also serializes the files built from
the gradebook (feedback, ``grades.csv``, ``summary.json``): whichever run
finishes last writes them from everything both recorded. A gradebook that
cannot be read is kept aside (``gradebook.sqlite.corrupt-<time>``) and reported.

``grades.csv`` quotes every field and neutralizes formulas (OWASP's CSV
injection guidance): a field starting with ``= + - @``, a tab or a carriage
return gets a leading ``'``.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.course.feedback import feedback_filename, render_feedback
from gdcourse.course.results import zero_rows

__all__ = ["Results", "GRADEBOOK", "SCHEMA", "csv_safe"]

GRADEBOOK = "gradebook.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    student TEXT NOT NULL, notebook TEXT NOT NULL, grade_id TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
    graded_at TEXT NOT NULL, duration REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (student, notebook, grade_id));
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT NOT NULL, notebook TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '',
    points REAL NOT NULL DEFAULT 0, max_points REAL NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
    graded_at TEXT NOT NULL, duration REAL NOT NULL DEFAULT 0, kernel_starts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (student, notebook));
CREATE TABLE IF NOT EXISTS runs (
    started_at TEXT NOT NULL, finished_at TEXT NOT NULL, submissions INTEGER NOT NULL,
    isolation TEXT NOT NULL, limits TEXT NOT NULL DEFAULT '', warnings TEXT NOT NULL DEFAULT '');
"""

_GRADE_COLUMNS = ("student, notebook, grade_id, points, max_points, status, error, message, graded_at, "
                  "duration")
_SUBMISSION_COLUMNS = ("student, notebook, status, error, notes, points, max_points, sha256, graded_at, "
                       "duration, kernel_starts")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Results:
    """The results folder of a grading run (see the module docstring)."""

    def __init__(self, out_dir, assignments):
        self.out = Path(out_dir)
        self.path = self.out / GRADEBOOK
        self.assignments = dict(assignments)
        self.warnings: list[str] = []
        self.started_at = _now()
        self._lock_file = open(self.out / "gradebook.lock", "a")  # noqa: SIM115 - held for the run
        with self.locked():
            self.db = self._open()

    # ------------------------------------------------------------ the gradebook

    @contextlib.contextmanager
    def locked(self):
        """Hold the results folder's lock (another run on the same folder waits)."""
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _connect(self):
        db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _open(self):
        existed = self.path.exists()
        db = self._connect()
        try:
            if existed:
                if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("integrity check failed")
                db.execute(f"SELECT {_GRADE_COLUMNS} FROM grades LIMIT 1").fetchall()
                db.execute(f"SELECT {_SUBMISSION_COLUMNS} FROM submissions LIMIT 1").fetchall()
            db.executescript(SCHEMA)
            return db
        except sqlite3.DatabaseError as err:
            db.close()
            kept = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, kept)
            self.warnings.append(f"{self.path} could not be read ({err}); it was kept as {kept.name} and a "
                                 "new gradebook was started.")
            db = self._connect()
            db.executescript(SCHEMA)
            return db

    @contextlib.contextmanager
    def _transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def save(self):
        """Nothing to do: every :meth:`record` is committed to ``gradebook.sqlite`` (kept for callers)."""

    def close(self):
        self.db.close()
        self._lock_file.close()

    def _rows(self, result):
        """The rows to record: a submission that could not be graded scores 0 on each of its tests."""
        assignment = self.assignments.get(result.notebook)
        if result.rows or assignment is None or result.status == "graded":
            return result.rows
        return zero_rows(assignment, result.status, result.error)

    def record(self, result):
        """Upsert one submission's rows in one transaction and rewrite the student's feedback."""
        self.record_many([result])

    def record_many(self, results):
        """Upsert many submissions in one transaction; rewrite each of their students' feedback once."""
        with self.locked():
            with self._transaction():
                for result in results:
                    self._upsert(result)
            for student in dict.fromkeys(r.student for r in results):
                self._write_feedback(student)

    def _upsert(self, result):
        now = _now()
        rows = self._rows(result)
        keep = [r.grade_id for r in rows]
        self.db.execute(f"DELETE FROM grades WHERE student = ? AND notebook = ? AND grade_id NOT IN "
                        f"({', '.join('?' * len(keep))})", [result.student, result.notebook, *keep])
        self.db.executemany(
            f"INSERT INTO grades ({_GRADE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (student, notebook, grade_id) DO UPDATE SET points = excluded.points, "
            "max_points = excluded.max_points, status = excluded.status, error = excluded.error, "
            "message = excluded.message, graded_at = excluded.graded_at, duration = excluded.duration",
            [(result.student, result.notebook, r.grade_id, r.points, r.max_points, r.status, r.error,
              r.message, now, round(r.duration, 3)) for r in rows])
        self.db.execute(
            f"INSERT INTO submissions ({_SUBMISSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (student, notebook) DO UPDATE SET status = excluded.status, "
            "error = excluded.error, notes = excluded.notes, points = excluded.points, "
            "max_points = excluded.max_points, sha256 = excluded.sha256, graded_at = excluded.graded_at, "
            "duration = excluded.duration, kernel_starts = excluded.kernel_starts",
            (result.student, result.notebook, result.status, result.error, "\n".join(result.notes),
             sum(r.points for r in rows), sum(r.max_points for r in rows), result.sha256, now,
             round(result.duration, 3), result.kernel_starts))

    # ------------------------------------------------------------ reports

    def students(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT student FROM submissions ORDER BY student")]

    def _write_feedback(self, student):
        submissions = [dict(r) for r in self.db.execute(
            "SELECT * FROM submissions WHERE student = ? ORDER BY notebook", (student,))]
        grades = {}
        query = "SELECT * FROM grades WHERE student = ? ORDER BY notebook, rowid"
        for row in self.db.execute(query, (student,)):
            grades.setdefault(row["notebook"], []).append(dict(row))
        folder = self.out / "feedback"
        folder.mkdir(exist_ok=True)
        atomic_write(folder / feedback_filename(student), render_feedback(student, submissions, grades))

    def _columns(self) -> list[tuple[str, str, float]]:
        """``(notebook, grade_id, max_points)`` of every graded exercise, in notebook order."""
        columns = {}
        for row in self.db.execute("SELECT notebook, grade_id, MAX(max_points) FROM grades "
                                   "GROUP BY notebook, grade_id ORDER BY notebook, MIN(rowid)"):
            columns[(row[0], row[1])] = row[2]
        ordered = []
        for notebook in sorted({n for n, _ in columns}):
            assignment = self.assignments.get(notebook)
            order = [t.grade_id for t in assignment.tests] if assignment else []
            ids = [g for n, g in columns if n == notebook]
            ids.sort(key=lambda g: (order.index(g) if g in order else len(order), g))
            ordered += [(notebook, g, columns[(notebook, g)]) for g in ids]
        return ordered

    def csv_text(self) -> str:
        """One row per student: total, maximum, and the points of every exercise (for an LMS)."""
        columns = self._columns()
        points = {(r[0], r[1], r[2]): r[3] for r in self.db.execute(
            "SELECT student, notebook, grade_id, points FROM grades")}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        header = ["student", "total", "max_total"] + [f"{Path(n).stem}:{g}" for n, g, _ in columns]
        writer.writerow([csv_safe(h) for h in header])
        max_total = sum(m for _, _, m in columns)
        for student in self.students():
            values = [points.get((student, n, g), 0.0) for n, g, _ in columns]
            writer.writerow([csv_safe(student), _number(sum(values)), _number(max_total)]
                            + [_number(v) for v in values])
        return out.getvalue()

    def summary(self, report) -> dict:
        """Per exercise and per student numbers; no messages (nothing of any test's text)."""
        notebooks = {}
        for notebook, grade_id, max_points in self._columns():
            query = "SELECT points, status FROM grades WHERE notebook = ? AND grade_id = ?"
            rows = [dict(r) for r in self.db.execute(query, (notebook, grade_id))]
            statuses = {}
            for r in rows:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            entry = notebooks.setdefault(notebook, {"max_points": 0.0, "exercises": {}})
            entry["max_points"] += max_points
            entry["exercises"][grade_id] = {
                "max_points": max_points, "graded": len(rows),
                "mean_points": round(sum(r["points"] for r in rows) / len(rows), 4) if rows else 0.0,
                "passed": statuses.get("passed", 0), "statuses": statuses}
        students = {}
        for row in self.db.execute("SELECT student, notebook, status, points, max_points FROM submissions "
                                   "ORDER BY student, notebook"):
            entry = students.setdefault(row["student"], {"total": 0.0, "max_total": 0.0, "notebooks": {}})
            entry["notebooks"][row["notebook"]] = {"points": row["points"], "max_points": row["max_points"],
                                                   "status": row["status"]}
            entry["total"] += row["points"]
            entry["max_total"] += row["max_points"]
        run = {"finished_at": _now(), "submissions": report.submissions, "students": report.students,
               "seconds": round(report.seconds, 2), "workers": report.workers,
               "submissions_per_minute": round(report.per_minute, 2), "isolation": report.isolation,
               "limits": getattr(report, "limits", ""), "warnings": report.problems}
        return {"run": run, "notebooks": notebooks, "students": students}

    def finish(self, report):
        """Record the run; write grades.csv, summary.json and every student's feedback from the gradebook."""
        with self.locked():
            with self._transaction():
                self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", (
                    self.started_at, _now(), report.submissions, report.isolation,
                    getattr(report, "limits", ""), "\n".join(report.problems)))
            atomic_write(self.out / "grades.csv", self.csv_text())
            atomic_write(self.out / "summary.json", json.dumps(self.summary(report), indent=2) + "\n")
            for student in self.students():
                self._write_feedback(student)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text) -> str:
    """``text`` that no spreadsheet reads as a formula: a leading ``'`` before ``= + - @``, tab or CR."""
    text = str(text)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _number(value) -> str:
    return f"{value:g}"
