"""Fakes shared by the practice tests (``tests/test_practice_*.py``); the fixtures built on them
(``bank``, ``clock``, ``store``) are in ``tests/conftest.py``.

Plain classes and constants, imported where a test needs more than the fixture gives it (a
second clock, a stopwatch with its own start, the bank directory's files).
"""

import datetime as dt
from pathlib import Path

BANK_FIXTURE = Path(__file__).parent / "data" / "bank_fixture"
"""A small question bank (topics GD, OPT, DL) that the practice tests are written against."""

START = dt.datetime(2025, 3, 1, 9, 0)


class Clock:
    """An injectable wall clock: ``clock()`` returns the current datetime; ``advance`` moves it."""

    def __init__(self, start=START):
        self.moment = start

    def __call__(self):
        return self.moment

    def advance(self, days=0, hours=0):
        self.moment += dt.timedelta(days=days, hours=hours)


class Stopwatch:
    """A fake monotonic clock (seconds) for the interview timer: set or add to ``t`` to move it."""

    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t
