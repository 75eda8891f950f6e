"""Keep every test run, notebook runs (nbval) included, away from the user's progress and stored results.

``gdcourse practice`` and notebook 10 keep progress in ``$GDCOURSE_HOME`` (default: the per-user data
directory), and the experiments keep their results in ``$GDCOURSE_CACHE`` (``gdcourse.memo``). Unless
the caller set them, the run gets a scratch folder for each, inherited by the notebook kernels and
subprocesses: so every claim a test asserts is computed in this run, never read from an earlier one.
Tests that need their own still set them themselves.
"""

import os
import shutil
import tempfile

_SCRATCH: list[str] = []


def pytest_configure(config):
    for variable, prefix in (("GDCOURSE_HOME", "gdcourse-test-home-"), ("GDCOURSE_CACHE", "gdcourse-test-cache-")):
        if not os.environ.get(variable, "").strip():
            _SCRATCH.append(tempfile.mkdtemp(prefix=prefix))
            os.environ[variable] = _SCRATCH[-1]


def pytest_unconfigure(config):
    for path in _SCRATCH:
        shutil.rmtree(path, ignore_errors=True)
