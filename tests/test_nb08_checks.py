"""Notebook 08 checks: each passes the reference solution, fails plausible wrong answers with the
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

from gdcourse import check
from gdcourse.check import initialization as checks
from gdcourse.experiments import initialization as E


def crashes(*args, **kwargs):
    raise KeyError("fan_in")


def test_checks_are_re_exported():
    for name in ("xavier_normal", "he_normal", "activation_stds", "flat_relu_gain"):
        assert getattr(check, name) is getattr(checks, name) and name in check.REGISTRY


# ---------------------------------------------------------------- xavier_normal / he_normal

def normal_with(std_of):
    """An initializer drawing N(0, std_of(n_in, n_out)²) from the given rng."""
    return lambda shape, rng: rng.normal(0.0, std_of(*shape), size=shape)


xavier_reference = normal_with(lambda a, b: math.sqrt(2 / (a + b)))
he_reference = normal_with(lambda a, b: math.sqrt(2 / a))


def test_initializer_checks_pass_the_references_and_the_package():
    assert_passes(check.xavier_normal, xavier_reference)
    assert_passes(check.he_normal, he_reference)
    assert_passes(check.xavier_normal, lambda shape, rng: E.initializer("xavier")(shape, rng=rng))
    assert_passes(check.he_normal, lambda shape, rng: E.initializer("he")(shape, rng=rng))
    as_list = lambda shape, rng: xavier_reference(shape, rng).tolist()
    assert_passes(check.xavier_normal, as_list)
    standard = lambda shape, rng: rng.standard_normal(shape) * math.sqrt(2 / shape[0])
    assert_passes(check.he_normal, standard)


def uniform_with(bound_of):
    return lambda shape, rng: rng.uniform(-bound_of(*shape), bound_of(*shape), size=shape)


@pytest.mark.parametrize("wrong,fragments", [
    (normal_with(lambda a, b: math.sqrt(1 / a)), ["LeCun", "popular article", "2/(n_in + n_out)"]),
    (normal_with(lambda a, b: 2 / (a + b)), ["variance 2/(n_in + n_out) as the standard deviation"]),
    (normal_with(lambda a, b: math.sqrt(1 / (a + b))), ["factor 2 is missing"]),
    (normal_with(lambda a, b: math.sqrt(2 / a)), ["He's Var = 2/n_in"]),
    (normal_with(lambda a, b: math.sqrt(1 / b)), ["1/n_out"]),
    (normal_with(lambda a, b: math.sqrt(6 / (a + b))), ["bound", "uniform"]),
    (normal_with(lambda a, b: 1.0), ["std 1"]),
    (normal_with(lambda a, b: 0.5 * math.sqrt(2 / (a + b))), ["std of your weights", "ratio 0.5"]),
    (uniform_with(lambda a, b: math.sqrt(6 / (a + b))), ["look uniform", "normal version"]),
    (lambda shape, rng: np.random.normal(0, math.sqrt(2 / sum(shape)), size=shape), ["same seeded rng"]),
    (lambda shape, rng: rng.normal(0, math.sqrt(2 / sum(shape)), size=shape[::-1]), ["transpose", "(n_in, n_out)"]),
    (lambda shape, rng: rng.normal(0, 1, size=(3, 3)), ["shape (3, 3), expected (400, 100)"]),
    (lambda shape, rng: np.full(shape, 0.06), ["all your weights are equal", "INIT-01"]),
    (lambda shape, rng: rng.normal(0.05, math.sqrt(2 / sum(shape)), size=shape), ["mean", "centred at 0"]),
    (lambda shape, rng: None, ["returned None"]),
    (lambda shape, rng: "weights", ["not an array"]),
])
def test_xavier_normal_names_the_mistake(wrong, fragments):
    assert_fails_with(check.xavier_normal, wrong, *fragments)


@pytest.mark.parametrize("wrong,fragments", [
    (normal_with(lambda a, b: math.sqrt(2 / b)), ["fan_out = shape[1]", "fan_in = shape[0]"]),
    (normal_with(lambda a, b: 2 / a), ["variance 2/n_in as the standard deviation", "sqrt(2/n_in)"]),
    (normal_with(lambda a, b: math.sqrt(1 / a)), ["LeCun", "doubles"]),
    (normal_with(lambda a, b: math.sqrt(2 / (a + b))), ["Xavier", "fan-in only"]),
    (normal_with(lambda a, b: math.sqrt(6 / a)), ["uniform"]),
    (normal_with(lambda a, b: math.sqrt(1 / b)), ["1/n_out"]),
    (uniform_with(lambda a, b: math.sqrt(6 / a)), ["look uniform"]),
    (lambda shape, rng: np.random.default_rng().normal(0, math.sqrt(2 / shape[0]), size=shape), ["same seeded rng"]),
])
def test_he_normal_names_the_mistake(wrong, fragments):
    assert_fails_with(check.he_normal, wrong, *fragments)


def test_initializer_checks_stub_and_crash():
    assert_not_done(check.xavier_normal, stub)
    assert_not_done(check.he_normal, stub)
    assert_fails_with(check.he_normal, crashes, "KeyError", "fan_in", "shape=(400, 100)")


def test_the_variants_are_distinguishable_on_every_shape():
    """Each hint must be unambiguous: no two variants (nor a variant and the truth) within 2 × 3 %."""
    for n_in, n_out in checks._SHAPES:
        for truth, variants in ((math.sqrt(2 / (n_in + n_out)), checks._xavier_variants(n_in, n_out)),
                                (math.sqrt(2 / n_in), checks._he_variants(n_in, n_out))):
            stds = [truth] + [std for std, _ in variants]
            if n_in == n_out:       # square layers: LeCun = Xavier's 1/avg fan is expected to coincide
                continue
            for i, a in enumerate(stds):
                for b in stds[i + 1:]:
                    assert abs(a / b - 1) > 2 * checks.STD_TOLERANCE, (n_in, n_out, a, b)


# ---------------------------------------------------------------- activation_stds

def stds_reference(model, X):
    out, h = [], X
    for layer in model:
        h = layer(h)
        if E.is_activation(layer):
            out.append(np.std(h))
    return np.array(out)


def stds_variant(measure=np.std, keep=E.is_activation, chain=True, reverse=False):
    def activation_stds(model, X):
        out, h = [], X
        for layer in model:
            h = layer(h if chain else X)
            if keep(layer):
                out.append(measure(h))
        return out[::-1] if reverse else out
    return activation_stds


def test_activation_stds_passes_the_reference_and_close_variants():
    assert_passes(check.activation_stds, stds_reference)
    assert_passes(check.activation_stds, E.activation_stds)
    assert_passes(check.activation_stds, stds_variant(measure=lambda h: float(np.std(h, ddof=1))))
    assert_passes(check.activation_stds, stds_variant())                    # a list of floats is fine


@pytest.mark.parametrize("wrong,fragments", [
    (stds_variant(chain=False), ["got the input X", "h = layer(h)"]),
    (stds_variant(keep=lambda layer: not E.is_activation(layer)), ["Linear outputs", "pre-activations"]),
    (stds_variant(measure=np.var), ["variances", "square root"]),
    (stds_variant(measure=lambda h: np.std(h, axis=0).mean()), ["per-unit", "np.std(h)"]),
    (stds_variant(measure=lambda h: np.sqrt(np.mean(h * h))), ["root mean square"]),
    (stds_variant(measure=np.mean), ["means"]),
    (stds_variant(reverse=True), ["from the output to the input"]),
    (stds_variant(keep=lambda layer: True), ["one per layer of the model", "6 activation layers"]),
    (stds_variant(measure=lambda h: 2 * np.std(h)), ["expected", "np.std(h)"]),
    (lambda model, X: stds_reference(model, X)[:-1], ["5 values, expected 6"]),
    (lambda model, X: None, ["returned None"]),
    (lambda model, X: object(), ["not a list of numbers"]),
])
def test_activation_stds_names_the_mistake(wrong, fragments):
    assert_fails_with(check.activation_stds, wrong, *fragments)


def test_activation_stds_stub_and_crash():
    assert_not_done(check.activation_stds, stub)
    assert_fails_with(check.activation_stds, crashes, "KeyError", "sigmoid network")


def test_activation_stds_hint_cases_differ_from_the_truth():
    for _, model, X in checks._model_cases():
        want = E.activation_stds(model, X)
        for variant, _ in checks._std_variants(model, X):
            variant = np.asarray(variant)
            assert variant.shape != want.shape or not np.allclose(variant, want, rtol=5e-3)


# ---------------------------------------------------------------- flat_relu_gain

def test_flat_relu_gain_accepts_values_near_the_exact_gain():
    exact = E.flat_gain("relu", "xavier", 30, width=E.EXPLORER_WIDTH, batch=E.EXPLORER_BATCH, rng=E.EXPLORER_SEED)
    for value in (exact, 1.414, exact * 1.025, exact * 0.975):
        assert_verdict(run(check.flat_relu_gain, value), "passed", "√2", "He initialization")


@pytest.mark.parametrize("value,fragments", [
    (1.0, ["too small", "still shrinks"]),
    (1.35, ["too small"]),
    (1.5, ["too large", "still rises"]),
    (2.0, ["too large"]),
    ("1.41", ["as a number"]),
    (math.inf, ["as a number"]),
    (True, ["as a number"]),
    (-1.4, ["must be > 0"]),
])
def test_flat_relu_gain_explains_the_miss(value, fragments):
    assert_fails_with(check.flat_relu_gain, value, *fragments)


def test_flat_relu_gain_not_done():
    assert_not_done(check.flat_relu_gain, None)
