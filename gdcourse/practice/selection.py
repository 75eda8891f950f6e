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
    return _normalize(topics, TOPICS, "topic", str.upper)


def normalize_levels(levels) -> tuple[str, ...]:
    """Levels in lower case, checked against ``LEVELS``; empty or None means all."""
    return _normalize(levels, LEVELS, "level", str.lower)


def _normalize(values, allowed, name, case) -> tuple[str, ...]:
    """``values`` (one string or several) in ``case``, each checked against ``allowed``, without repeats."""
    if not values:
        return tuple(allowed)
    if isinstance(values, str):
        values = [values]
    chosen = []
    for value in values:
        normal = case(str(value).strip())
        if normal not in allowed:
            raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
        if normal not in chosen:
            chosen.append(normal)
    return tuple(chosen)


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
