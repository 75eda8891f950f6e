"""Notebook 06 (normalization): every quantitative claim it makes, and the unit tests of
gdcourse.experiments.normalization that produce them.

Expected values come from formulas written out here (per-column loops, closed forms, brute force over
all batches of a tiny data set), never from the function under test. Tolerances are stated where they
are not exact. Training runs use the notebook's exact settings, shared through module fixtures.
"""

import math

import numpy as np
import pytest

from gdcourse import gradcheck, losses, nn
from gdcourse.experiments import normalization as E
from gdcourse.nn.module import Module

EPS = 1e-5


def bn_by_hand(x, eps=EPS):
    """Training-mode batch norm, one column at a time (biased variance)."""
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        mean = sum(col) / len(col)
        var = sum((c - mean) ** 2 for c in col) / len(col)
        out[:, j] = (col - mean) / math.sqrt(var + eps)
    return out


def ln_by_hand(x, eps=EPS):
    return bn_by_hand(x.T, eps).T


@pytest.fixture(scope="module")
def digits():
    return E.digits()


# ---------------------------------------------------------------- population and axes (NORM-02)

def test_feature_population_scales_and_reuses_the_same_draws():
    small = E.feature_population(num_samples=5000, num_features=3, feature_scale=100.0, rng=4)
    np.testing.assert_allclose(small.stds, [1.0, 10.0, 100.0])
    np.testing.assert_allclose(small.means, [-2.0, 0.5 * 10, 3.0 * 100])
    np.testing.assert_allclose(small.X.std(axis=0) / small.stds, 1.0, atol=0.05)
    other = E.feature_population(num_samples=5000, num_features=3, feature_scale=4.0, rng=4)
    # same standard-normal draws, only rescaled: the standardized values agree exactly
    np.testing.assert_allclose((small.X - small.means) / small.stds, (other.X - other.means) / other.stds)


def test_axis_statistics_are_column_and_row_statistics():
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    stats = E.axis_statistics(x)
    for j in range(4):
        assert stats.feature_mean[j] == pytest.approx(sum(x[:, j]) / 3)
        assert stats.feature_std[j] == pytest.approx(math.sqrt(sum((x[:, j] - x[:, j].mean()) ** 2) / 3))
    for i in range(3):
        assert stats.sample_std[i] == pytest.approx(math.sqrt(sum((x[i] - x[i].mean()) ** 2) / 4))


