"""Curated test material: false statements, numeric questions and step orderings per bank question.

Read from ``gdcourse/bank/distractors/<topic>.toml`` (format in that folder's ``README.md``)
and checked against the bank: every table must name a bank question, every false
statement must differ from every key point of the bank, every numeric answer must
not appear among the prompt's own numbers, and every ordering needs at least three steps.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gdcourse.bank import BANK_DIR

__all__ = ["DISTRACTORS_DIR", "FormulaQuestion", "Material", "NumberQuestion", "OrderQuestion", "load_material",
           "numbers_in"]

DISTRACTORS_DIR = BANK_DIR / "distractors"
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class NumberQuestion:
    """Type a number: right when ``|reply - answer| <= tolerance``."""

    entry_id: str
    prompt: str
    answer: float
    tolerance: float
    explanation: str


@dataclass(frozen=True)
class FormulaQuestion:
    """Type a formula in ``variables``: right when it is the same function as ``answer`` (see formula.py)."""

    entry_id: str
    prompt: str
    answer: str
    variables: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class OrderQuestion:
    """Put ``steps`` (listed here in the right order) in order."""

    entry_id: str
    prompt: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Material:
    """Everything curated for the test mode: ``false`` maps entry id -> false statements."""

    false: dict[str, tuple[str, ...]]
    numbers: tuple[NumberQuestion, ...]
    orders: tuple[OrderQuestion, ...]
    formulas: tuple[FormulaQuestion, ...] = ()


def numbers_in(text: str) -> list[float]:
    """The numbers written in ``text`` (``50,000`` -> 50000.0; ``1e-3`` -> 0.001)."""
    found = []
    for match in _NUMBER.finditer(text):
        token = match.group(0).replace(",", "")
        if any(c.isdigit() for c in token):
            try:
                found.append(float(token))
            except ValueError:
                continue
    return found


def load_material(bank, directory=None, *, strict: bool = False) -> Material:
    """Read every ``<topic>.toml`` of ``directory`` (default: the bank's ``distractors``) and check it.

    Tables about questions that are not in ``bank`` are skipped (a test bank holds a few
    questions), or reported when ``strict``. Raises ValueError listing every problem
    (file, id, what is wrong).
    """
    directory = Path(directory) if directory is not None else DISTRACTORS_DIR
    key_points = {point.casefold() for entry in bank for point in entry.key_points}
    false, numbers, orders, formulas, problems = {}, [], [], [], []
    for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if not strict:
            data = {kind: [t for t in tables if t.get("id") in bank] for kind, tables in data.items()}
        for table in data.get("false", []):
            entry_id = table.get("id", "")
            statements = tuple(" ".join(s.split()) for s in table.get("statements", []))
            problems += _check_id(path, entry_id, bank)
            problems += [f"{path.name}: {entry_id}: false statement is a key point: {s!r}"
                         for s in statements if s.casefold() in key_points]
            false[entry_id] = false.get(entry_id, ()) + statements
        for table in data.get("number", []):
            question = NumberQuestion(table.get("id", ""), " ".join(table.get("prompt", "").split()),
                                      float(table.get("answer", "nan")), float(table.get("tolerance", 0)),
                                      " ".join(table.get("explanation", "").split()))
            problems += _check_id(path, question.entry_id, bank)
            if any(abs(value - question.answer) <= question.tolerance for value in numbers_in(question.prompt)):
                problems.append(f"{path.name}: {question.entry_id}: the answer {question.answer} is written in "
                                f"the prompt")
            numbers.append(question)
        for table in data.get("order", []):
            question = OrderQuestion(table.get("id", ""), " ".join(table.get("prompt", "").split()),
                                     tuple(table.get("steps", ())))
            problems += _check_id(path, question.entry_id, bank)
            if len(question.steps) < 3 or len(set(question.steps)) != len(question.steps):
                problems.append(f"{path.name}: {question.entry_id}: expected at least 3 distinct steps, "
                                f"got {len(question.steps)}")
            orders.append(question)
        for table in data.get("formula", []):
            question = FormulaQuestion(table.get("id", ""), " ".join(table.get("prompt", "").split()),
                                       table.get("answer", ""), tuple(table.get("variables", ())),
                                       " ".join(table.get("explanation", "").split()))
            problems += _check_id(path, question.entry_id, bank)
            if not question.variables or not question.answer:
                problems.append(f"{path.name}: {question.entry_id}: a formula needs an answer and its variables")
            formulas.append(question)
    if problems:
        raise ValueError("test material: " + "; ".join(problems))
    return Material(false, tuple(numbers), tuple(orders), tuple(formulas))


def _check_id(path: Path, entry_id: str, bank) -> list[str]:
    return [] if entry_id in bank else [f"{path.name}: no bank question {entry_id!r}"]
