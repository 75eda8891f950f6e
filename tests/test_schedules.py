"""Learning-rate schedules: values at chosen steps worked out by hand."""

import math
import re

import numpy as np
import pytest

from gdcourse.schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LinearWarmup,
    ReduceLROnPlateau,
    StepDecay,
)


def test_constant():
    s = Constant(0.1)
    assert s(0) == 0.1 and s(10_000) == 0.1
    np.testing.assert_array_equal(s.values(3), [0.1, 0.1, 0.1])
    assert repr(s) == "Constant(lr=0.1)"


def test_step_decay_changes_exactly_at_multiples_of_step_size():
    s = StepDecay(1.0, step_size=3, gamma=0.5)
    assert [s(t) for t in (0, 2, 3, 5, 6)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(s.values(7), [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    assert repr(s) == "StepDecay(lr0=1.0, step_size=3, gamma=0.5)"


def test_exponential_decay():
    s = ExponentialDecay(2.0, gamma=0.5)
    np.testing.assert_allclose(s.values(4), [2.0, 1.0, 0.5, 0.25])
    assert s(10) == pytest.approx(2.0 / 1024)


def test_inverse_time_decay():
    s = InverseTimeDecay(1.0, decay_rate=0.5)   # 1 / (1 + t/2)
    np.testing.assert_allclose(s.values(4), [1.0, 2 / 3, 0.5, 0.4])


def test_inverse_time_decay_t0_t1_form():
    s = InverseTimeDecay.from_t0_t1(5, 50)     # 5 / (t + 50)
    assert s(0) == pytest.approx(0.1, rel=1e-12)
    assert s(50) == pytest.approx(0.05, rel=1e-12)
    assert s(150) == pytest.approx(0.025, rel=1e-12)
    np.testing.assert_allclose(s.values(np.array([0, 10, 450])), [0.1, 5 / 60, 0.01], rtol=1e-12)


def test_cosine_decay_ends_at_lr_min_and_stays_there():
    s = CosineDecay(1.0, total_steps=4)
    assert s(0) == 1.0
    assert s(1) == pytest.approx(0.5 * (1 + math.sqrt(2) / 2))   # cos(π/4) = √2/2
    assert s(2) == pytest.approx(0.5)
    assert s(4) == pytest.approx(0.0, abs=1e-15)
    assert s(100) == pytest.approx(0.0, abs=1e-15)
    floor = CosineDecay(1.0, total_steps=4, lr_min=0.1)
    np.testing.assert_allclose(floor.values(np.array([0, 2, 4, 5, 1000])), [1.0, 0.55, 0.1, 0.1, 0.1])


def test_linear_warmup_ramps_from_zero():
    s = LinearWarmup(Constant(1.0), warmup_steps=4)
    np.testing.assert_allclose(s.values(6), [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


def test_linear_warmup_multiplies_the_wrapped_schedule():
    s = LinearWarmup(StepDecay(1.0, step_size=2, gamma=0.1), warmup_steps=4, start_factor=0.5)
    # factor 0.5 + 0.5·t/4 = 0.5, 0.625, 0.75, 0.875, then 1; StepDecay 1, 1, 0.1, 0.1, 0.01
    np.testing.assert_allclose(s.values(5), [0.5, 0.625, 0.075, 0.0875, 0.01])
    assert s(3) == pytest.approx(0.0875)


def test_linear_warmup_wraps_a_plain_callable():
    s = LinearWarmup(lambda step: 0.2 / (step + 1), warmup_steps=2)
    np.testing.assert_allclose(s.values(4), [0.0, 0.05, 0.2 / 3, 0.05])


def test_vectorized_values_match_single_calls():
    schedules = [
        StepDecay(0.3, 7, 0.5), ExponentialDecay(0.3, 0.97), InverseTimeDecay(0.3, 0.01),
        CosineDecay(0.3, 50, 0.01), LinearWarmup(CosineDecay(0.3, 50), 10, 0.1),
    ]
    for s in schedules:
        np.testing.assert_allclose(s.values(60), [s(t) for t in range(60)], rtol=1e-14, err_msg=repr(s))


def observe_all(schedule, metrics):
    return [schedule.observe(m) for m in metrics]


def test_plateau_patience_cooldown_and_min_lr():
    s = ReduceLROnPlateau(1.0, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    expected = [
        1.0, 1.0,            # improvements
        1.0, 1.0,            # bad epochs 1 and 2: within patience
        0.5,                 # bad epoch 3 > patience: cut, cooldown of 1 epoch starts
        0.5,                 # cooldown: not counted
        0.5, 0.5, 0.25,      # bad 1, 2, 3: cut again
        0.25,                # 3 < 4: an improvement (and the cooldown ends)
        0.25, 0.25, 0.2,     # bad 1, 2, 3: 0.125 is clipped to min_lr
        0.2, 0.2, 0.2, 0.2,  # cooldown, then bad 1, 2, 3: already at min_lr
    ]
    assert observe_all(s, metrics) == expected
    assert s.best == 3 and s(0) == 0.2 and s(12345) == 0.2


def test_plateau_relative_threshold_ignores_tiny_improvements():
    s = ReduceLROnPlateau(1.0, patience=0, threshold=1e-2)  # needs metric < best · 0.99
    assert observe_all(s, [1.0, 0.995]) == [1.0, 0.1]
    s = ReduceLROnPlateau(1.0, patience=0, threshold=1e-2)
    assert observe_all(s, [1.0, 0.98]) == [1.0, 1.0]


def test_plateau_max_mode_and_absolute_threshold():
    s = ReduceLROnPlateau(0.8, factor=0.5, patience=1, mode="max", threshold_mode="abs", threshold=0.05)
    # accuracy: 0.5 best; 0.52 is not > 0.55 (bad 1); 0.6 is (reset); 0.62, 0.64 are bad 1, 2 → cut
    assert observe_all(s, [0.5, 0.52, 0.6, 0.62, 0.64]) == [0.8, 0.8, 0.8, 0.8, 0.4]


def test_plateau_nan_metric_is_not_an_improvement():
    s = ReduceLROnPlateau(1.0, patience=0)
    assert observe_all(s, [1.0, float("nan")]) == [1.0, pytest.approx(0.1)]


def test_plateau_values_are_the_current_rate():
    s = ReduceLROnPlateau(1.0, patience=0)
    s.observe(1.0)
    s.observe(2.0)
    np.testing.assert_allclose(s.values(3), [0.1, 0.1, 0.1])


@pytest.mark.parametrize("make, message", [
    (lambda: Constant(-0.1), "lr: expected a number >= 0, got -0.1"),
    (lambda: StepDecay(0.1, step_size=0), "step_size: expected an int >= 1, got 0"),
    (lambda: StepDecay(0.1, step_size=2.5), "step_size: expected an int, got 2.5"),
    (lambda: StepDecay(0.1, 10, gamma=1.5), "gamma: expected a number in (0, 1], got 1.5"),
    (lambda: ExponentialDecay(0.1, gamma=0.0), "gamma: expected a number in (0, 1], got 0.0"),
    (lambda: ExponentialDecay(0.0, gamma=0.5), "lr0: expected a number > 0, got 0.0"),
    (lambda: InverseTimeDecay(0.1, decay_rate=-1.0), "decay_rate: expected a number >= 0, got -1.0"),
    (lambda: InverseTimeDecay.from_t0_t1(5, 0), "t1: expected a number > 0, got 0"),
    (lambda: CosineDecay(0.1, total_steps=0), "total_steps: expected an int >= 1, got 0"),
    (lambda: CosineDecay(0.1, 10, lr_min=0.2), "lr_min: expected a value <= lr0=0.1, got 0.2"),
    (lambda: LinearWarmup(Constant(0.1), warmup_steps=0), "warmup_steps: expected an int >= 1, got 0"),
    (lambda: LinearWarmup(Constant(0.1), 5, start_factor=1.5),
     "start_factor: expected a number in [0, 1], got 1.5"),
    (lambda: ReduceLROnPlateau(0.1, factor=1.0), "factor: expected a number in (0, 1), got 1.0"),
    (lambda: ReduceLROnPlateau(0.1, patience=-1), "patience: expected an int >= 0, got -1"),
    (lambda: ReduceLROnPlateau(0.1, cooldown=-2), "cooldown: expected an int >= 0, got -2"),
    (lambda: ReduceLROnPlateau(0.1, mode="avg"), "mode: expected one of 'min', 'max', got 'avg'"),
    (lambda: ReduceLROnPlateau(0.1, threshold_mode="pct"),
     "threshold_mode: expected one of 'rel', 'abs', got 'pct'"),
    (lambda: ReduceLROnPlateau(0.1, threshold=-1e-4), "threshold: expected a number >= 0, got -0.0001"),
    (lambda: ReduceLROnPlateau(0.1, min_lr=0.5), "min_lr: expected a value <= lr0=0.1, got 0.5"),
    (lambda: Constant(0.1)(-1), "step: expected an int >= 0, got -1"),
    (lambda: Constant(0.1)(1.5), "step: expected an int, got 1.5"),
    (lambda: Constant(0.1).values(np.array([0.5])), "steps: expected an int count or an array of int steps"),
    (lambda: Constant(0.1).values(np.array([0, -3])), "steps: expected steps >= 0, got a minimum of -3"),
])
def test_bad_arguments_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_bad_types_raise_type_error():
    message = "schedule: expected a Schedule or a callable step -> lr, got float"
    with pytest.raises(TypeError, match=re.escape(message)):
        LinearWarmup(0.1, 5)
    with pytest.raises(TypeError, match=re.escape("metric: expected a real number, got 'low' (str)")):
        ReduceLROnPlateau(0.1).observe("low")