def test_batch_norm_normalizes_columns_and_layer_norm_rows():
    small = E.feature_population(num_samples=4, num_features=3, feature_scale=100.0, rng=3).X
    bn, ln = E.batch_and_layer_norm(small)
    np.testing.assert_allclose(bn, bn_by_hand(small), atol=1e-12)
    np.testing.assert_allclose(ln, ln_by_hand(small), atol=1e-12)
    np.testing.assert_allclose(bn.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(bn.std(axis=0), 1, atol=1e-4)         # std · sqrt(var / (var + eps))
    np.testing.assert_allclose(ln.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(ln.std(axis=1), 1, atol=1e-6)
    assert np.abs(bn.mean(axis=1)).max() > 0.1 and np.abs(ln.mean(axis=0)).max() > 0.5   # not the other axis
    with pytest.raises(ValueError, match="at least 2 samples"):
        E.batch_and_layer_norm(small[:1])


def test_layer_norm_is_the_same_in_both_modes_and_for_any_batch():
    small = E.feature_population(num_samples=4, num_features=3, feature_scale=100.0, rng=3).X
    ln = nn.LayerNorm(3)
    np.testing.assert_array_equal(ln.train()(small), ln.eval()(small))
    np.testing.assert_array_equal(ln(small[:1]), ln(small)[:1])
    bn = nn.BatchNorm1d(3)
    train_out = bn.train()(small)
    assert np.abs(train_out - bn.eval()(small)).max() > 1.0


# ---------------------------------------------------------------- running statistics (NORM-01)

def test_running_statistics_follow_the_momentum_recurrence_with_unbiased_variance():
    pop = E.feature_population(num_samples=50, num_features=2, feature_scale=3.0, rng=0)
    trace = E.running_statistics(pop.X, batch_size=5, steps=6, momentum=0.1, rng=1)
    mean, var = np.zeros(2), np.ones(2)
    np.testing.assert_array_equal(trace.mean[0], mean)
    np.testing.assert_array_equal(trace.var[0], var)
    for t in range(6):
        np.testing.assert_allclose(trace.batch_var_unbiased[t], trace.batch_var_biased[t] * 5 / 4)
        mean = 0.9 * mean + 0.1 * trace.batch_mean[t]
        var = 0.9 * var + 0.1 * trace.batch_var_unbiased[t]
        np.testing.assert_allclose(trace.mean[t + 1], mean)
        np.testing.assert_allclose(trace.var[t + 1], var)


def test_batch_statistics_of_a_batch_that_is_the_whole_data():
    X = np.array([[1.0, 10.0], [2.0, 0.0], [4.0, 5.0], [5.0, 1.0]])
    trace = E.running_statistics(X, batch_size=4, steps=3, momentum=0.5, rng=0)
    np.testing.assert_allclose(trace.batch_mean, np.tile([3.0, 4.0], (3, 1)))
    np.testing.assert_allclose(trace.batch_var_biased, np.tile([2.5, 15.5], (3, 1)))
    np.testing.assert_allclose(trace.mean[-1], [3.0 * (1 - 0.5 ** 3), 4.0 * (1 - 0.5 ** 3)])


def test_one_batch_with_momentum_one_stores_the_unbiased_variance():
    X = np.array([[1.0, 10.0], [2.0, 0.0], [4.0, 5.0]])
    trace = E.running_statistics(X, batch_size=3, steps=1, momentum=1.0, rng=0)
    np.testing.assert_allclose(trace.mean[1], [7 / 3, 5.0])
    np.testing.assert_allclose(trace.var[1], [np.var([1, 2, 4], ddof=1), 25.0])


def test_biased_batch_variance_is_three_quarters_of_the_truth_for_batches_of_four():
    pop = E.feature_population(num_features=2, feature_scale=3.0, rng=0)
    true_var = pop.X.var(axis=0)
    long = E.running_statistics(pop.X, batch_size=4, steps=4000, rng=5)
    np.testing.assert_allclose(long.batch_var_biased.mean(axis=0) / true_var, 0.75, atol=0.04)
    np.testing.assert_allclose(long.batch_var_unbiased.mean(axis=0) / true_var, 1.0, atol=0.05)
    shown = E.running_statistics(pop.X, batch_size=4, steps=300, momentum=0.1, rng=1)   # the notebook's run
    assert np.all(np.abs(shown.batch_var_biased.mean(axis=0) / true_var - 0.75) < 0.06)
    assert np.all(np.abs(shown.batch_var_unbiased.mean(axis=0) / true_var - 1.0) < 0.08)
    np.testing.assert_allclose(shown.mean[-1], pop.X.mean(axis=0), atol=1.0)        # jitter of a few σ/√4


# ---------------------------------------------------------------- batch-size effects (NORM-02)

def test_sample_outputs_with_the_whole_data_as_the_batch_equal_batch_norm():
    X = np.random.default_rng(0).standard_normal((6, 3)) * [1.0, 5.0, 0.1]
    outputs = E.sample_outputs_across_batches(X, 2, batch_size=6, trials=4, rng=0)
    np.testing.assert_allclose(outputs, np.tile(bn_by_hand(X)[2], (4, 1)), atol=1e-12)


def test_sample_outputs_come_from_batches_that_contain_the_sample():
    X = np.random.default_rng(1).standard_normal((4, 2))
    outputs = E.sample_outputs_across_batches(X, 0, batch_size=2, trials=60, rng=3)
    possible = [bn_by_hand(X[[0, j]])[0] for j in (1, 2, 3)]            # every batch of 2 holding sample 0
    for row in outputs:
        assert any(np.allclose(row, p) for p in possible)
    seen = {min(range(3), key=lambda k: np.abs(row - possible[k]).max()) for row in outputs}
    assert seen == {0, 1, 2}


def test_batch_of_two_gives_plus_or_minus_one():
    pop = E.feature_population(rng=0)
    pairs = E.sample_outputs_across_batches(pop.X, 0, batch_size=2, trials=50, rng=1)
    # |x̂| = |d/2| / sqrt(d²/4 + eps) for the difference d of the pair: below 1 by about 2 eps / d²
    assert np.all(np.abs(pairs) < 1) and np.all(np.abs(pairs) > 0.98)
    assert np.median(np.abs(pairs)) > 0.9999


def test_output_spread_falls_roughly_like_one_over_root_b():
    pop = E.feature_population(rng=0)
    sizes = [2, 4, 8, 16, 32, 64]
    spread = E.output_spread(pop.X, 0, sizes, trials=200, rng=1)      # the notebook's call
    assert np.all(np.diff(spread) < 0)
    assert 0.9 < spread[0] < 1.01 and spread[-1] < 0.15
    assert spread[0] / spread[-1] > 5
    np.testing.assert_allclose(spread[1:] * np.sqrt(sizes[1:]), spread[1] * 2, rtol=0.3)


def test_batch_mean_coverage_matches_the_gaussian_formula():
    x = np.random.default_rng(7).standard_normal(20000)
    sizes = np.array([1, 4, 16, 43])
    got = E.batch_mean_coverage(x, sizes, tolerance=0.3, trials=20000, rng=2)
    want = [math.erf(0.3 * math.sqrt(b) / math.sqrt(2)) for b in sizes]    # 2Φ(t√B) − 1
    np.testing.assert_allclose(got, want, atol=0.015)


def test_smallest_batch_size_is_exact():
    # NORM-02 Exercise 5: the key, the hint, the check's message and the notebook all say 43.
    assert E.smallest_batch_size() == 43 == math.ceil((1.959963985 / E.EXERCISE_TOLERANCE) ** 2)
    coverage = E.gaussian_batch_mean_coverage([42, 43])
    np.testing.assert_allclose(coverage, [0.94813, 0.95084], atol=5e-5)   # the figures the notebook quotes
    view = E.batch_size_view(43)
    assert view.answer == 43 and view.current_coverage >= 0.95
    assert E.batch_size_view(42).current_coverage < 0.95
    assert E.smallest_batch_size(tolerance=0.05) is None                 # would need about 1500


def test_exact_coverage_agrees_with_enough_monte_carlo_trials():
    # 400,000 Gaussian batches: standard error about 3.5e-4, so 42 and 43 are told apart (the old
    # 4,000-trial estimate, standard error 3.4e-3, was not enough and gave 42).
    x = np.random.default_rng(11).standard_normal(200_000)
    got = E.batch_mean_coverage(x, [42, 43], tolerance=0.3, trials=400_000, rng=3)
    np.testing.assert_allclose(got, E.gaussian_batch_mean_coverage([42, 43]), atol=1.5e-3)


# ---------------------------------------------------------------- the explorers' views

@pytest.mark.parametrize("batch_size, momentum", [(2, 0.1), (8, 0.1), (64, 0.3)])
def test_warmed_up_batch_norm_equals_calling_the_layer_on_every_batch(batch_size, momentum):
    X = E.feature_population(feature_scale=30.0, num_features=4, rng=2).X
    batches = np.random.default_rng(5).random((150, len(X))).argsort(axis=1)[:, :batch_size]
    layer = nn.BatchNorm1d(4, momentum=momentum)
    for rows in batches:
        layer(X[rows])
    fast = E.warmed_up_batch_norm(X, batches, momentum=momentum)
    np.testing.assert_allclose(fast.running_mean, layer.running_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.running_var, layer.running_var, rtol=1e-12, atol=1e-12)
    assert fast.num_batches_tracked == layer.num_batches_tracked == 150
    np.testing.assert_allclose(fast.eval()(X[:3]), layer.eval()(X[:3]), rtol=1e-12, atol=1e-12)


def test_norm_axes_view_contents():
    view = E.norm_axes_view(batch_size=6, feature_scale=10.0)
    pop = E.feature_population(feature_scale=10.0)
    np.testing.assert_array_equal(view.x, pop.X[:6])
    np.testing.assert_allclose(view.bn, bn_by_hand(view.x), atol=1e-12)
    np.testing.assert_allclose(view.ln, ln_by_hand(view.x), atol=1e-12)
    np.testing.assert_allclose(view.ln_output, ln_by_hand(pop.X[:1])[0], atol=1e-12)
    np.testing.assert_allclose(view.stats["batch norm"].feature_std, 1.0, atol=1e-4)
    np.testing.assert_allclose(view.stats["layer norm"].sample_std, 1.0, atol=1e-4)
    assert view.train_outputs.shape == (40, 4)
    # after 200 batches of 6 the running statistics are close to the population's: eval output near the truth
    truth = (pop.X[0] - pop.X.mean(axis=0)) / pop.X.std(axis=0)
    np.testing.assert_allclose(view.eval_output, truth, atol=0.35)
    # running statistics averaged from pairs are noisier: the explorer's "try batch size 2" remark
    error = {b: np.abs(E.norm_axes_view(batch_size=b).eval_output - truth).max() for b in (2, 64)}
    assert error[2] > 3 * error[64]
    with pytest.raises(ValueError, match="batch_size"):
        E.norm_axes_view(batch_size=1)


# ---------------------------------------------------------------- folding (NORM-01)

def test_fold_batchnorm_by_columns():
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.1, 2, 3)
    W2, b2 = E.fold_batchnorm(W, b, gamma, beta, mean, var)
    for j in range(3):
        s = gamma[j] / math.sqrt(var[j] + EPS)
        np.testing.assert_allclose(W2[:, j], W[:, j] * s)
        assert b2[j] == pytest.approx((b[j] - mean[j]) * s + beta[j])
    with pytest.raises(ValueError, match="running_var"):
        E.fold_batchnorm(W, b, gamma, beta, mean, var[:2])


def test_folded_linear_equals_linear_then_batchnorm_in_eval_mode():
    rng = np.random.default_rng(3)
    linear, bn = nn.Linear(4, 3, rng=1), nn.BatchNorm1d(3)
    linear.bias.value = rng.standard_normal(3)
    for _ in range(5):
        bn(linear(rng.standard_normal((16, 4)) * 3 + 1))       # training mode: running statistics move
    bn.gamma.value, bn.beta.value = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    bn.eval()
    x = rng.standard_normal((10, 4))
    np.testing.assert_allclose(E.folded_linear(linear, bn)(x), bn(linear(x)), atol=1e-12)
    with pytest.raises(TypeError, match="BatchNorm1d"):
        E.folded_linear(linear, nn.LayerNorm(3))


def test_bias_before_batch_norm_is_cancelled():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3))
    linear, bn = nn.Linear(3, 4, rng=2), nn.BatchNorm1d(4)
    without = bn(linear(x))
    linear.bias.value = np.array([5.0, -1.0, 2.0, 0.3])
    np.testing.assert_allclose(bn(linear(x)), without, atol=1e-12)


