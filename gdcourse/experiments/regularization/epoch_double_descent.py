"""REG-01d: epoch-wise double descent in a linear model, and what early stopping does there.

A *linear* least-squares model (no network) trained by full-batch gradient descent from zero. Its inputs come
in two blocks at different scales: ``d_fast`` features of standard deviation 1 and ``d_slow`` features of
standard deviation ``slow_scale``; the target is ``y = xᵀβ + noise``, and most of the signal sits in the slow
block. Gradient descent fits eigendirection ``i`` of ``A = XᵀX/n`` at the rate ``1 − (1 − ηλᵢ)ᵗ``, so the fast
block is learned about ``1/slow_scale²`` times sooner. While the slow signal is still unfitted it acts as extra
label noise for the fast block, which (``d_fast`` close to ``n``) fits that noise and the test error *rises*;
later the slow block is learned and the error falls a second time. The test curve is the sum of two
bias-variance U-curves at different time scales (Heckel & Yilmaz 2021, "Early stopping in deep networks:
double descent and how to eliminate it"; the phenomenon in networks: Nakkiran et al. 2019, "Deep double
descent"). Giving the slow block a step size ``1/slow_scale²`` times larger (per-block step sizes, their remedy)
makes both blocks learn at the same speed and leaves a single U.

Everything is in closed form: with ``A = Σᵢ λᵢ vᵢvᵢᵀ`` and ``b = Xᵀy/n``, gradient descent from ``w₀ = 0`` gives
``w_t = Σᵢ (1 − (1 − ηλᵢ)ᵗ)/λᵢ · (vᵢᵀb) vᵢ``, and the test error is exact,
``(w_t − β)ᵀ Σ (w_t − β) + σ²`` with ``Σ`` the diagonal input covariance.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import one_blas_thread, read_only
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["two_scale_problem", "gd_path", "curve_shape", "patience_stop", "EpochDoubleDescent",
           "epoch_double_descent"]


def two_scale_problem(n: int = 200, d_fast: int = 120, d_slow: int = 10, slow_scale: float = 0.03,
                      fast_signal: float = 1.5, slow_signal: float = 1.0, noise: float = 0.5, n_val: int = 200,
                      rng=0) -> dict:
    """One draw of the two-scale regression problem.

    Returns ``X (n, d)``, ``y (n,)``, ``X_val (n_val, d)``, ``y_val (n_val,)``, ``beta (d,)``, ``scales (d,)``
    (the input standard deviations, ``d = d_fast + d_slow``) and ``noise``. ``β`` is Gaussian with the fast
    block contributing variance ``fast_signal²`` to ``xᵀβ`` and the slow block ``slow_signal²``.
    """
    n, n_val = check_positive_int(n, "n"), check_positive_int(n_val, "n_val")
    d_fast, d_slow = check_positive_int(d_fast, "d_fast"), check_positive_int(d_slow, "d_slow")
    slow_scale = check_positive(slow_scale, "slow_scale")
    fast_signal = check_positive(fast_signal, "fast_signal", allow_zero=True)
    slow_signal = check_positive(slow_signal, "slow_signal", allow_zero=True)
    noise = check_positive(noise, "noise", allow_zero=True)
    rng = as_rng(rng)
    scales = np.r_[np.ones(d_fast), np.full(d_slow, slow_scale)]
    beta = np.r_[fast_signal * rng.standard_normal(d_fast) / np.sqrt(d_fast),
                 slow_signal * rng.standard_normal(d_slow) / np.sqrt(d_slow) / slow_scale]
    X = rng.standard_normal((n, scales.size)) * scales
    X_val = rng.standard_normal((n_val, scales.size)) * scales
    y = X @ beta + noise * rng.standard_normal(n)
    y_val = X_val @ beta + noise * rng.standard_normal(n_val)
    return {"X": X, "y": y, "X_val": X_val, "y_val": y_val, "beta": beta, "scales": scales, "noise": float(noise)}


def gd_path(X, y, steps, lr: float | None = None, step_scale=None) -> np.ndarray:
    """Weights of full-batch gradient descent on ``L(w) = ‖Xw − y‖²/(2n)`` from ``w₀ = 0``, after each of ``steps``.

    ``X (n, d)``, ``y (n,)``, ``steps (T,)`` non-negative ints; returns ``W (T, d)``. ``step_scale (d,)``
    (default ones) gives each coordinate its own step ``η·step_scaleⱼ`` (a diagonal preconditioner ``P``):
    the update is ``w ← w − η P ∇L``, solved as plain gradient descent on ``u = P^{-1/2} w``. ``lr``
    defaults to ``1/λmax`` of the (preconditioned) Hessian. Closed form per eigendirection of the Hessian
    ``A``: ``wᵢ(t) = (1 − (1 − ηλᵢ)ᵗ) bᵢ/λᵢ`` (``= tη bᵢ`` when ``λᵢ = 0``).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} entries to match X, got shape {y.shape}")
    steps = np.asarray(steps)
    if steps.ndim != 1 or steps.dtype.kind not in "iu" or np.any(steps < 0):
        raise ValueError(f"steps: expected a 1-D array of non-negative ints, got {steps!r}")
    scale = np.ones(X.shape[1]) if step_scale is None else check_array(step_scale, "step_scale", ndim=1,
                                                                        finite=True)
    if scale.shape[0] != X.shape[1] or np.any(scale <= 0):
        raise ValueError(f"step_scale: expected {X.shape[1]} positive entries, got {step_scale!r}")
    root = np.sqrt(scale)
    Xp = X * root                                              # the features of u = P^{-1/2} w
    lam, V = np.linalg.eigh(Xp.T @ Xp / X.shape[0])
    lam = np.clip(lam, 0.0, None)
    lr = 1.0 / lam.max() if lr is None else check_positive(lr, "lr")
    b = V.T @ (Xp.T @ y) / X.shape[0]
    t = steps[:, None].astype(float)
    safe = np.where(lam > 1e-14, lam, 1.0)
    gain = np.where(lam > 1e-14, (1.0 - (1.0 - lr * lam) ** t) / safe, lr * t)
    return (gain * b) @ V.T * root


