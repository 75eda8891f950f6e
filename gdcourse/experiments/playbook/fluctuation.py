"""PRAC-03: fluctuating weights. The step factor ``1 − ηλ`` on a quadratic, SGD's noise ball on least
squares and the remedies (rate decay, larger batches, weight averaging), and the fluctuation dropout adds."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import schedules as S
from gdcourse.experiments.common import quiet, read_only
from gdcourse.experiments.playbook.base import digits, mlp
from gdcourse.experiments.playbook.learning_rate import smooth_losses
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["gd_factor", "ema_weights", "polyak_average", "FluctuationRun", "fluctuation_study", "DropoutFluctuation",
           "dropout_fluctuation"]


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
    with quiet():
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


@dataclass(frozen=True)
class DropoutFluctuation:
    """How much the weights and the model move per step late in training, without and with dropout.

    Per seed (arrays ``(S,)``), for each arm ``"dropout 0"`` and ``"dropout p"``: ``weight_step``, the
    mean relative step ``‖θ_{t+1} − θ_t‖ / ‖θ_t‖`` over the last ``tail`` steps, and ``eval_jitter``, the
    std of the step-to-step change of the **evaluation-mode** loss on a fixed set of 256 training digits
    over the same steps. Neither contains the dropout mask of the measurement itself (the training loss of
    a dropout step does, which would make the comparison circular). Both arms of a seed share the
    initialization and the batch order.
    """

    p: float
    seeds: tuple
    weight_step: dict
    eval_jitter: dict

    def ratio(self, metric: str) -> np.ndarray:
        """Per seed: the metric with dropout divided by the metric without, ``(S,)``."""
        values = getattr(self, metric)
        return values[f"dropout {self.p:g}"] / values["dropout 0"]


def _late_fluctuation(model, X, y, X_probe, y_probe, epochs, tail, rng):
    """Train with SGD (lr 0.02, momentum 0.9, batch 32); return the mean relative weight step and the std
    of the eval-mode loss change over the last ``tail`` steps."""
    loss = L.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    order_rng = np.random.default_rng(rng)
    steps_per_epoch = -(-len(X) // 32)
    first_recorded = epochs * steps_per_epoch - tail
    rel_steps, probe_losses, step = [], [], 0
    for _ in range(epochs):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), 32):
            batch = order[start:start + 32]
            record = step >= first_recorded - 1
            before = np.concatenate([p.value.ravel() for p in model.parameters()]) if record else None
            model.train()
            optimizer.zero_grad()
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward(), input_grad=False)
            optimizer.step()
            if record:
                after = np.concatenate([p.value.ravel() for p in model.parameters()])
                rel_steps.append(np.linalg.norm(after - before) / np.linalg.norm(before))
                model.eval()
                probe_losses.append(loss.forward(model.forward(X_probe), y_probe))
            step += 1
    return float(np.mean(rel_steps[1:])), float(np.std(np.diff(probe_losses)))


def dropout_fluctuation(p=0.5, epochs=3, tail=40, seeds=tuple(range(20))) -> DropoutFluctuation:
    """Late-training fluctuation of a 64-128-10 MLP on the digits, without and with dropout ``p``, per seed.

    A common answer counts dropout among the remedies for fluctuating weights; it adds noise. The
    metrics are clean (see :class:`DropoutFluctuation`). Cached per arguments.
    """
    p = check_positive(p, "p")
    return _dropout_fluctuation(float(p), check_positive_int(epochs, "epochs"), check_positive_int(tail, "tail"),
                                tuple(int(s) for s in seeds))


@functools.lru_cache(maxsize=2)
@stored
def _dropout_fluctuation(p, epochs, tail, seeds):
    data = digits()
    X, y = data.X_train, data.y_train
    X_probe, y_probe = X[:256], y[:256]
    arms = {"dropout 0": 0.0, f"dropout {p:g}": p}
    weight_step = {name: np.empty(len(seeds)) for name in arms}
    eval_jitter = {name: np.empty(len(seeds)) for name in arms}
    with quiet():
        for i, seed in enumerate(seeds):
            for name, rate in arms.items():
                model = mlp((64, 128, 10), rng=seed, dropout=rate, dropout_rng=seed + 10_000)
                weight_step[name][i], eval_jitter[name][i] = _late_fluctuation(
                    model, X, y, X_probe, y_probe, epochs, tail, seed)
    return read_only(DropoutFluctuation(p, seeds, weight_step, eval_jitter))
