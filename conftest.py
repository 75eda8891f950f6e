"""Keep every test run, notebook runs (nbval) included, away from the user's real progress store.

``gdcourse practice`` and notebook 10 keep progress in ``$GDCOURSE_HOME`` (default: the per-user data
directory). Unless the caller set ``GDCOURSE_HOME``, the run gets a scratch one, inherited by the
notebook kernels and subprocesses; tests that need their own still set it themselves.
"""

import os
import shutil
import tempfile

_SCRATCH: list[str] = []


def pytest_configure(config):
    if not os.environ.get("GDCOURSE_HOME", "").strip():
        _SCRATCH.append(tempfile.mkdtemp(prefix="gdcourse-test-home-"))
        os.environ["GDCOURSE_HOME"] = _SCRATCH[0]


def pytest_unconfigure(config):
    for path in _SCRATCH:
        shutil.rmtree(path, ignore_errors=True)
