"""The mock interview with typed answers: judge, hint ladder, probes, summary and report; flashcards typed.

Driven through the engines and, for the terminal, through ``Console`` with scripted
input (the same abstraction ``gdcourse practice`` reads from), so no tmux is needed.
"""

import io

import pytest
from practice_helpers import Stopwatch

from gdcourse.bank import load
from gdcourse.practice.answer_view import proposal_lines
from gdcourse.practice.flashcards import FlashcardSession
from gdcourse.practice.interview import HINT_RUNGS, MockInterview, hint_text
from gdcourse.practice.judge import Judge
from gdcourse.practice.rubrics import load_rubrics
from gdcourse.practice.terminal import Console, run_flashcards, run_mock

# A rubric for the fixture bank's OPT-01 (key points: velocity accumulates gradients, damps
# oscillation, faster along ravines), written for these tests.
OPT01_RUBRIC = '''
[OPT-01]
wrong = ["momentum amplifies oscillation"]
points = [
  { need = ["velocity | running sum | accumulate", "gradient"], cue = "What does momentum keep between steps?" },
  { need = ["damp | cancel | reduce | smooth", "oscillation | zigzag"] },
  { need = ["faster | accelerate | speed", "ravine | valley | consistent direction"] },
]
'''
FULL = "Momentum keeps a velocity, a running sum of gradients.\nIt damps oscillation.\nIt goes faster along ravines."


@pytest.fixture
def judge(tmp_path):
    folder = tmp_path / "rubrics"
    folder.mkdir()
    (folder / "opt.toml").write_text(OPT01_RUBRIC, encoding="utf-8")
    return Judge(load_rubrics(folder))


def _interview(bank, store, tmp_path, judge, **kw):
    watch = Stopwatch(500.0)
    interview = MockInterview(bank, n=1, topics=["OPT"], levels=["easy"], rng=0, store=store, clock=watch,
                              report_dir=tmp_path / "rep", judge=judge, **kw)
    return interview, watch


def test_typed_answer_is_judged_and_the_proposal_accepted(bank, store, tmp_path, judge):
    interview, watch = _interview(bank, store, tmp_path, judge)
    watch.t += 40
    verdict = interview.answer(FULL + "\n")
    assert verdict.judged and verdict.covered == (0, 1, 2) and verdict.proposed_grade == 5
    assert interview.elapsed() == 40                   # typing the answer stopped the clock
    q = interview.submit()                             # None: accept the judge's points
    assert q.covered == (0, 1, 2) and q.score == 1.0 and not q.overridden and q.typed == FULL
    assert interview.current.kind == "follow-up"       # a good answer earns the follow-up


def test_candidate_overrides_the_judge(bank, store, tmp_path, judge):
    interview, _ = _interview(bank, store, tmp_path, judge)
    verdict = interview.answer("It damps oscillation.")
    assert verdict.covered == (1,) and verdict.missing == ("velocity accumulates gradients",
                                                           "faster along ravines")
    q = interview.submit([0, 1])
    assert q.overridden and q.covered == (0, 1)
    assert q.record()["proposed_grade"] == 2 and q.record()["overridden"] is True


def test_a_wrong_answer_with_the_right_words_is_not_passed(bank, store, tmp_path, judge):
    interview, _ = _interview(bank, store, tmp_path, judge)
    verdict = interview.answer("A velocity accumulates the gradients, it goes faster along ravines, and momentum "
                               "amplifies oscillation.")
    assert not verdict.passed and verdict.misconceptions == ("momentum amplifies oscillation",)


def test_hint_ladder_goes_nudge_words_point_and_skips_what_the_text_covers(bank, store, tmp_path, judge):
    interview, _ = _interview(bank, store, tmp_path, judge)
    first = interview.hint()
    assert first == "Your answer still misses key point 1 of 3. What does momentum keep between steps?"
    second = interview.hint()
    assert second == "Key words for key point 1 of 3: velocity, gradients."  # words as the question writes them
    third = interview.hint()
    assert third == "Key point: velocity accumulates gradients"
    # the typed text already covers point 2, so the next hint is about point 3, from its first rung
    fourth = interview.hint("It damps the oscillation.")
    assert fourth.startswith("Your answer still misses key point 3 of 3.")
    q = interview.current
    assert [(h["point"], h["rung"]) for h in q.hints] == [(0, 1), (0, 2), (0, 3), (2, 1)]
    interview.answer("A velocity accumulates gradients. It damps oscillation.")
    q = interview.submit()
    # point 1 was hinted then covered: credited with hint, never missed; point 3 hinted and missed
    assert q.with_hint == (0,) and q.counted == (1,) and q.missed == ["faster along ravines"]
    assert q.score == pytest.approx((1 + 0.5) / 3)


