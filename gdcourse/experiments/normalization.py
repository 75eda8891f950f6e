"""Computations behind notebook 06 (normalization) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.normalization` and ``tests/test_nb06_claims.py`` run the same code.

Batch norm (Ioffe & Szegedy, 2015) normalizes each feature over the batch, layer norm (Ba, Kiros &
Hinton, 2016) each sample over its features; both then apply a learned ``γ x̂ + β``. Weight
normalization (Salimans & Kingma, 2016) reparametrizes a weight column as ``w = g v / ‖v‖``.

Sections: a population with features of different scales and the statistics per axis; running
statistics; batch-size effects (spread of one sample's output, coverage of the batch mean); the
explorers' views; folding batch norm into a linear layer; networks on digits and the train-mode bug;
weight normalization on a badly scaled regression; internal covariate shift (injected noise, the loss
along the gradient, scale invariance).
"""

from __future__ import annotations

import functools
import numbers
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from gdcourse import diagnostics, losses, nn, optim
from gdcourse.train import fit
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = [
    "Population", "feature_population", "AxisStatistics", "axis_statistics", "batch_and_layer_norm",
    "RunningTrace", "running_statistics",
    "sample_outputs_across_batches", "output_spread", "batch_mean_coverage", "smallest_batch_size",
    "NormAxesView", "norm_axes_view", "BatchSizeView", "batch_size_view",
    "fold_batchnorm", "folded_linear",
    "deep_mlp", "train_on_digits", "linear_gradient_norms", "batched_predictions",
    "Regression", "badly_scaled_regression", "mse_curvatures", "RegressionRun", "fit_regression",
    "WeightNormComparison", "compare_weight_norm",
    "InjectedNoise", "SmoothnessTrace", "loss_along_gradient", "smoothness_during_training",
    "ScaleInvariance", "scale_invariance",
]

EXERCISE_TOLERANCE = 0.3
"""The batch-size exercise: the batch mean must be within this many standard deviations of the truth..."""
EXERCISE_LEVEL = 0.95
"""... in at least this share of random batches."""
MAX_BATCH = 64
"""The largest batch size the batch-size explorer offers."""


def _check_batch_size(batch_size, low=2, high=None, name="batch_size"):
    value = check_positive_int(batch_size, name)
    if value < low or (high is not None and value > high):
        bound = f"{low} <= {name} <= {high}" if high is not None else f"{name} >= {low}"
        raise ValueError(f"{name}: expected {bound}, got {batch_size}")
    return value


# ---------------------------------------------------------------- population and axis statistics

@dataclass(frozen=True)
class Population:
    """``X (N, D)``: feature ``j`` drawn from ``N(means[j], stds[j]²)``; ``stds`` 1 … ``feature_scale``."""

    X: np.ndarray
    means: np.ndarray
    stds: np.ndarray


def feature_population(num_samples=2000, num_features=4, feature_scale=10.0, rng=0) -> Population:
    """Gaussian features whose standard deviations grow geometrically from 1 to ``feature_scale``.

    ``stds = geomspace(1, feature_scale, D)``, ``means = linspace(-2, 3, D) · stds``, so features
    differ in scale by the factor ``feature_scale``. The standard-normal draws depend only on ``rng``,
    ``num_samples`` and ``num_features``: changing ``feature_scale`` rescales the same values.
    """
    n = check_positive_int(num_samples, "num_samples")
    d = check_positive_int(num_features, "num_features")
    if n < 2:
        raise ValueError(f"num_samples: expected at least 2, got {n}")
    scale = check_positive(feature_scale, "feature_scale")
    stds = np.geomspace(1.0, scale, d)
    means = np.linspace(-2.0, 3.0, d) * stds
    z = as_rng(rng).standard_normal((n, d))
    return Population(means + stds * z, means, stds)


