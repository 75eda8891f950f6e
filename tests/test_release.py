"""``gdcourse release``: stubs, hidden tests, outputs, idempotence, --check, and the shipped notebooks."""

from pathlib import Path

import nbformat
import pytest

from gdcourse import cli
from gdcourse.course import release as R

ROOT = Path(__file__).resolve().parents[1]


def _meta(grade_id, **kw):
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "grade": False, "solution": False,
                         "locked": False} | kw}


def _solutions_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("## GD-02 · The update rule", id="intro"),
        nbformat.v4.new_code_cell(
            "def gd_step(w, g, lr):\n    ### BEGIN SOLUTION\n    return w - lr * g\n    ### END SOLUTION",
            id="ex-gd-step", metadata=_meta("gd_step", solution=True)),
        nbformat.v4.new_code_cell(
            "result = check_it(gd_step)\n### BEGIN HIDDEN TESTS\nassert result.passed\n### END HIDDEN TESTS",
            id="check-gd-step", metadata=_meta("gd_step_check", grade=True, locked=True, points=2)),
        nbformat.v4.new_code_cell(
            "### BEGIN SOLUTION\nlargest_lr, other = 0.2, 3\n### END SOLUTION\nprint(largest_lr)",
            id="ex-lr", metadata=_meta("largest_lr", solution=True)),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    return nb


def test_student_version_stubs_solutions_and_removes_hidden_tests():
    nb = _solutions_notebook()
    student = R.student_version(nb, "x.ipynb")
    code = [c.source for c in student.cells]
    assert code[1] == ('def gd_step(w, g, lr):\n'
                       '    raise NotImplementedError("Exercise gd_step: replace this line with your code")')
    assert code[2] == "result = check_it(gd_step)"
    assert code[3] == "largest_lr = None  # YOUR ANSWER HERE\nother = None  # YOUR ANSWER HERE\nprint(largest_lr)"
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert [c.id for c in student.cells] == [c.id for c in nb.cells]
    assert student.cells[2].metadata["nbgrader"]["points"] == 2
    assert "return w - lr * g" in nb.cells[1].source  # the source is untouched
    exec(compile(code[3].replace("print(largest_lr)", ""), "cell", "exec"), {})  # top-level stubs run


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "is never closed"),
        ("x = 1\n### END SOLUTION", "without '### BEGIN SOLUTION'"),
        ("### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", "inside another region"),
    ],
)
def test_unbalanced_markers_are_reported(source, message):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, id="c", metadata=_meta("ex", solution=True))]
    with pytest.raises(R.ReleaseError, match=message):
        R.student_version(nb, "bad.ipynb")


def test_solution_region_without_grade_id():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", id="c")]
    with pytest.raises(R.ReleaseError, match=r"bad.ipynb cell 0 \(c\): a solution region needs nbgrader metadata"):
        R.student_version(nb, "bad.ipynb")


def test_release_is_idempotent_and_check_detects_drift(tmp_path, capsys):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nbformat.write(_solutions_notebook(), solutions / "01_demo.ipynb")
    assert R.release(solutions, notebooks) == [notebooks / "01_demo.ipynb"]
    assert R.release(solutions, notebooks) == []
    assert R.stale_notebooks(solutions, notebooks) == []
    assert cli.main(["release", "--root", str(tmp_path), "--check"]) == 0
    released = notebooks / "01_demo.ipynb"
    released.write_text(released.read_text().replace("None  # YOUR ANSWER HERE", "0.3"))
    assert cli.main(["release", "--root", str(tmp_path), "--check"]) == 1
    assert "differs from a fresh release" in capsys.readouterr().err
    (notebooks / "02_orphan.ipynb").write_text("{}")
    assert any("02_orphan.ipynb has no source" in p for p in R.stale_notebooks(solutions, notebooks))


def test_list_exercises(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solutions_notebook(), tmp_path / "solutions" / "01_demo.ipynb")
    rows = R.list_exercises(tmp_path / "solutions")
    assert [(r.grade_id, r.kind, r.points) for r in rows] == [
        ("gd_step", "solution", 0), ("gd_step_check", "test", 2), ("largest_lr", "solution", 0)]
    assert cli.main(["release", "--root", str(tmp_path), "--list"]) == 0
    assert "3 cells, 2 points" in capsys.readouterr().out


def test_unknown_notebook_name(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    assert cli.main(["release", "--root", str(tmp_path), "07"]) == 2
    assert "no solutions notebook matches '07'" in capsys.readouterr().err


# --- the course's own notebooks ---------------------------------------------------------------

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_shipped_student_notebooks_are_a_fresh_release():
    assert R.stale_notebooks(ROOT / "solutions", ROOT / "notebooks") == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_shipped_solutions_are_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "language_info" in nb.metadata
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids), "cell ids must be unique"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs"
