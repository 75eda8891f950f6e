"""The exam-date plan and today's flashcard queue: due and new cards fitted into the days left,
topics interleaved, review ahead before the interview, failed and missed cards due again at once."""

import datetime as dt

import pytest

from gdcourse.practice.flashcards import FlashcardSession
from gdcourse.practice.plan import interleave, make_plan, study_days, todays_queue
from gdcourse.practice.sm2 import CardState

D = dt.date
# the fixture bank in file order, then with topics taken in turn (GD, OPT, DL, GD, …)
INTERLEAVED = ["GD-01", "OPT-01", "DL-01", "GD-01a", "OPT-01a", "DL-02", "GD-02", "OPT-02", "GD-03", "OPT-03",
               "GD-04"]


def _state(due, interval=6):
    return CardState(repetitions=2, interval=interval, due=due, last_review=due - dt.timedelta(days=interval),
                     reviews=2)


def test_interleave_takes_topics_in_turn(bank):
    assert [entry.id for entry in interleave(list(bank))] == INTERLEAVED


def test_study_days_end_the_day_before_the_interview():
    assert study_days(D(2025, 3, 1), D(2025, 3, 3)) == [D(2025, 3, 1), D(2025, 3, 2)]
    assert study_days(D(2025, 3, 1), D(2025, 3, 1)) == [D(2025, 3, 1)]    # the interview is today
    assert study_days(D(2025, 3, 1), D(2025, 3, 2)) == [D(2025, 3, 1)]
    with pytest.raises(ValueError, match=r"until: expected today \(2025-03-01\) or a later date, got 2025-02-28"):
        study_days(D(2025, 3, 1), D(2025, 2, 28))


def test_two_day_plan_learns_everything_on_day_one_and_reviews_it_on_day_two(bank):
    plan = make_plan(list(bank), {}, D(2025, 3, 1), D(2025, 3, 3))
    assert [day.day for day in plan.days] == [D(2025, 3, 1), D(2025, 3, 2)]
    assert list(plan.days[0].new) == INTERLEAVED and plan.days[0].reviews == ()
    assert sorted(plan.days[1].reviews) == sorted(INTERLEAVED) and plan.days[1].new == ()


def test_four_day_plan_spreads_new_cards_over_the_first_three_days(bank):
    plan = make_plan(list(bank), {}, D(2025, 3, 1), D(2025, 3, 5))
    assert [len(day.new) for day in plan.days] == [4, 4, 3, 0]                  # ceil(11 / 3) = 4 a day
    assert [list(day.reviews) for day in plan.days] == [[], INTERLEAVED[:4], INTERLEAVED[4:8], INTERLEAVED[8:]]


def test_due_overdue_failed_missed_and_ahead_cards(bank):
    states = {"DL-01": _state(D(2025, 2, 25)),        # overdue: today
              "OPT-01": _state(D(2025, 3, 2)),        # due tomorrow: tomorrow
              "GD-04": _state(D(2025, 3, 10), 15),    # after the interview: reviewed ahead on the last day
              "GD-02": _state(D(2025, 3, 2), 1),      # failed earlier today
              "OPT-02": _state(D(2025, 3, 20), 30)}   # missed in a test
    plan = make_plan(list(bank), states, D(2025, 3, 1), D(2025, 3, 3), again=["GD-02"], missed=["OPT-02"])
    first, last = plan.days
    assert list(first.reviews) == ["GD-02", "OPT-02", "DL-01"]                # bank order among today's
    assert plan.ahead == ("GD-04",) and "GD-04" in last.reviews and "OPT-01" in last.reviews
    assert list(first.new) == ["GD-01", "OPT-01a", "DL-02", "GD-01a", "OPT-03", "GD-03"]
    queue = todays_queue(list(bank), states, D(2025, 3, 1), 50, until=D(2025, 3, 3), again=["GD-02"],
                         missed=["OPT-02"])
    assert [(e.id, reason) for e, reason in queue][:3] == [("GD-02", "again"), ("OPT-02", "missed"),
                                                            ("DL-01", "due")]
    assert "GD-04" not in [e.id for e, _ in queue]                            # ahead only on the last day
    last_day = todays_queue(list(bank), states, D(2025, 3, 2), 50, until=D(2025, 3, 3))
    assert ("GD-04", "ahead") in [(e.id, reason) for e, reason in last_day]
    assert todays_queue(list(bank), states, D(2025, 3, 1), 2) == [(bank.get("DL-01"), "due"),
                                                                 (bank.get("GD-01"), "new")]


def test_a_two_day_plan_walked_through_with_the_engine(bank, store, clock):
    until = D(2025, 3, 3)
    day1 = FlashcardSession(bank, store, limit=50, until=until)
    assert [card.entry.id for card in day1._queue] == INTERLEAVED and day1.new_count == 11
    for _ in INTERLEAVED:
        day1.reveal()
        day1.grade(4)                                                          # each due 03-02 (1 day)
    clock.advance(days=1)
    day2 = FlashcardSession(bank, store, limit=50, until=until)
    assert sorted(card.entry.id for card in day2._queue) == sorted(INTERLEAVED) and day2.new_count == 0
    assert {card.reason for card in day2._queue} == {"due"}
    for _ in INTERLEAVED:
        day2.reveal()
        day2.grade(5)                                                          # next: 6 days, after the interview
    assert FlashcardSession(bank, store, limit=50, until=until).finished


def test_failed_cards_are_due_again_the_same_day_after_an_interrupted_session(bank, store, clock):
    session = FlashcardSession(bank, store, topics=["GD"], limit=2)
    session.reveal()
    session.grade(1)                                                           # GD-01 failed, then stop
    again = FlashcardSession(bank, store, topics=["GD"], limit=5)
    first = again.current
    assert (first.entry.id, first.reason) == ("GD-01", "repeat")
    again.reveal()
    again.grade(4)                                                             # the repeat passes: not again today
    assert store.card_state("GD-01").due == D(2025, 3, 2)                     # the repeat did not move it
    assert "GD-01" not in [card.entry.id for card in FlashcardSession(bank, store, topics=["GD"])._queue]


def test_misses_in_tests_and_mock_interviews_make_cards_due(bank, store, clock):
    store.record_review("OPT-02", "OPT", 5)
    clock.advance(hours=1)
    test = store.start_session("test")
    store.record_test_answer(test, "OPT-02", "OPT", kind="true_false", chosen="True", correct=False)
    clock.advance(hours=1)
    mock = store.start_session("mock")
    store.record_interview_answer(mock, "DL-02", "DL", covered=1, total=3, seconds=30, hint_used=False,
                                  follow_up=False)
    store.record_interview_answer(mock, "DL-01", "DL", covered=3, total=3, seconds=30, hint_used=False,
                                  follow_up=False)                            # passed: not a miss
    assert store.missed_since_review() == ["OPT-02", "DL-02"]
    session = FlashcardSession(bank, store, limit=3)
    assert [(c.entry.id, c.reason) for c in session._queue] == [("OPT-02", "missed"), ("DL-02", "missed"),
                                                               ("GD-01", "new")]
    session.reveal()
    session.grade(4)                                                          # reviewed again: no longer missed
    assert store.missed_since_review() == ["DL-02"]