@dataclass(frozen=True)
class AxisStatistics:
    """Means and (biased) standard deviations per feature (over axis 0) and per sample (over axis 1)."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    sample_mean: np.ndarray
    sample_std: np.ndarray


def axis_statistics(x) -> AxisStatistics:
    """Per-feature statistics ``(D,)`` over the batch and per-sample statistics ``(N,)`` over features.

    ``x (N, D)``. Standard deviations divide by the count (``ddof=0``), as both normalizations do.
    """
    x = check_array(x, "x", ndim=2, finite=True)
    return AxisStatistics(x.mean(axis=0), x.std(axis=0), x.mean(axis=1), x.std(axis=1))


def batch_and_layer_norm(x, eps=1e-5):
    """``(BatchNorm1d(x), LayerNorm(x))`` in training mode, ``γ = 1, β = 0``; ``x (N, D)`` -> two ``(N, D)``.

    Batch norm: ``(x − mean over axis 0) / sqrt(var over axis 0 + eps)``; layer norm: the same over axis 1.
    """
    x = check_array(x, "x", ndim=2, finite=True)
    if len(x) < 2:
        raise ValueError(f"x: batch norm in training mode needs at least 2 samples, got shape {x.shape}")
    d = x.shape[1]
    return nn.BatchNorm1d(d, eps=eps)(x), nn.LayerNorm(d, eps=eps)(x)


# ---------------------------------------------------------------- running statistics

@dataclass(frozen=True)
class RunningTrace:
    """A ``BatchNorm1d``'s running statistics after each of ``steps`` batches: ``mean, var (steps + 1, D)``.

    Row 0 is the initial state (mean 0, var 1). ``batch_mean``, ``batch_var_biased`` and
    ``batch_var_unbiased`` ``(steps, D)`` are the statistics of the batches themselves.
    """

    mean: np.ndarray
    var: np.ndarray
    batch_mean: np.ndarray
    batch_var_biased: np.ndarray
    batch_var_unbiased: np.ndarray


def _random_batches(num_samples, batch_size, count, rng):
    """``(count, batch_size)`` indices, distinct within each row (a fresh random batch per row)."""
    keys = rng.random((count, num_samples))
    return np.argpartition(keys, batch_size - 1, axis=1)[:, :batch_size]


def running_statistics(X, batch_size, steps, momentum=0.1, rng=0) -> RunningTrace:
    """Feed ``steps`` random batches of ``X (N, D)`` to a fresh ``BatchNorm1d`` and record its running stats.

    Each step: ``r ← (1 − momentum) r + momentum · s`` with ``s`` the batch mean and the *unbiased* batch
    variance ``B/(B − 1) · σ²_B`` (``torch.nn.BatchNorm1d``'s convention).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    batch_size = _check_batch_size(batch_size, high=len(X))
    steps = check_positive_int(steps, "steps")
    layer = nn.BatchNorm1d(X.shape[1], momentum=momentum)
    index = _random_batches(len(X), batch_size, steps, as_rng(rng))
    mean, var = [layer.running_mean.copy()], [layer.running_var.copy()]
    for rows in index:  # one step per batch: the running average is sequential by nature
        layer(X[rows])
        mean.append(layer.running_mean.copy())
        var.append(layer.running_var.copy())
    batches = X[index]
    return RunningTrace(np.array(mean), np.array(var), batches.mean(axis=1), batches.var(axis=1),
                        batches.var(axis=1, ddof=1))


# ---------------------------------------------------------------- batch-size effects

def sample_outputs_across_batches(X, sample_index, batch_size, trials, rng=0, eps=1e-5):
    """Batch norm's training-mode output for sample ``X[i]`` in ``trials`` random batches.

    Each batch holds ``X[i]`` and ``batch_size − 1`` other rows drawn at random (distinct, never ``i``);
    the output is ``(X[i] − μ_B) / sqrt(σ²_B + eps)`` with the batch mean and biased variance
    (``γ = 1, β = 0``). Returns ``(trials, D)``: one row per batch.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    n = len(X)
    valid = isinstance(sample_index, numbers.Integral) and not isinstance(sample_index, bool)
    if not valid or not 0 <= sample_index < n:
        raise ValueError(f"sample_index: expected an integer in [0, {n}), got {sample_index!r}")
    batch_size = _check_batch_size(batch_size, high=n)
    trials = check_positive_int(trials, "trials")
    others = np.delete(np.arange(n), sample_index)
    chosen = others[_random_batches(n - 1, batch_size - 1, trials, as_rng(rng))]
    batches = np.concatenate([np.broadcast_to(X[sample_index], (trials, 1, X.shape[1])), X[chosen]], axis=1)
    mean, var = batches.mean(axis=1), batches.var(axis=1)
    return (X[sample_index] - mean) / np.sqrt(var + eps)


def output_spread(X, sample_index, batch_sizes, trials=200, rng=0):
    """For each batch size, the std over random batches of one sample's batch-norm output, mean over features.

    Zero would mean the output does not depend on the rest of the batch. Returns ``(len(batch_sizes),)``.
    """
    return np.array([sample_outputs_across_batches(X, sample_index, b, trials, rng).std(axis=0).mean()
                     for b in batch_sizes])


def batch_mean_coverage(x, batch_sizes, tolerance=EXERCISE_TOLERANCE, trials=4000, rng=0):
    """Share of random batches whose mean lies within ``tolerance · σ`` of the population mean ``μ``.

    ``x (N,)`` is one feature; ``μ`` and ``σ`` are its mean and std. Batches are i.i.d. draws (with
    replacement); the batch of size ``B`` is the first ``B`` draws of a row, so the curve over ``B``
    uses common random numbers and is smooth. For Gaussian data the coverage is
    ``2Φ(tolerance · √B) − 1``. Returns ``(len(batch_sizes),)``.
    """
    x = check_array(x, "x", ndim=1, finite=True)
    tolerance = check_positive(tolerance, "tolerance")
    sizes = np.array([_check_batch_size(b, low=1, name="batch_sizes") for b in np.atleast_1d(batch_sizes)])
    draws = x[as_rng(rng).integers(0, len(x), (check_positive_int(trials, "trials"), sizes.max()))]
    batch_means = np.cumsum(draws, axis=1)[:, sizes - 1] / sizes
    return np.mean(np.abs(batch_means - x.mean()) <= tolerance * x.std(), axis=0)


def smallest_batch_size(tolerance=EXERCISE_TOLERANCE, level=EXERCISE_LEVEL, max_batch=MAX_BATCH, rng=0):
    """The smallest batch size (from 2) whose coverage (:func:`batch_mean_coverage`) reaches ``level``.

    Uses feature 0 of ``feature_population(rng=rng)``, as the batch-size explorer does; ``None`` when
    no batch size up to ``max_batch`` is enough.
    """
    sizes = np.arange(2, _check_batch_size(max_batch, name="max_batch") + 1)
    coverage = batch_mean_coverage(feature_population(rng=rng).X[:, 0], sizes, tolerance, rng=rng)
    reached = np.flatnonzero(coverage >= level)
    return int(sizes[reached[0]]) if reached.size else None


# ---------------------------------------------------------------- the explorers' views

@dataclass(frozen=True)
class NormAxesView:
    """What the normalization-axes explorer shows.

    ``x (B, D)`` the batch, ``bn`` and ``ln`` its normalizations, ``stats`` name -> :class:`AxisStatistics`
    for "input", "batch norm", "layer norm". ``train_outputs (trials, D)``: batch norm's training-mode
    output for the fixed sample (row 0 of ``x``) in random batches of the same size; ``eval_output (D,)``
    its evaluation-mode output with the running statistics of ``warmup`` training batches;
    ``ln_output (D,)`` layer norm's output for it (the same in every batch); ``population`` the
    per-feature mean and std of the whole population (``(2, D)``).
    """

    batch_size: int
    feature_scale: float
    x: np.ndarray
    bn: np.ndarray
    ln: np.ndarray
    stats: dict
    train_outputs: np.ndarray
    eval_output: np.ndarray
    ln_output: np.ndarray
    population: np.ndarray


def norm_axes_view(batch_size=8, feature_scale=10.0, num_features=4, trials=40, warmup=200,
                   rng=0) -> NormAxesView:
    """Compute the normalization-axes explorer's data: a batch of ``feature_population`` rows, normalized.

    The batch is the first ``batch_size`` rows of the population (the same sample 0 for every batch size).
    """
    population = feature_population(feature_scale=feature_scale, num_features=num_features, rng=rng)
    X = population.X
    batch_size = _check_batch_size(batch_size, high=len(X))
    x = X[:batch_size]
    bn, ln = batch_and_layer_norm(x)
    stats = {name: axis_statistics(values) for name, values in (("input", x), ("batch norm", bn),
                                                                  ("layer norm", ln))}
    layer = nn.BatchNorm1d(X.shape[1])
    for rows in _random_batches(len(X), batch_size, warmup, as_rng(rng)):
        layer(X[rows])
    eval_output = layer.eval()(x[:1])[0]
    train_outputs = sample_outputs_across_batches(X, 0, batch_size, trials, rng=rng)
    return NormAxesView(batch_size, float(feature_scale), x, bn, ln, stats, train_outputs, eval_output,
                        ln[0], np.array([X.mean(axis=0), X.std(axis=0)]))


@dataclass(frozen=True)
class BatchSizeView:
    """What the batch-size explorer shows: ``coverage`` and ``spread`` over ``batch_sizes`` (2 … 64).

    ``coverage``: share of batches whose mean of feature 0 is within ``tolerance`` standard deviations of
    the population mean; ``spread``: std of sample 0's batch-norm output across batches. ``answer``: the
    smallest batch size whose coverage reaches ``level`` (what the exercise asks for).
    """

    batch_size: int
    tolerance: float
    level: float
    batch_sizes: np.ndarray
    coverage: np.ndarray
    spread: np.ndarray
    answer: int | None

    @property
    def current_coverage(self) -> float:
        return float(self.coverage[self.batch_size - self.batch_sizes[0]])

    @property
    def current_spread(self) -> float:
        return float(self.spread[self.batch_size - self.batch_sizes[0]])


def _batch_size_curves(tolerance, trials, rng):
    """``(sizes, coverage, spread)`` over batch sizes 2 … MAX_BATCH, for feature 0 / sample 0."""
    X = feature_population(rng=rng).X
    sizes = np.arange(2, MAX_BATCH + 1)
    curves = (sizes, batch_mean_coverage(X[:, 0], sizes, tolerance, rng=rng),
              output_spread(X, 0, sizes, trials=trials, rng=rng))
    for array in curves:
        array.flags.writeable = False
    return curves


_cached_batch_size_curves = functools.lru_cache(maxsize=8)(_batch_size_curves)


def batch_size_view(batch_size=8, tolerance=EXERCISE_TOLERANCE, level=EXERCISE_LEVEL, trials=100, rng=0):
    """Compute the batch-size explorer's data (see :class:`BatchSizeView`).

    The curves do not depend on ``batch_size``; for an int seed they are computed once and reused, so
    moving the slider only moves the marker.
    """
    batch_size = _check_batch_size(batch_size, high=MAX_BATCH)
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a share in (0, 1), got {level!r}")
    tolerance = check_positive(tolerance, "tolerance")
    trials = check_positive_int(trials, "trials")
    seeded = isinstance(rng, numbers.Integral) and not isinstance(rng, bool)
    curves = _cached_batch_size_curves if seeded else _batch_size_curves
    sizes, coverage, spread = curves(tolerance, trials, rng)
    reached = np.flatnonzero(coverage >= level)
    answer = int(sizes[reached[0]]) if reached.size else None
    return BatchSizeView(batch_size, float(tolerance), float(level), sizes, coverage, spread, answer)


# ---------------------------------------------------------------- folding batch norm into a linear layer

def fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5):
    """Weights of one linear layer equal to ``Linear(W, b)`` followed by batch norm in evaluation mode.

    With ``s = γ / sqrt(running_var + eps)`` (per output feature): ``W' = W diag(s)`` (column ``j`` of
    ``W (in, out)`` times ``s_j``) and ``b' = (b − running_mean) s + β``. Returns ``(W', b')``.
    """
    weight = check_array(weight, "weight", ndim=2, finite=True)
    out = weight.shape[1]
    vectors = {"bias": bias, "gamma": gamma, "beta": beta, "running_mean": running_mean,
               "running_var": running_var}
    for name, value in vectors.items():
        check_array(value, name, ndim=1, finite=True)
        if len(value) != out:
            raise ValueError(f"{name}: expected shape ({out},) to match weight {weight.shape}, "
                             f"got {np.shape(value)}")
    scale = gamma / np.sqrt(running_var + eps)
    return weight * scale, (bias - running_mean) * scale + beta


def folded_linear(linear, batchnorm) -> nn.Linear:
    """A new ``nn.Linear`` that computes ``batchnorm(linear(x))`` in evaluation mode, in one affine map."""
    if not isinstance(linear, nn.Linear) or not isinstance(batchnorm, nn.BatchNorm1d):
        raise TypeError(f"expected (nn.Linear, nn.BatchNorm1d), got ({type(linear).__name__}, "
                        f"{type(batchnorm).__name__})")
    bias = linear.bias.value if linear.bias is not None else np.zeros(linear.out_features)
    w, b = fold_batchnorm(linear.weight.value, bias, batchnorm.gamma.value, batchnorm.beta.value,
                          batchnorm.running_mean, batchnorm.running_var, batchnorm.eps)
    folded = nn.Linear(linear.in_features, linear.out_features, init="zeros")
    folded.weight.value, folded.bias.value = w, b
    return folded


# ---------------------------------------------------------------- networks on digits

_ACTIVATIONS = {"sigmoid": (nn.Sigmoid, "xavier_normal"), "tanh": (nn.Tanh, "xavier_normal"),
                "relu": (nn.ReLU, "he_normal")}
_NORMS = {None: None, "batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


def deep_mlp(depth=10, width=24, activation="sigmoid", norm=None, noise=None, in_features=64, classes=10,
             rng=0) -> nn.Sequential:
    """``depth`` blocks ``Linear → [norm] → [noise] → activation``, then ``Linear(width, classes)``.

    ``norm``: None, "batch" or "layer"; the linear layer before a normalization has no bias (the norm's
    β replaces it). ``noise``: ``(scale_std, shift_std)`` adds :class:`InjectedNoise` after the norm.
    Xavier-normal weights for sigmoid/tanh, He-normal for ReLU.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm: expected None, 'batch' or 'layer', got {norm!r}")
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    act, init = _ACTIVATIONS[activation]
    rng = as_rng(rng)
    layers, fan_in = [], check_positive_int(in_features, "in_features")
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width, bias=norm is None, init=init, rng=rng))
        if norm is not None:
            layers.append(_NORMS[norm](width))
        if noise is not None:
            layers.append(InjectedNoise(width, *noise, rng=rng))
        layers.append(act())
        fan_in = width
    layers.append(nn.Linear(fan_in, check_positive_int(classes, "classes"), init="xavier_normal", rng=rng))
    return nn.Sequential(*layers)


