"""Word-overlap guessers: test-takers who know nothing but match words between an item and its options.

Used by ``tests/test_practice_quiz.py`` to show that the test mode needs knowledge: each guesser
answers every item of many seeded tests from the item's text alone.
"""

import re

STOP = set("a an the of to in on for and or is are be by with as at it its this that from not no than "
           "then what which how why do does vs each one".split())


def words(text):
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP}


def overlap(a, b):
    wa = words(a)
    return len(wa & words(b)) / len(wa) if wa else 0.0


def _prompt(item):
    return item.question.split("\n", 1)[-1]


def choice_guessers():
    """Guessers for "which statement is wrong": option index from the item alone."""
    def least_like_question(item):
        return min(range(len(item.options)), key=lambda i: overlap(item.options[i], _prompt(item)))

    def most_like_question(item):
        return max(range(len(item.options)), key=lambda i: overlap(item.options[i], _prompt(item)))

    def odd_one_out(item):
        def fit(i):
            others = " ".join(o for j, o in enumerate(item.options) if j != i)
            return overlap(item.options[i], others)
        return min(range(len(item.options)), key=fit)

    def longest(item):
        return max(range(len(item.options)), key=lambda i: len(item.options[i]))

    def most_typical(item):
        def fit(i):
            others = " ".join(o for j, o in enumerate(item.options) if j != i)
            return overlap(item.options[i], others)
        return max(range(len(item.options)), key=fit)

    return {"least like the question": least_like_question, "most like the question": most_like_question,
            "odd one out": odd_one_out, "most like the others": most_typical, "longest": longest,
            "shortest": lambda item: min(range(len(item.options)), key=lambda i: len(item.options[i]))}


def true_false_guessers():
    """Guessers for true/false: True when the claim shares at least ``t`` of its words with the question."""
    def threshold(t):
        return lambda item: 0 if overlap(item.question.rsplit("\n", 1)[-1], item.question.split("\n")[0]) >= t \
            else 1
    guessers = {f"true if overlap >= {t:.2f}": threshold(t) for t in (0.01, 0.1, 0.2, 0.3, 0.4)}
    guessers["true if it has no negation"] = lambda item: 1 if re.search(
        r"\b(not|no|never|cannot|only)\b", item.question.rsplit("\n", 1)[-1].lower()) else 0
    return guessers


def number_guessers():
    """Guessers for typed numbers: a number of the prompt, or a round default."""
    from gdcourse.practice.items import numbers_in

    def nth(k):
        def guess(item):
            found = numbers_in(item.question)
            return found[k] if len(found) > abs(k) - (k < 0) else 1.0
        return guess
    return {"first number": nth(0), "last number": nth(-1), "always 1": lambda item: 1.0,
            "always 0.5": lambda item: 0.5}


def formula_guessers():
    """Guessers for typed formulas: a variable of the item, their sum or product, or 1."""
    def first(item):
        return item.variables[0]

    return {"first variable": first, "sum of variables": lambda item: " + ".join(item.variables),
            "product of variables": lambda item: "*".join(item.variables), "always 1": lambda item: "1",
            "one over the first": lambda item: f"1/{item.variables[0]}"}


def order_guessers():
    """Guessers for orderings: as shown, reversed, or by overlap with the prompt."""
    def as_shown(item):
        return list(range(len(item.options)))

    def by_overlap(item):
        return sorted(range(len(item.options)), key=lambda i: -overlap(item.options[i], item.question))
    return {"as shown": as_shown, "reversed": lambda item: as_shown(item)[::-1], "by overlap": by_overlap}
