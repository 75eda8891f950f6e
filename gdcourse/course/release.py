"""Student notebooks from the solutions: ``gdcourse release``.

``solutions/NN_*.ipynb`` are complete and are the single source of truth. A
release writes ``notebooks/NN_*.ipynb`` where

* each region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a
  stub: inside a function body ``raise NotImplementedError("Exercise <id>: …")``
  (the check reports "not done yet"); at the top level of a cell,
  ``name = None  # your answer`` for each name the region assigns, so the cell
  still runs;
* regions between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are
  removed;
* outputs and execution counts are cleared; cell ids and nbgrader metadata are
  kept, so the student version lines up with the source cell by cell.

Releasing is idempotent: a notebook is rewritten only when its content changes.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from gdcourse.atomic import atomic_write

__all__ = [
    "BEGIN_SOLUTION", "END_SOLUTION", "BEGIN_HIDDEN", "END_HIDDEN",
    "ReleaseError", "Exercise", "student_version", "release", "stale_notebooks", "list_exercises",
    "default_root", "serialize", "source_notebooks", "marked_regions",
]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class ReleaseError(ValueError):
    """A solutions notebook that cannot be released (unbalanced markers, missing grade_id)."""


@dataclass(frozen=True)
class Exercise:
    notebook: str
    grade_id: str
    kind: str  # "solution" (the learner writes it) or "test" (graded check)
    points: float


def default_root() -> Path:
    """The course folder: the current directory if it has ``solutions/``, else the repository."""
    cwd = Path.cwd()
    return cwd if (cwd / "solutions").is_dir() else Path(__file__).resolve().parents[2]


def marked_regions(lines, begin, end, where):
    """Yield ``(start, stop)`` line indices of each begin/end marker pair (inclusive)."""
    start = None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == begin:
            if start is not None:
                raise ReleaseError(f"{where}: '{begin}' at line {i + 1} inside another region")
            start = i
        elif text == end:
            if start is None:
                raise ReleaseError(f"{where}: '{end}' at line {i + 1} without '{begin}'")
            yield start, i
            start = None
    if start is not None:
        raise ReleaseError(f"{where}: '{begin}' at line {start + 1} is never closed with '{end}'")


def _assigned_names(code):
    """Names assigned at the top level of ``code`` (``a = …``, ``a, b = …``, ``a: int = …``)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            for leaf in ast.walk(target) if target is not None else ():
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def _stub(region_lines, grade_id):
    indent = re.match(r"\s*", region_lines[0]).group(0)
    body = "\n".join(line[len(indent):] for line in region_lines[1:-1])
    if indent:
        return [f'{indent}raise NotImplementedError("Exercise {grade_id}: replace this line with your code")']
    names = _assigned_names(body)
    if not names:
        return ["# YOUR CODE HERE"]
    return [f"{name} = None  # YOUR ANSWER HERE" for name in names]


def _strip(source, grade_id, where):
    lines = source.split("\n")
    for start, stop in reversed(list(marked_regions(lines, BEGIN_HIDDEN, END_HIDDEN, where))):
        del lines[start:stop + 1]
    for start, stop in reversed(list(marked_regions(lines, BEGIN_SOLUTION, END_SOLUTION, where))):
        if not grade_id:
            raise ReleaseError(f"{where}: a solution region needs nbgrader metadata with a grade_id")
        lines[start:stop + 1] = _stub(lines[start:stop + 1], grade_id)
    return "\n".join(lines).rstrip("\n")


def student_version(nb, name="notebook"):
    """A released copy of the solutions notebook ``nb`` (the input is not modified)."""
    out = copy.deepcopy(nb)
    for index, cell in enumerate(out.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        where = f"{name} cell {index} ({cell.get('id', '?')})"
        if cell.cell_type == "code":
            cell.source = _strip(cell.source, grade_id, where)
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return out


def serialize(nb) -> str:
    """The canonical text of a notebook (what is compared and written)."""
    return nbformat.writes(nb, version=4) + "\n"


def source_notebooks(solutions: Path, names=None) -> list[Path]:
    """``solutions/NN_*.ipynb`` in order, or those ``names`` (``01``, ``01_gd_basics``) select."""
    paths = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return paths
    wanted = []
    for name in names:
        match = [p for p in paths if p.name == name or p.stem == name or p.name.startswith(f"{name}_")]
        if not match:
            raise ReleaseError(f"notebook: no solutions notebook matches {name!r}; have {[p.name for p in paths]}")
        wanted.extend(match)
    return wanted


def _released_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return serialize(student_version(nb, path.name))


def release(solutions, notebooks, names=None) -> list[Path]:
    """Write the student versions; return the paths that changed."""
    solutions, notebooks = Path(solutions), Path(notebooks)
    notebooks.mkdir(parents=True, exist_ok=True)
    changed = []
    for src in source_notebooks(solutions, names):
        text = _released_text(src)
        dest = notebooks / src.name
        if not dest.exists() or dest.read_text(encoding="utf-8") != text:
            atomic_write(dest, text)
            changed.append(dest)
    return changed


def stale_notebooks(solutions, notebooks, names=None) -> list[str]:
    """Problems that make ``notebooks/`` differ from a fresh release (empty when up to date)."""
    solutions, notebooks = Path(solutions), Path(notebooks)
    problems = []
    sources = source_notebooks(solutions, names)
    for src in sources:
        dest = notebooks / src.name
        if not dest.exists():
            problems.append(f"{dest} is missing")
        elif dest.read_text(encoding="utf-8") != _released_text(src):
            problems.append(f"{dest} differs from a fresh release of {src}")
    if not names:
        known = {src.name for src in sources}
        problems += [f"{p} has no source in {solutions}" for p in sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
                     if p.name not in known]
    return problems


def list_exercises(solutions, names=None) -> list[Exercise]:
    """Every graded or solution cell, in notebook order."""
    rows = []
    for src in source_notebooks(Path(solutions), names):
        for cell in nbformat.read(src, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") or meta.get("grade"):
                kind = "test" if meta.get("grade") else "solution"
                rows.append(Exercise(src.name, meta.get("grade_id", ""), kind, float(meta.get("points", 0))))
    return rows