def test_no_rung_of_the_ladder_below_the_last_states_the_key_point():
    """Over the whole bank: rungs 1 and 2 never contain a key point's text."""
    bank, judge = load(), Judge(load_rubrics())
    leaks = []
    for entry in bank:
        asked = tuple(range(len(entry.key_points)))
        for i, point in enumerate(entry.key_points):
            for rung in range(1, HINT_RUNGS):
                if point.lower() in hint_text(judge, entry, i, rung, asked).lower():
                    leaks.append((entry.id, i + 1, rung))
    assert leaks == []


def test_a_weak_typed_answer_gets_a_probe_on_what_it_missed(bank, store, tmp_path, judge):
    interview, watch = _interview(bank, store, tmp_path, judge)
    interview.answer("It damps oscillation.")
    interview.submit()
    probe = interview.current
    assert probe.kind == "probe" and probe.points == (0, 2)
    assert "What does momentum keep between steps?" in probe.prompt
    watch.t += 25
    verdict = interview.answer("A velocity that accumulates the gradients.")
    assert interview.proposed() == (0,) and verdict.covered == (0,)
    q = interview.submit()
    assert q.score == pytest.approx(1 / 2) and q.missed == ["faster along ravines"] and q.seconds == 25
    assert interview.finished


def test_summary_and_report_hold_typed_answers_hints_and_times(bank, store, tmp_path, judge):
    interview, watch = _interview(bank, store, tmp_path, judge)
    interview.hint()
    watch.t += 70
    interview.answer("A velocity accumulates gradients.\nIt damps oscillation.")
    interview.submit()
    watch.t += 30
    interview.answer("It is faster along ravines.")
    interview.submit()
    summary = interview.close()
    assert summary.hints_used == 1 and [q["seconds"] for q in summary.questions] == [70, 30]
    first = summary.questions[0]
    assert first["typed"] == "A velocity accumulates gradients.\nIt damps oscillation."
    assert first["hinted_points"] == ["velocity accumulates gradients"]
    assert "velocity accumulates gradients" not in first["missed"]
    report = interview.report_path.read_text()
    assert "## Your answers" in report and "> A velocity accumulates gradients." in report
    assert "> It damps oscillation." in report and "- hint 1 on point 1 (rung 1): Your answer still misses" in report
    assert "| 1 | OPT-01 | easy | 50% | 1:10 / 1:00 | 1 |" in report
    assert "| 2 | OPT-01 (probe) | easy | 100% | 0:30 / 1:00 | 0 |" in report
    saved = store.session(interview.session_id)["summary"]
    assert saved["hints_used"] == 1 and saved["questions"][0]["typed"].startswith("A velocity")


class Script:
    """Scripted keyboard for ``Console``: each read returns the next line; EOFError at the end."""

    def __init__(self, *lines):
        self.lines = list(lines)

    def __call__(self):
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


def test_terminal_mock_with_a_typed_multi_line_answer(bank, store, tmp_path, judge):
    out = io.StringIO()
    script = Script("", "h", "A velocity accumulates the gradients.", "h", "It damps oscillation.", "",
                    "", "", "", "")
    interview, _ = _interview(bank, store, tmp_path, judge)
    assert run_mock(interview, Console(script, out, height=60)) == 0
    text = out.getvalue()
    flat = " ".join(text.split())
    assert "Hint 1: Your answer still misses key point 1 of 3. What does momentum keep" in flat
    # the second hint skips point 1 (already typed) and point 2 comes next
    assert "Hint 2: Your answer still misses key point 2 of 3." in flat
    assert "Your answer" in text and "Model answer" in text      # side by side
    assert "[h] 1. velocity accumulates gradients" in text and "[h] 2. damps oscillation" in text
    assert "[ ] 3. faster along ravines" in text
    assert "The judge found 2 of 3 key point(s) (1 2): proposed grade 3/5, fail." in flat
    assert "Missing: 3. faster along ravines" in flat
    assert "OPT-01: 2/3 key points, 2 with hint (33%)" in flat   # both covered after a hint: (0.5 + 0.5) / 3
    assert "Some key points are missing: one more question on them." in flat   # then a probe
    assert "2 hint(s) used" in flat


def test_terminal_mock_override_by_numbers(bank, store, tmp_path, judge):
    out = io.StringIO()
    interview, _ = _interview(bank, store, tmp_path, judge, probes=False)
    script = Script("", "It damps oscillation.", "", "9", "1 2 3", "", "", "", "", "")
    assert run_mock(interview, Console(script, out, height=60)) == 0
    assert "Please type numbers among 1 2 3, a, or n for none." in out.getvalue()
    assert interview.asked[0].covered == (0, 1, 2) and interview.asked[0].overridden


