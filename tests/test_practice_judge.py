"""The judge of typed answers: text normalization, rubric matching, the proposed grade, the bank's rubrics."""

import pytest

from gdcourse.bank import Entry, load
from gdcourse.practice.judge import Judge, propose_grade
from gdcourse.practice.rubrics import RubricError, load_rubrics
from gdcourse.practice.textnorm import compact, numbers, stem, words

MODEL = "An EMA of the squared gradient; window 1/(1-beta2) at 0.999, with bias correction. Momentum damps oscillation."


def _entry(key_points, answer=MODEL, entry_id="T-01"):
    return Entry(id=entry_id, topic="GD", level="easy", prompt="?", answer=answer, key_points=tuple(key_points),
                 follow_ups=(), notebook="", sources=())


def _judge(tmp_path, text, synonyms=None):
    (tmp_path / "gd.toml").write_text(text, encoding="utf-8")
    if synonyms:
        (tmp_path / "synonyms.toml").write_text(synonyms, encoding="utf-8")
    return Judge(load_rubrics(tmp_path))


# ---------------------------------------------------------------- normalization
@pytest.mark.parametrize("text", ["1/(1-beta2)", "1/(1−β₂)", r"\frac{1}{1-\beta_2}", "1 / (1 - beta_2)",
                                  r"$\frac{1}{1 - \beta_{2}}$"])
def test_formulas_in_any_notation_have_one_compact_form(text):
    assert compact(text) == "1/(1-beta2)"


def test_numbers_in_any_notation():
    assert numbers("lr 1e-3, or 10^-3, or 0.001; 3·10^{-4}; 5%; beta 0.999") == pytest.approx(
        [1e-3, 1e-3, 1e-3, 3e-4, 0.05, 0.999])
    assert numbers("x2 and beta_2") == []            # a digit inside a name is not a number


def test_words_are_stemmed_lower_case_with_greek_names_and_negations():
    tokens = words("Normalizes, normalizing, normalization")
    assert len(tokens) == 4 and len(set(tokens[:3])) == 1 and tokens[3] == "."
    assert words("η and ∇L") == ["eta", "nabla", "l", "."]
    tokens = words("It doesn't oscillate; it can't.")
    assert [t for t in tokens if t != "."] == ["not", stem("oscillate"), "not"] and tokens[2] == "."
    assert stem("stopped") == stem("stops") == stem("stop")


# ---------------------------------------------------------------- matching
RUBRIC = '''
[T-01]
wrong = ["adam divides by the first moment"]
points = [
  { need = ["moving average | EMA", "squared gradient"], cue = "What is averaged?" },
  { need = ["= 1/(1-beta2)", "#0.999 +- 0.0005", "bias"], min = 2 },
  { need = ["damp | smooth", "oscillation"], not = ["momentum amplifies oscillation"] },
]
'''
POINTS = ["EMA of g^2", "effective window 1/(1-beta2) at 0.999", "momentum damps oscillation"]


def test_each_point_needs_its_concepts(tmp_path):
    judge = _judge(tmp_path, RUBRIC)
    verdict = judge.score(_entry(POINTS), "Keeps an exponential moving average of the squared gradient.")
    assert verdict.covered == (0,) and verdict.fraction == pytest.approx(1 / 3)
    assert verdict.points[2].lacking == ("damp", "oscillation")
    assert verdict.missing == tuple(POINTS[1:])


def test_formula_and_number_notations_and_min(tmp_path):
    judge = _judge(tmp_path, RUBRIC)
    for text in ["window 1/(1−β₂) with β₂ = 0.999", r"about $\frac{1}{1-\beta_2}$, with $\beta_2 = 0.9993$"]:
        assert 1 in judge.score(_entry(POINTS), text).covered, text
    assert 1 not in judge.score(_entry(POINTS), "beta2 is 0.99").covered       # one concept of the two needed


def test_negation_in_the_sentence_cancels_a_phrase(tmp_path):
    judge = _judge(tmp_path, RUBRIC)
    assert 2 in judge.score(_entry(POINTS), "It damps the oscillation.").covered
    assert 2 not in judge.score(_entry(POINTS), "It does not damp the oscillation.").covered
    # a negation in an earlier sentence does not reach
    assert 2 in judge.score(_entry(POINTS), "Not a trick. It damps the oscillation.").covered


