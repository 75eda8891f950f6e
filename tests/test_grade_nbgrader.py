"""The course's notebooks work with real nbgrader, and nbgrader scores them as ``gdcourse grade`` does.

A temporary nbgrader course gets ``90_grading_demo.ipynb`` (built with the
course's metadata conventions) in ``source/``; ``nbgrader generate_assignment``
and ``nbgrader autograde`` run as subprocesses (offline), and their per-cell
scores are compared with ``gdcourse grade`` on the very same submissions.
"""

import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install nbgrader, as in "
                                       "requirements-dev.txt)")

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("grading_submissions",
                                               REPO / "tests" / "data" / "grading" / "submissions.py")
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

STUDENTS = ["correct", "empty", "partial"]
CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "gdcourse"
c.ExecutePreprocessor.timeout = 60
"""


def _nbgrader(course, *args):
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               JUPYTER_CONFIG_DIR=str(course / ".jupyter"))  # no user-wide nbgrader config
    done = subprocess.run([str(Path(bin_dir) / "nbgrader"), *args, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _nbgrader_scores(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {student: {g.name: g.score for g in gradebook.find_submission_notebook(
            S.DEMO.stem, "ps1", student).grades} for student in STUDENTS}


def test_nbgrader_accepts_the_notebook_and_scores_like_gdcourse_grade(tmp_path):
    course = tmp_path / "nbgrader"
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(S.DEMO, course / "source" / "ps1")
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course)))
    _nbgrader(course, "generate_assignment", "ps1")
    released = (course / "release" / "ps1" / S.DEMO.name).read_text()
    assert S.HIDDEN_MARKER not in released and "### BEGIN SOLUTION" not in released

    ours = tmp_path / "gdcourse"
    (ours / "solutions").mkdir(parents=True)
    shutil.copy(S.DEMO, ours / "solutions")
    for student in STUDENTS:
        answers, edits, _ = S.STUDENTS[student]
        notebook = S.make_submission(answers, edits)
        for folder in (course / "submitted" / student / "ps1", ours / "submissions" / student):
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / S.DEMO.name)
    # both graders at once, one kernel each: gdcourse grade as a command, nbgrader autograde beside it
    command = [sys.executable, "-m", "gdcourse.cli", "grade", str(ours / "submissions"),
               "--out", str(ours / "out"), "--root", str(ours), "--workers", "1", "--timeout", "30"]
    gdcourse_grade = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
    _nbgrader(course, "autograde", "ps1")
    theirs = _nbgrader_scores(course)
    _, err = gdcourse_grade.communicate(timeout=300)
    assert gdcourse_grade.returncode == 0, err[-3000:]

    db = sqlite3.connect(ours / "out" / "gradebook.sqlite")
    mine = {s: dict(db.execute("SELECT grade_id, points FROM grades WHERE student = ?", (s,)).fetchall())
            for s in STUDENTS}
    db.close()
    assert mine == theirs
    for student in STUDENTS:  # and both are what the answers earn (written by hand in submissions.py)
        assert [theirs[student][g] for g in S.EXERCISES] == S.STUDENTS[student][2]
