"""The course as Binder or a class JupyterHub builds it, and as a wheel installed without cloning.

repo2docker (which builds Binder and most JupyterHub images) is simulated without Docker,
with the steps its Python build pack takes for this repository (repo2docker's
``buildpacks/python``): ``binder/`` exists, so only the files in it count; from the
repository's root, ``pip install -r binder/requirements.txt`` into the environment that
runs the kernels; then ``./binder/postBuild``, also from the root, with ``NB_PYTHON_PREFIX``
set to that environment. The differences: a virtual environment of this machine's Python
instead of the image's conda one (``binder/runtime.txt`` asks for the same minor version),
and pip's cache is used (repo2docker passes ``--no-cache-dir``), so the test stays fast.

Everything happens in a clean clone of the committed HEAD in a temporary folder, removed
afterwards; ``PYTHONPATH`` and Jupyter's search paths are cleared, so nothing of this
checkout can be imported by accident.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_TO_RUN = ["00_start_here.ipynb", "01_gd_basics.ipynb"]
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"

EXECUTE = """
import sys, time, nbformat
from nbclient import NotebookClient
for name in sys.argv[1:]:
    start = time.monotonic()
    notebook = nbformat.read(name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, (name, errors)
    print(f"{name} {time.monotonic() - start:.1f} s")
"""


@dataclass
class Image:
    """A clean clone and the environment built from it the way repo2docker builds it."""

    root: Path
    clone: Path
    prefix: Path  # the environment, NB_PYTHON_PREFIX in repo2docker
    env: dict

    def run(self, *argv, cwd=None, check=True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(a) for a in argv], cwd=cwd or self.clone, env=self.env, capture_output=True,
                              text=True, timeout=900)
        if check:
            assert done.returncode == 0, (f"{argv} failed ({done.returncode}):\n"
                                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"


def isolated_environment(root: Path, prefix: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "MPLBACKEND", "VIRTUAL_ENV",
                        "PYTHONSTARTUP", "PYTHONHOME"}}
    env.update(PATH=os.pathsep.join([str(prefix / "bin"), env.get("PATH", "")]), NB_PYTHON_PREFIX=str(prefix),
               JUPYTER_CONFIG_DIR=str(root / "jupyter-config"), JUPYTER_DATA_DIR=str(root / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(root / "jupyter-runtime"), IPYTHONDIR=str(root / "ipython"),
               GDCOURSE_HOME=str(root / "progress"), MPLCONFIGDIR=str(root / "matplotlib"),
               # postBuild's `gdcourse cache warm` would run every chapter notebook (minutes);
               # tests/test_memo.py tests warming, here it only has to exit cleanly.
               GDCOURSE_CACHE="off",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


@pytest.fixture(scope="module")
def image():
    root = Path(tempfile.mkdtemp(prefix="gdcourse-repo2docker-"))
    try:
        clone, prefix = root / "repo", root / "env"
        env = isolated_environment(root, prefix)
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True, capture_output=True, timeout=300)
        built = Image(root, clone, prefix, env)
        built.run(built.python, "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt")
        built.run("./binder/postBuild")
        yield built
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- the configuration itself (no build)


def test_binder_folder_is_what_repo2docker_reads():
    """With ``binder/``, repo2docker ignores the root's files: the folder must say everything."""
    binder = REPO / "binder"
    lines = [ln.split("#")[0].strip() for ln in (binder / "requirements.txt").read_text().splitlines()]
    assert [ln for ln in lines if ln] == ["-r ../requirements.txt", "."]
    # Without runtime.txt, repo2docker uses Python 3.10, below the package's requirement.
    version = re.fullmatch(r"python-(\d+)\.(\d+)\s*", (binder / "runtime.txt").read_text())
    assert version, "binder/runtime.txt must read python-X.Y"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and (int(version[1]), int(version[2])) >= (3, 11)
    assert os.access(binder / "postBuild", os.X_OK)


def test_the_course_requirements_hold_no_test_or_browser_tooling():
    names = {re.split(r"[<>=!~ \[]", ln.strip())[0].lower()
             for ln in (REPO / "requirements.txt").read_text().splitlines() if ln.strip() and ln[0] not in "#-"}
    assert {"numpy", "jupyterlab", "ipykernel", "ipywidgets"} <= names
    assert not names & {"pytest", "nbval", "pytest-xdist", "hypothesis", "ruff", "playwright", "nbgrader"}
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev.splitlines() and "nbgrader" in dev and "pytest" in dev


# ---------------------------------------------------------------- the image


def test_image_runs_the_start_notebook_and_a_course_notebook_from_notebooks(image):
    where = image.run(image.python, "-c", "import gdcourse; print(gdcourse.__file__)", cwd=image.clone / "notebooks")
    installed = Path(where.stdout.strip())
    assert installed.is_relative_to(image.prefix), f"gdcourse imported from {installed}, not the image's environment"
    done = image.run(image.python, "-c", EXECUTE, *NOTEBOOKS_TO_RUN, cwd=image.clone / "notebooks")
    print(done.stdout)


def test_image_has_no_test_tooling(image):
    listed = image.run(image.python, "-m", "pip", "list", "--format=json").stdout
    names = {package["name"].lower() for package in json.loads(listed)}
    assert {"gdcourse", "numpy", "jupyterlab"} <= names
    assert not names & {"pytest", "nbval", "playwright", "nbgrader", "hypothesis", "ruff"}


def test_image_lab_has_no_news_popup(image):
    page_config = json.loads((image.prefix / "etc/jupyter/labconfig/page_config.json").read_text())
    assert page_config["disabledExtensions"][ANNOUNCEMENTS] is True
    server_config = json.loads((image.prefix / "etc/jupyter/jupyter_server_config.d/gdcourse.json").read_text())
    assert server_config["LabApp"]["news_url"] is None
    listing = image.run("jupyter", "labextension", "list")
    assert ANNOUNCEMENTS in listing.stdout + listing.stderr


# ---------------------------------------------------------------- the wheel, without cloning


def test_wheel_carries_the_course_and_sets_up_a_personal_copy(image):
    dist = image.root / "dist"
    image.run(image.python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, ".")
    (wheel,) = dist.glob("gdcourse-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    notebooks = sorted(p.name for p in (image.clone / "notebooks").glob("*.ipynb"))
    assert {f"gdcourse/student_notebooks/{n}" for n in notebooks} <= names
    assert {f"gdcourse/bank/{p.name}" for p in (image.clone / "gdcourse/bank").glob("*.toml")} | {
        "gdcourse/bank/README.md", "gdcourse/jupyter_config/learner/labconfig/page_config.json",
        "gdcourse/jupyter_config/learner/jupyter_server_config.json"} <= names

    # A fresh environment with only the wheel: the copy needs no NumPy and no JupyterLab.
    fresh = image.root / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True, capture_output=True, timeout=300)
    image.run(fresh / "bin/python", "-m", "pip", "install", "--quiet", "--no-deps", wheel)
    mine = image.root / "my notebooks"
    mine.mkdir()
    (mine / "01_gd_basics.ipynb").write_text("my own work")
    done = image.run(fresh / "bin/gdcourse", "lab", mine, "--setup-only", cwd=image.root)
    assert sorted(p.name for p in mine.glob("*.ipynb")) == notebooks
    assert (mine / "01_gd_basics.ipynb").read_text() == "my own work"
    assert (mine / "00_start_here.ipynb").read_bytes() == (image.clone / "notebooks/00_start_here.ipynb").read_bytes()
    assert "Kept 1 notebook already there (not overwritten): 01_gd_basics.ipynb" in done.stdout
    # Without the lab extra, starting the lab says what to install instead of failing obscurely.
    refused = image.run(fresh / "bin/gdcourse", "lab", mine, "--no-browser", cwd=image.root, check=False)
    assert refused.returncode == 1 and 'pip install "gdcourse[lab]"' in refused.stderr
