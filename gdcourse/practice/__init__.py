"""Practice the interview questions: flashcards (SM-2), mock interviews and tests.

- :mod:`~gdcourse.practice.sm2`: the spaced-repetition schedule.
- :mod:`~gdcourse.practice.store`: the SQLite progress store in the user's data directory.
- :mod:`~gdcourse.practice.session`: the three engines, free of any user interface
  (:mod:`~gdcourse.practice.flashcards`, :mod:`~gdcourse.practice.interview`,
  :mod:`~gdcourse.practice.quiz`, filters in :mod:`~gdcourse.practice.selection`).
- :mod:`~gdcourse.practice.terminal`: ``gdcourse practice`` in a terminal.
- :mod:`~gdcourse.practice.widgets`: the same engines as ipywidgets for JupyterLab.
- :mod:`~gdcourse.practice.cheatsheet`: key points and formulas as Markdown and HTML.
"""

import importlib

# Imported on first use (PEP 562), so ``gdcourse practice --help`` does not load the engines.
_HOMES = {
    "CardState": "sm2", "review": "sm2",
    "FlashcardSession": "flashcards", "MockInterview": "interview", "TestSession": "quiz",
    "ProgressStore": "store", "StoreError": "store", "data_dir": "store",
}

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


def __getattr__(name):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
