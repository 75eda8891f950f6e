"""What grading produces: one row per exercise, one result per submission, one report per run.

The grader (:mod:`gdcourse.course.grade`) fills these in and the gradebook
(:mod:`gdcourse.course.gradebook`) stores them; both import them from here, so
neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExerciseRow", "SubmissionResult", "RunReport", "GradeError", "zero_rows"]


class GradeError(ValueError):
    """Grading cannot start (bad folders, a source that cannot be graded, isolation required but absent)."""


@dataclass(frozen=True)
class ExerciseRow:
    """The score of one graded cell (``grade_id``) of one submission."""

    grade_id: str
    points: float
    max_points: float
    status: str
    message: str = ""
    error: str = ""
    duration: float = 0.0


@dataclass
class SubmissionResult:
    """Everything the gradebook records for one student's notebook."""

    student: str
    notebook: str
    status: str  # "graded", "malformed", "unknown notebook", "error"
    error: str = ""
    rows: list[ExerciseRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    sha256: str = ""
    kernel_starts: int = 0

    @property
    def points(self) -> float:
        return sum(r.points for r in self.rows)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.rows)


@dataclass
class RunReport:
    """What a run did (printed by the command and stored in ``summary.json``)."""

    submissions: int
    students: int
    seconds: float
    workers: int
    isolation: str
    out: Path
    problems: list[str] = field(default_factory=list)
    limits: str = ""
    interrupted: str = ""

    @property
    def per_minute(self) -> float:
        return 60.0 * self.submissions / self.seconds if self.seconds > 0 else 0.0


def zero_rows(assignment, status: str, message: str) -> list[ExerciseRow]:
    """0 points on every test of ``assignment`` (a submission that could not be graded), each saying why."""
    return [ExerciseRow(t.grade_id, 0.0, t.points, status, message, message) for t in assignment.tests]
