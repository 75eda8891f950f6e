"""Computations behind notebook 03 (optimizers) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.optimizers`, the checks of :mod:`gdcourse.check.optimizers` and
``tests/test_nb03_claims.py`` run the same code. One module per group of questions:

* :mod:`~gdcourse.experiments.optimizers.running`: running a rule on any gradient; optimizer state;
* :mod:`~gdcourse.experiments.optimizers.momentum`: the forms of momentum and Nesterov, written out;
* :mod:`~gdcourse.experiments.optimizers.convergence`: momentum's rate on a quadratic, the rate map;
* :mod:`~gdcourse.experiments.optimizers.adaptive`: Adagrad/RMSprop/Adam, bias correction, AMSGrad, AdamW,
  sparse features;
* :mod:`~gdcourse.experiments.optimizers.second_order`: Newton and quasi-Newton methods;
* :mod:`~gdcourse.experiments.optimizers.clipping`: clipping by norm and by value;
* :mod:`~gdcourse.experiments.optimizers.race`: the optimizer race;
* :mod:`~gdcourse.experiments.optimizers.sign_methods`: signSGD and Lion, sign agreement vs batch size;
* :mod:`~gdcourse.experiments.optimizers.natural_gradient`: Fisher, natural gradient, Adam's v;
* :mod:`~gdcourse.experiments.optimizers.quasi_newton`: BFGS update, L-BFGS two-loop recursion;
* :mod:`~gdcourse.experiments.optimizers.agc`: adaptive (unit-wise) gradient clipping.
"""

from gdcourse.experiments.optimizers.adaptive import (
    SparseRace,
    adam_step_sizes,
    adam_update,
    amsgrad_counterexample,
    decoupled_decay,
    effective_rates,
    gradient_average_rmsprop_step,
    gradient_stream,
    rmsprop_step,
    sparse_feature_race,
)
from gdcourse.experiments.optimizers.agc import adaptive_clip, spike_demo, unit_norms, unit_ratios
from gdcourse.experiments.optimizers.clipping import Clipped, clip_by_norm, clip_by_value, cosine
from gdcourse.experiments.optimizers.convergence import (
    RateMapData,
    best_rate_for_momentum,
    heavy_ball_lr_limit,
    momentum_rate,
    nesterov_lr_limit,
    optimal_momentum,
    rate_map,
    rate_map_data,
    steps_to_reduce,
)
from gdcourse.experiments.optimizers.momentum import (
    ema_form,
    momentum_forms,
    momentum_step,
    nesterov_forms,
    nesterov_step,
    velocity_form,
)
from gdcourse.experiments.optimizers.natural_gradient import (
    adam_second_moment,
    empirical_fisher_diagonal,
    fisher,
    logistic_gradient,
    logistic_loss,
    logistic_problem,
    per_example_gradients,
    steps_to_loss,
)
from gdcourse.experiments.optimizers.quasi_newton import bfgs_inverse_update, lbfgs_two_loop, quasi_newton_costs
from gdcourse.experiments.optimizers.race import (
    RACE_LANDSCAPES,
    RACE_OPTIMIZERS,
    RACE_PRESETS,
    RaceData,
    optimizer_factory,
    race,
    race_data,
    race_landscape,
    tuned_final_gaps,
)
from gdcourse.experiments.optimizers.running import descend, run_rule, state_floats_per_entry
from gdcourse.experiments.optimizers.second_order import SecondOrderRun, second_order_race
from gdcourse.experiments.optimizers.sign_methods import SIGN_RULES, noisy_regression, sign_agreement, sign_race

__all__ = [
    "descend", "run_rule",
    "momentum_step", "velocity_form", "ema_form", "momentum_forms", "nesterov_step", "nesterov_forms",
    "momentum_rate", "rate_map", "optimal_momentum", "best_rate_for_momentum", "steps_to_reduce",
    "heavy_ball_lr_limit", "nesterov_lr_limit", "RateMapData", "rate_map_data",
    "adam_update", "clip_by_norm", "clip_by_value", "cosine", "rmsprop_step", "gradient_average_rmsprop_step",
    "gradient_stream", "effective_rates", "adam_step_sizes",
    "amsgrad_counterexample", "decoupled_decay",
    "SparseRace", "sparse_feature_race",
    "SecondOrderRun", "second_order_race",
    "Clipped",
    "RACE_OPTIMIZERS", "RACE_LANDSCAPES", "RACE_PRESETS", "race_landscape", "optimizer_factory", "race",
    "RaceData", "race_data", "tuned_final_gaps",
    "state_floats_per_entry",
    "SIGN_RULES", "noisy_regression", "sign_agreement", "sign_race",
    "logistic_problem", "logistic_loss", "logistic_gradient", "per_example_gradients", "fisher",
    "empirical_fisher_diagonal", "adam_second_moment", "steps_to_loss",
    "bfgs_inverse_update", "lbfgs_two_loop", "quasi_newton_costs",
    "unit_norms", "unit_ratios", "adaptive_clip", "spike_demo",
]
