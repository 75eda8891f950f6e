"""Diagnostics: per-layer gradient norms, activation statistics, dead units."""

import numpy as np
import pytest

from gdcourse import diagnostics as D
from gdcourse import losses, nn

RNG = np.random.default_rng(0)


def test_gradient_norms_match_a_manual_backward_and_leave_state_alone():
    model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3, rng=1))
    X, y = RNG.normal(size=(16, 4)), RNG.integers(0, 3, size=16)
    for p in model.parameters():
        p.grad = RNG.normal(size=p.shape)  # pretend a half-done accumulation is in progress
    grads_before = [p.grad.copy() for p in model.parameters()]
    running_before = model[1].running_mean.copy()
    norms = D.gradient_norms(model, losses.CrossEntropyLoss(), X, y)
    assert [(i, name) for i, name, _ in norms] == [(0, "Linear"), (1, "BatchNorm1d"), (3, "Linear")]
    for p, g in zip(model.parameters(), grads_before, strict=True):
        np.testing.assert_array_equal(p.grad, g)
    np.testing.assert_array_equal(model[1].running_mean, running_before)
    model.zero_grad()
    loss = losses.CrossEntropyLoss()
    loss.forward(model(X), y)
    model.backward(loss.backward())
    assert norms[0][2] == pytest.approx(np.linalg.norm(model[0].weight.grad))
    assert norms[2][2] == pytest.approx(np.linalg.norm(model[3].weight.grad))


def test_gradients_vanish_towards_the_input_of_a_deep_sigmoid_network():
    layers = []
    for i in range(10):
        layers += [nn.Linear(32, 32, init="xavier_normal", rng=i), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 2, rng=99))
    X, y = RNG.normal(size=(64, 32)), RNG.integers(0, 2, size=64)
    norms = [n for _, _, n in D.gradient_norms(model, losses.CrossEntropyLoss(), X, y)]
    # each sigmoid layer multiplies the backward signal by at most 1/4 (times the weights)
    assert norms[0] < 1e-3 * norms[-2]


def test_dead_units_from_a_negative_bias():
    model = nn.Sequential(nn.Linear(5, 20, rng=0), nn.ReLU(), nn.Linear(20, 2, rng=1))
    X = RNG.normal(size=(500, 5))
    assert D.dead_units(model, X)[1].size == 0  # He init, zero bias: every unit fires on some input
    model[0].bias.value[:7] = -100.0
    np.testing.assert_array_equal(D.dead_units(model, X)[1], np.arange(7))
    stats = D.activation_stats(model, X)
    assert stats[0].layer == "ReLU" and stats[0].dead == pytest.approx(7 / 20)


def test_saturation_of_tanh_with_large_weights():
    X = RNG.normal(size=(200, 10))
    small = nn.Sequential(nn.Linear(10, 50, init="xavier_normal", rng=0), nn.Tanh())
    big = nn.Sequential(nn.Linear(10, 50, init=lambda s, rng, dtype: 20 * rng.normal(size=s), rng=0), nn.Tanh())
    assert D.activation_stats(small, X)[0].saturated < 0.05
    assert D.activation_stats(big, X)[0].saturated > 0.8
    s = D.activation_stats(small, X)[0]
    h = small(X)
    assert s.mean == pytest.approx(h.mean()) and s.std == pytest.approx(h.std())


def test_bad_input():
    with pytest.raises(TypeError, match="model: expected a gdcourse.nn.Sequential, got Linear"):
        D.dead_units(nn.Linear(2, 2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X: expected a floating-point array"):
        D.dead_units(nn.Sequential(nn.Linear(2, 2)), np.zeros((3, 2), dtype=int))
