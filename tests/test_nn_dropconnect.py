"""DropConnectLinear (Wan et al. 2013): gradient checks (float64, random upstream gradient), the masks it draws,
its evaluation mode and argument validation. Expected outputs are computed here from the formula with masks
replayed from the same seed, not by the layer."""

import numpy as np
import pytest

from gdcourse import nn
from gdcourse.gradcheck import check_module

TOL = 1e-7  # worst relative error of central differences (step 1e-5) against backward, as in test_nn_modern.py


def layer(mask, p=0.4, bias=True, seed=1):
    m = nn.DropConnectLinear(5, 4, p=p, mask=mask, bias=bias, rng=seed)
    if bias:
        m.bias.value = np.random.default_rng(9).normal(size=4)
    return m


@pytest.mark.parametrize("mask", ["sample", "batch"])
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_central_differences(mask, bias):
    x = np.random.default_rng(0).normal(size=(6, 5)) * 1.5 + 0.3
    report = check_module(layer(mask, bias=bias), x, rng=2, eps=1e-5)
    assert report.worst <= TOL, str(report)
    in_a_network = nn.Sequential(nn.Linear(5, 5, rng=3), nn.Tanh(), layer(mask))
    report = check_module(in_a_network, x, rng=4, eps=1e-5)
    assert report.worst <= TOL, str(report)


def test_forward_is_the_formula_with_replayed_masks():
    g = np.random.default_rng(0)
    x = g.normal(size=(3, 5))
    p = 0.4
    for mask in ("sample", "batch"):
        m = layer(mask, p=p, seed=7)
        W, b = m.weight.value.copy(), m.bias.value.copy()
        replay = np.random.default_rng(7)
        replay.standard_normal(W.shape)                            # the He initialization drew from it first
        shape = (3, 5, 4) if mask == "sample" else (5, 4)
        keep = (replay.random(shape) >= p) / (1 - p)
        expected = np.stack([x[n] @ (keep[n] * W) for n in range(3)]) if mask == "sample" else x @ (keep * W)
        np.testing.assert_allclose(m(x), expected + b, atol=1e-12)


def test_masks_drop_single_weights_per_sample_or_per_batch():
    x = np.ones((2000, 5))
    for mask in ("sample", "batch"):
        m = nn.DropConnectLinear(5, 4, p=0.3, mask=mask, bias=False, rng=0,
                                 init=lambda shape, rng, dtype: np.ones(shape, dtype))
        y = m(x)                                                   # y[n, j] = Σ_i keep[n, i, j] / 0.7
        kept = y * 0.7
        np.testing.assert_allclose(kept, np.round(kept), atol=1e-9)  # whole weights kept or dropped
        if mask == "sample":
            assert np.std(y[:, 0]) > 0.5 and abs(y.mean() - 5.0) < 0.1   # E[y] = xW, every sample its own mask
            assert abs(np.corrcoef(y[:, 0], y[:, 1])[0, 1]) < 0.1        # outputs drop independently
        else:
            assert np.all(y == y[0])                               # one mask for the whole batch


def test_eval_uses_the_mean_weights_and_p_zero_is_linear():
    x = np.random.default_rng(1).normal(size=(4, 5))
    m = layer("sample")
    plain = x @ m.weight.value + m.bias.value
    m.eval()
    np.testing.assert_allclose(m(x), plain, atol=1e-12)
    zero = layer("batch", p=0.0)
    np.testing.assert_allclose(zero(x), x @ zero.weight.value + zero.bias.value, atol=1e-12)
    assert "p=0.4" in repr(layer("sample")) and "mask='sample'" in repr(layer("sample"))


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="p: expected a number in \\[0, 1\\)"):
        nn.DropConnectLinear(3, 2, p=1.0)
    with pytest.raises(ValueError, match="mask: expected one of"):
        nn.DropConnectLinear(3, 2, mask="unit")
    with pytest.raises(ValueError, match="in_features"):
        nn.DropConnectLinear(0, 2)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        nn.DropConnectLinear(3, 2, rng=0)(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="floating-point"):
        nn.DropConnectLinear(3, 2, rng=0)(np.zeros((4, 3), dtype=int))
