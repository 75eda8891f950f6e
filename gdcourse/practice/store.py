"""The progress store: one SQLite file per user that survives restarts.

Where it lives: ``$GDCOURSE_HOME/progress.sqlite3`` when ``GDCOURSE_HOME`` is set,
else ``$XDG_DATA_HOME/gdcourse/`` or ``~/.local/share/gdcourse/``.

Safety rules, each covered by a test:

- Every write is one ``BEGIN IMMEDIATE`` transaction, committed before the call
  returns, so a grade survives Ctrl-C, a closed laptop or a killed kernel.
  Reading a card's state and writing its new state happen in the same
  transaction, so two sessions grading the same card at once do not lose a review.
- The file runs in WAL mode with a busy timeout: two sessions at once (a terminal
  and a notebook) wait for each other instead of failing or corrupting the file.
- A file that is not SQLite (garbage bytes), fails SQLite's integrity check, or
  is a SQLite database of some other program is never silently overwritten: it is
  renamed ``progress.sqlite3.corrupt-<time>`` (or ``.foreign-<time>``), a message
  says so, and a fresh store is created. From a damaged store of ours, every row that
  can still be read is copied into the fresh one (:mod:`~gdcourse.practice.salvage`)
  and the message gives the count.
- A store that cannot be written (read-only file, directory or file system) is opened
  read-only: statistics and export work, and every write raises :class:`StoreError`
  saying why answers cannot be saved (``read_only`` tells in advance). A store written by a *newer* gdcourse is
  left alone and opening fails with a message instead.
- Identity and version: ``PRAGMA application_id`` marks the file as ours and the
  ``schema_version`` table holds the layout version.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
import sys
import threading
from pathlib import Path

from gdcourse.practice.record import EXPORT_COLUMNS, RecordQueries, Stats
from gdcourse.practice.salvage import salvage
from gdcourse.practice.sm2 import CardState, review

try:  # advisory lock around open/recovery; not available on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = [
    "APPLICATION_ID",
    "DB_NAME",
    "EXPORT_COLUMNS",
    "SCHEMA_VERSION",
    "ProgressStore",
    "Stats",
    "StoreError",
    "data_dir",
]

DB_NAME = "progress.sqlite3"
SCHEMA_VERSION = 2  # 2: answer_text in reviews and interview_answers
APPLICATION_ID = 0x67644350  # "gdCP": marks the file as a gdcourse progress store
BUSY_TIMEOUT_S = 15.0

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE cards (
    card_id TEXT PRIMARY KEY,
    repetitions INTEGER NOT NULL,
    interval INTEGER NOT NULL,
    easiness REAL NOT NULL,
    due TEXT,
    last_review TEXT,
    reviews INTEGER NOT NULL,
    lapses INTEGER NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,
    summary TEXT,
    report_path TEXT
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER REFERENCES sessions(id),
    card_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    grade INTEGER NOT NULL,
    scheduled INTEGER NOT NULL,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    interval INTEGER,
    easiness REAL,
    due TEXT,
    answer_text TEXT
);
CREATE TABLE interview_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    card_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    covered INTEGER NOT NULL,
    total INTEGER NOT NULL,
    seconds REAL NOT NULL,
    hint_used INTEGER NOT NULL,
    follow_up INTEGER NOT NULL,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    answer_text TEXT
);
CREATE TABLE test_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    card_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    kind TEXT NOT NULL,
    chosen TEXT NOT NULL,
    correct INTEGER NOT NULL,
    at TEXT NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX reviews_day ON reviews(day);
CREATE INDEX interview_day ON interview_answers(day);
CREATE INDEX test_day ON test_answers(day);
"""

class StoreError(RuntimeError):
    """The progress store cannot be opened or written (and was left untouched)."""


