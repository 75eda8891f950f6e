"""One-cycle and cosine-with-warm-restarts schedules against values worked by hand from PyTorch's definitions."""

import math

import numpy as np
import pytest

from gdcourse.schedules import CosineWarmRestarts, OneCycle


def test_one_cycle_by_hand():
    # max_lr 1, 10 steps, rise over 30 %: start 1/25 = 0.04, end 0.04/1e4 = 4e-6; the rise ends at step 2.
    s = OneCycle(1.0, total_steps=10, pct_start=0.3)
    assert s(0) == pytest.approx(0.04)
    assert s(1) == pytest.approx(1 - 0.96 * 0.5)          # half-way up the half cosine: 0.52
    assert s(2) == pytest.approx(1.0)                       # the peak
    assert s(9) == pytest.approx(4e-6)
    assert s(20) == pytest.approx(4e-6)                     # flat after the last step
    # step 4 is 2/7 of the way down: 4e-6 + ½ (1 − 4e-6)(1 + cos(2π/7))
    assert s(4) == pytest.approx(4e-6 + 0.5 * (1 - 4e-6) * (1 + math.cos(2 * math.pi / 7)))


def test_one_cycle_rises_then_falls_monotonically():
    values = OneCycle(0.5, total_steps=100).values(100)
    peak = int(np.argmax(values))
    assert peak == 29
    assert np.all(np.diff(values[:peak + 1]) > 0) and np.all(np.diff(values[peak:]) < 0)
    np.testing.assert_allclose(values, [OneCycle(0.5, total_steps=100)(t) for t in range(100)])


def test_one_cycle_needs_a_rise_and_a_fall():
    with pytest.raises(ValueError, match="pct_start"):
        OneCycle(1.0, total_steps=3, pct_start=0.2)  # the rise would end at step -0.4


def test_warm_restarts_with_growing_cycles_by_hand():
    # period 2, mult 2: cycles start at 0, 2, 6, 14 and last 2, 4, 8, 16 steps.
    s = CosineWarmRestarts(1.0, period=2, mult=2)
    expected = {0: 1.0, 1: 0.5, 2: 1.0, 3: (1 + math.cos(math.pi / 4)) / 2, 4: 0.5,
                5: (1 + math.cos(3 * math.pi / 4)) / 2, 6: 1.0, 10: 0.5, 14: 1.0, 22: 0.5}
    for t, lr in expected.items():
        assert s(t) == pytest.approx(lr), t
    np.testing.assert_allclose(s.values(np.array(list(expected))), list(expected.values()))


def test_warm_restarts_constant_period_and_floor():
    s = CosineWarmRestarts(0.1, period=4, lr_min=0.02)
    values = s.values(12)
    np.testing.assert_allclose(values[:4], values[4:8])
    assert values[0] == pytest.approx(0.1) and values[2] == pytest.approx(0.06)
    restarts = np.flatnonzero(np.diff(values) > 0) + 1
    assert restarts.tolist() == [4, 8]


def test_warm_restarts_boundaries_survive_rounding_for_many_cycles():
    s = CosineWarmRestarts(1.0, period=3, mult=3)
    starts = [s.cycle_start(c) for c in range(12)]
    np.testing.assert_allclose(s.values(np.array(starts)), 1.0)
    np.testing.assert_allclose(s.values(np.array(starts[1:])) > s.values(np.array(starts[1:]) - 1), True)
