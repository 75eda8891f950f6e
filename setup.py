"""Build hook: the student notebooks go into the wheel, so an installed course can set up a copy.

Everything else about the package is in pyproject.toml. ``solutions/`` is the single source
of truth and ``notebooks/`` is generated from it (``gdcourse release``); a built (non-editable)
package carries a copy of ``notebooks/*.ipynb`` as ``gdcourse/student_notebooks/``, which
``gdcourse lab`` copies into the learner's folder. An editable install (``make lab``) reads
``notebooks/`` in the checkout instead, so nothing is copied there.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PACKAGED_AS = ("gdcourse", "student_notebooks")


class BuildPyWithNotebooks(build_py):
    """``build_py`` that also copies ``notebooks/*.ipynb`` into the built package."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
        if not notebooks:
            raise SystemExit(f"no student notebooks in {NOTEBOOKS}: run `gdcourse release` before building")
        target = Path(self.build_lib, *PACKAGED_AS)
        self.mkpath(str(target))
        for notebook in notebooks:
            self.copy_file(str(notebook), str(target / notebook.name))

    def get_outputs(self, include_bytecode=True):
        built = Path(self.build_lib, *PACKAGED_AS)
        return super().get_outputs(include_bytecode) + [str(built / p.name) for p in sorted(NOTEBOOKS.glob("*.ipynb"))]


setup(cmdclass={"build_py": BuildPyWithNotebooks})
