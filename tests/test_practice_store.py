"""The SQLite progress store: location, persistence, concurrency, recovery, stats and export."""

import csv
import datetime as dt
import multiprocessing
import os
import signal
import sqlite3

import pytest

from gdcourse.practice.store import APPLICATION_ID, ProgressStore, StoreError, data_dir


@pytest.fixture
def path(tmp_path):
    return tmp_path / "progress.sqlite3"


# ---------------------------------------------------------------- location
def test_data_dir_prefers_gdcourse_home_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert str(data_dir({"GDCOURSE_HOME": "/x/y", "XDG_DATA_HOME": "/data"})) == "/x/y"
    assert str(data_dir({"XDG_DATA_HOME": "/data"})) == "/data/gdcourse"
    expected = tmp_path / "home" / ".local" / "share" / "gdcourse"
    assert data_dir({"XDG_DATA_HOME": "relative/path"}) == expected  # the XDG spec ignores relative paths
    assert data_dir({}) == expected
    assert data_dir({"GDCOURSE_HOME": "  "}) == expected


def test_default_store_lives_in_gdcourse_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GDCOURSE_HOME", str(tmp_path / "course"))
    with ProgressStore() as store:
        assert store.path == tmp_path / "course" / "progress.sqlite3"
    assert store.path.is_file()


# ---------------------------------------------------------------- persistence
def test_everything_survives_close_and_reopen(path, clock):
    with ProgressStore(path, now=clock) as store:
        assert store.moved_aside is None
        store.record_review("GD-01", "GD", 5)
        session = store.start_session("mock", {"n": 1})
        store.record_interview_answer(session, "GD-02", "GD", covered=2, total=4, seconds=30.0,
                                      hint_used=True, follow_up=False)
        store.finish_session(session, {"score": 0.5})
    with ProgressStore(path, now=clock) as store:
        state = store.card_state("GD-01")
        assert (state.interval, state.easiness, state.due) == (1, 2.6, dt.date(2025, 3, 2))
        assert store.interview_answers(session) == [
            {"card_id": "GD-02", "topic": "GD", "covered": 2, "total": 4, "seconds": 30.0, "hint_used": 1,
             "follow_up": 0}]
        assert store.session(session)["summary"] == {"score": 0.5}
        assert store.session(session)["status"] == "finished"
        assert store.card_state("never-seen").is_new


def test_store_uses_wal_a_busy_timeout_and_marks_the_file_as_ours(path):
    with ProgressStore(path) as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]


def test_a_failed_write_leaves_nothing_behind(path):
    with ProgressStore(path) as store:
        store.record_review("GD-01", "GD", 4)
        with pytest.raises(ValueError, match="grade"):
            store.record_review("GD-01", "GD", 9)
        assert len(store.reviews()) == 1
        assert store.card_state("GD-01").reviews == 1


def test_using_a_closed_store_fails_clearly(path):
    store = ProgressStore(path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.record_review("GD-01", "GD", 4)


# ---------------------------------------------------------------- concurrency
REVIEWS_PER_WRITER = 60


def _writer(path, name, barrier):
    store = ProgressStore(path)
    barrier.wait()
    for i in range(REVIEWS_PER_WRITER):
        store.record_review("SHARED", "GD", 3 + i % 3)     # both processes grade the same card
        store.record_review(f"{name}-{i}", "OPT", 4)        # and cards of their own
    store.close()


def test_two_writer_processes_neither_corrupt_nor_lose_writes(path):
    ProgressStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(path), name, barrier)) for name in ("a", "b")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    with ProgressStore(path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(store.reviews()) == 4 * REVIEWS_PER_WRITER
        # read-modify-write of the shared card ran in one transaction each: no review lost
        assert store.card_state("SHARED").reviews == 2 * REVIEWS_PER_WRITER
        assert len(store.card_states()) == 1 + 2 * REVIEWS_PER_WRITER


def test_two_processes_creating_the_store_at_once(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(path), name, barrier)) for name in ("a", "b")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    with ProgressStore(path) as store:
        assert store.moved_aside is None
        assert len(store.reviews()) == 4 * REVIEWS_PER_WRITER


