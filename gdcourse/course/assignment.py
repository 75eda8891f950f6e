"""What is graded: the source notebook's plan, a submission read defensively, and the two merged.

The notebook that runs is always the *source* (``solutions/NN_*.ipynb``) with the
student's solution cells put in place of the source's, matched by nbgrader
``grade_id``:

* every other cell (text, experiments, locked cells, test cells) comes from the
  source, so editing or deleting a test cannot change a score;
* a solution cell missing from the submission runs as its released stub (so the
  notebook goes on) and its exercise scores 0; the other exercises are graded;
* when a student duplicated a solution cell, the first copy (in notebook order)
  is graded and the others are ignored (a note says so);
* cells the student added are ignored.

Test cells (``grade: true``) never run in the student's kernel: the grader runs
them itself (:mod:`gdcourse.course.testcell`), hidden tests included, so the
hidden tests never reach anything the student's code can see.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from gdcourse.course import release as R

__all__ = ["Assignment", "AssignmentError", "Malformed", "Step", "TestCell", "load_assignment",
           "read_submission", "merge", "notebook_marks", "MAX_SUBMISSION_BYTES",
           "read_regular_file"]

MAX_SUBMISSION_BYTES = 100 * 2**20


class AssignmentError(ValueError):
    """A source notebook that cannot be graded (the instructor's to fix)."""


class Malformed(ValueError):
    """A submission that cannot be graded; the message says why, in words for the student."""


@dataclass(frozen=True)
class TestCell:
    """A graded cell: ``points`` if it runs without error. ``exercise`` is the solution cell it tests."""

    grade_id: str
    points: float
    source: str
    exercise: str | None


@dataclass(frozen=True)
class Step:
    """One cell to run, in order: ``kind`` "code" (in the kernel) or "test" (in the grader)."""

    kind: str
    code: str = ""
    solution: str | None = None
    stub: str = ""
    test: TestCell | None = None


@dataclass
class Assignment:
    """A source notebook prepared for grading."""

    name: str
    cells: list
    solutions: dict[str, int]
    tests: list[TestCell]
    stubs: dict[str, str]
    trusted_imports: list[str]
    learner_names: frozenset[str] = frozenset()

    @property
    def grade_ids(self) -> set[str]:
        return set(self.solutions) | {t.grade_id for t in self.tests}

    @property
    def marks(self) -> set[str]:
        """What identifies this notebook: its cell ids and grade ids (a student version keeps both)."""
        cell_ids = {f"id:{c.get('id')}" for c in self.cells if c.get("id")}
        return cell_ids | {f"grade:{g}" for g in self.grade_ids}

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _is_solution(cell) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("solution")) and not meta.get("grade")


def _is_test(cell) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _imports(source) -> list[str]:
    """Top-level import statements of a cell (IPython magics and shell lines skipped)."""
    if source.lstrip().startswith("%%"):
        return []
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    return [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]


def _defined_names(source) -> set[str]:
    """Names a solution cell defines at top level (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def load_assignment(path) -> Assignment:
    """Read ``solutions/NN_*.ipynb`` and check that it can be graded (unique grade ids, numeric points)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    released = R.student_version(nb, path.name)
    solutions, tests, stubs, imports, seen, learner_names = {}, [], {}, [], set(), set()
    last_solution = None
    for index, (cell, stub) in enumerate(zip(nb.cells, released.cells, strict=True)):
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if grade_id is not None:
            if not isinstance(grade_id, str) or not grade_id or grade_id in seen:
                raise AssignmentError(f"{path.name} cell {index}: grade_id {grade_id!r} is empty or not "
                                      "unique")
            seen.add(grade_id)
        if _is_solution(cell):
            solutions[grade_id] = index
            stubs[grade_id] = stub.source
            learner_names |= _defined_names(cell.source)
            last_solution = grade_id
        elif _is_test(cell):
            points = meta.get("points", 0)
            if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
                raise AssignmentError(f"{path.name} test cell {grade_id!r}: points must be a number >= 0, "
                                      f"got {points!r}")
            tests.append(TestCell(grade_id, float(points), cell.source, last_solution))
        elif cell.cell_type == "code":
            imports += _imports(cell.source)
    return Assignment(path.name, nb.cells, solutions, tests, stubs, list(dict.fromkeys(imports)),
                      frozenset(learner_names))


