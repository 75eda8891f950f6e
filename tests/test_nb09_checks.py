"""Notebook 09 checks: each passes the reference solution, fails plausible wrong answers with the
intended message, reports a NotImplementedError stub as "not done", and reports other exceptions as
"failed" naming the error. A check never raises."""

import math

import numpy as np
import pytest
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_passes,
    assert_verdict,
    run,
    stub,
)

from gdcourse import check, diagnose
from gdcourse.check import playbook as checks


def broken(*args, **kwargs):
    return {}["missing"]


def test_checks_are_re_exported():
    for name in ("smooth_losses", "diagnose_case", "count_parameters", "conv_output_size"):
        assert getattr(check, name) is getattr(checks, name) and name in check.REGISTRY


# ---------------------------------------------------------------- smooth_losses

def ema(losses, beta, correct=True, offset=1):
    average, out = 0.0, []
    for t, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out.append(average / (1 - beta ** (t + offset)) if correct else average)
    return np.array(out)


def test_smooth_losses_passes_the_reference():
    assert_passes(checks.smooth_losses, ema)


def test_smooth_losses_passes_a_vectorized_solution():
    def vectorized(losses, beta):
        t = np.arange(len(losses))
        weights = np.tril(beta ** np.clip(t[:, None] - t[None, :], 0, None))
        return (1 - beta) * weights @ losses / (1 - beta ** (t + 1))
    assert_passes(checks.smooth_losses, vectorized)


def test_smooth_losses_detects_the_usual_slips():
    assert_fails_with(checks.smooth_losses, lambda l, b: ema(l, b, correct=False), "did not correct the bias")
    running_mean = lambda l, b: np.cumsum(l) / np.arange(1, len(l) + 1)
    assert_fails_with(checks.smooth_losses, running_mean, "running mean")
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_fails_with(checks.smooth_losses, lambda l, b: ema(l, b, offset=0), "off by one step")
    assert_fails_with(checks.smooth_losses, lambda l, b: ema(l, 1 - b), "swapped")


def test_smooth_losses_shape_and_return_problems():
    assert_fails_with(checks.smooth_losses, lambda l, b: None, "returned None")
    assert_fails_with(checks.smooth_losses, lambda l, b: ema(l, b)[:-1], "expected (4,)")
    assert_fails_with(checks.smooth_losses, lambda l, b: ema(l, b) + 0.01, "value 0 is")


def test_smooth_losses_not_done_and_errors():
    assert_not_done(checks.smooth_losses, stub)
    assert_fails_with(checks.smooth_losses, broken, "KeyError")


# ---------------------------------------------------------------- diagnose_case

def test_diagnose_case_accepts_name_title_and_number():
    truth = diagnose.generate(checks.DIAGNOSE_SEED).fault
    number = list(diagnose.FAULTS).index(truth.name) + 1
    for answer in (truth.name, truth.title, number, str(number)):
        assert_verdict(run(checks.diagnose_case, answer), "passed", truth.title)


def test_diagnose_case_wrong_answer_gives_the_tell_and_a_clue_without_the_answer():
    truth = diagnose.generate(checks.DIAGNOSE_SEED).fault
    wrong = diagnose.FAULTS["lr_too_high"]
    assert truth.name != wrong.name
    result = assert_fails_with(checks.diagnose_case, "lr_too_high", wrong.tell, truth.clue)
    assert truth.title not in result.message and truth.name not in result.message


def test_diagnose_case_unknown_answer_lists_the_names():
    assert_fails_with(checks.diagnose_case, "gremlins", "is not one of the causes", "lr_too_high",
                      "no_zero_grad")


def test_diagnose_case_not_done_and_other_seeds():
    assert_not_done(checks.diagnose_case, None)
    other = diagnose.generate(3).fault.name
    assert other != diagnose.generate(checks.DIAGNOSE_SEED).fault.name     # so the seed decides the verdict
    assert_passes(checks.diagnose_case, other, seed=3)
    assert_fails_with(checks.diagnose_case, other, f"case {checks.DIAGNOSE_SEED} does not")


# ---------------------------------------------------------------- count_parameters

def reference_count(sizes):
    sizes = list(sizes)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def test_count_parameters_passes_the_reference():
    assert_passes(checks.count_parameters, reference_count)
    assert_passes(checks.count_parameters, lambda s: float(reference_count(s)))     # 26.0 is fine


def test_count_parameters_detects_the_usual_slips():
    pairs = lambda s: list(zip(list(s)[:-1], list(s)[1:], strict=True))
    assert_fails_with(checks.count_parameters, lambda s: sum(a * b for a, b in pairs(s)),
                      "returned 20, expected 26", "counted only the weights")
    assert_fails_with(checks.count_parameters, lambda s: reference_count(s) + list(s)[0],
                      "the input layer included")
    assert_fails_with(checks.count_parameters, lambda s: sum(a * b + a for a, b in pairs(s)),
                      "one bias per input unit")
    assert_fails_with(checks.count_parameters, lambda s: sum(a * b + b for a, b in pairs(s)[:-1]),
                      "left out the last layer")
    assert_fails_with(checks.count_parameters, lambda s: int(np.prod(list(s))), "multiplied all the sizes")


def test_count_parameters_generic_and_type_problems():
    assert_fails_with(checks.count_parameters, lambda s: reference_count(s) + 1, "expected 26 = 16 + 10")
    assert_fails_with(checks.count_parameters, lambda s: "26", "whole number")
    assert_fails_with(checks.count_parameters, lambda s: 26.5, "whole number")


def test_count_parameters_not_done_and_errors():
    assert_not_done(checks.count_parameters, stub)
    assert_fails_with(checks.count_parameters, broken, "KeyError")


# ---------------------------------------------------------------- conv_output_size

def test_conv_output_size_passes_the_reference():
    assert_passes(checks.conv_output_size, lambda n, f, p, s: (n - f + 2 * p) // s + 1)
    assert_passes(checks.conv_output_size, lambda n, f, p, s: math.floor((n - f + 2 * p) / s) + 1)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda n, f, p, s: (n - f + 2 * p) / s + 1, "did not round down"),
    (lambda n, f, p, s: math.ceil((n - f + 2 * p) / s) + 1, "rounded up"),
    (lambda n, f, p, s: (n - f + p) // s + 1, "both sides"),
    (lambda n, f, p, s: (n - f) // s + 1, "left out the padding"),
    (lambda n, f, p, s: (n - f + 2 * p) // s, "forgot the + 1"),
    (lambda n, f, p, s: n - f + 2 * p + 1, "ignored the stride"),
    (lambda n, f, p, s: (n + f + 2 * p) // s + 1, "n − f, not n + f"),
])
def test_conv_output_size_names_the_slip(wrong, fragment):
    assert_fails_with(checks.conv_output_size, wrong, fragment, "expected")


def test_conv_output_size_float_and_type_problems():
    assert_fails_with(checks.conv_output_size, lambda n, f, p, s: float((n - f + 2 * p) // s + 1), "a float")
    assert_fails_with(checks.conv_output_size, lambda n, f, p, s: None, "whole number")
    assert_fails_with(checks.conv_output_size, lambda n, f, p, s: 7, "⌊")


def test_conv_output_size_not_done_and_errors():
    assert_not_done(checks.conv_output_size, stub)
    assert_fails_with(checks.conv_output_size, broken, "KeyError")
