"""Choosing questions for a practice session: filters by topic and level, and small shared helpers.

Used by every engine (:mod:`~gdcourse.practice.flashcards`,
:mod:`~gdcourse.practice.interview`, :mod:`~gdcourse.practice.quiz`).
"""

from __future__ import annotations

from pathlib import Path

from gdcourse.bank import LEVELS, SOLUTIONS_DIR, TOPICS

__all__ = ["normalize_topics", "normalize_levels", "select_entries", "notebook_reference", "format_seconds",
           "shuffled"]


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


def shuffled(items, rng) -> list:
    """``items`` in the random order of ``rng.permutation`` (a new list)."""
    return [items[i] for i in rng.permutation(len(items))]
