"""Practice the interview questions: flashcards (SM-2) on an exam-date plan, Learn, tests, Match, mock interviews.

- :mod:`~gdcourse.practice.sm2`: the spaced-repetition schedule; :mod:`~gdcourse.practice.plan`:
  today's cards and the plan until an interview date.
- :mod:`~gdcourse.practice.store`: the SQLite progress store in the user's data directory
  (read-only opening, :mod:`~gdcourse.practice.salvage` of a damaged one), with
  :mod:`~gdcourse.practice.record`: statistics of every mode, misses, export.
- :mod:`~gdcourse.practice.session`: the engines, free of any user interface
  (:mod:`~gdcourse.practice.flashcards`, :mod:`~gdcourse.practice.interview`,
  :mod:`~gdcourse.practice.quiz` with :mod:`~gdcourse.practice.items`,
  :mod:`~gdcourse.practice.learn`, :mod:`~gdcourse.practice.match`; filters in
  :mod:`~gdcourse.practice.selection`, reasons for empty ones in :mod:`~gdcourse.practice.empty`).
- :mod:`~gdcourse.practice.terminal` and :mod:`~gdcourse.practice.drills`: ``gdcourse practice`` in a terminal.
- :mod:`~gdcourse.practice.widgets`, :mod:`~gdcourse.practice.drill_widgets` and
  :mod:`~gdcourse.practice.dashboard`: the same engines and the record as ipywidgets and charts.
- :mod:`~gdcourse.practice.cheatsheet`: one printable A4 page per topic.
- :mod:`~gdcourse.practice.mathtext`: LaTeX as Unicode text (terminal) or MathML (HTML).
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
