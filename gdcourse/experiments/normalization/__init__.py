"""Computations behind notebook 06 (normalization) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.normalization` and ``tests/test_nb06_claims.py`` run the same code.

Batch norm (Ioffe & Szegedy, 2015) normalizes each feature over the batch, layer norm (Ba, Kiros &
Hinton, 2016) each sample over its features; both then apply a learned ``γ x̂ + β``. Weight
normalization (Salimans & Kingma, 2016) reparametrizes a weight column as ``w = g v / ‖v‖``.

Sub-modules, in the notebook's order:

* :mod:`.axes` — a population with features of different scales, statistics per axis, running statistics.
* :mod:`.batch_size` — batch-size effects and the two explorers' views.
* :mod:`.folding` — folding batch norm into the linear layer before it.
* :mod:`.networks` — deep networks on digits, and the train-mode bug.
* :mod:`.weight_norm` — weight normalization on a badly scaled regression.
* :mod:`.covariate_shift` — injected noise, the loss along the gradient, scale invariance
  (:mod:`.injected_noise` holds the noise layer).
* :mod:`.small_batch` — group norm vs batch norm at 2 samples per batch.
* :mod:`.modern` — RMSNorm vs LayerNorm invariances, pre-LN vs post-LN gradients, spectral normalization.
"""

from gdcourse.experiments.common import digits
from gdcourse.experiments.normalization.axes import (
    AxisStatistics,
    Population,
    RunningTrace,
    axis_statistics,
    batch_and_layer_norm,
    feature_population,
    running_statistics,
)
from gdcourse.experiments.normalization.batch_size import (
    EXERCISE_LEVEL,
    EXERCISE_TOLERANCE,
    MAX_BATCH,
    BatchSizeView,
    NormAxesView,
    batch_mean_coverage,
    batch_size_view,
    gaussian_batch_mean_coverage,
    norm_axes_view,
    output_spread,
    sample_outputs_across_batches,
    smallest_batch_size,
    warmed_up_batch_norm,
)
from gdcourse.experiments.normalization.covariate_shift import (
    ScaleInvariance,
    SmoothnessTrace,
    loss_along_gradient,
    scale_invariance,
    smoothness_during_training,
)
from gdcourse.experiments.normalization.folding import fold_batchnorm, folded_linear
from gdcourse.experiments.normalization.injected_noise import InjectedNoise
from gdcourse.experiments.normalization.modern import (
    InvarianceGaps,
    block_gradient_norms,
    block_gradient_study,
    invariance_gaps,
    lipschitz_bound,
    residual_stack,
    spectral_norm_power_iteration,
    warmup_run,
    warmup_study,
)
from gdcourse.experiments.normalization.networks import (
    batched_predictions,
    deep_mlp,
    linear_gradient_norms,
    noisy_batch_norm_seeds,
    norm_comparison_seeds,
    sigmoid_rescue_runs,
    train_on_digits,
)
from gdcourse.experiments.normalization.small_batch import (
    batch_vs_layer_accuracy,
    batch_vs_layer_study,
    small_batch_accuracy,
    small_batch_study,
)
from gdcourse.experiments.normalization.weight_norm import (
    Regression,
    RegressionRun,
    WeightNormComparison,
    badly_scaled_regression,
    compare_weight_norm,
    fit_regression,
    mse_curvatures,
)

__all__ = [
    "Population", "feature_population", "AxisStatistics", "axis_statistics", "batch_and_layer_norm",
    "RunningTrace", "running_statistics",
    "sample_outputs_across_batches", "output_spread", "batch_mean_coverage", "gaussian_batch_mean_coverage",
    "smallest_batch_size",
    "NormAxesView", "norm_axes_view", "warmed_up_batch_norm", "BatchSizeView", "batch_size_view",
    "fold_batchnorm", "folded_linear",
    "deep_mlp", "train_on_digits", "linear_gradient_norms", "batched_predictions", "sigmoid_rescue_runs",
    "norm_comparison_seeds", "noisy_batch_norm_seeds",
    "Regression", "badly_scaled_regression", "mse_curvatures", "RegressionRun", "fit_regression",
    "WeightNormComparison", "compare_weight_norm",
    "InjectedNoise", "SmoothnessTrace", "loss_along_gradient", "smoothness_during_training",
    "ScaleInvariance", "scale_invariance",
    "InvarianceGaps", "invariance_gaps", "residual_stack", "block_gradient_norms", "block_gradient_study",
    "spectral_norm_power_iteration", "lipschitz_bound", "warmup_run", "warmup_study",
    "small_batch_accuracy", "small_batch_study", "batch_vs_layer_accuracy", "batch_vs_layer_study",
    "EXERCISE_TOLERANCE", "EXERCISE_LEVEL", "MAX_BATCH", "digits",
]
