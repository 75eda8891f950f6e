"""Tests of the gdcourse.nn layers (``functional``: test_functional.py; ``Parameter`` and the flat
buffers: test_parameter.py; the module tree and ``state_dict``: test_module_tree.py).

Every layer is gradient-checked in float64 against central differences of
``sum(layer(x) * dy)`` with a random upstream gradient ``dy`` (never ones: for a
normalization layer the true input gradient with ``dy = 1`` is exactly zero), in
train and in eval mode. The bar is a worst elementwise relative error of 1e-7
(CS231n's); inputs are kept at |x| >= 0.1 so no central difference straddles a
kink (ReLU family, ELU with alpha != 1, Step), so kinks need no looser bound; the
tanh-GELU meets it too since its forward uses x·σ(2u). Seeds are fixed, so
every check is deterministic. Expected values elsewhere are computed by hand in the
test, never by the code under test.
"""

import numpy as np
import pytest

from gdcourse import functional as F
from gdcourse import nn
from gdcourse.gradcheck import check_module, numerical_gradient, relative_error

TOL = 1e-7
# Step of the central differences (check_module's default, spelled out). Their error is about
# eps^2 |f'''| (truncation) plus u |y| / eps (round-off, u = 1.1e-16), smallest near eps = 1e-5
# (about u^(1/3)); with eps = 1e-6 the round-off (~1e-10 absolute) would give relative errors above
# 1e-7 on gradient entries of size ~1e-3, which layers that mix entries (Linear, BatchNorm's scale
# invariance) produce now and then.
EPS = 1e-5


