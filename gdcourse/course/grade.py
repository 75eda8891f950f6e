"""``gdcourse grade``: grade submitted notebooks in parallel, each in its own sandboxed kernel.

Layout of ``SUBMISSIONS_DIR``:

* ``<student>/<NN_name>.ipynb``: one folder per student, any number of
  notebooks; a file is matched to ``solutions/NN_name.ipynb`` by its exact name,
  or else by its ``NN_`` prefix when only one source has it (so
  ``01_gd_basics (1).ipynb`` is graded as ``01_gd_basics.ipynb``);
* ``<student>.ipynb``: one file per student, when one notebook is graded
  (``--notebook NN`` says which);
* names starting with ``.`` or ``_`` (``.ipynb_checkpoints``, ``__MACOSX``) are skipped.

For each submission a worker process (``--workers`` of them in parallel, a
fresh process per submission) starts a kernel in the sandbox
(:mod:`gdcourse.course.sandbox`), runs the merged notebook
(:mod:`gdcourse.course.assignment`) cell by cell with a per-cell ``--timeout``,
runs each test cell in the grader against the kernel
(:mod:`gdcourse.course.testcell`), and returns the scores. A cell that times
out, crashes the kernel or prints past the output cap scores 0 for its
exercise; the kernel is restarted, the cells that ran before are replayed and
grading goes on. Only the main process writes results
(:mod:`gdcourse.course.gradebook`), after each submission, atomically.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from gdcourse.course.assignment import (
    AssignmentError,
    Malformed,
    load_assignment,
    merge,
    notebook_marks,
    read_regular_file,
    read_submission,
)
from gdcourse.course.discover import find_submissions
from gdcourse.course.gradebook import Results
from gdcourse.course.kernel import KernelSession, KernelStartError
from gdcourse.course.limits import CgroupSupport
from gdcourse.course.results import ExerciseRow, GradeError, RunReport, SubmissionResult, zero_rows
from gdcourse.course.workers import StopOnSignals, Stopped, run_pool

__all__ = ["GradeOptions", "GradeError", "Task", "ExerciseRow", "SubmissionResult", "RunReport",
           "grade", "grade_submission", "find_submissions"]


@dataclass(frozen=True)
class GradeOptions:
    """Limits and sandbox settings for every submission of a run."""

    timeout: float = 30.0
    memory_mb: int = 2048
    output_limit_mb: float = 10.0
    isolate: bool = False
    hidden: tuple[str, ...] = ()
    exposed: tuple[str, ...] = ()
    runs_dir: str = ""
    max_restarts: int = 3
    notebook_timeout: float = 600.0
    scratch_mb: int = 64
    cgroups: CgroupSupport | None = None


@dataclass(frozen=True)
class Task:
    student: str
    notebook: str
    path: str
    source: str
    others: dict = field(default_factory=dict)


# ---------------------------------------------------------------- one submission (in a worker)

_LOST_MESSAGES = {
    "timeout": "was stopped after {timeout:g} s, the time limit per cell (an infinite loop?).",
    "crashed": "crashed the kernel (sys.exit/os._exit, a crash, or more memory than the {memory} MB limit).",
    "output limit": "was stopped: it printed more than {output:g} MB.",
}


class _GiveUp(Exception):  # noqa: N818 - an internal signal, not an error for the user
    pass


class _NotebookRun:
    """Run the merged steps in one kernel; restart and replay after a lost kernel."""

    def __init__(self, assignment, merged, options: GradeOptions):
        from gdcourse.course.testcell import trusted_namespace

        self.assignment, self.merged, self.options = assignment, merged, options
        self.session = KernelSession(
            options.runs_dir, memory_mb=options.memory_mb, output_limit=int(options.output_limit_mb * 2**20),
            isolate=options.isolate, hidden=options.hidden, exposed=options.exposed, scratch_mb=options.scratch_mb,
            cgroups=options.cgroups,
            cpu_seconds=None if options.cgroups else int(options.notebook_timeout) + 1)
        self.trusted = trusted_namespace(assignment.trusted_imports)
        self.executed: list[str] = []
        self.lost_exercises: dict[str, str] = {}
        self.restarts = 0
        self.lost = False  # the kernel was lost while a test ran: restart before the next step
        self.deadline = time.monotonic() + options.notebook_timeout

    def lost_message(self, status) -> str:
        o = self.options
        return _LOST_MESSAGES[status].format(timeout=o.timeout, memory=o.memory_mb, output=o.output_limit_mb)

    def run(self) -> list[ExerciseRow]:
        rows = []
        self.session.start()
        try:
            for step in self.merged.steps:
                if time.monotonic() > self.deadline:
                    raise _GiveUp(f"grading stopped: the notebook ran over its total time limit of "
                                  f"{self.options.notebook_timeout:g} s.")
                if step.kind == "code":
                    self._run_code(step)
                else:
                    rows.append(self._run_test(step.test))
                    if self.lost:
                        self.lost = False
                        self._recover()
        except _GiveUp as stop:
            graded = {r.grade_id for r in rows}
            rows += [ExerciseRow(t.grade_id, 0.0, t.points, "not graded", str(stop), str(stop))
                     for t in self.assignment.tests if t.grade_id not in graded]
            order = {t.grade_id: i for i, t in enumerate(self.assignment.tests)}
            rows.sort(key=lambda r: order[r.grade_id])
        finally:
            self.session.close()
        return rows

    def _run_code(self, step, retry=True):
        """Run a cell in the kernel. A lost kernel costs the student's exercise; a source cell is retried."""
        result = self.session.execute(step.code, self.options.timeout)
        if not result.kernel_lost:
            self.executed.append(step.code)
            return
        if step.solution is not None:
            status = "crashed" if result.status == "died" else result.status
            self.lost_exercises.setdefault(step.solution, status)
            self.executed.append(step.stub)
            self._recover()
            return
        self._recover()
        if retry:  # the instructor's cell: a busy machine may have slowed it; a second failure skips it
            self._run_code(step, retry=False)

    def _recover(self):
        """Restart the kernel and replay what ran before; give up after ``max_restarts`` restarts."""
        while True:
            self.restarts += 1
            if self.restarts > self.options.max_restarts:
                raise _GiveUp(f"grading stopped: the kernel had to be restarted more than "
                              f"{self.options.max_restarts} times.")
            try:
                self.session.restart()
            except KernelStartError as err:
                raise _GiveUp(f"grading stopped: the kernel could not be restarted ({err}).") from None
            timeout = self.options.timeout
            if all(not self.session.execute(code, timeout).kernel_lost for code in self.executed):
                return

    def _run_test(self, test) -> ExerciseRow:
        from gdcourse.course.remote import KernelLost, Remote
        from gdcourse.course.testcell import evaluate

        started = time.monotonic()
        if test.exercise in self.merged.missing:
            message = f"the exercise cell {test.exercise!r} is missing from your notebook."
            return ExerciseRow(test.grade_id, 0.0, test.points, "missing", message, message)
        if test.exercise in self.lost_exercises:
            status = self.lost_exercises[test.exercise]
            message = f"your exercise cell {test.exercise!r} {self.lost_message(status)}"
            return ExerciseRow(test.grade_id, 0.0, test.points, status, message, message)
        remote = Remote(self.session, deadline=started + self.options.timeout)
        try:
            verdict = evaluate(test.grade_id, test.source, self.trusted, remote,
                               self.assignment.learner_names)
        except KernelLost as lost:
            message = f"your code {self.lost_message(lost.status)}"
            self.lost = True
            return ExerciseRow(test.grade_id, 0.0, test.points, lost.status, message, message,
                               time.monotonic() - started)
        points = test.points if verdict.passed else 0.0
        error = "" if verdict.passed else (verdict.message.splitlines() or [verdict.status])[-1]
        return ExerciseRow(test.grade_id, points, test.points, verdict.status, verdict.message, error,
                           time.monotonic() - started)