def notebook_marks(path) -> set[str]:
    """:attr:`Assignment.marks` of any notebook file, read leniently (empty when unreadable)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return set()
    cells = [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
    ids = {i for i in (_nbgrader(c).get("grade_id") for c in cells) if isinstance(i, str)}
    return {f"id:{c['id']}" for c in cells if isinstance(c.get("id"), str)} | {f"grade:{i}" for i in ids}


def _similarity(a, b) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _other_assignment(marks, assignment, others) -> str | None:
    """The other assignment the notebook resembles more than this one (by cell ids and grade ids), if any."""
    own = _similarity(marks, assignment.marks)
    best = max(others.items(), key=lambda item: _similarity(marks, item[1]), default=None)
    if best is not None and _similarity(marks, best[1]) > own:
        return best[0]
    return None


def read_regular_file(path) -> bytes:
    """The bytes of ``path``, which must be a regular file and not a link (checked on the open file, so a file
    swapped for a link after discovery is refused too); :class:`Malformed` otherwise or when too large."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Malformed("not a regular file: the submission is a symbolic link.") from None
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Malformed("not a regular file: the submission is not a notebook file.")
        if info.st_size > MAX_SUBMISSION_BYTES:
            raise Malformed(f"the file is {info.st_size / 2**20:.0f} MB, over the {MAX_SUBMISSION_BYTES // 2**20}"
                            " MB limit: clear the outputs (Edit > Clear Outputs of All Cells) and submit again.")
        return f.read(MAX_SUBMISSION_BYTES + 1)


def read_submission(path, assignment: Assignment, others=None) -> dict:
    """The submission as a notebook dict, or :class:`Malformed` with a reason a student can act on.

    ``others`` maps other assignments' names to their :attr:`Assignment.marks`,
    to recognise (and name) the notebook of another assignment.
    """
    raw = read_regular_file(path)
    if len(raw) == 0:
        raise Malformed("the file is empty (0 bytes): save the notebook in Jupyter and submit it again.")
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Malformed("the file is not text (not UTF-8): it is not a Jupyter notebook.") from None
    except json.JSONDecodeError as err:
        raise Malformed(f"the file is not a Jupyter notebook: invalid JSON at line {err.lineno}, column "
                        f"{err.colno} ({err.msg}).") from None
    except RecursionError:
        raise Malformed("the file is not a Jupyter notebook: its JSON is nested too deeply to read.") from None
    if not isinstance(nb, dict) or "nbformat" not in nb:
        raise Malformed("the file is JSON but not a Jupyter notebook (it has no nbformat version).")
    version = nb.get("nbformat")
    if version != 4:
        raise Malformed(f"the notebook has nbformat {version!r}; grading needs nbformat 4 (open it in a "
                        "current Jupyter and save it again).")
    if not isinstance(nb.get("cells"), list):
        raise Malformed("the notebook has no list of cells.")
    cells = [c for c in nb["cells"] if isinstance(c, dict)]
    ids = {i for i in (_nbgrader(c).get("grade_id") for c in cells) if isinstance(i, str)}
    marks = {f"id:{c['id']}" for c in cells if isinstance(c.get("id"), str)} | {f"grade:{i}" for i in ids}
    other = _other_assignment(marks, assignment, others or {})
    if other is not None:
        raise Malformed(f"this notebook looks like {other}, not {assignment.name}: submit each notebook "
                        "under its own name.")
    if not ids & assignment.grade_ids:
        raise Malformed(f"the notebook has none of the exercise cells of {assignment.name} (their "
                        f"nbgrader metadata is missing): submit the {assignment.name} you were given, with "
                        "your answers in its exercise cells.")
    return nb


@dataclass
class Merged:
    """The steps to run, the exercises whose solution cell is missing, and notes for the student."""

    steps: list[Step]
    missing: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def merge(assignment: Assignment, submission: dict) -> Merged:
    """The source notebook with the submission's solution cells in place (see the module docstring)."""
    answers, notes = {}, []
    for index, cell in enumerate(submission["cells"]):
        if not isinstance(cell, dict) or not _is_solution(cell):
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        if not isinstance(grade_id, str):  # a bad cell costs only itself
            notes.append(f"cell {index} was ignored: its grade_id is {type(grade_id).__name__}, not text.")
            continue
        if grade_id not in assignment.solutions:
            continue
        if grade_id in answers:
            notes.append(f"the exercise cell {grade_id!r} appears more than once: the first copy was graded.")
            continue
        answers[grade_id] = _text(cell.get("source"))
    merged = Merged([], set(assignment.solutions) - set(answers), notes)
    tests = {t.grade_id: t for t in assignment.tests}
    for cell in assignment.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in assignment.solutions:
            stub = assignment.stubs[grade_id]
            merged.steps.append(Step("code", answers.get(grade_id, stub), solution=grade_id, stub=stub))
        elif grade_id in tests:
            merged.steps.append(Step("test", test=tests[grade_id]))
        elif cell.cell_type == "code":
            merged.steps.append(Step("code", cell.source))
    for grade_id in sorted(merged.missing):
        notes.append(f"the exercise cell {grade_id!r} is missing from the notebook: its tests score 0.")
    return merged
