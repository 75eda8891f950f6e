"""RMSNorm, GroupNorm and DropPath: gradient checks (float64, random upstream gradient) and reference values.

Reference values follow the definitions of ``torch.nn.RMSNorm`` and
``torch.nn.GroupNorm`` (PyTorch's documentation), computed here directly from
those formulas with NumPy, not with the layers under test.
"""

import numpy as np
import pytest

from gdcourse import nn
from gdcourse.gradcheck import check_module

TOL = 1e-7  # worst relative error of central differences (step 1e-5) against backward, as in test_nn.py


def rmsnorm(g, c=4):
    m = nn.RMSNorm(c)
    m.weight.value = g.uniform(0.5, 2.0, c)
    return m


def groupnorm(g, groups=2, c=4, affine=True):
    m = nn.GroupNorm(groups, c, affine=affine)
    if affine:
        m.weight.value = g.uniform(0.5, 2.0, c)
        m.bias.value = g.standard_normal(c)
    return m


CASES = {
    "RMSNorm (N, C)": (rmsnorm, (5, 4)),
    "RMSNorm (N, T, C)": (rmsnorm, (2, 3, 4)),
    "GroupNorm (N, C), 2 groups of 4": (lambda g: groupnorm(g, groups=2, c=8), (5, 8)),
    "GroupNorm (N, C, L), 2 groups": (groupnorm, (3, 4, 5)),
    "GroupNorm, 1 group": (lambda g: groupnorm(g, groups=1), (3, 4, 2)),
    "GroupNorm, one group per channel": (lambda g: groupnorm(g, groups=4), (3, 4, 3)),
    "GroupNorm, no affine": (lambda g: groupnorm(g, affine=False), (3, 4, 2)),
    "DropPath in a residual branch": (
        lambda g: nn.Residual(nn.Sequential(nn.Linear(4, 4, rng=g), nn.Tanh(), nn.DropPath(0.5, rng=g))), (6, 4)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_match_central_differences(name):
    factory, shape = CASES[name]
    g = np.random.default_rng(0)
    module = factory(g)
    x = g.normal(size=shape) * 1.5 + 0.3
    report = check_module(module, x, rng=1, eps=1e-5)
    assert report.worst <= TOL, str(report)


def test_rmsnorm_matches_the_torch_definition_and_ignores_scale_not_shift():
    g = np.random.default_rng(3)
    m = rmsnorm(g, 6)
    x = g.normal(size=(4, 6)) + 2.0
    expected = x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-6) * m.weight.value
    np.testing.assert_allclose(m(x), expected, rtol=1e-12)
    np.testing.assert_allclose(m(7.0 * x), m(x), rtol=1e-6)  # re-scaling invariance, up to eps/mean(x²) ≈ 1e-7
    assert np.abs(m(x + 3.0) - m(x)).max() > 0.1  # no re-centering invariance
    assert nn.RMSNorm(3).weight.value.tolist() == [1.0, 1.0, 1.0]
    assert nn.RMSNorm(3).eps == 1e-6


def test_groupnorm_matches_the_torch_definition():
    g = np.random.default_rng(4)
    m = groupnorm(g, groups=3, c=6)
    x = g.normal(size=(2, 6, 5)) * 3 + 1
    expected = np.empty_like(x)
    for n in range(2):
        for k in range(3):
            chunk = x[n, 2 * k:2 * k + 2]  # channels 2k, 2k+1 and every position
            expected[n, 2 * k:2 * k + 2] = (chunk - chunk.mean()) / np.sqrt(chunk.var() + 1e-5)
    expected = expected * m.weight.value[None, :, None] + m.bias.value[None, :, None]
    np.testing.assert_allclose(m(x), expected, rtol=1e-10)


def test_groupnorm_one_group_per_channel_on_2d_input_is_constant():
    # With (N, C) input and G = C each group is one number: x̂ = 0, y = bias (a known degenerate case).
    m = nn.GroupNorm(3, 3)
    m.bias.value = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(m(np.random.default_rng(0).normal(size=(4, 3))), [[1.0, 2.0, 3.0]] * 4)


def test_groupnorm_is_independent_of_the_batch():
    g = np.random.default_rng(5)
    m = groupnorm(g)
    x = g.normal(size=(6, 4, 3))
    np.testing.assert_allclose(m(x)[:1], m(x[:1]), rtol=1e-12)


def test_groupnorm_rejects_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"\(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(np.zeros((2, 3)))


def test_droppath_drops_whole_samples_with_inverted_scaling():
    m = nn.DropPath(0.25, rng=np.random.default_rng(0))
    x = np.ones((4000, 3, 2))
    y = m(x)
    per_sample = y.reshape(4000, -1)
    assert set(np.unique(per_sample)) <= {0.0, 1 / 0.75}
    assert (per_sample.min(axis=1) == per_sample.max(axis=1)).all()  # one decision per sample
    dropped = (per_sample[:, 0] == 0).mean()
    assert 0.22 < dropped < 0.28  # Binomial(4000, 0.25): sd 0.007, so ±4 sd
    m.eval()
    assert m(x) is not None and np.array_equal(m(x), x)


def test_droppath_in_a_residual_branch_makes_dropped_samples_skip_the_block():
    g = np.random.default_rng(1)
    block = nn.Sequential(nn.Linear(3, 3, rng=g), nn.DropPath(0.5, rng=np.random.default_rng(2)))
    res = nn.Residual(block)
    x = g.normal(size=(50, 3))
    y = res(x)
    skipped = np.all(y == x, axis=1)
    assert 10 < skipped.sum() < 40  # Binomial(50, 0.5)
    assert not np.any(np.all(np.isclose(y[~skipped], x[~skipped]), axis=1))


def test_float32_keeps_dtype():
    x = np.ones((2, 4, 3), dtype=np.float32)
    assert nn.RMSNorm(3, dtype=np.float32)(x).dtype == np.float32
    assert nn.GroupNorm(2, 4, dtype=np.float32)(x).dtype == np.float32
    assert nn.DropPath(0.5, rng=0)(x).dtype == np.float32
