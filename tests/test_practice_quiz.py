"""The test mode: item kinds that need knowledge, curated false statements, no repeats, replayable seeds.

The guesser test answers every item of many seeded tests from the item's text alone (word overlap,
length, numbers of the prompt, the order shown) and asserts that no guesser beats chance by more
than 10 points on any kind.
"""

import re
from collections import defaultdict

import pytest
import quiz_guessers
from practice_helpers import BANK_FIXTURE

from gdcourse.bank import TOPICS, load
from gdcourse.practice.items import load_material, numbers_in
from gdcourse.practice.quiz import TestSession, count_test_items, make_test_items, parse_order

GUESSER_SEEDS = range(30)


@pytest.fixture
def material(bank):
    return load_material(bank, BANK_FIXTURE / "distractors", strict=True)


@pytest.fixture(scope="module")
def real():
    bank = load()
    return bank, load_material(bank, strict=True)


# ---------------------------------------------------------------- the curated material
def test_material_names_bank_questions_and_false_statements_are_no_key_points(real):
    bank, material = real
    key_points = {point.casefold() for entry in bank for point in entry.key_points}
    statements = [s for values in material.false.values() for s in values]
    assert len(material.false) >= 40 and len(statements) >= 90
    assert not {s.casefold() for s in statements} & key_points
    # nor a sentence of the model answer it contradicts (a copied sentence would be true)
    copied = [(i, s) for i, values in material.false.items() for s in values
              if " ".join(s.casefold().split()) in " ".join(bank.get(i).answer.casefold().split())]
    assert copied == []
    assert len(set(statements)) == len(statements)
    assert len(material.numbers) >= 15 and len(material.orders) >= 6 and len(material.formulas) >= 6
    assert {bank.get(i).topic for i in material.false} == set(TOPICS)


def test_material_rejects_an_unknown_id_and_an_answer_written_in_the_prompt(bank, tmp_path):
    (tmp_path / "gd.toml").write_text('[[false]]\nid = "GD-99"\nstatements = ["x"]\n'
                                      '[[number]]\nid = "GD-01"\nprompt = "What is 2 + 2? (hint: 4)"\n'
                                      'answer = 4\ntolerance = 0\nexplanation = ""\n'
                                      '[[false]]\nid = "GD-02"\nstatements = ["can diverge"]\n')
    with pytest.raises(ValueError) as error:
        load_material(bank, tmp_path, strict=True)
    message = str(error.value)
    assert "no bank question 'GD-99'" in message and "the answer 4.0 is written in the prompt" in message
    assert "false statement is a key point: 'can diverge'" in message


def test_numbers_in_reads_thousands_and_exponents():
    assert numbers_in("n = 50,000, lr 1e-3 and 0.9; 784-128") == [50000.0, 0.001, 0.9, 784.0, 128.0]


def test_number_answers_of_the_real_bank_are_right_by_hand(real):
    # each answer worked out by hand from the prompt (see the explanations in the material files)
    expected = {"OPT-02": 0.1, "VAR-05": 391, "PRAC-07": 109386, "INIT-03": 0.0625, "REG-06": 1.25,
                "ACT-13": 2.302585, "GD-03": 0.04, "VAR-09": 0.4}
    answers = {q.entry_id: q for q in real[1].numbers}
    for entry_id, value in expected.items():
        question = answers[entry_id]
        assert abs(question.answer - value) <= question.tolerance + 1e-3, entry_id


# ---------------------------------------------------------------- items
def test_items_are_seeded_one_per_question_and_well_formed(bank, material):
    items = make_test_items(bank, 7, rng=3, material=material)
    assert items == make_test_items(bank, 7, rng=3, material=material)
    assert [i.entry_id for i in items] != [i.entry_id for i in make_test_items(bank, 7, rng=4, material=material)]
    assert len({item.entry_id for item in items}) == 7                   # no question twice
    for item in items:
        entry = bank.get(item.entry_id)
        false = material.false.get(item.entry_id, ())
        if item.kind == "wrong_statement":
            wrong = item.options[item.correct]
            assert wrong in false and len(item.options) == 4
            assert all(o in entry.key_points for i, o in enumerate(item.options) if i != item.correct)
        elif item.kind == "true_false":
            claim = item.question.rsplit("\n", 1)[-1]
            assert (claim in entry.key_points) == (item.correct == 0) and (claim in false) == (item.correct == 1)
        elif item.kind == "number":
            assert item.check(item.answer) and not item.check(item.answer + 2 * item.tolerance + 1)
        else:
            assert item.kind == "order" and item.check([*item.correct])
            assert list(item.correct) != list(range(len(item.options)))    # never shown already in order


def test_wrong_statement_never_sits_beside_the_key_point_it_was_made_from(real):
    bank, material = real
    entry = bank.get("OPT-04")
    for seed in range(40):
        for item in make_test_items(bank, count_test_items(bank, ["OPT"], material=material), topics=["OPT"],
                                    rng=seed, material=material):
            if item.entry_id == "OPT-04" and item.kind == "wrong_statement" and \
                    item.options[item.correct].startswith("Adagrad: moving average"):
                assert "RMSprop: moving average of squares; rate does not vanish" not in item.options
                assert all(o in entry.key_points for i, o in enumerate(item.options) if i != item.correct)


