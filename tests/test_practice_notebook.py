"""solutions/10_mock_interview.ipynb: valid, clean, and runs top to bottom headless."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "10_mock_interview.ipynb"


@pytest.fixture
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_is_valid_with_metadata_ids_and_no_outputs(notebook):
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.metadata.language_info.name == "python"
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids) and all(ids)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert notebook.cells[0].source.startswith("# 10 · ")
    headings = [line for cell in notebook.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")]
    assert len(headings) >= 4


def test_notebook_shows_every_mode_the_plan_and_the_charts(notebook):
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for name in ("FlashcardWidget(", "MockInterviewWidget(", "TestWidget(", "LearnWidget(", "MatchWidget(",
                 "make_plan(", "plan_figure(", "progress_figure("):
        assert name in source
    assert "environ" not in source and "ProgressStore()" in source  # the real store unless GDCOURSE_HOME is set


def test_notebook_runs_top_to_bottom_with_a_scratch_store(notebook, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("GDCOURSE_HOME", str(home))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error" or output.get("name") == "stderr"]
    assert errors == []
    assert (home / "progress.sqlite3").is_file()     # the kernel used GDCOURSE_HOME
    widgets = [cell for cell in notebook.cells if cell.cell_type == "code"
               and any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in cell.outputs)]
    assert len(widgets) == 5
    charts = [cell for cell in notebook.cells if cell.cell_type == "code"
              and any("image/png" in out.get("data", {}) for out in cell.outputs)]
    assert [cell.id for cell in charts] == ["plan-chart", "stats"]