def _file_digest(path) -> str:
    try:
        return hashlib.sha256(read_regular_file(path)).hexdigest()
    except (OSError, Malformed):
        return ""


def grade_submission(task: Task, options: GradeOptions) -> SubmissionResult:
    """Grade one submission (runs in a worker process; never raises for a bad submission)."""
    started = time.monotonic()
    assignment = load_assignment(task.source)
    result = SubmissionResult(task.student, task.notebook, "graded", sha256=_file_digest(task.path))
    try:
        merged = merge(assignment, read_submission(task.path, assignment, task.others))
    except Malformed as err:
        result.status, result.error = "malformed", str(err)
        result.rows = zero_rows(assignment, "malformed", str(err))
    except OSError as err:
        result.status, result.error = "malformed", f"the file cannot be read: {err.strerror or err}"
        result.rows = zero_rows(assignment, "malformed", result.error)
    else:
        result.notes = merged.notes
        run = _NotebookRun(assignment, merged, options)
        try:
            result.rows = run.run()
        except KernelStartError as err:
            result.status, result.error = "error", f"the grading kernel did not start: {err}"
            result.rows = zero_rows(assignment, "error", "not graded: the grading kernel did not start "
                                                         "(the instructor has been told).")
        result.kernel_starts = run.session.starts
    result.duration = time.monotonic() - started
    return result