def train_on_digits(model, data, *, batch_size=64, epochs=10, lr=0.02, momentum=0.9, rng=0):
    """``fit`` with ``SGD(lr, momentum)`` and cross-entropy on ``data`` (a ``load_digits`` Dataset).

    The training rows are cut to a multiple of ``batch_size`` (the last ``N mod batch_size`` are left out)
    so every batch is full: a batch of one row is an error for batch norm and a tiny one a very noisy
    estimate. The test split is the validation data (evaluated in evaluation mode after every epoch).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    n = len(data.X_train) - len(data.X_train) % batch_size
    return fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=momentum),
               (data.X_train[:n], data.y_train[:n]), val=(data.X_test, data.y_test), epochs=epochs,
               batch_size=batch_size, progress=False, rng=rng)


def linear_gradient_norms(model, X, y):
    """The weight-gradient norm of every ``Linear`` layer of ``model`` on ``(X, y)``, input to output.

    Cross-entropy loss, one forward/backward in the model's current mode (``diagnostics.gradient_norms``,
    which leaves parameters, gradients and running statistics as they were). Returns ``(L,)``.
    """
    norms = diagnostics.gradient_norms(model, losses.CrossEntropyLoss(), X, y)
    return np.array([value for _, name, value in norms if name == "Linear"])


@contextmanager
def _mode_and_running_stats(model, training):
    """Run ``model`` in the given mode, then restore its mode and every BatchNorm1d's running statistics."""
    norms = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    saved = [(m.running_mean.copy(), m.running_var.copy(), m.num_batches_tracked) for m in norms]
    was_training = model.training
    model.train(training)
    try:
        yield model
    finally:
        model.train(was_training)
        for m, (mean, var, count) in zip(norms, saved, strict=True):
            m.running_mean[...], m.running_var[...], m.num_batches_tracked = mean, var, count


