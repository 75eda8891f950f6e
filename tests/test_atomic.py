"""gdcourse.atomic: the one writer every file of the package goes through."""

from __future__ import annotations

import os
import sqlite3

import pytest

from gdcourse.atomic import atomic_write, replace_atomically


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_text_is_written_as_utf8_without_newline_translation(tmp_path):
    target = tmp_path / "sub" / "notes.md"
    assert atomic_write(target, "η = 0.1\r\nline two\n") == target
    assert target.read_bytes() == "η = 0.1\r\nline two\n".encode()
    assert _leftovers(target.parent) == []


def test_bytes_are_written_as_they_are_and_replace_the_old_file(tmp_path):
    target = tmp_path / "blob.bin"
    target.write_bytes(b"old and longer content")
    atomic_write(target, b"\x00\xffnew")
    assert target.read_bytes() == b"\x00\xffnew"
    assert _leftovers(tmp_path) == []


def test_other_types_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(TypeError, match="data: expected str or bytes, got int"):
        atomic_write(tmp_path / "x", 3)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_replace_leaves_the_original_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "grades.csv"
    target.write_text("old\n")

    def full_disk(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_an_exception_while_writing_leaves_the_original_and_no_temporary_file(tmp_path):
    target = tmp_path / "gradebook.sqlite"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="stopped"), replace_atomically(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("stopped")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_the_file_and_its_directory_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", os.path.isdir(f"/proc/self/fd/{fd}"))),
                                                 real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(("replace", None)), real_replace(a, b)))
    atomic_write(tmp_path / "x.txt", "x")
    if os.path.isdir("/proc/self/fd"):
        assert calls == [("fsync", False), ("replace", None), ("fsync", True)]
    else:  # pragma: no cover - no /proc: only the order can be seen
        assert [c[0] for c in calls] == ["fsync", "replace", "fsync"]


def test_a_sqlite_file_filled_in_by_sqlite_replaces_the_target(tmp_path):
    target = tmp_path / "book.sqlite"
    with replace_atomically(target) as tmp:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (42)")
        db.commit()
        db.close()
    assert sqlite3.connect(target).execute("SELECT x FROM t").fetchall() == [(42,)]
    assert _leftovers(tmp_path) == []
