"""Learning rates for SGD: scaling with the batch size, and schedules."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gdcourse import schedules
from gdcourse.experiments.variants.problem import LeastSquares, check_batch_size, check_problem
from gdcourse.experiments.variants.sgd import run_sgd
from gdcourse.validate import (
    check_fraction,
    check_positive,
    check_positive_int,
)

__all__ = ["SCALING_RULES", "scaled_lr", "steps_to_target", "SCHEDULE_KINDS", "SCHEDULE_LABELS", "make_schedule",
           "schedule_curves"]


SCALING_RULES = ("linear", "sqrt", "none")


def scaled_lr(lr0: float, batch0: int, batch: int, rule: str) -> float:
    """The rate for batch size ``batch`` given ``lr0`` tuned at ``batch0``.

    * ``"linear"``: ``lr0 · batch / batch0`` (Goyal et al., 2017: SGD, with warmup);
    * ``"sqrt"``: ``lr0 · sqrt(batch / batch0)`` (keeps the update variance ``η²σ²/B``; Krizhevsky, 2014;
      Malladi et al., 2022 for Adam);
    * ``"none"``: ``lr0``.
    """
    lr0 = check_positive(lr0, "lr0")
    batch0 = check_positive_int(batch0, "batch0")
    batch = check_positive_int(batch, "batch")
    if rule not in SCALING_RULES:
        raise ValueError(f"rule: expected one of {SCALING_RULES}, got {rule!r}")
    ratio = batch / batch0
    return lr0 * {"linear": ratio, "sqrt": math.sqrt(ratio), "none": 1.0}[rule]


def steps_to_target(problem: LeastSquares, batch_sizes, lr_for_batch: Callable[[int], float], target: float,
                    max_steps: int, seeds=range(3), w0=None) -> np.ndarray:
    """Updates needed until ``J − J* <= target``, per batch size and seed: shape (len(batch_sizes), seeds).

    Each run is mini-batch SGD (without replacement) with rate
    ``lr_for_batch(B)``; a run that has not reached the target after
    ``max_steps`` updates (or diverged) counts as ``inf``. Multiply by ``B``
    for the examples processed.
    """
    problem = check_problem(problem)
    target = check_positive(target, "target")
    max_steps = check_positive_int(max_steps, "max_steps")
    out = np.full((len(batch_sizes), len(seeds)), np.inf)
    for i, b in enumerate(batch_sizes):
        b = check_batch_size(int(b), problem.n)
        epochs = -(-max_steps * b // problem.n)        # enough epochs for max_steps updates
        for j, seed in enumerate(seeds):
            trace = run_sgd(problem, lr_for_batch(b), b, epochs, rng=seed, w0=w0)
            excess = trace.excess(problem)[:max_steps + 1]
            hit = np.flatnonzero(excess <= target)
            if hit.size:
                out[i, j] = hit[0]
    return out


# ---------------------------------------------------------------- schedules

SCHEDULE_KINDS = ("constant", "step", "exponential", "inverse_time", "cosine")
SCHEDULE_LABELS = {"constant": "constant", "step": "step", "exponential": "exponential",
                   "inverse_time": "1/t (inverse time)", "cosine": "cosine"}


def make_schedule(kind: str, lr0: float, total_steps: int, *, step_size: int = 100, gamma: float = 0.5,
                  decay_rate: float = 0.01, lr_min: float = 0.0, warmup_steps: int = 0) -> schedules.Schedule:
    """One of :data:`SCHEDULE_KINDS` from :mod:`gdcourse.schedules`, optionally behind a linear warmup.

    * ``constant``: ``lr0``;
    * ``step``: ``lr0 · gamma^⌊t / step_size⌋``;
    * ``exponential``: ``lr0 · gamma^(t / step_size)`` (the same decay per ``step_size`` steps, smoothly);
    * ``inverse_time``: ``lr0 / (1 + decay_rate · t)``;
    * ``cosine``: ``lr_min + ½ (lr0 − lr_min)(1 + cos(π t / total_steps))``.

    ``warmup_steps > 0`` multiplies by a ramp from 0 to 1 over those steps.
    """
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"kind: expected one of {SCHEDULE_KINDS}, got {kind!r}")
    total_steps = check_positive_int(total_steps, "total_steps")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps", allow_zero=True)
    step_size = check_positive_int(step_size, "step_size")
    if kind == "constant":
        schedule = schedules.Constant(check_positive(lr0, "lr0"))
    elif kind == "step":
        schedule = schedules.StepDecay(lr0, step_size, gamma)
    elif kind == "exponential":
        schedule = schedules.ExponentialDecay(lr0, check_fraction(gamma, "gamma") ** (1.0 / step_size))
    elif kind == "inverse_time":
        schedule = schedules.InverseTimeDecay(lr0, decay_rate)
    else:
        schedule = schedules.CosineDecay(lr0, total_steps, lr_min=lr_min)
    return schedules.LinearWarmup(schedule, warmup_steps) if warmup_steps else schedule


def schedule_curves(lr0: float, total_steps: int, **settings) -> dict:
    """The rate at steps ``0 … total_steps − 1`` of every kind in :data:`SCHEDULE_KINDS`, same settings.

    ``settings`` are the keyword arguments of :func:`make_schedule` (step_size,
    gamma, decay_rate, lr_min, warmup_steps). Returns ``kind -> ndarray (total_steps,)``.
    """
    return {kind: make_schedule(kind, lr0, total_steps, **settings).values(total_steps)
            for kind in SCHEDULE_KINDS}
