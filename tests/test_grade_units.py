"""The grader's parts without a kernel: assignment and merge, test cells and hidden tests, the wire
format (no pickle from a kernel, ever), the gradebook and its files, submission layouts, the command."""

import base64
import builtins
import csv
import importlib.util
import io
import json
import pickle
import sqlite3
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gdcourse import cli
from gdcourse.course import assignment as A
from gdcourse.course import cli as cli_module
from gdcourse.course import feedback as F
from gdcourse.course import grade as G
from gdcourse.course import remote as RM
from gdcourse.course import sandbox
from gdcourse.course import testcell as T
from gdcourse.course.gradebook import Results
from gdcourse.course.kernel import ExecResult

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("grading_submissions",
                                               REPO / "tests" / "data" / "grading" / "submissions.py")
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)


@pytest.fixture(scope="module")
def demo():
    return A.load_assignment(S.DEMO)


def _write(path, nb):
    nbformat.write(nb, path)
    return path


# ---------------------------------------------------------------- assignment and merge

def test_the_demo_assignment_lists_its_tests_points_and_exercises(demo):
    assert [(t.grade_id, t.points, t.exercise) for t in demo.tests] == [
        ("mse_gradient_check", 2, "mse_gradient"), ("largest_stable_lr_check", 2, "largest_stable_lr"),
        ("stopping_reason_check", 2, "stopping_reason"), ("double_check", 1, "double"),
        ("gradient_descent_check", 3, "gradient_descent")]
    assert demo.max_points == 10
    assert demo.trusted_imports == ["import math", "import numpy as np", "from gdcourse import check",
                                    "from gdcourse.experiments import gd as E"]
    assert demo.learner_names == {"mse_gradient", "largest_lr", "stopping_reason", "double",
                                  "gradient_descent"}
    assert demo.stubs["largest_stable_lr"] == "largest_lr = None  # YOUR ANSWER HERE"


@pytest.mark.parametrize(("meta", "message"), [
    ({"grade_id": "x"}, "not unique"),
    ({"grade_id": "y", "points": "two"}, "points must be a number"),
])
def test_a_source_that_cannot_be_graded_is_refused(tmp_path, meta, message):
    nb = S.student_notebook()  # any notebook; make its second test cell break a rule
    nb.cells[0].metadata["nbgrader"] = {"grade_id": "x", "grade": False, "solution": False}
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    test.metadata["nbgrader"].update(meta)
    with pytest.raises(A.AssignmentError, match=message):
        A.load_assignment(_write(tmp_path / "90_bad.ipynb", nb))


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "the file is empty"),
    (b"\xff\xfe\x00garbage", "not text"),
    (b'{"cells": [1, 2', "invalid JSON at line 1, column 16"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), "nbformat 5"),
    (json.dumps({"nbformat": 4, "cells": "none"}).encode(), "no list of cells"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = 1"}]}).encode(),
     "none of the exercise cells"),
])
def test_malformed_submissions_are_refused_with_a_reason(tmp_path, demo, content, fragment):
    path = tmp_path / "90_grading_demo.ipynb"
    path.write_bytes(content)
    with pytest.raises(A.Malformed, match=fragment):
        A.read_submission(path, demo)


def test_a_notebook_of_another_assignment_is_named(tmp_path, demo):
    path = tmp_path / "90_grading_demo.ipynb"
    path.write_bytes((REPO / "notebooks" / "01_gd_basics.ipynb").read_bytes())
    others = {"01_gd_basics.ipynb": A.notebook_marks(REPO / "solutions" / "01_gd_basics.ipynb")}
    with pytest.raises(A.Malformed, match="looks like 01_gd_basics.ipynb, not 90_grading_demo.ipynb"):
        A.read_submission(path, demo, others)
    # the demo's own student version is not mistaken for 01, although they share grade ids
    _write(path, S.student_notebook())
    assert A.read_submission(path, demo, others)["nbformat"] == 4


def test_an_oversized_file_is_refused(tmp_path, demo, monkeypatch):
    monkeypatch.setattr(A, "MAX_SUBMISSION_BYTES", 10)
    path = tmp_path / "90_grading_demo.ipynb"
    path.write_bytes(b"x" * 11)
    with pytest.raises(A.Malformed, match="over the 0 MB limit"):
        A.read_submission(path, demo)