# ---------------------------------------------------------------- training mode vs evaluation mode

@pytest.fixture(scope="module")
def trained_bn_mlp(digits):
    model = E.deep_mlp(depth=2, width=64, activation="relu", norm="batch", rng=0)
    history = E.train_on_digits(model, digits, batch_size=64, epochs=5, lr=0.1)
    return model.eval(), history


def test_train_on_digits_uses_full_batches(digits):
    model = E.deep_mlp(depth=1, width=8, activation="relu", norm="batch", rng=0)
    history = E.train_on_digits(model, digits, batch_size=2, epochs=1, lr=0.01)
    assert len(history.step_loss) == len(digits.X_train) // 2      # 494 full pairs, no batch of one


def test_eval_mode_is_batch_independent_and_train_mode_is_not(trained_bn_mlp, digits):
    model, history = trained_bn_mlp
    X, y = digits.X_test, digits.y_test
    assert history["val_accuracy"][-1] > 0.93
    np.testing.assert_allclose(model(X[:1])[0], model(X[[0, 100, 200, 300]])[0], atol=1e-12)
    mixed, other = np.random.default_rng(1).permutation(450), np.random.default_rng(2).permutation(450)
    eval_pred = E.batched_predictions(model, X, 64, train_mode=False, order=mixed)
    np.testing.assert_array_equal(eval_pred, model(X).argmax(axis=1))              # order does not matter
    train_a = E.batched_predictions(model, X, 64, train_mode=True, order=mixed)
    train_b = E.batched_predictions(model, X, 64, train_mode=True, order=other)
    assert 0.005 < np.mean(train_a != train_b) < 0.1                                 # "a few flip"
    assert abs(np.mean(train_a == y) - np.mean(eval_pred == y)) < 0.03
    by_class = E.batched_predictions(model, X, 16, train_mode=True, order=np.argsort(y, kind="stable"))
    assert np.mean(by_class == y) < 0.3                                               # "collapses"
    pairs = E.batched_predictions(model, X, 2, train_mode=True, order=mixed)
    assert np.mean(pairs == y) < 0.7


