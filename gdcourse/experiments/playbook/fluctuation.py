"""PRAC-03: fluctuating weights. The step factor ``1 − ηλ`` on a quadratic, SGD's noise ball on least
squares and the remedies (rate decay, larger batches, weight averaging), and the noise dropout adds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse import schedules as S
from gdcourse.experiments.common import quiet
from gdcourse.experiments.playbook.base import digits, mlp
from gdcourse.experiments.playbook.learning_rate import smooth_losses
from gdcourse.train import fit
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["gd_factor", "ema_weights", "polyak_average", "FluctuationRun", "fluctuation_study", "dropout_noise"]


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


def dropout_noise(p=0.5, epochs=6, rng=0) -> dict[str, float]:
    """Step-to-step spread of the training loss (std of its differences, last 3 epochs), without/with dropout.

    A common answer counts dropout among the remedies for fluctuating training; it adds noise.
    """
    data = digits()
    seed = int(as_rng(rng).integers(2**31))
    spreads = {}
    with quiet():
        for rate in (0.0, p):
            model = mlp((64, 128, 10), rng=seed, dropout=rate)
            optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
            history = fit(model, L.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train), epochs=epochs,
                          batch_size=32, progress=False, rng=seed)
            late = history["step_loss"][-3 * len(history["step_loss"]) // epochs:]
            spreads[f"dropout {rate:g}"] = float(np.std(np.diff(late)))
    return spreads
