"""Computations behind notebook 09 (the training playbook).

Every function is pure (random ones take ``rng``), so the notebook, its explorers and
``tests/test_nb09_claims.py`` run the same code. The matrices are small, so training runs
with single-threaded BLAS (on a busy two-core machine two BLAS threads wait on each other
and a step gets many times slower).

Sections: data; PRAC-01 overfitting one small batch and its failure modes; PRAC-02 the
learning-rate range test against a sweep, and the stability of the final loss over seeds;
PRAC-03 fluctuating weights and their remedies; PRAC-04 sources of randomness; PRAC-05 the
training loop written out; PRAC-06 a hyperparameter chosen on training vs validation data;
PRAC-07/08 parameter counts and a direct convolution; the capstone.
"""

from __future__ import annotations

import functools
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import regularization as R
from gdcourse import schedules as S
from gdcourse.data import load_digits
from gdcourse.diagnose import SignFlippedCrossEntropy
from gdcourse.diagnostics import dead_units, gradient_norms
from gdcourse.train import TrainingDiverged, evaluate, fit, lr_range_test, predict
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int, check_unit_interval

__all__ = [
    "digits", "small_batch", "mlp",
    "NaiveCrossEntropy", "SignFlippedCrossEntropy", "train_steps", "SmallBatchRun", "failure_runs",
    "expected_initial_loss",
    "smooth_losses", "range_test_digits", "fixed_rate_sweep", "final_losses_over_seeds",
    "gd_factor", "FluctuationRun", "fluctuation_study", "ema_weights", "polyak_average", "dropout_noise",
    "RandomnessStudy", "randomness_study", "summation_orders", "perturbation_growth",
    "manual_training_loop", "accumulated_gradient",
    "ridge_path",
    "count_parameters", "layer_parameters", "conv_output_size", "conv_parameters", "conv2d",
    "CapstoneResult", "capstone", "confusion_matrix",
]


@contextmanager
def _quiet_single_thread():
    """Single-threaded BLAS and no floating-point warnings (deliberately broken runs overflow)."""
    with np.errstate(all="ignore"), threadpool_limits(limits=1, user_api="blas"):
        yield


# ---------------------------------------------------------------------------------------------- data

@functools.lru_cache(maxsize=1)
def digits():
    """The digits split used throughout: 1077 train / 270 val / 450 test, standardized with train stats."""
    return load_digits(test_fraction=0.25, val_fraction=0.15, rng=0).standardized()


def small_batch(n: int = 32):
    """The first ``n`` training images of :func:`digits` and their labels: the batch to overfit."""
    n = check_positive_int(n, "n")
    data = digits()
    return data.X_train[:n], data.y_train[:n]


def mlp(sizes=(64, 64, 10), rng=0, out_scale=0.1, dropout=0.0, dropout_rng=None) -> nn.Sequential:
    """ReLU MLP with He init; the output layer's initial weights scaled by ``out_scale``.

    A small output layer makes every class about equally likely at the start, so the
    initial cross-entropy is close to ``ln K``. ``dropout`` adds ``Dropout`` after each hidden
    ReLU with its own generator ``dropout_rng`` (default: ``rng``'s stream).
    """
    rng = as_rng(rng)
    dropout_rng = rng if dropout_rng is None else as_rng(dropout_rng)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(n_in, n_out, rng=rng), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout, rng=dropout_rng))
    out = nn.Linear(sizes[-2], sizes[-1], rng=rng)
    out.weight.value = out.weight.value * out_scale
    return nn.Sequential(*layers, out)


# ---------------------------------------------------------------------------------------------- PRAC-01

class NaiveCrossEntropy(L.Loss):
    """Softmax cross-entropy written straight from the formula: ``p = e^z / Σ e^z``, ``L = −mean log p_y``.

    Without subtracting ``max(z)`` first, ``e^z`` overflows to ``inf`` for ``z > 709`` (float64)
    and ``inf / inf`` is NaN; a probability that underflows to 0 gives ``log 0 = −inf``. The
    package's :class:`~gdcourse.losses.CrossEntropyLoss` uses ``log_softmax`` and has neither problem.
    """

    def forward(self, pred, target):
        e = np.exp(pred)
        p = e / e.sum(axis=1, keepdims=True)
        self._cache = (p, np.asarray(target))
        return float(-np.mean(np.log(p[np.arange(len(p)), target])))

    def backward(self):
        p, y = self._saved()
        grad = p.copy()
        grad[np.arange(len(p)), y] -= 1.0
        return grad / len(p)