def test_batched_predictions_leaves_the_model_as_it_was(trained_bn_mlp, digits):
    model, _ = trained_bn_mlp
    bn = model[1]
    before = (bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked)
    E.batched_predictions(model, digits.X_test, 16, train_mode=True)
    assert not model.training and bn.num_batches_tracked == before[2]
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])
    with pytest.raises(ValueError, match="order"):
        E.batched_predictions(model, digits.X_test, 16, train_mode=False, order=np.zeros(450, dtype=int))


def test_batch_of_one_is_refused_in_training_mode(trained_bn_mlp, digits):
    model, _ = trained_bn_mlp
    model.train()
    try:
        with pytest.raises(ValueError, match="at least 2 samples"):
            model(digits.X_test[:1])
    finally:
        model.eval()


def test_folding_the_trained_network_keeps_its_logits(trained_bn_mlp, digits):
    model, _ = trained_bn_mlp
    h = digits.X_test
    folded = (E.folded_linear(model[0], model[1]), nn.ReLU(), E.folded_linear(model[3], model[4]), nn.ReLU(),
              model[6])
    for layer in folded:
        h = layer(h)
    np.testing.assert_allclose(h, model(digits.X_test), atol=1e-10)


def test_batch_norm_fails_with_batches_of_two_and_layer_norm_does_not(digits):
    """The notebook's runs: two hidden layers of 64, 3 epochs, lr 0.1 · B/64, momentum 0.9."""
    runs = {}
    for norm in ("batch", "layer"):
        for b in (2, 64):
            model = E.deep_mlp(depth=2, width=64, activation="relu", norm=norm, rng=0)
            runs[norm, b] = E.train_on_digits(model, digits, batch_size=b, epochs=3, lr=0.1 * b / 64)
    assert runs["batch", 2]["train_loss"][-1] > 1.0 and runs["batch", 2]["val_accuracy"][-1] < 0.8
    for key in (("batch", 64), ("layer", 2), ("layer", 64)):
        assert runs[key]["train_loss"][-1] < 0.3 and runs[key]["val_accuracy"][-1] > 0.9
    assert runs["batch", 64]["val_accuracy"][-1] > runs["layer", 64]["val_accuracy"][-1]   # "slightly better"


# ---------------------------------------------------------------- deep networks (NORM-01, NORM-03)

def test_deep_mlp_structure():
    model = E.deep_mlp(depth=3, width=5, activation="tanh", norm="batch", noise=(0.3, 0.5), rng=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "BatchNorm1d", "InjectedNoise", "Tanh"] * 3 + ["Linear"]
    assert model[0].bias is None and E.deep_mlp(depth=1, norm=None)[0].bias is not None
    with pytest.raises(ValueError, match="activation"):
        E.deep_mlp(activation="swish")
    with pytest.raises(ValueError, match="norm"):
        E.deep_mlp(norm="group")


@pytest.fixture(scope="module")
def deep_runs(digits):
    """The notebook's runs: 10 layers of width 24, SGD 0.02 with momentum 0.9, 10 epochs."""
    runs, gradients = {}, {}
    for activation in ("sigmoid", "tanh"):
        for norm in (None, "batch", "layer"):
            model = E.deep_mlp(depth=10, width=24, activation=activation, norm=norm, rng=0)
            if activation == "sigmoid":
                gradients[norm] = E.linear_gradient_norms(model, digits.X_train[:256], digits.y_train[:256])
            runs[activation, norm] = E.train_on_digits(model, digits, epochs=10, lr=0.02, momentum=0.9)
    noisy = E.deep_mlp(depth=10, width=24, activation="sigmoid", norm="batch", noise=(0.3, 0.5), rng=0)
    runs["sigmoid", "noisy"] = E.train_on_digits(noisy, digits, epochs=10, lr=0.02, momentum=0.9)
    return runs, gradients


def test_deep_sigmoid_network_with_xavier_weights_trains_only_with_batch_norm(deep_runs):
    runs, gradients = deep_runs
    chance = math.log(10)
    for norm in (None, "layer"):
        assert runs["sigmoid", norm]["train_loss"][-1] > chance - 0.05
        assert runs["sigmoid", norm]["val_accuracy"][-1] < 0.2
    assert runs["sigmoid", "batch"]["val_accuracy"][-1] > 0.9
    assert gradients[None][0] / gradients[None][-1] < 1e-5                          # "about 1e-6"
    assert 1e-5 < gradients["layer"][0] / gradients["layer"][-1] < 1e-3            # "about 1e-4"
    assert 0.3 < gradients["batch"][0] / gradients["batch"][-1] < 3                # "about equal"
    assert len(gradients[None]) == 11


