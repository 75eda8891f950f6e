"""How many questions a mode can use under some filters, and why none when there are none.

``gdcourse practice --mode mock --topic INIT --level hard`` used to say only that nothing
matched; :func:`why_empty` says *why*: "the 1 hard INIT question is a follow-up, which
mock mode asks only after its main question; try --level easy medium (2 main questions)".
"""

from __future__ import annotations

from collections import Counter

from gdcourse.bank import TOPICS
from gdcourse.practice.items import load_material
from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries

__all__ = ["available", "why_empty"]


def available(mode: str, bank, topics=None, levels=None, material=None) -> int:
    """Questions (mock), items (test), cards (learn) or term pairs (match) these filters give."""
    if mode == "mock":
        return len(select_entries(bank, topics, levels, follow_ups=False))
    if mode == "test":
        from gdcourse.practice.quiz import count_test_items

        return count_test_items(bank, topics, levels, material if material is not None else load_material(bank))
    if mode == "match":
        from gdcourse.practice.match import term_pairs

        count = len({pair.term.casefold() for pair in term_pairs(select_entries(bank, topics, levels))})
        return count if count >= 2 else 0
    return len(select_entries(bank, topics, levels))


def _describe(topics, levels) -> str:
    level = "" if len(levels) == 3 else " or ".join(levels) + " "
    topic = "" if len(topics) >= len(TOPICS) else " or ".join(topics) + " "
    return f"{level}{topic}".strip() or "matching"


def why_empty(mode: str, bank, topics=None, levels=None, material=None) -> str:
    """A sentence for the user: what matched, why this mode cannot use it, and what would work."""
    topics, levels = normalize_topics(topics), normalize_levels(levels)
    entries = select_entries(bank, topics, levels)
    what = _describe(topics, levels)
    in_topics = select_entries(bank, topics, None)
    if not entries:
        have = Counter(entry.level for entry in in_topics)
        offer = ", ".join(f"{level} ({count})" for level, count in have.items())
        return f"no {what} question exists; these topics have {offer or 'no questions'}"
    if mode == "mock":
        main = Counter(entry.level for entry in in_topics if not entry.is_follow_up)
        offer = " ".join(level for level in main)
        return (f"the {len(entries)} {what} question(s) are all follow-ups, which mock mode skips (it asks a "
                f"follow-up only after its main question); try --level {offer} ({sum(main.values())} main "
                f"question(s)) or --mode flashcards")
    if mode == "test":
        material = material if material is not None else load_material(bank)
        from gdcourse.practice.quiz import count_test_items

        others = count_test_items(bank, topics, None, material)
        hint = f"; without --level, these topics give {others} item(s)" if others else ""
        return (f"none of the {len(entries)} {what} question(s) has test items yet (test items need curated "
                f"false statements, numbers or steps){hint}; try --mode learn or flashcards")
    return (f"the {len(entries)} {what} question(s) have fewer than 2 key points written as 'Term: definition', "
            f"which Match needs; add more topics")
