"""``gdcourse grade`` on honest, broken and hostile submissions, in one parallel run of the real command.

The run grades ``tests/data/grading/90_grading_demo.ipynb`` (five exercises, 10
points) for every student of ``tests/data/grading/submissions.py`` (expected
points written there by hand), ``solutions/01_gd_basics.ipynb`` itself and its
released student version, and a few files that are not notebooks. Every score
is asserted exactly; none may depend on what another submission did.
"""

import csv
import importlib.util
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from gdcourse.course import grade as G
from gdcourse.course import sandbox

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "grading"
_spec = importlib.util.spec_from_file_location("grading_submissions", DATA / "submissions.py")
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

TIMEOUT = "5"
NEEDS_ISOLATION = {"reader", "writer"}  # what they earn depends on whether they can reach the files
ISOLATED, WHY_NOT = sandbox.probe()


def _grade_cli(subs, out, course, *extra, env=None):
    command = [sys.executable, "-m", "gdcourse.cli", "grade", str(subs), "--out", str(out),
               "--root", str(course), "--timeout", TIMEOUT, *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


def _course(base):
    course = base / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(S.DEMO, course / "solutions")
    shutil.copy(REPO / "solutions" / "01_gd_basics.ipynb", course / "solutions")
    return course


def _rows(out):
    db = sqlite3.connect(f"{(out / 'gradebook.sqlite').resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    grades = {}
    for row in db.execute("SELECT * FROM grades"):
        grades.setdefault(row["student"], {})[row["grade_id"]] = dict(row)
    submissions = {r["student"]: dict(r) for r in db.execute("SELECT * FROM submissions")}
    db.close()
    return grades, submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    course, subs, out = _course(base), base / "subs", base / "out"
    S.write_submissions(subs, out=out, course=course, subs=subs, repo=REPO)
    for student, source, name in [("nb01_correct", "solutions", "01_gd_basics.ipynb"),
                                  ("nb01_empty", "notebooks", "01_gd_basics.ipynb"),
                                  ("wrong_assignment", "notebooks", "90_grading_demo.ipynb")]:
        (subs / student).mkdir()
        shutil.copy(REPO / source / "01_gd_basics.ipynb", subs / student / name)
    (subs / "stray").mkdir()
    (subs / "stray" / "99_unknown.ipynb").write_text("{}")
    (subs / ".ipynb_checkpoints").mkdir()  # skipped
    before = {p: p.read_bytes() for p in subs.rglob("*.ipynb")}
    env = dict(os.environ, **{S.SECRET_ENV: "s3cr3t-value"})
    started = time.monotonic()
    done = _grade_cli(subs, out, course, "--workers", "2", "--output-limit", "2", env=env)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    grades, submissions = _rows(out)
    return SimpleNamespace(base=base, course=course, subs=subs, out=out, done=done, seconds=seconds,
                           grades=grades, submissions=submissions, before=before)


def test_every_student_scores_exactly_what_their_answers_earn(graded):
    for student, (_, _, expected) in S.STUDENTS.items():
        if student in NEEDS_ISOLATION and not ISOLATED:
            continue
        rows = graded.grades[student]
        assert [rows[g]["points"] for g in S.EXERCISES] == expected, (student, rows)
        assert [rows[g]["max_points"] for g in S.EXERCISES] == [S.POINTS[g] for g in S.EXERCISES]
        assert graded.submissions[student]["points"] == sum(expected)
    nb01_correct, nb01_empty = graded.grades["nb01_correct"], graded.grades["nb01_empty"]
    assert {g: r["points"] for g, r in nb01_correct.items()} == {
        "gradient_descent_check": 3, "largest_stable_lr_check": 2, "mse_gradient_check": 2,
        "stopping_reason_check": 2}
    assert {r["status"] for r in nb01_correct.values()} == {"passed"}
    assert {(r["points"], r["status"]) for r in nb01_empty.values()} == {(0, "not done")}


@pytest.mark.parametrize(("student", "grade_id", "status", "fragment"), [
    ("empty", "mse_gradient_check", "not done", "not done yet"),
    ("partial", "largest_stable_lr_check", "failed", "is too big"),
    ("partial", "double_check", "failed", "a hidden test failed."),
    ("loop_in_function", "mse_gradient_check", "timeout", f"after {TIMEOUT} s"),
    ("loop_top_level", "largest_stable_lr_check", "timeout", "exercise cell 'largest_stable_lr'"),
    ("exits", "stopping_reason_check", "failed", "raised SystemExit"),
    ("exits", "double_check", "crashed", "crashed the kernel"),
    ("exits", "gradient_descent_check", "crashed", "exercise cell 'gradient_descent' crashed"),
    ("memory", "mse_gradient_check", "failed", "raised MemoryError"),
    ("memory", "largest_stable_lr_check", "error", "NameError: name 'largest_lr' is not defined"),
    ("prints", "stopping_reason_check", "output limit", "printed more than 2 MB"),
    ("prints", "double_check", "output limit", "printed more than 2 MB"),
    ("tamper", "mse_gradient_check", "failed", "you returned [0., 0., 0.]"),
    ("raises_dup_deleted", "mse_gradient_check", "error", "NameError: name 'mse_gradient' is not defined"),
    ("raises_dup_deleted", "stopping_reason_check", "missing", "missing from your notebook"),
])
def test_status_and_message_say_what_happened(graded, student, grade_id, status, fragment):
    row = graded.grades[student][grade_id]
    assert row["status"] == status and fragment in row["message"], row


def test_notes_explain_duplicated_and_deleted_cells(graded):
    notes = graded.submissions["raises_dup_deleted"]["notes"]
    assert "'gradient_descent' appears more than once: the first copy was graded" in notes
    assert "'stopping_reason' is missing" in notes


def test_broken_files_get_a_clear_entry_and_do_not_stop_the_run(graded):
    for student, (_, reason) in S.MALFORMED.items():
        entry = graded.submissions[student]
        assert entry["status"] == "malformed" and reason in entry["error"], entry
        assert {(r["points"], r["status"]) for r in graded.grades[student].values()} == {(0, "malformed")}
        assert reason in (graded.out / "feedback" / f"{student}.html").read_text()
    wrong = graded.submissions["wrong_assignment"]
    assert wrong["status"] == "malformed" and "looks like 01_gd_basics.ipynb" in wrong["error"]
    stray = graded.submissions["stray"]
    assert stray["status"] == "unknown notebook" and "matches no assignment" in stray["error"]
    assert ".ipynb_checkpoints" not in graded.submissions
    graded_students = set(S.STUDENTS) | {"nb01_correct", "nb01_empty"}
    assert {s for s, e in graded.submissions.items() if e["status"] == "graded"} == graded_students


def test_hidden_tests_never_reach_anything_students_or_the_terminal_see(graded):
    outputs = [graded.done.stdout, graded.done.stderr]
    outputs += [p.read_bytes().decode("utf-8", "replace") for p in graded.out.rglob("*") if p.is_file()]
    assert len(outputs) > 20
    for text in outputs:
        assert S.HIDDEN_MARKER not in text
        assert "assert double(-3)" not in text and "BEGIN HIDDEN" not in text


@pytest.mark.skipif(not ISOLATED, reason=f"kernel isolation is not available here: {WHY_NOT}")
def test_the_kernel_sees_no_secret_no_solution_no_other_submission_and_no_network(graded):
    message = graded.grades["reader"]["largest_stable_lr_check"]["message"]
    seen = json.loads(message.split("SNOOP ", 1)[1].rsplit("'", 1)[0])
    assert seen["secret"] == "no secret"
    assert [seen[k] for k in ("course", "repo", "subs", "out")] == [False] * 4
    assert set(seen["repo_files"]) <= {"gdcourse", ".venv"}
    # PID 1 is the sandbox's init, PID 2 the kernel: nothing of the host, no other kernel
    assert seen["files"] == [] and seen["pids"] == [1, 2] and seen["net"] != "connected"
    assert seen["uid"] > sandbox.KERNEL_UID_BASE if os.getuid() == 0 else seen["uid"] == os.getuid()
    stolen = graded.grades["reader"]["mse_gradient_check"]["message"]
    assert "raised FileNotFoundError" in stolen


@pytest.mark.skipif(not ISOLATED, reason=f"kernel isolation is not available here: {WHY_NOT}")
def test_a_kernel_cannot_write_results_or_submissions(graded):
    observed = graded.grades["writer"]["largest_stable_lr_check"]["message"]
    assert "WROTE" not in observed and observed.count("Error") >= 5
    assert not (graded.out / "evil.txt").exists()
    after = {p: p.read_bytes() for p in graded.subs.rglob("*.ipynb")}
    assert after == graded.before


def test_results_are_complete_and_consistent(graded):
    text = (graded.out / "grades.csv").read_text()
    assert text.startswith('"student","total","max_total",')  # every field quoted (CSV injection)
    lines = [",".join(row) for row in csv.reader(io.StringIO(text))]
    assert lines[0] == ("student,total,max_total,01_gd_basics:gradient_descent_check,"
                        "01_gd_basics:largest_stable_lr_check,01_gd_basics:mse_gradient_check,"
                        "01_gd_basics:stopping_reason_check,90_grading_demo:mse_gradient_check,"
                        "90_grading_demo:largest_stable_lr_check,90_grading_demo:stopping_reason_check,"
                        "90_grading_demo:double_check,90_grading_demo:gradient_descent_check")
    rows = {line.split(",")[0]: line.split(",")[1:] for line in lines[1:]}
    assert rows["correct"] == ["10", "19", "0", "0", "0", "0", "2", "2", "2", "1", "3"]
    assert rows["partial"] == ["5", "19", "0", "0", "0", "0", "2", "0", "0", "0", "3"]
    assert rows["nb01_correct"] == ["9", "19", "3", "2", "2", "2", "0", "0", "0", "0", "0"]
    assert set(rows) == set(graded.submissions)
    summary = json.loads((graded.out / "summary.json").read_text())
    double = summary["notebooks"]["90_grading_demo.ipynb"]["exercises"]["double_check"]
    passing = [s for s, (_, _, points) in S.STUDENTS.items() if points[3] == 1]
    assert double["passed"] == len(passing) and double["max_points"] == 1
    assert double["graded"] == len(S.STUDENTS) + len(S.MALFORMED) + 1  # + wrong_assignment
    assert summary["students"]["correct"] == {"total": 10.0, "max_total": 10.0, "notebooks": {
        "90_grading_demo.ipynb": {"points": 10.0, "max_points": 10.0, "status": "graded"}}}
    assert summary["run"]["workers"] == 2 and summary["run"]["submissions"] == len(graded.submissions) - 1
    feedback = (graded.out / "feedback" / "correct.html").read_text()
    assert "10 / 10" in feedback and "mse_gradient_check" in feedback
    assert {p.stem for p in (graded.out / "feedback").glob("*.html")} == set(graded.submissions)
    print(f"\ngrading run: {summary['run']['submissions']} notebooks in {graded.seconds:.1f} s "
          f"({summary['run']['submissions_per_minute']:.1f} per minute, 2 workers)")


def test_regrading_updates_rows_and_never_duplicates_them(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded.out, out)
    subs = tmp_path / "subs"
    S.write_submissions(subs, {"partial": (S.CORRECT, {}, None), "empty": ({}, {}, None)}, {})
    before_grades, before_subs = _rows(out)
    # also the path without namespaces (macOS, locked-down containers): same scores
    report = G.grade(subs, out, root=graded.course, workers=2, timeout=float(TIMEOUT), isolation="off",
                     progress=False)
    assert report.submissions == 2 and report.isolation.startswith("off")
    after_grades, after_subs = _rows(out)
    assert sum(map(len, after_grades.values())) == sum(map(len, before_grades.values()))
    assert after_subs["partial"]["points"] == 10 and after_subs["empty"]["points"] == 0
    assert after_grades["correct"] == before_grades["correct"]  # untouched, graded_at included
    assert after_subs["partial"]["graded_at"] >= before_subs["partial"]["graded_at"]
    assert len((out / "grades.csv").read_text().splitlines()) == len(after_subs) + 1


def _kernels_of(runs_dirs):
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if any(str(d) in cmdline for d in runs_dirs):
            found.append(proc.name)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover kernels")
def test_an_interrupted_run_keeps_what_it_graded_and_leaves_no_kernel(tmp_path):
    course = _course(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "out"
    sleeper = S.CORRECT | {"largest_stable_lr": "import time\ntime.sleep(300)\n" + S.LR_OK}
    S.write_submissions(subs, {"a_correct": (S.CORRECT, {}, None), "b_sleeper": (sleeper, {}, None),
                               "c_correct": (S.CORRECT, {}, None)}, {})
    runs_before = set(Path(tempfile.gettempdir()).glob("gdcourse-grade-*"))
    command = [sys.executable, "-m", "gdcourse.cli", "grade", str(subs), "--out", str(out),
               "--root", str(course), "--workers", "1", "--timeout", "120"]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "a_correct" not in _rows_or_empty(out):
            time.sleep(0.2)
        time.sleep(2.0)  # one worker: b_sleeper's kernel is now asleep in its cell
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    grades, submissions = _rows(out)
    assert set(submissions) == {"a_correct"} and submissions["a_correct"]["points"] == 10
    runs = set(Path(tempfile.gettempdir()).glob("gdcourse-grade-*")) - runs_before
    deadline = time.monotonic() + 20
    while _kernels_of(runs) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _kernels_of(runs) == []
    for folder in runs:
        shutil.rmtree(folder, ignore_errors=True)
    # grade what is left: b_sleeper (who fixed the notebook) and c_correct; a_correct's rows stay as they are
    S.write_submissions(subs, {"b_sleeper": (S.CORRECT, {}, None)}, {})
    shutil.rmtree(subs / "a_correct")
    G.grade(subs, out, root=course, workers=2, timeout=float(TIMEOUT), progress=False)
    grades, submissions = _rows(out)
    points = {s: e["points"] for s, e in submissions.items()}
    assert points == {"a_correct": 10, "b_sleeper": 10, "c_correct": 10}
    assert sum(map(len, grades.values())) == 15


def _rows_or_empty(out):
    try:
        return _rows(out)[1]
    except sqlite3.Error:
        return {}
