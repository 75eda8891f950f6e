"""Bad input to the schedules and to ``gdcourse.data``: a clear error naming the argument, no silent result."""

import re

import numpy as np
import pytest

from gdcourse import data
from gdcourse import schedules as S

pytestmark = pytest.mark.filterwarnings("error")


# ------------------------------------------------------------------ schedules

@pytest.mark.parametrize(("make", "message"), [
    (lambda: S.LinearWarmup(S.CosineDecay(0.1, total_steps=10), warmup_steps=100),
     "warmup_steps: expected fewer steps than the wrapped schedule's total_steps=10"),
    (lambda: S.LinearWarmup(S.CosineDecay(0.1, total_steps=10), warmup_steps=10),
     "warmup_steps: expected fewer steps than the wrapped schedule's total_steps=10"),
    (lambda: S.StepDecay(0.1, 0), "step_size: expected an int >= 1, got 0"),
    (lambda: S.StepDecay(0.1, True), "step_size: expected an int, got True (bool)"),
    (lambda: S.StepDecay(0.1, 3, gamma=1.5), "gamma: expected a number in (0, 1], got 1.5"),
    (lambda: S.ExponentialDecay(0.1, 0), "gamma: expected a number in (0, 1], got 0"),
    (lambda: S.ExponentialDecay(float("nan"), 0.5), "lr0: expected a finite real number, got nan"),
    (lambda: S.Constant(True), "lr: expected a finite real number, got True"),
    (lambda: S.CosineDecay(0.1, 10, lr_min=0.2), "lr_min: expected a value <= lr0=0.1, got 0.2"),
    (lambda: S.CosineDecay(0.1, -5), "total_steps: expected an int >= 1, got -5"),
    (lambda: S.InverseTimeDecay(0.1, -1), "decay_rate: expected a number >= 0, got -1"),
    (lambda: S.ReduceLROnPlateau(0.1, mode="avg"), "mode: expected one of 'min', 'max', got 'avg'"),
    (lambda: S.ReduceLROnPlateau(0.1, patience=-1), "patience: expected an int >= 0, got -1"),
    (lambda: S.ReduceLROnPlateau(0.1, factor=1), "factor: expected a number in (0, 1), got 1"),
    (lambda: S.ReduceLROnPlateau(0.1, min_lr=1), "min_lr: expected a value <= lr0=0.1, got 1.0"),
    (lambda: S.LinearWarmup(lambda step: float("nan"), 3)(1),
     "schedule: expected a finite rate >= 0 at step 1, got nan"),
    (lambda: S.LinearWarmup(lambda step: "0.1", 3).values(2),
     "schedule: expected a finite rate >= 0 at step 0, got '0.1'"),
    (lambda: S.LinearWarmup(lambda step: -0.1, 3)(0), "schedule: expected a finite rate >= 0 at step 0, got -0.1"),
    (lambda: S.Constant(0.1)(2.0), "step: expected an int, got 2.0 (float)"),
    (lambda: S.Constant(0.1).values(np.array([1.5])), "steps: expected an int count or an array of int steps"),
])
def test_schedules_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_a_warmup_shorter_than_the_cosine_keeps_the_shared_clock():
    """Documented composition: lr(t) = cosine(t) · t / warmup for t < warmup, cosine(t) after."""
    s = S.LinearWarmup(S.CosineDecay(1.0, total_steps=8), warmup_steps=4)
    cosine = 0.5 * (1 + np.cos(np.pi * np.arange(10) / 8))
    ramp = np.minimum(np.arange(10) / 4, 1.0)
    np.testing.assert_allclose(s.values(10), np.where(np.arange(10) < 8, cosine * ramp, 0.0), atol=1e-15)


