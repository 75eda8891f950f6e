"""SM-2 scheduling against hand-computed grade sequences, and due dates across days."""

import datetime as dt

import pytest

from gdcourse.practice.session import FlashcardSession
from gdcourse.practice.sm2 import CardState, easiness_after, review

DAY0 = dt.date(2025, 3, 1)

# Each row: grades given one after the other (one review per scheduled day), and the
# expected (interval in days, EF) after each grade, worked out by hand:
#   q=5: EF +0.10   q=4: +0.00   q=3: -0.14   q=2: -0.32   q=1: -0.54   q=0: -0.80, floor 1.3
#   interval 1, 6, then round-half-up(previous interval x EF before the update); q<3 -> 1.
SEQUENCES = [
    ([5, 5, 5, 5], [(1, 2.6), (6, 2.7), (16, 2.8), (45, 2.9)]),    # 6*2.7=16.2 -> 16; 16*2.8=44.8 -> 45
    ([4, 4, 4, 4], [(1, 2.5), (6, 2.5), (15, 2.5), (38, 2.5)]),    # 15*2.5=37.5 -> 38 (half up)
    ([3, 3, 3, 3], [(1, 2.36), (6, 2.22), (13, 2.08), (27, 1.94)]),  # 6*2.22=13.32; 13*2.08=27.04
    # a lapse: intervals restart at 1 and EF keeps the update from the failed review
    ([5, 5, 2, 4, 4, 4], [(1, 2.6), (6, 2.7), (1, 2.38), (1, 2.38), (6, 2.38), (14, 2.38)]),  # 6*2.38=14.28
    ([0, 0, 0, 5], [(1, 1.7), (1, 1.3), (1, 1.3), (1, 1.4)]),      # 1.7-0.8=0.9 -> floor 1.3
    ([1, 4, 5, 3], [(1, 1.96), (1, 1.96), (6, 2.06), (12, 1.92)]),  # 6*2.06=12.36 -> 12
    ([4, 4, 1, 5, 5, 5], [(1, 2.5), (6, 2.5), (1, 1.96), (1, 2.06), (6, 2.16), (13, 2.26)]),  # 6*2.16=12.96
]


@pytest.mark.parametrize(("grades", "expected"), SEQUENCES)
def test_sm2_matches_hand_computed_sequences(grades, expected):
    state, day = CardState(), DAY0
    for grade, (interval, easiness) in zip(grades, expected, strict=True):
        state = review(state, grade, day)
        assert (state.interval, state.easiness) == (interval, pytest.approx(easiness, abs=1e-12))
        assert state.due == day + dt.timedelta(days=interval)
        assert state.last_review == day
        day = state.due


def test_repetitions_and_lapses_are_counted():
    state = CardState()
    for grade in [5, 5, 2, 4]:
        state = review(state, grade, DAY0)
    assert (state.repetitions, state.reviews, state.lapses) == (1, 4, 1)


def test_easiness_update_formula_values_by_hand():
    # EF + 0.1 - (5-q)(0.08 + (5-q) 0.02) starting from 2.5
    assert [easiness_after(2.5, q) for q in range(6)] == [1.7, 1.96, 2.18, 2.36, 2.5, 2.6]
    assert easiness_after(1.35, 3) == 1.3  # floor
    assert easiness_after(1.3, 5) == 1.4


def test_easiness_has_no_float_drift_over_many_reviews():
    state = CardState()
    for _ in range(500):
        state = review(state, 3, DAY0)
        state = review(state, 5, DAY0)
    # each pair moves EF by -0.14 + 0.10 until the floor, where +0.10 then -0.14 -> 1.3 again
    assert state.easiness == 1.4


def test_interval_is_capped_at_a_century():
    state = CardState(repetitions=20, interval=30_000, easiness=2.5)
    assert review(state, 5, DAY0).interval == 36_500


def test_review_does_not_modify_its_input():
    state = CardState()
    review(state, 5, DAY0)
    assert state == CardState()


@pytest.mark.parametrize("grade", [-1, 6, 2.5, "4", True, None])
def test_bad_grade_is_rejected_with_its_value(grade):
    with pytest.raises(ValueError, match=r"grade: expected an int from 0 to 5, got"):
        review(CardState(), grade, DAY0)


def test_today_must_be_a_date():
    with pytest.raises(TypeError, match="today"):
        review(CardState(), 4, "2025-03-01")


def _queue(bank, store, **filters):
    session = FlashcardSession(bank, store, **filters)
    return [(card.entry.id, card.reason) for card in session._queue]


def test_due_dates_move_across_days_with_an_injected_clock(bank, store, clock):
    session = FlashcardSession(bank, store, topics=["GD"], levels=["easy"])
    assert [c.entry.id for c in session._queue] == ["GD-01", "GD-04"]  # new, bank order
    session.reveal()
    assert session.grade(5).due == dt.date(2025, 3, 2)       # first interval: 1 day
    # later the same day: GD-01 is not due any more, GD-04 is still new
    clock.advance(hours=10)
    assert _queue(bank, store, topics=["GD"], levels=["easy"]) == [("GD-04", "new")]
    # next day (after midnight) GD-01 is due and comes before the new card
    clock.advance(hours=5)
    assert _queue(bank, store, topics=["GD"], levels=["easy"]) == [("GD-01", "due"), ("GD-04", "new")]
    session = FlashcardSession(bank, store, topics=["GD"], levels=["easy"], limit=1)
    session.reveal()
    assert session.grade(4).due == dt.date(2025, 3, 8)       # second interval: 6 days
    for days, expected in [(5, [("GD-04", "new")]), (1, [("GD-01", "due"), ("GD-04", "new")])]:
        clock.advance(days=days)
        assert _queue(bank, store, topics=["GD"], levels=["easy"]) == expected


def test_overdue_cards_come_first_oldest_due_first(bank, store, clock):
    store.record_review("GD-04", "GD", 4)          # due 2025-03-02
    clock.advance(days=1)
    store.record_review("OPT-01", "OPT", 4)        # due 2025-03-03
    store.record_review("GD-02", "GD", 1)          # due 2025-03-03 (lapse: 1 day)
    clock.advance(days=10)
    ids = [card_id for card_id, _ in _queue(bank, store)]
    # due: GD-04 (oldest), then GD-02 and OPT-01 (same day: bank order); then new cards, topics in turn
    assert ids[:3] == ["GD-04", "GD-02", "OPT-01"]
    assert ids[3:] == ["GD-01", "OPT-01a", "DL-01", "GD-01a", "OPT-02", "DL-02", "GD-03", "OPT-03"]
    assert store.stats([e.id for e in bank]).due == ("GD-04", "GD-02", "OPT-01")
