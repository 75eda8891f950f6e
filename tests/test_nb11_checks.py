"""The checks of notebook 11 pass a right answer and fail each known slip with a message that names it."""

import numpy as np
import pytest

from gdcourse import check


def spacing(w):
    return 2.0 ** (np.floor(np.log2(abs(w))) - 10)


def test_float16_spacing_accepts_the_formula_and_names_slips():
    assert check.float16_spacing(spacing).passed
    assert "half the spacing" in check.float16_spacing(lambda w: spacing(w) / 2).message
    assert "float32" in check.float16_spacing(lambda w: 2.0 ** (np.floor(np.log2(abs(w))) - 23)).message
    assert "distance" in check.float16_spacing(lambda w: np.sign(w) * spacing(w)).message
    assert check.float16_spacing(lambda w: 1e-3).status == "failed"
    assert check.float16_spacing(lambda w: [spacing(w)]).status == "failed"


def right_scaler(scale, found_inf, good, interval):
    if found_inf:
        return scale / 2, 0
    good += 1
    return (scale * 2, 0) if good == interval else (scale, good)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda s, f, g, i: (s / 2, g) if f else right_scaler(s, f, g, i), "restarts the count"),
    (lambda s, f, g, i: (s * 2, 0) if f else right_scaler(s, f, g, i), "scale"),
    (lambda s, f, g, i: (s / 2, 0) if f else (s * 2, 0), "good_steps"),             # grows every step
    (lambda s, f, g, i: (s / 2, 0) if f else ((s * 2, 0) if g == i else (s, g + 1)), "expected"),  # one late
    (lambda s, f, g, i: s, "pair"),
])
def test_update_loss_scale(wrong, phrase):
    assert check.update_loss_scale(right_scaler).passed
    result = check.update_loss_scale(wrong)
    assert result.status == "failed" and phrase in result.message, result.message


def test_combine_micro_batches():
    assert check.combine_micro_batches(lambda g, n: sum(a * b for a, b in zip(g, n, strict=True)) / sum(n)).passed
    assert "equal weights" in check.combine_micro_batches(lambda g, n: np.mean(g, axis=0)).message
    assert "added" in check.combine_micro_batches(lambda g, n: np.sum(g, axis=0)).message
    assert check.combine_micro_batches(lambda g, n: None).status == "failed"


def test_noise_scale():
    def right(a, b, bs, bb):
        return ((a - b) / (1 / bs - 1 / bb)) / ((bb * b - bs * a) / (bb - bs))

    assert check.noise_scale(right).passed
    assert "tr(Σ)/‖G‖²" in check.noise_scale(lambda *args: 1 / right(*args)).message
    assert check.noise_scale(lambda a, b, bs, bb: a / b).status == "failed"


def test_unsolved_stubs_are_not_done():
    def stub(*args):
        raise NotImplementedError

    for name in ("float16_spacing", "update_loss_scale", "combine_micro_batches", "noise_scale"):
        assert getattr(check, name)(stub).status == "not done"
