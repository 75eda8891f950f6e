"""Mini-batch SGD on the least-squares problem, and epochs against sampling with replacement."""

from __future__ import annotations

import numpy as np

from gdcourse.data import batch_indices
from gdcourse.experiments.variants.problem import (
    LeastSquares,
    Recorder,
    Trace,
    check_batch_size,
    check_problem,
    lr_function,
    start_point,
)
from gdcourse.memo import stored
from gdcourse.validate import (
    as_rng,
    check_positive_int,
)

__all__ = ["run_sgd", "unseen_fraction", "epoch_end_excess"]


def run_sgd(problem: LeastSquares, lr, batch_size: int, epochs: int, rng=None, w0=None,
            replacement: bool = False) -> Trace:
    """Mini-batch SGD ``w ← w − η_t g_B(w)`` for ``epochs`` epochs, ``g_B`` the mean gradient of batch B.

    Each epoch cuts a fresh permutation into ``ceil(N/B)`` batches (:func:`gdcourse.data.batch_indices`;
    ``replacement=True``: as many batches drawn with replacement). ``lr``: a float or a schedule
    ``step -> lr``. ``batch_size = N`` is full-batch gradient descent, ``batch_size = 1`` per-example SGD.
    """
    lr_at, batch_size, epochs, rng, w = _checked_run(problem, lr, batch_size, epochs, rng, w0)
    record = Recorder(problem, w)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is stopped and flagged
        for _ in range(epochs):
            for batch in batch_indices(problem.n, batch_size, replacement=replacement, rng=rng):
                lr_t = lr_at(record.updates)
                w = w - lr_t * problem.gradient(w, batch)
                record.step(w, len(batch), lr_t)
                if record.diverged:
                    return record.trace()
            record.end_epoch()
    return record.trace()


def _checked_run(problem, lr, batch_size, epochs, rng, w0):
    """The arguments of :func:`run_sgd`, checked: ``(lr_at, batch_size, epochs, rng, w0)``."""
    problem = check_problem(problem)
    return (lr_function(lr), check_batch_size(batch_size, problem.n), check_positive_int(epochs, "epochs"),
            as_rng(rng), start_point(problem, w0))


def unseen_fraction(n: int, trials: int = 200, rng=None) -> np.ndarray:
    """Fraction of the ``n`` examples never drawn in one "epoch" of ``n`` draws with replacement, per trial.

    Uses :func:`gdcourse.data.batch_indices` with ``replacement=True``. The
    expected value is ``(1 − 1/n)^n``, which tends to ``1/e ≈ 0.368``.
    Returns shape ``(trials,)``.
    """
    n = check_positive_int(n, "n")
    trials = check_positive_int(trials, "trials")
    rng = as_rng(rng)
    drawn = np.stack([np.concatenate(batch_indices(n, n, replacement=True, rng=rng)) for _ in range(trials)])
    seen = np.zeros((trials, n), dtype=bool)
    seen[np.arange(trials)[:, None], drawn] = True
    return 1.0 - seen.mean(axis=1)


@stored
def epoch_end_excess(problem: LeastSquares, lr, batch_size: int, epochs: int, replacement: bool,
                     seeds=range(5), w0=None) -> np.ndarray:
    """``J(w) − J(w*)`` at the start and at the end of every epoch, one row per seed: (seeds, epochs + 1)."""
    problem = check_problem(problem)
    rows = []
    for seed in seeds:
        trace = run_sgd(problem, lr, batch_size, epochs, rng=seed, w0=w0, replacement=replacement)
        if trace.diverged:
            raise ValueError(f"lr: the run with seed {seed} diverged; use a smaller rate")
        rows.append(trace.excess(problem)[np.concatenate([[0], trace.epoch_ends])])
    return np.asarray(rows)