def batched_predictions(model, X, batch_size, *, train_mode, order=None):
    """Predicted classes for ``X (N, D)`` computed batch by batch, in training or evaluation mode.

    The rows are visited in ``order`` (default: as given) in ``N // batch_size`` consecutive batches of
    about ``batch_size`` rows (``np.array_split``, so no batch is a lone row) and the predictions are
    returned in the original row order, ``(N,)``. In training mode batch norm uses each
    batch's own statistics, so a prediction depends on which other rows share its batch: the classic bug of
    forgetting ``model.eval()``. The model's mode and running statistics are left unchanged.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    order = np.arange(len(X)) if order is None else np.asarray(order)
    if order.shape != (len(X),) or not np.array_equal(np.sort(order), np.arange(len(X))):
        raise ValueError(f"order: expected a permutation of range({len(X)}), got shape {order.shape}")
    with _mode_and_running_stats(model, train_mode):
        parts = np.array_split(order, max(1, len(X) // batch_size))
        logits = np.concatenate([model(X[rows]) for rows in parts])
    predictions = np.empty(len(X), dtype=np.int64)
    predictions[order] = logits.argmax(axis=1)
    return predictions


# ---------------------------------------------------------------- weight normalization, badly scaled inputs

@dataclass(frozen=True)
class Regression:
    """``y = Z w* + noise`` observed through ``X = Z · scales`` (badly scaled features); ``y (n, 1)``."""

    X: np.ndarray
    Z: np.ndarray
    y: np.ndarray
    scales: np.ndarray


def badly_scaled_regression(n=256, scales=(1.0, 100.0), noise=0.1, rng=0) -> Regression:
    """A linear regression whose standard-normal features ``Z`` are multiplied by ``scales`` (e.g. 1, 100).

    ``y = Z w* + noise · ε`` with ``w*, ε`` standard normal; the model sees ``X = Z · scales``.
    """
    n = check_positive_int(n, "n")
    scales = check_array(np.asarray(scales, dtype=np.float64), "scales", ndim=1, finite=True)
    if np.any(scales <= 0):
        raise ValueError(f"scales: expected positive numbers, got {scales}")
    rng = as_rng(rng)
    Z = rng.standard_normal((n, len(scales)))
    noise = check_positive(noise, "noise", allow_zero=True)
    y = Z @ rng.standard_normal(len(scales)) + noise * rng.standard_normal(n)
    return Regression(Z * scales, Z, y[:, None], scales)


def mse_curvatures(X) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian ``(2/n) AᵀA``, ``A = [X, 1]``, of a linear model's MSE.

    Full-batch gradient descent on the plain model diverges for ``lr > 2/L``, ``L`` the largest; the
    ratio largest/smallest (the condition number) sets how slowly the flattest direction converges.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    A = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.eigvalsh(2.0 / len(X) * A.T @ A)


@dataclass(frozen=True)
class RegressionRun:
    """Full-batch GD on a linear model: ``loss (T,)`` per step; ``v_norm (T,)`` (‖v‖ after each step, weight
    norm only, else None); ``diverged`` when the loss passed ``1e6`` times its start or became non-finite."""

    loss: np.ndarray
    v_norm: np.ndarray | None
    diverged: bool


def fit_regression(layer, X, y, lr, steps=300) -> RegressionRun:
    """Train ``layer`` (``nn.Linear`` or ``nn.WeightNormLinear``, one output) by full-batch SGD on the MSE."""
    X = check_array(X, "X", ndim=2, finite=True)
    steps = check_positive_int(steps, "steps")
    mse, opt = losses.MSELoss(), optim.SGD(layer.parameters(), lr=check_positive(lr, "lr"))
    weight_norm = isinstance(layer, nn.WeightNormLinear)
    history, v_norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            layer.zero_grad()
            history.append(mse.forward(layer(X), y))
            if not np.isfinite(history[-1]) or history[-1] > 1e6 * history[0]:
                return RegressionRun(np.array(history), np.array(v_norms) if weight_norm else None, True)
            layer.backward(mse.backward())
            opt.step()
            if weight_norm:
                v_norms.append(float(np.linalg.norm(layer.v.value)))
    return RegressionRun(np.array(history), np.array(v_norms) if weight_norm else None, False)


@dataclass(frozen=True)
class WeightNormComparison:
    """Final losses of :func:`compare_weight_norm`: ``final_loss[(model, factor)]`` and
    ``diverged[(model, factor)]`` are ``(runs,)`` arrays, model "Linear" or "WeightNormLinear", learning
    rate ``factor · 2/L``; ``standardized (runs,)``: a plain Linear on standardized inputs at ``0.5 · 2/L``
    of that problem; ``noise_floor``: the loss of the true weights (≈ noise²)."""

    factors: tuple
    final_loss: dict
    diverged: dict
    standardized: np.ndarray
    noise_floor: float


def compare_weight_norm(problem_seeds=(0, 1, 2, 3), init_seeds=(1, 2), factors=(0.5, 2.0), steps=300,
                        scales=(1.0, 100.0), noise=0.1) -> WeightNormComparison:
    """Plain ``Linear`` vs ``WeightNormLinear`` with the same learning rates on badly scaled regressions.

    For every problem seed (:func:`badly_scaled_regression`) and initialization seed (both layers start
    from the same function), full-batch GD with ``lr = factor · 2/L``, ``L`` the plain model's largest
    curvature, for ``steps`` steps.
    """
    final, diverged, standardized = {}, {}, []
    for seed in problem_seeds:
        problem = badly_scaled_regression(scales=scales, noise=noise, rng=seed)
        top = mse_curvatures(problem.X)[-1]
        for layer_type in (nn.Linear, nn.WeightNormLinear):
            for factor in factors:
                for init_seed in init_seeds:
                    run = fit_regression(layer_type(len(scales), 1, rng=init_seed), problem.X, problem.y,
                                         factor * 2.0 / top, steps)
                    key = (layer_type.__name__, factor)
                    final.setdefault(key, []).append(run.loss[-1])
                    diverged.setdefault(key, []).append(run.diverged)
        for init_seed in init_seeds:
            lr = 0.5 * 2.0 / mse_curvatures(problem.Z)[-1]
            standardized.append(fit_regression(nn.Linear(len(scales), 1, rng=init_seed), problem.Z, problem.y,
                                               lr, steps).loss[-1])
    return WeightNormComparison(tuple(factors), {k: np.array(v) for k, v in final.items()},
                                {k: np.array(v) for k, v in diverged.items()}, np.array(standardized),
                                float(noise) ** 2)


# ---------------------------------------------------------------- internal covariate shift

class InjectedNoise(nn.Module):
    """Random per-unit scale and shift, redrawn at every training step (Santurkar et al., 2018, "noisy BN").

    Training: ``y = s ⊙ x + m`` with ``s = exp(scale_std · z₁)``, ``m = shift_std · z₂`` and fresh
    ``z₁, z₂ ~ N(0, I)`` of shape ``(D,)`` on every forward: the distribution of the next layer's inputs
    changes at every step on purpose. Evaluation: the identity. ``dx = s ⊙ dy``.
    """

    def __init__(self, num_features, scale_std=0.3, shift_std=0.5, rng=None):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.scale_std = check_positive(scale_std, "scale_std", allow_zero=True)
        self.shift_std = check_positive(shift_std, "shift_std", allow_zero=True)
        self.rng = as_rng(rng)

    def forward(self, x):
        if not self.training:
            self._cache = np.ones(self.num_features)
            return x
        scale = np.exp(self.scale_std * self.rng.standard_normal(self.num_features))
        self._cache = scale
        return x * scale + self.shift_std * self.rng.standard_normal(self.num_features)

    def backward(self, dy, input_grad=True):
        return dy * self._saved()

    def extra_repr(self):
        return f"num_features={self.num_features}, scale_std={self.scale_std}, shift_std={self.shift_std}"


def _loss_and_gradient(model, loss, X, y):
    model.zero_grad()
    value = loss.forward(model(X), y)
    model.backward(loss.backward(), input_grad=False)
    return value, [p.grad.copy() for p in model.parameters()]


def loss_along_gradient(model, X, y, lr, multipliers=(0.25, 0.5, 1.0, 2.0, 4.0)):
    """Loss and gradient at ``θ − k·lr·g`` for each ``k`` in ``multipliers``, ``g`` the gradient at ``θ``.

    Santurkar et al. (2018) measure how smooth the landscape is along the step: the spread of these losses
    ("loss landscape") and ``‖∇L(θ − k lr g) − ∇L(θ)‖ / ‖k lr g‖`` ("β-smoothness"). The batch ``(X, y)``
    is fixed; the model is left exactly as it was (values, gradients, running statistics, mode).
    Returns ``(losses (K,), gradient_change (K,))``.
    """
    params = model.parameters()
    start = [p.value.copy() for p in params]
    saved_grads = [p.grad.copy() for p in params]
    ce = losses.CrossEntropyLoss()
    out_losses, changes = [], []
    with _mode_and_running_stats(model, model.training):
        _, grads = _loss_and_gradient(model, ce, X, y)
        step_norm = np.sqrt(sum(np.sum(g * g) for g in grads)) * lr
        for k in multipliers:
            for p, w, g in zip(params, start, grads, strict=True):
                p.value = w - k * lr * g
            value, moved = _loss_and_gradient(model, ce, X, y)
            out_losses.append(value)
            changes.append(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(moved, grads, strict=True)))
                           / (k * step_norm))
        for p, w, g in zip(params, start, saved_grads, strict=True):
            p.value, p.grad = w, g
    return np.array(out_losses), np.array(changes)


@dataclass(frozen=True)
class SmoothnessTrace:
    """Training with probes: ``step_loss (T,)``; at each probe step ``steps (C,)``, ``loss_range (C,)`` (max −
    min of the losses along the gradient) and ``beta (C,)`` (the largest gradient change per unit move)."""

    step_loss: np.ndarray
    steps: np.ndarray
    loss_range: np.ndarray
    beta: np.ndarray


def smoothness_during_training(model, X, y, *, lr=0.1, steps=60, every=5, batch_size=64, rng=0):
    """Plain SGD on random batches of ``batch_size`` rows of ``(X, y)``; every ``every`` steps, probe the
    landscape along the current gradient with :func:`loss_along_gradient` (same batch).

    Returns a :class:`SmoothnessTrace`.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    steps, every = check_positive_int(steps, "steps"), check_positive_int(every, "every")
    batch_size = _check_batch_size(batch_size, high=len(X))
    ce, opt = losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    index = _random_batches(len(X), batch_size, steps, as_rng(rng))
    step_loss, probes, ranges, betas = [], [], [], []
    for t, rows in enumerate(index):
        if t % every == 0:
            along, change = loss_along_gradient(model, X[rows], y[rows], lr)
            probes.append(t)
            ranges.append(along.max() - along.min())
            betas.append(change.max())
        value, _ = _loss_and_gradient(model, ce, X[rows], y[rows])
        step_loss.append(value)
        opt.step()
    return SmoothnessTrace(np.array(step_loss), np.array(probes), np.array(ranges), np.array(betas))


