"""Computations behind notebook 01 (gradient descent basics) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.gd` and ``tests/test_nb01_claims.py`` run the same code. One module per group
of questions:

* :mod:`~gdcourse.experiments.gd.functions`: functions of one variable (parabola, double well, plateau, cliff);
* :mod:`~gdcourse.experiments.gd.descent`: the update rule :func:`gd_path`, and what the gradient says;
* :mod:`~gdcourse.experiments.gd.step_size`: the threshold ``2/L``, contraction factors, the explorers' runs;
* :mod:`~gdcourse.experiments.gd.regression`: linear regression (MSE, normal equations, their cost);
* :mod:`~gdcourse.experiments.gd.nonconvex`: basins, saddles, minima in many dimensions, restarts;
* :mod:`~gdcourse.experiments.gd.stopping`: the stopping rule :func:`stopping_reason` and early stopping;
* :mod:`~gdcourse.experiments.gd.sharpness`: λmax during full-batch GD on a network (edge of stability);
* :mod:`~gdcourse.experiments.gd.implicit_bias`: GD from zero finds the minimum-norm interpolant;
* :mod:`~gdcourse.experiments.gd.lazy`: lazy training, the relative weight change against width.
"""

from gdcourse.experiments.gd.descent import (
    DIVERGENCE_RADIUS,
    clip_to_norm,
    gd_path,
    sequential_coordinate_step,
    slopes_along_directions,
)
from gdcourse.experiments.gd.functions import (
    FUNCTIONS_1D,
    Function1D,
    cliff,
    double_well,
    get_function_1d,
    parabola,
    sigmoid_plateau,
)
from gdcourse.experiments.gd.implicit_bias import ImplicitBiasRun, underdetermined_gd
from gdcourse.experiments.gd.lazy import relative_weight_change, weight_change_by_width
from gdcourse.experiments.gd.nonconvex import (
    basins_of_attraction,
    final_losses_by_width,
    positive_definite_fraction,
    steps_to_escape,
)
from gdcourse.experiments.gd.regression import (
    SEPARABLE_X,
    direct_solve_flops,
    gd_step_flops,
    least_squares,
    linear_regression_gd,
    mse,
    mse_gradient,
    mse_smoothness,
    separable_logistic_gradient,
    steps_to_reach,
)
from gdcourse.experiments.gd.sharpness import SharpnessRun, digits_regression, sharpness_during_gd
from gdcourse.experiments.gd.step_size import (
    LRRun1D,
    LRRunQuadratic,
    classify_lr,
    contraction_factors,
    curvatures,
    divergence_threshold,
    explore_lr_1d,
    explore_lr_quadratic,
    final_gaps,
    optimal_lr,
    optimal_rate,
)
from gdcourse.experiments.gd.stopping import (
    STOP_REASONS,
    EarlyStoppedRun,
    GDRun,
    early_stopped_gd,
    gd_until,
    make_overfitting_regression,
    relative_change,
    stopping_reason,
)

__all__ = [
    "Function1D", "parabola", "double_well", "sigmoid_plateau", "cliff", "FUNCTIONS_1D", "get_function_1d",
    "DIVERGENCE_RADIUS", "gd_path", "clip_to_norm", "sequential_coordinate_step",
    "curvatures", "divergence_threshold", "contraction_factors", "optimal_lr", "optimal_rate", "classify_lr",
    "final_gaps", "LRRun1D", "explore_lr_1d", "LRRunQuadratic", "explore_lr_quadratic",
    "slopes_along_directions",
    "mse", "mse_gradient", "mse_smoothness", "least_squares", "linear_regression_gd", "steps_to_reach",
    "direct_solve_flops", "gd_step_flops", "SEPARABLE_X", "separable_logistic_gradient",
    "basins_of_attraction", "steps_to_escape", "positive_definite_fraction", "final_losses_by_width",
    "STOP_REASONS", "relative_change", "stopping_reason", "GDRun", "gd_until",
    "make_overfitting_regression", "EarlyStoppedRun", "early_stopped_gd",
    "SharpnessRun", "digits_regression", "sharpness_during_gd", "ImplicitBiasRun", "underdetermined_gd",
    "relative_weight_change", "weight_change_by_width",
]
