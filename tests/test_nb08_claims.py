"""Notebook 08 (initialization): every quantitative claim it makes, and the unit tests of
gdcourse.experiments.initialization that produce them.

Expected values come from closed forms (variance formulas, Gaussian tail probabilities, the
infinite-width "mean-field" recursion computed here by quadrature) or from short independent loops
written here, never from the function under test. Tolerances are stated where they are not exact;
claims that rest on random draws are checked on more than one seed where the notebook generalizes.
"""

import math

import numpy as np
import pytest

from gdcourse import diagnostics, init, losses, nn
from gdcourse.experiments import initialization as E

RELU_STD = math.sqrt(0.5 - 0.5 / math.pi)      # std of relu(z) for z ~ N(0, 1): 0.5838


@pytest.fixture(scope="module")
def digits():
    return E.digits(standardized=True)


Z = np.linspace(-12.0, 12.0, 400_001)
NORMAL_WEIGHTS = np.exp(-Z ** 2 / 2) / math.sqrt(2 * math.pi) * (Z[1] - Z[0])


def gauss_expect(f, q):
    """E[f(√q z)] for z ~ N(0, 1), by a fine Riemann sum (exact to ~1e-6 even for sharp f)."""
    with np.errstate(over="ignore"):
        return float(np.sum(f(math.sqrt(q) * Z) * NORMAL_WEIGHTS))


def independent_stds(model, X):
    h, out = X, []
    for layer in model:
        h = layer.forward(h)
        if isinstance(layer, (nn.Tanh, nn.ReLU, nn.Sigmoid, nn.Identity)):
            out.append(np.std(h))
    return np.array(out)


def geometric_mean(values):
    return float(np.exp(np.mean(np.log(values))))


# ---------------------------------------------------------------- schemes

def test_weight_variance_formulas_by_hand():
    n_in, n_out = 400, 100
    expected = {"zeros": 0.0, "constant": 0.0, "small normal": 1e-4, "large normal": 1.0, "lecun": 1 / 400,
                "xavier": 2 / 500, "he": 2 / 400}
    for scheme, value in expected.items():
        assert E.weight_variance(scheme, n_in, n_out) == pytest.approx(value, rel=1e-12)
        assert E.weight_variance(scheme, n_in, n_out, gain=3.0) == pytest.approx(9 * value, rel=1e-12)


@pytest.mark.parametrize("scheme", ["small normal", "large normal", "lecun", "xavier", "he"])
def test_initializers_draw_the_stated_variance(scheme):
    W = E.initializer(scheme)((600, 300), rng=4)
    assert W.shape == (600, 300)
    assert W.var() == pytest.approx(E.weight_variance(scheme, 600, 300), rel=0.03)   # 180k draws: ~0.3 %
    assert abs(W.mean()) < 5 * W.std() / math.sqrt(W.size)


def test_constant_schemes_and_gain():
    assert np.all(E.initializer("zeros")((5, 3)) == 0)
    assert np.all(E.initializer("constant")((5, 3)) == E.CONSTANT_VALUE)
    assert np.all(E.initializer("constant", gain=2.0, value=0.3)((2, 2)) == pytest.approx(0.6))
    np.testing.assert_allclose(E.initializer("he", gain=2.5)((50, 20), rng=3),
                               2.5 * init.he_normal((50, 20), rng=3), rtol=1e-15)
    assert E.initializer("xavier") is init.xavier_normal
    assert E.initializer("xavier", 1.0)((3, 4), rng=1, dtype=np.float32).dtype == np.float32


def test_lecun_and_xavier_are_the_same_draws_times_a_constant():
    """The seed-003 correction: both cost the same, and they differ unless n_in = n_out."""
    shape = (784, 256)
    ratio = init.xavier_normal(shape, rng=0) / init.lecun_normal(shape, rng=0)
    np.testing.assert_allclose(ratio, math.sqrt(2 * 784 / 1040), rtol=1e-12)
    assert math.sqrt(2 * 784 / 1040) == pytest.approx(1.2279, abs=1e-4)            # "23 % larger"
    assert np.array_equal(init.xavier_normal((256, 256), rng=0), init.lecun_normal((256, 256), rng=0))
    assert init.lecun_normal(shape, rng=0).std() == pytest.approx(1 / math.sqrt(784), rel=0.01)
    assert init.xavier_normal(shape, rng=0).std() == pytest.approx(math.sqrt(2 / 1040), rel=0.01)