def _merge(demo, answers, edits=None):
    nb = S.make_submission(answers, edits)
    return A.merge(demo, json.loads(nbformat.writes(nb)))


def test_merge_takes_solution_cells_from_the_student_and_everything_else_from_the_source(demo):
    merged = _merge(demo, S.PARTIAL | {"double": "def double(x):\n    return 3 * x"},
                    {"edit_tests": "assert True", "first_cell": "import os; os.remove('x')"})
    code = [s.code for s in merged.steps if s.kind == "code"]
    source = [c.source for c in demo.cells if c.cell_type == "code"]
    assert code[0] == source[0]  # the setup cell, not the added first cell
    assert "def double(x):\n    return 3 * x" in code and "import os; os.remove('x')" not in code
    assert [s.test.grade_id for s in merged.steps if s.kind == "test"] == [t.grade_id for t in demo.tests]
    assert merged.missing == set() and merged.notes == []


def test_merge_grades_the_first_duplicate_and_stubs_a_missing_cell(demo):
    merged = _merge(demo, S.CORRECT, {"duplicate": ("mse_gradient", S.MSE_HALF), "delete": "double"})
    solutions = {s.solution: s.code for s in merged.steps if s.solution}
    assert solutions["mse_gradient"] == S.MSE_OK and solutions["double"] == demo.stubs["double"]
    assert merged.missing == {"double"}
    assert merged.notes == [
        "the exercise cell 'mse_gradient' appears more than once: the first copy was graded.",
        "the exercise cell 'double' is missing from the notebook: its tests score 0."]


def test_no_test_cell_and_no_hidden_test_is_ever_sent_to_the_kernel(demo):
    merged = _merge(demo, S.CORRECT)
    kernel_code = "\n".join(s.code + s.stub for s in merged.steps if s.kind == "code")
    assert S.HIDDEN_MARKER not in kernel_code and "assert result.passed" not in kernel_code
    assert all(t.source not in kernel_code for t in demo.tests)


# ---------------------------------------------------------------- test cells

CELL = ('x = 1\n### BEGIN HIDDEN TESTS\nprint("secret")\nassert x == 2, "secret"\n### END HIDDEN TESTS\n'
        'print(x)')


def test_hidden_lines_and_segments_keep_line_numbers():
    assert T.hidden_line_numbers(CELL) == {2, 3, 4, 5}
    segments = T._segments(CELL, T.hidden_line_numbers(CELL))
    assert [(hidden, code.count("\n")) for hidden, code in segments] == [(False, 0), (True, 4), (False, 5)]
    assert segments[2][1].strip() == "print(x)"


def test_free_names_are_what_a_cell_reads_without_defining():
    code = ("import numpy as np\nresult = check.mse(fn, [v for v in values])\n"
            "def helper(a):\n    return a + other\nassert helper(result) and np.all(table)")
    assert T.free_names(__import__("ast").parse(code)) == ["check", "fn", "values", "other", "table"]


class FakeRemote:
    """The learner's names from a dict; records what the test cell asked for."""

    def __init__(self, names):
        self.names, self.asked = names, []

    def fetch(self, name):
        self.asked.append(name)
        return self.names.get(name, RM.MISSING)


def _evaluate(source, names, learner_names=frozenset()):
    remote = FakeRemote(names)
    trusted = T.trusted_namespace(["import math", "from gdcourse import check"])
    return T.evaluate("t", source, trusted, remote, learner_names), remote


def test_a_check_that_passes_earns_the_cell_and_shows_its_verdict():
    source = "result = check.largest_stable_lr(largest_lr, condition_number=25)\n### BEGIN HIDDEN TESTS\n" \
             "assert result.passed, result.message\n### END HIDDEN TESTS"
    verdict, remote = _evaluate(source, {"largest_lr": 0.079})
    assert verdict.passed and verdict.status == "passed" and "η = 0.079" in verdict.message
    assert remote.asked == ["largest_lr"]  # ``check`` and ``result`` never come from the kernel
    verdict, _ = _evaluate(source, {"largest_lr": None})
    assert (verdict.passed, verdict.status) == (False, "not done") and "not done yet" in verdict.message