def test_batch_norm_is_not_the_only_way_through_ten_sigmoid_layers(digits):
    # NORM-01 (notebook and bank): 20 seeds per setting, validation accuracy after 10 epochs.
    rescue = E.sigmoid_rescue_runs(digits, seeds=20, epochs=10)
    xavier, larger, batch = rescue["Xavier"], rescue["Xavier × 10"], rescue["batch norm"]
    assert xavier.shape == larger.shape == batch.shape == (20,)
    assert np.all(xavier < 0.15)                                   # chance level from every seed
    assert 0.2 < np.median(larger) < 0.45 and np.sum(larger > 0.2) >= 12   # learns, partly ("median about 29%")
    assert np.all(batch > 0.88) and 0.92 < np.median(batch) < 0.98         # "93-97%"


def test_tanh_network_normalizations_over_20_seeds(digits):
    # NORM-01 discussion: "lowest training loss in 19 of 20; median 95% / 93% / 91%; plain >= BN in 1 of 20".
    runs = E.norm_comparison_seeds(digits, "tanh", seeds=20, epochs=10)
    (plain_acc, plain_loss), (bn_acc, bn_loss), (ln_acc, ln_loss) = runs[None], runs["batch"], runs["layer"]
    assert np.sum((bn_loss < plain_loss) & (bn_loss < ln_loss)) >= 16
    assert np.median(bn_acc) > np.median(ln_acc) > np.median(plain_acc)
    assert 0.93 < np.median(bn_acc) < 0.97 and 0.88 < np.median(plain_acc) < 0.94
    assert np.sum(plain_acc >= bn_acc) <= 4
    assert np.all(plain_acc > 0.8)                                  # the plain tanh network does train


def test_layer_norm_does_not_rescue_the_sigmoid_network_over_20_seeds(digits):
    runs = E.norm_comparison_seeds(digits, "sigmoid", seeds=20, epochs=10)
    assert np.all(runs[None][0] < 0.15) and np.all(runs["layer"][0] < 0.15)     # chance from every seed
    assert np.all(runs["batch"][0] > 0.88)


def test_injected_noise_over_20_seeds(digits):
    # NORM-03: "median 89%, range 82-94%, against 93-97% with plain batch norm"
    noisy = E.noisy_batch_norm_seeds(digits, seeds=20)
    assert noisy.shape == (20,) and np.all(noisy > 0.7)
    assert 0.84 < np.median(noisy) < 0.93


def test_deep_tanh_network_trains_in_every_variant(deep_runs):
    runs, _ = deep_runs
    for norm in (None, "batch", "layer"):
        assert runs["tanh", norm]["val_accuracy"][-1] > 0.85                         # "already trains well"
    assert runs["tanh", "batch"]["train_loss"][-1] < 0.15 < runs["tanh", None]["train_loss"][-1]  # 0.09 vs 0.28
    assert runs["tanh", "batch"]["train_loss"][-1] == min(runs["tanh", n]["train_loss"][-1]
                                                            for n in (None, "batch", "layer"))


def test_injected_noise_after_batch_norm_still_trains(deep_runs):
    runs, _ = deep_runs
    noisy, plain_bn = runs["sigmoid", "noisy"], runs["sigmoid", "batch"]
    assert noisy["val_accuracy"][-1] > 0.85 and runs["sigmoid", None]["val_accuracy"][-1] < 0.2
    assert plain_bn["val_accuracy"][-1] - noisy["val_accuracy"][-1] < 0.08             # "a few points"
    assert noisy["train_loss"][-1] > plain_bn["train_loss"][-1]                        # "costs training loss"


def test_injected_noise_layer():
    layer = E.InjectedNoise(3, scale_std=0.3, shift_std=0.5, rng=0)
    x = np.random.default_rng(1).standard_normal((5, 3))
    first, second = layer(x), layer(x)
    assert np.abs(first - second).max() > 0.05                     # fresh noise at every training step
    report = gradcheck.check_module(layer, x, rng=2)                # rng state restored between passes
    assert report.worst < 1e-8
    np.testing.assert_array_equal(layer.eval()(x), x)
    dy = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(dy), dy)
    assert isinstance(layer, Module)


# ---------------------------------------------------------------- landscape smoothness (NORM-03)

def test_loss_along_gradient_by_hand_and_leaves_the_model_unchanged():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    model = nn.Sequential(nn.Linear(3, 2, rng=1), nn.BatchNorm1d(2))
    W0 = model[0].weight.value.copy()
    model[0].weight.grad = np.full((3, 2), 7.0)
    running = model[1].running_mean.copy()
    values, changes = E.loss_along_gradient(model, X, y, lr=0.5, multipliers=(1.0, 2.0))
    np.testing.assert_array_equal(model[0].weight.value, W0)
    np.testing.assert_array_equal(model[0].weight.grad, 7.0)
    np.testing.assert_array_equal(model[1].running_mean, running)
    # by hand: the loss at θ − k·lr·g, with g from central differences of the loss
    params = model.parameters()
    start = [p.value.copy() for p in params]
    ce = losses.CrossEntropyLoss()

    def loss_at(vector):
        i = 0
        for p in params:
            p.value = vector[i:i + p.size].reshape(p.shape)
            i += p.size
        value = ce.forward(model(X), y)
        return value

    theta = np.concatenate([w.ravel() for w in start])
    g = gradcheck.numerical_gradient(lambda v: loss_at(v), theta.copy())
    for k, got in zip((1.0, 2.0), values, strict=True):
        assert got == pytest.approx(loss_at(theta - k * 0.5 * g), rel=1e-6)
    for p, w in zip(params, start, strict=True):
        p.value = w
    assert np.all(changes > 0)


