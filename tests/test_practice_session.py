"""The practice engines without any UI: flashcards and mock interview (test items: test_practice_quiz.py)."""

import datetime as dt
from collections import Counter

import pytest
from practice_helpers import Stopwatch

from gdcourse.bank import TOPICS
from gdcourse.practice.session import (
    FlashcardSession,
    MockInterview,
    draw_questions,
    format_seconds,
    normalize_levels,
    normalize_topics,
    notebook_reference,
    select_entries,
)


# ---------------------------------------------------------------- selection
def test_filters_normalize_case_and_reject_unknown_names(bank):
    assert normalize_topics(["gd", "OPT", "gd"]) == ("GD", "OPT")
    assert normalize_topics(None)[0] == "GD" and len(normalize_topics([])) == len(TOPICS)
    assert normalize_levels("HARD") == ("hard",)
    with pytest.raises(ValueError, match=r"topic: expected one of GD, .* got 'XX'"):
        normalize_topics(["XX"])
    with pytest.raises(ValueError, match=r"level: expected one of easy, medium, hard, got 'expert'"):
        normalize_levels(["expert"])
    assert [e.id for e in select_entries(bank, ["OPT"], ["hard"])] == ["OPT-01a", "OPT-03"]
    assert [e.id for e in select_entries(bank, ["OPT"], ["hard"], follow_ups=False)] == ["OPT-03"]


def test_notebook_reference_and_time_format(bank):
    assert notebook_reference(bank.get("GD-02")) == "solutions/01_gd_basics.ipynb, section GD-03"
    assert notebook_reference(bank.get("DL-01")) == ""
    assert [format_seconds(s) for s in (0, 59.9, 61, 600, -5)] == ["0:00", "0:59", "1:01", "10:00", "-0:05"]


# ---------------------------------------------------------------- flashcards
def test_flashcards_grade_needs_a_reveal_and_is_stored_at_once(bank, store):
    session = FlashcardSession(bank, store, topics=["DL"])
    with pytest.raises(RuntimeError, match="reveal"):
        session.grade(4)
    assert session.reveal().id == "DL-01"
    state = session.grade(5)
    assert store.card_state("DL-01") == state and state.interval == 1
    assert store.reviews()[0]["grade"] == 5


def test_flashcards_limit_and_filters(bank, store):
    session = FlashcardSession(bank, store, levels=["easy"], limit=3)
    assert [c.entry.id for c in session._queue] == ["GD-01", "OPT-01", "DL-01"]  # topics interleaved
    assert (session.due_count, session.new_count) == (0, 3)
    with pytest.raises(ValueError, match="limit"):
        FlashcardSession(bank, store, limit=0)


def test_cards_graded_below_four_return_until_they_score_four(bank, store):
    session = FlashcardSession(bank, store, topics=["DL"])
    grades = {"DL-01": [2, 3, 4], "DL-02": [5]}
    seen = []
    while not session.finished:
        card = session.current
        seen.append((card.entry.id, card.reason))
        session.reveal()
        session.grade(grades[card.entry.id].pop(0))
    assert seen == [("DL-01", "new"), ("DL-02", "new"), ("DL-01", "repeat"), ("DL-01", "repeat")]
    # only the first grade of the day moved the schedule: DL-01 failed (2) -> 1 day, EF 2.18
    state = store.card_state("DL-01")
    assert (state.reviews, state.interval, state.easiness, state.lapses) == (1, 1, 2.18, 1)
    assert [(r["grade"], r["scheduled"]) for r in store.reviews("DL-01")] == [(2, 1), (3, 0), (4, 0)]
    assert session.summary() == {"cards": 2, "passed": 1, "grades": 4, "left": 0}


def test_flashcard_session_is_recorded_only_when_something_was_graded(bank, store):
    empty = FlashcardSession(bank, store)
    empty.close()
    assert store.session(1) is None
    session = FlashcardSession(bank, store, topics=["DL"])
    session.reveal()
    session.grade(4)
    session.close("interrupted")
    record = store.session(session.session_id)
    assert record["status"] == "interrupted" and record["summary"]["cards"] == 1


def test_nothing_due_reports_the_next_due_date(bank, store):
    session = FlashcardSession(bank, store, topics=["DL"])
    for _ in range(2):
        session.reveal()
        session.grade(5)
    again = FlashcardSession(bank, store, topics=["DL"])
    assert again.finished and again.next_due == dt.date(2025, 3, 2)


