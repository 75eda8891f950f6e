"""``gdcourse lab``: copying the student notebooks without overwriting, and the JupyterLab it starts.

The server tests start JupyterLab exactly as the command does (:func:`lab_invocation`),
with private Jupyter directories, on a free loopback port, and read what the page and
the server are configured with: the learner's lab has the news pop-up and nbgrader's
frontend disabled and no formgrader; the instructor's keeps nbgrader.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lab_helpers import page_config, running_lab

from gdcourse import cli, lab

REPO = Path(__file__).resolve().parents[1]
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
NBGRADER = "@jupyter/nbgrader"


# ---------------------------------------------------------------- copying


def make_notebooks(folder: Path, names: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in names.items():
        (folder / name).write_text(text)
    return folder


def test_copy_adds_missing_notebooks_and_keeps_the_learners_own(tmp_path):
    source = make_notebooks(tmp_path / "src", {"00_a.ipynb": "new a", "01_b.ipynb": "new b", "02_c.ipynb": "new c"})
    (source / "notes.txt").write_text("not a notebook")
    mine = make_notebooks(tmp_path / "mine", {"01_b.ipynb": "my edited b"})

    report = lab.copy_notebooks(source, mine)

    assert report == lab.CopyReport(added=("00_a.ipynb", "02_c.ipynb"), kept=("01_b.ipynb",))
    assert (mine / "01_b.ipynb").read_text() == "my edited b"
    assert (mine / "00_a.ipynb").read_text() == "new a"
    assert sorted(p.name for p in mine.iterdir()) == ["00_a.ipynb", "01_b.ipynb", "02_c.ipynb"]


def test_copy_creates_the_folder_and_a_second_run_adds_nothing(tmp_path):
    source = make_notebooks(tmp_path / "src", {"00_a.ipynb": "a"})
    target = tmp_path / "deep" / "mine"
    assert lab.copy_notebooks(source, target).added == ("00_a.ipynb",)
    assert lab.copy_notebooks(source, target) == lab.CopyReport(added=(), kept=("00_a.ipynb",))


def test_copy_refuses_a_file_as_the_folder_and_a_missing_source(tmp_path):
    source = make_notebooks(tmp_path / "src", {"00_a.ipynb": "a"})
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"folder: expected a folder .*file\.txt"):
        lab.copy_notebooks(source, a_file)
    with pytest.raises(NotADirectoryError, match=r"source: expected a folder of notebooks, got .*nowhere"):
        lab.copy_notebooks(tmp_path / "nowhere", tmp_path / "mine")


def test_report_lines_name_what_was_added_and_what_was_kept(tmp_path):
    lines = lab.CopyReport(added=("00_a.ipynb",), kept=("01_b.ipynb", "02_c.ipynb")).lines(tmp_path)
    assert lines == [f"Added 1 notebook to {tmp_path}: 00_a.ipynb",
                     "Kept 2 notebooks already there (not overwritten): 01_b.ipynb, 02_c.ipynb"]
    assert lab.CopyReport(added=(), kept=()).lines(tmp_path) == [f"Added 0 notebooks to {tmp_path}"]


def test_in_a_checkout_the_student_notebooks_are_the_generated_ones():
    names = sorted(p.name for p in lab.student_notebooks().glob("*.ipynb"))
    assert names == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))


def test_the_command_sets_up_a_copy_without_a_server(tmp_path, capsys):
    mine = make_notebooks(tmp_path / "mine", {"01_gd_basics.ipynb": "my work"})
    assert cli.main(["lab", str(mine), "--setup-only"]) == 0
    out = capsys.readouterr().out
    expected = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in mine.glob("*.ipynb")) == expected
    assert (mine / "01_gd_basics.ipynb").read_text() == "my work"
    assert "Kept 1 notebook already there (not overwritten): 01_gd_basics.ipynb" in out
    assert f"Added {len(expected) - 1} notebooks" in out


def test_the_command_rejects_a_bad_port(capsys):
    with pytest.raises(SystemExit):
        cli.main(["lab", "--port", "70000", "--setup-only"])
    assert "expected a port number in 1…65535, got '70000'" in capsys.readouterr().err


# ---------------------------------------------------------------- the command line it runs


def test_invocation_opens_the_folder_on_the_start_notebook_with_the_learners_settings(tmp_path):
    argv, env = lab.lab_invocation(tmp_path, port=8123, open_browser=False, environ={"JUPYTER_CONFIG_PATH": "/theirs"})
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    # LabApp's, not ServerApp's: `jupyter lab` replaces ServerApp.default_url with its own
    assert "--LabApp.default_url=/lab/tree/00_start_here.ipynb" in argv
    assert {"--ServerApp.port=8123", "--no-browser"} <= set(argv)
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(lab.CONFIG_DIRS["learner"]), "/theirs"]


def test_invocation_validates_role_and_port(tmp_path):
    with pytest.raises(ValueError, match=r"role: expected one of \['instructor', 'learner'\], got 'teacher'"):
        lab.lab_invocation(tmp_path, role="teacher")
    with pytest.raises(ValueError, match=r"port: expected an integer in 1…65535, got 0"):
        lab.lab_invocation(tmp_path, port=0)


# ---------------------------------------------------------------- the server it starts


def nbgrader_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("nbgrader") is not None


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_the_lab_it_starts_has_the_roles_settings(role, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "home").mkdir()
    with running_lab(tmp_path / "mine", role, tmp_path / "home") as server:
        status, lab_page = server.get("/lab")
        assert status == 200
        config = page_config(lab_page)
        formgrader_status = server.get("/formgrader")[0]
    disabled = set(config["disabledExtensions"])  # the page lists the names of the disabled plugins
    assert ANNOUNCEMENTS in disabled  # no "get notified about official Jupyter news?" pop-up
    assert config["news"] == {"disabled": True}  # and the server fetches no news
    if role == "learner":
        assert NBGRADER in disabled
        assert formgrader_status == 404
    elif nbgrader_installed():
        assert NBGRADER not in disabled
        assert any(ext["name"] == NBGRADER for ext in config["federated_extensions"])
        assert formgrader_status == 200
