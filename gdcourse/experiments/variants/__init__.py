"""Computations behind notebook 02 (batch, stochastic and mini-batch gradient descent; schedules).

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.variants` and ``tests/test_nb02_claims.py`` run the same code. One module per
group of questions:

* :mod:`~gdcourse.experiments.variants.problem`: the least-squares test problem and the record of a run;
* :mod:`~gdcourse.experiments.variants.sgd`: mini-batch SGD (:func:`run_sgd`); epochs vs replacement;
* :mod:`~gdcourse.experiments.variants.noise`: the mini-batch gradient's noise, the noise floor of SGD;
* :mod:`~gdcourse.experiments.variants.rates`: learning-rate scaling with the batch size, schedules;
* :mod:`~gdcourse.experiments.variants.schedule_steps`: per-step vs per-epoch schedules, restarts, one-cycle;
* :mod:`~gdcourse.experiments.variants.network`: loss curves and warmup of an MLP on digits;
* :mod:`~gdcourse.experiments.variants.distributed`: synchronous vs asynchronous SGD.
"""

from gdcourse.experiments.variants.distributed import (
    AsyncDemo,
    async_demo,
    async_problem,
    simulate_async_sgd,
    simulate_sync_sgd,
    smallest_unstable_staleness,
    stable_lr_limit,
    straggler_slowdown,
)
from gdcourse.experiments.variants.network import LRCurves, digits_subset, lr_loss_curves, warmup_runs
from gdcourse.experiments.variants.noise import (
    BATCH_SIZE_START,
    BatchSizeDemo,
    NoiseMeasurement,
    batch_size_demo,
    batch_size_problem,
    gradient_noise,
    gradient_noise_variance,
    loglog_slope,
    minibatch_noise,
    noisy_quadratic_sgd,
    smallest_batch_for_noise,
    stationary_variance,
)
from gdcourse.experiments.variants.problem import DIVERGED, LeastSquares, Recorder, Trace, regression_problem
from gdcourse.experiments.variants.rates import (
    SCALING_RULES,
    SCHEDULE_KINDS,
    SCHEDULE_LABELS,
    make_schedule,
    scaled_lr,
    schedule_curves,
    steps_to_target,
)
from gdcourse.experiments.variants.schedule_steps import (
    SCHEDULE_MODES,
    SCHEDULE_SHAPES,
    final_excess_loss,
    schedule_mode,
    schedule_shape,
    tuned_schedule_losses,
)
from gdcourse.experiments.variants.sgd import epoch_end_excess, run_sgd, unseen_fraction

__all__ = [
    "DIVERGED", "LeastSquares", "regression_problem", "Trace", "Recorder", "run_sgd",
    "gradient_noise_variance", "minibatch_noise", "NoiseMeasurement", "gradient_noise", "loglog_slope",
    "BatchSizeDemo", "batch_size_problem", "BATCH_SIZE_START", "batch_size_demo", "smallest_batch_for_noise",
    "noisy_quadratic_sgd", "stationary_variance",
    "unseen_fraction", "epoch_end_excess",
    "steps_to_target", "scaled_lr", "SCALING_RULES",
    "SCHEDULE_KINDS", "SCHEDULE_LABELS", "make_schedule", "schedule_curves",
    "digits_subset", "LRCurves", "lr_loss_curves", "warmup_runs",
    "simulate_async_sgd", "simulate_sync_sgd", "stable_lr_limit", "smallest_unstable_staleness",
    "async_problem", "AsyncDemo", "async_demo", "straggler_slowdown",
    "SCHEDULE_MODES", "schedule_mode", "final_excess_loss", "SCHEDULE_SHAPES", "schedule_shape",
    "tuned_schedule_losses",
]
