"""Synchronous and asynchronous SGD across workers: stale gradients, their stability limit, stragglers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.variants.problem import (
    LeastSquares,
    Trace,
    check_batch_size,
    check_problem,
    is_diverged,
    lr_function,
    make_trace,
    regression_problem,
    start_point,
)
from gdcourse.memo import stored
from gdcourse.validate import (
    as_rng,
    check_positive,
    check_positive_int,
)

__all__ = ["simulate_async_sgd", "simulate_sync_sgd", "stable_lr_limit", "smallest_unstable_staleness",
           "async_problem", "AsyncDemo", "async_demo", "straggler_slowdown"]


@stored
def simulate_async_sgd(problem: LeastSquares, lr, staleness: int, steps: int, batch_size: int | None = None,
                       rng=None, w0=None) -> Trace:
    """Asynchronous SGD with a fixed delay: ``w_{t+1} = w_t − η g(w_{t−τ})``.

    Every update applies a gradient computed at the weights of ``τ = staleness``
    updates ago (``w_0`` before that), on a fresh random batch of
    ``batch_size`` examples (the exact gradient when None). With K equally fast
    workers served round-robin, ``τ = K − 1``. ``staleness=0`` is plain SGD.
    """
    problem = check_problem(problem)
    lr_at = lr_function(lr)
    staleness = check_positive_int(staleness, "staleness", allow_zero=True)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    if batch_size is not None:
        batch_size = check_batch_size(batch_size, problem.n)
    rng = as_rng(rng)
    w = start_point(problem, w0)
    X, y = problem.X, problem.y
    weights, lrs = [w.copy()], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            read = weights[max(t - staleness, 0)]
            if batch_size is None:
                grad = X.T @ (X @ read - y) / problem.n
            else:
                idx = rng.choice(problem.n, batch_size, replace=False)
                grad = X[idx].T @ (X[idx] @ read - y[idx]) / batch_size
            rate = lr_at(t)
            w = w - rate * grad
            weights.append(w)
            lrs.append(rate)
            if is_diverged(w):
                break
    per_step = problem.n if batch_size is None else batch_size
    return make_trace(problem, weights, np.arange(len(weights)) * per_step, lrs, [], is_diverged(w))


def simulate_sync_sgd(problem: LeastSquares, lr, workers: int, steps: int, batch_size: int, rng=None,
                      w0=None) -> Trace:
    """Synchronous data-parallel SGD: each step, ``workers`` workers each compute the gradient of their own
    ``batch_size`` examples at the same weights; the mean of those gradients is applied once.

    The workers' batches are disjoint, so this is mini-batch SGD with batch
    ``workers · batch_size`` drawn without replacement.
    """
    problem = check_problem(problem)
    lr_at = lr_function(lr)
    workers = check_positive_int(workers, "workers")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    check_batch_size(workers * batch_size, problem.n)
    rng = as_rng(rng)
    w = start_point(problem, w0)
    weights, lrs = [w.copy()], []
    for t in range(steps):
        shards = rng.choice(problem.n, workers * batch_size, replace=False).reshape(workers, batch_size)
        Xs = problem.X[shards]                                            # (workers, B, d)
        residuals = Xs @ w - problem.y[shards]                            # (workers, B)
        worker_grads = np.einsum("kbd,kb->kd", Xs, residuals) / batch_size
        rate = lr_at(t)
        w = w - rate * worker_grads.mean(axis=0)
        weights.append(w)
        lrs.append(rate)
        if is_diverged(w):
            break
    return make_trace(problem, weights, np.arange(len(weights)) * workers * batch_size, lrs, [],
                       is_diverged(w))


def stable_lr_limit(curvature: float, staleness: int) -> float:
    """Largest stable rate of delayed gradient descent on ``½ λ x²``: ``2 sin(π / (4τ + 2)) / λ``.

    ``x_{t+1} = x_t − ηλ x_{t−τ}`` converges for every start exactly when
    ``0 < ηλ < 2 sin(π/(4τ + 2))`` (the classical stability region of this
    linear recurrence; Levin & May, 1976). ``τ = 0`` gives ``2/λ``; for large
    ``τ`` it is about ``π / (2τλ)``: the usable rate falls like 1/staleness.
    """
    curvature = check_positive(curvature, "curvature")
    staleness = check_positive_int(staleness, "staleness", allow_zero=True)
    return 2.0 * math.sin(math.pi / (4 * staleness + 2)) / curvature


def smallest_unstable_staleness(lr: float, curvature: float) -> int:
    """The smallest staleness τ at which delayed gradient descent at rate ``lr`` diverges (ηλ >= limit)."""
    lr = check_positive(lr, "lr")
    curvature = check_positive(curvature, "curvature")
    if lr * curvature >= 2:
        return 0
    tau = 0
    while lr < stable_lr_limit(curvature, tau):
        tau += 1
    return tau


def async_problem() -> LeastSquares:
    """The async explorer's problem: N = 200, d = 5, curvatures from about 0.1 to 1, noise 0.3, seed 3."""
    return regression_problem(n=200, d=5, noise=0.3, scales=np.geomspace(1.0, 0.3, 5), rng=3)


@dataclass(frozen=True)
class AsyncDemo:
    """What the async explorer shows.

    Attributes
    ----------
    fresh, stale : Trace
        Runs with staleness 0 and ``staleness``, same rate, same number of updates.
    lr, staleness : the settings
    curvature : float
        ``L``, the largest Hessian eigenvalue.
    limit : float
        :func:`stable_lr_limit` at ``(L, staleness)``.
    diverges : bool
        ``lr >= limit`` (with exact gradients the run then diverges).
    """

    fresh: Trace
    stale: Trace
    lr: float
    staleness: int
    curvature: float
    limit: float
    diverges: bool


def async_demo(lr: float, staleness: int, steps: int = 150, batch_size: int | None = None, rng=0,
               problem: LeastSquares | None = None) -> AsyncDemo:
    """The async explorer's data: fresh vs stale gradients at the same rate, and the stability limit."""
    problem = async_problem() if problem is None else check_problem(problem)
    lr = check_positive(lr, "lr")
    seed = int(as_rng(rng).integers(2**31 - 1))
    fresh = simulate_async_sgd(problem, lr, 0, steps, batch_size, rng=seed)
    stale = simulate_async_sgd(problem, lr, staleness, steps, batch_size, rng=seed)
    L = float(problem.curvatures[-1])
    limit = stable_lr_limit(L, staleness)
    return AsyncDemo(fresh, stale, lr, staleness, L, limit, lr >= limit)


def straggler_slowdown(workers: int, rounds: int = 10_000, rng=None) -> float:
    """Mean time of a synchronous round over the mean time of one gradient, with Exp(1) compute times.

    A synchronous step waits for the slowest of ``workers`` workers,
    ``E[max] = H_K = 1 + 1/2 + … + 1/K``; asynchronous workers never wait,
    so this ratio is the throughput that synchronous training loses to stragglers.
    """
    workers = check_positive_int(workers, "workers")
    rounds = check_positive_int(rounds, "rounds")
    times = as_rng(rng).exponential(1.0, size=(rounds, workers))
    return float(times.max(axis=1).mean() / times.mean())