def train_steps(model, loss, optimizer, X, y, steps: int, shuffle_labels_rng=None) -> np.ndarray:
    """Full-batch training on ``(X, y)``: the loss before each of ``steps`` updates.

    ``shuffle_labels_rng`` (a seed or Generator) injects a loader bug: at every step the labels
    are paired with the images through a fresh random permutation. Training stops at the
    first non-finite loss, which is kept as the last entry.
    """
    steps = check_positive_int(steps, "steps")
    relabel = None if shuffle_labels_rng is None else as_rng(shuffle_labels_rng)
    values = []
    with _quiet_single_thread():
        for _ in range(steps):
            targets = y if relabel is None else y[relabel.permutation(len(y))]
            optimizer.zero_grad()
            value = loss.forward(model.forward(X), targets)
            values.append(value)
            if not math.isfinite(value):
                break
            model.backward(loss.backward(), input_grad=False)
            optimizer.step()
    return np.array(values)


@dataclass(frozen=True)
class SmallBatchRun:
    """One attempt to overfit the small batch: what was done, and the loss at every step."""

    label: str
    setup: str
    losses: np.ndarray

    @property
    def diverged(self) -> bool:
        return not np.isfinite(self.losses[-1])


def _failure_setups():
    """Label → (setup text, loss, learning rate, input scale, labels re-paired every step)."""
    return {
        "healthy": ("SGD lr 0.1, momentum 0.9", L.CrossEntropyLoss(), 0.1, 1.0, False),
        "goes up: sign flip": ("backward returns −dL/dz", SignFlippedCrossEntropy(), 0.1, 1.0, False),
        "explodes: rate 10": ("SGD lr 10 instead of 0.1", L.CrossEntropyLoss(), 10.0, 1.0, False),
        "explodes: numerics": ("naive softmax (no max subtracted), pixels 0-255", NaiveCrossEntropy(), 0.1,
                               255.0, False),
        "oscillates: misaligned labels": ("loader re-pairs labels and images every step",
                                          L.CrossEntropyLoss(), 0.1, 1.0, True),
        "plateaus: rate 1e-5": ("SGD lr 1e-5 instead of 0.1", L.CrossEntropyLoss(), 1e-5, 1.0, False),
    }


def failure_runs(steps: int = 120, n: int = 32, seed: int = 0) -> dict[str, SmallBatchRun]:
    """Overfit ``n`` digits with a healthy setup and with each deliberately broken one.

    Every run starts from the same initialization, ``mlp(rng=seed)`` (64-64-10), uses SGD with
    momentum 0.9 and trains full-batch for ``steps`` steps; each broken run changes one thing.
    The healthy run reaches a loss near 0; the others show the failure named in their label
    (tests/test_nb09_claims.py asserts each).
    """
    X, y = small_batch(n)
    seed = check_positive_int(seed, "seed", allow_zero=True)
    runs = {}
    for label, (setup, loss, lr, scale, misaligned) in _failure_setups().items():
        model = mlp(rng=seed)
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        losses = train_steps(model, loss, optimizer, X * scale, y, steps,
                             shuffle_labels_rng=seed if misaligned else None)
        runs[label] = SmallBatchRun(label, setup, losses)
    return runs


def expected_initial_loss(num_classes: int) -> float:
    """``ln K``: the cross-entropy of uniform predictions over ``K`` classes."""
    return math.log(check_positive_int(num_classes, "num_classes"))


# ---------------------------------------------------------------------------------------------- PRAC-02

