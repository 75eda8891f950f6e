"""gdcourse.init: every initializer draws from the distribution its paper publishes.

Expected bounds and variances are written here from the papers, never read from gdcourse:

=========== =========================== ============================
scheme      uniform bound a             variance (normal: std²)
=========== =========================== ============================
He          sqrt(6 / n_in)              2 / n_in
Glorot      sqrt(6 / (n_in + n_out))    2 / (n_in + n_out)
LeCun       sqrt(3 / n_in)              1 / n_in
=========== =========================== ============================

(He et al., ICCV 2015; Glorot & Bengio, AISTATS 2010; LeCun et al., "Efficient BackProp", 1998.)
U(-a, a) has variance a²/3, and a weight of shape (n_in, n_out) has n_in = shape[0].

Statistical tolerances, for n = 100,000 draws from a fixed seed (so the tests are deterministic;
each bound is at least 5 standard deviations of the estimate, and a wrong formula misses by far
more: halving a variance moves the sample variance by 50 %):

* sample variance of U(-a, a): relative std sqrt((9/5 − 1) / n) = 0.28 % (kurtosis 9/5);
* sample variance of a normal: relative std sqrt(2 / n) = 0.45 %;
* sample mean: std σ / sqrt(n);
* a fraction p of the draws: std sqrt(p (1 − p) / n) ≤ 0.16 %;
* the largest |w| of n uniform draws is below a·(1 − δ) with probability (1 − δ)^n, which
  for δ = 1e-3 is e^-100: with 100,000 draws the max is within 1e-3 relative of the bound.
"""

import math

import numpy as np
import pytest

from gdcourse import init

N_IN, N_OUT = 500, 200          # 100,000 weights; fan-in ≠ fan-out so the convention shows
SHAPES = [(N_IN, N_OUT), (N_OUT, N_IN)]
N = N_IN * N_OUT
SIGMAS = 5                      # every statistical tolerance is this many standard deviations

UNIFORM_BOUND = {               # the published bound a of U(-a, a), from the fans
    "he_uniform": lambda n_in, n_out: math.sqrt(6 / n_in),
    "xavier_uniform": lambda n_in, n_out: math.sqrt(6 / (n_in + n_out)),
    "lecun_uniform": lambda n_in, n_out: math.sqrt(3 / n_in),
}
NORMAL_VARIANCE = {             # the published variance of N(0, σ²), from the fans
    "he_normal": lambda n_in, n_out: 2 / n_in,
    "xavier_normal": lambda n_in, n_out: 2 / (n_in + n_out),
    "lecun_normal": lambda n_in, n_out: 1 / n_in,
}
RANDOM = [*UNIFORM_BOUND, *NORMAL_VARIANCE, "normal", "uniform"]
EVERY = [*RANDOM, "zeros", "constant"]

UNIFORM_VARIANCE_RTOL = SIGMAS * math.sqrt((9 / 5 - 1) / N)
NORMAL_VARIANCE_RTOL = SIGMAS * math.sqrt(2 / N)
FRACTION_ATOL = SIGMAS * math.sqrt(0.25 / N)
MAX_RTOL = 1e-3


def draw(name, shape, rng=0, **kwargs):
    return getattr(init, name)(shape, rng=rng, **kwargs)


def assert_mean_near_zero(w, std):
    assert abs(w.mean()) < SIGMAS * std / math.sqrt(w.size), w.mean()


# ---------------------------------------------------------------- uniform: He, Glorot, LeCun

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", UNIFORM_BOUND)
def test_uniform_initializers_stay_within_the_published_bound_and_reach_it(name, shape):
    bound = UNIFORM_BOUND[name](*shape)
    w = draw(name, shape)
    assert w.shape == shape and w.dtype == np.float64
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() >= bound * (1 - MAX_RTOL)
    assert w.min() <= -bound * (1 - MAX_RTOL)          # both ends: U(-a, a), not U(0, a)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", UNIFORM_BOUND)
def test_uniform_initializers_have_variance_bound_squared_over_three(name, shape):
    bound = UNIFORM_BOUND[name](*shape)
    w = draw(name, shape)
    assert w.var() == pytest.approx(bound**2 / 3, rel=UNIFORM_VARIANCE_RTOL)
    assert_mean_near_zero(w, bound / math.sqrt(3))
    # flat, not bell-shaped: half of U(-a, a) lies within a/2 of 0
    assert np.mean(np.abs(w) <= bound / 2) == pytest.approx(0.5, abs=FRACTION_ATOL)


# ---------------------------------------------------------------- normal: He, Glorot, LeCun

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NORMAL_VARIANCE)
def test_normal_initializers_have_the_published_variance(name, shape):
    variance = NORMAL_VARIANCE[name](*shape)
    w = draw(name, shape)
    assert w.shape == shape and w.dtype == np.float64
    assert w.var() == pytest.approx(variance, rel=NORMAL_VARIANCE_RTOL)
    assert_mean_near_zero(w, math.sqrt(variance))
    # bell-shaped, not flat: P(|w| <= σ) = erf(1/√2) = 0.6827 for a normal (0.577 for a uniform)
    within = np.mean(np.abs(w) <= math.sqrt(variance))
    assert within == pytest.approx(math.erf(1 / math.sqrt(2)), abs=FRACTION_ATOL)


# ---------------------------------------------------------------- fans and gain

def test_fan_in_is_shape_0_and_fan_out_is_shape_1():
    assert init.fans((N_IN, N_OUT)) == (N_IN, N_OUT)
    assert init.fans((3, 4, 5)) == (3, 4)
    assert init.fans((7,)) == (7, 7) and init.fans(7) == (7, 7)
    # He keeps the variance of the *forward* pass: 2/n_in, with n_in the rows of W in y = x @ W
    wide, tall = init.he_normal((10, 10_000), rng=0), init.he_normal((10_000, 10), rng=0)
    assert wide.var() == pytest.approx(2 / 10, rel=NORMAL_VARIANCE_RTOL)
    assert tall.var() == pytest.approx(2 / 10_000, rel=NORMAL_VARIANCE_RTOL)


