"""Checks of notebook 09 (the training playbook).

``smooth_losses``: the learner's bias-corrected moving average ``smooth_losses(losses, beta)``
(what the range test plots); ``diagnose_case``: the fault the learner found in a case of the
diagnose widget; ``count_parameters``: the learner's ``count_parameters(layer_sizes)`` of a
fully connected network; ``conv_output_size``: the learner's ``conv_output_size(n, f, p, s)``.
Each compares with :mod:`gdcourse.experiments.playbook` or :mod:`gdcourse.diagnose` and names
the likely mistake.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from gdcourse import diagnose
from gdcourse.check.core import Mismatch, answer, call, exercise, expect, show
from gdcourse.experiments import playbook as E

__all__ = ["smooth_losses", "diagnose_case", "count_parameters", "conv_output_size"]

DIAGNOSE_SEED = 8
"""The case of the widget exercise."""


# ---------------------------------------------------------------- smooth_losses

def _smoothing_cases():
    rng = np.random.default_rng(9)
    return [
        ("losses [4, 2, 3, 1] with beta 0.5", np.array([4.0, 2.0, 3.0, 1.0]), 0.5),
        ("a noisy decreasing curve of 50 losses, beta 0.9", 3 * np.exp(-np.arange(50) / 20)
         + 0.2 * rng.standard_normal(50), 0.9),
        ("a single loss [2.5], beta 0.98", np.array([2.5]), 0.98),
        ("300 losses, beta 0.98", 2 + rng.standard_normal(300), 0.98),
        ("beta 0 (no smoothing)", rng.standard_normal(6), 0.0),
    ]


def _ema_without_correction(losses, beta):
    return E.smooth_losses(losses, beta) * (1 - beta ** np.arange(1, len(losses) + 1))


def _smoothing_variants(losses, beta):
    """(wrong result, hint) for the usual slips."""
    t = np.arange(1, len(losses) + 1)
    raw = _ema_without_correction(losses, beta)
    variants = [
        (raw, "you did not correct the bias: early values are pulled towards the start value 0. "
              "Divide a_t by 1 − beta^(t+1) (t counted from 0)."),
        (np.cumsum(losses) / t, "you computed the running mean (equal weights); a moving average weights "
                                "recent losses more: a_t = beta·a_(t−1) + (1 − beta)·loss_t."),
    ]
    if 0 < beta < 1:
        swapped = E.smooth_losses(losses, 1 - beta) if beta != 0.5 else None
        if swapped is not None:
            variants.append((swapped, "beta and 1 − beta are swapped: the old average keeps the weight beta, "
                                      "the new loss gets 1 − beta."))
        with np.errstate(divide="ignore", invalid="ignore"):
            variants.append((raw / (1 - beta ** (t - 1)),
                             "your correction is off by one step: after t + 1 losses (t from 0) the weights "
                             "sum to 1 − beta^(t+1), not 1 − beta^t (which is 0 at the first step)."))
    return variants


def _as_curve(got, describe, n):
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: did you forget to return the array?")
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"on {describe} you returned {type(got).__name__}, not an array of numbers") from None
    if got.shape != (n,):
        raise Mismatch(f"on {describe} the result has shape {got.shape}, expected ({n},): one smoothed "
                       "value per loss.")
    return got


@exercise("smooth_losses", success="your moving average matches the range test's on every case tried.")
def smooth_losses(fn):
    """Check ``fn(losses, beta) -> (T,)`` against :func:`gdcourse.experiments.playbook.smooth_losses`."""
    for describe, losses, beta in _smoothing_cases():
        want = E.smooth_losses(losses, beta)
        got = _as_curve(call(fn, losses, beta, describe=describe), describe, len(losses))
        if np.allclose(got, want, rtol=1e-8, atol=1e-10):
            continue
        with np.errstate(invalid="ignore"):
            for variant, hint in _smoothing_variants(losses, beta):
                if np.allclose(got, variant, rtol=1e-8, atol=1e-10, equal_nan=True):
                    raise Mismatch(f"on {describe}: {hint}")
        t = int(np.argmax(~np.isclose(got, want, rtol=1e-8, atol=1e-10)))
        raise Mismatch(f"on {describe} value {t} is {got[t]:.6g}, expected {want[t]:.6g} "
                       f"(the first values should be {show(want[:3])}). Keep a = beta·a + (1 − beta)·loss "
                       "from a = 0, and divide by 1 − beta^(t+1).")


# ---------------------------------------------------------------- diagnose_case

@exercise("diagnose_case")
def diagnose_case(value, seed=DIAGNOSE_SEED):
    """Is ``value`` (a fault name, its title or its number in the list) the fault of case ``seed``?"""
    value = answer(value)
    case = diagnose.generate(seed)
    name = case.resolve(value)
    names = ", ".join(diagnose.FAULTS)
    expect(name is not None, f"{value!r} is not one of the causes; enter a name from: {names} "
                             f"(or its number 1-{len(diagnose.FAULTS)} in the widget's list).")
    if name != case.fault.name:
        chosen = diagnose.FAULTS[name]
        raise Mismatch(f"not {chosen.title}: that would show {chosen.tell}, and case {seed} does not. "
                       f"Hint: {case.fault.clue}")
    return f"right: case {seed} is {case.fault.title}. {case.fault.explanation}"


# ---------------------------------------------------------------- count_parameters

_LAYER_CASES = [
    ("layer_sizes [3, 4, 2]", [3, 4, 2]),
    ("the XOR network [2, 2, 1]", [2, 2, 1]),
    ("an MNIST MLP [784, 128, 64, 10]", [784, 128, 64, 10]),
    ("a single layer [5, 1]", [5, 1]),
    ("layer_sizes (10, 20, 30, 40, 50) as a tuple", (10, 20, 30, 40, 50)),
]

_COUNT_VARIANTS = [
    (lambda sizes, pairs: sum(a * b for a, b in pairs),
     "you counted only the weights; each unit of the next layer also has a bias: add n_(i+1) per layer."),
    (lambda sizes, pairs: sum(a * b for a, b in pairs) + sum(sizes),
     "you gave every layer, the input layer included, biases; the input is data, with no bias: add "
     "n_(i+1) for each layer after the input."),
    (lambda sizes, pairs: sum(a * b + a for a, b in pairs),
     "you counted one bias per input unit of each layer; biases belong to the output units: n_(i+1), "
     "not n_i."),
    (lambda sizes, pairs: sum(a * b + b for a, b in pairs[:-1]),
     "you left out the last layer (the one into the output)."),
    (lambda sizes, pairs: int(np.prod(sizes)),
     "you multiplied all the sizes together; a layer only connects to the next one: sum "
     "n_i·n_(i+1) + n_(i+1) over consecutive pairs."),
]


def _sentence(hint):
    return hint[:1].upper() + hint[1:] if hint else ""


def _matching_variant(got, cases, variants, want):
    """The hint of the first variant that reproduces every wrong answer of the learner, or None."""
    wrong = [i for i, value in enumerate(got) if value != want[i]]
    for variant, hint in variants:
        if all(got[i] == variant(*cases[i]) for i in wrong):
            return wrong[0], hint
    return wrong[0], None


@exercise("count_parameters", success="your counts match model.num_parameters() on every network tried.")
def count_parameters(fn):
    """Check ``fn(layer_sizes) -> int`` against :func:`gdcourse.experiments.playbook.count_parameters`."""
    got, want, cases = [], [], []
    for describe, sizes in _LAYER_CASES:
        value = call(fn, list(sizes) if isinstance(sizes, list) else sizes, describe=describe)
        expect(isinstance(value, numbers.Integral) and not isinstance(value, bool)
               or isinstance(value, float) and value.is_integer(),
               f"on {describe} you returned {value!r}; return the count as a whole number.")
        got.append(int(value))
        want.append(E.count_parameters(sizes))
        cases.append((list(sizes), list(zip(sizes[:-1], sizes[1:], strict=True))))
    if got == want:
        return None
    i, hint = _matching_variant(got, cases, _COUNT_VARIANTS, want)
    describe, sizes = _LAYER_CASES[i]
    per_layer = " + ".join(f"{p:,}" for p in E.layer_parameters(sizes))
    raise Mismatch(f"on {describe} you returned {got[i]:,}, expected {want[i]:,} = {per_layer}. "
                   f"{_sentence(hint or 'each layer has n_i·n_(i+1) weights and n_(i+1) biases.')}")


# ---------------------------------------------------------------- conv_output_size

_CONV_CASES = [
    ("n=32, f=5, p=0, s=1 (LeNet-like)", (32, 5, 0, 1)),
    ("n=28, f=3, p=1, s=1 ('same' padding)", (28, 3, 1, 1)),
    ("n=227, f=11, p=0, s=4 (AlexNet's first layer)", (227, 11, 0, 4)),
    ("n=224, f=3, p=1, s=2", (224, 3, 1, 2)),
    ("n=10, f=4, p=1, s=3 (the stride does not divide evenly)", (10, 4, 1, 3)),
    ("n=5, f=5, p=0, s=1 (the filter covers the whole input)", (5, 5, 0, 1)),
    ("n=7, f=3, p=2, s=2", (7, 3, 2, 2)),
    ("n=9, f=3, p=2, s=1", (9, 3, 2, 1)),
]

_CONV_VARIANTS = [
    (lambda n, f, p, s: (n - f + 2 * p) / s + 1,
     "you did not round down: a window must fit entirely, so take the floor, (n − f + 2p) // s + 1."),
    (lambda n, f, p, s: math.ceil((n - f + 2 * p) / s) + 1,
     "you rounded up; a window that would stick out of the padded input is not computed: use floor "
     "division."),
    (lambda n, f, p, s: (n - f + p) // s + 1, "padding is added on both sides: use 2p, not p."),
    (lambda n, f, p, s: (n - f) // s + 1, "you left out the padding: the padded input has n + 2p positions."),
    (lambda n, f, p, s: (n - f + 2 * p) // s,
     "you forgot the + 1: the first window sits at position 0, then one more every s steps."),
    (lambda n, f, p, s: n - f + 2 * p + 1,
     "you ignored the stride: divide (n − f + 2p) by s before adding 1."),
    (lambda n, f, p, s: (n + f + 2 * p) // s + 1, "the filter shrinks the output: n − f, not n + f."),
    (lambda n, f, p, s: (n - f - 2 * p) // s + 1, "padding enlarges the input: + 2p, not − 2p."),
]


@exercise("conv_output_size", success="your sizes match a direct convolution on every case tried.")
def conv_output_size(fn):
    """Check ``fn(n, f, p, s) -> int`` against ``⌊(n − f + 2p)/s⌋ + 1``."""
    got, want = [], []
    for describe, args in _CONV_CASES:
        value = call(fn, *args, describe=describe)
        expect(isinstance(value, numbers.Real) and not isinstance(value, bool),
               f"on {describe} you returned {value!r}; return the size as a whole number.")
        got.append(value)
        want.append(E.conv_output_size(*args))
    if got == want:
        floats = [i for i, value in enumerate(got) if not isinstance(value, numbers.Integral)]
        if floats:
            raise Mismatch(f"on {_CONV_CASES[floats[0]][0]} you returned {got[floats[0]]!r}, a float; use "
                           "integer division (//) so the size is an int.")
        return None
    i, hint = _matching_variant(got, [args for _, args in _CONV_CASES], _CONV_VARIANTS, want)
    describe, (n, f, p, s) = _CONV_CASES[i]
    formula = f"⌊({n} − {f} + 2·{p})/{s}⌋ + 1"
    message = f"on {describe} you returned {got[i]}, expected {want[i]} = {formula}. {_sentence(hint)}"
    raise Mismatch(message.rstrip())
