"""The notebook widgets, driven by clicking their buttons programmatically."""

import threading
import time

from practice_helpers import BANK_FIXTURE, Stopwatch

from gdcourse.practice.items import load_material
from gdcourse.practice.widgets import (
    FlashcardWidget,
    LiveTimer,
    MockInterviewWidget,
    TestWidget,
    markdown_to_html,
)


def _visible(widget):
    return widget.layout.display != "none"


def test_flashcard_widget_reveal_then_grade(bank, store):
    card = FlashcardWidget(bank, store, topics=["DL"])
    assert "DL-01" in card.header.value and "What is deep learning?" in card.prompt.value
    assert card.answer.value == "" and _visible(card.reveal_button) and not _visible(card.grade_box)
    card.grade_buttons[5].click()                      # ignored before the answer is shown
    assert store.reviews() == []
    card.reveal_button.click()
    assert "many-layer neural networks" in card.answer.value and "<li>many layers</li>" in card.answer.value
    assert not _visible(card.reveal_button) and _visible(card.grade_box)
    card.grade_buttons[4].click()
    assert card.status.value == "Saved DL-01: grade 4; next review 2025-03-02 (in 1 d)."
    assert "DL-02" in card.header.value and card.answer.value == ""
    assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("DL-01", 4)]
    card.reveal_button.click()
    card.grade_buttons[2].click()                      # below 4: comes back as a repeat
    assert "DL-02" in card.header.value and "repeat" in card.header.value
    card.reveal_button.click()
    card.grade_buttons[5].click()
    assert "done" in card.header.value and "2 card(s) graded, 1 passed" in card.prompt.value
    assert not _visible(card.reveal_button) and not _visible(card.grade_box)
    assert store.session(card.session.session_id)["status"] == "finished"


def test_flashcard_widget_with_nothing_to_review(bank, store):
    card = FlashcardWidget(bank, store, topics=["DL"], levels=["hard"])
    assert "Nothing to review" in card.prompt.value


def test_mock_widget_hint_reveal_tick_submit_and_summary(bank, store, tmp_path):
    watch = Stopwatch()
    mock = MockInterviewWidget(bank, store, n=1, topics=["OPT"], levels=["easy"], rng=0, clock=watch,
                               tick=3600, report_dir=tmp_path / "reports")
    assert "OPT-01" in mock.header.value and mock.timer_label.value == "0:00 / 1:00"
    assert not _visible(mock.submit_button)
    mock.hint_button.click()
    assert "Hint 1" in mock.hint_label.value and "velocity accumulates gradients" not in mock.hint_label.value
    watch.t = 75
    mock.reveal_button.click()
    assert mock.timer_label.value == "1:15 / 1:00 (over)"   # final value written when the clock stops
    assert [box.description for box in mock.checkboxes] == ["velocity accumulates gradients (hint)",
                                                           "damps oscillation", "faster along ravines"]
    assert _visible(mock.submit_button) and not _visible(mock.reveal_button)
    mock.checkboxes[1].value = mock.checkboxes[2].value = True
    mock.submit_button.click()
    assert mock.status.value.startswith("OPT-01: 2/3 key points (67%) in 1:15")
    assert "probe" in mock.header.value                      # 67 % < 70 %: a probe on the missed point
    assert [box.description for box in mock.checkboxes] == [] and "left out 1 of its 3" in mock.prompt.value
    mock.submit_button.click()                               # the probe, answered with nothing
    assert "summary" in mock.header.value
    assert "Weakest: OPT" in mock.summary.value and "03_optimizers.ipynb, section OPT-02" in mock.summary.value
    assert "1 hint(s) used" in mock.summary.value
    report = list((tmp_path / "reports").glob("mock-*.md"))
    assert len(report) == 1 and "OPT-01 (67%)" in report[0].read_text()
    assert store.interview_answers(mock.interview.session_id)[0]["covered"] == 2


