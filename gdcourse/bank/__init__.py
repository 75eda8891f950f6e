"""The question bank: interview questions with model answers, one TOML file per topic.

Each ``<topic>.toml`` in this directory is an array of ``[[question]]`` tables;
``README.md`` beside this file documents every field (type, required or not,
allowed values) as :func:`load` checks it. :func:`load` reads every file with
the standard library's ``tomllib``, checks the whole bank and raises one
:class:`BankError` that lists every problem found, each with its file and entry id,
so an author fixes them all in one pass instead of one per run.

Links point at notebook sections: ``"01_gd_basics.ipynb#GD-03"`` resolves when
``solutions/01_gd_basics.ipynb`` has a Markdown cell with a line starting
``## GD-03 · ``. Links are checked only for notebooks that exist, so the bank can
be written before the notebooks.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["LEVELS", "NOTEBOOKS", "TOPICS", "Bank", "BankError", "Entry", "load"]

TOPICS = {
    "GD": "Gradient descent basics",
    "VAR": "Batch, stochastic and mini-batch gradient descent; schedules",
    "OPT": "Optimizers, curvature and clipping",
    "BP": "Backpropagation and gradient flow",
    "ACT": "Neurons, activations and architecture basics",
    "NORM": "Normalization",
    "REG": "Regularization and generalization",
    "INIT": "Initialization",
    "PRAC": "Training practice and diagnostics",
    "DL": "General deep-learning concepts",
    "SCALE": "Training at scale: precision, memory, large batches, stability",
}

# easy: everyone should know; medium: beyond the definition; hard: needs experience.
LEVELS = ("easy", "medium", "hard")

NOTEBOOKS = (
    "00_start_here.ipynb",
    "01_gd_basics.ipynb",
    "02_gd_variants.ipynb",
    "03_optimizers.ipynb",
    "04_backprop.ipynb",
    "05_activations.ipynb",
    "06_normalization.ipynb",
    "07_regularization.ipynb",
    "08_initialization.ipynb",
    "09_training_playbook.ipynb",
    "10_mock_interview.ipynb",
    "11_training_at_scale.ipynb",
)

BANK_DIR = Path(__file__).resolve().parent
SOLUTIONS_DIR = BANK_DIR.parents[1] / "solutions"

# Main ids are "GD-03"; a follow-up adds one lower-case letter: "GD-03a".
ID_PATTERN = re.compile(r"^(?P<topic>[A-Z]+)-(?P<number>\d{2})(?P<letter>[a-z]?)$")
SECTION_HEADING = re.compile(r"^## (?P<id>[A-Z]+-\d{2}[a-z]?) · ", re.MULTILINE)
KEY_POINTS_RANGE = (3, 6)


@dataclass(frozen=True)
class Entry:
    """One question with its model answer (every field is described in this folder's ``README.md``)."""

    id: str
    topic: str
    level: str
    prompt: str
    answer: str
    key_points: tuple[str, ...]
    follow_ups: tuple[str, ...]
    notebook: str
    sources: tuple[str, ...]
    common_mistake: str = ""
    formula: str = ""

    @property
    def is_follow_up(self) -> bool:
        """True for a follow-up question ("GD-03a"), False for a main one ("GD-03")."""
        return _parent_id(self.id) is not None

    @property
    def parent(self) -> str | None:
        """The main id a follow-up belongs to ("GD-03a" -> "GD-03"); None for a main question."""
        return _parent_id(self.id)


FIELD_NAMES = tuple(f.name for f in fields(Entry))
OPTIONAL_FIELDS = ("common_mistake", "formula")
LIST_FIELDS = ("key_points", "follow_ups", "sources")
NON_EMPTY_FIELDS = ("id", "topic", "level", "prompt", "answer")


class BankError(ValueError):
    """The bank has problems; ``problems`` lists each one as ``"file: id: what is wrong"``."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"question bank: {len(self.problems)} problem(s):\n{lines}")


class Bank:
    """The loaded bank: ``entries`` maps id -> :class:`Entry` in file order."""

    def __init__(self, entries):
        self.entries = {entry.id: entry for entry in entries}

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries.values())

    def __contains__(self, entry_id):
        return entry_id in self.entries

    def get(self, entry_id: str) -> Entry:
        """The entry with this id; ``KeyError`` naming the id if there is none."""
        try:
            return self.entries[entry_id]
        except KeyError:
            raise KeyError(f"id: no question {entry_id!r} in the bank ({len(self)} entries)") from None

    def by_topic(self, topic: str) -> tuple[Entry, ...]:
        """Entries of one topic code (e.g. "GD"), main questions and follow-ups, in file order."""
        if topic not in TOPICS:
            raise ValueError(f"topic: expected one of {', '.join(TOPICS)}, got {topic!r}")
        return tuple(entry for entry in self if entry.topic == topic)

    def main_ids(self) -> list[str]:
        """Ids of the main questions (no follow-up letter), in file order."""
        return [entry.id for entry in self if not entry.is_follow_up]


def load(directory=None, solutions_dir=None) -> Bank:
    """Read and validate every ``<topic>.toml`` in ``directory`` (default: this package).

    ``solutions_dir`` (default: ``<repo>/solutions``) is where notebook links are
    resolved. Raises :class:`BankError` listing every problem found.
    """
    directory = BANK_DIR if directory is None else _as_path(directory, "directory")
    solutions_dir = SOLUTIONS_DIR if solutions_dir is None else _as_path(solutions_dir, "solutions_dir")
    if not directory.is_dir():
        what = "it is a file" if directory.exists() else "it does not exist"
        raise BankError([f"{directory}: expected a directory of <topic>.toml files; {what}"])
    problems, entries, ids = _read_directory(directory)
    problems += _check_ids(entries, ids)
    problems += _check_links(entries, solutions_dir)
    if problems:
        raise BankError(problems)
    return Bank(entry for _, entry in entries)


def _as_path(value, name: str) -> Path:
    try:
        return Path(value)
    except TypeError:
        raise TypeError(f"{name}: expected a path (str or os.PathLike), got {type(value).__name__}") from None


def _read_directory(directory: Path):
    """Problems, (file name, Entry) pairs and (file name, id) pairs of every table, over all files."""
    problems, entries, ids = [], [], []
    for path in _bank_files(directory):
        file_problems, file_entries, file_ids = _read_file(path)
        problems += file_problems
        entries += [(path.name, entry) for entry in file_entries]
        ids += [(path.name, entry_id) for entry_id in file_ids]
    if not ids and not problems:
        problems.append(f"{directory}: no <topic>.toml files with questions found")
    return problems, entries, ids


def _parent_id(entry_id: str) -> str | None:
    match = ID_PATTERN.match(entry_id)
    if match is None or not match["letter"]:
        return None
    return f"{match['topic']}-{match['number']}"


def _bank_files(directory: Path) -> list[Path]:
    """The ``.toml`` files, in ``TOPICS`` order, then any other names (reported as problems)."""
    order = {f"{code.lower()}.toml": rank for rank, code in enumerate(TOPICS)}
    return sorted(directory.glob("*.toml"), key=lambda p: (order.get(p.name, len(order)), p.name))


def _read_file(path: Path) -> tuple[list[str], list[Entry], list[str]]:
    """Parse one file; return its problems, its well-formed entries and the id of every table.

    Ids of malformed tables are kept too, so that a broken entry is reported once
    and not again as an "unknown id" by every question that lists it as a follow-up.
    """
    topic = path.stem.upper()
    if topic not in TOPICS:
        return [f"{path.name}: file name must be a topic code ({', '.join(TOPICS)}), in lower case"], [], []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return [f"{path.name}: not valid TOML: {error}"], [], []
    except OSError as error:
        return [f"{path.name}: cannot be read: {error.strerror or error}"], [], []
    problems = [f"{path.name}: unknown top-level key {key!r} (expected only [[question]])"
                for key in data if key != "question"]
    tables = data.get("question", [])
    if not isinstance(tables, list):
        return problems + [f"{path.name}: 'question' must be an array of tables ([[question]])"], [], []
    entries, ids = [], []
    for position, table in enumerate(tables, start=1):
        entry_id = _table_id(table)
        where = f"{path.name}: {entry_id or f'question #{position} (no id)'}"
        table_problems, entry = _read_entry(table, topic, where)
        problems += table_problems
        entries += [entry] if entry is not None else []
        ids += [entry_id] if entry_id else []
    return problems, entries, ids


def _table_id(table) -> str:
    """The id as the Entry will hold it (stripped, as every string field), so duplicates are caught."""
    if isinstance(table, dict) and isinstance(table.get("id"), str):
        return table["id"].strip()
    return ""


def _read_entry(table, topic: str, where: str) -> tuple[list[str], Entry | None]:
    """Check one ``[[question]]`` table; return its problems and the Entry if it is usable."""
    if not isinstance(table, dict):
        return [f"{where}: expected a table, got {type(table).__name__}"], None
    problems = _check_fields(table, where)
    if problems:
        return problems, None
    values = {name: tuple(value) if name in LIST_FIELDS else value.strip() for name, value in table.items()}
    entry = Entry(**values)
    return _check_values(entry, topic, where), entry


def _check_fields(table: dict, where: str) -> list[str]:
    """Missing, unknown and wrongly typed fields."""
    required = [name for name in FIELD_NAMES if name not in OPTIONAL_FIELDS]
    problems = [f"{where}: missing field {name!r}" for name in required if name not in table]
    problems += [f"{where}: unknown field {name!r}" for name in table if name not in FIELD_NAMES]
    for name, value in table.items():
        if name not in FIELD_NAMES:
            continue
        if name in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                problems.append(f"{where}: field {name!r} must be a list of non-empty strings, got {value!r}")
        elif not isinstance(value, str):
            problems.append(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
        elif name in NON_EMPTY_FIELDS and not value.strip():
            problems.append(f"{where}: field {name!r} must not be empty")
    return problems


def _check_values(entry: Entry, topic: str, where: str) -> list[str]:
    """Id format, topic, level and the number of key points."""
    problems = []
    match = ID_PATTERN.match(entry.id)
    if match is None:
        problems.append(f"{where}: id must look like 'GD-03' or, for a follow-up, 'GD-03a'")
    elif match["topic"] != entry.topic:
        problems.append(f"{where}: id prefix {match['topic']!r} does not match topic {entry.topic!r}")
    if entry.topic != topic:
        problems.append(f"{where}: topic {entry.topic!r} does not match the file (expected {topic!r})")
    if entry.level not in LEVELS:
        problems.append(f"{where}: level must be one of {', '.join(LEVELS)}, got {entry.level!r}")
    low, high = KEY_POINTS_RANGE
    if not low <= len(entry.key_points) <= high:
        problems.append(f"{where}: key_points must have {low} to {high} items, got {len(entry.key_points)}")
    return problems


def _check_ids(entries: list[tuple[str, Entry]], ids: list[tuple[str, str]]) -> list[str]:
    """Duplicate ids, follow-ups that name unknown ids, follow-ups without a parent."""
    problems, seen = [], {}
    for file_name, entry_id in ids:
        if entry_id in seen:
            problems.append(f"{file_name}: {entry_id}: duplicate id (first defined in {seen[entry_id]})")
        else:
            seen[entry_id] = file_name
    for file_name, entry in entries:
        problems += [f"{file_name}: {entry.id}: follow_ups names unknown id {other!r}"
                     for other in entry.follow_ups if other not in seen]
        if entry.id in entry.follow_ups:
            problems.append(f"{file_name}: {entry.id}: follow_ups names the question itself")
        if entry.is_follow_up and entry.parent not in seen:
            problems.append(f"{file_name}: {entry.id}: follow-up of {entry.parent!r}, which does not exist")
    return problems


def _check_links(entries: list[tuple[str, Entry]], solutions_dir: Path) -> list[str]:
    """Notebook links: known file name, and a section that exists if the notebook does."""
    problems, sections = [], {}  # sections: notebook name -> set of section ids (None: unreadable)
    for file_name, entry in entries:
        if not entry.notebook:
            continue
        where = f"{file_name}: {entry.id}"
        name, _, section = entry.notebook.partition("#")
        if name not in NOTEBOOKS or not section:
            problems.append(f"{where}: notebook link {entry.notebook!r} must be '<notebook>#<ID>' with "
                            f"<notebook> one of {', '.join(NOTEBOOKS)}")
            continue
        path = solutions_dir / name
        if not path.is_file():
            continue
        if name not in sections:
            sections[name] = _notebook_sections(path)
            if sections[name] is None:
                problems.append(f"{path}: not a readable notebook (invalid JSON or no cells)")
        if sections[name] is not None and section not in sections[name]:
            problems.append(f"{where}: notebook link {entry.notebook!r}: {name} has no heading "
                            f"'## {section} · ...'")
    return problems


def _notebook_sections(path: Path) -> set[str] | None:
    """Section ids of a notebook: ids in Markdown lines that start with ``## <ID> · ``."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
        return None
    if not isinstance(cells, list):
        return None
    ids = set()
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            ids.update(match["id"] for match in SECTION_HEADING.finditer(text))
    return ids