# ---------------------------------------------------------------- the run (main process)

def _sources(root, notebooks):
    from gdcourse.course import release as R

    solutions = Path(root) / "solutions"
    if not solutions.is_dir():
        raise GradeError(f"--root: {root} has no solutions/ folder")
    try:
        paths = R.source_notebooks(solutions, notebooks)
    except R.ReleaseError as err:
        raise GradeError(f"--notebook: {err}") from None
    if not paths:
        raise GradeError(f"--root: {solutions} holds no NN_*.ipynb notebook")
    return {p.name: p for p in paths}


ISOLATION_OFF_WARNING = ("kernels are NOT isolated: {why}. Submissions can read what this user can read "
                         "(solutions/ included), write where it can write and reach its network.")


def _isolation(mode) -> tuple[bool, str]:
    """``(isolate, text)``. ``auto`` without isolation grades anyway but never silently: the text starts with
    "OFF" and the run reports it as a warning (stderr, summary.json, the gradebook's ``runs`` table)."""
    from gdcourse.course import sandbox

    if mode == "off":
        return False, "off (--isolation off)"
    ok, reason = sandbox.probe()
    if ok:
        return True, f"on: {reason}"
    if mode == "require":
        raise GradeError(f"--isolation require: kernels cannot be isolated on this machine ({reason})")
    return False, f"OFF: isolation unavailable ({reason})"


def _check_hidden(hidden, exposed):
    """Every folder that must stay hidden lies outside what kernels see (else refuse to grade)."""
    for path in hidden:
        for shown in exposed:
            if path == shown or path.startswith(shown.rstrip("/") + "/"):
                raise GradeError(f"{path} must be hidden from kernels but lies inside {shown}, which kernels "
                                 "see read-only (the Python environment or the package): move it elsewhere.")


def _preload(assignments) -> list[str]:
    """Modules every worker imports: the grader's, and those the source notebooks import."""
    import ast

    names = ["gdcourse.course.grade", "gdcourse.course.kernel", "gdcourse.course.remote", "gdcourse.check"]
    for assignment in assignments:
        for statement in assignment.trusted_imports:
            node = ast.parse(statement).body[0]
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif node.module and not node.level:
                names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(names))