def test_a_failing_hidden_test_shows_nothing_of_itself():
    verdict, _ = _evaluate(CELL.replace("x = 1", "x = y"), {"y": 1})
    assert (verdict.passed, verdict.status, verdict.message) == (False, "failed", T.HIDDEN_FAILED)
    verdict, _ = _evaluate(CELL.replace("x = 1", "x = y"), {"y": 2})
    assert verdict.passed and verdict.message == "2"  # the hidden print is dropped, the visible one kept


def test_a_failing_visible_line_shows_its_error_and_output():
    verdict, _ = _evaluate('print("visible")\nassert double(2) == 4, "double(2) should be 4"',
                           {"double": lambda x: x})
    assert (verdict.status, verdict.message) == ("failed", "visible\nAssertionError: double(2) should be 4")
    verdict, _ = _evaluate("assert double(2) == 4", {})
    assert (verdict.status, verdict.message) == ("error", "NameError: name 'double' is not defined")
    verdict, _ = _evaluate("assert double(2) == 4", {"double": _not_done})
    assert verdict.status == "not done"


def _not_done(x):
    raise NotImplementedError("Exercise double: replace this line with your code")


def test_a_source_import_the_grader_cannot_do_is_never_taken_from_the_kernel():
    trusted = T.trusted_namespace(["from gdcourse import no_such_module as check", "import math"])
    remote = FakeRemote({"check": "the kernel's check", "x": 1})
    verdict = T.evaluate("t", "result = check.anything(x)", trusted, remote)
    assert verdict.status == "error" and "could not import 'check'" in verdict.message
    assert remote.asked == ["x"]


def test_a_learner_function_named_like_a_builtin_comes_from_the_kernel():
    verdict, remote = _evaluate("assert sum([1, 2]) == 'mine'", {"sum": lambda xs: "mine"},
                                frozenset({"sum"}))
    assert verdict.passed and remote.asked == ["sum"]
    verdict, remote = _evaluate("assert sum([1, 2]) == 3", {"sum": lambda xs: "mine"})
    assert verdict.passed and remote.asked == []


def test_a_hidden_region_inside_a_block_hides_all_output():
    source = "for i in range(2):\n    print(i)\n    ### BEGIN HIDDEN TESTS\n    assert i < 1, 'secret'\n" \
             "    ### END HIDDEN TESTS"
    verdict, _ = _evaluate(source, {})
    assert (verdict.status, verdict.message) == ("failed", T.HIDDEN_FAILED)


# ---------------------------------------------------------------- the wire format

def _roundtrip(value):
    refs = []
    tree = json.loads(json.dumps(RM.encode(value, refs), allow_nan=True))
    return RM.decode(tree, remote=object()), refs


def test_plain_data_crosses_as_an_exact_copy():
    values = {"f": 1.5, "i": 2**80, "s": "é", "n": None, "b": True, "nan": float("nan"), "c": 1 - 2j,
              "bytes": b"\x00\xff", "set": {1, 2}, "nested": [(1, [2.5, {"k": (None,)}])]}
    got, refs = _roundtrip(values)
    assert refs == [] and got.keys() == values.keys() and np.isnan(got.pop("nan"))
    assert got == {k: v for k, v in values.items() if k != "nan"}
    for array in (np.arange(6.0).reshape(2, 3), np.asfortranarray(np.ones((2, 3), np.float32)),
                  np.array([True, False]), np.array(3 + 1j), np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])):
        back, _ = _roundtrip(array)
        assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)
    scalar, _ = _roundtrip(np.float32(2.5))
    assert type(scalar) is np.float32 and scalar == 2.5