def test_first_layer_stds_of_the_follow_up():
    assert 1 / math.sqrt(784) == pytest.approx(0.036, abs=5e-4)
    assert math.sqrt(2 / 1040) == pytest.approx(0.044, abs=5e-4)


@pytest.mark.parametrize("shape", [(300, 100), (100, 300), (64, 64)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    Q = E.orthogonal(shape, rng=5, gain=2.0)
    assert Q.shape == shape
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)
    assert np.array_equal(Q, E.orthogonal(shape, rng=5, gain=2.0))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scheme"):
        E.weight_variance("glorot", 2, 2)
    with pytest.raises(ValueError, match="gain"):
        E.initializer("he", gain=0)
    with pytest.raises(ValueError, match="activation"):
        E.make_mlp((4, 4), activation="swish")
    with pytest.raises(ValueError, match="widths"):
        E.make_mlp((4,))
    with pytest.raises(ValueError, match="depth"):
        E.deep_mlp(0, 4)
    with pytest.raises(ValueError, match="hist_layers"):
        E.depth_profile("he", "relu", depth=3, width=8, batch=4, hist_layers=(4,))
    with pytest.raises(ValueError, match="activation"):
        E.saturated_fraction(np.zeros(3), "relu")
    with pytest.raises(ValueError, match="threshold"):
        E.saturated_fraction(np.zeros(3), "tanh", threshold=1.0)
    with pytest.raises(TypeError, match="model"):
        E.activation_stds(nn.Tanh(), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="X"):
        E.activation_stds(E.deep_mlp(1, 3), np.zeros(3))
    with pytest.raises(ValueError, match="positive_rate"):
        E.prior_bias(1.0)
    with pytest.raises(ValueError, match="kind"):
        E.jacobian_singular_values(2, 4, kind="identity")
    with pytest.raises(ValueError, match="scheme"):
        E.explore_init(scheme="constant")
    with pytest.raises(ValueError, match="weight_stds"):
        E.scale_sweep({"bad": -1.0}, depth=2, width=4, batch=2)


# ---------------------------------------------------------------- networks and measurements

def test_make_mlp_layout_and_independent_layers():
    model = E.make_mlp((5, 7, 3), "relu", "he", num_classes=4, rng=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [(5, 7), (7, 3), (3, 4)]
    assert all(np.all(m.bias.value == 0) for m in model if isinstance(m, nn.Linear))
    square = E.deep_mlp(2, 6, rng=0)
    assert not np.allclose(square[0].weight.value, square[2].weight.value)   # one generator for all layers
    assert np.array_equal(E.deep_mlp(2, 6, rng=0)[2].weight.value, square[2].weight.value)
    assert E.deep_mlp(3, 8, in_features=5)[0].in_features == 5 and E.is_activation(nn.Identity())
    assert not E.is_activation(nn.Linear(2, 2))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_activation_stds_and_second_moments(activation):
    rng = np.random.default_rng(1)
    model = E.make_mlp((10, 20, 15, 5), activation, "xavier", num_classes=3, rng=2)
    X = rng.standard_normal((40, 10)) + 1.0
    stds = E.activation_stds(model, X)
    np.testing.assert_allclose(stds, independent_stds(model, X), rtol=1e-12)
    np.testing.assert_allclose(stds, [s.std for s in diagnostics.activation_stats(model, X)], rtol=1e-12)
    outputs = E.layer_activations(model, X)
    assert len(outputs) == 3 and outputs[-1].shape == (40, 5)
    np.testing.assert_allclose(E.second_moments(model, X), [np.mean(h ** 2) for h in outputs], rtol=1e-12)


def test_saturated_fraction_and_unit_spread_by_hand():
    assert E.saturated_fraction(np.array([0.0, 0.995, -0.999, 0.5]), "tanh") == 0.5
    assert E.saturated_fraction(np.array([0.001, 0.999, 0.5, 0.7]), "sigmoid") == 0.5
    assert E.unit_spread(np.ones((3, 4)) * 0.7) == 0.0
    assert E.unit_spread(np.zeros((3, 4))) == 0.0
    assert E.unit_spread(np.array([[1.0, 2.0], [1.0, 1.0]])) == pytest.approx(0.5)


def test_scale_sweep_is_one_set_of_draws_and_relu_is_homogeneous():
    stds = E.scale_sweep({"a": 0.05, "b": 0.1}, "relu", depth=6, width=32, batch=16, rng=3)
    layers = np.arange(1, 7)
    np.testing.assert_allclose(stds["b"] / stds["a"], 2.0 ** layers, rtol=1e-10)
    # the sweep draws X first and the weights after it from the same generator; rebuild that order
    rng = np.random.default_rng(3)
    X = rng.standard_normal((16, 32))
    model = E.deep_mlp(6, 32, "relu", "large normal", rng=rng)
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.weight.value = 0.05 * layer.weight.value
    np.testing.assert_allclose(stds["a"], independent_stds(model, X), rtol=1e-12)


# ---------------------------------------------------------------- INIT-01: symmetry

@pytest.fixture(scope="module")
def symmetry_runs(digits):
    inits = {"zeros": ("zeros", "zeros"), "constant": ("constant", "constant"), "xavier": ("xavier", "xavier"),
             "zero output": ("xavier", "zeros")}
    return {name: E.symmetry_run(h, o, digits, hidden=32, steps=200, lr=0.5) for name, (h, o) in inits.items()}


def test_zero_init_never_gets_a_hidden_gradient_and_stops_at_the_label_entropy(symmetry_runs, digits):
    run = symmetry_runs["zeros"]
    assert np.all(run.grad_norms == 0) and np.all(run.spreads == 0) and run.rank == 0
    p = np.bincount(digits.y_train) / len(digits.y_train)
    entropy = -(p * np.log(p)).sum()
    assert entropy == pytest.approx(math.log(10), abs=1e-3)
    assert run.losses[-1] == pytest.approx(entropy, abs=1e-3)
    assert run.test_accuracy <= 0.15


def test_constant_init_keeps_every_hidden_unit_identical(symmetry_runs):
    run = symmetry_runs["constant"]
    assert run.grad_norms[0] < 1e-12                       # the softmax errors sum to 0 over the classes
    assert run.grad_norms.max() > 1e-2                     # it does learn ...
    assert run.grad_spreads.max() <= 1e-12                 # ... but every unit gets the same gradient
    assert run.spreads.max() <= 1e-12 and run.rank == 1
    assert np.allclose(run.hidden_weight, run.hidden_weight[:, :1])
    assert 0.15 < run.test_accuracy < 0.4                  # "30 % of the test digits"
    assert run.losses[-1] < run.losses[0] - 0.3


def test_random_init_breaks_the_symmetry_even_with_a_zero_output_layer(symmetry_runs):
    for name in ("xavier", "zero output"):
        run = symmetry_runs[name]
        assert run.grad_spreads.max() > 0.5 and run.spreads[-1] > 0.5 and run.rank == 32
        assert 0.95 <= run.test_accuracy <= 0.98 and run.losses[-1] < 0.1
    zero_output = symmetry_runs["zero output"]
    assert zero_output.grad_norms[0] == 0 and zero_output.grad_norms[1] > 0     # W1 learns from the 2nd step


# ---------------------------------------------------------------- INIT-02

def test_one_wide_tanh_layer_saturates_as_a_gaussian_predicts():
    X = np.random.default_rng(0).standard_normal((256, 512))
    expected = {"small normal": 0.0, "xavier": None, "large normal": None}
    for scheme in expected:
        h = E.layer_activations(E.deep_mlp(1, 512, "tanh", scheme, rng=1), X)[0]
        sigma_z = math.sqrt(512 * E.weight_variance(scheme, 512, 512) * np.mean(X ** 2))
        tail = math.erfc(math.atanh(0.99) / sigma_z / math.sqrt(2))
        assert E.saturated_fraction(h, "tanh") == pytest.approx(tail, abs=0.01)
        if scheme == "large normal":
            assert 0.89 <= E.saturated_fraction(h, "tanh") <= 0.93          # "about 91 %"
            assert 1 - 0.99 ** 2 < 0.02                                      # tanh' there
        if scheme == "xavier":
            assert E.saturated_fraction(h, "tanh") < 0.02


def test_small_tanh_signal_shrinks_by_0_23_per_layer():
    stds = E.scale_sweep({"small": 0.01}, "tanh", depth=10, width=512)["small"]
    predicted = (0.01 * math.sqrt(512)) ** 10
    assert predicted == pytest.approx(3.5e-7, rel=0.01)
    assert 0.85 < stds[9] / predicted < 1.05                # tanh(z) < z: the first layer loses ~5 %
    assert 0.2 < stds[9] * 1e6 < 0.45                        # "around 3·10⁻⁷"


def test_relu_at_width_512_matches_the_bank_numbers():
    n = 512
    scales = {"N(0,1)": 1.0, "lecun": 1 / math.sqrt(n), "he": math.sqrt(2 / n)}
    for seed in (0, 1, 2):
        stds = E.scale_sweep(scales, "relu", depth=50, width=n, batch=32, rng=seed)
        for label, s in scales.items():
            theory = RELU_STD * math.sqrt(n) * s * (n * s * s / 2) ** ((np.arange(1, 51) - 1) / 2)
            assert stds[label][0] == pytest.approx(theory[0], rel=0.05)
            if label != "he":
                ratio = stds[label][[9, 49]] / theory[[9, 49]]
                assert np.all((ratio > 1 / 3) & (ratio < 3)), (label, seed, ratio)
        assert 10 < stds["N(0,1)"][0] < 16 and 1e11 < stds["N(0,1)"][9] < 1e13
        assert 1e59 < stds["N(0,1)"][49] < 1e61
        assert 0.55 < stds["lecun"][0] < 0.61 and 0.015 < stds["lecun"][9] < 0.04
        assert 5e-9 < stds["lecun"][49] < 5e-8
        assert 0.35 < stds["he"].min() and stds["he"].max() < 1.6          # "of order 1, up to about 1.5"
        # float32 (max 3.4e38) overflows "after about 30 layers": the std passes 3.4e38 / 5 there
        crossing = int(np.argmax(stds["N(0,1)"] > 3.4e38 / 5)) + 1
        assert 28 <= crossing <= 33


def test_prior_bias_starts_at_the_label_entropy():
    assert E.prior_bias(0.01) == pytest.approx(math.log(0.01 / 0.99))
    assert E.prior_bias(0.01) == pytest.approx(-4.595, abs=1e-3)
    targets = (np.arange(10_000) < 100).astype(float)[:, None]
    bce = losses.BCEWithLogitsLoss()
    entropy = -(0.01 * math.log(0.01) + 0.99 * math.log(0.99))
    assert bce.forward(np.full_like(targets, E.prior_bias(0.01)), targets) == pytest.approx(entropy, rel=1e-10)
    assert entropy == pytest.approx(0.056, abs=1e-3)
    assert bce.forward(np.zeros_like(targets), targets) == pytest.approx(math.log(2))


# ---------------------------------------------------------------- INIT-03

WIDTHS = (64, 512, 128, 256, 32)


def test_signal_factors_match_the_fan_formulas():
    fans = list(zip(WIDTHS[:-1], WIDTHS[1:], strict=False))
    variances = {"lecun": [1 / a for a, b in fans], "xavier": [2 / (a + b) for a, b in fans],
                 "he": [2 / a for a, b in fans]}
    for scheme, v in variances.items():
        f = E.signal_factors(WIDTHS, scheme)
        forward = np.array([a * var for (a, _), var in zip(fans, v, strict=True)])
        backward = np.array([b * var for (_, b), var in zip(fans, v, strict=True)])
        np.testing.assert_allclose(f.forward_formula, forward, rtol=1e-12)
        np.testing.assert_allclose(f.backward_formula, backward, rtol=1e-12)
        np.testing.assert_allclose(f.forward, forward, rtol=0.08)
        np.testing.assert_allclose(f.backward, backward, rtol=0.08)
    xavier = E.signal_factors(WIDTHS, "xavier")
    for (a, b), forward, backward in zip(fans, xavier.forward_formula, xavier.backward_formula, strict=True):
        assert min(1, a / b) <= forward <= max(1, a / b) and min(1, b / a) <= backward <= max(1, b / a)
    assert xavier.backward_formula[0] == pytest.approx(1.778, abs=1e-3)
    lecun = E.signal_factors(WIDTHS, "lecun")
    np.testing.assert_allclose(lecun.backward_formula, [8, 0.25, 2, 0.125])
    assert np.prod(lecun.forward) == pytest.approx(1.0, rel=0.1)
    assert np.prod(lecun.backward) == pytest.approx(WIDTHS[-1] / WIDTHS[0], rel=0.1)   # telescopes


def test_one_layer_variance_is_n_in_var_w_var_x():
    rng = np.random.default_rng(2)
    W = init.normal((400, 300), rng, std=0.03)
    x = 2.0 * rng.standard_normal((3000, 400))
    assert np.var(x @ W) == pytest.approx(400 * 0.03 ** 2 * 4.0, rel=0.05)


@pytest.fixture(scope="module")
def profiles():
    return {(a, s): E.depth_profile(s, a, depth=30, width=256)
            for a in ("tanh", "relu", "sigmoid") for s in ("small normal", "large normal", "xavier", "he")}


def test_relu_xavier_halves_and_he_keeps_the_second_moment():
    for seed in (0, 1, 2):
        xavier = E.depth_profile("xavier", "relu", depth=30, width=256, rng=seed)
        he = E.depth_profile("he", "relu", depth=30, width=256, rng=seed)
        assert 0.45 <= geometric_mean(xavier.moment_ratios) <= 0.55
        assert 0.93 <= geometric_mean(he.moment_ratios) <= 1.07
        assert np.all((he.moment_ratios > 0.6) & (he.moment_ratios < 1.45))
        assert xavier.stds[-1] < 1e-3 < 0.3 < he.stds[-1] < 2.0


def test_the_activation_table_of_init_03(profiles):
    grad_ratio = {key: p.grad_norms[0] / p.grad_norms[-2] for key, p in profiles.items()}
    assert 0.5 < grad_ratio["tanh", "xavier"] < 2                       # "within a factor 2"
    assert 2.5 < grad_ratio["tanh", "he"] < 8                           # grows toward the input ...
    assert 1.03 < grad_ratio["tanh", "he"] ** (1 / 29) < 1.08          # ... about 5 % per layer
    assert grad_ratio["sigmoid", "xavier"] < 1e-12 and grad_ratio["sigmoid", "he"] < 1e-12
    for scheme in ("xavier", "he"):
        sig = profiles["sigmoid", scheme]
        assert 0.05 < sig.stds[-1] < 0.5 and 0.95 < geometric_mean(sig.moment_ratios) < 1.05
    assert profiles["relu", "xavier"].stds[-1] < 1e-4 and profiles["relu", "he"].stds[-1] > 0.3


def test_no_scale_keeps_sigmoid_units_unsaturated_and_the_gradient_intact():
    """INIT-03, experiment 3, over 20 seeds: a large gain restores the gradient only by saturating the units."""
    sweep = E.sigmoid_scale_sweep(gains=(1.0, 4.0, 8.0, 11.0, 14.0), seeds=range(20), depth=30, width=256)
    assert sweep.grad_ratio.shape == sweep.saturated.shape == (5, 20)
    median = dict(zip(sweep.gains, np.median(sweep.grad_ratio, axis=1), strict=True))
    saturated = dict(zip(sweep.gains, sweep.saturated.mean(axis=1), strict=True))
    # unsaturated (g <= 4: at most 4 % saturated) -> the gradient vanishes on every seed
    assert saturated[1.0] < 0.01 and saturated[4.0] < 0.05
    assert np.all(sweep.grad_ratio[:2] < 1e-5)                     # measured < 2e-6
    # g = 11: the gradient arrives intact (median ~1.3, 0.6-2.5) with ~48 % of the units saturated
    assert 0.3 < median[11.0] < 5 and 0.4 < saturated[11.0] < 0.55
    # g = 14: overshoots (explodes toward the input), more saturation still
    assert median[14.0] > 10 and saturated[14.0] > 0.5
    # the trade-off on every seed: wherever the ratio is within 10x of 1, at least 40 % are saturated
    intact = (sweep.grad_ratio > 0.1) & (sweep.grad_ratio < 10)
    assert intact.any() and np.all(sweep.saturated[intact] > 0.4)


# ---------------------------------------------------------------- INIT-04

def mean_field_tanh_stds(gain2, depth):
    """Infinite-width std of each tanh layer: q₁ = gain²·E[x²] (= gain² here), q_{l+1} = gain²·E[tanh²(√q_l z)]."""
    q, stds = gain2, []
    for _ in range(depth):
        m2 = gauss_expect(lambda v: np.tanh(v) ** 2, q)
        stds.append(math.sqrt(m2))
        q = gain2 * m2
    return np.array(stds)


def test_tanh_xavier_std_after_20_layers_is_in_the_stated_band():
    theory = mean_field_tanh_stds(1.0, 20)
    assert theory[-1] == pytest.approx(1 / math.sqrt(40), rel=0.03)            # "like 1/√(2l)"
    for seed in (0, 1):
        p = E.depth_profile("xavier", "tanh", depth=30, width=256, rng=seed)
        assert 0.13 <= p.stds[19] <= 0.18                                       # the stated band
        assert p.stds[19] == pytest.approx(theory[-1], rel=0.10)


def test_exponential_factors_match_n_var_w_c_phi(profiles):
    theory = {("tanh", "small normal"): 256e-4, ("relu", "small normal"): 128e-4,
              ("relu", "large normal"): 128.0, ("relu", "xavier"): 0.5, ("relu", "he"): 1.0}
    for key, factor in theory.items():
        assert geometric_mean(profiles[key].moment_ratios) == pytest.approx(factor, rel=0.05), key
    tanh_large = profiles["tanh", "large normal"]
    pinned = mean_field_tanh_stds(256.0, 3)[-1]
    assert np.all(np.abs(tanh_large.stds / pinned - 1) < 0.02) and 0.96 < pinned < 0.99
    assert 0.5 < profiles["tanh", "he"].stds[19] < 0.6


def test_gradients_small_init_vanish_in_every_layer_alike(profiles):
    for activation, ceiling in (("tanh", 1e-20), ("relu", 1e-25)):
        g = profiles[activation, "small normal"].grad_norms[:-1]
        assert g.max() < ceiling and g.max() / g.min() < 2


def test_gradients_explode_toward_the_input_with_large_tanh_weights(profiles):
    """Chaotic regime: per layer the squared gradient grows by χ = n·σ_w²·E[tanh'(z)²], z ~ N(0, q*)."""
    g = profiles["tanh", "large normal"].grad_norms
    q = 256.0
    for _ in range(50):
        q = 256.0 * gauss_expect(lambda v: np.tanh(v) ** 2, q)
    chi = 256.0 * gauss_expect(lambda v: 1 / np.cosh(v) ** 4, q)
    assert chi == pytest.approx(8.6, rel=0.05)
    growth = (g[4] / g[24]) ** (1 / 20)                      # per layer, away from both ends
    assert growth == pytest.approx(math.sqrt(chi), rel=0.15)
    assert g[0] > 1e13 and g[0] / g[-2] > 1e12


def test_good_init_keeps_gradients_of_one_scale(profiles):
    tanh = profiles["tanh", "xavier"].grad_norms[:-1]
    relu = profiles["relu", "he"].grad_norms[:-1]
    assert 0.1 < tanh.min() and tanh.max() / tanh.min() < 1.5
    assert 0.5 < relu.min() and relu.max() < 20 and relu.max() / relu.min() < 10
    large = profiles["relu", "large normal"].grad_norms
    assert np.all((large > 1e30) & (large < 1e34))


def test_profile_gradients_equal_diagnostics_gradient_norms():
    p = E.depth_profile("large normal", "tanh", depth=12, width=64, batch=32, rng=7)
    rng = np.random.default_rng(7)                       # the profile draws X, y, then the weights
    X, y = rng.standard_normal((32, 64)), rng.integers(0, 10, 32)
    model = E.deep_mlp(12, 64, "tanh", "large normal", num_classes=10, rng=rng)
    norms = [norm for _, _, norm in diagnostics.gradient_norms(model, losses.CrossEntropyLoss(), X, y)]
    np.testing.assert_allclose(p.grad_norms, norms, rtol=1e-10)
    np.testing.assert_allclose(p.stds, E.activation_stds(model, X), rtol=1e-12)
    # the last back-propagated signal is (softmax − onehot) / N times the head's weights, transposed
    logits = model.forward(X)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(32), y] -= 1
    assert p.backward_stds[-1] == pytest.approx(np.std(probs / 32 @ model[-1].weight.value.T), rel=1e-10)


def test_profile_histograms_count_every_entry():
    p = E.depth_profile("xavier", "tanh", depth=9, width=32, batch=16, bins=20)
    assert p.hist_layers == (1, 3, 6, 9) and p.act_counts.shape == (4, 20) and p.grad_counts.shape == (4, 20)
    np.testing.assert_allclose(p.act_counts.sum(axis=1), 1.0)
    np.testing.assert_allclose(p.grad_counts.sum(axis=1), 1.0)
    assert p.act_edges[0] == -1 and p.act_edges[-1] == 1 and p.grad_edges[0] == -p.grad_edges[-1]
    assert E.default_hist_layers(2) == (1, 2) and E.default_hist_layers(1) == (1,)
    zeros = E.depth_profile("zeros", "relu", depth=4, width=8, batch=4)
    assert np.all(zeros.stds == 0) and np.all(zeros.grad_norms == 0) and zeros.loss == pytest.approx(math.log(10))
    np.testing.assert_array_equal(p.layers, np.arange(1, 10))


def test_jacobian_singular_values_spread_unless_orthogonal():
    gaussian = E.jacobian_singular_values(30, 256, "gaussian")
    orthogonal = E.jacobian_singular_values(30, 256, "orthogonal")
    np.testing.assert_allclose(orthogonal, 1.0, atol=1e-10)
    assert gaussian[0] > 3 and gaussian[-1] < 1e-10 and 0.5 < np.mean(gaussian ** 2) < 2


def test_flat_gain_is_exact_for_relu_and_close_to_sqrt_two():
    kwargs = dict(width=E.EXPLORER_WIDTH, batch=E.EXPLORER_BATCH, rng=E.EXPLORER_SEED)
    gain = E.flat_gain("relu", "xavier", depth=30, **kwargs)
    at_one = E.depth_profile("xavier", "relu", 30, **kwargs)
    assert gain == pytest.approx((at_one.stds[0] / at_one.stds[-1]) ** (1 / 29), rel=1e-12)
    flat = E.depth_profile("xavier", "relu", 30, gain=gain, **kwargs)
    assert flat.stds[-1] / flat.stds[0] == pytest.approx(1.0, rel=1e-8)
    np.testing.assert_allclose(flat.stds, at_one.stds * gain ** np.arange(1, 31), rtol=1e-9)
    assert gain == pytest.approx(math.sqrt(2), rel=0.03)
    for seed in (1, 2):
        assert E.flat_gain("relu", "xavier", depth=30, width=256, rng=seed) == pytest.approx(math.sqrt(2), rel=0.05)
    with pytest.raises(ValueError, match="homogeneous"):
        E.flat_gain("tanh")
    with pytest.raises(ValueError, match="depth"):
        E.flat_gain("relu", depth=1)


def test_compounding_arithmetic():
    assert 1.1 ** 50 == pytest.approx(117, rel=0.01) and 0.9 ** 50 == pytest.approx(0.005, rel=0.05)


# ---------------------------------------------------------------- INIT-04b and training speed

SETTINGS = {"tanh": ("small normal", "large normal", "xavier"),
            "relu": ("small normal", "large normal", "xavier", "he")}


@pytest.fixture(scope="module")
def trained(digits):
    return {(a, s): E.train_deep(a, s, digits) for a, schemes in SETTINGS.items() for s in schemes}


def test_bad_inits_do_not_train_and_good_ones_do(trained):
    for activation in ("tanh", "relu"):
        small = trained[activation, "small normal"]
        assert small.initial_loss == pytest.approx(math.log(10), abs=1e-3)
        assert np.all(small.val_accuracy <= 0.15) and small.train_loss[-1] == pytest.approx(math.log(10), abs=0.01)
    large_tanh = trained["tanh", "large normal"]
    assert large_tanh.initial_loss > 8 and large_tanh.val_accuracy[-1] < 0.5 and large_tanh.diverged_at is None
    large_relu = trained["relu", "large normal"]
    assert large_relu.initial_loss > 1e6 and large_relu.diverged_at is not None and large_relu.diverged_at <= 3
    tanh = trained["tanh", "xavier"]
    assert tanh.epochs_to(0.9) <= 3 and tanh.val_accuracy[-1] >= 0.93              # "above 90 % after 3 epochs"
    assert abs(tanh.initial_loss - math.log(10)) < 0.5


def test_relu_he_trains_faster_than_relu_xavier(trained):
    xavier, he = trained["relu", "xavier"], trained["relu", "he"]
    assert xavier.val_accuracy[0] < 0.3 and xavier.train_loss[0] > 2.2          # barely moves in epoch 1
    assert he.val_accuracy[0] > 0.4 and he.val_accuracy[4] > 0.85 and he.epochs_to(0.9) <= 9   # "88 % by epoch 5"
    assert he.val_accuracy[-1] >= 0.93 and 0.8 <= xavier.val_accuracy[-1] < 0.9      # "95 %", "85.5 %"
    assert (xavier.epochs_to(0.9) or 11) > he.epochs_to(0.9)


def test_init_report_shows_every_bad_start_before_training(digits):
    X, y = digits.X_train[:256], digits.y_train[:256]
    reports = {(a, s): E.init_report(E.deep_mlp(10, 64, a, s, in_features=64, num_classes=10, rng=0), X, y)
               for a, schemes in SETTINGS.items() for s in schemes}
    for activation in ("tanh", "relu"):
        small = reports[activation, "small normal"]
        assert small.stds[-1] < 1e-9 and small.grad_norms.max() < 1e-9
    assert reports["tanh", "large normal"].saturated.max() > 0.6 and reports["tanh", "large normal"].loss > 8
    assert reports["relu", "large normal"].loss > 1e6
    xavier = reports["relu", "xavier"]
    assert 30 < xavier.stds[0] / xavier.stds[-1] < 60                              # "falls 40-fold"
    for key in (("tanh", "xavier"), ("relu", "he")):
        assert abs(reports[key].loss - math.log(10)) < 0.5 and reports[key].stds[-1] > 0.2
    model = E.deep_mlp(10, 64, "relu", "he", in_features=64, num_classes=10, rng=0)
    np.testing.assert_allclose(reports["relu", "he"].stds, E.activation_stds(model, X), rtol=1e-12)
    assert reports["relu", "he"].grad_norms.shape == (11,)


def test_deep_run_epochs_to():
    run = E.DeepRun("relu", "he", 2.3, np.array([2.0, 1.0]), np.array([0.5, 0.95]), None)
    assert run.epochs_to(0.9) == 2 and run.epochs_to(0.99) is None and run.epochs_to(0.1) == 1
