"""Per-step vs per-epoch schedules, and what warm restarts and one-cycle are for.

A schedule is a function of a *counter*. Written for updates (``total_steps = epochs · batches per
epoch``) it must be called once per update; evaluated once per epoch it becomes a staircase (constant
within an epoch), which is harmless when the schedule was written in epochs. The classic bug is to
call a per-step schedule with the *epoch* counter: it then only walks ``1 / batches_per_epoch`` of its
way and the rate never decays. These functions run mini-batch SGD on a :class:`LeastSquares` problem
under each variant so the cost of the bug is measured, not asserted.
"""

from __future__ import annotations

import numpy as np

from gdcourse import schedules
from gdcourse.data import num_batches
from gdcourse.experiments.variants.problem import LeastSquares
from gdcourse.experiments.variants.sgd import run_sgd
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["SCHEDULE_MODES", "schedule_mode", "final_excess_loss", "SCHEDULE_SHAPES", "schedule_shape",
           "tuned_schedule_losses"]

SCHEDULE_MODES = ("per step", "per epoch (staircase)", "per-step schedule stepped per epoch (bug)", "constant")


def schedule_mode(mode: str, lr0: float, epochs: int, per_epoch: int):
    """``step -> lr`` for cosine decay from ``lr0`` to 0, counted as ``mode`` says (see SCHEDULE_MODES)."""
    lr0, epochs, per_epoch = check_positive(lr0, "lr0"), check_positive_int(epochs, "epochs"), \
        check_positive_int(per_epoch, "per_epoch")
    per_step = schedules.CosineDecay(lr0, total_steps=epochs * per_epoch)
    per_epoch_schedule = schedules.CosineDecay(lr0, total_steps=epochs)
    table = {SCHEDULE_MODES[0]: lambda t: per_step(t),
             SCHEDULE_MODES[1]: lambda t: per_epoch_schedule(t // per_epoch),
             SCHEDULE_MODES[2]: lambda t: per_step(t // per_epoch),
             SCHEDULE_MODES[3]: lambda t: lr0}
    if mode not in table:
        raise ValueError(f"mode: expected one of {SCHEDULE_MODES}, got {mode!r}")
    return table[mode]


def final_excess_loss(problem: LeastSquares, lr, batch_size: int, epochs: int, rng) -> float:
    """``J(w_T) − J*`` after ``epochs`` of SGD with the rate ``lr`` (float or ``step -> lr``); inf if diverged."""
    trace = run_sgd(problem, lr, batch_size, epochs, rng=rng)
    return np.inf if trace.diverged else float(trace.loss[-1] - problem.min_loss)


SCHEDULE_SHAPES = ("constant", "cosine", "warm restarts", "one-cycle")


def schedule_shape(shape: str, peak: float, total_steps: int, per_epoch: int):
    """``step -> lr`` of one shape with peak rate ``peak`` over ``total_steps`` updates.

    Warm restarts: cosine cycles of 1, 2, 4, … epochs (SGDR, T₀ = one epoch, mult 2), so with 2ᵏ − 1 epochs
    the budget ends at the end of a cycle. One-cycle: PyTorch's defaults (30 % warm-up from peak/25, then
    cosine down to peak/25e4).
    """
    table = {"constant": lambda: schedules.Constant(peak),
             "cosine": lambda: schedules.CosineDecay(peak, total_steps),
             "warm restarts": lambda: schedules.CosineWarmRestarts(peak, period=per_epoch, mult=2),
             "one-cycle": lambda: schedules.OneCycle(peak, total_steps)}
    if shape not in table:
        raise ValueError(f"shape: expected one of {SCHEDULE_SHAPES}, got {shape!r}")
    return table[shape]()


def tuned_schedule_losses(problem: LeastSquares, peaks, batch_size: int, epochs: int, tune_seeds, test_seeds):
    """For each shape: the peak of ``peaks`` with the lowest median excess loss on ``tune_seeds``, and the
    excess losses of that peak on the separate ``test_seeds``. Returns ``{shape: (peak, losses)}``.
    """
    per_epoch = num_batches(problem.n, batch_size)
    total = epochs * per_epoch
    result = {}

    def losses_of(shape, peak, seeds):
        return np.array([final_excess_loss(problem, schedule_shape(shape, peak, total, per_epoch),
                                           batch_size, epochs, rng=s) for s in seeds])

    for shape in SCHEDULE_SHAPES:
        best = min(peaks, key=lambda p, shape=shape: np.median(losses_of(shape, p, tune_seeds)))
        result[shape] = (float(best), losses_of(shape, best, test_seeds))
    return result