def test_objects_that_are_not_data_stay_behind_as_handles():
    def fn():
        pass

    got, refs = _roundtrip({"fn": fn, "obj": object(), "arr": np.array([None, 1], dtype=object)})
    assert isinstance(got["fn"], RM.RemoteFunction) and got["fn"].__name__ == "fn"
    assert type(got["obj"]) is RM.RemoteRef and type(got["arr"]) is RM.RemoteRef
    assert refs[got["fn"]._id] is fn and len(refs) == 3


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header(shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_load_npy_accepts_no_objects_no_pickles_and_no_lying_headers():
    with pytest.raises(RM.ProtocolError, match="Python objects"):
        RM.load_npy(_npy(np.array([{"a": 1}], dtype=object), allow_pickle=True))
    with pytest.raises(RM.ProtocolError, match=".npy"):
        RM.load_npy(pickle.dumps(np.ones(3)))
    # a header that claims 10**13 floats (80 TB) with 8 bytes of data: refused before anything is allocated
    with pytest.raises(RM.ProtocolError, match=r"shape \(10000000000000,\)"):
        RM.load_npy(_npy_header((10**13,)) + b"\0" * 8)
    with pytest.raises(RM.ProtocolError, match="but 16 bytes came"):
        RM.load_npy(_npy_header((3,)) + b"\0" * 16)
    assert np.array_equal(RM.load_npy(_npy_header((2,)) + np.array([1.0, 2.0]).tobytes()), [1.0, 2.0])


@pytest.mark.parametrize("tree", [
    [1, 2], {"t": "pickle", "v": ""}, {"t": "array", "v": "not base64!"}, {"t": "dict", "v": [[{"t": "list",
                                                                                               "v": []}, 1]]},
    {"t": "ref", "id": 0}, {"t": "tuple", "v": "ab"},
])
def test_decode_refuses_anything_outside_the_format(tree):
    with pytest.raises(RM.ProtocolError):
        RM.decode(tree, remote=None)


def test_a_deep_tree_is_refused():
    tree = 1
    for _ in range(200):
        tree = {"t": "list", "v": [tree]}
    with pytest.raises(RM.ProtocolError):
        RM.decode(tree)


@pytest.mark.parametrize(("name", "kind"), [
    ("ValueError", ValueError), ("NotImplementedError", NotImplementedError), ("ZeroDivisionError",
                                                                               ZeroDivisionError)])
def test_builtin_exceptions_come_back_as_themselves(name, kind):
    err = RM._exception(name, "msg")
    assert type(err) is kind and str(err) == "msg"


@pytest.mark.parametrize("name", ["SystemExit", "KeyboardInterrupt", "LinAlgError", "not a name!", 42])
def test_other_exceptions_come_back_as_learner_errors_never_as_the_real_thing(name):
    err = RM._exception(name, "msg")
    assert isinstance(err, RM.LearnerError) and not isinstance(err, SystemExit | KeyboardInterrupt)
    assert type(err).__name__ == (name if isinstance(name, str) and name.isidentifier() else "Error")


class LoopbackSession:
    """Runs the kernel half of the protocol in this process: what the kernel would receive and send."""

    def __init__(self, monkeypatch, user_ns):
        from IPython import get_ipython  # noqa: F401 - the name serve() imports

        self.replies = []
        monkeypatch.setattr(RM, "_publish", lambda nonce, reply: self.replies.append(
            json.dumps(dict(reply, nonce=nonce))))
        monkeypatch.setattr("IPython.get_ipython", lambda: type("Shell", (), {"user_ns": user_ns})())
        self.monkeypatch = monkeypatch

    def execute(self, code, timeout, on_input=None):
        self.replies = []
        self.monkeypatch.setattr(builtins, "input", on_input)
        exec(code, {})
        self.monkeypatch.setattr(builtins, "input", input)
        return ExecResult("ok", replies=self.replies)


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self, by):
        self.count += by
        return self.count


def test_the_protocol_end_to_end_values_functions_callbacks_objects_and_errors(monkeypatch):
    def descend(grad_fn, w, lr):
        return w - lr * grad_fn(w)

    def broken(x):
        raise ValueError(f"bad {x}")

    user_ns = {"lr": 0.079, "descend": descend, "broken": broken, "Counter": Counter}
    remote = RM.Remote(LoopbackSession(monkeypatch, user_ns))
    assert remote.fetch("lr") == 0.079 and remote.fetch("nope") is RM.MISSING
    fn = remote.fetch("descend")
    got = fn(lambda w: 2 * w, np.array([1.0, -2.0]), 0.25)  # the lambda is called back, never pickled
    assert np.array_equal(got, [0.5, -1.0])
    with pytest.raises(ValueError, match="bad 3"):
        remote.fetch("broken")(3)
    counter = remote.fetch("Counter")()
    assert isinstance(counter, RM.RemoteRef) and counter.bump(2) == 2 and counter.count == 2
    counter.count = 10
    assert counter.bump(1) == 11