def smooth_losses(losses, beta: float = 0.98) -> np.ndarray:
    """Bias-corrected exponential moving average along axis 0 (the one the range test plots).

    ``a_t = β a_{t−1} + (1 − β) ℓ_t`` from ``a_{−1} = 0``, then ``a_t / (1 − β^(t+1))``: the
    correction divides by the total weight given so far, so the first value is ``ℓ_0`` itself
    instead of ``(1 − β) ℓ_0`` (the same correction as Adam's, Kingma & Ba 2015). ``losses``
    may be ``(T,)`` or ``(T, d)`` (each column smoothed on its own).
    """
    losses = check_array(losses, "losses", ndim=(1, 2))
    beta = check_unit_interval(beta, "beta")
    from scipy.signal import lfilter  # here, not at the top: scipy.signal adds 0.4 s to every kernel's start

    average = lfilter([1.0 - beta], [1.0, -beta], losses, axis=0)  # the recurrence, run in C
    correction = 1.0 - beta ** np.arange(1, len(losses) + 1)
    return average / correction.reshape((-1,) + (1,) * (losses.ndim - 1))


def _range_model(seed):
    return mlp((64, 64, 10), rng=seed, out_scale=1.0)


def _momentum_sgd(params):
    return optim.SGD(params, lr=1e-3, momentum=0.9)


def range_test_digits(optimizer_factory=_momentum_sgd, lr_min=1e-4, lr_max=10.0, steps=200, batch_size=32,
                      rng=0):
    """:func:`gdcourse.train.lr_range_test` of the 64-64-10 MLP on the digits training set."""
    data = digits()
    seed = int(as_rng(rng).integers(2**31))
    with _quiet_single_thread():
        return lr_range_test(lambda: _range_model(seed), L.CrossEntropyLoss(), optimizer_factory,
                             (data.X_train, data.y_train), lr_min=lr_min, lr_max=lr_max, steps=steps,
                             batch_size=batch_size, rng=seed)


def fixed_rate_sweep(rates, optimizer_factory=_momentum_sgd, epochs=2, batch_size=32, rng=0) -> np.ndarray:
    """Validation loss after ``epochs`` epochs at each fixed rate (same init, batch order); inf: diverged."""
    data = digits()
    seed = int(as_rng(rng).integers(2**31))
    finals = []
    with _quiet_single_thread():
        for lr in np.asarray(rates, dtype=float):
            model = _range_model(seed)
            optimizer = optimizer_factory(model.parameters())
            optimizer.lr = float(lr)
            try:
                fit(model, L.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train), epochs=epochs,
                    batch_size=batch_size, progress=False, rng=seed)
                value = evaluate(model, L.CrossEntropyLoss(), data.X_val, data.y_val)["loss"]
            except TrainingDiverged:
                value = math.inf
            finals.append(value if math.isfinite(value) else math.inf)
    return np.array(finals)


def final_losses_over_seeds(seeds=range(5), epochs=10) -> np.ndarray:
    """Final training loss of the healthy 64-64-10 MLP (SGD 0.02, momentum 0.9) for each init seed."""
    data = digits()
    finals = []
    with _quiet_single_thread():
        for seed in seeds:
            model = mlp(rng=seed)
            fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.02, momentum=0.9),
                (data.X_train, data.y_train), epochs=epochs, batch_size=32, progress=False, rng=seed)
            finals.append(evaluate(model, L.CrossEntropyLoss(), data.X_train, data.y_train)["loss"])
    return np.array(finals)


# ---------------------------------------------------------------------------------------------- PRAC-03

def gd_factor(lr: float, curvature: float) -> float:
    """``1 − ηλ``: what one gradient step multiplies the distance to the minimum by, along curvature λ."""
    return 1.0 - check_positive(lr, "lr") * check_positive(curvature, "curvature")


def ema_weights(path, beta: float = 0.99) -> np.ndarray:
    """Bias-corrected exponential moving average of the iterates ``path (T, d)``: row t averages rows ≤ t."""
    return smooth_losses(check_array(path, "path", ndim=2), beta)


def polyak_average(path, start: int = 0) -> np.ndarray:
    """Running mean of the iterates from ``start`` on (Polyak & Juditsky 1992); earlier rows unchanged."""
    path = check_array(path, "path", ndim=2)
    start = check_positive_int(start, "start", allow_zero=True)
    out = path.astype(float).copy()
    counts = np.arange(1, len(path) - start + 1)[:, None]
    out[start:] = np.cumsum(path[start:], axis=0) / counts
    return out


@dataclass(frozen=True)
class FluctuationRun:
    """SGD on a least-squares problem with a known minimizer ``w_star``.

    ``path (T + 1, d)``: the weights after every step; ``distance (T + 1,)``: ``‖w_t − w*‖``.
    """

    label: str
    path: np.ndarray
    distance: np.ndarray


