"""``gdcourse lab [DIR]``: a personal copy of the student notebooks, opened in a clean JupyterLab.

For a course installed without cloning (``pip install "gdcourse[lab]"``): the student
notebooks travel inside the package (``gdcourse/student_notebooks/``, put there when the
wheel is built, see ``setup.py``); in a checkout with an editable install they are read from
``notebooks/``. Copying never overwrites: a notebook already in DIR is the learner's work
and is kept as it is; only missing notebooks are added (so a new release adds its new
notebooks and leaves edited ones alone).

JupyterLab then starts in DIR on ``00_start_here.ipynb`` with the learner's settings of
``gdcourse/jupyter_config/learner`` (no news pop-up, no nbgrader panels), or the
instructor's with ``--instructor``, put first on ``JUPYTER_CONFIG_PATH`` for that server
only: nothing is written to ``~/.jupyter``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from gdcourse.atomic import atomic_write

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_NOTEBOOKS = PACKAGE_DIR / "student_notebooks"
CHECKOUT_NOTEBOOKS = PACKAGE_DIR.parent / "notebooks"
CONFIG_DIRS = {"learner": PACKAGE_DIR / "jupyter_config" / "learner",
               "instructor": PACKAGE_DIR / "jupyter_config" / "instructor"}
START_NOTEBOOK = "00_start_here.ipynb"
DEFAULT_DIR = Path("~/gdcourse-notebooks")

DESCRIPTION = (
    "Copy the student notebooks into DIR (default ~/gdcourse-notebooks) and open JupyterLab there on "
    "00_start_here.ipynb. A notebook already in DIR is never overwritten (your work is kept); missing ones "
    "are added. The lab opens without the news pop-up and without nbgrader's panels (--instructor: with them)."
)


@dataclass(frozen=True)
class CopyReport:
    """What :func:`copy_notebooks` did: file names added to the folder, and those already there (kept)."""

    added: tuple[str, ...]
    kept: tuple[str, ...]

    def lines(self, folder: Path) -> list[str]:
        added = f"Added {_count(self.added)} to {folder}"
        out = [f"{added}: {', '.join(self.added)}" if self.added else added]
        if self.kept:
            out.append(f"Kept {_count(self.kept)} already there (not overwritten): {', '.join(self.kept)}")
        return out


def _count(names) -> str:
    return f"{len(names)} notebook{'' if len(names) == 1 else 's'}"


def student_notebooks() -> Path:
    """The folder holding the student notebooks: the packaged copy, else the checkout's ``notebooks/``."""
    for folder in (PACKAGED_NOTEBOOKS, CHECKOUT_NOTEBOOKS):
        if any(folder.glob("*.ipynb")):
            return folder
    raise FileNotFoundError(f"no student notebooks in {PACKAGED_NOTEBOOKS} (an installed wheel) nor in "
                            f"{CHECKOUT_NOTEBOOKS} (a checkout): reinstall the package, or run `gdcourse release`")


def copy_notebooks(source: Path, folder: Path) -> CopyReport:
    """Copy every ``*.ipynb`` of ``source`` into ``folder`` (created if missing) unless a file of that name exists.

    Each new file is written atomically, so an interrupted copy leaves no half notebook
    behind for the next run to keep.
    """
    source, folder = Path(source), Path(folder)
    if not source.is_dir():
        raise NotADirectoryError(f"source: expected a folder of notebooks, got {source}")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"folder: expected a folder (or a path to create), got the file {folder}")
    added, kept = [], []
    for notebook in sorted(source.glob("*.ipynb")):
        target = folder / notebook.name
        if target.exists():
            kept.append(notebook.name)
        else:
            atomic_write(target, notebook.read_bytes())
            added.append(notebook.name)
    return CopyReport(tuple(added), tuple(kept))


def lab_invocation(folder: Path, *, role: str = "learner", port: int | None = None, open_browser: bool = True,
                   environ: dict | None = None) -> tuple[list[str], dict]:
    """The command line and environment that open JupyterLab in ``folder`` with ``role``'s settings.

    ``role`` is ``"learner"`` or ``"instructor"`` (a folder of ``gdcourse/jupyter_config``),
    put first on ``JUPYTER_CONFIG_PATH`` ahead of any path already there.
    """
    if role not in CONFIG_DIRS:
        raise ValueError(f"role: expected one of {sorted(CONFIG_DIRS)}, got {role!r}")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        raise ValueError(f"port: expected an integer in 1…65535, got {port!r}")
    folder = Path(folder).resolve()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
            f"--LabApp.default_url=/lab/tree/{START_NOTEBOOK}"]
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # JupyterLab refuses to run as root without it
        argv.append("--allow-root")
    env = dict(os.environ if environ is None else environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(CONFIG_DIRS[role])] + ([env["JUPYTER_CONFIG_PATH"]] if env.get("JUPYTER_CONFIG_PATH") else []))
    return argv, env


def jupyterlab_missing() -> str | None:
    """Why JupyterLab cannot start from this Python (one line), or None."""
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is None:
        return ('JupyterLab is not installed in this Python environment: pip install "gdcourse[lab]" '
                "(or pip install jupyterlab ipykernel)")
    return None


def run_lab(args, out=None) -> int:
    out = sys.stdout if out is None else out
    folder = Path(args.dir).expanduser()
    try:
        report = copy_notebooks(student_notebooks(), folder)
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"gdcourse lab: {error}", file=sys.stderr)
        return 1
    for line in report.lines(folder):
        print(line, file=out)
    if args.setup_only:
        return 0
    problem = jupyterlab_missing()
    if problem:
        print(f"gdcourse lab: {problem}", file=sys.stderr)
        return 1
    argv, env = lab_invocation(folder, role="instructor" if args.instructor else "learner", port=args.port,
                               open_browser=not args.no_browser)
    out.flush()
    os.execve(argv[0], argv, env)  # JupyterLab takes over this process (Ctrl-C stops it as usual)
    return 0  # not reached


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number in 1…65535, got {text!r}")
    return int(text)


def add_command(subparsers) -> None:
    """Register ``gdcourse lab``."""
    parser = subparsers.add_parser("lab", help="copy the student notebooks into a folder and open JupyterLab there",
                                   description=DESCRIPTION)
    parser.add_argument("dir", nargs="?", default=str(DEFAULT_DIR), metavar="DIR",
                        help=f"your notebooks folder (default {DEFAULT_DIR}); created if missing")
    parser.add_argument("--no-browser", action="store_true", help="start the server without opening a browser")
    parser.add_argument("--port", type=_port, default=None, help="the server's port (default: JupyterLab's, 8888)")
    parser.add_argument("--setup-only", action="store_true",
                        help="copy the notebooks and stop: start no server")
    parser.add_argument("--instructor", action="store_true",
                        help="the instructor's settings: nbgrader's menu and panels when nbgrader is installed")
    parser.set_defaults(run=run_lab)