def test_a_kernel_that_answers_garbage_fails_only_its_own_call(monkeypatch):
    session = LoopbackSession(monkeypatch, {"f": lambda: 1})
    remote = RM.Remote(session)
    f = remote.fetch("f")
    monkeypatch.setattr(RM, "_publish", lambda nonce, reply: session.replies.append(
        json.dumps({"nonce": nonce, "ok": {"t": "pickle", "v": base64.b64encode(pickle.dumps(1)).decode()}})))
    with pytest.raises(RM.ProtocolError, match="unknown kind"):
        f()
    monkeypatch.setattr(RM, "_publish", lambda nonce, reply: None)
    with pytest.raises(RM.ProtocolError, match="no answer"):
        f()


# ---------------------------------------------------------------- feedback, gradebook, files

def test_feedback_file_names_are_safe_and_feedback_is_escaped():
    assert F.feedback_filename("alice") == "alice.html"
    for name in ("../etc/passwd", "Ann Lee", ".hidden", "a/b"):
        filename = F.feedback_filename(name)
        assert "/" not in filename and not filename.startswith(".") and filename != F.feedback_filename("x")
    page = F.render_feedback("<b>", [{"notebook": "n", "points": 1, "max_points": 2, "graded_at": "t",
                                      "status": "graded", "error": "", "notes": ""}],
                             {"n": [{"grade_id": "g", "points": 1, "max_points": 2, "status": "failed",
                                     "message": "<script>alert(1)</script>"}]})
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page


def _result(student, points, notebook="90_grading_demo.ipynb"):
    rows = [G.ExerciseRow(g, p, S.POINTS[g], "passed" if p else "failed", "m")
            for g, p in zip(S.EXERCISES, points, strict=True)]
    return G.SubmissionResult(student, notebook, "graded", rows=rows)


