"""gdcourse.train.lr_range_test and RangeTestResult.

Expected values come from independent loops written here (gradient descent on least squares by
hand, the moving average by its recurrence) or from curves built by hand. The main claim: on the
digits MLP the suggested rate is within 3x of the best fixed rate found by a sweep.
"""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from gdcourse import losses, nn, optim
from gdcourse.data import load_digits
from gdcourse.train import RangeTestResult, TrainingDiverged, evaluate, fit, lr_range_test


def least_squares(n=64, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    return X, y[:, None]


def linear_model():
    return nn.Sequential(nn.Linear(3, 1, bias=False, init="zeros"))


def sgd(params):
    return optim.SGD(params, lr=1e-3)


def reference_ema(values, beta):
    average, out = 0.0, []
    for t, value in enumerate(values):
        average = beta * average + (1 - beta) * value
        out.append(average / (1 - beta ** (t + 1)))
    return np.array(out)


# ---------------------------------------------------------------- the schedule and the recorded losses

def test_rates_grow_geometrically_from_lr_min_to_lr_max():
    X, y = least_squares()
    result = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e-4, lr_max=1e-2, steps=21,
                           batch_size=64, rng=0)
    assert not result.stopped_early and len(result.rates) == 21
    assert result.rates[0] == pytest.approx(1e-4) and result.rates[-1] == pytest.approx(1e-2)
    np.testing.assert_allclose(result.rates[1:] / result.rates[:-1], 10 ** (2 / 20), rtol=1e-12)


def test_each_step_uses_its_rate_and_records_the_loss_before_the_update():
    """Full batch, so the batch order does not matter: replay gradient descent on least squares by hand."""
    X, y = least_squares()
    result = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e-3, lr_max=0.3, steps=15,
                           batch_size=len(X), smooth=0.9, rng=0)
    w = np.zeros(3)
    expected = []
    for lr in 1e-3 * 300 ** (np.arange(15) / 14):
        residual = X @ w - y[:, 0]
        expected.append(np.mean(residual**2))
        w = w - lr * 2 * X.T @ residual / len(X)
    np.testing.assert_allclose(result.losses, expected, rtol=1e-9)
    np.testing.assert_allclose(result.smoothed, reference_ema(expected, 0.9), rtol=1e-12)


def test_smooth_zero_keeps_the_raw_losses():
    X, y = least_squares()
    result = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e-3, lr_max=0.1, steps=10,
                           batch_size=16, smooth=0.0, rng=0)
    np.testing.assert_array_equal(result.smoothed, result.losses)


def test_same_seed_same_curve_and_batches_come_from_rng():
    X, y = least_squares()
    run = lambda seed: lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e-3, lr_max=0.1,
                                     steps=30, batch_size=8, rng=seed)
    np.testing.assert_array_equal(run(3).losses, run(3).losses)
    assert not np.array_equal(run(3).losses, run(4).losses)


# ---------------------------------------------------------------- stopping

def test_stops_when_the_smoothed_loss_exceeds_four_times_its_minimum():
    X, y = least_squares()
    result = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e-3, lr_max=100.0, steps=200,
                           batch_size=64, smooth=0.5, rng=0)
    assert result.stopped_early and len(result.rates) < 200
    running_min = np.minimum.accumulate(result.smoothed)
    assert result.smoothed[-1] > 4 * running_min[-2]                       # the step that stopped it
    assert np.all(result.smoothed[:-1] <= 4 * running_min[:-1])            # nothing before did
    assert len(result.losses) == len(result.smoothed) == len(result.rates)


def test_a_larger_diverge_factor_runs_longer():
    X, y = least_squares()
    kwargs = dict(lr_min=1e-3, lr_max=100.0, steps=200, batch_size=64, smooth=0.5, rng=0)
    short = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), diverge_factor=2, **kwargs)
    long = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), diverge_factor=50, **kwargs)
    assert len(long.rates) > len(short.rates)


def test_stops_at_a_non_finite_loss():
    X, y = least_squares()
    result = lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), lr_min=1e3, lr_max=1e6, steps=100,
                           batch_size=64, smooth=0.0, diverge_factor=1e308, rng=0)
    assert result.stopped_early and not np.isfinite(result.losses[-1])
    assert np.all(np.isfinite(result.losses[:-1]))


# ---------------------------------------------------------------- the model is left as it was

def test_a_model_is_restored_and_a_factory_model_is_fresh():
    X = np.random.default_rng(0).standard_normal((40, 4))
    y = np.arange(40) % 3
    model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3, rng=1))
    model.eval()
    before = [p.value.copy() for p in model.parameters()]
    mean, var = model[1].running_mean.copy(), model[1].running_var.copy()
    seen = []

    def factory(params):
        seen.append(params)
        return optim.SGD(params, lr=0.1, momentum=0.9)

    result = lr_range_test(model, losses.CrossEntropyLoss(), factory, (X, y), lr_min=1e-3, lr_max=1.0,
                           steps=20, batch_size=10, rng=0)
    assert len(result.rates) > 1
    for p, value in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, value)
    np.testing.assert_array_equal(model[1].running_mean, mean)
    np.testing.assert_array_equal(model[1].running_var, var)
    assert model.training is False                                         # the mode is put back too
    assert seen[0] == model.parameters()                                   # a fresh optimizer on the model


def test_the_test_really_trained_the_model_it_was_given():
    """Restoring is not a no-op: the loss moved during the test."""
    X, y = least_squares()
    model = linear_model()
    result = lr_range_test(model, losses.MSELoss(), sgd, (X, y), lr_min=1e-3, lr_max=0.5, steps=20,
                           batch_size=64, rng=0)
    assert result.losses[-1] < 0.5 * result.losses[0]
    np.testing.assert_array_equal(model[0].weight.value, 0.0)