def test_reduce_on_plateau_accepts_a_numpy_scalar_metric_and_counts_nan_as_a_bad_epoch():
    s = S.ReduceLROnPlateau(1.0, factor=0.5, patience=1)
    assert s.observe(np.array(2.0)) == 1.0  # a 0-d array, as a NumPy loss may be
    assert s.observe(float("nan")) == 1.0  # first bad epoch
    assert s.observe(float("nan")) == 0.5  # second bad epoch > patience: cut
    with pytest.raises(TypeError, match=r"metric: expected a real number, got array\(\[1., 2.\]\)"):
        s.observe(np.array([1.0, 2.0]))


# ------------------------------------------------------------------ data

X53, Y5 = np.ones((5, 3)), np.zeros(5)
X20 = np.random.default_rng(0).standard_normal((20, 3))
Y20 = np.arange(20) % 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: list(data.batches(X53, Y5, batch_size=10, drop_last=True)),
     "batch_size: expected at most the 5 samples with drop_last=True (else the only, partial batch is dropped "
     "and the epoch is empty), got 10"),
    (lambda: data.batch_indices(5, 6, drop_last=True), "batch_size: expected at most the 5 samples"),
    (lambda: list(data.batches(X53, np.zeros(4))), "X and y: expected the same number of samples, got 5 and 4"),
    (lambda: list(data.batches(np.zeros((0, 3)))), "X: expected a non-empty array, got shape (0, 3)"),
    (lambda: data.train_val_split(X20, Y20, 1.0), "val_fraction: expected a number in (0, 1), got 1.0"),
    (lambda: data.train_val_split(X20, Y20, -0.1), "val_fraction: expected a number in (0, 1), got -0.1"),
    (lambda: data.train_val_split(X20, Y20[:5]), "X and y: expected the same number of samples, got 20 and 5"),
    (lambda: data.train_val_split(np.where(X20 > 1, np.nan, X20), Y20), "X: expected finite values, got"),
    (lambda: data.train_val_split(X20, np.r_[np.zeros(19, int), 1], stratify=True),
     "y: stratify=True needs at least 2 samples of every class (one for each part), got 1 sample of class 1"),
    (lambda: data.train_val_split(X20, np.arange(20) % 5, 0.1, stratify=True),
     "val_fraction: stratify=True needs at least one sample of each of the 5 classes in both parts, got 18 "
     "training and 2 validation samples"),
    (lambda: data.load_digits(0.5, 0.5), "test_fraction + val_fraction: expected < 0.9"),
    (lambda: data.load_digits(0.25, 0.0001),
     "val_fraction: expected at least 10/1797 (one sample of each of the 10 classes in a stratified split), "
     "got 0.0001 (0 samples)"),
    (lambda: data.load_digits(0.001), "test_fraction: expected at least 10/1797"),
    (lambda: data.make_moons(0), "n: expected an int >= 1, got 0"),
    (lambda: data.make_moons(10, float("nan")), "noise: expected a finite real number, got nan"),
    (lambda: data.make_circles(10, factor=1), "factor: expected a number in (0, 1), got 1"),
    (lambda: data.make_spirals(10, classes=1), "classes: expected 2 <= classes <= n (n=10), got 1"),
    (lambda: data.make_sparse_features(10, 3, 0), "density: expected a number in (0, 1], got 0"),
    (lambda: data.one_hot(np.array([0, 3]), 3), "y: expected labels in [0, 2] for 3 classes, got values from 0 to 3"),
    (lambda: data.one_hot(np.array([1.0]), 3), "y: expected integer class labels, got dtype float64"),
    (lambda: data.standardize(X20, np.ones((3, 2))), "others[0]: expected 3 features like X_train, got 2"),
    (lambda: data.standardize(X20, np.full((3, 3), np.nan)), "others[0]: expected finite values, got 9 NaN/inf"),
])
def test_data_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_drop_last_still_drops_only_the_partial_batch():
    sizes = [len(xb) for xb, _ in data.batches(X53, Y5, batch_size=2, drop_last=True, rng=0)]
    assert sizes == [2, 2]
    assert [len(xb) for xb, _ in data.batches(X53, Y5, batch_size=5, drop_last=True, rng=0)] == [5]