def curve_shape(errors, rtol: float = 1e-9) -> tuple[int, int, int]:
    """``(first_min, peak, second_min)`` indices of a curve ``errors (T,)``.

    ``first_min``: the end of the first descent (the first point after which the curve rises by more than
    ``rtol`` relative); ``peak``: the end of the climb that follows; ``second_min``: the lowest point after
    the peak. A curve with one minimum and no later fall (a U, or a monotone descent) gives its minimum three
    times.
    """
    e = check_array(errors, "errors", ndim=1, finite=True)
    step = np.diff(e)
    tol = rtol * np.abs(e[:-1])
    rises = np.flatnonzero(step > tol)
    if not rises.size:
        low = int(np.argmin(e))
        return low, low, low
    first_min = int(rises[0])
    falls = np.flatnonzero(step[first_min:] < -tol[first_min:])
    if not falls.size:
        return first_min, first_min, first_min
    peak = first_min + int(falls[0])
    return first_min, peak, peak + int(np.argmin(e[peak:]))


def patience_stop(val_errors, patience: int) -> tuple[int, int]:
    """Early stopping on the checkpoints ``val_errors (T,)``: ``(stopped, restored)`` indices.

    Stop once the best checkpoint is ``patience`` checkpoints old (the rule of
    :func:`gdcourse.experiments.regularization.early_stopping.should_stop`), restore the best; without a stop,
    ``stopped`` is the last index.
    """
    v = check_array(val_errors, "val_errors", ndim=1, finite=True)
    patience = check_positive_int(patience, "patience")
    best = 0
    for k in range(1, len(v)):
        if v[k] < v[best]:
            best = k
        elif k - best >= patience:
            return k, best
    return len(v) - 1, best


@dataclass(frozen=True)
class EpochDoubleDescent:
    """``steps (T,)`` of full-batch GD (log-spaced checkpoints); per seed and checkpoint ``(S, T)``: ``test_mse``
    (exact) and ``val_mse`` (on ``n_val`` drawn points) of plain GD, ``equalized_test_mse`` of GD with the
    slow block's step ``1/slow_scale²`` times larger; ``shape (S, 3)`` the :func:`curve_shape` indices of
    ``test_mse``; ``stop (S, 2)`` the :func:`patience_stop` indices on ``val_mse`` with ``patience``; ``noise``
    the label noise std (the best possible test MSE is ``noise²``)."""

    steps: np.ndarray
    test_mse: np.ndarray
    val_mse: np.ndarray
    equalized_test_mse: np.ndarray
    shape: np.ndarray
    stop: np.ndarray
    patience: int
    noise: float


@functools.lru_cache(maxsize=4)
@stored
@one_blas_thread
def epoch_double_descent(seeds: tuple = tuple(range(20)), n: int = 200, d_fast: int = 120, d_slow: int = 10,
                         slow_scale: float = 0.03, noise: float = 0.5, max_steps: int = 100_000,
                         per_decade: int = 20, patience: int = 10) -> EpochDoubleDescent:
    """Test error over training time of plain and equalized GD on :func:`two_scale_problem`, one draw per seed.

    Checkpoints: ``per_decade`` log-spaced step counts from 1 to ``max_steps``; ``patience`` counts checkpoints
    (10 of 20 per decade: the run must go on about 3× longer without improving before it stops).
    """
    max_steps, per_decade = check_positive_int(max_steps, "max_steps"), check_positive_int(per_decade, "per_decade")
    steps = np.unique(np.round(np.logspace(0, np.log10(max_steps), int(per_decade * np.log10(max_steps)) + 1)))
    steps = np.r_[0, steps].astype(int)
    out = {k: np.empty((len(seeds), len(steps))) for k in ("test", "val", "equal")}
    for s, seed in enumerate(seeds):
        prob = two_scale_problem(n, d_fast, d_slow, slow_scale, noise=noise, rng=int(seed))
        cov, beta = prob["scales"] ** 2, prob["beta"]
        for key, step_scale in (("test", None), ("equal", 1.0 / cov)):
            W = gd_path(prob["X"], prob["y"], steps, step_scale=step_scale)
            out[key][s] = ((W - beta) ** 2 * cov).sum(axis=1) + prob["noise"] ** 2
            if key == "test":
                out["val"][s] = np.mean((W @ prob["X_val"].T - prob["y_val"]) ** 2, axis=1)
    shape = np.array([curve_shape(e) for e in out["test"]])
    stop = np.array([patience_stop(v, patience) for v in out["val"]])
    return read_only(EpochDoubleDescent(steps, out["test"], out["val"], out["equal"], shape, stop, int(patience),
                                        float(noise)))