def test_batch_norm_smooths_the_landscape_along_the_gradient(digits):
    traces = {}
    for norm in (None, "batch"):
        model = E.deep_mlp(depth=6, width=64, activation="relu", norm=norm, rng=0)
        traces[norm] = E.smoothness_during_training(model, digits.X_train, digits.y_train, lr=0.1, steps=60,
                                                    every=5)
    plain, bn = traces[None], traces["batch"]
    assert len(plain.steps) == 12 and len(plain.step_loss) == 60
    assert np.median(plain.loss_range) > 3 * np.median(bn.loss_range)              # notebook: 2.4 vs 0.27
    assert plain.loss_range.max() > 5 and bn.loss_range.max() < 1                   # "up to about 7", "< 1"
    assert np.median(plain.beta) > 1.4 * np.median(bn.beta)                          # "about half as fast"
    assert plain.loss_range[0] < bn.loss_range[0]                                    # flatter at init


def test_scale_invariance_of_batch_norm():
    result = E.scale_invariance(c=3.0)
    assert result.output_change < 1e-4                 # exact for eps = 0; eps/var ~ 1e-5 here
    assert np.abs(result.grad_dot_weight).max() < 1e-4
    assert result.grad_ratio == pytest.approx(1 / 3, rel=1e-4)


# ---------------------------------------------------------------- weight normalization (NORM-04)

def test_weight_norm_reparametrization():
    rng = np.random.default_rng(0)
    wn, plain = nn.WeightNormLinear(5, 3, rng=0), nn.Linear(5, 3, rng=0)
    x = rng.standard_normal((8, 5))
    np.testing.assert_allclose(np.linalg.norm(wn.weight, axis=0), wn.g.value)
    np.testing.assert_array_equal(wn(x), plain(x))
    wn.v.value = 7.0 * wn.v.value
    np.testing.assert_allclose(wn(x), plain(x), atol=1e-12)
    assert gradcheck.check_module(wn, x, rng=1).worst < 1e-7
    wn.zero_grad()
    wn(x)
    wn.backward(rng.standard_normal((8, 3)))
    np.testing.assert_allclose(np.sum(wn.v.grad * wn.v.value, axis=0), 0, atol=1e-12)


def test_badly_scaled_regression_and_its_curvature():
    problem = E.badly_scaled_regression(n=256, scales=(1.0, 100.0), noise=0.1, rng=0)
    np.testing.assert_allclose(problem.X, problem.Z * [1.0, 100.0])
    eig = E.mse_curvatures(problem.X)
    assert eig[-1] / eig[0] > 5e3                                   # notebook: condition number ~1e4
    top = eig[-1]
    # the threshold 2/L is real: just below it GD converges, just above it diverges
    below = E.fit_regression(nn.Linear(2, 1, rng=1), problem.X, problem.y, 0.95 * 2 / top, steps=400)
    above = E.fit_regression(nn.Linear(2, 1, rng=1), problem.X, problem.y, 1.05 * 2 / top, steps=400)
    assert not below.diverged and below.loss[-1] < below.loss[0]
    assert above.diverged


def test_weight_norm_v_can_only_grow_under_gradient_descent():
    problem = E.badly_scaled_regression(rng=0)
    top = E.mse_curvatures(problem.X)[-1]
    run = E.fit_regression(nn.WeightNormLinear(2, 1, rng=1), problem.X, problem.y, 2 * 2 / top)
    assert not run.diverged and run.v_norm[-1] > 2 * run.v_norm[0]
    assert np.all(np.diff(run.v_norm) >= -1e-12)                    # Pythagoras: ‖v'‖² = ‖v‖² + η²‖∇v‖²
    plain = E.fit_regression(nn.Linear(2, 1, rng=1), problem.X, problem.y, 0.1)
    assert plain.v_norm is None and plain.diverged


def test_weight_norm_comparison_claims():
    table = E.compare_weight_norm()                                 # the notebook's table: 10 problems × 2 inits
    assert table.final_loss["Linear", 0.5].size >= 20
    assert table.diverged["Linear", 2.0].all() and not table.diverged["WeightNormLinear", 2.0].any()
    assert not table.diverged["Linear", 0.5].any() and not table.diverged["WeightNormLinear", 0.5].any()
    plain, wn = table.final_loss["Linear", 0.5], table.final_loss["WeightNormLinear", 0.5]
    assert np.any(wn < plain) and np.any(wn > plain)                # "lower on some, higher on others"
    assert np.median(plain) > 0.1 and np.median(wn) > 0.1           # neither near the floor
    assert np.median(table.standardized) < 1.2 * table.noise_floor   # standardized inputs reach it


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="sample_index"):
        E.sample_outputs_across_batches(np.ones((4, 2)), 4, 2, 3)
    with pytest.raises(ValueError, match="batch_size"):
        E.running_statistics(np.ones((4, 2)), batch_size=5, steps=2)
    with pytest.raises(ValueError, match="tolerance"):
        E.batch_mean_coverage(np.ones(5), [2], tolerance=0)
    with pytest.raises(ValueError, match="scales"):
        E.badly_scaled_regression(scales=(1.0, -2.0))
    with pytest.raises(ValueError, match="level"):
        E.batch_size_view(8, level=1.5)
    with pytest.raises(ValueError, match="feature_scale"):
        E.feature_population(feature_scale=0)


