"""The judge against typed answers labelled by hand (``tests/data/judge_labelled.toml``).

The set holds, for 45 questions (4 main questions per topic, and 5 senior follow-ups),
a paraphrase in other words, a partial answer and a wrong answer that uses the right
words, each labelled with the key points it covers and pass/fail; the bank's own model
answer of each question is added (all points, pass), 180 answers in all. Questions alternate per topic between
a tuning part (the rubrics were adjusted while looking at its results) and a
held-out part (never looked at answer by answer). Targets: key-point precision at
least 0.9, recall at least 0.8, no wrong answer proposed as a pass, on the whole set
and on the held-out part alone. The rubrics' "must not say" lists of held-out questions
were written by the author of these answers, so the held-out figures are optimistic for
wrong answers; ``judge_fresh.toml`` (40 answers written after every rubric was frozen,
never used to change one) measures that honestly, and the README quotes its figures.
"""

import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from gdcourse.bank import TOPICS, load
from gdcourse.practice.judge import Judge
from gdcourse.practice.rubrics import load_rubrics

LABELLED = Path(__file__).parent / "data" / "judge_labelled.toml"
FRESH = Path(__file__).parent / "data" / "judge_fresh.toml"


def labelled_answers(bank):
    """Every labelled answer (the model answers added) with its part: ``tune`` or ``held-out``."""
    written = tomllib.loads(LABELLED.read_text(encoding="utf-8"))["answer"]
    order = defaultdict(list)
    for answer in written:
        topic_ids = order[answer["id"].split("-")[0]]
        if answer["id"] not in topic_ids:
            topic_ids.append(answer["id"])
    part = {qid: "tune" if i % 2 == 0 else "held-out" for ids in order.values() for i, qid in enumerate(ids)}
    models = [{"id": qid, "kind": "model", "covers": list(range(1, len(bank.get(qid).key_points) + 1)),
               "grade": "pass", "text": bank.get(qid).answer} for qid in part]
    return [dict(answer, part=part[answer["id"]]) for answer in models + written]


def measure(answers, bank, judge) -> dict:
    """Key-point precision and recall, grade agreement and wrong answers passed, over ``answers``."""
    true_pos = false_pos = false_neg = agree = wrong_passed = 0
    for answer in answers:
        verdict = judge.score(bank.get(answer["id"]), answer["text"])
        found, label = {i + 1 for i in verdict.covered}, set(answer["covers"])
        true_pos += len(found & label)
        false_pos += len(found - label)
        false_neg += len(label - found)
        agree += ("pass" if verdict.passed else "fail") == answer["grade"]
        wrong_passed += answer["kind"] == "wrong" and verdict.passed
    return {"answers": len(answers), "precision": true_pos / (true_pos + false_pos),
            "recall": true_pos / (true_pos + false_neg), "agreement": agree / len(answers),
            "wrong_passed": wrong_passed}


@pytest.fixture(scope="module")
def figures():
    bank = load()
    judge = Judge(load_rubrics())
    answers = labelled_answers(bank)
    parts = {"all": answers, **{p: [a for a in answers if a["part"] == p] for p in ("tune", "held-out")}}
    return {name: measure(subset, bank, judge) for name, subset in parts.items()}


def test_the_labelled_set_is_large_and_varied():
    bank = load()
    answers = labelled_answers(bank)
    assert len(answers) >= 150
    # every topic but SCALE, which joined the bank after the set was written (its rubrics exist)
    assert {a["id"].split("-")[0] for a in answers} == set(TOPICS) - {"SCALE"}
    kinds = {kind: sum(a["kind"] == kind for a in answers) for kind in ("model", "paraphrase", "partial", "wrong")}
    assert min(kinds.values()) >= 40, kinds
    for a in answers:
        points = len(bank.get(a["id"]).key_points)
        assert set(a["covers"]) <= set(range(1, points + 1)) and a["grade"] in {"pass", "fail"}, a["id"]
        assert a["kind"] != "wrong" or a["grade"] == "fail"


@pytest.mark.parametrize("part", ["all", "held-out"])
def test_key_point_detection_and_grades_meet_the_targets(figures, part):
    result = figures[part]
    print(f"{part}: {result}")
    assert result["precision"] >= 0.9, result
    assert result["recall"] >= 0.8, result
    assert result["wrong_passed"] == 0, result
    assert result["agreement"] >= 0.9, result


def test_answers_written_after_the_rubrics_were_frozen():
    """The fresh set, as first measured: paraphrases all recognized; some wrong answers that swap facts
    between the right words ("too high: slow, too low: spikes") are proposed as a pass. These bounds
    are the README's figures; they are a floor to keep, not a target met."""
    bank, judge = load(), Judge(load_rubrics())
    answers = tomllib.loads(FRESH.read_text(encoding="utf-8"))["answer"]
    assert len(answers) == 40 and {a["kind"] for a in answers} == {"paraphrase", "wrong"}
    result = measure(answers, bank, judge)
    right = measure([a for a in answers if a["kind"] == "paraphrase"], bank, judge)
    print(f"fresh: {result}; paraphrases: {right}")
    assert right["precision"] == 1.0 and right["recall"] == 1.0 and right["agreement"] == 1.0
    assert result["precision"] >= 0.7 and result["wrong_passed"] <= 3