# ---------------------------------------------------------------- suggestions on hand-made curves

def handmade(smoothed, rates=None):
    smoothed = np.asarray(smoothed, dtype=float)
    rates = np.logspace(-4, 0, len(smoothed)) if rates is None else rates
    return RangeTestResult(rates, smoothed.copy(), smoothed, False, rates[0], rates[-1])


def test_minimum_rule_is_the_rate_at_the_lowest_smoothed_loss_over_ten():
    curve = np.concatenate([np.linspace(3, 1, 60), np.linspace(1, 5, 40)])
    result = handmade(curve)
    assert result.suggestion() == pytest.approx(result.rates[59] / 10)
    assert result.suggestion("minimum") == result.suggestion()


def test_steepest_rule_finds_the_middle_of_a_symmetric_drop():
    log_r = np.linspace(-4, 0, 201)
    curve = 2 - np.tanh(3 * (log_r + 2))                    # steepest at log10(lr) = −2 …
    curve[180:] += np.linspace(0, 10, 21)                   # … then a blow-up after the minimum at index 180
    result = handmade(curve, 10**log_r)
    assert result.suggestion("steepest") == pytest.approx(1e-2, rel=1e-9)


def test_steepest_falls_back_when_the_minimum_comes_too_early():
    result = handmade(np.concatenate([[2.0, 1.0], np.linspace(1.5, 9, 98)]))
    expected = result.rates[1] / 10
    assert result.suggestion("steepest") == result.suggestion("minimum") == pytest.approx(expected)


def test_suggestion_rejects_unknown_methods():
    with pytest.raises(ValueError, match="method"):
        handmade(np.linspace(3, 1, 10)).suggestion("valley")


def test_plot_draws_the_curves_and_marks_the_suggestions():
    result = handmade(np.concatenate([np.linspace(3, 1, 60), np.linspace(1, 5, 40)]))
    ax = Figure().subplots()
    result.plot(ax)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), result.smoothed)
    vertical = [line.get_xdata()[0] for line in ax.lines[2:]]
    assert vertical == pytest.approx([result.suggestion(), result.suggestion("steepest")])
    assert ax.get_xscale() == "log"


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, match", [
    (dict(lr_min=0.0), "lr_min"),
    (dict(lr_max=1e-4), "lr_max"),
    (dict(steps=1), "steps"),
    (dict(steps=2.5), "steps"),
    (dict(batch_size=0), "batch_size"),
    (dict(smooth=1.0), "smooth"),
    (dict(diverge_factor=1.0), "diverge_factor"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    X, y = least_squares()
    args = dict(lr_min=1e-3, lr_max=1.0, steps=10, batch_size=8)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y), **args)


def test_bad_model_and_data():
    X, y = least_squares()
    args = dict(lr_min=1e-3, lr_max=1.0, steps=10, batch_size=8)
    with pytest.raises(TypeError, match="model"):
        lr_range_test("mlp", losses.MSELoss(), sgd, (X, y), **args)
    with pytest.raises(TypeError, match="factory returned"):
        lr_range_test(lambda: "not a module", losses.MSELoss(), sgd, (X, y), **args)
    with pytest.raises(ValueError, match="data"):
        lr_range_test(linear_model, losses.MSELoss(), sgd, X, **args)
    with pytest.raises(ValueError, match="same number of samples"):
        lr_range_test(linear_model, losses.MSELoss(), sgd, (X, y[:-1]), **args)


# ---------------------------------------------------------------- against a sweep of fixed rates

SWEEP_FACTOR = 3.0
"""The stated claim: the suggested rate is within this factor of the best fixed rate."""


@pytest.fixture(scope="module")
def digits():
    return load_digits(test_fraction=0.25, val_fraction=0.15, rng=0).standardized()


def digits_mlp(seed):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(64, 64, rng=rng), nn.ReLU(), nn.Linear(64, 10, rng=rng))


def best_fixed_rate(data, make_optimizer, seed, rates, epochs=2):
    """Train from the same init at each fixed rate; the rate with the lowest validation loss."""
    finals = []
    for lr in rates:
        model = digits_mlp(seed)
        optimizer = make_optimizer(model.parameters())
        optimizer.lr = lr
        try:
            with np.errstate(all="ignore"):
                fit(model, losses.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train), epochs=epochs,
                    batch_size=32, progress=False, rng=seed)
            value = evaluate(model, losses.CrossEntropyLoss(), data.X_val, data.y_val)["loss"]
        except TrainingDiverged:
            value = math.inf
        finals.append(value if math.isfinite(value) else math.inf)
    return rates[int(np.argmin(finals))]


@pytest.mark.parametrize("name, make_optimizer", [
    ("SGD momentum 0.9", lambda p: optim.SGD(p, lr=1e-3, momentum=0.9)),
    ("Adam", lambda p: optim.Adam(p, lr=1e-3)),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_suggestion_is_within_3x_of_the_best_fixed_rate(digits, name, make_optimizer, seed):
    with threadpool_limits(limits=1, user_api="blas"):
        result = lr_range_test(lambda: digits_mlp(seed), losses.CrossEntropyLoss(), make_optimizer,
                               (digits.X_train, digits.y_train), lr_min=1e-4, lr_max=10.0, steps=200,
                               batch_size=32, rng=seed)
        best = best_fixed_rate(digits, make_optimizer, seed, np.logspace(-3, 0, 13))
    suggested = result.suggestion()
    assert result.stopped_early                          # the range reached the divergence
    assert best / SWEEP_FACTOR <= suggested <= best * SWEEP_FACTOR, (name, seed, suggested, best)