def test_random_functions_are_reproducible():
    a = E.sample_outputs_across_batches(E.feature_population(rng=1).X, 3, 5, 7, rng=9)
    b = E.sample_outputs_across_batches(E.feature_population(rng=1).X, 3, 5, 7, rng=9)
    np.testing.assert_array_equal(a, b)
    c = E.batch_mean_coverage(np.arange(10.0), [2, 3], rng=1)
    np.testing.assert_array_equal(c, E.batch_mean_coverage(np.arange(10.0), [2, 3], rng=1))


def test_batch_size_two_hurts_batch_norm_not_layer_norm_over_20_seeds():
    # NORM-02, 20 seeds, 3 epochs: batch norm at B = 2 0.51-0.72 (mean 0.63, s.d. 0.05), at B = 64 0.96-0.98
    # (mean 0.972); layer norm 0.92-0.97 (mean 0.948) at B = 2, 0.88-0.96 (mean 0.936) at B = 64
    study = E.batch_vs_layer_study(seeds=20, epochs=3)
    bn2, bn64, ln2, ln64 = (study[k] for k in (("batch", 2), ("batch", 64), ("layer", 2), ("layer", 64)))
    assert all(v.shape == (20,) for v in (bn2, bn64, ln2, ln64))
    assert 0.5 <= bn2.mean() <= 0.75 and np.mean(bn2 < 0.8) >= 0.9              # measured 20 of 20 below 0.73
    assert 0.95 <= bn64.mean() <= 0.99 and 0.9 <= ln2.mean() <= 0.98 and 0.88 <= ln64.mean() <= 0.97
    assert np.mean(ln2 > bn2) >= 0.9                                             # measured 20 of 20
    assert np.mean(bn64 > ln64) >= 0.75                                          # measured 20 of 20
    assert abs(ln2.mean() - ln64.mean()) <= 0.04                                 # measured +0.012 ± 0.005 (s.e.)
    # the notebook's curves are seed 0 of the same runs
    assert study["batch", 2][0] == E.batch_vs_layer_accuracy("batch", 2, 3, rng=0)
    with pytest.raises(ValueError, match="norm"):
        E.batch_vs_layer_accuracy("group", 2, rng=0)


# ---- NORM-02c, NORM-02d, NORM-04c: RMSNorm vs LayerNorm, pre-LN vs post-LN, spectral normalization ----

def test_rmsnorm_is_rescale_invariant_but_not_recenter_invariant():
    # NORM-02c: both norms ignore x → 5x; only LayerNorm ignores x → x + 3 (RMSNorm moves by ~3.0)
    gaps = E.invariance_gaps(scale=5.0, shift=3.0, rng=0)
    assert gaps.rescale["layer"] < 1e-9 and gaps.rescale["rms"] < 1e-9
    assert gaps.recenter["layer"] < 1e-9
    assert gaps.recenter["rms"] > 0.5                                   # measured 2.97


def test_rmsnorm_matches_formula_written_out():
    x = np.random.default_rng(3).standard_normal((5, 7))
    layer = nn.RMSNorm(7, eps=1e-6)
    layer.weight.value = np.linspace(0.5, 2.0, 7)
    expected = np.array([[v / math.sqrt(sum(t * t for t in row) / 7 + 1e-6) for v in row] for row in x])
    np.testing.assert_allclose(layer.forward(x), expected * layer.weight.value, rtol=1e-12)


def test_residual_stacks_have_the_documented_layout():
    post, post_blocks = E.residual_stack("post", 3, 8, rng=0)
    pre, pre_blocks = E.residual_stack("pre", 3, 8, rng=0)
    assert [type(m).__name__ for m in post.layers] == ["Residual", "LayerNorm"] * 3
    assert [type(m).__name__ for m in pre.layers] == ["Residual"] * 3 + ["LayerNorm"]
    assert len(post_blocks) == len(pre_blocks) == 3
    x = np.random.default_rng(1).standard_normal((4, 8))
    h = x                                                               # post-LN by hand: LN(h + F(h))
    for block in post_blocks:
        z = h + block.forward(h)
        h = (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + EPS)
    np.testing.assert_allclose(post.forward(x), h, rtol=1e-10, atol=1e-12)


def test_block_gradient_norms_agree_with_finite_differences():
    # the gradient of Σ out·g with respect to one entry of the first block's W1, by central differences
    model, blocks = E.residual_stack("pre", 2, 4, rng=5)
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    model.zero_grad()
    model.forward(x)
    model.backward(g)
    W = blocks[0].layers[0].weight
    h = 1e-6
    W.value[1, 2] += h
    up = float((model.forward(x) * g).sum())
    W.value[1, 2] -= 2 * h
    down = float((model.forward(x) * g).sum())
    W.value[1, 2] += h
    assert abs((up - down) / (2 * h) - W.grad[1, 2]) < 1e-7 * max(1.0, abs(W.grad[1, 2]))


def test_pre_ln_gradients_shrink_like_one_over_sqrt_depth_post_ln_do_not():
    # NORM-02d: 20 seeds; median last-block ‖∂L/∂W1‖ pre-LN 1.27 → 0.66 (L = 4 → 16), post-LN 2.29 → 2.03
    study = E.block_gradient_study(depths=(4, 16), seeds=range(20), width=16)
    assert all(v.shape[0] >= 20 for v in study.values())
    med = {k: float(np.median(v[:, -1])) for k, v in study.items()}
    pre_ratio, post_ratio = med["pre", 4] / med["pre", 16], med["post", 4] / med["post", 16]
    assert 1.6 <= pre_ratio <= 2.4                                      # measured 1.91; √(16/4) = 2
    assert 0.8 <= post_ratio <= 1.4                                     # measured 1.13
    assert 1.0 <= med["pre", 4] <= 1.6 and 0.5 <= med["pre", 16] <= 0.85
    assert 1.7 <= med["post", 16] <= 2.8 and 1.7 <= med["post", 4] <= 2.8
    first = [float(np.median(v[:, 0])) for v in study.values()]
    assert all(1.8 <= f <= 3.0 for f in first)                         # measured 2.2-2.5