def grade(submissions_dir, out_dir, *, root, notebooks=None, workers=2, timeout=30.0, memory_mb=2048,
          output_limit_mb=10.0, isolation="auto", hide=(), progress=True,
          notebook_timeout=600.0, scratch_mb=64) -> RunReport:
    """Grade every submission; write the gradebook, grades.csv, summary.json and feedback to ``out_dir``.

    Workers are separate processes: from a script, call this under ``if __name__ == "__main__":``
    (as for any ``multiprocessing`` code). Raises :class:`GradeError` when grading cannot start.
    SIGTERM, SIGINT and a normal end all stop the workers and their kernels and remove the run's
    temporary folder (``$TMPDIR/gdcourse-grade-*``, which holds the kernels' session keys);
    ``report.interrupted`` names the signal that stopped a run.
    """
    if os.name != "posix":
        raise GradeError("gdcourse grade runs on Linux and macOS (on Windows, use WSL)")
    from gdcourse.course import limits, sandbox

    started = time.monotonic()
    _check_limits(workers, timeout, memory_mb, output_limit_mb)
    _check_limits(1, 1, 256, 1, scratch=scratch_mb)
    sources = _sources(root, None)
    selected = list(_sources(root, notebooks)) if notebooks else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    task_list, problems = find_submissions(submissions_dir, sources, selected)
    assignments = {}
    for name in sorted({t[1] for t in task_list} | {p.notebook for p in problems if p.notebook in sources}):
        try:
            assignments[name] = load_assignment(sources[name])
        except (AssignmentError, ValueError) as err:
            raise GradeError(f"cannot grade {name}: {err}") from None
    exposed = sandbox.default_exposed()
    hidden = [str(Path(h).resolve()) for h in hide]
    _check_hidden(hidden + [str(Path(p).resolve()) for p in (root, submissions_dir, out_dir)], exposed)
    isolate, isolation_text = _isolation(isolation)
    cgroups = limits.detect()
    report = RunReport(len(task_list), len({t[0] for t in task_list}), 0.0, workers, isolation_text, out_dir,
                       limits=limits.describe(cgroups))
    results = Results(out_dir, assignments)
    if not isolate:
        results.warnings.append(ISOLATION_OFF_WARNING.format(why=isolation_text))
    if cgroups is None:
        results.warnings.append(f"limits are {report.limits}.")
    others = {name: notebook_marks(path) for name, path in sources.items()}
    runs_dir = None
    with StopOnSignals() as stop:
        try:
            runs_dir = tempfile.mkdtemp(prefix="gdcourse-grade-")
            options = GradeOptions(
                timeout, memory_mb, output_limit_mb, isolate,
                tuple(sandbox.default_hidden(root, submissions_dir, out_dir, runs_dir) + hidden), tuple(exposed),
                runs_dir, notebook_timeout=notebook_timeout, scratch_mb=scratch_mb, cgroups=cgroups)
            results.record_many(problems)
            tasks = [Task(s, n, p, str(sources[n]), {k: v for k, v in others.items() if k != n})
                     for s, n, p in task_list]
            run_pool(grade_submission, tasks, options, workers, results, progress,
                     _preload(assignments.values()))
        except Stopped:
            pass
        finally:
            stop.disarm()
            if stop.signal_name:
                report.interrupted = stop.signal_name
                results.warnings.append(f"the run was stopped by {stop.signal_name}; the notebooks graded so "
                                        "far are recorded.")
            if runs_dir is not None:
                shutil.rmtree(runs_dir, ignore_errors=True)
            report.seconds = time.monotonic() - started
            report.problems = list(results.warnings)
            results.finish(report)
            results.close()
    return report


def _check_limits(workers, timeout, memory_mb, output_limit_mb, scratch=64):
    limits = (("--workers", workers, 1), ("--timeout", timeout, 0.1), ("--memory", memory_mb, 256),
              ("--output-limit", output_limit_mb, 0.001), ("--scratch", scratch, 1))
    for name, value, low in limits:
        if not isinstance(value, int | float) or isinstance(value, bool) or value < low:
            raise GradeError(f"{name} must be a number >= {low:g}, got {value!r}")