def _regression_problem(n, d, noise, rng):
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, w_star


def _sgd_path(X, y, batch_size, schedule, steps, rng):
    """Plain SGD on ``mean((Xw − y)²)`` through the package (Linear without bias, MSELoss, SGD)."""
    layer = nn.Linear(X.shape[1], 1, bias=False, init="zeros")
    loss = L.MSELoss()
    optimizer = optim.SGD(layer.parameters(), lr=schedule(0))
    path = [layer.weight.value[:, 0].copy()]
    for t in range(steps):
        idx = rng.integers(0, len(X), size=batch_size)
        optimizer.lr = schedule(t)
        optimizer.zero_grad()
        loss.forward(layer.forward(X[idx]), y[idx, None])
        layer.backward(loss.backward(), input_grad=False)
        optimizer.step()
        path.append(layer.weight.value[:, 0].copy())
    return np.array(path)


def fluctuation_study(steps=1500, lr=0.05, small_batch_size=2, large_batch_size=32, n=500, d=5, noise=1.0,
                      rng=0) -> dict[str, FluctuationRun]:
    """Fluctuating SGD weights and three remedies, on one least-squares problem with known ``w*``.

    Runs: constant rate with small batches (the fluctuating baseline); the same with the rate
    decaying as ``lr / (1 + t/100)``; a 16x larger batch at the constant rate; and the
    baseline's iterates averaged (EMA with β = 0.99, and Polyak's running mean from the middle
    on) without changing training. Each batch is drawn with its own generator seeded from
    ``rng`` so the comparison does not depend on the order the runs are made.
    """
    rng = as_rng(rng)
    X, y, w_star = _regression_problem(n, d, noise, rng)
    seeds = rng.integers(2**31, size=3)
    constant = lambda t: lr
    decaying = S.InverseTimeDecay(lr, 0.01)
    with _quiet_single_thread():
        base = _sgd_path(X, y, small_batch_size, constant, steps, np.random.default_rng(seeds[0]))
        paths = {
            f"constant rate, batch {small_batch_size}": base,
            "rate decay lr/(1 + t/100)": _sgd_path(X, y, small_batch_size, decaying, steps,
                                                   np.random.default_rng(seeds[1])),
            f"batch {large_batch_size}": _sgd_path(X, y, large_batch_size, constant, steps,
                                                   np.random.default_rng(seeds[2])),
            "EMA of the weights (β = 0.99)": ema_weights(base, 0.99),
            "Polyak average (from the middle)": polyak_average(base, steps // 2),
        }
    return {label: FluctuationRun(label, path, np.linalg.norm(path - w_star, axis=1))
            for label, path in paths.items()}


def dropout_noise(p=0.5, epochs=6, rng=0) -> dict[str, float]:
    """Step-to-step spread of the training loss (std of its differences, last 3 epochs), without/with dropout.

    Seed 004#12 counts dropout among the remedies for fluctuating training; it adds noise.
    """
    data = digits()
    seed = int(as_rng(rng).integers(2**31))
    spreads = {}
    with _quiet_single_thread():
        for rate in (0.0, p):
            model = mlp((64, 128, 10), rng=seed, dropout=rate)
            optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
            history = fit(model, L.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train), epochs=epochs,
                          batch_size=32, progress=False, rng=seed)
            late = history["step_loss"][-3 * len(history["step_loss"]) // epochs:]
            spreads[f"dropout {rate:g}"] = float(np.std(np.diff(late)))
    return spreads


# ---------------------------------------------------------------------------------------------- PRAC-04

@dataclass(frozen=True)
class RandomnessStudy:
    """Final validation accuracy when one source of randomness varies and the others stay fixed.

    ``accuracy[source]`` has one entry per seed of that source; ``"none"`` repeats the base
    run (all three seeds fixed) and ``identical`` says whether those repeats matched bit for bit.
    """

    accuracy: dict
    identical: bool
    histories: dict


def _seeded_run(init_seed, shuffle_seed, dropout_seed, epochs, n_train):
    data = digits()
    model = mlp((64, 64, 10), rng=init_seed, dropout=0.3, dropout_rng=dropout_seed)
    history = fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                  (data.X_train[:n_train], data.y_train[:n_train]), epochs=epochs, batch_size=32,
                  progress=False, rng=shuffle_seed)
    return history, evaluate(model, L.CrossEntropyLoss(), data.X_val, data.y_val)["accuracy"]