@dataclass(frozen=True)
class ScaleInvariance:
    """``Linear(no bias) → BatchNorm1d``: output change when ``W`` is scaled by ``c``, ``⟨∇_W L, W⟩`` per
    output unit, and ``‖∇L(cW)‖ / ‖∇L(W)‖`` (``1/c`` in theory)."""

    output_change: float
    grad_dot_weight: np.ndarray
    grad_ratio: float


def scale_invariance(c=3.0, n=32, d_in=5, d_out=4, rng=0) -> ScaleInvariance:
    """Check the three consequences of ``BN(c W x) = BN(W x)`` on a random batch and upstream gradient."""
    c = check_positive(c, "c")
    rng = as_rng(rng)
    x, dy = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    outputs, grads = [], []
    for factor in (1.0, c):
        linear = nn.Linear(d_in, d_out, bias=False, rng=0)
        linear.weight.value = linear.weight.value * factor
        model = nn.Sequential(linear, nn.BatchNorm1d(d_out))
        outputs.append(model(x))
        model.zero_grad()
        model.backward(dy)
        grads.append(linear.weight.grad.copy())
        weight = linear.weight.value.copy()
    return ScaleInvariance(float(np.abs(outputs[1] - outputs[0]).max()), np.sum(grads[1] * weight, axis=0),
                           float(np.linalg.norm(grads[1]) / np.linalg.norm(grads[0])))