# ---------------------------------------------------------------- drawing questions
def test_draw_is_seeded_distinct_mixed_and_easy_first(bank):
    pool = select_entries(bank, follow_ups=False)
    first = draw_questions(pool, 6, rng=7)
    assert [e.id for e in first] == [e.id for e in draw_questions(pool, 6, rng=7)]
    assert len({e.id for e in first}) == 6
    # topics take turns: 6 questions over 3 topics -> 2 each
    assert Counter(e.topic for e in first) == {"GD": 2, "OPT": 2, "DL": 2}
    rank = {"easy": 0, "medium": 1, "hard": 2}
    assert [rank[e.level] for e in first] == sorted(rank[e.level] for e in first)
    # within a topic levels take turns: GD has easy x2, medium, hard -> two GD picks differ in level
    gd_levels = [e.level for e in first if e.topic == "GD"]
    assert len(set(gd_levels)) == 2
    seeds = {tuple(e.id for e in draw_questions(pool, 3, rng=s)) for s in range(20)}
    assert len(seeds) > 5  # different seeds draw different interviews


def test_draw_rejects_bad_n(bank):
    pool = select_entries(bank, follow_ups=False)
    with pytest.raises(ValueError, match=r"n: expected at most 9 questions .* got 10"):
        draw_questions(pool, 10, rng=0)
    with pytest.raises(ValueError, match="n: expected an int >= 1, got 0"):
        draw_questions(pool, 0, rng=0)


# ---------------------------------------------------------------- mock interview
def _interview(bank, store, tmp_path, **kw):
    watch = Stopwatch(1000.0)  # a start time far from 0: the timer must measure from it
    kw.setdefault("n", 2)
    interview = MockInterview(bank, rng=kw.pop("rng", 0), store=store, clock=watch, report_dir=tmp_path / "rep",
                              **kw)
    return interview, watch


def test_timer_runs_until_reveal(bank, store, tmp_path):
    interview, watch = _interview(bank, store, tmp_path, topics=["GD"], levels=["easy"], n=1)
    q = interview.current
    assert q.suggested_seconds == 60
    watch.t += 42
    assert interview.elapsed() == 42 and interview.timer_text() == "0:42 / 1:00"
    watch.t += 30
    assert interview.time_left() == -12 and interview.timer_text() == "1:12 / 1:00 (over)"
    interview.reveal()
    watch.t += 100
    assert interview.elapsed() == 72  # frozen at the reveal


def test_suggested_time_by_level(bank, store, tmp_path):
    for level, seconds in [("easy", 60), ("medium", 120), ("hard", 240)]:
        interview, _ = _interview(bank, None, tmp_path, levels=[level], n=1)
        assert interview.current.suggested_seconds == seconds


def test_score_hint_and_follow_up(bank, store, tmp_path):
    # OPT-01 (easy, 3 key points, follow-up OPT-01a)
    interview, watch = _interview(bank, store, tmp_path, topics=["OPT"], levels=["easy"], n=1)
    assert interview.current.entry.id == "OPT-01"
    watch.t += 50
    answered = interview.submit([0, 2, 2])           # duplicates count once
    assert answered.score == pytest.approx(2 / 3)
    probe = interview.current                          # 67 % < 70 %: no follow-up, a probe on the missed point
    assert probe.kind == "probe" and probe.entry.id == "OPT-01" and probe.points == (1,)
    assert probe.prompt.startswith("Follow-up on OPT-01: your answer left out 1 of its 3 key points.")
    assert "damps oscillation" not in probe.prompt     # the probe does not give the answer away
    interview.submit([1])
    assert interview.current is None and interview.finished  # a probe earns nothing more

    interview, watch = _interview(bank, store, tmp_path, topics=["OPT"], levels=["easy"], n=1)
    interview.submit([0, 1, 2])                        # 100 %
    follow = interview.current
    assert follow.entry.id == "OPT-01a" and follow.follow_up_of == "OPT-01" and follow.kind == "follow-up"
    assert interview.main_number == 1
    assert follow.suggested_seconds == 240             # the follow-up's own level (hard)
    ladder = [interview.hint() for _ in range(3)]      # a nudge, the first words, then the point
    assert "same method" not in ladder[0] and ladder[0].startswith("Your answer still misses key point 1 of 3.")
    assert ladder[2] == "Key point: same method"
    assert interview.hint().startswith("Your answer still misses key point 2 of 3.")  # next point, rung 1
    answered = interview.submit([0, 2])
    # point 1 (index 0) was hinted then covered: half credit, not missed; point 2 was hinted, not covered
    assert answered.counted == (2,) and answered.with_hint == (0,)
    assert answered.score == pytest.approx((1 + 0.5) / 3)
    assert answered.missed == ["learning rate rescaled"]
    assert len(answered.hints) == 4 and answered.hint_used
    assert interview.finished                          # follow-ups do not chain