def signed_away_from_zero(rng, shape, low=0.1, high=2.0):
    """Random values with |x| in [low, high] and random signs: far from every kink at 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def assert_gradients_ok(module, x, tol=TOL, seed=0):
    """Gradient-check ``module`` at ``x`` with a standard-normal upstream gradient drawn from ``seed``."""
    report = check_module(module, x, rng=seed, eps=EPS)
    assert report.worst <= tol, str(report)


# --- layer factories: non-trivial parameters so that no bug hides behind gamma = 1 or g = ‖v‖ ---

def linear(g):
    m = nn.Linear(4, 3, rng=g)
    m.bias.value = g.standard_normal(3)
    return m


def weight_norm_linear(g):
    m = nn.WeightNormLinear(4, 3, rng=g)
    m.g.value = g.uniform(0.5, 2.0, 3)  # g ≠ ‖v‖, so the direction/length split matters
    m.bias.value = g.standard_normal(3)
    return m


def prelu_channels(g):
    m = nn.PReLU(4)
    m.weight.value = g.uniform(0.05, 0.6, 4)
    return m


def batchnorm(g):
    m = nn.BatchNorm1d(4)
    m.gamma.value = g.uniform(0.5, 2.0, 4)
    m.beta.value = g.standard_normal(4)
    for _ in range(3):  # non-trivial running statistics for eval mode
        m(g.standard_normal((6, 4)) * 2 + 1)
    return m


def layernorm(g):
    m = nn.LayerNorm(4)
    m.gamma.value = g.uniform(0.5, 2.0, 4)
    m.beta.value = g.standard_normal(4)
    return m


def residual(g):
    return nn.Residual(nn.Sequential(linear_square(g), layernorm(g), nn.GELU()))


def linear_square(g):
    m = nn.Linear(4, 4, rng=g)
    m.bias.value = g.standard_normal(4)
    return m


def sequential(g):
    # No bias before BatchNorm: BatchNorm removes it, so its true gradient is exactly 0 and an
    # elementwise relative error would compare round-off with round-off.
    m = nn.Sequential(nn.Linear(4, 6, bias=False, rng=g), nn.BatchNorm1d(6), nn.Tanh(),
                      nn.Dropout(0.25, rng=g), nn.Linear(6, 3, rng=g), nn.Softmax())
    m[1].gamma.value = g.uniform(0.5, 2.0, 6)
    m[1].beta.value = g.standard_normal(6)
    return m


def rnn(g):
    m = nn.RNN(3, 4, rng=g)
    m.b.value = g.standard_normal(4) * 0.5
    return m


# name: (factory, input shape, largest |x|, tolerance). Elementwise activations get inputs up to
# |x| = 5, so their saturated tails are checked too; layers that mix entries (Softmax, the
# normalizations, composites) keep |x| <= 2, where no gradient entry is tiny by accident and an
# elementwise relative error measures the layer rather than round-off over a near-zero entry.
WIDE, NARROW = 5.0, 2.0
# tanh-GELU's forward is x·σ(2u) (no cancellation for x < -4), so it meets the common bound.
GELU_TANH_TOL = TOL

LAYERS = {
    "Linear": (linear, (5, 4), NARROW, TOL),
    "WeightNormLinear": (weight_norm_linear, (5, 4), NARROW, TOL),
    "Identity": (lambda g: nn.Identity(), (5, 4), WIDE, TOL),
    "Sigmoid": (lambda g: nn.Sigmoid(), (5, 4), WIDE, TOL),
    "Tanh": (lambda g: nn.Tanh(), (5, 4), WIDE, TOL),
    "ReLU": (lambda g: nn.ReLU(), (5, 4), WIDE, TOL),
    "LeakyReLU": (lambda g: nn.LeakyReLU(0.1), (5, 4), WIDE, TOL),
    "PReLU(1)": (lambda g: nn.PReLU(1, init=0.3), (5, 4), WIDE, TOL),
    "PReLU(C)": (prelu_channels, (5, 4), WIDE, TOL),
    "PReLU(C) on (N, C, L)": (prelu_channels, (3, 4, 2), WIDE, TOL),
    "ELU": (lambda g: nn.ELU(), (5, 4), WIDE, TOL),
    "ELU(alpha=0.5)": (lambda g: nn.ELU(alpha=0.5), (5, 4), WIDE, TOL),
    "GELU": (lambda g: nn.GELU(), (5, 4), WIDE, TOL),
    "GELU(tanh)": (lambda g: nn.GELU("tanh"), (5, 4), WIDE, GELU_TANH_TOL),
    "SiLU": (lambda g: nn.SiLU(), (5, 4), WIDE, TOL),
    "Softplus": (lambda g: nn.Softplus(), (5, 4), WIDE, TOL),
    "Softplus(beta=2)": (lambda g: nn.Softplus(beta=2.0), (5, 4), WIDE, TOL),
    "Softmax": (lambda g: nn.Softmax(), (5, 4), NARROW, TOL),
    "Softmax(axis=0)": (lambda g: nn.Softmax(axis=0), (5, 4), NARROW, TOL),
    "Dropout": (lambda g: nn.Dropout(0.4, rng=g), (5, 4), WIDE, TOL),
    "BatchNorm1d": (batchnorm, (6, 4), NARROW, TOL),
    "LayerNorm": (layernorm, (5, 4), NARROW, TOL),
    "LayerNorm on (N, T, C)": (layernorm, (2, 3, 4), NARROW, TOL),
    "Residual": (residual, (5, 4), NARROW, TOL),
    "Sequential": (sequential, (5, 4), NARROW, TOL),
    "RNN": (rnn, (2, 5, 3), NARROW, TOL),
}


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients_match_central_differences(name, mode):
    factory, shape, high, tol = LAYERS[name]
    g = np.random.default_rng(0)
    module = factory(g)
    getattr(module, mode)()
    assert_gradients_ok(module, signed_away_from_zero(g, shape, high=high), tol=tol)


def test_gelu_tanh_derivative_equals_a_stable_closed_form():
    # 0.5 (1 + tanh u) = σ(2u), so gelu_tanh(x) = x σ(2u) and its derivative is
    # σ(2u) + 2 x σ(2u)(1 − σ(2u)) u', u = √(2/π)(x + 0.044715 x³): no cancellation anywhere.
    x = np.linspace(-8, 8, 16_001)
    k, c = np.sqrt(2 / np.pi), 0.044715
    s = 1 / (1 + np.exp(-2 * k * (x + c * x**3)))
    expected = s + 2 * x * s * (1 - s) * k * (1 + 3 * c * x**2)
    # the same cancellation costs the layer's formula absolute accuracy ~1e-15 in the far tail
    # (derivatives below ~1e-6 in size), which no training run can notice
    np.testing.assert_allclose(F.gelu_grad(x, "tanh"), expected, rtol=1e-12, atol=1e-14)


def test_softplus_gradient_above_the_threshold():
    g = np.random.default_rng(1)
    x = g.uniform(11.0, 14.0, (4, 3))  # beta x in [22, 28]: the linear branch
    assert_gradients_ok(nn.Softplus(beta=2.0), x)


def test_step_passes_no_gradient():
    x = signed_away_from_zero(np.random.default_rng(2), (5, 4))
    step = nn.Step()
    y = step(x)
    np.testing.assert_array_equal(y, (x > 0).astype(float))
    dx = step.backward(np.random.default_rng(3).standard_normal((5, 4)))
    assert dx.shape == x.shape and np.all(dx == 0)


# --- Linear and WeightNormLinear -------------------------------------------------------

def test_linear_forward_is_x_w_plus_b():
    g = np.random.default_rng(4)
    layer = linear(g)
    x = g.standard_normal((5, 4))
    expected = np.array([[sum(x[n, i] * layer.weight.value[i, j] for i in range(4)) + layer.bias.value[j]
                          for j in range(3)] for n in range(5)])
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-14)
    assert layer.weight.shape == (4, 3)


def test_linear_backward_can_skip_the_input_gradient():
    g = np.random.default_rng(5)
    layer = linear(g)
    x, dy = g.standard_normal((5, 4)), g.standard_normal((5, 3))
    layer(x)
    assert layer.backward(dy, input_grad=False) is None
    np.testing.assert_allclose(layer.weight.grad, x.T @ dy, rtol=1e-13)


def test_weight_norm_starts_equal_to_a_plain_linear_and_splits_length_and_direction():
    plain, normed = nn.Linear(4, 3, rng=9), nn.WeightNormLinear(4, 3, rng=9)
    x = np.random.default_rng(6).standard_normal((5, 4))
    np.testing.assert_allclose(normed(x), plain(x), rtol=1e-12)
    normed.g.value = np.array([1.0, 2.0, 3.0])
    lengths = np.sqrt((normed.weight**2).sum(axis=0))
    np.testing.assert_allclose(lengths, [1.0, 2.0, 3.0], rtol=1e-12)


def test_gradients_accumulate_over_two_backward_passes():
    g = np.random.default_rng(7)
    layer = linear(g)
    x, dy = g.standard_normal((5, 4)), g.standard_normal((5, 3))
    layer(x)
    layer.backward(dy)
    layer.backward(dy)
    np.testing.assert_allclose(layer.weight.grad, 2 * x.T @ dy, rtol=1e-13)
    layer.zero_grad()
    assert np.all(layer.weight.grad == 0) and np.all(layer.bias.grad == 0)


# --- PReLU -----------------------------------------------------------------------------

def test_prelu_forward_and_slope_per_channel():
    layer = nn.PReLU(2)
    layer.weight.value = np.array([0.1, 0.5])
    x = np.array([[-2.0, -2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(layer(x), [[-0.2, -1.0], [3.0, -2.0]])
    layer.backward(np.ones_like(x))
    # dL/da_c = Σ_n dy min(0, x) over the samples of channel c
    np.testing.assert_array_equal(layer.weight.grad, [-2.0, -6.0])


def test_prelu_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match="3 features on axis 1, got shape \\(2, 4\\)"):
        nn.PReLU(3)(np.ones((2, 4)))


# --- Dropout ---------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.5, 0.75, 0.875])
def test_dropout_output_is_zero_or_exactly_x_over_keep_probability(p):
    # for these p, 1/(1-p) is a power of two, so x/(1-p) is exact in any rounding order
    x = signed_away_from_zero(np.random.default_rng(8), (50, 40))
    y = nn.Dropout(p, rng=0)(x)
    kept = y != 0
    np.testing.assert_array_equal(y[kept], x[kept] / (1 - p))
    assert 0 < kept.sum() < x.size


def test_dropout_scaling_for_an_inexact_keep_probability():
    x = signed_away_from_zero(np.random.default_rng(9), (50, 40))
    y = nn.Dropout(0.3, rng=0)(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=4e-16, atol=0)


def test_dropout_backward_reuses_the_forward_mask():
    g = np.random.default_rng(10)
    x, dy = signed_away_from_zero(g, (30, 20)), g.standard_normal((30, 20))
    layer = nn.Dropout(0.5, rng=1)
    layer(signed_away_from_zero(g, (30, 20)))  # an earlier mask that must not be reused
    y = layer(x)
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dx, np.where(y != 0, dy * 2.0, 0.0))


def test_dropout_drops_a_fraction_close_to_p_and_keeps_the_mean():
    n, p = 400_000, 0.3
    x = np.ones(n)
    y = nn.Dropout(p, rng=11)(x)
    dropped = np.mean(y == 0)
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)  # 5 standard errors
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)  # inverted dropout: E[y] = x


def test_dropout_float32_keeps_dtype_and_fraction():
    y = nn.Dropout(0.25, rng=12)(np.ones(200_000, dtype=np.float32))
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {np.float32(0.0), np.float32(1 / 0.75)}
    assert abs(np.mean(y == 0) - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 200_000)


def test_dropout_in_eval_mode_is_the_identity():
    g = np.random.default_rng(13)
    x, dy = g.standard_normal((6, 5)), g.standard_normal((6, 5))
    layer = nn.Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(dy), dy)


def test_dropout_same_seed_same_mask():
    x = np.ones((10, 10))
    np.testing.assert_array_equal(nn.Dropout(0.5, rng=3)(x), nn.Dropout(0.5, rng=3)(x))
    assert not np.array_equal(nn.Dropout(0.5, rng=3)(x), nn.Dropout(0.5, rng=4)(x))


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_dropout_rejects_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match=rf"p: expected a number in \[0, 1\), got {p}"):
        nn.Dropout(p)


# --- BatchNorm1d -----------------------------------------------------------------------

def _batches(seed, count=3, n=5, c=3):
    g = np.random.default_rng(seed)
    return [g.standard_normal((n, c)) * (i + 1) + i for i in range(count)]


def test_batchnorm_running_stats_follow_the_momentum_rule():
    layer = nn.BatchNorm1d(3, momentum=0.1)
    mean, var = np.zeros(3), np.ones(3)
    for batch in _batches(14):
        layer(batch)
        n = len(batch)
        batch_mean = batch.sum(axis=0) / n
        unbiased = ((batch - batch_mean) ** 2).sum(axis=0) / (n - 1)
        mean = 0.9 * mean + 0.1 * batch_mean
        var = 0.9 * var + 0.1 * unbiased
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-13)


def test_batchnorm_momentum_none_keeps_a_cumulative_average():
    layer = nn.BatchNorm1d(3, momentum=None)
    batches = _batches(15)
    for batch in batches:
        layer(batch)
    np.testing.assert_allclose(layer.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0),
                               rtol=1e-13)
    np.testing.assert_allclose(layer.running_var,
                               np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0), rtol=1e-13)


def test_batchnorm_training_normalizes_with_the_biased_batch_variance():
    layer = batchnorm(np.random.default_rng(16))
    x = np.random.default_rng(17).standard_normal((6, 4)) * 3 + 2
    n = len(x)
    mu = x.sum(axis=0) / n
    biased = ((x - mu) ** 2).sum(axis=0) / n
    expected = layer.gamma.value * (x - mu) / np.sqrt(biased + 1e-5) + layer.beta.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)


def test_batchnorm_eval_uses_running_stats_so_samples_are_independent():
    layer = batchnorm(np.random.default_rng(18)).eval()
    stats = layer.running_mean.copy(), layer.running_var.copy()
    g = np.random.default_rng(19)
    sample = g.standard_normal((1, 4))
    in_one_batch = layer(np.vstack([sample, g.standard_normal((5, 4))]))[0]
    in_another = layer(np.vstack([sample, 10 * g.standard_normal((3, 4)) - 7]))[0]
    alone = layer(sample)[0]  # a batch of one is fine in eval mode
    np.testing.assert_array_equal(in_one_batch, in_another)
    np.testing.assert_array_equal(in_one_batch, alone)
    expected = layer.gamma.value * (sample[0] - stats[0]) / np.sqrt(stats[1] + 1e-5) + layer.beta.value
    np.testing.assert_allclose(alone, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, stats[0])  # eval never updates them
    np.testing.assert_array_equal(layer.running_var, stats[1])


def test_batchnorm_batch_of_one_in_training_raises():
    with pytest.raises(ValueError, match="at least 2 samples in training mode.*got 1"):
        nn.BatchNorm1d(3)(np.ones((1, 3)))


def test_batchnorm_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input x of shape \(N, 3\), got \(4, 5\)"):
        nn.BatchNorm1d(3)(np.ones((4, 5)))


# --- LayerNorm -------------------------------------------------------------------------

def test_layernorm_is_the_same_in_train_and_eval():
    g = np.random.default_rng(20)
    x, dy = g.standard_normal((5, 4)) * 2 + 1, g.standard_normal((5, 4))
    results = []
    for mode in ("train", "eval"):
        layer = getattr(layernorm(np.random.default_rng(21)), mode)()
        y = layer(x)
        dx = layer.backward(dy)
        results.append((y, dx, layer.gamma.grad.copy(), layer.beta.grad.copy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    layer = layernorm(np.random.default_rng(21))
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(results[0][0], layer.gamma.value * (x - mu) / np.sqrt(var + 1e-5)
                               + layer.beta.value, rtol=1e-12)


# --- RNN -------------------------------------------------------------------------------

def _rnn_states(x, w_xh, w_hh, b, h0):
    """All hidden states ``(N, T + 1, H)`` of ``h_t = tanh(x_t W_xh + h_{t−1} W_hh + b)``, index 0 = h0."""
    states = [h0]
    for t in range(x.shape[1]):
        states.append(np.tanh(x[:, t] @ w_xh + states[-1] @ w_hh + b))
    return np.stack(states, axis=1)


def _truncated_objective(x, w_xh, w_hh, b, h0, dh, frozen, k):
    """Σ_t dh_t · h_t where h_t is recomputed from at most k steps back.

    The state entering the first of those steps is the frozen (constant) value from the
    unperturbed forward pass, except when the window reaches the start, where it is h0.
    This is the definition of truncated BPTT, evaluated by brute force.
    """
    total = 0.0
    for t in range(x.shape[1]):
        start = t - k + 1
        h = h0 if start <= 0 else frozen[:, start]
        for s in range(max(start, 0), t + 1):
            h = np.tanh(x[:, s] @ w_xh + h @ w_hh + b)
        total += np.sum(h * dh[:, t])
    return total


def _rnn_problem(seed, k, steps=6):
    g = np.random.default_rng(seed)
    layer = nn.RNN(3, 4, bptt_steps=k, rng=g)
    layer.W_hh.value = g.standard_normal((4, 4))  # strong recurrence: truncation changes a lot
    layer.b.value = g.standard_normal(4) * 0.5
    x = g.standard_normal((2, steps, 3))
    h0 = g.standard_normal((2, 4)) * 0.5
    dh = g.standard_normal((2, steps, 4))
    return layer, x, h0, dh


def _analytic(layer, x, h0, dh):
    layer.zero_grad()
    layer(x, h0)
    dx = layer.backward(dh)
    return {"x": dx, "h0": layer.dh0, "W_xh": layer.W_xh.grad.copy(), "W_hh": layer.W_hh.grad.copy(),
            "b": layer.b.grad.copy()}


def _brute_force_truncated(layer, x, h0, dh, k):
    arrays = {"x": x.copy(), "h0": h0.copy(), "W_xh": layer.W_xh.value.copy(),
              "W_hh": layer.W_hh.value.copy(), "b": layer.b.value.copy()}
    frozen = _rnn_states(x, arrays["W_xh"], arrays["W_hh"], arrays["b"], h0)

    def objective(_):
        return _truncated_objective(arrays["x"], arrays["W_xh"], arrays["W_hh"], arrays["b"],
                                    arrays["h0"], dh, frozen, k)

    return {name: numerical_gradient(objective, a, eps=EPS) for name, a in arrays.items()}


def test_rnn_forward_matches_the_recurrence():
    layer, x, h0, _ = _rnn_problem(22, None)
    expected = _rnn_states(x, layer.W_xh.value, layer.W_hh.value, layer.b.value, h0)[:, 1:]
    np.testing.assert_allclose(layer(x, h0), expected, rtol=1e-13)


def test_rnn_full_bptt_gradients_including_h0():
    layer, x, h0, dh = _rnn_problem(23, None)
    analytic = _analytic(layer, x, h0, dh)
    numeric = _brute_force_truncated(layer, x, h0, dh, k=x.shape[1])  # k = T: nothing truncated
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) <= TOL, name


@pytest.mark.parametrize("k", [1, 2, 4])
def test_rnn_truncated_bptt_matches_the_brute_force_definition(k):
    layer, x, h0, dh = _rnn_problem(24, k)
    analytic = _analytic(layer, x, h0, dh)
    numeric = _brute_force_truncated(layer, x, h0, dh, k)
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) <= TOL, name
    full_layer, *_ = _rnn_problem(24, None)
    full = _analytic(full_layer, x, h0, dh)
    assert relative_error(analytic["W_hh"], full["W_hh"]) > 1e-3  # truncation really changed it


@pytest.mark.parametrize("k", [6, 9])
def test_rnn_truncation_at_or_beyond_the_sequence_length_is_full_bptt(k):
    layer, x, h0, dh = _rnn_problem(25, k)
    full_layer, *_ = _rnn_problem(25, None)
    truncated, full = _analytic(layer, x, h0, dh), _analytic(full_layer, x, h0, dh)
    for name in full:
        np.testing.assert_array_equal(truncated[name], full[name])


def test_rnn_rejects_wrong_input_and_h0_shapes():
    layer = nn.RNN(3, 4, rng=0)
    with pytest.raises(ValueError, match=r"expected input x of shape \(N, T, 3\), got \(2, 5\)"):
        layer(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 4\), got \(2, 3\)"):
        layer(np.ones((2, 5, 3)), np.ones((2, 3)))


# --- bad input -------------------------------------------------------------------------

def test_linear_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"Linear: expected input x of shape \(N, 4\), got \(5, 3\)"):
        nn.Linear(4, 2, rng=0)(np.ones((5, 3)))


def test_linear_rejects_integer_input():
    with pytest.raises(ValueError, match="floating-point input x, got dtype int64"):
        nn.Linear(4, 2, rng=0)(np.ones((5, 4), dtype=np.int64))


BACKWARD_FIRST = {
    "Linear": lambda: nn.Linear(2, 2, rng=0), "WeightNormLinear": lambda: nn.WeightNormLinear(2, 2, rng=0),
    "Identity": nn.Identity, "Step": nn.Step, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU, "PReLU": nn.PReLU, "ELU": nn.ELU, "GELU": nn.GELU, "SiLU": nn.SiLU,
    "Softplus": nn.Softplus, "Softmax": nn.Softmax, "Dropout": lambda: nn.Dropout(0.5, rng=0),
    "BatchNorm1d": lambda: nn.BatchNorm1d(2), "LayerNorm": lambda: nn.LayerNorm(2),
    "Residual": lambda: nn.Residual(nn.Tanh()), "RNN": lambda: nn.RNN(2, 2, rng=0),
}


@pytest.mark.parametrize("name", list(BACKWARD_FIRST))
def test_backward_before_forward_raises(name):
    layer = BACKWARD_FIRST[name]()
    with pytest.raises(RuntimeError, match=f"{name}.backward was called before forward"):
        layer.backward(np.ones((2, 2)))


def test_sequential_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Sequential(nn.Linear(2, 2, rng=0), nn.Tanh()).backward(np.ones((3, 2)))


# --- Sequential ----------------------------------------------------------------------

def test_sequential_equals_composing_its_layers():
    g = np.random.default_rng(30)
    first, second = linear(g), nn.Linear(3, 2, rng=g)
    model = nn.Sequential(first, nn.Tanh(), second)
    x = g.standard_normal((5, 4))
    expected = np.tanh(x @ first.weight.value + first.bias.value) @ second.weight.value + second.bias.value
    np.testing.assert_allclose(model(x), expected, rtol=1e-12)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="layer 1 is a function, expected a Module"):
        nn.Sequential(nn.Tanh(), lambda x: x)


def test_train_and_eval_reach_nested_layers():
    model = nn.Sequential(nn.Residual(nn.Sequential(nn.Dropout(0.5, rng=0))), nn.BatchNorm1d(2))
    model.eval()
    assert not model[0].block[0].training and not model[1].training
    model.train()
    assert model[0].block[0].training and model[1].training
