"""Sign-based optimizers: signSGD and Lion, and why the sign of a mini-batch gradient works or fails.

signSGD moves every coordinate by exactly ±η: ``w ← w − η sign(g)`` (Bernstein et al. 2018); it is the
steepest-descent step in the max-norm, keeps no state (with momentum: one buffer), and is Adam with
β₁ = β₂ = 0 (``g/√(g²) = sign(g)``). Lion (Chen et al. 2023) takes the sign of an interpolation of the
momentum and the gradient: one buffer instead of Adam's two. The sign only helps while it is *right*:
the probability that a mini-batch gradient has the sign of the full gradient falls towards ½ when the
batch is small or the true gradient is small next to the noise, and then a sign step of fixed size
keeps bouncing (no noise averaging, no shrinking step near the minimum).
"""

from __future__ import annotations

import numpy as np

from gdcourse import optim
from gdcourse.experiments.optimizers.running import descend
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["SIGN_RULES", "noisy_regression", "sign_agreement", "sign_race"]

SIGN_RULES = {"SGD": lambda p, lr: optim.SGD(p, lr=lr),
              "signSGD": lambda p, lr: optim.SignSGD(p, lr=lr),
              "Lion": lambda p, lr: optim.Lion(p, lr=lr)}
"""Name → ``(params, lr) -> optimizer`` for :func:`sign_race`."""


def noisy_regression(n: int = 1000, d: int = 20, noise: float = 1.0, rng=0):
    """``(X (n, d), y (n,), w* (d,))``: least squares whose per-example gradients are noisy."""
    rng = as_rng(rng)
    X = rng.standard_normal((check_positive_int(n, "n"), check_positive_int(d, "d")))
    w_true = rng.standard_normal(d)
    return X, X @ w_true + noise * rng.standard_normal(n), w_true


def _grad(X, y, w, idx):
    """Gradient of ½·mean((Xw − y)²) over the rows ``idx``."""
    return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)


def sign_agreement(X, y, w, batch_size: int, draws: int = 200, rng=None) -> float:
    """Mean fraction of coordinates where ``sign(g_B) = sign(∇J)`` at ``w``, over ``draws`` random batches."""
    rng, batch_size = as_rng(rng), check_positive_int(batch_size, "batch_size")
    full = np.sign(_grad(X, y, w, np.arange(len(y))))
    hits = [np.mean(np.sign(_grad(X, y, w, rng.choice(len(y), batch_size, replace=False))) == full)
            for _ in range(draws)]
    return float(np.mean(hits))


def sign_race(X, y, batch_size: int, lrs, steps: int = 300, seeds=range(5)) -> dict:
    """For each rule of :data:`SIGN_RULES`: the rate of ``lrs`` with the lowest median final excess loss
    over ``seeds`` (batch orders), and those losses: ``{name: (lr, losses (len(seeds),))}``.

    Every rule gets the same steps, batch size, start (zero), grid and stopping rule (the budget).
    """
    steps, batch_size = check_positive_int(steps, "steps"), check_positive_int(batch_size, "batch_size")
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]

    def excess(w):
        return 0.5 * np.mean((X @ w - y) ** 2) - 0.5 * np.mean((X @ w_star - y) ** 2)

    def final(name, lr, seed):
        rng = as_rng(seed)
        points = descend(lambda p: SIGN_RULES[name](p, lr),
                         lambda w: _grad(X, y, w, rng.choice(len(y), batch_size, replace=False)),
                         np.zeros(X.shape[1]), steps)
        value = excess(points[-1])
        return value if np.isfinite(value) else np.inf

    result = {}
    for name in SIGN_RULES:
        runs = {lr: np.array([final(name, lr, s) for s in seeds]) for lr in lrs}
        best = min(runs, key=lambda lr: np.median(runs[lr]))
        result[name] = (float(best), runs[best])
    return result