def test_terminal_flashcards_with_a_typed_answer_and_the_proposed_grade(bank, store, judge):
    out = io.StringIO()
    session = FlashcardSession(bank, store, topics=["OPT"], levels=["easy"], limit=1, judge=judge)
    assert run_flashcards(session, Console(Script(FULL.split("\n")[0], FULL.split("\n")[1], "", ""), out,
                                           height=60)) == 0
    text = " ".join(out.getvalue().split())
    # 2 of 3 points (67 % < 70 %): grade 3 proposed, accepted with Enter
    assert "proposed grade 3/5, fail" in text and "Enter accepts 3" in text
    assert "Your answer" in text and "Model answer" in text and "[ ] 3. faster along ravines" in text
    assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("OPT-01", 3)]
    assert session.answers == [{"id": "OPT-01", "typed": "\n".join(FULL.split("\n")[:2]), "proposed": 3,
                                "grade": 3, "covered": [0, 1]}]


def test_mock_widget_judges_the_typed_answer(bank, store, tmp_path, judge):
    from gdcourse.practice.widgets import MockInterviewWidget

    mock = MockInterviewWidget(bank, store, n=1, topics=["OPT"], levels=["easy"], rng=0, clock=Stopwatch(),
                               tick=3600, report_dir=tmp_path, judge=judge)
    mock.typed.value = "A velocity accumulates gradients.\nIt damps oscillation."
    mock.hint_button.click()                           # skips the two points already typed
    assert "Hint 1" in mock.hint_label.value and "key point 3 of 3" in mock.hint_label.value
    mock.reveal_button.click()
    assert "Your answer" in mock.answer.value and "Model answer" in mock.answer.value
    assert "proposed grade <b>3/5</b>" in mock.answer.value and mock.typed.disabled
    assert "<b>Missing</b>: faster along ravines" in mock.answer.value
    assert [box.value for box in mock.checkboxes] == [True, True, False]   # ticked by the judge
    assert mock.checkboxes[2].description.endswith("(hint)")
    mock.checkboxes[2].value = True                    # the candidate overrides
    mock.submit_button.click()
    q = mock.interview.asked[0]
    assert q.overridden and q.covered == (0, 1, 2) and q.with_hint == (2,)
    assert "3/3 key points, 1 with hint (83%)" in mock.status.value
    mock.close()                                       # stops the follow-up's clock
    assert mock.timer is None or not mock.timer.running


def test_flashcard_widget_proposes_a_grade_for_a_typed_answer(bank, store, judge):
    from gdcourse.practice.widgets import FlashcardWidget

    card = FlashcardWidget(bank, store, topics=["OPT"], levels=["easy"], limit=1, judge=judge)
    card.typed.value = FULL
    card.reveal_button.click()
    assert "Your answer" in card.answer.value and "proposed grade <b>5/5</b>" in card.answer.value
    assert [b.button_style for b in card.grade_buttons] == ["", "", "", "", "", "info"]
    card.grade_buttons[5].click()
    assert card.session.answers[0]["typed"] == FULL and card.session.answers[0]["proposed"] == 5


def test_typed_answers_are_stored_and_exported(bank, store, tmp_path, judge):
    import csv

    interview, _ = _interview(bank, store, tmp_path, judge)
    interview.answer("It damps oscillation.")
    interview.submit()
    cards = FlashcardSession(bank, store, topics=["DL"], limit=2, judge=judge)
    cards.answer("Deep learning\nuses many layers.")
    cards.grade(4)
    cards.reveal()                                      # revealed without typing: no answer text
    cards.grade(5)
    path = tmp_path / "out.csv"
    assert store.export_csv(path, bank=bank) == 3
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert sorted((r["mode"], r["card_id"], r["answer"]) for r in rows) == [
        ("flashcards", cards.graded[0][0], "Deep learning\nuses many layers."),
        ("flashcards", cards.graded[1][0], ""),
        ("mock", "OPT-01", "It damps oscillation.")]
    mock = next(r for r in rows if r["mode"] == "mock")
    assert (mock["result"], mock["out_of"]) == ("1", "3") and mock["question"] == bank.get("OPT-01").prompt


def test_a_probe_answer_is_graded_on_the_points_it_asks_for(bank, store, tmp_path, judge):
    interview, _ = _interview(bank, store, tmp_path, judge)
    interview.answer("It damps oscillation.")
    interview.submit()
    probe = interview.current
    assert probe.kind == "probe" and probe.points == (0, 2)
    verdict = interview.answer("A velocity accumulates gradients. It is faster along ravines.")
    assert verdict.proposed_grade == 3                 # 2 of the question's 3 points
    assert verdict.grade_for(probe.points) == 5        # both points the probe asked for
    text = " ".join(proposal_lines(verdict, probe.points, 78))
    assert "found 2 of 2 key point(s) (1 3): proposed grade 5/5, pass" in text
    assert interview.submit().record()["proposed_grade"] == 5