def test_a_misconception_voids_the_point_and_fails_the_answer(tmp_path):
    judge = _judge(tmp_path, RUBRIC)
    text = ("EMA of the squared gradient; window 1/(1-beta2) = 1000 at 0.999 with bias correction; it damps "
            "oscillation. Adam divides by the first moment.")
    verdict = judge.score(_entry(POINTS), text)
    assert verdict.fraction == pytest.approx(2 / 3)  # the question-level mistake voids the first point
    assert verdict.misconceptions == ("adam divides by the first moment",)
    assert verdict.proposed_grade == 2 and not verdict.passed
    wrong = judge.score(_entry(POINTS), "It damps oscillation. Momentum amplifies oscillation.")
    assert wrong.points[2].misconception == "momentum amplifies oscillation" and 2 not in wrong.covered


def test_synonyms_widen_phrases(tmp_path):
    judge = _judge(tmp_path, RUBRIC, synonyms='groups = [["moving average", "running mean"]]\n')
    assert 0 in judge.score(_entry(POINTS), "a running mean of squared gradients").covered


@pytest.mark.parametrize("text, fraction, wrong, grade", [
    ("", 0.0, False, 0), ("words", 0.0, False, 1), ("x", 0.2, False, 2), ("x", 0.5, False, 3),
    ("x", 0.7, False, 4), ("x", 0.99, False, 4), ("x", 1.0, False, 5), ("x", 1.0, True, 2)])
def test_proposed_grade(text, fraction, wrong, grade):
    assert propose_grade(text, fraction, wrong) == grade


def test_questions_without_a_usable_rubric_are_not_judged(tmp_path):
    judge = _judge(tmp_path, RUBRIC)
    none = judge.score(_entry(POINTS, entry_id="T-02"), "EMA of squared gradient")
    assert not none.judged and none.covered == () and "no rubric for T-02" in none.note
    short = judge.score(_entry(POINTS[:2]), "EMA of squared gradient")
    assert not short.judged and "has 3 point(s) but the question has 2" in short.note
    stale = Judge(judge.rubrics).score(_entry(POINTS, answer="an answer that says none of it"), "EMA")
    assert not stale.judged and "does not fit its model answer" in stale.note


@pytest.mark.parametrize("body, message", [
    ('[T-01]\npoints = [{ need = [] }]', "'need' must be a non-empty list"),
    ('[T-01]\npoints = [{ need = ["a"], min = 2 }]', "'min' must be an integer from 1 to 1, got 2"),
    ('[T-01]\npoints = [{ need = ["a"], hint = "x" }]', "unknown field(s) ['hint']"),
    ('[T-01]\npoints = [{ need = ["the"] }]', "the phrase 'the' has no words left"),
    ('[T-01]\nwrong = "x"', "expected a table with 'points = [...]'"),
])
def test_malformed_rubrics_are_reported_with_file_and_question(tmp_path, body, message):
    (tmp_path / "gd.toml").write_text(body, encoding="utf-8")
    with pytest.raises(RubricError, match="gd.toml: T-01") as error:
        load_rubrics(tmp_path)
    assert message in str(error.value)


def test_score_validates_its_text(tmp_path):
    with pytest.raises(TypeError, match="text: expected the typed answer as str, got NoneType"):
        _judge(tmp_path, RUBRIC).score(_entry(POINTS), None)


# ---------------------------------------------------------------- the bank's rubrics
@pytest.fixture(scope="module")
def course():
    return load(), Judge(load_rubrics())


def test_every_question_has_a_rubric_with_one_point_per_key_point(course):
    bank, judge = course
    problems = [f"{e.id}: {judge.rubric_for(e)[1] or 'ok'}" for e in bank if e.id not in judge.rubrics
                or len(judge.rubrics[e.id].points) != len(e.key_points)]
    assert problems == []
    assert set(judge.rubrics) == {e.id for e in bank}


def test_every_model_answer_covers_all_its_own_key_points(course):
    bank, judge = course
    missed = [(e.id, p.index + 1, p.lacking, p.misconception) for e in bank
              for p in judge.score(e, e.answer).points if not p.covered]
    assert missed == []


def test_the_model_answer_of_one_question_does_not_pass_another(course):
    """A rubric is specific: a neighbouring question's model answer does not pass it."""
    bank, judge = course
    entries = list(bank)
    passed = [(a.id, b.id) for a, b in zip(entries, entries[1:], strict=False)
              if a.topic == b.topic and a.parent != b.id and b.parent != a.id and judge.score(b, a.answer).passed]
    assert len(passed) <= len(entries) // 20, passed
