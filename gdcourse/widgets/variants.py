"""Explorers of notebook 02 (GD variants).

Each function returns an :class:`~gdcourse.widgets.Explorer` whose ``compute`` is a
tested function of :mod:`gdcourse.experiments.variants` and whose ``draw`` uses
:mod:`gdcourse.plots.variants`.

* :func:`batch_size_explorer`: the cloud of mini-batch gradients and the SGD path for a chosen batch size;
* :func:`schedule_plotter`: step, exponential, 1/t and cosine schedules, with an optional warmup;
* :func:`lr_curves_explorer`: loss curves for a too-low, a good and a too-high learning rate side by side;
* :func:`async_explorer`: asynchronous SGD with stale gradients, and the stability limit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gdcourse.experiments import variants as E
from gdcourse.plots import variants as P
from gdcourse.widgets import Explorer, dropdown, int_slider, log_slider, slider

__all__ = ["batch_size_explorer", "schedule_plotter", "lr_curves_explorer", "async_explorer"]


def _int_slider(value, low, high, description, step=1, width="320px"):
    # The shared layout keeps the track its full length beside a long label ("step size (step, exp.)").
    return int_slider(value, low, high, description, step=step, width=width)


def batch_size_explorer(batch_size: int = 1, lr: float = 0.3) -> Explorer:
    """Batch size → the noise of the gradient estimate (left) and of the path (right), 2-D least squares."""
    problem = E.batch_size_problem()

    def compute(batch_size, lr):
        return E.batch_size_demo(batch_size, lr, problem=problem)

    def draw(fig, demo, **_):
        return P.batch_size_frame(fig, demo, limit=4.5)

    controls = {
        "batch_size": _int_slider(batch_size, 1, problem.n, "batch size B"),
        "lr": slider(lr, 0.05, 1.0, 0.05, "learning rate"),
    }
    return Explorer(controls, compute, draw, figsize=(9, 4.2),
                    title=f"Mini-batch gradient noise (N = {problem.n}, 3 epochs of SGD)")


def schedule_plotter(kind: str = "cosine") -> Explorer:
    """A learning-rate schedule and its parameters; the other kinds drawn faintly for comparison."""

    def compute(kind, lr0, total_steps, step_size, gamma, decay_rate, warmup_steps):
        return E.schedule_curves(lr0, total_steps, step_size=step_size, gamma=gamma, decay_rate=decay_rate,
                                 warmup_steps=warmup_steps)

    def shown(curves, kind, warmup_steps):
        labels = E.SCHEDULE_LABELS
        warmup = f" after a {warmup_steps}-step linear warmup" if warmup_steps else ""
        return ({labels[k]: values for k, values in curves.items()}, labels[kind], warmup_steps,
                f"{labels[kind]} schedule{warmup}")

    def draw(fig, curves, kind, warmup_steps, **_):
        update = P.schedule_frame(fig, *shown(curves, kind, warmup_steps))
        return lambda curves, kind, warmup_steps, **_: update(*shown(curves, kind, warmup_steps))

    controls = {
        "kind": dropdown([(label, k) for k, label in E.SCHEDULE_LABELS.items()], kind, "schedule"),
        "lr0": slider(0.1, 0.01, 1.0, 0.01, "lr0"),
        "total_steps": _int_slider(1000, 600, 5000, "total steps", step=100),  # above the longest warmup (500)
        "step_size": _int_slider(250, 10, 2000, "step size (step, exp.)", step=10),
        "gamma": slider(0.5, 0.05, 1.0, 0.05, "gamma (step, exp.)"),
        "decay_rate": log_slider(0.01, -4, 0, "decay rate k (1/t)"),
        "warmup_steps": _int_slider(0, 0, 500, "warmup steps", step=10),
    }
    return Explorer(controls, compute, draw, figsize=(9, 3.5), title="Learning-rate schedules")


def lr_curves_explorer(low: float = 0.003, good: float = 0.3, high: float = 1.5) -> Explorer:
    """Training-loss curves of one MLP on digits for three learning rates, side by side."""
    data = E.digits_subset()

    @lru_cache(maxsize=64)
    def one_run(lr):
        # Each rate trains the same network from the same seed: a run does not depend on the
        # other two, so moving one slider trains once (~40 ms), not three times.
        return E.lr_loss_curves((lr,), data=data)

    def compute(low, good, high):
        runs = [one_run(lr) for lr in (low, good, high)]
        return E.LRCurves(tuple(r.lrs[0] for r in runs), np.vstack([r.losses for r in runs]),
                          tuple(r.diverged[0] for r in runs), runs[0].steps_per_epoch)

    def draw(fig, curves, **_):
        return P.lr_curves_frame(fig, curves)

    controls = {
        "low": log_slider(low, -4, 1, "low lr"),
        "good": log_slider(good, -4, 1, "good lr"),
        "high": log_slider(high, -4, 1, "high lr"),
    }
    return Explorer(controls, compute, draw, figsize=(9, 3.2),
                    title="SGD on digits (MLP 64-32-32-10, batch 32, 8 epochs): three learning rates")


def async_explorer(lr: float = 0.3, staleness: int = 0, gradient: str = "exact") -> Explorer:
    """Asynchronous SGD: fresh vs stale gradients at one rate (left), the stable region (right)."""
    problem = E.async_problem()

    def compute(lr, staleness, gradient):
        batch_size = None if gradient == "exact" else 10
        return E.async_demo(lr, staleness, steps=300, batch_size=batch_size, problem=problem)

    def draw(fig, demo, **_):
        return P.async_frame(fig, demo, problem)

    controls = {
        "lr": log_slider(lr, -2, 0.5, "learning rate", step=0.01),
        "staleness": _int_slider(staleness, 0, 20, "staleness τ"),
        "gradient": dropdown(["exact", "mini-batch of 10"], gradient, "gradients"),
    }
    return Explorer(controls, compute, draw, figsize=(9, 3.6),
                    title="Asynchronous SGD: each update uses the gradient at the weights of τ updates ago")
