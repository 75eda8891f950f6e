"""Copy what can still be read out of a damaged progress store into a fresh one.

SQLite stores each table as a B-tree of pages; one damaged page makes an integrity check
fail, yet every row on the other pages is still readable. :func:`salvage` reads each of
our tables row by row in ``rowid`` order and, when a read fails, skips ahead past the
damaged rows, so the rows before and after the damage are both kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["TABLES", "salvage"]

# Copied in this order (sessions before the rows that point at them).
TABLES = ("cards", "sessions", "reviews", "interview_answers", "test_answers")
_MAX_SKIPS = 200


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _readable_rows(conn: sqlite3.Connection, table: str, columns: list[str]):
    """Yield the rows of ``table`` that can be read, skipping past damaged ones."""
    names = ", ".join(columns)
    last, skips, step = -(2**63), 0, 1
    while skips < _MAX_SKIPS:
        try:
            cursor = conn.execute(f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid", (last,))
            for row in cursor:
                last, step = row[0], 1
                yield row[1:]
            return
        except sqlite3.DatabaseError:
            skips += 1
            last += step
            step *= 2


def salvage(damaged: Path, target: sqlite3.Connection) -> int:
    """Copy the readable rows of our tables from the file ``damaged`` into ``target``; return how many.

    ``target`` must already hold the current schema. Columns the damaged file lacks (an
    older layout) are left at their defaults; rows the target refuses are skipped.
    """
    try:
        source = sqlite3.connect(f"file:{Path(damaged)}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    copied = 0
    try:
        for table in TABLES:
            try:
                have = _columns(source, table)
            except sqlite3.DatabaseError:
                continue
            columns = [c for c in _columns(target, table) if c in have]
            if not columns:
                continue
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            target.execute("BEGIN IMMEDIATE")
            for row in _readable_rows(source, table, columns):
                try:
                    copied += target.execute(insert, row).rowcount
                except sqlite3.Error:
                    continue
            target.execute("COMMIT")
    finally:
        source.close()
    return copied