def _grade_then_die(path, count):
    store = ProgressStore(path)
    for i in range(count):
        store.record_review(f"GD-{i:02d}", "GD", 4)
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no clean exit: like a killed kernel


def test_grades_survive_a_killed_process(path):
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_grade_then_die, args=(str(path), 3))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL
    with ProgressStore(path) as store:
        assert [row["card_id"] for row in store.reviews()] == ["GD-00", "GD-01", "GD-02"]


# ---------------------------------------------------------------- recovery
def test_garbage_file_is_moved_aside_with_a_message(path, clock):
    garbage = bytes(range(256)) * 40
    path.write_bytes(garbage)
    messages = []
    with ProgressStore(path, now=clock, on_message=messages.append) as store:
        moved = store.moved_aside
        assert moved == path.with_name("progress.sqlite3.corrupt-20250301T090000")
        assert moved.read_bytes() == garbage                      # kept, not discarded
        assert len(messages) == 2 and str(moved) in messages[0] and "fresh" in messages[0]
        assert messages[1] == "gdcourse: copied 0 readable row(s) from it into the fresh store."
        store.record_review("GD-01", "GD", 4)                     # the fresh store works
    with ProgressStore(path, now=clock, on_message=messages.append) as store:
        assert store.moved_aside is None and len(store.reviews()) == 1
    assert len(messages) == 2


def test_foreign_sqlite_file_is_moved_aside_untouched(path, clock):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    messages = []
    with ProgressStore(path, now=clock, on_message=messages.append) as store:
        moved = store.moved_aside
        assert moved.name == "progress.sqlite3.foreign-20250301T090000"
        assert "another program" in messages[0] and "recipes" in messages[0]
        assert store.reviews() == []
    other = sqlite3.connect(moved)
    assert other.execute("SELECT name FROM recipes").fetchall() == [("soup",)]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # we changed nothing in it
    other.close()


def test_damaged_pages_are_detected_and_moved_aside(path, clock):
    with ProgressStore(path, now=clock) as store:
        for i in range(300):
            store.record_review(f"GD-{i:03d}", "GD", 4)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page:4 * page] = b"\xff" * (2 * page)  # overwrite two b-tree pages
    path.write_bytes(bytes(data))
    messages = []
    with ProgressStore(path, now=clock, on_message=messages.append) as store:
        assert store.moved_aside is not None and store.moved_aside.name.startswith("progress.sqlite3.corrupt-")
        assert store.moved_aside.read_bytes() == bytes(data)         # the original is kept as it was
        salvaged = store.reviews()
        # the rows on the undamaged pages are copied, each as it was written
        assert 0 < len(salvaged) <= 300 and store.salvaged >= len(salvaged)
        assert all(row["grade"] == 4 and row["card_id"].startswith("GD-") for row in salvaged)
        assert len({row["card_id"] for row in salvaged}) == len(salvaged)
    assert str(store.moved_aside) in messages[0] and "fresh store" in messages[0]
    assert messages[1] == f"gdcourse: copied {store.salvaged} readable row(s) from it into the fresh store."


def test_a_store_damaged_in_one_index_page_keeps_every_review(path, clock):
    with ProgressStore(path, now=clock) as store:
        for i in range(7):
            store.record_review(f"GD-{i:02d}", "GD", 4)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = store._conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'reviews_day'").fetchone()[0]
    data = bytearray(path.read_bytes())
    page = 4096
    data[(root - 1) * page + 8:(root - 1) * page + 64] = b"\xff" * 56   # garble the index page's cells
    path.write_bytes(bytes(data))
    messages = []
    with ProgressStore(path, now=clock, on_message=messages.append) as store:
        assert store.moved_aside is not None
        assert [row["card_id"] for row in store.reviews()] == [f"GD-{i:02d}" for i in range(7)]
        assert store.card_state("GD-03").interval == 1
    assert "copied 14 readable row(s)" in messages[1]   # 7 cards and 7 reviews