def test_spectral_norm_power_iteration_against_svd():
    W = np.random.default_rng(0).standard_normal((64, 32))
    exact = np.linalg.svd(W, compute_uv=False)[0]
    estimates = [E.spectral_norm_power_iteration(W, iters=k, rng=0)[0] for k in (1, 5, 20, 100, 300)]
    assert all(e <= exact * (1 + 1e-12) for e in estimates)            # a Rayleigh quotient: from below
    assert all(a <= b + 1e-12 for a, b in zip(estimates, estimates[1:], strict=False))
    assert abs(estimates[-1] - exact) < 1e-8 * exact
    sigma, u = E.spectral_norm_power_iteration(W, iters=300, rng=0)
    assert abs(np.linalg.norm(W.T @ u) - exact) < 1e-8 * exact


def test_lipschitz_bound_bounds_the_network_and_is_the_product_of_singular_values():
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((16, 16)) / 4 for _ in range(3)]
    bound = E.lipschitz_bound(Ws)
    assert abs(bound - np.prod([np.linalg.svd(W, compute_uv=False)[0] for W in Ws])) < 1e-10 * bound
    x, y = rng.standard_normal((2, 500, 16))
    f = lambda z: np.tanh(np.tanh(z @ Ws[0]) @ Ws[1]) @ Ws[2]     # noqa: E731
    ratios = np.linalg.norm(f(x) - f(y), axis=1) / np.linalg.norm(x - y, axis=1)
    assert ratios.max() <= bound


def test_post_ln_needs_warmup_pre_ln_does_not():
    # NORM-02d: 20 seeds, Adam at 0.03, 100 steps; relative loss MSE/var(y): post-LN without warmup
    # 0.999-1.000 (20 of 20 stuck at the mean), with a 33-step warmup median 0.0005, max 0.11;
    # pre-LN without warmup median 0.003, max 0.013
    study = E.warmup_study(seeds=range(20), warmup=33, lr=0.03)
    assert all(v.size >= 20 for v in study.values())
    post_cold, post_warm = study["post", 0], study["post", 33]
    pre_cold, pre_warm = study["pre", 0], study["pre", 33]
    assert np.mean(post_cold > 0.5) >= 0.85                             # measured 20 of 20
    assert np.mean(post_warm < 0.2) >= 0.85                             # measured 20 of 20
    assert np.mean(pre_cold < 0.2) >= 0.85 and np.mean(pre_warm < 0.2) >= 0.85
    assert np.median(post_warm) < 0.01 and np.median(pre_cold) < 0.02


def test_warmup_run_rate_schedule_and_validation():
    with pytest.raises(ValueError, match="warmup"):
        E.warmup_run("post", -1, rng=0)
    with pytest.raises(ValueError, match="kind"):
        E.warmup_run("middle", 0, rng=0)
    h = E.warmup_run("pre", 10, steps=5, rng=3)
    assert h.shape == (5,) and np.all(np.isfinite(h)) and h[0] > 0.5      # untrained: about var(y) or more


def test_group_norm_beats_batch_norm_at_two_samples_per_batch_but_not_at_64():
    # NORM-02e, 20 seeds: B = 2 (1 epoch) batch 0.44-0.67 (mean 0.57), group 0.88-0.94 (mean 0.91);
    # B = 64 (3 epochs) batch mean 0.972, group mean 0.936, batch ahead on 20 of 20 seeds
    tiny = E.small_batch_study(seeds=range(20), batch_size=2, epochs=1)
    usual = E.small_batch_study(seeds=range(20), batch_size=64, epochs=3)
    assert all(v.size >= 20 for v in (*tiny.values(), *usual.values()))
    assert 0.45 <= tiny["batch"].mean() <= 0.7 and 0.85 <= tiny["group"].mean() <= 0.96
    assert np.mean(tiny["group"] > tiny["batch"]) >= 0.9                # measured 20 of 20
    assert 0.95 <= usual["batch"].mean() <= 0.99 and 0.9 <= usual["group"].mean() <= 0.97
    assert np.mean(usual["batch"] > usual["group"]) >= 0.75             # measured 20 of 20


def test_small_batch_accuracy_validates_norm():
    with pytest.raises(ValueError, match="norm"):
        E.small_batch_accuracy("layer", rng=0)


def test_pre_ln_block_gradient_falls_like_one_over_sqrt_position_post_ln_is_flat():
    # NORM-02d: 20 seeds, L = 16; pre-LN median × √l in 2.5-3.0 for every block; post-LN 1.9-2.3 everywhere
    study = E.block_gradient_study(depths=(4, 16), seeds=range(20), width=16)
    pre = np.median(study["pre", 16], axis=0) * np.sqrt(np.arange(1, 17))
    assert pre.min() >= 2.2 and pre.max() <= 3.4 and pre.max() / pre.min() < 1.35   # measured 2.52-3.00
    for depth in (4, 16):
        post = np.median(study["post", depth], axis=0)
        assert post.min() >= 1.6 and post.max() <= 2.7 and post.max() / post.min() < 1.4  # measured 1.86-2.29