def test_submit_rejects_bad_indices(bank, store, tmp_path):
    interview, _ = _interview(bank, store, tmp_path, topics=["OPT"], levels=["easy"], n=1)
    with pytest.raises(ValueError, match=r"covered: expected key-point indices from 0 to 2, got 3"):
        interview.submit([3])
    interview.submit([0, 1, 2])
    interview.submit([])                               # the follow-up
    with pytest.raises(RuntimeError, match="finished"):
        interview.reveal()


def test_answers_are_stored_as_given_and_summary_saved_at_the_end(bank, store, tmp_path):
    # probes after weak answers are tested in test_practice_interview.py; here only the plan's answers
    interview, watch = _interview(bank, store, tmp_path, topics=["GD", "DL"], levels=["easy"], n=3, rng=1,
                                  probes=False)
    ids = [q.entry.id for q in interview.questions]
    assert sorted(ids) == ["DL-01", "GD-01", "GD-04"]
    plan = {"GD-01": [0, 1], "GD-04": [0, 1, 2], "DL-01": []}
    seconds = {"GD-01": 30, "GD-04": 45, "DL-01": 90}
    while not interview.finished:
        q = interview.current
        watch.t += seconds.get(q.entry.id, 10)
        interview.submit(plan.get(q.entry.id, [0, 1, 2]))
        assert len(store.interview_answers(interview.session_id)) == len(interview.asked)  # stored at once
    # GD-01: 2/3 (no follow-up, < 70 %), GD-04: 3/3, DL-01: 0/3
    summary = interview.close()
    assert summary.answered == 3 and summary.status == "finished"
    assert summary.by_topic["GD"] == (pytest.approx((2 / 3 + 1) / 2), 2)
    assert summary.by_topic["DL"] == (0.0, 1)
    assert summary.score == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert summary.weakest == ["DL"]                   # GD averages 83 %
    assert [item["id"] for item in summary.review] == [i for i in ids if i in ("GD-01", "DL-01")]
    gd01 = next(item for item in summary.review if item["id"] == "GD-01")
    assert gd01["missed"] == ["step size is the learning rate"]
    assert gd01["notebook"] == "solutions/01_gd_basics.ipynb, section GD-01"
    assert summary.seconds == 165
    record = store.session(interview.session_id)
    assert record["status"] == "finished" and record["summary"]["weakest"] == ["DL"]
    report = interview.report_path.read_text()
    assert interview.report_path.parent == tmp_path / "rep"
    assert "## What to review" in report and "### DL-01 (0%)" in report
    assert "solutions/01_gd_basics.ipynb, section GD-01" in report
    assert "| GD Gradient descent basics | 83% | 2 |" in report
    assert interview.close() is not None and len(list((tmp_path / "rep").iterdir())) == 1  # saved once


def test_interrupted_interview_keeps_its_answers_and_nothing_is_written_without_one(bank, store, tmp_path):
    interview, _ = _interview(bank, store, tmp_path, n=3)
    summary = interview.close()
    assert summary.answered == 0 and interview.report_path is None and store.session(1) is None
    interview, _ = _interview(bank, store, tmp_path, n=3)
    interview.submit([0])
    summary = interview.close()
    assert summary.status == "interrupted" and summary.answered == 1
    assert "(interrupted)" in interview.report_path.read_text()


def test_interview_without_matching_questions(bank, tmp_path):
    with pytest.raises(ValueError, match="no main question matches"):
        MockInterview(bank, n=1, topics=["NORM"], rng=0)