class _NotOurs(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def data_dir(environ=None) -> Path:
    """The per-user data directory: ``GDCOURSE_HOME``, else the XDG data dir + ``/gdcourse``."""
    environ = os.environ if environ is None else environ
    home = environ.get("GDCOURSE_HOME", "").strip()
    if home:
        return Path(home).expanduser()
    xdg = environ.get("XDG_DATA_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative paths
        return Path(xdg) / "gdcourse"
    return Path.home() / ".local" / "share" / "gdcourse"


def _iso(day: _dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str | None) -> _dt.date | None:
    return None if text is None else _dt.date.fromisoformat(text)


class ProgressStore(RecordQueries):
    """A user's practice history and flashcard schedule, in one SQLite file.

    Parameters
    ----------
    path : path-like, optional
        The database file; default ``data_dir() / "progress.sqlite3"``.
    now : callable returning a ``datetime``, optional
        The clock (local time). Every date the store writes or compares comes from
        it, so tests can move through days. Default ``datetime.now``.
    on_message : callable(str), optional
        Receives notices for the user (a moved-aside file); default prints to stderr.

    Attributes
    ----------
    read_only : str
        Empty when answers can be saved, else the reason they cannot (the store was opened read-only).
    salvaged : int
        Rows copied from a damaged store that was moved aside (0 otherwise).
    """

    def __init__(self, path=None, *, now=None, on_message=None, timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path) if path is not None else data_dir() / DB_NAME
        self.now = now or _dt.datetime.now
        self._say = on_message or (lambda text: print(text, file=sys.stderr))
        self._timeout = timeout
        self._lock = threading.RLock()
        self.moved_aside: Path | None = None
        self.salvaged = 0
        self._conn = None
        self.read_only = self._unwritable()
        if self.read_only:
            self._conn = self._open_read_only()
            return
        with self._open_lock():
            self._conn = self._open_or_recover()

    # ------------------------------------------------------------------ opening
    def _unwritable(self) -> str:
        """Why the store cannot be written ('' when it can); creates the directory when it can."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"cannot create {self.path.parent}: {error.strerror or error}"
        if not os.access(self.path.parent, os.W_OK):
            return f"the directory {self.path.parent} is read-only"
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return f"the file {self.path} is read-only"
        return ""

    def _open_read_only(self) -> sqlite3.Connection:
        """The file opened read-only (immutable: no -wal/-shm can be made), or an empty in-memory store."""
        if self.path.is_file():
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, isolation_level=None,
                                   check_same_thread=False)
            try:
                app_id, tables = self._identity(conn)
                if app_id == APPLICATION_ID and "schema_version" in tables:
                    return conn
            except sqlite3.DatabaseError:
                pass
            conn.close()
            self._say(f"gdcourse: {self.path} cannot be read as a progress store; showing an empty one.")
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.executescript(_SCHEMA)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        return conn

    @contextlib.contextmanager
    def _open_lock(self):
        if fcntl is None:
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        return conn

    def _open_or_recover(self) -> sqlite3.Connection:
        conn = self._connect()
        try:
            self._prepare(conn)
            return conn
        except _NotOurs as exc:
            conn.close()
            self._move_aside(exc.kind, exc.reason)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
                raise StoreError(f"progress store {self.path}: cannot open it: {exc}") from exc
            self._move_aside("corrupt", f"SQLite says: {exc}")
        conn = self._connect()
        self._prepare(conn)
        if self.moved_aside is not None and ".corrupt-" in self.moved_aside.name:
            self.salvaged = salvage(self.moved_aside, conn)
            self._say(f"gdcourse: copied {self.salvaged} readable row(s) from it into the fresh store.")
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # Identify the file before changing anything in it (even its journal mode).
        app_id, tables = self._identity(conn)
        fresh = app_id == 0 and not tables
        if not fresh and (app_id != APPLICATION_ID or "schema_version" not in tables):
            found = ", ".join(sorted(tables)) or "no tables"
            raise _NotOurs("foreign", f"a SQLite file of another program (application_id {app_id}; tables: {found})")
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise _NotOurs("corrupt", f"integrity check failed: {check}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if fresh:
            with self._transaction(conn):
                if self._identity(conn) == (0, set()):  # another process may have just created it
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        if version is None or version < 1:
            raise _NotOurs("corrupt", f"schema_version table holds {version!r}")
        if version == 1:
            with self._transaction(conn):
                for table in ("reviews", "interview_answers"):
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN answer_text TEXT")
                conn.execute("INSERT INTO schema_version (version) VALUES (2)")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"progress store {self.path}: schema version {version} was written by a newer gdcourse "
                f"(this one reads up to {SCHEMA_VERSION}); upgrade gdcourse or set GDCOURSE_HOME "
                f"to use another directory"
            )

    @staticmethod
    def _identity(conn: sqlite3.Connection) -> tuple[int, set[str]]:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        return app_id, tables

    def _move_aside(self, kind: str, reason: str) -> None:
        stamp = self.now().strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.{kind}-{stamp}")
        counter = 1
        while target.exists():
            counter += 1
            target = self.path.with_name(f"{self.path.name}.{kind}-{stamp}-{counter}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        self.moved_aside = target
        self._say(
            f"gdcourse: {self.path} is not a usable progress store ({reason}).\n"
            f"gdcourse: moved it to {target} and started a fresh store."
        )

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    @contextlib.contextmanager
    def _transaction(conn: sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def _write(self):
        if self.read_only:
            raise StoreError(f"progress store {self.path} is open read-only ({self.read_only}): answers cannot "
                             f"be saved; set GDCOURSE_HOME to a writable directory to practise")
        with self._lock:
            self._check_open()
            with self._transaction(self._conn) as conn:
                yield conn

    def _read(self, sql: str, params=()):
        with self._lock:
            self._check_open()
            return self._conn.execute(sql, params).fetchall()

    def _check_open(self):
        if self._conn is None:
            raise StoreError(f"progress store {self.path}: already closed")

    def _stamp(self) -> tuple[str, str]:
        moment = self.now()
        return moment.isoformat(timespec="seconds"), moment.date().isoformat()

    def today(self) -> _dt.date:
        """Today's date by the store's clock."""
        return self.now().date()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"ProgressStore({str(self.path)!r})"

    # ------------------------------------------------------------------ flashcards
    @staticmethod
    def _state_from_row(row) -> CardState:
        repetitions, interval, easiness, due, last, reviews, lapses = row
        return CardState(repetitions, interval, easiness, _date(due), _date(last), reviews, lapses)

    def card_state(self, card_id: str) -> CardState:
        """The schedule of one card (a new ``CardState`` when never reviewed)."""
        rows = self._read(
            "SELECT repetitions, interval, easiness, due, last_review, reviews, lapses "
            "FROM cards WHERE card_id = ?",
            (card_id,),
        )
        return self._state_from_row(rows[0]) if rows else CardState()

    def card_states(self) -> dict[str, CardState]:
        """Every card that has been reviewed, by id."""
        rows = self._read(
            "SELECT card_id, repetitions, interval, easiness, due, last_review, reviews, lapses FROM cards"
        )
        return {row[0]: self._state_from_row(row[1:]) for row in rows}

    def record_review(self, card_id: str, topic: str, grade: int, *, scheduled: bool = True,
                      session_id: int | None = None, answer_text: str | None = None) -> CardState:
        """Store a flashcard grade and, when ``scheduled``, move the card by SM-2.

        Unscheduled reviews (same-day repeats of a failed card) are logged but do
        not change the schedule. Returns the card's state after the review.
        """
        at, day = self._stamp()
        today = _dt.date.fromisoformat(day)
        with self._write() as conn:
            row = conn.execute(
                "SELECT repetitions, interval, easiness, due, last_review, reviews, lapses "
                "FROM cards WHERE card_id = ?",
                (card_id,),
            ).fetchone()
            state = self._state_from_row(row) if row else CardState()
            if scheduled:
                state = review(state, grade, today)
                conn.execute(
                    "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (card_id, state.repetitions, state.interval, state.easiness, _iso(state.due),
                     _iso(state.last_review), state.reviews, state.lapses),
                )
            conn.execute(
                "INSERT INTO reviews (session_id, card_id, topic, grade, scheduled, at, day, interval, "
                "easiness, due, answer_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, card_id, topic, int(grade), int(scheduled), at, day, state.interval,
                 state.easiness, _iso(state.due), answer_text),
            )
        return state

    # ------------------------------------------------------------------ sessions
    def start_session(self, mode: str, settings: dict | None = None) -> int:
        """Open a practice session record and return its id."""
        at, _ = self._stamp()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (mode, started_at, status, settings) VALUES (?, ?, 'open', ?)",
                (mode, at, json.dumps(settings or {}, sort_keys=True)),
            )
            return int(cursor.lastrowid)

    def finish_session(self, session_id: int, summary: dict, *, status: str = "finished",
                       report_path=None) -> None:
        """Close a session with its summary (JSON) and the path of its Markdown report."""
        at, _ = self._stamp()
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET finished_at = ?, status = ?, summary = ?, report_path = ? WHERE id = ?",
                (at, status, json.dumps(summary, sort_keys=True), None if report_path is None else str(report_path),
                 session_id),
            )

    def session(self, session_id: int) -> dict | None:
        """One session as a dict (``summary`` and ``settings`` decoded), or None."""
        rows = self._read(
            "SELECT id, mode, started_at, finished_at, status, settings, summary, report_path "
            "FROM sessions WHERE id = ?",
            (session_id,),
        )
        if not rows:
            return None
        keys = ("id", "mode", "started_at", "finished_at", "status", "settings", "summary", "report_path")
        record = dict(zip(keys, rows[0], strict=True))
        record["settings"] = json.loads(record["settings"])
        record["summary"] = None if record["summary"] is None else json.loads(record["summary"])
        return record

    def record_interview_answer(self, session_id: int, card_id: str, topic: str, *, covered: int, total: int,
                                seconds: float, hint_used: bool, follow_up: bool,
                                answer_text: str | None = None) -> None:
        """Store one mock-interview answer: key points covered out of ``total`` (and the typed answer)."""
        at, day = self._stamp()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO interview_answers (session_id, card_id, topic, covered, total, seconds, hint_used, "
                "follow_up, at, day, answer_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, card_id, topic, int(covered), int(total), float(seconds), int(hint_used),
                 int(follow_up), at, day, answer_text),
            )

    def record_test_answer(self, session_id: int, card_id: str, topic: str, *, kind: str, chosen: str,
                           correct: bool) -> None:
        """Store one test item's answer."""
        at, day = self._stamp()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO test_answers (session_id, card_id, topic, kind, chosen, correct, at, day) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, card_id, topic, kind, chosen, int(correct), at, day),
            )

    def interview_answers(self, session_id: int) -> list[dict]:
        rows = self._read(
            "SELECT card_id, topic, covered, total, seconds, hint_used, follow_up FROM interview_answers "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        keys = ("card_id", "topic", "covered", "total", "seconds", "hint_used", "follow_up")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def test_answers(self, session_id: int) -> list[dict]:
        rows = self._read(
            "SELECT card_id, topic, kind, chosen, correct FROM test_answers WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        keys = ("card_id", "topic", "kind", "chosen", "correct")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def reviews(self, card_id: str | None = None) -> list[dict]:
        """The flashcard review log, oldest first (optionally for one card)."""
        sql = "SELECT card_id, topic, grade, scheduled, at, day, interval, easiness, due FROM reviews"
        params = ()
        if card_id is not None:
            sql, params = sql + " WHERE card_id = ?", (card_id,)
        rows = self._read(sql + " ORDER BY id", params)
        keys = ("card_id", "topic", "grade", "scheduled", "at", "day", "interval", "easiness", "due")
        return [dict(zip(keys, row, strict=True)) for row in rows]