def randomness_study(seeds=(1, 2, 3, 4, 5), epochs=4, n_train=300) -> RandomnessStudy:
    """Switch the sources on one at a time: initialization, shuffling order, dropout masks.

    The base run uses seed 0 for all three generators; each source in turn takes the seeds
    in ``seeds`` while the other two stay at 0; ``"all"`` varies the three together.
    """
    sources = {"initialization": lambda s: (s, 0, 0), "shuffling": lambda s: (0, s, 0),
               "dropout masks": lambda s: (0, 0, s), "all": lambda s: (s, s + 100, s + 200)}
    accuracy, histories = {}, {}
    with _quiet_single_thread():
        first, acc_first = _seeded_run(0, 0, 0, epochs, n_train)
        again, acc_again = _seeded_run(0, 0, 0, epochs, n_train)
        accuracy["none"] = [acc_first, acc_again]
        histories["none"] = [first["step_loss"], again["step_loss"]]
        for source, seeds_of in sources.items():
            runs = [_seeded_run(*seeds_of(s), epochs, n_train) for s in seeds]
            accuracy[source] = [acc for _, acc in runs]
            histories[source] = [history["step_loss"] for history, _ in runs]
    identical = bool(np.array_equal(histories["none"][0], histories["none"][1]))
    return RandomnessStudy(accuracy, identical, histories)


def summation_orders(n=10_000, trials=5, rng=0) -> np.ndarray:
    """The float64 sum of the same ``n`` numbers in ``trials`` random orders (the last bits differ)."""
    rng = as_rng(rng)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, size=n)
    return np.array([np.sum(values[rng.permutation(n)]) for _ in range(trials)])


def _weights_after_each_epoch(model, lr, epochs, seed):
    data = digits()
    snapshots = []

    def snapshot(epoch, history, model):
        snapshots.append(np.concatenate([p.value.ravel() for p in model.parameters()]))

    fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9),
        (data.X_train, data.y_train), epochs=epochs, batch_size=32, callbacks=[snapshot], progress=False,
        rng=seed)
    return np.array(snapshots)


def perturbation_growth(epsilon=1e-12, lr=0.15, epochs=10, rng=0) -> np.ndarray:
    """‖Δw‖ between two runs whose initial weights differ by ``epsilon`` in one entry: at 0, then per epoch.

    Everything else (data order, no dropout) is identical: the gap is what a last-bit
    difference, such as a different summation order on a GPU, turns into. SGD with momentum 0.9
    at ``lr``: at 0.15 (near the edge of stability, the noisy regime of large-rate training)
    the gap grows to the size of the weights within a few epochs; at 0.05 it stays tiny.
    """
    seed = int(as_rng(rng).integers(2**31))
    base, nudged = mlp((64, 64, 10), rng=seed), mlp((64, 64, 10), rng=seed)
    nudged[-1].weight.value[0, 0] += epsilon  # an output weight: it reaches the loss at every step
    with _quiet_single_thread():
        gaps = np.linalg.norm(_weights_after_each_epoch(base, lr, epochs, seed)
                              - _weights_after_each_epoch(nudged, lr, epochs, seed), axis=1)
    return np.concatenate([[epsilon], gaps])


# ---------------------------------------------------------------------------------------------- PRAC-05

def manual_training_loop(model, loss, optimizer, X, y, *, epochs, batch_size, rng):
    """The whole of ``fit`` without its conveniences, written out: the list of step losses.

    For each epoch: shuffle; for each mini-batch: zero the gradients, forward, loss,
    backward, step. Same generator use as ``fit`` (one permutation per epoch), so with the
    same seed it reproduces ``fit``'s history bit for bit.
    """
    rng = as_rng(rng)
    values = []
    model.train()
    with _quiet_single_thread():
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                optimizer.zero_grad()
                value = loss.forward(model.forward(X[idx]), y[idx])
                model.backward(loss.backward(), input_grad=False)
                optimizer.step()
                values.append(value)
    return np.array(values)


