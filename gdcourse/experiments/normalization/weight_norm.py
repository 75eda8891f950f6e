"""Weight normalization (Salimans & Kingma, 2016), ``w = g v / ‖v‖``, on a badly scaled linear regression."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim
from gdcourse.memo import stored_training
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["Regression", "badly_scaled_regression", "mse_curvatures", "RegressionRun", "fit_regression",
           "WeightNormComparison", "compare_weight_norm"]


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


@stored_training
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


def compare_weight_norm(problem_seeds=tuple(range(10)), init_seeds=(1, 2), factors=(0.5, 2.0), steps=300,
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