@pytest.mark.parametrize("name", list(UNIFORM_BOUND) + list(NORMAL_VARIANCE))
def test_a_vector_uses_its_length_as_both_fans(name):
    n = 100_000
    w = draw(name, (n,))
    if name in UNIFORM_BOUND:
        bound = UNIFORM_BOUND[name](n, n)
        assert bound * (1 - MAX_RTOL) <= np.abs(w).max() <= bound
    else:
        assert w.var() == pytest.approx(NORMAL_VARIANCE[name](n, n), rel=NORMAL_VARIANCE_RTOL)


@pytest.mark.parametrize("gain", [0.5, math.sqrt(2), 3.0])
def test_xavier_gain_scales_the_bound_and_the_std(gain):
    bound = gain * math.sqrt(6 / (N_IN + N_OUT))
    w = init.xavier_uniform((N_IN, N_OUT), rng=0, gain=gain)
    assert bound * (1 - MAX_RTOL) <= np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=UNIFORM_VARIANCE_RTOL)
    w = init.xavier_normal((N_IN, N_OUT), rng=0, gain=gain)
    assert w.var() == pytest.approx(gain**2 * 2 / (N_IN + N_OUT), rel=NORMAL_VARIANCE_RTOL)


# ---------------------------------------------------------------- plain distributions

def test_normal_has_the_given_mean_and_std():
    w = init.normal((N_IN, N_OUT), rng=0, std=0.3, mean=1.5)
    assert w.var() == pytest.approx(0.09, rel=NORMAL_VARIANCE_RTOL)
    assert abs(w.mean() - 1.5) < SIGMAS * 0.3 / math.sqrt(N)
    small = init.normal((N_IN, N_OUT), rng=0)                 # default N(0, 0.01²)
    assert small.var() == pytest.approx(1e-4, rel=NORMAL_VARIANCE_RTOL)
    np.testing.assert_array_equal(init.normal((3, 2), rng=0, std=0.0, mean=2.0), np.full((3, 2), 2.0))


def test_uniform_covers_low_to_high():
    w = init.uniform((N_IN, N_OUT), rng=0, low=-1.0, high=3.0)
    assert -1.0 <= w.min() <= -1.0 + 4 * MAX_RTOL and 3.0 - 4 * MAX_RTOL <= w.max() < 3.0
    assert w.var() == pytest.approx(4.0**2 / 12, rel=UNIFORM_VARIANCE_RTOL)   # (high − low)² / 12
    assert abs(w.mean() - 1.0) < SIGMAS * (4.0 / math.sqrt(12)) / math.sqrt(N)
    default = init.uniform((N_IN, N_OUT), rng=0)              # default U(-0.05, 0.05)
    assert 0.05 * (1 - MAX_RTOL) <= np.abs(default).max() <= 0.05


def test_zeros_and_constant():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.zeros(4), np.zeros(4))
    np.testing.assert_array_equal(init.constant((2, 3), value=0.1), np.full((2, 3), 0.1))
    np.testing.assert_array_equal(init.constant((2,)), [0.0, 0.0])
    assert init.zeros((2, 3), rng=7).shape == (2, 3)          # accepts (and ignores) an rng


# ---------------------------------------------------------------- rng and dtype

@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_same_weights_other_seed_other_weights(name):
    a, b, c = draw(name, (30, 20), rng=4), draw(name, (30, 20), rng=4), draw(name, (30, 20), rng=5)
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c)                                 # continuous draws: no entry repeats
    generator = np.random.default_rng(4)
    np.testing.assert_array_equal(draw(name, (30, 20), rng=generator), a)   # a seed is default_rng(seed)
    assert not np.any(draw(name, (30, 20), rng=generator) == a)             # and a Generator moves on


@pytest.mark.parametrize("name", EVERY)
def test_dtype_argument(name):
    assert draw(name, (4, 3)).dtype == np.float64
    single = draw(name, (4, 3), dtype=np.float32)
    assert single.dtype == np.float32 and single.shape == (4, 3)
    if name in RANDOM:                                        # the same draw, rounded to float32
        np.testing.assert_array_equal(single, draw(name, (4, 3)).astype(np.float32))


# ---------------------------------------------------------------- lookup and bad input

def test_get_by_name_or_callable():
    for name in EVERY:
        assert init.get(name) is getattr(init, name)
    custom = lambda shape, rng=None, dtype=np.float64: np.ones(shape, dtype)
    assert init.get(custom) is custom
    with pytest.raises(ValueError, match=r"init: expected one of \[.*'he_normal'.*\] or a callable, got 'kaiming'"):
        init.get("kaiming")


@pytest.mark.parametrize("name", EVERY)
@pytest.mark.parametrize("shape", [(), (0, 3), (3, -1), (2.5, 3)])
def test_bad_shape_is_named_with_its_value(name, shape):
    with pytest.raises(ValueError, match=r"shape: expected a non-empty tuple of positive ints, got"):
        draw(name, shape)


def test_bad_distribution_parameters():
    with pytest.raises(ValueError, match="std: expected a number >= 0, got -0.1"):
        init.normal((2, 2), rng=0, std=-0.1)
    with pytest.raises(ValueError, match="low, high: expected low < high, got low=1.0, high=1.0"):
        init.uniform((2, 2), rng=0, low=1.0, high=1.0)
    with pytest.raises(ValueError, match="rng: expected a non-negative int seed, got -1"):
        init.he_normal((2, 2), rng=-1)
