"""Fixtures shared by the tests. Plain helpers live in modules next to this file and are imported
by name where they are used:

* ``check_helpers``: run a notebook check and assert its verdict (``tests/test_nbNN_checks.py``);
* ``practice_helpers``: the fake clocks and the small question bank of the practice tests, which
  the fixtures below are built on.
"""

import pytest
from practice_helpers import BANK_FIXTURE, Clock

from gdcourse.bank import load
from gdcourse.practice.store import ProgressStore

# check_helpers asserts inside its functions: rewritten like a test module, a failed assert there
# shows the values it compared. (Must run before the first test module imports it.)
pytest.register_assert_rewrite("check_helpers")


@pytest.fixture
def bank():
    """The small question bank of ``tests/data/bank_fixture`` (topics GD, OPT, DL)."""
    return load(BANK_FIXTURE, solutions_dir=BANK_FIXTURE)


@pytest.fixture
def clock():
    """A wall clock standing at 2025-03-01 09:00 until the test calls ``clock.advance``."""
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    """A fresh progress store in ``tmp_path`` that reads the time from ``clock``; closed afterwards."""
    with ProgressStore(tmp_path / "p.sqlite3", now=clock) as progress:
        yield progress