def test_the_gradebook_upserts_and_writes_atomically(tmp_path, demo):
    results = Results(tmp_path, {demo.name: demo})
    results.record(_result("alice", [2, 0, 2, 1, 3]))
    results.record(_result("=bob", [0, 0, 0, 0, 0]))
    results.record(_result("alice", [2, 2, 2, 1, 3]))  # re-graded: replaced, not added
    db = sqlite3.connect(tmp_path / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM grades").fetchone()[0] == 10
    assert db.execute("SELECT points FROM submissions WHERE student = 'alice'").fetchone()[0] == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    csv_lines = results.csv_text().splitlines()
    assert csv_lines[1:] == ['"\'=bob","0","10","0","0","0","0","0"',  # no formula injection
                             '"alice","10","10","2","2","2","1","3"']


def test_a_corrupt_gradebook_is_kept_aside_and_reported(tmp_path, demo):
    (tmp_path / "gradebook.sqlite").write_bytes(b"this is not sqlite" * 100)
    results = Results(tmp_path, {demo.name: demo})
    assert len(results.warnings) == 1 and "kept as gradebook.sqlite.corrupt-" in results.warnings[0]
    kept = list(tmp_path.glob("gradebook.sqlite.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not sqlite")
    results.record(_result("alice", [2, 2, 2, 1, 3]))
    db = sqlite3.connect(tmp_path / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM grades").fetchone() == (5,)


def test_submission_layouts(tmp_path):
    sources = {"01_gd_basics.ipynb": None, "03_optimizers.ipynb": None}
    subs = tmp_path / "subs"
    for path in ["alice/01_gd_basics.ipynb", "alice/03_optimizers (1).ipynb", "bob/01_gd_basics-Copy1.ipynb",
                 "bob/01_other.ipynb", "carol/7_x.ipynb", ".ipynb_checkpoints/01_gd_basics.ipynb",
                 "dave/01_a.ipynb", "dave/01_gd_basics.ipynb"]:
        (subs / path).parent.mkdir(parents=True, exist_ok=True)
        (subs / path).write_text("{}")
    tasks, problems = G.find_submissions(subs, sources)
    assert [(s, n, Path(p).name) for s, n, p in tasks] == [
        ("alice", "01_gd_basics.ipynb", "01_gd_basics.ipynb"), ("alice", "03_optimizers.ipynb",
                                                                "03_optimizers (1).ipynb"),
        ("dave", "01_gd_basics.ipynb", "01_gd_basics.ipynb")]
    assert sorted((p.student, p.status) for p in problems) == [("bob", "malformed"),
                                                                ("carol", "unknown notebook")]
    tasks, _ = G.find_submissions(subs, sources, ["03_optimizers.ipynb"])
    assert [(s, n) for s, n, _ in tasks] == [("alice", "03_optimizers.ipynb")]
    (subs / "erin.ipynb").write_text("{}")
    with pytest.raises(G.GradeError, match="needs --notebook NN"):
        G.find_submissions(subs, sources)
    tasks, _ = G.find_submissions(subs, sources, ["01_gd_basics.ipynb"])
    assert ("erin", "01_gd_basics.ipynb", str(subs / "erin.ipynb")) in tasks


@pytest.mark.parametrize(("args", "message"), [
    (["grade", "{tmp}/missing", "--out", "{tmp}/out", "--root", str(REPO)], "is not a folder"),
    (["grade", "{tmp}", "--out", "{tmp}/out", "--root", "{tmp}"], "has no solutions/ folder"),
    (["grade", "{tmp}", "--out", "{tmp}/out", "--root", str(REPO), "--workers", "0"], "--workers must be"),
    (["grade", "{tmp}", "--out", "{tmp}/out", "--root", str(REPO), "--notebook", "77"],
     "no solutions notebook"),
])
def test_the_command_explains_what_is_wrong(tmp_path, capsys, args, message):
    assert cli.main([a.format(tmp=tmp_path) for a in args]) == 2
    assert message in capsys.readouterr().err


def test_the_kernel_environment_is_fixed_and_holds_nothing_of_the_graders(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    env = sandbox.kernel_environment(tmp_path)
    assert "hunter2" not in json.dumps(env) and set(env) <= set(sandbox.kernel_environment("/x"))
    assert env["HOME"] == str(tmp_path) and env["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("GDCOURSE_CACHE", str(tmp_path / "grader-store"))      # the grader's own store stays out
    assert sandbox.kernel_environment(tmp_path)["GDCOURSE_CACHE"] == "off"
    hidden = sandbox.default_hidden(tmp_path / "course", None, None, tmp_path)
    assert str(REPO) in hidden and str(tmp_path.resolve()) in hidden
    assert str(REPO / "gdcourse") in sandbox.default_exposed()


def test_grade_reports_and_records_the_run_without_any_submission(tmp_path):
    (tmp_path / "course" / "solutions").mkdir(parents=True)
    _write(tmp_path / "course" / "solutions" / "90_grading_demo.ipynb", nbformat.read(S.DEMO, as_version=4))
    (tmp_path / "subs").mkdir()
    report = G.grade(tmp_path / "subs", tmp_path / "out", root=tmp_path / "course", isolation="off",
                     progress=False)
    assert report.submissions == 0 and report.isolation == "off (--isolation off)"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["students"] == {} and summary["run"]["submissions"] == 0
    assert (tmp_path / "out" / "grades.csv").read_text() == '"student","total","max_total"\n'
    assert not list((tmp_path / "out").glob("feedback/*"))


# ---------------------------------------------------------------- issue 19: attacks that need no kernel

def test_feedback_file_names_are_injective_and_reversible():
    from urllib.parse import unquote

    names = ["Zoë", "Zo_-c6a12698", "%5Ao%C3%AB", "zoë", "ZOË", "alice", "Alice", ".alice", "%2Ealice", "a b",
             "a%20b", "", "%", "x" * 300, "x" * 301, "../etc", "\x1b[2J"]
    files = [F.feedback_filename(n) for n in names]
    assert len(set(files)) == len(names) and len({f.lower() for f in files}) == len(names)  # case-blind disks
    for name, filename in zip(names, files, strict=True):
        assert "/" not in filename and not filename.startswith(".") and len(filename.encode()) < 255
        if "~" not in filename and name:
            assert unquote(filename[:-len(".html")]) == name  # reversible


def test_a_list_or_dict_as_grade_id_costs_only_that_cell(demo):
    nb = S.make_submission(S.CORRECT)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double":
            cell.metadata["nbgrader"]["grade_id"] = ["double"]
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": {"a": 1},
                                                                             "solution": True}}))
    merged = A.merge(demo, json.loads(nbformat.writes(nb)))
    assert merged.missing == {"double"}
    assert sum("grade_id is list, not text" in n or "grade_id is dict, not text" in n for n in merged.notes) == 2


def test_deeply_nested_json_is_a_malformed_submission(tmp_path, demo):
    path = tmp_path / "deep.ipynb"
    path.write_text('{"nbformat": 4, "cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    result = G.grade_submission(G.Task("deep", demo.name, str(path), str(S.DEMO)), G.GradeOptions())
    assert result.status == "malformed" and "nested too deeply" in result.error
    assert result.points == 0 and {r.status for r in result.rows} == {"malformed"}


def test_csv_neutralizes_every_formula_start_and_quotes_every_field(tmp_path, demo):
    results = Results(tmp_path, {demo.name: demo})
    names = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=2+2", "plain"]
    results.record_many([_result(n, [0, 0, 0, 0, 0]) for n in names])
    text = results.csv_text()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert sorted(r[0] for r in rows[1:]) == sorted(["'" + n for n in names[:-1]] + ["plain"])
    assert all(line.startswith('"') and line.endswith('"') for line in text.split("\n") if line)


def test_control_characters_are_escaped_for_the_terminal():
    assert cli_module.printable("\x1b[2J\x1b[31mred\u202e\x07 ok\n") == "\\x1b[2J\\x1b[31mred\\u202e\\x07 ok\n"


def test_discovery_and_recording_are_linear_in_the_number_of_junk_files(tmp_path, monkeypatch):
    from gdcourse.course import gradebook

    (tmp_path / "course" / "solutions").mkdir(parents=True)
    _write(tmp_path / "course" / "solutions" / "90_grading_demo.ipynb", nbformat.read(S.DEMO, as_version=4))
    for student in ("junk_a", "junk_b"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        for i in range(400):
            (tmp_path / "subs" / student / f"{i:04d}.ipynb").write_text("{}")
    renders, transactions = [], []
    real_render, real_transaction = gradebook.render_feedback, Results._transaction
    monkeypatch.setattr(gradebook, "render_feedback", lambda *a: renders.append(a[0]) or real_render(*a))
    monkeypatch.setattr(Results, "_transaction", lambda self: transactions.append(1) or real_transaction(self))
    G.grade(tmp_path / "subs", tmp_path / "out", root=tmp_path / "course", isolation="off", progress=False)
    db = sqlite3.connect(tmp_path / "out" / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM submissions WHERE status = 'unknown notebook'").fetchone() == (800,)
    # one transaction for all 800 entries (+ the run's record), each feedback page written once (+ at the end)
    assert len(transactions) == 2 and sorted(renders) == ["junk_a", "junk_a", "junk_b", "junk_b"]


def test_isolation_that_fails_in_auto_mode_is_said_loudly_and_recorded(tmp_path, monkeypatch, capsys):
    (tmp_path / "course" / "solutions").mkdir(parents=True)
    _write(tmp_path / "course" / "solutions" / "90_grading_demo.ipynb", nbformat.read(S.DEMO, as_version=4))
    (tmp_path / "subs").mkdir()
    monkeypatch.setattr(sandbox, "probe", lambda: (False, "namespaces unavailable: test"))
    args = ["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--root", str(tmp_path / "course")]
    assert cli.main([*args, "--isolation", "require"]) == 2
    assert "--isolation require: kernels cannot be isolated on this machine" in capsys.readouterr().err
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "WARNING: kernel isolation OFF: isolation unavailable (namespaces unavailable: test)" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["run"]["isolation"].startswith("OFF")
    assert any("kernels are NOT isolated" in w for w in summary["run"]["warnings"])
    db = sqlite3.connect(tmp_path / "out" / "gradebook.sqlite")
    assert db.execute("SELECT isolation FROM runs").fetchone()[0].startswith("OFF: isolation unavailable")


def test_the_launcher_and_kernel_use_the_resolved_interpreter_folder(tmp_path, monkeypatch):
    (tmp_path / "real" / "bin").mkdir(parents=True)
    (tmp_path / "real" / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "link" / "bin" / "python"))
    # the folders resolved (.venv -> real), the file itself not (a virtualenv's python is known by its path)
    assert sandbox.interpreter() == str(tmp_path.resolve() / "real" / "bin" / "python")
    assert sandbox.SandboxConfig("/w", [], {}, 1).command("c.json")[0] == sandbox.interpreter()