def accumulated_gradient(model, loss, X, y, passes: int) -> np.ndarray:
    """The first layer's weight gradient after ``passes`` backward passes without ``zero_grad`` between."""
    model.zero_grad()
    for _ in range(check_positive_int(passes, "passes")):
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)
    return model.parameters()[0].grad.copy()


# ---------------------------------------------------------------------------------------------- PRAC-06

def ridge_path(X_train, y_train, X_val, y_val, strengths) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation MSE of ridge regression ``w = (XᵀX + nλI)⁻¹ Xᵀy`` for each λ.

    Minimizes ``mean((Xw − y)²) + λ‖w‖²`` in closed form. The training error can only grow
    with λ, so choosing λ by training error always picks λ = 0.
    """
    X_train = check_array(X_train, "X_train", ndim=2)
    n, d = X_train.shape
    train, val = [], []
    for lam in np.asarray(strengths, dtype=float):
        w = np.linalg.solve(X_train.T @ X_train + n * lam * np.eye(d), X_train.T @ y_train)
        train.append(np.mean((X_train @ w - y_train) ** 2))
        val.append(np.mean((X_val @ w - y_val) ** 2))
    return np.array(train), np.array(val)


# ---------------------------------------------------------------------------------------------- PRAC-07/08

def _check_sizes(layer_sizes):
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes: expected at least an input and an output size, got {sizes!r}")
    for i, n in enumerate(sizes):
        check_positive_int(n, f"layer_sizes[{i}]")
    return sizes


def layer_parameters(layer_sizes, bias=True) -> list[int]:
    """Parameters of each fully connected layer: ``n_i · n_(i+1) + n_(i+1)`` (weights + biases)."""
    sizes = _check_sizes(layer_sizes)
    return [n_in * n_out + (n_out if bias else 0) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]


def count_parameters(layer_sizes, bias=True) -> int:
    """Learnable parameters of a fully connected network ``n_0 → n_1 → … → n_L``: ``Σ (n_i + 1) n_(i+1)``."""
    return sum(layer_parameters(layer_sizes, bias))


def conv_output_size(n: int, f: int, p: int = 0, s: int = 1) -> int:
    """Output length of a convolution along one axis: ``⌊(n − f + 2p) / s⌋ + 1``.

    ``n`` input size, ``f`` filter size, ``p`` zero padding on each side, ``s`` stride.
    """
    n, f = check_positive_int(n, "n"), check_positive_int(f, "f")
    p, s = check_positive_int(p, "p", allow_zero=True), check_positive_int(s, "s")
    if f > n + 2 * p:
        raise ValueError(f"f: expected at most the padded input size n + 2p = {n + 2 * p}, got {f}")
    return (n - f + 2 * p) // s + 1


def conv_parameters(f: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Parameters of a conv layer with ``c_out`` filters of ``f × f × c_in``: ``(f² c_in + 1) c_out``."""
    f, c_in, c_out = (check_positive_int(v, name) for v, name in ((f, "f"), (c_in, "c_in"), (c_out, "c_out")))
    return (f * f * c_in + (1 if bias else 0)) * c_out


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """A direct 2-D convolution (cross-correlation, as in deep-learning libraries).

    Shapes: ``x (N, C_in, H, W)``, ``weight (C_out, C_in, f, f)``, ``bias (C_out,)``; output
    ``(N, C_out, H_out, W_out)`` with ``H_out = ⌊(H − f + 2p)/s⌋ + 1``. Every ``f × f`` window of
    the zero-padded input is taken with ``sliding_window_view`` (a view, no copy) and contracted
    with the filters in one ``einsum``; the stride keeps every ``s``-th window.
    """
    x = check_array(x, "x", ndim=4)
    weight = check_array(weight, "weight", ndim=4)
    if weight.shape[1] != x.shape[1] or weight.shape[2] != weight.shape[3]:
        raise ValueError(f"weight: expected shape (C_out, {x.shape[1]}, f, f), got {weight.shape}")
    stride = check_positive_int(stride, "stride")
    padding = check_positive_int(padding, "padding", allow_zero=True)
    f = weight.shape[2]
    conv_output_size(x.shape[2], f, padding, stride)  # validates the sizes
    conv_output_size(x.shape[3], f, padding, stride)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True)
    if bias is not None:
        out += np.asarray(bias, dtype=out.dtype)[None, :, None, None]
    return out


