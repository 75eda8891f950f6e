"""Computations behind notebook 07 (regularization and generalization), one module per question.

Every function is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.regularization` and ``tests/test_nb07_claims.py`` run the same code. Training
runs that the notebook and an explorer share are cached per setting (int seeds only) and return
read-only arrays. ``from gdcourse.experiments import regularization as E`` gives every name below.

* :mod:`.shared`: the digits split, the MLP builder, one trained digits network.
* :mod:`.capacity` (REG-01): polynomial degree against train and validation error.
* :mod:`.double_descent` (REG-01c): min-norm random-feature regression past the interpolation threshold.
* :mod:`.epoch_double_descent` (REG-01d): epoch-wise double descent in a two-scale linear model.
* :mod:`.overfit` (REG-02, REG-06, REG-08): one overfitting problem and the regularization toolbox.
* :mod:`.sparsity` (REG-03): L1 vs L2, the soft threshold, ISTA, paths, outliers.
* :mod:`.penalties` (REG-04, REG-05): penalty steps; weight decay vs L2 for SGD, Adam and AdamW.
* :mod:`.dropout` (REG-06): inverted dropout, forward and backward.
* :mod:`.drop_path` (REG-06c): dropout vs DropConnect vs DropPath, mask noise and block removal.
* :mod:`.dropconnect` (REG-06d): a digits network trained with DropConnect, dropout or neither.
* :mod:`.augmentation` (REG-07): shifted digits, and what augmentation buys.
* :mod:`.mixup` (REG-07b): mixup on moons, boundary steepness and calibration over seeds.
* :mod:`.early_stopping` (REG-08): the patience rule.
* :mod:`.loss_gap` (REG-09): validation loss below training loss.
* :mod:`.pruning` (REG-10): magnitude vs random pruning, fine-tuning with a fixed mask.
* :mod:`.distillation` (REG-11): a student on hard labels vs on a teacher's soft targets.
* :mod:`.memorization` (REG-12): reading an input off two checkpoints; membership inference.
* :mod:`.search` (REG-13): grid vs random hyperparameter search.
* :mod:`.label_smoothing` (REG-02b): smoothed targets, the optimal logit gap, ECE over seeds.
* :mod:`.toolbox` (REG-02): the toolbox of :mod:`.overfit` on 20 seeds at once.
* :mod:`.students` (REG-07, REG-11): small digit classifiers, one per seed, trained at once.
* :mod:`.penalty_explorer`: the L1/L2 strength explorer on moons.

Conventions: the L2 penalty is ``(λ/2)‖w‖²`` with gradient ``λw`` and the L1 penalty ``λ‖w‖₁`` (as
:mod:`gdcourse.regularization`); penalties act on weight matrices, not biases.
"""

from gdcourse.experiments.regularization.augmentation import (
    AugmentationStudy,
    augment_digits,
    augmentation_study,
    displaced_validation,
    flip_images,
    shift_images,
    stratified_subset,
    train_digits,
)
from gdcourse.experiments.regularization.capacity import CapacitySweep, capacity_sweep, legendre_features
from gdcourse.experiments.regularization.distillation import (
    DistillationStudy,
    distillation_study,
    soft_term_gradient_norms,
    teacher_model,
    train_student,
)
from gdcourse.experiments.regularization.double_descent import (
    DoubleDescent,
    double_descent,
    min_norm_fit,
    random_feature_problem,
    random_features,
)
from gdcourse.experiments.regularization.drop_path import (
    DROP_METHODS,
    LesionStudy,
    MaskNoise,
    lesion_study,
    mask_noise,
    residual_drop_net,
)
from gdcourse.experiments.regularization.dropconnect import (
    DROP_PLACES,
    DropConnectStudy,
    drop_mlp,
    dropconnect_study,
    moment_matching_probabilities,
)
from gdcourse.experiments.regularization.dropout import dropout_backward, dropout_forward, dropout_moments
from gdcourse.experiments.regularization.early_stopping import should_stop
from gdcourse.experiments.regularization.epoch_double_descent import (
    EpochDoubleDescent,
    curve_shape,
    epoch_double_descent,
    gd_path,
    patience_stop,
    two_scale_problem,
)
from gdcourse.experiments.regularization.label_smoothing import (
    SmoothingStudy,
    expected_calibration_error,
    optimal_logit_gap,
    smoothed_cross_entropy,
    smoothed_targets,
    smoothing_decomposition,
    smoothing_study,
    train_smoothed_mlps,
)
from gdcourse.experiments.regularization.loss_gap import LossGapRun, loss_gap_run
from gdcourse.experiments.regularization.memorization import (
    MembershipStudy,
    membership_study,
    one_step_checkpoints,
    reconstruct_input,
)
from gdcourse.experiments.regularization.mixup import (
    MixupStudy,
    class_probabilities,
    margin_gradient_norm,
    mix_batch,
    mixup_data,
    mixup_study,
    train_mixup_nets,
)
from gdcourse.experiments.regularization.overfit import (
    OVERFIT,
    TOOLBOX,
    DropoutView,
    OverfitRun,
    boundary_grid,
    class1_probability,
    dropout_view,
    overfit_data,
    overfit_run,
    snap_dropout,
    toolbox_runs,
)
from gdcourse.experiments.regularization.penalties import (
    PENALTY_KINDS,
    adam_l2_step,
    adamw_step,
    decay_effect,
    decay_problem,
    penalty_descent,
    penalty_gradient,
    penalty_step,
    sgd_decay_step,
    sgd_l2_step,
    weight_decay_comparison,
)
from gdcourse.experiments.regularization.penalty_explorer import (
    PENALTY_STRENGTHS,
    PenaltyRun,
    penalty_run,
    snap_strength,
    sparsity_threshold,
)
from gdcourse.experiments.regularization.pruning import (
    PruningCurve,
    dense_digits_model,
    finetune_masked,
    magnitude_masks,
    pruning_curve,
    random_masks,
)
from gdcourse.experiments.regularization.search import (
    GOOD_SCORE,
    SEARCH_RANGES,
    SearchStudy,
    grid_points,
    random_points,
    search_data,
    search_study,
    softmax_regression_scores,
)
from gdcourse.experiments.regularization.shared import (
    digits,
    mlp,
    read_only,
    trained_digits_mlp,
    weight_matrices,
)
from gdcourse.experiments.regularization.sparsity import (
    ConstraintGeometry,
    OutlierFits,
    RegPaths,
    constraint_geometry,
    l1_subgradient,
    lad_line,
    lasso_ista,
    one_dim_l1,
    one_dim_l2,
    outlier_fits,
    regularization_paths,
    ridge,
    soft_threshold,
    sparse_regression,
    zero_fraction,
)
from gdcourse.experiments.regularization.toolbox import ToolboxStudy, toolbox_study
from gdcourse.losses import distillation_loss
from gdcourse.nn import GaussianNoise
from gdcourse.train import roc_auc

