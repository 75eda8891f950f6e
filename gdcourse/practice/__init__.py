"""Practice the interview questions: flashcards (SM-2), mock interviews and tests.

- :mod:`~gdcourse.practice.sm2`: the spaced-repetition schedule.
- :mod:`~gdcourse.practice.store`: the SQLite progress store in the user's data directory.
- :mod:`~gdcourse.practice.session`: the three engines, free of any user interface.
- :mod:`~gdcourse.practice.terminal`: ``gdcourse practice`` in a terminal.
- :mod:`~gdcourse.practice.widgets`: the same engines as ipywidgets for JupyterLab.
- :mod:`~gdcourse.practice.cheatsheet`: key points and formulas as Markdown and HTML.
"""

from gdcourse.practice.session import FlashcardSession, MockInterview, TestSession
from gdcourse.practice.sm2 import CardState, review
from gdcourse.practice.store import ProgressStore, StoreError, data_dir

__all__ = [
    "CardState",
    "FlashcardSession",
    "MockInterview",
    "ProgressStore",
    "StoreError",
    "TestSession",
    "data_dir",
    "review",
]