# ---------------------------------------------------------------------------------------------- capstone

@dataclass(frozen=True, eq=False)
class CapstoneResult:
    """The capstone run: model, history, test metrics and diagnostics.

    ``grad_norms (K, layers)``: weight-gradient norm of each ``Linear`` layer on a probe batch at
    the start and after every epoch (when early stopping fires, ``fit`` stops before the callbacks
    of that last epoch, so ``K`` is the number of epochs); ``dead``: ReLU layer index → dead units on the
    training set at the end; ``confusion (10, 10)``: rows true class, columns predicted.
    """

    model: nn.Sequential
    history: object
    test_accuracy: float
    test_loss: float
    grad_norms: np.ndarray
    dead: dict
    confusion: np.ndarray
    config: dict


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes,
                                                                                       num_classes)


CAPSTONE_CONFIG = {
    "hidden": 128, "norm": "batch", "dropout": 0.2, "lr": 0.05, "momentum": 0.9, "nesterov": True,
    "weight_decay": 5e-4, "warmup_steps": 30, "epochs": 40, "batch_size": 64, "clip_norm": 5.0,
    "patience": 8,
}


def _capstone_model(config, rng):
    hidden = config["hidden"]
    norm = (lambda n: nn.BatchNorm1d(n)) if config["norm"] == "batch" else (lambda n: nn.LayerNorm(n))
    layers = []
    for n_in in (64, hidden):
        layers += [nn.Linear(n_in, hidden, init="he_normal", rng=rng), norm(hidden), nn.ReLU(),
                   nn.Dropout(config["dropout"], rng=rng)]
    return nn.Sequential(*layers, nn.Linear(hidden, 10, init="he_normal", rng=rng))


def capstone(rng=0, **overrides) -> CapstoneResult:
    """Everything together on the digits: an MLP 64-128-128-10 reaching ≥ 97% test accuracy.

    He init, batch norm, ReLU, dropout 0.2; SGD with Nesterov momentum 0.9 and weight decay
    5e-4, peak rate 0.05; linear warmup (30 steps) into cosine decay over 40 epochs; clipping at norm
    5; early stopping on the validation loss (patience 8, best weights restored). ``overrides``
    change :data:`CAPSTONE_CONFIG` entries (e.g. ``norm="layer"``).
    """
    unknown = set(overrides) - set(CAPSTONE_CONFIG)
    if unknown:
        raise ValueError(f"overrides: unknown settings {sorted(unknown)}; known: {sorted(CAPSTONE_CONFIG)}")
    config = {**CAPSTONE_CONFIG, **overrides}
    data = digits()
    rng = as_rng(rng)
    model = _capstone_model(config, rng)
    total = config["epochs"] * -(-len(data.X_train) // config["batch_size"])
    schedule = S.LinearWarmup(S.CosineDecay(config["lr"], total), config["warmup_steps"])
    optimizer = optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                          nesterov=config["nesterov"], weight_decay=config["weight_decay"])
    probe = (data.X_train[:256], data.y_train[:256])
    norms = []

    def record_gradients(epoch, history, model):
        layers = gradient_norms(model, L.CrossEntropyLoss(), *probe)
        norms.append([g for _, name, g in layers if name == "Linear"])

    with _quiet_single_thread():
        record_gradients(-1, None, model)
        history = fit(model, L.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train),
                      epochs=config["epochs"], batch_size=config["batch_size"], val=(data.X_val, data.y_val),
                      schedule=schedule, clip_norm=config["clip_norm"],
                      early_stopping=R.EarlyStopping(patience=config["patience"]),
                      callbacks=[record_gradients], progress=False, rng=rng)
        test = evaluate(model, L.CrossEntropyLoss(), data.X_test, data.y_test)
        predicted = predict(model, data.X_test).argmax(axis=1)
        model.eval()
        dead = dead_units(model, data.X_train)
        model.train()
    return CapstoneResult(model, history, test["accuracy"], test["loss"], np.array(norms), dead,
                          confusion_matrix(data.y_test, predicted, 10), config)
