"""Activation recomputation: the same gradients as the plain model, and the √L memory trade measured."""

import numpy as np
import pytest

from gdcourse import nn
from gdcourse.gradcheck import check_module


def stack(rng, depth=8, width=6, dropout=0.0, batchnorm=False):
    layers = []
    for _ in range(depth):
        layers.append(nn.Linear(width, width, rng=rng))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Tanh())
        if dropout:
            layers.append(nn.Dropout(dropout, rng=rng))
    return nn.Sequential(*layers)


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_gradients_and_running_stats_equal_the_plain_model(segments):
    x = np.random.default_rng(9).normal(size=(10, 6))
    dy = np.random.default_rng(8).normal(size=(10, 6))
    plain = stack(np.random.default_rng(0), depth=4, dropout=0.3, batchnorm=True)
    twin = stack(np.random.default_rng(0), depth=4, dropout=0.3, batchnorm=True)
    wrapped = nn.Checkpoint(twin, segments)
    np.testing.assert_array_equal(wrapped(x), plain(x))
    dx_plain, dx_wrapped = plain.backward(dy), wrapped.backward(dy)
    np.testing.assert_allclose(dx_wrapped, dx_plain, rtol=1e-12, atol=1e-15)
    for p, q in zip(plain.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-12, atol=1e-15)
    for (name, a), (_, b) in zip(plain.named_buffers(), twin.named_buffers(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)  # updated once per step, not once per rerun


def test_gradient_check_with_a_random_upstream_gradient():
    module = nn.Checkpoint(stack(np.random.default_rng(1), depth=3), 2)
    x = np.random.default_rng(2).normal(size=(4, 6))
    assert check_module(module, x, rng=3).worst <= 1e-7


def test_every_layer_runs_forward_twice():
    model = stack(np.random.default_rng(0), depth=5)
    wrapped = nn.Checkpoint(model, 3)
    wrapped.backward(np.ones_like(wrapped(np.ones((2, 6)))))
    assert wrapped.layer_forwards == 2 * len(model)


def test_peak_memory_follows_s_plus_l_over_s():
    # 16 Linear layers of one width: each stores its input, one (N, W) array a layer.
    depth, n, width = 16, 32, 64
    a = n * width * 8
    x = np.random.default_rng(0).normal(size=(n, width))
    plain = nn.Sequential(*[nn.Linear(width, width, rng=i) for i in range(depth)])
    plain(x)
    assert nn.cached_bytes(plain) == depth * a
    peaks = {}
    for segments in (1, 2, 4, 8, 16):
        wrapped = nn.Checkpoint(nn.Sequential(*[nn.Linear(width, width, rng=i) for i in range(depth)]), segments)
        wrapped.backward(np.ones_like(wrapped(x)))
        peaks[segments] = wrapped.peak_bytes / a
    # the segment inputs (S arrays) plus one segment's stored inputs (L/S arrays, the first of them shared)
    assert peaks == {s: s + depth / s - 1 for s in (1, 2, 4, 8, 16)}
    assert min(peaks, key=peaks.get) == 4  # √16
    assert peaks[4] <= 0.5 * depth


def test_rejects_more_segments_than_layers():
    with pytest.raises(ValueError, match="segments"):
        nn.Checkpoint(nn.Sequential(nn.Tanh()), 2)
    with pytest.raises(TypeError, match="Sequential"):
        nn.Checkpoint(nn.Tanh(), 1)
