"""The practice engines: flashcards, mock interview and test, with no user interface.

Each engine has its module (:mod:`~gdcourse.practice.flashcards`,
:mod:`~gdcourse.practice.interview`, :mod:`~gdcourse.practice.quiz`, with the
shared filters in :mod:`~gdcourse.practice.selection`); this module gathers their
public names, so ``from gdcourse.practice.session import MockInterview`` works.

The terminal (:mod:`gdcourse.practice.terminal`) and the notebook widgets
(:mod:`gdcourse.practice.widgets`) only show what these objects hold and call
their methods, so every rule lives in the engines and is tested there.

- :class:`FlashcardSession`: cards failed earlier today, cards missed in another
  mode, cards due (oldest first), then new cards with topics interleaved, or
  today's share of an exam-date plan (:mod:`~gdcourse.practice.plan`); each grade
  is stored and scheduled by SM-2 at once. Cards graded below 4 come back at the
  end of the session until they score 4 or more (SM-2's step 7), and first in the
  next session the same day if this one stops early; those same-day repeats are
  logged but do not move the schedule again.
- :class:`MockInterview`: N main questions drawn with a seed, mixing topics and
  levels, with no repeats; a timer per question; typed answers judged against the
  key points (:mod:`~gdcourse.practice.judge`), the candidate confirming or
  correcting; hints as a ladder (a point covered after a hint counts half); a
  follow-up at 70 % or more, a probe on the missed points below; a summary with the
  typed answers that is stored and written as Markdown.
- :class:`TestSession`: items that need knowledge (which statement is wrong, true or
  false on a claim, a typed number, an ordering) made with a seed from the bank and
  its curated material, scored automatically.
- Learn (:mod:`~gdcourse.practice.learn`) and Match (:mod:`~gdcourse.practice.match`).
"""

from gdcourse.practice.flashcards import REPEAT_BELOW, Card, FlashcardSession
from gdcourse.practice.interview import (
    FOLLOW_UP_THRESHOLD,
    SUGGESTED_SECONDS,
    WEAK_TOPICS_SHOWN,
    InterviewQuestion,
    InterviewSummary,
    MockInterview,
    draw_questions,
)
from gdcourse.practice.quiz import TestItem, TestSession, count_test_items, make_test_items
from gdcourse.practice.selection import (
    format_seconds,
    normalize_levels,
    normalize_topics,
    notebook_reference,
    select_entries,
)

__all__ = [
    "FOLLOW_UP_THRESHOLD",
    "REPEAT_BELOW",
    "SUGGESTED_SECONDS",
    "WEAK_TOPICS_SHOWN",
    "Card",
    "FlashcardSession",
    "InterviewQuestion",
    "InterviewSummary",
    "MockInterview",
    "TestItem",
    "TestSession",
    "draw_questions",
    "format_seconds",
    "count_test_items",
    "make_test_items",
    "normalize_levels",
    "normalize_topics",
    "notebook_reference",
    "select_entries",
]
