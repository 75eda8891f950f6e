"""Learn and Match widgets, and the progress and plan charts of notebook 10."""

import datetime as dt

import matplotlib
import numpy as np
from practice_helpers import BANK_FIXTURE, Stopwatch

from gdcourse.bank import load
from gdcourse.practice.dashboard import MODES, plan_figure, progress_figure
from gdcourse.practice.drill_widgets import LearnWidget, MatchWidget
from gdcourse.practice.items import load_material
from gdcourse.practice.plan import make_plan
from gdcourse.practice.widgets import markdown_to_html

matplotlib.use("Agg")


def test_learn_widget_recall_and_items_until_done(bank, store):
    learn = LearnWidget(bank, store, n=2, topics=["DL"], rng=3,
                        material=load_material(bank, BANK_FIXTURE / "distractors"))
    clicks = 0
    while learn.learn.current is not None and clicks < 20:
        step = learn.learn.current
        if step.item is None:
            learn.reveal_button.click()
            assert "<ol>" in learn.question.value
            learn.know_button.click()
        else:
            learn.answer_box.buttons[step.item.correct].click()
        clicks += 1
    assert clicks == 4 and "Learn: done" in learn.header.value and "2/2 cards in 4 answers" in learn.header.value
    assert len(store.test_answers(1)) == 4


def test_match_widget_pairs_by_clicks_and_stops_its_clock(store):
    watch = Stopwatch()
    match = MatchWidget(load(), store, size=3, topics=["VAR"], rng=4, clock=watch)
    try:
        round_ = match.match
        match.pick_definition(0)
        assert match.feedback.value == "Click a term first."
        watch.t = 12.0
        for term, pair in enumerate(round_.pairs):
            match.term_buttons[term].click()
            match.definition_buttons[round_.definitions.index(pair.definition)].click()
        assert round_.finished and "All 3 pairs in 12.0 s" in match.feedback.value
        assert all(button.disabled for button in match.definition_buttons)
    finally:
        match.close()
    assert not match._ticker.is_alive()


def test_progress_figure_draws_the_shares_it_is_given(store, clock):
    store.record_review("GD-01", "GD", 5)
    store.record_review("GD-02", "GD", 1)
    test = store.start_session("test")
    store.record_test_answer(test, "OPT-01", "OPT", kind="true_false", chosen="True", correct=True)
    clock.advance(days=1)
    store.record_review("GD-02", "GD", 4)
    figure = progress_figure(store.stats(), topics=["GD", "OPT"])
    by_mode, by_topic = figure.axes[0], figure.axes[1]
    heights = [bar.get_height() for bar in by_mode.patches]
    assert heights[MODES.index("flashcards")] == 2 / 3 and heights[MODES.index("test")] == 1.0
    grid = by_topic.images[0].get_array()
    assert grid[0, 0] == 2 / 3 and grid[1, 2] == 1.0 and np.ma.is_masked(grid[1, 0])
    trend = figure.axes[2]
    assert list(trend.lines[0].get_ydata()) == [2 / 3, 1.0]                    # day 1: 2 of 3; day 2: 1 of 1


def test_plan_figure_stacks_reviews_and_new_cards(bank):
    plan = make_plan(list(bank), {}, dt.date(2025, 3, 1), dt.date(2025, 3, 3))
    axes = plan_figure(plan).axes[0]
    heights = [bar.get_height() for bar in axes.patches]
    assert heights == [0, 11, 11, 0]                                           # reviews: 0, 11; new: 11, 0


def test_widget_html_shows_math_as_mathml():
    html = markdown_to_html("Step $\\frac{\\eta}{\\sqrt{v}}$ and `code $x$`")
    assert "<math" in html and "\\frac" not in html and "<code>code $x$</code>" in html


def test_flashcard_widget_follows_the_plan(bank, store):
    from gdcourse.practice.widgets import FlashcardWidget

    card = FlashcardWidget(bank, store, limit=50, until=dt.date(2025, 3, 3))
    assert card.session.new_count == 11 and card.session.current.entry.id == "GD-01"
