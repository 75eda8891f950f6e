"""Match mode: pair terms with their definitions against the clock.

The pairs come from the bank's key points written as ``Term: definition`` with a short
term (at most ``MAX_TERM_WORDS`` words), e.g. "Epoch: one pass over the training data".
A round shows ``size`` terms and their definitions in shuffled order, with distinct terms
and distinct definitions, drawn with a seed from the selected topics. The clock runs from
the first screen to the last pair; each wrong pairing adds ``PENALTY_S`` seconds, as in
the usual match games, so guessing costs time. The final time and the misses are stored
(mode ``match``); a term paired wrongly counts as a miss of the question it came from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gdcourse.practice.selection import normalize_levels, normalize_topics, select_entries, shuffled
from gdcourse.validate import as_rng, check_positive_int, is_seed

__all__ = ["MAX_TERM_WORDS", "PENALTY_S", "MatchPair", "MatchRound", "term_pairs"]

MAX_TERM_WORDS = 4
PENALTY_S = 5.0


@dataclass(frozen=True)
class MatchPair:
    """A term, its definition and the question whose key point they come from."""

    term: str
    definition: str
    entry_id: str
    topic: str


def term_pairs(entries) -> list[MatchPair]:
    """Every ``Term: definition`` key point of ``entries`` (term of at most ``MAX_TERM_WORDS`` words)."""
    pairs = []
    for entry in entries:
        for point in entry.key_points:
            term, sep, definition = point.partition(": ")
            if sep and 0 < len(term.split()) <= MAX_TERM_WORDS and len(definition.split()) >= 2 \
                    and not any(c in term for c in "=()"):
                pairs.append(MatchPair(term.strip(), definition.strip(), entry.id, entry.topic))
    return pairs


class MatchRound:
    """One seeded round: ``terms`` and ``definitions`` (shuffled), paired by :meth:`pair`."""

    def __init__(self, bank, *, size: int = 6, topics=None, levels=None, rng=None, store=None, clock=None):
        rng_ = as_rng(rng)
        self.seed = int(rng) if is_seed(rng) else None
        size = check_positive_int(size, "size")
        pool = shuffled(term_pairs(select_entries(bank, topics, levels)), rng_)
        chosen, terms, definitions = [], set(), set()
        for pair in pool:
            key_t, key_d = pair.term.casefold(), pair.definition.casefold()
            if key_t not in terms and key_d not in definitions:
                chosen.append(pair)
                terms.add(key_t)
                definitions.add(key_d)
            if len(chosen) == size:
                break
        if len(chosen) < 2:
            raise ValueError(f"topics/levels: only {len(chosen)} term/definition pair(s) match these filters; "
                             f"Match needs at least 2")
        self.pairs = chosen
        self.terms = [pair.term for pair in chosen]
        self.definitions = [chosen[i].definition for i in rng_.permutation(len(chosen))]
        self.matched: dict[int, int] = {}  # term index -> definition index
        self.misses: list[tuple[int, int]] = []
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.stopped: float | None = None
        self.store = store
        self.settings = {"topics": list(normalize_topics(topics)), "levels": list(normalize_levels(levels)),
                         "size": size, "seed": self.seed}

    @property
    def finished(self) -> bool:
        return len(self.matched) == len(self.pairs)

    @property
    def elapsed(self) -> float:
        """Seconds on the clock plus the penalties so far."""
        end = self.stopped if self.stopped is not None else self.clock()
        return end - self.started + PENALTY_S * len(self.misses)

    def pair(self, term: int, definition: int) -> bool:
        """Pair term ``term`` with definition ``definition`` (0-based); return whether they belong together."""
        for name, value, count in (("term", term, len(self.terms)), ("definition", definition, len(self.terms))):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
                raise ValueError(f"{name}: expected an int from 0 to {count - 1}, got {value!r}")
        if term in self.matched or definition in self.matched.values():
            raise ValueError(f"term {term + 1} or definition {definition + 1} is already matched")
        right = self.pairs[term].definition == self.definitions[definition]
        if right:
            self.matched[term] = definition
            if self.finished:
                self.stopped = self.clock()
                self._store()
        else:
            self.misses.append((term, definition))
        return right

    def _store(self) -> None:
        if self.store is None:
            return
        session = self.store.start_session("match", self.settings)
        missed = {self.pairs[term].entry_id for term, _ in self.misses}
        for pair in self.pairs:
            self.store.record_test_answer(session, pair.entry_id, pair.topic, kind="match", chosen=pair.term,
                                          correct=pair.entry_id not in missed)
        self.store.finish_session(session, self.summary())

    def summary(self) -> dict:
        return {"pairs": len(self.pairs), "matched": len(self.matched), "misses": len(self.misses),
                "seconds": round(self.elapsed, 1), "seed": self.seed}