__all__ = [
    # shared
    "digits", "mlp", "GaussianNoise", "read_only", "weight_matrices", "trained_digits_mlp",
    # REG-01
    "CapacitySweep", "capacity_sweep", "legendre_features",
    # REG-01c
    "random_feature_problem", "random_features", "min_norm_fit", "DoubleDescent", "double_descent",
    # REG-01d
    "two_scale_problem", "gd_path", "curve_shape", "patience_stop", "EpochDoubleDescent", "epoch_double_descent",
    # REG-02, REG-06, REG-08 (the overfitting problem)
    "OVERFIT", "overfit_data", "OverfitRun", "overfit_run", "snap_dropout", "TOOLBOX", "toolbox_runs",
    "boundary_grid", "class1_probability", "DropoutView", "dropout_view",
    # REG-02b
    "smoothed_targets", "smoothed_cross_entropy", "smoothing_decomposition", "optimal_logit_gap",
    "expected_calibration_error", "train_smoothed_mlps", "SmoothingStudy", "smoothing_study",
    # REG-03
    "soft_threshold", "one_dim_l1", "one_dim_l2", "sparse_regression", "lasso_ista", "ridge",
    "l1_subgradient", "regularization_paths", "RegPaths", "zero_fraction", "OutlierFits", "outlier_fits",
    "lad_line", "ConstraintGeometry", "constraint_geometry",
    # REG-04
    "PENALTY_KINDS", "penalty_gradient", "penalty_step", "penalty_descent",
    # REG-05
    "sgd_l2_step", "sgd_decay_step", "adam_l2_step", "adamw_step", "decay_problem", "weight_decay_comparison",
    "decay_effect",
    # REG-06
    "dropout_forward", "dropout_backward", "dropout_moments",
    # REG-06c
    "DROP_METHODS", "MaskNoise", "mask_noise", "residual_drop_net", "LesionStudy", "lesion_study",
    # REG-06d
    "DROP_PLACES", "drop_mlp", "moment_matching_probabilities", "DropConnectStudy", "dropconnect_study",
    # REG-07
    "shift_images", "flip_images", "augment_digits", "train_digits", "stratified_subset", "AugmentationStudy",
    "augmentation_study", "displaced_validation",
    # REG-07b
    "mixup_data", "mix_batch", "train_mixup_nets", "class_probabilities", "margin_gradient_norm",
    "MixupStudy", "mixup_study",
    # REG-08
    "should_stop",
    # REG-09
    "LossGapRun", "loss_gap_run",
    # REG-10
    "magnitude_masks", "random_masks", "PruningCurve", "pruning_curve", "dense_digits_model", "finetune_masked",
    # REG-11
    "distillation_loss", "soft_term_gradient_norms", "teacher_model", "train_student",
    "DistillationStudy", "distillation_study",
    # REG-12
    "one_step_checkpoints", "reconstruct_input", "roc_auc", "MembershipStudy", "membership_study",
    # REG-13
    "softmax_regression_scores", "grid_points", "random_points", "search_data", "SearchStudy", "search_study",
    "GOOD_SCORE", "ToolboxStudy", "toolbox_study",
    "SEARCH_RANGES",
    # the L1/L2 explorer
    "PENALTY_STRENGTHS", "snap_strength", "PenaltyRun", "penalty_run", "sparsity_threshold",
]
