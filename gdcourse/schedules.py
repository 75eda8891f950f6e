"""Learning-rate schedules: ``lr = schedule(step)``.

Every schedule is an object with

* ``schedule(step) -> float``: the learning rate for optimizer step ``step``,
  counted from 0 (the first update uses ``schedule(0)``);
* ``schedule.values(steps) -> ndarray``: the rates at ``0, …, steps−1`` (or at
  the given array of steps), vectorized, for plots;
* a ``repr`` that shows its arguments.

All are pure functions of the step except :class:`ReduceLROnPlateau`, which
reacts to a validation metric reported once per epoch with ``observe``.
Typical use::

    schedule = LinearWarmup(CosineDecay(0.1, total_steps=1000), warmup_steps=50)
    for step in range(1000):
        opt.lr = schedule(step)
        ...
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from gdcourse.validate import check_fraction, check_positive, check_positive_int

__all__ = [
    "Schedule", "Constant", "StepDecay", "ExponentialDecay", "InverseTimeDecay", "CosineDecay",
    "LinearWarmup", "ReduceLROnPlateau", "CosineWarmRestarts", "OneCycle",
]


class Schedule:
    """Base class. Subclasses implement ``_lr_at(t)`` with operations that work
    both on an int ``t`` and on an int array ``t`` (so one formula serves both
    ``__call__`` and ``values``)."""

    def __call__(self, step) -> float:
        step = check_positive_int(step, "step", allow_zero=True)
        return float(self._lr_at(step))

    def values(self, steps) -> np.ndarray:
        """Learning rates at ``range(steps)`` (an int) or at the given steps (an int array)."""
        t = _as_steps(steps)
        return np.broadcast_to(np.asarray(self._lr_at(t), dtype=np.float64), t.shape).copy()

    def _lr_at(self, t):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define this")  # noqa: stub-ok

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def _args(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define this")  # noqa: stub-ok


class Constant(Schedule):
    """``lr(t) = lr``."""

    def __init__(self, lr):
        self.lr = check_positive(lr, "lr", allow_zero=True)

    def _lr_at(self, t):
        return self.lr

    def _args(self):
        return {"lr": self.lr}


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``).

    ``lr(t) = lr0 · gamma^⌊t / step_size⌋``: with ``step_size=10`` steps 0-9 use
    ``lr0`` and step 10 is the first at ``lr0·gamma``.
    """

    def __init__(self, lr0, step_size, gamma=0.1):
        self.lr0 = check_positive(lr0, "lr0")
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_fraction(gamma, "gamma")

    def _lr_at(self, t):
        return self.lr0 * self.gamma ** (t // self.step_size)

    def _args(self):
        return {"lr0": self.lr0, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """``lr(t) = lr0 · gamma^t``: the rate shrinks by the same factor every step."""

    def __init__(self, lr0, gamma):
        self.lr0 = check_positive(lr0, "lr0")
        self.gamma = check_fraction(gamma, "gamma")

    def _lr_at(self, t):
        return self.lr0 * self.gamma**t

    def _args(self):
        return {"lr0": self.lr0, "gamma": self.gamma}


class InverseTimeDecay(Schedule):
    """``lr(t) = lr0 / (1 + decay_rate · t)``: the 1/t decay of stochastic approximation.

    Robbins & Monro (1951) ask for Σ lr = ∞ and Σ lr² < ∞, which 1/t satisfies.
    The form ``t0 / (t + t1)`` (e.g. the ``learning_schedule`` in Géron's
    *Hands-On Machine Learning*, ch. 4) is the same schedule: use
    :meth:`from_t0_t1`.
    """

    def __init__(self, lr0, decay_rate):
        self.lr0 = check_positive(lr0, "lr0")
        self.decay_rate = check_positive(decay_rate, "decay_rate", allow_zero=True)

    @classmethod
    def from_t0_t1(cls, t0, t1) -> InverseTimeDecay:
        """``lr(t) = t0 / (t + t1)``, i.e. ``lr0 = t0 / t1`` and ``decay_rate = 1 / t1``."""
        t0 = check_positive(t0, "t0")
        t1 = check_positive(t1, "t1")
        return cls(t0 / t1, 1.0 / t1)

    def _lr_at(self, t):
        return self.lr0 / (1.0 + self.decay_rate * t)

    def _args(self):
        return {"lr0": self.lr0, "decay_rate": self.decay_rate}


class CosineDecay(Schedule):
    """Cosine annealing without restarts (Loshchilov & Hutter, SGDR, 2017).

    ``lr(t) = lr_min + ½ (lr0 − lr_min) (1 + cos(π t / total_steps))`` for
    ``t ≤ total_steps``, then flat at ``lr_min``.
    """

    def __init__(self, lr0, total_steps, lr_min=0.0):
        self.lr0 = check_positive(lr0, "lr0")
        self.total_steps = check_positive_int(total_steps, "total_steps")
        self.lr_min = check_positive(lr_min, "lr_min", allow_zero=True)
        if self.lr_min > self.lr0:
            raise ValueError(f"lr_min: expected a value <= lr0={self.lr0}, got {self.lr_min}")

    def _lr_at(self, t):
        progress = np.minimum(t, self.total_steps) / self.total_steps
        return self.lr_min + 0.5 * (self.lr0 - self.lr_min) * (1.0 + np.cos(np.pi * progress))

    def _args(self):
        return {"lr0": self.lr0, "total_steps": self.total_steps, "lr_min": self.lr_min}


class LinearWarmup(Schedule):
    """Scale any schedule by a linear ramp over the first ``warmup_steps`` steps.

    ``lr(t) = schedule(t) · (start_factor + (1 − start_factor) · t / warmup_steps)``
    for ``t < warmup_steps``, and ``schedule(t)`` afterwards. The wrapped
    schedule runs on the same clock (it is multiplied, not delayed), like
    chaining PyTorch's ``LinearLR`` with another scheduler (``ChainedScheduler``)
    and like timm's warmup without ``warmup_prefix``. The other common
    composition delays the wrapped schedule until the warmup ends (PyTorch's
    ``SequentialLR``; Hugging Face's ``get_cosine_schedule_with_warmup`` runs its
    cosine over ``t − warmup_steps``); for a warmup that is short next to the run
    (a few percent, the usual case) the two differ little. With the default
    ``start_factor=0`` the first step has rate 0 (as in Hugging Face's linear
    warmup). Warmup keeps the first, badly-scaled updates of Adam or of large
    batches small (Goyal et al., 2017).

    Because the clocks are shared, a warmup as long as a wrapped schedule with a
    ``total_steps`` (:class:`CosineDecay`) would ramp up into a rate that has
    already decayed (a warmup of 100 steps on a 10-step cosine peaks at 3% of
    ``lr0``): ``warmup_steps >= schedule.total_steps`` is an error.

    ``schedule`` may be any :class:`Schedule`, or any callable ``step -> lr``
    (then ``values`` calls it once per step, and each rate it returns must be a
    finite number >= 0).
    """

    def __init__(self, schedule, warmup_steps, start_factor=0.0):
        if not callable(schedule):
            raise TypeError(
                f"schedule: expected a Schedule or a callable step -> lr, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
        total = getattr(schedule, "total_steps", None)
        if isinstance(total, numbers.Integral) and self.warmup_steps >= total:
            raise ValueError(
                f"warmup_steps: expected fewer steps than the wrapped schedule's total_steps={total} (the two "
                f"share one clock, so the schedule would be over before the warmup ends), got {self.warmup_steps}"
            )
        if isinstance(start_factor, bool) or not isinstance(start_factor, numbers.Real) \
                or not 0 <= start_factor <= 1:
            raise ValueError(f"start_factor: expected a number in [0, 1], got {start_factor!r}")
        self.start_factor = float(start_factor)

    def _ramp(self, t):
        fraction = np.minimum(t, self.warmup_steps) / self.warmup_steps
        return self.start_factor + (1.0 - self.start_factor) * fraction

    def _inner(self, t):
        if isinstance(self.schedule, Schedule):
            return self.schedule._lr_at(t)
        if np.ndim(t) == 0:
            return self._called(int(t))
        return np.array([self._called(int(s)) for s in t.ravel()]).reshape(t.shape)

    def _called(self, step) -> float:
        """The wrapped callable's rate at ``step``, checked: a finite real number >= 0."""
        lr = self.schedule(step)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"schedule: expected a finite rate >= 0 at step {step}, got {lr!r}")
        return float(lr)

    def _lr_at(self, t):
        return self._inner(t) * self._ramp(t)

    def _args(self):
        return {"schedule": self.schedule, "warmup_steps": self.warmup_steps,
                "start_factor": self.start_factor}


class ReduceLROnPlateau(Schedule):
    """Cut the rate by ``factor`` when a metric stops improving (PyTorch semantics).

    Call ``observe(metric)`` once per epoch (e.g. with the validation loss);
    ``schedule(step)`` returns the current rate whatever the step.

    After each observation: the metric is an improvement when, in ``"min"``
    mode, it is below ``best·(1 − threshold)`` (``threshold_mode="rel"``) or
    ``best − threshold`` (``"abs"``); in ``"max"`` mode above ``best·(1 +
    threshold)`` or ``best + threshold``. An improvement resets the count of
    bad epochs, otherwise it grows by one. During the ``cooldown`` epochs that
    follow a cut, bad epochs are not counted. When the count exceeds
    ``patience`` the rate becomes ``max(lr·factor, min_lr)`` (skipped if that
    changes it by less than ``eps``), the count resets and the cooldown starts.
    So with ``patience=2`` the rate is cut at the 3rd bad epoch in a row. A NaN
    metric is never an improvement (as in PyTorch, it counts as a bad epoch), and
    neither is +inf in ``"min"`` mode.
    """

    def __init__(self, lr0, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0,
                 min_lr=0.0, mode="min", eps=1e-8):
        self.lr0 = check_positive(lr0, "lr0")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
            raise ValueError(f"factor: expected a number in (0, 1), got {factor!r}")
        self.factor = float(factor)
        self.patience = check_positive_int(patience, "patience", allow_zero=True)
        self.threshold = check_positive(threshold, "threshold", allow_zero=True)
        self.threshold_mode = _check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.cooldown = check_positive_int(cooldown, "cooldown", allow_zero=True)
        self.min_lr = check_positive(min_lr, "min_lr", allow_zero=True)
        if self.min_lr > self.lr0:
            raise ValueError(f"min_lr: expected a value <= lr0={self.lr0}, got {self.min_lr}")
        self.mode = _check_choice(mode, "mode", ("min", "max"))
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self.lr = self.lr0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.epochs_observed = 0

    def observe(self, metric) -> float:
        """Record one epoch's metric; returns the (possibly reduced) learning rate."""
        if isinstance(metric, np.ndarray) and metric.ndim == 0 and metric.dtype.kind in "iuf":
            metric = metric.item()  # a loss computed with NumPy
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            raise TypeError(f"metric: expected a real number, got {metric!r} ({type(metric).__name__})")
        metric = float(metric)
        self.epochs_observed += 1
        if self._is_better(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr

    def _is_better(self, metric) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            bar = self.best * (1.0 - self.threshold) if rel else self.best - self.threshold
            return metric < bar
        bar = self.best * (1.0 + self.threshold) if rel else self.best + self.threshold
        return metric > bar

    def _lr_at(self, t):
        return self.lr

    def _args(self):
        return {"lr0": self.lr0, "factor": self.factor, "patience": self.patience,
                "threshold": self.threshold, "threshold_mode": self.threshold_mode,
                "cooldown": self.cooldown, "min_lr": self.min_lr, "mode": self.mode}


class CosineWarmRestarts(Schedule):
    """Cosine annealing with warm restarts, SGDR (Loshchilov & Hutter, 2017); PyTorch's
    ``CosineAnnealingWarmRestarts``.

    Cycle ``i`` lasts ``T_i = period · mult^i`` steps; inside it, with ``t_cur``
    the steps since the cycle began::

        lr(t) = lr_min + ½ (lr0 − lr_min) (1 + cos(π t_cur / T_i))

    The jump back to ``lr0`` at each restart kicks the iterate out of the basin it
    settled in, and each cycle's end is a good snapshot (an ensemble for free);
    ``mult > 1`` makes later cycles longer so they can settle deeper.
    """

    def __init__(self, lr0, period, mult=1, lr_min=0.0):
        self.lr0 = check_positive(lr0, "lr0")
        self.period = check_positive_int(period, "period")
        self.mult = check_positive_int(mult, "mult")
        self.lr_min = check_positive(lr_min, "lr_min", allow_zero=True)
        if self.lr_min > self.lr0:
            raise ValueError(f"lr_min: expected a value <= lr0={self.lr0}, got {self.lr_min}")

    def cycle_start(self, cycle):
        """First step of cycle ``cycle`` (0, T₀, T₀ + T₀·mult, …); works on int arrays."""
        if self.mult == 1:
            return self.period * cycle
        return self.period * (self.mult**cycle - 1) // (self.mult - 1)

    def _lr_at(self, t):
        t = np.asarray(t, dtype=np.int64)
        if self.mult == 1:
            cycle = t // self.period
        else:  # invert cycle_start with a logarithm, then fix its rounding at the boundaries
            cycle = np.floor(np.log(t / self.period * (self.mult - 1) + 1) / np.log(self.mult)).astype(np.int64)
            cycle = np.where(self.cycle_start(cycle + 1) <= t, cycle + 1, cycle)
            cycle = np.where(self.cycle_start(cycle) > t, cycle - 1, cycle)
        t_cur = t - self.cycle_start(cycle)
        length = self.period * self.mult**cycle
        return self.lr_min + 0.5 * (self.lr0 - self.lr_min) * (1.0 + np.cos(np.pi * t_cur / length))

    def _args(self):
        return {"lr0": self.lr0, "period": self.period, "mult": self.mult, "lr_min": self.lr_min}


class OneCycle(Schedule):
    """The one-cycle policy (Smith & Topin, 2019); PyTorch's ``OneCycleLR`` with cosine annealing.

    Over ``total_steps`` steps the rate rises from ``max_lr / div_factor`` to
    ``max_lr`` during the first ``pct_start`` of training, then falls to
    ``max_lr / (div_factor · final_div_factor)``; each phase is a half cosine
    ``lr = end + ½ (start − end)(1 + cos(π · progress))``. As in PyTorch the
    first phase ends at step ``pct_start·total_steps − 1`` and the second at
    ``total_steps − 1``; later steps stay at the final rate.

    The warm-up part lets a large peak rate be reached without early blow-up; the
    long descent to a tiny rate removes the noise floor at the end (notebook 02).
    """

    def __init__(self, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        self.max_lr = check_positive(max_lr, "max_lr")
        self.total_steps = check_positive_int(total_steps, "total_steps")
        self.pct_start = check_fraction(pct_start, "pct_start")
        self.div_factor = check_positive(div_factor, "div_factor")
        self.final_div_factor = check_positive(final_div_factor, "final_div_factor")
        self.rise_end = self.pct_start * self.total_steps - 1
        if not 0 < self.rise_end < self.total_steps - 1:
            raise ValueError(f"pct_start: expected a rise of at least one step and a fall of at least one, "
                             f"got pct_start={pct_start} with total_steps={total_steps}")

    @property
    def initial_lr(self) -> float:
        return self.max_lr / self.div_factor

    @property
    def final_lr(self) -> float:
        return self.initial_lr / self.final_div_factor

    def _lr_at(self, t):
        t = np.minimum(t, self.total_steps - 1)
        rising = t <= self.rise_end
        progress = np.where(rising, t / self.rise_end,
                            (t - self.rise_end) / (self.total_steps - 1 - self.rise_end))
        start = np.where(rising, self.initial_lr, self.max_lr)
        end = np.where(rising, self.max_lr, self.final_lr)
        return end + 0.5 * (start - end) * (1.0 + np.cos(np.pi * progress))

    def _args(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor}


def _as_steps(steps) -> np.ndarray:
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        return np.arange(check_positive_int(steps, "steps", allow_zero=True))
    t = np.asarray(steps)
    if t.dtype.kind not in "iu":
        raise ValueError(f"steps: expected an int count or an array of int steps, got dtype {t.dtype}")
    if t.size and t.min() < 0:
        raise ValueError(f"steps: expected steps >= 0, got a minimum of {t.min()}")
    return t


def _check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