def test_count_of_items_by_hand(bank, material):
    # one item per question that has material: GD-01, GD-02, GD-03, OPT-01 (order), OPT-02, DL-01, DL-02
    assert count_test_items(bank, material=material) == 7
    assert count_test_items(bank, ["DL"], material=material) == 2
    with pytest.raises(ValueError, match="at most 7 test items"):
        make_test_items(bank, 8, rng=0, material=material)


def test_true_false_items_come_both_ways(bank, material):
    answers = {item.correct for seed in range(20) for item in make_test_items(bank, 7, rng=seed, material=material)
               if item.kind == "true_false"}
    assert answers == {0, 1}


def test_formulas_are_compared_as_functions_in_any_notation(real):
    bank, material = real
    sigmoid = next(q for q in material.formulas if q.entry_id == "ACT-03")
    item = next(i for seed in range(200) for i in make_test_items(bank, count_test_items(bank, ["ACT"],
                material=material), topics=["ACT"], rng=seed, material=material) if i.kind == "formula"
                and i.entry_id == "ACT-03")
    assert item.formula == sigmoid.answer and item.variables == ("s",)
    for right in ("s*(1 - s)", "s(1-s)", "s - s^2", "-s**2 + s", "(1 - s) s"):
        assert item.check(right), right
    for wrong in ("s", "1 - s", "s^2", "s(1+s)", "1/4"):
        assert not item.check(wrong), wrong
    for unreadable, message in (("sigma(z)(1 - sigma(z))", "unknown name(s) sigma, z"),
                                ("exit()", "unknown name(s) exit"), ("s * [1]", "expected a formula in s")):
        with pytest.raises(ValueError, match=re.escape(message)):
            item.check(unreadable)


def test_typed_replies_are_read_with_tolerance_and_orders_in_several_forms(bank, material):
    items = [i for seed in range(30) for i in make_test_items(bank, 7, rng=seed, material=material)]
    number = next(i for i in items if i.kind == "number")              # GD-02: 2 / 4 = 0.5 +- 0.001
    assert number.check("0.5") and number.check("0.5005") and not number.check("0.502")
    assert number.check(" 5e-1 ") and number.right_answer() == "0.5"
    with pytest.raises(ValueError, match="expected a number"):
        number.check("half")
    assert parse_order("3 1 2", 3) == parse_order("3,1,2", 3) == parse_order("312", 3) == [2, 0, 1]
    with pytest.raises(ValueError, match="the numbers 1 to 3, each once"):
        parse_order("1 1 2", 3)


def _reply(item, right):
    """A right or a wrong reply to ``item``, in the form its kind takes."""
    if item.kind == "number":
        return item.right_answer() if right else str(item.answer + 10 * item.tolerance + 1)
    if item.kind == "order":
        order = list(item.correct) if right else list(item.correct)[1:] + list(item.correct)[:1]
        return " ".join(str(i + 1) for i in order)
    return item.correct if right else (item.correct + 1) % len(item.options)


def test_test_session_scores_and_stores_every_kind(bank, store, material):
    test = TestSession(bank, n=7, rng=5, store=store, material=material)
    assert {item.kind for item in test.items} >= {"number", "order", "true_false"}
    for number, item in enumerate(test.items):
        assert test.answer(_reply(item, number % 2 == 0)) == (number % 2 == 0)
    assert test.score == 4 and test.finished
    with pytest.raises(RuntimeError, match="finished"):
        test.answer(0)
    summary = test.close()
    assert summary["seed"] == 5 and summary["score"] == 4
    assert [row["correct"] for row in store.test_answers(test.session_id)] == [1, 0, 1, 0, 1, 0, 1]


def test_an_unreadable_reply_is_not_recorded(bank, material):
    test = TestSession(bank, n=7, rng=0, material=material)
    choice = next(i for i, item in enumerate(test.items) if item.kind in ("true_false", "wrong_statement"))
    for item in test.items[:choice]:
        test.answer(_reply(item, True))
    with pytest.raises(ValueError, match="option: expected an int from 0 to"):
        test.answer(7)
    assert len(test.answers) == choice


# ---------------------------------------------------------------- knowledge, not word matching
def test_word_overlap_guessers_score_no_better_than_chance_plus_10_points(real):
    bank, material = real
    guessers = {"wrong_statement": quiz_guessers.choice_guessers(), "true_false": quiz_guessers.true_false_guessers(),
                "number": quiz_guessers.number_guessers(), "order": quiz_guessers.order_guessers(),
                "formula": quiz_guessers.formula_guessers()}
    right, seen, chance = defaultdict(int), defaultdict(int), defaultdict(float)
    n = count_test_items(bank, material=material)
    for seed in GUESSER_SEEDS:
        for item in make_test_items(bank, n, rng=seed, material=material):
            chance[item.kind] += item.chance
            seen[item.kind] += 1
            for name, guess in guessers[item.kind].items():
                right[item.kind, name] += item.check(guess(item))
    assert set(seen) == set(guessers) and min(seen.values()) >= 60
    for (kind, name), count in right.items():
        rate, base = count / seen[kind], chance[kind] / seen[kind]
        assert rate <= base + 0.10, f"{kind}: guesser '{name}' scores {rate:.1%}, chance is {base:.1%}"