def test_mock_widget_asks_the_follow_up_after_a_good_answer(bank, store, tmp_path):
    mock = MockInterviewWidget(bank, store, n=1, topics=["OPT"], levels=["easy"], rng=0, clock=Stopwatch(),
                               tick=3600, report_dir=tmp_path)
    mock.reveal_button.click()
    for box in mock.checkboxes:
        box.value = True
    mock.submit_button.click()
    assert "follow-up" in mock.header.value and "OPT-01a" in mock.header.value
    assert "Good answer" in mock.status.value
    mock.submit_button.click()                               # submit without reveal: reveals, scores 0
    assert "summary" in mock.header.value


def test_live_timer_updates_the_label_and_stops_when_the_question_changes(bank, store, tmp_path):
    watch = Stopwatch()
    mock = MockInterviewWidget(bank, store, n=2, topics=["DL"], rng=0, clock=watch, tick=0.01,
                               report_dir=tmp_path)
    first = mock.timer
    assert first.running
    watch.t = 42
    deadline = time.monotonic() + 5
    while mock.timer_label.value.split(" /")[0] != "0:42" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mock.timer_label.value.startswith("0:42 / ")    # the thread rewrote the label
    mock.submit_button.click()                               # next question
    assert not first.running and mock.timer is not first and mock.timer.running
    watch.t = 50
    while not mock.interview.finished:                       # probes of the empty answers, the second question
        mock.submit_button.click()
    assert not mock.timer.running
    assert [t for t in threading.enumerate() if t.name == "gdcourse-widget-timer"] == []


def test_live_timer_alone():
    from ipywidgets import Label

    label, values = Label(), iter(range(1000))
    timer = LiveTimer(label, lambda: str(next(values)), interval=0.01).start()
    assert label.value == "0"
    time.sleep(0.1)
    timer.stop()
    stopped = label.value
    assert int(stopped) >= 2 and not timer.running
    time.sleep(0.05)
    assert label.value == stopped


def test_test_widget_scores_clicks_and_typed_answers(bank, store):
    material = load_material(bank, BANK_FIXTURE / "distractors")
    test = TestWidget(bank, store, n=3, topics=["GD"], rng=2, material=material)
    items = list(test.test.items)
    assert "Item 1 of 3" in test.header.value and "seed 2" in test.header.value
    rights = []
    for number, item in enumerate(items):
        right = number != 1
        if item.kind in ("number", "order"):
            test.answer_box.text.value = item.right_answer() if right else "12345"
            test.answer_box.submit_button.click()
        else:
            assert len(test.option_buttons) == len(item.options)
            test.option_buttons[item.correct if right else (item.correct + 1) % len(item.options)].click()
        rights.append(right)
        assert test.feedback.value.startswith("<b>Right.</b>" if right else "<b>Wrong</b>")
    assert "done" in test.header.value and "Score 2/3" in test.question.value
    assert [row["correct"] for row in store.test_answers(test.test.session_id)] == [1, 0, 1]


def test_test_widget_says_why_a_typed_answer_cannot_be_read(bank, store):
    material = load_material(bank, BANK_FIXTURE / "distractors")
    seed = next(s for s in range(100) if TestWidget(bank, None, n=1, topics=["GD"], rng=s,
                                                     material=material).test.items[0].kind == "number")
    test = TestWidget(bank, store, n=1, topics=["GD"], rng=seed, material=material)
    test.answer_box.text.value = "half"
    test.answer_box.submit_button.click()
    assert test.answer_box.message.value == "expected a number such as 0.25 or 1e-3, got 'half'"
    assert test.test.answers == []


def test_markdown_to_html_escapes_and_keeps_structure():
    html = markdown_to_html("A <b>tag</b> & **bold** `x<y`\n\n- one\n  two\n- three\n\n```\nif a < b:\n```")
    assert "&lt;b&gt;tag&lt;/b&gt; &amp; <b>bold</b> <code>x&lt;y</code>" in html
    assert "<ul><li>one two</li><li>three</li></ul>" in html
    assert "<pre>if a &lt; b:</pre>" in html
