"""Submissions of ``90_grading_demo.ipynb`` for the grading tests: honest, broken and hostile.

Each student is a dict of answers (solution cell grade_id → the cell's code) on
top of the released student notebook, plus edits of the notebook itself. The
expected points per exercise are written by hand next to each student, from
what the answers do (not from the grader's output).

Hostile answers use the placeholders ``{out}``, ``{course}``, ``{subs}`` and
``{repo}`` (the results folder, the course root, the submissions folder and the
source checkout holding the package); :func:`fill` puts the real paths in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from gdcourse.course import release as R

DEMO = Path(__file__).with_name("90_grading_demo.ipynb")
EXERCISES = ["mse_gradient_check", "largest_stable_lr_check", "stopping_reason_check", "double_check",
             "gradient_descent_check"]
POINTS = dict(zip(EXERCISES, [2.0, 2.0, 2.0, 1.0, 3.0], strict=True))
HIDDEN_MARKER = "HIDDEN-TEST-SECRET-7f3a"
SECRET_ENV = "GDCOURSE_TEST_SECRET"

# ---------------------------------------------------------------- answers

MSE_OK = "def mse_gradient(w, X, y):\n    return (2.0 / len(y)) * (X.T @ (X @ w - y))"
MSE_HALF = "def mse_gradient(w, X, y):\n    return (1.0 / len(y)) * (X.T @ (X @ w - y))"
LR_OK = "largest_lr = 0.079"
LR_TOO_BIG = "largest_lr = 0.2"
STOP_OK = '''def stopping_reason(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
    if not math.isfinite(loss):
        return "diverged"
    if grad_norm <= grad_tol:
        return "gradient"
    if loss_prev is not None and abs(loss_prev - loss) / max(abs(loss_prev), abs(loss), 1.0) <= rel_tol:
        return "loss change"
    if step >= max_steps:
        return "budget"
    return None'''
STOP_NO_NAN = '''def stopping_reason(step, loss_prev, loss, grad_norm, max_steps, grad_tol, rel_tol):
    if grad_norm <= grad_tol:
        return "gradient"
    if step >= max_steps:
        return "budget"
    return None'''
DOUBLE_OK = "def double(x):\n    return 2 * x"
DOUBLE_ABS = "def double(x):\n    return abs(2 * x)  # right on the visible test, wrong on the hidden one"
GD_OK = '''def gradient_descent(grad_fn, w0, lr, steps):
    w = np.array(w0, dtype=float)
    path = [w]
    for _ in range(steps):
        w = w - lr * grad_fn(w)
        path.append(w)
    return np.array(path)'''
GD_UPHILL = GD_OK.replace("w - lr * grad_fn(w)", "w + lr * grad_fn(w)")

CORRECT = {"mse_gradient": MSE_OK, "largest_stable_lr": LR_OK, "stopping_reason": STOP_OK,
           "double": DOUBLE_OK, "gradient_descent": GD_OK}
PARTIAL = {"mse_gradient": MSE_OK, "largest_stable_lr": LR_TOO_BIG, "stopping_reason": STOP_NO_NAN,
           "double": DOUBLE_ABS, "gradient_descent": GD_OK}

TAMPER = '''import builtins
import gdcourse.check as check_module
from gdcourse.check import core
passed = lambda *args, **kwargs: core.CheckResult("any", "passed", "looks right to me")
for name in list(check_module.REGISTRY):
    setattr(check_module, name, passed)
core.CheckResult.passed = property(lambda self: True)
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
builtins.AssertionError = Warning
class AlwaysPass:
    def __getattr__(self, name):
        return passed
check = AlwaysPass()
def mse_gradient(w, X, y):
    return np.zeros(X.shape[1])'''

WRITER = '''import os
observed = []
for path in ["{out}/gradebook.sqlite", "{out}/grades.csv", "{out}/feedback/correct.html", "{out}/evil.txt",
             "{subs}/correct/90_grading_demo.ipynb"]:
    try:
        with open(path, "w") as f:
            f.write("tampered")
        observed.append("WROTE " + path)
    except OSError as err:
        observed.append(type(err).__name__)
largest_lr = "; ".join(observed)'''

STEAL = '''import json
def mse_gradient(w, X, y):
    with open("{course}/solutions/90_grading_demo.ipynb") as f:
        nb = json.load(f)
    source = next("".join(c["source"]) for c in nb["cells"]
                  if c.get("metadata", {{}}).get("nbgrader", {{}}).get("grade_id") == "mse_gradient")
    namespace = {{"np": np}}
    exec(source, namespace)
    return namespace["mse_gradient"](w, X, y)'''

SNOOP = '''import os, socket
def look():
    seen = {{"cwd": os.getcwd(), "files": sorted(os.listdir(".")), "uid": os.getuid(),
            "secret": os.environ.get("{secret}", "no secret"),
            "course": os.path.exists("{course}/solutions"), "repo": os.path.exists("{repo}/solutions"),
            "repo_files": sorted(os.listdir("{repo}")) if os.path.isdir("{repo}") else None,
            "subs": os.path.exists("{subs}/correct"), "out": os.path.exists("{out}/gradebook.sqlite"),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}}
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1)
        seen["net"] = "connected"
    except OSError as err:
        seen["net"] = type(err).__name__
    return seen
largest_lr = "SNOOP " + json.dumps(look())'''

# ---------------------------------------------------------------- students: answers, edits, expected points

STUDENTS = {
    # name: (answers, edits, expected points per exercise in EXERCISES order)
    "correct": (CORRECT, {}, [2, 2, 2, 1, 3]),
    "empty": ({}, {}, [0, 0, 0, 0, 0]),
    "partial": (PARTIAL, {}, [2, 0, 0, 0, 3]),
    "loop_in_function": (CORRECT | {"mse_gradient": MSE_OK.replace(
        "    return", "    while True:\n        pass\n    return")}, {}, [0, 2, 2, 1, 3]),
    "loop_top_level": (CORRECT | {"largest_stable_lr": LR_OK + "\nimport time\nwhile True:\n"
                                                               "    time.sleep(0.05)"}, {}, [2, 0, 2, 1, 3]),
    "exits": (CORRECT | {"mse_gradient": MSE_OK + "\nimport sys\nsys.exit(0)",  # after the def: still graded
                         "stopping_reason": STOP_OK.replace(
                             '    if not math', '    import sys\n    sys.exit("bye")\n    if not math'),
                         "double": "def double(x):\n    import os\n    os._exit(3)",
                         "gradient_descent": GD_OK + "\nimport os\nos._exit(0)"}, {}, [2, 2, 0, 0, 0]),
    "memory": (CORRECT | {"mse_gradient": "def mse_gradient(w, X, y):\n    hog = np.ones(10 * 2**30 // 8)\n"
                                          "    return (2.0 / len(y)) * (X.T @ (X @ w - y)) + hog[0] * 0",
                          "largest_stable_lr": "hog = bytearray(10 * 2**30)\n" + LR_OK}, {}, [0, 0, 2, 1, 3]),
    "prints": (CORRECT | {"stopping_reason": STOP_OK + '\nprint("x" * 100_000_000)',
                          "double": 'def double(x):\n    for _ in range(10**6):\n        print("y" * 100)\n'
                                    '    return 2 * x'}, {}, [2, 2, 0, 0, 3]),
    # deleted tests (a right and a wrong answer) and edited tests (right and wrong): the source's tests run
    "tests_tampered": (PARTIAL, {"drop_tests": ["mse_gradient_check", "largest_stable_lr_check"],
                                 "edit_tests": "result = True\nassert True"}, [2, 0, 0, 0, 3]),
    "tamper": ({"mse_gradient": TAMPER, "largest_stable_lr": LR_TOO_BIG, "stopping_reason": STOP_NO_NAN,
                "double": "def double(x):\n    return x", "gradient_descent": GD_UPHILL},
               {}, [0, 0, 0, 0, 0]),
    "writer": (CORRECT | {"largest_stable_lr": WRITER}, {}, [2, 0, 2, 1, 3]),
    "reader": ({"mse_gradient": STEAL, "largest_stable_lr": SNOOP}, {}, [0, 0, 0, 0, 0]),
    # an added first cell that raises (ignored), warnings and stderr output everywhere (harmless)
    "noise": ({k: (v + "\nimport sys, warnings\nwarnings.warn('careful')\nprint('noise', file=sys.stderr)"
                   if k != "double" else
                   "import sys, warnings\ndef double(x):\n    warnings.warn('deprecated soon')\n"
                   "    print('to stderr', file=sys.stderr)\n    return 2 * x")
               for k, v in CORRECT.items()}, {"first_cell": 'raise RuntimeError("boom")'}, [2, 2, 2, 1, 3]),
    # the first exercise cell raises before its def; a deleted cell; a duplicated cell (the first copy counts)
    "raises_dup_deleted": (CORRECT | {"mse_gradient": 'raise RuntimeError("first")\n' + MSE_OK},
                           {"duplicate": ("gradient_descent", GD_UPHILL), "delete": "stopping_reason"},
                           [0, 2, 0, 1, 3]),
}

MALFORMED = {
    "m_empty": (b"", "the file is empty"),
    "m_json": (b'{"cells": [oops', "invalid JSON"),
    "m_nbformat3": (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3"),
}


def fill(code, **paths) -> str:
    return code.format(secret=SECRET_ENV, **{k: str(v) for k, v in paths.items()})


def _nbgrader_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def student_notebook(source=DEMO):
    """The released notebook a student starts from."""
    return R.student_version(nbformat.read(source, as_version=4), Path(source).name)


def make_submission(answers, edits=None, source=DEMO, **paths):
    """The student notebook with ``answers`` in its solution cells and ``edits`` applied."""
    edits = edits or {}
    nb = student_notebook(source)
    for cell in nb.cells:
        if _nbgrader_id(cell) in answers:
            cell.source = fill(answers[_nbgrader_id(cell)], **paths)
            cell.outputs, cell.execution_count = [], 1
    tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    dropped = edits.get("drop_tests", [])
    nb.cells = [c for c in nb.cells if _nbgrader_id(c) not in dropped]
    if "edit_tests" in edits:
        for cell in tests:
            cell.source = edits["edit_tests"]
    if "duplicate" in edits:
        grade_id, code = edits["duplicate"]
        index = next(i for i, c in enumerate(nb.cells) if _nbgrader_id(c) == grade_id)
        copy_cell = copy.deepcopy(nb.cells[index])
        copy_cell.source, copy_cell.id = code, copy_cell.id + "-copy"
        nb.cells.insert(index + 1, copy_cell)
    if "delete" in edits:
        nb.cells = [c for c in nb.cells if _nbgrader_id(c) != edits["delete"]]
    if "first_cell" in edits:
        nb.cells.insert(0, nbformat.v4.new_code_cell(edits["first_cell"], id="student-added"))
    return nb


def write_submissions(folder, students=STUDENTS, malformed=MALFORMED, **paths):
    """Write every student's ``<folder>/<student>/90_grading_demo.ipynb``."""
    folder = Path(folder)
    for name, (answers, edits, _) in students.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        nbformat.write(make_submission(answers, edits, **paths), folder / name / DEMO.name)
    for name, (content, _) in malformed.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / DEMO.name).write_bytes(content)