def test_moving_aside_twice_in_one_second_keeps_both_files(path, clock):
    for content in (b"first garbage" * 100, b"second garbage" * 100):
        path.unlink(missing_ok=True)
        path.write_bytes(content)
        ProgressStore(path, now=clock, on_message=lambda _: None).close()
    kept = sorted(p.name for p in path.parent.glob("progress.sqlite3.corrupt-*") if not p.name.endswith(("wal", "shm")))
    assert kept == ["progress.sqlite3.corrupt-20250301T090000", "progress.sqlite3.corrupt-20250301T090000-2"]


def test_store_from_a_newer_version_is_refused_and_left_alone(path):
    with ProgressStore(path) as store:
        store.record_review("GD-01", "GD", 4)
        store._conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match=r"schema version 99 .* newer gdcourse"):
        ProgressStore(path)
    assert not list(path.parent.glob("*.corrupt-*")) and not list(path.parent.glob("*.foreign-*"))


# ---------------------------------------------------------------- stats
def test_retention_streak_and_due_counts(path, clock):
    with ProgressStore(path, now=clock) as store:
        # day 1 (2025-03-01): GD 5, GD 2, OPT 4
        store.record_review("GD-01", "GD", 5)
        store.record_review("GD-02", "GD", 2)
        store.record_review("OPT-01", "OPT", 4)
        store.record_review("GD-02", "GD", 4, scheduled=False)  # same-day repeat: not in retention
        clock.advance(days=1)                                      # day 2: a test answer only
        session = store.start_session("test")
        store.record_test_answer(session, "GD-01", "GD", kind="key_point", chosen="x", correct=True)
        clock.advance(days=1)                                      # day 3: GD 3
        store.record_review("GD-02", "GD", 3)
        assert store.retention_by_topic() == {"GD": (2, 3), "OPT": (1, 1)}
        assert store.streak() == 3
        clock.advance(days=1)                                      # day 4, nothing yet: still alive
        assert store.streak() == 3
        clock.advance(days=1)                                      # day 5: broken
        assert store.streak() == 0
        store.record_review("OPT-01", "OPT", 0)
        assert store.streak() == 1
        stats = store.stats(["GD-01", "GD-02", "OPT-01", "NEW-1"])
        # GD-01 due 03-02 (overdue); GD-02 reviewed 03-03 -> 1 day -> due 03-04; OPT-01 failed today -> 03-06
        assert stats.due == ("GD-01", "GD-02")
        assert stats.new == ("NEW-1",)
        assert (stats.scheduled_later, stats.next_due) == (1, dt.date(2025, 3, 6))
        assert stats.reviews == 5 and stats.streak == 1 and stats.last_active == dt.date(2025, 3, 5)


# ---------------------------------------------------------------- export
def test_export_writes_every_answer_as_csv_atomically(path, clock, tmp_path):
    with ProgressStore(path, now=clock) as store:
        store.record_review("GD-01", "GD", 5)
        mock = store.start_session("mock")
        store.record_interview_answer(mock, "OPT-01", "OPT", covered=3, total=4, seconds=12.5,
                                      hint_used=False, follow_up=False)
        clock.advance(hours=1)
        test = store.start_session("test")
        store.record_test_answer(test, "DL-01", "DL", kind="mistake", chosen="True", correct=False)
        (tmp_path / "out").mkdir()
        target = tmp_path / "out" / "progress.csv"
        assert store.export_csv(target) == 3
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["mode"], r["card_id"], r["result"], r["out_of"]) for r in rows] == [
        ("flashcards", "GD-01", "5", "5"), ("mock", "OPT-01", "3", "4"), ("test", "DL-01", "0", "1")]
    assert rows[0]["interval_days"] == "1" and rows[0]["due"] == "2025-03-02"
    assert rows[2]["at"] == "2025-03-01T10:00:00"
    assert [p.name for p in target.parent.iterdir()] == ["progress.csv"]  # no temporary file left


def test_failed_export_leaves_the_old_file_intact(path, tmp_path, monkeypatch):
    target = tmp_path / "progress.csv"
    target.write_text("old content\n")
    with ProgressStore(path) as store:
        store.record_review("GD-01", "GD", 5)

        def broken_replace(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(OSError, match="disk full"):
            store.export_csv(target)
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".progress.csv")] == []
