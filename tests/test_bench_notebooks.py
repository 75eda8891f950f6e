"""``gdcourse bench --notebooks``: what it times, how it summarizes repeats, how it refuses bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from gdcourse import bench_notebooks


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """A notebook with a fast cell, a 0.6 s cell and a failing cell; an empty store so nothing is warmed."""
    monkeypatch.setenv("GDCOURSE_CACHE", "off")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", id="quick"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(0.6)", id="sleepy"),
                nbformat.v4.new_code_cell("1 / 0", id="broken")]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_one_run_times_the_kernel_and_its_cells(notebook):
    row = bench_notebooks.time_notebook(notebook)
    assert row["notebook"] == f"{notebook.parent.name}/01_tiny.ipynb"
    assert row["slowest_cell"] == "sleepy" and 0.55 <= row["slowest_s"] < 5
    assert row["errors"] == 1
    assert 0.6 <= row["run_s"] <= row["wall_s"]          # run: up to the last reply; wall adds the shutdown
    assert row["kernel_cpu_s"] > 0


def test_summarize_takes_medians_and_the_worst_run():
    runs = [{"notebook": "n/a.ipynb", "run_s": r, "wall_s": r + 0.5, "kernel_cpu_s": r - 0.1, "errors": e,
             "slowest_cell": c, "slowest_s": s}
            for r, e, c, s in [(7.0, 0, "a", 1.0), (9.5, 1, "b", 2.0), (8.0, 0, "a", 1.2)]]
    row = bench_notebooks.summarize(runs)
    assert row["run_s"] == 8.0 and row["worst_run_s"] == 9.5
    assert row["wall_s"] == 8.5 and row["kernel_cpu_s"] == pytest.approx(7.9)
    assert row["errors"] == 1 and (row["slowest_cell"], row["slowest_s"]) == ("b", 2.0)
    assert row["runs"] == 3


def test_the_cli_repeats_each_notebook_and_flags_the_budget(notebook, tmp_path):
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "gdcourse.cli", "bench", "--notebooks", str(notebook),
                           "--repeats", "2", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "median of 2 runs each" in done.stdout
    assert "(2/2)" in done.stderr
    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert report["repeats"] == 2 and row["runs"] == 2 and row["errors"] == 1
    assert "over budget" not in done.stdout
    report["rows"][0]["run_s"] = 10.5
    assert "over budget" in bench_notebooks.format_notebook_report(report)


@pytest.mark.parametrize("argv, message", [
    (["--notebooks", "/nonexistent/01_x.ipynb"], "expected notebook files"),
    (["--notebooks", "README.md", "--repeats", "0"], "repeats"),
])
def test_bad_arguments_are_refused_clearly(argv, message):
    done = subprocess.run([sys.executable, "-m", "gdcourse.cli", "bench", *argv], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr
