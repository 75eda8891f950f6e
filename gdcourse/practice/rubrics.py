"""Load the judging rubrics: ``gdcourse/bank/rubrics/<topic>.toml`` plus the shared ``synonyms.toml``.

One table per question id, with one rubric per key point in the bank's order
(the format is in ``gdcourse/bank/rubrics/README.md``)::

    [OPT-06]
    wrong = ["divide by first moment | divides by the mean gradient"]
    points = [
      { need = ["squared gradient | g^2 | second moment", "moving average | EMA"], cue = "What is averaged?" },
      { need = ["#0.9 +- 0.05 | #0.99 +- 0.005"], not = ["sum of all past"] },
    ]

A concept is one string of alternatives separated by ``|``: a phrase (compared
word by word after :func:`~gdcourse.practice.textnorm.words`), ``= formula``
(compared after :func:`~gdcourse.practice.textnorm.compact`), ``#number`` or
``#number +- tolerance`` (any number quoted in the answer within the tolerance;
default 1 % of the number), or ``re: regex`` (over the answer in lower case, Greek letters
and LaTeX as names). Every
phrase is widened with the synonym groups of ``synonyms.toml``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gdcourse.practice.textnorm import compact, words

__all__ = ["RUBRIC_DIR", "Concept", "PointRubric", "Rubric", "RubricError", "load_rubrics", "parse_concept"]

RUBRIC_DIR = Path(__file__).resolve().parents[1] / "bank" / "rubrics"
SYNONYMS_FILE = "synonyms.toml"
POINT_FIELDS = {"need", "min", "not", "cue"}


class RubricError(ValueError):
    """A rubric file is malformed; the message names the file, question id and field."""


@dataclass(frozen=True)
class Concept:
    """Alternative ways to say one thing: ``labels`` as written, ``alternatives`` as (kind, value) pairs."""

    labels: tuple[str, ...]
    alternatives: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class PointRubric:
    """What covers one key point: ``need_count`` of the ``need`` concepts, none of ``forbid``."""

    need: tuple[Concept, ...]
    need_count: int
    forbid: tuple[Concept, ...] = ()
    cue: str = ""


@dataclass(frozen=True)
class Rubric:
    question_id: str
    points: tuple[PointRubric, ...]
    wrong: tuple[Concept, ...] = ()


def _tolerance(text: str) -> tuple[float, float]:
    value, _, tol = text.partition("+-")
    target = float(value)
    return target, float(tol) if tol.strip() else abs(target) * 0.01 + 1e-12


def _alternative(text: str, synonyms) -> list[tuple[str, str, object]]:
    """(label, kind, value) triples for one alternative; phrases are widened with their synonyms."""
    text = text.strip()
    if text.startswith("#"):
        return [(text, "number", _tolerance(text[1:]))]
    if text.startswith("="):
        if not compact(text[1:]):
            raise ValueError(f"the formula {text!r} is empty (a '|' inside a formula splits it)")
        return [(text[1:].strip(), "formula", compact(text[1:]))]
    if text.startswith("re:"):
        return [(text, "regex", text[3:].strip())]
    phrase = _phrase(text)
    if not phrase:
        raise ValueError(f"the phrase {text!r} has no words left after normalization")
    return [(text, "phrase", variant) for variant in _variants(phrase, synonyms)]


def _variants(phrase: tuple[str, ...], synonyms) -> list[tuple[str, ...]]:
    """``phrase`` and every phrase made by replacing one synonym-group member in it by another member."""
    by_first = _index(synonyms)
    out = [phrase]
    for start, token in enumerate(phrase):
        for member, group in by_first.get(token, ()):
            if phrase[start: start + len(member)] == member:
                out += [phrase[:start] + other + phrase[start + len(member):] for other in group if other != member]
    return list(dict.fromkeys(out))


@functools.lru_cache(maxsize=8)
def _index(synonyms) -> dict[str, list]:
    """First word -> [(member, its group)], so a phrase is widened in time linear in its length."""
    by_first: dict[str, list] = {}
    for group in synonyms:
        for member in group:
            by_first.setdefault(member[0], []).append((member, group))
    return by_first


@functools.lru_cache(maxsize=4096)
def _phrase(text: str) -> tuple[str, ...]:
    return tuple(t for t in words(text) if t != ".")


def parse_concept(text: str, synonyms=()) -> Concept:
    """One concept string (``"a | b | = formula | #0.9"``) -> :class:`Concept`."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a non-empty string of alternatives separated by '|', got {text!r}")
    triples = [t for part in text.split("|") if part.strip() for t in _alternative(part, synonyms)]
    return Concept(tuple(t[0] for t in triples), tuple((t[1], t[2]) for t in triples))


def _point(table, where: str, synonyms) -> PointRubric:
    if not isinstance(table, dict):
        raise RubricError(f"{where}: expected an inline table {{ need = [...] }}, got {table!r}")
    unknown = set(table) - POINT_FIELDS
    if unknown:
        raise RubricError(f"{where}: unknown field(s) {sorted(unknown)}; expected {sorted(POINT_FIELDS)}")
    need = table.get("need", [])
    if not isinstance(need, list) or not need:
        raise RubricError(f"{where}: 'need' must be a non-empty list of concept strings, got {need!r}")
    count = table.get("min", len(need))
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(need):
        raise RubricError(f"{where}: 'min' must be an integer from 1 to {len(need)}, got {count!r}")
    try:
        concepts = tuple(parse_concept(c, synonyms) for c in need)
        forbid = tuple(parse_concept(c) for c in table.get("not", []))  # said as written: no synonyms
    except ValueError as error:
        raise RubricError(f"{where}: {error}") from None
    return PointRubric(concepts, count, forbid, str(table.get("cue", "")))


def load_synonyms(directory: Path) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Synonym groups as normalized word tuples (``groups = [["learning rate", "step size"], ...]``)."""
    path = directory / SYNONYMS_FILE
    if not path.is_file():
        return ()
    groups = tomllib.loads(path.read_text(encoding="utf-8")).get("groups", [])
    normalized = []
    for group in groups:
        members = tuple(dict.fromkeys(tuple(t for t in words(m) if t != ".") for m in group))
        normalized.append(tuple(m for m in members if m))
    return tuple(normalized)


def load_rubrics(directory=None) -> dict[str, Rubric]:
    """Every rubric under ``directory`` (default: the bank's ``rubrics`` folder): question id -> Rubric.

    Raises :class:`RubricError` naming the file and question on a malformed table.
    Questions without a table simply have no rubric; :class:`~gdcourse.practice.judge.Judge`
    says so to the candidate.
    """
    directory = RUBRIC_DIR if directory is None else Path(directory)
    if not directory.is_dir():
        raise RubricError(f"directory: expected a folder of <topic>.toml rubric files, {directory} is not one")
    synonyms = load_synonyms(directory)
    rubrics: dict[str, Rubric] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name == SYNONYMS_FILE:
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise RubricError(f"{path.name}: not valid TOML: {error}") from None
        for question_id, table in data.items():
            where = f"{path.name}: {question_id}"
            if not isinstance(table, dict) or not isinstance(table.get("points"), list):
                raise RubricError(f"{where}: expected a table with 'points = [...]'")
            points = tuple(_point(p, f"{where}: point {i}", synonyms) for i, p in enumerate(table["points"], 1))
            try:
                wrong = tuple(parse_concept(c) for c in table.get("wrong", []))
            except ValueError as error:
                raise RubricError(f"{where}: wrong: {error}") from None
            rubrics[question_id] = Rubric(question_id, points, wrong)
    return rubrics
